"""The long-tailed facts corpus: power-law subjects, fixed facts, leak-free probes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from muonjax import transformer as tx

# One compile per (spec, batch size): eager sampling would trace op by op. The
# tests share two specs (beta 1 and 1.5) and one batch size.
sample = jax.jit(tx.sample_facts_batch, static_argnums=0, static_argnames="batch_size")
BATCH = 1024


def _spec(beta):
    return tx.FactsSpec(
        subjects=64, relations=3, values=16, attribute_tokens=2, beta=beta, slots=8
    )


def _statements(spec, tokens):
    """``(subject_tokens, relation, attribute_tokens)`` of every statement slot."""
    tokens = np.asarray(tokens)
    assert np.all(tokens[:, 0] == tx.SEP)  # every sequence opens with <sep>
    slots = tokens[:, 1:].reshape(-1, spec.width)
    is_statement = slots[:, 0] < spec.relation_offset  # a name token opens a statement
    return slots[is_statement], slots[~is_statement]


@pytest.mark.parametrize("beta", [1.0, 1.5])
def test_subject_frequencies_follow_the_power_law(beta):
    spec = _spec(beta)
    corpus = tx.make_corpus(spec, key=jax.random.key(0))
    tokens = sample(spec, corpus, key=jax.random.key(1), batch_size=BATCH)
    stmts, _ = _statements(spec, tokens)
    index = {tuple(p): s for s, p in enumerate(np.asarray(corpus.names).tolist())}
    subject = np.array([index[(a, b)] for a, b in stmts[:, :2].tolist()])
    n = subject.size
    counts = np.bincount(subject, minlength=spec.subjects)
    p = spec.subject_frequencies()
    np.testing.assert_allclose(np.exp(np.asarray(corpus.log_subject)), p, rtol=1e-5)
    # Every count within 5 binomial standard deviations of n p_s (64 subjects: a
    # false alarm has probability ~ 64 * 6e-7).
    sd = np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(counts - n * p) <= 5 * sd), np.max(np.abs(counts - n * p) / sd)
    # The log-log slope of the 16 most frequent subjects' counts is -beta within 0.1.
    ranks = np.arange(1, 17)
    slope = np.polyfit(np.log(ranks), np.log(counts[:16]), 1)[0]
    assert abs(slope + beta) < 0.1, slope
    # Filler slots: a share filler_fraction of all slots (5 standard deviations).
    slots = tokens.shape[0] * spec.slots
    share = 1 - n / slots
    assert abs(share - spec.filler_fraction) < 5 * np.sqrt(0.25 * 0.75 / slots)


def test_every_fact_has_one_fixed_attribute():
    spec = _spec(1.0)
    corpus = tx.make_corpus(spec, key=jax.random.key(2))
    attributes = np.asarray(corpus.attributes)
    index = {tuple(p): s for s, p in enumerate(np.asarray(corpus.names).tolist())}
    seen = set()
    for step in range(2):  # batches of different steps draw different statements
        tokens = sample(
            spec,
            corpus,
            key=jax.random.fold_in(jax.random.key(3), step),
            batch_size=BATCH,
        )
        stmts, filler = _statements(spec, tokens)
        for row in stmts.tolist():
            s = index[(row[0], row[1])]
            r = row[2] - spec.relation_offset
            assert 0 <= r < spec.relations
            assert row[3:5] == attributes[s, r].tolist()
            assert row[5] == tx.SEP
            seen.add((s, r))
        assert np.all(filler >= spec.filler_offset)
        assert np.all(filler < spec.vocab_size)
    assert len(seen) == spec.facts  # every fact is stated
    # Attributes are drawn from the key, not fixed constants.
    other = tx.make_corpus(spec, key=jax.random.key(4))
    assert not np.array_equal(attributes, np.asarray(other.attributes))
    # Subjects are distinct name pairs, first names and last names from their pools.
    names = np.asarray(corpus.names)
    assert len({tuple(p) for p in names.tolist()}) == spec.subjects
    assert np.all((names[:, 0] >= 1) & (names[:, 0] < 1 + spec.names))
    assert np.all((names[:, 1] >= 1 + spec.names) & (names[:, 1] < 1 + 2 * spec.names))


def test_probes_ask_every_fact_and_never_hold_the_answer():
    spec = tx.FactsSpec(subjects=20, relations=3, values=8, attribute_tokens=2)
    corpus = tx.make_corpus(spec, key=jax.random.key(5))
    probes = tx.probe_prompts(spec, corpus)
    tokens = np.asarray(probes.tokens)
    assert tokens.shape == (spec.facts, 4)
    # No probe holds an attribute token (nor filler): the answer cannot leak.
    assert np.all(tokens < spec.value_offset)
    assert np.all(tokens[:, 0] == tx.SEP)
    s, r = np.asarray(probes.subject), np.asarray(probes.relation)
    assert sorted(zip(s.tolist(), r.tolist(), strict=True)) == [
        (i, j) for i in range(spec.subjects) for j in range(spec.relations)
    ]
    names = np.asarray(corpus.names)
    np.testing.assert_array_equal(tokens[:, 1:3], names[s])
    np.testing.assert_array_equal(tokens[:, 3], spec.relation_offset + r)
    np.testing.assert_array_equal(
        np.asarray(probes.answer), np.asarray(corpus.attributes)[s, r, 0]
    )


def test_batches_are_functions_of_their_key():
    spec = _spec(1.0)
    corpus = tx.make_corpus(spec, key=jax.random.key(6))
    key = jax.random.key(7)
    a = sample(spec, corpus, key=key, batch_size=BATCH)
    b = sample(spec, corpus, key=jax.random.clone(key), batch_size=BATCH)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (BATCH, spec.seq_len) and a.dtype == jnp.int32
    assert spec.seq_len == 1 + spec.slots * spec.width
    c = sample(spec, corpus, key=jax.random.key(8), batch_size=BATCH)
    assert not np.array_equal(a, c)


def test_frequency_buckets_are_log_spaced_and_cover_every_subject():
    bucket, edges = tx.frequency_buckets(512, 5)
    np.testing.assert_array_equal(edges, [1, 3, 12, 42, 147, 513])
    assert bucket.shape == (512,) and bucket[0] == 0 and bucket[-1] == 4
    assert np.all(np.diff(bucket) >= 0)
    for b in range(5):
        ranks = np.flatnonzero(bucket == b) + 1
        assert ranks.min() == edges[b] and ranks.max() == edges[b + 1] - 1
    with pytest.raises(ValueError, match="buckets"):
        tx.frequency_buckets(8, 6)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"subjects": 0}, "subjects"),
        ({"relations": 1.5}, "relations"),
        ({"beta": -1.0}, "beta"),
        ({"filler_fraction": 1.0}, "filler_fraction"),
        ({"filler_concentration": 0.0}, "filler_concentration"),
        ({"subjects": 100, "name_tokens": 9}, "name_tokens"),
        ({"attribute_tokens": 0}, "attribute_tokens"),
    ],
)
def test_bad_specs_raise_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        tx.FactsSpec(**kwargs)
