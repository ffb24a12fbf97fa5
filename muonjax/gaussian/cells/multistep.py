"""Cells of ``T`` steps from ``W_0 = 0``, one record row per step (Figures 4 and 5).

Rows after an early stop: :func:`muonjax.train_early_stopping` keeps ``W`` at its
stopping step and leaves later entries unused, so record rows with ``step >
stop_step`` hold ``count = prefix = -1`` and NaN loss (the analyses of
:mod:`muonjax.gaussian.analysis.multistep` carry the stopped state forward).

References:
    Kim, Nichani, Wu, Bietti, Lee (2026), arXiv 2603.26554, Theorems 5.4 and 5.5,
    Figures 4 and 5; SPEC A.3 (updates, thresholded update, learning rates), A.6.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from muonjax import _validate
from muonjax.engine.sweep import Scalar, Sweep
from muonjax.gaussian.cells._common import TASK_KEY, grid, sweep_block_size, task_of
from muonjax.gaussian.loop import deflation, train, train_early_stopping
from muonjax.gaussian.rules import (
    RuleSpec,
    parse_rule,
    rule_from_config,
    rule_optimizer,
    rule_spec,
)
from muonjax.gaussian.schedules import DEFAULT_GD_SCHEDULE

#: Metric columns of :func:`multi_step_cell`, in order.
MULTI_STEP_METRICS = (
    "loss",
    "count",
    "prefix",
    "weighted_accuracy",
    "lr",
    "stop_step",
)


def multi_step_cell(config: Mapping[str, Any], key: jax.Array) -> dict[str, jax.Array]:
    """Cell function: ``T`` steps of a rule from ``W_0 = 0``, one row per step.

    Reads from ``config``: ``n``, ``d``, ``alpha``, ``rule`` (see
    :func:`muonjax.parse_rule`; ``"muon_smoothed_c<c>"`` smooths with
    ``lam_t = c d_{t+1}^(-alpha) sqrt(d)`` at the cell's alpha), ``steps`` (``T``, or
    the most steps with early stopping), and optionally ``deflate`` (the thresholded
    update, a reading of :data:`muonjax.DEFLATIONS`: recovered items left out of the
    gradient, SPEC A.3 [derived]; ``True`` is ``"margin"``) with
    ``deflate_threshold`` (reading ``"threshold"``: an item leaves the gradient once
    its margin exceeds ``deflate_threshold * eta_t * sqrt(2 log N / d)``, about the
    largest change one polar step of norm ``eta_t`` makes to a margin over ``N``
    candidates [derived]), ``batch_size`` (absent or 0:
    population gradient; else a fresh minibatch of ``B`` each step),
    ``early_stopping`` (stop at the first ``t >= window`` with
    ``count_t < (1 + min_gain) count_{t-window}``, Figure 4 [seed]), ``window``,
    ``min_gain``, ``update_dtype`` (e.g. ``"float64"``: gradient, optimizer and ``W``
    in float64, score blocks in the task's dtype), ``dtype``, ``kappa_v``,
    ``block_size``, and the rule's step sizes (:func:`muonjax.rule_spec`). The key is
    split once into the task's key and the minibatch key; minibatches are
    ``split(key, T)`` per step without early stopping and ``fold_in(key, t)`` with
    it (see :func:`muonjax.train` and :func:`muonjax.train_early_stopping`), so the
    two modes draw different batches.

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
    task = task_of(config, key_task)
    spec = rule_from_config(config)
    tx, schedule = rule_optimizer(spec, d=d, alpha=config["alpha"])
    common = {
        "batch_size": config.get("batch_size") or None,
        "key": key_batch,
        "deflate": spec.deflate,
        "deflate_threshold": _margin_threshold(spec, schedule, config["n"], d),
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


def _margin_threshold(spec: RuleSpec, schedule: Any, n: int, d: int) -> Any:
    """Reading (c)'s threshold at step ``t``: ``k eta_t sqrt(2 log N / d)``."""
    if spec.deflate != "threshold":
        return None
    assert spec.deflate_threshold is not None
    unit = spec.deflate_threshold * math.sqrt(2 * math.log(n) / d)
    return lambda t: unit * schedule(t)


def multi_step_sweep(
    *,
    n: int,
    dims: Sequence[int],
    alphas: Sequence[float],
    steps: int,
    rules: Sequence[str] = ("muon",),
    deflate: Sequence[bool | str] = (False,),
    deflate_threshold: float | None = None,
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
        rules: rule names (see :func:`muonjax.parse_rule`), e.g. ``"muon"``,
            ``"muon_smoothed_c10"``, ``"muon_ns5"``, ``"gd"``.
        deflate: the thresholded update's readings (an axis): booleans (0.1.0:
            ``True`` is reading ``"margin"``), or names of
            :data:`muonjax.DEFLATIONS` (then recorded as names).
        deflate_threshold: reading ``"threshold"``'s ``k`` (required there; see
            :func:`multi_step_cell`), recorded as a fixed column.
        batch_sizes: minibatch sizes (an axis; 0 is the population gradient);
            ``None`` for population updates only (no column).
        early_stopping: stop each seed when its capacity plateaus (Figure 4's rule).
        window, min_gain: the plateau rule (10 steps, 0.5% [seed]).
        muon_lr_scale, muon_schedule, muon_factor, muon_power, gd_lr_scale,
            gd_schedule, gd_factor, gd_power, gd_max_lr_scale, ns_steps, ns_coeffs:
            the rules' parameters (:func:`muonjax.rule_spec`); Muon's schedule is
            recorded only when not ``"constant"``.
        update_dtype: dtype of gradient, optimizer and ``W`` (``"float64"`` needs
            JAX's x64 mode, which the caller turns on); ``None`` for the task dtype.
        dtype: task dtype.
        chunk_size: the chunk size the sweep will run with (sets the block size).

    Returns:
        A :class:`muonjax.Sweep` of :func:`multi_step_cell`.

    References:
        SPEC A.6, Figures 4 and 5.
    """
    steps = _validate.positive_int("steps", steps)
    window = _validate.positive_int("window", window)
    _validate.real("min_gain", min_gain, lower=0.0)
    if not rules or not deflate:
        raise ValueError(
            f"rules and deflate must be non-empty, got {rules=}, {deflate=}"
        )
    n, dims, alphas = grid(n, dims, alphas)
    readings = [deflation(dv) for dv in deflate]
    if all(isinstance(dv, (bool, np.bool_)) for dv in deflate):
        deflate_axis: tuple[Scalar, ...] = tuple(bool(v) for v in deflate)
    else:
        deflate_axis = tuple(readings)
    threshold: dict[str, Any] = {}
    if "threshold" in readings:
        if deflate_threshold is None:
            raise ValueError(
                "deflate reading 'threshold' needs deflate_threshold, got None"
            )
        _validate.real("deflate_threshold", deflate_threshold, lower=0.0)
        threshold["deflate_threshold"] = float(deflate_threshold)
    muon: dict[str, Any] = {
        "muon_lr_scale": float(muon_lr_scale),
        "muon_schedule": str(muon_schedule),
        "muon_factor": float(muon_factor),
        "muon_power": float(muon_power),
    }
    gd: dict[str, Any] = {
        "gd_lr_scale": float(gd_lr_scale),
        "gd_schedule": str(gd_schedule),
        "gd_factor": float(gd_factor),
        "gd_power": float(gd_power),
        "gd_max_lr_scale": None if gd_max_lr_scale is None else float(gd_max_lr_scale),
    }
    ns: dict[str, Any] = {"ns_steps": int(ns_steps), "ns_coeffs": str(ns_coeffs)}
    # Validate every rule and step size now, not inside the first traced cell.
    bases = {parse_rule(rule, ns_steps=ns_steps)[0] for rule in rules}
    for rule in rules:
        rule_spec(rule, **muon, **gd, **ns, **threshold)
    if update_dtype is not None:
        _validate.float_dtype("update_dtype", update_dtype)
    axes: dict[str, Sequence[Scalar]] = {
        "d": dims,
        "rule": tuple(rules),
        "deflate": deflate_axis,
        "alpha": alphas,
    }
    if batch_sizes is not None:
        axes["batch_size"] = tuple(
            _validate.nonnegative_int("batch_sizes", b) for b in batch_sizes
        )
    has_muon = bases != {"gd"}
    fixed: dict[str, Scalar] = {
        "n": n,
        "steps": steps,
        "early_stopping": bool(early_stopping),
        **({"window": window, "min_gain": float(min_gain)} if early_stopping else {}),
        **({"muon_lr_scale": float(muon_lr_scale)} if has_muon else {}),
        # The paper's fixed Muon step adds no columns; a schedule is recorded.
        **(
            {k: v for k, v in muon.items() if k != "muon_lr_scale"}
            if has_muon and muon_schedule != "constant"
            else {}
        ),
        **(gd if "gd" in bases else {}),
        **(ns if "muon_ns" in bases else {}),
        **threshold,
        "update_dtype": None if update_dtype is None else str(update_dtype),
        "dtype": str(dtype),
    }
    return Sweep(
        multi_step_cell,
        axes=axes,
        fixed=fixed,
        batched=("alpha",),
        key_axes=TASK_KEY,
        options={"block_size": sweep_block_size(n, chunk_size)},
    )
