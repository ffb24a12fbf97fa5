"""Loss and metrics of the in-context recall task (SPEC C.1).

- **In-context accuracy / loss**: on the positions whose trigger occurred before
  (``mark >= 2``), whether the target's logit beats every other logit, and the
  cross-entropy there; on ID sequences (outputs from the trained pool) and on OOD
  sequences (held-out outputs: only an induction mechanism that copies any token
  can get them).
- **Memory recall**: the share of ID tokens ``k`` whose stored association points
  back at them, ``argmax_j (W_U W_O2 W_V2 E_k)_j = k``.

"Correct" means a strictly positive margin ``s_k - max_{j != k} s_j > 0``, so a tie
is not a recovery (SPEC E: ``jnp.argmax`` returns the first maximum).

The training loss (:func:`recall_loss`) is the same cross-entropy, on the
``mark >= 2`` positions (``positions="head"``, Bietti et al.'s default
``loss_head_only``) or on every position (``"all"``).

References:
    SPEC C.1 [summary], SPEC E; Bietti et al. (2023), ``ihead_basic_main.py``
    (``acc_end``, ``acc_end_test``, ``test_wo1``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, Int

from muonjax.transformer.data import Batch
from muonjax.transformer.model import ModelConfig, Params, forward, memory_logits

#: Which positions the training loss covers.
LOSS_POSITIONS = ("head", "all")
#: Positions with ``mark >= RECALL_MARK`` are scored in context.
RECALL_MARK = 2


def target_margin(
    logits: Float[Array, "*n V"], target: Int[Array, "*n"]
) -> Float[Array, "*n"]:
    """``s_target - max_{j != target} s_j`` for each row (> 0: a strict recovery)."""
    own = jnp.take_along_axis(logits, target[..., None], axis=-1)[..., 0]
    others = jnp.where(
        jax.nn.one_hot(target, logits.shape[-1], dtype=bool), -jnp.inf, logits
    )
    return own - jnp.max(others, axis=-1)


def _positions(mark: jax.Array, positions: str) -> jax.Array:
    if positions == "head":
        return mark >= RECALL_MARK
    if positions == "all":
        return jnp.ones_like(mark, bool)
    raise ValueError(f"positions must be one of {LOSS_POSITIONS}, got {positions=!r}")


def recall_loss(
    params: Params, batch: Batch, *, config: ModelConfig, positions: str = "head"
) -> jax.Array:
    """Mean cross-entropy of a batch on the chosen positions (``(B, T)`` batch)."""
    logits = jax.vmap(lambda x: forward(params, x, config=config))(batch.x)
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, batch.y)
    mask = _positions(batch.mark, positions).astype(ce.dtype)
    return jnp.sum(ce * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def in_context_metrics(
    params: Params, batch: Batch, *, config: ModelConfig
) -> dict[str, jax.Array]:
    """Accuracy and loss on ``mark >= 2`` positions of a ``(B, T)`` batch.

    Returns:
        ``{"acc": share of strictly recovered targets, "loss": mean cross-entropy,
        "count": number of scored positions}`` (NaN accuracy and loss when no
        position is scored).
    """
    logits = jax.vmap(lambda x: forward(params, x, config=config))(batch.x)
    mask = batch.mark >= RECALL_MARK
    count = jnp.sum(mask)
    correct = (target_margin(logits, batch.y) > 0) & mask
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, batch.y)
    denom = jnp.where(count > 0, count.astype(ce.dtype), jnp.nan)
    return {
        "acc": jnp.sum(correct).astype(ce.dtype) / denom,
        "loss": jnp.sum(jnp.where(mask, ce, 0.0)) / denom,
        "count": count,
    }


def memory_recall(params: Params, num_id: int, *, config: ModelConfig) -> jax.Array:
    """Share of ID tokens ``k < num_id`` whose ``W_U W_O2 W_V2 E_k`` points at ``k``."""
    tokens = jnp.arange(num_id)
    margin = target_margin(memory_logits(params, tokens, config=config), tokens)
    return jnp.mean((margin > 0).astype(jnp.dtype(config.dtype)))


def evaluate(
    params: Params,
    id_batch: Batch,
    ood_batch: Batch,
    num_id: int,
    *,
    config: ModelConfig,
) -> dict[str, jax.Array]:
    """One evaluation: ``id_acc, id_loss, ood_acc, ood_loss`` and ``recall``."""
    ident = in_context_metrics(params, id_batch, config=config)
    ood = in_context_metrics(params, ood_batch, config=config)
    return {
        "id_acc": ident["acc"],
        "id_loss": ident["loss"],
        "ood_acc": ood["acc"],
        "ood_loss": ood["loss"],
        "recall": memory_recall(params, num_id, config=config),
    }
