"""The LLaMA-style decoder against direct formulas and dense references (float64)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import assert_close

from muonjax import transformer as tx

CFG = tx.LlamaConfig(vocab_size=23, dim=16, layers=2, heads=4, hidden=24)
# Jitted once each (eager evaluation would dispatch op by op).
fwd = jax.jit(tx.llama_forward, static_argnums=2)
loss = jax.jit(tx.llama_loss, static_argnums=2)


@pytest.fixture(scope="module")
def params64():
    return tx.init_llama(CFG, key=jax.random.key(0), dtype=jnp.float64)


def test_rms_norm_is_the_direct_formula():
    x = np.random.default_rng(0).normal(size=(5, 7))
    g = np.random.default_rng(1).normal(size=7)
    want = g * x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + 1e-6)
    assert_close(tx.rms_norm(jnp.asarray(x), jnp.asarray(g), 1e-6), want)


def test_swiglu_is_the_direct_formula():
    rng = np.random.default_rng(2)
    x, wg, wu, wd = (rng.normal(size=s) for s in [(3, 6), (6, 10), (6, 10), (10, 6)])
    a = x @ wg
    want = ((a / (1 + np.exp(-a))) * (x @ wu)) @ wd
    assert_close(tx.swiglu(*(jnp.asarray(v) for v in (x, wg, wu, wd))), want)


def test_rotary_rotates_pairs_and_scores_depend_only_on_the_offset():
    rng = np.random.default_rng(3)
    t, h, k, base = 9, 2, 8, 100.0
    x = rng.normal(size=(t, h, k))
    pos = np.arange(t)
    got = np.asarray(tx.rotary(jnp.asarray(x), jnp.asarray(pos), base))
    # Direct formula: pair (x_i, x_{i+k/2}) as the complex number x_i + i x_{i+k/2},
    # multiplied by exp(i m theta_i), theta_i = base^(-2i/k).
    theta = base ** (-2 * np.arange(k // 2) / k)
    z = (x[..., : k // 2] + 1j * x[..., k // 2 :]) * np.exp(
        1j * pos[:, None, None] * theta
    )
    assert_close(got, np.concatenate([z.real, z.imag], axis=-1))
    assert_close(np.linalg.norm(got, axis=-1), np.linalg.norm(x, axis=-1))
    # q at m, key at n: the score depends on m - n only.
    q, kv = rng.normal(size=(1, 1, k)), rng.normal(size=(1, 1, k))

    def score(m, n):
        qm = tx.rotary(jnp.asarray(q), jnp.asarray([m]), base)
        kn = tx.rotary(jnp.asarray(kv), jnp.asarray([n]), base)
        return float(jnp.sum(qm * kn))

    for m, n in [(5, 2), (7, 7), (3, 6)]:
        ref = score(m, n)
        for shift in (1, 11, 40):
            assert score(m + shift, n + shift) == pytest.approx(ref, rel=1e-12)
    assert score(5, 2) != pytest.approx(score(5, 3), rel=1e-6)


def _dense_attention(x, layer, heads, base):
    """Reference: per head, softmax over an explicit causal mask, in numpy."""
    t, d = x.shape
    k = d // heads
    pos = np.arange(t)
    q = np.asarray(
        tx.rotary(jnp.asarray((x @ layer["wq"]).reshape(t, heads, k)), pos, base)
    )
    kk = np.asarray(
        tx.rotary(jnp.asarray((x @ layer["wk"]).reshape(t, heads, k)), pos, base)
    )
    v = (x @ layer["wv"]).reshape(t, heads, k)
    mask = np.tril(np.ones((t, t), bool))
    out = np.zeros((t, heads, k))
    for hh in range(heads):
        s = q[:, hh] @ kk[:, hh].T / np.sqrt(k)
        w = np.asarray(jax.nn.softmax(jnp.where(mask, s, -jnp.inf), axis=-1))
        out[:, hh] = w @ v[:, hh]
    return out.reshape(t, d) @ layer["wo"]


def test_attention_matches_a_dense_masked_softmax(params64):
    layer = jax.tree.map(np.asarray, params64["layers"][0])
    x = np.random.default_rng(4).normal(size=(7, CFG.dim))
    got = tx.causal_attention(jnp.asarray(x), params64["layers"][0], CFG)
    assert_close(got, _dense_attention(x, layer, CFG.heads, CFG.rope_base))


def test_a_later_token_never_changes_an_earlier_logit(params64):
    tokens = jnp.asarray([3, 1, 4, 1, 5, 9, 2, 6, 5, 3])
    base = fwd(params64, tokens, CFG)
    for j in (0, 4, 9):
        changed = tokens.at[j].set((tokens[j] + 7) % CFG.vocab_size)
        out = fwd(params64, changed, CFG)
        np.testing.assert_array_equal(out[:j], base[:j])  # exactly, not approximately
        assert not np.allclose(out[j], base[j])


def test_the_loss_is_optax_cross_entropy_and_its_gradient_is_jax_grad(params64):
    tokens = jnp.asarray([[3, 1, 4, 1, 5, 9], [2, 6, 5, 3, 5, 8]])
    logits = jax.vmap(lambda t: fwd(params64, t[:-1], CFG))(tokens)
    want = optax.softmax_cross_entropy_with_integer_labels(logits, tokens[:, 1:]).mean()
    assert_close(loss(params64, tokens, CFG), want)
    # Directional derivative of the loss against a central difference (float64).
    grads = jax.jit(jax.grad(tx.llama_loss), static_argnums=2)(params64, tokens, CFG)
    direction = jax.tree.map(
        lambda p: jax.random.normal(jax.random.key(9), p.shape, p.dtype), params64
    )
    eps = 1e-6
    plus = jax.tree.map(lambda p, v: p + eps * v, params64, direction)
    minus = jax.tree.map(lambda p, v: p - eps * v, params64, direction)
    fd = (loss(plus, tokens, CFG) - loss(minus, tokens, CFG)) / (2 * eps)
    dot = sum(
        jnp.vdot(g, v)
        for g, v in zip(jax.tree.leaves(grads), jax.tree.leaves(direction), strict=True)
    )
    assert float(dot) == pytest.approx(float(fd), rel=1e-6)


def test_init_shapes_layout_and_dtype():
    p32 = tx.init_llama(CFG, key=jax.random.key(1))
    assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(p32))
    assert p32["embed"].shape == (CFG.vocab_size, CFG.dim)
    assert p32["head"].shape == (CFG.dim, CFG.vocab_size)  # untied, (d_in, d_out)
    layer = p32["layers"][0]
    assert layer["w_gate"].shape == (CFG.dim, CFG.ffn)
    assert layer["w_down"].shape == (CFG.ffn, CFG.dim)
    assert set(layer) == {*tx.HIDDEN, "attn_norm", "mlp_norm"}
    out = fwd(p32, jnp.arange(5), CFG)
    assert out.shape == (5, CFG.vocab_size) and out.dtype == jnp.float32
    assert tx.LlamaConfig(vocab_size=10, dim=48).ffn == 128  # 8 d / 3 -> 16k


def test_flops_per_token_counts_the_matrices():
    d, f, v, layers, t = CFG.dim, CFG.ffn, CFG.vocab_size, CFG.layers, 12
    n = layers * (4 * d * d + 3 * d * f) + v * d
    assert tx.flops_per_token(CFG, t) == 6 * n + 12 * layers * d * t / 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"vocab_size": 0}, "vocab_size"),
        ({"dim": 30, "heads": 4}, "dim"),
        ({"dim": 12, "heads": 4}, "dim"),  # head width 3 is odd
        ({"layers": 0}, "layers"),
        ({"hidden": -1}, "hidden"),
        ({"rope_base": 1.0}, "rope_base"),
        ({"norm_eps": 0.0}, "norm_eps"),
    ],
)
def test_bad_configs_raise_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        tx.LlamaConfig(**{"vocab_size": 10, **kwargs})


def test_every_matrix_product_of_the_facts_modules_states_its_precision():
    # JAX runs float32 matmuls in TF32 on NVIDIA GPUs unless told otherwise.
    import ast
    from pathlib import Path

    products = {"matmul", "dot", "einsum", "tensordot", "inner", "vdot", "matvec"}
    root = Path(tx.__file__).parent
    unstated = []
    for name in ("facts", "llama", "longtail", "longtail_train", "checkpoint"):
        path = root / f"{name}.py"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
                unstated.append(f"{path.name}:{node.lineno} uses @")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in products
                and not any(k.arg == "precision" for k in node.keywords)
            ):
                unstated.append(f"{path.name}:{node.lineno} {node.func.attr}")
    assert unstated == []
