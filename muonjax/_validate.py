"""Input checks at the public boundary.

Every public function validates its arguments here and raises ``ValueError`` with a
message that names the argument and its value. Checks that need concrete values
(finiteness of an array, the value of a float) are skipped when the argument is a
tracer, so the same functions stay usable inside ``jax.jit`` and ``jax.vmap``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def printable(text: object) -> str:
    """``str(text)``, with control characters escaped: safe in a one-line message."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def is_concrete(x: object) -> bool:
    """True when ``x`` has a value now (it is not a JAX tracer)."""
    return not isinstance(x, jax.core.Tracer)


def positive_int(name: str, value: object) -> int:
    """Return ``value`` as an ``int`` if it is an integer >= 1, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= 1, got {name}={value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {name}={value!r}")
    return int(value)


def nonnegative_int(name: str, value: object) -> int:
    """Return ``value`` as an ``int`` if it is an integer >= 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= 0, got {name}={value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {name}={value!r}")
    return int(value)


def optional_positive_int(name: str, value: object) -> int | None:
    """Like :func:`positive_int`, but ``None`` passes through."""
    return None if value is None else positive_int(name, value)


def real(
    name: str,
    value: object,
    *,
    lower: float | None = None,
    upper: float | None = None,
    lower_open: bool = False,
    upper_open: bool = False,
) -> None:
    """Check that a scalar is finite and inside the given interval.

    Tracers and arrays with more than one element pass unchecked (they are checked
    where they are concrete, or not at all inside a transformation).
    """
    if not is_concrete(value):
        return
    arr = np.asarray(value)
    if arr.size != 1:
        for item in arr.ravel():
            real(
                name,
                item,
                lower=lower,
                upper=upper,
                lower_open=lower_open,
                upper_open=upper_open,
            )
        return
    v = float(arr.reshape(()))  # size-1 arrays of any rank (numpy 2 refuses 1-d)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {name}={value!r}")
    if lower is not None and (v < lower or (lower_open and v == lower)):
        op = ">" if lower_open else ">="
        raise ValueError(f"{name} must be {op} {lower}, got {name}={value!r}")
    if upper is not None and (v > upper or (upper_open and v == upper)):
        op = "<" if upper_open else "<="
        raise ValueError(f"{name} must be {op} {upper}, got {name}={value!r}")


def finite_array(name: str, x: jax.Array) -> None:
    """Raise if a concrete array holds NaN or infinity."""
    if not is_concrete(x):
        return
    if not bool(jnp.all(jnp.isfinite(x))):
        bad = int(jnp.sum(~jnp.isfinite(x)))
        raise ValueError(
            f"{name} must be finite, got {bad} non-finite entries in an array of "
            f"shape {tuple(x.shape)}"
        )


def shape(name: str, x: Any, expected: Sequence[int | None]) -> None:
    """Check the shape of an array; ``None`` in ``expected`` matches any size."""
    got = tuple(np.shape(x))
    ok = len(got) == len(expected) and all(
        e is None or g == e for g, e in zip(got, expected, strict=True)
    )
    if not ok:
        want = tuple("*" if e is None else e for e in expected)
        raise ValueError(f"{name} must have shape {want}, got {name}.shape={got}")


def float_dtype(name: str, dtype: Any) -> np.dtype:
    """Resolve a floating dtype, refusing float64 when JAX's x64 mode is off."""
    try:
        dt = jnp.dtype(dtype)
    except TypeError as err:
        raise ValueError(
            f"{name} must be a floating dtype, got {name}={dtype!r}"
        ) from err
    if not jnp.issubdtype(dt, jnp.floating):
        raise ValueError(f"{name} must be a floating dtype, got {name}={dtype!r}")
    if dt == jnp.float64 and not jax.config.read("jax_enable_x64"):
        raise ValueError(
            f"{name}=float64 needs JAX's 64-bit mode: run inside "
            "`with jax.enable_x64(True):`"
        )
    return dt
