"""A long-tailed corpus of facts, generated from a key and streamed batch by batch.

The corpus of SPEC C.2 [derived: the seed names only "LLaMA-style pre-training" and
"tail accuracy"]. ``S`` subjects with frequencies ``p_s ~ s^(-beta)`` (``s = 1..S``
by rank), ``R`` relations, and one attribute per ``(subject, relation)``, drawn once.
The training text is a stream of fixed-width *slots*; a slot is either a statement::

    first_name(s) last_name(s) relation(r) attribute(s, r) <sep>

(``subject`` two tokens, the attribute ``attribute_tokens`` tokens) with ``s ~ p``
and ``r`` uniform, or, with probability ``filler_fraction``, a run of filler from a
bigram model (Dirichlet rows) of the same width. A subject's two name tokens come
from two pools of ``name_tokens`` tokens each, as a distinct random pair, so no single
token names a subject: recalling a fact takes both tokens and the relation.

Every sequence opens with ``<sep>`` (the start of text). Probes (held out from the
text, one per fact) are the prompts ``<sep> first last relation``: the start of a
sequence whose first slot states that fact, so the probe is in the training
distribution; the answer is the attribute's first token (the prompt never holds an
attribute token).

Vocabulary layout (token ids)::

    0                      <sep>
    [1, 1 + N)             first names        (N = name_tokens)
    [1 + N, 1 + 2N)        last names
    next R                 relations
    next A                 attribute values   (A = values, shared by all relations)
    next F                 filler             (F = filler_tokens)

Nothing is stored but the :class:`Corpus` arrays (``O(S R + F^2)`` numbers); every
batch is drawn from its own key (:func:`sample_facts_batch`), so step ``t``'s tokens
are a function of ``fold_in(data_key, t)`` and any run can be replayed or resumed.

References:
    SPEC C.2; Li, Wang, Zhong, Lu, Wang (2026), arXiv 2602.05725 ("LLaMA-style
    pre-training", "tail accuracy" [seed]).
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

__all__ = [
    "SEP",
    "Corpus",
    "FactsSpec",
    "Probes",
    "frequency_buckets",
    "make_corpus",
    "probe_prompts",
    "sample_facts_batch",
    "sample_facts_sequence",
]

#: Token id of the statement separator.
SEP = 0


def _positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= 1, got {name}={value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {name}={value!r}")


@dataclasses.dataclass(frozen=True)
class FactsSpec:
    """The static sizes of a corpus (hashable: a ``jit`` static argument).

    Attributes:
        subjects: ``S``, subjects ranked by frequency.
        relations: ``R``.
        values: ``A``, attribute tokens (one alphabet shared by every relation).
        beta: power-law exponent of the subject frequencies, ``>= 0``.
        attribute_tokens: tokens per attribute (first-token accuracy is measured).
        name_tokens: ``N``, tokens per name pool (first names, last names); 0 picks
            ``ceil(2 sqrt(S))``, so a first name is shared by about ``sqrt(S) / 4``
            subjects. Needs ``N^2 >= S``.
        filler_tokens: ``F``, the filler vocabulary.
        filler_fraction: probability that a slot is filler, in ``[0, 1)``.
        filler_concentration: Dirichlet concentration of each bigram row (> 0; small
            is peaked, predictable filler).
        slots: slots per training sequence (its length is ``1 + slots * width``:
            ``<sep>`` opens every sequence).
    """

    subjects: int = 512
    relations: int = 4
    values: int = 64
    beta: float = 1.0
    attribute_tokens: int = 1
    name_tokens: int = 0
    filler_tokens: int = 64
    filler_fraction: float = 0.25
    filler_concentration: float = 0.5
    slots: int = 8

    def __post_init__(self) -> None:
        for name in (
            "subjects",
            "relations",
            "values",
            "attribute_tokens",
            "filler_tokens",
            "slots",
        ):
            _positive_int(name, getattr(self, name))
        n = self.name_tokens
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"name_tokens must be an integer >= 0, got {n=!r}")
        if n and n * n < self.subjects:
            raise ValueError(
                f"name_tokens must satisfy name_tokens^2 >= subjects = "
                f"{self.subjects} (distinct name pairs), got name_tokens={n}"
            )
        if not (math.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"beta must be finite and >= 0, got beta={self.beta!r}")
        if not 0 <= self.filler_fraction < 1:
            raise ValueError(
                f"filler_fraction must lie in [0, 1), got "
                f"filler_fraction={self.filler_fraction!r}"
            )
        if not (
            math.isfinite(self.filler_concentration) and self.filler_concentration > 0
        ):
            raise ValueError(
                "filler_concentration must be finite and > 0, got "
                f"filler_concentration={self.filler_concentration!r}"
            )

    @property
    def names(self) -> int:
        """``N``, the size of each name pool (resolved)."""
        return self.name_tokens or math.ceil(2 * math.sqrt(self.subjects))

    @property
    def width(self) -> int:
        """Tokens per slot: two name tokens, relation, attribute, ``<sep>``."""
        return 3 + self.attribute_tokens + 1

    @property
    def seq_len(self) -> int:
        """Tokens per training sequence, ``1 + slots * width`` (inputs and targets
        are one shorter)."""
        return 1 + self.slots * self.width

    @property
    def relation_offset(self) -> int:
        """Id of relation 0."""
        return 1 + 2 * self.names

    @property
    def value_offset(self) -> int:
        """Id of attribute value 0."""
        return self.relation_offset + self.relations

    @property
    def filler_offset(self) -> int:
        """Id of filler token 0."""
        return self.value_offset + self.values

    @property
    def vocab_size(self) -> int:
        """``V = 1 + 2N + R + A + F``."""
        return self.filler_offset + self.filler_tokens

    @property
    def facts(self) -> int:
        """``S R``, the number of facts (and of probes)."""
        return self.subjects * self.relations

    def subject_frequencies(self) -> np.ndarray:
        """``(S,)`` float64 ``p_s = s^(-beta) / sum_k k^(-beta)`` by rank."""
        s = np.arange(1, self.subjects + 1, dtype=np.float64)
        w = s ** (-self.beta)
        return w / w.sum()


class Corpus(NamedTuple):
    """The facts and the filler model, drawn once from a key (a pytree of arrays).

    Attributes:
        names: ``(S, 2)`` token ids of each subject's first and last name (row ``s``
            is the subject of rank ``s + 1``).
        attributes: ``(S, R, L)`` token ids of each fact's attribute.
        log_subject: ``(S,)`` log subject frequencies.
        log_bigram: ``(F, F)`` log transition probabilities of the filler (row: the
            previous token).
    """

    names: Int[Array, "S 2"]
    attributes: Int[Array, "S R L"]
    log_subject: Float[Array, " S"]
    log_bigram: Float[Array, "F F"]


class Probes(NamedTuple):
    """One held-out prompt per fact, ``(subject, relation)`` in row-major order.

    Attributes:
        tokens: ``(S R, 4)`` prompts ``<sep> first last relation``.
        answer: ``(S R,)`` the attribute's first token.
        subject: ``(S R,)`` subject index (rank - 1).
        relation: ``(S R,)`` relation index.
    """

    tokens: Int[Array, "P 4"]
    answer: Int[Array, " P"]
    subject: Int[Array, " P"]
    relation: Int[Array, " P"]


def make_corpus(
    spec: FactsSpec, *, key: jax.Array, dtype: jnp.dtype = jnp.float32
) -> Corpus:
    """Draw the subjects' names, the facts and the filler model from ``key``.

    Args:
        spec: the sizes.
        key: PRNG key (``jax.random.key``); jit- and vmap-able.
        dtype: floating dtype of the log probabilities.

    Returns:
        A :class:`Corpus`.
    """
    k_names, k_attr, k_bigram = jax.random.split(key, 3)
    n = spec.names
    pair = jax.random.choice(k_names, n * n, (spec.subjects,), replace=False)
    names = jnp.stack([1 + pair // n, 1 + n + pair % n], axis=1).astype(jnp.int32)
    attributes = spec.value_offset + jax.random.randint(
        k_attr,
        (spec.subjects, spec.relations, spec.attribute_tokens),
        0,
        spec.values,
        dtype=jnp.int32,
    )
    rows = jax.random.dirichlet(
        k_bigram,
        jnp.full((spec.filler_tokens,), spec.filler_concentration, dtype),
        (spec.filler_tokens,),
        dtype=dtype,
    )
    # A Dirichlet draw with a small concentration can hold exact zeros; the floor
    # keeps every log finite (and every transition possible, if rarely).
    log_bigram = jnp.log(jnp.maximum(rows, jnp.finfo(dtype).tiny))
    # Zipf law p_s ~ s^(-beta), normalised in logs (no underflow for large beta).
    rank = jnp.arange(1, spec.subjects + 1, dtype=dtype)
    log_subject = jax.nn.log_softmax(-spec.beta * jnp.log(rank))
    return Corpus(names, attributes, log_subject, log_bigram)


def _filler(
    spec: FactsSpec, log_bigram: Float[Array, "F F"], *, key: jax.Array
) -> Int[Array, "slots width"]:
    """One bigram chain per slot: a uniform first token, then the bigram model."""
    k_first, k_next = jax.random.split(key)
    first = jax.random.randint(
        k_first, (spec.slots,), 0, spec.filler_tokens, dtype=jnp.int32
    )

    def step(prev, k):
        nxt = jax.random.categorical(k, log_bigram[prev], axis=-1).astype(jnp.int32)
        return nxt, nxt

    keys = jax.random.split(k_next, spec.width - 1)
    _, rest = jax.lax.scan(step, first, keys)
    chain = jnp.concatenate([first[None], rest], axis=0).T  # (slots, width)
    return spec.filler_offset + chain


def sample_facts_sequence(
    spec: FactsSpec, corpus: Corpus, *, key: jax.Array
) -> Int[Array, " seq_len"]:
    """One training sequence of ``spec.seq_len`` tokens.

    ``<sep>``, then ``slots`` slots. Each slot is a statement ``first last relation
    attribute <sep>`` (subject drawn from ``p``, relation uniform) or, with
    probability ``spec.filler_fraction``, a filler chain of the same width. The
    opening ``<sep>`` marks the start of text, so a statement always follows
    ``<sep>`` or filler, and a probe ``<sep> first last relation`` is exactly the
    start of a sequence whose first slot is that fact's statement.

    Args:
        spec: the sizes.
        corpus: from :func:`make_corpus` with the same ``spec``.
        key: PRNG key of this sequence.

    Returns:
        ``(1 + slots * width,)`` int32 token ids.
    """
    k_kind, k_subject, k_relation, k_filler = jax.random.split(key, 4)
    is_filler = jax.random.bernoulli(k_kind, spec.filler_fraction, (spec.slots,))
    subject = jax.random.categorical(
        k_subject, corpus.log_subject, shape=(spec.slots,)
    ).astype(jnp.int32)
    relation = jax.random.randint(
        k_relation, (spec.slots,), 0, spec.relations, dtype=jnp.int32
    )
    statement = jnp.concatenate(
        [
            corpus.names[subject],
            (spec.relation_offset + relation)[:, None],
            corpus.attributes[subject, relation],
            jnp.full((spec.slots, 1), SEP, jnp.int32),
        ],
        axis=1,
    )
    filler = _filler(spec, corpus.log_bigram, key=k_filler)
    slots = jnp.where(is_filler[:, None], filler, statement)
    return jnp.concatenate([jnp.full((1,), SEP, jnp.int32), slots.reshape(-1)])


def sample_facts_batch(
    spec: FactsSpec, corpus: Corpus, *, key: jax.Array, batch_size: int
) -> Int[Array, "batch seq_len"]:
    """``batch_size`` independent sequences (:func:`sample_facts_sequence`).

    Args:
        spec: the sizes.
        corpus: the facts.
        key: PRNG key of the batch (a training step's key).
        batch_size: sequences, >= 1.

    Returns:
        ``(batch_size, seq_len)`` int32 tokens; a model reads ``[:, :-1]`` and
        predicts ``[:, 1:]``.
    """
    _positive_int("batch_size", batch_size)
    keys = jax.random.split(key, batch_size)
    return jax.vmap(lambda k: sample_facts_sequence(spec, corpus, key=k))(keys)


def probe_prompts(spec: FactsSpec, corpus: Corpus) -> Probes:
    """The held-out prompt of every fact (see :class:`Probes`).

    Args:
        spec: the sizes.
        corpus: the facts.

    Returns:
        :class:`Probes` with ``S R`` rows, fact ``(s, r)`` at row ``s R + r``.
    """
    s, r = jnp.divmod(jnp.arange(spec.facts, dtype=jnp.int32), spec.relations)
    tokens = jnp.stack(
        [
            jnp.full_like(s, SEP),
            corpus.names[s, 0],
            corpus.names[s, 1],
            spec.relation_offset + r,
        ],
        axis=1,
    ).astype(jnp.int32)
    answer = corpus.attributes[s, r, 0].astype(jnp.int32)
    return Probes(tokens, answer, s, r)


def frequency_buckets(subjects: int, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-spaced buckets of subject ranks: ``[e_0, e_1), [e_1, e_2), ...``.

    The edges are ``round(geomspace(1, S + 1, buckets + 1))``; bucket 0 holds the
    most frequent subjects, the last bucket the tail.

    Args:
        subjects: ``S``.
        buckets: number of buckets, >= 1; the edges must be distinct (at most about
            ``log2(S)`` buckets for small ``S``).

    Returns:
        ``(bucket, edges)``: ``(S,)`` int bucket of each subject (by index = rank
        - 1) and the ``(buckets + 1,)`` rank edges.
    """
    _positive_int("subjects", subjects)
    _positive_int("buckets", buckets)
    edges = np.round(np.geomspace(1, subjects + 1, buckets + 1)).astype(np.int64)
    if np.any(np.diff(edges) < 1):
        raise ValueError(
            f"buckets={buckets} log-spaced buckets of {subjects} subjects would be "
            f"empty (rank edges {edges.tolist()}); use fewer buckets"
        )
    rank = np.arange(1, subjects + 1)
    bucket = np.searchsorted(edges, rank, side="right") - 1
    return bucket.astype(np.int32), edges
