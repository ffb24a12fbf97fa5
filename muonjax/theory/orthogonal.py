"""Predictions of SPEC B.3 (orthogonal memory, Li et al. 2026).

All ``[summary]`` unless marked: K pairs, constant learning rate eta, ``W_0 = 0``.
Host-side functions of floats or numpy arrays, each docstring with its SPEC tag.

References:
    Li, Wang, Zhong, Lu, Wang (2026), arXiv 2602.05725 (SPEC Part B).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from muonjax.theory._common import nonnegative, out, positive

# --------------------------------------------------------------------------------------
# SPEC B.3: orthogonal memory with a hierarchical spectrum (all [summary] unless
# marked). K pairs, constant learning rate eta, W_0 = 0.


def gd_noiseless_query_loss(t: Any, eta: Any, p: Any) -> Any:
    """GD, noiseless: per-query loss ``L_j(t) ~ 1 / (eta p_j t)``.

    Args:
        t: step (> 0).
        eta: learning rate (> 0).
        p: query frequency ``p_j`` (> 0).

    Returns:
        ``1 / (eta p t)``, broadcast.

    References:
        SPEC B.3, GD, noiseless (Thm 4.1): per-query loss L_j(t) ~ 1/(eta p_j t);
        total ~ K/(eta t) [summary].
    """
    return out(1.0 / (positive("eta", eta) * positive("p", p) * positive("t", t)))


def gd_noiseless_total_loss(t: Any, eta: Any, k: int) -> Any:
    """GD, noiseless: total loss ``~ K / (eta t)``.

    Args:
        t: step (> 0).
        eta: learning rate (> 0).
        k: number of pairs ``K`` (> 0).

    Returns:
        ``K / (eta t)``.

    References:
        SPEC B.3, GD, noiseless (Thm 4.1) [summary].
    """
    return out(positive("k", k) / (positive("eta", eta) * positive("t", t)))


def muon_noiseless_query_loss(t: Any, eta: Any, k: int) -> Any:
    """Muon, noiseless: ``L_j(t) ~ K exp(-eta t)`` for every query ``j``.

    Args:
        t: step (>= 0).
        eta: learning rate (> 0).
        k: number of pairs ``K`` (> 0).

    Returns:
        ``K exp(-eta t)`` (the same for every query: uniform progress).

    References:
        SPEC B.3, Muon, noiseless (Thm 4.2): L_j(t) ~ K exp(-eta t) for every j
        (uniform progress: exponential speedup) [summary; seed for "exponential
        speedup"].
    """
    return out(positive("k", k) * np.exp(-positive("eta", eta) * nonnegative("t", t)))


def muon_noisy_descent_time(k: int, eta: Any) -> Any:
    """Muon, noisy labels: descent lasts until ``T* ~ log K / eta``.

    Args:
        k: number of pairs ``K`` (> 1).
        eta: learning rate (> 0).

    Returns:
        ``log(K) / eta``.

    References:
        SPEC B.3, Muon, noisy (Thm 5.1): descent until T* ~ log K / eta, then
        oscillation at ~ eta^2 above L* [summary].
    """
    return out(np.log(positive("k", k)) / positive("eta", eta))


def muon_noisy_oscillation_gap(eta: Any) -> Any:
    """Muon, noisy labels: after ``T*`` the loss oscillates ``~ eta^2`` above ``L*``.

    Args:
        eta: learning rate (> 0).

    Returns:
        ``eta ** 2``.

    References:
        SPEC B.3, Muon, noisy (Thm 5.1) [summary].
    """
    return out(positive("eta", eta) ** 2)


def gd_stability_limit(p1: Any) -> Any:
    """GD stability: stable only if ``eta p_1 <~ 1``, i.e. ``eta <~ 1 / p_1``.

    Args:
        p1: the largest query frequency ``p_1`` (> 0).

    Returns:
        ``1 / p_1``, the largest stable learning rate up to a constant.

    References:
        SPEC B.3, GD stability (Prop. 5.4): stable only if eta p_1 <~ 1 [summary].
    """
    return out(1.0 / positive("p1", p1))


def gd_stability_curvature(k: Any, alpha: Any) -> Any:
    """Top eigenvalue ``lambda*`` of the per-query softmax Hessian at the noisy optimum.

    At the optimum of query ``j`` the retrieval ``q = p_{.|j}`` has ``s = 1 - alpha +
    alpha / K`` on the answer and ``u = alpha / K`` elsewhere. The Hessian of the
    cross-entropy in the logits, ``diag(q) - q q^T``, has eigenvalue 0 on the all-ones
    vector, ``u`` on the ``K - 2`` directions orthogonal to ``e_j`` and the ones, and
    ``s (1 - s + u) = alpha (1 - alpha + alpha / K)`` on the remaining one, the
    largest.

    Args:
        k: number of pairs ``K`` (>= 2).
        alpha: label noise in ``[0, 1)``.

    Returns:
        ``alpha (1 - alpha + alpha / K)`` (0 without noise).

    References:
        SPEC B.3, GD stability (Prop. 5.4): lambda* = alpha (1 - alpha + alpha / K),
        the top eigenvalue of the per-query softmax Hessian there [derived].
    """
    kk = positive("k", k)
    a = nonnegative("alpha", alpha)
    if np.any(a >= 1):
        raise ValueError(f"alpha must be < 1, got alpha={alpha!r}")
    return out(a * (1.0 - a + a / kk))


def gd_stability_edge(k: Any, alpha: Any) -> Any:
    """GD's stability edge at the noisy optimum, in units of ``eta r^4 p_1``: ``2 /
    lambda*``.

    GD on a one-hot task is separable by query: the logit column of query ``j``
    moves by ``-eta r^4 p_j grad`` of its cross-entropy, whose Hessian at the optimum
    is ``diag(q) - q q^T`` (top eigenvalue :func:`gd_stability_curvature`). Linear
    stability of the optimum needs ``eta r^4 p_j lambda* < 2`` for every ``j``; the
    most frequent query binds: ``eta r^4 p_1 < 2 / lambda*``. The summary's ``eta p_1
    <~ 1`` has this scaling in ``p_1`` and drops the constant (``2 / lambda* >= 8``,
    since ``lambda* <= 1/4``).

    Args:
        k: number of pairs ``K`` (>= 2).
        alpha: label noise in ``[0, 1)``.

    Returns:
        ``2 / lambda*``; ``inf`` without noise (no finite optimum, no edge there).

    References:
        SPEC B.3, GD stability (Prop. 5.4): stable only if eta p_1 <~ 1 [summary];
        the edge eta p_1 = 2 / lambda* [derived].
    """
    lam = np.asarray(gd_stability_curvature(k, alpha), np.float64)
    with np.errstate(divide="ignore"):
        return out(np.where(lam > 0, 2.0 / np.where(lam > 0, lam, 1.0), np.inf))


def gd_initial_stability_edge(k: Any) -> Any:
    """GD's linear-stability edge at ``W = 0``, in units of ``eta r^4 p_1``: ``2 K``.

    At ``W = 0`` every retrieval is uniform, ``q = 1 / K``, and ``diag(q) - q q^T =
    (I - J / K) / K`` has top eigenvalue ``1 / K``. Not binding: it is far above the
    noisy edge :func:`gd_stability_edge`, and without noise GD leaves ``W = 0`` in one
    step towards ever flatter regions (no finite optimum, no edge).

    Args:
        k: number of pairs ``K`` (>= 1).

    Returns:
        ``2 K``.

    References:
        SPEC B.3, GD stability: at W = 0 the edge is eta p_1 < 2K, not binding
        [derived].
    """
    return out(2.0 * positive("k", k))


def gd_scaling_law_exponent(beta: Any) -> Any:
    """GD's excess-loss exponent in ``T``: ``L(T) - L* >~ T^-(1 - 1/beta)``.

    Args:
        beta: group power-law exponent (> 1 in the theorem; > 0 accepted).

    Returns:
        ``-(1 - 1 / beta)``, the slope of ``log(L - L*)`` against ``log T`` (a
        lower bound: GD is at best this fast).

    References:
        SPEC B.3, GD scaling law, power law beta (Thm 5.7): L(T) - L* >~
        log K / T^(1 - 1/beta) [summary].
    """
    b = positive("beta", beta)
    return out(-(1.0 - 1.0 / b))


def gd_scaling_law(t: Any, k: int, beta: Any) -> Any:
    """GD's lower bound on the excess loss, ``log K / T^(1 - 1/beta)``.

    Args:
        t: number of steps ``T`` (> 0).
        k: number of pairs ``K`` (> 1).
        beta: group power-law exponent (> 0).

    Returns:
        ``log(K) * T ** -(1 - 1/beta)``.

    References:
        SPEC B.3, GD scaling law (Thm 5.7) [summary].
    """
    return out(
        np.log(positive("k", k)) * positive("t", t) ** gd_scaling_law_exponent(beta)
    )


def _power_law_weights(m: int, beta: float) -> np.ndarray:
    g = np.arange(1, m + 1, dtype=np.float64)
    w = g ** (-beta)
    return w / w.sum()


def gd_finite_m_excess(t: Any, m: int, beta: float, t1: float = 1.0) -> Any:
    """GD's excess loss with ``M`` groups: ``sum_{g <= M} ptil_g exp(-T / T_g)``.

    The form whose ``M -> infinity`` limit gives Thm 5.7's exponent (the sum
    approximated by an integral to infinity [summary]); at finite ``M`` it is the
    prediction to compare with.

    ``T_g`` from GD's dynamics [derived]: on a one-hot task GD is separable by query,
    and the logit margin ``m_j`` of query ``j`` obeys ``dm_j/dt = eta r^4 p_j K/(K-1)
    (s* - s(m_j))`` (``s`` its retrieval probability, ``s* = 1 - alpha + alpha/K``
    its optimum; noiseless: ``s* = 1``), so every time scale of query ``j`` is
    ``1 / (eta r^4 p_j)`` times a function of ``K`` and ``alpha`` alone. All queries
    of group ``g`` are alike, so ``T_g = T_1 p_1 / p_g = T_1 g^beta`` for
    ``ptil_g ~ g^-beta``.

    Args:
        t: steps ``T`` (>= 0).
        m: number of groups ``M`` (>= 1).
        beta: power-law exponent (> 0).
        t1: ``T_1``, the most frequent group's time scale (> 0).

    Returns:
        The sum at ``t`` (``ptil`` normalised to 1, so 1 at ``T = 0``).

    References:
        SPEC B.3, GD scaling law (Thm 5.7): the M -> infinity limit of
        sum_{g <= M} ptil_g exp(-T / T_g) [summary]; T_g from GD's dynamics
        [derived].
    """
    mm = int(positive("m", m))
    b = float(positive("beta", beta))
    tt = nonnegative("t", t)
    g = np.arange(1, mm + 1, dtype=np.float64)
    t_g = float(positive("t1", t1)) * g**b
    w = _power_law_weights(mm, b)
    return out(np.sum(w * np.exp(-tt[..., None] / t_g), axis=-1))


def gd_finite_m_slope(
    m: int,
    beta: float,
    windows: Any = ((2, 0.25),),
    *,
    points: int = 200,
    learned_at: float = 0.5,
) -> Any:
    """Slopes of :func:`gd_finite_m_excess` against ``T`` over learned-group windows.

    A group counts as learned once its term has fallen to ``learned_at`` of its
    initial value (``exp(-T / T_g) <= 1/2``: ``T >= T_g ln 2``), as the measurement
    counts it (:func:`muonjax.orthogonal.gd_envelope`). Window ``(lo, hi)`` is the
    range of ``T`` in which at least ``lo`` and at most ``hi M`` groups are learned;
    the slope is the least-squares line of ``log sum`` on ``log T`` over ``points``
    log-spaced ``T`` in it. It does not depend on ``T_1``. For ``beta = 1.5`` over
    ``(2, 0.25)``: -0.52 at M = 32, -0.46 at M = 128, -0.37 only at M = 65,536,
    against the ``M -> infinity`` exponent -1/3.

    Args:
        m: number of groups ``M`` (>= 8).
        beta: power-law exponent (> 0).
        windows: ``(lo, hi)`` pairs, ``1 <= lo``, ``hi < 1``.
        points: ``T`` values per window.
        learned_at: the fraction that marks a group learned, in ``(0, 1)``.

    Returns:
        One slope per window (a float for one window); NaN where a window holds no
        range (``lo > hi M``).

    References:
        SPEC B.3, GD scaling law (Thm 5.7): at finite M the sum's own slope is
        steeper (beta = 1.5: -0.52 at M = 32, -0.46 at M = 128, -0.37 only at
        M = 65,536) [derived].
    """
    mm = int(positive("m", m))
    b = float(positive("beta", beta))
    if not 0 < learned_at < 1:
        raise ValueError(f"learned_at must be in (0, 1), got {learned_at=!r}")
    if int(points) < 2:
        raise ValueError(f"points must be >= 2, got {points=!r}")
    scale = math.log(1.0 / learned_at)  # learned: T >= T_g ln(1 / learned_at)
    slopes = []
    for lo, hi in windows:
        if not (lo >= 1 and 0 < hi < 1):
            raise ValueError(f"windows need 1 <= lo and 0 < hi < 1, got {(lo, hi)}")
        g_lo, g_hi = math.ceil(lo), math.floor(hi * mm)
        if g_lo > g_hi:
            slopes.append(math.nan)
            continue
        t = np.geomspace(scale * g_lo**b, scale * (g_hi + 1) ** b, int(points))
        y = np.log(gd_finite_m_excess(t[:-1], mm, b))
        slopes.append(float(np.polyfit(np.log(t[:-1]), y, 1)[0]))
    return slopes[0] if len(slopes) == 1 else np.asarray(slopes)


def muon_scaling_law_exponent() -> float:
    """Muon's excess-loss exponent in ``T`` with ``eta ~ log K / T``: -2.

    Returns:
        ``-2.0``, the slope of ``log(L - L*)`` against ``log T`` (an upper bound: Muon
        is at least this fast).

    References:
        SPEC B.3, Muon scaling law (Thm 5.8): with eta ~ log K / T, L(T) - L* <~
        (log K / T)^2 [summary].
    """
    return -2.0


def muon_scaling_law(t: Any, k: int) -> Any:
    """Muon's upper bound on the excess loss, ``(log K / T)^2``.

    Args:
        t: number of steps ``T`` (> 0).
        k: number of pairs ``K`` (> 1).

    Returns:
        ``(log(K) / T) ** 2``.

    References:
        SPEC B.3, Muon scaling law (Thm 5.8) [summary].
    """
    return out((np.log(positive("k", k)) / positive("t", t)) ** 2)


def muon_scaling_learning_rate(t: Any, k: int) -> Any:
    """The learning rate ``eta ~ log K / T`` of Muon's scaling law.

    Args:
        t: number of steps ``T`` (> 0).
        k: number of pairs ``K`` (> 1).

    Returns:
        ``log(K) / T``.

    References:
        SPEC B.3, Muon scaling law (Thm 5.8) [summary].
    """
    return out(np.log(positive("k", k)) / positive("t", t))


def preconditioner_deviation_bound(m: Any, c: Any) -> Any:
    """Bound ``1/C + M/C`` on the max-norm of ``msgn(P - Phat_t) - I``.

    Args:
        m: number of groups ``M`` (> 0).
        c: pairs per group ``C`` (> 0).

    Returns:
        ``1/C + M/C``.

    References:
        SPEC B.3, preconditioner (Sec. 6): max-norm of msgn(P - Phat_t) - I <=
        1/C + M/C [summary].
    """
    cc = positive("c", c)
    return out(1.0 / cc + positive("m", m) / cc)


def tra_signgd_muon_step(eta: Any) -> Any:
    """TRA-SignGD with step ``eta`` follows Muon with step ``2 eta``.

    Args:
        eta: TRA-SignGD learning rate (> 0).

    Returns:
        ``2 eta``, the matching Muon learning rate.

    References:
        SPEC B.3, TRA-SignGD (Thm 6.3) [summary].
    """
    return out(2.0 * positive("eta", eta))


def label_noise_optimal_loss(k: int, noise: Any) -> Any:
    """Optimal loss ``L* = H(p_{.|j})`` under label noise ``alpha``.

    With ``p_{i|j} = (1 - a) 1[i = j] + a / K`` every query has the same conditional
    entropy, so ``L* = sum_j p_j H(p_{.|j})`` is
    ``-(1 - a + a/K) log(1 - a + a/K) - (K - 1) (a/K) log(a/K)`` whatever ``p``.

    Args:
        k: number of pairs ``K`` (>= 1).
        noise: label-noise level ``a`` in ``[0, 1)`` (SPEC B.1 calls it alpha).

    Returns:
        ``L*`` in nats (0 for ``a = 0``).

    References:
        SPEC B.1, label noise [seed: "with and without label noise"] and the optimum
        L* = sum_j p_j H(p_{.|j}) [summary].
    """
    kk = positive("k", k)
    a = nonnegative("noise", noise)
    if np.any(a >= 1):
        raise ValueError(f"noise must be < 1, got noise={noise!r}")
    top = 1.0 - a + a / kk
    off = a / kk
    with np.errstate(divide="ignore", invalid="ignore"):
        h_off = np.where(
            off > 0, -(kk - 1) * off * np.log(np.where(off > 0, off, 1)), 0
        )
    return out(-top * np.log(top) + h_off)
