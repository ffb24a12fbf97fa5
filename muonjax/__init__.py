"""muonjax: check what two 2026 papers prove about Muon in associative memory.

The public API. Data flows one way: task -> scores -> loss, gradient, metrics ->
update rules -> loops (-> sweeps -> records -> fits and figures).

Weight layout: ``W`` is ``(d_out, d_in)`` and ``s_ij = v_j^T W u_i``; see
:class:`GaussianTask`.
"""

# --- Orthogonal memory with a hierarchical spectrum (SPEC Part B): a subpackage,
# used as ``from muonjax import orthogonal`` or ``muonjax.orthogonal.run(...)``;
# its names stay in the subpackage (it imports only private core modules).
from muonjax import orthogonal

# --- Transformers (SPEC Part C): a subpackage, used as ``from muonjax import
# transformer``; its names stay in the subpackage.
# isort: split
from muonjax import transformer
from muonjax._loop import (
    EarlyStopResult,
    StepResult,
    Trajectory,
    one_step,
    plateau_step,
    train,
    train_early_stopping,
)
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

# --- Theory, fits, verdicts and theorem checks (issue 4) -----------------------------
# muonjax.theory: every prediction of SPEC A.5 / B.3 as a function, with its tag.
# _fit: scaling-law fits with bootstrap intervals; _verdict: consistent /
# inconsistent / inconclusive; _checks: the check catalogue and its registry.
from muonjax import theory
from muonjax._fit import (
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
from muonjax._summary import (
    FitSummary,
    SummaryRow,
    read_fit_summary,
    summary_to_markdown,
    write_fit_summary,
)
from muonjax._verdict import (
    Comparison,
    combine_verdicts,
    compare,
    compare_fit,
)

# --- issue 5, Figures 4 and 5: multi-step dynamics (cells, sweeps, schedules, analysis)
# isort: split
from muonjax._multistep import (
    DEFAULT_GD_SCHEDULE,
    MULTI_STEP_METRICS,
    SCHEDULE_SHAPES,
    capacity_after,
    capacity_ratio,
    final_capacity,
    gd_increasing_schedule,
    lr_schedule,
    multi_step_cell,
    multi_step_optimizer,
    multi_step_sweep,
    newton_schulz_reach,
    paired_ratio,
    parse_rule,
    step_curves,
    step_exponent_fits,
    step_gain_fits,
    stopping_steps,
)

__all__ = [
    "CUBIC_COEFFS",
    "JORDAN_COEFFS",
    "POLAR_EXPRESS_COEFFS",
    "QUINTIC_COEFFS",
    "Capacity",
    "EarlyStopResult",
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
    "orthogonal",
    "plateau_step",
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
    "train_early_stopping",
    "transformer",
]

# --- issue 4: theory, fits, verdicts, checks ---
# The check registry is imported on first use (PEP 562), so that
# ``python -m muonjax._checks`` does not find its own module already imported.
_CHECK_NAMES = (
    "CheckContext",
    "CheckOutcome",
    "CheckResult",
    "available_checks",
    "register_check",
    "run_checks",
)


def __getattr__(name: str):
    if name in _CHECK_NAMES:
        from muonjax import _checks

        return getattr(_checks, name)
    raise AttributeError(f"module 'muonjax' has no attribute {name!r}")


__all__ += [
    "BrokenPowerLawFit",
    "CheckContext",
    "CheckOutcome",
    "CheckResult",
    "Comparison",
    "ExcludedPoint",
    "FitResult",
    "FitSummary",
    "SummaryRow",
    "TwoStageFit",
    "available_checks",
    "combine_verdicts",
    "compare",
    "compare_fit",
    "fit_broken_power_law",
    "fit_exponential",
    "fit_loss_slope",
    "fit_power_law",
    "fit_step_exponents",
    "fit_two_stage",
    "read_fit_summary",
    "register_check",
    "run_checks",
    "summary_to_markdown",
    "theory",
    "write_fit_summary",
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

# --- issue 5, Figures 2 and 6 (and Newton-Schulz beside exact Muon): analysis of
# one-step records (per-group exponent fits, two-stage fits, paired differences and
# ratios, figure panels) and the Newton-Schulz variant / kappa-paired sweeps.
# isort: split
from muonjax._onestep_analysis import (  # noqa: E402
    Difference,
    GroupFits,
    RatioRow,
    capacity_panel,
    capacity_ratios,
    comparison_table,
    difference_comparison,
    exponent_difference,
    exponent_panel,
    exponent_rows,
    fit_exponents,
    group_keys,
    group_label,
    local_slopes,
    newton_ridge_diagnostic,
    ns_variant_cell,
    ns_variant_sweep,
    paired_kappa_sweep,
    parse_ns_variant,
    read_newton_ridge_diagnostic,
    seed_matrix,
    two_stage_fits,
)

__all__ += [
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
    "ns_variant_cell",
    "ns_variant_sweep",
    "paired_kappa_sweep",
    "parse_ns_variant",
    "read_newton_ridge_diagnostic",
    "seed_matrix",
    "two_stage_fits",
]

# --- issue 5, Figures 1 and 3: critical batch size of the first minibatch step, and
# experiments recorded in parts (Figure 1: population part and minibatch part) -----
# isort: split
from muonjax._critical import (  # noqa: E402  (after the blocks above, for merging)
    MEASURE_CEILINGS,
    MINIBATCH_RULES,
    CapacityCurve,
    CriticalAnalysis,
    CriticalBatchFit,
    analyze_critical_batch,
    batch_grid,
    capacity_curves,
    critical_batch_sweep,
    fit_across_d,
    fit_critical_batch,
    minibatch_cell,
)
from muonjax._parts import RecordedParts, read_part, record_parts  # noqa: E402

__all__ += [
    "MEASURE_CEILINGS",
    "MINIBATCH_RULES",
    "CapacityCurve",
    "CriticalAnalysis",
    "CriticalBatchFit",
    "RecordedParts",
    "analyze_critical_batch",
    "batch_grid",
    "capacity_curves",
    "critical_batch_sweep",
    "fit_across_d",
    "fit_critical_batch",
    "minibatch_cell",
    "read_part",
    "record_parts",
]

# --- issue 5, Figures 4 and 5: multi-step dynamics ----------------------------------
__all__ += [
    "DEFAULT_GD_SCHEDULE",
    "MULTI_STEP_METRICS",
    "SCHEDULE_SHAPES",
    "capacity_after",
    "capacity_ratio",
    "final_capacity",
    "gd_increasing_schedule",
    "lr_schedule",
    "multi_step_cell",
    "multi_step_optimizer",
    "multi_step_sweep",
    "newton_schulz_reach",
    "paired_ratio",
    "parse_rule",
    "step_curves",
    "step_exponent_fits",
    "step_gain_fits",
    "stopping_steps",
]
