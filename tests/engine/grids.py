"""Helpers of the tests that walk every experiment (not a test module)."""

from __future__ import annotations

import sys
from typing import Any

import muonjax as mj

#: ``--set`` values that make each experiment tiny (seconds on a loaded 2-core CPU).
TINY = {
    "fig1": "n=256 alphas=1.5,2.0 population_dims=8,16 critical_dims=8,16 "
    "max_batch_size=16 rules=gd",
    "fig2": "n=256 dims=8,16 alphas=1.5,2.0 rules=gd",
    "fig2_ns": "n=256 dims=8,16 alphas=1.5,2.0 variants=exact",
    "fig3": "n=256 dims=8,16 max_batch_size=16 rules=gd",
    "fig4": "n=256 dims=8,16 alphas=1.5 steps=2 rules=muon deflate=false "
    "long_dims=8 long_rules=muon long_deflate=false long_max_steps=4",
    "fig5": "n=256 dims=8,16 alphas=1.5 batch_sizes=0 steps=4 early_step=2 rules=gd",
    "fig6": "n=256 dims=8,16 alphas=1.5 kappas=0.0,1.0 rules=muon",
    "orth_groups": "num_groups=2 group_size=2 alphas=0.0 rules=gd steps=8 "
    "record_points=4",
    "orth_scaling": "num_groups=2 group_size=2 points=3 gd_steps=8 horizon_min=4 "
    "horizon_max=8 record_points=4",
    "orth_signgd": "num_groups=2 group_size=2 dim=4 rules=gd steps=8 record_points=4 "
    "record_linear=5 scales=1.0",
    "fig7": "vocab_size=24 seq_len=16 trigger_pool=4 num_triggers=2 dims=8 steps=16 "
    "eval_every=8 eval_batch=8 lr_points=2 optimizers=muon,sgd batch_size=8 "
    "horizons=8,16 chunk_size=4",
    "fig8": "vocab_size=24 seq_len=16 trigger_pool=4 num_triggers=2 dims=8 steps=16 "
    "eval_every=8 eval_batch=8 lr_points=2 optimizers=muon batch_sizes=8",
    "fig9": "vocab_size=24 seq_len=16 trigger_pool=4 num_triggers=2 dims=8 steps=16 "
    "eval_every=8 eval_batch=8 lr_points=2 optimizers=muon batch_size=8 "
    "alpha_0s=0,1.5 alpha_ts=0,2 chunk_size=16",
    "longtail_facts": "subjects=8 relations=2 values=8 filler_tokens=8 slots=3 dim=32 "
    "layers=1 heads=2 steps=40 batch_size=8 eval_every=20 buckets=2 eval_batch=4 "
    "warmup=10 adamw_lrs=0.01 muon_lrs=0.03 checkpoint_every=20",
}


def tiny_args(name: str) -> list[str]:
    """``["--set", "n=256", ...]`` for experiment ``name``."""
    args: list[str] = []
    for item in TINY[name].split():
        args += ["--set", item]
    return args


def grids(exp: mj.Experiment, config: Any) -> list[mj.Sweep]:
    """The sweeps ``exp`` records for ``config`` (built, not run)."""
    if exp.sweep is not None:
        grid = exp.sweep(config)
    else:  # an experiment with its own run(): its module's sweep(s) function
        module = sys.modules[exp.run.__module__]
        build = (
            getattr(module, "sweep", None)
            or getattr(module, "sweeps", None)
            or module.plan  # its own recorder: the cells it will write
        )
        grid = build(config)
    if isinstance(grid, mj.Sweep) or hasattr(grid, "cells"):
        return [grid]
    if isinstance(grid, dict):
        return list(grid.values())
    return [g for g in grid if g is not None]
