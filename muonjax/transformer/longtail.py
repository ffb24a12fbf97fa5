"""One run of a LLaMA-style decoder on long-tailed facts: settings, metrics, programs.

A run is one optimizer at one learning rate for one seed: the seed's key is split
once into ``(corpus, init, data, eval)`` (the facts, the initialisation, the token
stream: step ``t`` reads the batch of ``fold_in(data, t)``, and a held-out batch),
then :func:`muonjax.transformer.train` (a ``lax.scan`` over steps, evaluation every
``eval_every`` steps inside it) with the optimizer of
:func:`muonjax.transformer.make_optimizer`. :func:`train_one` is the whole run as
one program; :mod:`muonjax.transformer.longtail_train` runs a learning-rate grid
over seeds, vmapped and checkpointed, from the same programs.

Metrics per evaluation (SPEC C.2): first-token accuracy of the attribute on the
held-out probes, per log-spaced frequency bucket of subjects and overall; facts
learned (probes whose answer has a positive margin over every other token: a tie is
not a recovery, SPEC E); the probes' cross-entropy; the next-token loss on a fixed
held-out batch of fresh text; the mean training loss since the last evaluation.

References:
    SPEC C.2 [derived], C.3 (optimizer conventions); Li, Wang, Zhong, Lu, Wang
    (2026), arXiv 2602.05725 [seed: "LLaMA-style pre-training", "tail accuracy"].
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from muonjax.transformer.facts import (
    FactsSpec,
    frequency_buckets,
    make_corpus,
    probe_prompts,
    sample_facts_batch,
)
from muonjax.transformer.llama import LlamaConfig, init_llama, llama_forward, llama_loss
from muonjax.transformer.optim import make_optimizer
from muonjax.transformer.train import init_state, make_train_step, train

__all__ = [
    "DECAYS",
    "LONGTAIL_METRICS",
    "LongtailSetup",
    "evaluate_facts",
    "lr_multiplier",
    "train_one",
]

#: Shapes of the learning-rate decay after warmup.
DECAYS = ("constant", "cosine", "linear")
#: Scalar metrics of each evaluation, in record order (then ``acc_b0 ..``).
LONGTAIL_METRICS = ("loss", "train_loss", "probe_loss", "accuracy", "facts_learned")


@dataclasses.dataclass(frozen=True)
class LongtailSetup:
    """Everything about a run except the optimizer, its learning rate and the seed.

    Attributes:
        facts: the corpus sizes (:class:`FactsSpec`).
        model: the decoder (its ``vocab_size`` must be ``facts.vocab_size``).
        steps: training steps (a multiple of ``eval_every``).
        batch_size: sequences per step.
        eval_every: steps between evaluations.
        buckets: log-spaced frequency buckets of subjects.
        eval_batch: sequences in the held-out batch of the ``loss`` metric.
        warmup: steps of linear warmup from 0 (0: none).
        decay: after warmup, ``"constant"``, ``"cosine"`` or ``"linear"`` down to
            ``final_lr_fraction`` of the peak at ``steps``.
        final_lr_fraction: the last step's share of the peak step size, in [0, 1].
        weight_decay: decoupled weight decay ``lambda`` of every leaf.
        ns_steps, ns_coeffs, muon_momentum, nesterov, update_scale: Muon's settings
            (SPEC C.3; see ``muonjax.transformer.optim.muon``).
        adam_b1, adam_b2: AdamW's moment decays (also on Muon's AdamW leaves).
    """

    facts: FactsSpec
    model: LlamaConfig
    steps: int = 1000
    batch_size: int = 32
    eval_every: int = 50
    buckets: int = 5
    eval_batch: int = 64
    warmup: int = 50
    decay: str = "cosine"
    final_lr_fraction: float = 0.1
    weight_decay: float = 0.0
    ns_steps: int = 5
    ns_coeffs: str = "jordan"
    muon_momentum: float = 0.95
    nesterov: bool = True
    update_scale: str = "spectral"
    adam_b1: float = 0.9
    adam_b2: float = 0.95

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "eval_every", "buckets", "eval_batch"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {name}={v!r}")
        if self.steps % self.eval_every:
            raise ValueError(
                f"steps must be a multiple of eval_every, got steps={self.steps}, "
                f"eval_every={self.eval_every}"
            )
        if self.model.vocab_size != self.facts.vocab_size:
            raise ValueError(
                f"model.vocab_size must equal facts.vocab_size = "
                f"{self.facts.vocab_size}, got {self.model.vocab_size}"
            )
        if not 0 <= self.warmup <= self.steps:
            raise ValueError(f"warmup must lie in [0, steps], got {self.warmup=}")
        if self.decay not in DECAYS:
            raise ValueError(f"decay must be one of {DECAYS}, got {self.decay=!r}")
        if not 0 <= self.final_lr_fraction <= 1:
            raise ValueError(
                f"final_lr_fraction must lie in [0, 1], got {self.final_lr_fraction=}"
            )
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay=}")
        frequency_buckets(self.facts.subjects, self.buckets)  # raises if too many

    @property
    def evaluations(self) -> int:
        """Evaluations per run, step 0 included: ``steps / eval_every + 1``."""
        return self.steps // self.eval_every + 1

    def muon_options(self) -> dict[str, Any]:
        """Muon's settings as ``make_optimizer(muon_options=...)`` takes them."""
        return {
            "ns_steps": self.ns_steps,
            "ns_coeffs": self.ns_coeffs,
            "momentum": self.muon_momentum,
            "nesterov": self.nesterov,
            "scale": self.update_scale,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (for manifests and checkpoint identity)."""
        out = dataclasses.asdict(self)
        out["model"]["precision"] = str(self.model.precision)
        return out


def lr_multiplier(setup: LongtailSetup) -> optax.Schedule:
    """The step-size multiplier: linear warmup from 0, then ``setup.decay``.

    An optax schedule of the update count (0-based), built from optax's own
    schedules; it multiplies every step size (Muon's and AdamW's alike).
    """
    rest = setup.steps - setup.warmup
    end = setup.final_lr_fraction
    if setup.decay == "constant" or rest == 0:
        after = optax.constant_schedule(1.0)
    elif setup.decay == "cosine":
        after = optax.cosine_decay_schedule(1.0, rest, alpha=end)
    else:
        after = optax.linear_schedule(1.0, end, rest)
    if setup.warmup == 0:
        return after
    return optax.join_schedules(
        [optax.linear_schedule(0.0, 1.0, setup.warmup), after], [setup.warmup]
    )


def evaluate_facts(
    params: Any,
    config: LlamaConfig,
    probes: Any,
    bucket: jax.Array,
    buckets: int,
    heldout: jax.Array,
) -> dict[str, jax.Array]:
    """The metrics of one model at one step (jit-able; see the module docstring).

    Args:
        params: the decoder's parameters.
        config: its sizes.
        probes: :class:`muonjax.transformer.Probes` (``P = S R`` prompts).
        bucket: ``(S,)`` frequency bucket of each subject.
        buckets: number of buckets.
        heldout: ``(B, seq_len)`` held-out tokens.

    Returns:
        ``loss``, ``probe_loss``, ``accuracy``, ``facts_learned`` (scalars) and
        ``bucket_accuracy`` ``(buckets,)``.
    """
    logits = jax.vmap(lambda t: llama_forward(params, t, config)[-1])(probes.tokens)
    answer = probes.answer
    correct_logit = jnp.take_along_axis(logits, answer[:, None], axis=1)[:, 0]
    others = jnp.where(
        jax.nn.one_hot(answer, logits.shape[1], dtype=bool), -jnp.inf, logits
    )
    learned = correct_logit > jnp.max(others, axis=1)  # margin > 0: a tie is no recall
    logp = jax.nn.log_softmax(logits, axis=1)
    probe_loss = -jnp.mean(jnp.take_along_axis(logp, answer[:, None], axis=1))
    member = jax.nn.one_hot(bucket[probes.subject], buckets, dtype=logits.dtype)
    # 0/1 counts per bucket: exact at any precision, stated anyway (TF32 on GPUs)
    hits = jnp.einsum(
        "p,pb->b",
        learned.astype(logits.dtype),
        member,
        precision=jax.lax.Precision.HIGHEST,
    )
    per_bucket = hits / jnp.sum(member, axis=0)
    return {
        "loss": llama_loss(params, heldout, config),
        "probe_loss": probe_loss,
        "accuracy": jnp.mean(learned.astype(logits.dtype)),
        "facts_learned": jnp.sum(learned).astype(jnp.int32),
        "bucket_accuracy": per_bucket,
    }


class _World(NamedTuple):
    """What seed ``k`` fixes besides the initialisation: the facts, the probes, the
    held-out batch and the token stream's key."""

    corpus: Any
    probes: Any
    heldout: jax.Array
    init_key: jax.Array
    data_key: jax.Array


def _world(setup: LongtailSetup, key: jax.Array, dtype: Any) -> _World:
    k_corpus, k_init, k_data, k_eval = jax.random.split(key, 4)
    corpus = make_corpus(setup.facts, key=k_corpus, dtype=dtype)
    heldout = sample_facts_batch(
        setup.facts, corpus, key=k_eval, batch_size=setup.eval_batch
    )
    return _World(corpus, probe_prompts(setup.facts, corpus), heldout, k_init, k_data)


def _programs(
    setup: LongtailSetup, optimizer: str, adamw_lr: float | None, dtype: Any
) -> tuple[Callable, Callable]:
    """``init(lr, world) -> TrainState`` and ``chunk(state, lr, world, *, steps)
    -> (state, History)`` for one model; the caller vmaps and jits them.

    ``chunk`` is :func:`muonjax.transformer.train` (a ``lax.scan`` over steps,
    evaluation every ``eval_every`` steps) from ``state``; its history starts with
    an evaluation of ``state`` itself.
    """
    spec, cfg = setup.facts, setup.model
    bucket = jnp.asarray(frequency_buckets(spec.subjects, setup.buckets)[0])
    schedule = lr_multiplier(setup)

    def tx_of(params, lr):
        return make_optimizer(
            optimizer,
            params,
            learning_rate=lr,
            adamw_learning_rate=adamw_lr,
            weight_decay=setup.weight_decay,
            schedule=schedule,
            muon_options=setup.muon_options(),
            adamw_options={"b1": setup.adam_b1, "b2": setup.adam_b2},
        )

    def loss_fn(params, tokens):
        return llama_loss(params, tokens, cfg)

    def init(lr, world):
        params = init_llama(cfg, key=world.init_key, dtype=dtype)
        return init_state(params, tx_of(params, lr))

    def chunk(state, lr, world, *, steps):
        return train(
            state,
            step_fn=make_train_step(loss_fn, tx_of(state.params, lr)),
            loss_fn=loss_fn,
            batch_fn=lambda k: sample_facts_batch(
                spec, world.corpus, key=k, batch_size=setup.batch_size
            ),
            eval_fn=lambda params: evaluate_facts(
                params, cfg, world.probes, bucket, setup.buckets, world.heldout
            ),
            data_key=world.data_key,
            steps=steps,
            eval_every=setup.eval_every,
        )

    return init, chunk


@functools.lru_cache(maxsize=32)
def _jitted(
    setup: LongtailSetup, optimizer: str, adamw_lr: float | None, dtype_name: str
) -> tuple[Callable, Callable, Callable[[int], Callable]]:
    """The vmapped, jitted world, init and chunk programs of one group's settings.

    Cached, so that groups, checks and tests with the same settings share compiled
    programs (JAX caches compilations per function object and input shapes).
    """
    dtype = jnp.dtype(dtype_name)
    init, chunk = _programs(setup, optimizer, adamw_lr, dtype)
    world = jax.jit(jax.vmap(functools.partial(_world, setup, dtype=dtype)))

    @functools.cache
    def chunk_of(steps: int) -> Callable:
        return _standard_promotion(
            jax.jit(jax.vmap(functools.partial(chunk, steps=steps)))
        )

    return world, _standard_promotion(jax.jit(jax.vmap(init))), chunk_of


def _standard_promotion(fn: Callable) -> Callable:
    """``fn`` traced under standard dtype promotion: optax's Adam mixes a Python
    float with its int32 step count, which strict promotion refuses."""

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        with jax.numpy_dtype_promotion("standard"):
            return fn(*args)

    return call


def train_one(
    setup: LongtailSetup,
    optimizer: str,
    lr: Any,
    key: jax.Array,
    *,
    adamw_lr: float | None = None,
    dtype: Any = jnp.float32,
) -> tuple[Any, Any]:
    """One whole run for one seed, without checkpoints: jit- and vmap-able.

    The same programs as :func:`muonjax.transformer.train_group` (seed ``key`` fixes
    the corpus, the
    initialisation and the tokens), in one ``lax.scan`` of ``setup.steps`` steps;
    for benchmarks and single runs. Wrap in ``jax.jit`` (and ``jax.vmap`` over keys
    or learning rates) and call it under ``jax.numpy_dtype_promotion("standard")``
    where strict promotion is on (optax's Adam is not strict).

    Args:
        setup: the settings.
        optimizer: as in :func:`train_group`.
        lr: the learning rate (may be traced).
        key: the seed's key (:func:`train_group` uses ``fold_in(key, seed)``).
        adamw_lr: AdamW's step on Muon's AdamW leaves.
        dtype: floating dtype.

    Returns:
        ``(state, history)``: the final ``TrainState`` and the
        ``muonjax.transformer.History`` (``setup.evaluations`` evaluations).
    """
    init, chunk = _programs(setup, optimizer, adamw_lr, jnp.dtype(dtype))
    world = _world(setup, key, jnp.dtype(dtype))
    lr = jnp.asarray(lr, dtype)
    return chunk(init(lr, world), lr, world, steps=setup.steps)
