"""Newton's ridge: how much of the Hessian at zero lies below it, per Newton cell.

Newton's step at ``W = 0`` is ``(H + ridge I)^(-1)[G]`` with ``H[D] = Sigma_V D
Sigma_U``, whose eigenvalues are the products ``ev_v[k] ev_u[l]``. A direction whose
eigenvalue is below the ridge gets a gradient-like step ``g / ridge`` instead of
Newton's ``g / ev``; at large ``alpha`` and ``d`` a large share of them do (SPEC A.3
[derived]), which is why a Newton shortfall there measures the ridge, not Newton's
method. The diagnostic redraws the very tasks a sweep measured (the same cell keys),
so a figure can redo it from its records' manifest.

References:
    SPEC A.3 (Newton with ridge [derived]; ridge 1e-8 in Figure 6 [seed]).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from muonjax.engine.sweep import Sweep, cell_key
from muonjax.gaussian.cells import task_of
from muonjax.gaussian.updates import hessian_factors_at_zero


def ridge_diagnostic(
    sweep: Sweep, *, root_seed: int = 0, seed: int = 0
) -> list[dict[str, Any]]:
    """How much of the Hessian at zero lies below Newton's ridge, per Newton cell.

    For every cell of ``sweep`` whose rule is ``"newton"`` (absolute ridge) or
    ``"newton_rel"`` (ridge times the largest eigenvalue), the task of seed
    ``seed`` (the sweep's own cell key, so the very task that seed measured) is
    drawn again, its Hessian factors ``Sigma_V``, ``Sigma_U`` are built in float64,
    and the eigenvalue products are compared with the ridge. Costs
    ``O(n d^2 + d^3)`` per cell, no capacity pass. Needs JAX's x64 mode.

    Args:
        sweep: a :func:`muonjax.one_step_sweep` (with or without ``kappa_v``).
        root_seed: the sweep's root seed.
        seed: which seed's task to inspect.

    Returns:
        One dict per Newton cell: ``rule``, ``relative``, ``d``, ``alpha``,
        ``kappa_v`` (0 when absent), ``ridge`` (the effective, absolute ridge),
        ``fraction_below_ridge``, ``fraction_below_10x_ridge`` (where the
        ridge damps Newton's step ``1 / ev`` to ``1 / (ev + ridge)`` by more than
        9%), ``min_eigenvalue``, ``max_eigenvalue``.
    """
    if not jax.config.read("jax_enable_x64"):
        raise ValueError(
            "the Newton ridge diagnostic needs JAX's 64-bit mode: run inside "
            "`with jax.enable_x64(True):`"
        )
    key = jax.random.key(root_seed)
    out = []
    for cell in sweep.cells():
        cfg = cell.config
        if cfg.get("rule") not in ("newton", "newton_rel"):
            continue
        key_task, _ = jax.random.split(cell_key(key, cell, seed))
        task = task_of({**cfg, "kappa_v": float(cfg.get("kappa_v") or 0.0)}, key_task)
        task64 = jax.tree.map(lambda x: x.astype(jnp.float64), task)
        sigma_v, sigma_u = hessian_factors_at_zero(task64)
        ev_v = np.clip(np.linalg.eigvalsh(np.asarray(sigma_v)), 0, None)
        ev_u = np.clip(np.linalg.eigvalsh(np.asarray(sigma_u)), 0, None)
        prod = np.outer(ev_v, ev_u)
        ridge = float(cfg.get("newton_ridge", 1e-8))  # type: ignore[arg-type]
        relative = cfg.get("rule") == "newton_rel"
        if relative:  # ridge x lambda_max(H), H's eigenvalues are the products
            ridge *= float(prod.max())
        out.append(
            {
                "rule": str(cfg["rule"]),
                "relative": relative,
                "d": int(cfg["d"]),  # type: ignore[arg-type]
                "alpha": float(cfg["alpha"]),  # type: ignore[arg-type]
                "kappa_v": float(cfg.get("kappa_v") or 0.0),  # type: ignore[arg-type]
                "ridge": ridge,
                "fraction_below_ridge": float(np.mean(prod < ridge)),
                # Below 10 x ridge the step ev / (ev + ridge) is damped by > 9%.
                "fraction_below_10x_ridge": float(np.mean(prod < 10 * ridge)),
                "min_eigenvalue": float(prod.min()),
                "max_eigenvalue": float(prod.max()),
            }
        )
    return out
