"""The named sweeps of Part B: one per experiment, shared with the checks.

Each builder validates its sizes (``ValueError`` naming the setting and its value)
and returns a :class:`muonjax.Sweep` of :func:`~muonjax.orthogonal.dynamics_cell`
(or :func:`~muonjax.orthogonal.symmetry_cell`) whose cell keys are the task
parameters only (:data:`~muonjax.orthogonal.TASK_KEYS`). The experiments
``orth_groups``, ``orth_scaling`` and ``orth_signgd`` record these sweeps, and the
checks with random bases (``orth_signgd_random_basis``, ``orth_block_symmetry``)
run the same builders through :func:`muonjax.run_sweep`: at the same sizes, root
seed and seed, a check and a figure see the same random basis.

- :func:`groups_sweep`: ``rule x alpha``, per-group curves (SPEC B.4);
- :func:`scaling_sweep`: ``rule x beta x point``, GD's constant steps and Muon's
  horizons (Thms 5.7, 5.8);
- :func:`signgd_sweep`: ``rule x alpha x scale``, TRA-SignGD(eta) against
  Muon(2 eta) and SignGD in a random basis (Thm 6.3, [seed]);
- :func:`symmetry_sweep`: ``rule``, every rule on the full path with the
  block-symmetry defect (Prop. 6.1).

:func:`sweep_settings` turns an experiment's config into a builder's arguments.

References:
    SPEC B.2-B.4 [summary; seed for the experiments].
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from muonjax import _validate
from muonjax.engine.sweep import Sweep
from muonjax.orthogonal.cells import dynamics_sweep, symmetry_cell
from muonjax.orthogonal.updates import RULES

#: Settings of an experiment's config that are not sweep sizes (the engine's).
RUN_SETTINGS = ("seeds", "chunk_size", "root_seed")


def sweep_settings(config: Any) -> dict[str, Any]:
    """The fields of an experiment's config dataclass less :data:`RUN_SETTINGS`:
    the keyword arguments of its sweep builder."""
    return {
        k: v for k, v in dataclasses.asdict(config).items() if k not in RUN_SETTINGS
    }


def _positive(**values: int) -> None:
    for name, value in values.items():
        _validate.positive_int(name, value)


def _check_task(
    num_groups: int, group_size: int, dim: int, alphas: Sequence[float]
) -> int:
    """Validate the task sizes; returns ``d`` (``K`` when ``dim`` is 0)."""
    _positive(num_groups=num_groups, group_size=group_size)
    k = num_groups * group_size
    if dim and dim < k:
        raise ValueError(f"dim must be 0 or >= K = {k}, got dim={dim}")
    if not alphas or not all(0 <= a < 1 for a in alphas):
        raise ValueError(f"alphas must lie in [0, 1), got alphas={alphas}")
    return dim or k


def _check_rules(rules: Sequence[str]) -> None:
    bad = [r for r in rules if r not in RULES]
    if not rules or bad:
        raise ValueError(f"rules must be among {RULES}, got rules={rules}")


def _random_basis_run(
    num_groups: int,
    group_size: int,
    beta: float,
    dim: int,
    alphas: Sequence[float],
    rules: Sequence[str],
    steps: int,
    record_points: int,
) -> dict[str, Any]:
    """Validate the sizes of a run in a random basis; returns the leading fixed
    config keys (in the order of the records' columns)."""
    _positive(steps=steps, record_points=record_points)
    d = _check_task(num_groups, group_size, dim, alphas)
    _check_rules(rules)
    return {
        "M": num_groups,
        "C": group_size,
        "beta": beta,
        "r": 1.0,
        "embedding": "random",
        "d": d,
        "steps": steps,
        "record_points": record_points,
    }


def groups_sweep(
    *,
    num_groups: int,
    group_size: int,
    beta: float,
    alphas: Sequence[float],
    dim: int,
    rules: Sequence[str],
    steps: int,
    record_points: int,
    gd_lr_p1: float,
    muon_lr: float,
) -> Sweep:
    """``rule x alpha`` on a random orthonormal basis: each rule compiles once; the
    noise levels and the bases vmap.

    Steps: GD ``eta p_1 = gd_lr_p1``; Muon ``muon_lr``; TRA-SignGD ``muon_lr / 2``
    (its Thm 6.3 twin); SignGD and Adam the step whose first update has the
    Frobenius norm of Muon's.

    Args:
        num_groups, group_size: ``M``, ``C``.
        beta: power-law exponent of the group weights.
        alphas: label-noise levels in ``[0, 1)``.
        dim: embedding dimension ``d >= K`` (0: ``d = K``).
        rules: among :data:`~muonjax.orthogonal.RULES`.
        steps: ``T``; record_points: log-spaced recorded steps.
        gd_lr_p1, muon_lr: base steps.

    References:
        SPEC B.4 [seed: per-group curves of the five rules].
    """
    task = _random_basis_run(
        num_groups, group_size, beta, dim, alphas, rules, steps, record_points
    )
    if beta < 0 or gd_lr_p1 <= 0 or muon_lr <= 0:
        raise ValueError("beta must be >= 0 and the steps > 0")
    return dynamics_sweep(
        axes={"rule": rules, "alpha": alphas},
        fixed={
            **task,
            "gd_lr_p1": gd_lr_p1,
            "muon_lr": muon_lr,
            "tra_lr": muon_lr / 2,
            "sign_lr": muon_lr,
        },
        batched=("alpha",),
    )


def scaling_sweep(
    *,
    num_groups: int,
    group_size: int,
    betas: Sequence[float],
    alpha: float,
    points: int,
    gd_lr_min: float,
    gd_lr_max: float,
    gd_steps: int,
    muon_c: float,
    horizon_min: int,
    horizon_max: int,
    record_points: int,
) -> Sweep:
    """``rule x beta x point`` (one-hot embedding): GD's constant steps
    ``eta p_1 = geomspace(gd_lr_min, gd_lr_max, points)`` and Muon's horizons
    ``T = geomspace(horizon_min, horizon_max, points)`` with ``eta = muon_c log K /
    T`` share the batched index ``point``.

    Args:
        num_groups, group_size: ``M``, ``C``.
        betas: power-law exponents (> 0).
        alpha: label noise in ``(0, 1)`` (the laws are about ``L - L*``).
        points: grid points (>= 3: a slope).
        gd_lr_min, gd_lr_max: GD's step range; gd_steps: GD's run length.
        muon_c: ``c`` in ``eta = c log K / T``.
        horizon_min, horizon_max: Muon's horizons.
        record_points: log-spaced recorded steps (every horizon is recorded too).

    References:
        SPEC B.3, Thms 5.7 and 5.8 [summary].
    """
    _positive(
        num_groups=num_groups,
        group_size=group_size,
        gd_steps=gd_steps,
        record_points=record_points,
        horizon_min=horizon_min,
    )
    if points < 3:
        raise ValueError(f"points must be >= 3 (a slope), got points={points}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got alpha={alpha}")
    if not betas or min(betas) <= 0:
        raise ValueError(f"betas must be > 0, got betas={betas}")
    if not 0 < gd_lr_min < gd_lr_max:
        raise ValueError("need 0 < gd_lr_min < gd_lr_max")
    if horizon_max <= horizon_min:
        raise ValueError("need horizon_min < horizon_max")
    return dynamics_sweep(
        axes={"rule": ("gd", "muon"), "beta": betas, "point": tuple(range(points))},
        fixed={
            "M": num_groups,
            "C": group_size,
            "alpha": alpha,
            "r": 1.0,
            "embedding": "identity",
            "points": points,
            "gd_lr_min": gd_lr_min,
            "gd_lr_max": gd_lr_max,
            "gd_steps": gd_steps,
            "muon_c": muon_c,
            "horizon_min": horizon_min,
            "horizon_max": horizon_max,
            "record_points": record_points,
        },
        batched=("beta", "point"),
    )


def signgd_sweep(
    *,
    num_groups: int,
    group_size: int,
    dim: int,
    beta: float,
    alphas: Sequence[float],
    rules: Sequence[str],
    lr: float,
    scales: Sequence[float],
    gd_lr_p1: float,
    steps: int,
    record_points: int,
    record_linear: int,
) -> Sweep:
    """``rule x alpha x scale`` on a random orthonormal basis: each rule compiles
    once; noise levels, step multipliers and bases vmap.

    Base steps: Muon and TRA-SignGD ``lr``; SignGD (and Adam) the step whose first
    update has the Frobenius norm of Muon's; GD ``eta p_1 = gd_lr_p1``. TRA-SignGD at
    scale ``s`` and Muon at ``2 s`` are the pairs of Thm 6.3.

    Args:
        num_groups, group_size: ``M``, ``C``.
        dim: random basis dimension ``d >= K`` (0: ``d = K``).
        beta: power-law exponent; alphas: label-noise levels in ``[0, 1)``.
        rules: among :data:`~muonjax.orthogonal.RULES`.
        lr: base step; scales: step multipliers (> 0).
        gd_lr_p1: GD's base step in units of ``eta p_1``.
        steps: ``T``; record_points: log-spaced recorded steps; record_linear:
            further linearly spaced recorded steps (``steps + 1``: every step).

    References:
        SPEC B.3, Thm 6.3 [summary] and the SignGD row [seed].
    """
    task = _random_basis_run(
        num_groups, group_size, beta, dim, alphas, rules, steps, record_points
    )
    if not scales or min(scales) <= 0 or lr <= 0:
        raise ValueError(f"scales and lr must be > 0, got {scales=} and {lr=}")
    return dynamics_sweep(
        axes={"rule": rules, "alpha": alphas, "scale": scales},
        fixed={
            **task,
            "record_linear": record_linear,
            "gd_lr_p1": gd_lr_p1,
            "muon_lr": lr,
            "tra_lr": lr,
            "sign_lr": lr,
        },
        batched=("alpha", "scale"),
    )


def symmetry_sweep(
    *,
    num_groups: int,
    group_size: int,
    dim: int,
    beta: float,
    alpha: float,
    rules: Sequence[str],
    lr: float,
    gd_lr_p1: float,
    steps: int,
) -> Sweep:
    """``rule`` on the full path of a random basis, every step recorded, with the
    block-symmetry defect (:func:`~muonjax.orthogonal.symmetry_cell`).

    Args:
        num_groups, group_size: ``M``, ``C``; dim: ``d >= K`` (0: ``d = K``).
        beta: power-law exponent; alpha: label noise in ``[0, 1)``.
        rules: among :data:`~muonjax.orthogonal.RULES`.
        lr: the step of every rule but GD; gd_lr_p1: GD's, in units of ``eta p_1``.
        steps: ``T``.

    References:
        SPEC B.3, Prop. 6.1 [summary].
    """
    _positive(steps=steps)
    d = _check_task(num_groups, group_size, dim, (alpha,))
    _check_rules(rules)
    return dynamics_sweep(
        axes={"rule": tuple(rules)},
        fixed={
            "M": num_groups,
            "C": group_size,
            "beta": beta,
            "alpha": alpha,
            "r": 1.0,
            "embedding": "random",
            "d": d,
            "steps": steps,
            "record_points": 1,
            "record_linear": steps + 1,
            "base_lr": lr,
            "gd_lr_p1": gd_lr_p1,
        },
        cell=symmetry_cell,
    )
