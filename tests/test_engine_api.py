"""chainorder.jacobian / grad: JAX's layout, tuples of inputs and outputs, every method against
both sweeps and finite differences, the cache, bad input, and JAX itself when installed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainorder
from chainorder.engine.api import METHODS
from chainorder.errors import SpecError, SpecTypeError, TraceError, UnknownSolverError
from chainorder.graph import graph_fd_jacobian, trace

RNG = np.random.default_rng(1)


def mlp(x, W1, b1, W2):
    return np.tanh(W2 @ np.tanh(W1 @ x + b1))


def two_outputs(x, W):
    h = np.sin(W @ x)
    return h * x[:3], (h**2).sum()


def _matrix(blocks, out_sizes):
    rows = []
    for per_in, m in zip(blocks, out_sizes, strict=True):
        rows.append(np.concatenate([b.reshape(m, -1) for b in per_in], axis=1))
    return np.concatenate(rows, axis=0)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_matches_finite_differences_in_jax_layout(method: str) -> None:
    x, W1, b1, W2 = (RNG.standard_normal(s) for s in [(4,), (5, 4), (5,), (3, 5)])
    jf = chainorder.jacobian(mlp, argnums=(0, 1, 3), method=method)
    dx, dW1, dW2 = jf(x, W1, b1, W2)
    assert dx.shape == (3, 4) and dW1.shape == (3, 5, 4) and dW2.shape == (3, 3, 5)
    ref = graph_fd_jacobian(trace(mlp, x, W1, b1, W2, wrt=[0, 1, 3]))
    np.testing.assert_allclose(_matrix([(dx, dW1, dW2)], [3]), ref, atol=1e-7)
    # a new point: replayed, not traced again; still exact
    x2, W12 = RNG.standard_normal(4), RNG.standard_normal((5, 4))
    dx2, dW12, dW22 = jf(x2, W12, b1, W2)
    assert len(jf.entries) == 1 and jf.last.traces == 1
    ref2 = graph_fd_jacobian(trace(mlp, x2, W12, b1, W2, wrt=[0, 1, 3]))
    np.testing.assert_allclose(_matrix([(dx2, dW12, dW22)], [3]), ref2, atol=1e-7)


def test_tuple_outputs_and_single_argnum_layout() -> None:
    x, W = RNG.standard_normal(4), RNG.standard_normal((3, 4))
    a, b = chainorder.jacobian(two_outputs)(x, W)
    assert a.shape == (3, 4) and b.shape == (4,)
    (ax, aW), (bx, bW) = chainorder.jacobian(two_outputs, argnums=(0, 1))(x, W)
    assert ax.shape == (3, 4) and aW.shape == (3, 3, 4) and bx.shape == (4,) and bW.shape == (3, 4)
    ref = graph_fd_jacobian(trace(two_outputs, x, W))
    np.testing.assert_allclose(_matrix([(ax, aW), (bx, bW)], [3, 1]), ref, atol=1e-7)
    np.testing.assert_allclose(a, ax)
    # negative argnums count from the end
    np.testing.assert_allclose(chainorder.jacobian(two_outputs, argnums=-1)(x, W)[1], bW)


def test_grad_of_a_scalar_function() -> None:
    def loss(W, x):
        return np.log(np.exp(W @ x).sum())

    W, x = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    gW = chainorder.grad(loss)(W, x)
    p = np.exp(W @ x) / np.exp(W @ x).sum()
    np.testing.assert_allclose(gW, np.outer(p, x), atol=1e-12)
    gW2, gx = chainorder.grad(loss, argnums=(0, 1))(W, x)
    np.testing.assert_allclose(gW2, gW, atol=1e-12)
    np.testing.assert_allclose(gx, W.T @ p, atol=1e-12)
    with pytest.raises(SpecError, match="grad needs one scalar output"):
        chainorder.grad(np.sin)(np.ones(3))


def test_non_differentiated_arrays_are_replayed_and_scalars_keyed_by_value() -> None:
    def f(x, W, scale):
        return np.tanh(W.T @ x) * scale  # W.T is computed from W at each call

    jf = chainorder.jacobian(f)
    x = RNG.standard_normal(3)
    for _ in range(3):
        W = RNG.standard_normal((3, 2))
        d = np.tanh(W.T @ x)
        np.testing.assert_allclose(jf(x, W, 2.0), 2.0 * (1 - d**2)[:, None] * W.T, atol=1e-12)
    assert len(jf.entries) == 1 and jf.last.traces == 1
    jf(x, W, 3.0)  # another static value: another signature
    jf(x, RNG.standard_normal((3, 5)), 3.0)  # another shape
    assert len(jf.entries) == 3


def test_integer_arguments_are_differentiated_as_float() -> None:
    assert chainorder.jacobian(lambda x: x**2)(np.arange(3)).tolist() == [
        [0, 0, 0], [0, 2, 0], [0, 0, 4]
    ]  # fmt: skip


def test_plan_and_explain() -> None:
    jf = chainorder.jacobian(mlp, method="reverse")
    with pytest.raises(SpecError, match="call the function first"):
        jf.plan  # noqa: B018
    jf(*(RNG.standard_normal(s) for s in [(4,), (5, 4), (5,), (3, 5)]))
    assert jf.plan.graph.n_in == 4
    text = jf.explain()
    assert "forward mode" in text and "reverse mode" in text
    assert text.splitlines()[-1].startswith("method reverse: reverse mode,")
    assert str(jf.last.row.method) == "reverse"


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: chainorder.jacobian(3), SpecTypeError, "needs a function"),
        (lambda: chainorder.jacobian(np.sin, argnums="x"), SpecTypeError, "argnums"),
        (lambda: chainorder.jacobian(np.sin, argnums=()), SpecError, "empty"),
        (lambda: chainorder.jacobian(np.sin, argnums=(0, 0)), SpecError, "repeats"),
        (lambda: chainorder.jacobian(np.sin, argnums=True), SpecTypeError, "argnums"),
        (lambda: chainorder.jacobian(np.sin, method="newton"), UnknownSolverError, "markowitz"),
        (lambda: chainorder.jacobian(np.sin, method=1), SpecTypeError, "method"),
        (lambda: chainorder.jacobian(np.sin, argnums=2)(np.ones(2)), SpecError, "out of range"),
        (lambda: chainorder.jacobian(lambda x: x)("a"), TraceError, "real numbers"),
        (lambda: chainorder.jacobian(lambda x: x, method="chain")(np.ones(2)),
         UnknownSolverError, "cut vertex"),
    ],
)  # fmt: skip
def test_bad_input_is_one_specific_error(make, error, words: str) -> None:
    with pytest.raises(error, match=words):
        make()


# --- hypothesis: compositions of registered ops with random shapes and broadcasting
UNARY = [np.sin, np.tanh, np.exp, lambda a: a * a, np.cos, lambda a: np.log1p(a * a)]
BINARY = [np.add, np.multiply, np.subtract, lambda a, b: a / (1.5 + b * b), np.maximum]
REDUCE = [
    lambda a: a.sum(axis=-1),
    lambda a: a.mean(axis=0, keepdims=True),
    lambda a: a.max(axis=-1, keepdims=True),
    lambda a: a,
]


@st.composite
def programs(draw):
    rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shape_b = draw(st.sampled_from([(rows, cols), (cols,), (rows, 1), (1, cols)]))
    steps = draw(
        st.lists(
            st.tuples(st.integers(0, 4), st.integers(0, 5), st.integers(0, 4), st.booleans()),
            min_size=1,
            max_size=6,
        )
    )
    final = draw(st.integers(0, 3))
    seed = draw(st.integers(0, 2**16))
    return (rows, cols), shape_b, steps, final, seed


def _build(steps, final):
    def f(a, b):
        vals = [a, b]
        for kind, i, j, left in steps:
            u = vals[-1] if left else vals[0]
            if kind == 0:
                vals.append(UNARY[i % len(UNARY)](u))
            elif kind == 1:
                vals.append(BINARY[j % len(BINARY)](u, vals[1 + (i % 2) - 1]))
            elif kind == 2:
                vals.append(BINARY[j % len(BINARY)](vals[-1], b))
            elif kind == 3:  # a contraction with a fixed matrix (and its batch of rows)
                M = np.linspace(-1.0, 1.0, u.shape[-1] ** 2).reshape(u.shape[-1], -1)
                vals.append(u @ M)
            else:  # a guard: the mask is recomputed at each new point
                vals.append(np.where(u > 0, u, 0.5 * u))
        return REDUCE[final](vals[-1])

    return f


@settings(max_examples=25, deadline=None)
@given(programs())
def test_jacobian_of_random_compositions(prog) -> None:
    shape_a, shape_b, steps, final, seed = prog
    rng = np.random.default_rng(seed)
    f = _build(steps, final)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    g = trace(f, a, b)
    ref_f = chainorder.graph.graph_jacobian(g, "forward")
    ref_r = chainorder.graph.graph_jacobian(g, "reverse")
    np.testing.assert_allclose(ref_f, ref_r, atol=1e-10)
    for method in ("auto", "forward", "reverse", "markowitz"):
        jf = chainorder.jacobian(f, argnums=(0, 1), method=method)
        da, db = jf(a, b)
        m = g.n_out
        np.testing.assert_allclose(_matrix([(da, db)], [m]), ref_r, atol=1e-9, err_msg=method)
        # a new point: replayed (or traced again where a mask changed), equal to a new trace
        a2, b2 = a + 0.5 * rng.standard_normal(a.shape), b + 0.5 * rng.standard_normal(b.shape)
        da2, db2 = jf(a2, b2)
        ref2 = chainorder.graph.graph_jacobian(trace(f, a2, b2), "reverse")
        np.testing.assert_allclose(_matrix([(da2, db2)], [m]), ref2, atol=1e-9, err_msg=method)
    fd = graph_fd_jacobian(g)
    fd_error = np.abs(graph_fd_jacobian(g, eps=2e-6) - fd)  # bounds fd's own O(h²) error
    assert np.all(np.abs(ref_r - fd) <= 1e-5 * max(1.0, np.abs(fd).max()) + fd_error)


def test_against_jax_when_installed() -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = pytest.importorskip("jax.numpy")

    def f(xp):
        def fn(x, W):
            z = W @ x
            e = xp.exp(z - z.max())
            return e / e.sum(), xp.tanh(z).sum()

        return fn

    x, W = RNG.standard_normal(5), RNG.standard_normal((4, 5))
    ours = chainorder.jacobian(f(np), argnums=(0, 1))(x, W)
    theirs = jax.jacrev(f(jnp), argnums=(0, 1))(jnp.asarray(x), jnp.asarray(W))
    for o, t in zip(ours, theirs, strict=True):
        for a, b in zip(o, t, strict=True):
            np.testing.assert_allclose(a, np.asarray(b), atol=1e-12)
