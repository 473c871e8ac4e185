"""The functions of the engine benchmark (issue 8 point 4), written once for any array
namespace: NumPy (traced by chainorder), jax.numpy, and torch (through :class:`TorchNS`).

Each case: ``name``, ``make(ns)`` → the function, ``args(rng)`` → its NumPy arguments,
``argnums``; all arguments not in ``argnums`` are fixed data.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CASES", "Case", "NumpyNS", "TorchNS"]


class NumpyNS:
    """The few array functions the benchmark functions use, for NumPy and jax.numpy."""

    def __init__(self, xp: Any) -> None:
        self.xp = xp

    def __getattr__(self, name: str) -> Any:
        return getattr(self.xp, name)

    def sum(self, a, axis=None, keepdims=False):
        return a.sum(axis=axis, keepdims=keepdims)

    def mean(self, a, axis=None, keepdims=False):
        return a.mean(axis=axis, keepdims=keepdims)

    def max(self, a, axis=None, keepdims=False):
        return a.max(axis=axis, keepdims=keepdims)

    def solve(self, a, b):
        return self.xp.linalg.solve(a, b)

    def inv(self, a):
        return self.xp.linalg.inv(a)


class TorchNS:
    """The same functions for PyTorch tensors."""

    def __init__(self) -> None:
        import torch

        self.xp = torch

    def __getattr__(self, name: str) -> Any:
        return getattr(self.xp, name)

    def sum(self, a, axis=None, keepdims=False):
        return a.sum() if axis is None else a.sum(dim=axis, keepdim=keepdims)

    def mean(self, a, axis=None, keepdims=False):
        return a.mean() if axis is None else a.mean(dim=axis, keepdim=keepdims)

    def max(self, a, axis=None, keepdims=False):
        return a.max() if axis is None else self.xp.amax(a, dim=axis, keepdim=keepdims)

    def solve(self, a, b):
        return self.xp.linalg.solve(a, b)

    def inv(self, a):
        return self.xp.linalg.inv(a)

    def eye(self, n):
        return self.xp.eye(n, dtype=self.xp.float64)

    def linspace(self, a, b, n):
        return self.xp.linspace(a, b, n, dtype=self.xp.float64)

    def sqrt(self, a):
        return self.xp.sqrt(self.xp.as_tensor(a, dtype=self.xp.float64))


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    make: Callable[[Any], Callable[..., Any]]
    args: Callable[[np.random.Generator], tuple]
    argnums: int | tuple[int, ...]


def _mlp(ns):
    def f(x, W1, b1, W2, b2, W3, b3):
        h = ns.tanh(W1 @ x + b1)
        h = ns.tanh(W2 @ h + b2)
        return W3 @ h + b3

    return f


def _mlp_args(rng):
    sizes = [256, 128, 128, 10]
    out: list[np.ndarray] = [rng.standard_normal(256)]
    for a, b in itertools.pairwise(sizes):
        out += [rng.standard_normal((b, a)) / np.sqrt(a), rng.standard_normal(b)]
    return tuple(out)


def _mlp_loss(ns):
    def f(W1, W2, W3, x, y):
        h = ns.tanh(x @ W1.T)
        h = ns.tanh(h @ W2.T)
        z = h @ W3.T
        return ns.mean((z - y) ** 2)

    return f


def _mlp_loss_args(rng):
    return (
        rng.standard_normal((128, 256)) / 16,
        rng.standard_normal((128, 128)) / 11,
        rng.standard_normal((10, 128)) / 11,
        rng.standard_normal((32, 256)),
        rng.standard_normal((32, 10)),
    )


def _softmax_ce(ns):
    def f(z, y):
        s = z - ns.max(z, axis=-1, keepdims=True)
        logp = s - ns.log(ns.sum(ns.exp(s), axis=-1, keepdims=True))
        return -ns.mean(ns.sum(y * logp, axis=-1))

    return f


def _softmax_ce_args(rng):
    y = np.eye(100)[rng.integers(0, 100, 64)]
    return rng.standard_normal((64, 100)), y


def _attention(readout: bool):
    def make(ns):
        def f(x, Wq, Wk, Wv, w):
            q, k, v = x @ Wq, x @ Wk, x @ Wv
            s = q @ k.T / ns.sqrt(q.shape[-1] * 1.0)
            e = ns.exp(s - ns.max(s, axis=-1, keepdims=True))
            out = (e / ns.sum(e, axis=-1, keepdims=True)) @ v
            return out @ w if readout else out

        return f

    return make


def _attention_args(t, d):
    def args(rng):
        return (
            rng.standard_normal((t, d)),
            *(rng.standard_normal((d, d)) / np.sqrt(d) for _ in range(3)),
            rng.standard_normal(d),
        )

    return args


def _layer_norm(ns):
    def f(x, g, b):
        mu = ns.mean(x, axis=-1, keepdims=True)
        var = ns.mean((x - mu) ** 2, axis=-1, keepdims=True)
        return g * (x - mu) / ns.sqrt(var + 1e-5) + b

    return f


def _layer_norm_args(rng):
    return rng.standard_normal((16, 64)), rng.standard_normal(64), rng.standard_normal(64)


def _gp(ns):
    def f(ell, X, y):
        d = (X[:, None, :] - X[None, :, :]) / ell
        K = ns.exp(-0.5 * ns.sum(d * d, axis=-1)) + 0.1 * ns.eye(X.shape[0])
        return 0.5 * (y @ ns.solve(K, y))

    return f


def _gp_args(n):
    def args(rng):
        X = rng.standard_normal((n, 2))
        return np.array([0.8, 1.2]), X, np.sin(X[:, 0]) + 0.1 * rng.standard_normal(n)

    return args


def _kernel(ns):
    def f(ell, X):
        y = ns.linspace(-1.0, 1.0, X.shape[0])
        K = 0.0
        for a in range(2):
            D = (X[:, None, a] - X[None, :, a]) ** 2
            K = K + ns.exp(-D / (2 * ell[a] ** 2))
        return y @ ns.inv(K) @ y

    return f


def _kernel_args(rng):
    return np.array([0.1, 0.12]), rng.standard_normal((50, 2))


CASES = (
    Case("MLP d/dx", "256-128-128-10, J 10×256", _mlp, _mlp_args, 0),
    Case("MLP d/dW", "loss of 256-128-128-10 on 32 samples, grad of the 3 weights",
         _mlp_loss, _mlp_loss_args, (0, 1, 2)),
    Case("softmax cross-entropy", "64×100 logits, grad", _softmax_ce, _softmax_ce_args, 0),
    Case("attention 32×16", "d out / d x, J 512×512", _attention(False),
         _attention_args(32, 16), 0),
    Case("attention 128×64", "readout (128) / d x, J 128×8192", _attention(True),
         _attention_args(128, 64), 0),
    Case("layer norm", "16×64, J 1024×1024", _layer_norm, _layer_norm_args, 0),
    Case("GP data-fit N=100", "½ yᵀK⁻¹y by solve, grad of ℓ and X", _gp, _gp_args(100),
         (0, 1)),
    Case("GP data-fit N=400", "½ yᵀK⁻¹y by solve, grad of ℓ and X", _gp, _gp_args(400),
         (0, 1)),
    Case("kernel exercise", "lecture 3 q2, N=50, grad of ℓ and X", _kernel, _kernel_args,
         (0, 1)),
)  # fmt: skip
