"""The two-layer attention-only transformer of the in-context recall task (SPEC C.1).

For one sequence ``x`` of ``T`` tokens (weight layout ``y = h @ W``: ``W`` is
``(d_in, d_out)``; embeddings are rows)::

    h0 = E[x] + P[:T]                                   (T, d)
    h1 = h0 + attn(h0; W_K1, W_V1, W_O1)
    h2 = h1 + attn(h1; W_K2, W_V2, W_O2)
    h2 = h2 + relu(h2 @ W_in) @ W_out                   (variant ffn=True)
    logits = h2 @ W_U                                   (T, V)

    attn(h; W_K, W_V, W_O) = softmax(mask(h (h W_K)^T / sqrt(d))) (h W_V) W_O

one head, ``W_Q = I``, causal mask. In the basic model (Bietti et al.'s
``ihead_basic_model.py``) only ``W_K1``, ``W_K2`` and ``W_O2`` are trained; ``E``,
``P``, ``W_V1``, ``W_O1``, ``W_V2`` and ``W_U`` stay at their random
initialisation, so every trained parameter is a hidden ``d x d`` matrix and Muon,
AdamW and SGD act on the same set (SPEC C.1). Variants: ``ffn=True`` adds a trained
final ReLU feed-forward layer (hidden width ``ffn_mult * d``); ``train_all_attention
=True`` trains every attention matrix (``W_K, W_V, W_O`` of both layers).

The induction head it can learn: layer 1 copies the previous token into each
position (``W_K1`` matches position ``t`` with ``t - 1``); layer 2 finds the earlier
position whose previous token is the current trigger (``W_K2``) and copies its token
(``W_V2``, ``W_O2``) to the output: ``W_U W_O2 W_V2 E_k`` must point at token ``k``,
an associative memory in ``W_O2`` (the "memory recall" of :mod:`.metrics`).

Initialisation [summary: the original's defaults, rescaled]: ``E`` and ``P`` have
i.i.d. ``N(0, 1)`` entries (``nn.Embedding`` and ``torch.randn``), so rows have norm
about ``sqrt(d)``; every ``d x d`` matrix (trained or frozen), ``W_in``, ``W_out``
and ``W_U`` have i.i.d. ``N(0, 1/d_in)`` entries, which keeps row norms through a
product.

Parameters are two nested dicts of arrays, *trained* and *frozen*
(:func:`init_params`), so that an optimizer sees only the trained leaves;
:func:`merge` joins them for :func:`forward`.

Precision: every matrix product states ``precision`` (``"highest"`` by default:
JAX's default is TF32 on NVIDIA GPUs).

References:
    SPEC C.1 [summary]; Bietti et al. (2023), albietz/transformer-birth,
    ``ihead_basic_model.py``; Kim et al. (2026), Figs. 7-9.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from muonjax import _validate

#: ``{"attn1": {...}, "attn2": {...}, ...}``: nested dicts of arrays.
Params = dict[str, Any]

_PRECISIONS = ("default", "high", "highest")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Sizes and variant of the model (static: one compilation per config).

    Attributes:
        vocab_size: ``V``.
        dim: ``d``.
        seq_len: ``T``, the number of learned positions.
        ffn: add the trained final feed-forward layer.
        ffn_mult: its hidden width in units of ``d``.
        train_all_attention: train every attention matrix, not only ``W_K1, W_K2,
            W_O2``.
        tied_unembed: ``W_U = E^T / d`` (frozen with ``E``) instead of an
            independent random ``W_U`` (the original's ``tie_output`` option).
        dtype: float dtype of the parameters.
        precision: ``jax.lax.Precision`` name of every matrix product.
    """

    vocab_size: int
    dim: int
    seq_len: int
    ffn: bool = False
    ffn_mult: int = 4
    train_all_attention: bool = False
    tied_unembed: bool = False
    dtype: str = "float32"
    precision: str = "highest"

    def __post_init__(self) -> None:
        _validate.positive_int("vocab_size", self.vocab_size)
        if self.vocab_size < 2:
            raise ValueError(f"vocab_size must be >= 2, got {self.vocab_size=}")
        _validate.positive_int("dim", self.dim)
        _validate.positive_int("seq_len", self.seq_len)
        if self.seq_len < 2:
            raise ValueError(f"seq_len must be >= 2, got {self.seq_len=}")
        _validate.positive_int("ffn_mult", self.ffn_mult)
        _validate.float_dtype("dtype", self.dtype)
        if self.precision not in _PRECISIONS:
            raise ValueError(
                f"precision must be one of {_PRECISIONS}, got {self.precision=!r}"
            )

    @property
    def lax_precision(self) -> jax.lax.Precision:
        """The ``jax.lax.Precision`` of every matrix product."""
        return jax.lax.Precision(self.precision)


def init_params(key: jax.Array, config: ModelConfig) -> tuple[Params, Params]:
    """Random initialisation, split into ``(trained, frozen)`` leaves.

    Args:
        key: PRNG key.
        config: the model.

    Returns:
        ``trained``: ``{"attn1": {"w_k"}, "attn2": {"w_k", "w_o"}}`` (plus ``w_v``,
        ``w_o`` of both layers with ``train_all_attention``, plus ``{"ffn":
        {"w_in", "w_out"}}`` with ``ffn``); ``frozen``: ``{"embed": (V, d), "pos":
        (T, d), "unembed": (d, V)}`` and the attention matrices not trained.
    """
    v, d, t = config.vocab_size, config.dim, config.seq_len
    dtype = jnp.dtype(config.dtype)
    names = ("embed", "pos", "unembed", "attn1", "attn2", "ffn_in", "ffn_out")
    keys = dict(zip(names, jax.random.split(key, len(names)), strict=True))

    def normal(k, shape, fan_in):
        return jax.random.normal(k, shape, dtype) / math.sqrt(fan_in)

    attention = {}
    for layer in ("attn1", "attn2"):
        ks = jax.random.split(keys[layer], 3)
        attention[layer] = {
            name: normal(k, (d, d), d)
            for name, k in zip(("w_k", "w_v", "w_o"), ks, strict=True)
        }
    trained_names = {"attn1": ("w_k",), "attn2": ("w_k", "w_o")}
    if config.train_all_attention:
        trained_names = dict.fromkeys(attention, ("w_k", "w_v", "w_o"))
    trained: Params = {
        layer: {n: attention[layer][n] for n in trained_names[layer]}
        for layer in attention
    }
    frozen: Params = {
        "embed": normal(keys["embed"], (v, d), 1),
        "pos": normal(keys["pos"], (t, d), 1),
        "unembed": normal(keys["unembed"], (d, v), d),
    }
    if config.tied_unembed:
        frozen["unembed"] = frozen["embed"].T / d
    for layer, mats in attention.items():
        rest = {n: w for n, w in mats.items() if n not in trained_names[layer]}
        if rest:
            frozen[layer] = rest
    if config.ffn:
        h = config.ffn_mult * d
        trained["ffn"] = {
            "w_in": normal(keys["ffn_in"], (d, h), d),
            "w_out": normal(keys["ffn_out"], (h, d), h),
        }
    return trained, frozen


def merge(trained: Params, frozen: Params) -> Params:
    """Join trained and frozen leaves into one nested dict (disjoint keys)."""
    out: Params = {}
    for tree in (frozen, trained):
        for name, value in tree.items():
            if isinstance(value, dict):
                both = set(out.get(name, {})) & set(value)
                if both:
                    raise ValueError(f"{name}: leaves {sorted(both)} are in both trees")
                out[name] = {**out.get(name, {}), **value}
            elif name in out:
                raise ValueError(f"leaf {name!r} is in both trees")
            else:
                out[name] = value
    return out


def attention(
    h: Float[Array, "T d"],
    w_k: Float[Array, "d d"],
    w_v: Float[Array, "d d"],
    w_o: Float[Array, "d d"],
    *,
    precision: jax.lax.Precision = jax.lax.Precision.HIGHEST,
) -> Float[Array, "T d"]:
    """One causal softmax attention head with ``W_Q = I`` and ``1/sqrt(d)`` scores.

    ``out = softmax(mask(h (h W_K)^T / sqrt(d))) (h W_V) W_O``; position ``i``
    attends to ``j <= i``.
    """
    t, d = h.shape
    keys = jnp.einsum("td,de->te", h, w_k, precision=precision)
    scores = jnp.einsum("id,jd->ij", h, keys, precision=precision) / math.sqrt(d)
    causal = jnp.tril(jnp.ones((t, t), bool))
    scores = jnp.where(causal, scores, -jnp.inf)
    weights = jax.nn.softmax(scores, axis=-1)
    values = jnp.einsum("td,de->te", h, w_v, precision=precision)
    mixed = jnp.einsum("ij,jd->id", weights, values, precision=precision)
    return jnp.einsum("td,de->te", mixed, w_o, precision=precision)


def hidden_states(
    params: Params, x: Int[Array, " T"], *, config: ModelConfig
) -> Float[Array, "T d"]:
    """The residual stream after the last block (before ``W_U``)."""
    prec = config.lax_precision
    t = x.shape[-1]
    h = params["embed"][x] + params["pos"][:t]
    for layer in ("attn1", "attn2"):
        p = params[layer]
        h = h + attention(h, p["w_k"], p["w_v"], p["w_o"], precision=prec)
    if "ffn" in params:
        f = params["ffn"]
        inner = jax.nn.relu(jnp.einsum("td,dh->th", h, f["w_in"], precision=prec))
        h = h + jnp.einsum("th,hd->td", inner, f["w_out"], precision=prec)
    return h


def forward(
    params: Params, x: Int[Array, " T"], *, config: ModelConfig
) -> Float[Array, "T V"]:
    """Logits ``(T, V)`` of one sequence (``params`` from :func:`merge`)."""
    h = hidden_states(params, x, config=config)
    return jnp.einsum("td,dv->tv", h, params["unembed"], precision=config.lax_precision)


def memory_logits(
    params: Params, tokens: Int[Array, " n"], *, config: ModelConfig
) -> Float[Array, "n V"]:
    """``W_U W_O2 W_V2 E_k`` for each token ``k``: the association stored in layer 2.

    Row ``i`` holds the logits that layer 2's value-output path gives when it
    copies token ``tokens[i]`` (SPEC C.1's memory recall; Bietti et al.'s
    ``test_wo1``).
    """
    prec = config.lax_precision
    e = params["embed"][tokens]
    v = jnp.einsum("nd,de->ne", e, params["attn2"]["w_v"], precision=prec)
    o = jnp.einsum("nd,de->ne", v, params["attn2"]["w_o"], precision=prec)
    return jnp.einsum("nd,dv->nv", o, params["unembed"], precision=prec)


def forward_flops_per_token(config: ModelConfig) -> int:
    """Forward FLOPs of one token (a multiply-add counts 2), as :func:`forward` runs.

    Per attention layer ``6 d^2`` (keys, values, output) ``+ 4 T d`` (scores and
    mixing over the full ``T x T`` masked matrix); the feed-forward layer ``4 m d^2``
    (``m = ffn_mult``); the read-out ``2 d V``. A training step costs about three
    times this (forward, and a backward pass of twice its cost), the usual
    convention for model FLOP utilisation.
    """
    d, t, v = config.dim, config.seq_len, config.vocab_size
    flops = 2 * (6 * d * d + 4 * t * d) + 2 * d * v
    if config.ffn:
        flops += 4 * config.ffn_mult * d * d
    return flops
