"""One claim, one fit policy: the ids of Part A's claims and how each is fitted.

Every claim of SPEC A.5 that a check or a figure tests has an id (:data:`CLAIMS`:
the SPEC section and the A.5 table's claim, verbatim) and, for exponent claims, one
:class:`ExponentPolicy`: the measure, the tolerance and why, the widest interval that
counts, and the window rule (:mod:`muonjax.stats.windows`: only sizes that can test
the claim, from where the local slopes settle). The check and every figure of the
same claim take the same policy object from :data:`POLICIES`, so on the same records
they fit the same window and reach the same verdict.

- :func:`policy_fit`: one exponent under a policy (window, fit, comparison);
- :func:`policy_group_fits`: the same per group of a one-step records table;
- :func:`claim_text`: the claim column of a summary row, starting with its id.

Why the tolerance is 0.1 (:data:`LOG_FACTOR_REASON`): the laws hold "up to constants
and log factors" (SPEC A.5); a factor ``(log d)^k`` shifts an exponent fitted over
``d`` near ``d0`` by about ``k / ln d0`` (0.2 per log factor at ``d0 ~ 128``), so 0.1
allows about half a log factor. Why the window settles at twice that: the fitted
exponent averages the window's local slopes, so slopes that span at most
``2 x tolerance`` keep it within the tolerance of each of them.

References:
    SPEC A.5 (the claims), Part D (local slopes, windows, sizes, one policy per
    claim) [derived].
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from muonjax import theory
from muonjax.engine.table import Table
from muonjax.gaussian.analysis.onestep import GroupFits
from muonjax.gaussian.analysis.pairs import difference_comparison, exponent_difference
from muonjax.gaussian.analysis.tables import (
    check_columns,
    group_keys,
    group_label,
    seed_matrix,
)
from muonjax.stats.fit import FitResult, TwoStageFit, fit_power_law, fit_two_stage
from muonjax.stats.summary import SummaryRow
from muonjax.stats.verdict import (
    DEFAULT_MAX_WIDTH,
    DEFAULT_TOLERANCE,
    INCONCLUSIVE,
    Comparison,
    compare,
    compare_fit,
)
from muonjax.stats.windows import (
    DEFAULT_MARGIN,
    DEFAULT_MIN_COUNT,
    SlopeWindow,
    settled_window,
    testable_sizes,
)

#: Part A's claims: ``id -> (SPEC section, the claim as the SPEC's table names it)``.
#: The claims ledger (``docs/claims.md``) lists them with the checks and figures that
#: test them; every summary row's claim starts with its id (:func:`claim_text`).
CLAIMS: dict[str, tuple[str, str]] = {
    "muon_one_step": ("A.5", "one population Muon step, capacity"),
    "gd_one_step": ("A.5", "one population GD step, capacity"),
    "two_stage": ("A.5", "Figure 2 two-stage fit"),
    "newton_one_step": ("A.5", "one Newton step, isotropic"),
    "minibatch_step": ("A.5", "one minibatch step"),
    "critical_batch": ("A.5", "critical batch size"),
    "multi_step": ("A.5", "t Muon steps, thresholded"),
    "many_steps": ("A.5", "many steps"),
    "anisotropic": ("A.5", "anisotropic outputs"),
    "smoothed_muon": ("A.3", "Muon, smoothed (h_lambda -> polar)"),
    "muon_beats_gd": ("A.6", "Fig. 1: Muon improves capacity over GD (alpha > 1)"),
    "newton_schulz": ("A.3", "Muon, practical (Newton-Schulz), beyond the paper"),
}

#: The claims (ids of :data:`CLAIMS`) each Part A figure's summary tests; every
#: row's claim starts with its claim's SPEC row (the claims ledger's data, with
#: :data:`muonjax.gaussian.checks.CLAIMS`).
FIGURE_CLAIMS: dict[str, tuple[str, ...]] = {
    "fig1": (
        "muon_one_step",
        "gd_one_step",
        "two_stage",
        "muon_beats_gd",
        "critical_batch",
    ),
    "fig2": ("muon_one_step", "gd_one_step", "two_stage", "newton_one_step"),
    "fig2_ns": ("muon_one_step", "newton_schulz"),
    "fig3": ("critical_batch", "muon_one_step", "gd_one_step", "minibatch_step"),
    "fig4": ("multi_step", "many_steps"),
    "fig5": ("many_steps", "minibatch_step"),
    "fig6": ("anisotropic",),
}

#: Why exponents are compared with tolerance 0.1 (see the module docstring).
LOG_FACTOR_REASON = (
    "tolerance 0.1 on exponents: the laws hold up to constants and log factors "
    "(SPEC A.5); a factor (log d)^k shifts an exponent fitted near d0 by ~k/ln d0 "
    "(0.2 per log factor at d0 ~ 128), so 0.1 allows half a log factor"
)


def claim_text(claim: str, text: str = "") -> str:
    """A summary row's claim: ``"A.5 one population Muon step, capacity: text"``."""
    section, row = CLAIMS[claim]
    return f"{section} {row}" + (f": {text}" if text else "")


@dataclasses.dataclass(frozen=True)
class ExponentPolicy:
    """How one exponent claim is fitted and judged, wherever it appears.

    Attributes:
        claim: the claim's id (:data:`CLAIMS`).
        measure: the capacity measure fitted (``"count"`` or ``"prefix"``).
        tolerance: allowance for constants and log factors (:func:`muonjax.compare`).
        max_width: widest interval that counts as a measurement.
        settle: the largest span of the window's local slopes (twice the
            tolerance: the fit then stays within the tolerance of every one).
        min_points: fewest sizes in a window.
        min_count: fewest items counted at a size for it to test the claim.
        margin: the count must be at most ``N / margin``.
        tolerance_reason: why the tolerance is what it is (stated in summaries).
    """

    claim: str
    measure: str = "count"
    tolerance: float = DEFAULT_TOLERANCE
    max_width: float = DEFAULT_MAX_WIDTH
    settle: float = 2 * DEFAULT_TOLERANCE
    min_points: int = 3
    min_count: float = DEFAULT_MIN_COUNT
    margin: float = DEFAULT_MARGIN
    tolerance_reason: str = LOG_FACTOR_REASON

    def __post_init__(self) -> None:
        if self.claim not in CLAIMS:
            raise ValueError(
                f"claim must be one of {sorted(CLAIMS)}, got {self.claim!r}"
            )

    def window(self, xs: Any, means: Any, *, n: float | None) -> SlopeWindow:
        """The fit window (:func:`muonjax.stats.windows.settled_window`) of a law.

        Args:
            xs: ``(k,)`` sizes ``d``.
            means: ``(k,)`` mean measured values (counts).
            n: the number of items ``N`` (the hard ceiling of a count); ``None`` for
                no ceiling test.
        """
        mask, why = testable_sizes(
            xs, means, n, margin=self.margin, min_count=self.min_count
        )
        return settled_window(
            xs,
            means,
            settle=self.settle,
            min_points=self.min_points,
            testable=mask,
            reasons=why,
        )

    def compare(
        self, fit: FitResult, prediction: float, window: SlopeWindow, *, label: str
    ) -> Comparison:
        """The fit against the prediction, withheld where the window says so."""
        c = compare_fit(
            fit,
            float(prediction),
            tolerance=self.tolerance,
            max_width=self.max_width,
            label=label,
        )
        notes = (
            *c.notes,
            f"local slopes {window.slopes_text()}",
            f"window {', '.join(f'{v:g}' for v in window.window) or 'none'}",
        )
        return window.gate(dataclasses.replace(c, notes=notes))


#: The one policy of each exponent claim (the checks and the figures use these).
POLICIES: dict[str, ExponentPolicy] = {
    "muon_one_step": ExponentPolicy("muon_one_step", "count"),
    # GD's derived claim is a frequency threshold, a statement about the prefix.
    "gd_one_step": ExponentPolicy("gd_one_step", "prefix"),
    "newton_one_step": ExponentPolicy("newton_one_step", "count"),
    "multi_step": ExponentPolicy("multi_step", "count"),
    "many_steps": ExponentPolicy("many_steps", "count"),
    "anisotropic": ExponentPolicy("anisotropic", "count"),
}


@dataclasses.dataclass(frozen=True)
class PolicyFit:
    """One exponent under a policy: its window, its fit and its verdict.

    Attributes:
        window: the fit window and the local slopes.
        fit: the power law on the window's sizes (bootstrap over seeds).
        comparison: against the prediction, withheld where the window says so.
    """

    window: SlopeWindow
    fit: FitResult
    comparison: Comparison

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "window": self.window.to_dict(),
            "fit": self.fit.to_dict(),
            "comparison": self.comparison.to_dict(),
        }


def policy_fit(
    xs: Any,
    values: Sequence[Any],
    *,
    policy: ExponentPolicy,
    prediction: float,
    n: float | None,
    label: str,
    window_from: SlopeWindow | None = None,
    exclude: Mapping[float, str] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> PolicyFit:
    """Fit ``values ~ a d^C`` on the policy's window and compare with the prediction.

    Args:
        xs: ``(k,)`` sizes.
        values: per size, the seeds' values (``(k, s)`` or ragged).
        policy: the claim's policy.
        prediction: the predicted exponent.
        n: number of items (saturation ceiling and testability), or ``None``.
        label: the comparison's label.
        window_from: use this window instead of deriving one (e.g. Newton fitted on
            Muon's window, so that the difference of the two is paired).
        exclude: further points to leave out (precision-limited points).
        n_boot, seed: the bootstrap (one seed for every group pairs groups measured
            on the same tasks).

    Returns:
        A :class:`PolicyFit`.
    """
    x = np.asarray(xs, np.float64)
    means = np.array([np.mean(v) for v in values], np.float64)
    window = window_from or policy.window(x, means, n=n)
    dropped = {**window.excluded, **dict(exclude or {})}
    keep = [v for v in x if float(v) not in dropped]
    fit = fit_power_law(
        x,
        list(values),
        saturation=n,
        exclude={k: v for k, v in dropped.items() if k in set(map(float, x))} or None,
        n_boot=n_boot,
        min_points=min(policy.min_points, max(2, len(keep))),
        seed=seed,
    )
    return PolicyFit(window, fit, policy.compare(fit, prediction, window, label=label))


def policy_group_fits(
    table: Table,
    *,
    groups: Sequence[str],
    policy: ExponentPolicy,
    predict: Callable[[Mapping[str, Any]], float | None],
    x: str = "d",
    label: str | None = None,
    exclude: Callable[[Table], Mapping[float, str]] | None = None,
    windows: Mapping[tuple[Any, ...], SlopeWindow] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[tuple[Any, ...], PolicyFit]:
    """:func:`policy_fit` per group of a one-step records table.

    Args:
        table: one row per configuration and seed (the last step is used).
        groups: the columns of a group (e.g. ``("rule", "alpha")``).
        policy: the claim's policy (its ``measure`` is fitted).
        predict: ``group values -> predicted exponent`` (``None`` skips a group).
        x: the size column.
        label: the comparisons' label (default ``"exponent C of <measure> ~ d^C"``).
        exclude: further exclusions per group (e.g. precision-limited points).
        windows: ``{group key: window}`` to reuse instead of deriving.
        n_boot, seed: the bootstrap, shared by every group (paired groups).

    Returns:
        ``{group key: PolicyFit}`` in grid order.
    """
    groups = tuple(groups)
    check_columns(table, (*groups, x, policy.measure, "seed", "n"))
    out = {}
    for key in group_keys(table, groups):
        values = dict(zip(groups, key, strict=True))
        pred = predict(values)
        if pred is None:
            continue
        sub = table.where(**values)
        xs, vals, _ = seed_matrix(sub, x=x, measure=policy.measure)
        n = float(np.max(sub.data["n"]))
        out[key] = policy_fit(
            xs,
            vals,
            policy=policy,
            prediction=float(pred),
            n=n,
            label=label or f"exponent C of {policy.measure} ~ {x}^C",
            window_from=None if windows is None else windows.get(key),
            exclude=None if exclude is None else exclude(sub),
            n_boot=n_boot,
            seed=seed,
        )
    return out


def group_text(groups: Sequence[str], key: Sequence[Any], measure: str) -> str:
    """``"rule=muon, alpha=1.5, measure=count"``."""
    return f"{group_label(groups, key)}, measure={measure}"


def as_group_fits(
    fits: Mapping[tuple[Any, ...], PolicyFit],
    *,
    groups: Sequence[str],
    measure: str,
    x: str = "d",
) -> GroupFits:
    """The fits of :func:`policy_group_fits` as a :class:`GroupFits` (for panels)."""
    return GroupFits(tuple(groups), measure, x, {k: v.fit for k, v in fits.items()})


def policy_rows(
    fits: Mapping[tuple[Any, ...], PolicyFit],
    *,
    groups: Sequence[str],
    claim: str,
    measure: str,
    suffix: str = "",
) -> list[SummaryRow]:
    """One summary row per group: its comparison, claim id first in the claim."""
    return [
        SummaryRow(claim, group_text(groups, key, measure) + suffix, pf.comparison)
        for key, pf in fits.items()
    ]


def windows_meta(
    fits: Mapping[tuple[Any, ...], PolicyFit], groups: Sequence[str]
) -> dict[str, Any]:
    """``{group label: window summary}`` for a summary's settings."""
    return {
        group_label(groups, k): {
            "window": list(pf.window.window),
            "local_slopes": pf.window.slopes_text(),
            "withheld": pf.window.withheld,
        }
        for k, pf in fits.items()
    }


def two_stage_comparisons(
    per_alpha: Mapping[float, PolicyFit], *, rule: str, measure: str
) -> tuple[tuple[Comparison, Comparison], TwoStageFit]:
    """Figure 2's second stage ``C_alpha = c1 + c2 / alpha`` over policy fits.

    ``c1`` gets the exponents' tolerance (a log factor common to all alphas goes
    there); ``c2`` is a slope over ``1/alpha`` in a short range, whose interval is
    about 3x wider than one ``C_alpha``'s: ``max_width`` 0.5. Both are withheld
    (inconclusive) when any alpha's window is.

    Returns:
        ``((c1 row, c2 row), the two-stage fit)``.

    References:
        SPEC A.5, Figure 2 two-stage fit [seed for the fit form; derived values].
    """
    alphas = sorted(per_alpha)
    two = fit_two_stage(alphas, [per_alpha[a].fit for a in alphas])
    c1, c2 = theory.two_stage_coefficients(rule)
    notes = [*two.flags] + [f"excluded alpha={e.x:g}: {e.reason}" for e in two.excluded]
    rows = (
        compare(two.c1, two.c1_interval, c1, label=f"c1 ({measure})", notes=notes),
        compare(
            two.c2,
            two.c2_interval,
            c2,
            label=f"c2 ({measure})",
            max_width=0.5,
            notes=notes,
        ),
    )
    withheld = [
        f"alpha={a:g}: {per_alpha[a].window.withheld}"
        for a in alphas
        if per_alpha[a].window.withheld
    ]
    if withheld:
        reason = "per-alpha windows withheld: " + "; ".join(withheld)
        rows = (
            dataclasses.replace(rows[0], verdict=INCONCLUSIVE, reason=reason),
            dataclasses.replace(rows[1], verdict=INCONCLUSIVE, reason=reason),
        )
    return rows, two


def newton_difference(newton: PolicyFit, muon: PolicyFit, *, label: str) -> Comparison:
    """``C_newton - C_muon`` (paired over seeds) against 0, on Muon's window.

    Newton is fitted on the window of the Muon claim's policy (pass
    ``window_from=muon.window``), so both fits use the same points and seeds and the
    bootstrap of the difference is paired; the verdict is withheld where Muon's is.

    References:
        SPEC A.5, one Newton step, isotropic: same capacity as Muon [seed, abstract
        v2]; the relative ridge [derived].
    """
    policy = POLICIES["newton_one_step"]
    diff = exponent_difference(newton.fit, muon.fit)
    row = difference_comparison(
        diff, 0.0, tolerance=policy.tolerance, max_width=policy.max_width, label=label
    )
    return muon.window.gate(row)
