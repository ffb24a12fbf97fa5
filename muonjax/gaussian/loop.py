"""Training loops from ``W_0 = 0``: one step in closed form, T steps in a ``lax.scan``.

Both are pure and jitted; batch over seeds with ``jax.vmap`` (the sweep engine
does). The optimizer is any ``optax.GradientTransformation`` acting on the
``(d_out, d_in)`` memory; learning-rate schedules are optax schedules inside it.
"""

# Size: over 500 lines because the one-step, T-step and early-stopped loops share one
# step (measure, thresholded gradient in its three readings, update) and its checks.

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, Int

from muonjax import _validate
from muonjax.gaussian.metrics import (
    Metrics,
    capacity,
    capacity_from_mask,
    evaluate,
    metrics_from_pass,
    recovered,
)
from muonjax.gaussian.scores import (
    batch_frequencies,
    grad_at_zero,
    margins,
    population_pass,
    sample_batch,
)
from muonjax.gaussian.screened import check_screen
from muonjax.gaussian.task import GaussianTask, check_task


class Trajectory(NamedTuple):
    """Metrics of ``W_0, W_1, ..., W_T`` (``T + 1`` entries each).

    Attributes:
        loss: population loss.
        count: number of recovered items.
        prefix: length of the fully recovered prefix of the most frequent items.
        weighted_accuracy: frequency mass of the recovered items.
    """

    loss: Float[Array, " T1"]
    count: Int[Array, " T1"]  # type: ignore[assignment]  # shadows tuple.count
    prefix: Int[Array, " T1"]
    weighted_accuracy: Float[Array, " T1"]


class StepResult(NamedTuple):
    """The memory after one step from zero and its metrics."""

    w: Float[Array, "d_out d_in"]
    metrics: Metrics


def _check_common(task, batch_size, block_size, key):
    check_task(task)
    batch_size = _validate.optional_positive_int("batch_size", batch_size)
    block_size = _validate.optional_positive_int("block_size", block_size)
    if batch_size is not None and key is None:
        raise ValueError(
            "a minibatch run needs a PRNG key: pass key=jax.random.key(...)"
        )
    return batch_size, block_size


def _check_deflation(deflate, threshold):
    deflate = deflation(deflate)
    if deflate != "threshold":
        return deflate, None
    if threshold is None:
        raise ValueError(
            "deflate='threshold' needs its margin threshold: pass deflate_threshold"
        )
    if not callable(threshold):
        _validate.real("deflate_threshold", threshold, lower=0.0)
        threshold = float(threshold)
    return deflate, threshold


def _resolve_update_dtype(update_dtype: Any, task: GaussianTask) -> Any:
    if update_dtype is None:
        return None
    dt = _validate.float_dtype("update_dtype", update_dtype)
    return None if dt == task.u.dtype else dt


def _check_run(
    task, w0, key, batch_size, block_size, deflate, deflate_threshold, update_dtype
):
    """The checks and defaults every multi-step run starts with (``train``,
    ``train_early_stopping``): ``W_0 = 0`` unless given, a placeholder key without a
    batch."""
    batch_size, block_size = _check_common(task, batch_size, block_size, key)
    deflate, deflate_threshold = _check_deflation(deflate, deflate_threshold)
    if w0 is None:
        w0 = jnp.zeros((task.d_out, task.d_in), task.u.dtype)
    _validate.shape("w0", w0, (task.d_out, task.d_in))
    _validate.finite_array("w0", w0)
    update_dtype = _resolve_update_dtype(update_dtype, task)
    if key is None:
        key = jax.random.key(0)  # unused without a batch
    return w0, key, batch_size, block_size, deflate, deflate_threshold, update_dtype


@functools.partial(
    jax.jit,
    static_argnames=(
        "tx",
        "batch_size",
        "block_size",
        "with_loss",
        "update_dtype",
        "screen",
    ),
)
def _one_step(task, tx, key, batch_size, block_size, with_loss, update_dtype, screen):
    dt = task.u.dtype if update_dtype is None else update_dtype
    weights = None
    if batch_size is not None:
        idx = sample_batch(task, batch_size, key=key)
        weights = batch_frequencies(idx, task.n, dtype=dt)
    # The sum runs in update_dtype block by block: no float64 copy of the task.
    g = grad_at_zero(task, weights=weights, dtype=dt)
    w0 = jnp.zeros_like(g)
    updates, _ = tx.update(g, tx.init(w0), w0)
    w1 = optax.apply_updates(w0, updates)
    w_scores = w1.astype(task.u.dtype)
    if with_loss:
        return StepResult(w1, evaluate(w_scores, task, block_size=block_size))
    if screen is not None:
        cap = capacity(w_scores, task, block_size=block_size, screen=screen)
    else:
        cap = capacity_from_mask(
            recovered(margins(w_scores, task, block_size=block_size)), task.p
        )
    return StepResult(w1, Metrics(jnp.full((), jnp.nan, task.u.dtype), *cap))


def one_step(
    task: GaussianTask,
    tx: optax.GradientTransformation,
    *,
    batch_size: int | None = None,
    key: jax.Array | None = None,
    block_size: int | None = None,
    with_loss: bool = True,
    update_dtype: Any = None,
    screen: str | None = None,
) -> StepResult:
    """One step of ``tx`` from ``W_0 = 0``, with the gradient in closed form.

    At ``W = 0`` the gradient costs ``O(n d^2)`` (:func:`muonjax.grad_at_zero`), so the
    step is dominated by the capacity evaluation of ``W_1`` (``2 n^2 d`` flops).

    Args:
        task: the task.
        tx: the optimizer, e.g. ``muonjax.muon_exact(2 * d**0.5)``. For a single step
            from zero only the direction matters for recovery (SPEC A.3 [derived]).
        batch_size: ``None`` for the population gradient; else the size ``B`` of one
            minibatch drawn i.i.d. from ``task.p``.
        key: PRNG key for the minibatch.
        block_size: queries per block in the capacity evaluation.
        with_loss: also compute the population loss of ``W_1`` (an ``exp`` per score);
            when False, ``metrics.loss`` is NaN.
        update_dtype: dtype of the gradient, the update and ``W_1`` (e.g. float64,
            which needs JAX's x64 mode); the capacity pass stays in the task's dtype.
            The gradient's singular values follow the power law of ``p`` and span
            ``1e-7`` (alpha = 2) to ``1e-10`` (alpha = 3) of the largest at d = 256,
            below float32's resolution, so a float32 Muon step loses tail
            directions there; float64 here restores them at a cost of ``O(n d^2)``.
        screen: ``None`` for the exact capacity pass; a format of
            :data:`muonjax.SCREENS` to screen it in reduced precision and recheck
            the undecided items exactly (same metrics, bit for bit; needs
            ``with_loss=False`` and a float32 task, see
            :func:`muonjax.screened_capacity`).

    Returns:
        A :class:`StepResult` with ``W_1`` and its :class:`Metrics`.

    References:
        Kim et al. (2026), Theorems on one step of GD, Muon and Newton; SPEC A.5.
    """
    batch_size, block_size = _check_common(task, batch_size, block_size, key)
    update_dtype = _resolve_update_dtype(update_dtype, task)
    if screen is not None:
        check_screen(screen)
        if with_loss:
            raise ValueError(
                "screen needs with_loss=False (the loss needs every exact score), "
                f"got {screen=} and {with_loss=}"
            )
    if key is None:
        key = jax.random.key(0)  # unused without a batch
    return _one_step(
        task, tx, key, batch_size, block_size, bool(with_loss), update_dtype, screen
    )


#: Readings of the thresholded update "removes already-recovered items from the
#: gradient" (SPEC A.3 [quoted]; the exact rule is not in the seeds, so each reading is
#: offered [derived]): ``"none"`` (the exact gradient), ``"margin"`` (a: drop every
#: item whose margin at ``W_t`` is > 0), ``"rank"`` (b: drop the items of rank
#: ``<= d_t``, the recovered prefix at ``W_t``), ``"threshold"`` (c: drop the items
#: whose margin exceeds a threshold).
DEFLATIONS = ("none", "margin", "rank", "threshold")


def deflation(deflate: bool | str) -> str:
    """The reading of ``deflate``: a name of :data:`DEFLATIONS`.

    ``False`` is ``"none"`` and ``True`` is ``"margin"`` (reading a, the only one of
    0.1.0).
    """
    if isinstance(deflate, (bool, np.bool_)):
        return "margin" if deflate else "none"
    if deflate not in DEFLATIONS:
        raise ValueError(
            f"deflate must be a bool or one of {DEFLATIONS}, got deflate={deflate!r}"
        )
    return str(deflate)


def _measure_and_grad(
    task, w, batch_key, batch_size, deflate, block_size, grad_dtype, threshold=None
):
    """Metrics of ``W_t`` and the (population or minibatch) gradient.

    One pass for the exact gradient and reading (a); readings (b) and (c) need the
    margins before the gradient's weights, so they make a margins-and-loss pass and
    then a gradient pass (about 1.5 times the work).
    """
    weights = None
    if batch_size is not None:
        idx = sample_batch(task, batch_size, key=batch_key)
        weights = batch_frequencies(idx, task.n, dtype=task.u.dtype)
    w_scores = w.astype(task.u.dtype)
    if deflate in ("none", "margin"):
        res = population_pass(
            w_scores,
            task,
            grad_weights=weights,
            deflate=deflate == "margin",
            block_size=block_size,
            grad_dtype=grad_dtype,
        )
        return metrics_from_pass(res.margins, res.loss, task.p), res.grad
    res = population_pass(w_scores, task, with_grad=False, block_size=block_size)
    metrics = metrics_from_pass(res.margins, res.loss, task.p)
    if deflate == "rank":  # items are in decreasing frequency: rank = index + 1
        drop = jnp.arange(task.n, dtype=metrics.prefix.dtype) < metrics.prefix
    else:
        drop = res.margins > jnp.asarray(threshold, res.margins.dtype)
    weights = task.p if weights is None else weights
    weights = jnp.where(drop, jnp.zeros_like(weights), weights)
    grad = population_pass(
        w_scores,
        task,
        with_loss=False,
        grad_weights=weights,
        block_size=block_size,
        grad_dtype=grad_dtype,
    ).grad
    return metrics, grad


def _threshold_at(deflate_threshold, t):
    """The margin threshold of reading (c) at step ``t`` (a float or a schedule)."""
    if callable(deflate_threshold):
        return deflate_threshold(t)
    return deflate_threshold


@functools.partial(
    jax.jit,
    static_argnames=(
        "tx",
        "steps",
        "batch_size",
        "deflate",
        "block_size",
        "update_dtype",
        "deflate_threshold",
    ),
)
def _train(
    task,
    tx,
    w0,
    key,
    steps,
    batch_size,
    deflate,
    block_size,
    update_dtype,
    deflate_threshold=None,
):
    score_dtype = task.u.dtype

    def step(carry, xs):
        w, opt_state = carry
        t, key_t = xs
        metrics, grad = _measure_and_grad(
            task,
            w,
            key_t,
            batch_size,
            deflate,
            block_size,
            update_dtype,
            _threshold_at(deflate_threshold, t),
        )
        updates, opt_state = tx.update(grad, opt_state, w)
        return (optax.apply_updates(w, updates), opt_state), metrics

    keys = jax.random.split(key, steps)
    if update_dtype is not None:
        w0 = w0.astype(update_dtype)
    (w, _), history = jax.lax.scan(step, (w0, tx.init(w0)), (jnp.arange(steps), keys))
    last = evaluate(w.astype(score_dtype), task, block_size=block_size)
    traj = Trajectory(
        *(jnp.concatenate([h, e[None]]) for h, e in zip(history, last, strict=True))
    )
    return w, traj


def train(
    task: GaussianTask,
    tx: optax.GradientTransformation,
    *,
    steps: int,
    batch_size: int | None = None,
    key: jax.Array | None = None,
    deflate: bool | str = False,
    deflate_threshold: float | optax.Schedule | None = None,
    w0: Float[Array, "d_out d_in"] | None = None,
    block_size: int | None = None,
    update_dtype: Any = None,
) -> tuple[Float[Array, "d_out d_in"], Trajectory]:
    """Run ``steps`` updates of ``tx`` from ``w0`` (default 0) inside one ``lax.scan``.

    Each step makes one blockwise pass over the ``n`` items at ``W_t`` that yields
    the metrics of ``W_t`` and the gradient (population, or minibatch through the
    batch's empirical frequencies, at ``4 n^2 d`` flops whatever ``B``). A last pass
    measures ``W_T``.

    Args:
        task: the task.
        tx: the optimizer; its learning rate may be an optax schedule.
        steps: number of updates T, >= 0.
        batch_size: ``None`` for population updates, else the minibatch size ``B``
            (a fresh batch each step).
        key: PRNG key for the minibatches.
        deflate: the thresholded update, a reading of :data:`DEFLATIONS` (``True``
            is ``"margin"``, ``False`` ``"none"``): items already recovered at
            ``W_t`` are dropped from the gradient (SPEC A.3, [derived] readings of
            the multi-step theorem).
        deflate_threshold: reading ``"threshold"``'s margin threshold, a float or
            a function of the step ``t = 0, 1, ...`` (an optax schedule); required
            there, ignored otherwise.
        w0: starting memory, default zeros.
        block_size: queries per block.
        update_dtype: dtype of the gradient accumulator, the optimizer and the
            master copy of ``W`` (e.g. float64); the score blocks stay in the task's
            dtype (see :func:`one_step` for why this matters).

    Returns:
        ``(W_T, trajectory)``, the trajectory holding ``T + 1`` entries per metric.

    Example:
        >>> task = sample_task(2000, 32, 1.5, key=jax.random.key(0))
        >>> w, traj = train(task, muon_exact(2 * 32**0.5), steps=3)
        >>> traj.count.shape
        (4,)
    """
    steps = _validate.nonnegative_int("steps", steps)
    (w0, key, batch_size, block_size, deflate, deflate_threshold, update_dtype) = (
        _check_run(
            task,
            w0,
            key,
            batch_size,
            block_size,
            deflate,
            deflate_threshold,
            update_dtype,
        )
    )
    return _train(
        task,
        tx,
        w0,
        key,
        steps,
        batch_size,
        deflate,
        block_size,
        update_dtype,
        deflate_threshold,
    )


class EarlyStopResult(NamedTuple):
    """A run stopped by the plateau rule.

    Attributes:
        w: the memory at the stopping step.
        trajectory: metrics of ``W_0 .. W_max_steps``; entries after ``stop_step`` are
            unused (loss and weighted accuracy NaN, count and prefix -1).
        stop_step: the step whose memory was kept (``max_steps`` if the rule never
            fired).
    """

    w: Float[Array, "d_out d_in"]
    trajectory: Trajectory
    stop_step: Int[Array, ""]


def plateau_step(count: ArrayLike, *, window: int = 10, min_gain: float = 0.005) -> int:
    """First step ``t >= window`` with ``count[t] < (1 + min_gain) count[t - window]``.

    The early-stopping rule of Kim et al. Figure 4 ("stop when the capacity
    improvement over 10 steps drops below 0.5%") applied to a full trajectory;
    returns ``len(count) - 1`` when it never fires. Zero capacity that stays zero does
    not count as a plateau (``0 < 0`` is false), so a slow start is not cut short.
    """
    window = _validate.positive_int("window", window)
    _validate.real("min_gain", min_gain, lower=0.0)
    c = np.asarray(count, dtype=np.float64)
    for t in range(window, c.shape[0]):
        if c[t] < (1 + min_gain) * c[t - window]:
            return t
    return c.shape[0] - 1


@functools.partial(
    jax.jit,
    static_argnames=(
        "tx",
        "max_steps",
        "window",
        "batch_size",
        "deflate",
        "block_size",
        "update_dtype",
        "deflate_threshold",
    ),
)
def _train_until(
    task,
    tx,
    w0,
    key,
    min_gain,
    max_steps,
    window,
    batch_size,
    deflate,
    block_size,
    update_dtype,
    deflate_threshold=None,
):
    dtype = task.u.dtype
    if update_dtype is not None:
        w0 = w0.astype(update_dtype)
    history = Trajectory(
        loss=jnp.full((max_steps + 1,), jnp.nan, dtype),
        count=jnp.full((max_steps + 1,), -1, jnp.int32),
        prefix=jnp.full((max_steps + 1,), -1, jnp.int32),
        weighted_accuracy=jnp.full((max_steps + 1,), jnp.nan, dtype),
    )

    def write(hist, t, metrics):
        return Trajectory(*(h.at[t].set(m) for h, m in zip(hist, metrics, strict=True)))

    def cond(carry):
        t, _, _, _, stopped = carry
        return (t < max_steps) & ~stopped

    def body(carry):
        t, w, opt_state, hist, _ = carry
        metrics, grad = _measure_and_grad(
            task,
            w,
            jax.random.fold_in(key, t),
            batch_size,
            deflate,
            block_size,
            update_dtype,
            _threshold_at(deflate_threshold, t),
        )
        hist = write(hist, t, metrics)
        # Counts compared as floats (explicit casts: strict dtype promotion).
        fdt = jnp.result_type(float)
        past = hist.count[jnp.maximum(t - window, 0)].astype(fdt)
        gain = 1 + jnp.asarray(min_gain, fdt)
        stopped = (t >= window) & (metrics.count.astype(fdt) < gain * past)
        updates, new_state = tx.update(grad, opt_state, w)
        # A stopped run keeps W_t: the rule fired on W_t's capacity.
        w = jnp.where(stopped, w, optax.apply_updates(w, updates))
        opt_state = jax.tree.map(
            lambda new, old: jnp.where(stopped, old, new), new_state, opt_state
        )
        return t + jnp.where(stopped, 0, 1), w, opt_state, hist, stopped

    init = (jnp.zeros((), jnp.int32), w0, tx.init(w0), history, jnp.zeros((), bool))
    t, w, _, hist, stopped = jax.lax.while_loop(cond, body, init)
    # A run that never stopped has not measured W_max_steps yet.
    final = evaluate(w.astype(dtype), task, block_size=block_size)
    hist = jax.tree.map(
        lambda old, new: jnp.where(stopped, old, new), hist, write(hist, t, final)
    )
    return EarlyStopResult(w, hist, t)


def train_early_stopping(
    task: GaussianTask,
    tx: optax.GradientTransformation,
    *,
    max_steps: int,
    window: int = 10,
    min_gain: float = 0.005,
    batch_size: int | None = None,
    key: jax.Array | None = None,
    deflate: bool | str = False,
    deflate_threshold: float | optax.Schedule | None = None,
    w0: Float[Array, "d_out d_in"] | None = None,
    block_size: int | None = None,
    update_dtype: Any = None,
) -> EarlyStopResult:
    """Train until the capacity plateaus, at most ``max_steps`` steps.

    Stops at the first step ``t >= window`` where the recovered count satisfies
    ``count_t < (1 + min_gain) count_{t - window}`` (Kim et al. Figure 4: "early stop
    when the capacity improvement over 10 steps drops below 0.5%" [seed]), keeping
    ``W_t``. Runs in a ``lax.while_loop``, so a stopped run costs nothing more; under
    ``jax.vmap`` the loop runs until every seed has stopped, each seed keeping its
    own stopping step. Minibatch keys are ``fold_in(key, t)``. The same stopping step
    follows from :func:`plateau_step` on a full :func:`train` trajectory.

    Args:
        task, tx, batch_size, key, deflate, deflate_threshold, w0, block_size,
            update_dtype: as in :func:`train`.
        max_steps: the most updates, >= 1 (Figure 4 uses 500).
        window: steps over which the gain is measured, >= 1.
        min_gain: relative gain below which the run stops, >= 0.

    Returns:
        An :class:`EarlyStopResult`.
    """
    max_steps = _validate.positive_int("max_steps", max_steps)
    window = _validate.positive_int("window", window)
    _validate.real("min_gain", min_gain, lower=0.0)
    (w0, key, batch_size, block_size, deflate, deflate_threshold, update_dtype) = (
        _check_run(
            task,
            w0,
            key,
            batch_size,
            block_size,
            deflate,
            deflate_threshold,
            update_dtype,
        )
    )
    return _train_until(
        task,
        tx,
        w0,
        key,
        jnp.asarray(min_gain, w0.dtype),
        max_steps,
        window,
        batch_size,
        deflate,
        block_size,
        update_dtype,
        deflate_threshold,
    )
