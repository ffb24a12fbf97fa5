"""Update-rule names of the Gaussian memory and the optimizers they stand for.

One rule grammar for Part A: a rule name (``"gd"``, ``"muon"``, ``"muon_ns"``,
``"newton"``, ...) and its parameters map to an ``optax.GradientTransformation``.

References:
    SPEC A.3; Kim et al. (2026), Figures 2, 4 and 6.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import optax

from muonjax import _validate
from muonjax._transforms import gd, muon_exact, muon_newton_schulz
from muonjax.gaussian.task import GaussianTask
from muonjax.gaussian.updates import newton_at_zero

#: Update rules known to :func:`one_step_optimizer`.
RULES = ("gd", "muon", "muon_ns", "newton")


def one_step_optimizer(
    rule: str,
    task: GaussianTask,
    *,
    gd_lr: float = 1.0,
    muon_lr_scale: float = 2.0,
    newton_lr: float = 1.0,
    newton_ridge: float = 1e-8,
    ns_steps: int = 5,
    ns_coeffs: str = "jordan",
    update_dtype: Any = None,
) -> optax.GradientTransformation:
    """The optimizer of a named rule, for one step from ``W_0 = 0``.

    - ``"gd"``: ``W_1 = eta G`` with ``eta = gd_lr``.
    - ``"muon"``: exact Muon, ``W_1 = eta polar(G)``, ``eta = muon_lr_scale sqrt(d)``
      (Figure 4 uses ``2 sqrt(d)`` [seed]).
    - ``"muon_ns"``: practical Muon, ``ns_steps`` Newton-Schulz steps with
      coefficients ``ns_coeffs`` (default 5 steps of optax's quintic), same ``eta``
      (SPEC A.3 [derived]).
    - ``"newton"``: ``W_1 = eta (H + ridge I)^(-1)[G]`` with the Hessian at zero
      (ridge 1e-8 as in Figure 6 [seed]).

    One step from zero is scale invariant for recovery (SPEC A.3 [derived]), so the
    learning rates only change the loss.

    Args:
        rule: one of :data:`RULES`.
        task: the task (Newton's preconditioner is built from it).
        gd_lr: GD step.
        muon_lr_scale: Muon step over ``sqrt(d_in)``.
        newton_lr: Newton step.
        newton_ridge: Newton's ridge.
        ns_steps: Newton-Schulz iterations of ``"muon_ns"``.
        ns_coeffs: Newton-Schulz coefficient name of ``"muon_ns"`` (see
            :func:`muonjax.newton_schulz_coefficients`).
        update_dtype: the dtype the update is computed in (see
            :func:`muonjax.one_step`); Newton's preconditioner is built from the
            task cast to it, so that a float64 step does not solve with float32
            Kronecker factors. ``None`` keeps the task's dtype.

    References:
        SPEC A.3; Kim et al. (2026), Figures 2, 4 and 6.
    """
    if rule == "gd":
        return gd(gd_lr)
    if rule in ("muon", "muon_ns"):
        lr = muon_lr_scale * math.sqrt(task.d_in)
        if rule == "muon":
            return muon_exact(lr)
        return muon_newton_schulz(lr, steps=ns_steps, coeffs=ns_coeffs)
    if rule == "newton":
        if update_dtype is not None:
            # Sigma_U's eigenvalues follow p: at d = 256, N = 10,000 its smallest
            # is 1e-5 (alpha = 2) to 2e-8 (alpha = 3) of its largest, at or below
            # the accuracy of a float32 eigh (~1e-7 of the largest); build the
            # factors in the update dtype.
            dt = _validate.float_dtype("update_dtype", update_dtype)
            task = jax.tree.map(lambda x: x.astype(dt), task)
        return newton_at_zero(newton_lr, task, ridge=newton_ridge)
    raise ValueError(f"rule must be one of {RULES}, got rule={rule!r}")
