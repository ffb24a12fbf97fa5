"""Newton's method for the Gaussian memory (SPEC A.3): Kronecker Hessian at ``W = 0``.

At ``W = 0`` the Hessian of the population loss is ``H[D] = Sigma_V D Sigma_U``;
the ridge step ``(H + ridge I)^(-1)[G]`` is solved exactly through the two
eigendecompositions (:func:`newton_at_zero`). Beyond ``W = 0``,
:func:`newton_cg_direction` solves with conjugate gradients on Hessian-vector
products. The generic rules (GD, Muon, SignGD) live in :mod:`muonjax._transforms`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float
from optax import ScalarOrSchedule

from muonjax import _validate
from muonjax._polar import eigh
from muonjax._precision import matmul
from muonjax._transforms import stateless
from muonjax.gaussian.scores import population_grad, sum_over_rows
from muonjax.gaussian.task import GaussianTask, check_task

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
    task: GaussianTask, *, weights: ArrayLike | None = None, dtype: Any = None
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
        dtype: dtype of the sums (e.g. float64 for a float32 task: blocks of
            :data:`muonjax.gaussian.scores.SUM_BLOCK_ROWS` items are cast, the task
            never is); default the task's.

    Returns:
        ``(Sigma_V, Sigma_U)``.

    References:
        SPEC A.3 (Newton with ridge) [derived].
    """
    check_task(task)
    p = task.p if weights is None else jnp.asarray(weights)
    _validate.shape("weights", p, (task.n,))
    dt = task.u.dtype if dtype is None else _validate.float_dtype("dtype", dtype)
    p = p.astype(dt)

    def u_term(rows, keep):
        pw = rows(p) if keep is None else jnp.where(keep, rows(p), 0)
        u = rows(task.u).astype(dt)
        return matmul((u * pw[:, None]).T, u)

    def v_term(rows, keep):
        v = rows(task.v).astype(dt)
        return matmul(v.T, v if keep is None else jnp.where(keep[:, None], v, 0))

    sigma_u = sum_over_rows(u_term, task.n, jnp.zeros((task.d_in, task.d_in), dt))
    vbar = jnp.mean(task.v.astype(dt), axis=0)
    sum_vv = sum_over_rows(v_term, task.n, jnp.zeros((task.d_out, task.d_out), dt))
    sigma_v = sum_vv / task.n - jnp.outer(vbar, vbar)
    return sigma_v, sigma_u


def kronecker_factors(
    sigma_v: Float[Array, "d_out d_out"], sigma_u: Float[Array, "d_in d_in"]
) -> KroneckerFactors:
    """Eigendecompose the two symmetric PSD factors once (eigenvalues clipped at 0).

    Each factor goes through :func:`muonjax._polar.eigh`, one matrix per LAPACK call
    (a loop under ``jax.vmap`` on the CPU): batched LAPACK calls running at the same
    time deadlock jaxlib 0.10.2's CPU thread pool (see there).
    """
    _validate.shape("sigma_v", sigma_v, (None, sigma_v.shape[0]))
    _validate.shape("sigma_u", sigma_u, (None, sigma_u.shape[0]))
    ev_v, q_v = eigh(sigma_v)
    ev_u, q_u = eigh(sigma_u)
    return KroneckerFactors(q_v, jnp.maximum(ev_v, 0), q_u, jnp.maximum(ev_u, 0))


def hessian_max_eigenvalue(factors: KroneckerFactors) -> Float[Array, ""]:
    """The largest eigenvalue of ``H = Sigma_V (.) Sigma_U``: ``max ev_v * max ev_u``.

    The eigenvalues of the Kronecker-factored Hessian are the products
    ``ev_v[k] ev_u[l]`` of the factors' (non-negative) eigenvalues.
    """
    return jnp.max(factors.ev_v) * jnp.max(factors.ev_u)


def kronecker_ridge_solve(
    g: Float[Array, "d_out d_in"],
    factors: KroneckerFactors,
    ridge: ArrayLike,
    *,
    relative: bool = False,
) -> Float[Array, "d_out d_in"]:
    """Solve ``Sigma_V X Sigma_U + ridge X = G`` through the eigendecompositions.

    ``X = Q_v [ (Q_v^T G Q_u) / (ev_v ev_u^T + ridge) ] Q_u^T``, exact for any
    ``ridge > 0`` (and for ``ridge = 0`` when both factors are definite).

    Args:
        g: right-hand side, ``(d_out, d_in)``.
        factors: from :func:`kronecker_factors`.
        ridge: Tikhonov term, >= 0 (Figure 6 uses 1e-8 [seed]).
        relative: the Tikhonov term is ``ridge * lambda_max(H)``
            (:func:`hessian_max_eigenvalue`) instead of ``ridge``. The Hessian's
            eigenvalues scale like ``d^-1 d^-alpha``, so an absolute ridge of 1e-8
            swamps a large share of them at ``alpha >= 2`` and ``d >= 128`` (SPEC A.3
            [derived]); a relative one keeps the ridge negligible, as the caption's
            "for numerical stability" intends.

    References:
        SPEC A.3 (Newton with ridge; relative ridge) [derived]; Kim et al. (2026),
        Figure 6.
    """
    _validate.shape("g", g, (factors.q_v.shape[0], factors.q_u.shape[0]))
    _validate.finite_array("g", g)
    _validate.real("ridge", ridge, lower=0.0)
    rotated = matmul(matmul(factors.q_v.T, g), factors.q_u)
    lam = jnp.asarray(ridge, g.dtype)
    if relative:
        lam = lam * hessian_max_eigenvalue(factors).astype(g.dtype)
    denom = jnp.outer(factors.ev_v, factors.ev_u) + lam
    return matmul(matmul(factors.q_v, rotated / denom), factors.q_u.T)


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


def scale_by_kronecker_inverse(
    factors: KroneckerFactors, *, ridge: ArrayLike = 1e-8, relative: bool = False
) -> optax.GradientTransformation:
    """Precondition by ``(Sigma_V (.) Sigma_U + ridge I)^(-1)``: Newton at ``W = 0``.

    The factors are fixed, so on later steps this is a Kronecker-factored
    preconditioner rather than Newton's method (use :func:`newton_cg_direction` for
    the exact Hessian there). With ``relative``, the ridge is ``ridge *
    lambda_max(H)`` (see :func:`kronecker_ridge_solve`).
    """
    _validate.real("ridge", ridge, lower=0.0)
    return stateless(
        lambda g: kronecker_ridge_solve(g, factors, ridge, relative=relative)
    )


def newton_at_zero(
    learning_rate: ScalarOrSchedule,
    task: GaussianTask,
    *,
    ridge: ArrayLike = 1e-8,
    weights: ArrayLike | None = None,
    relative_ridge: bool = False,
    dtype: Any = None,
) -> optax.GradientTransformation:
    """Newton's method with ridge, Hessian taken at ``W = 0``. SPEC A.3 [derived].

    Exact for the first step from ``W_0 = 0``; on later steps it keeps the Hessian of
    ``W = 0`` (see :func:`scale_by_kronecker_inverse`). ``relative_ridge``: the
    ridge is ``ridge * lambda_max(H)`` (the verdicts' default, SPEC A.3 [derived]);
    otherwise it is absolute (the paper's 1e-8 [seed]). ``dtype``: that of the
    Hessian factors (see :func:`hessian_factors_at_zero`).
    """
    factors = kronecker_factors(
        *hessian_factors_at_zero(task, weights=weights, dtype=dtype)
    )
    return optax.chain(
        scale_by_kronecker_inverse(factors, ridge=ridge, relative=relative_ridge),
        optax.scale_by_learning_rate(learning_rate),
    )
