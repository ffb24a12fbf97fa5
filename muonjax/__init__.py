"""muonjax: check what two 2026 papers prove about Muon in associative memory.

The public API. Data flows one way: task -> scores -> loss, gradient, metrics ->
update rules -> loops (-> sweeps -> records -> fits and figures).

Weight layout: ``W`` is ``(d_out, d_in)`` and ``s_ij = v_j^T W u_i``; see
:class:`GaussianTask`.
"""

from muonjax._loop import StepResult, Trajectory, one_step, train
from muonjax._metrics import (
    Capacity,
    Metrics,
    capacity,
    capacity_from_mask,
    evaluate,
    recovered,
)
from muonjax._polar import (
    CUBIC_COEFFS,
    JORDAN_COEFFS,
    POLAR_EXPRESS_COEFFS,
    QUINTIC_COEFFS,
    newton_schulz,
    newton_schulz_coefficients,
    polar,
    singular_value_map,
    smoothed_polar,
)
from muonjax._scores import (
    PassResult,
    batch_frequencies,
    blockwise_pass,
    default_block_size,
    grad_at_zero,
    loss_at_zero,
    margins,
    minibatch_loss_and_grad,
    population_grad,
    population_loss,
    population_loss_and_grad,
    population_pass,
    sample_batch,
)
from muonjax._task import (
    GaussianTask,
    power_law_frequencies,
    power_law_spectrum,
    sample_task,
)
from muonjax._updates import (
    KroneckerFactors,
    gd,
    hessian_factors_at_zero,
    kronecker_factors,
    kronecker_ridge_solve,
    muon_exact,
    muon_newton_schulz,
    muon_smoothed,
    newton_at_zero,
    newton_cg_direction,
    scale_by_kronecker_inverse,
    scale_by_newton_schulz,
    scale_by_polar,
    scale_by_sign,
    scale_by_smoothed_polar,
    sign_gd,
)

# --- Sweeps, records, experiments and figures (issue 3) ----------------------------
# isort: split
from muonjax._plotting import (
    GroupStats,
    capacity_figure,
    group_stats,
    save_figure,
)
from muonjax._records import (
    DirectoryStore,
    RecordedSweep,
    Table,
    environment,
    read_manifest,
    read_table,
    record_sweep,
    table_from_results,
    write_table,
)
from muonjax._registry import (
    Experiment,
    experiment_main,
    get_experiment,
    load_experiments,
    register_experiment,
)
from muonjax._sweep import (
    RULES,
    Cell,
    CellResult,
    Sweep,
    SweepResult,
    cell_key,
    config_hash,
    one_step_cell,
    one_step_optimizer,
    one_step_sweep,
    run_cell,
    run_sweep,
    sweep_block_size,
)

__version__ = "0.1.0"

__all__ = [
    "CUBIC_COEFFS",
    "JORDAN_COEFFS",
    "POLAR_EXPRESS_COEFFS",
    "QUINTIC_COEFFS",
    "Capacity",
    "GaussianTask",
    "KroneckerFactors",
    "Metrics",
    "PassResult",
    "StepResult",
    "Trajectory",
    "batch_frequencies",
    "blockwise_pass",
    "capacity",
    "capacity_from_mask",
    "default_block_size",
    "evaluate",
    "gd",
    "grad_at_zero",
    "hessian_factors_at_zero",
    "kronecker_factors",
    "kronecker_ridge_solve",
    "loss_at_zero",
    "margins",
    "minibatch_loss_and_grad",
    "muon_exact",
    "muon_newton_schulz",
    "muon_smoothed",
    "newton_at_zero",
    "newton_cg_direction",
    "newton_schulz",
    "newton_schulz_coefficients",
    "one_step",
    "polar",
    "population_grad",
    "population_loss",
    "population_loss_and_grad",
    "population_pass",
    "power_law_frequencies",
    "power_law_spectrum",
    "recovered",
    "sample_batch",
    "sample_task",
    "scale_by_kronecker_inverse",
    "scale_by_newton_schulz",
    "scale_by_polar",
    "scale_by_sign",
    "scale_by_smoothed_polar",
    "sign_gd",
    "singular_value_map",
    "smoothed_polar",
    "train",
]

# --- issue 3: sweeps, records, experiments and figures -------------------------
__all__ += [
    "RULES",
    "Cell",
    "CellResult",
    "DirectoryStore",
    "Experiment",
    "GroupStats",
    "RecordedSweep",
    "Sweep",
    "SweepResult",
    "Table",
    "capacity_figure",
    "cell_key",
    "config_hash",
    "environment",
    "experiment_main",
    "get_experiment",
    "group_stats",
    "load_experiments",
    "one_step_cell",
    "one_step_optimizer",
    "one_step_sweep",
    "read_manifest",
    "read_table",
    "record_sweep",
    "register_experiment",
    "run_cell",
    "run_sweep",
    "save_figure",
    "sweep_block_size",
    "table_from_results",
    "write_table",
]
