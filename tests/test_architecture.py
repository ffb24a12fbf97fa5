"""The package's shape: the front door, the names of 0.1.0, imports that point down.

``muonjax/__init__.py`` is one ``__all__`` of flat re-exports (no lazy import hook, no
``__all__ +=``); every public name of release 0.1.0 still imports from ``muonjax`` (and
from ``muonjax.orthogonal``); and the import graph of the package points down: the
engine and the stats layer import no family (gaussian, orthogonal, transformer), no
family imports another, and the shared kernels import only kernels
(``../shared/ARCHITECTURE.md``).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import muonjax as mj
from muonjax import orthogonal as og

PACKAGE = Path(mj.__file__).resolve().parent

#: ``muonjax.__all__`` of release 0.1.0 (``git show v0.1.0:muonjax/__init__.py``).
NAMES_0_1_0 = (
    "BrokenPowerLawFit",
    "CUBIC_COEFFS",
    "Capacity",
    "CapacityCurve",
    "Cell",
    "CellResult",
    "CheckContext",
    "CheckOutcome",
    "CheckResult",
    "Comparison",
    "CriticalAnalysis",
    "CriticalBatchFit",
    "DEFAULT_GD_SCHEDULE",
    "Difference",
    "DirectoryStore",
    "EarlyStopResult",
    "ExcludedPoint",
    "Experiment",
    "FitResult",
    "FitSummary",
    "GaussianTask",
    "GroupFits",
    "GroupStats",
    "JORDAN_COEFFS",
    "KroneckerFactors",
    "MEASURE_CEILINGS",
    "MINIBATCH_RULES",
    "MULTI_STEP_METRICS",
    "Metrics",
    "POLAR_EXPRESS_COEFFS",
    "PassResult",
    "QUINTIC_COEFFS",
    "RULES",
    "RatioRow",
    "RecordedParts",
    "RecordedSweep",
    "SCHEDULE_SHAPES",
    "StepResult",
    "SummaryRow",
    "Sweep",
    "SweepResult",
    "Table",
    "Trajectory",
    "TwoStageFit",
    "analyze_critical_batch",
    "available_checks",
    "batch_frequencies",
    "batch_grid",
    "blockwise_pass",
    "capacity",
    "capacity_after",
    "capacity_curves",
    "capacity_figure",
    "capacity_from_mask",
    "capacity_panel",
    "capacity_ratio",
    "capacity_ratios",
    "cell_key",
    "combine_verdicts",
    "compare",
    "compare_fit",
    "comparison_table",
    "config_hash",
    "critical_batch_sweep",
    "default_block_size",
    "difference_comparison",
    "environment",
    "evaluate",
    "experiment_main",
    "exponent_difference",
    "exponent_panel",
    "exponent_rows",
    "final_capacity",
    "fit_across_d",
    "fit_broken_power_law",
    "fit_critical_batch",
    "fit_exponential",
    "fit_exponents",
    "fit_loss_slope",
    "fit_power_law",
    "fit_step_exponents",
    "fit_two_stage",
    "gd",
    "gd_increasing_schedule",
    "get_experiment",
    "grad_at_zero",
    "group_keys",
    "group_label",
    "group_stats",
    "hessian_factors_at_zero",
    "kronecker_factors",
    "kronecker_ridge_solve",
    "load_experiments",
    "local_slopes",
    "loss_at_zero",
    "lr_schedule",
    "margins",
    "minibatch_cell",
    "minibatch_loss_and_grad",
    "multi_step_cell",
    "multi_step_optimizer",
    "multi_step_sweep",
    "muon_exact",
    "muon_newton_schulz",
    "muon_smoothed",
    "newton_at_zero",
    "newton_cg_direction",
    "newton_ridge_diagnostic",
    "newton_schulz",
    "newton_schulz_coefficients",
    "newton_schulz_reach",
    "ns_variant_cell",
    "ns_variant_sweep",
    "one_step",
    "one_step_cell",
    "one_step_optimizer",
    "one_step_sweep",
    "orthogonal",
    "paired_kappa_sweep",
    "paired_ratio",
    "parse_ns_variant",
    "parse_rule",
    "plateau_step",
    "polar",
    "population_grad",
    "population_loss",
    "population_loss_and_grad",
    "population_pass",
    "power_law_frequencies",
    "power_law_spectrum",
    "read_fit_summary",
    "read_manifest",
    "read_newton_ridge_diagnostic",
    "read_part",
    "read_table",
    "record_parts",
    "record_sweep",
    "recovered",
    "register_check",
    "register_experiment",
    "run_cell",
    "run_checks",
    "run_sweep",
    "sample_batch",
    "sample_task",
    "save_figure",
    "scale_by_kronecker_inverse",
    "scale_by_newton_schulz",
    "scale_by_polar",
    "scale_by_sign",
    "scale_by_smoothed_polar",
    "seed_matrix",
    "sign_gd",
    "singular_value_map",
    "smoothed_polar",
    "step_curves",
    "step_exponent_fits",
    "step_gain_fits",
    "stopping_steps",
    "summary_to_markdown",
    "sweep_block_size",
    "table_from_results",
    "theory",
    "train",
    "train_early_stopping",
    "two_stage_fits",
    "write_fit_summary",
    "write_table",
)

#: ``muonjax.orthogonal.__all__`` of release 0.1.0.
ORTHOGONAL_NAMES_0_1_0 = (
    "BlockMatrix",
    "BlockSymmetryResult",
    "Comparison",
    "Dynamics",
    "GDNoiselessResult",
    "GDStabilityResult",
    "GD_WINDOWS",
    "HierarchicalTask",
    "LineFit",
    "MuonNoiselessResult",
    "MuonNoisyResult",
    "PATHS",
    "PreconditionerResult",
    "RULES",
    "RULE_LABELS",
    "ScalingLawResult",
    "SignGDResult",
    "StabilityCase",
    "State",
    "TASK_KEYS",
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
)

FAMILIES = ("gaussian", "orthogonal", "transformer")
#: Kernel modules shared by every layer; they import only each other.
KERNELS = ("_validate", "_io", "_precision", "_polar", "_transforms")


def test_every_public_name_of_0_1_0_still_imports():
    missing = [n for n in NAMES_0_1_0 if not hasattr(mj, n)]
    assert not missing
    assert set(NAMES_0_1_0) <= set(mj.__all__)


def test_every_orthogonal_name_of_0_1_0_still_imports():
    assert [n for n in ORTHOGONAL_NAMES_0_1_0 if not hasattr(og, n)] == []


def test_the_front_door_is_one_flat_all():
    text = (PACKAGE / "__init__.py").read_text()
    tree = ast.parse(text)
    assigns = [
        node
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AugAssign))
        and any(
            isinstance(t, ast.Name) and t.id == "__all__"
            for t in getattr(node, "targets", [getattr(node, "target", None)])
        )
    ]
    assert len(assigns) == 1 and isinstance(assigns[0], ast.Assign)
    assert not any(isinstance(node, ast.FunctionDef) for node in tree.body), (
        "no functions (lazy __getattr__ hooks) in the front door"
    )
    assert len(mj.__all__) == len(set(mj.__all__))
    assert [n for n in mj.__all__ if not hasattr(mj, n)] == []


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        yield ".".join(["muonjax", *parts]), path


def _imports(name: str, path: Path) -> set[str]:
    """Every muonjax module ``name`` imports, at any depth (function bodies too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([base] if base else [])])
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in out if m == "muonjax" or m.startswith("muonjax.")}


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "front"
    head = parts[1]
    if head in FAMILIES:
        return head
    if head in KERNELS:
        return "kernel"
    return head  # engine, stats, theory, plotting, cli, demo, experiments, ...


GRAPH = {name: _imports(name, path) for name, path in _modules()}


def test_the_import_graph_is_read():
    # the walk sees the package: a few known edges
    assert "muonjax.engine.sweep" in GRAPH["muonjax.engine.records"]
    assert any(m.startswith("muonjax.gaussian") for m in GRAPH["muonjax"])


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_point_down(name):
    layer = _layer(name)
    targets = {_layer(m) for m in GRAPH[name] if m != name}
    if layer in ("engine", "stats", "theory", "plotting", "kernel"):
        assert not targets & set(FAMILIES), f"{name} imports a family: {targets}"
    if layer == "stats":
        assert "engine" not in targets, f"{name}: stats sits below the engine"
    if layer == "kernel":
        assert targets <= {"kernel", "front"}, f"{name} imports {targets}"
    if layer in FAMILIES:
        others = targets & (set(FAMILIES) - {layer})
        assert not others, f"{name} (family {layer}) imports the family {others}"
    if layer not in ("front", "cli", "__main__"):
        assert "cli" not in targets, f"{name} imports the command line"


def test_importing_every_module_works():
    for name in GRAPH:
        if name.endswith("__main__"):
            continue
        importlib.import_module(name)


def test_modules_are_small_or_say_why():
    # One concept per module, a few hundred lines: a module over 500 lines says why
    # in a "# Size: over 500 lines because ..." comment.
    root = Path(mj.__file__).parent
    long = {}
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        if text.count("\n") > 500 and "\n# Size: over 500 lines because " not in text:
            long[str(path.relative_to(root))] = text.count("\n")
    assert not long, f"modules over 500 lines without a reason: {long}"
