"""evaluate / compile_plan: results equal explicit products; every error case; namespaces."""

from __future__ import annotations

import sys
import tracemalloc
import types
from functools import reduce

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainorder.backend import get_backend, namespace_of
from chainorder.chain import Chain, Structure
from chainorder.errors import ExecutionError, UnknownSettingError
from chainorder.execute import CompiledPlan, compile_plan, evaluate, evaluate_streamed
from chainorder.measure import time_call
from chainorder.plan import Plan, plan
from chainorder.tree import all_trees, forward_tree, reverse_tree, tree_from_splits
from chainorder.validate import random_jacobians


def dense_of(chain: Chain, jacobians: list[np.ndarray]) -> list[np.ndarray]:
    return [
        np.diag(j) if s is Structure.DIAGONAL else j
        for s, j in zip(chain.structures, jacobians, strict=True)
    ]


def left_to_right(chain: Chain, jacobians: list[np.ndarray]) -> np.ndarray:
    """J_L @ J_{L-1} @ ... @ J_1, evaluated strictly left to right on dense matrices."""
    mats = dense_of(chain, jacobians)[::-1]
    return reduce(lambda a, b: a @ b, mats)


@st.composite
def chains_and_trees(draw: st.DrawFn) -> tuple[Chain, object, int]:
    n = draw(st.integers(1, 7))
    dims = [draw(st.integers(1, 9))]
    structs = []
    for _ in range(n):
        if draw(st.booleans()) and draw(st.booleans()):
            structs.append("diagonal")
            dims.append(dims[-1])
        else:
            structs.append("dense")
            dims.append(draw(st.integers(1, 9)))
    chain = Chain.from_dims(dims, structs)
    splits = draw(st.lists(st.integers(0, 10**6), min_size=64, max_size=64))
    tree = tree_from_splits(lambda i, j: i + splits[(i * 7 + j) % 64] % (j - i), n)
    return chain, tree, draw(st.integers(0, 2**31))


@given(chains_and_trees())
def test_random_trees_equal_left_to_right_product(case) -> None:
    chain, tree, seed = case
    p = Plan.from_tree(chain, tree)
    js = random_jacobians(chain, seed)
    got = evaluate(p, js, densify=True)
    want = left_to_right(chain, js)
    assert got.shape == (chain.dims[-1], chain.dims[0])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(want).max()))


@pytest.mark.parametrize(
    "spec", ["30,35,15,5,10,20,25", "784,64,tanh,64,relu,10", "6,diag,4,diag,diag,5"]
)
def test_every_bracketing_equals_explicit_product(spec: str) -> None:
    chain = Chain.parse(spec)
    js = random_jacobians(chain, seed=3)
    want = left_to_right(chain, js)
    for tree in all_trees(chain.n_links):
        got = evaluate(Plan.from_tree(chain, tree), js)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_all_diagonal_chain_returns_the_diagonal_unless_densified() -> None:
    p = plan("4,tanh,relu,diag")
    js = [
        np.array([1.0, 2.0, 3.0, 4.0]),
        np.array([2.0, 2.0, 2.0, 2.0]),
        np.array([1.0, 0.5, 1.0, 0.5]),
    ]
    got = evaluate(p, js)
    assert got.shape == (4,)
    np.testing.assert_array_equal(got, [2.0, 2.0, 6.0, 4.0])
    np.testing.assert_array_equal(evaluate(p, js, densify=True), np.diag([2.0, 2.0, 6.0, 4.0]))


def test_one_link_returns_the_input_itself() -> None:
    j = np.ones((3, 2))
    assert evaluate(plan([2, 3]), [j]) is j


def test_structure_specific_products_never_densify() -> None:
    # a diagonal link of width 10**6 would need 8 TB densified; the product is tiny
    n = 10**6
    p = plan(Chain.from_dims([n, n, 2], ["diagonal", "dense"]), "reverse")
    d = np.full(n, 2.0)
    w = np.ones((2, n))
    got = evaluate(p, [d, w])
    assert got.shape == (2, n) and float(got[0, 0]) == 2.0


def test_compiled_plan_evaluates_many_times_without_replanning() -> None:
    p = plan("30,35,15,5,10,20,25")
    f = compile_plan(p)
    assert isinstance(f, CompiledPlan) and "given" in repr(f)
    for seed in range(3):
        js = random_jacobians(p.chain, seed)
        np.testing.assert_allclose(f(js), left_to_right(p.chain, js), rtol=1e-10)
    assert compile_plan(p, "streamed").setting.value == "streamed"


def test_given_peak_memory_follows_the_prediction() -> None:
    p = plan("200,300,tanh,300,100,250", "forward")
    js = random_jacobians(p.chain, 0)
    inputs = sum(j.nbytes for j in js)
    f = compile_plan(p)
    tracemalloc.start()
    try:
        result = f(js)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    predicted = p.peak_bytes("given")
    # NumPy's broadcasting ufuncs may add one 64 KiB buffer; Python objects a few KiB
    assert predicted <= peak + inputs <= predicted + 80_000


# errors -------------------------------------------------------------------------------------
@pytest.fixture
def mlp_plan() -> Plan:
    return plan("4,3,tanh,2")


def test_wrong_count(mlp_plan: Plan) -> None:
    with pytest.raises(ExecutionError, match=r"expected 3 Jacobians \[J1, \.\.\., J3\].*got 2"):
        evaluate(mlp_plan, random_jacobians(mlp_plan.chain)[:2])


def test_wrong_dense_shape_names_link_and_shapes(mlp_plan: Plan) -> None:
    js = random_jacobians(mlp_plan.chain)
    js[0] = js[0].T
    with pytest.raises(
        ExecutionError,
        match=r"J1 \(link 1, dense\): expected shape \(3, 4\) = \(d_1, d_0\), got shape \(4, 3\)",
    ):
        evaluate(mlp_plan, js)


def test_densified_diagonal_is_refused_with_a_hint(mlp_plan: Plan) -> None:
    js = random_jacobians(mlp_plan.chain)
    js[1] = np.diag(js[1])
    with pytest.raises(
        ExecutionError,
        match=(
            r"J2 \(link 2, diagonal tanh\): expected a 1-D diagonal of shape \(3,\)"
            r".*got shape \(3, 3\); pass the diagonal"
        ),
    ):
        evaluate(mlp_plan, js)


def test_wrong_dtype(mlp_plan: Plan) -> None:
    js = random_jacobians(mlp_plan.chain, dtype="float32")
    with pytest.raises(
        ExecutionError, match=r"J1 .* has dtype float32 but the plan is for float64"
    ):
        evaluate(mlp_plan, js)
    p32 = plan(mlp_plan.chain, dtype="float32")
    assert evaluate(p32, js).dtype == np.float32


def test_non_arrays_and_non_sequences(mlp_plan: Plan) -> None:
    js = random_jacobians(mlp_plan.chain)
    with pytest.raises(ExecutionError, match="J2 is a list, not an array"):
        evaluate(mlp_plan, [js[0], js[1].tolist(), js[2]])
    with pytest.raises(ExecutionError, match="jacobians must be a list of 3 arrays"):
        evaluate(mlp_plan, 5)
    with pytest.raises(ExecutionError, match="expected a chainorder Plan"):
        evaluate("4,3,2", js)


def test_settings_are_not_interchangeable(mlp_plan: Plan) -> None:
    with pytest.raises(ExecutionError, match="compiled for the streamed setting"):
        compile_plan(mlp_plan, "streamed").evaluate(random_jacobians(mlp_plan.chain))
    with pytest.raises(ExecutionError, match="compiled for the given setting"):
        compile_plan(mlp_plan).evaluate_streamed(object(), np.ones(4))
    with pytest.raises(UnknownSettingError):
        compile_plan(mlp_plan, "lazy")


def test_streamed_source_checks(mlp_plan: Plan) -> None:
    from chainorder.nets import MLP

    with pytest.raises(ExecutionError, match="needs activation"):
        evaluate_streamed(mlp_plan, object(), np.ones(4))
    with pytest.raises(ExecutionError, match="the source is the chain 4,5,2"):
        evaluate_streamed(mlp_plan, MLP("4,5,2"), np.ones(4))
    with pytest.raises(ExecutionError, match=r"x_0 must have shape \(4,\)"):
        evaluate_streamed(mlp_plan, MLP(mlp_plan.chain), np.ones(3))

    class Bad:
        def activation(self, k, x):
            return x

        def jacobian(self, l, x):
            return np.ones((5, 5))

    with pytest.raises(ExecutionError, match=r"source.jacobian: J\d .*expected"):
        evaluate_streamed(mlp_plan, Bad(), np.ones(4))


# namespaces ---------------------------------------------------------------------------------
def _fake_cupy() -> types.ModuleType:
    """A module named ``cupy`` whose arrays are NumPy arrays of a type living in ``cupy``."""
    mod = types.ModuleType("cupy")
    mod.__version__ = "0.0-fake"

    class ndarray(np.ndarray):  # mirrors cupy.ndarray
        pass

    ndarray.__module__ = "cupy"
    syncs: list[int] = []

    class Stream:
        def synchronize(self) -> None:
            syncs.append(1)

    mod.ndarray = ndarray
    mod.syncs = syncs
    mod.asarray = lambda a, dtype=None: np.asarray(a, dtype=dtype).view(ndarray)
    mod.asnumpy = lambda a: np.asarray(a).view(np.ndarray).copy()
    mod.diag = lambda v: np.diag(np.asarray(v)).view(ndarray)
    mod.cuda = types.SimpleNamespace(get_current_stream=lambda: Stream())
    return mod


@pytest.fixture
def fake_cupy(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    mod = _fake_cupy()
    monkeypatch.setitem(sys.modules, "cupy", mod)
    return mod


def test_numpy_arrays_never_import_cupy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    p = plan("5,4,3")
    evaluate(p, random_jacobians(p.chain))
    assert "cupy" not in sys.modules


def test_cupy_arrays_take_the_cupy_path(fake_cupy: types.ModuleType) -> None:
    p = plan("5,4,tanh,3")
    host = random_jacobians(p.chain, 1)
    dev = [fake_cupy.asarray(j) for j in host]
    assert namespace_of(dev).name == "cupy"
    got = evaluate(p, dev)
    assert type(got).__module__ == "cupy"
    np.testing.assert_allclose(fake_cupy.asnumpy(got), evaluate(p, host), rtol=1e-12)
    be = get_backend("cupy")
    be.synchronize()
    assert fake_cupy.syncs and be.is_gpu
    time_call(lambda: evaluate(p, dev), repeat=2, warmup=1, backend=be)
    assert len(fake_cupy.syncs) >= 4
    assert random_jacobians(p.chain, 1, backend="cupy")[0].__class__ is fake_cupy.ndarray
    assert (
        type(
            evaluate(plan("3,diag,diag"), [fake_cupy.asarray(np.ones(3))] * 2, densify=True)
        ).__module__
        == "cupy"
    )


def test_mixed_namespaces_are_an_error(fake_cupy: types.ModuleType) -> None:
    p = plan("5,4,3")
    js = random_jacobians(p.chain)
    with pytest.raises(
        ExecutionError, match="mixed array namespaces: J1 is a numpy array but J2 is a cupy array"
    ):
        evaluate(p, [js[0], fake_cupy.asarray(js[1])])


def test_cupy_backend_without_cupy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail
    with pytest.raises(ExecutionError, match="needs CuPy"):
        get_backend("cupy")
    with pytest.raises(ExecutionError, match="unknown backend 'jax'"):
        get_backend("jax")


def test_pure_trees_of_the_lecture() -> None:
    p = plan("30,35,15,5,10,20,25")
    js = random_jacobians(p.chain, 7)
    want = left_to_right(p.chain, js)
    for tree in (forward_tree(6), reverse_tree(6)):
        np.testing.assert_allclose(evaluate(Plan.from_tree(p.chain, tree), js), want, rtol=1e-10)
