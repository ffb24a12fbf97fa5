"""What the claim modules share: float64 scope, numpy results, task sizes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from muonjax.engine.registry import CheckOutcome
from muonjax.orthogonal.task import HierarchicalTask, task_summary
from muonjax.stats.verdict import Comparison

F64 = jnp.float64


def in_x64(fn: Callable) -> Callable:
    """Run ``fn`` with JAX's 64-bit mode switched on, only for its duration."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper


def to_numpy(tree: Any) -> Any:
    """Every leaf of ``tree`` as a numpy array."""
    return jax.tree.map(np.asarray, tree)


def largest_frequency(task: HierarchicalTask) -> float:
    """``p_1 = max_g ptil_g / C``, the most frequent query's frequency."""
    return float(jnp.max(task.group_weights)) / task.group_size


def sizes_of(task: HierarchicalTask, **extra: Any) -> dict[str, Any]:
    """The task's sizes (:func:`~muonjax.orthogonal.task_summary`) and ``extra``."""
    return {**task_summary(task), **extra}


class ClaimRows:
    """Base of the claim results: :meth:`comparisons` lists the check's rows.

    A result's :meth:`outcome` is its claim's ``*_outcome`` function applied to it,
    the same rows ``muonjax check`` reports (one fit policy per claim).
    """

    def outcome(self) -> CheckOutcome:
        """The check's rows, info rows and details for this result."""
        raise NotImplementedError

    def comparisons(self) -> list[Comparison]:
        """The rows of :meth:`outcome`, primary then info."""
        out = self.outcome()
        return [*out.comparisons, *out.info]
