"""Verdicts: a measured value with its interval against a SPEC prediction.

A comparison is "consistent", "inconsistent" or "inconclusive", and always carries
the numbers behind it: the estimate, its interval, the prediction, the relation
claimed (``==``, ``<=``, ``>=``), the tolerance allowed for constants and log
factors, and the widest interval that still counts as a measurement.

The rule (:func:`compare`):

1. no finite estimate or interval -> inconclusive (the fit failed; its flags say why);
2. interval wider than ``max_width`` -> inconclusive (the measurement cannot
   resolve the prediction at the stated tolerance);
3. ``==``: consistent when the interval comes within ``tolerance`` of the prediction
   (``distance = max(lo - prediction, prediction - hi, 0) <= tolerance``);
   ``<=``: consistent unless the whole interval lies above ``prediction +
   tolerance``; ``>=``: consistent unless it lies below ``prediction - tolerance``;
   otherwise inconsistent;
4. strict ``>`` (``<``), for claims of superiority ("Muon beats GD"): consistent when
   the whole interval lies above (below) ``prediction + tolerance``
   (``prediction - tolerance``), inconsistent when it lies entirely at or below
   (above) the prediction, inconclusive when it straddles it.

The tolerance exists because the papers' laws hold "up to constants and log
factors" (SPEC A.5): a factor ``(log d)^k`` shifts an exponent fitted over a range of
``d`` near ``d0`` by about ``k / ln d0`` (0.2 per log factor at ``d0 ~ 128``). The
default, :data:`DEFAULT_TOLERANCE` = 0.1, allows about half a log factor over the
grids used by the checks; every check states the tolerance it used.

References:
    SPEC Part D: "Every fit reports estimate, interval, the points used, the
    prediction it is compared with, and a verdict: consistent, inconsistent, or
    inconclusive (interval too wide)."
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "CONSISTENT",
    "DEFAULT_MAX_WIDTH",
    "DEFAULT_TOLERANCE",
    "INCONCLUSIVE",
    "INCONSISTENT",
    "VERDICTS",
    "Comparison",
    "combine_verdicts",
    "compare",
    "compare_fit",
]

CONSISTENT = "consistent"
INCONSISTENT = "inconsistent"
INCONCLUSIVE = "inconclusive"
#: The three verdicts, from best to worst news for a prediction.
VERDICTS = (CONSISTENT, INCONCLUSIVE, INCONSISTENT)

#: Default allowance for constants and log factors on an exponent (see module doc).
DEFAULT_TOLERANCE = 0.1
#: Default widest interval that still counts as a measurement of an exponent:
#: 2.5 x the default tolerance.
DEFAULT_MAX_WIDTH = 0.25

_RELATIONS = ("==", "<=", ">=", ">", "<")


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "nan"
    if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-3):
        return f"{v:.3g}"
    return f"{v:.4g}"


@dataclass(frozen=True)
class Comparison:
    """One measured quantity against its prediction, with the verdict.

    Attributes:
        label: what is compared (e.g. ``"exponent C of count ~ d^C"``).
        estimate: the measured value.
        interval: its ``(lo, hi)`` confidence interval.
        prediction: the predicted value (or bound).
        relation: ``"=="`` (equal up to tolerance), ``"<="`` (the quantity is at
            most the prediction), ``">="`` (at least), or the strict ``">"`` /
            ``"<"`` (the quantity exceeds / falls below it, with evidence).
        tolerance: allowance for constants and log factors.
        max_width: widest interval that still counts as a measurement.
        verdict: ``"consistent"``, ``"inconsistent"`` or ``"inconclusive"``.
        distance: how far the interval lies from the prediction in the direction
            that matters (0 when it reaches it).
        reason: one line on how the verdict was reached.
        notes: extra context (the fit's flags, exclusions).
    """

    label: str
    estimate: float
    interval: tuple[float, float]
    prediction: float
    relation: str
    tolerance: float
    max_width: float
    verdict: str
    distance: float
    reason: str
    notes: tuple[str, ...] = ()

    @property
    def prediction_text(self) -> str:
        """The prediction as printed in tables, e.g. ``"1.333 ± 0.1"``."""
        p, t = _fmt(self.prediction), _fmt(self.tolerance)
        if self.relation == "==":
            return f"{p} ± {t}" if self.tolerance else p
        sign = {"<=": "≤", ">=": "≥", ">": ">", "<": "<"}[self.relation]
        return f"{sign} {p}" + (f" (tol {t})" if self.tolerance else "")

    @property
    def measurement_text(self) -> str:
        """The estimate as printed in tables."""
        return _fmt(self.estimate)

    @property
    def interval_text(self) -> str:
        """The interval as printed in tables, e.g. ``"[1.38, 1.46]"``."""
        lo, hi = self.interval
        return f"[{_fmt(lo)}, {_fmt(hi)}]"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (non-finite numbers become ``None``)."""
        out = asdict(self)
        for key in ("estimate", "prediction", "tolerance", "max_width", "distance"):
            v = out[key]
            out[key] = v if v is None or math.isfinite(v) else None
        out["interval"] = [v if math.isfinite(v) else None for v in self.interval]
        out["notes"] = list(self.notes)
        return out


def compare(
    estimate: float,
    interval: tuple[float, float],
    prediction: float,
    *,
    relation: str = "==",
    tolerance: float = DEFAULT_TOLERANCE,
    max_width: float = DEFAULT_MAX_WIDTH,
    label: str = "",
    notes: Iterable[str] = (),
) -> Comparison:
    """Compare an estimate and its interval with a prediction.

    Args:
        estimate: measured value (may be NaN: the verdict is then inconclusive).
        interval: ``(lo, hi)`` confidence interval of the estimate.
        prediction: predicted value, or bound for ``"<="`` / ``">="``.
        relation: ``"=="``, ``"<="``, ``">="``, ``">"`` or ``"<"`` (see the module
            docstring).
        tolerance: allowance for constants and log factors, >= 0.
        max_width: widest interval that counts as a measurement, > 0 (``inf`` to
            never call a finite interval too wide).
        label: what is compared.
        notes: extra context kept with the comparison.

    Returns:
        A :class:`Comparison`.

    Example:
        >>> compare(1.42, (1.38, 1.46), 4 / 3).verdict
        'consistent'
        >>> compare(1.62, (1.58, 1.66), 4 / 3).verdict
        'inconsistent'
    """
    if relation not in _RELATIONS:
        raise ValueError(f"relation must be one of {_RELATIONS}, got {relation=!r}")
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance must be finite and >= 0, got {tolerance=!r}")
    if not (max_width > 0):
        raise ValueError(f"max_width must be > 0, got max_width={max_width!r}")
    if not math.isfinite(prediction):
        raise ValueError(f"prediction must be finite, got prediction={prediction!r}")
    lo, hi = (float(v) for v in interval)
    est = float(estimate)
    kw: dict[str, Any] = {
        "label": label,
        "estimate": est,
        "interval": (lo, hi),
        "prediction": float(prediction),
        "relation": relation,
        "tolerance": float(tolerance),
        "max_width": float(max_width),
        "notes": tuple(notes),
    }
    if not (math.isfinite(est) and math.isfinite(lo) and math.isfinite(hi)):
        return Comparison(
            verdict=INCONCLUSIVE,
            distance=math.nan,
            reason="no finite estimate or interval",
            **kw,
        )
    if lo > hi:
        raise ValueError(f"interval must have lo <= hi, got interval={interval!r}")
    width = hi - lo
    if relation in (">", "<"):
        above = relation == ">"
        distance = max(prediction - lo, 0.0) if above else max(hi - prediction, 0.0)
        if width > max_width:
            verdict, reason = INCONCLUSIVE, f"interval width {_fmt(width)} > max_width"
        elif (lo > prediction + tolerance) if above else (hi < prediction - tolerance):
            verdict = CONSISTENT
            reason = f"the whole interval lies {'above' if above else 'below'} it"
        elif (hi <= prediction) if above else (lo >= prediction):
            verdict = INCONSISTENT
            side = "at or below" if above else "at or above"
            reason = f"the whole interval lies {side} it"
        else:
            verdict, reason = INCONCLUSIVE, "the interval straddles the prediction"
        return Comparison(verdict=verdict, distance=distance, reason=reason, **kw)
    if relation == "==":
        distance = max(lo - prediction, prediction - hi, 0.0)
    elif relation == "<=":
        distance = max(lo - prediction, 0.0)
    else:
        distance = max(prediction - hi, 0.0)
    if width > max_width:
        return Comparison(
            verdict=INCONCLUSIVE,
            distance=distance,
            reason=f"interval width {_fmt(width)} > max_width {_fmt(max_width)}",
            **kw,
        )
    ok = distance <= tolerance
    where = {"==": "from", "<=": "above", ">=": "below"}[relation]
    reason = (
        f"interval lies {_fmt(distance)} {where} the prediction "
        f"({'within' if ok else 'beyond'} tolerance {_fmt(tolerance)})"
    )
    return Comparison(
        verdict=CONSISTENT if ok else INCONSISTENT,
        distance=distance,
        reason=reason,
        **kw,
    )


def compare_fit(
    fit: Any,
    prediction: float,
    *,
    relation: str = "==",
    tolerance: float = DEFAULT_TOLERANCE,
    max_width: float = DEFAULT_MAX_WIDTH,
    label: str = "",
) -> Comparison:
    """Compare a :class:`muonjax.FitResult`'s exponent with a prediction.

    The fit's flags and excluded points are carried into the comparison's notes, so
    a verdict never hides what the fit left out.

    Args:
        fit: a :class:`muonjax.FitResult` (power law or exponential).
        prediction: the predicted exponent (or bound).
        relation, tolerance, max_width, label: as in :func:`compare`.

    Returns:
        A :class:`Comparison`.
    """
    notes = list(fit.flags) + [f"excluded x={e.x:g}: {e.reason}" for e in fit.excluded]
    return compare(
        fit.exponent,
        fit.interval,
        prediction,
        relation=relation,
        tolerance=tolerance,
        max_width=max_width,
        label=label,
        notes=notes,
    )


def combine_verdicts(verdicts: Iterable[str]) -> str:
    """One verdict for several comparisons of the same claim.

    Inconsistent if any part is; otherwise inconclusive if any part is; otherwise
    consistent. An empty list is inconclusive.
    """
    vs = list(verdicts)
    for v in vs:
        if v not in VERDICTS:
            raise ValueError(f"unknown verdict {v!r}; expected one of {VERDICTS}")
    if not vs:
        return INCONCLUSIVE
    if INCONSISTENT in vs:
        return INCONSISTENT
    if INCONCLUSIVE in vs:
        return INCONCLUSIVE
    return CONSISTENT
