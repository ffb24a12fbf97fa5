"""The critical batch size of the first minibatch step (Kim et al. 2026, Figs. 1b, 3).

The critical batch size ``B*`` is where the capacity of one minibatch step stops
rising along the information-theoretic line ``B^(1/alpha)`` and levels off at the
one-step ceiling: Muon ``B* ~ d^(alpha + 1/2)``, SGD ``B* ~ d^(1/2)`` (SPEC A.5,
[derived from the seed's "intersections"]). :func:`analyze_critical_batch` runs the
pipeline of :mod:`muonjax.gaussian.analysis.critical_curves` on the records of a
:func:`muonjax.critical_batch_sweep` (shared by the figures ``fig1`` and ``fig3`` and
the check ``minibatch_within_batch``) and :meth:`CriticalAnalysis.comparisons` puts
the estimates against :mod:`muonjax.theory`.

References:
    SPEC A.5 (one minibatch step; critical batch size), A.6 (Figures 1b and 3),
    Part D (broken power laws); Kim et al. (2026), arXiv 2603.26554, Figures 1b, 3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from muonjax import theory
from muonjax.engine.table import Table
from muonjax.gaussian.analysis.critical_curves import (
    CapacityCurve,
    CriticalBatchFit,
    capacity_curves,
    fit_across_d,
    fit_critical_batch,
)
from muonjax.gaussian.analysis.policy import POLICIES, claim_text
from muonjax.stats.bootstrap import bootstrap_mean, percentile_interval
from muonjax.stats.fit import FitResult, fit_power_law
from muonjax.stats.verdict import Comparison, compare, compare_fit
from muonjax.stats.windows import SlopeWindow

#: Allowance for constants and log factors on a capacity exponent (as
#: ``muonjax.DEFAULT_TOLERANCE``) and widest useful interval (as
#: ``muonjax.DEFAULT_MAX_WIDTH``). ``B* = (plateau / a)^alpha`` multiplies the
#: plateau's exponent by ``alpha``, so a B* exponent gets ``alpha`` times both.
CAPACITY_TOLERANCE = 0.1
CAPACITY_MAX_WIDTH = 0.25

#: The one-step claim of each rule (its policy's window gates the exponent rows).
ONE_STEP_CLAIMS = {"muon": "muon_one_step", "gd": "gd_one_step"}

#: Rule names as printed.
RULE_NAMES = {"gd": "SGD", "muon": "Muon", "muon_ns": "Muon (Newton-Schulz)"}


def out_of_batch_comparison(mean: float, interval: tuple[float, float]) -> Comparison:
    """The minibatch claim's row: recoveries outside the batch per step below 1.

    [derived] exchangeability bound: ``E[# recovered outside the batch] <= 1`` per
    step for any rule (:func:`muonjax.theory.out_of_batch_recoveries_bound`). Tested
    as a bound on the mean: consistent when the whole interval lies below it,
    inconsistent when it lies at or above it, inconclusive when it straddles it
    (``"<="`` would call any interval that reaches below the bound consistent,
    whatever its upper end). The check ``minibatch_within_batch`` and Figures 1b and
    3 use this one row.
    """
    return compare(
        float(mean),
        interval,
        theory.out_of_batch_recoveries_bound(),
        relation="<",
        tolerance=0.0,
        max_width=math.inf,
        label="mean recovered items outside the batch, per step",
    )


@dataclass(frozen=True)
class CriticalAnalysis:
    """Critical batch sizes of a :func:`critical_batch_sweep` table, per rule.

    Attributes:
        alpha: the frequency exponent analysed.
        measure: the capacity measure fitted.
        curves: ``{(rule, d): CapacityCurve}``.
        fits: ``{(rule, d): CriticalBatchFit}``.
        critical_exponents: ``{rule: FitResult}``, ``B* ~ d^e``.
        plateau_exponents: ``{rule: FitResult}``, fitted plateau ``~ d^C``.
        population_exponents: ``{rule: FitResult}``, the population step's measure
            ``~ d^C`` (from the ``B = 0`` rows; absent without them).
        windows: ``{rule: SlopeWindow}``, the one-step claim's window on the
            population step's measure (the rule's policy, SPEC D): the ceiling and
            ``B*`` exponents rest on the population step's scaling, so their
            verdicts are withheld where that window is (not testable at this size,
            or local slopes not settled).
        out_of_batch: ``(mean, (lo, hi))`` recovered items outside the batch per
            minibatch step, over every rule, ``B`` and seed, with a bootstrap interval.
    """

    alpha: float
    measure: str
    curves: Mapping[tuple[str, int], CapacityCurve]
    fits: Mapping[tuple[str, int], CriticalBatchFit]
    critical_exponents: Mapping[str, FitResult]
    plateau_exponents: Mapping[str, FitResult]
    population_exponents: Mapping[str, FitResult] = field(default_factory=dict)
    out_of_batch: tuple[float, tuple[float, float]] = (math.nan, (math.nan, math.nan))
    windows: Mapping[str, SlopeWindow] = field(default_factory=dict)

    @property
    def rules(self) -> list[str]:
        """The rules analysed, in record order."""
        return list(dict.fromkeys(r for r, _ in self.fits))

    @property
    def dims(self) -> list[int]:
        """The dimensions analysed, increasing."""
        return sorted({d for _, d in self.fits})

    def comparisons(self) -> list[tuple[str, str, Comparison]]:
        """``(claim, group, comparison)`` rows against :mod:`muonjax.theory`.

        - ``B*`` exponent per rule against ``alpha + 1/2`` (Muon) or ``1/2`` (SGD),
          tolerance and widest interval ``alpha`` times the capacity ones (0.1 and
          0.25), since ``B* = (plateau / a)^alpha`` multiplies the plateau's exponent
          by ``alpha``;
        - ``B*``'s exponent against ``alpha`` times the exponent of the measured
          population step (``B = 0``): where the line meets the *measured* ceiling,
          whatever that ceiling's exponent (tolerance ``alpha x 0.1``, widest
          interval ``sqrt(2) alpha x 0.25`` for a difference of two estimates);
        - Muon's ``B*`` above SGD's at every ``d`` (the seed's claim), on
          ``log(B*_muon / B*_sgd) > 0`` with the bootstrap replicates of both;
        - plateau and population exponents per rule against the one-step ceiling
          exponents ``1 + 1/(2 alpha)`` (Muon) and ``1/(2 alpha)`` (SGD);
        - recovered items outside the batch, at most 1 per step on average.

        The exponent rows are withheld (inconclusive) where the rule's one-step
        window (:attr:`windows`) is.
        """
        rows: list[tuple[str, str, Comparison]] = []

        def gate(rule: str, c: Comparison) -> Comparison:
            w = self.windows.get(rule)
            return c if w is None else w.gate(c)

        a = self.alpha
        m = self.measure
        for rule in self.rules:
            name = RULE_NAMES[rule]
            pred = float(theory.critical_batch_exponent(rule, a))
            rows.append(
                (
                    claim_text(
                        "critical_batch",
                        f'{name} B* ~ d^e [derived from the seed\'s "intersections"]',
                    ),
                    f"rule={rule}, alpha={a:g}, measure={m}",
                    gate(
                        rule,
                        compare_fit(
                            self.critical_exponents[rule],
                            pred,
                            tolerance=a * CAPACITY_TOLERANCE,
                            max_width=a * CAPACITY_MAX_WIDTH,
                            label=f"exponent e of B* ~ d^e ({name})",
                        ),
                    ),
                )
            )
        for rule in self.rules:
            pop = self.population_exponents.get(rule)
            if pop is None:
                continue
            rows.append(
                (
                    claim_text(
                        "critical_batch",
                        "B* sits where the line B^(1/alpha) meets the measured "
                        "ceiling: e(B*) = alpha x e(population step) [derived from "
                        'the seed\'s "intersections"]',
                    ),
                    f"rule={rule}, alpha={a:g}, measure={m}",
                    gate(
                        rule,
                        _intersection_comparison(self.critical_exponents[rule], pop, a),
                    ),
                )
            )
        if {"gd", "muon"} <= set(self.rules):
            for d in self.dims:
                fm, fg = self.fits.get(("muon", d)), self.fits.get(("gd", d))
                if fm is None or fg is None:
                    continue
                rows.append(
                    (
                        claim_text(
                            "critical_batch",
                            "Muon saturates at a larger critical batch size than SGD "
                            "[seed, abstract]",
                        ),
                        f"d={d}, alpha={a:g}, measure={m}",
                        _log_ratio_comparison(fm, fg),
                    )
                )
        for kind, table in (
            ("plateau of the minibatch curve", self.plateau_exponents),
            ("population step (B = 0)", self.population_exponents),
        ):
            for rule, fit in table.items():
                name = RULE_NAMES[rule]
                pred = float(theory.one_step_exponent(rule, a))
                tag = (
                    '[seed, Fig. 3 caption "ceiling"; quoted]'
                    if rule != "gd"
                    else "[derived]"
                )
                rows.append(
                    (
                        claim_text(
                            ONE_STEP_CLAIMS.get(rule, "muon_one_step"),
                            f"ceiling: {kind}, {name} ~ d^C {tag}",
                        ),
                        f"rule={rule}, alpha={a:g}, measure={m}",
                        gate(
                            rule,
                            compare_fit(fit, pred, label=f"exponent C of {kind} ~ d^C"),
                        ),
                    )
                )
        mean, (lo, hi) = self.out_of_batch
        if m == "count" and np.isfinite(mean):
            # Counted in items, whatever the measure: reported with the count only.
            rows.append(
                (
                    claim_text(
                        "minibatch_step",
                        "one minibatch step recovers no more than its batch, up to "
                        "chance recoveries outside it [seed names the line; derived]",
                    ),
                    "all rules, B >= 1",
                    out_of_batch_comparison(mean, (lo, hi)),
                )
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per-curve fits and the exponent fits (no bootstrap samples)."""
        return {
            "alpha": self.alpha,
            "measure": self.measure,
            "critical_batch": {
                f"{r} d={d}": f.to_dict() for (r, d), f in self.fits.items()
            },
            "critical_exponents": {
                r: f.to_dict() for r, f in self.critical_exponents.items()
            },
            "plateau_exponents": {
                r: f.to_dict() for r, f in self.plateau_exponents.items()
            },
            "population_exponents": {
                r: f.to_dict() for r, f in self.population_exponents.items()
            },
            "out_of_batch_mean": self.out_of_batch[0],
            "out_of_batch_interval": list(self.out_of_batch[1]),
        }


def _intersection_comparison(crit: FitResult, pop: FitResult, a: float) -> Comparison:
    """``e(B*) - alpha C(population)`` against 0, bootstrap replicates of both."""
    est = crit.exponent - a * pop.exponent
    interval = (math.nan, math.nan)
    if crit.ok and pop.ok and crit.n_boot == pop.n_boot:
        diff = crit.bootstrap - a * pop.bootstrap  # independent replicates
        if np.isfinite(diff).sum() >= 0.5 * crit.n_boot:
            interval = percentile_interval(diff, crit.confidence)
    return compare(
        est,
        interval,
        0.0,
        tolerance=a * CAPACITY_TOLERANCE,
        # A difference of two estimates, each allowed alpha x 0.25.
        max_width=a * CAPACITY_MAX_WIDTH * math.sqrt(2.0),
        label="e(B*) - alpha x C(one population step)",
        notes=[f"B*: {fl}" for fl in crit.flags] + [f"pop: {fl}" for fl in pop.flags],
    )


def _log_ratio_comparison(fm: CriticalBatchFit, fg: CriticalBatchFit) -> Comparison:
    est = (
        math.log(fm.fit.breakpoint / fg.fit.breakpoint)
        if fm.ok and fg.ok and fm.fit.breakpoint > 0 and fg.fit.breakpoint > 0
        else math.nan
    )
    interval = (math.nan, math.nan)
    if np.isfinite(est):
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.log(fm.fit.bootstrap[:, 0]) - np.log(fg.fit.bootstrap[:, 0])
        if np.isfinite(r).sum() >= 0.5 * fm.fit.n_boot:
            interval = percentile_interval(r, fm.fit.confidence)
    notes = [f"muon: {fl}" for fl in fm.fit.flags] + [
        f"sgd: {fl}" for fl in fg.fit.flags
    ]
    return compare(
        est,
        interval,
        0.0,
        relation=">",
        tolerance=0.0,
        max_width=math.inf,
        label="log(B*_muon / B*_sgd)",
        notes=notes,
    )


def analyze_critical_batch(
    table: Table,
    *,
    alpha: float | None = None,
    measure: str = "count",
    slope: float | str | None = "line",
    confidence: float = 0.95,
    n_boot: int = 500,
    seed: int = 0,
) -> CriticalAnalysis:
    """Fit ``B*`` per ``(rule, d)`` and its exponent in ``d`` per rule.

    Args:
        table: records of a :func:`critical_batch_sweep`.
        alpha: the alpha to analyse (default: the table's only one).
        measure: the capacity measure to fit (``count``: what the captions call
            capacity).
        slope: rising slope of the broken power law (see :func:`fit_critical_batch`).
        confidence: nominal coverage.
        n_boot: bootstrap replicates per fit.
        seed: base bootstrap seed (curve ``i`` uses ``seed + i``).

    Returns:
        A :class:`CriticalAnalysis`.

    References:
        SPEC A.5 (critical batch size, one minibatch step), Part D.
    """
    alphas = sorted(set(np.asarray(table.data["alpha"], np.float64).tolist()))
    if alpha is None:
        if len(alphas) != 1:
            raise ValueError(f"the table holds alphas {alphas}: pass alpha=")
        alpha = alphas[0]
    if not any(math.isclose(alpha, a) for a in alphas):
        raise ValueError(f"alpha={alpha} is not in the table (alphas: {alphas})")
    curves = [
        c
        for c in capacity_curves(table, measure=measure)
        if math.isclose(c.alpha, alpha)
    ]
    by_key = {(c.rule, c.d): c for c in curves}
    fits = {
        (c.rule, c.d): fit_critical_batch(
            c, slope=slope, confidence=confidence, n_boot=n_boot, seed=seed + i
        )
        for i, c in enumerate(curves)
    }
    rules = list(dict.fromkeys(c.rule for c in curves))
    crit, plat, pop, windows = {}, {}, {}, {}
    for rule in rules:
        group = [f for (r, _), f in fits.items() if r == rule]
        crit[rule] = fit_across_d(group, quantity="breakpoint")
        plat[rule] = fit_across_d(group, quantity="plateau")
        with_pop = [c for c in curves if c.rule == rule and c.population is not None]
        if len(with_pop) >= 2 and rule in ONE_STEP_CLAIMS:
            policy = POLICIES[ONE_STEP_CLAIMS[rule]]
            windows[rule] = policy.window(
                np.asarray([c.d for c in with_pop], np.float64),
                [float(np.mean(np.asarray(c.population))) for c in with_pop],
                n=with_pop[0].n,
            )
        if len(with_pop) >= 2:
            pop[rule] = fit_power_law(
                np.asarray([c.d for c in with_pop], np.float64),
                [c.population for c in with_pop],
                saturation=with_pop[0].n,
                confidence=confidence,
                n_boot=n_boot,
                seed=seed,
            )
    out_of = np.concatenate([c.out_of_batch.ravel() for c in curves])
    return CriticalAnalysis(
        alpha=float(alpha),
        measure=measure,
        curves=by_key,
        fits=fits,
        critical_exponents=crit,
        plateau_exponents=plat,
        population_exponents=pop,
        out_of_batch=bootstrap_mean(
            out_of, confidence=confidence, n_boot=n_boot, seed=seed
        ),
        windows=windows,
    )
