"""The rule grammar of the Gaussian memory: a rule name -> an optax optimizer.

One parser, :func:`rule_spec`, reads a rule name and its parameters (the config
columns of every Part A sweep) into a :class:`RuleSpec`; one function,
:func:`rule_optimizer`, turns a spec into an ``optax.GradientTransformation`` and its
step-size schedule. Every cell and every check goes through these two::

    rule := "gd"                   W <- W + eta_t G
          | "muon"  | "exact"      W <- W + eta_t polar(G)
          | "muon_ns" [STEPS]      W <- W + eta_t NS_STEPS(G)  (Newton-Schulz)
          | COEFFS ":" STEPS       the same with named coefficients ("jordan:5")
          | "muon_smoothed"        W <- W + eta_t h_lam(G)       (a constant lam)
          | "muon_smoothed_c" C    W <- W + eta_t h_lam_t(G), the multi-step theorem's
                                   lam_t = C d_{t+1}^(-alpha) sqrt(d)
          | "newton"               W <- W + eta (H + ridge I)^(-1)[G]  (at W = 0)
          | "newton_rel"           the same with ridge relative to H's largest
                                   eigenvalue: ridge * lambda_max(H)

The thresholded (deflated) update is a parameter of every rule, ``deflate``: one of
the readings of :data:`muonjax.DEFLATIONS` (``"none"``, ``"margin"``, ``"rank"``,
``"threshold"``; ``True`` is ``"margin"``), with ``deflate_threshold`` for reading
``"threshold"``, in units of ``eta_t sqrt(2 log N / d)`` (about the largest change one
polar step of norm ``eta_t`` makes to a margin, SPEC A.3 [derived]).

Step sizes (:class:`StepSize`): GD takes ``gd_lr`` (a constant, the one-step sweeps)
or else the increasing schedule from ``gd_lr_scale sqrt(d)`` of Figure 5
(:data:`DEFAULT_GD_SCHEDULE`); the Muon rules take ``muon_lr_scale sqrt(d)`` (2 as
in Figure 4), constant unless ``muon_schedule`` says otherwise; Newton takes
``newton_lr``. One step from zero is scale invariant for recovery, so in one-step
sweeps the step sizes only change the loss (SPEC A.3 [derived]).

The names of 0.1.0 (:func:`one_step_optimizer`, :func:`multi_step_optimizer`,
:func:`parse_rule`, :func:`parse_ns_variant`) are thin aliases of the two.

References:
    SPEC A.3 (updates, learning rates); Kim et al. (2026), Figures 2-6.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import jax
import optax

from muonjax import _validate
from muonjax._polar import newton_schulz_coefficients
from muonjax._transforms import gd, muon_exact, muon_newton_schulz, muon_smoothed
from muonjax.gaussian.loop import deflation
from muonjax.gaussian.schedules import (
    DEFAULT_GD_SCHEDULE,
    StepSize,
    gd_step_size,
    smoothed_lambda_schedule,
)
from muonjax.gaussian.task import GaussianTask
from muonjax.gaussian.updates import newton_at_zero

#: Rules of one population step in 0.1.0 (:func:`one_step_optimizer`), and
#: ``newton_rel`` (Newton with a ridge relative to the Hessian's largest eigenvalue).
RULES = ("gd", "muon", "muon_ns", "newton", "newton_rel")
#: Rules of one minibatch step (Newton's preconditioner is a population quantity).
MINIBATCH_RULES = ("gd", "muon", "muon_ns")
#: The update each rule name parses to (:attr:`RuleSpec.base`).
BASES = ("gd", "muon", "muon_ns", "muon_smoothed", "newton")
#: Newton's ridge: absolute (``"newton"``, the paper's 1e-8 [seed]) or relative to the
#: largest Hessian eigenvalue (``"newton_rel"``, SPEC A.3 [derived]).
NEWTON_RIDGES = {"newton": "absolute", "newton_rel": "relative"}
#: The exact polar factor among Newton-Schulz variants (``"exact"`` or
#: ``"COEFFS:STEPS"``).
EXACT = "exact"
#: Parameters of a rule: the config keys (record columns) :func:`rule_spec` reads.
RULE_PARAMS = (
    "gd_lr",
    "gd_lr_scale",
    "gd_schedule",
    "gd_factor",
    "gd_power",
    "gd_max_lr_scale",
    "muon_lr_scale",
    "muon_schedule",
    "muon_factor",
    "muon_power",
    "lam",
    "newton_lr",
    "newton_ridge",
    "ns_steps",
    "ns_coeffs",
    "deflate",
    "deflate_threshold",
)

_NS_RULE = re.compile(r"^muon_ns(\d*)$")
_SMOOTHED_RULE = re.compile(r"^muon_smoothed_c(\d+(?:\.\d*)?(?:e-?\d+)?)$")


# --------------------------------------------------------------------------------------
# The grammar.


@dataclasses.dataclass(frozen=True)
class RuleSpec:
    """A parsed update rule (:func:`rule_spec`).

    Attributes:
        name: the rule as written (``"muon_ns10"``, ``"jordan:5"``, ...).
        base: the update, one of :data:`BASES`.
        step: the step size ``eta_t``.
        ns_steps, ns_coeffs: the Newton-Schulz iteration (``base == "muon_ns"``).
        lam: the constant smoothing of ``h_lam`` (``"muon_smoothed"``).
        lam_c: the constant ``c`` of the schedule ``lam_t = c d_{t+1}^(-alpha)
            sqrt(d)`` (``"muon_smoothed_c<c>"``).
        ridge: Newton's ridge (``base == "newton"``).
        relative_ridge: the ridge is relative to the Hessian's largest eigenvalue
            (``"newton_rel"``).
        deflate: the thresholded update's reading (:data:`muonjax.DEFLATIONS`).
        deflate_threshold: reading ``"threshold"``'s threshold, in units of
            ``eta_t sqrt(2 log N / d)``.
    """

    name: str
    base: str
    step: StepSize
    ns_steps: int | None = None
    ns_coeffs: str | None = None
    lam: float | None = None
    lam_c: float | None = None
    ridge: float | None = None
    relative_ridge: bool = False
    deflate: str = "none"
    deflate_threshold: float | None = None


def _parse_name(rule: str, ns_steps: int, ns_coeffs: str) -> tuple[str, int, str]:
    """``(base, Newton-Schulz steps, coefficients)`` of a rule name."""
    if not isinstance(rule, str):
        raise ValueError(f"rule must be a string, got rule={rule!r}")
    if rule == EXACT:
        return "muon", ns_steps, ns_coeffs
    if ":" in rule:  # a Newton-Schulz variant "COEFFS:STEPS"
        name, _, steps = rule.partition(":")
        try:
            k = int(steps)
            newton_schulz_coefficients(name, k)
        except ValueError as err:
            raise ValueError(
                f"rule must be 'exact' or 'COEFFS:STEPS' (e.g. 'jordan:5') for a "
                f"Newton-Schulz variant, got rule={rule!r}: {err}"
            ) from None
        return "muon_ns", k, name
    if rule in NEWTON_RIDGES:
        return "newton", ns_steps, ns_coeffs
    if _SMOOTHED_RULE.match(rule) is not None:
        return "muon_smoothed", ns_steps, ns_coeffs
    m = _NS_RULE.match(rule)
    if m is not None:
        k = int(m.group(1)) if m.group(1) else ns_steps
        return "muon_ns", _validate.positive_int("Newton-Schulz steps", k), ns_coeffs
    if rule in BASES:
        return rule, ns_steps, ns_coeffs
    raise ValueError(
        f"rule must be one of {BASES}, 'newton_rel', 'muon_ns<steps>' (e.g. "
        "'muon_ns10'), 'muon_smoothed_c<c>' (e.g. 'muon_smoothed_c10'), 'exact' "
        f"or 'COEFFS:STEPS' (e.g. 'jordan:5'), got rule={rule!r}"
    )


def rule_spec(
    rule: str,
    *,
    gd_lr: float | None = None,
    gd_lr_scale: float = DEFAULT_GD_SCHEDULE["scale"],
    gd_schedule: str = DEFAULT_GD_SCHEDULE["shape"],
    gd_factor: float = DEFAULT_GD_SCHEDULE["factor"],
    gd_power: float = DEFAULT_GD_SCHEDULE["power"],
    gd_max_lr_scale: float | None = DEFAULT_GD_SCHEDULE["max_scale"],
    muon_lr_scale: float = 2.0,
    muon_schedule: str = "constant",
    muon_factor: float = 1.0,
    muon_power: float = 0.0,
    lam: float | None = None,
    newton_lr: float = 1.0,
    newton_ridge: float = 1e-8,
    ns_steps: int = 5,
    ns_coeffs: str = "jordan",
    deflate: bool | str = False,
    deflate_threshold: float | None = None,
) -> RuleSpec:
    """The one parser: a rule name and its parameters -> a :class:`RuleSpec`.

    Args:
        rule: see the module docstring.
        gd_lr: GD's constant step (the one-step sweeps use 1); ``None`` for the
            increasing schedule below.
        gd_lr_scale, gd_schedule, gd_factor, gd_power, gd_max_lr_scale: GD's
            schedule (:func:`gd_increasing_schedule`; Figure 5).
        muon_lr_scale: Muon's ``eta_1 / sqrt(d)`` (Figure 4: 2, Figure 5: 1 [seed]).
        muon_schedule, muon_factor, muon_power: Muon's schedule shape (default
            ``"constant"``, the paper's; decaying shapes allowed, beyond the paper).
        lam: the smoothing of ``"muon_smoothed"`` (required there, >= 0).
        newton_lr, newton_ridge: Newton's step and ridge (1e-8 as in Figure 6
            [seed]); for ``"newton_rel"`` the ridge is ``newton_ridge`` times the
            Hessian's largest eigenvalue.
        ns_steps: Newton-Schulz steps of a bare ``"muon_ns"``.
        ns_coeffs: Newton-Schulz coefficients of ``"muon_ns"`` and ``"muon_ns<k>"``
            (see :func:`muonjax.newton_schulz_coefficients`).
        deflate: the thresholded update's reading (:data:`muonjax.DEFLATIONS`;
            ``True`` is ``"margin"``), for multi-step runs.
        deflate_threshold: reading ``"threshold"``'s threshold (>= 0, required
            there), in units of ``eta_t sqrt(2 log N / d)``.

    Returns:
        The spec; every parameter is validated here, not inside a traced cell.

    References:
        SPEC A.3; Kim et al. (2026), Figures 2-6.
    """
    base, k, coeffs = _parse_name(rule, ns_steps, ns_coeffs)
    reading = deflation(deflate)
    threshold = None
    if reading == "threshold":
        if deflate_threshold is None:
            raise ValueError("deflate='threshold' needs deflate_threshold, got None")
        _validate.real("deflate_threshold", deflate_threshold, lower=0.0)
        threshold = float(deflate_threshold)
    thresholded: dict[str, Any] = {"deflate": reading, "deflate_threshold": threshold}
    if base == "gd":
        step = (
            gd_step_size(gd_schedule, gd_lr_scale, gd_factor, gd_power, gd_max_lr_scale)
            if gd_lr is None
            else StepSize(float(gd_lr))
        )
        return RuleSpec(rule, base, step, **thresholded)
    if base == "newton":
        _validate.real("newton_ridge", newton_ridge, lower=0.0)
        return RuleSpec(
            rule,
            base,
            StepSize(float(newton_lr)),
            ridge=newton_ridge,
            relative_ridge=NEWTON_RIDGES[rule] == "relative",
            **thresholded,
        )
    _validate.real("muon_lr_scale", muon_lr_scale, lower=0.0, lower_open=True)
    step = StepSize(
        float(muon_lr_scale),
        per_sqrt_d=True,
        shape=muon_schedule,
        factor=float(muon_factor),
        power=float(muon_power),
    )
    if base == "muon_ns":
        newton_schulz_coefficients(coeffs, k)
        return RuleSpec(rule, base, step, ns_steps=k, ns_coeffs=coeffs, **thresholded)
    if base == "muon_smoothed":
        m = _SMOOTHED_RULE.match(rule)
        if m is not None:  # the multi-step schedule with constant c
            return RuleSpec(rule, base, step, lam_c=float(m.group(1)), **thresholded)
        if lam is None:
            raise ValueError(f"rule {rule!r} needs its smoothing lam, got lam=None")
        _validate.real("lam", lam, lower=0.0)
        return RuleSpec(rule, base, step, lam=float(lam), **thresholded)
    return RuleSpec(rule, base, step, **thresholded)


def rule_from_config(config: Mapping[str, Any], **defaults: Any) -> RuleSpec:
    """:func:`rule_spec` of ``config["rule"]`` with the :data:`RULE_PARAMS` in it.

    ``defaults`` fill parameters the config lacks (e.g. ``gd_lr=1.0`` for one step).
    """
    params = {**defaults, **{k: config[k] for k in RULE_PARAMS if k in config}}
    return rule_spec(config["rule"], **params)


def rule_optimizer(
    spec: RuleSpec,
    *,
    d: int | None = None,
    task: GaussianTask | None = None,
    update_dtype: Any = None,
    alpha: Any = None,
) -> tuple[optax.GradientTransformation, optax.Schedule]:
    """The optax optimizer of a spec and its step-size schedule.

    Args:
        spec: from :func:`rule_spec`.
        d: the input dimension (sets the ``sqrt(d)`` scales); default ``task.d_in``.
        task: the task; Newton's preconditioner is built from it (required there).
        alpha: the frequency exponent (a float or traced scalar) of the smoothing
            schedule of ``"muon_smoothed_c<c>"`` (required there,
            :func:`muonjax.smoothed_lambda_schedule`).
        update_dtype: the dtype the update is computed in (see
            :func:`muonjax.one_step`); Newton's preconditioner is built from the
            task cast to it, so that a float64 step does not solve with float32
            Kronecker factors. ``None`` keeps the task's dtype.

    Returns:
        ``(tx, schedule)``: the optimizer and ``schedule(count)``, the step size of
        update ``count + 1``.

    References:
        SPEC A.3.
    """
    if d is None:
        if task is None:
            raise ValueError("rule_optimizer needs d or task, got neither")
        d = task.d_in
    d = _validate.positive_int("d", d)
    lr = spec.step.learning_rate(d)
    schedule = spec.step.schedule(d)
    if spec.base == "gd":
        return gd(lr), schedule
    if spec.base == "muon":
        return muon_exact(lr), schedule
    if spec.base == "muon_ns":
        assert spec.ns_steps is not None and spec.ns_coeffs is not None
        return muon_newton_schulz(lr, steps=spec.ns_steps, coeffs=spec.ns_coeffs), (
            schedule
        )
    if spec.base == "muon_smoothed":
        if spec.lam_c is not None:
            if alpha is None:
                raise ValueError(
                    f"rule {spec.name!r} (lam_t = c d_(t+1)^(-alpha) sqrt(d)) needs "
                    "alpha, got alpha=None"
                )
            lam = smoothed_lambda_schedule(d, alpha, spec.lam_c)
            return muon_smoothed(lr, lam), schedule
        assert spec.lam is not None
        return muon_smoothed(lr, spec.lam), schedule
    if task is None:
        raise ValueError(f"rule {spec.name!r} (Newton at W = 0) needs the task")
    if update_dtype is not None:
        # Sigma_U's eigenvalues follow p: at d = 256, N = 10,000 its smallest
        # is 1e-5 (alpha = 2) to 2e-8 (alpha = 3) of its largest, at or below
        # the accuracy of a float32 eigh (~1e-7 of the largest); build the
        # factors in the update dtype.
        dt = _validate.float_dtype("update_dtype", update_dtype)
        task = jax.tree.map(lambda x: x.astype(dt), task)
    assert spec.ridge is not None
    tx = newton_at_zero(
        float(spec.step.scale),
        task,
        ridge=spec.ridge,
        relative_ridge=spec.relative_ridge,
    )
    return tx, schedule


# --------------------------------------------------------------------------------------
# The names of 0.1.0, as thin aliases.


def one_step_optimizer(
    rule: str,
    task: GaussianTask,
    *,
    gd_lr: float = 1.0,
    muon_lr_scale: float = 2.0,
    newton_lr: float = 1.0,
    newton_ridge: float = 1e-8,
    ns_steps: int = 5,
    ns_coeffs: str = "jordan",
    update_dtype: Any = None,
) -> optax.GradientTransformation:
    """The optimizer of a rule of :data:`RULES` for one step from ``W_0 = 0``.

    :func:`rule_optimizer` of :func:`rule_spec` with these parameters (GD's step is the
    constant ``gd_lr``).
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got rule={rule!r}")
    spec = rule_spec(
        rule,
        gd_lr=gd_lr,
        muon_lr_scale=muon_lr_scale,
        newton_lr=newton_lr,
        newton_ridge=newton_ridge,
        ns_steps=ns_steps,
        ns_coeffs=ns_coeffs,
    )
    return rule_optimizer(spec, task=task, update_dtype=update_dtype)[0]


def parse_rule(rule: str, *, ns_steps: int = 5) -> tuple[str, int | None]:
    """``(base, Newton-Schulz steps)`` of a multi-step rule.

    The multi-step rules: ``"gd"``, ``"muon"``, ``"muon_ns"``, ``"muon_ns<k>"`` and
    the smoothed ``"muon_smoothed_c<c>"`` (the theorem's schedule). ``"gd"``,
    ``"muon"`` and the smoothed rule have no Newton-Schulz steps; ``"muon_ns"`` has
    ``ns_steps``; ``"muon_ns<k>"`` (e.g. ``"muon_ns10"``) has ``k``.
    """
    base, k, _ = _parse_name(rule, ns_steps, "jordan")
    smoothed = _SMOOTHED_RULE.match(str(rule)) is not None
    if (base not in MINIBATCH_RULES and not smoothed) or rule == EXACT or ":" in rule:
        raise ValueError(
            "rule must be 'gd', 'muon', 'muon_ns', 'muon_ns<steps>' (e.g. "
            f"'muon_ns10') or 'muon_smoothed_c<c>' (e.g. 'muon_smoothed_c10'), got "
            f"rule={rule!r}"
        )
    return base, k if base == "muon_ns" else None


def multi_step_optimizer(
    rule: str, d: int, **params: Any
) -> tuple[optax.GradientTransformation, optax.Schedule]:
    """:func:`rule_optimizer` of a multi-step rule (:func:`parse_rule`) at ``d``.

    ``params`` are :func:`rule_spec`'s (Muon and GD schedules, Newton-Schulz).
    """
    parse_rule(rule, ns_steps=params.get("ns_steps", 5))
    return rule_optimizer(rule_spec(rule, **params), d=d)


def parse_ns_variant(variant: str) -> tuple[str, int] | None:
    """``"jordan:5" -> ("jordan", 5)``; ``"exact" -> None`` (the exact polar factor)."""
    if variant != EXACT and ":" not in str(variant):
        raise ValueError(f"variant must be 'exact' or 'COEFFS:STEPS', got {variant!r}")
    try:
        spec = rule_spec(variant)
    except ValueError as err:
        raise ValueError(f"bad variant={variant!r}: {err}") from None
    if spec.base == "muon":
        return None
    assert spec.ns_coeffs is not None and spec.ns_steps is not None
    return spec.ns_coeffs, spec.ns_steps
