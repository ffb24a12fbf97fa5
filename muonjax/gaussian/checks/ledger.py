"""The claims ledger's data for Part A: every claim, its tag, its checks and figures.

``docs/claims.md`` (the lead's generator, ``muonjax claims``) reads two tables:

- :data:`CLAIMS`, per registered check (the same layout as
  :data:`muonjax.orthogonal.checks.CLAIMS`): the SPEC section (``spec``), the SPEC
  row it tests (``row``: the A.5 table's claim column, verbatim, or the A.3/A.6
  item), the claim's id (``claim_id``, :data:`muonjax.gaussian.analysis.policy.
  CLAIMS`) and the figures whose fit summaries test the same claim with the same
  policy (``figures``). The provenance tag is the check's ``spec_tag``.
- :data:`LEDGER`, per claim id, every claim of SPEC A.5 (and the A.3 and A.6 items
  the toolkit tests): ``spec``, ``row``, ``tag`` (the SPEC table's tag, verbatim),
  ``statement`` (the formula), ``checks`` and ``figures``. :func:`claim_ledger` adds
  the checks' sizes at a preset, read from the registry.

References:
    SPEC A.3, A.5 (the table of predictions), A.6 (figures), Part D (one policy per
    claim).
"""

from __future__ import annotations

from typing import Any

from muonjax.engine.registry import CHECK_PRESETS, available_checks
from muonjax.gaussian.analysis.policy import CLAIMS as CLAIM_ROWS
from muonjax.gaussian.analysis.policy import FIGURE_CLAIMS

#: Check -> the claim it tests (an id of :data:`muonjax.gaussian.analysis.policy.
#: CLAIMS`).
CHECK_CLAIMS: dict[str, str] = {
    "muon_one_step_exponent": "muon_one_step",
    "gd_one_step_exponent": "gd_one_step",
    "muon_two_stage_fit": "two_stage",
    "gd_two_stage_fit": "two_stage",
    "newton_matches_muon": "newton_one_step",
    "muon_beats_gd": "muon_beats_gd",
    "h_lambda_tends_to_polar": "smoothed_muon",
    "minibatch_within_batch": "minibatch_step",
}

#: Claim id -> (the SPEC's tag, verbatim; the statement, the SPEC's formula).
_STATEMENTS: dict[str, tuple[str, str]] = {
    "muon_one_step": (
        '[seed, Fig. 3 caption "ceiling"; quoted, t = 1 of the multi-step theorem]',
        "d^(1 + 1/(2 alpha))",
    ),
    "gd_one_step": (
        "[derived]",
        "d^(1/(2 alpha)) (item i recovered when p_i >~ p_1 / sqrt(d))",
    ),
    "two_stage": (
        "[seed for the fit form; derived values]",
        "per alpha fit capacity ~ d^(C_alpha); then C_alpha = c1 + c2/alpha; Muon "
        "(c1, c2) = (1, 1/2), GD (0, 1/2)",
    ),
    "newton_one_step": ("[seed, abstract v2]", "same capacity as Muon"),
    "minibatch_step": (
        "[seed names the line; derived formula]",
        "capacity <= distinct items in the batch ~ B^(1/alpha) (the "
        '"information-theoretic rate" line)',
    ),
    "critical_batch": (
        '[derived from the seed\'s "intersections"]',
        "Muon B* ~ d^(alpha + 1/2); SGD B* ~ d^(1/2) (where B^(1/alpha) meets each "
        "ceiling)",
    ),
    "multi_step": (
        "[quoted; the paper conjectures the same for exact Muon]",
        "d_t ~ min( d^(2 - (1 - 1/(2 alpha))^t), B^(1/alpha) ); loss L(W_t) <~ "
        "d_t^(1 - alpha)",
    ),
    "many_steps": (
        "[seed]",
        "both Muon and GD approach the information-theoretic limit ~ d^2; Muon much "
        "faster early",
    ),
    "anisotropic": (
        "[seed, Fig. 6 caption, partly derived]",
        "Newton unaffected by kappa; Muon's advantage shrinks as kappa grows",
    ),
    "smoothed_muon": (
        "[quoted]",
        "h_lambda(G) = G (G^T G + lambda^2 I)^(-1/2) tends to the polar factor as "
        "lambda -> 0",
    ),
    # Fig. 1a [seed]; the check's tag: both one-step laws' tags.
    "muon_beats_gd": (
        '[seed, Fig. 3 caption "ceiling"; quoted, t = 1 of the multi-step theorem]; '
        "[derived]",
        "one population Muon step recovers more items than one GD step (alpha > 1)",
    ),
    "newton_schulz": (
        "[derived]",
        "Newton-Schulz (optax's quintic, 5 steps and more) against the exact polar "
        "factor: how much of exact Muon's capacity it keeps (not in the theory)",
    ),
}


def _figures(claim: str) -> tuple[str, ...]:
    return tuple(f for f, claims in FIGURE_CLAIMS.items() if claim in claims)


CLAIMS: dict[str, dict[str, Any]] = {
    check: {
        "spec": CLAIM_ROWS[claim][0],
        "row": CLAIM_ROWS[claim][1],
        "claim_id": claim,
        "figures": _figures(claim),
    }
    for check, claim in CHECK_CLAIMS.items()
}

LEDGER: dict[str, dict[str, Any]] = {
    claim: {
        "spec": section,
        "row": row,
        "tag": _STATEMENTS[claim][0],
        "statement": _STATEMENTS[claim][1],
        "checks": tuple(c for c, k in CHECK_CLAIMS.items() if k == claim),
        "figures": _figures(claim),
    }
    for claim, (section, row) in CLAIM_ROWS.items()
}


def claim_ledger(preset: str = "quick") -> list[dict[str, Any]]:
    """:data:`LEDGER` as rows, each with its checks' sizes at ``preset``.

    Args:
        preset: one of :data:`muonjax.engine.registry.CHECK_PRESETS`.

    Returns:
        One dict per claim in :data:`muonjax.gaussian.analysis.policy.CLAIMS` order:
        ``id`` and the fields of :data:`LEDGER`, plus ``sizes``: ``{check: sizes}``
        (empty for a claim that only figures test: their presets are the
        experiments').
    """
    if preset not in CHECK_PRESETS:
        raise ValueError(f"preset must be one of {CHECK_PRESETS}, got {preset=}")
    sizes = {c.name: dict(c.sizes[preset]) for c in available_checks()}
    return [
        {"id": claim, **entry, "sizes": {c: sizes[c] for c in entry["checks"]}}
        for claim, entry in LEDGER.items()
    ]
