"""Blockwise score kernels: loss, gradient and margins without an N x N matrix.

The population gradient of the softmax loss is an attention computation: queries
``a_i = W u_i``, keys and values ``v_j``. For a block of ``b`` queries we form the
``(b, n)`` score block ``S = A_b V^T``, take from it the target score, the best other
score (for the margin), the log-normaliser and the softmax-weighted mean of ``V``,
and accumulate the loss and the ``(d_out, d_in)`` gradient. Peak memory is
``O(b n + n d)``; the ``n x n`` score matrix never exists.

Passes over a score block: the product writes it; the margins read it once more
(the target score is gathered, the best rival is the row maximum with the target
set to ``-inf`` in place, :func:`target_scores` and :func:`rival_scores`); the loss
and gradient add a row maximum, the exponential and the second product. Every
product runs at ``Precision.HIGHEST`` (:mod:`muonjax._precision`).

Flop counts (used by the benchmarks and :func:`muonjax.count_work`): margins
``2 n^2 d``; loss and gradient ``4 n^2 d`` (two products with the score block), plus
lower-order terms.

References:
    SPEC A.2 ([seed] for the loss, [derived] for the blockwise evaluation).
"""

# Size: over 500 lines because the blockwise pass and its reductions (loss and gradient,
# margins, minibatch) share one block layout and padding rule.

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int

from muonjax import _validate
from muonjax._precision import matmul
from muonjax.gaussian.task import GaussianTask, check_task

#: Score entries per block of the 0.1.0 passes (2^24 floats, 64 MiB in float32). The
#: sweeps' per-chunk budget is four times this (:func:`muonjax.sweep_block_size`); it is
#: kept so that recorded losses keep their last bits (the block size sets the order
#: in which a pass sums its blocks).
DEFAULT_BLOCK_ELEMENTS = 2**24
#: Score entries per block of an unbatched pass on a CPU: 2^22 floats (16 MiB) stay
#: in a 32 MiB L3 cache between the product that writes the block and the reductions
#: that read it. Measured on a 2-core CPU (N = 20,000, d = 64, under load): margins
#: at 0.93-0.98 of a same-shape product + row max with blocks of 64-256 rows, 0.81
#: with 832 rows (2^24 entries).
CPU_BLOCK_ELEMENTS = 2**22
#: Most score entries per block on an accelerator (2^28 floats, 1 GiB in float32).
ACCELERATOR_BLOCK_ELEMENTS = 2**28


def score_block_elements(device: jax.Device | None = None) -> int:
    """Score entries one unbatched pass holds per block on ``device``.

    On a CPU, :data:`CPU_BLOCK_ELEMENTS` (the block stays in cache). On a GPU or
    TPU, 1/256 of the device memory (a pass holds the block, its exponential and a
    few vectors), between :data:`DEFAULT_BLOCK_ELEMENTS` and
    :data:`ACCELERATOR_BLOCK_ELEMENTS`: large blocks keep the products large and the
    number of scan steps (kernel launches) small. 2^28 on an 80 or 141 GiB GPU.

    Args:
        device: the device; default ``jax.local_devices()[0]``.

    Returns:
        A number of float entries.
    """
    device = jax.local_devices()[0] if device is None else device
    if device.platform == "cpu":
        return CPU_BLOCK_ELEMENTS
    stats = device.memory_stats() or {}
    limit = int(stats.get("bytes_limit", 0))
    if limit <= 0:
        return DEFAULT_BLOCK_ELEMENTS
    return int(
        min(ACCELERATOR_BLOCK_ELEMENTS, max(DEFAULT_BLOCK_ELEMENTS, limit // 256 // 4))
    )


def default_block_size(
    n_candidates: int, n_queries: int | None = None, *, elements: int | None = None
) -> int:
    """Query-block size whose ``(b, n)`` score block holds about ``elements`` entries.

    Args:
        n_candidates: number of candidates ``n`` (columns of the score block).
        n_queries: number of queries; the block never exceeds it.
        elements: score entries per block; default :func:`score_block_elements`
            of the default device.

    Returns:
        A block size ``b >= 1``, a multiple of 8 when larger than 8.
    """
    if elements is None:
        elements = score_block_elements()
    b = max(1, elements // max(1, n_candidates))
    if b > 8:
        b -= b % 8
    if n_queries is not None:
        b = min(b, n_queries)
    return max(1, b)


class PassResult(NamedTuple):
    """What one blockwise pass over the queries returns.

    Attributes:
        margins: ``(m,)`` target score minus best other score, per query.
        loss: weighted softmax cross-entropy ``sum_i lw_i (lse_i - s_i,t_i)``.
        grad: ``(d_out, d_in)`` gradient ``sum_i gw_i (E_softmax[v] - v_t_i) u_i^T``.
    """

    margins: Float[Array, " m"]
    loss: Float[Array, ""]
    grad: Float[Array, "d_out d_in"]


def _pad_rows(x: jax.Array, rows: int) -> jax.Array:
    if rows == 0:
        return x
    return jnp.pad(x, [(0, rows)] + [(0, 0)] * (x.ndim - 1))


def target_scores(s: Float[Array, "b n"], targets: Int[Array, " b"]) -> jax.Array:
    """``s[r, targets[r]]`` for every row ``r``: each query's score of its target."""
    return s[jnp.arange(s.shape[0]), targets]


def rival_scores(
    s: Float[Array, "b n"], targets: Int[Array, " b"], *, after: jax.Array
) -> Float[Array, " b"]:
    """Best score of each row other than its target's: ``max_{j != t_r} s_rj``.

    The target entry is set to ``-inf`` in place and the row maximum taken, so the
    block is read once (a masked copy would be written and read again). The value
    written is ``min(after, -inf) = -inf``: making it depend on ``after`` (the last
    value computed from a read of ``s``, e.g. the target scores) orders every read of
    ``s`` before the write; without it XLA copies the whole block first. ``s`` must
    not be used after this call.

    Args:
        s: ``(b, n)`` score block; consumed.
        targets: ``(b,)`` column of each row's target.
        after: ``(b,)`` values computed from the reads of ``s`` that must come first.

    Returns:
        ``(b,)``; ``-inf`` when ``n = 1``.
    """
    rows = jnp.arange(s.shape[0])
    masked = s.at[rows, targets].set(jnp.minimum(after, -jnp.inf))
    return jnp.max(masked, axis=1)


@functools.partial(jax.jit, static_argnames=("deflate", "block_size", "grad_dtype"))
def blockwise_pass(
    w: Float[Array, "d_out d_in"],
    u_q: Float[Array, "m d_in"],
    targets: Int[Array, " m"],
    v: Float[Array, "n d_out"],
    *,
    loss_weights: Float[Array, " m"] | None = None,
    grad_weights: Float[Array, " m"] | None = None,
    deflate: bool = False,
    block_size: int | None = None,
    grad_dtype: Any = None,
) -> PassResult:
    """One pass over the queries, in blocks, computing margins, loss and gradient.

    For query ``i`` (row ``i`` of ``u_q``) with target item ``t_i`` the scores are
    ``s_ij = v_j^T W u_i`` over all ``n`` candidates ``j``, and

    - ``margin_i = s_{i t_i} - max_{j != t_i} s_ij`` (``+inf`` when ``n = 1``),
    - ``loss = sum_i lw_i (logsumexp_j s_ij - s_{i t_i})``,
    - ``grad = sum_i gw_i (sum_j softmax(s_i)_j v_j - v_{t_i}) u_i^T``; with
      ``deflate=True`` the sum runs over queries with ``margin_i <= 0`` only (the
      thresholded update of SPEC A.3, [derived] reading).

    The softmax work (an ``exp`` per score and a second matmul) is skipped when both
    weight vectors are ``None``, so the margins alone cost ``2 m n d`` flops.

    Args:
        w: memory, ``(d_out, d_in)``.
        u_q: query inputs, ``(m, d_in)``.
        targets: index of each query's correct item in ``v``, ``(m,)``.
        v: candidate outputs, ``(n, d_out)``.
        loss_weights: weights of the loss terms, ``(m,)``, or ``None`` for no loss.
        grad_weights: weights of the gradient terms, ``(m,)``, or ``None`` for no
            gradient.
        deflate: drop already-recovered queries from the gradient.
        block_size: queries per block; ``None`` picks :func:`default_block_size`.
            Any value gives the same result up to rounding.
        grad_dtype: dtype in which the ``(d_out, d_in)`` gradient is accumulated
            (default: the scores' dtype). float64 here keeps the small terms of a
            power-law sum that a float32 accumulator would round away, at a cost of
            ``2 m d^2`` float64 flops, while the ``m n d`` score work stays in the
            scores' dtype.

    Returns:
        A :class:`PassResult`; ``loss`` is 0 without loss weights and ``grad`` is 0
        without gradient weights.
    """
    m, d_in = u_q.shape
    n, d_out = v.shape
    block = default_block_size(n, m) if block_size is None else min(block_size, m)
    n_blocks = math.ceil(m / block)
    pad = n_blocks * block - m
    want_loss = loss_weights is not None
    want_grad = grad_weights is not None
    dtype = jnp.result_type(w, v)
    gdt = dtype if grad_dtype is None else jnp.dtype(grad_dtype)

    zeros_m = jnp.zeros((m,), dtype)
    lw = zeros_m if loss_weights is None else loss_weights.astype(dtype)
    gw = zeros_m if grad_weights is None else grad_weights.astype(dtype)

    a = matmul(u_q, w.T)  # (m, d_out): the queries of the attention form.
    blocks = (
        _pad_rows(a, pad).reshape(n_blocks, block, d_out),
        _pad_rows(u_q, pad).reshape(n_blocks, block, d_in),
        _pad_rows(targets, pad).reshape(n_blocks, block),
        _pad_rows(lw, pad).reshape(n_blocks, block),
        _pad_rows(gw, pad).reshape(n_blocks, block),
    )

    def body(carry, blk):
        loss, grad = carry
        a_b, u_b, t_b, lw_b, gw_b = blk
        s = matmul(a_b, v.T)  # (block, n)
        # The target score is read from the same product as its rivals, so a tie in
        # the scores is a tie here too ("a tie is not a recovery", SPEC A.4).
        s_t = target_scores(s, t_b)
        after = s_t
        if want_loss or want_grad:
            s_max = jnp.max(s, axis=1)  # = max(s_t, best rival), exactly
            e = jnp.exp(s - s_max[:, None])
            z = jnp.sum(e, axis=1)
            after = jnp.minimum(s_t, z)  # the last read of s before rival_scores
            if want_loss:
                lse = s_max + jnp.log(z)
                loss = loss + jnp.sum(lw_b * (lse - s_t))
        s_other = rival_scores(s, t_b, after=after)
        margin = s_t - s_other
        if want_grad:
            ebar = matmul(e, v) / z[:, None]  # softmax-weighted mean of the outputs
            weight = gw_b
            if deflate:
                weight = jnp.where(margin > 0, jnp.zeros_like(weight), weight)
            coef = weight[:, None] * (ebar - v[t_b])  # (block, d_out)
            grad = grad + matmul(coef.astype(gdt).T, u_b.astype(gdt))
        return (loss, grad), margin

    init = (jnp.zeros((), dtype), jnp.zeros((d_out, d_in), gdt))
    (loss, grad), margins = jax.lax.scan(body, init, blocks)
    return PassResult(margins=margins.reshape(-1)[:m], loss=loss, grad=grad)


def _check_w(w: jax.Array, task: GaussianTask) -> None:
    check_task(task)
    _validate.shape("w", w, (task.d_out, task.d_in))
    _validate.finite_array("w", w)


def _check_block(block_size: int | None) -> int | None:
    return _validate.optional_positive_int("block_size", block_size)


def population_pass(
    w: Float[Array, "d_out d_in"],
    task: GaussianTask,
    *,
    with_loss: bool = True,
    with_grad: bool = True,
    grad_weights: Float[Array, " n"] | None = None,
    deflate: bool = False,
    block_size: int | None = None,
    grad_dtype: Any = None,
) -> PassResult:
    """Margins of every item, population loss and gradient, in one pass.

    The loss is weighted by ``task.p``. The gradient is weighted by ``task.p``
    unless ``grad_weights`` is given (for example the empirical frequencies of a
    minibatch, which makes the gradient the minibatch gradient at a cost independent
    of the batch size).

    Args:
        w: memory, ``(d_out, d_in)``.
        task: the task.
        with_loss: compute the population loss.
        with_grad: compute the gradient.
        grad_weights: ``(n,)`` per-item gradient weights, default ``task.p``.
        deflate: drop recovered items from the gradient (SPEC A.3 thresholded).
        block_size: queries per block (see :func:`blockwise_pass`).
        grad_dtype: accumulation dtype of the gradient (see :func:`blockwise_pass`).

    Returns:
        A :class:`PassResult` over the ``n`` items.
    """
    _check_w(w, task)
    block_size = _check_block(block_size)
    if grad_weights is not None:
        _validate.shape("grad_weights", grad_weights, (task.n,))
    gw = (task.p if grad_weights is None else grad_weights) if with_grad else None
    return blockwise_pass(
        w,
        task.u,
        jnp.arange(task.n),
        task.v,
        loss_weights=task.p if with_loss else None,
        grad_weights=gw,
        deflate=deflate,
        block_size=block_size,
        grad_dtype=grad_dtype,
    )


def margins(
    w: Float[Array, "d_out d_in"], task: GaussianTask, *, block_size: int | None = None
) -> Float[Array, " n"]:
    """Per-item margin ``s_ii - max_{j != i} s_ij`` (SPEC A.4).

    Item ``i`` is recovered exactly when its margin is > 0; a tie (margin 0) is not
    a recovery. Costs ``2 n^2 d`` flops, in blocks.
    """
    return population_pass(
        w, task, with_loss=False, with_grad=False, block_size=block_size
    ).margins


def population_loss(
    w: Float[Array, "d_out d_in"], task: GaussianTask, *, block_size: int | None = None
) -> Float[Array, ""]:
    """Population loss ``L(W) = sum_i p_i (logsumexp_j s_ij - s_ii)`` (SPEC A.2)."""
    return population_pass(w, task, with_grad=False, block_size=block_size).loss


def population_loss_and_grad(
    w: Float[Array, "d_out d_in"],
    task: GaussianTask,
    *,
    deflate: bool = False,
    block_size: int | None = None,
) -> tuple[Float[Array, ""], Float[Array, "d_out d_in"]]:
    """Population loss and its gradient (SPEC A.2).

    ``grad L(W) = sum_i p_i (E_{j ~ softmax(s_i.)}[v_j] - v_i) u_i^T``, with the
    ``(d_out, d_in)`` layout of ``W``. With ``deflate=True`` the sum runs over items not
    recovered at ``W`` (SPEC A.3 thresholded update, [derived] reading).

    Returns:
        ``(loss, grad)``.
    """
    res = population_pass(w, task, deflate=deflate, block_size=block_size)
    return res.loss, res.grad


def population_grad(
    w: Float[Array, "d_out d_in"],
    task: GaussianTask,
    *,
    deflate: bool = False,
    block_size: int | None = None,
) -> Float[Array, "d_out d_in"]:
    """Population gradient; see :func:`population_loss_and_grad`."""
    return population_loss_and_grad(w, task, deflate=deflate, block_size=block_size)[1]


def sample_batch(
    task: GaussianTask, batch_size: int, *, key: jax.Array
) -> Int[Array, " B"]:
    """Draw ``batch_size`` item indices i.i.d. from the frequencies ``task.p``.

    Uses inverse-CDF sampling (``jax.random.choice``), ``O(B log n)`` time and
    ``O(B + n)`` memory.
    """
    check_task(task)
    batch_size = _validate.positive_int("batch_size", batch_size)
    return jax.random.choice(key, task.n, (batch_size,), replace=True, p=task.p)


def batch_frequencies(indices: Int[Array, " B"], n: int, *, dtype: Any = None) -> Array:
    """Empirical frequencies ``count_i / B`` of a batch of item indices, ``(n,)``."""
    dtype = jnp.float32 if dtype is None else dtype
    counts = jnp.zeros((n,), dtype).at[indices].add(1)
    return counts / indices.shape[0]


def minibatch_loss_and_grad(
    w: Float[Array, "d_out d_in"],
    task: GaussianTask,
    indices: Int[Array, " B"],
    *,
    deflate: bool = False,
    block_size: int | None = None,
) -> tuple[Float[Array, ""], Float[Array, "d_out d_in"]]:
    """Minibatch ("empirical") loss and gradient (SPEC A.2).

    ``L_B(W) = (1/B) sum_b (logsumexp_j s_{i_b j} - s_{i_b i_b})`` over all ``n``
    candidates. A batch smaller than ``n`` is evaluated query by query (cost
    ``4 B n d``); a larger one through its empirical frequencies over the ``n``
    items (cost ``4 n^2 d``, whatever ``B``). Both give the same numbers.

    Args:
        w: memory, ``(d_out, d_in)``.
        task: the task.
        indices: ``(B,)`` item indices of the batch (see :func:`sample_batch`).
        deflate: drop batch items already recovered at ``W`` from the gradient.
        block_size: queries per block.

    Returns:
        ``(loss, grad)``.
    """
    _check_w(w, task)
    block_size = _check_block(block_size)
    _validate.shape("indices", indices, (None,))
    batch = indices.shape[0]
    if batch < 1:
        raise ValueError(f"indices must hold at least one item, got B={batch}")
    if batch < task.n:
        weights = jnp.full((batch,), 1.0 / batch, jnp.result_type(w, task.v))
        res = blockwise_pass(
            w,
            task.u[indices],
            indices,
            task.v,
            loss_weights=weights,
            grad_weights=weights,
            deflate=deflate,
            block_size=block_size,
        )
        return res.loss, res.grad
    freq = batch_frequencies(indices, task.n, dtype=jnp.result_type(w, task.v))
    res = blockwise_pass(
        w,
        task.u,
        jnp.arange(task.n),
        task.v,
        loss_weights=freq,
        grad_weights=freq,
        deflate=deflate,
        block_size=block_size,
    )
    return res.loss, res.grad


#: Items per block of the ``n``-term sums of :func:`grad_at_zero` (and of
#: :func:`muonjax.hessian_factors_at_zero`): up to this many, one product, as in 0.1.0;
#: beyond, blocks of this many rows, so that a float64 sum over a float32 task never
#: holds a float64 copy of the task (1.6 GB per seed at N = 100,000, d = 1024: under
#: ``vmap`` over 16 seeds, the peak memory of a Figure 2 paper cell).
SUM_BLOCK_ROWS = 2**14


def sum_over_rows(
    term: Any, n: int, init: jax.Array, *, block: int = SUM_BLOCK_ROWS
) -> jax.Array:
    """``sum`` of ``term(rows, keep)`` over blocks of the ``n`` rows.

    ``rows(x)`` slices a block of rows of an ``(n, ...)`` array; ``keep`` is
    ``None`` (all ``n`` rows in one block, when ``n <= block``: the plain sum) or a
    ``(block,)`` mask of the rows no earlier block counted (the last block is
    shifted back to end at row ``n``, so no array is padded or copied).
    """
    if n <= block:
        return term(lambda x: x, None)
    n_blocks = math.ceil(n / block)

    def body(acc, k):
        start = jnp.minimum(k * block, n - block)
        keep = start + jnp.arange(block) >= k * block

        def rows(x):
            return jax.lax.dynamic_slice_in_dim(x, start, block)

        return acc + term(rows, keep), None

    return jax.lax.scan(body, init, jnp.arange(n_blocks))[0]


def grad_at_zero(
    task: GaussianTask, *, weights: ArrayLike | None = None, dtype: Any = None
) -> Float[Array, "d_out d_in"]:
    """Closed-form gradient at ``W = 0``: ``sum_i p_i (vbar - v_i) u_i^T``.

    At ``W = 0`` every softmax is uniform, so ``E[v_j] = vbar = mean_j v_j`` and
    ``-grad L(0) = sum_i p_i (v_i - vbar) u_i^T`` (SPEC A.2, [derived]). Costs
    ``O(n d^2)``, in blocks of :data:`SUM_BLOCK_ROWS` items beyond that many.

    Args:
        task: the task.
        weights: ``(n,)`` per-item weights, default ``task.p`` (pass the empirical
            frequencies of a batch for the minibatch gradient at zero).
        dtype: dtype of the sum (e.g. float64 for a float32 task: each block is
            cast, the task never is); default the task's.
    """
    check_task(task)
    p = task.p if weights is None else jnp.asarray(weights)
    _validate.shape("weights", p, (task.n,))
    dt = task.u.dtype if dtype is None else _validate.float_dtype("dtype", dtype)
    p = p.astype(dt)
    vbar = jnp.mean(task.v.astype(dt), axis=0)

    def term(rows, keep):
        pw = rows(p) if keep is None else jnp.where(keep, rows(p), 0)
        coef = pw[:, None] * (vbar[None, :] - rows(task.v).astype(dt))
        return matmul(coef.T, rows(task.u).astype(dt))

    return sum_over_rows(term, task.n, jnp.zeros((task.d_out, task.d_in), dt))


def loss_at_zero(task: GaussianTask) -> Float[Array, ""]:
    """Population loss at ``W = 0``, which is ``log n`` for any frequencies."""
    check_task(task)
    return jnp.log(jnp.asarray(task.n, task.u.dtype))
