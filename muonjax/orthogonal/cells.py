"""Cells and sweeps of the orthogonal memory, for the sweep engine and its records.

One cell is one training run of one rule on one task (SPEC B.1, B.2), for one seed,
recorded at a grid of steps: :func:`dynamics_cell`. The sweep engine
(:func:`muonjax.run_sweep`, :func:`muonjax.record_sweep`) vmaps it over seeds and
over the *batched* axes (label noise, step multipliers, a grid index), and writes one
row per (cell, seed, recorded step).

Configuration keys read by :func:`dynamics_cell` (all JSON scalars):

- task: ``M``, ``C``, ``beta`` (power-law group weights), ``alpha`` (label noise),
  ``r`` (embedding norm, default 1), ``embedding`` (``"identity"`` or
  ``"random"``), ``d`` (embedding dimension of the random basis; 0 means ``K``);
- run: ``rule`` (one of :data:`muonjax.orthogonal.RULES`), ``steps`` (in horizon
  mode it may be left out: GD runs ``gd_steps``, Muon ``horizon_max``),
  ``record_points`` (log-spaced recorded steps), ``record_linear`` (extra linearly
  spaced recorded steps, default 0);
- learning rate, ``eta = base(rule) * scale``: ``scale`` (default 1) and the base
  steps ``gd_lr_p1`` (GD, in units of ``eta r^4 p_1``), ``muon_lr`` (Muon),
  ``tra_lr`` (TRA-SignGD), ``sign_lr`` (SignGD and Adam: Muon's step ``muon_lr``
  carried over to the matched Frobenius norm of the first update, ``sign_lr *
  ||msgn(G_0)||_F / ||sign(G_0)||_F``, in the task's own basis);
- horizon mode (the scaling law): with ``points > 0`` the batched index ``point``
  picks GD's step ``eta p_1 = geomspace(gd_lr_min, gd_lr_max, points)[point]`` and
  Muon's horizon ``T = round(geomspace(horizon_min, horizon_max,
  points)[point])`` with ``eta = muon_c log K / (r^2 T)`` (SPEC B.3, Thm 5.8); every
  horizon ``T`` and ``T - 1`` is recorded.

Paths: GD, Muon and TRA-SignGD run on the block path (exact for any orthonormal
embedding, ``O(M^2)`` per step: their iterates stay block symmetric, Prop. 6.1);
SignGD and Adam on the full ``d x d`` path when the basis is random (they are
entrywise in the original coordinates), on the block path for one-hot embeddings.
The key draws the random basis; a deterministic cell ignores it.

:func:`symmetry_cell` is the cell of the block-symmetry check (Prop. 6.1): every rule
on the full ``d x d`` path, recording the block-symmetry defect of the iterates in
task coordinates. It draws its basis exactly as :func:`dynamics_cell` does, so at
the same task keys and seed both see the same basis.

Precision: the cells build float64 tasks. Run them inside ``jax.enable_x64(True)``
(the experiments do), so that Muon's exponentially small losses keep their digits.

References:
    SPEC B.1-B.4 [summary; seed for the experiments' names]; SPEC E (per-cell keys).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from muonjax._polar import polar
from muonjax.engine.sweep import CellFn, Scalar, Sweep
from muonjax.orthogonal.analysis import step_grid
from muonjax.orthogonal.block import block_symmetry_defect
from muonjax.orthogonal.dynamics import cell_path, run
from muonjax.orthogonal.loss import full_state, to_task
from muonjax.orthogonal.task import (
    HierarchicalTask,
    optimal_loss,
    power_law_task,
    query_frequencies,
)
from muonjax.orthogonal.updates import RULES

F64 = jnp.float64

#: Task parameters that make a cell's key: every rule sees the same basis for a seed.
TASK_KEYS = ("M", "C", "beta", "alpha", "r", "embedding", "d")


def horizons(config: Mapping[str, Any]) -> np.ndarray:
    """Muon's horizons ``T_i`` of a horizon-mode config (``(points,)`` int64)."""
    n = int(config["points"])
    return np.round(
        np.geomspace(config["horizon_min"], config["horizon_max"], n)
    ).astype(np.int64)


def cell_steps(config: Mapping[str, Any]) -> int:
    """Run length of a cell: ``steps``, or in horizon mode without ``steps``,
    ``gd_steps`` for GD and ``horizon_max`` for Muon."""
    if config.get("steps"):
        return int(config["steps"])
    return int(config["gd_steps"] if config["rule"] == "gd" else config["horizon_max"])


def recorded_steps(config: Mapping[str, Any]) -> np.ndarray:
    """The steps a cell of ``config`` records (see :func:`step_grid`)."""
    steps = cell_steps(config)
    extra: list[int] = []
    lin = int(config.get("record_linear", 0))
    if lin:
        extra += np.linspace(0, steps, lin).round().astype(int).tolist()
    if int(config.get("points", 0)) > 0:
        hs = horizons(config)
        extra += [*hs.tolist(), *(hs - 1).tolist()]
    return step_grid(steps, int(config["record_points"]), extra=extra)


def _task(config: Mapping[str, Any], key: jax.Array) -> HierarchicalTask:
    embedding = config.get("embedding", "identity")
    dim = int(config.get("d", 0)) or None
    return power_law_task(
        int(config["M"]),
        int(config["C"]),
        config["beta"],
        alpha=config.get("alpha", 0.0),
        norm=config.get("r", 1.0),
        embedding=embedding,
        dim=dim if embedding == "random" else None,
        key=key if embedding == "random" else None,
        dtype=F64,
    )


def _matched_step(task: HierarchicalTask, eta: Any) -> jax.Array:
    """``eta ||msgn(G_0)||_F / ||sign(G_0)||_F``: a sign step whose first update has
    the Frobenius norm of Muon's (with step ``eta``), in the task's own basis."""
    d = task.dim
    g0 = full_state(jnp.zeros((d, d), task.dtype), task).grad
    return eta * jnp.linalg.norm(polar(g0)) / jnp.linalg.norm(jnp.sign(g0))


def learning_rate(
    config: Mapping[str, Any], task: HierarchicalTask
) -> tuple[jax.Array, jax.Array]:
    """The step ``eta`` of a cell, and its horizon (0 outside horizon mode).

    See the module docstring for the keys. Traced values (a batched ``scale``,
    ``alpha`` or ``point``) stay traced.
    """
    rule = config["rule"]
    r = jnp.asarray(config.get("r", 1.0), F64)
    p1 = jnp.max(query_frequencies(task))
    horizon = jnp.zeros((), F64)
    if int(config.get("points", 0)) > 0:
        n = int(config["points"])
        point = jnp.asarray(config["point"])
        if rule == "gd":
            grid = np.geomspace(config["gd_lr_min"], config["gd_lr_max"], n)
            return jnp.asarray(grid, F64)[point] / (r**4 * p1), horizon
        if rule == "muon":
            # The same numpy grid as recorded_steps, so every T_i is recorded.
            horizon = jnp.asarray(horizons(config), F64)[point]
            k = task.num_queries
            return config["muon_c"] * math.log(k) / (r**2 * horizon), horizon
        raise ValueError(
            f"horizon mode (points > 0) runs 'gd' and 'muon' only, got rule={rule!r}"
        )
    scale = jnp.asarray(config.get("scale", 1.0), F64)
    if rule == "gd":
        base = config["gd_lr_p1"] / (r**4 * p1)
    elif rule == "muon":
        base = jnp.asarray(config["muon_lr"], F64)
    elif rule == "tra_signgd":
        base = jnp.asarray(config["tra_lr"], F64)
    else:  # signgd, adam
        base = _matched_step(task, config["sign_lr"])
    return base * scale, horizon


def dynamics_cell(config: Mapping[str, Any], key: jax.Array) -> dict[str, jax.Array]:
    """Cell function: one run from ``W_0 = 0``, recorded at :func:`recorded_steps`.

    Returns:
        ``{"step", "lr", "horizon", "loss", "excess", "accuracy", "update_norm",
        "excess_g1" .. "excess_gM", "acc_g1" .. "acc_gM"}``, each ``(S,)``:
        ``excess = L - L*``; ``accuracy`` is the frequency-weighted accuracy
        ``sum_g ptil_g acc_g``; ``excess_g`` is group ``g``'s mean per-query loss
        minus ``L*`` (every query has the same optimum); ``acc_g`` the fraction of
        its queries answered (strict argmax). ``lr`` is the step used and
        ``horizon`` Muon's horizon in horizon mode (else 0).

    References:
        SPEC B.2 (rules), B.4 (per-group loss and accuracy curves) [seed].
    """
    rule = config["rule"]
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got rule={rule!r}")
    task = _task(config, key)
    eta, horizon = learning_rate(config, task)
    steps = cell_steps(config)
    dyn = run(
        task,
        rule,
        eta,
        steps=steps,
        path=cell_path(rule, str(config.get("embedding", "identity"))),
    )
    idx = recorded_steps(config)
    l_star = optimal_loss(task)
    gl = dyn.group_loss[idx]
    ga = dyn.group_accuracy[idx]
    out: dict[str, jax.Array] = {
        "step": jnp.asarray(idx),
        "lr": jnp.broadcast_to(eta, idx.shape),
        "horizon": jnp.broadcast_to(horizon, idx.shape),
        "loss": dyn.loss[idx],
        "excess": dyn.loss[idx] - l_star,
        "accuracy": jnp.matmul(
            ga, task.group_weights, precision=jax.lax.Precision.HIGHEST
        ),
        "update_norm": dyn.update_norm[idx],
    }
    for g in range(task.num_groups):
        out[f"excess_g{g + 1}"] = gl[:, g] - l_star
    for g in range(task.num_groups):
        out[f"acc_g{g + 1}"] = ga[:, g]
    return out


def _task_defect(w: jax.Array, task: HierarchicalTask) -> jax.Array:
    """Block-symmetry defect of ``W`` in task coordinates (``q_out^T W q_in``)."""
    return block_symmetry_defect(to_task(w, task), task.group_size)


def symmetry_cell(config: Mapping[str, Any], key: jax.Array) -> dict[str, jax.Array]:
    """Cell function: one run on the full ``d x d`` path, recording the
    block-symmetry defect ``||A_t - proj(A_t)||_F / ||A_t||_F`` of ``A_t = q_out^T
    W_t q_in`` at :func:`recorded_steps`.

    Task keys as in :func:`dynamics_cell` (the same basis for the same seed); the
    step is ``base_lr`` for every rule but GD, whose step is ``gd_lr_p1 / (r^4
    p_1)`` (the steps of the 0.1.0 measurement: SignGD and Adam are not matched to
    Muon's update norm here).

    Returns:
        ``{"step", "lr", "defect"}``, each ``(S,)``.

    References:
        SPEC B.3, Prop. 6.1 [summary].
    """
    rule = config["rule"]
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got rule={rule!r}")
    task = _task(config, key)
    if rule == "gd":
        r = jnp.asarray(config.get("r", 1.0), F64)
        eta = config["gd_lr_p1"] / (r**4 * jnp.max(query_frequencies(task)))
    else:
        eta = jnp.asarray(config["base_lr"], F64)
    dyn = run(
        task, rule, eta, steps=cell_steps(config), path="full", observe=_task_defect
    )
    idx = recorded_steps(config)
    return {
        "step": jnp.asarray(idx),
        "lr": jnp.broadcast_to(eta, idx.shape),
        "defect": dyn.observed[idx],
    }


def dynamics_sweep(
    axes: Mapping[str, Sequence[Scalar]],
    fixed: Mapping[str, Scalar],
    *,
    batched: Sequence[str] = (),
    cell: CellFn | None = None,
) -> Sweep:
    """A :class:`muonjax.Sweep` of :func:`dynamics_cell` (or of ``cell``).

    Every rule sees the same random basis for a seed (the key depends on the task
    parameters only: :data:`TASK_KEYS` present in the config).

    Args:
        axes: grid axes (e.g. ``{"rule": (...), "alpha": (...)}``).
        fixed: the other config keys (see the module docstring).
        batched: numeric axes vmapped with the seeds (``alpha``, ``beta``,
            ``scale``, ``point``); the others compile once per value.
        cell: the cell function (default :func:`dynamics_cell`; e.g.
            :func:`symmetry_cell`), with the same task keys.

    Returns:
        The sweep.
    """
    names = set(axes) | set(fixed)
    # ``steps`` may be left out in horizon mode (checked just below).
    missing = [k for k in ("M", "C", "beta", "rule", "record_points") if k not in names]
    if missing:
        raise ValueError(f"dynamics_sweep needs config keys {missing}")
    if "steps" not in names and not {"gd_steps", "horizon_max"} <= names:
        raise ValueError("dynamics_sweep needs 'steps' (or gd_steps, horizon_max)")
    for rule in axes.get("rule", (fixed.get("rule"),)):
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got rule={rule!r}")
    return Sweep(
        dynamics_cell if cell is None else cell,
        axes=axes,
        fixed=fixed,
        batched=tuple(batched),
        key_axes=tuple(k for k in TASK_KEYS if k in names),
    )
