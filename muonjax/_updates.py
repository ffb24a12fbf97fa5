"""Update rules (SPEC A.3) as pure functions and as ``optax.GradientTransformation``s.

Every rule maps a gradient ``g = grad L(W)`` to a direction; the optimizer then
steps ``W <- W - eta * direction``, which is the SPEC's ``W + eta * rule(G)`` with
``G = -g`` because every rule here is odd (``rule(-g) = -rule(g)``).

The ``scale_by_*`` transforms follow optax's conventions (they return the
direction; ``optax.scale_by_learning_rate`` negates and scales), and the one-line
aliases (:func:`gd`, :func:`muon_exact`, ...) give ready optimizers whose
``learning_rate`` is a float or an optax schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float
from optax import ScalarOrSchedule

from muonjax import _validate
from muonjax._polar import (
    JORDAN_COEFFS,
    CoeffsLike,
    newton_schulz,
    newton_schulz_coefficients,
    polar,
    smoothed_polar,
)
from muonjax._scores import population_grad
from muonjax._task import GaussianTask, check_task

# --------------------------------------------------------------------------------------
# Newton with ridge at W = 0: a Kronecker-factored Hessian.


class KroneckerFactors(NamedTuple):
    """Eigendecompositions of the two Hessian factors at ``W = 0``.

    ``H[D] = Sigma_V D Sigma_U`` with ``Sigma_V = Q_v diag(ev_v) Q_v^T`` and
    ``Sigma_U = Q_u diag(ev_u) Q_u^T``.
    """

    q_v: Float[Array, "d_out d_out"]
    ev_v: Float[Array, " d_out"]
    q_u: Float[Array, "d_in d_in"]
    ev_u: Float[Array, " d_in"]


def hessian_factors_at_zero(
    task: GaussianTask, *, weights: ArrayLike | None = None
) -> tuple[Float[Array, "d_out d_out"], Float[Array, "d_in d_in"]]:
    """The Kronecker factors of the Hessian of ``L`` at ``W = 0``.

    At ``W = 0`` the softmax is uniform and the second derivative of
    ``logsumexp_j s_ij`` along ``D`` is the variance of ``v_j^T D u_i`` over uniform
    ``j``, so ``H[D] = Sigma_V D Sigma_U`` with

    - ``Sigma_U = sum_i p_i u_i u_i^T``,
    - ``Sigma_V = (1/n) sum_j v_j v_j^T - vbar vbar^T``.

    Args:
        task: the task.
        weights: per-item weights replacing ``p`` in ``Sigma_U`` (for example a
            batch's empirical frequencies).

    Returns:
        ``(Sigma_V, Sigma_U)``.

    References:
        SPEC A.3 (Newton with ridge) [derived].
    """
    check_task(task)
    p = task.p if weights is None else jnp.asarray(weights)
    _validate.shape("weights", p, (task.n,))
    sigma_u = (task.u * p[:, None]).T @ task.u
    vbar = jnp.mean(task.v, axis=0)
    sigma_v = task.v.T @ task.v / task.n - jnp.outer(vbar, vbar)
    return sigma_v, sigma_u


def kronecker_factors(
    sigma_v: Float[Array, "d_out d_out"], sigma_u: Float[Array, "d_in d_in"]
) -> KroneckerFactors:
    """Eigendecompose the two symmetric PSD factors once (eigenvalues clipped at 0).

    When both factors have the same size they go through ONE stacked ``eigh``: on
    XLA's CPU runtime two batched (vmapped) LAPACK ``eigh`` calls that run at the
    same time can each block a worker of the intra-op thread pool while waiting for
    work queued on that same pool, which deadlocks a 2-core machine (seen with
    jax 0.10.2 under ``jax.jit(jax.vmap(...))`` of a Newton step). One call holds
    at most one worker.
    """
    _validate.shape("sigma_v", sigma_v, (None, sigma_v.shape[0]))
    _validate.shape("sigma_u", sigma_u, (None, sigma_u.shape[0]))
    if sigma_v.shape == sigma_u.shape:
        # One stacked eigh, never two concurrent ones (see the docstring).
        ev, q = jnp.linalg.eigh(jnp.stack([sigma_v, sigma_u]))
        (ev_v, ev_u), (q_v, q_u) = ev, q
    else:
        ev_v, q_v = jnp.linalg.eigh(sigma_v)
        ev_u, q_u = jnp.linalg.eigh(sigma_u)
    return KroneckerFactors(q_v, jnp.maximum(ev_v, 0), q_u, jnp.maximum(ev_u, 0))


def kronecker_ridge_solve(
    g: Float[Array, "d_out d_in"], factors: KroneckerFactors, ridge: ArrayLike
) -> Float[Array, "d_out d_in"]:
    """Solve ``Sigma_V X Sigma_U + ridge X = G`` through the eigendecompositions.

    ``X = Q_v [ (Q_v^T G Q_u) / (ev_v ev_u^T + ridge) ] Q_u^T``, exact for any
    ``ridge > 0`` (and for ``ridge = 0`` when both factors are definite).

    Args:
        g: right-hand side, ``(d_out, d_in)``.
        factors: from :func:`kronecker_factors`.
        ridge: Tikhonov term, >= 0 (Figure 6 uses 1e-8 [seed]).

    References:
        SPEC A.3 (Newton with ridge) [derived]; Kim et al. (2026), Figure 6.
    """
    _validate.shape("g", g, (factors.q_v.shape[0], factors.q_u.shape[0]))
    _validate.finite_array("g", g)
    _validate.real("ridge", ridge, lower=0.0)
    rotated = factors.q_v.T @ g @ factors.q_u
    denom = jnp.outer(factors.ev_v, factors.ev_u) + jnp.asarray(ridge, g.dtype)
    return factors.q_v @ (rotated / denom) @ factors.q_u.T


def newton_cg_direction(
    w: Float[Array, "d_out d_in"],
    task: GaussianTask,
    g: Float[Array, "d_out d_in"],
    *,
    ridge: ArrayLike = 1e-8,
    maxiter: int = 100,
    tol: float = 1e-6,
    block_size: int | None = None,
) -> Float[Array, "d_out d_in"]:
    """Solve ``(H(W) + ridge I) X = G`` matrix-free, by conjugate gradients.

    Beyond ``W = 0`` the Hessian is not a Kronecker product; its products with a
    direction are forward-mode derivatives of the blockwise population gradient
    (each costs about two gradient passes), and ``jax.scipy.sparse.linalg.cg``
    solves the system.

    Args:
        w: point of the Hessian, ``(d_out, d_in)``.
        task: the task.
        g: right-hand side, usually the gradient at ``w``.
        ridge: Tikhonov term, > 0 keeps the system definite.
        maxiter: most CG iterations.
        tol: CG relative residual tolerance.
        block_size: queries per block of the gradient passes.

    References:
        SPEC A.3 (Newton beyond W = 0) [derived].
    """
    _validate.real("ridge", ridge, lower=0.0)
    maxiter = _validate.positive_int("maxiter", maxiter)

    def grad_fn(x):
        return population_grad(x, task, block_size=block_size)

    def matvec(x):
        return jax.jvp(grad_fn, (w,), (x,))[1] + ridge * x

    x, _ = jax.scipy.sparse.linalg.cg(matvec, g, tol=tol, maxiter=maxiter)
    return x


# --------------------------------------------------------------------------------------
# Gradient transformations.


def _stateless(
    direction: Callable[[jax.Array], jax.Array],
) -> optax.GradientTransformation:
    def update_fn(updates, state, params=None):
        del params
        return jax.tree.map(direction, updates), state

    return optax.GradientTransformation(optax.init_empty_state, update_fn)


def scale_by_polar(*, rtol: ArrayLike | None = None) -> optax.GradientTransformation:
    """Replace each matrix update by its polar factor (exact Muon, SVD based).

    See :func:`muonjax.polar`. References: SPEC A.3 [quoted].
    """
    return _stateless(lambda g: polar(g, rtol=rtol))


class ScaleByScheduleState(NamedTuple):
    """Step counter for transforms whose parameter follows a schedule."""

    count: jax.Array  # type: ignore[assignment]  # shadows tuple.count


def scale_by_smoothed_polar(
    lam: ScalarOrSchedule, *, rtol: ArrayLike | None = None
) -> optax.GradientTransformation:
    """Replace each matrix update by ``h_lam(G) = G (G^T G + lam^2 I)^(-1/2)``.

    Args:
        lam: smoothing, a float or an optax schedule of the step count (the
            multi-step theorem uses ``lam_t ~ d_{t+1}^(-alpha) sqrt(d)`` [quoted]).
        rtol: relative zero tolerance of the singular values.

    References:
        SPEC A.3 (smoothed Muon) [quoted].
    """
    if not callable(lam):
        _validate.real("lam", lam, lower=0.0)

    def init_fn(params):
        del params
        return ScaleByScheduleState(count=jnp.zeros([], jnp.int32))

    def update_fn(updates, state, params=None):
        del params
        lam_t = lam(state.count) if callable(lam) else lam
        new = jax.tree.map(lambda g: smoothed_polar(g, lam_t, rtol=rtol), updates)
        return new, ScaleByScheduleState(count=optax.safe_increment(state.count))

    return optax.GradientTransformation(init_fn, update_fn)


def scale_by_newton_schulz(
    *,
    steps: int = 5,
    coeffs: CoeffsLike = JORDAN_COEFFS,
    safety: float = 1.0,
    eps: float = 1e-8,
) -> optax.GradientTransformation:
    """Replace each matrix update by its Newton-Schulz approximate polar factor.

    With the defaults this is optax's ``contrib.scale_by_muon`` without momentum
    (``beta=0, nesterov=False``). See :func:`muonjax.newton_schulz`.
    """
    newton_schulz_coefficients(coeffs, steps, safety=safety)  # validate now
    return _stateless(
        lambda g: newton_schulz(g, steps=steps, coeffs=coeffs, safety=safety, eps=eps)
    )


def scale_by_sign() -> optax.GradientTransformation:
    """Entrywise sign of the update (SignGD; basis dependent, SPEC B.2)."""
    return _stateless(jnp.sign)


def scale_by_kronecker_inverse(
    factors: KroneckerFactors, *, ridge: ArrayLike = 1e-8
) -> optax.GradientTransformation:
    """Precondition by ``(Sigma_V (.) Sigma_U + ridge I)^(-1)``: Newton at ``W = 0``.

    The factors are fixed, so on later steps this is a Kronecker-factored
    preconditioner rather than Newton's method (use :func:`newton_cg_direction` for
    the exact Hessian there).
    """
    _validate.real("ridge", ridge, lower=0.0)
    return _stateless(lambda g: kronecker_ridge_solve(g, factors, ridge))


# --------------------------------------------------------------------------------------
# Optimizers: one line each.


def gd(learning_rate: ScalarOrSchedule) -> optax.GradientTransformation:
    """(Stochastic) gradient descent, ``W <- W - eta_t grad``. SPEC A.3."""
    return optax.sgd(learning_rate)


def muon_exact(
    learning_rate: ScalarOrSchedule, *, rtol: ArrayLike | None = None
) -> optax.GradientTransformation:
    """Muon with the exact polar factor and no momentum. SPEC A.3 [quoted]."""
    return optax.chain(
        scale_by_polar(rtol=rtol), optax.scale_by_learning_rate(learning_rate)
    )


def muon_smoothed(
    learning_rate: ScalarOrSchedule,
    lam: ScalarOrSchedule,
    *,
    rtol: ArrayLike | None = None,
) -> optax.GradientTransformation:
    """Muon with the smoothed polar factor ``h_lam``. SPEC A.3 [quoted]."""
    return optax.chain(
        scale_by_smoothed_polar(lam, rtol=rtol),
        optax.scale_by_learning_rate(learning_rate),
    )


def muon_newton_schulz(
    learning_rate: ScalarOrSchedule,
    *,
    steps: int = 5,
    coeffs: CoeffsLike = JORDAN_COEFFS,
    safety: float = 1.0,
) -> optax.GradientTransformation:
    """Practical Muon: Newton-Schulz polar factor, no momentum. SPEC A.3 [derived]."""
    return optax.chain(
        scale_by_newton_schulz(steps=steps, coeffs=coeffs, safety=safety),
        optax.scale_by_learning_rate(learning_rate),
    )


def sign_gd(learning_rate: ScalarOrSchedule) -> optax.GradientTransformation:
    """SignGD, ``W <- W - eta_t sign(grad)``."""
    return optax.chain(scale_by_sign(), optax.scale_by_learning_rate(learning_rate))


def newton_at_zero(
    learning_rate: ScalarOrSchedule,
    task: GaussianTask,
    *,
    ridge: ArrayLike = 1e-8,
    weights: ArrayLike | None = None,
) -> optax.GradientTransformation:
    """Newton's method with ridge, Hessian taken at ``W = 0``. SPEC A.3 [derived].

    Exact for the first step from ``W_0 = 0``; on later steps it keeps the Hessian of
    ``W = 0`` (see :func:`scale_by_kronecker_inverse`).
    """
    factors = kronecker_factors(*hessian_factors_at_zero(task, weights=weights))
    return optax.chain(
        scale_by_kronecker_inverse(factors, ridge=ridge),
        optax.scale_by_learning_rate(learning_rate),
    )
