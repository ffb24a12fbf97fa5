"""Training a group of runs on long-tailed facts, checkpointed and resumable.

One *group* is one optimizer with a grid of learning rates, each trained for seeds
``0 .. K-1``: ``len(lrs) * K`` runs of :mod:`muonjax.transformer.longtail` as one
``jax.vmap`` inside one ``jax.jit`` (a ``lax.scan`` over steps through
:func:`muonjax.transformer.train`, evaluation every ``eval_every`` steps inside the
scan). Seed ``k`` fixes everything random about a run (its corpus of facts, the
model's initialisation, the token stream, the held-out batch) and nothing else, so
every optimizer and learning rate of seed ``k`` is trained on the same tokens
(common random numbers, SPEC C.2 "the same tokens").

Checkpoints: with a ``checkpoint`` path the group runs in chunks of
``checkpoint_every`` steps and, after each chunk, saves its whole state (parameters,
optimizer states, steps, the data keys, and the evaluations so far) atomically
(:func:`muonjax.transformer.save_checkpoint`). A run killed at any point and started
again with the same arguments loads the last checkpoint and computes exactly the
numbers an uninterrupted run computes (the same compiled chunks on the same inputs;
tested by killing a run with SIGKILL).

References:
    SPEC C.2 [derived], C.3; SPEC E (resumable runs).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from muonjax.engine.sweep import config_hash
from muonjax.transformer.checkpoint import load_checkpoint, save_checkpoint
from muonjax.transformer.longtail import LONGTAIL_METRICS, LongtailSetup, _jitted
from muonjax.transformer.optim import OPTIMIZERS

__all__ = ["GroupResult", "group_records", "train_group"]


class GroupResult(NamedTuple):
    """What :func:`train_group` returns.

    Attributes:
        steps: ``(E,)`` the evaluated steps (0, ``eval_every``, ..., ``steps``).
        metrics: ``name -> (len(lrs), K, E)`` for the scalar metrics and
            ``bucket_accuracy`` ``(len(lrs), K, E, buckets)``.
        resumed_from: the step the run resumed from (0 for a fresh run).
        params: the final parameters, every leaf ``(len(lrs) * K, ...)`` (learning
            rate major, seed minor).
    """

    steps: np.ndarray
    metrics: dict[str, np.ndarray]
    resumed_from: int
    params: Any


def _to_host(tree: Any) -> Any:
    """Arrays as numpy (typed keys stay keys): every chunk then starts from inputs of
    the same kind, whether they come from the previous chunk or a checkpoint."""

    def host(x):
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            return x
        return np.asarray(x)

    return jax.tree.map(host, tree)


def train_group(
    setup: LongtailSetup,
    optimizer: str,
    lrs: Sequence[float],
    seeds: int,
    *,
    key: jax.Array,
    adamw_lr: float | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 0,
    on_checkpoint: Callable[[int], None] | None = None,
    dtype: Any = jnp.float32,
) -> GroupResult:
    """Train ``optimizer`` at every learning rate of ``lrs`` for seeds ``0..seeds-1``.

    Args:
        setup: the corpus, model, schedule and evaluation settings.
        optimizer: ``"adamw"``, ``"muon"`` (Newton-Schulz) or ``"muon_exact"``
            (``"sgd"`` also works).
        lrs: learning rates (Muon's ``eta`` for the Muon variants), > 0.
        seeds: number of seeds, >= 1.
        key: the root key; seed ``k`` uses ``fold_in(key, k)`` whatever the
            optimizer and learning rate.
        adamw_lr: AdamW's step on the embedding, head and gains under Muon (default:
            Muon's learning rate); ignored by ``"adamw"``.
        checkpoint: file of the group's checkpoint; resumed from if it exists (its
            metadata must match this call), removed when the group finishes.
        checkpoint_every: steps between checkpoints (a multiple of
            ``setup.eval_every``); 0 with a ``checkpoint`` path means every
            evaluation.
        on_checkpoint: called with the step after each checkpoint is written.
        dtype: floating dtype of the parameters and the corpus's probabilities.

    Returns:
        A :class:`GroupResult`.

    Raises:
        ValueError: a bad argument, or a checkpoint from a different run.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer=!r}")
    lr_arr = np.asarray(lrs, np.float64).ravel()
    if lr_arr.size == 0 or not np.all(np.isfinite(lr_arr) & (lr_arr > 0)):
        raise ValueError(f"lrs must be finite and > 0, got lrs={list(lrs)!r}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be an integer >= 1, got {seeds=!r}")
    if adamw_lr is not None and not (math.isfinite(adamw_lr) and adamw_lr > 0):
        raise ValueError(f"adamw_lr must be finite and > 0, got {adamw_lr=!r}")
    every = checkpoint_every or setup.eval_every
    if every % setup.eval_every or every < 0:
        raise ValueError(
            f"checkpoint_every must be a multiple of eval_every = {setup.eval_every}, "
            f"got {checkpoint_every=}"
        )
    chunk_steps = every if checkpoint is not None else setup.steps

    world_fn, init_fn, chunk_of = _jitted(
        setup, optimizer, adamw_lr, jnp.dtype(dtype).name
    )
    n_lr, total = lr_arr.size, setup.evaluations
    lr_b = jnp.asarray(np.repeat(lr_arr, seeds), dtype)
    seed_b = jnp.asarray(np.tile(np.arange(seeds), n_lr), jnp.uint32)
    keys = jax.vmap(jax.random.fold_in, in_axes=(None, 0))(key, seed_b)

    world = _to_host(world_fn(keys))
    state = _to_host(init_fn(lr_b, world))
    shapes = jax.eval_shape(chunk_of(chunk_steps), state, lr_b, world)[1].metrics
    history = {
        name: np.zeros((n_lr * seeds, total, *v.shape[2:]), v.dtype)
        for name, v in shapes.items()
    }
    done = 0  # evaluations recorded; the state is at step (done - 1) eval_every
    identity = {
        "setup": setup.to_dict(),
        "optimizer": optimizer,
        "lrs": lr_arr.tolist(),
        "seeds": seeds,
        "adamw_lr": adamw_lr,
        "key": np.asarray(jax.random.key_data(key)).tolist(),
        "checkpoint_every": every,
        "dtype": str(jnp.dtype(dtype)),
    }
    ident = config_hash({"run": json.dumps(identity, sort_keys=True)})
    path = None if checkpoint is None else Path(checkpoint)
    if path is not None and path.exists():
        (state, history, done_arr, data_keys), meta = load_checkpoint(
            path, (state, history, np.int64(0), world.data_key)
        )
        same_keys = np.array_equal(
            jax.random.key_data(data_keys), jax.random.key_data(world.data_key)
        )
        if meta.get("identity") != ident or not same_keys:
            raise ValueError(
                f"checkpoint {path} belongs to a different run (identity "
                f"{meta.get('identity')}, expected {ident}); remove it to start over"
            )
        done = int(done_arr)
    resumed_from = max(done - 1, 0) * setup.eval_every

    while done < total:
        at = max(done - 1, 0) * setup.eval_every
        # One compile per chunk length: every chunk but perhaps the last has one.
        n_steps = min(chunk_steps, setup.steps - at)
        state, hist = _to_host(chunk_of(n_steps)(state, lr_b, world))
        skip = 1 if done else 0  # a later chunk re-evaluates its starting state
        n = n_steps // setup.eval_every + 1 - skip
        for name, v in hist.metrics.items():
            history[name][:, done : done + n] = v[:, skip:]
        done += n
        if path is not None and done < total:
            step = (done - 1) * setup.eval_every
            save_checkpoint(
                path,
                (state, history, np.int64(done), world.data_key),
                meta={"identity": ident, "step": step, "optimizer": optimizer},
            )
            if on_checkpoint is not None:
                on_checkpoint(step)
    if path is not None:
        path.unlink(missing_ok=True)
    steps = np.arange(total, dtype=np.int64) * setup.eval_every
    metrics_out = {
        name: v.reshape(n_lr, seeds, *v.shape[1:]) for name, v in history.items()
    }
    return GroupResult(steps, metrics_out, resumed_from, state.params)


def group_records(result: GroupResult) -> Mapping[str, np.ndarray]:
    """Flat metric columns of a group: ``LONGTAIL_METRICS`` then ``acc_b0 ..``, each
    ``(len(lrs), K, E)``."""
    out = {name: result.metrics[name] for name in LONGTAIL_METRICS}
    acc = result.metrics["bucket_accuracy"]
    for b in range(acc.shape[-1]):
        out[f"acc_b{b}"] = acc[..., b]
    return out
