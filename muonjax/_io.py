"""Files and JSON: atomic writes and JSON-ready values (shared by every layer).

Every file the toolkit writes goes through :func:`atomic_write_bytes` (a temporary
file in the same directory, fsync, then ``os.replace``), so a killed run leaves either
the old file or the new one, never a torn one; the temporary files start with ``.``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def json_dumps(obj: object) -> str:
    return json.dumps(obj, indent=1, sort_keys=False) + "\n"


def py_scalar(x: Any) -> Any:
    """A numpy scalar as the Python scalar that round-trips through JSON exactly."""
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer, int)):
        return int(x)
    return float(x)  # float32 -> float64 is exact, and repr(float) round-trips


def jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value_to_dict(value)
    return value


def value_to_dict(obj: Any) -> dict[str, Any]:
    """A JSON-ready dict of a result dataclass (bootstrap samples left out)."""
    out = {}
    for f in dataclasses.fields(obj):
        if f.metadata.get("json", True):
            out[f.name] = jsonable(getattr(obj, f.name))
    return out
