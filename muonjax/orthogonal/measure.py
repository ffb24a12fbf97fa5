"""Measurements for every row of SPEC B.3, as pure functions returning plain data.

Each ``measure_*`` function builds its tasks, runs the dynamics in float64 (inside
``jax.enable_x64(True)``, so callers need not switch JAX's global mode), and returns a
frozen dataclass of numpy arrays and numbers: the raw curves, the fitted quantities
with their intervals, the prediction they are compared with, and the sizes used.
``result.comparisons()`` lists the headline numbers as :class:`Comparison` rows, the
input a verdict needs (the check catalogue decides consistent / inconsistent /
inconclusive; nothing here asserts that a claim holds).

The claims come from a secondary summary of the paper (SPEC B.3 [summary]); where the
measurement relies on our own reading (the constant in a prediction, what "follows"
means) the docstring says [derived].

Learning rates: with embedding norm ``r`` the logit step of GD is ``eta r^4`` times
the gradient and that of Muon and TRA-SignGD ``eta r^2`` times a unit-singular-value
or sign matrix (see :mod:`muonjax.orthogonal.loss`); the predictions below are
written with these effective rates.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from muonjax import _validate
from muonjax._polar import polar
from muonjax.orthogonal.block import (
    BlockMatrix,
    block_max_abs,
    block_polar,
    block_symmetry_defect,
)
from muonjax.orthogonal.dynamics import Dynamics, run
from muonjax.orthogonal.loss import block_state, full_state, to_task
from muonjax.orthogonal.task import (
    HierarchicalTask,
    optimal_loss,
    optimal_margin,
    power_law_task,
    task_summary,
)
from muonjax.stats.slopes import LineFit, fit_line, log_grid

F64 = jnp.float64


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One measured quantity next to the prediction it is checked against.

    Attributes:
        claim: what is compared, in words.
        tag: provenance of the prediction (``"[summary] Thm 4.1"``, ``"[derived]"``).
        prediction: the predicted value (``nan`` where the claim is qualitative).
        estimate: the measured value.
        low, high: interval of the estimate (equal to it when there is none).
        sizes: task sizes and run parameters used.
        note: how to read it (kind of interval, direction of a bound, ...).
    """

    claim: str
    tag: str
    prediction: float
    estimate: float
    low: float
    high: float
    sizes: Mapping[str, Any]
    note: str = ""


def _in_x64(fn: Callable) -> Callable:
    """Run ``fn`` with JAX's 64-bit mode switched on, only for its duration."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper


def _np(tree):
    return jax.tree.map(np.asarray, tree)


def _p1(task: HierarchicalTask) -> float:
    """Largest per-query frequency ``p_1 = max_g ptil_g / C``."""
    return float(jnp.max(task.group_weights)) / task.group_size


def _sizes(task: HierarchicalTask, **extra) -> dict[str, Any]:
    return {**task_summary(task), **extra}


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


# --------------------------------------------------------------------------------------
# Thm 4.1: GD, noiseless, L_j(t) ~ 1 / (eta p_j t).


@dataclasses.dataclass(frozen=True)
class GDNoiselessResult:
    """GD without noise: per-group power-law decay of the loss.

    Attributes:
        sizes: task sizes and run parameters.
        learning_rate: ``eta``; ``effective_lr = eta r^4`` (the logit step).
        p: ``(M,)`` per-query frequency ``p_g`` of each group.
        group_loss: ``(T+1, M)`` mean per-query loss ``L_g(t)``.
        loss: ``(T+1,)`` total loss.
        fits: per group, the line ``log L_g`` against ``log t`` over ``t in [fit_from
            T, T]``; predicted slope -1.
        prefactor: ``(M,)`` ``eta_eff p_g T L_g(T)``; predicted ``(K - 1) / K``
            ([derived] asymptote of ``L_j = log(1 + (K - 1) e^{-m})`` with
            ``m' = eta_eff p_j K/(K-1) (1 - phat_jj)``).
        late: ``(M,)`` whether ``eta_eff p_g fit_from T >= late_threshold``, i.e. the
            group is in the asymptotic regime over the whole fit window.
        total_ratio: ``eta_eff T L(T) / K``; the SPEC's ``total ~ K/(eta t)``
            predicts about 1.
    """

    sizes: Mapping[str, Any]
    learning_rate: float
    effective_lr: float
    p: np.ndarray
    group_loss: np.ndarray
    loss: np.ndarray
    fits: tuple[LineFit, ...]
    prefactor: np.ndarray
    late: np.ndarray
    total_ratio: float

    def comparisons(self) -> list[Comparison]:
        k = self.sizes["K"]
        out = [
            Comparison(
                f"GD noiseless: slope of log L_g vs log t, group {g + 1}",
                "[summary] Thm 4.1",
                -1.0,
                f.slope,
                f.low,
                f.high,
                self.sizes,
                "regression interval over one trajectory (optimistic); "
                + ("late regime" if self.late[g] else "NOT in the late regime"),
            )
            for g, f in enumerate(self.fits)
        ]
        pre = self.prefactor
        out.append(
            Comparison(
                "GD noiseless: eta p_g T L_g(T) over groups (min..max)",
                "[summary] Thm 4.1; constant (K-1)/K [derived]",
                (k - 1) / k,
                float(np.median(pre)),
                float(pre.min()),
                float(pre.max()),
                self.sizes,
                "interval = range over groups",
            )
        )
        out.append(
            Comparison(
                "GD noiseless: total loss eta T L(T) / K",
                "[summary] Thm 4.1",
                1.0,
                self.total_ratio,
                self.total_ratio,
                self.total_ratio,
                self.sizes,
            )
        )
        return out


@_in_x64
def measure_gd_noiseless(
    *,
    num_groups: int = 8,
    group_size: int = 16,
    beta: float = 1.5,
    lr_p1: float = 1.0,
    norm: float = 1.0,
    steps: int = 20_000,
    fit_from: float = 0.1,
    points: int = 40,
    late_threshold: float = 30.0,
) -> GDNoiselessResult:
    """GD without label noise: does every group's loss decay as ``1/(eta p_g t)``?

    Args:
        num_groups, group_size, beta, norm: the power-law task (identity embedding).
        lr_p1: ``eta_eff p_1``, the step in units of the most frequent query's
            frequency (``eta = lr_p1 / (r^4 p_1)``).
        steps: ``T``.
        fit_from: the fit window is ``[fit_from T, T]`` (log-spaced points).
        points: number of points in the window.
        late_threshold: a group counts as asymptotic when ``eta_eff p_g t`` exceeds
            this over the whole window.

    References:
        SPEC B.3, Thm 4.1 [summary].
    """
    steps = _validate.positive_int("steps", steps)
    _validate.real("fit_from", fit_from, lower=0.0, upper=1.0, lower_open=True)
    task = power_law_task(num_groups, group_size, beta, norm=norm, dtype=F64)
    eff = lr_p1 / _p1(task)
    eta = eff / norm**4
    dyn = _np(run(task, "gd", eta, steps=steps, path="block"))
    p = np.asarray(task.group_weights) / group_size
    t = log_grid(max(1, int(fit_from * steps)), steps, points)
    fits = tuple(
        fit_line(t, dyn.group_loss[t, g], log_x=True, log_y=True)
        for g in range(num_groups)
    )
    k = task.num_queries
    return GDNoiselessResult(
        sizes=_sizes(task, beta=beta, steps=steps, lr_p1=lr_p1),
        learning_rate=eta,
        effective_lr=eff,
        p=p,
        group_loss=dyn.group_loss,
        loss=dyn.loss,
        fits=fits,
        prefactor=eff * p * steps * dyn.group_loss[-1],
        late=eff * p * fit_from * steps >= late_threshold,
        total_ratio=float(eff * steps * dyn.loss[-1] / k),
    )


# --------------------------------------------------------------------------------------
# Thm 4.2: Muon, noiseless, L_j(t) ~ K exp(-eta t) for every j.


@dataclasses.dataclass(frozen=True)
class MuonNoiselessResult:
    """Muon without noise: per-group exponential decay rates.

    Attributes:
        sizes: task sizes and run parameters.
        learning_rate: ``eta``; ``effective_lr = eta r^2``, the predicted rate.
        group_loss: ``(T+1, M)``; loss: ``(T+1,)``.
        fits: per group, ``log L_g`` against ``t`` over ``[fit_from T, T]``; the
            decay rate is ``-slope``.
        rates: ``(M,)`` ``-slope / effective_lr`` (predicted 1 for every group).
        prefactor: ``(M,)`` ``L_g(T) / (K exp(-eta_eff T))`` (predicted O(1)).
        spread: ``max(rates) / min(rates)`` (uniform progress predicts about 1).
    """

    sizes: Mapping[str, Any]
    learning_rate: float
    effective_lr: float
    group_loss: np.ndarray
    loss: np.ndarray
    fits: tuple[LineFit, ...]
    rates: np.ndarray
    prefactor: np.ndarray
    spread: float

    def comparisons(self) -> list[Comparison]:
        e = self.effective_lr
        out = [
            Comparison(
                f"Muon noiseless: decay rate / eta, group {g + 1}",
                "[summary] Thm 4.2",
                1.0,
                -f.slope / e,
                -f.high / e,
                -f.low / e,
                self.sizes,
                "regression interval over one trajectory (optimistic)",
            )
            for g, f in enumerate(self.fits)
        ]
        out.append(
            Comparison(
                "Muon noiseless: max/min decay rate over groups",
                "[summary] Thm 4.2 (uniform progress)",
                1.0,
                self.spread,
                self.spread,
                self.spread,
                self.sizes,
            )
        )
        out.append(
            Comparison(
                "Muon noiseless: L_g(T) / (K exp(-eta T)) over groups (min..max)",
                "[summary] Thm 4.2",
                1.0,
                float(np.median(self.prefactor)),
                float(self.prefactor.min()),
                float(self.prefactor.max()),
                self.sizes,
                "interval = range over groups; the claim is up to constants",
            )
        )
        return out


@_in_x64
def measure_muon_noiseless(
    *,
    num_groups: int = 8,
    group_size: int = 16,
    beta: float = 1.5,
    lr: float = 0.1,
    norm: float = 1.0,
    steps: int = 600,
    fit_from: float = 0.5,
    points: int = 40,
) -> MuonNoiselessResult:
    """Muon without label noise: does every group's loss decay like ``K e^{-eta t}``?

    Args:
        num_groups, group_size, beta, norm: the power-law task (identity embedding).
        lr: ``eta`` (logit rate ``eta r^2``); keep ``eta r^2 T`` below ~600 so that
            the loss stays above float64's smallest numbers.
        steps: ``T``.
        fit_from: fit window ``[fit_from T, T]``.
        points: number of points in the window.

    References:
        SPEC B.3, Thm 4.2 [summary; seed for "exponential speedup"].
    """
    steps = _validate.positive_int("steps", steps)
    task = power_law_task(num_groups, group_size, beta, norm=norm, dtype=F64)
    eff = lr * norm**2
    dyn = _np(run(task, "muon", lr, steps=steps, path="block"))
    t = np.unique(np.linspace(int(fit_from * steps), steps, points).astype(np.int64))
    fits = tuple(
        fit_line(t, dyn.group_loss[t, g], log_y=True) for g in range(num_groups)
    )
    rates = np.array([-f.slope / eff for f in fits])
    k = task.num_queries
    return MuonNoiselessResult(
        sizes=_sizes(task, beta=beta, steps=steps, lr=lr),
        learning_rate=lr,
        effective_lr=eff,
        group_loss=dyn.group_loss,
        loss=dyn.loss,
        fits=fits,
        rates=rates,
        prefactor=dyn.group_loss[-1] / (k * np.exp(-eff * steps)),
        spread=float(rates.max() / rates.min()),
    )


# --------------------------------------------------------------------------------------
# Thm 5.1: Muon, noisy: descent until T* ~ log K / eta, then oscillation ~ eta^2.


def first_rise(loss: np.ndarray) -> int:
    """First ``t`` with ``L(t+1) >= L(t)`` (the end of the descent); ``len - 1`` if
    the loss decreases throughout."""
    rise = np.nonzero(np.diff(loss) >= 0)[0]
    return int(rise[0]) if rise.size else int(loss.shape[-1] - 1)


@dataclasses.dataclass(frozen=True)
class MuonNoisyResult:
    """Muon with label noise: the two phases, over a grid of ``eta`` and ``C``.

    Attributes:
        sizes: common sizes and run parameters.
        group_sizes: ``(nC,)`` values of ``C``; ``log_k``, ``m_star``: ``(nC,)``
            ``log K`` and the optimal logit gap ``log(1 + (1 - alpha) K / alpha)``.
        lrs: ``(n_eta,)`` learning rates (logit rate ``eta r^2``).
        excess: ``(nC, n_eta, T+1)`` ``L(t) - L*``.
        t_star: ``(nC, n_eta)`` end of the descent (:func:`first_rise`).
        plateau: ``(nC, n_eta)`` mean excess over the last ``tail`` steps.
        amplitude: ``(nC, n_eta)`` max minus min of the excess over the tail.
        tstar_fits: per ``C``, ``log T*`` against ``log eta`` (predicted slope -1).
        plateau_fits: per ``C``, ``log plateau`` against ``log eta`` (predicted 2).
    """

    sizes: Mapping[str, Any]
    group_sizes: np.ndarray
    log_k: np.ndarray
    m_star: np.ndarray
    lrs: np.ndarray
    excess: np.ndarray
    t_star: np.ndarray
    plateau: np.ndarray
    amplitude: np.ndarray
    tstar_fits: tuple[LineFit, ...]
    plateau_fits: tuple[LineFit, ...]

    @property
    def effective_lrs(self) -> np.ndarray:
        return self.lrs * self.sizes["r"] ** 2

    def comparisons(self) -> list[Comparison]:
        out = []
        e = self.effective_lrs
        for i, c in enumerate(self.group_sizes):
            sz = {**self.sizes, "C": int(c), "K": int(self.sizes["M"] * c)}
            f = self.tstar_fits[i]
            out.append(
                Comparison(
                    f"Muon noisy: slope of log T* vs log eta (C={c})",
                    "[summary] Thm 5.1",
                    -1.0,
                    f.slope,
                    f.low,
                    f.high,
                    sz,
                )
            )
            ratio = self.t_star[i] * e / self.log_k[i]
            out.append(
                Comparison(
                    f"Muon noisy: T* eta / log K over eta (C={c})",
                    "[summary] Thm 5.1 (up to a constant)",
                    1.0,
                    float(np.median(ratio)),
                    float(ratio.min()),
                    float(ratio.max()),
                    sz,
                    "interval = range over eta",
                )
            )
            ratio = self.t_star[i] * e / self.m_star[i]
            out.append(
                Comparison(
                    f"Muon noisy: T* eta / m* (C={c})",
                    "[derived] m* = log(1 + (1-alpha) K / alpha)",
                    1.0,
                    float(np.median(ratio)),
                    float(ratio.min()),
                    float(ratio.max()),
                    sz,
                    "interval = range over eta",
                )
            )
            f = self.plateau_fits[i]
            out.append(
                Comparison(
                    f"Muon noisy: slope of log plateau vs log eta (C={c})",
                    "[summary] Thm 5.1",
                    2.0,
                    f.slope,
                    f.low,
                    f.high,
                    sz,
                )
            )
            ratio = self.plateau[i] / e**2
            out.append(
                Comparison(
                    f"Muon noisy: plateau / eta^2 over eta (C={c})",
                    "[summary] Thm 5.1 (up to a constant)",
                    float("nan"),
                    float(np.median(ratio)),
                    float(ratio.min()),
                    float(ratio.max()),
                    sz,
                    "interval = range over eta; a constant ratio is the claim",
                )
            )
        return out


@_in_x64
def measure_muon_noisy(
    *,
    num_groups: int = 8,
    group_sizes: Sequence[int] = (4, 16, 64, 256),
    beta: float = 1.5,
    alpha: float = 0.3,
    lrs: Sequence[float] = tuple(np.geomspace(0.02, 0.4, 9)),
    norm: float = 1.0,
    tail: int = 200,
    overshoot: float = 2.0,
) -> MuonNoisyResult:
    """Muon with label noise: ``T* ~ log K / eta`` and an ``eta^2`` plateau?

    For each ``C`` one vmapped run over the ``eta`` grid of
    ``ceil(overshoot * m* / (eta_min r^2)) + tail`` steps.

    Args:
        num_groups, beta, alpha, norm: the power-law task (identity embedding).
        group_sizes: values of ``C`` (``K = M C``).
        lrs: grid of ``eta``.
        tail: steps at the end over which the plateau is averaged (even, so that a
            period-2 oscillation is averaged over whole periods).
        overshoot: run length in units of the predicted ``T* = m* / (eta r^2)``.

    References:
        SPEC B.3, Thm 5.1 [summary]; ``m*`` [derived].
    """
    tail = _validate.positive_int("tail", tail)
    _validate.real(
        "alpha", alpha, lower=0.0, upper=1.0, lower_open=True, upper_open=True
    )
    lr_arr = np.asarray(lrs, np.float64)
    out: dict[str, list] = {k: [] for k in ("ex", "ts", "pl", "amp", "lk", "ms")}
    tfits, pfits = [], []
    for c in group_sizes:
        task = power_law_task(num_groups, c, beta, alpha=alpha, norm=norm, dtype=F64)
        m_star = float(optimal_margin(task))
        steps = math.ceil(overshoot * m_star / (lr_arr.min() * norm**2)) + tail
        dyn = jax.vmap(
            lambda e, task=task, steps=steps: run(
                task, "muon", e, steps=steps, path="block"
            )
        )(jnp.asarray(lr_arr))
        ex = np.asarray(dyn.loss) - float(optimal_loss(task))
        ts = np.array([first_rise(x) for x in ex])
        pl = ex[:, -tail:].mean(axis=1)
        out["ex"].append(ex)
        out["ts"].append(ts)
        out["pl"].append(pl)
        out["amp"].append(np.ptp(ex[:, -tail:], axis=1))
        out["lk"].append(math.log(task.num_queries))
        out["ms"].append(m_star)
        tfits.append(fit_line(lr_arr, ts, log_x=True, log_y=True))
        pfits.append(fit_line(lr_arr, pl, log_x=True, log_y=True))
    width = max(x.shape[1] for x in out["ex"])
    excess = np.full((len(group_sizes), lr_arr.size, width), np.nan)
    for i, x in enumerate(out["ex"]):
        excess[i, :, : x.shape[1]] = x
    return MuonNoisyResult(
        sizes={
            "M": num_groups,
            "beta": beta,
            "alpha": alpha,
            "r": norm,
            "embedding": "identity",
            "tail": tail,
            "dtype": "float64",
        },
        group_sizes=np.asarray(group_sizes),
        log_k=np.asarray(out["lk"]),
        m_star=np.asarray(out["ms"]),
        lrs=lr_arr,
        excess=excess,
        t_star=np.asarray(out["ts"]),
        plateau=np.asarray(out["pl"]),
        amplitude=np.asarray(out["amp"]),
        tstar_fits=tuple(tfits),
        plateau_fits=tuple(pfits),
    )


# --------------------------------------------------------------------------------------
# Prop 5.4: GD is stable only if eta p_1 <~ 1.


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
class GDStabilityResult:
    """Prop 5.4 over several tasks (different ``p_1``)."""

    cases: tuple[StabilityCase, ...]

    def comparisons(self) -> list[Comparison]:
        out = []
        for c in self.cases:
            mid = (
                math.sqrt(c.edge_low * c.edge_high)
                if math.isfinite(c.edge_high)
                else math.inf
            )
            out.append(
                Comparison(
                    "GD stability edge in units of eta p_1",
                    "[summary] Prop 5.4 (eta p_1 <~ 1)",
                    1.0,
                    mid,
                    c.edge_low,
                    c.edge_high,
                    c.sizes,
                    "interval = bracketing grid points; '~1' means up to a constant",
                )
            )
            out.append(
                Comparison(
                    "GD stability edge vs 2/lambda* (softmax Hessian at the optimum)",
                    "[derived]",
                    c.predicted_edge,
                    mid,
                    c.edge_low,
                    c.edge_high,
                    c.sizes,
                    "interval = bracketing grid points",
                )
            )
        return out


@_in_x64
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
        p1 = _p1(task)
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
                sizes=_sizes(task, beta=beta, steps=steps, tol=tol),
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


# --------------------------------------------------------------------------------------
# Thms 5.7 and 5.8: scaling laws of the excess loss against the horizon T.


@dataclasses.dataclass(frozen=True)
class ScalingLawResult:
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

    def comparisons(self) -> list[Comparison]:
        beta = self.sizes["beta"]
        f, fa = self.muon_fit, self.muon_fit_avg
        return [
            Comparison(
                "GD scaling law: slope of log(L(T)-L*) vs log T",
                "[summary] Thm 5.7 (lower bound log K / T^(1-1/beta))",
                -(1 - 1 / beta),
                self.gd_fit.slope,
                self.gd_fit.low,
                self.gd_fit.high,
                self.sizes,
                f"fit over T in [{self.gd_fit.x_min:.0f}, {self.gd_fit.x_max:.0f}] "
                f"({self.gd_fit.n_points} pts); regression interval (optimistic)",
            ),
            Comparison(
                "Muon scaling law (eta = c log K / T): slope of log(L(T)-L*) vs log T",
                "[summary] Thm 5.8 (upper bound (log K / T)^2)",
                -2.0,
                f.slope,
                f.low,
                f.high,
                self.sizes,
                f"excess at the last step; {f.n_points} horizons",
            ),
            Comparison(
                "Muon scaling law, 2-step average: slope vs log T",
                "[summary] Thm 5.8",
                -2.0,
                fa.slope,
                fa.low,
                fa.high,
                self.sizes,
                "mean of the excess at T-1 and T (one period of the oscillation)",
            ),
            Comparison(
                "Muon: (L(T)-L*) / (log K / T)^2 over T (min..max)",
                "[summary] Thm 5.8 (bounded)",
                float("nan"),
                float(np.median(self.muon_ratio)),
                float(self.muon_ratio.min()),
                float(self.muon_ratio.max()),
                self.sizes,
                "interval = range over T",
            ),
        ]


@_in_x64
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
    p1 = _p1(task)
    lr_grid = np.asarray(gd_lr_p1, np.float64)
    dyn = jax.vmap(lambda e: run(task, "gd", e, steps=gd_steps, path="block"))(
        jnp.asarray(lr_grid / (p1 * norm**4))
    )
    gd_ex = np.asarray(dyn.loss) - l_star
    best = np.argmin(gd_ex, axis=0)
    cols = np.arange(gd_ex.shape[1])
    envelope = gd_ex[best, cols]
    group_ex = np.asarray(dyn.group_loss) - l_star  # (nG, T+1, M)
    learned_all = (group_ex <= 0.5 * group_ex[:, :1, :]).sum(axis=-1)
    learned = learned_all[best, cols]
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
        sizes=_sizes(
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


# --------------------------------------------------------------------------------------
# Prop 6.1: block symmetry of Muon's iterates.


@dataclasses.dataclass(frozen=True)
class BlockSymmetryResult:
    """Largest block-symmetry defect of the task-coordinate iterates, per rule.

    Attributes:
        sizes: task and run parameters (random orthonormal embedding, ``d > K``).
        rules: rule names.
        defect: ``(n_rules, T+1)`` ``||A_t - proj(A_t)||_F / ||A_t||_F`` with
            ``A_t = q_out^T W_t q_in``.
        max_defect: ``(n_rules,)`` maximum over ``t``.
        eps: float64 machine epsilon, the scale of "exactly symmetric".
    """

    sizes: Mapping[str, Any]
    rules: tuple[str, ...]
    defect: np.ndarray
    max_defect: np.ndarray
    eps: float

    def comparisons(self) -> list[Comparison]:
        tags = {
            "muon": "[summary] Prop 6.1",
            "gd": "[derived] (equivariance)",
            "tra_signgd": "[derived] (equivariance)",
        }
        return [
            Comparison(
                f"block-symmetry defect of {r} iterates (max over t)",
                tags.get(r, "[derived] no symmetry expected in a random basis"),
                0.0 if r in tags else float("nan"),
                float(d),
                float(d),
                float(d),
                self.sizes,
                f"float64 eps = {self.eps:.1e}",
            )
            for r, d in zip(self.rules, self.max_defect, strict=True)
        ]


@jax.jit
def _defects(params: jax.Array, task: HierarchicalTask) -> jax.Array:
    """Block-symmetry defect of each stacked iterate, in task coordinates."""
    return jax.vmap(lambda w: block_symmetry_defect(to_task(w, task), task.group_size))(
        params
    )


@_in_x64
def measure_block_symmetry(
    *,
    num_groups: int = 4,
    group_size: int = 8,
    dim: int = 48,
    beta: float = 1.5,
    alpha: float = 0.3,
    lr: float = 0.1,
    gd_lr_p1: float = 1.0,
    steps: int = 100,
    seed: int = 0,
    rules: Sequence[str] = ("muon", "gd", "tra_signgd", "signgd", "adam"),
) -> BlockSymmetryResult:
    """Do the iterates stay group-block symmetric in task coordinates?

    Runs every rule on the full ``d x d`` path with a random orthonormal embedding
    (``d > K``), maps each ``W_t`` to ``A_t = q_out^T W_t q_in`` and measures its
    distance to the block-symmetric matrices.

    References:
        SPEC B.3, Prop 6.1 [summary].
    """
    task = power_law_task(
        num_groups,
        group_size,
        beta,
        alpha=alpha,
        embedding="random",
        dim=dim,
        key=jax.random.key(seed),
        dtype=F64,
    )
    defects = []
    for rule in rules:
        eta = gd_lr_p1 / _p1(task) if rule == "gd" else lr
        dyn = run(task, rule, eta, steps=steps, path="full", keep_params=True)
        defects.append(np.asarray(_defects(dyn.params, task)))
    defect = np.stack(defects)
    return BlockSymmetryResult(
        sizes=_sizes(task, beta=beta, steps=steps, lr=lr, seed=seed),
        rules=tuple(rules),
        defect=defect,
        max_defect=defect.max(axis=1),
        eps=float(np.finfo(np.float64).eps),
    )


# --------------------------------------------------------------------------------------
# Section 6: msgn(P - Phat_t) is close to the identity.


@dataclasses.dataclass(frozen=True)
class PreconditionerResult:
    """Max-norm of ``msgn(P - Phat_t) - I`` along Muon runs, per ``(M, C)``.

    The descent phase is ``t < T_over``, the first step at which some query
    overshoots (``phat_{j|j} >= p_{j|j}``); without noise it never ends.

    Attributes:
        sizes: common parameters.
        shapes: ``(n, 2)`` the ``(M, C)`` pairs.
        bound: ``(n,)`` ``1/C + M/C``.
        deviation: ``(n,)`` max over the descent phase ``t < T*`` of
            ``max_ij |msgn(P - Phat_t) - I|_ij`` (the SPEC's matrix).
        deviation_weighted: ``(n,)`` the same for ``msgn((P - Phat_t) diag(p))``,
            Muon's actual direction (``-msgn(G_t)``).
        deviation_after: ``(n,)`` max over ``t >= T_over`` (nan when no query
            overshoots).
        t_star: ``(n,)`` ``T_over`` (``steps + 1`` when no query overshoots).
    """

    sizes: Mapping[str, Any]
    shapes: np.ndarray
    bound: np.ndarray
    deviation: np.ndarray
    deviation_weighted: np.ndarray
    deviation_after: np.ndarray
    t_star: np.ndarray

    def comparisons(self) -> list[Comparison]:
        out = []
        rows = zip(
            self.shapes,
            self.bound,
            self.deviation,
            self.deviation_weighted,
            self.deviation_after,
            strict=True,
        )
        for (m, c), b, d, dw, da in rows:
            sz = {**self.sizes, "M": int(m), "C": int(c), "K": int(m * c)}
            note = f"bound 1/C + M/C; with diag(p): {dw:.3g}"
            if np.isfinite(da):
                note += f"; after the first overshoot: {da:.3g}"
            out.append(
                Comparison(
                    "max-norm of msgn(P - Phat_t) - I before any overshoot (<= bound)",
                    "[summary] Sec. 6",
                    float(b),
                    float(d),
                    float(d),
                    float(d),
                    sz,
                    note,
                )
            )
        return out


@_in_x64
def measure_preconditioner(
    *,
    shapes: Sequence[tuple[int, int]] = (
        (2, 8),
        (4, 4),
        (4, 16),
        (8, 8),
        (8, 64),
        (16, 4),
        (16, 256),
        (32, 32),
    ),
    beta: float = 2.0,
    alpha: float = 0.0,
    lr: float = 0.1,
    steps: int = 300,
) -> PreconditionerResult:
    """Is Muon's preconditioner close to the identity, ``|msgn(P - Phat) - I|_max <=
    1/C + M/C``?

    Max-norm = largest absolute entry. Measured along Muon runs (block path) over the
    descent phase ``t < T_over`` (all ``t`` without noise: no query overshoots);
    afterwards the diagonal of the noisy residual changes sign and the deviation is
    reported separately.

    References:
        SPEC B.3, Section 6 [summary].
    """
    devs, devw, after, tstars, bounds = [], [], [], [], []
    for m, c in shapes:
        task = power_law_task(m, c, beta, alpha=alpha, dtype=F64)
        dyn = run(task, "muon", lr, steps=steps, path="block", keep_params=True)

        def deviation(x, task=task, c=c):
            st = block_state(x, task)
            out = [jnp.max(st.residual.diag)]
            for mat in (st.residual, st.grad):
                pol = block_polar(jax.tree.map(jnp.negative, mat), c)
                out.append(block_max_abs(BlockMatrix(pol.diag - 1, pol.off), c))
            return tuple(out)

        top, d, dw = (np.asarray(v) for v in jax.jit(jax.vmap(deviation))(dyn.params))
        # Descent phase: every phat_{j|j} < p_{j|j}, i.e. the diagonal of P - Phat_t
        # is positive; from the first overshoot on it changes sign.
        over = np.nonzero(top >= 0)[0]
        ts = int(over[0]) if over.size else steps + 1
        devs.append(d[:ts].max())
        devw.append(dw[:ts].max())
        after.append(d[ts:].max() if ts <= steps else np.nan)
        tstars.append(ts)
        bounds.append(1 / c + m / c)
    return PreconditionerResult(
        sizes={"beta": beta, "alpha": alpha, "lr": lr, "steps": steps},
        shapes=np.asarray(shapes),
        bound=np.asarray(bounds),
        deviation=np.asarray(devs),
        deviation_weighted=np.asarray(devw),
        deviation_after=np.asarray(after),
        t_star=np.asarray(tstars),
    )


# --------------------------------------------------------------------------------------
# Thm 6.3: TRA-SignGD with step eta follows Muon with step 2 eta.


@dataclasses.dataclass(frozen=True)
class TraSignGDResult:
    """TRA-SignGD(eta) against Muon(2 eta) and, as a control, Muon(eta).

    Attributes:
        sizes: common parameters.
        cases: ``(n, 3)`` rows ``(alpha, M, C)``.
        gap: ``(n,)`` ``max_t |L_TRA(eta)(t) - L_Muon(2 eta)(t)| / (L(0) - L*)``.
        gap_control: ``(n,)`` the same against Muon(eta).
        group_gap: ``(n,)`` max over ``t`` and groups of the per-group loss gap,
            relative to the group's initial excess.
        losses: ``(n, 3, T+1)`` losses of TRA(eta), Muon(2 eta), Muon(eta).
    """

    sizes: Mapping[str, Any]
    cases: np.ndarray
    gap: np.ndarray
    gap_control: np.ndarray
    group_gap: np.ndarray
    losses: np.ndarray

    def comparisons(self) -> list[Comparison]:
        return [
            Comparison(
                "TRA-SignGD(eta) vs Muon(2 eta): max_t |dL| / (L0 - L*)",
                "[summary] Thm 6.3",
                0.0,
                float(g),
                float(g),
                float(g),
                {**self.sizes, "alpha": float(a), "M": int(m), "C": int(c)},
                f"control Muon(eta): {gc:.3g}; per-group max {gg:.3g}",
            )
            for (a, m, c), g, gc, gg in zip(
                self.cases, self.gap, self.gap_control, self.group_gap, strict=True
            )
        ]


@_in_x64
def measure_tra_signgd(
    *,
    shapes: Sequence[tuple[int, int]] = ((4, 4), (8, 8), (8, 64), (32, 32)),
    alphas: Sequence[float] = (0.0, 0.3),
    beta: float = 2.0,
    lr: float = 0.05,
    steps: int = 400,
) -> TraSignGDResult:
    """Does TRA-SignGD with step ``eta`` follow Muon with step ``2 eta``?

    [derived] why 2: in the descent phase ``-sign(Gh) = 2 I - J`` and
    ``-msgn(Gh) ~ I - J / K``, and adding a constant to a logit column changes
    nothing, so both move each logit gap by ``2 eta`` per step, up to how far
    ``msgn`` is from ``I - J/K`` (:func:`measure_preconditioner`).

    References:
        SPEC B.3, Thm 6.3 [summary].
    """
    cases, gap, ctrl, ggap, losses = [], [], [], [], []
    for alpha in alphas:
        for m, c in shapes:
            task = power_law_task(m, c, beta, alpha=alpha, dtype=F64)
            l_star = float(optimal_loss(task))
            runs = [
                run(task, rule, e, steps=steps, path="block")
                for rule, e in (("tra_signgd", lr), ("muon", 2 * lr), ("muon", lr))
            ]
            ls = np.stack([np.asarray(d.loss) for d in runs])
            gls = np.stack([np.asarray(d.group_loss) for d in runs])
            scale = ls[0, 0] - l_star
            gap.append(np.abs(ls[0] - ls[1]).max() / scale)
            ctrl.append(np.abs(ls[0] - ls[2]).max() / scale)
            ggap.append((np.abs(gls[0] - gls[1]) / (gls[0, :1] - l_star)).max())
            losses.append(ls)
            cases.append((alpha, m, c))
    return TraSignGDResult(
        sizes={"beta": beta, "lr": lr, "steps": steps, "embedding": "identity"},
        cases=np.asarray(cases),
        gap=np.asarray(gap),
        gap_control=np.asarray(ctrl),
        group_gap=np.asarray(ggap),
        losses=np.stack(losses),
    )


# --------------------------------------------------------------------------------------
# SignGD in a random basis vs Muon at matched update norms.


@dataclasses.dataclass(frozen=True)
class SignGDResult:
    """SignGD in a random basis, Muon, TRA-SignGD and GD on one task family.

    Attributes:
        sizes: task and run parameters.
        multipliers: ``(nm,)`` SignGD steps in units of the matched step.
        matched_lr: ``(seeds,)`` SignGD step with the Frobenius norm of Muon's first
            update: ``eta ||msgn(G_0)||_F / ||sign(G_0)||_F``.
        signgd_loss: ``(seeds, nm, T+1)``; ``signgd_group_loss``: ``(seeds, nm, T+1,
            M)``.
        muon_loss, tra_loss, gd_loss: ``(T+1,)`` (no seed dependence: these rules
            are exact in task coordinates); ``*_group_loss``: ``(T+1, M)``.
        excess_ratio: ``(nm,)`` seed-mean SignGD excess at ``T`` over Muon's;
            ``seed_excess_ratio``: ``(seeds, nm)`` per basis.
        matching_multiplier: step multiplier at which SignGD's seed-mean excess at
            ``T`` equals Muon's (log-log interpolation on the grid; nan when the
            grid does not bracket it).
        imbalance: dict rule -> last group's excess at ``T`` over the first's
            (SignGD: at the matched step, seed mean); excesses are floored at
            1e-12, the float64 resolution of ``L - L*``.
        rates: dict rule -> ``(M,)`` per-group rate of ``log`` excess over
            ``[T/2, T]`` in units of ``eta r^2``.
    """

    sizes: Mapping[str, Any]
    multipliers: np.ndarray
    matched_lr: np.ndarray
    signgd_loss: np.ndarray
    signgd_group_loss: np.ndarray
    muon_loss: np.ndarray
    muon_group_loss: np.ndarray
    tra_loss: np.ndarray
    tra_group_loss: np.ndarray
    gd_loss: np.ndarray
    gd_group_loss: np.ndarray
    l_star: float
    excess_ratio: np.ndarray
    seed_excess_ratio: np.ndarray
    matching_multiplier: float
    imbalance: Mapping[str, float]
    rates: Mapping[str, np.ndarray]

    def comparisons(self) -> list[Comparison]:
        i = int(np.argmin(np.abs(self.multipliers - 1.0)))
        per_seed = self.seed_excess_ratio[:, i]
        out = [
            Comparison(
                "SignGD (random basis, matched Frobenius step): excess / Muon's at T",
                "[seed] does not match Muon without the oracle",
                1.0,
                float(self.excess_ratio[i]),
                float(per_seed.min()),
                float(per_seed.max()),
                self.sizes,
                "1 would be a match; interval = range over bases; "
                + (
                    f"SignGD needs {self.matching_multiplier:.3g} x the matched step "
                    "to reach Muon's excess at T"
                    if math.isfinite(self.matching_multiplier)
                    else "no step multiplier on the grid reaches Muon's excess at T"
                ),
            ),
        ]
        for rule, v in self.imbalance.items():
            out.append(
                Comparison(
                    f"{rule}: tail/head group excess ratio at T",
                    "[summary] uniform progress (Muon) vs imbalance",
                    1.0 if rule in ("muon", "tra_signgd") else float("nan"),
                    float(v),
                    float(v),
                    float(v),
                    self.sizes,
                )
            )
        return out


def _rates(group_loss: np.ndarray, l_star: float, eff: float) -> np.ndarray:
    t = group_loss.shape[0] - 1
    ex = group_loss - l_star
    with np.errstate(divide="ignore", invalid="ignore"):
        return -(np.log(ex[t]) - np.log(ex[t // 2])) / ((t - t // 2) * eff)


@_in_x64
def measure_signgd_random_basis(
    *,
    num_groups: int = 8,
    group_size: int = 8,
    dim: int = 64,
    beta: float = 2.0,
    alpha: float = 0.0,
    lr: float = 0.05,
    gd_lr_p1: float = 1.0,
    steps: int = 400,
    seeds: int = 4,
    multipliers: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
) -> SignGDResult:
    """SignGD in a random orthonormal basis against Muon at matched update norms.

    SignGD runs on the full ``d x d`` path (vmapped over seeds of the basis and over
    step multipliers); its matched step gives its first update the Frobenius norm of
    Muon's (``eta ||msgn(G_0)||_F / ||sign(G_0)||_F``). Muon(eta), TRA-SignGD(eta/2)
    (its Thm 6.3 twin) and GD run in task coordinates.

    References:
        SPEC B.3 (SignGD in the original basis) [seed]; SPEC B.2.
    """
    seeds = _validate.positive_int("seeds", seeds)
    mults = jnp.asarray(multipliers, F64)

    def make(key):
        return power_law_task(
            num_groups,
            group_size,
            beta,
            alpha=alpha,
            embedding="random",
            dim=dim,
            key=key,
            dtype=F64,
        )

    def one_seed(key):
        task = make(key)
        g0 = full_state(jnp.zeros((dim, dim), F64), task).grad
        matched = lr * jnp.linalg.norm(polar(g0)) / jnp.linalg.norm(jnp.sign(g0))
        dyn = jax.vmap(
            lambda mlt: run(task, "signgd", mlt * matched, steps=steps, path="full")
        )(mults)
        return matched, dyn.loss, dyn.group_loss

    keys = jax.random.split(jax.random.key(0), seeds)
    matched, sl, sgl = _np(jax.jit(jax.vmap(one_seed))(keys))
    ident = power_law_task(num_groups, group_size, beta, alpha=alpha, dtype=F64)
    l_star = float(optimal_loss(ident))
    mu = _np(run(ident, "muon", lr, steps=steps, path="block"))
    tra = _np(run(ident, "tra_signgd", lr / 2, steps=steps, path="block"))
    gd = _np(run(ident, "gd", gd_lr_p1 / _p1(ident), steps=steps, path="block"))
    mu_ex = mu.loss[-1] - l_star
    seed_ratio = (sl[:, :, -1] - l_star) / mu_ex
    ratio = (sl[:, :, -1] - l_star).mean(axis=0) / mu_ex
    mult = np.asarray(multipliers, np.float64)
    order = np.argsort(mult)
    with np.errstate(divide="ignore", invalid="ignore"):
        lr_ = np.log(ratio[order])
    cross = np.nonzero((lr_[:-1] >= 0) & (lr_[1:] < 0))[0]
    if cross.size:
        j = cross[0]
        lm = np.log(mult[order])
        w = lr_[j] / (lr_[j] - lr_[j + 1])
        matching = float(np.exp(lm[j] + w * (lm[j + 1] - lm[j])))
    else:
        matching = float("nan")
    i = int(np.argmin(np.abs(np.asarray(multipliers) - 1.0)))

    def imb(gl):
        # A converged head group has excess at rounding level (float64 resolves
        # L - L* to ~1e-15 L*): floor it at 1e-12 so the ratio stays finite.
        ex = gl[-1] - l_star
        return float(max(ex[-1], 1e-12) / max(ex[0], 1e-12))

    sign_matched = sgl[:, i].mean(axis=0)
    return SignGDResult(
        sizes={
            **_sizes(
                ident, beta=beta, steps=steps, lr=lr, seeds=seeds, gd_lr_p1=gd_lr_p1
            ),
            "d": dim,
            "embedding": "random (SignGD); identity elsewhere (exact)",
        },
        multipliers=np.asarray(multipliers),
        matched_lr=matched,
        signgd_loss=sl,
        signgd_group_loss=sgl,
        muon_loss=mu.loss,
        muon_group_loss=mu.group_loss,
        tra_loss=tra.loss,
        tra_group_loss=tra.group_loss,
        gd_loss=gd.loss,
        gd_group_loss=gd.group_loss,
        l_star=l_star,
        excess_ratio=ratio,
        seed_excess_ratio=seed_ratio,
        matching_multiplier=matching,
        imbalance={
            "muon": imb(mu.group_loss),
            "tra_signgd": imb(tra.group_loss),
            "signgd_random": imb(sign_matched),
            "gd": imb(gd.group_loss),
        },
        rates={
            "muon": _rates(mu.group_loss, l_star, lr),
            "tra_signgd": _rates(tra.group_loss, l_star, lr),
            "signgd_random": _rates(sign_matched, l_star, lr),
            "gd": _rates(gd.group_loss, l_star, lr),
        },
    )


# --------------------------------------------------------------------------------------
# Per-group dynamics of all five rules (SPEC B.4, the synthetic long-tail experiment).


def path_for(rule: str, task: HierarchicalTask) -> str:
    """The cheapest exact path of ``rule`` on ``task`` (block, task or full)."""
    if task.is_identity:
        return "block"
    return "full" if rule in ("signgd", "adam") else "task"


@_in_x64
def compare_rules(
    task_fn: Callable[[], HierarchicalTask],
    learning_rates: Mapping[str, float],
    *,
    steps: int,
) -> dict[str, Dynamics]:
    """Run several rules on one task and return their dynamics as numpy arrays.

    Args:
        task_fn: builds the task (called inside float64 mode, so pass
            ``dtype=jnp.float64`` to the constructor).
        learning_rates: rule name -> ``eta``, e.g. ``{"gd": 30., "muon": 0.1}``.
        steps: ``T``.

    Returns:
        rule name -> :class:`Dynamics` (numpy), each on :func:`path_for`'s path.

    References:
        SPEC B.4 [seed: per-group curves of GD, Muon, SignGD, TRA-SignGD, Adam].
    """
    task = task_fn()
    return {
        rule: _np(run(task, rule, lr, steps=steps, path=path_for(rule, task)))
        for rule, lr in learning_rates.items()
    }
