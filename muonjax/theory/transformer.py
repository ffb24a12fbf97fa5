"""What SPEC Part C predicts for the transformers, with its tags.

SPEC C.2 (long-tailed facts, Li et al. 2026): the seed names only "LLaMA-style
pre-training" and "tail accuracy" (SPEC C.2 [seed]); the claims' precise form and
the baselines below are ours ([derived]).

Claims (checked with intervals over seeds by
:mod:`muonjax.transformer.longtail_checks`):

- :data:`TAIL_ACCURACY_CLAIM`: at equal steps, Muon's first-token accuracy on the
  tail bucket of subjects is higher than AdamW's (difference ``> 0``).
- :data:`FACTS_SLOPE_CLAIM`: the log-log slope of facts learned against steps is
  steeper for Muon (difference of exponents ``> 0``).

Baselines (info rows, not claims of the paper):

- :func:`facts_learned_exponent`: a learner that stores a fact once it has seen it a
  fixed number of times learns ``facts(t) ~ t^(1/beta)`` facts by step ``t``.
- :func:`steps_to_learn_exponent`: the same learner reaches a bucket's threshold
  after ``~ 1 / p`` steps (``p`` the bucket's subject frequency): exponent -1.

References:
    SPEC C.2; Li, Wang, Zhong, Lu, Wang (2026), arXiv 2602.05725.
"""

from __future__ import annotations

import math

__all__ = [
    "FACTS_SLOPE_CLAIM",
    "LONGTAIL_TAG",
    "TAIL_ACCURACY_CLAIM",
    "facts_learned_exponent",
    "steps_to_learn_exponent",
]

#: Provenance of both claims (SPEC C.2's own tags, verbatim in substance).
LONGTAIL_TAG = (
    '[seed: "LLaMA-style pre-training", "tail accuracy"; everything else derived]'
)
#: Claim 1, in words.
TAIL_ACCURACY_CLAIM = (
    "at equal steps, Muon's first-token accuracy on the tail bucket of subjects is "
    "higher than AdamW's (SPEC C.2)"
)
#: Claim 2, in words.
FACTS_SLOPE_CLAIM = (
    "facts learned against steps: the log-log slope is steeper for Muon than for "
    "AdamW (SPEC C.2)"
)


def facts_learned_exponent(beta: float) -> float:
    """Exponent of ``facts(t) ~ t^C`` for a learner that needs ``n`` exposures a fact.

    Subject ``s`` (frequency ``p_s ~ s^(-beta)``) has been seen ``~ p_s t`` times by
    step ``t``; its facts are stored once ``p_s t >= n``, i.e. for ``s <~ t^(1/beta)``:
    ``C = 1 / beta`` until the corpus runs out of subjects. A learner whose progress
    per exposure is slower for rare subjects (GD's ``~ p`` rate in SPEC B.3) has a
    smaller ``C``.

    Args:
        beta: the power-law exponent, > 0.

    Returns:
        ``1 / beta``.

    References:
        SPEC C.2 [derived].
    """
    if not (math.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be finite and > 0, got {beta=!r}")
    return 1.0 / beta


def steps_to_learn_exponent() -> float:
    """Exponent of ``steps to 50% ~ p^e`` across buckets for the same learner: -1.

    References:
        SPEC C.2 [derived].
    """
    return -1.0
