"""Every registered op: its JVP and VJP against finite differences, its structure and cost."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ops_cases import COMPOSITE, MORE_CASES

from chainorder.gradcheck import check_grads
from chainorder.graph.linearize import linearize, to_dense
from chainorder.graph.ops import REGISTRY
from chainorder.graph.sweep import sweep_cost
from chainorder.graph.trace import trace

RNG = np.random.default_rng(7)
A3 = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
M23 = RNG.standard_normal((2, 3))
V3 = RNG.standard_normal(3)
POS3 = np.abs(RNG.standard_normal(3)) + 0.5

# op name -> (function, args); the op must appear in the traced graph
CASES = {
    "add": (lambda x, y: x + y, (M23, V3)),
    "subtract": (lambda x, y: y - x, (M23, V3)),
    "negative": (lambda x: -x, (V3,)),
    "positive": (lambda x: +x * 1.0, (V3,)),
    "multiply": (lambda x, y: x * y, (M23, V3)),
    "divide": (lambda x, y: x / y, (V3, POS3)),
    "power": (lambda x, p: x**p, (POS3, np.array([1.5, 2.0, 0.5]))),
    "square": (lambda x: np.square(x), (V3,)),
    "exp": (lambda x: np.exp(x), (V3,)),
    "log": (lambda x: np.log(x), (POS3,)),
    "tanh": (lambda x: np.tanh(x), (M23,)),
    "sin": (lambda x: np.sin(x), (V3,)),
    "cos": (lambda x: np.cos(x), (V3,)),
    "sqrt": (lambda x: np.sqrt(x), (POS3,)),
    "absolute": (lambda x: abs(x), (V3,)),
    "maximum": (lambda x, y: np.maximum(x, y), (V3, V3[::-1].copy())),
    "sum": (lambda x: np.sum(x, axis=0) + x.sum(axis=(0, 1), keepdims=True), (M23,)),
    "mean": (lambda x: x.mean(axis=1) + np.mean(x), (M23,)),
    "getitem": (lambda x: x[:, None, 1:] * x[None, 0, 1:] + x[..., -1][:, None, None], (M23,)),
    "transpose": (lambda x: x.T + np.transpose(x, (1, 0)), (M23,)),
    "reshape": (lambda x: x.reshape(3, 2) + np.reshape(x, (3, 2)), (M23,)),
    "matmul": (lambda a, b, v: (a @ b) @ v + a @ (b.T @ v) + (v @ b) @ (b @ v), (M23, A3, V3)),
    "dot": (lambda a, v: np.dot(a, v) + a.dot(v), (M23, V3)),
    "einsum": (
        lambda a, b: np.einsum("ij,kj->ik", a, b) + np.einsum("ij,k->ik", a, b[0]),
        (M23, A3),
    ),
    "solve": (
        lambda a, b: np.linalg.solve(a, b) + np.linalg.solve(a, b[:, None] * b[None, :])[0],
        (A3, V3),
    ),
    "inv": (lambda a: np.linalg.inv(a), (A3,)),
}
CASES.update(MORE_CASES)


def test_every_registered_op_has_a_case() -> None:
    assert set(CASES) - COMPOSITE == set(REGISTRY)


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_jvp_and_vjp_match_finite_differences(name: str) -> None:
    fn, args = CASES[name]
    graph = trace(fn, *args)
    assert name in COMPOSITE or name in {graph.nx.nodes[v]["op"] for v in graph.nx}
    check_grads(fn, *args, modes=("fwd", "rev"), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_structure_bounds_the_numeric_local_partial(name: str) -> None:
    fn, args = CASES[name]
    lin = linearize(trace(fn, *args))
    for (u, v), s in lin.edges.items():
        jac = to_dense(lin.local_jacobian(u, v))
        assert jac.shape == (s.rows, s.cols)
        assert np.count_nonzero(jac) <= s.nnz
        if s.is_diagonal:
            assert np.count_nonzero(jac - np.diag(np.diag(jac))) == 0
        if s.unit:
            assert set(np.unique(jac)) <= {-1.0, 0.0, 1.0}


def test_matmul_cost_is_the_product_of_its_dimensions() -> None:
    A = RNG.standard_normal((4, 5))
    graph = trace(lambda x: A @ x, RNG.standard_normal((5, 6)))
    # one tangent of X costs one (4×5)(5×6) product: 120 mults; n = 30 tangents
    assert sweep_cost(graph, "forward").mults == 30 * 4 * 5 * 6
    assert sweep_cost(graph, "reverse").mults == 24 * 4 * 5 * 6


def test_elementwise_costs_one_mult_per_output_element() -> None:
    graph = trace(lambda x: np.exp(np.sin(x)) + x, np.ones(5))
    # sin and exp: 5 mults each per direction; add: none
    assert sweep_cost(graph, "forward").mults_per_direction == 10
    assert sweep_cost(graph, "reverse").mults == 5 * 10


shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


@settings(max_examples=25, deadline=None)
@given(a=shapes, b=shapes, seed=st.integers(0, 10_000))
def test_broadcasting_shapes_and_gradients(a: tuple, b: tuple, seed: int) -> None:
    try:
        want = np.broadcast_shapes(a, b)
    except ValueError:
        return
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(a), rng.standard_normal(b) + 3.0

    def fn(x, y):
        return np.tanh(x * y) / y - x

    graph = trace(fn, x, y)
    assert graph.shape(graph.outputs[0]) == want == np.shape(fn(x, y))
    check_grads(fn, x, y, rtol=1e-6)
