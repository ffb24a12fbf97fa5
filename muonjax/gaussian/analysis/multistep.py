"""Multi-step dynamics from ``W_0 = 0``: schedules, cells, sweeps and their analysis.

Kim et al. (2026) Figures 4 and 5 follow ``T`` steps of Muon (and GD) on the
population or minibatch loss, with the exact gradient or the thresholded one
(recovered items removed), and read the capacity off every step. This module holds
the pieces those figures share:

- **Schedules.** :func:`lr_schedule` (an optax schedule whose *shape* is a
  parameter: constant, geometric, polynomial, with a cap) and
  :func:`gd_increasing_schedule`, Figure 5's GD schedule from
  ``eta_1 = 0.01 sqrt(d)`` [seed]; its shape is not in the seeds, see
  :data:`DEFAULT_GD_SCHEDULE` for the default and why.
- **Cells.** :func:`multi_step_optimizer` (a named rule: ``gd``, ``muon``,
  ``muon_ns``, ``muon_ns<k>``) and :func:`multi_step_cell`, the sweep cell function:
  ``T`` steps of :func:`muonjax.train` (or :func:`muonjax.train_early_stopping`),
  one record row per step with a ``step`` column.
- **Sweeps.** :func:`multi_step_sweep`, the grid ``d x rule x deflate x alpha
  (x batch size)``.
- **Analysis from records.** :func:`step_curves` (capacity against step per seed),
  :func:`capacity_after` (capacity after ``T`` steps), :func:`stopping_steps`,
  :func:`final_capacity`, :func:`step_exponent_fits` (one power law in ``d`` per
  step, Figure 4e), :func:`step_gain_fits` (the exponent of ``d_T / d_1``), and
  :func:`paired_ratio` (e.g. Muon's capacity over GD's at a step, with a bootstrap
  over seeds), :func:`capacity_ratio` (one rule over another per group, e.g.
  Newton-Schulz over exact Muon) and :func:`newton_schulz_reach` (the smallest
  relative singular value a Newton-Schulz iteration lifts to a level).

Rows after an early stop: :func:`muonjax.train_early_stopping` keeps ``W`` at its
stopping step and leaves later entries unused, so record rows with ``step >
stop_step`` hold ``count = prefix = -1`` and NaN loss; the analysis functions carry
the stopped state forward (the run's capacity after ``T`` steps is the capacity at
its stop when it stopped earlier) unless told otherwise.

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Theorems 5.4 and 5.5,
    Figures 4 and 5; SPEC A.3 (updates, thresholded update, learning rates), A.4
    (measures), A.5 (multi-step predictions), A.6 (figures), Part D (fits).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from muonjax import _validate
from muonjax._polar import newton_schulz_coefficients
from muonjax._transforms import gd, muon_exact, muon_newton_schulz
from muonjax.engine.sweep import Scalar, Sweep
from muonjax.engine.table import Table
from muonjax.gaussian.cells import sweep_block_size
from muonjax.gaussian.loop import train, train_early_stopping
from muonjax.gaussian.task import sample_task
from muonjax.stats.bootstrap import paired_ratio
from muonjax.stats.fit import FitResult, fit_power_law, fit_step_exponents

__all__ = [
    "DEFAULT_GD_SCHEDULE",
    "MULTI_STEP_METRICS",
    "SCHEDULE_SHAPES",
    "capacity_after",
    "capacity_ratio",
    "final_capacity",
    "gd_increasing_schedule",
    "lr_schedule",
    "multi_step_cell",
    "multi_step_optimizer",
    "multi_step_sweep",
    "newton_schulz_reach",
    "paired_ratio",
    "parse_rule",
    "step_curves",
    "step_exponent_fits",
    "step_gain_fits",
    "stopping_steps",
]

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

#: Metric columns of :func:`multi_step_cell`, in order.
MULTI_STEP_METRICS = (
    "loss",
    "count",
    "prefix",
    "weighted_accuracy",
    "lr",
    "stop_step",
)

_MEASURES = ("count", "prefix", "weighted_accuracy", "loss")


# --------------------------------------------------------------------------------------
# Schedules.


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

    Returns:
        An optax schedule.

    References:
        SPEC A.3 and A.6 (Figure 5): "an increasing learning rate schedule (see
        Theorem 5.5) with eta_1 = 0.01 sqrt(d)" [seed]; shape and cap [derived,
        tuned on a pilot; see :data:`DEFAULT_GD_SCHEDULE`].
    """
    d = _validate.positive_int("d", d)
    _validate.real("scale", scale, lower=0.0, lower_open=True)
    _validate.real("factor", factor, lower=1.0)
    _validate.real("power", power, lower=0.0)
    root = math.sqrt(d)
    cap = None
    if max_scale is not None:
        _validate.real("max_scale", max_scale, lower=float(scale))
        cap = float(max_scale) * root
    return lr_schedule(
        float(scale) * root, shape=shape, factor=factor, power=power, max_value=cap
    )


# --------------------------------------------------------------------------------------
# Rules, the cell function and the sweep.

_NS_RULE = re.compile(r"^muon_ns(\d*)$")


def parse_rule(rule: str, *, ns_steps: int = 5) -> tuple[str, int | None]:
    """Split a multi-step rule name into its base rule and Newton-Schulz steps.

    ``"gd"`` and ``"muon"`` (exact polar factor) have no Newton-Schulz steps;
    ``"muon_ns"`` has ``ns_steps``; ``"muon_ns<k>"`` (e.g. ``"muon_ns10"``) has ``k``.
    Naming the step count in the rule keeps a sweep's grid free of duplicate cells
    (GD or exact Muon crossed with a step-count axis).

    Returns:
        ``(base, steps)`` with ``base`` in ``("gd", "muon", "muon_ns")``.
    """
    if rule in ("gd", "muon"):
        return rule, None
    m = _NS_RULE.match(rule) if isinstance(rule, str) else None
    if m is None:
        raise ValueError(
            "rule must be 'gd', 'muon', 'muon_ns' or 'muon_ns<steps>' (e.g. "
            f"'muon_ns10'), got rule={rule!r}"
        )
    k = int(m.group(1)) if m.group(1) else ns_steps
    return "muon_ns", _validate.positive_int("Newton-Schulz steps", k)


def multi_step_optimizer(
    rule: str,
    d: int,
    *,
    muon_lr_scale: float = 2.0,
    muon_schedule: str = "constant",
    muon_factor: float = 1.0,
    muon_power: float = 0.0,
    gd_lr_scale: float = DEFAULT_GD_SCHEDULE["scale"],
    gd_schedule: str = DEFAULT_GD_SCHEDULE["shape"],
    gd_factor: float = DEFAULT_GD_SCHEDULE["factor"],
    gd_power: float = DEFAULT_GD_SCHEDULE["power"],
    gd_max_lr_scale: float | None = DEFAULT_GD_SCHEDULE["max_scale"],
    ns_steps: int = 5,
    ns_coeffs: str = "jordan",
) -> tuple[optax.GradientTransformation, optax.Schedule]:
    """The optimizer of a named multi-step rule, and its step-size schedule.

    - ``"muon"``: exact Muon ``W_{t+1} = W_t + eta polar(G_t)`` with the fixed
      ``eta = muon_lr_scale sqrt(d)`` (Figure 4: 2, Figure 5: 1 [seed]); beyond the
      paper, ``muon_schedule`` makes it ``eta_t`` (:func:`lr_schedule` from
      ``eta_1 = muon_lr_scale sqrt(d)``, e.g. ``"polynomial"`` with
      ``muon_power = -1`` for ``eta_t = eta_1 / t``).
    - ``"muon_ns"`` / ``"muon_ns<k>"``: the same with ``k`` Newton-Schulz steps
      (coefficients ``ns_coeffs``) in place of the polar factor (SPEC A.3
      [derived]).
    - ``"gd"``: ``W_{t+1} = W_t + eta_t G_t`` with :func:`gd_increasing_schedule`.

    Args:
        rule: see :func:`parse_rule`.
        d: embedding dimension (``d_in``; sets the ``sqrt(d)`` scales).
        muon_lr_scale: Muon's ``eta / sqrt(d)`` (its ``eta_1`` with a schedule).
        muon_schedule, muon_factor, muon_power: Muon's schedule shape (default
            ``"constant"``, the paper's) and its parameters (see
            :func:`lr_schedule`; decaying shapes allowed).
        gd_lr_scale, gd_schedule, gd_factor, gd_power, gd_max_lr_scale: the GD
            schedule (see :func:`gd_increasing_schedule`).
        ns_steps: Newton-Schulz steps of a bare ``"muon_ns"``.
        ns_coeffs: Newton-Schulz coefficients (see
            :func:`muonjax.newton_schulz_coefficients`).

    Returns:
        ``(tx, schedule)``: the optax optimizer and ``schedule(count)``, the step size
        of update ``count + 1``.

    References:
        SPEC A.3 (updates and learning rates); Kim et al. (2026), Figures 4 and 5.
    """
    d = _validate.positive_int("d", d)
    base, k = parse_rule(rule, ns_steps=ns_steps)
    if base == "gd":
        schedule = gd_increasing_schedule(
            d,
            shape=gd_schedule,
            scale=gd_lr_scale,
            factor=gd_factor,
            power=gd_power,
            max_scale=gd_max_lr_scale,
        )
        return gd(schedule), schedule
    _validate.real("muon_lr_scale", muon_lr_scale, lower=0.0, lower_open=True)
    schedule = lr_schedule(
        float(muon_lr_scale) * math.sqrt(d),
        shape=muon_schedule,
        factor=muon_factor,
        power=muon_power,
    )
    if base == "muon":
        return muon_exact(schedule), schedule
    assert k is not None
    return muon_newton_schulz(schedule, steps=k, coeffs=ns_coeffs), schedule


_OPTIMIZER_KEYS = (
    "muon_lr_scale",
    "muon_schedule",
    "muon_factor",
    "muon_power",
    "gd_lr_scale",
    "gd_schedule",
    "gd_factor",
    "gd_power",
    "gd_max_lr_scale",
    "ns_steps",
    "ns_coeffs",
)


def multi_step_cell(config: Mapping[str, Any], key: jax.Array) -> dict[str, jax.Array]:
    """Cell function: ``T`` steps of a rule from ``W_0 = 0``, one row per step.

    Reads from ``config``: ``n``, ``d``, ``alpha``, ``rule`` (see
    :func:`parse_rule`), ``steps`` (``T``, or the most steps with early stopping),
    and optionally ``deflate`` (the thresholded update: recovered items left out of
    the gradient, SPEC A.3 [derived]), ``batch_size`` (absent or 0: population
    gradient; else a fresh minibatch of ``B`` each step), ``early_stopping`` (stop
    at the first ``t >= window`` with ``count_t < (1 + min_gain) count_{t-window}``,
    Figure 4 [seed]), ``window``, ``min_gain``, ``update_dtype`` (e.g.
    ``"float64"``: gradient, optimizer and ``W`` in float64, score blocks in the
    task's dtype), ``dtype``, ``kappa_v``, ``block_size``, and the step-size keys of
    :func:`multi_step_optimizer`. The key is split once into the task's key and the
    minibatch key; minibatches are ``split(key, T)`` per step without early
    stopping and ``fold_in(key, t)`` with it (see :func:`muonjax.train` and
    :func:`muonjax.train_early_stopping`), so the two modes draw different batches.

    Returns:
        ``{"step": (T+1,), "loss", "count", "prefix", "weighted_accuracy", "lr",
        "stop_step"}``, each ``(T + 1,)``: row ``t`` holds the metrics of ``W_t``,
        ``lr`` the step size of the update that made ``W_t`` (NaN at ``t = 0``), and
        ``stop_step`` the step whose ``W`` the run kept (``T`` without early
        stopping), repeated on every row. With early stopping, rows after
        ``stop_step`` were not run: ``count = prefix = -1`` and NaN loss.

    References:
        SPEC A.3-A.6; Kim et al. (2026), Figures 4 and 5.
    """
    key_task, key_batch = jax.random.split(key)
    d = config["d"]
    steps = config["steps"]
    task = sample_task(
        config["n"],
        d,
        config["alpha"],
        key=key_task,
        kappa_v=config.get("kappa_v", 0.0),
        dtype=config.get("dtype", "float32"),
    )
    tx, schedule = multi_step_optimizer(
        config["rule"], d, **{k: config[k] for k in _OPTIMIZER_KEYS if k in config}
    )
    common = {
        "batch_size": config.get("batch_size") or None,
        "key": key_batch,
        "deflate": bool(config.get("deflate", False)),
        "block_size": config.get("block_size"),
        "update_dtype": config.get("update_dtype") or None,
    }
    if config.get("early_stopping", False):
        res = train_early_stopping(
            task,
            tx,
            max_steps=steps,
            window=config.get("window", 10),
            min_gain=config.get("min_gain", 0.005),
            **common,
        )
        traj, stop = res.trajectory, res.stop_step
    else:
        _, traj = train(task, tx, steps=steps, **common)
        stop = jnp.asarray(steps, jnp.int32)
    t = jnp.arange(steps + 1)
    lr = jnp.where(t == 0, jnp.nan, schedule(t - 1)).astype(traj.loss.dtype)
    return {
        "step": t,
        **traj._asdict(),
        "lr": lr,
        "stop_step": jnp.broadcast_to(stop.astype(jnp.int32), t.shape),
    }


def multi_step_sweep(
    *,
    n: int,
    dims: Sequence[int],
    alphas: Sequence[float],
    steps: int,
    rules: Sequence[str] = ("muon",),
    deflate: Sequence[bool] = (False,),
    batch_sizes: Sequence[int] | None = None,
    early_stopping: bool = False,
    window: int = 10,
    min_gain: float = 0.005,
    muon_lr_scale: float = 2.0,
    muon_schedule: str = "constant",
    muon_factor: float = 1.0,
    muon_power: float = 0.0,
    gd_lr_scale: float = DEFAULT_GD_SCHEDULE["scale"],
    gd_schedule: str = DEFAULT_GD_SCHEDULE["shape"],
    gd_factor: float = DEFAULT_GD_SCHEDULE["factor"],
    gd_power: float = DEFAULT_GD_SCHEDULE["power"],
    gd_max_lr_scale: float | None = DEFAULT_GD_SCHEDULE["max_scale"],
    ns_steps: int = 5,
    ns_coeffs: str = "jordan",
    update_dtype: str | None = "float64",
    dtype: str = "float32",
    chunk_size: int = 16,
) -> Sweep:
    """The sweep of ``T``-step runs over ``d x rule x deflate x alpha (x B)``.

    ``d``, the rule, ``deflate`` and ``B`` compile once each; ``alpha`` is vmapped
    with the seeds. The key identity is ``(n, d, alpha, dtype)``: every rule,
    update and batch size sees the same task for the same seed (paired
    comparisons, e.g. Muon against GD in Figure 5).

    Args:
        n: number of associations N.
        dims: embedding dimensions d.
        alphas: frequency exponents.
        steps: ``T`` (or the most steps with ``early_stopping``), >= 1.
        rules: rule names (see :func:`parse_rule`).
        deflate: values of the thresholded-update switch (an axis).
        batch_sizes: minibatch sizes (an axis; 0 is the population gradient);
            ``None`` for population updates only (no column).
        early_stopping: stop each seed when its capacity plateaus (Figure 4's rule).
        window, min_gain: the plateau rule (10 steps, 0.5% [seed]).
        muon_lr_scale, gd_lr_scale, gd_schedule, gd_factor, gd_power,
            gd_max_lr_scale, ns_steps, ns_coeffs: see :func:`multi_step_optimizer`.
        muon_schedule, muon_factor, muon_power: Muon's schedule (see
            :func:`multi_step_optimizer`); recorded only when not ``"constant"``.
        update_dtype: dtype of gradient, optimizer and ``W`` (``"float64"`` needs
            JAX's x64 mode, which the caller turns on); ``None`` for the task dtype.
        dtype: task dtype.
        chunk_size: the chunk size the sweep will run with (sets the block size).

    Returns:
        A :class:`muonjax.Sweep` of :func:`multi_step_cell`.

    References:
        SPEC A.6, Figures 4 and 5.
    """
    n = _validate.positive_int("n", n)
    steps = _validate.positive_int("steps", steps)
    window = _validate.positive_int("window", window)
    _validate.real("min_gain", min_gain, lower=0.0)
    dims = tuple(_validate.positive_int("dims", d) for d in dims)
    if not dims or not alphas or not rules or not deflate:
        raise ValueError(
            "dims, alphas, rules and deflate must be non-empty, got "
            f"{dims=}, {alphas=}, {rules=}, {deflate=}"
        )
    for a in alphas:
        _validate.real("alphas", a, lower=0.0)
    for rule in rules:
        parse_rule(rule, ns_steps=ns_steps)
    for dv in deflate:
        if not isinstance(dv, (bool, np.bool_)):
            raise ValueError(f"deflate values must be booleans, got {dv!r}")
    # Validate the step sizes now, not inside the first traced cell.
    for rule in rules:
        multi_step_optimizer(
            rule,
            dims[0],
            muon_lr_scale=muon_lr_scale,
            muon_schedule=muon_schedule,
            muon_factor=muon_factor,
            muon_power=muon_power,
            gd_lr_scale=gd_lr_scale,
            gd_schedule=gd_schedule,
            gd_factor=gd_factor,
            gd_power=gd_power,
            gd_max_lr_scale=gd_max_lr_scale,
            ns_steps=ns_steps,
            ns_coeffs=ns_coeffs,
        )
    if update_dtype is not None:
        _validate.float_dtype("update_dtype", update_dtype)
    axes: dict[str, Sequence[Scalar]] = {
        "d": dims,
        "rule": tuple(rules),
        "deflate": tuple(bool(v) for v in deflate),
        "alpha": tuple(float(a) for a in alphas),
    }
    if batch_sizes is not None:
        axes["batch_size"] = tuple(
            _validate.nonnegative_int("batch_sizes", b) for b in batch_sizes
        )
    has_gd = any(parse_rule(r, ns_steps=ns_steps)[0] == "gd" for r in rules)
    has_muon = any(parse_rule(r, ns_steps=ns_steps)[0] != "gd" for r in rules)
    has_ns = any(parse_rule(r, ns_steps=ns_steps)[0] == "muon_ns" for r in rules)
    fixed: dict[str, Scalar] = {
        "n": n,
        "steps": steps,
        "early_stopping": bool(early_stopping),
        **({"window": window, "min_gain": float(min_gain)} if early_stopping else {}),
        **({"muon_lr_scale": float(muon_lr_scale)} if has_muon else {}),
        # The paper's fixed Muon step adds no columns; a schedule is recorded.
        **(
            {
                "muon_schedule": str(muon_schedule),
                "muon_factor": float(muon_factor),
                "muon_power": float(muon_power),
            }
            if has_muon and muon_schedule != "constant"
            else {}
        ),
        **(
            {
                "gd_lr_scale": float(gd_lr_scale),
                "gd_schedule": str(gd_schedule),
                "gd_factor": float(gd_factor),
                "gd_power": float(gd_power),
                "gd_max_lr_scale": (
                    None if gd_max_lr_scale is None else float(gd_max_lr_scale)
                ),
            }
            if has_gd
            else {}
        ),
        **({"ns_steps": int(ns_steps), "ns_coeffs": str(ns_coeffs)} if has_ns else {}),
        "update_dtype": None if update_dtype is None else str(update_dtype),
        "dtype": str(dtype),
    }
    return Sweep(
        multi_step_cell,
        axes=axes,
        fixed=fixed,
        batched=("alpha",),
        key_axes=("n", "d", "alpha", "dtype"),
        options={"block_size": sweep_block_size(n, chunk_size)},
    )


# --------------------------------------------------------------------------------------
# Analysis from records.


def _check_measure(table: Table, measure: str) -> None:
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {_MEASURES}, got {measure=!r}")
    for col in ("seed", "step", measure):
        if col not in table.data:
            raise ValueError(f"no column {col!r}; columns are {table.columns}")


def _groups(table: Table, by: Sequence[str]) -> dict[tuple[Any, ...], np.ndarray]:
    """Row indices per group of ``by`` values, in order of first appearance."""
    for name in by:
        if name not in table.data:
            raise ValueError(f"no column {name!r}; columns are {table.columns}")
    out: dict[tuple[Any, ...], list[int]] = {}
    cols = [table.data[b] for b in by]
    for i in range(len(table)):
        key = tuple(c[i].item() if hasattr(c[i], "item") else c[i] for c in cols)
        out.setdefault(key, []).append(i)
    return {k: np.asarray(v) for k, v in out.items()}


def step_curves(
    table: Table,
    *,
    by: Sequence[str],
    measure: str = "count",
    carry_forward: bool = True,
) -> dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per group, a measure against step for every seed.

    Args:
        table: records of :func:`multi_step_sweep` (columns ``seed``, ``step``, the
            measure and, for early-stopped runs, ``stop_step``).
        by: the config columns that name a group (e.g. ``("d", "rule", "alpha")``).
        measure: ``"count"``, ``"prefix"``, ``"weighted_accuracy"`` or ``"loss"``.
        carry_forward: rows after a seed's ``stop_step`` (not run) take the value
            at the stop (the kept ``W``); when False they are NaN.

    Returns:
        ``{group: (seeds (K,), steps (S,), values (K, S) float)}``.
    """
    _check_measure(table, measure)
    stop_col = table.data.get("stop_step")
    out = {}
    for key, rows in _groups(table, by).items():
        seeds = np.unique(table.data["seed"][rows])
        steps = np.unique(table.data["step"][rows])
        vals = np.full((seeds.size, steps.size), np.nan)
        stop = np.full(seeds.size, steps[-1])
        si = np.searchsorted(seeds, table.data["seed"][rows])
        ti = np.searchsorted(steps, table.data["step"][rows])
        vals[si, ti] = table.data[measure][rows].astype(float)
        if stop_col is not None:
            stop[si] = stop_col[rows]
        after = steps[None, :] > stop[:, None]
        if carry_forward:
            at_stop = vals[np.arange(seeds.size), np.searchsorted(steps, stop)]
            vals = np.where(after, at_stop[:, None], vals)
        else:
            vals = np.where(after, np.nan, vals)
        out[key] = (seeds, steps, vals)
    return out


def capacity_after(
    table: Table, step: int, *, by: Sequence[str], measure: str = "count"
) -> dict[tuple[Any, ...], np.ndarray]:
    """Per group, the ``(K,)`` values of a measure after ``step`` steps, per seed.

    A seed stopped earlier contributes its value at the stop (its kept ``W``).
    Raises ``ValueError`` when a group has no row at ``step``.
    """
    step = _validate.nonnegative_int("step", step)
    out = {}
    for key, (_, steps, vals) in step_curves(table, by=by, measure=measure).items():
        j = np.searchsorted(steps, step)
        if j >= steps.size or steps[j] != step:
            raise ValueError(
                f"group {key} has no step {step}; its steps run to {steps[-1]}"
            )
        out[key] = vals[:, j]
    return out


def stopping_steps(
    table: Table, *, by: Sequence[str]
) -> dict[tuple[Any, ...], np.ndarray]:
    """Per group, the ``(K,)`` stopping step of every seed (from ``stop_step``)."""
    if "stop_step" not in table.data:
        raise ValueError(f"no column 'stop_step'; columns are {table.columns}")
    out = {}
    for key, rows in _groups(table, by).items():
        _, first = np.unique(table.data["seed"][rows], return_index=True)
        out[key] = table.data["stop_step"][rows][first].astype(np.int64)
    return out


def final_capacity(
    table: Table, *, by: Sequence[str], measure: str = "count"
) -> dict[tuple[Any, ...], np.ndarray]:
    """Per group, the ``(K,)`` values of a measure at each seed's stopping step."""
    return {
        key: vals[:, -1]
        for key, (_, _, vals) in step_curves(table, by=by, measure=measure).items()
    }


def _ceiling(table: Table, rows: np.ndarray, measure: str) -> float | None:
    if measure in ("count", "prefix") and "n" in table.data:
        return float(np.max(table.data["n"][rows]))
    return None


def step_exponent_fits(
    table: Table,
    *,
    by: Sequence[str],
    x: str = "d",
    measure: str = "count",
    steps: Sequence[int] | None = None,
    **fit_kwargs: Any,
) -> dict[tuple[Any, ...], dict[int, FitResult]]:
    """Per group, one power law ``measure ~ a x^C_T`` per step ``T`` (Figure 4e).

    Each group (``by`` values, without ``x``) gathers its seeds at every ``x``; the
    capacity after ``T`` steps (carried forward from an early stop) is fitted
    against ``x`` by :func:`muonjax.fit_step_exponents`, with the saturation
    ceiling ``n`` for counts and prefixes (points at ``N`` are excluded and listed).

    Args:
        table: records of :func:`multi_step_sweep`.
        by: columns naming a group (e.g. ``("rule", "deflate", "alpha")``).
        x: the size column (``"d"``).
        measure: ``"count"`` or ``"prefix"`` (or another measure).
        steps: the steps ``T`` to fit (default ``1 .. T_max``).
        **fit_kwargs: passed to :func:`muonjax.fit_power_law`.

    Returns:
        ``{group: {T: FitResult}}``, to compare with
        :func:`muonjax.theory.multi_step_exponent` ``(T, alpha)``.

    References:
        SPEC A.5, t Muon steps [quoted]; SPEC Part D; Kim et al. (2026), Figure 4e.
    """
    if x in by:
        raise ValueError(f"x={x!r} must not be among by={tuple(by)}")
    curves = step_curves(table, by=(*by, x), measure=measure)
    groups: dict[tuple[Any, ...], dict[Any, np.ndarray]] = {}
    for key, (_, _, vals) in curves.items():
        groups.setdefault(key[:-1], {})[key[-1]] = vals
    rows_of = _groups(table, by)
    out = {}
    for gkey, per_x in groups.items():
        xs = sorted(per_x)
        if len(xs) < 2:
            continue
        # Every x must hold the same seeds and steps (one cell per x of a sweep).
        shapes = {v.shape for v in per_x.values()}
        if len(shapes) != 1:
            raise ValueError(
                f"group {gkey}: seeds x steps differ between {x} values: {shapes}"
            )
        y = np.stack([per_x[xv] for xv in xs])  # (k, s, T+1)
        kwargs = dict(fit_kwargs)
        ceiling = _ceiling(table, rows_of[gkey], measure)
        if ceiling is not None:
            kwargs.setdefault("saturation", ceiling)
        t_max = y.shape[2] - 1
        want = None if steps is None else [int(t) for t in steps if t <= t_max]
        out[gkey] = fit_step_exponents(np.asarray(xs, float), y, steps=want, **kwargs)
    return out


def step_gain_fits(
    table: Table,
    *,
    by: Sequence[str],
    x: str = "d",
    measure: str = "count",
    steps: Sequence[int] = (2, 3, 4),
    base_step: int = 1,
    **fit_kwargs: Any,
) -> dict[tuple[Any, ...], dict[int, FitResult]]:
    """Per group, the power law of the gain ``d_T / d_base`` against ``x``.

    The ratio is formed per seed (the same run at both steps), so the constant of
    the one-step law and part of its pre-asymptotic curvature cancel. The predicted
    exponent is ``C_T - C_base`` (for Muon from zero and ``base = 1``:
    ``(1 - 1/(2 alpha)) - (1 - 1/(2 alpha))^T`` [derived from the quoted law]).
    Seeds with ``d_base = 0`` are dropped from their point (and counted in the
    fit's flags through the remaining seeds).

    Returns:
        ``{group: {T: FitResult}}``.

    References:
        SPEC A.5, t Muon steps [quoted]; the ratio form is [derived].
    """
    if x in by:
        raise ValueError(f"x={x!r} must not be among by={tuple(by)}")
    curves = step_curves(table, by=(*by, x), measure=measure)
    groups: dict[tuple[Any, ...], dict[Any, tuple[np.ndarray, np.ndarray]]] = {}
    for key, (_, st, vals) in curves.items():
        groups.setdefault(key[:-1], {})[key[-1]] = (st, vals)
    out: dict[tuple[Any, ...], dict[int, FitResult]] = {}
    for gkey, per_x in groups.items():
        xs = sorted(per_x)
        if len(xs) < 2:
            continue
        fits = {}
        for t in steps:
            ratios = []
            for xv in xs:
                st, vals = per_x[xv]
                if t not in st or base_step not in st:
                    break
                num = vals[:, np.searchsorted(st, t)]
                den = vals[:, np.searchsorted(st, base_step)]
                ok = den > 0
                ratios.append(num[ok] / den[ok] if ok.any() else np.array([np.nan]))
            else:
                fits[int(t)] = fit_power_law(
                    np.asarray(xs, float), ratios, **fit_kwargs
                )
        out[gkey] = fits
    return out


def capacity_ratio(
    table: Table,
    step: int,
    *,
    rule: str,
    reference: str,
    by: Sequence[str] = ("deflate", "alpha", "d"),
    measure: str = "count",
    n_boot: int = 1000,
) -> dict[tuple[Any, ...], tuple[float, tuple[float, float]]]:
    """Per group, one rule's capacity over another's after ``step`` steps.

    E.g. how much of exact Muon's capacity Newton-Schulz Muon keeps (Figure 4,
    beyond the paper): ``mean_k c_rule(k) / mean_k c_reference(k)`` with a paired
    bootstrap over seeds (:func:`paired_ratio`; seed ``k`` of both rules learns the
    same task, since the sweeps' key identity leaves out the rule).

    Args:
        table: records of :func:`multi_step_sweep` holding both rules.
        step: the step ``T`` (a stopped seed counts at its stop).
        rule, reference: values of the ``rule`` column.
        by: the other columns that define a group.
        measure: ``count``, ``prefix``, ``weighted_accuracy`` or ``loss``.
        n_boot: bootstrap replicates (>= 100).

    Returns:
        ``{group: (ratio, (lo, hi))}`` over the groups where both rules ran (a 95%
        interval; NaN where the reference's mean is 0).

    References:
        SPEC A.4 (measures), Part D (bootstrap over seeds).
    """
    if "rule" in by:
        raise ValueError(f"by must not contain 'rule', got by={tuple(by)!r}")
    values = capacity_after(table, step, by=("rule", *by), measure=measure)
    rules = {key[0] for key in values}
    for name, value in (("rule", rule), ("reference", reference)):
        if value not in rules:
            raise ValueError(f"{name}={value!r} not in the records' rules {rules}")
    out = {}
    for key, num in values.items():
        den = values.get((reference, *key[1:]))
        if key[0] == rule and den is not None:
            out[key[1:]] = paired_ratio(num, den, n_boot=n_boot)
    return out


def newton_schulz_reach(
    coeffs: Any = "jordan", steps: int = 5, *, level: float = 0.5
) -> float:
    """Smallest relative singular value that ``steps`` Newton-Schulz steps lift to
    ``level``.

    :func:`muonjax.newton_schulz` divides ``G`` by ``||G||_F`` and then maps each
    singular value ``s = sigma / ||G||_F`` by the scalar iteration
    ``s <- a s + b s^3 + c s^5``; the exact polar factor sends every ``s > 0`` to 1.
    Directions with ``s`` below the returned value come out below ``level``, i.e.
    Newton-Schulz leaves them (much) shorter than Muon does.

    Args:
        coeffs: Newton-Schulz coefficients (name, triple or schedule, see
            :func:`muonjax.newton_schulz_coefficients`).
        steps: number of iterations, >= 1.
        level: the output level, in ``(0, 1)``.

    Returns:
        ``s_min`` in ``(0, 1]`` such that the iterated map is ``>= level`` at
        ``s_min`` (to a relative resolution of 1e-4 on a log grid), and NaN if no
        ``s <= 1`` reaches ``level``.

    References:
        SPEC A.3 (practical Muon) [derived]; Jordan et al. (2024), Muon.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level=!r}")
    table = newton_schulz_coefficients(coeffs, steps)
    s = np.logspace(-12, 0, 120_001)
    x = s.copy()
    for a, b, c in table:
        x = a * x + b * x**3 + c * x**5
    hit = np.flatnonzero(x >= level)
    return float(s[hit[0]]) if hit.size else math.nan
