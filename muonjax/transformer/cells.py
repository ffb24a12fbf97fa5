"""The sweep cell of the in-context recall experiments: one training run, one seed.

:func:`recall_cell` ``(config, key) -> {metric: (S,)}`` samples a language, a model
and a fixed evaluation set from ``key``, trains with one optimizer for ``steps``
steps and evaluates every ``eval_every`` steps (:func:`muonjax.transformer.train`),
all in one traced program. :func:`recall_sweep` builds the :class:`muonjax.Sweep`:

- **Batched** (vmapped with the seeds, one compilation): ``lr_scale`` (the
  learning-rate grid: optimizer ``o``'s step is ``lr_<o> * lr_scale``), and the
  exponents ``alpha_t``, ``alpha_0`` when they are axes.
- **Static** (one compilation each): ``dim``, ``optimizer``, ``batch_size``,
  ``seq_len``, the model variant, every other size.
- **Keys**: a cell's key depends on the task only (:data:`KEY_FIELDS`), not on the
  optimizer, the learning rate or ``d``: for one seed every optimizer, step size and
  width sees the same language, the same training batches and the same evaluation
  set (common random numbers), so differences between optimizers are paired by
  seed.

Every record row carries the optimizer's settings (SPEC C.3: ``muon_*`` for the
Muon variants, ``adamw_*``, ``sgd_momentum``, ``weight_decay``) and the grid (the
``lr_*`` bases and ``lr_scale``); the metric ``lr`` is the step actually used.

Metrics per evaluation: ``id_acc``, ``id_loss``, ``ood_acc``, ``ood_loss``,
``recall`` (:mod:`muonjax.transformer.metrics`), ``train_loss``, ``lr``.

For the experiments: :class:`RecallExperimentConfig` and :data:`PAPER_SIZES` hold
the settings Figures 7-9 share, :func:`recall_fixed` reads a config's cell values,
and :func:`width_sweep` is Figure 7's grid (which the Part C checks run too).

References:
    SPEC C.1, C.3; SPEC E (per-cell keys); Kim et al. (2026), Figs. 7-9.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from muonjax import _validate
from muonjax.engine.sweep import Sweep
from muonjax.transformer.data import (
    num_id_tokens,
    sample_batch,
    sample_language,
    validate_task,
)
from muonjax.transformer.metrics import LOSS_POSITIONS, evaluate, recall_loss
from muonjax.transformer.model import ModelConfig, init_params, merge
from muonjax.transformer.optim import OPTIMIZERS, SCALES, make_optimizer
from muonjax.transformer.train import (
    init_state,
    make_train_step,
    train,
    validate_schedule,
)

#: Metric columns of :func:`recall_cell`, in order.
RECALL_METRICS = (
    "id_acc",
    "id_loss",
    "ood_acc",
    "ood_loss",
    "recall",
    "train_loss",
    "lr",
)

#: Every configuration value of a recall cell and its default. The learning-rate
#: bases are the centres of each optimizer's grid (``lr_scale`` multiplies them).
RECALL_DEFAULTS: Mapping[str, Any] = {
    # task (SPEC C.1)
    "vocab_size": 256,
    "seq_len": 64,
    "num_triggers": 3,
    "trigger_pool": 8,
    "id_fraction": 0.75,
    "alpha_t": 0.0,
    "alpha_0": 0.0,
    "unigram_alpha": 1.0,
    "concentration": 1.0,
    # model
    "dim": 32,
    "ffn": False,
    "ffn_mult": 4,
    "train_all_attention": False,
    "tied_unembed": False,
    "dtype": "float32",
    # training
    "optimizer": "muon",
    "batch_size": 32,
    "steps": 256,
    "eval_every": 64,
    "eval_batch": 64,
    "loss_positions": "head",
    "lr_scale": 1.0,
    "lr_muon": 0.05,
    "lr_muon_exact": 0.05,
    "lr_adamw": 0.01,
    "lr_sgd": 1.0,
    "weight_decay": 0.0,
    "sgd_momentum": 0.9,
    "adamw_b1": 0.9,
    "adamw_b2": 0.95,
    # Muon (SPEC C.3)
    "muon_ns_steps": 5,
    "muon_ns_coeffs": "jordan",
    "muon_momentum": 0.95,
    "muon_nesterov": True,
    "muon_scale": "spectral",
}

#: The configuration values a cell's key depends on: the task and the batch sizes
#: (not the optimizer, its step, or the width).
KEY_FIELDS = (
    "vocab_size",
    "seq_len",
    "num_triggers",
    "trigger_pool",
    "id_fraction",
    "alpha_t",
    "alpha_0",
    "unigram_alpha",
    "concentration",
    "batch_size",
    "eval_batch",
)

_POSITIVE_INTS = (
    "vocab_size",
    "seq_len",
    "num_triggers",
    "trigger_pool",
    "dim",
    "ffn_mult",
    "batch_size",
    "steps",
    "eval_every",
    "eval_batch",
    "muon_ns_steps",
)


def validate_recall_config(config: Mapping[str, Any]) -> None:
    """Check one cell's configuration; ``ValueError`` naming the field.

    Traced values (batched axes inside a sweep) pass; they are checked where the
    sweep is built.
    """
    unknown = sorted(set(config) - set(RECALL_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown recall config names {unknown}")
    for name in _POSITIVE_INTS:
        _validate.positive_int(name, config[name])
    validate_task(
        vocab_size=config["vocab_size"],
        num_triggers=config["num_triggers"],
        trigger_pool=config["trigger_pool"],
        id_fraction=config["id_fraction"],
        seq_len=config["seq_len"],
    )
    ModelConfig(
        vocab_size=config["vocab_size"],
        dim=config["dim"],
        seq_len=config["seq_len"],
        ffn=bool(config["ffn"]),
        ffn_mult=config["ffn_mult"],
        train_all_attention=bool(config["train_all_attention"]),
        tied_unembed=bool(config["tied_unembed"]),
        dtype=config["dtype"],
    )
    validate_schedule(config["steps"], config["eval_every"])
    if config["optimizer"] not in OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {OPTIMIZERS}, got "
            f"optimizer={config['optimizer']!r}"
        )
    if config["loss_positions"] not in LOSS_POSITIONS:
        raise ValueError(
            f"loss_positions must be one of {LOSS_POSITIONS}, got "
            f"loss_positions={config['loss_positions']!r}"
        )
    if config["muon_scale"] not in SCALES:
        raise ValueError(
            f"muon_scale must be one of {SCALES}, got "
            f"muon_scale={config['muon_scale']!r}"
        )
    for name in ("lr_scale", *(f"lr_{o}" for o in OPTIMIZERS)):
        _validate.real(name, config[name], lower=0.0, lower_open=True)
    for name in ("alpha_t", "alpha_0", "unigram_alpha", "weight_decay"):
        _validate.real(name, config[name], lower=0.0)
    _validate.real("concentration", config["concentration"], lower=0.0, lower_open=True)
    for name in ("sgd_momentum", "muon_momentum", "adamw_b1", "adamw_b2"):
        _validate.real(name, config[name], lower=0.0, upper=1.0, upper_open=True)


def model_config(config: Mapping[str, Any]) -> ModelConfig:
    """The :class:`ModelConfig` of a cell's configuration."""
    return ModelConfig(
        vocab_size=config["vocab_size"],
        dim=config["dim"],
        seq_len=config["seq_len"],
        ffn=bool(config["ffn"]),
        ffn_mult=config["ffn_mult"],
        train_all_attention=bool(config["train_all_attention"]),
        tied_unembed=bool(config["tied_unembed"]),
        dtype=config["dtype"],
    )


def recall_cell(config: Mapping[str, Any], key: jax.Array) -> dict[str, jax.Array]:
    """Train one model on the recall task; metrics at every evaluation.

    Args:
        config: every name of :data:`RECALL_DEFAULTS` (batched ones may be traced).
        key: the cell's PRNG key for this seed.

    Returns:
        ``{metric: (S,)}`` for :data:`RECALL_METRICS` and ``"step": (S,)``, ``S =
        steps / eval_every + 1``.
    """
    cfg = {**RECALL_DEFAULTS, **dict(config)}
    mcfg = model_config(cfg)
    dtype = jnp.dtype(mcfg.dtype)
    k_lang, k_init, k_data, k_eval = jax.random.split(key, 4)
    task = {"seq_len": cfg["seq_len"], "num_triggers": cfg["num_triggers"]}
    language = sample_language(
        k_lang,
        vocab_size=cfg["vocab_size"],
        trigger_pool=cfg["trigger_pool"],
        alpha_t=cfg["alpha_t"],
        alpha_0=cfg["alpha_0"],
        id_fraction=cfg["id_fraction"],
        unigram_alpha=cfg["unigram_alpha"],
        concentration=cfg["concentration"],
        num_triggers=cfg["num_triggers"],
        dtype=dtype,
    )
    trained, frozen = init_params(k_init, mcfg)

    name = cfg["optimizer"]
    lr = jnp.asarray(cfg[f"lr_{name}"], dtype) * jnp.asarray(cfg["lr_scale"], dtype)
    optimizer = make_optimizer(
        name,
        trained,
        learning_rate=lr,
        weight_decay=cfg["weight_decay"],
        momentum=cfg["sgd_momentum"],
        muon_options={
            "ns_steps": cfg["muon_ns_steps"],
            "ns_coeffs": cfg["muon_ns_coeffs"],
            "momentum": cfg["muon_momentum"],
            "nesterov": bool(cfg["muon_nesterov"]),
            "scale": cfg["muon_scale"],
        },
        adamw_options={"b1": cfg["adamw_b1"], "b2": cfg["adamw_b2"]},
    )

    def loss_fn(params, batch):
        return recall_loss(
            merge(params, frozen),
            batch,
            config=mcfg,
            positions=cfg["loss_positions"],
        )

    def batch_fn(k):
        return sample_batch(k, language, batch_size=cfg["batch_size"], **task)

    # One traced sampler for the ID and the OOD set (half the compilation of two).
    n_eval = cfg["eval_batch"]
    evals = sample_batch(
        k_eval,
        language,
        batch_size=2 * n_eval,
        ood=jnp.arange(2 * n_eval) >= n_eval,
        **task,
    )
    eval_id = jax.tree.map(lambda a: a[:n_eval], evals)
    eval_ood = jax.tree.map(lambda a: a[n_eval:], evals)
    n_id = num_id_tokens(cfg["vocab_size"], cfg["id_fraction"])

    def eval_fn(params):
        return evaluate(merge(params, frozen), eval_id, eval_ood, n_id, config=mcfg)

    _, history = train(
        init_state(trained, optimizer),
        step_fn=make_train_step(loss_fn, optimizer),
        loss_fn=loss_fn,
        batch_fn=batch_fn,
        eval_fn=eval_fn,
        data_key=k_data,
        steps=cfg["steps"],
        eval_every=cfg["eval_every"],
    )
    out = {m: history.metrics[m] for m in RECALL_METRICS if m != "lr"}
    out["lr"] = jnp.broadcast_to(lr, history.step.shape)
    return {**{m: out[m] for m in RECALL_METRICS}, "step": history.step}


def lr_grid(points: int, span: float) -> tuple[float, ...]:
    """``points`` log-spaced multipliers from ``1/span`` to ``span`` (centre 1)."""
    points = _validate.positive_int("points", points)
    _validate.real("span", span, lower=1.0)
    if points == 1:
        return (1.0,)
    exps = [-1.0 + 2.0 * i / (points - 1) for i in range(points)]
    return tuple(float(f"{span**e:.6g}") for e in exps)


def recall_sweep(
    *,
    axes: Mapping[str, Sequence[Any]],
    fixed: Mapping[str, Any] | None = None,
    batched: Sequence[str] = ("lr_scale",),
) -> Sweep:
    """The :class:`muonjax.Sweep` of :func:`recall_cell` over a grid.

    Args:
        axes: ``name -> values`` (names of :data:`RECALL_DEFAULTS`); typically
            ``optimizer``, ``dim``, ``lr_scale`` and one of ``batch_size``,
            ``alpha_0``, ``alpha_t``.
        fixed: values shared by every cell; the rest of :data:`RECALL_DEFAULTS`
            fills in, so every record row carries every setting.
        batched: axes vmapped with the seeds (numbers that keep shapes: ``lr_scale``,
            ``alpha_t``, ``alpha_0``).

    Returns:
        The sweep, with :data:`KEY_FIELDS` as its key axes.

    Raises:
        ValueError: an unknown name, or any cell of the grid with a bad value
            (named), checked here, before anything compiles.
    """
    fixed = dict(fixed or {})
    names = set(axes) | set(fixed)
    unknown = sorted(names - set(RECALL_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown recall config names {unknown}")
    for name in batched:
        if name not in ("lr_scale", "alpha_t", "alpha_0"):
            raise ValueError(
                f"batched axes must be among lr_scale, alpha_t, alpha_0, got {name!r}"
            )
    fill = {k: v for k, v in RECALL_DEFAULTS.items() if k not in names}
    full_fixed = {**fixed, **fill}
    for values in itertools.product(*axes.values()):
        cell = {**full_fixed, **dict(zip(axes, values, strict=True))}
        for k, v in cell.items():
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"{k} must be finite, got {k}={v!r}")
        validate_recall_config(cell)
    return Sweep(
        recall_cell,
        axes=axes,
        fixed=full_fixed,
        batched=tuple(batched),
        key_axes=KEY_FIELDS,
    )


@dataclasses.dataclass(frozen=True)
class RecallExperimentConfig:
    """Settings shared by the Figure 7-9 experiments (each adds its grid).

    Every field can be changed with ``--set key=value``; the fields named as in
    :data:`RECALL_DEFAULTS` reach the cells (:func:`recall_fixed`).

    Attributes:
        vocab_size, seq_len, num_triggers, trigger_pool: the task (SPEC C.1).
        optimizers: among ``muon``, ``muon_exact``, ``adamw``, ``sgd``.
        batch_size: sequences per step.
        steps: iterations; eval_every: steps between evaluations.
        eval_batch: ID and OOD evaluation sequences (fixed per seed).
        lr_points, lr_span: the grid, ``lr_points`` log-spaced multipliers from
            ``1/lr_span`` to ``lr_span`` of each optimizer's ``lr_<name>``.
        lr_muon, lr_muon_exact, lr_adamw, lr_sgd: the grid centres.
        ffn, tied_unembed: model variant (:class:`ModelConfig`).
        muon_scale: Muon's update scale (SPEC C.3): spectral, rms or none.
        seeds: independent tasks and initialisations (shared by every optimizer).
        chunk_size: runs per vmapped call; root_seed: the sweep's key.
    """

    vocab_size: int = 128
    seq_len: int = 64
    num_triggers: int = 3
    trigger_pool: int = 8
    optimizers: tuple[str, ...] = ("muon", "adamw", "sgd")
    batch_size: int = 32
    steps: int = 512
    eval_every: int = 64
    eval_batch: int = 64
    lr_points: int = 3
    lr_span: float = 3.0
    lr_muon: float = 0.03
    lr_muon_exact: float = 0.03
    lr_adamw: float = 0.02
    lr_sgd: float = 0.15
    ffn: bool = False
    tied_unembed: bool = True
    muon_scale: str = "spectral"
    seeds: int = 3
    chunk_size: int = 9
    root_seed: int = 0

    def __post_init__(self) -> None:
        if not self.optimizers:
            raise ValueError("optimizers must be non-empty")
        for name in ("seeds", "chunk_size", "lr_points"):
            _validate.positive_int(name, getattr(self, name))
        _validate.real("lr_span", self.lr_span, lower=1.0)
        # Every cell's settings, checked here so that a bad --set is refused before
        # a sweep is built (the axes, e.g. dims, are checked by each experiment).
        fixed = {**RECALL_DEFAULTS, **recall_fixed(self)}
        for optimizer in self.optimizers:
            validate_recall_config({**fixed, "optimizer": optimizer})


#: The ``--set`` ranges of the Figure 7-9 experiments' fields (``register_experiment(
#: limits=...)``); the rest is checked by :class:`RecallExperimentConfig`.
RECALL_LIMITS: Mapping[str, Any] = {
    "optimizers": OPTIMIZERS,
    "muon_scale": SCALES,
    "dims": "[1, inf)",
    "lr_span": "[1, inf)",
    **{f"lr_{o}": "(0, inf)" for o in OPTIMIZERS},
}


#: The sizes every paper preset shares: batch 256 (the captions), T = 256 (the
#: original), V = 1024, K = 5 triggers from a pool of 16, 5 step sizes spanning a
#: factor 81, 4 seeds.
PAPER_SIZES: Mapping[str, Any] = {
    "vocab_size": 1024,
    "seq_len": 256,
    "num_triggers": 5,
    "trigger_pool": 16,
    "batch_size": 256,
    "eval_batch": 256,
    "lr_points": 5,
    "lr_span": 9.0,
    "seeds": 4,
    "chunk_size": 20,
}


def recall_fixed(config: Any) -> dict[str, Any]:
    """The fields of an experiment's config dataclass that are recall config names.

    Experiments name their settings as :data:`RECALL_DEFAULTS` does (``vocab_size``,
    ``lr_muon``, ...), so their fixed values are read off the dataclass.
    """
    fields = dataclasses.asdict(config)
    return {k: v for k, v in fields.items() if k in RECALL_DEFAULTS}


def width_sweep(
    *,
    optimizers: Sequence[str],
    dims: Sequence[int],
    lr_points: int,
    lr_span: float,
    **fixed: Any,
) -> Sweep:
    """``optimizer x d x lr`` (Figure 7's grid, and the Part C checks' measurement).

    Args:
        optimizers: among :data:`muonjax.transformer.OPTIMIZERS`.
        dims: widths.
        lr_points, lr_span: the learning-rate grid (:func:`lr_grid`).
        **fixed: other :data:`RECALL_DEFAULTS` values.

    Returns:
        The :func:`recall_sweep`; one compilation per (optimizer, d), the grid and the
        seeds vmapped.
    """
    return recall_sweep(
        axes={
            "optimizer": tuple(optimizers),
            "dim": tuple(dims),
            "lr_scale": lr_grid(lr_points, lr_span),
        },
        fixed=fixed,
    )
