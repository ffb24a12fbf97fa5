"""Argument checks shared by the prediction modules (host-side numpy)."""

from __future__ import annotations

from typing import Any

import numpy as np


def positive(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {name}={value!r}")
    return arr


def nonnegative(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {name}={value!r}")
    return arr


def alpha_exponent(value: Any) -> np.ndarray:
    # The theory assumes alpha > 1 [quoted]; the formulas are evaluated for any
    # alpha > 0 (Figure 1a also shows alpha <= 1 [seed]), so only alpha > 0 is
    # enforced and the caller decides whether the regime is the theorem's.
    return positive("alpha", value)


def out(x: np.ndarray) -> Any:
    """Return a Python float for scalars, the array otherwise."""
    return float(x) if np.ndim(x) == 0 else x


def rule_name(rule: str) -> str:
    """The rule whose prediction applies: SGD is GD's, Newton with a relative ridge
    (``newton_rel``) is Newton's (the theory's Newton step has no ridge at all)."""
    rules = ("muon", "gd", "sgd", "newton", "newton_rel")
    if rule not in rules:
        raise ValueError(f"rule must be one of {rules}, got rule={rule!r}")
    return {"sgd": "gd", "newton_rel": "newton"}.get(rule, rule)
