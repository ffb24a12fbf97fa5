"""The orthogonal associative memory with a hierarchical spectrum (SPEC Part B).

Li, Wang, Zhong, Lu, Wang (2026), *Muon in Associative Memory Learning: Training
Dynamics and Scaling Laws*, arXiv 2602.05725. Use as ``from muonjax import
orthogonal``.

K = M C orthogonal query-answer pairs in M frequency groups of C queries, label noise
alpha, embedding norm r, softmax retrieval (:func:`hierarchical_task`,
:func:`power_law_task`). With orthonormal embeddings GD and Muon run exactly in
K x K task coordinates (``run(..., path="task")``) or, since every rule here keeps
the logits group-block symmetric, with O(M^2) numbers (``path="block"``, any K);
SignGD and Adam act entrywise in the original coordinates (``path="full"``).

Measurements, one per row of SPEC B.3, return plain dataclasses whose
``comparisons()`` list estimate, interval, prediction and sizes:
:func:`measure_gd_noiseless` (Thm 4.1), :func:`measure_muon_noiseless` (Thm 4.2),
:func:`measure_muon_noisy` (Thm 5.1), :func:`measure_gd_stability` (Prop 5.4),
:func:`measure_scaling_laws` (Thms 5.7, 5.8), :func:`measure_block_symmetry`
(Prop 6.1), :func:`measure_preconditioner` (Sec. 6), :func:`measure_tra_signgd`
(Thm 6.3), :func:`measure_signgd_random_basis`. Figures: :func:`plot_group_losses`,
:func:`plot_scaling_laws`, :func:`plot_signgd_oracle`.

Toolkit wiring (issue 6, phase 2): the ten SPEC B.3 checks of ``muonjax check``
(:mod:`muonjax.orthogonal.checks`, loaded through
``muonjax.engine.registry.CHECK_MODULES``);
slopes with honest intervals for deterministic curves (:func:`window_slope`, ranges
over fit windows) and bootstraps over random bases (:func:`imbalance_exponent`,
:func:`bootstrap_mean`); the sweep cell :func:`dynamics_cell` and
:func:`dynamics_sweep` behind the experiments ``orth_groups``, ``orth_scaling`` and
``orth_signgd``, whose summaries and figures are computed from their records
(:func:`groups_summary`, :func:`scaling_summary`, :func:`signgd_summary`, and the
``*_figure`` functions). See ``docs/partb.md``.
"""

from muonjax.orthogonal.analysis import (
    GD_WINDOWS,
    WindowSlope,
    bootstrap_mean,
    fraction_windows,
    gd_envelope,
    gd_scaling_slope,
    imbalance_exponent,
    point_interval,
    step_grid,
    window_slope,
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
    cell_path,
    cell_steps,
    dynamics_cell,
    dynamics_sweep,
    horizons,
    learning_rate,
    recorded_steps,
)
from muonjax.orthogonal.dynamics import Dynamics, init_params, run
from muonjax.orthogonal.figures import (
    cell_curves,
    group_curves,
    groups_figure,
    groups_summary,
    scaling_figure,
    scaling_summary,
    signgd_figure,
    signgd_summary,
    summary_table_markdown,
)
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
from muonjax.orthogonal.measure import (
    BlockSymmetryResult,
    Comparison,
    GDNoiselessResult,
    GDStabilityResult,
    MuonNoiselessResult,
    MuonNoisyResult,
    PreconditionerResult,
    ScalingLawResult,
    SignGDResult,
    StabilityCase,
    TraSignGDResult,
    compare_rules,
    first_rise,
    measure_block_symmetry,
    measure_gd_noiseless,
    measure_gd_stability,
    measure_muon_noiseless,
    measure_muon_noisy,
    measure_preconditioner,
    measure_scaling_laws,
    measure_signgd_random_basis,
    measure_tra_signgd,
    path_for,
    softmax_hessian_top,
)
from muonjax.orthogonal.plots import (
    RULE_LABELS,
    plot_group_losses,
    plot_scaling_laws,
    plot_signgd_oracle,
    save_figure,
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
from muonjax.stats.slopes import LineFit, fit_line, log_grid

__all__ = [
    "GD_WINDOWS",
    "PATHS",
    "RULES",
    "RULE_LABELS",
    "TASK_KEYS",
    "BlockMatrix",
    "BlockSymmetryResult",
    "Comparison",
    "Dynamics",
    "GDNoiselessResult",
    "GDStabilityResult",
    "HierarchicalTask",
    "LineFit",
    "MuonNoiselessResult",
    "MuonNoisyResult",
    "PreconditionerResult",
    "ScalingLawResult",
    "SignGDResult",
    "StabilityCase",
    "State",
    "TraSignGDResult",
    "WindowSlope",
    "block_frobenius_norm",
    "block_max_abs",
    "block_polar",
    "block_sign",
    "block_state",
    "block_symmetry_defect",
    "block_to_dense",
    "bootstrap_mean",
    "cell_curves",
    "cell_path",
    "cell_steps",
    "compare_rules",
    "conditional_entropy",
    "dense_to_block",
    "dynamics_cell",
    "dynamics_sweep",
    "first_rise",
    "fit_line",
    "fraction_windows",
    "from_task",
    "full_loss",
    "full_state",
    "gd_envelope",
    "gd_scaling_slope",
    "group_curves",
    "group_of_query",
    "groups_figure",
    "groups_summary",
    "hierarchical_task",
    "horizons",
    "imbalance_exponent",
    "init_params",
    "label_distribution",
    "learning_rate",
    "log_grid",
    "logit_residual",
    "measure_block_symmetry",
    "measure_gd_noiseless",
    "measure_gd_stability",
    "measure_muon_noiseless",
    "measure_muon_noisy",
    "measure_preconditioner",
    "measure_scaling_laws",
    "measure_signgd_random_basis",
    "measure_tra_signgd",
    "optimal_loss",
    "optimal_margin",
    "optimizer",
    "path_for",
    "plot_group_losses",
    "plot_scaling_laws",
    "plot_signgd_oracle",
    "point_interval",
    "power_law_group_weights",
    "power_law_task",
    "query_frequencies",
    "query_optimal_loss",
    "random_orthonormal",
    "recorded_steps",
    "run",
    "save_figure",
    "scale_by_block_polar",
    "scale_by_task_sign",
    "scaling_figure",
    "scaling_summary",
    "signgd_figure",
    "signgd_summary",
    "softmax_hessian_top",
    "step_grid",
    "summary_table_markdown",
    "task_logits",
    "task_sign",
    "task_state",
    "task_summary",
    "to_task",
    "window_slope",
    "zeros_block",
]
