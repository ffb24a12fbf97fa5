"""What the two papers predict, as plain functions of their parameters.

Every prediction of SPEC A.5 (Gaussian associative memory, Kim et al. 2026) and B.3
(orthogonal memory with a hierarchical spectrum, Li et al. 2026) is a function here,
and each docstring carries the SPEC provenance tag verbatim:

- ``[seed]``: stated in a file under ``seeds/``;
- ``[quoted]``: the paper's own formula, quoted in public notes;
- ``[summary]``: from a secondary summary, not checked against the paper's text;
- ``[derived]``: our own derivation or reading.

All the capacity, batch-size and loss-rate formulas hold *up to constants and log
factors*: they are scaling laws, to be compared with fitted exponents through a
tolerance and a confidence interval (:mod:`muonjax._verdict`), never asserted
exactly. The functions are host-side numpy: they take floats or numpy arrays and
return floats or numpy arrays.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554 (SPEC Part A).
    Li, Wang, Zhong, Lu, Wang (2026), arXiv 2602.05725 (SPEC Part B).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "QUALITATIVE_CLAIMS",
    "critical_batch_exponent",
    "critical_batch_size",
    "distinct_items_exponent",
    "distinct_items_scaling",
    "expected_distinct_items",
    "gd_noiseless_query_loss",
    "gd_noiseless_total_loss",
    "gd_one_step_capacity",
    "gd_one_step_exponent",
    "gd_recovery_threshold",
    "gd_scaling_law",
    "gd_scaling_law_exponent",
    "gd_stability_limit",
    "information_limit",
    "information_limit_exponent",
    "label_noise_optimal_loss",
    "multi_step_capacity",
    "multi_step_exponent",
    "multi_step_loss_bound",
    "muon_noiseless_query_loss",
    "muon_noisy_descent_time",
    "muon_noisy_oscillation_gap",
    "muon_one_step_capacity",
    "muon_one_step_exponent",
    "muon_scaling_law",
    "muon_scaling_law_exponent",
    "muon_scaling_learning_rate",
    "newton_one_step_capacity",
    "newton_one_step_exponent",
    "one_step_exponent",
    "out_of_batch_recoveries_bound",
    "preconditioner_deviation_bound",
    "smoothed_muon_lambda",
    "tra_signgd_muon_step",
    "two_stage_coefficients",
]

#: An update rule name: ``"muon"``, ``"gd"`` (or ``"sgd"``) or ``"newton"``.
Rule = str


# --------------------------------------------------------------------------------------
# Argument checks (host-side; every function validates at its boundary).


def _positive(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {name}={value!r}")
    return arr


def _nonnegative(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {name}={value!r}")
    return arr


def _alpha(value: Any) -> np.ndarray:
    # The theory assumes alpha > 1 [quoted]; the formulas are evaluated for any
    # alpha > 0 (Figure 1a also shows alpha <= 1 [seed]), so only alpha > 0 is
    # enforced and the caller decides whether the regime is the theorem's.
    return _positive("alpha", value)


def _out(x: np.ndarray) -> Any:
    """Return a Python float for scalars, the array otherwise."""
    return float(x) if np.ndim(x) == 0 else x


def _rule(rule: str) -> str:
    rules = ("muon", "gd", "sgd", "newton")
    if rule not in rules:
        raise ValueError(f"rule must be one of {rules}, got rule={rule!r}")
    return "gd" if rule == "sgd" else rule


# --------------------------------------------------------------------------------------
# SPEC A.5: one population step from W_0 = 0.


def muon_one_step_exponent(alpha: Any) -> Any:
    """Exponent ``C = 1 + 1/(2 alpha)`` of one population Muon step's capacity.

    One exact-Muon step from ``W_0 = 0`` on the population loss recovers about
    ``d^(1 + 1/(2 alpha))`` items (up to constants and log factors).

    Args:
        alpha: frequency exponent (> 0; the theorem assumes alpha > 1), float or
            array.

    Returns:
        ``1 + 1 / (2 alpha)``, same shape as ``alpha``.

    References:
        SPEC A.5, one population Muon step: [seed, Fig. 3 caption "ceiling"; quoted,
        t = 1 of the multi-step theorem].
    """
    a = _alpha(alpha)
    return _out(1.0 + 1.0 / (2.0 * a))


def muon_one_step_capacity(d: Any, alpha: Any) -> Any:
    """Capacity ``d^(1 + 1/(2 alpha))`` of one population Muon step (no constant).

    Args:
        d: embedding dimension (> 0), float or array.
        alpha: frequency exponent (> 0).

    Returns:
        ``d ** (1 + 1/(2 alpha))``, broadcast over ``d`` and ``alpha``.

    References:
        SPEC A.5, one population Muon step: [seed, Fig. 3 caption "ceiling"; quoted,
        t = 1 of the multi-step theorem].
    """
    dd = _positive("d", d)
    return _out(dd ** muon_one_step_exponent(alpha))


def gd_one_step_exponent(alpha: Any) -> Any:
    """Exponent ``C = 1/(2 alpha)`` of one population GD step's capacity.

    The reading behind it: at ``W_1 = eta sum_k p_k (v_k - vbar) u_k^T`` the score of
    item ``i`` is about ``p_i`` while the most frequent candidate ``j = 1`` scores
    ``p_1 u_1^T u_i ~ p_1 / sqrt(d)``, so item ``i`` is recovered when
    ``p_i >~ p_1 / sqrt(d)``, i.e. for ranks up to ``d^(1/(2 alpha))``.

    Args:
        alpha: frequency exponent (> 0).

    Returns:
        ``1 / (2 alpha)``.

    References:
        SPEC A.5, one population GD step: [derived] (item i recovered when
        p_i >~ p_1 / sqrt(d)).
    """
    a = _alpha(alpha)
    return _out(1.0 / (2.0 * a))


def gd_one_step_capacity(d: Any, alpha: Any) -> Any:
    """Capacity ``d^(1/(2 alpha))`` of one population GD step (no constant).

    Args:
        d: embedding dimension (> 0).
        alpha: frequency exponent (> 0).

    Returns:
        ``d ** (1 / (2 alpha))``.

    References:
        SPEC A.5, one population GD step: [derived].
    """
    dd = _positive("d", d)
    return _out(dd ** gd_one_step_exponent(alpha))


def gd_recovery_threshold(d: Any) -> Any:
    """Relative frequency ``p_i / p_1 >~ 1/sqrt(d)`` above which one GD step recovers.

    Args:
        d: embedding dimension (> 0).

    Returns:
        ``d ** -0.5``: item ``i`` is predicted recovered when ``p_i / p_1`` exceeds
        it (up to constants and log factors).

    References:
        SPEC A.5, one population GD step: [derived] (item i recovered when
        p_i >~ p_1 / sqrt(d)).
    """
    dd = _positive("d", d)
    return _out(dd**-0.5)


def newton_one_step_exponent(alpha: Any) -> Any:
    """Exponent of one Newton step's capacity, isotropic case: the same as Muon's.

    Args:
        alpha: frequency exponent (> 0).

    Returns:
        ``1 + 1 / (2 alpha)``.

    References:
        SPEC A.5, one Newton step, isotropic: same capacity as Muon [seed, abstract
        v2].
    """
    return muon_one_step_exponent(alpha)


def newton_one_step_capacity(d: Any, alpha: Any) -> Any:
    """Capacity of one Newton step, isotropic case: ``d^(1 + 1/(2 alpha))``.

    Args:
        d: embedding dimension (> 0).
        alpha: frequency exponent (> 0).

    Returns:
        ``d ** (1 + 1/(2 alpha))``.

    References:
        SPEC A.5, one Newton step, isotropic: same capacity as Muon [seed, abstract
        v2].
    """
    return muon_one_step_capacity(d, alpha)


def one_step_exponent(rule: Rule, alpha: Any) -> Any:
    """Predicted one-population-step capacity exponent of ``rule``.

    Args:
        rule: ``"muon"``, ``"gd"`` (or ``"sgd"``) or ``"newton"``.
        alpha: frequency exponent (> 0).

    Returns:
        :func:`muon_one_step_exponent`, :func:`gd_one_step_exponent` or
        :func:`newton_one_step_exponent` of ``alpha``.

    References:
        SPEC A.5: Muon [seed, Fig. 3 caption "ceiling"; quoted, t = 1 of the
        multi-step theorem]; GD [derived]; Newton [seed, abstract v2].
    """
    r = _rule(rule)
    if r == "gd":
        return gd_one_step_exponent(alpha)
    return muon_one_step_exponent(alpha)


def two_stage_coefficients(rule: Rule) -> tuple[float, float]:
    """Figure 2's second-stage law ``C_alpha = c1 + c2 / alpha``: ``(c1, c2)``.

    Muon ``(1, 1/2)``, GD ``(0, 1/2)``; Newton shares Muon's values (isotropic).

    Args:
        rule: ``"muon"``, ``"gd"`` (or ``"sgd"``) or ``"newton"``.

    Returns:
        ``(c1, c2)``.

    References:
        SPEC A.5, Figure 2 two-stage fit: [seed for the fit form; derived values].
    """
    r = _rule(rule)
    return (0.0, 0.5) if r == "gd" else (1.0, 0.5)


# --------------------------------------------------------------------------------------
# SPEC A.5: one minibatch step and the critical batch size.


def distinct_items_exponent(alpha: Any) -> Any:
    """Exponent ``1/alpha`` of the number of distinct items in a batch of size ``B``.

    Args:
        alpha: frequency exponent (> 1 for the law to hold; > 0 accepted).

    Returns:
        ``1 / alpha``.

    References:
        SPEC A.5, one minibatch step: capacity <= distinct items in the batch
        ~ B^(1/alpha) [seed names the line; derived formula].
    """
    a = _alpha(alpha)
    return _out(1.0 / a)


def distinct_items_scaling(batch_size: Any, alpha: Any) -> Any:
    """The information-theoretic line ``B^(1/alpha)`` (no constant).

    One minibatch step cannot recover more items than the batch holds, and a batch
    of ``B`` i.i.d. draws from a Zipf(alpha) law holds about ``B^(1/alpha)`` distinct
    items (for alpha > 1 and ``B`` below ``n^alpha``).

    Args:
        batch_size: ``B`` (> 0).
        alpha: frequency exponent (> 0).

    Returns:
        ``B ** (1 / alpha)``.

    References:
        SPEC A.5, one minibatch step: capacity <= distinct items in the batch
        ~ B^(1/alpha) [seed names the line; derived formula].
    """
    b = _positive("batch_size", batch_size)
    return _out(b ** distinct_items_exponent(alpha))


def expected_distinct_items(n: int, alpha: Any, batch_size: Any) -> Any:
    """Exact expected number of distinct items in ``B`` i.i.d. draws from Zipf(alpha).

    ``E[D] = sum_{i<=n} (1 - (1 - p_i)^B)`` with
    ``p_i = i^(-alpha) / sum_k k^(-alpha)``; it behaves like ``B^(1/alpha)`` for
    ``alpha > 1`` and ``B << n^alpha``.

    Args:
        n: number of items (integer >= 1).
        alpha: frequency exponent (>= 0), a float.
        batch_size: ``B`` (>= 1), float or array.

    Returns:
        ``E[D]``, same shape as ``batch_size``.

    References:
        SPEC A.5, one minibatch step [seed names the line; derived formula].
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got n={n!r}")
    a = float(_nonnegative("alpha", alpha))
    b = _positive("batch_size", batch_size)
    logw = -a * np.log(np.arange(1, n + 1, dtype=np.float64))
    p = np.exp(logw - logw.max())
    p /= p.sum()
    # 1 - (1 - p)^B computed as -expm1(B log1p(-p)): accurate for tiny p.
    miss = np.expm1(np.multiply.outer(b, np.log1p(-p)))
    return _out(-np.sum(miss, axis=-1))


def out_of_batch_recoveries_bound() -> float:
    """Expected recoveries of items *outside* a minibatch after one step: at most 1.

    The memory ``W_1`` is a function of the batch items only, so for an item ``i``
    not in the batch, ``(u_i, v_i)`` is independent of ``W_1`` and exchangeable with
    every other out-of-batch candidate ``j``: ``s_ii`` is the largest of the
    ``N - D`` exchangeable out-of-batch scores with probability ``1 / (N - D)``, and
    recovery needs more than that. Summing over the ``N - D`` out-of-batch items gives
    ``E[# recovered outside the batch] <= 1`` for any update rule. So "capacity <=
    distinct items" holds up to chance recoveries of expected total at most one.

    Returns:
        ``1.0``.

    References:
        SPEC A.5, one minibatch step: capacity <= distinct items in the batch
        [seed names the line; derived formula]; this chance bound is [derived].
    """
    return 1.0


def critical_batch_exponent(rule: Rule, alpha: Any) -> Any:
    """Exponent of the critical batch size ``B* ~ d^e`` of the first step.

    ``B*`` is where the information-theoretic line ``B^(1/alpha)`` meets the
    population ceiling: Muon ``d^(1 + 1/(2 alpha))`` gives ``e = alpha + 1/2``; SGD
    ``d^(1/(2 alpha))`` gives ``e = 1/2``.

    Args:
        rule: ``"muon"``, ``"sgd"`` (or ``"gd"``) or ``"newton"`` (as Muon).
        alpha: frequency exponent (> 0).

    Returns:
        ``alpha + 1/2`` (Muon, Newton) or ``1/2`` (SGD), shaped like ``alpha``.

    References:
        SPEC A.5, critical batch size: Muon B* ~ d^(alpha + 1/2); SGD B* ~ d^(1/2)
        [derived from the seed's "intersections"].
    """
    a = _alpha(alpha)
    r = _rule(rule)
    return _out(np.full_like(a, 0.5) if r == "gd" else a + 0.5)


def critical_batch_size(d: Any, alpha: Any, rule: Rule) -> Any:
    """Critical batch size ``B* ~ d^(alpha + 1/2)`` (Muon) or ``d^(1/2)`` (SGD).

    Args:
        d: embedding dimension (> 0).
        alpha: frequency exponent (> 0).
        rule: ``"muon"``, ``"sgd"`` (or ``"gd"``) or ``"newton"``.

    Returns:
        ``d ** critical_batch_exponent(rule, alpha)`` (no constant).

    References:
        SPEC A.5, critical batch size [derived from the seed's "intersections"].
    """
    dd = _positive("d", d)
    return _out(dd ** critical_batch_exponent(rule, alpha))


# --------------------------------------------------------------------------------------
# SPEC A.5: several steps.


def multi_step_exponent(t: Any, alpha: Any) -> Any:
    """Exponent ``2 - (1 - 1/(2 alpha))^t`` of ``t`` thresholded Muon steps.

    ``t = 1`` gives the one-step ``1 + 1/(2 alpha)``; ``t -> inf`` gives the
    information-theoretic 2.

    Args:
        t: number of steps (>= 0), int or array.
        alpha: frequency exponent (> 0).

    Returns:
        ``2 - (1 - 1 / (2 alpha)) ** t``.

    References:
        SPEC A.5, t Muon steps, thresholded: d_t ~ min(d^(2 - (1 - 1/(2 alpha))^t),
        B^(1/alpha)) [quoted; the paper conjectures the same for exact Muon].
    """
    tt = _nonnegative("t", t)
    a = _alpha(alpha)
    return _out(2.0 - (1.0 - 1.0 / (2.0 * a)) ** tt)


def multi_step_capacity(
    d: Any, alpha: Any, t: Any, *, batch_size: Any | None = None
) -> Any:
    """``d_t ~ min(d^(2 - (1 - 1/(2 alpha))^t), B^(1/alpha))`` (no constants).

    Args:
        d: embedding dimension (> 0).
        alpha: frequency exponent (> 0).
        t: number of steps (>= 0).
        batch_size: ``B`` for minibatch steps; ``None`` for population steps (no
            batch cap).

    Returns:
        ``d_t``.

    References:
        SPEC A.5, t Muon steps, thresholded [quoted; the paper conjectures the same
        for exact Muon].
    """
    dd = _positive("d", d)
    cap = dd ** multi_step_exponent(t, alpha)
    if batch_size is not None:
        cap = np.minimum(cap, distinct_items_scaling(batch_size, alpha))
    return _out(np.asarray(cap))


def multi_step_loss_bound(d_t: Any, alpha: Any) -> Any:
    """Loss after ``t`` thresholded Muon steps: ``L(W_t) <~ d_t^(1 - alpha)``.

    Args:
        d_t: capacity after ``t`` steps (> 0), e.g. :func:`multi_step_capacity`.
        alpha: frequency exponent (> 0).

    Returns:
        ``d_t ** (1 - alpha)`` (an upper bound up to constants and log factors).

    References:
        SPEC A.5, t Muon steps, thresholded: loss L(W_t) <~ d_t^(1 - alpha)
        [quoted; the paper conjectures the same for exact Muon].
    """
    dt = _positive("d_t", d_t)
    return _out(dt ** (1.0 - _alpha(alpha)))


def information_limit_exponent() -> float:
    """Exponent 2 of the information-theoretic limit ``~ d^2`` reached by many steps.

    Returns:
        ``2.0``.

    References:
        SPEC A.5, many steps: both Muon and GD approach the information-theoretic
        limit ~ d^2; Muon much faster early [seed].
    """
    return 2.0


def information_limit(d: Any) -> Any:
    """The information-theoretic capacity limit ``d^2`` (no constant).

    Args:
        d: embedding dimension (> 0).

    Returns:
        ``d ** 2``.

    References:
        SPEC A.5, many steps [seed].
    """
    return _out(_positive("d", d) ** information_limit_exponent())


def smoothed_muon_lambda(d: Any, alpha: Any, d_next: Any) -> Any:
    """The multi-step theorem's smoothing ``lambda_t ~ d_{t+1}^(-alpha) sqrt(d)``.

    The theorem pairs it with ``eta ~ sqrt(d)``; no constants are known.

    Args:
        d: embedding dimension (> 0).
        alpha: frequency exponent (> 0).
        d_next: the capacity targeted by the step, ``d_{t+1}`` (> 0).

    Returns:
        ``d_next ** (-alpha) * sqrt(d)``.

    References:
        SPEC A.3, smoothed Muon schedule: eta ~ sqrt(d), lambda_t ~
        d_{t+1}^(-alpha) sqrt(d) [quoted].
    """
    return _out(
        _positive("d_next", d_next) ** (-_alpha(alpha)) * np.sqrt(_positive("d", d))
    )


#: Claims of SPEC A.5 with no formula to evaluate (qualitative), with their tags.
QUALITATIVE_CLAIMS: dict[str, str] = {
    "many_steps": (
        "both Muon and GD approach the information-theoretic limit ~ d^2; Muon much "
        "faster early [seed]"
    ),
    "anisotropic_outputs": (
        "Newton unaffected by kappa; Muon's advantage shrinks as kappa grows "
        "[seed, Fig. 6 caption, partly derived]"
    ),
    "one_minibatch_step": (
        "capacity <= distinct items in the batch ~ B^(1/alpha) (the "
        '"information-theoretic rate" line) [seed names the line; derived formula]'
    ),
}


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
    return _out(1.0 / (_positive("eta", eta) * _positive("p", p) * _positive("t", t)))


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
    return _out(_positive("k", k) / (_positive("eta", eta) * _positive("t", t)))


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
    return _out(
        _positive("k", k) * np.exp(-_positive("eta", eta) * _nonnegative("t", t))
    )


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
    return _out(np.log(_positive("k", k)) / _positive("eta", eta))


def muon_noisy_oscillation_gap(eta: Any) -> Any:
    """Muon, noisy labels: after ``T*`` the loss oscillates ``~ eta^2`` above ``L*``.

    Args:
        eta: learning rate (> 0).

    Returns:
        ``eta ** 2``.

    References:
        SPEC B.3, Muon, noisy (Thm 5.1) [summary].
    """
    return _out(_positive("eta", eta) ** 2)


def gd_stability_limit(p1: Any) -> Any:
    """GD stability: stable only if ``eta p_1 <~ 1``, i.e. ``eta <~ 1 / p_1``.

    Args:
        p1: the largest query frequency ``p_1`` (> 0).

    Returns:
        ``1 / p_1``, the largest stable learning rate up to a constant.

    References:
        SPEC B.3, GD stability (Prop. 5.4): stable only if eta p_1 <~ 1 [summary].
    """
    return _out(1.0 / _positive("p1", p1))


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
    b = _positive("beta", beta)
    return _out(-(1.0 - 1.0 / b))


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
    return _out(
        np.log(_positive("k", k)) * _positive("t", t) ** gd_scaling_law_exponent(beta)
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
    return _out((np.log(_positive("k", k)) / _positive("t", t)) ** 2)


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
    return _out(np.log(_positive("k", k)) / _positive("t", t))


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
    cc = _positive("c", c)
    return _out(1.0 / cc + _positive("m", m) / cc)


def tra_signgd_muon_step(eta: Any) -> Any:
    """TRA-SignGD with step ``eta`` follows Muon with step ``2 eta``.

    Args:
        eta: TRA-SignGD learning rate (> 0).

    Returns:
        ``2 eta``, the matching Muon learning rate.

    References:
        SPEC B.3, TRA-SignGD (Thm 6.3) [summary].
    """
    return _out(2.0 * _positive("eta", eta))


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
    kk = _positive("k", k)
    a = _nonnegative("noise", noise)
    if np.any(a >= 1):
        raise ValueError(f"noise must be < 1, got noise={noise!r}")
    top = 1.0 - a + a / kk
    off = a / kk
    with np.errstate(divide="ignore", invalid="ignore"):
        h_off = np.where(
            off > 0, -(kk - 1) * off * np.log(np.where(off > 0, off, 1)), 0
        )
    return _out(-top * np.log(top) + h_off)
