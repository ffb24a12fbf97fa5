"""An experiment's settings: presets, ``--set key=value``, and their validation.

Every field of an experiment's config dataclass can be set from the command line
(``--set n=2000 --set dims=16,32``). Before anything is computed, every field is
checked (:func:`validate_config`):

- **type**: ``int`` (not a bool), ``float`` (an int is accepted), ``bool``, ``str``,
  ``tuple[T, ...]`` of those, ``Literal[...]``, ``X | None``;
- **finite**: no NaN or infinity in a float;
- **size**: integers within ``[-2^31, 2^31)`` (array shapes and indices);
- **tuples**: at least one value, no value twice (a grid axis);
- **range**: what the experiment declares for the field
  (``register_experiment(limits={"alphas": "(0, inf)", "n": "[1, inf)",
  "update_dtype": ("float32", "float64")})``: an interval in interval notation, or
  the allowed values; applied to every value of a tuple), and the engine's own for
  ``seeds``, ``chunk_size`` and ``root_seed``;
- and whatever the config's own ``__post_init__`` checks.

A failure is a ``ValueError`` whose message names the field and the value; the
command line prints it on one line and exits with code 2.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from muonjax._validate import printable

#: Integers must lie in ``[-INT_LIMIT, INT_LIMIT)``.
INT_LIMIT = 2**31

_INTERVAL = re.compile(
    r"^\s*([\[(])\s*([^,\s]+)\s*,\s*([^,\s\])]+)\s*([\])])\s*$",
)


@dataclasses.dataclass(frozen=True)
class Interval:
    """A real interval, e.g. ``Interval.parse("(0, inf)")``.

    Attributes:
        lower, upper: the ends (``-inf`` and ``inf`` for none).
        lower_open, upper_open: whether an end is excluded.
    """

    lower: float
    upper: float
    lower_open: bool
    upper_open: bool

    @classmethod
    def parse(cls, text: str) -> Interval:
        """Parse ``"[1, inf)"``, ``"(0, 1]"``, ...; ``ValueError`` if malformed."""
        match = _INTERVAL.match(text)
        if match is None:
            raise ValueError(f"an interval looks like '[0, inf)', got {text!r}")
        left, lo, hi, right = match.groups()
        try:
            lower, upper = float(lo), float(hi)
        except ValueError:
            raise ValueError(f"bad numbers in the interval {text!r}") from None
        if math.isnan(lower) or math.isnan(upper) or lower > upper:
            raise ValueError(f"empty interval {text!r}")
        return cls(lower, upper, left == "(", right == ")")

    def __contains__(self, value: float) -> bool:
        above = value > self.lower if self.lower_open else value >= self.lower
        below = value < self.upper if self.upper_open else value <= self.upper
        return above and below

    def __str__(self) -> str:
        def end(x: float) -> str:
            return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:g}"

        left = "(" if self.lower_open else "["
        right = ")" if self.upper_open else "]"
        return f"{left}{end(self.lower)}, {end(self.upper)}{right}"


@dataclasses.dataclass(frozen=True)
class Choices:
    """The values a field may take, e.g. ``Choices(("float32", "float64"))``."""

    values: tuple[Any, ...]

    def __contains__(self, value: Any) -> bool:
        return value in self.values

    def __str__(self) -> str:
        return "{" + ", ".join(map(repr, self.values)) + "}"


#: A field's declared range.
Limit = Interval | Choices

#: The engine's own ranges for the fields it reads.
ENGINE_LIMITS = {
    "seeds": Interval.parse("[1, inf)"),
    "chunk_size": Interval.parse("[1, inf)"),
    "root_seed": Interval.parse("[0, inf)"),
}


def parse_limits(config_type: type, limits: Mapping[str, Any] | None) -> dict:
    """``{field: Limit}`` from ``{field: "interval" or (allowed values)}``."""
    fields = field_types(config_type)
    out = {}
    for name, text in dict(limits or {}).items():
        if name not in fields:
            raise ValueError(
                f"limits name {name!r}, which is not a field of "
                f"{config_type.__name__}; fields: {', '.join(fields)}"
            )
        if isinstance(text, (Interval, Choices)):
            out[name] = text
        elif isinstance(text, str):
            out[name] = Interval.parse(text)
        elif isinstance(text, (tuple, list, frozenset, set)) and text:
            out[name] = Choices(tuple(text))
        else:
            raise ValueError(
                f"limits[{name!r}] must be an interval like '[0, inf)' or a tuple "
                f"of allowed values, got {text!r}"
            )
    return out


# --------------------------------------------------------------------------------------
# Types and parsing.


def field_types(config_type: type) -> dict[str, Any]:
    """``{field name: resolved type annotation}`` of a config dataclass."""
    hints = typing.get_type_hints(config_type)
    return {f.name: hints[f.name] for f in dataclasses.fields(config_type)}


def type_name(tp: Any) -> str:
    """A readable name of a type annotation (``tuple[float, ...]``, ``int``)."""
    if typing.get_origin(tp) is None and hasattr(tp, "__name__"):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _parse_scalar(tp: Any, text: str) -> Any:
    if tp is bool:
        low = text.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected true or false")
    if tp is int:
        return int(text)
    if tp is float:
        return float(text)
    if tp is str:
        return text
    raise ValueError(f"cannot parse type {type_name(tp)} from the command line")


def parse_value(tp: Any, text: str) -> Any:
    """Parse ``text`` as a value of type ``tp``.

    Handles ``int``, ``float``, ``bool`` (true/false, yes/no, 1/0), ``str``,
    ``tuple[T, ...]`` (comma separated), ``Literal[...]`` and ``X | None``
    (``none``).
    """
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and text.strip().lower() == "none":
            return None
        others = [a for a in args if a is not type(None)]
        errors = []
        for a in others:
            try:
                return parse_value(a, text)
            except ValueError as err:
                errors.append(str(err))
        raise ValueError("; ".join(errors))
    if origin is typing.Literal:
        for a in args:
            if str(a) == text:
                return a
        raise ValueError(f"expected one of {list(args)}")
    if origin is tuple:
        item = args[0] if args else str
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise ValueError("expected a comma-separated list")
        return tuple(_parse_scalar(item, p) for p in parts)
    return _parse_scalar(tp, text)


# --------------------------------------------------------------------------------------
# Validation.


def _check_scalar(name: str, tp: Any, value: Any, limit: Limit | None) -> None:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return
        errors = []
        for a in (a for a in args if a is not type(None)):
            try:
                return _check_scalar(name, a, value, limit)
            except ValueError as err:
                errors.append(str(err))
        raise ValueError(errors[0] if len(errors) == 1 else "; ".join(errors))
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise ValueError(
                f"{name} must be one of {list(typing.get_args(tp))}, got {value!r}"
            )
        return
    if tp is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return
    if tp is str:
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        if isinstance(limit, Choices) and value not in limit:
            raise ValueError(f"{name} must be one of {limit}, got {value!r}")
        return
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if not -INT_LIMIT <= value < INT_LIMIT:
            raise ValueError(f"{name} must be below 2^31 in size, got {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
    else:
        return  # a type the command line cannot set: the config checks it
    if limit is not None and value not in limit:
        where = "be one of" if isinstance(limit, Choices) else "lie in"
        raise ValueError(f"{name} must {where} {limit}, got {value!r}")


def validate_value(name: str, tp: Any, value: Any, limit: Limit | None) -> None:
    """Check one field's value against its type and range (see the module doc)."""
    if typing.get_origin(tp) is tuple:
        args = typing.get_args(tp)
        item = args[0] if args else Any
        if not isinstance(value, tuple):
            raise ValueError(f"{name} must be a tuple of values, got {value!r}")
        if not value:
            raise ValueError(f"{name} must hold at least one value, got ()")
        for v in value:
            _check_scalar(f"{name} value", item, v, limit)
        seen = [v for i, v in enumerate(value) if v in value[:i]]
        if seen:
            raise ValueError(f"{name} repeats {seen[0]!r}: {value!r}")
        return
    _check_scalar(name, tp, value, limit)


def validate_config(
    config: Any, limits: Mapping[str, Limit] | None = None, *, label: str = ""
) -> None:
    """Check every field of a config dataclass instance (see the module docstring).

    Args:
        config: the config.
        limits: ``{field: Limit}`` declared by the experiment.
        label: prefix of the message (e.g. ``"fig2: "``).

    Raises:
        ValueError: naming the first bad field and its value.
    """
    ranges = {**ENGINE_LIMITS, **dict(limits or {})}
    for name, tp in field_types(type(config)).items():
        try:
            validate_value(name, tp, getattr(config, name), ranges.get(name))
        except ValueError as err:
            raise ValueError(f"{label}{err}") from None


def resolve(
    config: Any,
    *,
    name: str,
    seeds: int | None = None,
    overrides: Sequence[str] = (),
    limits: Mapping[str, Limit] | None = None,
) -> Any:
    """``config`` with ``--seeds`` and ``--set key=value`` applied, then validated.

    Raises:
        ValueError: an unknown key or a bad value, with a message naming it.
    """
    types_ = field_types(type(config))
    ranges = {**ENGINE_LIMITS, **dict(limits or {})}
    changes: dict[str, Any] = {}
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--set expects key=value, got {item!r}")
        if key not in types_:
            raise ValueError(
                f"--set {printable(item)}: {name} has no setting {key!r}; settings: "
                f"{', '.join(types_)}"
            )
        try:
            value = parse_value(types_[key], text)
            validate_value(key, types_[key], value, ranges.get(key))
        except ValueError as err:
            raise ValueError(
                f"--set {printable(item)}: bad value {text!r} for {key} "
                f"({type_name(types_[key])}): {printable(err)}"
            ) from None
        changes[key] = value
    if seeds is not None:
        if "seeds" not in types_:
            raise ValueError(f"{name} has no 'seeds' setting")
        changes["seeds"] = seeds
    try:
        resolved = dataclasses.replace(config, **changes)
    except (ValueError, TypeError, ArithmeticError) as err:  # the config's own checks
        raise ValueError(f"invalid settings for {name}: {err}") from None
    validate_config(resolved, limits, label=f"invalid settings for {name}: ")
    return resolved
