"""Cases of the ops of issue 9 (one function per registry op, used by test_graph_ops.py),
and a skip-guarded comparison of each with ``jax.jacfwd``."""

from __future__ import annotations

import numpy as np
import pytest

from chainorder.graph.sweep import jacobian_forward, jacobian_reverse
from chainorder.graph.trace import trace

R = np.random.default_rng(11)
M34 = R.standard_normal((3, 4))
M23 = R.standard_normal((2, 3))
V4 = R.standard_normal(4)
V3 = R.standard_normal(3)
T234 = R.standard_normal((2, 3, 4))
U4 = R.uniform(-0.8, 0.8, 4)
P4 = R.uniform(0.5, 2.0, 4)
B = R.standard_normal((3, 3))
SPD = B @ B.T + 3 * np.eye(3)
A3 = R.standard_normal((3, 3)) + 3 * np.eye(3)
LABELS = np.array([2, 0, 3])


def _softmax_xent(z, labels=LABELS):
    zs = z - np.max(z, axis=1, keepdims=True)
    logp = zs - np.log(np.sum(np.exp(zs), axis=1, keepdims=True))
    return -logp[np.arange(3), labels].mean()


# op name -> (function, args): the op must appear in the traced graph
MORE_CASES = {
    "max": (
        lambda x: np.max(x, axis=1) + x.max() + np.amax(x, axis=0, keepdims=True).sum(),
        (M34,),
    ),
    "min": (lambda x: np.min(x, axis=0) + x.min(axis=1, keepdims=True).sum() + np.amin(x), (M34,)),
    "minimum": (lambda x, y: np.minimum(x, y), (V4, V4[::-1].copy())),
    "where": (lambda x: np.where(np.abs(x) < 0.5, 0.5 * x**2, np.abs(x) - 0.25), (M34,)),
    "clip": (lambda x: np.clip(x, -0.5, 0.5) + x.clip(min=0.0), (M34,)),
    "log1p": (lambda x: np.log1p(x), (P4,)),
    "expm1": (lambda x: np.expm1(x), (V4,)),
    "var": (lambda x: np.var(x, axis=1) + x.var(ddof=1), (M34,)),
    "std": (lambda x: np.std(x, axis=0, keepdims=True) + x.std(), (M34,)),
    "concatenate": (
        lambda x, y: (
            np.concatenate([x, 2 * y, np.ones((1, 4))], axis=0)[:3]
            + np.hstack([x[:, :2], y[:3, 2:]])
        ),
        (M34, M34),
    ),
    "stack": (
        lambda x, y: (
            np.stack([x, y], axis=1)
            + np.array([x, y]).transpose(1, 0, 2)
            + np.asarray([[x[0, 0], 1.0, y[1, 1]]]).sum()
        ),
        (M34, M34),
    ),
    "outer": (lambda x, y: np.outer(x, y) + np.einsum("i,j", x, y), (V4, V3)),
    "diag": (lambda x, m: np.diag(x) @ m + np.diag(m @ m.T, 1).sum(), (V4, M34.T)),
    "diagonal": (lambda m: np.diagonal(m) + m.diagonal(1)[:1].sum(), (A3,)),
    "astype": (lambda x: x.astype(np.float64) * 2 + np.astype(x, "float64"), (V4,)),
    "copy": (lambda x: np.copy(x) * x.copy(), (V4,)),
    "squeeze": (lambda x: np.squeeze(x[:, None, :1]) + x[None].squeeze(0)[:, 0], (M34,)),
    "expand_dims": (lambda x: np.expand_dims(x, 0) * np.expand_dims(x, (1, 2)), (V4,)),
    "broadcast_to": (lambda x: np.broadcast_to(x, (3, 4)) * 2.0, (V4,)),
    "swapaxes": (lambda x: np.swapaxes(x, 0, 2) + x.swapaxes(2, 0), (T234,)),
    "moveaxis": (lambda x: np.moveaxis(x, 0, -1) * 3.0, (T234,)),
    "getitem": (
        lambda x: (
            x[np.arange(3), LABELS]
            + x[x > 0].sum()
            + x[np.array([0, 0, 2])][:, 1:3].sum()
            + x[:, None, 1:][..., -1, 0]
        ),
        (M34,),
    ),
    "batched_matmul": (
        lambda a, b, c, d: (a @ b).sum(0) + (c @ d).sum((0, 2))[:1] + (b.T @ a[0, 0]).sum(),
        (
            R.standard_normal((2, 5, 4)),
            R.standard_normal((4, 3)),
            R.standard_normal((2, 3, 4)),
            R.standard_normal((2, 4, 5)),
        ),
    ),
    "broadcast_matmul": (
        lambda a, b: a @ b,
        (R.standard_normal((2, 1, 3, 4)), R.standard_normal((5, 4, 2))),
    ),
    "softmax_xent": (_softmax_xent, (M34,)),
    "sum": (lambda x: np.sum(x, axis=(0, 2), keepdims=True) + x.sum(1).sum(), (T234,)),
    "mean": (lambda x: np.mean(x, axis=-1, keepdims=True) * x.mean((0, 1)), (T234,)),
    "prod": (
        lambda x: np.prod(x, axis=1) + x.prod(keepdims=True),
        (np.array([[1.0, 0.0, 2.0], [0.5, 3.0, -1.0]]),),
    ),
    "cumsum": (lambda x: np.cumsum(x, axis=1) + x.cumsum().reshape(3, 4), (M34,)),
    "cumprod": (
        lambda x: np.cumprod(x, axis=0) + x.cumprod()[:4],
        (np.array([[1.0, 0.0, 2.0, 0.3], [0.5, 3.0, -1.0, 2.0], [2.0, 1.5, 0.7, -0.4]]),),
    ),
    "sort": (lambda x: np.sort(x, axis=1) * np.sort(x, axis=None)[:4], (M34,)),
    "take": (
        lambda x: np.take(x, np.array([2, 0, 0]), axis=1) + x.take(np.array([1, 5, 7]))[None, :],
        (M34,),
    ),
    "take_along_axis": (
        lambda x: (
            np.take_along_axis(x, np.argmax(x, axis=1)[:, None], axis=1)
            + np.take_along_axis(x, np.argsort(x, axis=0), axis=0)[:, :1]
        ),
        (M34,),
    ),
    "flip": (lambda x: np.flip(x, 0) + np.flip(x), (M34,)),
    "roll": (lambda x: np.roll(x, 2, axis=1) + np.roll(x, -1), (M34,)),
    "pad": (
        lambda x: (
            np.pad(x, ((1, 1), (2, 0)))
            + np.pad(x, 1, mode="edge")
            + np.pad(x, ((0, 2), (1, 1)), mode="reflect")
            + np.pad(x, 1, constant_values=3.0)
        ),
        (M34,),
    ),
    "tile": (lambda x: np.tile(x, (2, 1)) * 2.0, (M34,)),
    "repeat": (
        lambda x: np.repeat(x, 2, axis=0) + x.repeat(np.array([1, 2, 1, 2]), axis=1)[:1].sum(),
        (M34,),
    ),
    "split": (lambda x: np.split(x, 2, axis=1)[0] * np.split(x, [1, 3], axis=1)[1], (M34,)),
    "triu": (lambda x: np.triu(x) + np.triu(x, 1) @ x.T[:4, :3].T[:, :3].T[:4], (A3.T[:3, :3],)),
    "tril": (lambda x: np.tril(x, -1) * 2 + np.tril(x), (A3,)),
    "trace": (lambda x, t: np.trace(x) + x.trace(1) + np.trace(t, axis1=1, axis2=2), (A3, T234)),
    "logaddexp": (lambda x, y: np.logaddexp(x, y), (V4, V4[::-1].copy())),
    "hypot": (lambda x, y: np.hypot(x, y), (V4, P4)),
    "arctan2": (lambda y, x: np.arctan2(y, x), (V4, V4[::-1] + 0.1)),
    "sinh": (lambda x: np.sinh(x), (V4,)),
    "cosh": (lambda x: np.cosh(x), (V4,)),
    "tan": (lambda x: np.tan(x), (U4,)),
    "arcsin": (lambda x: np.arcsin(x), (U4,)),
    "arccos": (lambda x: np.arccos(x), (U4,)),
    "arctan": (lambda x: np.arctan(x), (V4,)),
    "arcsinh": (lambda x: np.arcsinh(x), (V4,)),
    "exp2": (lambda x: np.exp2(x), (V4,)),
    "log2": (lambda x: np.log2(x), (P4,)),
    "log10": (lambda x: np.log10(x), (P4,)),
    "reciprocal": (lambda x: np.reciprocal(x), (P4,)),
    "cbrt": (lambda x: np.cbrt(x), (P4,)),
    "power": (lambda x, p: x**p + 2.0**p + np.power(x, 3), (P4, V4)),
    "cholesky": (lambda b: np.linalg.cholesky(b @ b.T + 3 * np.eye(3)), (B,)),
    "stacked_inv": (lambda t: np.linalg.inv(t[:, :, :3] + 3 * np.eye(3)), (T234,)),
    "stacked_solve": (
        lambda t, b: np.linalg.solve(t[:, :, :3] + 3 * np.eye(3), b),
        (T234, R.standard_normal((2, 3, 2))),
    ),
    "det": (lambda a: np.linalg.det(a) + np.linalg.det(np.stack([a, a.T @ a])).sum(), (A3,)),
    "slogdet": (lambda a: np.linalg.slogdet(a)[1] * np.linalg.slogdet(a)[0], (A3,)),
    "norm": (
        lambda x, m: (
            np.linalg.norm(x)
            + np.linalg.norm(m, axis=1)
            + np.linalg.norm(m, "fro")
            + np.linalg.norm(x, 1)
        ),
        (V4, M34.T),
    ),
    "einsum_diagonal": (
        lambda a, b, c: (
            np.einsum("ii,ij,jk,k->", a, a, b, c) + np.einsum("...ij,...jk", a[None], b[None]).sum()
        ),
        (A3, M34, V4),
    ),
    "zero_derivative": (
        lambda x: x * np.sign(x) + np.floor(x) + np.round(x) + x * (x > 0) + np.ceil(x) * x,
        (V4,),
    ),
}
#: Composite cases that check op families rather than a single registry name.
COMPOSITE = {
    "stacked_solve",
    "stacked_inv",
    "batched_matmul",
    "outer",
    "broadcast_matmul",
    "softmax_xent",
    "split",
    "zero_derivative",
}


def gp_nll(x, y):
    """Gaussian-process negative log likelihood: cholesky, solve, slogdet (a real model)."""
    d = x[:, None] - x[None, :]
    k = np.exp(-0.5 * d**2) + 0.1 * np.eye(x.shape[0])
    L = np.linalg.cholesky(k)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return 0.5 * y @ alpha + np.log(np.diag(L)).sum()


@pytest.mark.parametrize("name", sorted(MORE_CASES))
def test_case_matches_jax_jacfwd(name: str) -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = pytest.importorskip("jax.numpy")
    fn, args = MORE_CASES[name]
    graph = trace(fn, *args)
    expected = []
    for k in range(len(args)):
        jac = jax.jacfwd(_jaxify(fn, jnp), argnums=k)(*[jnp.asarray(a) for a in args])
        expected.append(np.asarray(jac).reshape(graph.n_out, -1))
    ref = np.concatenate(expected, axis=1)
    np.testing.assert_allclose(jacobian_forward(graph), ref, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(jacobian_reverse(graph), ref, rtol=1e-7, atol=1e-9)


def _jaxify(fn, jnp):
    """Run ``fn`` with ``np`` bound to ``jax.numpy`` (the cases only use ``np.``)."""
    import types

    g = types.FunctionType(fn.__code__, {**fn.__globals__, "np": _JNP(jnp)}, fn.__name__,
                           fn.__defaults__, fn.__closure__)  # fmt: skip
    return g


class _JNP:
    def __init__(self, jnp):
        self._jnp = jnp

    def __getattr__(self, name):
        if name in ("float64",):
            return np.float64
        return getattr(self._jnp, name)


def test_gp_likelihood_traces_and_matches_finite_differences() -> None:
    from chainorder.gradcheck import check_grads

    x = np.linspace(0, 2, 5)
    y = np.sin(x)
    check_grads(gp_nll, x, y, modes=("fwd", "rev"), rtol=1e-6)
