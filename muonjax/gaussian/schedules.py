"""Step-size schedules of the Gaussian memory's update rules (an optax schedule each).

- :func:`lr_schedule`: a schedule whose *shape* is a parameter (constant, geometric,
  polynomial, with a cap);
- :func:`gd_increasing_schedule`: Figure 5's GD schedule from ``eta_1 = 0.01
  sqrt(d)`` [seed]; its shape is not in the seeds, see :data:`DEFAULT_GD_SCHEDULE`;
- :class:`StepSize`: what a rule of :func:`muonjax.rule_spec` steps with;
- :func:`smoothed_lambda_schedule`: the multi-step theorem's smoothing
  ``lambda_t = c d_{t+1}^(-alpha) sqrt(d)`` of smoothed Muon, ``c`` a parameter.

References:
    SPEC A.3 (learning rates, smoothed Muon); Kim et al. (2026), Figures 4 and 5.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import optax

from muonjax import _validate

#: Shapes of :func:`lr_schedule`.
SCHEDULE_SHAPES = ("constant", "geometric", "polynomial")

#: Default shape of Figure 5's GD schedule (see :func:`gd_increasing_schedule`):
#: ``eta_t = min(0.01 sqrt(d) 2^(t-1), 100 sqrt(d))``.
#:
#: Why geometric: in the thresholded analysis a GD step recovers item ``i`` when
#: ``eta p_i`` clears the noise of the items before it, so reaching rank ``d_t``
#: needs ``eta_t ~ d_t^alpha``, and ``d_t`` grows geometrically in ``t`` [derived];
#: a growth factor of 2 leaves GD on its one-step plateau for its first few steps,
#: as the caption of Figure 5 describes ("initial plateau of GD in the first 3
#: steps is due to small eta_1") [seed]. Why a cap: uncapped growth diverges within
#: tens of steps (the loss explodes once ``eta`` passes the curvature of the items
#: not yet saturated). The cap ``100 sqrt(d)`` comes from a pilot (N = 4000,
#: alpha = 1.5, d = 32 and 64, 100 steps, float64 updates): caps of 30 and 100
#: ``sqrt(d)`` stayed stable at both sizes, 300 ``sqrt(d)`` diverged at d = 32 and
#: 1000 ``sqrt(d)`` spiked at d = 64. It is a tuned constant, not the paper's.
DEFAULT_GD_SCHEDULE: dict[str, Any] = {
    "shape": "geometric",
    "scale": 0.01,
    "factor": 2.0,
    "power": 2.0,
    "max_scale": 100.0,
}


def lr_schedule(
    init_value: float,
    *,
    shape: str = "geometric",
    factor: float = 2.0,
    power: float = 1.0,
    max_value: float | None = None,
) -> optax.Schedule:
    """A step-size schedule whose shape is a parameter (an optax schedule).

    With ``t = 1, 2, ...`` the update number (optax's ``count = t - 1``):

    - ``"constant"``: ``eta_t = eta_1``;
    - ``"geometric"``: ``eta_t = eta_1 factor^(t - 1)``;
    - ``"polynomial"``: ``eta_t = eta_1 t^power``;

    then ``eta_t <- min(eta_t, max_value)`` when a cap is given. ``factor < 1`` or
    ``power < 0`` give decaying schedules.

    Args:
        init_value: ``eta_1`` (> 0).
        shape: one of :data:`SCHEDULE_SHAPES`.
        factor: growth per step of ``"geometric"`` (> 0).
        power: exponent of ``"polynomial"`` (finite).
        max_value: cap (>= ``init_value``), or ``None``.

    Returns:
        ``schedule(count) -> eta_(count + 1)``, jit- and vmap-friendly.

    Example:
        >>> s = lr_schedule(0.1, shape="geometric", factor=2.0, max_value=0.5)
        >>> [round(float(s(c)), 3) for c in range(4)]
        [0.1, 0.2, 0.4, 0.5]

    References:
        SPEC A.3, learning rates: Figure 5's GD uses "an increasing schedule (see
        Theorem 5.5)" from ``eta_1 = 0.01 sqrt(d)`` [seed]; the shape is ours.
    """
    _validate.real("init_value", init_value, lower=0.0, lower_open=True)
    if shape not in SCHEDULE_SHAPES:
        raise ValueError(f"shape must be one of {SCHEDULE_SHAPES}, got {shape=!r}")
    _validate.real("factor", factor, lower=0.0, lower_open=True)
    _validate.real("power", power)
    if max_value is not None:
        _validate.real("max_value", max_value, lower=float(init_value))
    eta1, fac, pw = float(init_value), float(factor), float(power)
    cap = None if max_value is None else float(max_value)

    def schedule(count: Any) -> jax.Array:
        t = jnp.asarray(count, jnp.result_type(float)) + 1
        if shape == "constant":
            eta = jnp.full_like(t, eta1)
        elif shape == "geometric":
            eta = eta1 * fac ** (t - 1)
        else:
            eta = eta1 * t**pw
        return eta if cap is None else jnp.minimum(eta, cap)

    return schedule


@dataclasses.dataclass(frozen=True)
class StepSize:
    """A step size ``eta_t``: :func:`lr_schedule` of ``eta_1 = scale (sqrt(d))``.

    Attributes:
        scale: ``eta_1``, in units of ``sqrt(d)`` when ``per_sqrt_d``.
        per_sqrt_d: whether ``scale`` and ``max_scale`` multiply ``sqrt(d)``.
        shape, factor, power: the schedule's shape (see :func:`lr_schedule`).
        max_scale: the cap, in the units of ``scale``, or ``None``.
    """

    scale: float
    per_sqrt_d: bool = False
    shape: str = "constant"
    factor: float = 1.0
    power: float = 0.0
    max_scale: float | None = None

    def __post_init__(self) -> None:
        _validate.real("scale", self.scale, lower=0.0, lower_open=True)
        if self.max_scale is not None:
            _validate.real("max_scale", self.max_scale, lower=float(self.scale))
        lr_schedule(1.0, shape=self.shape, factor=self.factor, power=self.power)

    @property
    def constant(self) -> bool:
        """True when ``eta_t = eta_1`` for every ``t``."""
        return self.shape == "constant"

    def schedule(self, d: int) -> optax.Schedule:
        """``schedule(count) -> eta_(count + 1)`` at dimension ``d``."""
        root = math.sqrt(d) if self.per_sqrt_d else 1.0
        cap = None if self.max_scale is None else float(self.max_scale) * root
        return lr_schedule(
            float(self.scale) * root,
            shape=self.shape,
            factor=self.factor,
            power=self.power,
            max_value=cap,
        )

    def learning_rate(self, d: int) -> float | optax.Schedule:
        """What the optax optimizer takes: a float when constant, else the schedule."""
        if self.constant:
            return float(self.scale) * (math.sqrt(d) if self.per_sqrt_d else 1.0)
        return self.schedule(d)


def gd_increasing_schedule(
    d: int,
    *,
    shape: str = DEFAULT_GD_SCHEDULE["shape"],
    scale: float = DEFAULT_GD_SCHEDULE["scale"],
    factor: float = DEFAULT_GD_SCHEDULE["factor"],
    power: float = DEFAULT_GD_SCHEDULE["power"],
    max_scale: float | None = DEFAULT_GD_SCHEDULE["max_scale"],
) -> optax.Schedule:
    """Figure 5's increasing GD schedule, ``eta_1 = scale sqrt(d)``, capped.

    ``eta_t`` as in :func:`lr_schedule` with ``eta_1 = scale sqrt(d)`` and the cap
    ``max_scale sqrt(d)``. The default (:data:`DEFAULT_GD_SCHEDULE`) is
    ``min(0.01 sqrt(d) 2^(t-1), 100 sqrt(d))``; see there for why.

    Args:
        d: embedding dimension (>= 1).
        shape: ``"geometric"`` (default), ``"polynomial"`` or ``"constant"``.
        scale: ``eta_1 / sqrt(d)`` (the paper: 0.01 [seed]).
        factor: geometric growth per step (>= 1: the schedule increases).
        power: polynomial exponent (>= 0).
        max_scale: cap over ``sqrt(d)``, or ``None`` for no cap.

    References:
        SPEC A.3 and A.6 (Figure 5): "an increasing learning rate schedule (see
        Theorem 5.5) with eta_1 = 0.01 sqrt(d)" [seed]; shape and cap [derived,
        tuned on a pilot; see :data:`DEFAULT_GD_SCHEDULE`].
    """
    d = _validate.positive_int("d", d)
    return gd_step_size(shape, scale, factor, power, max_scale).schedule(d)


def gd_step_size(
    shape: str, scale: float, factor: float, power: float, max_scale: float | None
) -> StepSize:
    """GD's increasing :class:`StepSize` (validated: factor >= 1, power >= 0)."""
    _validate.real("scale", scale, lower=0.0, lower_open=True)
    _validate.real("factor", factor, lower=1.0)
    _validate.real("power", power, lower=0.0)
    return StepSize(
        float(scale),
        per_sqrt_d=True,
        shape=shape,
        factor=float(factor),
        power=float(power),
        max_scale=None if max_scale is None else float(max_scale),
    )


def smoothed_lambda_schedule(d: int, alpha: Any, c: float) -> optax.Schedule:
    """Multi-step smoothed Muon's smoothing ``lambda_t = c d_{t+1}^(-alpha) sqrt(d)``.

    Update ``t + 1`` (optax's ``count = t``, from ``W_t`` to ``W_{t+1}``) smooths
    with ``h_{lambda_t}``, where ``d_{t+1} = d^(2 - (1 - 1/(2 alpha))^(t+1))`` is the
    capacity the theorem predicts after that update
    (:func:`muonjax.theory.multi_step_capacity`, no constant) and
    ``c d_{t+1}^(-alpha) sqrt(d)`` is :func:`muonjax.theory.smoothed_muon_lambda`
    times ``c``. The singular values of the gradient are of the order of the
    frequencies ``p_i ~ i^(-alpha)``, so ``lambda_t`` leaves the directions of the
    items of rank below ``~ d_{t+1}`` polar (``h ~ 1``) and damps the rest like
    ``s / lambda_t`` (a GD step there). No cap at ``N``: past ``N`` items the
    smoothing falls below every singular value and the step is polar.

    ``alpha`` may be a traced scalar (the sweeps vmap it with the seeds), so the
    law is evaluated here in ``jnp`` rather than by the host-side theory module;
    the tests compare the two.

    Args:
        d: embedding dimension (>= 1).
        alpha: frequency exponent (> 0), a float or a traced scalar.
        c: the unknown constant of the schedule (>= 0; 0 is the polar factor).
            The theorem gives no value; it is swept and recorded (SPEC A.3).

    Returns:
        ``schedule(count) -> lambda_(count)``, jit- and vmap-friendly.

    Example:
        >>> s = smoothed_lambda_schedule(64, 1.5, 10.0)
        >>> lam = [float(s(t)) for t in range(3)]
        >>> lam[0] > lam[1] > lam[2] > 0
        True

    References:
        SPEC A.3, smoothed Muon: eta ~ sqrt(d), lambda_t ~ d_{t+1}^(-alpha) sqrt(d)
        [quoted]; the constant ``c`` and its sweep [derived].
    """
    d = _validate.positive_int("d", d)
    _validate.real("c", c, lower=0.0)
    if not isinstance(alpha, jax.Array):
        _validate.real("alpha", alpha, lower=0.0, lower_open=True)
    log_d = math.log(d)

    def schedule(count: Any) -> jax.Array:
        fdt = jnp.result_type(float)
        a = jnp.asarray(alpha, fdt)
        t1 = jnp.asarray(count, fdt) + 1
        # log d_{t+1} = (2 - (1 - 1/(2 alpha))^(t+1)) log d; lambda in logs (d_{t+1}
        # ^ -alpha underflows nothing at these sizes, but logs keep it exact).
        log_dt = (2 - (1 - 1 / (2 * a)) ** t1) * log_d
        return c * jnp.exp(0.5 * log_d - a * log_dt)

    return schedule
