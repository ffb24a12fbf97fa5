"""Training runs from ``W_0 = 0``: one ``lax.scan`` inside one ``jax.jit``.

:func:`run` is written for one task and one learning rate; batch it with
``jax.vmap`` over learning rates (the rate is traced, so one compile serves the
whole grid) and over seeds (build the task from a key inside the vmapped function).
A new ``steps``, rule, path or task shape compiles again.

Also here: :func:`cell_path` and :func:`path_for` (the cheapest exact path of a
rule) and :func:`compare_rules` (several rules on one task).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float

from muonjax import _validate
from muonjax.orthogonal.block import block_frobenius_norm, zeros_block
from muonjax.orthogonal.loss import State, block_state, full_state, task_state
from muonjax.orthogonal.task import HierarchicalTask
from muonjax.orthogonal.updates import check_rule, optimizer

_STATE_FNS: dict[str, Callable[[Any, HierarchicalTask], State]] = {
    "full": full_state,
    "task": task_state,
    "block": block_state,
}


class Dynamics(NamedTuple):
    """Measures of ``W_0, ..., W_T`` (``T + 1`` entries each).

    Attributes:
        loss: ``(T+1,)`` population loss.
        group_loss: ``(T+1, M)`` mean per-query loss of each frequency group.
        group_accuracy: ``(T+1, M)`` fraction of each group's queries answered
            correctly (strict argmax).
        update_norm: ``(T+1,)`` Frobenius norm of the step taken from ``W_t`` (in the
            path's coordinates, which for the task and block paths is that of the
            step in ``W``); 0 at the last entry.
        params: the iterates ``W_0..W_T`` in the path's coordinates (stacked), or
            ``None`` unless asked for.
        observed: ``observe(W_t, task)`` for ``t = 0..T`` (stacked), or ``None``
            unless asked for.
    """

    loss: Float[Array, " T1"]
    group_loss: Float[Array, "T1 M"]
    group_accuracy: Float[Array, "T1 M"]
    update_norm: Float[Array, " T1"]
    params: Any = None
    observed: Any = None


def init_params(task: HierarchicalTask, path: str):
    """``W_0 = 0`` in the coordinates of ``path``."""
    if path == "full":
        return jnp.zeros((task.dim, task.dim), task.dtype)
    if path == "task":
        return jnp.zeros((task.num_queries, task.num_queries), task.dtype)
    return zeros_block(task.num_groups, task.dtype)


def _norm(tree, task: HierarchicalTask, path: str) -> jax.Array:
    if path == "block":
        return block_frobenius_norm(tree, task.group_size)
    return jnp.linalg.norm(tree)


@functools.partial(
    jax.jit, static_argnames=("rule", "steps", "path", "keep_params", "observe")
)
def _run(task, learning_rate, rule, steps, path, keep_params, observe, opts):
    state_fn = _STATE_FNS[path]
    tx = optimizer(rule, learning_rate, task, path=path, **opts)
    params = init_params(task, path)

    def step(carry, _):
        params, opt_state = carry
        st = state_fn(params, task)
        # optax's Adam mixes its int32 step count with float moments (bias
        # correction); it is written for JAX's standard promotion, so its update
        # runs under the standard rules even when a caller asks for strict ones.
        with jax.numpy_dtype_promotion("standard"):
            updates, opt_state = tx.update(st.grad, opt_state, params)
        out: tuple[Any, ...] = (
            st.loss,
            st.group_loss,
            st.group_accuracy,
            _norm(updates, task, path),
        )
        if keep_params:
            out = (*out, params)
        if observe is not None:
            out = (*out, observe(params, task))
        return (optax.apply_updates(params, updates), opt_state), out

    (params, _), hist = jax.lax.scan(step, (params, tx.init(params)), None, steps)
    last = state_fn(params, task)
    tail: tuple[Any, ...] = (
        last.loss,
        last.group_loss,
        last.group_accuracy,
        jnp.zeros_like(last.loss),
    )
    if keep_params:
        tail = (*tail, params)
    if observe is not None:
        tail = (*tail, observe(params, task))

    def cat(h, e):
        return jnp.concatenate([h, e[None]])

    merged = [jax.tree.map(cat, h, e) for h, e in zip(hist, tail, strict=True)]
    loss, group_loss, group_accuracy, update_norm = merged[:4]
    return Dynamics(
        loss,
        group_loss,
        group_accuracy,
        update_norm,
        params=merged[4] if keep_params else None,
        observed=merged[-1] if observe is not None else None,
    )


def run(
    task: HierarchicalTask,
    rule: str,
    learning_rate: ArrayLike,
    *,
    steps: int,
    path: str = "task",
    keep_params: bool = False,
    observe: Callable[[Any, HierarchicalTask], Any] | None = None,
    rtol: ArrayLike | None = None,
    adam_b1: float = 0.9,
    adam_b2: float = 0.999,
    adam_eps: float = 1e-8,
) -> Dynamics:
    """Train from ``W_0 = 0`` with a constant learning rate and record the dynamics.

    Args:
        task: the task.
        rule: ``"gd"``, ``"muon"``, ``"signgd"``, ``"tra_signgd"`` or ``"adam"``
            (SPEC B.2).
        learning_rate: ``eta > 0``; may be traced (vmap over a grid of rates).
        steps: number of updates ``T >= 0``.
        path: ``"task"`` (``K x K`` task coordinates, exact for orthonormal
            embeddings), ``"block"`` (block-symmetric task coordinates, ``O(M^2)``
            memory, any ``K``) or ``"full"`` (the ``d x d`` memory; needed for SignGD
            and Adam with random embeddings). See :mod:`muonjax.orthogonal`.
        keep_params: also return every iterate (memory ``T + 1`` parameter copies).
        observe: ``observe(params, task) -> array``, evaluated at every iterate
            inside the scan (``Dynamics.observed``): a measure of the iterates
            without keeping them. A module-level function (it is a static argument
            of the jitted run: a new function compiles again).
        rtol: relative zero tolerance of Muon's polar factor (SPEC E).
        adam_b1, adam_b2, adam_eps: Adam's hyperparameters.

    Returns:
        :class:`Dynamics`.

    Example:
        >>> task = power_law_task(4, 8, 1.5)
        >>> dyn = run(task, "muon", 0.5, steps=20)
        >>> dyn.group_loss.shape
        (21, 4)

    References:
        SPEC B.2 [summary]; SPEC B.4 (per-group loss and accuracy curves) [seed].
    """
    steps = _validate.nonnegative_int("steps", steps)
    if not isinstance(task, HierarchicalTask):
        raise ValueError(f"task must be a HierarchicalTask, got {type(task).__name__}")
    check_rule(rule, path, task)
    _validate.real("learning_rate", learning_rate, lower=0.0, lower_open=True)
    opts = {"rtol": rtol, "adam_b1": adam_b1, "adam_b2": adam_b2, "adam_eps": adam_eps}
    lr = jnp.asarray(learning_rate, task.dtype)
    return _run(task, lr, rule, steps, path, bool(keep_params), observe, opts)


def cell_path(rule: str, embedding: str) -> str:
    """The exact and cheapest path of ``rule``: ``"block"`` unless the rule is
    entrywise (SignGD, Adam) in a random basis (``"full"``).

    GD, Muon and TRA-SignGD keep the iterates block symmetric in task coordinates
    from ``W_0 = 0`` in any orthonormal basis (Prop. 6.1), so the block path is
    exact for them; SignGD and Adam are, only for one-hot embeddings.
    """
    if rule in ("signgd", "adam") and embedding == "random":
        return "full"
    return "block"


def path_for(rule: str, task: HierarchicalTask) -> str:
    """The cheapest exact path of ``rule`` on ``task`` (:func:`cell_path`)."""
    return cell_path(rule, "identity" if task.is_identity else "random")


def compare_rules(
    task_fn: Callable[[], HierarchicalTask],
    learning_rates: Mapping[str, float],
    *,
    steps: int,
) -> dict[str, Dynamics]:
    """Run several rules on one task and return their dynamics as numpy arrays.

    Runs inside ``jax.enable_x64(True)`` (scoped to the call).

    Args:
        task_fn: builds the task (called inside float64 mode, so pass
            ``dtype=jnp.float64`` to the constructor).
        learning_rates: rule name -> ``eta``, e.g. ``{"gd": 30., "muon": 0.1}``.
        steps: ``T``.

    Returns:
        rule name -> :class:`Dynamics` (numpy), each on :func:`path_for`'s path.

    References:
        SPEC B.4 [seed: per-group curves of GD, Muon, SignGD, TRA-SignGD, Adam].
    """
    with jax.enable_x64(True):
        task = task_fn()
        return {
            rule: jax.tree.map(
                np.asarray, run(task, rule, lr, steps=steps, path=path_for(rule, task))
            )
            for rule, lr in learning_rates.items()
        }
