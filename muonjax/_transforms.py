"""Generic update rules as ``optax.GradientTransformation``s (SPEC A.3, B.2).

Every rule maps a gradient ``g`` to a direction; the optimizer steps
``W <- W - eta * direction``, the SPEC's ``W + eta * rule(G)`` with ``G = -g``, because
every rule here is odd (``rule(-g) = -rule(g)``). The ``scale_by_*`` transforms follow
optax's conventions (they return the direction; ``optax.scale_by_learning_rate`` negates
and scales) and the one-line aliases (:func:`gd`, :func:`muon_exact`, ...) give ready
optimizers whose ``learning_rate`` is a float or an optax schedule. They depend only on
the matrix kernels of :mod:`muonjax._polar`, so every family (Gaussian, orthogonal,
transformer) uses the same ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jaxtyping import ArrayLike
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

# --------------------------------------------------------------------------------------
# Gradient transformations.


def stateless(
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
    return stateless(lambda g: polar(g, rtol=rtol))


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
    return stateless(
        lambda g: newton_schulz(g, steps=steps, coeffs=coeffs, safety=safety, eps=eps)
    )


def scale_by_sign() -> optax.GradientTransformation:
    """Entrywise sign of the update (SignGD; basis dependent, SPEC B.2)."""
    return stateless(jnp.sign)


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
