"""The models of issue 12's framework suite, as JAX functions of one input array.

:func:`make_case` returns ``(f, x)``: a function closed over random parameters and a point. The
names and full sizes are the issue's; ``scale`` divides every width (at least 2 kept) for tests
and quick runs. Both the tests and the benchmark scripts import these, so the figures in
``benchmarks/RESULTS.md`` are measured on the models the tests check.

================  ======================================================================
``wide_in``       MLP 784,512,tanh,512,tanh,10
``wide_out``      MLP 10,512,tanh,512,tanh,784
``hourglass``     MLP 4096,64,tanh,4096,tanh,64,tanh,4096
``residual``      residual MLP block ``x + W2·tanh(W1·x + b1) + b2`` (512 wide, 2048 hidden),
                  then tanh
``attention``     a transformer block on 64 tokens × 128: single-head self-attention with a
                  residual connection, layer norm, a 4× MLP with residual, d/d input
``cnn``           1×28×28, conv 8 3×3, relu, conv 16 3×3 stride 2, relu, dense 10 (lax.conv)
``scalar_loss``   a scalar loss (mean squared error of the wide-in MLP against a target)
================  ======================================================================
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

__all__ = ["CASES", "make_case", "mlp"]

#: Case names, in the order of the issue.
CASES: tuple[str, ...] = (
    "wide_in",
    "wide_out",
    "hourglass",
    "residual",
    "attention",
    "cnn",
    "scalar_loss",
)

_MLPS = {
    "wide_in": (784, 512, 512, 10),
    "wide_out": (10, 512, 512, 784),
    "hourglass": (4096, 64, 4096, 64, 4096),
}


def _w(scale: int) -> Callable[[int], int]:
    return lambda n: max(2, n // scale)


def mlp(widths: tuple[int, ...], dtype: str = "float32", seed: int = 0) -> Callable[[Any], Any]:
    """An MLP ``x ↦ W_L tanh(⋯ tanh(W_1 x + b_1) ⋯) + b_L`` with the given widths.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> mlp((3, 4, 2))(jnp.ones(3)).shape
    (2,)

    Notes
    -----
    O(Σ widths_l·widths_{l+1}) to draw the parameters.
    """
    import jax
    import jax.numpy as jnp

    key = jax.random.PRNGKey(seed)
    params = []
    for a, b in itertools.pairwise(widths):
        key, k1, k2 = jax.random.split(key, 3)
        w = (jax.random.normal(k1, (a, b)) / jnp.sqrt(a)).astype(dtype)
        params.append((w, (0.1 * jax.random.normal(k2, (b,))).astype(dtype)))

    def f(x: Any) -> Any:
        for i, (w, b) in enumerate(params):
            x = x @ w + b
            if i < len(params) - 1:
                x = jnp.tanh(x)
        return x

    return f


def make_case(
    name: str, dtype: str = "float32", scale: int = 1, seed: int = 0
) -> tuple[Callable[[Any], Any], Any]:
    """``(f, x)`` for the case ``name`` (see the module table), widths divided by ``scale``.

    Raises
    ------
    SpecError
        An unknown name or a scale below 1.

    Examples
    --------
    >>> f, x = make_case("hourglass", scale=64)
    >>> x.shape, f(x).shape
    ((64,), (64,))

    Notes
    -----
    O(parameters).
    """
    import jax
    import jax.numpy as jnp

    from chainorder.errors import SpecError

    if name not in CASES:
        raise SpecError(f"unknown case {name!r}; expected one of {', '.join(CASES)}")
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise SpecError(f"scale is {scale!r}; expected an integer >= 1")
    w = _w(scale)
    key = jax.random.PRNGKey(seed + 1)
    key, kx = jax.random.split(key)

    def normal(k: Any, shape: tuple[int, ...], fan_in: int = 1) -> Any:
        return (jax.random.normal(k, shape) / jnp.sqrt(fan_in)).astype(dtype)

    if name in _MLPS:
        widths = tuple(w(n) for n in _MLPS[name])
        return mlp(widths, dtype, seed), normal(kx, (widths[0],))
    if name == "scalar_loss":
        widths = tuple(w(n) for n in _MLPS["wide_in"])
        net = mlp(widths, dtype, seed)
        target = normal(key, (widths[-1],))
        return (lambda x: jnp.mean((net(x) - target) ** 2)), normal(kx, (widths[0],))
    if name == "residual":
        d, h = w(512), w(2048)
        k1, k2, k3, k4 = jax.random.split(key, 4)
        w1, w2 = normal(k1, (d, h), d), normal(k2, (h, d), h)
        b1, b2 = normal(k3, (h,)) * 0.1, normal(k4, (d,)) * 0.1

        def residual(x: Any) -> Any:
            return jnp.tanh(x + jnp.tanh(x @ w1 + b1) @ w2 + b2)

        return residual, normal(kx, (d,))
    if name == "attention":
        t, d = w(64), w(128)
        ks = jax.random.split(key, 6)
        wq, wk, wv, wo = (normal(k, (d, d), d) for k in ks[:4])
        m1, m2 = normal(ks[4], (d, 4 * d), d), normal(ks[5], (4 * d, d), 4 * d)

        def norm(z: Any) -> Any:
            mu = jnp.mean(z, axis=-1, keepdims=True)
            var = jnp.mean((z - mu) ** 2, axis=-1, keepdims=True)
            return (z - mu) * jax.lax.rsqrt(var + 1e-5)

        def block(x: Any) -> Any:
            q, k, v = x @ wq, x @ wk, x @ wv
            a = jax.nn.softmax(q @ k.T / jnp.sqrt(d).astype(dtype), axis=-1)
            z = norm(x + (a @ v) @ wo)
            return z + jnp.tanh(z @ m1) @ m2

        return block, normal(kx, (t, d))
    # cnn
    c1, c2, hw = max(2, 8 // scale), max(2, 16 // scale), max(8, 28 // scale)
    ks = jax.random.split(key, 3)
    k1, k2 = normal(ks[0], (c1, 1, 3, 3), 9), normal(ks[1], (c2, c1, 3, 3), 9 * c1)
    out_hw = (hw - 2 - 3) // 2 + 1
    wd = normal(ks[2], (c2 * out_hw * out_hw, 10), c2 * out_hw * out_hw)

    def cnn(x: Any) -> Any:
        dn = ("NCHW", "OIHW", "NCHW")
        y = jax.nn.relu(
            jax.lax.conv_general_dilated(x[None], k1, (1, 1), "VALID", dimension_numbers=dn)
        )
        y = jax.nn.relu(jax.lax.conv_general_dilated(y, k2, (2, 2), "VALID", dimension_numbers=dn))
        return y.reshape(-1) @ wd

    return cnn, normal(kx, (1, hw, hw))
