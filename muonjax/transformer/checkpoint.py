"""Checkpoints: a training state saved atomically, loaded into the same structure.

A checkpoint is one ``.npz`` file (numpy's zip of arrays; no pickle): the leaves of a
pytree in flattening order (``leaf_00000``, ...), PRNG keys as their raw key data,
and a JSON header (``__meta__``) holding the tree structure, each leaf's shape, dtype
and whether it is a key, and the caller's metadata (the step, a config hash). It is
written to a temporary file and renamed (:func:`muonjax._io.atomic_write_bytes`),
so a run killed at any moment leaves either the previous checkpoint or the new one,
never a torn file.

Loading needs a *template*: a pytree of the same structure (the freshly initialised
state). Structure, shapes and dtypes must match the file exactly, else
``ValueError``: a checkpoint is never silently reinterpreted.

Float leaves are stored bit for bit, so a run resumed from a checkpoint computes the
same numbers as one that was never interrupted (given the same compiled program;
see :func:`muonjax.transformer.longtail.train_cell`).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from muonjax._io import atomic_write_bytes

__all__ = ["load_checkpoint", "read_checkpoint_meta", "save_checkpoint"]

_META = "__meta__"
_FORMAT = "muonjax.checkpoint/1"


def _is_key(x: Any) -> bool:
    return hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def save_checkpoint(
    path: str | os.PathLike, state: Any, *, meta: Mapping[str, Any] | None = None
) -> Path:
    """Write ``state`` (any pytree of arrays and typed keys) to ``path`` atomically.

    Args:
        path: the ``.npz`` file (its directory is created).
        state: the pytree (params, optimizer state, step, keys, ...).
        meta: JSON-able metadata kept in the header (step, config hash, ...).

    Returns:
        The path written.
    """
    leaves, treedef = jax.tree_util.tree_flatten(state)
    arrays: dict[str, Any] = {}
    info = []
    for i, leaf in enumerate(leaves):
        key = _is_key(leaf)
        value = np.asarray(jax.random.key_data(leaf) if key else leaf)
        arrays[f"leaf_{i:05d}"] = value
        info.append(
            {
                "shape": list(np.shape(leaf)),
                "dtype": str(leaf.dtype) if key else str(value.dtype),
                "key": key,
            }
        )
    header = {
        "format": _FORMAT,
        "treedef": str(treedef),
        "leaves": info,
        "meta": dict(meta or {}),
    }
    arrays[_META] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **arrays)
    return atomic_write_bytes(path, buf.getvalue())


def _header(data: Any, path: Path) -> dict[str, Any]:
    if _META not in data:
        raise ValueError(f"{path} is not a muonjax checkpoint (no header)")
    header = json.loads(bytes(data[_META]).decode())
    if header.get("format") != _FORMAT:
        raise ValueError(f"{path} has format {header.get('format')!r}, not {_FORMAT}")
    return header


def read_checkpoint_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata a checkpoint was saved with (without loading its arrays)."""
    path = Path(path)
    with np.load(path, allow_pickle=False) as data:
        return dict(_header(data, path)["meta"])


def load_checkpoint(path: str | os.PathLike, like: Any) -> tuple[Any, dict[str, Any]]:
    """Load a checkpoint into the structure of ``like``.

    Args:
        path: a file written by :func:`save_checkpoint`.
        like: a pytree of the saved structure (shapes and dtypes must match; typed
            keys are rebuilt with ``like``'s key implementation).

    Returns:
        ``(state, meta)``: the pytree (numpy arrays and JAX typed keys) and the saved
        metadata.

    Raises:
        ValueError: a missing header, or a structure, shape or dtype that differs
            from ``like``'s.
    """
    path = Path(path)
    leaves, treedef = jax.tree_util.tree_flatten(like)
    with np.load(path, allow_pickle=False) as data:
        header = _header(data, path)
        if header["treedef"] != str(treedef) or len(header["leaves"]) != len(leaves):
            raise ValueError(
                f"{path} holds a different structure: {header['treedef']} (expected "
                f"{treedef})"
            )
        out = []
        for i, (leaf, info) in enumerate(zip(leaves, header["leaves"], strict=True)):
            key = _is_key(leaf)
            want = str(leaf.dtype) if key else str(np.asarray(leaf).dtype)
            if (
                info["key"] != key
                or info["dtype"] != want
                or tuple(info["shape"]) != tuple(np.shape(leaf))
            ):
                raise ValueError(
                    f"{path}: leaf {i} is {info}, expected shape "
                    f"{list(np.shape(leaf))}, dtype {want}, key {key}"
                )
            value = np.array(data[f"leaf_{i:05d}"])
            out.append(
                jax.random.wrap_key_data(
                    jnp.asarray(value), impl=jax.random.key_impl(leaf)
                )
                if key
                else value
            )
    return jax.tree_util.tree_unflatten(treedef, out), dict(header["meta"])
