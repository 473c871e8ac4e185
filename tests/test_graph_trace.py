"""Tracing: shapes equal NumPy's, constants and non-differentiated inputs, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from chainorder.errors import ChainorderError, TraceError, UnsupportedOperationError
from chainorder.graph.sweep import jacobian_forward, jacobian_reverse
from chainorder.graph.trace import trace


def kernel(ell, X):
    y = np.linspace(-1.0, 1.0, X.shape[0])
    K = 0.0
    for a in range(2):
        D = (X[:, None, a] - X[None, :, a]) ** 2
        K = K + np.exp(-D / (2 * ell[a] ** 2))
    return y @ np.linalg.solve(K, y)


def test_traced_shapes_and_values_equal_numpy() -> None:
    rng = np.random.default_rng(0)
    ell, X = np.array([0.8, 1.3]), rng.standard_normal((6, 2))
    g = trace(kernel, ell, X)
    for name in g.nx:
        assert g.shape(name) == np.shape(g.value(name))
    # the node values are the ones NumPy computes, op by op
    D0 = (X[:, None, 0] - X[None, :, 0]) ** 2
    shapes = [n.shape for n in g.nodes() if n.kind == "intermediate"]
    assert shapes[:4] == [(6, 1), (1, 6), (6, 6), (6, 6)]
    assert np.array_equal(g.value("v4"), D0)
    assert np.allclose(g.replay(ell, X)[0], kernel(ell, X))
    assert np.allclose(g.replay(ell * 1.1, X)[0], kernel(ell * 1.1, X))


def test_constants_and_non_differentiated_inputs() -> None:
    W = np.arange(6.0).reshape(2, 3)
    g = trace(lambda x, W: W @ x, np.ones(3), W, wrt=["x"])
    assert g.inputs == ("x",)
    assert g.node("W").kind == "constant" and g.node("W").shape == (2, 3)
    assert np.array_equal(jacobian_forward(g), W)
    # integer arguments are differentiated as floats by default; strings are passed through
    g2 = trace(lambda x, k, how: x**k if how == "pow" else x, 3, 2.0, "pow", wrt=[0])
    assert np.allclose(jacobian_reverse(g2), [[6.0]])


def test_repeated_operand_and_several_outputs() -> None:
    def f(x):
        s = x * x  # one edge x -> s carrying both operands
        return s, np.sin(s).sum(), x

    x = np.array([0.3, -1.2])
    g = trace(f, x)
    assert len(g.outputs) == 3
    jac = jacobian_reverse(g)
    expect = np.vstack([np.diag(2 * x), 2 * x * np.cos(x * x), np.eye(2)])
    assert np.allclose(jac, expect)
    assert np.allclose(jacobian_forward(g), expect)


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (lambda x: np.median(x), "np.median"),
        (lambda x: float(x[0]) + x, "float()"),
        (lambda x: x[x], "indexing with a traced array"),
        (lambda x: x * 2 if x[0] else x, "truth value"),
        (lambda x: np.einsum("i,i,i->", x, x, x, out=np.empty(())), "np.einsum"),
        (lambda x: np.fft.fft(x), "np.fft.fft"),
        (lambda x: np.arctanh(x), "np.arctanh"),
    ],
)
def test_unsupported_operation_names_op_and_line(fn, words: str) -> None:
    with pytest.raises(UnsupportedOperationError) as info:
        trace(fn, np.ones(3))
    msg = str(info.value)
    assert words in msg
    assert "test_graph_trace.py:" in msg  # the user's line, not chainorder's
    assert isinstance(info.value, ValueError) and isinstance(info.value, ChainorderError)


def test_output_must_depend_on_an_input() -> None:
    with pytest.raises(TraceError, match="does not depend"):
        trace(lambda x: np.ones(3), np.ones(3))
    with pytest.raises(TraceError, match="nothing to differentiate"):
        trace(lambda s: s, "text")
    with pytest.raises(TraceError, match="not an argument"):
        trace(lambda x: x, 1.0, wrt=["y"])


def test_comparisons_freeze_control_flow_at_the_traced_values() -> None:
    def relu_ish(x):
        return np.maximum(x, 0.0) if (x > -5).all() else x

    g = trace(relu_ish, np.array([-1.0, 2.0]))
    assert np.array_equal(jacobian_forward(g), np.diag([0.0, 1.0]))
