"""The long-tailed facts experiment as records: a config, a resumable driver, a table.

:class:`LongtailConfig` holds every setting of the experiment flat (so ``--set
key=value`` reaches each one); :func:`record_longtail` trains every ``(beta,
optimizer, learning rate)`` for seeds ``0 .. K-1`` and writes the records layer's
files (``records.csv`` / ``.parquet``, ``manifest.json``, ``cells/``) like
:func:`muonjax.record_sweep`, plus checkpoints while a group runs.

Order and protocol: for each ``beta``, AdamW's grid runs first; its learning rate is
chosen (:func:`muonjax.transformer.choose_lr`: lowest mean held-out loss at the last
step); then each Muon variant's grid runs with AdamW's chosen step on its AdamW
leaves (embedding, head, gains), unless ``muon_adamw_lr`` fixes that step. So Muon
and AdamW differ only on the hidden matrices [derived: the seed gives no protocol].

Resume: a group whose cells are all in ``cells/`` is loaded; a group that was
interrupted restarts from its last checkpoint (``checkpoints/``), which reproduces
an uninterrupted run exactly.

References:
    SPEC C.2, C.3 (record the optimizer conventions); SPEC E (resumable records).
"""

# Size: over 500 lines because the experiment's config, its cell plan and its recorder
# read one config object; a split is the next step.

from __future__ import annotations

import dataclasses
import math
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, cast

import jax
import numpy as np

from muonjax._io import atomic_write_text, json_dumps
from muonjax.engine.identity import (
    cell_id,
    cell_identity,
    current_context,
    digest,
    key_fingerprint,
)
from muonjax.engine.lock import run_lock
from muonjax.engine.records import (
    MANIFEST,
    SCHEMA_VERSION,
    DirectoryStore,
    _now,
    environment,
    new_session,
    previous_manifest,
    record_interrupted,
    refusal_cleanup,
)
from muonjax.engine.sweep import (
    INDEX_COLUMNS,
    Cell,
    CellResult,
    Sweep,
    config_hash,
    select_seeds,
)
from muonjax.engine.table import table_from_results, write_table
from muonjax.transformer.facts import FactsSpec
from muonjax.transformer.llama import LlamaConfig
from muonjax.transformer.longtail import LongtailSetup
from muonjax.transformer.longtail_train import group_records, train_group
from muonjax.transformer.optim import OPTIMIZERS, SCALES, optimizer_record

__all__ = [
    "LONGTAIL_PRESETS",
    "LR_CHOICE_RULE",
    "LongtailConfig",
    "LongtailPlan",
    "RecordedLongtail",
    "choose_lr",
    "record_longtail",
]

#: The learning-rate choice rule, as written into manifests and summaries.
LR_CHOICE_RULE = (
    "per (beta, optimizer): the grid value with the lowest mean over seeds of the "
    "held-out next-token loss at the last step (a diverged run counts as +inf; ties "
    "go to the smaller value); Muon's AdamW leaves use AdamW's chosen value unless "
    "muon_adamw_lr is set"
)


@dataclasses.dataclass(frozen=True)
class LongtailConfig:
    """Every setting of the long-tailed facts experiment (SPEC C.2).

    The defaults are the ``quick`` preset (:data:`LONGTAIL_PRESETS`).

    Attributes:
        betas: power-law exponents of the subject frequencies (one corpus each).
        subjects, relations, values, attribute_tokens, filler_tokens,
            filler_fraction, slots: the corpus (:class:`FactsSpec`).
        dim, layers, heads, hidden: the decoder (:class:`LlamaConfig`).
        steps, batch_size, eval_every, buckets, eval_batch: training and evaluation.
        warmup, decay, final_lr_fraction, weight_decay: the step-size schedule and
            decoupled weight decay (every optimizer alike).
        optimizers: among ``"adamw"``, ``"muon"`` (Newton-Schulz), ``"muon_exact"``.
        adamw_lrs, muon_lrs: the learning-rate grids (``muon_exact`` uses
            ``muon_lrs``).
        muon_adamw_lr: step of Muon's AdamW leaves; ``None``: AdamW's chosen one.
        ns_steps, ns_coeffs, muon_momentum, nesterov, update_scale: Muon (SPEC C.3).
        seeds: seeds per configuration (corpus, initialisation and token stream).
        root_seed: the run's key is ``jax.random.key(root_seed)``.
        checkpoint_every: steps between checkpoints of a running group (a multiple
            of ``eval_every``; 0: no checkpoints).
    """

    betas: tuple[float, ...] = (1.0,)
    subjects: int = 512
    relations: int = 4
    values: int = 64
    attribute_tokens: int = 1
    filler_tokens: int = 64
    filler_fraction: float = 0.25
    slots: int = 8
    dim: int = 64
    layers: int = 2
    heads: int = 4
    hidden: int = 0
    steps: int = 400
    batch_size: int = 16
    eval_every: int = 40
    buckets: int = 5
    eval_batch: int = 256
    warmup: int = 40
    decay: str = "cosine"
    final_lr_fraction: float = 0.1
    weight_decay: float = 0.0
    optimizers: tuple[str, ...] = ("adamw", "muon")
    adamw_lrs: tuple[float, ...] = (3e-3, 1e-2, 3e-2)
    muon_lrs: tuple[float, ...] = (3e-3, 1e-2, 3e-2)
    muon_adamw_lr: float | None = None
    ns_steps: int = 5
    ns_coeffs: str = "jordan"
    muon_momentum: float = 0.95
    nesterov: bool = True
    update_scale: str = "spectral"
    seeds: int = 3
    root_seed: int = 0
    checkpoint_every: int = 200

    def __post_init__(self) -> None:
        if not self.betas or not all(math.isfinite(b) and b >= 0 for b in self.betas):
            raise ValueError(f"betas must be finite and >= 0, got betas={self.betas}")
        bad = [o for o in self.optimizers if o not in OPTIMIZERS or o == "sgd"]
        if (
            not self.optimizers
            or bad
            or len(set(self.optimizers)) != len(self.optimizers)
        ):
            raise ValueError(
                "optimizers must be distinct names among adamw, muon, muon_exact, "
                f"got optimizers={self.optimizers}"
            )
        for name in ("adamw_lrs", "muon_lrs"):
            lrs = getattr(self, name)
            if not lrs or not all(math.isfinite(v) and v > 0 for v in lrs):
                raise ValueError(f"{name} must be finite and > 0, got {name}={lrs}")
        if self.muon_adamw_lr is None and "adamw" not in self.optimizers:
            raise ValueError(
                "muon_adamw_lr=None takes AdamW's chosen step, so optimizers "
                f"must include 'adamw', got optimizers={self.optimizers}"
            )
        if self.muon_adamw_lr is not None and not (
            math.isfinite(self.muon_adamw_lr) and self.muon_adamw_lr > 0
        ):
            raise ValueError(f"muon_adamw_lr must be > 0, got {self.muon_adamw_lr=}")
        if self.update_scale not in SCALES:
            raise ValueError(
                f"update_scale must be one of {SCALES}, got {self.update_scale=!r}"
            )
        if not 0 <= self.muon_momentum < 1:
            raise ValueError(
                f"muon_momentum must lie in [0, 1), got {self.muon_momentum=}"
            )
        for name in ("seeds", "ns_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.root_seed < 0:
            raise ValueError(f"root_seed must be >= 0, got {self.root_seed=}")
        if self.checkpoint_every < 0 or self.checkpoint_every % self.eval_every:
            raise ValueError(
                f"checkpoint_every must be 0 or a multiple of eval_every = "
                f"{self.eval_every}, got checkpoint_every={self.checkpoint_every}"
            )
        for beta in self.betas:
            self.setup(beta)  # the corpus, model and schedule validate their fields

    def setup(self, beta: float) -> LongtailSetup:
        """The :class:`LongtailSetup` of one ``beta``."""
        facts = FactsSpec(
            subjects=self.subjects,
            relations=self.relations,
            values=self.values,
            beta=float(beta),
            attribute_tokens=self.attribute_tokens,
            filler_tokens=self.filler_tokens,
            filler_fraction=self.filler_fraction,
            slots=self.slots,
        )
        model = LlamaConfig(
            vocab_size=facts.vocab_size,
            dim=self.dim,
            layers=self.layers,
            heads=self.heads,
            hidden=self.hidden,
        )
        return LongtailSetup(
            facts=facts,
            model=model,
            steps=self.steps,
            batch_size=self.batch_size,
            eval_every=self.eval_every,
            buckets=self.buckets,
            eval_batch=self.eval_batch,
            warmup=self.warmup,
            decay=self.decay,
            final_lr_fraction=self.final_lr_fraction,
            weight_decay=self.weight_decay,
            ns_steps=self.ns_steps,
            ns_coeffs=self.ns_coeffs,
            muon_momentum=self.muon_momentum,
            nesterov=self.nesterov,
            update_scale=self.update_scale,
        )

    def lrs(self, optimizer: str) -> tuple[float, ...]:
        """The learning-rate grid of ``optimizer``."""
        return self.adamw_lrs if optimizer == "adamw" else self.muon_lrs


def choose_lr(lrs: Sequence[float], final_loss: Any) -> float:
    """The learning rate with the lowest mean held-out loss at the last step.

    The rule, for every optimizer alike: mean over seeds of the final ``loss`` (the
    next-token loss on held-out text, not the probe accuracy the claims are about);
    a diverged run (NaN or infinite loss) counts as ``+inf``; ties go to the smaller
    learning rate.

    Args:
        lrs: ``(n,)`` learning rates.
        final_loss: ``(n, K)`` final held-out losses per learning rate and seed.

    Returns:
        The chosen learning rate.
    """
    loss = np.asarray(final_loss, np.float64)
    lr_arr = np.asarray(lrs, np.float64)
    if loss.ndim != 2 or loss.shape[0] != lr_arr.size or lr_arr.size == 0:
        raise ValueError(
            f"final_loss must have shape (len(lrs), seeds) = ({lr_arr.size}, K), got "
            f"{loss.shape}"
        )
    mean = np.where(np.all(np.isfinite(loss), axis=1), loss.mean(axis=1), np.inf)
    order = np.lexsort((lr_arr, mean))
    return float(lr_arr[order[0]])


class RecordedLongtail(NamedTuple):
    """What :func:`record_longtail` returns.

    Attributes:
        out_dir: the output directory.
        table: the paths of the table files.
        manifest: the manifest as written.
        computed, loaded: groups trained now / found complete in ``cells/``.
    """

    out_dir: Path
    table: list[Path]
    manifest: dict[str, Any]
    computed: int
    loaded: int


def _fmt_grid(lrs: tuple[float, ...]) -> str:
    return ",".join(repr(float(v)) for v in lrs)


def _cell_config(
    config: LongtailConfig, beta: float, optimizer: str, lr: float, adamw_lr: float
) -> dict[str, Any]:
    """A cell's record columns: what it is, then every setting that shaped it."""
    record = optimizer_record(
        optimizer,
        {
            "ns_steps": config.ns_steps,
            "ns_coeffs": config.ns_coeffs,
            "momentum": config.muon_momentum,
            "nesterov": config.nesterov,
            "scale": config.update_scale,
        },
    )
    fixed = dataclasses.asdict(config)
    for name in ("betas", "optimizers", "adamw_lrs", "muon_lrs", "muon_adamw_lr"):
        fixed.pop(name)
    for name in ("ns_steps", "ns_coeffs", "muon_momentum", "nesterov", "update_scale"):
        fixed.pop(name)
    for name in ("seeds", "root_seed", "checkpoint_every"):
        fixed.pop(name)  # how the run was made, not what a cell is
    return {
        "beta": float(beta),
        **record,
        "lr": float(lr),
        "adamw_lr": float(adamw_lr),
        "lr_grid": _fmt_grid(config.lrs(optimizer)),
        "weight_decay": config.weight_decay,
        **{k: v for k, v in fixed.items() if k != "weight_decay"},
    }


def _cell(
    config: LongtailConfig,
    beta: float,
    optimizer: str,
    lr: float,
    adamw_lr: float | None,
    *,
    position: int,
    root_key: list[Any] | None,
    context: Mapping[str, Any] | None,
) -> Cell:
    """One cell: ``adamw_lr=None`` when Muon's AdamW leaves take AdamW's chosen step.

    The identity of such a cell says ``"chosen"`` where the step goes: the choice is
    a function of the AdamW cells, whose identity holds the same settings, so the id
    is known before AdamW has run (:class:`LongtailPlan`).
    """
    chosen = adamw_lr is None
    cfg = _cell_config(
        config, beta, optimizer, lr, math.nan if adamw_lr is None else adamw_lr
    )
    shown = {**cfg, "adamw_lr": "chosen"} if chosen else cfg
    ident = cell_identity(
        shown, key_axes=None, batched=(), root_key=root_key, context=context
    )
    return Cell(position, cfg, cell_id(ident), 0, ident)


def _muon_adamw_lr(config: LongtailConfig, optimizer: str) -> float | None:
    """Muon's AdamW step if fixed (``None``: AdamW's chosen one; AdamW: its own)."""
    if optimizer == "adamw":
        return None
    return None if config.muon_adamw_lr is None else float(config.muon_adamw_lr)


def _order(config: LongtailConfig) -> list[str]:
    return sorted(config.optimizers, key=lambda o: o != "adamw")  # AdamW first


class LongtailPlan(NamedTuple):
    """The cells :func:`record_longtail` writes for ``config``, built, not run.

    The same identities as the run's (``cells(key=..., context=...)`` with the run's
    root key and context), so the identity walk of the test suite covers this
    experiment like the sweep-based ones.
    """

    config: LongtailConfig

    def describe(self) -> str:
        """One line: what the plan trains."""
        c = self.config
        return (
            f"longtail_facts: betas {list(c.betas)} x optimizers {_order(c)} x their "
            "learning-rate grids; one training program per (beta, optimizer)"
        )

    def cells(
        self,
        *,
        key: jax.Array | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[Cell]:
        """Every cell, in the order the run trains them."""
        config = self.config
        root_key = None if key is None else key_fingerprint(key)
        out: list[Cell] = []
        for beta in config.betas:
            for optimizer in _order(config):
                adamw_lr = _muon_adamw_lr(config, optimizer)
                for lr in config.lrs(optimizer):
                    out.append(
                        _cell(
                            config,
                            beta,
                            optimizer,
                            lr,
                            lr if optimizer == "adamw" else adamw_lr,
                            position=len(out),
                            root_key=root_key,
                            context=context,
                        )
                    )
        return out


def record_longtail(
    config: LongtailConfig,
    out_dir: str | Path,
    *,
    meta: Mapping[str, Any] | None = None,
    progress: bool = False,
    on_checkpoint: Callable[[int], None] | None = None,
) -> RecordedLongtail:
    """Train every ``(beta, optimizer, lr)`` of ``config`` and write the records.

    Args:
        config: the settings.
        out_dir: output directory (created); rerunning into it resumes.
        meta: extra manifest entries (experiment name, preset, resolved config).
        progress: one line per group on stderr.
        on_checkpoint: called with the step after every checkpoint (tests use it).

    Returns:
        A :class:`RecordedLongtail`.
    """
    out = Path(out_dir)
    key = jax.random.key(config.root_seed)
    ambient = current_context()
    context = ambient.as_identity() if ambient is not None else {}
    run_digest = digest({"longtail": dataclasses.asdict(config), "context": context})[
        :16
    ]
    with refusal_cleanup(out), run_lock(out, digest=run_digest):
        started = _now()
        try:
            return _record_longtail(
                config,
                out,
                key=key,
                context=context,
                run_digest=run_digest,
                started=started,
                meta=meta,
                progress=progress,
                on_checkpoint=on_checkpoint,
            )
        except KeyboardInterrupt as err:
            raise record_interrupted(
                err, out, started=started, digest=run_digest
            ) from None


def _record_longtail(
    config: LongtailConfig,
    out: Path,
    *,
    key: jax.Array,
    context: dict[str, Any],
    run_digest: str,
    started: str,
    meta: Mapping[str, Any] | None,
    progress: bool,
    on_checkpoint: Callable[[int], None] | None,
) -> RecordedLongtail:
    store = DirectoryStore(out)
    previous = previous_manifest(out)
    root_key = key_fingerprint(key)
    seeds = np.arange(config.seeds, dtype=np.int64)
    results: list[CellResult] = []
    chosen: dict[str, dict[str, float]] = {}
    computed = loaded = 0
    for beta in config.betas:
        setup = config.setup(beta)
        picks = chosen.setdefault(repr(float(beta)), {})
        for optimizer in _order(config):
            lrs = config.lrs(optimizer)
            fixed = _muon_adamw_lr(config, optimizer)
            cells = [
                _cell(
                    config,
                    beta,
                    optimizer,
                    lr,
                    lr if optimizer == "adamw" else fixed,
                    position=len(results) + i,
                    root_key=root_key,
                    context=context,
                )
                for i, lr in enumerate(lrs)
            ]
            if optimizer == "adamw":
                adamw_lr = None
            elif fixed is not None:
                adamw_lr = fixed
            else:  # the chosen step goes into the records, "chosen" into the ids
                adamw_lr = picks["adamw"]
                cells = [
                    c._replace(config={**c.config, "adamw_lr": adamw_lr}) for c in cells
                ]
            stored = [store.load(c) for c in cells]
            if all(
                s is not None and set(seeds.tolist()) <= set(s.seeds.tolist())
                for s in stored
            ):
                group = [select_seeds(cast(CellResult, s), seeds) for s in stored]
                loaded += 1
            else:
                if progress:
                    print(
                        f"longtail: beta={beta} {optimizer} lrs={list(lrs)}",
                        file=sys.stderr,
                        flush=True,
                    )
                ckpt = None
                if config.checkpoint_every:
                    group_id = config_hash(
                        {"cells": ",".join(c.cell_id for c in cells)}
                    )
                    ckpt = out / "checkpoints" / f"{optimizer}-{group_id[:16]}.npz"
                res = train_group(
                    setup,
                    optimizer,
                    lrs,
                    config.seeds,
                    key=key,
                    adamw_lr=adamw_lr,
                    checkpoint=ckpt,
                    checkpoint_every=config.checkpoint_every,
                    on_checkpoint=on_checkpoint,
                )
                flat = group_records(res)
                group = []
                for i, cell in enumerate(cells):
                    cr = CellResult(
                        cell,
                        seeds,
                        res.steps,
                        {k: np.asarray(v[i]) for k, v in flat.items()},
                    )
                    store.save(cr)
                    group.append(cr)
                computed += 1
            results.extend(group)
            final = np.stack([g.metrics["loss"][:, -1] for g in group])
            picks[optimizer] = choose_lr(lrs, final)

    names = list(results[0].cell.config)
    shim = cast(Sweep, types.SimpleNamespace(config_names=tuple(names)))
    columns, rows = table_from_results(shim, results)
    paths = write_table(out, columns, rows)
    session = new_session(
        started,
        status="complete",
        digest=run_digest,
        computed=computed,
        loaded=loaded,
    )
    sessions = [*(previous or {}).get("sessions", []), session]
    manifest = {
        "schema": SCHEMA_VERSION,
        **dict(meta or {}),
        "digest": run_digest,
        "longtail": {
            "config": dataclasses.asdict(config),
            "setups": {repr(float(b)): config.setup(b).to_dict() for b in config.betas},
            "lr_choice_rule": LR_CHOICE_RULE,
            "chosen_lr": chosen,
            "key_derivation": "seed k: fold_in(key(root_seed), k), split into "
            "(corpus, init, data, eval); step t reads fold_in(data, t); the same for "
            "every optimizer and learning rate",
            "cells": len(results),
        },
        "columns": {
            "config": names,
            "index": list(INDEX_COLUMNS),
            "metrics": columns[len(names) + len(INDEX_COLUMNS) :],
        },
        "rows": len(rows),
        "files": [p.name for p in paths],
        "environment": environment(),
        "started": sessions[0]["started"],
        "finished": sessions[-1]["finished"],
        "command": sessions[-1]["command"],
        "sessions": sessions,
    }
    atomic_write_text(out / MANIFEST, json_dumps(manifest))
    return RecordedLongtail(out, paths, manifest, computed, loaded)


#: Sizes of the experiment ``longtail_facts`` and of its checks, in one place.
#: ``tiny``: the test suite (seconds of training; compilation dominates).
#: ``quick``: a 2-core CPU in a few minutes: beta = 1, S = 512 subjects, R = 4, A =
#: 64 values; d = 64, 2 layers, 4 heads; 400 steps of 16 sequences of 40 tokens;
#: 3-value grids; 3 seeds (a first run measured 173 s under load ~5).
#: ``paper`` (one GPU): beta in {1, 1.5}, S = 4096, R = 8, A = 256; d = 256, 4
#: layers, 8 heads; 10,000 steps of 128 sequences of 80 tokens; AdamW, Muon and exact
#: Muon on 4-value grids; 4 seeds; a checkpoint every 1000 steps.
LONGTAIL_PRESETS: dict[str, LongtailConfig] = {
    "tiny": LongtailConfig(
        subjects=8,
        relations=2,
        values=8,
        filler_tokens=8,
        slots=3,
        dim=32,
        layers=1,
        heads=2,
        steps=300,
        batch_size=8,
        eval_every=20,
        buckets=2,
        eval_batch=4,
        warmup=10,
        adamw_lrs=(1e-2,),
        muon_lrs=(0.03,),
        seeds=2,
        checkpoint_every=100,
    ),
    "quick": LongtailConfig(),  # the defaults
    "paper": LongtailConfig(
        betas=(1.0, 1.5),
        subjects=4096,
        relations=8,
        values=256,
        filler_tokens=256,
        slots=16,
        dim=256,
        layers=4,
        heads=8,
        steps=10000,
        batch_size=128,
        eval_every=250,
        buckets=7,
        eval_batch=512,
        warmup=500,
        optimizers=("adamw", "muon", "muon_exact"),
        adamw_lrs=(1e-3, 3e-3, 1e-2, 3e-2),
        muon_lrs=(1e-3, 3e-3, 1e-2, 3e-2),
        seeds=4,
        checkpoint_every=1000,
    ),
}
