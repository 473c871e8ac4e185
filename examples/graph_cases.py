"""The traced-graph benchmark functions of issue 8, shared by benchmarks/bench_graph.py and
the memory tests: an MLP, softmax cross-entropy, attention, layer norm, a GP data fit with
``np.linalg.solve`` and the lecture's kernel exercise (examples/kernel_exercise.py).

``CASES[name](scale)`` returns ``(f, args, wrt)``; ``scale=1`` gives the issue's sizes
(attention 32×16, GP N = 100), smaller scales give quick test sizes.
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import numpy as np

__all__ = ["CASES"]


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def mlp(scale: float = 1.0):
    """x ↦ W3 tanh(W2 tanh(W1 x + b1) + b2) + b3, widths 256-128-128-10 (scaled), d/dx."""
    r = _rng(1)
    w = [max(2, int(256 * scale)), max(2, int(128 * scale)), max(2, int(128 * scale)), 10]
    Ws = [r.standard_normal((b, a)) / np.sqrt(a) for a, b in itertools.pairwise(w)]
    bs = [r.standard_normal(b) for b in w[1:]]

    def f(x):
        h = x
        for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            h = W @ h + b
            if i < len(Ws) - 1:
                h = np.tanh(h)
        return h

    return f, (r.standard_normal(w[0]),), (0,)


def softmax_xent(scale: float = 1.0):
    """Cross-entropy of softmax(W x) against a one-hot label, d/dx (x of 256·scale)."""
    r = _rng(2)
    n, c = max(2, int(256 * scale)), 10
    W = r.standard_normal((c, n)) / np.sqrt(n)
    label = np.eye(c)[3]

    def f(x):
        z = W @ x
        e = np.exp(z)
        p = e / e.sum()
        return -(label * np.log(p)).sum()

    return f, (r.standard_normal(n),), (0,)


def attention(scale: float = 1.0):
    """One attention head on T tokens of width d (32×16 at scale 1), d/dX."""
    r = _rng(3)
    t, d = max(2, int(32 * scale)), max(2, int(16 * scale))
    Wq, Wk, Wv = (r.standard_normal((d, d)) / np.sqrt(d) for _ in range(3))

    def f(X):
        Q, K, V = X @ Wq, X @ Wk, X @ Wv
        S = (Q @ K.T) / np.sqrt(d)
        E = np.exp(S)
        P = E / E.sum(axis=1, keepdims=True)
        return P @ V

    return f, (r.standard_normal((t, d)),), (0,)


def layer_norm(scale: float = 1.0):
    """Layer norm of 16 rows of width 64 (scaled) with gain and bias, d/dx."""
    r = _rng(4)
    rows, w = max(2, int(16 * scale)), max(2, int(64 * scale))
    g, b = r.standard_normal(w), r.standard_normal(w)

    def f(x):
        mu = x.mean(axis=-1, keepdims=True)
        c = x - mu
        var = (c * c).mean(axis=-1, keepdims=True)
        return c / np.sqrt(var + 1e-5) * g + b

    return f, (r.standard_normal((rows, w)),), (0,)


def gp_datafit(scale: float = 1.0):
    """GP data fit ½ yᵀ (K + σ² I)⁻¹ y with a squared-exponential K over N×2 points
    (N = 100 at scale 1), by ``np.linalg.solve``, d/dX."""
    r = _rng(5)
    n = max(3, int(100 * scale))
    y = r.standard_normal(n)
    noise = 0.1 * np.eye(n)

    def f(X):
        D = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=-1)
        K = np.exp(-0.5 * D) + noise
        return 0.5 * (y @ np.linalg.solve(K, y))

    return f, (r.standard_normal((n, 2)),), (0,)


def kernel_exercise(scale: float = 1.0):
    """The lecture's kernel exercise yᵀ (K₁ + K₂)⁻¹ y, N = 50 (scaled), d/d(ℓ, X)."""
    path = Path(__file__).resolve().parent / "kernel_exercise.py"
    spec = importlib.util.spec_from_file_location("kernel_exercise_case", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.f, mod.example_args(max(3, int(50 * scale))), (0, 1)


CASES = {
    "mlp": mlp,
    "softmax_xent": softmax_xent,
    "attention": attention,
    "layer_norm": layer_norm,
    "gp_datafit": gp_datafit,
    "kernel_exercise": kernel_exercise,
}
