"""The in-context recall task: a bigram language with triggers (SPEC C.1).

A *language* (:func:`sample_language`, from one key) is a synthetic bigram model on
``V`` tokens:

- a unigram law ``pi_u``: Zipf ``(r + 1)^(-unigram_alpha)`` over frequency ranks
  ``r``, the ranks given to the tokens by a seeded permutation [derived];
- bigram rows ``pi_b(i, .) ~ Dirichlet(concentration * V * pi_u)`` (mean ``pi_u``,
  so the chain's token frequencies follow ``pi_u`` on average) [derived: the
  original estimates ``pi_u`` and ``pi_b`` from 65 Shakespeare characters];
- a trigger pool: the ``trigger_pool`` most frequent tokens under ``pi_u`` (the
  original's triggers are its most frequent tokens, so that they recur within a
  sequence), with the trigger law ``Zipf(alpha_t)`` over a seeded permutation of
  the pool (Kim's extension [derived]; ``alpha_t = 0``: uniform);
- an ID / OOD split of the output tokens by index: tokens ``0 .. n_id - 1`` with
  ``n_id = floor(id_fraction * V)`` are in-distribution (used in training), the rest
  held out (SPEC C.1; the original's 75% split); ID outputs follow ``Zipf(alpha_0)``
  over a seeded permutation of the ID tokens [derived]; OOD outputs are uniform over
  the held-out tokens [derived: they are never trained on, so no law of theirs
  enters training].

A *sequence* (:func:`sample_sequence`): draw ``K`` distinct triggers ``q_k`` from the
trigger law and, for each, an output ``o_k`` (from the ID law, or uniformly from the
OOD pool); then ``z_0 ~ pi_u`` and for ``t >= 0``: ``z_{t+1} = o_k`` if ``z_t = q_k``,
else ``z_{t+1} ~ pi_b(z_t, .)``. ``x = z[:-1]``, ``y = z[1:]`` (length ``T``), and
``mark[t]`` counts the occurrences of trigger ``z_t`` in ``z_0 .. z_t`` (0 when
``z_t`` is not a trigger): ``mark[t] >= 2`` marks the positions where ``y[t]`` can be
recalled in context (SPEC C.1, Bietti et al.'s ``outputs_seq``).

Everything is a pure function of a key: a fresh batch for step ``t`` is
``sample_batch(fold_in(data_key, t), ...)``, reproducible from the step's key.
Integer sizes are static; the exponents may be traced (vmapped).

References:
    SPEC C.1 [summary; Kim's extensions derived]; Bietti, Cabannes, Bouchacourt,
    Jegou, Bottou (2023), "Birth of a transformer: a memory viewpoint"
    (albietz/transformer-birth, ``ihead_data.py``); Kim et al. (2026), Figs. 7-9.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int

from muonjax import _validate


class Language(NamedTuple):
    """A seeded bigram language with a trigger pool and an ID / OOD output split.

    Attributes:
        unigram: ``(V,)`` ``pi_u``, the law of ``z_0``.
        bigram_cdf: ``(V, V)`` row-wise cumulative ``pi_b``, each row ending at 1.
        trigger_tokens: ``(P,)`` the trigger pool (token ids).
        trigger_probs: ``(P,)`` the trigger law over the pool.
        output_probs: ``(n_id,)`` the law of ID outputs over tokens ``0 .. n_id-1``.
    """

    unigram: Float[Array, " V"]
    bigram_cdf: Float[Array, "V V"]
    trigger_tokens: Int[Array, " P"]
    trigger_probs: Float[Array, " P"]
    output_probs: Float[Array, " n_id"]

    @property
    def vocab_size(self) -> int:
        """``V``."""
        return int(self.unigram.shape[-1])

    @property
    def num_id(self) -> int:
        """``n_id``: tokens ``0 .. n_id - 1`` are the ID outputs."""
        return int(self.output_probs.shape[-1])


class Batch(NamedTuple):
    """Sequences of the recall task (leading batch axes as sampled).

    Attributes:
        x: ``(..., T)`` int32 inputs ``z[:-1]``.
        y: ``(..., T)`` int32 targets ``z[1:]``.
        mark: ``(..., T)`` int32 occurrence count of trigger ``x[t]`` up to ``t``.
        triggers: ``(..., K)`` int32 the sequence's triggers ``q_k``.
        outputs: ``(..., K)`` int32 their outputs ``o_k``.
    """

    x: Int[Array, "*b T"]
    y: Int[Array, "*b T"]
    mark: Int[Array, "*b T"]
    triggers: Int[Array, "*b K"]
    outputs: Int[Array, "*b K"]


def num_id_tokens(vocab_size: int, id_fraction: float) -> int:
    """``n_id = floor(id_fraction * V)``: the ID output tokens are ``0 .. n_id - 1``."""
    return math.floor(id_fraction * vocab_size)


def zipf_probs(n: int, alpha: ArrayLike, *, dtype: Any = jnp.float32) -> jax.Array:
    """``p_r = (r + 1)^(-alpha) / sum``, ``r = 0 .. n-1`` (Cabannes et al.'s form).

    ``alpha`` may be traced; ``alpha = 0`` is uniform.
    """
    ranks = jnp.arange(1, n + 1, dtype=dtype)
    w = ranks ** (-jnp.asarray(alpha, dtype))
    return w / jnp.sum(w)


def validate_task(
    *,
    vocab_size: int,
    num_triggers: int,
    trigger_pool: int,
    id_fraction: float,
    seq_len: int | None = None,
) -> None:
    """Check the task's sizes; ``ValueError`` naming the field.

    ``V`` must hold the trigger pool (``K <= trigger_pool <= V``) and both output
    pools (``1 <= n_id <= V - 1``), so ``V >= K + 2`` at least; ``T >= 2``.
    """
    vocab_size = _validate.positive_int("vocab_size", vocab_size)
    num_triggers = _validate.positive_int("num_triggers", num_triggers)
    trigger_pool = _validate.positive_int("trigger_pool", trigger_pool)
    _validate.real("id_fraction", id_fraction, lower=0.0, upper=1.0)
    if vocab_size < num_triggers + 2:
        raise ValueError(
            "vocab_size must be >= num_triggers + 2 (K triggers and at least one ID "
            f"and one OOD output token), got {vocab_size=}, {num_triggers=}"
        )
    if not num_triggers <= trigger_pool <= vocab_size:
        raise ValueError(
            "trigger_pool must lie in [num_triggers, vocab_size], got "
            f"{trigger_pool=}, {num_triggers=}, {vocab_size=}"
        )
    n_id = num_id_tokens(vocab_size, id_fraction)
    if not 1 <= n_id <= vocab_size - 1:
        raise ValueError(
            "id_fraction must leave at least one ID and one OOD output token, got "
            f"{id_fraction=} with {vocab_size=} (n_id={n_id})"
        )
    if seq_len is not None:
        seq_len = _validate.positive_int("seq_len", seq_len)
        if seq_len < 2:
            raise ValueError(f"seq_len must be >= 2, got {seq_len=}")


def sample_language(
    key: jax.Array,
    *,
    vocab_size: int,
    trigger_pool: int,
    alpha_t: ArrayLike = 0.0,
    alpha_0: ArrayLike = 0.0,
    id_fraction: float = 0.75,
    unigram_alpha: float = 1.0,
    concentration: float = 1.0,
    num_triggers: int = 1,
    dtype: Any = jnp.float32,
) -> Language:
    """A bigram language with triggers, from one key (see the module docstring).

    Args:
        key: PRNG key.
        vocab_size: ``V``.
        trigger_pool: ``P``, the number of candidate triggers (the most frequent
            tokens under ``pi_u``).
        alpha_t: trigger law exponent, >= 0 (may be traced).
        alpha_0: ID output law exponent, >= 0 (may be traced).
        id_fraction: share of the tokens (by index) that are ID outputs.
        unigram_alpha: Zipf exponent of ``pi_u``, >= 0.
        concentration: Dirichlet concentration per token, > 0 (rows are
            ``Dirichlet(concentration * V * pi_u)``).
        num_triggers: ``K``, only to validate ``trigger_pool >= K``.
        dtype: float dtype of the laws.

    Returns:
        A :class:`Language`.
    """
    validate_task(
        vocab_size=vocab_size,
        num_triggers=num_triggers,
        trigger_pool=trigger_pool,
        id_fraction=id_fraction,
    )
    _validate.real("alpha_t", alpha_t, lower=0.0)
    _validate.real("alpha_0", alpha_0, lower=0.0)
    _validate.real("unigram_alpha", unigram_alpha, lower=0.0)
    _validate.real("concentration", concentration, lower=0.0, lower_open=True)
    dtype = _validate.float_dtype("dtype", dtype)
    return _sample_language(
        key,
        jnp.asarray(alpha_t, dtype),
        jnp.asarray(alpha_0, dtype),
        jnp.asarray(unigram_alpha, dtype),
        jnp.asarray(concentration, dtype),
        vocab_size=vocab_size,
        trigger_pool=trigger_pool,
        n_id=num_id_tokens(vocab_size, id_fraction),
        dtype=dtype,
    )


@functools.partial(
    jax.jit, static_argnames=("vocab_size", "trigger_pool", "n_id", "dtype")
)
def _sample_language(
    key,
    alpha_t,
    alpha_0,
    unigram_alpha,
    concentration,
    *,
    vocab_size,
    trigger_pool,
    n_id,
    dtype,
) -> Language:
    v = vocab_size
    k_rank, k_rows, k_trig, k_out = jax.random.split(key, 4)
    # Frequency ranks: token by_rank[r] has rank r.
    by_rank = jax.random.permutation(k_rank, v)
    unigram = (
        jnp.zeros((v,), dtype)
        .at[by_rank]
        .set(zipf_probs(v, unigram_alpha, dtype=dtype))
    )
    alphas = concentration * v * unigram
    rows = jax.random.dirichlet(k_rows, alphas, shape=(v,), dtype=dtype)
    cdf = jnp.cumsum(rows, axis=-1)
    cdf = cdf / cdf[:, -1:]

    pool = by_rank[:trigger_pool].astype(jnp.int32)
    pool_rank = jax.random.permutation(k_trig, trigger_pool)
    trigger_probs = zipf_probs(trigger_pool, alpha_t, dtype=dtype)[pool_rank]
    out_rank = jax.random.permutation(k_out, n_id)
    output_probs = zipf_probs(n_id, alpha_0, dtype=dtype)[out_rank]
    return Language(unigram, cdf, pool, trigger_probs, output_probs)


def sample_sequence(
    key: jax.Array,
    language: Language,
    *,
    seq_len: int,
    num_triggers: int,
    ood: bool | jax.Array = False,
) -> Batch:
    """One sequence of the recall task (see the module docstring).

    Args:
        key: PRNG key.
        language: from :func:`sample_language`.
        seq_len: ``T >= 2``.
        num_triggers: ``K``, at most the pool size.
        ood: draw the outputs from the held-out tokens (uniformly); may be a traced
            boolean, so that ID and OOD sequences come from one traced sampler.

    Returns:
        A :class:`Batch` without batch axes: ``x, y, mark`` of shape ``(T,)``,
        ``triggers, outputs`` of shape ``(K,)``.
    """
    v, n_id = language.vocab_size, language.num_id
    validate_task(
        vocab_size=v,
        num_triggers=num_triggers,
        trigger_pool=int(language.trigger_tokens.shape[-1]),
        id_fraction=n_id / v,
        seq_len=seq_len,
    )
    k_trig, k_out, k_first, k_steps = jax.random.split(key, 4)
    triggers = jax.random.choice(
        k_trig,
        language.trigger_tokens,
        (num_triggers,),
        replace=False,
        p=language.trigger_probs,
    )
    k_id, k_ood = jax.random.split(k_out)
    id_outputs = jax.random.choice(
        k_id, n_id, (num_triggers,), replace=True, p=language.output_probs
    ).astype(jnp.int32)
    ood_outputs = jax.random.randint(k_ood, (num_triggers,), n_id, v, jnp.int32)
    outputs = jnp.where(ood, ood_outputs, id_outputs)
    z0 = jax.random.choice(k_first, v, p=language.unigram).astype(jnp.int32)
    u = jax.random.uniform(k_steps, (seq_len,), language.bigram_cdf.dtype)

    def step(carry, u_t):
        z, counts = carry
        hit = z == triggers
        is_trigger = jnp.any(hit)
        k = jnp.argmax(hit)
        counts = counts + hit.astype(jnp.int32)
        mark = jnp.where(is_trigger, counts[k], 0)
        row = language.bigram_cdf[z]
        bigram = jnp.minimum(jnp.searchsorted(row, u_t, side="right"), v - 1)
        nxt = jnp.where(is_trigger, outputs[k], bigram).astype(jnp.int32)
        return (nxt, counts), (z, nxt, mark)

    init = (z0, jnp.zeros((num_triggers,), jnp.int32))
    _, (x, y, mark) = jax.lax.scan(step, init, u)
    return Batch(x, y, mark.astype(jnp.int32), triggers.astype(jnp.int32), outputs)


def sample_batch(
    key: jax.Array,
    language: Language,
    *,
    batch_size: int,
    seq_len: int,
    num_triggers: int,
    ood: bool | jax.Array = False,
) -> Batch:
    """``batch_size`` independent sequences (:func:`sample_sequence`, vmapped).

    Args:
        key: PRNG key (split into one key per sequence).
        language, seq_len, num_triggers: as :func:`sample_sequence`.
        batch_size: ``B``.
        ood: one flag for the batch, or ``(B,)`` flags, one per sequence (an ID and
            an OOD set drawn by one call share one traced sampler).

    Returns:
        A :class:`Batch` with ``x, y, mark`` of shape ``(B, T)`` and ``triggers,
        outputs`` of shape ``(B, K)``.
    """
    batch_size = _validate.positive_int("batch_size", batch_size)
    validate_task(
        vocab_size=language.vocab_size,
        num_triggers=num_triggers,
        trigger_pool=int(language.trigger_tokens.shape[-1]),
        id_fraction=language.num_id / language.vocab_size,
        seq_len=seq_len,
    )
    flags = jnp.broadcast_to(jnp.asarray(ood, bool), (batch_size,))
    return _sample_batch(
        key,
        language,
        flags,
        batch_size=batch_size,
        seq_len=seq_len,
        num_triggers=num_triggers,
    )


@functools.partial(jax.jit, static_argnames=("batch_size", "seq_len", "num_triggers"))
def _sample_batch(key, language, flags, *, batch_size, seq_len, num_triggers) -> Batch:
    keys = jax.random.split(key, batch_size)
    return jax.vmap(
        lambda k, f: sample_sequence(
            k, language, seq_len=seq_len, num_triggers=num_triggers, ood=f
        )
    )(keys, flags)
