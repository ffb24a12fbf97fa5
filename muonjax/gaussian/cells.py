"""Sweep cells of the Gaussian memory: one step of a rule from ``W_0 = 0``.

A cell function is written for one configuration and one seed,
``cell(config, key) -> {metric: value}``; :func:`muonjax.run_sweep` vmaps it over seeds
and batched axes (see :mod:`muonjax.engine.sweep`).

Memory under ``vmap``: each seed of a chunk holds its own ``(block, n)`` score block,
so a cell function takes ``block_size = sweep_block_size(n, chunk)``
(:func:`sweep_block_size`).

References:
    SPEC A.4-A.6.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax

from muonjax import _validate
from muonjax.engine.sweep import Scalar, Sweep
from muonjax.gaussian.loop import one_step
from muonjax.gaussian.rules import RULES, one_step_optimizer
from muonjax.gaussian.scores import DEFAULT_BLOCK_ELEMENTS
from muonjax.gaussian.task import sample_task

#: Score entries one vmapped chunk may hold at once: 2^26 (256 MiB in float32), four
#: times the budget of one unbatched pass. Smaller per-seed blocks ran slower than a
#: plain loop over seeds on a 2-core CPU (N = 20,000, d = 128, 8 seeds: CPU time
#: 19.7 s with blocks of 48 rows, 15.7 s with 208, 17.3 s for the loop).
SWEEP_BLOCK_ELEMENTS = 4 * DEFAULT_BLOCK_ELEMENTS


def sweep_block_size(
    n: int, batch: int, *, elements: int = SWEEP_BLOCK_ELEMENTS
) -> int:
    """Query-block size for one seed when ``batch`` seeds run under one ``vmap``.

    Each seed of a vmapped chunk holds its own ``(block, n)`` score block, so the
    per-seed block is ``elements // (batch * n)`` (rounded down to a multiple of 8,
    at least 8): the whole chunk then holds about ``elements`` score entries. The
    default, :data:`SWEEP_BLOCK_ELEMENTS`, is four times the budget of one unbatched
    pass (:func:`muonjax.default_block_size`).

    Args:
        n: number of candidates (items).
        batch: seeds (and batched cells) per vmapped call, i.e. the chunk size.
        elements: score entries the chunk may hold.
    """
    n = _validate.positive_int("n", n)
    batch = _validate.positive_int("batch", batch)
    elements = _validate.positive_int("elements", elements)
    b = elements // (batch * n)
    return max(8, b - b % 8)


_OPTIMIZER_KEYS = (
    "gd_lr",
    "muon_lr_scale",
    "newton_lr",
    "newton_ridge",
    "ns_steps",
    "ns_coeffs",
)


def one_step_cell(config: Mapping[str, Any], key: jax.Array) -> dict[str, jax.Array]:
    """Cell function: one step of a rule from zero, and its metrics.

    Reads ``n``, ``d``, ``alpha``, ``rule`` and, optionally, ``kappa_v``, ``dtype``,
    ``batch_size`` (a minibatch step; absent or 0 for the population gradient),
    ``update_dtype`` (see :func:`muonjax.one_step`), ``with_loss``, ``block_size``
    and the parameters of :func:`one_step_optimizer` from ``config``. The key is
    split once into the task's key and the minibatch's key.

    Returns:
        ``{"step": 1, "loss", "count", "prefix", "weighted_accuracy"}`` (the loss is
        NaN when ``with_loss`` is False).

    References:
        SPEC A.4-A.6 (Figures 2 and 6).
    """
    key_task, key_batch = jax.random.split(key)
    task = sample_task(
        config["n"],
        config["d"],
        config["alpha"],
        key=key_task,
        kappa_v=config.get("kappa_v", 0.0),
        dtype=config.get("dtype", "float32"),
    )
    batch_size = config.get("batch_size") or None
    update_dtype = config.get("update_dtype") or None
    tx = one_step_optimizer(
        config["rule"],
        task,
        update_dtype=update_dtype,
        **{k: config[k] for k in _OPTIMIZER_KEYS if k in config},
    )
    res = one_step(
        task,
        tx,
        batch_size=batch_size,
        key=key_batch,
        block_size=config.get("block_size"),
        with_loss=config.get("with_loss", True),
        update_dtype=update_dtype,
    )
    return {"step": 1, **res.metrics._asdict()}


def one_step_sweep(
    *,
    n: int,
    dims: Sequence[int],
    alphas: Sequence[float],
    rules: Sequence[str] = ("gd", "muon", "newton"),
    kappas: Sequence[float] | None = None,
    batch_sizes: Sequence[int] | None = None,
    ns_steps: Sequence[int] | None = None,
    ns_coeffs: str = "jordan",
    update_dtype: str | None = None,
    gd_lr: float = 1.0,
    muon_lr_scale: float = 2.0,
    newton_lr: float = 1.0,
    newton_ridge: float = 1e-8,
    with_loss: bool = True,
    dtype: str = "float32",
    chunk_size: int = 16,
) -> Sweep:
    """The sweep of one population step over ``d x rule x alpha (x kappa_v)``.

    ``d`` and the rule compile once each (shapes and code); ``alpha`` and
    ``kappa_v`` are vmapped with the seeds. The key identity leaves out the rule and
    the learning rates, so GD, Muon and Newton see the same task for the same seed.

    Args:
        n: number of associations N.
        dims: embedding dimensions d.
        alphas: frequency exponents.
        rules: update rules (see :func:`one_step_optimizer`).
        kappas: output-spectrum exponents ``kappa_v`` (Figure 6); ``None`` for the
            isotropic task only (no ``kappa_v`` column).
        batch_sizes: minibatch sizes B (an axis that compiles once per B; Figures
            1b and 3); ``None`` for the population step only (no column).
        ns_steps: Newton-Schulz step counts of ``"muon_ns"`` (an axis); ``None``
            keeps 5 steps and adds no column.
        ns_coeffs: Newton-Schulz coefficient name of ``"muon_ns"``.
        update_dtype: dtype of the gradient and update (``"float64"`` needs JAX's
            x64 mode; see :func:`muonjax.one_step`), ``None`` for the task dtype.
        gd_lr, muon_lr_scale, newton_lr, newton_ridge: see
            :func:`one_step_optimizer`.
        with_loss: measure the population loss of ``W_1`` too (about 10% more time).
        dtype: task dtype.
        chunk_size: the chunk size the sweep will run with; sets the per-seed block
            size to ``sweep_block_size(n, chunk_size)``.

    Returns:
        A :class:`Sweep` of :func:`one_step_cell`.

    References:
        SPEC A.6, Figures 2 and 6.
    """
    n = _validate.positive_int("n", n)
    dims = tuple(_validate.positive_int("dims", d) for d in dims)
    for rule in rules:
        if rule not in RULES:
            raise ValueError(f"rules must be among {RULES}, got rule={rule!r}")
    for a in alphas:
        _validate.real("alphas", a, lower=0.0)
    axes: dict[str, Sequence[Scalar]] = {
        "d": dims,
        "rule": tuple(rules),
        "alpha": tuple(float(a) for a in alphas),
    }
    batched: tuple[str, ...] = ("alpha",)
    key_axes = ["n", "d", "alpha", "dtype"]
    if batch_sizes is not None:
        # Not in the key identity: every B sees the same task for a seed, so the
        # capacity-against-B curves are paired (each B draws its batch from the
        # same batch key).
        axes["batch_size"] = tuple(
            _validate.positive_int("batch_sizes", b) for b in batch_sizes
        )
    if ns_steps is not None:
        axes["ns_steps"] = tuple(
            _validate.positive_int("ns_steps", s) for s in ns_steps
        )
    if kappas is not None:
        for k in kappas:
            _validate.real("kappas", k, lower=0.0)
        axes["kappa_v"] = tuple(float(k) for k in kappas)
        batched += ("kappa_v",)
        key_axes.append("kappa_v")
    return Sweep(
        one_step_cell,
        axes=axes,
        fixed={
            "n": n,
            "gd_lr": float(gd_lr),
            "muon_lr_scale": float(muon_lr_scale),
            "newton_lr": float(newton_lr),
            "newton_ridge": float(newton_ridge),
            "with_loss": bool(with_loss),
            "dtype": str(dtype),
            **({"ns_coeffs": str(ns_coeffs)} if "muon_ns" in rules else {}),
            **({"update_dtype": str(update_dtype)} if update_dtype else {}),
        },
        batched=batched,
        key_axes=tuple(key_axes),
        options={"block_size": sweep_block_size(n, chunk_size)},
    )
