"""Figure 4 of Kim et al. (2026): capacity after T population Muon steps.

From the records of a Figure 4 run: the ``T``-step grid
(:func:`muonjax.multi_step_sweep` over ``d x rule x deflate x alpha``, in the output
directory) and the long early-stopped runs (in ``long/``). Fits ``capacity ~ d^C_T``
per (rule, update, alpha, T), the gain ``d_T / d_1`` (whose predicted exponent
``C_T - C_1`` does not depend on the one-step constant) and, for the long runs, the
capacity at the stop against ``d``.

Predictions (SPEC A.5): after ``t`` thresholded Muon steps the capacity grows as
``d^(2 - (1 - 1/(2 alpha))^t)`` [quoted; the paper conjectures the same for exact
Muon]; many steps approach the information-theoretic limit ``~ d^2`` [seed].

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Figure 4, Theorems 5.4
    and 5.5; SPEC A.3, A.5, A.6.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from muonjax import theory
from muonjax.engine.table import Table, read_table
from muonjax.gaussian.analysis.multistep import (
    capacity_after,
    capacity_fits,
    capacity_ratio,
    final_capacity,
    newton_schulz_reach,
    step_curves,
    step_exponent_fits,
    step_gain_fits,
    stopping_steps,
)
from muonjax.gaussian.figures._common import (
    Source,
    first,
    load,
    seeds,
    sorted_values,
    values,
    verdict_counts,
    write_outputs,
)
from muonjax.gaussian.figures.fig4_panels import draw, variant
from muonjax.gaussian.rules import parse_rule
from muonjax.gaussian.task import power_law_frequencies
from muonjax.stats.summary import FitSummary, SummaryRow
from muonjax.stats.verdict import compare_fit

#: Where the long (early-stopped) runs are recorded, under the output directory.
LONG_DIR = "long"
#: Where the thresholded update's readings are recorded, under the output directory.
READINGS_DIR = "readings"
#: Fit settings and their defaults (the experiment's config overrides them).
SETTINGS = {"n_boot": 1000}
#: The groups of the T-step grid.
BY = ("rule", "deflate", "alpha")

_CLAIM_T = (
    "t Muon steps: capacity ~ d^(2 - (1 - 1/(2 alpha))^t) [quoted; the paper "
    "conjectures the same for exact Muon]"
)
_CLAIM_T_NS = (
    "t Newton-Schulz Muon steps against the same law (beyond the paper) [derived]"
)
_CLAIM_GAIN = (
    "gain over one step: d_t / d_1 ~ d^(C_t - C_1) [derived from the quoted law]"
)
_CLAIM_LIMIT = "many steps: capacity approaches the information limit ~ d^2 [seed]"


def eta_text(table: Table) -> str:
    """Muon's step as recorded: ``2 sqrt(d)``, or its schedule."""
    eta = f"{first(table, 'muon_lr_scale'):g} sqrt(d)"
    shape = first(table, "muon_schedule")
    if shape == "polynomial":
        return f"{eta} * t^{first(table, 'muon_power'):g}"
    if shape == "geometric":
        return f"{eta} * {first(table, 'muon_factor'):g}^(t-1)"
    return eta


def _analyse(source: Source) -> dict[str, Any]:
    rec = load(source, SETTINGS)
    table, n_boot = rec.table, rec.settings["n_boot"]
    path = None if rec.out_dir is None else rec.out_dir / LONG_DIR / "records.csv"
    long = read_table(path) if path is not None and path.exists() else None
    t_max = int(table.data["step"].max())
    return {
        "table": table,
        "long": long,
        "n_boot": n_boot,
        "fits": {
            m: step_exponent_fits(table, by=BY, measure=m, n_boot=n_boot)
            for m in ("count", "prefix")
        },
        "gains": step_gain_fits(
            table, by=BY, steps=range(2, t_max + 1), n_boot=n_boot, min_points=2
        ),
        "long_fits": {}
        if long is None
        else capacity_fits(long, by=BY, n_boot=n_boot, min_points=2),
    }


def _rows(res: dict[str, Any]) -> list[SummaryRow]:
    rows = []
    for m in ("count", "prefix"):
        for (rule, deflate, alpha), per_t in res["fits"][m].items():
            if m == "prefix" and rule != "muon":
                continue
            claim = _CLAIM_T if rule == "muon" else _CLAIM_T_NS
            for t, fit in per_t.items():
                pred = theory.multi_step_exponent(t, alpha)
                rows.append(
                    SummaryRow(
                        claim,
                        f"{variant(rule, deflate)}, alpha={alpha:g}, T={t}, "
                        f"measure={m}",
                        compare_fit(fit, pred, label=f"C_T of {m} ~ d^C_T, T={t}"),
                    )
                )
    for (rule, deflate, alpha), per_t in res["gains"].items():
        for t, fit in per_t.items() if rule == "muon" else ():
            pred = theory.multi_step_exponent(t, alpha)
            pred = pred - theory.multi_step_exponent(1, alpha)
            rows.append(
                SummaryRow(
                    _CLAIM_GAIN,
                    f"{variant(rule, deflate)}, alpha={alpha:g}, T={t}, measure=count",
                    compare_fit(fit, pred, label=f"exponent of d_{t} / d_1"),
                )
            )
    for (rule, deflate, alpha), fit in res["long_fits"].items():
        rows.append(
            SummaryRow(
                _CLAIM_LIMIT,
                f"{variant(rule, deflate)}, alpha={alpha:g}, capacity at the early "
                "stop, measure=count",
                compare_fit(
                    fit,
                    theory.information_limit_exponent(),
                    label="C of count at stop ~ d^C",
                ),
            )
        )
    return rows


def _summary(res: dict[str, Any]) -> FitSummary:
    table, long = res["table"], res["long"]
    rows = _rows(res)
    labelled: dict[str, Any] = {}
    for m, per_group in res["fits"].items():
        for (rule, deflate, alpha), per_t in per_group.items():
            for t, fit in per_t.items():
                labelled[f"{m}: {variant(rule, deflate)}, alpha={alpha:g}, T={t}"] = fit
    for (rule, deflate, alpha), per_t in res["gains"].items():
        for t, fit in per_t.items():
            name = f"{variant(rule, deflate)}, alpha={alpha:g}, T={t}"
            labelled[f"gain d_T/d_1: {name}"] = fit
    for (rule, deflate, alpha), fit in res["long_fits"].items():
        name = f"{variant(rule, deflate)}, a={alpha:g}"
        labelled[f"long runs, count at stop: {name}"] = fit
    return FitSummary(
        experiment="fig4",
        rows=rows,
        fits=labelled,
        findings=[f"{verdict_counts(rows)}.", *_findings(res)],
        meta={
            "n": int(first(table, "n")),
            "dims": sorted_values(table, "d"),
            "alphas": sorted_values(table, "alpha"),
            "rules": values(table, "rule"),
            "steps": int(table.data["step"].max()),
            "muon_step": eta_text(table),
            "seeds": seeds(table),
            "long_runs": None
            if long is None
            else {
                "dims": sorted_values(long, "d"),
                "max_steps": int(first(long, "steps")),
                "window": int(first(long, "window")),
                "min_gain": float(first(long, "min_gain")),
            },
            "measures": "count = recovered items (the main measure: robust to the "
            "loss of a single frequent item); prefix = the theorem's 'all items of "
            "rank up to d_t', fitted for the exact polar factor (rule muon) only "
            "(it collapses under the thresholded update, see findings)",
            "method": "power law on the mean over seeds vs d, 95% percentile "
            "bootstrap over seeds; exponent tolerance 0.1 (constants and log "
            "factors), max interval width 0.25; points at the ceiling N excluded",
        },
    )


def _mean_at(table: Table, step: int, measure: str = "count"):
    by = (*BY, "d")
    return {
        k: float(np.mean(v))
        for k, v in capacity_after(table, step, by=by, measure=measure).items()
    }


def _findings(res: dict[str, Any]) -> list[str]:
    table, fits = res["table"], res["fits"]
    t_max, dmax = int(table.data["step"].max()), int(table.data["d"].max())
    means = {t: _mean_at(table, t) for t in range(1, t_max + 1)}
    prefix = {t: _mean_at(table, t, "prefix") for t in range(1, t_max + 1)}
    keys = sorted({k[:3] for k in means[1]}, key=str)
    dims = sorted({k[3] for k in means[1]})
    lines = []
    for rule, deflate, alpha in keys:
        at = (rule, deflate, alpha, dmax)
        falls = [
            f"d={d}: step {t} -> {t + 1}"
            for d in dims
            for t in range(1, t_max)
            if means[t + 1][(rule, deflate, alpha, d)]
            < means[t][(rule, deflate, alpha, d)]
        ]
        c_fit = ", ".join(
            f"T={t}: {f.exponent:.2f} [{f.interval[0]:.2f}, {f.interval[1]:.2f}] "
            f"(pred {theory.multi_step_exponent(t, alpha):.2f})"
            for t, f in fits["count"][(rule, deflate, alpha)].items()
        )
        lines.append(
            f"{variant(rule, deflate)}, alpha={alpha:g}: count exponents {c_fit}. "
            f"At d={dmax}, mean count by step "
            + ", ".join(f"{means[t][at]:.0f}" for t in means)
            + "; mean prefix "
            + ", ".join(f"{prefix[t][at]:.0f}" for t in prefix)
            + (
                "; the mean count FALLS at " + ", ".join(falls)
                if falls
                else "; the mean count never falls (any d)"
            )
            + "."
        )
    lines += _newton_schulz_findings(table, means, res["n_boot"], dmax)
    collapse = [
        (rule, alpha)
        for rule, deflate, alpha in keys
        if deflate
        and prefix[t_max][(rule, deflate, alpha, dmax)]
        < 0.25 * prefix[1][(rule, deflate, alpha, dmax)]
    ]
    if collapse:
        lines.append(
            "The recovered prefix collapses under the thresholded update (at "
            f"d={dmax}, prefix after {t_max} steps < 1/4 of the one-step prefix for "
            + ", ".join(f"{r} alpha={a:g}" for r, a in collapse)
            + "). Why we think so: deflation removes a recovered item's own term "
            "from the gradient, so nothing reinforces it; every later step is a "
            "full-rank polar matrix of the same norm eta, built from other items and "
            "unrelated to it, which adds noise ~ eta sqrt(2 log N / d) to its margin "
            "while its signal stays what the step that recovered it made. Head items "
            "are then lost one by one (they re-enter the gradient once lost), and a "
            "single loss breaks the prefix. The count still grows because new tail "
            "items are recovered faster than head items are lost: the theorem's "
            "'all items of rank up to d_t' (prefix) fails at these sizes while the "
            "count follows a growing law."
        )
    curved = [
        1
        for key, per_t in fits["count"].items()
        for t, f in per_t.items()
        if f.ok and f.exponent > theory.multi_step_exponent(t, key[2]) + 0.1
    ]
    if curved:
        lines.append(
            f"{len(curved)} count exponents lie above the prediction by more than the "
            "tolerance. Why we think so: at small d the multi-step gain is suppressed "
            "(the noise of a polar step on an item's margin, ~ eta sqrt(2 log N / d), "
            "is as large as the signal of the items recovered last), and it switches "
            "on as d grows, so a fit over a small range of d that starts in the "
            "suppressed regime steepens; the gain exponents d_T / d_1 isolate this "
            "growth."
        )
    n = int(first(table, "n"))
    full = [
        (k, v)
        for k, v in means[t_max].items()
        if k[3] == dmax and v > 0.2 * n and k[0] == "muon"
    ]
    if full:
        lines.append(
            f"Finite N: at d={dmax} after {t_max} steps exact-Muon runs recover "
            + ", ".join(
                f"{v / n:.0%} ({variant(k[0], k[1])}, a={k[2]:g})" for k, v in full
            )
            + f" of the N={n} items; the law d^C_T cannot hold as d^C_T nears N (the "
            "rarest items carry frequencies ~ N^-alpha), so the largest-T exponents "
            "are compressed at this N (their points are not at the ceiling N, so the "
            "fits keep them)."
        )
    if res["long"] is not None:
        lines += _long_findings(res["long"], res["long_fits"])
    return lines


def _newton_schulz_findings(table, means, n_boot, dmax) -> list[str]:
    """How much of exact Muon's capacity Newton-Schulz keeps, and why."""
    rules = values(table, "rule")
    ns_rules = [r for r in rules if r != "muon"]
    if not ns_rules or "muon" not in rules:
        return []
    parts = []
    for rule in ns_rules:
        ratios = {
            t: capacity_ratio(table, t, rule=rule, reference="muon", n_boot=n_boot)
            for t in means
        }
        for deflate in values(table, "deflate"):
            for alpha in values(table, "alpha"):
                parts.append(
                    f"{variant(rule, deflate)}, alpha={alpha:g}: "
                    + ", ".join(
                        f"T={t}: {r:.2f} [{lo:.2f}, {hi:.2f}]"
                        for t, (r, (lo, hi)) in (
                            (t, ratios[t][(deflate, alpha, dmax)]) for t in means
                        )
                    )
                )
    coeffs, n = str(first(table, "ns_coeffs")), int(first(table, "n"))
    reach = []
    for rule in ns_rules:
        k = parse_rule(rule)[1] or int(first(table, "ns_steps"))
        s_min = newton_schulz_reach(coeffs, k)
        heads = []
        for alpha in values(table, "alpha"):
            p = np.asarray(power_law_frequencies(n, alpha), float)
            heads.append(
                f"{int(np.sum(p / np.linalg.norm(p) >= s_min))} (alpha={alpha:g})"
            )
        reach.append(
            f"{k} {coeffs} steps lift a singular value to 1/2 only from "
            f"{s_min:.1e} of ||G||_F, which item i's direction (~ p_i / ||p||) "
            f"clears for the first {', '.join(heads)} items"
        )
    return [
        "How much of exact Muon's capacity Newton-Schulz Muon keeps: mean count "
        f"over exact Muon's at d={dmax} (paired 95% bootstrap over seeds): "
        + "; ".join(parts)
        + ".",
        "Where Newton-Schulz falls short, why we think so: the exact polar factor "
        "sets every singular value of the update to 1, Newton-Schulz only those "
        "above a threshold: "
        + "; ".join(reach)
        + ". The first step's gradient (at W_0 = 0) has singular values that "
        "fall like p_i, so a few Newton-Schulz steps equalise only its head and "
        "shrink the tail directions that carry Muon's one-step gain, the more "
        "the larger alpha; later gradients (head items fit) are flatter, so the "
        "shortfall shrinks with T (not measured directly here).",
    ]


def _long_findings(long: Table, long_fits: dict[Any, Any]) -> list[str]:
    """Where the long (early-stopped) runs stopped, and how far from ``d^2``."""
    by = (*BY, "d")
    stops, finals = stopping_steps(long, by=by), final_capacity(long, by=by)
    n = int(first(long, "n"))
    peak = {
        k: np.nanmax(v, axis=1) for k, (_, _, v) in step_curves(long, by=by).items()
    }
    parts = []
    for key in stops:
        rule, deflate, alpha, d = key
        limit = min(d * d, n)
        parts.append(
            f"{variant(rule, deflate)}, alpha={alpha:g}, d={d}: stop at steps "
            f"{sorted(stops[key].tolist())}, count at stop "
            f"{np.mean(finals[key]):.0f} (peak {np.mean(peak[key]):.0f}), "
            f"{np.mean(finals[key]) / limit:.3f} of min(d^2, N) = {limit}"
        )
    lines = ["Long runs (early stopping): " + "; ".join(parts) + "."]
    far = [k for k in finals if np.mean(finals[k]) < 0.1 * min(k[3] * k[3], n)]
    if far:
        lines.append(
            f"In {len(far)} of {len(finals)} long-run groups the count at the "
            f"stop is below 10% of min(d^2, N): with eta_t = {eta_text(long)} "
            "Muon does not approach the information limit here, whatever the "
            "exponent of the stopped count against d. Why we think so (for a "
            "fixed step): every step adds a full-rank matrix of spectral norm "
            "eta, so the iterates keep moving by a fixed amount and oscillate "
            "(count and loss alternate between steps) instead of converging; "
            "the early-stopping rule then fires after a few windows. Resolving "
            "~ d^2 items needs margins far finer than eta sqrt(2 log N / d)."
        )
    for key, fit in long_fits.items():
        if fit.ok:
            lines.append(
                f"Long runs, {variant(key[0], key[1])}, alpha={key[2]:g}: count "
                f"at stop ~ d^{fit.exponent:.2f} [{fit.interval[0]:.2f}, "
                f"{fit.interval[1]:.2f}] over d in {fit.x.astype(int).tolist()} "
                "(prediction: 2)."
            )
    return lines


def summary(source: Source) -> FitSummary:
    """Fits, verdicts and findings of Figure 4 (long runs from ``long/`` of a run)."""
    return _summary(_analyse(source))


def _figure(res: dict[str, Any]) -> Any:
    return draw(res["table"], res["long"], res["fits"]["count"], eta_text(res["table"]))


def figure(source: Source) -> Any:
    """Figure 4: count against d after each T, long runs, exponents against T."""
    return _figure(_analyse(source))


def write(out_dir: str | os.PathLike) -> list[Path]:
    """Figure and fit summary of a run, from its records."""
    return write_outputs(out_dir, "fig4", _analyse(out_dir), _summary, _figure)
