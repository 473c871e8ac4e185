"""JAX versions of the frameworks suite's models (:mod:`chainorder.frameworks.models`).

Pure functions of the input with the parameters closed over, written with ``jax.numpy`` and
``jax.lax.conv_general_dilated`` to compute exactly what the PyTorch modules compute (``Linear``
is ``x @ W.T + b``, ``LayerNorm`` uses the biased variance and ``eps = 1e-5``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["build_jax"]

_EPS = 1e-5


def build_jax(model: Any, dtype: Any = "float32") -> Callable[[Any], Any]:
    """The JAX function of ``model`` with parameters cast to ``dtype``.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.frameworks.models import make_model
    >>> f = build_jax(make_model("mlp-wide-out"), "float32")
    >>> f(np.zeros(10, dtype=np.float32)).shape
    (784,)

    Notes
    -----
    O(number of parameters) to build.
    """
    import jax.numpy as jnp

    p = {k: jnp.asarray(v, dtype=dtype) for k, v in model.params.items()}

    def linear(x: Any, key: str) -> Any:
        return x @ p[f"w{key}"].T + p[f"b{key}"]

    def norm(x: Any, key: str) -> Any:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return (x - mean) / jnp.sqrt(var + _EPS) * p[f"{key}_g"] + p[f"{key}_b"]

    if model.kind == "mlp":
        n = len(model.widths) - 1

        def mlp(x: Any) -> Any:
            for i in range(n):
                x = linear(x, str(i))
                if i < n - 1:
                    x = jnp.tanh(x)
            return x

        if "target" in p:
            return lambda x: ((mlp(x) - p["target"]) ** 2).mean()
        return mlp
    if model.kind == "residual":
        return lambda x: x + linear(jnp.tanh(linear(norm(x, "ln"), "0")), "1")
    if model.kind == "transformer":
        heads = 4

        def block(x: Any) -> Any:
            t, d = x.shape
            hd = d // heads
            h = norm(x, "ln1")
            q, k, v = (linear(h, w).reshape(t, heads, hd).transpose(1, 0, 2) for w in "qkv")
            scores = (q @ k.transpose(0, 2, 1)) * (1.0 / math.sqrt(hd))
            a = jnp.exp(scores - scores.max(axis=-1, keepdims=True))
            a = a / a.sum(axis=-1, keepdims=True)
            x = x + linear((a @ v).transpose(1, 0, 2).reshape(t, d), "o")
            return x + linear(jnp.tanh(linear(norm(x, "ln2"), "0")), "1")

        return block
    if model.kind == "cnn":
        from jax import lax

        def conv(x: Any, i: int) -> Any:
            y = lax.conv_general_dilated(
                x[None], p[f"c{i}"], (1 + i, 1 + i), "VALID",
                dimension_numbers=("NCHW", "OIHW", "NCHW"),
            )[0]  # fmt: skip
            return y + p[f"cb{i}"][:, None, None]

        def cnn(x: Any) -> Any:
            h = jnp.maximum(conv(jnp.maximum(conv(x, 0), 0), 1), 0)
            return linear(h.reshape(-1), "0")

        return cnn
    raise AssertionError(f"unknown model kind {model.kind}")
