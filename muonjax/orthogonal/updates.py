"""Update rules of SPEC B.2 as ``optax.GradientTransformation``s, for each path.

All rules start from ``W_0 = 0`` with a constant learning rate ``eta``:

- ``"gd"``: ``W <- W - eta grad L``;
- ``"muon"``: ``W <- W - eta msgn(grad L)``, ``msgn`` the polar factor, no momentum;
- ``"signgd"``: ``W <- W - eta sign(grad L)``, entrywise in the original coordinates;
- ``"tra_signgd"``: the task-aligned oracle, ``W <- W - eta q_out sign(q_out^T (grad L)
  q_in) q_in^T``, the sign taken in the task basis;
- ``"adam"``: ``optax.adam`` on ``W`` (a baseline; entrywise, so basis dependent).

TRA-SignGD convention ([derived]): the SPEC writes ``Etil sign(Etil^T grad E) E^T``
with the embeddings themselves; with norm ``r`` that is ``r^2`` times the step above.
Here the sign is taken in the orthonormal task basis, so that TRA-SignGD is SignGD
after a rotation and scales with ``r`` like Muon (logit step ``eta r^2``); the two
agree at ``r = 1``.

The three paths of :func:`muonjax.orthogonal.run` hold different parameters:
``"full"`` the ``(d, d)`` memory ``W``; ``"task"`` its ``(K, K)`` task coordinates
``A``; ``"block"`` the :class:`BlockMatrix` of a block-symmetric ``A``. GD and Muon
commute with orthogonal changes of basis and run on every path; SignGD and Adam
do not, so on the task and block paths they are only allowed for the identity
embedding (where ``A = W``), and otherwise need the full path.

References:
    SPEC B.2 [summary]; Li et al. (2026), Section 6 and Thm 6.3 for TRA-SignGD.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float

from muonjax._transforms import muon_exact, sign_gd
from muonjax.orthogonal.block import BlockMatrix, block_polar
from muonjax.orthogonal.task import HierarchicalTask

#: Update rules known to :func:`optimizer`.
RULES = ("gd", "muon", "signgd", "tra_signgd", "adam")
#: Coordinate systems known to :func:`optimizer` and :func:`muonjax.orthogonal.run`.
PATHS = ("full", "task", "block")


def task_sign(
    g: Float[Array, "d d"],
    q_out: Float[Array, "d K"],
    q_in: Float[Array, "d K"],
) -> Float[Array, "d d"]:
    """``q_out sign(q_out^T G q_in) q_in^T``: the sign in the task basis.

    Products at ``HIGHEST`` precision (a TF32 product would flip the sign of small
    task-basis entries on a GPU).
    """
    hi = jax.lax.Precision.HIGHEST
    task_g = jnp.matmul(jnp.matmul(q_out.T, g, precision=hi), q_in, precision=hi)
    out = jnp.matmul(q_out, jnp.sign(task_g), precision=hi)
    return jnp.matmul(out, q_in.T, precision=hi)


def scale_by_task_sign(
    q_out: Float[Array, "d K"], q_in: Float[Array, "d K"]
) -> optax.GradientTransformation:
    """TRA-SignGD's direction in the original coordinates (the oracle knows the basis).

    References: SPEC B.2 [summary]; Li et al. (2026), Thm 6.3.
    """

    def update_fn(updates, state, params=None):
        del params
        return jax.tree.map(lambda g: task_sign(g, q_out, q_in), updates), state

    return optax.GradientTransformation(optax.init_empty_state, update_fn)


def scale_by_block_polar(
    group_size: int, *, rtol: ArrayLike | None = None
) -> optax.GradientTransformation:
    """Muon's polar factor on :class:`BlockMatrix` updates (an ``M x M`` SVD).

    See :func:`muonjax.orthogonal.block_polar`. References: SPEC B.2 [summary].
    """

    def update_fn(updates, state, params=None):
        del params
        if not isinstance(updates, BlockMatrix):
            raise ValueError(
                "scale_by_block_polar acts on BlockMatrix updates, got "
                f"{type(updates).__name__}"
            )
        return block_polar(updates, group_size, rtol=rtol), state

    return optax.GradientTransformation(optax.init_empty_state, update_fn)


def check_rule(rule: str, path: str, task: HierarchicalTask) -> None:
    """Raise ``ValueError`` unless ``rule`` runs exactly on ``path`` for ``task``."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got rule={rule!r}")
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}, got path={path!r}")
    if rule in ("signgd", "adam") and path != "full" and not task.is_identity:
        raise ValueError(
            f"rule={rule!r} is entrywise in the original coordinates, so it is not "
            f"exact on path={path!r} for a random embedding: use path='full'"
        )


def optimizer(
    rule: str,
    learning_rate: ArrayLike,
    task: HierarchicalTask,
    *,
    path: str = "task",
    rtol: ArrayLike | None = None,
    adam_b1: float = 0.9,
    adam_b2: float = 0.999,
    adam_eps: float = 1e-8,
) -> optax.GradientTransformation:
    """The optax transformation of ``rule`` for the parameters of ``path``.

    Args:
        rule: one of :data:`RULES`.
        learning_rate: constant ``eta`` (may be traced, for a vmap over rates).
        task: the task (its basis for TRA-SignGD on the full path, its group size
            for Muon on the block path).
        path: ``"full"``, ``"task"`` or ``"block"`` (see the module docstring).
        rtol: relative zero tolerance of the polar factor (SPEC E).
        adam_b1, adam_b2, adam_eps: Adam's hyperparameters (optax defaults).

    Returns:
        An ``optax.GradientTransformation`` whose updates are added to the params.

    References:
        SPEC B.2 [summary].
    """
    check_rule(rule, path, task)
    if rule == "gd":
        return optax.sgd(learning_rate)
    if rule == "muon":
        if path == "block":
            return optax.chain(
                scale_by_block_polar(task.group_size, rtol=rtol),
                optax.scale_by_learning_rate(learning_rate),
            )
        return muon_exact(learning_rate, rtol=rtol)
    if rule == "adam":
        return optax.adam(learning_rate, b1=adam_b1, b2=adam_b2, eps=adam_eps)
    if rule == "tra_signgd" and path == "full" and task.q_in is not None:
        assert task.q_out is not None  # both or neither (HierarchicalTask)
        return optax.chain(
            scale_by_task_sign(task.q_out, task.q_in),
            optax.scale_by_learning_rate(learning_rate),
        )
    # signgd (identity embedding or full path) and tra_signgd in task coordinates.
    return sign_gd(learning_rate)
