"""Muon on hidden matrices, AdamW on the rest, and the optimizers the figures compare.

Muon (SPEC C.3) acts on *hidden* matrices only: attention and feed-forward weights.
Embeddings, positions, the output head (unembedding), gains and biases go to AdamW.
``optax.contrib.muon`` sends every 2-D leaf to Muon unless told otherwise, which
puts embedding tables and the head under Muon: the trap SPEC C.3 names.
:func:`make_optimizer` labels the leaves with :func:`hidden_labels` and routes them
with ``optax.partition``, so a leaf that is not hidden never reaches Muon.

The Muon update of one hidden matrix ``W`` (weight layout ``y = x @ W``: ``W`` is
``(d_in, d_out)``, as in optax), for a gradient ``G_t``::

    M_t = mu M_{t-1} + (1 - mu) G_t                   (momentum, an EMA)
    U_t = mu M_t + (1 - mu) G_t   if nesterov else M_t
    O_t = polar(U_t)              (exact: SVD, muonjax.polar)
        | newton_schulz(U_t)      (ns_steps steps of the chosen coefficients)
    W  <- W - eta (s O_t + lambda W)

with the update scale ``s`` (a recorded choice, SPEC C.3):

- ``"spectral"``: ``s = sqrt(max(1, d_out / d_in))`` (Jordan's Muon, optax's default);
- ``"rms"``: ``s = 0.2 sqrt(max(d_in, d_out))``, which matches AdamW's update RMS
  (Liu et al. 2025; optax's ``consistent_rms=0.2``);
- ``"none"``: ``s = 1``.

Both polar maps are invariant to a positive rescaling of ``U_t``, so the EMA form of
the momentum and optax's bias-corrected one give the same direction without
Nesterov; with Nesterov, optax bias-corrects the two terms separately, which tilts
the direction slightly on the first steps (equal at step 1). With ``momentum=0``,
``O_t = polar(G_t)``: exact Muon of SPEC A.3.

References:
    SPEC C.3 [summary]; Jordan (2024), modded-nanogpt; optax ``contrib/_muon.py``
    (``scale_by_muon``, ``scale_by_shape``, ``muon``); Liu et al. (2025), "Muon is
    scalable for LLM training".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from muonjax import _validate
from muonjax._polar import CoeffsLike, newton_schulz, newton_schulz_coefficients
from muonjax._polar import polar as polar_factor

#: Optimizer names of :func:`make_optimizer`.
OPTIMIZERS = ("muon", "muon_exact", "adamw", "sgd")
#: Polar maps of :func:`muon`.
POLAR_MAPS = ("newton_schulz", "exact")
#: Update-scale conventions of :func:`muon` (SPEC C.3).
SCALES = ("spectral", "rms", "none")
#: Labels of :func:`hidden_labels`.
MUON_LABEL = "muon"
ADAMW_LABEL = "adamw"
#: AdamW's moment decays and epsilon (Bietti et al.'s training script uses
#: ``betas=(0.9, 0.95), eps=1e-8`` [summary]).
ADAMW_DEFAULTS: Mapping[str, float] = {"b1": 0.9, "b2": 0.95, "eps": 1e-8}

#: Name parts that mark a leaf as *not* a hidden matrix, whatever its rank: token and
#: position embeddings, the output head, gains and biases. A leaf's path is split
#: into parts at every non-alphanumeric character ("w_u" -> "w", "u"), and a leaf is
#: not hidden when any part is one of these.
NON_HIDDEN_PARTS = frozenset(
    {
        "embed",
        "embedding",
        "embeddings",
        "emb",
        "wte",
        "wpe",
        "tok",
        "token",
        "pos",
        "position",
        "positions",
        "unembed",
        "unembedding",
        "head",
        "lm",
        "output",
        "logits",
        "u",
        "norm",
        "ln",
        "gain",
        "gains",
        "scale",
        "bias",
        "biases",
        "b",
    }
)

ScalarOrSchedule = float | jax.Array | Callable[[jax.Array], jax.Array]
#: ``is_hidden(path, leaf) -> bool``: path is the tuple of dict keys / indices.
IsHidden = Callable[[tuple[str, ...], Any], bool]


# --------------------------------------------------------------------------------------
# Which leaves are hidden matrices.


def _path_names(path: tuple[Any, ...]) -> tuple[str, ...]:
    names = []
    for entry in path:
        for attr in ("key", "name", "idx"):
            if hasattr(entry, attr):
                names.append(str(getattr(entry, attr)))
                break
        else:
            names.append(str(entry))
    return tuple(names)


def default_is_hidden(path: tuple[str, ...], leaf: Any) -> bool:
    """Whether a leaf is a hidden matrix: 2-D, and no path part marks it otherwise.

    Args:
        path: the leaf's keys from the root, e.g. ``("attn2", "w_o")``.
        leaf: the array (only its rank is read).

    Returns:
        ``True`` for a 2-D leaf none of whose path parts (split at non-alphanumeric
        characters, lower-cased) is in :data:`NON_HIDDEN_PARTS`.
    """
    if jnp.ndim(leaf) != 2:
        return False
    parts = {p for name in path for p in re.split(r"[^0-9a-z]+", name.lower()) if p}
    return not (parts & NON_HIDDEN_PARTS)


def hidden_labels(params: Any, *, is_hidden: IsHidden | None = None) -> Any:
    """Label every leaf ``"muon"`` (a hidden matrix) or ``"adamw"`` (everything else).

    Args:
        params: a pytree of arrays (nested dicts in this package).
        is_hidden: ``is_hidden(path, leaf) -> bool``, the path as a tuple of key
            names; default :func:`default_is_hidden`.

    Returns:
        A pytree of the same structure holding ``"muon"`` or ``"adamw"``.

    Example:
        >>> params = {"embed": jnp.zeros((10, 4)), "attn": {"w_k": jnp.zeros((4, 4))}}
        >>> hidden_labels(params)
        {'attn': {'w_k': 'muon'}, 'embed': 'adamw'}
    """
    rule = default_is_hidden if is_hidden is None else is_hidden
    return jax.tree_util.tree_map_with_path(
        lambda path, leaf: MUON_LABEL if rule(_path_names(path), leaf) else ADAMW_LABEL,
        params,
    )


# --------------------------------------------------------------------------------------
# Muon as optax transformations: momentum + polar map, then the shape scale.


class ScaleByMuonState(NamedTuple):
    """The momentum of :func:`scale_by_muon` (an EMA of the gradients)."""

    mu: Any


def _check_matrix_leaf(x: jax.Array) -> None:
    if x.ndim != 2:
        raise ValueError(
            "Muon acts on 2-D hidden matrices only, got a leaf of shape "
            f"{tuple(x.shape)}; route it to AdamW (see hidden_labels)"
        )


def scale_by_muon(
    *,
    polar: str = "newton_schulz",
    ns_steps: int = 5,
    ns_coeffs: CoeffsLike = "jordan",
    momentum: float = 0.95,
    nesterov: bool = True,
    rtol: float | None = None,
) -> optax.GradientTransformation:
    """Momentum, then the polar factor (exact or Newton-Schulz) of every leaf.

    See the module docstring for the update. Every leaf must be a 2-D matrix.

    Args:
        polar: ``"newton_schulz"`` or ``"exact"`` (:func:`muonjax.polar`).
        ns_steps: Newton-Schulz steps (ignored by ``"exact"``).
        ns_coeffs: Newton-Schulz coefficients: a name of
            :func:`muonjax.newton_schulz_coefficients` or numbers.
        momentum: EMA decay ``mu`` in ``[0, 1)``; 0 turns momentum off.
        nesterov: use ``mu M_t + (1 - mu) G_t`` instead of ``M_t``.
        rtol: relative zero tolerance of the exact polar factor (SPEC E).

    Returns:
        An ``optax.GradientTransformation``.
    """
    if polar not in POLAR_MAPS:
        raise ValueError(f"polar must be one of {POLAR_MAPS}, got {polar=!r}")
    _validate.real("momentum", momentum, lower=0.0, upper=1.0, upper_open=True)
    newton_schulz_coefficients(ns_coeffs, ns_steps)  # validates both now

    if polar == "exact":

        def orthogonalize(u):
            return polar_factor(u, rtol=rtol)
    else:

        def orthogonalize(u):
            return newton_schulz(u, steps=ns_steps, coeffs=ns_coeffs)

    def init_fn(params):
        return ScaleByMuonState(mu=jax.tree.map(jnp.zeros_like, params))

    def update_fn(updates, state, params=None):
        del params
        jax.tree.map(_check_matrix_leaf, updates)
        mu = jax.tree.map(
            lambda m, g: momentum * m + (1 - momentum) * g, state.mu, updates
        )
        if nesterov:
            direction = jax.tree.map(
                lambda m, g: momentum * m + (1 - momentum) * g, mu, updates
            )
        else:
            direction = mu
        return jax.tree.map(orthogonalize, direction), ScaleByMuonState(mu=mu)

    return optax.GradientTransformation(init_fn, update_fn)


def shape_scale(shape: tuple[int, ...], scale: str) -> float:
    """The update-scale factor of a ``(d_in, d_out)`` matrix (SPEC C.3).

    ``"spectral"``: ``sqrt(max(1, d_out / d_in))``; ``"rms"``: ``0.2 sqrt(max(d_in,
    d_out))``; ``"none"``: 1.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale=!r}")
    d_in, d_out = shape
    if scale == "spectral":
        return math.sqrt(max(1.0, d_out / d_in))
    if scale == "rms":
        return 0.2 * math.sqrt(max(d_in, d_out))
    return 1.0


def scale_by_shape(scale: str = "spectral") -> optax.GradientTransformation:
    """Multiply each matrix update by :func:`shape_scale` of its shape."""
    shape_scale((1, 1), scale)  # validate now

    def update_fn(updates, state, params=None):
        del params
        return (
            jax.tree.map(lambda u: shape_scale(u.shape, scale) * u, updates),
            state,
        )

    return optax.GradientTransformation(optax.init_empty_state, update_fn)


def _check_learning_rate(name: str, value: Any) -> None:
    if callable(value):
        return
    _validate.real(name, value, lower=0.0, lower_open=True)


def muon(
    learning_rate: ScalarOrSchedule,
    *,
    polar: str = "newton_schulz",
    ns_steps: int = 5,
    ns_coeffs: CoeffsLike = "jordan",
    momentum: float = 0.95,
    nesterov: bool = True,
    scale: str = "spectral",
    weight_decay: float = 0.0,
    rtol: float | None = None,
) -> optax.GradientTransformation:
    """Muon for 2-D hidden matrices: ``W <- W - eta (s polar(U_t) + lambda W)``.

    Only hidden matrices may be given to it; use :func:`make_optimizer` for a whole
    model (AdamW on the rest).

    Args:
        learning_rate: ``eta``, > 0, or an optax schedule.
        polar: ``"newton_schulz"`` (practical Muon) or ``"exact"`` (SVD polar factor,
            :func:`muonjax.polar`).
        ns_steps: Newton-Schulz steps, >= 1 (SPEC C.3: 5).
        ns_coeffs: Newton-Schulz coefficients (SPEC C.3: Jordan's quintic
            ``(3.4445, -4.7750, 2.0315)``, the default).
        momentum: ``mu`` in ``[0, 1)`` (SPEC C.3: 0.95).
        nesterov: Nesterov momentum (SPEC C.3: yes).
        scale: ``"spectral"``, ``"rms"`` or ``"none"`` (module docstring).
        weight_decay: decoupled ``lambda >= 0`` (multiplied by ``eta``, as optax).
        rtol: zero tolerance of the exact polar factor.

    Returns:
        An ``optax.GradientTransformation``.

    References:
        SPEC C.3 [summary]; optax ``contrib.muon``.
    """
    _check_learning_rate("learning_rate", learning_rate)
    _validate.real("weight_decay", weight_decay, lower=0.0)
    return optax.chain(
        scale_by_muon(
            polar=polar,
            ns_steps=ns_steps,
            ns_coeffs=ns_coeffs,
            momentum=momentum,
            nesterov=nesterov,
            rtol=rtol,
        ),
        scale_by_shape(scale),
        optax.add_decayed_weights(weight_decay),
        optax.scale_by_learning_rate(learning_rate),
    )


# --------------------------------------------------------------------------------------
# The optimizers the figures compare.

#: Muon settings used when ``muon_options`` leaves them out (SPEC C.3).
MUON_DEFAULTS: Mapping[str, Any] = {
    "ns_steps": 5,
    "ns_coeffs": "jordan",
    "momentum": 0.95,
    "nesterov": True,
    "scale": "spectral",
}


def _standard_promotion(
    tx: optax.GradientTransformation,
) -> optax.GradientTransformation:
    """``tx`` run under JAX's standard dtype promotion.

    optax's Adam raises its decay rates to the int32 step count (``b1 ** count``),
    which strict promotion (``jax_numpy_dtype_promotion="strict"``, the test suite's
    setting) refuses; the scope keeps the rest of the program strict.
    """

    def init_fn(params):
        with jax.numpy_dtype_promotion("standard"):
            return tx.init(params)

    def update_fn(updates, state, params=None):
        with jax.numpy_dtype_promotion("standard"):
            return tx.update(updates, state, params)

    return optax.GradientTransformation(init_fn, update_fn)


def _scheduled(lr: Any, schedule: Callable | None) -> Any:
    if schedule is None:
        return lr
    return lambda count: lr * schedule(count)


def make_optimizer(
    name: str,
    params: Any,
    *,
    learning_rate: ScalarOrSchedule,
    adamw_learning_rate: ScalarOrSchedule | None = None,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    schedule: Callable[[jax.Array], jax.Array] | None = None,
    muon_options: Mapping[str, Any] | None = None,
    is_hidden: IsHidden | None = None,
    adamw_options: Mapping[str, float] | None = None,
) -> optax.GradientTransformation:
    """One of the compared optimizers for the trained leaves ``params``.

    - ``"muon"`` / ``"muon_exact"``: :func:`muon` (Newton-Schulz / exact polar
      factor) on the leaves :func:`hidden_labels` marks ``"muon"``, AdamW on the
      others, through ``optax.partition``;
    - ``"adamw"``: AdamW on every leaf;
    - ``"sgd"``: SGD with heavy-ball momentum on every leaf, weight decay added to
      the gradient (coupled, as ``torch.optim.SGD``).

    Args:
        name: one of :data:`OPTIMIZERS`.
        params: the trained leaves (a pytree; only the structure and ranks are read).
        learning_rate: the optimizer's step (Muon's ``eta`` for the Muon variants),
            > 0. May be a traced scalar (a vmapped learning-rate grid).
        adamw_learning_rate: AdamW's step on the non-hidden leaves under Muon;
            default ``learning_rate``.
        weight_decay: ``lambda >= 0`` for every leaf (decoupled for Muon and AdamW).
        momentum: SGD's momentum in ``[0, 1)`` (Muon's is in ``muon_options``).
        schedule: optional multiplier ``schedule(count)`` applied to every step size.
        muon_options: overrides of :data:`MUON_DEFAULTS` (``ns_steps``,
            ``ns_coeffs``, ``momentum``, ``nesterov``, ``scale``, ``rtol``).
        is_hidden: hidden-matrix rule for :func:`hidden_labels`.
        adamw_options: overrides of :data:`ADAMW_DEFAULTS` (``b1``, ``b2``, ``eps``).

    Returns:
        An ``optax.GradientTransformation``.

    Raises:
        ValueError: unknown name or options, a non-finite or non-positive step.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"name must be one of {OPTIMIZERS}, got {name=!r}")
    _check_learning_rate("learning_rate", learning_rate)
    if adamw_learning_rate is not None:
        _check_learning_rate("adamw_learning_rate", adamw_learning_rate)
    _validate.real("weight_decay", weight_decay, lower=0.0)
    _validate.real("momentum", momentum, lower=0.0, upper=1.0, upper_open=True)
    adam_kw = {**ADAMW_DEFAULTS, **dict(adamw_options or {})}
    unknown = sorted(set(adam_kw) - set(ADAMW_DEFAULTS))
    if unknown:
        raise ValueError(f"adamw_options has unknown keys {unknown}")
    lr = _scheduled(learning_rate, schedule)

    def adamw(step):
        return _standard_promotion(
            optax.adamw(step, weight_decay=weight_decay, **adam_kw)
        )

    if name == "adamw":
        return adamw(lr)
    if name == "sgd":
        return optax.chain(
            optax.add_decayed_weights(weight_decay),
            optax.sgd(lr, momentum=momentum or None),
        )
    options = {**MUON_DEFAULTS, **dict(muon_options or {})}
    unknown = sorted(set(options) - {*MUON_DEFAULTS, "rtol"})
    if unknown:
        raise ValueError(f"muon_options has unknown keys {unknown}")
    polar = "exact" if name == "muon_exact" else "newton_schulz"
    adam_lr = learning_rate if adamw_learning_rate is None else adamw_learning_rate
    return optax.partition(
        {
            MUON_LABEL: muon(lr, polar=polar, weight_decay=weight_decay, **options),
            ADAMW_LABEL: adamw(_scheduled(adam_lr, schedule)),
        },
        hidden_labels(params, is_hidden=is_hidden),
    )


def optimizer_record(
    name: str, muon_options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The optimizer's settings as flat record columns (SPEC C.3: record them).

    Returns ``optimizer``, ``polar`` and, for the Muon variants, ``ns_steps``,
    ``ns_coeffs``, ``muon_momentum``, ``nesterov``, ``update_scale``; the other
    optimizers get ``None`` there so every row has the same columns.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"name must be one of {OPTIMIZERS}, got {name=!r}")
    options = {**MUON_DEFAULTS, **dict(muon_options or {})}
    is_muon = name.startswith("muon")
    coeffs = options["ns_coeffs"]
    return {
        "optimizer": name,
        "polar": (
            ("exact" if name == "muon_exact" else "newton_schulz") if is_muon else None
        ),
        "ns_steps": int(options["ns_steps"]) if name == "muon" else None,
        "ns_coeffs": (coeffs if isinstance(coeffs, str) else repr(coeffs))
        if name == "muon"
        else None,
        "muon_momentum": float(options["momentum"]) if is_muon else None,
        "nesterov": bool(options["nesterov"]) if is_muon else None,
        "update_scale": str(options["scale"]) if is_muon else None,
    }
