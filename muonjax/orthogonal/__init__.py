"""The orthogonal associative memory with a hierarchical spectrum (SPEC Part B).

Li, Wang, Zhong, Lu, Wang (2026), *Muon in Associative Memory Learning: Training
Dynamics and Scaling Laws*, arXiv 2602.05725. Use as ``from muonjax import
orthogonal``.

The data path, in the order of ``__all__``:

- task (:func:`hierarchical_task`, :func:`power_law_task`): K = M C orthogonal
  query-answer pairs in M frequency groups of C queries, label noise alpha,
  embedding norm r, softmax retrieval;
- loss in three coordinate systems (:func:`task_state`, :func:`full_state`,
  :func:`block_state`) and block-symmetric matrices (:func:`block_polar`);
- update rules as optax transforms (:func:`optimizer`) and training runs
  (:func:`run`): GD and Muon exactly in K x K task coordinates (``path="task"``) or
  with O(M^2) numbers (``path="block"``, any K); SignGD and Adam entrywise in the
  original coordinates (``path="full"``);
- sweep cells and the experiments' sweeps (:func:`dynamics_cell`,
  :func:`groups_sweep`, :func:`scaling_sweep`, :func:`signgd_sweep`,
  :func:`symmetry_sweep`), and curves out of their records (:func:`cell_curves`);
- analysis of the curves (:func:`gd_envelope`, :func:`imbalance_exponent`, ...;
  the generic fits, slopes and bootstraps are :mod:`muonjax.stats`'s, re-exported
  here under their 0.1.0 names);
- the claims of SPEC B.3 (:mod:`muonjax.orthogonal.claims`): one ``measure_*`` per
  row with its result dataclass, and the rows that compare it with the theory
  (``*_outcome``), which the check catalogue (:mod:`muonjax.orthogonal.checks`,
  loaded through ``muonjax.engine.registry.CHECK_MODULES``) registers;
- figures and fit summaries from records (:func:`groups_summary`,
  :func:`groups_figure`, ...) and from results (:func:`plot_group_losses`, ...).

See ``docs/partb.md``.
"""

from muonjax.orthogonal.analysis import (
    GD_WINDOWS,
    IMBALANCE_PROGRESS,
    first_rise,
    floored_log_ratio,
    gd_envelope,
    gd_scaling_slope,
    group_excess_at_progress,
    horizon_windows,
    imbalance_exponent,
    progress_index,
    step_grid,
)
from muonjax.orthogonal.block import (
    BlockMatrix,
    block_frobenius_norm,
    block_max_abs,
    block_polar,
    block_sign,
    block_symmetry_defect,
    block_to_dense,
    dense_to_block,
    zeros_block,
)
from muonjax.orthogonal.cells import (
    TASK_KEYS,
    cell_steps,
    dynamics_cell,
    dynamics_sweep,
    horizons,
    learning_rate,
    recorded_steps,
    symmetry_cell,
)
from muonjax.orthogonal.claims.noiseless import (
    GDNoiselessResult,
    MuonNoiselessResult,
    gd_noiseless_outcome,
    gd_noiseless_result,
    measure_gd_noiseless,
    measure_muon_noiseless,
    muon_noiseless_outcome,
    muon_noiseless_result,
)
from muonjax.orthogonal.claims.noisy import (
    MuonNoisyResult,
    descent_time_row,
    measure_muon_noisy,
    muon_noisy_outcome,
)
from muonjax.orthogonal.claims.scaling import (
    ScalingLawResult,
    gd_scaling_outcome,
    gd_scaling_rows,
    measure_scaling_laws,
    muon_scaling_outcome,
    muon_scaling_rows,
)
from muonjax.orthogonal.claims.signs import (
    SignGDResult,
    TraSignGDResult,
    every_multiplier_row,
    imbalance_row,
    measure_signgd_random_basis,
    measure_tra_signgd,
    signgd_excess_row,
    signgd_outcome,
    signgd_result,
    tra_control_row,
    tra_gap_row,
    tra_signgd_outcome,
)
from muonjax.orthogonal.claims.stability import (
    GDStabilityResult,
    StabilityCase,
    bracket_row,
    edge_bracket,
    gd_stability_outcome,
    measure_gd_stability,
    softmax_hessian_top,
)
from muonjax.orthogonal.claims.symmetry import (
    BlockSymmetryResult,
    PreconditionerResult,
    block_symmetry_outcome,
    block_symmetry_result,
    measure_block_symmetry,
    measure_preconditioner,
    preconditioner_outcome,
)
from muonjax.orthogonal.curves import (
    cell_curves,
    column_values,
    group_curves,
    num_groups,
    num_queries,
    sweep_table,
)
from muonjax.orthogonal.dynamics import (
    Dynamics,
    cell_path,
    compare_rules,
    init_params,
    path_for,
    run,
)
from muonjax.orthogonal.figures.groups import figure as groups_figure
from muonjax.orthogonal.figures.groups import summary as groups_summary
from muonjax.orthogonal.figures.output import plot_records
from muonjax.orthogonal.figures.results import (
    plot_group_losses,
    plot_scaling_laws,
    plot_signgd_oracle,
)
from muonjax.orthogonal.figures.scaling import figure as scaling_figure
from muonjax.orthogonal.figures.scaling import summary as scaling_summary
from muonjax.orthogonal.figures.signgd import figure as signgd_figure
from muonjax.orthogonal.figures.signgd import summary as signgd_summary
from muonjax.orthogonal.figures.style import RULE_LABELS, summary_table_markdown
from muonjax.orthogonal.loss import (
    State,
    block_state,
    from_task,
    full_loss,
    full_state,
    logit_residual,
    task_logits,
    task_state,
    to_task,
)
from muonjax.orthogonal.sweeps import (
    RUN_SETTINGS,
    groups_sweep,
    scaling_sweep,
    signgd_sweep,
    sweep_settings,
    symmetry_sweep,
)
from muonjax.orthogonal.task import (
    HierarchicalTask,
    conditional_entropy,
    group_of_query,
    hierarchical_task,
    label_distribution,
    optimal_loss,
    optimal_margin,
    power_law_group_weights,
    power_law_task,
    query_frequencies,
    query_optimal_loss,
    random_orthonormal,
    task_summary,
)
from muonjax.orthogonal.updates import (
    PATHS,
    RULES,
    optimizer,
    scale_by_block_polar,
    scale_by_task_sign,
    task_sign,
)
from muonjax.plotting import save_figure
from muonjax.stats.bootstrap import bootstrap_mean
from muonjax.stats.slopes import (
    LineFit,
    WindowSlope,
    fit_line,
    fraction_windows,
    log_grid,
    point_interval,
    window_slope,
)
from muonjax.stats.verdict import Comparison

__all__ = [  # noqa: RUF022  (data-flow order)
    # task
    "HierarchicalTask",
    "hierarchical_task",
    "power_law_task",
    "power_law_group_weights",
    "random_orthonormal",
    "query_frequencies",
    "group_of_query",
    "label_distribution",
    "conditional_entropy",
    "query_optimal_loss",
    "optimal_loss",
    "optimal_margin",
    "task_summary",
    # block-symmetric matrices
    "BlockMatrix",
    "zeros_block",
    "block_to_dense",
    "dense_to_block",
    "block_symmetry_defect",
    "block_frobenius_norm",
    "block_max_abs",
    "block_polar",
    "block_sign",
    # loss, gradient, metrics
    "State",
    "logit_residual",
    "task_logits",
    "task_state",
    "to_task",
    "from_task",
    "full_state",
    "full_loss",
    "block_state",
    # update rules
    "RULES",
    "PATHS",
    "task_sign",
    "scale_by_task_sign",
    "scale_by_block_polar",
    "optimizer",
    # training runs
    "Dynamics",
    "init_params",
    "run",
    "cell_path",
    "path_for",
    "compare_rules",
    # sweep cells and sweeps
    "TASK_KEYS",
    "horizons",
    "cell_steps",
    "recorded_steps",
    "learning_rate",
    "dynamics_cell",
    "symmetry_cell",
    "dynamics_sweep",
    "groups_sweep",
    "scaling_sweep",
    "signgd_sweep",
    "symmetry_sweep",
    "RUN_SETTINGS",
    "sweep_settings",
    # curves out of records
    "sweep_table",
    "num_groups",
    "num_queries",
    "column_values",
    "cell_curves",
    "group_curves",
    # analysis (the generic tools are muonjax.stats's, under their 0.1.0 names)
    "step_grid",
    "gd_envelope",
    "GD_WINDOWS",
    "gd_scaling_slope",
    "horizon_windows",
    "imbalance_exponent",
    "IMBALANCE_PROGRESS",
    "progress_index",
    "group_excess_at_progress",
    "first_rise",
    "floored_log_ratio",
    "LineFit",
    "fit_line",
    "log_grid",
    "WindowSlope",
    "window_slope",
    "fraction_windows",
    "point_interval",
    "bootstrap_mean",
    "Comparison",
    # the claims of SPEC B.3: measurements, results, rows
    "GDNoiselessResult",
    "measure_gd_noiseless",
    "gd_noiseless_result",
    "gd_noiseless_outcome",
    "MuonNoiselessResult",
    "measure_muon_noiseless",
    "muon_noiseless_result",
    "muon_noiseless_outcome",
    "MuonNoisyResult",
    "measure_muon_noisy",
    "descent_time_row",
    "muon_noisy_outcome",
    "StabilityCase",
    "GDStabilityResult",
    "softmax_hessian_top",
    "measure_gd_stability",
    "edge_bracket",
    "bracket_row",
    "gd_stability_outcome",
    "ScalingLawResult",
    "measure_scaling_laws",
    "gd_scaling_rows",
    "gd_scaling_outcome",
    "muon_scaling_rows",
    "muon_scaling_outcome",
    "BlockSymmetryResult",
    "measure_block_symmetry",
    "block_symmetry_result",
    "block_symmetry_outcome",
    "PreconditionerResult",
    "measure_preconditioner",
    "preconditioner_outcome",
    "TraSignGDResult",
    "measure_tra_signgd",
    "tra_gap_row",
    "tra_control_row",
    "tra_signgd_outcome",
    "SignGDResult",
    "measure_signgd_random_basis",
    "signgd_result",
    "signgd_excess_row",
    "imbalance_row",
    "every_multiplier_row",
    "signgd_outcome",
    # figures and fit summaries
    "RULE_LABELS",
    "groups_summary",
    "groups_figure",
    "scaling_summary",
    "scaling_figure",
    "signgd_summary",
    "signgd_figure",
    "summary_table_markdown",
    "plot_records",
    "plot_group_losses",
    "plot_scaling_laws",
    "plot_signgd_oracle",
    "save_figure",
]
