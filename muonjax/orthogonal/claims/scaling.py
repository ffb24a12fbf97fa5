"""Thms 5.7 and 5.8: the scaling laws of the excess loss against the horizon ``T``.

GD (noisy labels, power-law spectrum, step tuned per ``T``): ``L(T) - L* >~ log K /
T^(1 - 1/beta)``, measured as the envelope over a grid of constant steps (one run per
step gives every horizon) and its slope over learned-group windows; Muon with
``eta = c log K / T``: ``L(T) - L* <~ (log K / T)^2``, one run per horizon. Both on
the exact block path of one-hot tasks (no seeds: window slopes).

References:
    SPEC B.3, Thms 5.7 and 5.8 [summary].
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
from muonjax.orthogonal.analysis import (
    GD_WINDOWS,
    floored_log_ratio,
    gd_envelope,
    gd_scaling_slope,
    horizon_windows,
)
from muonjax.orthogonal.claims._common import (
    F64,
    ClaimRows,
    in_x64,
    largest_frequency,
    sizes_of,
)
from muonjax.orthogonal.dynamics import run
from muonjax.orthogonal.task import optimal_loss, optimal_margin, power_law_task
from muonjax.stats.deterministic import compare_window
from muonjax.stats.slopes import (
    LineFit,
    WindowSlope,
    fit_line,
    log_grid,
    point_interval,
    window_slope,
)
from muonjax.stats.verdict import Comparison, compare


@dataclasses.dataclass(frozen=True)
class ScalingLawResult(ClaimRows):
    """Excess loss against ``T`` for GD and Muon on one power-law task.

    Attributes:
        sizes: task sizes and run parameters.
        gd_lr_p1: ``(nG,)`` GD step grid in units ``eta r^4 p_1``.
        gd_excess: ``(nG, T_gd+1)`` GD excess loss along each run.
        gd_envelope: ``(T_gd+1,)`` min over the grid (GD tuned at every ``T``).
        gd_learned: ``(T_gd+1,)`` groups whose excess fell below half of its
            initial value, in the run that attains the envelope.
        gd_t: horizons used in the GD fit (the window where ``window[0] <=
            learned <= window[1] M``).
        gd_fit: ``log envelope`` against ``log T`` on ``gd_t``; predicted slope
            ``-(1 - 1/beta)`` (Thm 5.7 is a lower bound: a steeper measured slope
            would contradict it asymptotically).
        muon_t: ``(nT,)`` horizons; ``muon_lr``: ``eta_T = c log K / (r^2 T)``.
        muon_excess: ``(nT,)`` excess at ``T``; ``muon_excess_avg``: mean of the last
            two steps (averages the period-2 oscillation).
        muon_fit, muon_fit_avg: ``log excess`` against ``log T``; predicted -2
            (Thm 5.8 is an upper bound: a shallower slope contradicts it).
        muon_ratio: ``muon_excess / (log K / T)^2`` (bounded if Thm 5.8 holds).
        gd_at_muon_t: ``(nT,)`` GD envelope at the Muon horizons (nan beyond).
    """

    sizes: Mapping[str, Any]
    gd_lr_p1: np.ndarray
    gd_excess: np.ndarray
    gd_envelope: np.ndarray
    gd_learned: np.ndarray
    gd_t: np.ndarray
    gd_fit: LineFit
    muon_t: np.ndarray
    muon_lr: np.ndarray
    muon_excess: np.ndarray
    muon_excess_avg: np.ndarray
    muon_fit: LineFit
    muon_fit_avg: LineFit
    muon_ratio: np.ndarray
    gd_at_muon_t: np.ndarray

    def outcome(self) -> CheckOutcome:
        """The check's rows for this one result: GD's slope (when GD ran beyond one
        step, :func:`gd_scaling_outcome`) and Muon's (when it has horizons,
        :func:`muon_scaling_outcome`)."""
        parts = []
        if self.gd_envelope.shape[0] > 2:
            by_m = {self.sizes["M"]: self}
            parts.append(gd_scaling_outcome({self.sizes["beta"]: by_m}))
        if self.muon_t.size:
            parts.append(muon_scaling_outcome([(self, True)]))
        return CheckOutcome(
            tuple(c for p in parts for c in p.comparisons),
            tuple(c for p in parts for c in p.info),
            {k: v for p in parts for k, v in p.details.items()},
        )


@in_x64
def measure_scaling_laws(
    *,
    num_groups: int = 64,
    group_size: int = 64,
    beta: float = 2.0,
    alpha: float = 0.3,
    norm: float = 1.0,
    gd_lr_p1: Sequence[float] = (1.0, 2.0, 4.0, 8.0),
    gd_steps: int = 30_000,
    gd_window: tuple[float, float] = (2, 0.25),
    gd_points: int = 30,
    muon_c: float = 2.0,
    muon_horizons: Sequence[int] = tuple(log_grid(32, 3162, 9)),
) -> ScalingLawResult:
    """GD's and Muon's excess loss against the horizon ``T`` (noisy power law).

    GD runs once per step size for ``gd_steps`` steps (a constant step is
    independent of ``T``, so one run gives every horizon); the envelope over the
    grid is GD tuned at each ``T``. Muon runs once per horizon with
    ``eta_T = c log K / (r^2 T)``. Both on the block path (cost independent of ``C``).

    Args:
        num_groups, group_size, beta, alpha, norm: the task (identity embedding).
        gd_lr_p1: GD steps in units of ``eta r^4 p_1`` (keep below the stability
            edge, see :func:`measure_gd_stability`).
        gd_steps: GD run length.
        gd_window: ``(lo, hi)``: fit GD where at least ``lo`` groups and at most
            ``hi * M`` groups are learned, the range where the tail of unlearned
            groups sets the loss.
        gd_points: log-spaced horizons in the GD window.
        muon_c: ``c`` in ``eta = c log K / T``; needs ``c log K > m*`` for the
            descent to end before ``T``.
        muon_horizons: Muon's horizons ``T``.

    References:
        SPEC B.3, Thms 5.7 and 5.8 [summary].
    """
    gd_steps = _validate.positive_int("gd_steps", gd_steps)
    task = power_law_task(
        num_groups, group_size, beta, alpha=alpha, norm=norm, dtype=F64
    )
    l_star = float(optimal_loss(task))
    log_k = math.log(task.num_queries)
    p1 = largest_frequency(task)
    lr_grid = np.asarray(gd_lr_p1, np.float64)
    dyn = jax.vmap(lambda e: run(task, "gd", e, steps=gd_steps, path="block"))(
        jnp.asarray(lr_grid / (p1 * norm**4))
    )
    gd_ex = np.asarray(dyn.loss) - l_star
    envelope, _, learned = gd_envelope(gd_ex, np.asarray(dyn.group_loss) - l_star)
    lo, hi = gd_window
    grid = log_grid(1, gd_steps, 400)
    inside = grid[(learned[grid] >= lo) & (learned[grid] <= hi * num_groups)]
    gd_t = (
        log_grid(int(inside.min()), int(inside.max()), gd_points)
        if inside.size
        else np.zeros(0, np.int64)
    )
    gd_fit = fit_line(gd_t, envelope[gd_t], log_x=True, log_y=True)

    hs = np.asarray(muon_horizons, np.int64)
    mu_lr = muon_c * log_k / (hs * norm**2)
    last_l, avg_l = [], []
    for h, e in zip(hs, mu_lr, strict=True):
        d = run(task, "muon", float(e), steps=int(h), path="block")
        ex = np.asarray(d.loss) - l_star
        last_l.append(ex[-1])
        avg_l.append(ex[-2:].mean())
    last, avg = np.asarray(last_l), np.asarray(avg_l)
    gd_at = np.where(hs <= gd_steps, envelope[np.minimum(hs, gd_steps)], np.nan)
    return ScalingLawResult(
        sizes=sizes_of(
            task,
            beta=beta,
            gd_steps=gd_steps,
            muon_c=muon_c,
            m_star=float(optimal_margin(task)),
            log_k=log_k,
            l_star=l_star,
        ),
        gd_lr_p1=lr_grid,
        gd_excess=gd_ex,
        gd_envelope=envelope,
        gd_learned=learned,
        gd_t=gd_t,
        gd_fit=gd_fit,
        muon_t=hs,
        muon_lr=mu_lr,
        muon_excess=last,
        muon_excess_avg=avg,
        muon_fit=fit_line(hs, last, log_x=True, log_y=True),
        muon_fit_avg=fit_line(hs, avg, log_x=True, log_y=True),
        muon_ratio=last / (log_k / hs) ** 2,
        gd_at_muon_t=gd_at,
    )


def gd_scaling_outcome(
    results: Mapping[float, Mapping[int, ScalingLawResult]],
) -> CheckOutcome:
    """Rows of Thm 5.7: per ``beta``, the slope of GD's tuned excess against ``T``
    at the largest ``M`` (learned-group windows, :data:`GD_WINDOWS`; a lower bound,
    so ``>=``), with the slopes at the smaller ``M`` in its notes.

    Args:
        results: ``beta -> M -> result`` (increasing ``M``).

    References:
        SPEC B.3, Thm 5.7 [summary].
    """
    rows: list[Comparison] = []
    details: dict[str, Any] = {"windows_learned_groups": GD_WINDOWS, "per_beta": {}}
    for beta, by_m in results.items():
        key = f"{float(beta):.1f}"
        pred = float(theory.gd_scaling_law_exponent(beta))
        per_m = {}
        last: WindowSlope | None = None
        for m, r in by_m.items():
            steps = r.sizes["gd_steps"]
            ws = gd_scaling_slope(np.arange(steps + 1), r.gd_envelope, r.gd_learned, m)
            per_m[m] = ws
            last = ws
        assert last is not None
        trend = ", ".join(f"M={m}: {w.estimate:.3f}" for m, w in per_m.items())
        truncated = [
            f"window {i} ends at T={w[1]:.0f} (the run length)"
            for i, w in enumerate(last.windows)
            if math.isfinite(w[1]) and w[1] >= steps
        ]
        rows.append(
            compare_window(
                last,
                pred,
                label=(
                    f"slope of GD's tuned excess vs log T (beta={beta}, M={max(per_m)})"
                ),
                relation=">=",
                notes=[f"slopes by M (main window): {trend}", *truncated],
            )
        )
        details["per_beta"][key] = {
            "prediction": pred,
            "slopes_by_M": {m: w.estimate for m, w in per_m.items()},
            "intervals_by_M": {m: w.interval for m, w in per_m.items()},
            "windows_by_M": {m: w.windows for m, w in per_m.items()},
        }
    details["sizes_needed"] = (
        "The slope approaches -(1 - 1/beta) from below as M grows (the finite "
        "tail of groups steepens it): beta = 2: -0.59, -0.56, -0.55, -0.54 at "
        "M = 32, 64, 128, 256; beta = 3: -0.69 at M = 32, -0.67 from M = 64; "
        "beta = 1.5: -0.56, -0.51, -0.48, -0.45 at M = 32..256, still 0.12 steeper "
        "than -1/3 at M = 256 (measured on this CPU, C = 64, main window)."
    )
    return CheckOutcome(tuple(rows), (), details)


def muon_scaling_outcome(
    results: Sequence[tuple[ScalingLawResult, bool]],
) -> CheckOutcome:
    """Rows of Thm 5.8: per shape, the slope of Muon's excess (mean of steps
    ``T - 1, T``) against ``T`` over :func:`~muonjax.orthogonal.horizon_windows`
    (an upper bound, so ``<=``); at primary shapes also the slope at step ``T`` alone
    and GD's tuned excess over Muon's (info). Non-primary shapes are info rows.

    Args:
        results: ``(result, primary)`` pairs, all with the same horizons.

    References:
        SPEC B.3, Thm 5.8 [summary].
    """
    hs = tuple(int(h) for h in results[0][0].muon_t)
    pred = theory.muon_scaling_law_exponent()
    rows: list[Comparison] = []
    info: list[Comparison] = []
    details: dict[str, Any] = {"horizons": hs, "per_shape": {}}
    windows = horizon_windows(hs)
    for r, primary in results:
        m, c = r.sizes["M"], r.sizes["C"]
        avg = window_slope(hs, r.muon_excess_avg, windows)
        last = window_slope(hs, r.muon_excess, windows)
        label = f"slope of Muon's excess vs log T, 2-step mean (M={m}, C={c})"
        row = compare_window(
            avg,
            pred,
            label=label,
            relation="<=",
            notes=[
                "one run per horizon; excess averaged over steps T-1, T (one period "
                "of the oscillation)"
            ],
        )
        (rows if primary else info).append(row)
        if primary:
            info.append(
                compare_window(
                    last,
                    pred,
                    label=f"slope of Muon's excess at step T only (M={m}, C={c})",
                    relation="<=",
                    max_width=1.0,
                    notes=["the period-2 oscillation scatters the last step"],
                )
            )
            gap = floored_log_ratio(
                r.gd_at_muon_t, r.muon_excess_avg, r.sizes["l_star"]
            )
            info.append(
                compare(
                    float(np.min(gap)),
                    point_interval(gap.tolist()),
                    0.0,
                    relation=">",
                    max_width=math.inf,
                    label=(
                        f"log10 GD tuned excess / Muon excess, min over T (M={m}, "
                        f"C={c})"
                    ),
                    notes=[
                        "> 0: Muon below GD at every horizon of the grid; excesses "
                        "floored at float64 resolution eps * max(L*, 1)"
                    ],
                )
            )
        details["per_shape"][f"{m}x{c}"] = {
            "primary": primary,
            "muon_lr": r.muon_lr,
            "excess_last": r.muon_excess,
            "excess_mean_2": r.muon_excess_avg,
            "ratio_to_logK_over_T_sq": r.muon_excess_avg
            / (r.sizes["log_k"] / np.asarray(hs)) ** 2,
            "slope_mean_2": avg.estimate,
            "slope_interval_mean_2": avg.interval,
            "gd_envelope_at_T": r.gd_at_muon_t,
        }
    details["sizes_needed"] = (
        "Needs K large, whatever C/M: over T = 32..8192 the 2-step-mean slope was "
        "-1.94 [-2.07, -1.84] at M = 16, C = 256 and -1.97 [-2.12, -1.84] at "
        "M = C = 64 (K = 4096), but -1.50 at M = C = 16 and -1.70 at M = 4, C = 64 "
        "(K = 256), where excess / (log K / T)^2 grows from 0.1 to 1.6 beyond "
        "T ~ 1000 (the bound fails there; shown as info). The excess at step T "
        "alone scatters with the period-2 oscillation."
    )
    return CheckOutcome(tuple(rows), tuple(info), details)
