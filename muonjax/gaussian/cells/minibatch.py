"""Cells of one minibatch step from ``W_0 = 0`` over a batch-size axis (Figs. 1b, 3).

**Why a cell of its own.** :func:`muonjax.one_step_sweep` takes ``batch_sizes`` too,
but there ``B`` is a shape: every ``B`` compiles its own program (5-9 s each on the
2-core CPU, more than the step itself at ``N = 10,000``, ``d <= 64``; 80 programs for
a quick grid). Here ``B`` is a *batched* axis, traced and vmapped with the seeds: a
cell draws ``max_batch_size`` indices once and uses the first ``B`` of them, so one
program per ``(d, rule)`` serves every ``B``. The batches are *nested* (the batch of
``B`` is the start of the batch of ``2B``) and shared by the rules, and the task is
the same for every ``B`` and rule of a seed: the curves are paired in task and batch.
Drawing ``max_batch_size`` indices costs ``O(max_batch_size log N)``, negligible next
to the ``2 N^2 d`` flops of the capacity pass.

References:
    SPEC A.2 (minibatch loss), A.5 (one minibatch step; critical batch size), A.6
    (Figures 1b and 3); Kim et al. (2026), Figures 1b and 3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import optax

from muonjax import _validate
from muonjax.engine.sweep import Scalar, Sweep
from muonjax.gaussian.cells._common import (
    TASK_KEY,
    check_update_dtype,
    grid,
    sweep_block_size,
    task_of,
)
from muonjax.gaussian.metrics import capacity_from_mask, recovered
from muonjax.gaussian.rules import MINIBATCH_RULES, rule_from_config, rule_optimizer
from muonjax.gaussian.scores import grad_at_zero, population_pass, sample_batch


def batch_grid(b_max: int, *, b_min: int = 1, factor: float = 2.0) -> tuple[int, ...]:
    """Geometric batch sizes ``round(b_min * factor^k) <= b_max``, distinct, increasing.

    Args:
        b_max: largest batch size (>= ``b_min``); included when the grid reaches it
            within rounding.
        b_min: smallest batch size (>= 1).
        factor: ratio of consecutive sizes (> 1).

    Returns:
        The sizes, e.g. ``batch_grid(16) == (1, 2, 4, 8, 16)``.
    """
    b_min = _validate.positive_int("b_min", b_min)
    b_max = _validate.positive_int("b_max", b_max)
    if b_max < b_min:
        raise ValueError(f"b_max must be >= b_min, got b_max={b_max}, b_min={b_min}")
    _validate.real("factor", factor, lower=1.0, lower_open=True)
    n_steps = math.floor(math.log(b_max / b_min) / math.log(factor) + 1e-9)
    out = sorted({round(b_min * factor**k) for k in range(n_steps + 1)})
    return tuple(int(b) for b in out if b <= b_max)


def minibatch_cell(config: Mapping[str, Any], key: jax.Array) -> dict[str, Any]:
    """Cell function: one step from zero on a minibatch of ``batch_size`` draws.

    The key is split once, as in :func:`muonjax.one_step_cell`, into the task's key
    and the batch's key. The batch is the first ``B`` of ``max_batch_size`` indices
    drawn i.i.d. from ``p`` with the batch key (so ``B`` may be a traced value: one
    compiled program serves every ``B``), its empirical frequencies
    ``q_i = #{b < B: i_b = i} / B`` weight the gradient at zero,
    ``G = sum_i q_i (v_i - vbar) u_i^T`` (SPEC A.2, [derived]), and the rule's update
    gives ``W_1``. ``batch_size = 0`` takes the population gradient (``q = p``).

    Reads ``n``, ``d``, ``alpha``, ``rule``, ``batch_size``, ``max_batch_size`` and,
    optionally, ``dtype``, ``update_dtype``, ``with_loss``, ``block_size`` and the
    rule's parameters (:func:`muonjax.rule_spec`; GD's step defaults to 1).

    Returns:
        ``{"step": 1, "loss", "count", "prefix", "weighted_accuracy", "distinct",
        "distinct_prefix", "distinct_weight", "out_of_batch"}``: the population loss
        of ``W_1`` (NaN unless ``with_loss``), its capacity (SPEC A.4), the same three
        measures of the batch itself (the distinct items it holds, the longest run
        ``1..k`` it holds, their frequency mass; ``n``, ``n``, 1 for the population
        step) and the number of recovered items *not* in the batch (chance
        recoveries; at most 1 in expectation, ``theory.out_of_batch_recoveries_bound``).

    References:
        SPEC A.2 (minibatch loss), A.4, A.5 (one minibatch step); Kim et al. (2026),
        Figures 1b and 3.
    """
    key_task, key_batch = jax.random.split(key)
    n = int(config["n"])
    b_max = int(config["max_batch_size"])
    task = task_of(config, key_task)
    tx, _ = rule_optimizer(rule_from_config(config, gd_lr=1.0), task=task)
    update_dtype = config.get("update_dtype") or task.u.dtype
    hi = jax.tree.map(lambda x: x.astype(update_dtype), task)
    b = jnp.asarray(config["batch_size"])
    idx = sample_batch(task, b_max, key=key_batch)
    take = (jnp.arange(b_max) < b).astype(hi.p.dtype)
    counts = jnp.zeros((n,), hi.p.dtype).at[idx].add(take)
    population = b == 0
    weights = jnp.where(population, hi.p, counts / jnp.maximum(b, 1).astype(hi.p.dtype))
    in_batch = jnp.logical_or(population, counts > 0)

    g = grad_at_zero(hi, weights=weights)
    w0 = jnp.zeros_like(g)
    updates, _ = tx.update(g, tx.init(w0), w0)
    w1 = optax.apply_updates(w0, updates).astype(task.u.dtype)
    with_loss = bool(config.get("with_loss", False))
    res = population_pass(
        w1,
        task,
        with_loss=with_loss,
        with_grad=False,
        block_size=config.get("block_size"),
    )
    mask = recovered(res.margins)
    cap = capacity_from_mask(mask, task.p)
    ceiling = capacity_from_mask(in_batch, task.p)
    loss = res.loss if with_loss else jnp.full((), jnp.nan, task.u.dtype)
    return {
        "step": 1,
        "loss": loss,
        "count": cap.count,
        "prefix": cap.prefix,
        "weighted_accuracy": cap.weighted_accuracy,
        "distinct": ceiling.count,
        "distinct_prefix": ceiling.prefix,
        "distinct_weight": ceiling.weighted_accuracy,
        "out_of_batch": jnp.sum(mask & ~in_batch, dtype=jnp.int32),
    }


def critical_batch_sweep(
    *,
    n: int,
    dims: Sequence[int],
    alphas: Sequence[float],
    batch_sizes: Sequence[int],
    rules: Sequence[str] = ("gd", "muon"),
    update_dtype: str | None = "float64",
    gd_lr: float = 1.0,
    muon_lr_scale: float = 2.0,
    ns_steps: int = 5,
    ns_coeffs: str = "jordan",
    with_loss: bool = False,
    dtype: str = "float32",
    chunk_size: int = 16,
) -> Sweep:
    """The sweep of one minibatch step over ``d x rule x alpha x B``.

    ``d`` and the rule compile once each (shapes and code); ``alpha`` and ``B`` are
    vmapped with the seeds (see the module docstring). The key identity is ``n``,
    ``d``, ``alpha``, ``dtype`` and ``max_batch_size``: every rule and every ``B`` of
    a seed sees the same task and nested batches of one draw (paired curves).
    Changing the largest batch size therefore changes every draw.

    Args:
        n: number of associations N.
        dims: embedding dimensions d.
        alphas: frequency exponents (Figures 1b and 3: 1.5).
        batch_sizes: batch sizes B >= 0 (``0``: the population step, the ceiling the
            curve should level off at); see :func:`batch_grid`.
        rules: among :data:`muonjax.MINIBATCH_RULES` ("gd" is SGD here).
        update_dtype: dtype of the gradient and update (``"float64"`` needs JAX's x64
            mode; the default, because Muon's direction needs it at alpha >= 2, see
            :func:`muonjax.one_step`); ``None`` for the task dtype.
        gd_lr, muon_lr_scale, ns_steps, ns_coeffs: see :func:`muonjax.rule_spec`
            (one step from zero: the step size changes no recovery, SPEC A.3
            [derived]).
        with_loss: also measure the population loss of ``W_1`` (about 10% more time).
        dtype: task dtype (the capacity pass runs in it).
        chunk_size: the chunk size the sweep will run with; sets the per-seed block
            size to :func:`muonjax.sweep_block_size` ``(n, chunk_size)``.

    Returns:
        A :class:`muonjax.Sweep` of :func:`minibatch_cell`; its records have the
        columns ``d, rule, alpha, batch_size``, the fixed values, ``seed, step`` and
        the metrics of :func:`minibatch_cell`.

    References:
        SPEC A.5-A.6 (Figures 1b and 3).
    """
    n, dims, alphas = grid(n, dims, alphas)
    for rule in rules:
        if rule not in MINIBATCH_RULES:
            raise ValueError(
                f"rules must be among {MINIBATCH_RULES}, got rule={rule!r}"
            )
    sizes = tuple(_validate.nonnegative_int("batch_sizes", b) for b in batch_sizes)
    if not sizes or max(sizes) < 1:
        raise ValueError(f"batch_sizes must hold a size >= 1, got {batch_sizes!r}")
    check_update_dtype(update_dtype)
    fixed: dict[str, Scalar] = {
        "n": n,
        "max_batch_size": max(sizes),
        "gd_lr": float(gd_lr),
        "muon_lr_scale": float(muon_lr_scale),
        "with_loss": bool(with_loss),
        "dtype": str(dtype),
    }
    if "muon_ns" in rules:
        fixed["ns_steps"] = _validate.positive_int("ns_steps", ns_steps)
        fixed["ns_coeffs"] = str(ns_coeffs)
    if update_dtype:
        fixed["update_dtype"] = str(update_dtype)
    return Sweep(
        minibatch_cell,
        axes={"d": dims, "rule": tuple(rules), "alpha": alphas, "batch_size": sizes},
        fixed=fixed,
        batched=("alpha", "batch_size"),
        key_axes=(*TASK_KEY, "max_batch_size"),
        options={"block_size": sweep_block_size(n, chunk_size)},
    )
