"""A training loop as one program: ``lax.scan`` over steps, evaluation inside it.

:func:`make_train_step` turns a loss and an optax optimizer into a pure step
``step(state, batch) -> (state, loss)`` on a :class:`TrainState` (trained leaves,
optimizer state, step counter); it knows nothing about the task, so other models
reuse it (and can wrap it, e.g. with checkpointing). :func:`train` runs
``steps`` of it inside two nested ``lax.scan``: ``eval_every`` steps, then one
evaluation, ``steps / eval_every`` times. Step ``t``'s batch is
``batch_fn(fold_in(data_key, t))``: fresh every step, and reproducible from the
step's key (a run resumed at step ``t`` sees the same batches).

Written for one seed: wrap in ``jax.jit`` once and ``jax.vmap`` over seeds (and
over a learning-rate grid, whose values enter as traced scalars). The step is
traced once per shape, whatever the number of steps, seeds or learning rates.

References:
    STYLE ("loops in ``lax.scan`` inside ``jit``; write for one seed, batch with
    ``vmap``"); nanoGPT ``train.py`` for the shape of a readable loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from muonjax import _validate


class TrainState(NamedTuple):
    """What a training step carries.

    Attributes:
        params: the trained leaves.
        opt_state: the optimizer's state.
        step: int32 number of steps taken.
    """

    params: Any
    opt_state: Any
    step: jax.Array


class History(NamedTuple):
    """Evaluations along a run.

    Attributes:
        step: ``(S,)`` the step of each evaluation (``0, k, 2k, ..., steps``).
        metrics: ``name -> (S,)``: the evaluation's metrics, plus ``train_loss``
            (the mean training loss over the ``k`` steps before the evaluation; at
            step 0, the loss of step 0's batch before any update).
    """

    step: jax.Array
    metrics: dict[str, jax.Array]


def init_state(params: Any, optimizer: optax.GradientTransformation) -> TrainState:
    """The state before the first step."""
    return TrainState(params, optimizer.init(params), jnp.zeros((), jnp.int32))


def make_train_step(
    loss_fn: Callable[[Any, Any], jax.Array],
    optimizer: optax.GradientTransformation,
) -> Callable[[TrainState, Any], tuple[TrainState, jax.Array]]:
    """``step(state, batch) -> (state, loss)``: one gradient step of ``loss_fn``.

    Args:
        loss_fn: ``loss_fn(params, batch) -> scalar``, differentiated in ``params``.
        optimizer: an ``optax.GradientTransformation``.

    Returns:
        The pure step function (the loss returned is the one before the update).
    """

    def step(state: TrainState, batch: Any) -> tuple[TrainState, jax.Array]:
        loss, grads = jax.value_and_grad(loss_fn)(state.params, batch)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        return TrainState(params, opt_state, state.step + 1), loss

    return step


def validate_schedule(steps: int, eval_every: int) -> int:
    """Check ``steps`` and ``eval_every``; return the number of evaluations after 0."""
    steps = _validate.positive_int("steps", steps)
    eval_every = _validate.positive_int("eval_every", eval_every)
    if steps % eval_every:
        raise ValueError(
            f"steps must be a multiple of eval_every, got {steps=}, {eval_every=}"
        )
    return steps // eval_every


def train(
    state: TrainState,
    *,
    step_fn: Callable[[TrainState, Any], tuple[TrainState, jax.Array]],
    loss_fn: Callable[[Any, Any], jax.Array],
    batch_fn: Callable[[jax.Array], Any],
    eval_fn: Callable[[Any], Mapping[str, jax.Array]],
    data_key: jax.Array,
    steps: int,
    eval_every: int,
) -> tuple[TrainState, History]:
    """Run ``steps`` steps from ``state``, evaluating every ``eval_every`` steps.

    Args:
        state: from :func:`init_state` (or a resumed state: its ``step`` picks the
            batches).
        step_fn: from :func:`make_train_step`.
        loss_fn: the same loss (for the step-0 ``train_loss``).
        batch_fn: ``batch_fn(key) -> batch``.
        eval_fn: ``eval_fn(params) -> {name: scalar}``.
        data_key: step ``t``'s batch is ``batch_fn(fold_in(data_key, t))``.
        steps: number of steps, a multiple of ``eval_every``.
        eval_every: steps between evaluations.

    Returns:
        The final state and the :class:`History` (``steps / eval_every + 1``
        evaluations, the first before any step).
    """
    n_evals = validate_schedule(steps, eval_every)

    def one_step(state, _):
        batch = batch_fn(jax.random.fold_in(data_key, state.step))
        return step_fn(state, batch)

    def chunk(state, _):
        state, losses = jax.lax.scan(one_step, state, None, length=eval_every)
        metrics = dict(eval_fn(state.params))
        metrics["train_loss"] = jnp.mean(losses)
        return state, metrics

    first = dict(eval_fn(state.params))
    first_batch = batch_fn(jax.random.fold_in(data_key, state.step))
    first["train_loss"] = loss_fn(state.params, first_batch)
    state_in = state
    state, later = jax.lax.scan(chunk, state, None, length=n_evals)
    metrics = {
        name: jnp.concatenate([jnp.asarray(first[name])[None], later[name]])
        for name in first
    }
    steps_axis = state_in.step + eval_every * jnp.arange(n_evals + 1, dtype=jnp.int32)
    return state, History(steps_axis, metrics)
