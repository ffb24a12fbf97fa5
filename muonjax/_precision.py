"""The precision policy: every matrix product on a measured path states its precision.

JAX leaves the precision of a float32 matrix product to the device unless told: on
NVIDIA GPUs since Ampere the default is TF32 (10-bit mantissas), on TPUs bfloat16
passes. A count of recovered items decided by margins near zero, or a Muon step whose
direction depends on the gradient's smallest singular values, would then change with
the device, silently. So every product on the score, margin, loss and gradient paths
(and in the polar and Newton-Schulz kernels) runs at :data:`PRECISION`,
``jax.lax.Precision.HIGHEST``: float32 operands multiply and accumulate in full
float32, float64 in float64. On a CPU this is what XLA does anyway (no cost).

The one deliberate exception is the screened capacity
(:mod:`muonjax.gaussian.screened`): it scores in bfloat16 or TF32, bounds the error of
every score and recomputes at :data:`PRECISION` every item the bound cannot decide,
so its counts equal the exact ones. Its reduced-precision product states its format
too (operand dtype and ``preferred_element_type``, or a dot algorithm).

:func:`default_precision_dots` walks the jaxpr of a function and lists the products
left at the default; the test suite runs it over the public functions, and
:func:`precision_policy` is written into every manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax.extend import core as jex_core
from jax.extend import source_info_util as jex_source_info

#: The precision of every product on a measured path (float32 stays float32).
PRECISION = jax.lax.Precision.HIGHEST


def matmul(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a @ b`` at :data:`PRECISION` (full float32, or float64 for float64 inputs)."""
    return jnp.matmul(a, b, precision=PRECISION)


def precision_policy() -> dict[str, Any]:
    """The precision policy as a JSON-able dict, for manifests and benchmarks.

    Returns:
        ``{"matmul_precision": "HIGHEST", "float32": ..., "float64": ...,
        "reduced_precision": ..., "jax_default_matmul_precision": ...}`` where the
        last entry is JAX's global setting in this process (``None``: the device's
        default, which the library's products never use).
    """
    return {
        "matmul_precision": PRECISION.name,
        "float32": "operands and accumulation in float32 (no TF32 or bfloat16 passes)",
        "float64": "float64 throughout",
        "reduced_precision": "only the opt-in screened capacity (screen='bf16', "
        "'bf16x3' or 'tf32'), whose undecided items are recomputed at full "
        "precision; its counts equal the exact ones",
        "jax_default_matmul_precision": getattr(
            jax.config, "jax_default_matmul_precision", None
        ),
    }


class DotSite(NamedTuple):
    """A ``dot_general`` found in a jaxpr.

    Attributes:
        shapes: the operand shapes.
        dtypes: the operand dtypes.
        precision: the ``precision`` parameter as written in the jaxpr.
        source: where it was traced from (file:line), when JAX recorded it.
    """

    shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[str, ...]
    precision: str
    source: str


def _sub_jaxprs(value: Any) -> Iterator[Any]:
    if isinstance(value, jex_core.ClosedJaxpr):
        yield value.jaxpr
    elif isinstance(value, jex_core.Jaxpr):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _sub_jaxprs(item)


def _dot_sites(jaxpr: Any) -> Iterator[tuple[Any, Any]]:
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "dot_general":
            yield eqn, eqn.params.get("precision")
        for value in eqn.params.values():
            for sub in _sub_jaxprs(value):
                yield from _dot_sites(sub)


def _is_default(precision: Any) -> bool:
    if precision is None:
        return True
    if isinstance(precision, tuple):
        return any(p is None or p == jax.lax.Precision.DEFAULT for p in precision)
    return precision == jax.lax.Precision.DEFAULT


def _source(eqn: Any) -> str:
    return str(jex_source_info.summarize(eqn.source_info))


def default_precision_dots(
    fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> list[DotSite]:
    """The matrix products of ``fn(*args, **kwargs)`` left at the default precision.

    Traces ``fn`` (``jax.make_jaxpr``) and walks its jaxpr and every nested one
    (``jit``, ``scan``, ``while``, ``cond``, custom derivatives); a ``dot_general``
    whose ``precision`` is unset or ``DEFAULT`` is listed. Products that state
    ``HIGHEST``, ``HIGH`` or a dot algorithm are not.

    Args:
        fn: the function; ``args`` and ``kwargs`` are passed to it (non-array
            keyword arguments are closed over).

    Returns:
        One :class:`DotSite` per unstated product, in jaxpr order (empty: the
        function follows the policy).

    Example:
        >>> default_precision_dots(lambda a: a @ a, jnp.ones((2, 2)))[0].precision
        'None'
    """
    closed = jax.make_jaxpr(lambda *a: fn(*a, **kwargs))(*args)
    sites = []
    for eqn, precision in _dot_sites(closed.jaxpr):
        if _is_default(precision):
            sites.append(
                DotSite(
                    shapes=tuple(tuple(v.aval.shape) for v in eqn.invars),
                    dtypes=tuple(str(v.aval.dtype) for v in eqn.invars),
                    precision=str(precision),
                    source=_source(eqn),
                )
            )
    return sites
