"""What a stored cell is: everything that can change its numbers, hashed.

A cell of a sweep is stored under an id that is 16 hex digits of the SHA-256 of its
*identity*, a JSON object holding

- ``numerics``: :data:`NUMERICS_VERSION`, bumped whenever a change to the package
  changes any cell's numbers (so that old cells are never mixed with new ones);
- ``root_key``: the data of the sweep's root PRNG key (``jax.random.key(root_seed)``);
- ``config``: the cell's configuration (the sweep's axis values and fixed values);
- ``key_axes`` and ``batched``: which names make the cell's PRNG key, and which
  values are traced rather than compiled in;
- ``context``: everything else that can change the numbers of a run, e.g. the
  resolved config of the experiment that built the sweep.

The identity is built from the config as a whole, not from a list of fields someone
keeps by hand: a field of an experiment's config is part of every cell's identity
unless the engine handles it itself (:data:`ENGINE_FIELDS`: the number of seeds, kept
per seed in each cell, and the chunk size, which only groups the work) or the
experiment declares it *presentation-only* (it changes figures and fits, never a cell:
``register_experiment(presentation=...)``, checked by the test suite).

The PRNG keys are not derived from the identity: seed ``s`` of a cell still uses
``fold_in(fold_in(key, h), s)`` with ``h`` from the ``key_axes`` of its config (SPEC E),
so a cell samples the same tasks as in release 0.1.0.

An :func:`identity_scope` (entered by :func:`muonjax.run_recorded`) makes a context
ambient, so that every sweep an experiment records inside it (``record_sweep``,
``record_parts``, however deep in the experiment's own code) gets it.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import jax
import numpy as np

#: Version of the numbers the package computes. Bump it in the commit that changes
#: what any cell function returns for the same configuration and key; every stored
#: cell then gets a new id and is recomputed. Release 0.1.0 computed version 1.
NUMERICS_VERSION = 1

#: Config fields the engine interprets itself; they never enter a cell's identity.
ENGINE_FIELDS = {
    "seeds": "each cell file holds its seeds; more seeds extend the same cell",
    "chunk_size": "groups (cell, seed) pairs into vmapped calls; results do not "
    "depend on it beyond float rounding, like the device count",
}


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the text that is hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def digest(value: Any) -> str:
    """SHA-256 hex digest of :func:`canonical_json` of ``value``."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def key_fingerprint(key: jax.Array) -> list[Any]:
    """The PRNG implementation and key data of a root key, JSON-ready."""
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        impl = str(jax.random.key_impl(key))
        data = np.asarray(jax.random.key_data(key))
    else:  # a raw uint32 key (jax.random.PRNGKey)
        impl, data = "raw", np.asarray(key)
    return [impl, [int(x) for x in data.ravel()]]


def cell_identity(
    config: Mapping[str, Any],
    *,
    key_axes: Sequence[str] | None,
    batched: Sequence[str],
    root_key: list[Any] | None,
    context: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The identity of one cell (see the module docstring)."""
    return {
        "numerics": NUMERICS_VERSION,
        "root_key": root_key,
        "config": dict(config),
        "key_axes": None if key_axes is None else sorted(key_axes),
        "batched": sorted(batched),
        "context": dict(context or {}),
    }


def cell_id(identity: Mapping[str, Any]) -> str:
    """The store id of a cell: 16 hex digits of the hash of its identity."""
    return digest(identity)[:16]


# --------------------------------------------------------------------------------------
# The context of an experiment's run.


@dataclasses.dataclass(frozen=True)
class RunContext:
    """What an experiment's resolved config adds to the identity of its cells.

    Attributes:
        experiment: the experiment's name.
        config: the config's fields that can change a cell (JSON-ready values).
        defaults: the config type's defaults for those fields, used only to
            recognise a run directory written before a field existed.
    """

    experiment: str
    config: Mapping[str, Any]
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def as_identity(self) -> dict[str, Any]:
        """The ``context`` entry of a cell identity."""
        return {"experiment": self.experiment, "config": dict(self.config)}

    def matches_legacy(self, config: Mapping[str, Any] | None) -> bool:
        """Whether a 0.1.0 manifest's resolved ``config`` gives the same cells.

        Fields the old config lacks must hold their default now (a field added
        later defaults to the old behaviour); fields it has must be equal.
        """
        if not isinstance(config, Mapping):
            return False
        for name, value in self.config.items():
            old = config.get(name, self.defaults.get(name, _MISSING))
            if old is _MISSING or _jsonable(old) != value:
                return False
        return True

    def digest(self) -> str:
        """16 hex digits naming this context (for locks and sessions)."""
        return digest(self.as_identity())[:16]


_MISSING = object()


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def run_context(
    experiment: str, config: Any, *, presentation: Sequence[str] = ()
) -> RunContext:
    """The :class:`RunContext` of an experiment's config dataclass instance.

    Every field enters it except :data:`ENGINE_FIELDS` and the ``presentation``
    fields.
    """
    skip = set(ENGINE_FIELDS) | set(presentation)
    fields = [f for f in dataclasses.fields(config) if f.name not in skip]
    values = {f.name: _jsonable(getattr(config, f.name)) for f in fields}
    defaults = {}
    for f in fields:
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = _jsonable(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            defaults[f.name] = _jsonable(f.default_factory())
    return RunContext(experiment, values, defaults)


_AMBIENT: contextvars.ContextVar[RunContext | None] = contextvars.ContextVar(
    "muonjax_run_context", default=None
)


@contextlib.contextmanager
def identity_scope(context: RunContext) -> Iterator[RunContext]:
    """Make ``context`` part of the identity of every cell recorded inside."""
    token = _AMBIENT.set(context)
    try:
        yield context
    finally:
        _AMBIENT.reset(token)


def current_context() -> RunContext | None:
    """The context of the enclosing :func:`identity_scope`, if any."""
    return _AMBIENT.get()
