"""Passes the price does not count, dropped from elimination programs (issue 8, ρ of attention):
Kronecker partials formed straight into a transposed layout (``form_t``), a contraction's rule
added into a held sum by one GEMM (``gemm_add``, with SciPy's BLAS), and the whole-Jacobian
block returned instead of copied (``place`` ``take``). Each is held against an independent
reference: the reverse sweep, central finite differences, the unfused program, tracemalloc.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import chainorder.graph.gemmadd as gemmadd
from chainorder.graph import linearize, plan_graph, trace
from chainorder.graph.elimprog import elimination_program
from chainorder.graph.instr import execute
from chainorder.graph.orders import named_order
from chainorder.graph.program import compile_jacobian_program
from chainorder.measure import peak_memory

_PATH = Path(__file__).resolve().parent.parent / "examples" / "graph_cases.py"
_spec = importlib.util.spec_from_file_location("graph_cases_fusion", _PATH)
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

RNG = np.random.default_rng(11)
HAVE_SCIPY = importlib.util.find_spec("scipy") is not None


def _fd(f, x, eps=1e-6):
    cols = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        d = np.asarray(f(x + e.reshape(x.shape))) - np.asarray(f(x - e.reshape(x.shape)))
        cols.append(d.ravel() / (2 * eps))
    return np.array(cols).T


def _fns():
    A = RNG.standard_normal((4, 3))
    B = RNG.standard_normal((3, 5))
    C = RNG.standard_normal((4, 4))
    return {
        "qk": lambda x: (x @ B) @ (x @ B).T,  # a transposed product: form_t, gemm_add
        "x_second": lambda x: np.tanh((C @ x).T) @ A,  # x is the 2nd operand of the product
        "two_terms": lambda x: np.sin(x @ B) @ B.T + x @ C[:3, :3],  # an add of two products
        "attention": lambda x: np.exp((x @ B) @ (x @ B).T / 2.0) @ (x @ C[:3, :3]),
    }


@pytest.mark.parametrize("name", sorted(_fns()))
@pytest.mark.parametrize("order", ["forward", "reverse", "markowitz", "search"])
def test_fused_programs_are_the_reverse_sweep_and_finite_differences(name, order) -> None:
    f = _fns()[name]
    x = RNG.standard_normal((4, 3))
    g = trace(f, x)
    lin = linearize(g)
    prog = compile_jacobian_program(lin, f"elimination:{order}", named_order(lin, order))
    jac = prog.run(g)
    ref = compile_jacobian_program(lin, "reverse").run(g)
    np.testing.assert_allclose(jac, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jac, _fd(f, x), rtol=1e-4, atol=1e-5 * max(1.0, abs(ref).max()))
    assert prog.last_mults == prog.predicted_mults
    assert jac.flags.c_contiguous and jac.shape == (ref.shape[0], x.size)


def test_the_transposed_former_replaces_form_and_copy() -> None:
    f = _fns()["qk"]
    lin = linearize(trace(f, RNG.standard_normal((4, 3))))
    prog, n_slots, _ = elimination_program(lin, named_order(lin, "forward"))
    ops = [i.op for i in prog]
    assert "form_t" in ops
    assert not any(i.op == "apply_jvp" and lin.graph.nx.nodes[i.node]["op"] == "transpose"
                   for i in prog)  # fmt: skip
    jac = execute(lin.graph, prog, n_slots, 0)[0]
    np.testing.assert_allclose(jac, _fd(f, lin.graph.value("x")), rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not HAVE_SCIPY, reason="gemm_add needs SciPy's BLAS")
def test_gemm_add_runs_its_gemm_on_every_benchmark_function(monkeypatch) -> None:
    taken = []
    fast = gemmadd._fast

    def spy(*args):
        taken.append(fast(*args))
        return taken[-1]

    monkeypatch.setattr(gemmadd, "_fast", spy)
    for make in cases.CASES.values():
        f, args, wrt = make(0.5)
        g = trace(f, *args, wrt=list(wrt))
        p = plan_graph(g)
        for row in p.rows:
            if row.method.is_sweep:
                continue
            prog = compile_jacobian_program(p.lin, row.method, row.order)
            if prog.predicted_peak_bytes < 2**26:
                prog.run(g)
    assert taken and all(taken), f"{taken.count(False)} of {len(taken)} fell back"


@pytest.mark.skipif(not HAVE_SCIPY, reason="gemm_add needs SciPy's BLAS")
@pytest.mark.parametrize("name", ["qk", "attention", "two_terms"])
def test_gemm_add_fallback_in_chunks_is_the_same_jacobian_mults_and_memory(
    monkeypatch, name
) -> None:
    f = _fns()[name]
    x = RNG.standard_normal((40, 3))
    g = trace(f, x)
    lin = linearize(g)
    ref = compile_jacobian_program(lin, "reverse").run(g)
    for order in ("forward", "reverse"):
        prog = compile_jacobian_program(lin, f"elimination:{order}", named_order(lin, order))
        if "gemm_add" not in [i.op for i in prog.instructions]:
            continue
        fast = peak_memory(lambda prog=prog: prog.run(g))
        monkeypatch.setattr(gemmadd, "_fast", lambda *a: False)
        slow = peak_memory(lambda prog=prog: prog.run(g))
        monkeypatch.undo()
        for m in (fast, slow):
            np.testing.assert_allclose(m.result, ref, rtol=1e-12, atol=1e-12)
            assert abs(m.peak_bytes - prog.predicted_peak_bytes) <= (
                0.1 * m.peak_bytes + 64 * 1024)
        assert prog.last_mults == prog.predicted_mults


def test_without_scipy_no_gemm_add_and_the_same_jacobian(monkeypatch) -> None:
    f = _fns()["attention"]
    g = trace(f, RNG.standard_normal((6, 3)))
    lin = linearize(g)
    order = named_order(lin, "forward")
    with_blas = compile_jacobian_program(lin, "elimination:forward", order)
    monkeypatch.setattr(gemmadd, "_dgemm", lambda: None)
    import chainorder.graph.elimpost as elimpost

    monkeypatch.setattr(elimpost, "_dgemm", lambda: None)
    plain = compile_jacobian_program(lin, "elimination:forward", order)
    assert "gemm_add" not in [i.op for i in plain.instructions]
    assert plain.predicted_mults == with_blas.predicted_mults
    np.testing.assert_allclose(plain.run(g), with_blas.run(g), rtol=1e-12, atol=1e-12)
    if HAVE_SCIPY:  # the fused program holds no block of its own for the product
        assert with_blas.predicted_peak_bytes <= plain.predicted_peak_bytes


@pytest.mark.skipif(not HAVE_SCIPY, reason="the switch matters only where SciPy imports")
def test_the_environment_switch_turns_the_fusion_off(monkeypatch) -> None:
    f = _fns()["attention"]
    g = trace(f, RNG.standard_normal((6, 3)))
    lin = linearize(g)
    order = named_order(lin, "forward")
    assert gemmadd.gemm_add_available()
    fused = compile_jacobian_program(lin, "elimination:forward", order)
    monkeypatch.setenv(gemmadd.GEMM_ADD_ENV, "0")
    assert not gemmadd.gemm_add_available()
    plain = compile_jacobian_program(lin, "elimination:forward", order)
    assert "gemm_add" in [i.op for i in fused.instructions]
    assert "gemm_add" not in [i.op for i in plain.instructions]
    np.testing.assert_allclose(plain.run(g), fused.run(g), rtol=1e-12, atol=1e-12)
    monkeypatch.setenv(gemmadd.GEMM_ADD_ENV, "1")
    assert gemmadd.gemm_add_available()


def test_a_taken_jacobian_is_never_a_graph_value() -> None:
    W = RNG.standard_normal((5, 5))
    g = trace(lambda x: W @ x, RNG.standard_normal(5))
    lin = linearize(g)
    for order in ("forward", "reverse"):
        jac = compile_jacobian_program(lin, f"elimination:{order}").run(g)
        assert np.array_equal(jac, W) and not np.shares_memory(jac, W)
        jac[0, 0] += 1.0
        assert not np.array_equal(jac, W)


def test_taking_the_jacobian_keeps_the_measured_peak_the_predicted_one() -> None:
    f = _fns()["attention"]
    g = trace(f, RNG.standard_normal((24, 3)))
    lin = linearize(g)
    for order in ("forward", "reverse", "markowitz"):
        prog = compile_jacobian_program(lin, f"elimination:{order}", named_order(lin, order))
        m = peak_memory(lambda prog=prog: prog.run(g))
        assert abs(m.peak_bytes - prog.predicted_peak_bytes) <= 0.1 * m.peak_bytes + 64 * 1024


def test_a_jacobian_made_by_a_matrix_product_is_that_product_and_priced_so() -> None:
    """The last matrix product of an elimination is the Jacobian itself: no second m × n
    array is allocated, the model does not count one, and tracemalloc agrees closely
    (a Jacobian of 480 KB would show as a 0.5 MB gap)."""
    W1, W2 = RNG.standard_normal((300, 300)), RNG.standard_normal((200, 300))
    x = RNG.standard_normal(300)
    g = trace(lambda x: W2 @ np.tanh(W1 @ x), x)
    lin = linearize(g)
    expected = W2 @ (np.diag(1 - np.tanh(W1 @ x) ** 2) @ W1)
    taken = 0
    for order in ("forward", "reverse", "markowitz"):
        prog = compile_jacobian_program(lin, f"elimination:{order}", named_order(lin, order))
        last = prog.instructions[-1]
        first, second = prog.run(g), prog.run(g)
        np.testing.assert_allclose(first, expected, rtol=1e-12, atol=1e-12)
        assert not np.shares_memory(first, second)  # a new array on every run
        if last.op == "place" and last.info.get("take") and last.alias >= 0:
            taken += 1
            assert last.alloc == 0 and all(i.op != "zeros" for i in prog.instructions)
            m = peak_memory(lambda prog=prog: prog.run(g))
            assert abs(m.peak_bytes - prog.predicted_peak_bytes) <= 0.05 * m.peak_bytes + 16384
    assert taken >= 1
