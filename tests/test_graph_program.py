"""Compiled Jacobian programs: every method agrees with the others and with finite
differences on random compositions of registered ops; counted mults equal predicted ones;
replay at new values equals a fresh trace; the API's errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chainorder.errors import TraceError, UnknownSolverError
from chainorder.graph import eliminate, linearize, plan_graph, trace
from chainorder.graph.program import JacobianProgram, compile_jacobian_program
from chainorder.graph.validate import graph_fd_jacobian, graph_jacobian

UNARY = {
    "sin": np.sin,
    "exp": lambda a: np.exp(0.3 * a),
    "tanh": np.tanh,
    "square": lambda a: a * a,
    "scale": lambda a: 1.5 * a,
    "neg": lambda a: -a,
    "cos+": lambda a: np.cos(a) + a,
    "cube": lambda a: a**3,
    "ratio": lambda a: a / (1.0 + a * a),
}


def _composition(steps: list[tuple[str, int]], shape: tuple[int, int], seed: int):
    """A function of ``x`` (``shape``) and ``b`` (``shape[1]``): unary ops, broadcasting
    binary ops against earlier values or ``b``, reductions, slices, transposes, ``solve``
    and products with a constant matrix; returns the last value and a sum (two outputs)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((shape[1], shape[1])) / shape[1]

    def f(x, b):
        vals = [x]
        for kind, pick in steps:
            cur = vals[-1]
            if kind in UNARY:
                new = UNARY[kind](cur)
            elif kind == "add_b":
                new = cur + b if cur.shape[-1:] == b.shape else cur * 1.0
            elif kind == "mul_prev":
                other = vals[pick % len(vals)]
                new = cur * other if other.shape == cur.shape else cur - 0.5 * cur
            elif cur.ndim == 0:
                new = cur * 1.5
            elif kind == "matmul":
                new = cur @ W if cur.shape[-1] == W.shape[0] else cur * 2.0
            elif kind == "solve":
                A = np.eye(cur.shape[0]) * 3.0 + 0.1
                new = np.linalg.solve(A, cur)
            elif kind == "slice":
                new = cur[..., ::2]
            elif kind == "mean0":
                new = cur.mean(axis=0)
            elif kind == "transpose":
                new = cur.T
            elif kind == "rowsum":
                new = cur.sum(axis=-1, keepdims=True) * cur
            else:  # "reshape"
                new = cur.reshape(-1)
            vals.append(new)
        return vals[-1], vals[len(vals) // 2].sum()

    return f


KINDS = [*UNARY, "add_b", "mul_prev", "matmul", "solve", "slice", "mean0", "transpose"]
KINDS += ["rowsum", "reshape"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 9)), min_size=1, max_size=6),
    shape=st.tuples(st.integers(1, 3), st.integers(1, 4)),
    seed=st.integers(0, 999),
)
def test_every_method_agrees_and_counts_what_it_predicts(steps, shape, seed) -> None:
    rng = np.random.default_rng(seed)
    f = _composition(steps, shape, seed)
    g = trace(f, rng.standard_normal(shape), rng.standard_normal(shape[1]))
    # central differences cannot resolve a derivative where a value is huge (sin(exp(x⁶)) at
    # x ≈ 2: exp(64) ≈ 6e27, a derivative of ~1e11 that a step of 1e-6 aliases); the methods
    # still agree with each other there, but the finite-difference reference does not exist
    assume(all(np.all(np.abs(g.nx.nodes[n]["value"]) < 1e6) for n in g.nx))
    lin = linearize(g)
    fd = graph_fd_jacobian(g)
    # central differences err by ~h²: the step-2h estimate is off by ~4× as much, so their
    # gap bounds fd's own error (sin(x⁹) needs it; the methods agree with each other to 1e-12)
    fd_error = np.abs(graph_fd_jacobian(g, eps=2e-6) - fd)
    scale = max(1.0, float(np.abs(fd).max()))
    orders = [lin.intermediates, tuple(reversed(lin.intermediates))]
    orders.append(tuple(rng.permutation(list(lin.intermediates))))
    jacs = []
    for method, order in [("forward", None), ("reverse", None)] + [
        ("elimination:search", o) for o in orders
    ]:
        prog = compile_jacobian_program(lin, method, order)
        jac = prog.run(g)
        assert prog.last_mults == prog.predicted_mults
        if order is not None:
            assert prog.predicted_mults == eliminate(lin, order).mults
        assert np.all(np.abs(jac - fd) <= 1e-5 * scale + fd_error)
        jacs.append(jac)
    for other in jacs[1:]:
        assert np.abs(other - jacs[0]).max() <= 1e-12 * scale


def test_plan_rows_are_the_programs_predictions() -> None:
    W = np.random.default_rng(0).standard_normal((6, 5))
    g = trace(lambda x: np.tanh(W @ np.sin(x)).sum() * np.exp(x), np.ones(5))
    p = plan_graph(g)
    values = p.lin.values_elements() * 8
    for row in p.rows:
        prog = compile_jacobian_program(p.lin, row.method, row.order)
        assert prog.predicted_mults == row.mults
        assert values + prog.predicted_peak_bytes == row.peak_bytes
        jac = prog.run(g)
        assert prog.last_mults == row.mults
        assert np.allclose(jac, graph_jacobian(g, "fd"), atol=1e-6)


def test_a_sum_over_an_axis_is_never_formed_from_an_identity() -> None:
    """The issue's GP case: ``.sum(axis=-1)`` of an N×N×2 array was a dense N²×2N² partial."""
    rng = np.random.default_rng(5)
    n = 60
    y = rng.standard_normal(n)

    def f(X):
        D = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=-1)
        return 0.5 * (y @ np.linalg.solve(np.exp(-0.5 * D) + 0.1 * np.eye(n), y))

    g = trace(f, rng.standard_normal((n, 2)))
    p = plan_graph(g)
    prog = compile_jacobian_program(p.lin, p.method, p.chosen.order)
    # far below one N²×2N² matrix (57.6 MB here): the chosen plan holds blocks of N² scalars
    assert prog.predicted_peak_bytes < 50 * n * n * 8
    assert p.chosen.mults <= p.row("reverse mode").mults
    assert np.allclose(prog.run(g), graph_jacobian(g, "reverse"), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method", ["forward", "reverse", "elimination:markowitz"])
def test_replay_at_new_values_equals_a_fresh_trace(method) -> None:
    rng = np.random.default_rng(1)
    W = rng.standard_normal((4, 3))

    def f(x, A):
        return np.tanh(W @ (A @ x)) * x.sum()

    g0 = trace(f, rng.standard_normal(3), rng.standard_normal((3, 3)))
    prog = compile_jacobian_program(linearize(g0), method)
    for _ in range(3):
        g1 = trace(f, rng.standard_normal(3), rng.standard_normal((3, 3)))
        fresh = compile_jacobian_program(linearize(g1), method).run(g1)
        assert np.allclose(prog.run(g1), fresh, rtol=1e-13, atol=1e-14)
        assert prog.last_mults == prog.predicted_mults


def test_errors_are_one_clear_line() -> None:
    g = trace(lambda x: np.sin(x).sum(), np.ones(3))
    lin = linearize(g)
    with pytest.raises(UnknownSolverError, match="unknown method 'sideways'"):
        compile_jacobian_program(lin, "sideways")
    with pytest.raises(TraceError, match="elimination order must list"):
        compile_jacobian_program(lin, "elimination:search", ("v1", "v9"))
    with pytest.raises(TraceError, match="needs a LinearizedGraph"):
        compile_jacobian_program(g, "forward")
    prog = compile_jacobian_program(lin, "reverse")
    assert isinstance(prog, JacobianProgram) and prog.order is None
    with pytest.raises(TraceError, match="compiled for inputs/outputs"):
        prog.run(trace(lambda x: np.sin(x).sum(), np.ones(4)))
    with pytest.raises(TraceError, match="needs a TracedGraph"):
        prog.run("not a graph")


def test_counted_mults_come_from_the_blocks_met() -> None:
    """The counter multiplies each rule's per-row price by the rows of the block it met."""
    g = trace(lambda x: np.sin(x) * x, np.ones(4))
    prog = compile_jacobian_program(linearize(g), "forward")
    prog.run(g)
    assert prog.last_mults == 4 * (4 + 4 + 4)  # n tangents × (sin, two products)
    rev = compile_jacobian_program(linearize(g), "reverse")
    rev.run(g)
    assert rev.last_mults == 4 * (4 + 4 + 4)  # m adjoints × the same three partials


@pytest.mark.parametrize("method", ["forward", "reverse", "elimination:search"])
def test_run_reads_primal_values_only_through_graph_value(method) -> None:
    """The contract with chainorder.jacobian: values come from ``graph.value(name)`` only,
    so a graph whose ``value`` answers with another point's values gives that point's
    Jacobian even though its node attributes still hold the old ones."""
    rng = np.random.default_rng(7)
    W = rng.standard_normal((5, 4))

    def f(x, b):
        return (np.exp(np.tanh(W @ x) * b) * x.sum()).sum(), W.T @ (b * b)

    g0 = trace(f, rng.standard_normal(4), rng.standard_normal(5))
    g1 = trace(f, rng.standard_normal(4), rng.standard_normal(5))
    prog = compile_jacobian_program(linearize(g0), method)
    g0.value = lambda name: g1.nx.nodes[name]["value"]  # new values, stale node attributes
    expected = compile_jacobian_program(linearize(g1), "reverse").run(g1)
    assert np.allclose(prog.run(g0), expected, rtol=1e-12, atol=1e-13)


def test_float32_graphs_count_values_in_their_dtype_and_blocks_in_float64() -> None:
    g = trace(lambda x: np.tanh(x @ x.T).sum(axis=0), np.ones((6, 3), dtype=np.float32))
    p = plan_graph(g)
    assert g.itemsize == 4
    for row in p.rows:
        prog = compile_jacobian_program(p.lin, row.method, row.order)
        assert row.peak_bytes == p.lin.values_elements() * 4 + prog.predicted_peak_bytes
        assert prog.run(g).dtype == np.float64


@pytest.mark.parametrize("method", ["forward", "reverse", "elimination:search"])
def test_programs_run_on_cupy_values(method) -> None:
    """A graph whose values live on the GPU (as chainorder.jacobian replays CuPy arguments)
    gets its Jacobian computed there, equal to the host one."""
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception:  # pragma: no cover - no GPU
        pytest.skip("no CUDA device")
    W = np.random.default_rng(2).standard_normal((4, 3))
    g = trace(lambda x: (np.tanh(W @ x) * x.sum(), (x * x).sum()), np.linspace(0.1, 1, 3))
    prog = compile_jacobian_program(linearize(g), method)
    host = prog.run(g)
    on_device = {n: cupy.asarray(g.nx.nodes[n]["value"]) for n in g.nx}
    g.value = lambda name: on_device[name]
    jac = prog.run(g)
    assert isinstance(jac, cupy.ndarray)
    assert np.allclose(cupy.asnumpy(jac), host, rtol=1e-12, atol=1e-14)


def test_a_rule_is_never_applied_to_an_expanded_diagonal() -> None:
    """Kernel-style broadcast: ``x[:, None] - x[None, :]`` behind an elementwise op. A
    diagonal factor against a dense one is multiplied (priced), never expanded into a dense
    size(j)² block for a 0-mult rule: no elimination program holds such a block."""
    x = np.linspace(-1.0, 1.0, 30)
    g = trace(lambda x: np.exp(-((x[:, None] - x[None, :]) ** 2)).sum(), x)
    p = plan_graph(g)
    nj = 30 * 30
    for row in p.rows:
        if row.order is None:
            continue
        prog = compile_jacobian_program(p.lin, row.method, row.order)
        biggest = max(i.alloc + i.temp for i in prog.instructions)
        assert biggest < nj * nj // 4, (row.name, biggest)
        np.testing.assert_allclose(prog.run(g), graph_fd_jacobian(g), atol=1e-6)


def test_profile_times_every_instruction_and_keeps_the_mults() -> None:
    g = trace(lambda x: np.tanh(np.sin(x) * x).sum(), np.linspace(0.1, 1.0, 5))
    prog = compile_jacobian_program(linearize(g), "elimination:markowitz")
    rows = prog.profile(g, repeat=2)
    assert [r["op"] for r in rows] == [i.op for i in prog.instructions]
    assert sum(r["mults"] for r in rows) == prog.predicted_mults
    assert all(r["seconds"] >= 0.0 for r in rows)
    with pytest.raises(TraceError):
        prog.profile(trace(lambda x: np.tanh(x).sum(), np.ones(4)))


@pytest.mark.parametrize("perm", [(0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 2, 1), (0, 1, 3, 2)])
def test_tangents_as_columns_views_when_it_can_and_copies_right_when_not(perm) -> None:
    from chainorder.graph.instr import _merged_tail, _tangents_as_columns

    a = np.random.default_rng(1).standard_normal((6, 4, 1, 5)).transpose(perm)
    cols = _tangents_as_columns(a)
    np.testing.assert_array_equal(cols, a.reshape(6, -1).T)
    view = _merged_tail(a)
    # a view exactly when NumPy's own reshape is one
    assert (view is not None) == np.shares_memory(a.reshape(6, -1), a)
    if view is not None:
        assert np.shares_memory(view, a) and np.shares_memory(cols, a)


_WORKSPACE_SCRIPT = """
from chainorder.graph.workspace import keep_workspace
assert keep_workspace(0) == 0  # a query changes nothing
first = keep_workspace(1 << 20)
assert keep_workspace(1 << 10) == first  # never lowered
if first:  # glibc: at least glibc's own steady state (2 x its 32 MiB mmap cap)
    assert first >= 64 << 20
    assert keep_workspace(200 << 20) >= 200 << 20
print("ok")
"""


def test_keep_workspace_only_raises_the_kept_bytes() -> None:
    """In a child process: it changes the process's allocator (opt-in, never by a run)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _WORKSPACE_SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
