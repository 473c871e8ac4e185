"""Real networks in the streamed setting: Jacobians equal finite differences and every mode."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainorder.chain import Chain
from chainorder.errors import SpecError, SpecTypeError
from chainorder.execute import compile_plan, evaluate, evaluate_streamed
from chainorder.gradcheck import central_difference
from chainorder.nets import (
    ACTIVATIONS,
    MLP,
    as_seed,
    jacobian_bytes,
    parameter_bytes,
    random_jacobians,
)
from chainorder.plan import Plan, plan
from chainorder.tree import all_trees, tree_from_splits


def finite_difference_jacobian(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Column i: the central difference of ``f`` at ``x`` along the unit vector e_i."""
    columns = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = 1.0
        columns.append(central_difference(lambda xs: [np.asarray(f(xs[0]))], [x], [e], eps)[0])
    return np.stack(columns, axis=1)


SMALL = "5,6,tanh,4,sigmoid,4,gelu,3,softplus,3,sin,cos,exp,square,identity,diag,relu,2"


def _fd_check(net: MLP, p: Plan, x: np.ndarray) -> None:
    got = evaluate_streamed(p, net, x)
    want = finite_difference_jacobian(net, x)
    assert got.shape == want.shape == (net.dims[-1], net.dims[0])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", ["forward", "reverse", "optimal"])
def test_streamed_jacobian_equals_finite_differences(mode: str) -> None:
    net = MLP(SMALL, seed=4)
    x = 0.5 * net.random_input(5)  # relu kinks: FD steps of 6e-6 do not cross 0 here
    _fd_check(net, plan(net.chain, mode), x)


@settings(max_examples=25)
@given(st.integers(0, 2**31), st.lists(st.integers(0, 99), min_size=40, max_size=40))
def test_random_trees_streamed_equal_finite_differences(seed: int, splits: list[int]) -> None:
    net = MLP("4,5,tanh,3,sigmoid,3,6,softplus,2", seed=seed % 1000)
    n = net.chain.n_links
    tree = tree_from_splits(lambda i, j: i + splits[(3 * i + j) % 40] % (j - i), n)
    _fd_check(net, Plan.from_tree(net.chain, tree), net.random_input(seed % 997))


@pytest.mark.parametrize("spec", ["30,35,15,5,10,20,25", "12,16,tanh,8,relu,8,sigmoid,5"])
def test_streamed_agrees_with_every_bracketing_and_given(spec: str) -> None:
    net = MLP(spec, seed=1)
    x = net.random_input(2)
    reference = evaluate_streamed(plan(net.chain, "forward"), net, x)
    js = net.jacobians_at(x)
    for tree in all_trees(net.chain.n_links):
        p = Plan.from_tree(net.chain, tree)
        np.testing.assert_allclose(evaluate_streamed(p, net, x), reference, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(evaluate(p, js), reference, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_each_activation_derivative(name: str) -> None:
    net = MLP(f"7,{name}", seed=0)
    x = np.linspace(-1.3, 1.7, 7)
    d = net.jacobian(1, x)
    fd = np.diag(finite_difference_jacobian(lambda v: net.activation(1, v), x))
    np.testing.assert_allclose(d, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["tanh", "relu", "sigmoid", "softplus", "sin", "square", "diag"])
def test_activation_and_derivative_allocate_one_array(name: str) -> None:
    net = MLP(f"100000,{name}", seed=0)
    x = np.linspace(-2.0, 2.0, 100_000)
    for fn in (net.activation, net.jacobian):
        tracemalloc.start()
        try:
            out = fn(1, x)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert out.nbytes <= peak <= out.nbytes + 70_000  # + at most one ufunc buffer


def test_dense_jacobian_is_a_fresh_copy_of_the_weights() -> None:
    net = MLP("3,4,2", seed=0)
    j = net.jacobian(1, np.ones(3))
    np.testing.assert_array_equal(j, net.weights[1])
    assert j is not net.weights[1] and not np.shares_memory(j, net.weights[1])


@pytest.mark.parametrize("mode", ["forward", "reverse", "optimal"])
@pytest.mark.parametrize(
    "spec", ["300,200,tanh,200,tanh,10", "600,40,600,40,600", "40,300,30,400,20"]
)
def test_streamed_peak_memory_matches_prediction(spec: str, mode: str) -> None:
    p = plan(spec, mode)
    net = MLP(p.chain, seed=0)
    x = net.random_input(1)
    f = compile_plan(p, "streamed")
    tracemalloc.start()
    try:
        result = f(net, x.copy)  # x_0 created inside the traced region, owned by f
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    predicted = p.peak_bytes("streamed")
    assert predicted <= peak <= predicted + 80_000, (peak, predicted)


def test_seeded_and_reproducible() -> None:
    a, b = MLP("6,5,tanh,3", seed=9), MLP("6,5,tanh,3", seed=9)
    np.testing.assert_array_equal(a.weights[1], b.weights[1])
    np.testing.assert_array_equal(a(a.random_input(1)), b(b.random_input(1)))
    assert MLP("6,5", seed=8).weights[1][0, 0] != a.weights[1][0, 0]
    assert a.parameter_bytes == (5 * 6 + 5 + 3 * 5 + 3) * 8
    assert "6,5,tanh,3" in repr(a)


def test_unknown_activation_is_refused() -> None:
    chain = Chain.from_dims([3, 3], ["diagonal"], ["mystery"])
    with pytest.raises(SpecError, match="cannot build; supported: tanh"):
        MLP(chain)


def test_float32_network() -> None:
    net = MLP("6,5,tanh,3", seed=2, dtype="float32")
    x = net.random_input(3)
    j = evaluate_streamed(plan(net.chain, dtype="float32"), net, x)
    assert j.dtype == np.float32
    j64 = evaluate_streamed(plan(net.chain), MLP("6,5,tanh,3", seed=2), x.astype(np.float64))
    np.testing.assert_allclose(j, j64, rtol=1e-4, atol=1e-6)


def test_finite_difference_reference_is_right() -> None:
    x = np.array([0.3, -0.2])
    j = finite_difference_jacobian(lambda v: np.array([v[0] * v[1], np.exp(v[0])]), x)
    np.testing.assert_allclose(j, [[-0.2, 0.3], [np.exp(0.3), 0.0]], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128"])
@pytest.mark.parametrize("spec", ["3,4,tanh,2", "5,diag,6,relu,1", "7,sin,cos"])
def test_predicted_bytes_equal_what_is_built(spec: str, dtype: str) -> None:
    assert parameter_bytes(spec, dtype) == MLP(spec, dtype=dtype).parameter_bytes
    assert jacobian_bytes(spec, dtype) == sum(j.nbytes for j in random_jacobians(spec, 0, dtype))


def test_seed_must_be_a_non_negative_int() -> None:
    assert as_seed(np.int64(3)) == 3 and as_seed(10**30) == 10**30
    for bad in (-1, -(10**20)):
        with pytest.raises(SpecError, match="non-negative integer"):
            MLP("3,2", seed=bad)
        with pytest.raises(SpecError, match="non-negative integer"):
            random_jacobians("3,2", seed=bad)
    for bad in (1.5, True, "3", None):
        with pytest.raises(SpecTypeError, match="non-negative integer"):
            as_seed(bad)
    with pytest.raises(SpecError):
        MLP("3,2").random_input(-5)
