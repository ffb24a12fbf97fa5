"""Prop. 5.4: GD with a constant step is stable only if ``eta p_1 <~ 1``.

Over a grid of ``x = eta r^4 p_1`` and several one-hot tasks (different ``p_1``,
noise levels), the largest ``x`` below which group 1 converges, against the
summary's ``~1`` and against ``2 / lambda*`` ([derived]: linear stability of the
noisy optimum, ``lambda*`` the top eigenvalue of the per-query softmax Hessian there,
:func:`softmax_hessian_top`). Intervals are the bracketing grid points.

References:
    SPEC B.3, Prop. 5.4 [summary]; the constant ``2 / lambda*`` [derived].
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
from muonjax.stats.verdict import compare

#: "~1" read as "within this factor of 1" (the verdict's tolerance on log10).
STABILITY_FACTOR = 3.0


def softmax_hessian_top(task: HierarchicalTask) -> float:
    """Top eigenvalue ``lambda*`` of ``diag(q) - q q^T`` at the optimum ``q = p_{.|j}``.

    On ``span(e_j, 1 - e_j)`` the matrix has eigenvalues 0 and ``s (1 - s + u)``
    (``s = p_{j|j}``, ``u = alpha / K``), and ``u`` on the rest, so
    ``lambda* = max(s (1 - s + u), u)``. GD's logit Hessian for query ``j`` at the
    optimum is ``p_j (diag(q) - q q^T)`` ([derived]), so GD is linearly stable there
    iff ``eta r^4 p_1 lambda* < 2``.
    """
    k = task.num_queries
    a = float(task.alpha)
    s, u = 1 - a + a / k, a / k
    return max(s * (1 - s + u), u)


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
        edge_low, edge_high: largest ``x`` below which every grid point is stable,
            and the next grid point (``inf`` when all are stable).
        predicted_edge: ``2 / lambda*`` in units of ``x`` ([derived]; ``inf``
            without noise).
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
    lr_p1: Sequence[float] = tuple(np.geomspace(1.0, 64.0, 31)),
    norm: float = 1.0,
    steps: int = 4000,
    tol: float = 1e-12,
    window: int = 16,
) -> GDStabilityResult:
    """GD's largest stable step, against ``eta p_1 ~ 1`` and ``2 / lambda*``.

    Args:
        cases: ``(M, C, beta, alpha)`` per task (identity embedding); different
            ``C`` and ``beta`` change ``p_1``.
        lr_p1: grid of ``x = eta r^4 p_1`` (increasing).
        norm: ``r``.
        steps: ``T``.
        tol: excess loss below which group 1 counts as converged.
        window: the convergence test (see :class:`StabilityCase`).

    References:
        SPEC B.3, Prop 5.4 [summary]; the constant ``2 / lambda*`` [derived].
    """
    x = np.asarray(lr_p1, np.float64)
    if np.any(np.diff(x) <= 0):
        raise ValueError("lr_p1 must be increasing")
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
        bad = np.nonzero(~stable)[0]
        if bad.size == 0:
            low, high = float(x[-1]), math.inf
        elif bad[0] == 0:
            low, high = 0.0, float(x[0])
        else:
            low, high = float(x[bad[0] - 1]), float(x[bad[0]])
        lam = softmax_hessian_top(task)
        res.append(
            StabilityCase(
                sizes=sizes_of(task, beta=beta, steps=steps, tol=tol),
                p1=p1,
                lam_star=lam,
                x=x,
                stable=stable,
                final_excess=np.abs(ex[:, -1]),
                edge_low=low,
                edge_high=high,
                predicted_edge=2.0 / lam if alpha > 0 else math.inf,
            )
        )
    return GDStabilityResult(tuple(res))


def _spec(c: StabilityCase) -> tuple[int, int, Any, float]:
    """``(M, C, beta, alpha)`` of a case."""
    return (c.sizes["M"], c.sizes["C"], c.sizes["beta"], c.sizes["alpha"])


def gd_stability_outcome(r: GDStabilityResult, alpha_ref: float = 0.3) -> CheckOutcome:
    """Rows of Prop. 5.4: the exponent of the edge ``eta*`` in ``p_1`` and the edge
    ``x* = eta* p_1`` against 1, over the noisy tasks at ``alpha_ref``; each noisy
    edge against ``2 / lambda*`` and the noiseless largest stable step (info).

    References:
        SPEC B.3, Prop. 5.4 [summary]; ``2 / lambda*`` [derived].
    """
    cases = tuple(_spec(c) for c in r.cases)
    ref = [
        c
        for c, spec in zip(r.cases, cases, strict=True)
        if spec[3] == alpha_ref and math.isfinite(c.edge_high)
    ]
    ref.sort(key=lambda c: c.p1)
    rows = []
    pred_p = loglog_slope(theory.gd_stability_limit, 0.01)
    if len(ref) >= 2:
        a, b = ref[0], ref[-1]
        dlp = math.log(b.p1 / a.p1)

        def eta_star(c, x):
            return math.log(x / c.p1)

        mids = [math.sqrt(c.edge_low * c.edge_high) for c in ref]
        p1s = np.array([c.p1 for c in ref])
        fit = fit_line(
            p1s,
            np.array(mids) / p1s,
            log_x=True,
            log_y=True,
        )
        lo = (eta_star(b, b.edge_low) - eta_star(a, a.edge_high)) / dlp
        hi = (eta_star(b, b.edge_high) - eta_star(a, a.edge_low)) / dlp
        rows.append(
            compare(
                fit.slope,
                (lo, hi),
                pred_p,
                label=f"exponent of the stable eta* in p_1 (alpha={alpha_ref})",
                max_width=0.5,
                notes=[
                    "interval: slopes between the extreme-p_1 tasks allowed by the "
                    f"grid brackets; p_1 from {a.p1:.3g} to {b.p1:.3g}"
                ],
            )
        )
    else:
        rows.append(
            compare(
                math.nan,
                (math.nan, math.nan),
                pred_p,
                label="exponent of the stable eta* in p_1",
                notes=["fewer than two noisy tasks with an edge on the grid"],
            )
        )
    x_pred = float(theory.gd_stability_limit(0.01)) * 0.01  # eta* p_1 = 1
    edges = [math.sqrt(c.edge_low * c.edge_high) for c in ref]
    if edges:
        est = float(np.exp(np.mean(np.log(edges))))
        lo, hi = min(c.edge_low for c in ref), max(c.edge_high for c in ref)
        rows.append(
            compare(
                math.log10(est),
                (math.log10(lo), math.log10(hi)),
                math.log10(x_pred),
                relation="<=",
                tolerance=math.log10(STABILITY_FACTOR),
                max_width=math.inf,
                label=f"log10 of the edge x* = eta* p_1 (alpha={alpha_ref})",
                notes=[
                    f"'~1' read as within a factor {STABILITY_FACTOR:g}; the edge "
                    f"measured is x* ~ {est:.3g} (grid brackets [{lo:.3g}, {hi:.3g}])",
                    "no factor below 8 could pass at any noise level: the derived "
                    "edge 2/lambda* >= 8 since lambda* <= 1/4",
                ],
            )
        )
    info = []
    for c, spec in zip(r.cases, cases, strict=True):
        alpha = spec[3]
        if alpha > 0 and math.isfinite(c.edge_high):
            info.append(
                compare(
                    math.log10(math.sqrt(c.edge_low * c.edge_high)),
                    (math.log10(c.edge_low), math.log10(c.edge_high)),
                    math.log10(c.predicted_edge),
                    tolerance=0.0,
                    max_width=math.inf,
                    label=(
                        f"log10 edge vs log10 2/lambda* [derived] (M={spec[0]}, "
                        f"C={spec[1]}, beta={spec[2]}, alpha={alpha})"
                    ),
                    notes=["interval = bracketing grid points"],
                )
            )
        elif alpha == 0:
            info.append(
                compare(
                    math.log10(c.edge_low),
                    (math.log10(c.edge_low), math.log10(c.edge_low)),
                    math.log10(x_pred),
                    relation="<=",
                    tolerance=math.log10(STABILITY_FACTOR),
                    max_width=math.inf,
                    label=(
                        "noiseless: log10 of the largest stable x on the grid "
                        f"(M={spec[0]}, C={spec[1]})"
                    ),
                    notes=[
                        "without noise there is no finite optimum and no edge was "
                        f"found up to x = {c.edge_low:.3g}"
                        if not math.isfinite(c.edge_high)
                        else f"edge in [{c.edge_low:.3g}, {c.edge_high:.3g}]"
                    ],
                )
            )
    details = {
        "cases": cases,
        "p1": [c.p1 for c in r.cases],
        "edge_low": [c.edge_low for c in r.cases],
        "edge_high": [c.edge_high for c in r.cases],
        "predicted_edge_2_over_lambda_star": [c.predicted_edge for c in r.cases],
        "sizes_needed": (
            "The edge in units of eta p_1 is the same for tasks whose p_1 differ by "
            "8x and more (the 1/p_1 scaling holds at every size tried); its value "
            "is 2/lambda* = 8-22 (noise 0.6..0.1), not ~1, at every size; the grid "
            "ratio (1.15 in quick) sets the interval. Noiseless GD has no edge."
        ),
    }
    return CheckOutcome(tuple(rows), tuple(info), details)
