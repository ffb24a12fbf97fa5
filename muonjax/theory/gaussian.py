"""Predictions of SPEC A.5 (Gaussian associative memory, Kim et al. 2026).

Every prediction is a plain host-side function of its parameters whose docstring
carries the SPEC provenance tag verbatim (``[seed]``, ``[quoted]``, ``[summary]``,
``[derived]``). The capacity, batch-size and loss-rate formulas hold *up to constants
and log factors*: they are scaling laws, compared with fitted exponents through a
tolerance and a confidence interval (:mod:`muonjax.stats.verdict`), never asserted
exactly. Functions take floats or numpy arrays and return floats or numpy arrays.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554 (SPEC Part A).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from muonjax.theory._common import alpha_exponent, nonnegative, out, positive, rule_name

#: An update rule name: ``"muon"``, ``"gd"`` (or ``"sgd"``) or ``"newton"``.
Rule = str


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
    a = alpha_exponent(alpha)
    return out(1.0 + 1.0 / (2.0 * a))


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
    dd = positive("d", d)
    return out(dd ** muon_one_step_exponent(alpha))


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
    a = alpha_exponent(alpha)
    return out(1.0 / (2.0 * a))


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
    dd = positive("d", d)
    return out(dd ** gd_one_step_exponent(alpha))


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
    dd = positive("d", d)
    return out(dd**-0.5)


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
    r = rule_name(rule)
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
    r = rule_name(rule)
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
    a = alpha_exponent(alpha)
    return out(1.0 / a)


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
    b = positive("batch_size", batch_size)
    return out(b ** distinct_items_exponent(alpha))


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
    a = float(nonnegative("alpha", alpha))
    b = positive("batch_size", batch_size)
    logw = -a * np.log(np.arange(1, n + 1, dtype=np.float64))
    p = np.exp(logw - logw.max())
    p /= p.sum()
    # 1 - (1 - p)^B computed as -expm1(B log1p(-p)): accurate for tiny p.
    miss = np.expm1(np.multiply.outer(b, np.log1p(-p)))
    return out(-np.sum(miss, axis=-1))


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
    a = alpha_exponent(alpha)
    r = rule_name(rule)
    return out(np.full_like(a, 0.5) if r == "gd" else a + 0.5)


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
    dd = positive("d", d)
    return out(dd ** critical_batch_exponent(rule, alpha))


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
    tt = nonnegative("t", t)
    a = alpha_exponent(alpha)
    return out(2.0 - (1.0 - 1.0 / (2.0 * a)) ** tt)


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
    dd = positive("d", d)
    cap = dd ** multi_step_exponent(t, alpha)
    if batch_size is not None:
        cap = np.minimum(cap, distinct_items_scaling(batch_size, alpha))
    return out(np.asarray(cap))


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
    dt = positive("d_t", d_t)
    return out(dt ** (1.0 - alpha_exponent(alpha)))


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
    return out(positive("d", d) ** information_limit_exponent())


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
    return out(
        positive("d_next", d_next) ** (-alpha_exponent(alpha))
        * np.sqrt(positive("d", d))
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
