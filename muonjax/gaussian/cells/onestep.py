"""Cells of one population step from ``W_0 = 0`` (Figures 1a, 2, 6; the checks).

A cell function is written for one configuration and one seed,
``cell(config, key) -> {metric: value}``; :func:`muonjax.run_sweep` vmaps it over seeds
and batched axes (see :mod:`muonjax.engine.sweep`). The key is split once into the
task's key and the minibatch's key, and the task identity of every sweep here is
``(n, d, alpha, dtype)`` (:data:`TASK_KEY`): every rule, Newton-Schulz variant and
smoothing of a seed sees the same task, so a check and a figure at the same sizes
measure the same tasks.

- :func:`one_step_cell`, :func:`one_step_sweep`: one step of a rule.
- :func:`ns_variant_cell`, :func:`ns_variant_sweep`: exact Muon beside Newton-Schulz
  variants, with the gradient directions each orthogonalises.
- :func:`paired_kappa_sweep`: Figure 6's sweep with paired output spectra.
- :func:`smoothing_cell`, :func:`smoothing_sweep`: how far ``h_lam(G)`` is from the
  polar factor on the one-step gradient.

Memory under ``vmap``: each seed of a chunk holds its own ``(block, n)`` score block,
so a sweep passes ``block_size = sweep_block_size(n, chunk)`` to its cells.

References:
    SPEC A.3-A.6; Kim et al. (2026), Figures 2 and 6.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from muonjax import _validate
from muonjax._polar import newton_schulz, polar, singular_value_map, smoothed_polar
from muonjax.engine.sweep import Scalar, Sweep
from muonjax.gaussian.cells._common import (
    TASK_KEY,
    grid,
    sweep_block_size,
    task_of,
)
from muonjax.gaussian.loop import one_step
from muonjax.gaussian.rules import (
    parse_ns_variant,
    rule_from_config,
    rule_optimizer,
    rule_spec,
)
from muonjax.gaussian.scores import grad_at_zero

#: Mapped singular value at or above which :func:`ns_variant_cell` counts a
#: gradient direction as orthogonalised. Converged Newton-Schulz directions land in
#: about 0.7..1.2 (optax's quintic) or at 1; a direction left in the iteration's
#: linear regime maps to ``(prod_t a_t) s / ||G||_F``, far below it.
DIRECTION_THRESHOLD = 0.5


def w1_rank(w: jax.Array) -> jax.Array:
    """Singular values of ``W_1`` above half the largest: the directions kept.

    A polar-type step from zero has ``d`` equal singular values; fewer means the
    float resolution cut tail directions of the gradient (the checks exclude such
    points).
    """
    s = jnp.linalg.svd(w, compute_uv=False)
    return jnp.sum(s > 0.5 * s[0], dtype=jnp.int32)


def one_step_cell(config: Mapping[str, Any], key: jax.Array) -> dict[str, jax.Array]:
    """Cell function: one step of a rule from zero, and its metrics.

    Reads ``n``, ``d``, ``alpha``, ``rule`` and, optionally, ``kappa_v``, ``dtype``,
    ``batch_size`` (a minibatch step; absent or 0 for the population gradient),
    ``update_dtype`` (see :func:`muonjax.one_step`), ``with_loss``, ``with_rank``,
    ``block_size`` and the rule's parameters (:func:`muonjax.rule_spec`; GD's step
    defaults to the constant 1).

    Returns:
        ``{"step": 1, "loss", "count", "prefix", "weighted_accuracy"}`` (the loss is
        NaN when ``with_loss`` is False), and ``"rank"`` (:func:`w1_rank`) with
        ``with_rank``.

    References:
        SPEC A.4-A.6 (Figures 2 and 6).
    """
    key_task, key_batch = jax.random.split(key)
    task = task_of(config, key_task)
    update_dtype = config.get("update_dtype") or None
    spec = rule_from_config(config, gd_lr=1.0)
    tx, _ = rule_optimizer(spec, task=task, update_dtype=update_dtype)
    res = one_step(
        task,
        tx,
        batch_size=config.get("batch_size") or None,
        key=key_batch,
        block_size=config.get("block_size"),
        with_loss=config.get("with_loss", True),
        update_dtype=update_dtype,
    )
    out = {"step": 1, **res.metrics._asdict()}
    if config.get("with_rank", False):
        out["rank"] = w1_rank(res.w)
    return out


def one_step_sweep(
    *,
    n: int,
    dims: Sequence[int],
    alphas: Sequence[float],
    rules: Sequence[str] = ("gd", "muon", "newton"),
    kappas: Sequence[float] | None = None,
    batch_sizes: Sequence[int] | None = None,
    ns_steps: Sequence[int] | None = None,
    lams: Sequence[float] | None = None,
    ns_coeffs: str = "jordan",
    update_dtype: str | None = None,
    gd_lr: float = 1.0,
    muon_lr_scale: float = 2.0,
    newton_lr: float = 1.0,
    newton_ridge: float = 1e-8,
    with_loss: bool = True,
    with_rank: bool = False,
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
        rules: rule names (:func:`muonjax.rule_spec`).
        kappas: output-spectrum exponents ``kappa_v`` (Figure 6); ``None`` for the
            isotropic task only (no ``kappa_v`` column).
        batch_sizes: minibatch sizes B (an axis that compiles once per B; Figures
            1b and 3); ``None`` for the population step only (no column).
        ns_steps: Newton-Schulz step counts of ``"muon_ns"`` (an axis); ``None``
            keeps 5 steps and adds no column.
        lams: smoothings of ``"muon_smoothed"`` (an axis ``lam``, compiled once
            each); ``None`` adds no column.
        ns_coeffs: Newton-Schulz coefficient name of ``"muon_ns"``.
        update_dtype: dtype of the gradient and update (``"float64"`` needs JAX's
            x64 mode; see :func:`muonjax.one_step`), ``None`` for the task dtype.
        gd_lr, muon_lr_scale, newton_lr, newton_ridge: see
            :func:`muonjax.rule_spec`.
        with_loss: measure the population loss of ``W_1`` too (about 10% more time).
        with_rank: record the ``rank`` of ``W_1`` (:func:`w1_rank`).
        dtype: task dtype.
        chunk_size: the chunk size the sweep will run with; sets the per-seed block
            size to ``sweep_block_size(n, chunk_size)``.

    Returns:
        A :class:`Sweep` of :func:`one_step_cell`.

    References:
        SPEC A.6, Figures 2 and 6.
    """
    n, dims, alphas = grid(n, dims, alphas)
    lam = None if not lams else float(lams[0])
    for rule in rules:
        try:
            rule_spec(
                rule,
                gd_lr=gd_lr,
                lam=lam,
                muon_lr_scale=muon_lr_scale,
                newton_ridge=newton_ridge,
            )
        except ValueError as err:
            raise ValueError(
                f"rules must be among the rules of rule_spec: {err}"
            ) from None
    axes: dict[str, Sequence[Scalar]] = {"d": dims, "rule": tuple(rules)}
    axes["alpha"] = alphas
    batched: tuple[str, ...] = ("alpha",)
    key_axes = list(TASK_KEY)
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
    if lams is not None:
        for v in lams:
            _validate.real("lams", v, lower=0.0)
        axes["lam"] = tuple(float(v) for v in lams)
    if kappas is not None:
        for k in kappas:
            _validate.real("kappas", k, lower=0.0)
        axes["kappa_v"] = tuple(float(k) for k in kappas)
        batched += ("kappa_v",)
        key_axes.append("kappa_v")
    fixed: dict[str, Scalar] = {
        "n": n,
        "gd_lr": float(gd_lr),
        "muon_lr_scale": float(muon_lr_scale),
        "newton_lr": float(newton_lr),
        "newton_ridge": float(newton_ridge),
        "with_loss": bool(with_loss),
        "dtype": str(dtype),
    }
    if "muon_ns" in rules:
        fixed["ns_coeffs"] = str(ns_coeffs)
    if update_dtype:
        fixed["update_dtype"] = str(update_dtype)
    if with_rank:
        fixed["with_rank"] = True
    return Sweep(
        one_step_cell,
        axes=axes,
        fixed=fixed,
        batched=batched,
        key_axes=tuple(key_axes),
        options={"block_size": sweep_block_size(n, chunk_size)},
    )


def ns_variant_cell(config: Mapping[str, Any], key: jax.Array) -> dict[str, jax.Array]:
    """Cell function: one Muon step with the exact polar factor or a Newton-Schulz one.

    Reads ``variant`` (``"exact"`` or ``"COEFFS:STEPS"``, a rule of
    :func:`muonjax.rule_spec`) and everything :func:`one_step_cell` reads; the step
    and its metrics are exactly :func:`one_step_cell`'s with that rule. Adds
    ``directions``: how many of the gradient's ``d`` singular directions the variant
    maps to at least :data:`DIRECTION_THRESHOLD` (the directions it orthogonalises;
    the exact polar factor keeps all of them unless they fall below its rank
    tolerance), from the same task's gradient in the update dtype: ``O(n d^2 +
    d^3)``, small beside the capacity pass.

    Returns:
        ``{"step", "loss", "count", "prefix", "weighted_accuracy", "directions"}``.

    References:
        SPEC A.3, Muon, practical [derived]; SPEC E (optax's quintic does not
        converge to the polar factor).
    """
    out = one_step_cell({**config, "rule": config["variant"]}, key)
    spec = rule_spec(config["variant"])
    key_task, _ = jax.random.split(key)  # the task of one_step_cell
    task = task_of(config, key_task)
    dt = config.get("update_dtype") or task.u.dtype
    g = grad_at_zero(jax.tree.map(lambda x: x.astype(dt), task))
    if spec.ns_steps is None or spec.ns_coeffs is None:  # the exact polar factor
        direction = polar(g)
    else:
        direction = newton_schulz(g, steps=spec.ns_steps, coeffs=spec.ns_coeffs)
    mapped = singular_value_map(g, direction)
    out["directions"] = jnp.sum(mapped >= DIRECTION_THRESHOLD, dtype=jnp.int32)
    return out


def ns_variant_sweep(
    *,
    n: int,
    dims: Sequence[int],
    alphas: Sequence[float],
    variants: Sequence[str],
    update_dtype: str | None = "float64",
    muon_lr_scale: float = 2.0,
    with_loss: bool = True,
    dtype: str = "float32",
    chunk_size: int = 16,
) -> Sweep:
    """Exact Muon beside Newton-Schulz variants: the grid ``d x variant x alpha``.

    The task key is :data:`TASK_KEY`, as in :func:`one_step_sweep`, so every variant
    sees the same task for a seed (ratios and exponent differences are paired) and
    the tasks are those of Figure 2's sweep with the same ``n``, ``dims``,
    ``alphas`` and root seed.

    Args:
        n: number of associations N.
        dims: embedding dimensions.
        alphas: frequency exponents.
        variants: ``"exact"`` and ``"COEFFS:STEPS"`` strings (see
            :func:`muonjax.parse_ns_variant`).
        update_dtype: the dtype of the gradient and update (float64 needs x64 mode).
        muon_lr_scale: Muon's step over ``sqrt(d)`` (recovery does not depend on it).
        with_loss: also record the population loss.
        dtype: task dtype.
        chunk_size: the chunk size the sweep runs with (sets the block size).

    Returns:
        A :class:`muonjax.Sweep` of :func:`ns_variant_cell`.

    References:
        SPEC A.3 (Muon, practical [derived]); issue 5 ("beyond the paper").
    """
    n, dims, alphas = grid(n, dims, alphas)
    variants = tuple(variants)
    if not variants:
        raise ValueError("variants must hold at least one variant, got ()")
    for v in variants:
        parse_ns_variant(v)
    fixed: dict[str, Scalar] = {
        "n": n,
        "muon_lr_scale": float(muon_lr_scale),
        "with_loss": bool(with_loss),
        "dtype": str(dtype),
    }
    if update_dtype:
        fixed["update_dtype"] = str(update_dtype)
    return Sweep(
        ns_variant_cell,
        axes={"d": dims, "variant": variants, "alpha": alphas},
        fixed=fixed,
        batched=("alpha",),
        key_axes=TASK_KEY,
        options={"block_size": sweep_block_size(n, chunk_size)},
    )


def paired_kappa_sweep(sweep: Sweep) -> Sweep:
    """The same sweep with ``kappa_v`` left out of the task key (paired kappas).

    :func:`muonjax.sample_task` draws ``v = z * sqrt(spectrum(kappa_v))`` from one
    normal draw ``z``, so without ``kappa_v`` in the key every ``kappa_v`` of a seed
    scales the SAME ``z`` and ``u``: the comparison across ``kappa_v`` is paired, and
    ``kappa_v = 0`` is the isotropic task of Figure 2 with the same seed. Newton's
    step is invariant under ``v -> A v`` for an invertible ``A`` (up to its ridge),
    so on paired tasks its recovered set can only change through the ridge
    [derived].

    Args:
        sweep: a :func:`one_step_sweep` with ``kappas``.

    Returns:
        A new :class:`muonjax.Sweep`.
    """
    if "kappa_v" not in sweep.axes:
        raise ValueError("the sweep has no kappa_v axis: build it with kappas=...")
    keys = tuple(k for k in (sweep.key_axes or sweep.config_names) if k != "kappa_v")
    return Sweep(
        sweep.cell_fn,
        axes=sweep.axes,
        fixed=sweep.fixed,
        batched=sweep.batched,
        key_axes=keys,
        options=sweep.options,
    )


def smoothing_cell(config: Mapping[str, Any], key: jax.Array) -> dict[str, jax.Array]:
    """Cell function: ``||h_lam(G) - polar(G)||_2`` at ``lam = rho s_min(G)``.

    ``G`` is the one-step gradient at ``W = 0`` of the task of :func:`one_step_cell`
    (same key split), in ``update_dtype``. ``lam`` scales with each seed's smallest
    singular value, so every seed is in the small-``lam`` regime at the same ``rho``.

    Returns:
        ``{"error", "s_min", "s_max"}``: the spectral error and ``G``'s extreme
        singular values.

    References:
        SPEC A.3, Muon, smoothed [quoted]: ``h_lam -> polar`` as ``lam -> 0``.
    """
    key_task, _ = jax.random.split(key)
    task = task_of(config, key_task)
    dt = config.get("update_dtype") or task.u.dtype
    g = grad_at_zero(jax.tree.map(lambda x: x.astype(dt), task))
    # One SVD gives s and the polar factor U V^T (G has full rank here); h_lam then
    # depends on it, so no two LAPACK calls run at once (jaxlib 0.10.2 can deadlock
    # on two concurrent CPU LAPACK calls, docs/sweeps.md).
    u, s, vt = jnp.linalg.svd(g, full_matrices=False)
    lam = (config["rho"] * s[-1]).astype(dt)
    polar_g = jnp.matmul(u, vt, precision=jax.lax.Precision.HIGHEST)
    err = jnp.linalg.norm(smoothed_polar(g, lam) - polar_g, ord=2)
    return {"error": err, "s_min": s[-1], "s_max": s[0]}


def smoothing_sweep(
    *,
    n: int,
    dims: Sequence[int],
    alphas: Sequence[float],
    rhos: Sequence[float],
    update_dtype: str = "float64",
    dtype: str = "float32",
) -> Sweep:
    """:func:`smoothing_cell` over ``d x alpha x rho`` (:func:`one_step_sweep`'s tasks).

    ``alpha`` and ``rho`` are vmapped with the seeds; the key is :data:`TASK_KEY`.
    """
    n, dims, alphas = grid(n, dims, alphas)
    for r in rhos:
        _validate.real("rhos", r, lower=0.0, lower_open=True)
    return Sweep(
        smoothing_cell,
        axes={"d": dims, "alpha": alphas, "rho": tuple(float(r) for r in rhos)},
        fixed={"n": n, "dtype": str(dtype), "update_dtype": str(update_dtype)},
        batched=("alpha", "rho"),
        key_axes=TASK_KEY,
    )
