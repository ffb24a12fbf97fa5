"""Sweep cells of the Gaussian memory and the sweeps built from them.

A cell function is written for one configuration and one seed,
``cell(config, key) -> {metric: value}``; :func:`muonjax.run_sweep` vmaps it. Every
sweep here keys its tasks on ``(n, d, alpha, dtype)`` (:data:`TASK_KEY`), so figures
and checks at the same sizes and seeds measure the same tasks.

- :mod:`~muonjax.gaussian.cells.onestep`: one population step (Figures 1a, 2, 6),
  Newton-Schulz variants, paired output spectra, smoothing errors;
- :mod:`~muonjax.gaussian.cells.minibatch`: one minibatch step over ``B``
  (Figures 1b, 3);
- :mod:`~muonjax.gaussian.cells.multistep`: ``T`` steps (Figures 4, 5).
"""

from muonjax.gaussian.cells._common import (
    SWEEP_BLOCK_ELEMENTS,
    TASK_KEY,
    sweep_block_size,
    task_of,
)
from muonjax.gaussian.cells.minibatch import (
    batch_grid,
    critical_batch_sweep,
    minibatch_cell,
)
from muonjax.gaussian.cells.multistep import (
    MULTI_STEP_METRICS,
    multi_step_cell,
    multi_step_sweep,
)
from muonjax.gaussian.cells.onestep import (
    DIRECTION_THRESHOLD,
    ns_variant_cell,
    ns_variant_sweep,
    one_step_cell,
    one_step_sweep,
    paired_kappa_sweep,
    smoothing_cell,
    smoothing_sweep,
    w1_rank,
)

__all__ = [
    "DIRECTION_THRESHOLD",
    "MULTI_STEP_METRICS",
    "SWEEP_BLOCK_ELEMENTS",
    "TASK_KEY",
    "batch_grid",
    "critical_batch_sweep",
    "minibatch_cell",
    "multi_step_cell",
    "multi_step_sweep",
    "ns_variant_cell",
    "ns_variant_sweep",
    "one_step_cell",
    "one_step_sweep",
    "paired_kappa_sweep",
    "smoothing_cell",
    "smoothing_sweep",
    "sweep_block_size",
    "task_of",
    "w1_rank",
]
