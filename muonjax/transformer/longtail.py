"""Training a LLaMA-style decoder on long-tailed facts, checkpointed and resumable.

One *group* is one optimizer with a grid of learning rates, each trained for seeds
``0 .. K-1``: ``len(lrs) * K`` models run as one ``jax.vmap`` inside one ``jax.jit``
(a ``lax.scan`` over steps, evaluation every ``eval_every`` steps inside the scan).
Seed ``k`` fixes everything random about a run (its corpus of facts, the model's
initialisation, the token stream, the held-out batch) and nothing else, so every
optimizer and learning rate of seed ``k`` is trained on the same tokens (common
random numbers, SPEC C.2 "the same tokens").

Keys: seed ``k``'s key is split once into ``(corpus, init, data, eval)``; step ``t``
reads the batch of ``fold_in(data, t)``.

Checkpoints: with a ``checkpoint`` path the group runs in chunks of
``checkpoint_every`` steps and, after each chunk, saves its whole state (parameters,
optimizer states, steps, keys, and the evaluations so far) atomically
(:func:`muonjax.transformer.save_checkpoint`). A run killed at any point and started
again with the same arguments loads the last checkpoint and computes exactly the
numbers an uninterrupted run computes (the same compiled chunks on the same inputs;
tested by killing a run with SIGKILL).

Metrics per evaluation (SPEC C.2): first-token accuracy of the attribute on the
held-out probes, per log-spaced frequency bucket of subjects and overall; facts
learned (probes whose answer has a positive margin over every other token: a tie is
not a recovery, SPEC E); the probes' cross-entropy; the next-token loss on a fixed
held-out batch of fresh text; the mean training loss since the last evaluation.

References:
    SPEC C.2 [derived], C.3 (optimizer conventions); Li, Wang, Zhong, Lu, Wang
    (2026), arXiv 2602.05725 [seed: "LLaMA-style pre-training", "tail accuracy"].
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from muonjax.engine.sweep import config_hash
from muonjax.transformer.checkpoint import load_checkpoint, save_checkpoint
from muonjax.transformer.facts import (
    FactsSpec,
    frequency_buckets,
    make_corpus,
    probe_prompts,
    sample_facts_batch,
)
from muonjax.transformer.llama import LlamaConfig, init_llama, llama_forward, llama_loss
from muonjax.transformer.optim import OPTIMIZERS, make_optimizer
from muonjax.transformer.train import init_state, make_train_step, train

__all__ = [
    "DECAYS",
    "LONGTAIL_METRICS",
    "GroupResult",
    "LongtailSetup",
    "choose_lr",
    "evaluate_facts",
    "group_records",
    "lr_multiplier",
    "train_group",
    "train_one",
]

#: Shapes of the learning-rate decay after warmup.
DECAYS = ("constant", "cosine", "linear")
#: Scalar metrics of each evaluation, in record order (then ``acc_b0 ..``).
LONGTAIL_METRICS = ("loss", "train_loss", "probe_loss", "accuracy", "facts_learned")


@dataclasses.dataclass(frozen=True)
class LongtailSetup:
    """Everything about a run except the optimizer, its learning rate and the seed.

    Attributes:
        facts: the corpus sizes (:class:`FactsSpec`).
        model: the decoder (its ``vocab_size`` must be ``facts.vocab_size``).
        steps: training steps (a multiple of ``eval_every``).
        batch_size: sequences per step.
        eval_every: steps between evaluations.
        buckets: log-spaced frequency buckets of subjects.
        eval_batch: sequences in the held-out batch of the ``loss`` metric.
        warmup: steps of linear warmup from 0 (0: none).
        decay: after warmup, ``"constant"``, ``"cosine"`` or ``"linear"`` down to
            ``final_lr_fraction`` of the peak at ``steps``.
        final_lr_fraction: the last step's share of the peak step size, in [0, 1].
        weight_decay: decoupled weight decay ``lambda`` of every leaf.
        ns_steps, ns_coeffs, muon_momentum, nesterov, update_scale: Muon's settings
            (SPEC C.3; see ``muonjax.transformer.optim.muon``).
        adam_b1, adam_b2: AdamW's moment decays (also on Muon's AdamW leaves).
    """

    facts: FactsSpec
    model: LlamaConfig
    steps: int = 1000
    batch_size: int = 32
    eval_every: int = 50
    buckets: int = 5
    eval_batch: int = 64
    warmup: int = 50
    decay: str = "cosine"
    final_lr_fraction: float = 0.1
    weight_decay: float = 0.0
    ns_steps: int = 5
    ns_coeffs: str = "jordan"
    muon_momentum: float = 0.95
    nesterov: bool = True
    update_scale: str = "spectral"
    adam_b1: float = 0.9
    adam_b2: float = 0.95

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "eval_every", "buckets", "eval_batch"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {name}={v!r}")
        if self.steps % self.eval_every:
            raise ValueError(
                f"steps must be a multiple of eval_every, got steps={self.steps}, "
                f"eval_every={self.eval_every}"
            )
        if self.model.vocab_size != self.facts.vocab_size:
            raise ValueError(
                f"model.vocab_size must equal facts.vocab_size = "
                f"{self.facts.vocab_size}, got {self.model.vocab_size}"
            )
        if not 0 <= self.warmup <= self.steps:
            raise ValueError(f"warmup must lie in [0, steps], got {self.warmup=}")
        if self.decay not in DECAYS:
            raise ValueError(f"decay must be one of {DECAYS}, got {self.decay=!r}")
        if not 0 <= self.final_lr_fraction <= 1:
            raise ValueError(
                f"final_lr_fraction must lie in [0, 1], got {self.final_lr_fraction=}"
            )
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay=}")
        frequency_buckets(self.facts.subjects, self.buckets)  # raises if too many

    @property
    def evaluations(self) -> int:
        """Evaluations per run, step 0 included: ``steps / eval_every + 1``."""
        return self.steps // self.eval_every + 1

    def muon_options(self) -> dict[str, Any]:
        """Muon's settings as ``make_optimizer(muon_options=...)`` takes them."""
        return {
            "ns_steps": self.ns_steps,
            "ns_coeffs": self.ns_coeffs,
            "momentum": self.muon_momentum,
            "nesterov": self.nesterov,
            "scale": self.update_scale,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (for manifests and checkpoint identity)."""
        out = dataclasses.asdict(self)
        out["model"]["precision"] = str(self.model.precision)
        return out


def lr_multiplier(setup: LongtailSetup) -> optax.Schedule:
    """The step-size multiplier: linear warmup from 0, then ``setup.decay``.

    An optax schedule of the update count (0-based), built from optax's own
    schedules; it multiplies every step size (Muon's and AdamW's alike).
    """
    rest = setup.steps - setup.warmup
    end = setup.final_lr_fraction
    if setup.decay == "constant" or rest == 0:
        after = optax.constant_schedule(1.0)
    elif setup.decay == "cosine":
        after = optax.cosine_decay_schedule(1.0, rest, alpha=end)
    else:
        after = optax.linear_schedule(1.0, end, rest)
    if setup.warmup == 0:
        return after
    return optax.join_schedules(
        [optax.linear_schedule(0.0, 1.0, setup.warmup), after], [setup.warmup]
    )


def evaluate_facts(
    params: Any,
    config: LlamaConfig,
    probes: Any,
    bucket: jax.Array,
    buckets: int,
    heldout: jax.Array,
) -> dict[str, jax.Array]:
    """The metrics of one model at one step (jit-able; see the module docstring).

    Args:
        params: the decoder's parameters.
        config: its sizes.
        probes: :class:`muonjax.transformer.Probes` (``P = S R`` prompts).
        bucket: ``(S,)`` frequency bucket of each subject.
        buckets: number of buckets.
        heldout: ``(B, seq_len)`` held-out tokens.

    Returns:
        ``loss``, ``probe_loss``, ``accuracy``, ``facts_learned`` (scalars) and
        ``bucket_accuracy`` ``(buckets,)``.
    """
    logits = jax.vmap(lambda t: llama_forward(params, t, config)[-1])(probes.tokens)
    answer = probes.answer
    correct_logit = jnp.take_along_axis(logits, answer[:, None], axis=1)[:, 0]
    others = jnp.where(
        jax.nn.one_hot(answer, logits.shape[1], dtype=bool), -jnp.inf, logits
    )
    learned = correct_logit > jnp.max(others, axis=1)  # margin > 0: a tie is no recall
    logp = jax.nn.log_softmax(logits, axis=1)
    probe_loss = -jnp.mean(jnp.take_along_axis(logp, answer[:, None], axis=1))
    member = jax.nn.one_hot(bucket[probes.subject], buckets, dtype=logits.dtype)
    per_bucket = (learned.astype(logits.dtype) @ member) / jnp.sum(member, axis=0)
    return {
        "loss": llama_loss(params, heldout, config),
        "probe_loss": probe_loss,
        "accuracy": jnp.mean(learned.astype(logits.dtype)),
        "facts_learned": jnp.sum(learned).astype(jnp.int32),
        "bucket_accuracy": per_bucket,
    }


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


class _World(NamedTuple):
    """What seed ``k`` fixes besides the initialisation: the facts, the probes, the
    held-out batch and the token stream's key."""

    corpus: Any
    probes: Any
    heldout: jax.Array
    init_key: jax.Array
    data_key: jax.Array


def _world(setup: LongtailSetup, key: jax.Array, dtype: Any) -> _World:
    k_corpus, k_init, k_data, k_eval = jax.random.split(key, 4)
    corpus = make_corpus(setup.facts, key=k_corpus, dtype=dtype)
    heldout = sample_facts_batch(
        setup.facts, corpus, key=k_eval, batch_size=setup.eval_batch
    )
    return _World(corpus, probe_prompts(setup.facts, corpus), heldout, k_init, k_data)


def _programs(
    setup: LongtailSetup, optimizer: str, adamw_lr: float | None, dtype: Any
) -> tuple[Callable, Callable]:
    """``init(lr, world) -> TrainState`` and ``chunk(state, lr, world, *, steps)
    -> (state, History)`` for one model; the caller vmaps and jits them.

    ``chunk`` is :func:`muonjax.transformer.train` (a ``lax.scan`` over steps,
    evaluation every ``eval_every`` steps) from ``state``; its history starts with
    an evaluation of ``state`` itself.
    """
    spec, cfg = setup.facts, setup.model
    bucket = jnp.asarray(frequency_buckets(spec.subjects, setup.buckets)[0])
    schedule = lr_multiplier(setup)

    def tx_of(params, lr):
        return make_optimizer(
            optimizer,
            params,
            learning_rate=lr,
            adamw_learning_rate=adamw_lr,
            weight_decay=setup.weight_decay,
            schedule=schedule,
            muon_options=setup.muon_options(),
            adamw_options={"b1": setup.adam_b1, "b2": setup.adam_b2},
        )

    def loss_fn(params, tokens):
        return llama_loss(params, tokens, cfg)

    def init(lr, world):
        params = init_llama(cfg, key=world.init_key, dtype=dtype)
        return init_state(params, tx_of(params, lr))

    def chunk(state, lr, world, *, steps):
        return train(
            state,
            step_fn=make_train_step(loss_fn, tx_of(state.params, lr)),
            loss_fn=loss_fn,
            batch_fn=lambda k: sample_facts_batch(
                spec, world.corpus, key=k, batch_size=setup.batch_size
            ),
            eval_fn=lambda params: evaluate_facts(
                params, cfg, world.probes, bucket, setup.buckets, world.heldout
            ),
            data_key=world.data_key,
            steps=steps,
            eval_every=setup.eval_every,
        )

    return init, chunk


@functools.lru_cache(maxsize=32)
def _jitted(
    setup: LongtailSetup, optimizer: str, adamw_lr: float | None, dtype_name: str
) -> tuple[Callable, Callable, Callable[[int], Callable]]:
    """The vmapped, jitted world, init and chunk programs of one group's settings.

    Cached, so that groups, checks and tests with the same settings share compiled
    programs (JAX caches compilations per function object and input shapes).
    """
    dtype = jnp.dtype(dtype_name)
    init, chunk = _programs(setup, optimizer, adamw_lr, dtype)
    world = jax.jit(jax.vmap(functools.partial(_world, setup, dtype=dtype)))

    @functools.cache
    def chunk_of(steps: int) -> Callable:
        return _standard_promotion(
            jax.jit(jax.vmap(functools.partial(chunk, steps=steps)))
        )

    return world, _standard_promotion(jax.jit(jax.vmap(init))), chunk_of


def _standard_promotion(fn: Callable) -> Callable:
    """``fn`` traced under standard dtype promotion: optax's Adam mixes a Python
    float with its int32 step count, which strict promotion refuses."""

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        with jax.numpy_dtype_promotion("standard"):
            return fn(*args)

    return call


def train_one(
    setup: LongtailSetup,
    optimizer: str,
    lr: Any,
    key: jax.Array,
    *,
    adamw_lr: float | None = None,
    dtype: Any = jnp.float32,
) -> tuple[Any, Any]:
    """One whole run for one seed, without checkpoints: jit- and vmap-able.

    The same programs as :func:`train_group` (seed ``key`` fixes the corpus, the
    initialisation and the tokens), in one ``lax.scan`` of ``setup.steps`` steps;
    for benchmarks and single runs. Wrap in ``jax.jit`` (and ``jax.vmap`` over keys
    or learning rates) and call it under ``jax.numpy_dtype_promotion("standard")``
    where strict promotion is on (optax's Adam is not strict).

    Args:
        setup: the settings.
        optimizer: as in :func:`train_group`.
        lr: the learning rate (may be traced).
        key: the seed's key (:func:`train_group` uses ``fold_in(key, seed)``).
        adamw_lr: AdamW's step on Muon's AdamW leaves.
        dtype: floating dtype.

    Returns:
        ``(state, history)``: the final ``TrainState`` and the
        ``muonjax.transformer.History`` (``setup.evaluations`` evaluations).
    """
    init, chunk = _programs(setup, optimizer, adamw_lr, jnp.dtype(dtype))
    world = _world(setup, key, jnp.dtype(dtype))
    lr = jnp.asarray(lr, dtype)
    return chunk(init(lr, world), lr, world, steps=setup.steps)


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
