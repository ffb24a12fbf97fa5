"""Matrix functions of one gradient: polar factor, smoothed polar, Newton-Schulz.

Each function here acts on one matrix and knows nothing about tasks or optimizers;
:mod:`muonjax.gaussian.updates` wraps them as ``optax.GradientTransformation``s.

All three act on the singular values of ``G = U diag(s) V^T``:

- :func:`polar`: ``s -> 1`` for ``s > rtol * s_max``, else ``0`` (SPEC A.3 [quoted];
  SPEC E: zero singular values map to zero, so a rank-deficient minibatch gradient
  gets no weight in its null directions).
- :func:`smoothed_polar`: ``s -> s / sqrt(s^2 + lam^2)`` (SPEC A.3 [quoted]); tends to
  :func:`polar` as ``lam -> 0``.
- :func:`newton_schulz`: an odd matrix polynomial iteration, ``X <- a X + b (X X^T) X
  + c (X X^T)^2 X``, after scaling ``G`` to unit Frobenius norm; only matrix products
  (SPEC A.3 [derived]: not in the theory).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from muonjax import _validate
from muonjax._precision import PRECISION, matmul

#: Newton-Schulz coefficients: a name, one ``(a, b, c)`` triple, or a ``(k, 3)`` table.
CoeffsLike = str | ArrayLike | Sequence[float] | Sequence[Sequence[float]]

#: Keller Jordan's quintic, optax's default: fast, but does not converge to the polar
#: factor (singular values land roughly in 0.5..1.5, SPEC E).
JORDAN_COEFFS = (3.4445, -4.7750, 2.0315)
#: Classical cubic Newton-Schulz, ``p(x) = 1.5 x - 0.5 x^3``: converges slowly.
CUBIC_COEFFS = (1.5, -0.5, 0.0)
#: Degree-5 Pade iteration ``p(x) = (15 x - 10 x^3 + 3 x^5) / 8``: converges.
QUINTIC_COEFFS = (1.875, -1.25, 0.375)
#: Polar Express per-step coefficients (Amsel, Persson, Musco, Gower 2025, Algorithm 1),
#: before their 1.01 safety factor; steps past the list repeat the last entry.
POLAR_EXPRESS_COEFFS = (
    (8.28721201814563, -23.595886519098837, 17.300387312530933),
    (4.107059111542203, -2.9478499167379106, 0.5448431082926601),
    (3.9486908534822946, -2.908902115962949, 0.5518191394370137),
    (3.3184196573706015, -2.488488024314874, 0.51004894012372),
    (2.300652019954817, -1.6689039845747493, 0.4188073119525673),
    (1.891301407787398, -1.2679958271945868, 0.37680408948524835),
    (1.8750014808534479, -1.2500016453999487, 0.3750001645474248),
    (1.875, -1.25, 0.375),
)

_NAMED_COEFFS: dict[str, CoeffsLike] = {
    "jordan": JORDAN_COEFFS,
    "cubic": CUBIC_COEFFS,
    "quintic": QUINTIC_COEFFS,
    "polar_express": POLAR_EXPRESS_COEFFS,
}


def newton_schulz_coefficients(
    coeffs: CoeffsLike, steps: int, *, safety: float = 1.0
) -> np.ndarray:
    """Per-step Newton-Schulz coefficients as a ``(steps, 3)`` array.

    Args:
        coeffs: a name (``"jordan"``, ``"cubic"``, ``"quintic"``, ``"polar_express"``),
            one triple ``(a, b, c)`` used at every step, or a ``(k, 3)`` schedule; a
            schedule shorter than ``steps`` repeats its last row.
        steps: number of iterations, >= 1.
        safety: Polar Express's safety factor: every step but the schedule's last
            row is replaced by ``(a / s, b / s^3, c / s^5)``. 1 leaves them as given.

    Returns:
        ``(steps, 3)`` float64 numpy array.
    """
    steps = _validate.positive_int("steps", steps)
    _validate.real("safety", safety, lower=1.0)
    if isinstance(coeffs, str):
        if coeffs not in _NAMED_COEFFS:
            raise ValueError(
                f"coeffs must be one of {sorted(_NAMED_COEFFS)} or numbers, "
                f"got coeffs={coeffs!r}"
            )
        coeffs = _NAMED_COEFFS[coeffs]
    table = np.atleast_2d(np.asarray(coeffs, dtype=np.float64))
    if table.ndim != 2 or table.shape[1] != 3 or table.shape[0] < 1:
        raise ValueError(
            f"coeffs must have shape (3,) or (k, 3), got shape {np.shape(coeffs)}"
        )
    if not np.all(np.isfinite(table)):
        raise ValueError(f"coeffs must be finite, got coeffs={coeffs!r}")
    if table.shape[0] > 1 and safety != 1.0:
        scale = np.array([safety, safety**3, safety**5])
        table = np.concatenate([table[:-1] / scale, table[-1:]], axis=0)
    if table.shape[0] >= steps:
        return table[:steps]
    extra = np.repeat(table[-1:], steps - table.shape[0], axis=0)
    return np.concatenate([table, extra], axis=0)


def _one_matrix_at_a_time(fn: Callable) -> Callable:
    """``fn`` of one matrix; under ``jax.vmap`` on a CPU, a loop over the batch.

    jaxlib 0.10.2's CPU LAPACK kernels (``gesdd``, ``syevd``, ...) split a *batched*
    call into tasks on XLA's intra-op thread pool and block one pool thread until
    they are done. When as many such calls run at once as the pool has threads
    (several simulated devices each running a vmapped ``svd``, or two independent
    ``eigh`` in one program), every thread waits for tasks that no thread is free to
    run: the process hangs with the CPU idle. A native stack of the hang shows every
    ``tf_XLAEigen`` thread in ``jax::ParallelBatchMap`` -> ``BlockingCounter::Wait``
    under ``lapack_dgesdd_ffi``. A call on ONE matrix does its work on the calling
    thread, so on the CPU a vmapped call becomes a sequential loop
    (``jax.custom_batching.sequential_vmap``) of single-matrix calls; other
    platforms (cuSOLVER on a GPU) keep the batched call. Each matrix goes through
    the same LAPACK routine either way, so the results are the same.
    """
    looped = jax.custom_batching.sequential_vmap(fn)

    @functools.wraps(fn)
    def call(x):
        return jax.lax.platform_dependent(x, cpu=looped, default=fn)

    return call


@_one_matrix_at_a_time
def svd(x: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``jnp.linalg.svd(x, full_matrices=False)``, safe to vmap on the CPU."""
    u, s, vt = jnp.linalg.svd(x, full_matrices=False)
    return u, s, vt


@_one_matrix_at_a_time
def eigh(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``jnp.linalg.eigh(x)`` of a symmetric matrix, safe to vmap on the CPU."""
    w, q = jnp.linalg.eigh(x)
    return w, q


def _singular_value_floor(s: jax.Array, shape: tuple[int, ...], rtol: ArrayLike | None):
    """Threshold below which a singular value counts as zero."""
    if rtol is None:
        rtol = max(shape) * jnp.finfo(s.dtype).eps
    return jnp.asarray(rtol, s.dtype) * jnp.max(s, initial=0.0)


def _check_matrix(name: str, g: jax.Array) -> None:
    _validate.shape(name, g, (None, None))
    _validate.finite_array(name, g)


def polar(
    g: Float[Array, "m n"], *, rtol: ArrayLike | None = None
) -> Float[Array, "m n"]:
    """Polar factor ``U V^T`` of ``G = U S V^T``, with zero singular values mapped to 0.

    Singular values ``s <= rtol * s_max`` count as zero, so a rank-deficient ``G``
    (a minibatch gradient with ``B < d``) gives a partial isometry, not a full
    orthogonal matrix (SPEC E).

    Args:
        g: the matrix, ``(m, n)``.
        rtol: relative tolerance; default ``max(m, n) * eps(dtype)``, the
            ``numpy.linalg.matrix_rank`` convention.

    Returns:
        ``(m, n)`` matrix with singular values in ``{0, 1}``; zero for ``G = 0``.

    References:
        SPEC A.3 (exact Muon) [quoted]; SPEC E.
    """
    _check_matrix("g", g)
    if rtol is not None:
        _validate.real("rtol", rtol, lower=0.0)
    u, s, vt = svd(g)
    keep = s > _singular_value_floor(s, g.shape, rtol)
    return matmul(u * keep.astype(g.dtype)[None, :], vt)


def smoothed_polar(
    g: Float[Array, "m n"], lam: ArrayLike, *, rtol: ArrayLike | None = None
) -> Float[Array, "m n"]:
    """Smoothed polar factor ``h_lam(G) = G (G^T G + lam^2 I)^(-1/2)``.

    Acts on singular values as ``h_lam(s) = s / sqrt(s^2 + lam^2)``; ``lam = 0`` is
    :func:`polar`. Singular values below the same floor as :func:`polar` map to 0.

    Args:
        g: the matrix, ``(m, n)``.
        lam: smoothing, >= 0 (may be traced, e.g. from a schedule).
        rtol: relative zero tolerance, as in :func:`polar`.

    References:
        SPEC A.3 (smoothed Muon) [quoted].
    """
    _check_matrix("g", g)
    _validate.real("lam", lam, lower=0.0)
    u, s, vt = svd(g)
    keep = s > _singular_value_floor(s, g.shape, rtol)
    lam = jnp.asarray(lam, s.dtype)
    safe = jnp.where(keep, s, jnp.ones_like(s))
    h = jnp.where(keep, safe / jnp.sqrt(safe**2 + lam**2), jnp.zeros_like(s))
    return matmul(u * h[None, :], vt)


def newton_schulz(
    g: Float[Array, "m n"],
    *,
    steps: int = 5,
    coeffs: CoeffsLike = JORDAN_COEFFS,
    safety: float = 1.0,
    eps: float = 1e-8,
) -> Float[Array, "m n"]:
    """Approximate polar factor by a Newton-Schulz iteration.

    ``X_0 = G / (safety * ||G||_F + eps)``, then for each step ``(a, b, c)``:
    ``A = X X^T``, ``X <- a X + (b A + c A A) X``. The iteration runs on the wide
    orientation (``X`` is transposed when it has more rows than columns) and in a
    ``lax.scan``, so its memory does not grow with the number of steps under vmap.

    Args:
        g: the matrix, ``(m, n)``.
        steps: number of iterations, >= 1.
        coeffs: coefficient name, triple or schedule (see
            :func:`newton_schulz_coefficients`); default optax's quintic
            ``(3.4445, -4.7750, 2.0315)``.
        safety: extra factor on the initial normalisation and on the schedule
            (Polar Express uses 1.01).
        eps: added to the norm, as in optax.

    Returns:
        ``(m, n)`` approximation of ``polar(G)``.

    References:
        SPEC A.3 (practical Muon) [derived]; optax ``contrib.scale_by_muon``;
        Amsel et al. (2025), The Polar Express, Algorithm 1.
    """
    _check_matrix("g", g)
    table = jnp.asarray(
        newton_schulz_coefficients(coeffs, steps, safety=safety), g.dtype
    )
    return _newton_schulz(g, table, safety, eps)


@jax.jit
def _newton_schulz(g, table, safety, eps):
    transposed = g.shape[0] > g.shape[1]
    x = g.T if transposed else g
    x = x / (safety * jnp.linalg.norm(x) + eps)

    def step(x, abc):
        a = matmul(x, x.T)
        b = abc[1] * a + abc[2] * matmul(a, a)
        return abc[0] * x + matmul(b, x), None

    x, _ = jax.lax.scan(step, x, table)
    return x.T if transposed else x


def singular_value_map(g: Float[Array, "m n"], out: Float[Array, "m n"]) -> jax.Array:
    """Singular values of ``out`` seen along ``g``'s singular vectors.

    Returns ``diag(U^T out V)`` for ``G = U S V^T``: for any map of the form
    ``U f(S) V^T`` this is ``f(s)``, so it shows what a Newton-Schulz variant does to
    each singular value of the real gradient.
    """
    u, _, vt = svd(g)
    return jnp.einsum("ik,ij,kj->k", u, out, vt, precision=PRECISION)
