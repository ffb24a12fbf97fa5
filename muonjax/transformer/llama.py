"""A small decoder in the LLaMA style: RMSNorm, rotary embeddings, SwiGLU, causal.

One block (pre-norm, residual)::

    h = x + Attn(RMSNorm(x))          causal multi-head attention, rotary q and k
    y = h + (silu(n W_gate) * (n W_up)) W_down,   n = RMSNorm(h)

then ``logits = RMSNorm(y) W_head`` with an untied head. No biases.

Parameters are a plain dict (a pytree)::

    embed       (V, d)
    layers[i]   attn_norm (d,)  wq, wk, wv, wo (d, d)
                mlp_norm (d,)   w_gate, w_up (d, f)   w_down (f, d)
    final_norm  (d,)
    head        (d, V)

Weight layout, as in optax and the rest of :mod:`muonjax.transformer`: a matrix
``W`` is ``(d_in, d_out)`` and acts on rows as ``y = x @ W`` (Muon's update scale
reads ``d_in, d_out`` from the shape, SPEC C.3). The *hidden* matrices are the seven
of each layer (:data:`HIDDEN`); the embedding, the head and the gains go to AdamW
(``muonjax.transformer.hidden_labels`` marks exactly these, by name).

Every matrix product states its precision (``config.precision``, default
``HIGHEST``): JAX's default on NVIDIA GPUs is TF32. Softmax and the loss run in
float32 or wider.

Written for one sequence; batch with ``jax.vmap`` (:func:`llama_loss` does).

References:
    Touvron et al. (2023), LLaMA (RMSNorm, SwiGLU, RoPE); Su et al. (2021),
    RoFormer (rotary embeddings); Shazeer (2020), GLU variants; Karpathy's nanoGPT
    ``model.py`` (the shape of this file). SPEC C.2 [derived].
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

__all__ = [
    "HIDDEN",
    "LlamaConfig",
    "causal_attention",
    "flops_per_token",
    "init_llama",
    "llama_forward",
    "llama_loss",
    "llama_sequence_loss",
    "rms_norm",
    "rotary",
    "swiglu",
]

#: Names of the hidden matrices of a layer (Muon's leaves, SPEC C.3).
HIDDEN = ("wq", "wk", "wv", "wo", "w_gate", "w_up", "w_down")

Params = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class LlamaConfig:
    """Sizes of the decoder (hashable: a ``jit`` static argument).

    Attributes:
        vocab_size: ``V``.
        dim: model width ``d`` (a multiple of ``heads``, head width even).
        layers: blocks.
        heads: attention heads.
        hidden: SwiGLU width ``f``; 0 picks LLaMA's ``8 d / 3`` rounded up to a
            multiple of 16.
        rope_base: rotary base (LLaMA: 10000).
        norm_eps: RMSNorm epsilon.
        precision: precision of every matrix product.
    """

    vocab_size: int
    dim: int = 64
    layers: int = 2
    heads: int = 4
    hidden: int = 0
    rope_base: float = 10000.0
    norm_eps: float = 1e-6
    precision: jax.lax.Precision = jax.lax.Precision.HIGHEST

    def __post_init__(self) -> None:
        for name in ("vocab_size", "dim", "layers", "heads"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {name}={v!r}")
        if self.dim % self.heads or (self.dim // self.heads) % 2:
            raise ValueError(
                f"dim must be a multiple of heads with an even head width, got "
                f"dim={self.dim}, heads={self.heads}"
            )
        if isinstance(self.hidden, bool) or self.hidden < 0:
            raise ValueError(f"hidden must be an integer >= 0, got {self.hidden=!r}")
        if not (math.isfinite(self.rope_base) and self.rope_base > 1):
            raise ValueError(f"rope_base must be > 1, got {self.rope_base=!r}")
        if not (math.isfinite(self.norm_eps) and self.norm_eps > 0):
            raise ValueError(f"norm_eps must be > 0, got {self.norm_eps=!r}")

    @property
    def ffn(self) -> int:
        """SwiGLU width ``f`` (resolved)."""
        return self.hidden or 16 * math.ceil(8 * self.dim / 3 / 16)

    @property
    def head_dim(self) -> int:
        """``d / heads``."""
        return self.dim // self.heads


def init_llama(
    config: LlamaConfig, *, key: jax.Array, dtype: jnp.dtype = jnp.float32
) -> Params:
    """Random parameters: normal ``0.02`` embeddings, fan-in scaled matrices.

    ``W ~ N(0, 1 / d_in)`` for the hidden matrices, the residual outputs (``wo``,
    ``w_down``) further divided by ``sqrt(2 layers)`` (GPT-2's scaling), the head
    ``N(0, 1 / d)``, gains 1.

    Args:
        config: the sizes.
        key: PRNG key.
        dtype: floating dtype of every parameter.

    Returns:
        The parameter dict (see the module docstring).
    """
    d, f, v = config.dim, config.ffn, config.vocab_size
    k_embed, k_head, *k_layers = jax.random.split(key, 2 + config.layers)
    resid = 1.0 / math.sqrt(2 * config.layers)

    def normal(k, shape, std):
        return std * jax.random.normal(k, shape, dtype)

    layers = []
    for k in k_layers:
        ks = jax.random.split(k, 7)
        layers.append(
            {
                "attn_norm": jnp.ones((d,), dtype),
                "wq": normal(ks[0], (d, d), d**-0.5),
                "wk": normal(ks[1], (d, d), d**-0.5),
                "wv": normal(ks[2], (d, d), d**-0.5),
                "wo": normal(ks[3], (d, d), resid * d**-0.5),
                "mlp_norm": jnp.ones((d,), dtype),
                "w_gate": normal(ks[4], (d, f), d**-0.5),
                "w_up": normal(ks[5], (d, f), d**-0.5),
                "w_down": normal(ks[6], (f, d), resid * f**-0.5),
            }
        )
    return {
        "embed": normal(k_embed, (v, d), 0.02),
        "layers": layers,
        "final_norm": jnp.ones((d,), dtype),
        "head": normal(k_head, (d, v), d**-0.5),
    }


def _at_least_f32(dtype: Any) -> Any:
    """``dtype`` if it has 32 bits or more, else float32 (for softmax, scores, angles);
    written out because strict dtype promotion refuses ``promote_types`` here."""
    return dtype if jnp.dtype(dtype).itemsize >= 4 else jnp.dtype(jnp.float32)


def _linear(x: Array, w: Array, precision: jax.lax.Precision) -> Array:
    """``x @ w`` for ``w`` of shape ``(d_in, d_out)``."""
    return jnp.einsum("...i,io->...o", x, w, precision=precision)


def rms_norm(
    x: Float[Array, "... d"], gain: Float[Array, " d"], eps: float
) -> Float[Array, "... d"]:
    """``g * x / sqrt(mean(x^2) + eps)`` over the last axis (Zhang & Sennrich 2019)."""
    ms = jnp.mean(jnp.square(x), axis=-1, keepdims=True)
    g = jnp.expand_dims(gain, tuple(range(x.ndim - 1)))  # no implicit rank promotion
    return g * x * jax.lax.rsqrt(ms + eps)


def rotary(
    x: Float[Array, "T H k"], positions: Int[Array, " T"], base: float
) -> Float[Array, "T H k"]:
    """Rotary position embedding: rotate pairs ``(x_i, x_{i + k/2})`` by ``m theta_i``.

    ``theta_i = base^(-2 i / k)``, ``m`` the position (the half-split pairing of
    GPT-NeoX and Hugging Face's LLaMA). The dot product of a rotated query at ``m``
    and a rotated key at ``n`` depends on ``m - n`` only.

    Args:
        x: ``(T, H, k)`` queries or keys, ``k`` even.
        positions: ``(T,)`` integer positions.
        base: the rotary base.

    Returns:
        The rotated ``x`` (same shape and dtype).
    """
    half = x.shape[-1] // 2
    dt = _at_least_f32(x.dtype)  # angles in float32 or wider
    inv = base ** (-jnp.arange(half, dtype=dt) / half)
    angle = positions.astype(dt)[:, None] * inv[None, :]  # (T, k/2)
    cos = jnp.cos(angle)[:, None, :].astype(x.dtype)
    sin = jnp.sin(angle)[:, None, :].astype(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return jnp.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)


def swiglu(
    x: Float[Array, "... d"],
    w_gate: Float[Array, "d f"],
    w_up: Float[Array, "d f"],
    w_down: Float[Array, "f d"],
    precision: jax.lax.Precision = jax.lax.Precision.HIGHEST,
) -> Float[Array, "... d"]:
    """``(silu(x W_gate) * (x W_up)) W_down`` on rows (Shazeer 2020)."""
    gate = jax.nn.silu(_linear(x, w_gate, precision))
    return _linear(gate * _linear(x, w_up, precision), w_down, precision)


def causal_attention(
    x: Float[Array, "T d"], layer: Params, config: LlamaConfig
) -> Float[Array, "T d"]:
    """Multi-head causal softmax attention with rotary queries and keys.

    ``softmax(q_m . k_n / sqrt(k) + mask)`` with ``mask = -inf`` for ``n > m``;
    scores and softmax in float32 or wider.

    Args:
        x: ``(T, d)`` normalised inputs.
        layer: a layer's parameters (``wq``, ``wk``, ``wv``, ``wo``).
        config: the sizes.

    Returns:
        ``(T, d)`` the attention output after ``wo``.
    """
    t = x.shape[0]
    h, k, prec = config.heads, config.head_dim, config.precision
    pos = jnp.arange(t)
    q = rotary(_linear(x, layer["wq"], prec).reshape(t, h, k), pos, config.rope_base)
    kk = rotary(_linear(x, layer["wk"], prec).reshape(t, h, k), pos, config.rope_base)
    v = _linear(x, layer["wv"], prec).reshape(t, h, k)
    acc = _at_least_f32(x.dtype)
    scores = jnp.einsum(
        "mhk,nhk->hmn", q, kk, precision=prec, preferred_element_type=acc
    ) / math.sqrt(k)
    causal = jnp.tril(jnp.ones((t, t), bool))
    scores = jnp.where(causal[None], scores, -jnp.inf)
    weights = jax.nn.softmax(scores, axis=-1).astype(x.dtype)
    out = jnp.einsum("hmn,nhk->mhk", weights, v, precision=prec).reshape(t, h * k)
    return _linear(out, layer["wo"], prec)


def llama_forward(
    params: Params, tokens: Int[Array, " T"], config: LlamaConfig
) -> Float[Array, "T V"]:
    """Next-token logits of one sequence.

    Args:
        params: from :func:`init_llama`.
        tokens: ``(T,)`` token ids.
        config: the sizes (static).

    Returns:
        ``(T, V)`` logits; row ``m`` depends on ``tokens[: m + 1]`` only.
    """
    x = params["embed"][tokens]
    for layer in params["layers"]:
        x = x + causal_attention(
            rms_norm(x, layer["attn_norm"], config.norm_eps), layer, config
        )
        x = x + swiglu(
            rms_norm(x, layer["mlp_norm"], config.norm_eps),
            layer["w_gate"],
            layer["w_up"],
            layer["w_down"],
            config.precision,
        )
    x = rms_norm(x, params["final_norm"], config.norm_eps)
    acc = _at_least_f32(x.dtype)
    return jnp.einsum(
        "td,dv->tv",
        x,
        params["head"],
        precision=config.precision,
        preferred_element_type=acc,
    )


def llama_sequence_loss(
    params: Params, tokens: Int[Array, " T1"], config: LlamaConfig
) -> Float[Array, ""]:
    """Mean next-token cross-entropy of one sequence (reads ``[:-1]``, predicts
    ``[1:]``)."""
    logits = llama_forward(params, tokens[:-1], config)
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, tokens[1:, None], axis=-1))


def llama_loss(
    params: Params, tokens: Int[Array, "B T1"], config: LlamaConfig
) -> Float[Array, ""]:
    """Mean of :func:`llama_sequence_loss` over a batch (vmapped)."""
    return jnp.mean(
        jax.vmap(llama_sequence_loss, in_axes=(None, 0, None))(params, tokens, config)
    )


def flops_per_token(config: LlamaConfig, seq_len: int) -> float:
    """Training FLOPs per token: ``6 N`` plus attention's ``12 L T d``.

    ``N`` counts the matrices that multiply (hidden matrices and the head, not the
    embedding lookup); the attention term counts ``q k^T`` and ``weights v`` forward
    and backward at the mean causal length ``T / 2`` (PaLM's MFU convention, halved
    for the mask).

    Args:
        config: the sizes.
        seq_len: ``T``, tokens the model reads per sequence.

    Returns:
        FLOPs per trained token.
    """
    d, f = config.dim, config.ffn
    n = config.layers * (4 * d * d + 3 * d * f) + config.vocab_size * d
    return 6.0 * n + 12.0 * config.layers * d * (seq_len / 2)
