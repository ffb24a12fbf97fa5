"""Predictions of SPEC B.3 (orthogonal memory, Li et al. 2026).

All ``[summary]`` unless marked: K pairs, constant learning rate eta, ``W_0 = 0``.
Host-side functions of floats or numpy arrays, each docstring with its SPEC tag.

References:
    Li, Wang, Zhong, Lu, Wang (2026), arXiv 2602.05725 (SPEC Part B).
"""

from __future__ import annotations

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
