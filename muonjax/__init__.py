"""muonjax: check what two 2026 papers prove about Muon in associative memory.

The public API, in data-flow order: matrix kernels and update rules -> Part A's
task -> scores -> loss, gradient, metrics -> loops -> sweeps -> records ->
experiments and checks -> fits and verdicts -> figures. The families are
subpackages: :mod:`muonjax.gaussian` (SPEC Part A, Kim et al. 2026),
:mod:`muonjax.orthogonal` (Part B, Li et al. 2026), :mod:`muonjax.transformer`
(Part C: Kim et al.'s in-context recall, Li et al.'s long-tailed facts); the
predictions are in
:mod:`muonjax.theory`. Layout: ``README.md`` ("Architecture").

Weight layout: ``W`` is ``(d_out, d_in)`` and ``s_ij = v_j^T W u_i``; see
:class:`GaussianTask`.
"""

# Size: over 500 lines because the flat front door: one re-export per public name, in
# data-flow order.

from muonjax import gaussian, orthogonal, theory, transformer
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
from muonjax._precision import (
    PRECISION,
    DotSite,
    default_precision_dots,
    precision_policy,
)
from muonjax._transforms import (
    gd,
    muon_exact,
    muon_newton_schulz,
    muon_smoothed,
    scale_by_newton_schulz,
    scale_by_polar,
    scale_by_sign,
    scale_by_smoothed_polar,
    sign_gd,
)
from muonjax.cli import (
    experiment_main,
)
from muonjax.engine.checks import (
    run_checks,
)
from muonjax.engine.cost import (
    Cost,
    ShapeCost,
    Work,
    count_work,
    declare_while_trips,
    estimate,
    format_cost,
)
from muonjax.engine.interrupts import (
    Interrupted,
)
from muonjax.engine.lock import (
    DirectoryLocked,
)
from muonjax.engine.memory import (
    MemoryLimitError,
)
from muonjax.engine.parts import (
    RecordedParts,
    read_part,
    record_parts,
)
from muonjax.engine.peers import (
    PeerLost,
)
from muonjax.engine.records import (
    DirectoryStore,
    RecordedSweep,
    environment,
    read_manifest,
    record_sweep,
)
from muonjax.engine.registry import (
    CheckContext,
    CheckOutcome,
    CheckResult,
    Experiment,
    available_checks,
    get_experiment,
    load_experiments,
    plot_recorded,
    register_check,
    register_experiment,
    run_recorded,
)
from muonjax.engine.sweep import (
    Cell,
    CellResult,
    Sweep,
    SweepResult,
    cell_key,
    config_hash,
    run_cell,
    run_sweep,
)
from muonjax.engine.table import (
    Table,
    read_table,
    table_from_results,
    write_table,
)
from muonjax.gaussian.analysis.critical import (
    CriticalAnalysis,
    analyze_critical_batch,
)
from muonjax.gaussian.analysis.critical_curves import (
    MEASURE_CEILINGS,
    CapacityCurve,
    CriticalBatchFit,
    capacity_curves,
    fit_across_d,
    fit_critical_batch,
)
from muonjax.gaussian.analysis.multistep import (
    capacity_after,
    capacity_fits,
    capacity_ratio,
    final_capacity,
    newton_schulz_reach,
    step_curves,
    step_exponent_fits,
    step_gain_fits,
    stopping_steps,
)
from muonjax.gaussian.analysis.onestep import (
    GroupFits,
    comparison_table,
    exponent_rows,
    fit_exponents,
    precision_exclusions,
    two_stage_fits,
)
from muonjax.gaussian.analysis.pairs import (
    Difference,
    RatioRow,
    capacity_ratios,
    difference_comparison,
    exponent_difference,
)
from muonjax.gaussian.analysis.ridge import (
    ridge_diagnostic,
)
from muonjax.gaussian.analysis.tables import (
    group_keys,
    group_label,
    local_slopes,
    seed_matrix,
)
from muonjax.gaussian.cells import (
    MULTI_STEP_METRICS,
    batch_grid,
    critical_batch_sweep,
    minibatch_cell,
    multi_step_cell,
    multi_step_sweep,
    ns_variant_cell,
    ns_variant_sweep,
    one_step_cell,
    one_step_sweep,
    paired_kappa_sweep,
    smoothing_cell,
    smoothing_sweep,
    sweep_block_size,
    w1_rank,
)
from muonjax.gaussian.figures._common import (
    newton_ridge_diagnostic,
    read_newton_ridge_diagnostic,
)
from muonjax.gaussian.figures.panels import (
    capacity_panel,
    exponent_panel,
)
from muonjax.gaussian.loop import (
    DEFLATIONS,
    EarlyStopResult,
    StepResult,
    Trajectory,
    deflation,
    one_step,
    plateau_step,
    train,
    train_early_stopping,
)
from muonjax.gaussian.metrics import (
    Capacity,
    Metrics,
    ScreenedCapacity,
    capacity,
    capacity_from_mask,
    evaluate,
    recovered,
    screened_capacity,
)
from muonjax.gaussian.rules import (
    MINIBATCH_RULES,
    RULES,
    RuleSpec,
    multi_step_optimizer,
    one_step_optimizer,
    parse_ns_variant,
    parse_rule,
    rule_optimizer,
    rule_spec,
)
from muonjax.gaussian.schedules import (
    DEFAULT_GD_SCHEDULE,
    SCHEDULE_SHAPES,
    StepSize,
    gd_increasing_schedule,
    lr_schedule,
    smoothed_lambda_schedule,
)
from muonjax.gaussian.scores import (
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
    score_block_elements,
)
from muonjax.gaussian.screened import (
    SCREENS,
    ScreenedPass,
    score_error_coefficient,
    screened_recovery,
)
from muonjax.gaussian.task import (
    GaussianTask,
    power_law_frequencies,
    power_law_spectrum,
    sample_task,
)
from muonjax.gaussian.updates import (
    KroneckerFactors,
    hessian_factors_at_zero,
    hessian_max_eigenvalue,
    kronecker_factors,
    kronecker_ridge_solve,
    newton_at_zero,
    newton_cg_direction,
    scale_by_kronecker_inverse,
)
from muonjax.plotting import (
    GroupStats,
    capacity_figure,
    group_stats,
    save_figure,
)
from muonjax.stats.bootstrap import (
    bootstrap_interval,
    bootstrap_mean,
    paired_ratio,
    percentile_interval,
    resample_indices,
)
from muonjax.stats.bounds import (
    BoundRatio,
    bound_ratio,
    compare_bound,
)
from muonjax.stats.deterministic import (
    compare_point,
    compare_window,
)
from muonjax.stats.fit import (
    BrokenPowerLawFit,
    ExcludedPoint,
    FitResult,
    TwoStageFit,
    fit_broken_power_law,
    fit_exponential,
    fit_loss_slope,
    fit_power_law,
    fit_step_exponents,
    fit_two_stage,
)
from muonjax.stats.replicates import (
    fit_power_law_replicates,
)
from muonjax.stats.slopes import (
    LineFit,
    WindowSlope,
    fit_line,
    local_log_slopes,
    log_grid,
    window_slope,
)
from muonjax.stats.summary import (
    FitSummary,
    SummaryRow,
    read_fit_summary,
    summary_to_markdown,
    write_fit_summary,
)
from muonjax.stats.verdict import (
    Comparison,
    combine_verdicts,
    compare,
    compare_fit,
)

__version__ = "0.2.0.dev0"

# In data-flow order (the order of the docstring), not alphabetical.
__all__ = [  # noqa: RUF022
    # precision policy: every product on a measured path states its precision
    "PRECISION",
    "DotSite",
    "default_precision_dots",
    "precision_policy",
    # matrix functions of a gradient (SPEC A.3, E)
    "CUBIC_COEFFS",
    "JORDAN_COEFFS",
    "POLAR_EXPRESS_COEFFS",
    "QUINTIC_COEFFS",
    "newton_schulz",
    "newton_schulz_coefficients",
    "polar",
    "singular_value_map",
    "smoothed_polar",
    # update rules as optax transforms (SPEC A.3, B.2)
    "gd",
    "muon_exact",
    "muon_newton_schulz",
    "muon_smoothed",
    "scale_by_newton_schulz",
    "scale_by_polar",
    "scale_by_sign",
    "scale_by_smoothed_polar",
    "sign_gd",
    # Part A: task (SPEC A.1)
    "GaussianTask",
    "power_law_frequencies",
    "power_law_spectrum",
    "sample_task",
    # Part A: scores, loss and gradient in blocks (SPEC A.2)
    "PassResult",
    "batch_frequencies",
    "blockwise_pass",
    "default_block_size",
    "grad_at_zero",
    "loss_at_zero",
    "margins",
    "minibatch_loss_and_grad",
    "population_grad",
    "population_loss",
    "population_loss_and_grad",
    "population_pass",
    "sample_batch",
    "score_block_elements",
    # Part A: capacity (SPEC A.4)
    "Capacity",
    "Metrics",
    "capacity",
    "capacity_from_mask",
    "evaluate",
    "recovered",
    # Part A: screened capacity (reduced precision, rigorous bound, exact recheck)
    "SCREENS",
    "ScreenedCapacity",
    "ScreenedPass",
    "score_error_coefficient",
    "screened_capacity",
    "screened_recovery",
    # Part A: Newton (SPEC A.3)
    "KroneckerFactors",
    "hessian_factors_at_zero",
    "kronecker_factors",
    "kronecker_ridge_solve",
    "newton_at_zero",
    "hessian_max_eigenvalue",
    "newton_cg_direction",
    "scale_by_kronecker_inverse",
    # Part A: loops
    "EarlyStopResult",
    "StepResult",
    "Trajectory",
    "one_step",
    "plateau_step",
    "train",
    "train_early_stopping",
    "DEFLATIONS",
    "deflation",
    # Part A: rule names -> optimizers
    "RULES",
    "one_step_optimizer",
    "RuleSpec",
    "StepSize",
    "rule_spec",
    "rule_optimizer",
    # engine: sweeps (vmapped seeds, chunks, devices, cell keys)
    "Cell",
    "CellResult",
    "Sweep",
    "SweepResult",
    "cell_key",
    "config_hash",
    "run_cell",
    "run_sweep",
    "Interrupted",
    "MemoryLimitError",
    # Part A: sweep cells
    "one_step_cell",
    "one_step_sweep",
    "sweep_block_size",
    "w1_rank",
    "smoothing_cell",
    "smoothing_sweep",
    # engine: records
    "Table",
    "read_table",
    "table_from_results",
    "write_table",
    "DirectoryStore",
    "RecordedSweep",
    "environment",
    "read_manifest",
    "record_sweep",
    "RecordedParts",
    "read_part",
    "record_parts",
    "DirectoryLocked",
    "PeerLost",
    # engine: experiments and checks
    "CheckContext",
    "CheckOutcome",
    "CheckResult",
    "Experiment",
    "available_checks",
    "get_experiment",
    "load_experiments",
    "plot_recorded",
    "register_check",
    "register_experiment",
    "run_recorded",
    "run_checks",
    "experiment_main",
    # engine: the cost of a run before it runs (muonjax run --dry-run)
    "Cost",
    "ShapeCost",
    "Work",
    "count_work",
    "declare_while_trips",
    "estimate",
    "format_cost",
    # stats: the bootstrap over seeds, fits, slopes, verdicts (SPEC D)
    "bootstrap_interval",
    "bootstrap_mean",
    "paired_ratio",
    "percentile_interval",
    "resample_indices",
    "BrokenPowerLawFit",
    "ExcludedPoint",
    "FitResult",
    "TwoStageFit",
    "fit_broken_power_law",
    "fit_exponential",
    "fit_loss_slope",
    "fit_power_law",
    "fit_step_exponents",
    "fit_two_stage",
    "fit_power_law_replicates",
    "LineFit",
    "WindowSlope",
    "fit_line",
    "local_log_slopes",
    "log_grid",
    "window_slope",
    "compare_point",
    "compare_window",
    "BoundRatio",
    "bound_ratio",
    "compare_bound",
    "Comparison",
    "combine_verdicts",
    "compare",
    "compare_fit",
    "FitSummary",
    "SummaryRow",
    "read_fit_summary",
    "summary_to_markdown",
    "write_fit_summary",
    # figures
    "GroupStats",
    "capacity_figure",
    "group_stats",
    "save_figure",
    # Part A analysis: one step (Figs 2, 6)
    "Difference",
    "GroupFits",
    "RatioRow",
    "capacity_panel",
    "capacity_ratios",
    "comparison_table",
    "difference_comparison",
    "exponent_difference",
    "exponent_panel",
    "exponent_rows",
    "fit_exponents",
    "group_keys",
    "group_label",
    "local_slopes",
    "newton_ridge_diagnostic",
    "precision_exclusions",
    "ridge_diagnostic",
    "ns_variant_cell",
    "ns_variant_sweep",
    "paired_kappa_sweep",
    "parse_ns_variant",
    "read_newton_ridge_diagnostic",
    "seed_matrix",
    "two_stage_fits",
    # Part A analysis: critical batch size (Figs 1, 3)
    "MEASURE_CEILINGS",
    "MINIBATCH_RULES",
    "CapacityCurve",
    "CriticalAnalysis",
    "CriticalBatchFit",
    "analyze_critical_batch",
    "batch_grid",
    "capacity_curves",
    "critical_batch_sweep",
    "fit_across_d",
    "fit_critical_batch",
    "minibatch_cell",
    # Part A analysis: several steps (Figs 4, 5)
    "DEFAULT_GD_SCHEDULE",
    "MULTI_STEP_METRICS",
    "SCHEDULE_SHAPES",
    "capacity_after",
    "capacity_fits",
    "capacity_ratio",
    "final_capacity",
    "gd_increasing_schedule",
    "lr_schedule",
    "smoothed_lambda_schedule",
    "multi_step_cell",
    "multi_step_optimizer",
    "multi_step_sweep",
    "newton_schulz_reach",
    "parse_rule",
    "step_curves",
    "step_exponent_fits",
    "step_gain_fits",
    "stopping_steps",
    # subpackages
    "gaussian",
    "orthogonal",
    "theory",
    "transformer",
]
