"""The numpy + OpenBLAS peer of the capacity and gradient passes (what users write).

Blockwise over the queries, float32, the full candidate set per block:

- capacity: ``S = A_b V^T`` (one GEMM), copy the target scores, set them to ``-inf``,
  row max; margin = target - best rival;
- gradient: ``S = A_b V^T``, row max, ``exp(S - max)`` in place, row sums, ``E V``
  (second GEMM), the weighted ``(E V / z - V_t)^T U_b`` (third, small).

Run by ``benchmarks/bench_core.py`` in a subprocess whose environment has no
``OPENBLAS_CORETYPE`` (as numpy's users have it), on the same data (saved to an
``.npz``). Prints one JSON line: seconds (best of the repeats), counts, gradient.

Usage: ``python benchmarks/numpy_peer.py DATA.npz --blocks 256 1024 --repeats 3``
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def capacity(a: np.ndarray, v: np.ndarray, block: int) -> np.ndarray:
    """Margins of every query ``i`` against target ``i``, in blocks of rows."""
    m = a.shape[0]
    out = np.empty(m, np.float32)
    vt = np.ascontiguousarray(v.T)
    for start in range(0, m, block):
        stop = min(start + block, m)
        s = a[start:stop] @ vt
        rows = np.arange(stop - start)
        cols = np.arange(start, stop)
        target = s[rows, cols].copy()
        s[rows, cols] = -np.inf
        out[start:stop] = target - s.max(axis=1)
    return out


def gradient(
    a: np.ndarray, u: np.ndarray, v: np.ndarray, p: np.ndarray, block: int
) -> tuple[float, np.ndarray]:
    """Population loss and gradient ``sum_i p_i (E_softmax[v] - v_i) u_i^T``."""
    m = a.shape[0]
    vt = np.ascontiguousarray(v.T)
    grad = np.zeros((v.shape[1], u.shape[1]), np.float32)
    loss = 0.0
    for start in range(0, m, block):
        stop = min(start + block, m)
        s = a[start:stop] @ vt
        rows = np.arange(stop - start)
        target = s[rows, np.arange(start, stop)].copy()
        smax = s.max(axis=1, keepdims=True)
        np.subtract(s, smax, out=s)
        np.exp(s, out=s)
        z = s.sum(axis=1)
        loss += float(np.dot(p[start:stop], smax[:, 0] + np.log(z) - target))
        ebar = (s @ v) / z[:, None]
        coef = p[start:stop, None] * (ebar - v[start:stop])
        grad += coef.T @ u[start:stop]
    return loss, grad


def _best(fn, repeats: int) -> tuple[float, object]:
    out = fn()  # warm up (page in, thread pool)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", help=".npz with u, v, p, w (float32)")
    parser.add_argument("--blocks", type=int, nargs="+", default=[1024])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--what", choices=["capacity", "gradient", "both"], default="both"
    )
    args = parser.parse_args()
    data = np.load(args.data)
    u, v, p, w = (data[k].astype(np.float32) for k in ("u", "v", "p", "w"))
    a = u @ w.T
    result: dict[str, object] = {
        "numpy": np.__version__,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "blas": _blas_name(),
        "capacity": {},
        "gradient": {},
    }
    for block in args.blocks:
        if args.what in ("capacity", "both"):
            seconds, margins = _best(lambda b=block: capacity(a, v, b), args.repeats)
            result["capacity"][str(block)] = {  # type: ignore[index]
                "seconds": seconds,
                "count": int(np.sum(margins > 0)),
            }
        if args.what in ("gradient", "both"):
            seconds, (loss, grad) = _best(
                lambda b=block: gradient(a, u, v, p, b), args.repeats
            )
            result["gradient"][str(block)] = {  # type: ignore[index]
                "seconds": seconds,
                "loss": loss,
                "grad_norm": float(np.linalg.norm(grad)),
            }
    print(json.dumps(result))


def _blas_name() -> str | None:
    try:
        config = np.show_config(mode="dicts")
        return config["Build Dependencies"]["blas"]["name"]  # type: ignore[index]
    except Exception:  # reporting only
        return None


if __name__ == "__main__":
    main()
