"""The bigram-with-triggers generator: structure and statistics (SPEC C.1).

References: numpy recounts of the marks, the sampled language's own laws, and
``scipy.stats.chisquare`` for the frequencies.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from muonjax import transformer as tf

#: A chi-square test passes when its p-value exceeds this: a correct sampler fails
#: one such test in 1000 (the keys are fixed, so the outcome is deterministic).
P_MIN = 1e-3


def _language(key=0, **kw):
    args = {"vocab_size": 32, "trigger_pool": 6, "num_triggers": 3, **kw}
    return tf.sample_language(jax.random.key(key), **args)


def _batch(language, *, key=1, batch_size=64, seq_len=48, num_triggers=3, ood=False):
    return tf.sample_batch(
        jax.random.key(key),
        language,
        batch_size=batch_size,
        seq_len=seq_len,
        num_triggers=num_triggers,
        ood=ood,
    )


def test_shapes_dtypes_and_shift():
    lang = _language()
    b = _batch(lang)
    assert b.x.shape == b.y.shape == b.mark.shape == (64, 48)
    assert b.triggers.shape == b.outputs.shape == (64, 3)
    for a in b:
        assert a.dtype == jnp.int32
    np.testing.assert_array_equal(b.x[:, 1:], b.y[:, :-1])
    assert lang.bigram_cdf.dtype == jnp.float32
    np.testing.assert_allclose(lang.bigram_cdf[:, -1], 1.0)
    np.testing.assert_allclose(float(jnp.sum(lang.unigram)), 1.0, rtol=1e-6)


def test_trigger_is_always_followed_by_its_output_and_marks_count():
    lang = _language()
    b = jax.tree.map(np.asarray, _batch(lang))
    for x, y, mark, trig, out in zip(
        b.x, b.y, b.mark, b.triggers, b.outputs, strict=True
    ):
        assert len(set(trig.tolist())) == len(trig)  # distinct triggers
        counts = dict.fromkeys(trig.tolist(), 0)
        for t in range(len(x)):
            if x[t] in counts:
                counts[x[t]] += 1
                assert y[t] == out[list(trig).index(x[t])]
                assert mark[t] == counts[x[t]]
            else:
                assert mark[t] == 0
    assert (b.mark >= 2).sum() > 100  # triggers recur: the task has content


def test_ood_outputs_never_in_id_sequences():
    lang = _language()
    n_id = lang.num_id
    assert n_id == 24  # floor(0.75 * 32)
    ident = _batch(lang)
    ood = _batch(lang, ood=True, key=2)
    assert int(jnp.max(ident.outputs)) < n_id
    assert int(jnp.min(ood.outputs)) >= n_id
    assert int(jnp.max(jnp.where(ident.mark >= 1, ident.y, 0))) < n_id
    assert int(jnp.min(jnp.where(ood.mark >= 1, ood.y, n_id))) >= n_id
    # One call, a flag per sequence: the first half ID, the second OOD.
    mixed = _batch(lang, batch_size=16, ood=jnp.arange(16) >= 8)
    assert int(jnp.max(mixed.outputs[:8])) < n_id <= int(jnp.min(mixed.outputs[8:]))


def test_reproducible_from_the_key_and_jittable():
    lang = _language()
    f = jax.jit(
        lambda k: tf.sample_batch(k, lang, batch_size=8, seq_len=16, num_triggers=3)
    )
    a, b, c = f(jax.random.key(5)), f(jax.random.key(5)), f(jax.random.key(6))
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    lang2 = _language()
    for u, v in zip(lang, lang2, strict=True):
        np.testing.assert_array_equal(u, v)


def test_laws_are_zipf_over_a_seeded_permutation():
    lang = _language(alpha_t=1.3, alpha_0=0.7)
    np.testing.assert_allclose(
        np.sort(np.asarray(lang.trigger_probs))[::-1], tf.zipf_probs(6, 1.3), rtol=1e-6
    )
    np.testing.assert_allclose(
        np.sort(np.asarray(lang.output_probs))[::-1], tf.zipf_probs(24, 0.7), rtol=1e-6
    )
    # The trigger pool holds the most frequent tokens of the unigram law.
    pool_freq = np.asarray(lang.unigram)[np.asarray(lang.trigger_tokens)]
    assert pool_freq.min() >= np.sort(np.asarray(lang.unigram))[::-1][5] - 1e-9
    # alpha = 0 is uniform.
    np.testing.assert_allclose(tf.zipf_probs(5, 0.0), np.full(5, 0.2), rtol=1e-6)


def _chisquare_p(counts, probs):
    counts = np.asarray(counts, float)
    expected = np.asarray(probs, float) * counts.sum()
    return stats.chisquare(counts, expected / expected.sum() * counts.sum()).pvalue


def test_trigger_and_output_frequencies_follow_their_laws():
    """Chi-square goodness of fit (p > P_MIN) of the sampled triggers and outputs."""
    lang = _language(alpha_t=1.0, alpha_0=1.2, vocab_size=24, trigger_pool=5)
    # One trigger per sequence: its law is trigger_probs exactly.
    b = _batch(lang, batch_size=4000, seq_len=2, num_triggers=1)
    pool = np.asarray(lang.trigger_tokens)
    trig = np.asarray(b.triggers[:, 0])
    counts = [(trig == tok).sum() for tok in pool]
    assert _chisquare_p(counts, lang.trigger_probs) > P_MIN
    # Outputs are drawn with replacement: every one follows output_probs.
    b = _batch(lang, batch_size=2000, seq_len=2, num_triggers=3)
    outs = np.asarray(b.outputs).ravel()
    counts = np.bincount(outs, minlength=lang.num_id)
    assert _chisquare_p(counts, lang.output_probs) > P_MIN
    # And they are not uniform (the test has power at this size).
    assert _chisquare_p(counts, np.full(lang.num_id, 1 / lang.num_id)) < 1e-10


def test_bigram_transitions_follow_the_rows():
    """Next tokens after a non-trigger token ``a`` follow ``pi_b(a, .)``."""
    lang = _language(vocab_size=16, trigger_pool=2, num_triggers=1)
    b = jax.tree.map(
        np.asarray, _batch(lang, batch_size=300, seq_len=64, num_triggers=1)
    )
    rows = np.diff(np.asarray(lang.bigram_cdf, np.float64), axis=-1, prepend=0.0)
    free = b.mark == 0
    tokens, freq = np.unique(b.x[free], return_counts=True)
    a = tokens[np.argmax(freq)]
    nxt = b.y[free & (b.x == a)]
    counts = np.bincount(nxt, minlength=16)
    expected = rows[a] * counts.sum()
    # Pool the categories expected fewer than 5 times (chi-square's validity rule).
    small = expected < 5
    obs = np.append(counts[~small], counts[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    keep = exp > 0
    assert stats.chisquare(obs[keep], exp[keep]).pvalue > P_MIN


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"vocab_size": 4, "num_triggers": 3, "trigger_pool": 3}, "vocab_size"),
        ({"trigger_pool": 2, "num_triggers": 3}, "trigger_pool"),
        ({"trigger_pool": 40}, "trigger_pool"),
        ({"id_fraction": 1.0}, "id_fraction"),
        ({"id_fraction": 0.01}, "id_fraction"),
        ({"alpha_t": -1.0}, "alpha_t"),
        ({"alpha_0": float("nan")}, "alpha_0"),
        ({"concentration": 0.0}, "concentration"),
    ],
)
def test_bad_language_raises(kwargs, field):
    with pytest.raises(ValueError, match=field):
        _language(**kwargs)


def test_bad_sequence_raises():
    lang = _language()
    with pytest.raises(ValueError, match="seq_len"):
        _batch(lang, seq_len=1)
    with pytest.raises(ValueError, match="trigger_pool"):
        _batch(lang, num_triggers=7)
    with pytest.raises(ValueError, match="batch_size"):
        _batch(lang, batch_size=0)
