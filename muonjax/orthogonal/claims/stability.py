"""Prop. 5.4: GD with a constant step is stable only if ``eta p_1 <~ 1``.

Over a grid of ``x = eta r^4 p_1`` and several one-hot tasks (different ``p_1``,
noise levels), the edge: the grid bracket ``[x_lo, x_hi]`` below which group 1
converges. Two claims are checked:

- the scaling: the edge ``eta*`` goes as ``1 / p_1`` (the summary's ``eta p_1 <~
  1``, [summary]);
- the constant: the edge sits at ``x* = 2 / lambda*``, ``lambda* = alpha (1 - alpha +
  alpha / K)`` the top eigenvalue of the per-query softmax Hessian at the noisy
  optimum ([derived]: linear stability of the optimum,
  :func:`muonjax.theory.gd_stability_edge`). The summary's "``<~ 1``" drops this
  constant (``2 / lambda* >= 8``); it is context, not a row.

Without noise there is no finite optimum and no edge: an info row reads the largest
stable step against the edge at ``W = 0``, ``2 K`` ([derived], not binding). A
bracket that is open (the edge below the grid's first point, or above its last)
gives a verdict only when its finite end settles it; otherwise it is inconclusive
("no edge up to x").

References:
    SPEC B.3, Prop. 5.4 [summary]; the constant ``2 / lambda*`` and the ``W = 0``
    edge ``2 K`` [derived].
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from muonjax import _validate, theory
from muonjax.engine.registry import CheckOutcome
from muonjax.orthogonal.claims._common import (
    F64,
    ClaimRows,
    in_x64,
    largest_frequency,
    sizes_of,
)
from muonjax.orthogonal.dynamics import run
from muonjax.orthogonal.task import HierarchicalTask, optimal_loss, power_law_task
from muonjax.stats.deterministic import loglog_slope
from muonjax.stats.slopes import fit_line
from muonjax.stats.verdict import Comparison, compare

#: Tolerance on ``log10`` of the edge against ``2 / lambda*``: 0. Linear stability
#: gives a sharp edge (below it the optimum attracts, above it the period-2 mode
#: grows by ``|1 - x lambda*|`` per step); at ``T`` steps the test resolves it to
#: about ``1 / T`` relative, far inside the grid's bracket, which is the interval.
EDGE_TOLERANCE = 0.0
#: Tolerance on the exponent of ``eta*`` in ``p_1``: the default 0.1; the edge's
#: constant ``2 / lambda*`` varies with ``K`` by under 3% across the tasks.
EXPONENT_TOLERANCE = 0.1


def softmax_hessian_top(task: HierarchicalTask) -> float:
    """``lambda*`` of the task (:func:`muonjax.theory.gd_stability_curvature`): the
    top eigenvalue of ``diag(q) - q q^T`` at the optimum ``q = p_{.|j}``.

    GD's logit Hessian for query ``j`` at the optimum is ``p_j (diag(q) - q q^T)``
    ([derived]), so GD is linearly stable there iff ``eta r^4 p_1 lambda* < 2``.
    """
    return float(theory.gd_stability_curvature(task.num_queries, float(task.alpha)))


@dataclasses.dataclass(frozen=True)
class StabilityCase:
    """GD's stability over a grid of ``x = eta r^4 p_1`` for one task.

    Attributes:
        sizes: the task.
        p1: largest per-query frequency.
        lam_star: top eigenvalue of the softmax Hessian at the optimum.
        x: ``(n,)`` grid of ``eta r^4 p_1``.
        stable: ``(n,)`` whether group 1 converges: its excess is below ``tol`` at
            ``T``, or its loss does not rise (by more than ``tol``) at any of the
            last ``window`` steps. Below the edge GD is a descent method near the
            optimum (a quadratic loss decreases monotonically for ``eta lambda <
            2``); above it the iterates oscillate and the loss rises every other
            step. A slowly decreasing loss is stable.
        final_excess: ``(n,)`` group 1's excess loss at ``T``.
        edge_low, edge_high: the bracket of the edge: the largest grid ``x`` below
            which every grid point is stable, and the next grid point. ``(0,
            x[0])`` when the first grid point is already unstable (the edge lies
            below the grid), ``(x[-1], inf)`` when every point is stable.
        predicted_edge: ``2 / lambda*`` in units of ``x`` ([derived]; ``inf``
            without noise).
        initial_edge: ``2 K``, the edge at ``W = 0`` ([derived]).
    """

    sizes: Mapping[str, Any]
    p1: float
    lam_star: float
    x: np.ndarray
    stable: np.ndarray
    final_excess: np.ndarray
    edge_low: float
    edge_high: float
    predicted_edge: float
    initial_edge: float

    @property
    def alpha(self) -> float:
        """The task's label noise."""
        return float(self.sizes["alpha"])


def edge_bracket(x: np.ndarray, stable: np.ndarray) -> tuple[float, float]:
    """The bracket ``(lo, hi)`` of the edge on an increasing grid: ``lo`` the
    largest grid point below which every point is stable, ``hi`` the next one
    (``lo = 0`` when ``x[0]`` is unstable, ``hi = inf`` when all are stable)."""
    bad = np.nonzero(~np.asarray(stable, bool))[0]
    if bad.size == 0:
        return float(x[-1]), math.inf
    if bad[0] == 0:
        return 0.0, float(x[0])
    return float(x[bad[0] - 1]), float(x[bad[0]])


@dataclasses.dataclass(frozen=True)
class GDStabilityResult(ClaimRows):
    """Prop 5.4 over several tasks (different ``p_1``)."""

    cases: tuple[StabilityCase, ...]

    def outcome(self) -> CheckOutcome:
        """The check's rows (:func:`gd_stability_outcome`)."""
        return gd_stability_outcome(self)


@in_x64
def measure_gd_stability(
    *,
    cases: Sequence[tuple[int, int, float, float]] = (
        (4, 4, 1.5, 0.3),
        (4, 16, 1.5, 0.3),
        (4, 16, 3.0, 0.3),
        (4, 16, 1.5, 0.1),
        (4, 16, 1.5, 0.6),
        (4, 16, 1.5, 0.0),
    ),
    lr_p1: Sequence[float] = tuple(np.geomspace(1.0, 256.0, 41)),
    norm: float = 1.0,
    steps: int = 4000,
    tol: float = 1e-12,
    window: int = 16,
) -> GDStabilityResult:
    """GD's largest stable step, against ``2 / lambda*`` and its ``1 / p_1`` scaling.

    Args:
        cases: ``(M, C, beta, alpha)`` per task (identity embedding); different
            ``C`` and ``beta`` change ``p_1``.
        lr_p1: grid of ``x = eta r^4 p_1`` (increasing, > 0).
        norm: ``r``.
        steps: ``T``.
        tol: excess loss below which group 1 counts as converged.
        window: the convergence test (see :class:`StabilityCase`).

    References:
        SPEC B.3, Prop 5.4 [summary]; the constant ``2 / lambda*`` [derived].
    """
    x = np.asarray(lr_p1, np.float64)
    if x.ndim != 1 or x.size < 2 or np.any(np.diff(x) <= 0) or x[0] <= 0:
        raise ValueError(f"lr_p1 must be positive and increasing, got {lr_p1=}")
    steps = _validate.positive_int("steps", steps)
    res = []
    for m, c, beta, alpha in cases:
        task = power_law_task(m, c, beta, alpha=alpha, norm=norm, dtype=F64)
        p1 = largest_frequency(task)
        etas = jnp.asarray(x / (p1 * norm**4))
        dyn = jax.vmap(
            lambda e, task=task: run(task, "gd", e, steps=steps, path="block")
        )(etas)
        # Group 1 is the most frequent (power law): the first to lose stability.
        ex = np.asarray(dyn.group_loss[:, :, 0]) - float(optimal_loss(task))
        rises = np.diff(ex[:, -window - 1 :], axis=1) > tol
        stable = (np.abs(ex[:, -1]) < tol) | ~rises.any(axis=1)
        low, high = edge_bracket(x, stable)
        k = task.num_queries
        res.append(
            StabilityCase(
                sizes=sizes_of(task, beta=beta, steps=steps, tol=tol),
                p1=p1,
                lam_star=softmax_hessian_top(task),
                x=x,
                stable=stable,
                final_excess=np.abs(ex[:, -1]),
                edge_low=low,
                edge_high=high,
                predicted_edge=float(theory.gd_stability_edge(k, alpha)),
                initial_edge=float(theory.gd_initial_stability_edge(k)),
            )
        )
    return GDStabilityResult(tuple(res))


def _spec(c: StabilityCase) -> tuple[int, int, Any, float]:
    """``(M, C, beta, alpha)`` of a case."""
    return (c.sizes["M"], c.sizes["C"], c.sizes["beta"], c.sizes["alpha"])


def bracket_row(
    low: float,
    high: float,
    prediction: float,
    *,
    label: str,
    relation: str = "==",
    tolerance: float = EDGE_TOLERANCE,
    notes: Sequence[str] = (),
) -> Comparison:
    """Compare a bracketed edge ``[low, high]`` with a predicted edge, in ``log10``.

    A closed bracket (``0 < low``, ``high < inf``) is the interval (estimate its
    geometric middle). An open one (the edge below the grid, ``low = 0``, or above
    it, ``high = inf``) decides only through its finite end: with ``==`` it is
    inconsistent when that end lies beyond the tolerance on the far side, with
    ``>=`` consistent when the whole bracket lies above ``prediction`` (``low >=
    prediction``) and inconsistent when ``high`` lies below it; otherwise it is
    inconclusive ("no edge up to x", "edge below x").

    Args:
        low, high: the bracket in units of ``x`` (``0 <= low < high <= inf``).
        prediction: the predicted edge (> 0, finite).
        label: what is compared.
        relation: ``"=="`` or ``">="``.
        tolerance: on ``log10``.
        notes: further notes.

    Returns:
        A :class:`~muonjax.stats.verdict.Comparison` on ``log10`` of the edge.
    """
    if relation not in ("==", ">="):
        raise ValueError(f"relation must be '==' or '>=', got {relation=!r}")
    p = math.log10(prediction)
    lo = math.log10(low) if low > 0 else -math.inf
    hi = math.log10(high) if math.isfinite(high) else math.inf
    kw: dict[str, Any] = {
        "relation": relation,
        "tolerance": tolerance,
        "max_width": math.inf,
        "label": label,
    }
    if math.isfinite(lo) and math.isfinite(hi):
        notes = ["interval = the bracketing grid points", *notes]
        return compare(0.5 * (lo + hi), (lo, hi), p, notes=notes, **kw)
    if math.isfinite(hi):
        what = f"the edge lies below the grid's first point x = {high:.4g}"
        decided = hi < p - tolerance  # "==" and ">=": the edge is too low
        end = hi
    else:
        what = f"no edge up to x = {low:.4g} (the grid's last point)"
        decided = lo > p + tolerance if relation == "==" else lo >= p - tolerance
        end = lo
    notes = [what + "; estimate = the bracket's finite end", *notes]
    if decided:
        return compare(end, (end, end), p, notes=notes, **kw)
    return compare(math.nan, (math.nan, math.nan), p, notes=notes, **kw)


def gd_stability_outcome(r: GDStabilityResult, alpha_ref: float = 0.3) -> CheckOutcome:
    """Rows of Prop. 5.4: the exponent of the edge ``eta*`` in ``p_1`` over the noisy
    tasks at ``alpha_ref`` with a closed bracket, and each noisy task's edge
    ``x* = eta* r^4 p_1`` against ``2 / lambda*`` ([derived]); the noiseless tasks'
    largest stable step against the ``W = 0`` edge ``2 K`` (info).

    References:
        SPEC B.3, Prop. 5.4 [summary]; ``2 / lambda*``, ``2 K`` [derived].
    """
    cases = tuple(_spec(c) for c in r.cases)
    ref = sorted(
        (
            c
            for c in r.cases
            if c.alpha == alpha_ref and c.edge_low > 0 and math.isfinite(c.edge_high)
        ),
        key=lambda c: c.p1,
    )
    pred_p = loglog_slope(theory.gd_stability_limit, 0.01)
    label_p = f"exponent of the stable eta* in p_1 (alpha={alpha_ref})"
    if len(ref) >= 2 and ref[-1].p1 > ref[0].p1:
        a, b = ref[0], ref[-1]
        dlp = math.log(b.p1 / a.p1)
        p1s = np.array([c.p1 for c in ref])
        mids = np.array([math.sqrt(c.edge_low * c.edge_high) for c in ref])
        fit = fit_line(p1s, mids / p1s, log_x=True, log_y=True)
        lo = (math.log(b.edge_low / b.p1) - math.log(a.edge_high / a.p1)) / dlp
        hi = (math.log(b.edge_high / b.p1) - math.log(a.edge_low / a.p1)) / dlp
        rows = [
            compare(
                fit.slope,
                (lo, hi),
                pred_p,
                label=label_p,
                tolerance=EXPONENT_TOLERANCE,
                max_width=0.5,
                notes=[
                    "interval: slopes between the extreme-p_1 tasks allowed by the "
                    f"grid brackets; p_1 from {a.p1:.3g} to {b.p1:.3g} "
                    f"({len(ref)} tasks)",
                    f"tolerance {EXPONENT_TOLERANCE:g}: the constant 2/lambda* "
                    "changes with K by under 3% across the tasks",
                ],
            )
        ]
    else:
        rows = [
            compare(
                math.nan,
                (math.nan, math.nan),
                pred_p,
                label=label_p,
                notes=[
                    "fewer than two noisy tasks with different p_1 and a closed "
                    "bracket on the grid"
                ],
            )
        ]
    info = []
    for c, spec in zip(r.cases, cases, strict=True):
        m, cc, beta, alpha = spec
        if alpha > 0:
            rows.append(
                bracket_row(
                    c.edge_low,
                    c.edge_high,
                    c.predicted_edge,
                    label=(
                        "log10 of the edge x* = eta* r^4 p_1 vs 2/lambda* [derived] "
                        f"(M={m}, C={cc}, beta={beta}, alpha={alpha})"
                    ),
                    notes=[
                        f"lambda* = alpha (1 - alpha + alpha/K) = {c.lam_star:.4g}, "
                        f"2/lambda* = {c.predicted_edge:.4g}; the summary's "
                        "'eta p_1 <~ 1' drops this constant (2/lambda* >= 8)",
                        f"tolerance {EDGE_TOLERANCE:g}: a sharp linear-stability "
                        "edge, resolved to ~1/T at T steps",
                    ],
                )
            )
        else:
            info.append(
                bracket_row(
                    c.edge_low,
                    c.edge_high,
                    c.initial_edge,
                    relation=">=",
                    label=(
                        "noiseless: log10 of the edge vs the W = 0 edge 2K [derived] "
                        f"(M={m}, C={cc})"
                    ),
                    notes=[
                        "without noise there is no finite optimum: the only linear "
                        "edge is at W = 0 (eta p_1 < 2K), and GD leaves W = 0 in one "
                        "step"
                    ],
                )
            )
    details = {
        "cases": cases,
        "p1": [c.p1 for c in r.cases],
        "edge_low": [c.edge_low for c in r.cases],
        "edge_high": [c.edge_high for c in r.cases],
        "predicted_edge_2_over_lambda_star": [c.predicted_edge for c in r.cases],
        "initial_edge_2K": [c.initial_edge for c in r.cases],
        "summary_reading": (
            "the summary's 'eta p_1 <~ 1' has the 1/p_1 scaling and drops the "
            "constant 2/lambda* (8-22 at alpha = 0.6..0.1): context, not a row"
        ),
        "sizes_needed": (
            "The edge in units of eta p_1 is the same for tasks whose p_1 differ by "
            "8x and more (the 1/p_1 scaling holds at every size tried) and sits at "
            "2/lambda* at every size; the grid ratio (1.15 in quick) sets the "
            "interval. Noiseless GD has no edge: its row needs the grid to reach 2K."
        ),
    }
    return CheckOutcome(tuple(rows), tuple(info), details)
