"""What the two papers predict, as plain functions of their parameters.

One module per family: :mod:`muonjax.theory.gaussian` (SPEC A.5, Kim et al. 2026) and
:mod:`muonjax.theory.orthogonal` (SPEC B.3, Li et al. 2026), and
:mod:`muonjax.theory.transformer` (SPEC C.1: the qualitative claims of Kim et al.'s
transformer figures, as comparisons of paired differences; SPEC C.2: Li et al.'s
long-tailed facts). Every docstring carries the
SPEC provenance tag verbatim (``[seed]``, ``[quoted]``, ``[summary]``, ``[derived]``).
The names are re-exported here flat, so ``muonjax.theory.one_step_exponent(...)`` reads
as before.
"""

from muonjax.theory import transformer
from muonjax.theory.gaussian import (
    QUALITATIVE_CLAIMS,
    critical_batch_exponent,
    critical_batch_size,
    distinct_items_exponent,
    distinct_items_scaling,
    expected_distinct_items,
    gd_one_step_capacity,
    gd_one_step_exponent,
    gd_recovery_threshold,
    information_limit,
    information_limit_exponent,
    multi_step_capacity,
    multi_step_exponent,
    multi_step_loss_bound,
    muon_one_step_capacity,
    muon_one_step_exponent,
    newton_one_step_capacity,
    newton_one_step_exponent,
    one_step_exponent,
    out_of_batch_recoveries_bound,
    smoothed_muon_lambda,
    two_stage_coefficients,
)
from muonjax.theory.orthogonal import (
    gd_finite_m_excess,
    gd_finite_m_slope,
    gd_initial_stability_edge,
    gd_noiseless_query_loss,
    gd_noiseless_total_loss,
    gd_scaling_law,
    gd_scaling_law_exponent,
    gd_stability_curvature,
    gd_stability_edge,
    gd_stability_limit,
    label_noise_optimal_loss,
    muon_noiseless_query_loss,
    muon_noisy_descent_time,
    muon_noisy_oscillation_gap,
    muon_scaling_law,
    muon_scaling_law_exponent,
    muon_scaling_learning_rate,
    preconditioner_deviation_bound,
    tra_signgd_muon_step,
)

__all__ = [
    "QUALITATIVE_CLAIMS",
    "critical_batch_exponent",
    "critical_batch_size",
    "distinct_items_exponent",
    "distinct_items_scaling",
    "expected_distinct_items",
    "gd_finite_m_excess",
    "gd_finite_m_slope",
    "gd_initial_stability_edge",
    "gd_noiseless_query_loss",
    "gd_noiseless_total_loss",
    "gd_one_step_capacity",
    "gd_one_step_exponent",
    "gd_recovery_threshold",
    "gd_scaling_law",
    "gd_scaling_law_exponent",
    "gd_stability_curvature",
    "gd_stability_edge",
    "gd_stability_limit",
    "information_limit",
    "information_limit_exponent",
    "label_noise_optimal_loss",
    "multi_step_capacity",
    "multi_step_exponent",
    "multi_step_loss_bound",
    "muon_noiseless_query_loss",
    "muon_noisy_descent_time",
    "muon_noisy_oscillation_gap",
    "muon_one_step_capacity",
    "muon_one_step_exponent",
    "muon_scaling_law",
    "muon_scaling_law_exponent",
    "muon_scaling_learning_rate",
    "newton_one_step_capacity",
    "newton_one_step_exponent",
    "one_step_exponent",
    "out_of_batch_recoveries_bound",
    "preconditioner_deviation_bound",
    "smoothed_muon_lambda",
    "tra_signgd_muon_step",
    "transformer",  # SPEC C.1, the module muonjax.theory.transformer
    "two_stage_coefficients",
]

# --- SPEC C.2: long-tailed facts (issue 15) ----------------------------------------
from muonjax.theory.transformer import (
    FACTS_SLOPE_CLAIM,
    LONGTAIL_TAG,
    TAIL_ACCURACY_CLAIM,
    facts_learned_exponent,
    steps_to_learn_exponent,
)

__all__ += [
    "FACTS_SLOPE_CLAIM",
    "LONGTAIL_TAG",
    "TAIL_ACCURACY_CLAIM",
    "facts_learned_exponent",
    "steps_to_learn_exponent",
]
