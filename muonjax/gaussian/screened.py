"""Screened recovery: reduced-precision scores, a rigorous bound, an exact recheck.

The capacity pass decides, for every query ``i``, the sign of its margin
``m_i = s_it - max_{j != t} s_ij`` (SPEC A.4). Most margins are far from zero, so a
cheap approximate score decides them; only the few near zero need the exact one.
:func:`screened_recovery` therefore

1. scores every query in a reduced-precision format with float32 accumulation
   (:data:`SCREENS`; tensor cores on a GPU),
2. bounds the error of every approximate score against the exact path's float32
   score, from the inputs' norms and the format's unit roundoff
   (:func:`score_error_coefficient`),
3. decides every query whose approximate margin is farther from zero than the
   bound of its error, and
4. recomputes every other query exactly, in blocks of the exact pass's shape and
   with the exact pass's kernel (:func:`muonjax.gaussian.scores.target_scores`,
   :func:`~muonjax.gaussian.scores.rival_scores`).

So its recovered set equals the exact pass's bit for bit (ties included: a tie has
margin 0, never farther than a positive bound, so it is always rechecked). The
recheck relies on one property of the device's matrix product: a row's scores come
out the same wherever the row sits in a block of the same shape (one kernel, one
summation order per output). The tests check it on the CPU (rechecked margins equal
the exact pass's bit for bit, at block sizes that do and do not divide ``n``);
``benchmarks/gpu_check.py`` checks the counts on a GPU.

**The bound** [derived]. Let ``a_i = W u_i`` (the same float32 array in both paths),
``s_ij`` the real dot ``a_i . v_j``, ``s~_ij`` the exact path's float32 score and
``s^_ij`` the screened one. With ``gamma(k) = 2 (k + 2) u_acc`` (twice the worst case of
a ``k``-term float32 sum in any order, with truncating adds, ``u_acc = 2^-23``, which
covers the blockwise alignment of tensor cores) and Cauchy-Schwarz,
``sum_k |a_k v_k| <= ||a|| ||v||``:

- exact path: ``|s~ - s| <= 2 (d + 2) 2^-24 ||a|| ||v||`` (float32 accumulation);
- ``"bf16"`` and ``"tf32"`` (operands rounded to nearest, unit roundoff ``u`` =
  2^-8 or 2^-11; their products are exact in float32):
  ``|s^ - s| <= (2u + u^2 + gamma(d) (1 + u)^2) ||a|| ||v||``;
- ``"bf16x3"`` (each operand split into ``hi = bf16(x)`` and ``lo = bf16(x - hi)``,
  ``s^ = hi_a.hi_v + lo_a.hi_v + hi_a.lo_v``, one product over ``3d`` terms; the
  dropped terms are below ``(3u^2 + 2u^3) sum |a_k v_k|``):
  ``|s^ - s| <= (3u^2 + 2u^3 + gamma(3d) (1 + u)^2 (1 + 2u)) ||a|| ||v||``.

Summing, ``|s^_ij - s~_ij| <= kappa ||a_i|| ||v_j||`` and
``|m^_i - m~_i| <= 2 kappa ||a_i|| max_j ||v_j||``. The threshold adds a relative
``2^-10 + d 2^-22`` for the rounding of the norms and of the margin itself, and an
absolute ``(6d + 8) 2^-126 (1 + ||a_i|| + max_j ||v_j||)`` for products that
underflow. A non-finite bound or margin decides nothing.

**On a CPU** the reduced-precision product is emulated (``emulate=None`` picks it on
CPUs): the rounded operands are multiplied in float32 at ``HIGHEST``, which is exact
for the products and accumulates in float32, as tensor cores do; correct, not fast.
On a GPU the operands are bfloat16 arrays multiplied with float32 accumulation
(``DotAlgorithmPreset.BF16_BF16_F32``), or TF32-rounded float32 arrays multiplied
with ``DotAlgorithmPreset.TF32_TF32_F32``.

References:
    SPEC A.4 (recovery, ties); N. J. Higham, *Accuracy and Stability of Numerical
    Algorithms* (2002), Sec. 3.1 (the summation bound); M. Fasi, N. J. Higham,
    M. Mikaitis, S. Pranesh (2021), Numerical behavior of NVIDIA tensor cores,
    PeerJ Comput. Sci. 7:e330 (products exact, truncating aligned accumulation).
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from muonjax._precision import matmul
from muonjax.gaussian.scores import (
    _pad_rows,
    default_block_size,
    rival_scores,
    target_scores,
)

#: Reduced-precision formats of the screening pass: ``"bf16"`` (one bfloat16
#: product), ``"bf16x3"`` (three bfloat16 products of split operands, near float32
#: accuracy for three times the products), ``"tf32"`` (one TF32 product).
SCREENS = ("bf16", "bf16x3", "tf32")

#: Unit roundoff of each format's operand rounding (round to nearest even).
UNIT_ROUNDOFF = {"bf16": 2.0**-8, "bf16x3": 2.0**-8, "tf32": 2.0**-11}


def check_screen(screen: object) -> str:
    """Return ``screen`` if it names a format of :data:`SCREENS`, else raise."""
    if screen not in SCREENS:
        raise ValueError(f"screen must be one of {SCREENS}, got screen={screen!r}")
    return str(screen)


def score_error_coefficient(screen: str, d: int, dtype: Any = jnp.float32) -> float:
    """``kappa`` with ``|s^_ij - s~_ij| <= kappa ||a_i|| ||v_j||`` (see the module).

    Args:
        screen: one of :data:`SCREENS`.
        d: the dimension of the scores' dot products (``d_out``).
        dtype: dtype of the exact path's scores (float32, or float64).

    Returns:
        The coefficient, a Python float.
    """
    screen = check_screen(screen)
    u = UNIT_ROUNDOFF[screen]
    u_exact = float(jnp.finfo(dtype).eps) / 2
    exact = 2 * (d + 2) * u_exact

    def gamma(k: int) -> float:  # float32 accumulation, any order, truncating adds
        return 2 * (k + 2) * 2.0**-23

    if screen == "bf16x3":
        approx = 3 * u**2 + 2 * u**3 + gamma(3 * d) * (1 + u) ** 2 * (1 + 2 * u)
    else:
        approx = 2 * u + u**2 + gamma(d) * (1 + u) ** 2
    return approx + exact


class ScreenedPass(NamedTuple):
    """What :func:`screened_recovery` returns.

    Attributes:
        recovered: ``(m,)`` recovery mask, equal to ``exact_margins > 0``.
        rechecked: ``(m,)`` the queries recomputed exactly (their screened margin
            was within its error bound of zero).
        margins: ``(m,)`` the exact margin of rechecked queries, the screened one
            (within ``bound`` of the exact one, same sign) of the others.
        bound: ``(m,)`` the bound on ``|screened margin - exact margin|``.
    """

    recovered: Bool[Array, " m"]
    rechecked: Bool[Array, " m"]
    margins: Float[Array, " m"]
    bound: Float[Array, " m"]


def _rounded_operands(
    x: jax.Array, screen: str, which: str, emulate: bool
) -> jax.Array:
    """The reduced-precision pieces of ``x``, side by side along the contraction.

    ``(rows, d)`` -> ``(rows, d)``, or ``(rows, 3d)`` for ``"bf16x3"``: bfloat16
    arrays, or float32 arrays holding bfloat16 or TF32 values (``emulate``, and
    ``"tf32"``, whose product takes float32 operands).
    """
    f32 = jnp.float32
    if screen == "tf32":
        return jax.lax.reduce_precision(
            x.astype(f32), exponent_bits=8, mantissa_bits=10
        )
    hi = x.astype(jnp.bfloat16)
    if screen == "bf16":
        pieces = [hi]
    else:
        lo = (x.astype(f32) - hi.astype(f32)).astype(jnp.bfloat16)  # x - hi is exact
        # s^ = hi_a.hi_v + lo_a.hi_v + hi_a.lo_v: one product over 3d terms.
        pieces = [hi, lo, hi] if which == "queries" else [hi, hi, lo]
    out = jnp.concatenate(pieces, axis=1)
    return out.astype(f32) if emulate else out


def _screen_product(a_s: jax.Array, v_s: jax.Array, screen: str, emulate: bool):
    """``(b, K) x (n, K) -> (b, n)`` float32 scores of the rounded operands."""
    if emulate:
        return matmul(a_s, v_s.T)  # exact products, float32 accumulation
    dims = (((1,), (1,)), ((), ()))
    if screen == "tf32":
        algorithm = jax.lax.DotAlgorithmPreset.TF32_TF32_F32
        return jax.lax.dot_general(a_s, v_s, dims, precision=algorithm)
    return jax.lax.dot_general(
        a_s,
        v_s,
        dims,
        precision=jax.lax.DotAlgorithmPreset.BF16_BF16_F32,
        preferred_element_type=jnp.float32,
    )


@functools.partial(jax.jit, static_argnames=("screen", "block_size", "emulate"))
def _screened(w, u_q, targets, v, screen, block_size, emulate):
    m = u_q.shape[0]
    n, d_out = v.shape
    block = default_block_size(n, m) if block_size is None else min(block_size, m)
    n_blocks = math.ceil(m / block)
    pad = n_blocks * block - m
    dtype = jnp.result_type(w, v)

    a = matmul(u_q, w.T)  # the exact pass's queries, bit for bit
    a_s = _rounded_operands(a, screen, "queries", emulate)
    v_s = _rounded_operands(v, screen, "candidates", emulate)

    # Threshold per query (module docstring): 2 kappa ||a_i|| max_j ||v_j||, with
    # room for the rounding of the norms and of the margin, plus underflow.
    kappa = score_error_coefficient(screen, d_out, dtype)
    f32 = jnp.float32
    a_norm = jnp.linalg.norm(a.astype(f32), axis=1)
    v_max = jnp.max(jnp.linalg.norm(v.astype(f32), axis=1))
    slack = 1 + 2.0**-10 + d_out * 2.0**-22
    tiny = (6 * d_out + 8) * 2.0**-126  # two scores of up to 3d underflowing terms
    bound = 2 * kappa * slack * a_norm * v_max + tiny * (1 + a_norm + v_max)

    blocks = (
        _pad_rows(a_s, pad).reshape(n_blocks, block, -1),
        _pad_rows(targets, pad).reshape(n_blocks, block),
    )

    def screen_block(_, blk):
        a_b, t_b = blk
        s = _screen_product(a_b, v_s, screen, emulate)
        s_t = target_scores(s, t_b)
        return None, s_t - rival_scores(s, t_b, after=s_t)

    _, approx = jax.lax.scan(screen_block, None, blocks)
    approx = approx.reshape(-1)[:m]
    # Decided: |m^| (1 - 2^-23) > bound. NaN or inf on either side decides nothing.
    decided = jnp.abs(approx) * (1 - 2.0**-23) > bound
    rechecked = ~decided

    # Recheck: the undecided queries first, in blocks of the exact pass's shape.
    count = jnp.sum(rechecked, dtype=jnp.int32)
    order = jnp.argsort(decided, stable=True).astype(jnp.int32)
    order = _pad_rows(order, pad)

    def cond(carry):
        i, _ = carry
        return i * block < count

    def body(carry):
        i, margins = carry
        pos = i * block + jnp.arange(block, dtype=jnp.int32)
        idx = jax.lax.dynamic_slice_in_dim(order, i * block, block)
        t_b = targets[idx]
        s = matmul(a[idx], v.T)  # as in the exact pass: same shapes, same kernel
        s_t = target_scores(s, t_b)
        exact = s_t - rival_scores(s, t_b, after=s_t)
        write = jnp.where(pos < count, idx, m)  # out of range: dropped
        return i + 1, margins.at[write].set(exact.astype(margins.dtype), mode="drop")

    init = (jnp.zeros((), jnp.int32), approx.astype(dtype))
    _, margins = jax.lax.while_loop(cond, body, init)
    return ScreenedPass(
        recovered=margins > 0, rechecked=rechecked, margins=margins, bound=bound
    )


def screened_recovery(
    w: Float[Array, "d_out d_in"],
    u_q: Float[Array, "m d_in"],
    targets: Int[Array, " m"],
    v: Float[Array, "n d_out"],
    *,
    screen: str = "bf16x3",
    block_size: int | None = None,
    emulate: bool | None = None,
) -> ScreenedPass:
    """Recovery of every query, screened in reduced precision, exact where needed.

    Query ``i`` (row ``i`` of ``u_q``, target ``targets[i]``) is recovered when its
    exact margin ``s_it - max_{j != t} s_ij`` is > 0 (a tie is not a recovery, SPEC
    A.4). The result equals ``blockwise_pass(...).margins > 0`` bit for bit; the
    method, the bound and its derivation are in the module docstring.

    Args:
        w: memory, ``(d_out, d_in)``.
        u_q: query inputs, ``(m, d_in)``.
        targets: index of each query's target in ``v``, ``(m,)``.
        v: candidate outputs, ``(n, d_out)``.
        screen: the reduced-precision format, one of :data:`SCREENS`.
        block_size: queries per block, as in the exact pass (the recheck uses the
            exact pass's block shape); ``None``: :func:`default_block_size`.
        emulate: multiply the rounded operands in float32 (exact products, float32
            accumulation) instead of in the reduced format; default: on CPUs only.

    Returns:
        A :class:`ScreenedPass`; ``rechecked.sum()`` is the number of queries scored
        twice.

    References:
        SPEC A.4; the module docstring.
    """
    screen = check_screen(screen)
    for name, x in (("w", w), ("u_q", u_q), ("v", v)):
        if jnp.result_type(x) != jnp.float32:
            raise ValueError(
                f"screened recovery bounds float32 scores; {name} has dtype "
                f"{jnp.result_type(x)} (use the exact pass for other dtypes)"
            )
    if emulate is None:
        emulate = jax.default_backend() == "cpu"
    return _screened(w, u_q, targets, v, screen, block_size, bool(emulate))
