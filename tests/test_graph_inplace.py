"""In-place and fused execution of compiled graph programs (issue 8, executor speed).

Products that scale a dying factor in place, rule results added straight into a sum
(``apply_add``, both layouts, both directions), and the faster NumPy spellings of the rules
(``sum_axes``, ``dense_copy``, broadcast products by ``einsum``, short-tail VJPs), each held
against an independent reference: the plain NumPy expression, the other sweep, or tracemalloc.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from chainorder.graph import linearize, plan_graph, trace
from chainorder.graph.elimprog import elimination_program
from chainorder.graph.instr import Instr, _run_elim, execute, simulate_peak
from chainorder.graph.ops import get_rule
from chainorder.graph.ops.elementwise import _broadcast_times, _short_tail
from chainorder.graph.ops.registry import broadcast_axes, dense_copy, sum_axes, unbroadcast
from chainorder.graph.program import compile_jacobian_program
from chainorder.measure import peak_memory

_PATH = Path(__file__).resolve().parent.parent / "examples" / "graph_cases.py"
_spec = importlib.util.spec_from_file_location("graph_cases", _PATH)
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

RNG = np.random.default_rng(7)


@pytest.mark.parametrize(
    ("shape", "axes", "keep"),
    [((5, 4, 3), (2,), True), ((5, 4, 3), (1,), False), ((2, 3, 4, 5), (1, 3), True),
     ((6,), (0,), False)],
)  # fmt: skip
def test_sum_axes_is_numpy_sum(shape, axes, keep) -> None:
    a = RNG.standard_normal(shape)
    got = sum_axes(a, axes, keep)
    want = a.sum(axis=axes, keepdims=keep)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    ("base", "shape"),
    [((2,), (40, 30, 2)), ((3, 1), (4, 3, 5)), ((1, 4, 1), (3, 4, 6)), ((), (3, 4)),
     ((5,), (5,))],
)  # fmt: skip
def test_dense_copy_writes_the_broadcast_values_into_a_new_array(base, shape) -> None:
    a = np.broadcast_to(RNG.standard_normal(base), shape)
    d = dense_copy(a)
    assert np.array_equal(d, a)
    assert d.flags.c_contiguous and d.flags.writeable and not np.shares_memory(d, a)
    assert broadcast_axes(d) == []


@pytest.mark.parametrize(
    ("t_shape", "f_shape", "out_shape"),
    [((7, 4, 1), (4, 5), (4, 5)), ((7, 5), (4, 5), (4, 5)), ((7, 4, 5), (4, 1), (4, 5)),
     ((7, 1, 5), (3, 1, 5), (3, 1, 5))],
)  # fmt: skip
@pytest.mark.parametrize("last", [False, True])
def test_broadcast_times_is_the_broadcast_product(t_shape, f_shape, out_shape, last) -> None:
    t = RNG.standard_normal(t_shape)
    if last:  # a block laid out with its seed axis last
        t = np.moveaxis(np.ascontiguousarray(np.moveaxis(t, 0, -1)), -1, 0)
    f = RNG.standard_normal(f_shape)
    got = _broadcast_times(t, f, out_shape, last)
    pad = (1,) * (len(out_shape) - (t.ndim - 1))
    want = t.reshape((t.shape[0], *pad, *t.shape[1:])) * f
    assert got is not None
    np.testing.assert_allclose(got, np.broadcast_to(want, (t.shape[0], *out_shape)), rtol=0,
                               atol=0)  # fmt: skip


def test_broadcast_times_declines_an_axis_neither_operand_spans() -> None:
    t, f = RNG.standard_normal((7, 1, 5)), RNG.standard_normal((3, 1, 5))
    assert _broadcast_times(t, f, (3, 2, 5), False) is None


@pytest.mark.parametrize(
    ("c_shape", "in_shape"), [((3, 20, 20, 2), (2,)), ((2, 6, 4, 3), (1, 4, 3)), ((2, 9, 5), (5,))]
)
def test_short_tail_vjp_sums_the_products(c_shape, in_shape) -> None:
    c = RNG.standard_normal(c_shape)
    f = RNG.standard_normal(c_shape[1:])
    got = _short_tail(c, f, in_shape)
    assert got is not None
    np.testing.assert_allclose(got, unbroadcast(c * f, in_shape), rtol=1e-12, atol=1e-12)


def test_a_scaled_dying_factor_is_written_in_place_and_counted_once() -> None:
    x = RNG.standard_normal((6, 5))
    W = RNG.standard_normal((5, 4))

    def f(x):
        return np.tanh(np.exp(x) @ W).sum(axis=1)

    g = trace(f, x)
    lin = linearize(g)
    p = plan_graph(g)
    ref = compile_jacobian_program(lin, "reverse").run(g)
    found = False
    for row in p.rows:
        prog = compile_jacobian_program(lin, row.method, row.order)
        inplace = [i for i in prog.instructions if i.op == "mm" and i.info.get("into", -1) >= 0]
        found |= bool(inplace)
        for ins in inplace:  # the product shares the dying factor's buffer: no new block
            assert ins.alloc == 0 and ins.alias == ins.info["into"] and ins.alias in ins.free
        measured = peak_memory(lambda prog=prog: prog.run(g))
        np.testing.assert_allclose(measured.result, ref, rtol=1e-12, atol=1e-12)
        pred = prog.predicted_peak_bytes
        assert abs(measured.peak_bytes - pred) <= 0.1 * measured.peak_bytes + 64 * 1024
    assert found


def _sum_graph():
    return trace(lambda x: np.sum(x, axis=1), RNG.standard_normal((3, 4)))


@pytest.mark.parametrize("layout", ["C", "F"])
def test_apply_add_adds_an_adjoint_broadcast_in_either_layout(layout) -> None:
    g = _sum_graph()  # v1 = x.sum(axis=1): its VJP is a broadcast view of the block
    r = 5
    src = RNG.standard_normal((r, 3))  # ∂k/∂v1, r rows
    dest = np.asarray(RNG.standard_normal((r, 12)), order=layout)
    want = dest + np.broadcast_to(src[:, :, None], (r, 3, 4)).reshape(r, 12)
    ins = Instr("apply_add", 2, ((0, 0),), "v1",
                {"way": "vjp", "shape_j": (3,), "shape_out": (3, 4), "into": 1})  # fmt: skip
    out, mults = _run_elim(g, ins, [src, dest], np)
    assert out is dest and mults == 0
    np.testing.assert_array_equal(dest, want)


@pytest.mark.parametrize("layout", ["F", "C"])
def test_apply_add_adds_a_tangent_broadcast_in_either_layout(layout) -> None:
    g = trace(lambda x, y: x + y, np.ones((3, 4)), RNG.standard_normal(4), wrt=[0, 1])
    v = next(n for n in g.order if g.nx.nodes[n]["kind"] == "intermediate")
    rule = get_rule(g.nx.nodes[v]["op"])
    cols = 6
    src = RNG.standard_normal((4, cols))  # ∂y/∂i formed: size(y) × cols
    tangents = src.T.reshape(cols, 4)
    res = rule.jvp(1, tangents, (np.ones((3, 4)), np.ones(4)), np.ones((3, 4)), {})
    assert np.shares_memory(res, tangents)  # a view: what apply_add is for
    dest = np.asarray(RNG.standard_normal((12, cols)), order=layout)  # size(v) × cols
    want = dest + np.asarray(res).reshape(cols, 12).T
    ins = Instr("apply_add", 2, ((0, 1),), v,
                {"way": "jvp", "shape_j": (4,), "shape_out": (3, 4), "into": 1})  # fmt: skip
    out, _ = _run_elim(g, ins, [src, dest], np)
    assert out is dest
    np.testing.assert_array_equal(dest, want)


@pytest.mark.parametrize("name", ["softmax_xent", "attention"])
def test_fused_sum_programs_match_the_sweep_and_their_predicted_peak(name) -> None:
    f, args, wrt = cases.CASES[name](1.0)
    g = trace(f, *args, wrt=list(wrt))
    p = plan_graph(g)
    lin = p.lin
    ref = compile_jacobian_program(lin, "reverse").run(g)
    row = p.row("reverse elimination")
    prog, n_slots, _ = elimination_program(lin, row.order)
    assert any(i.op == "apply_add" for i in prog)
    measured = peak_memory(lambda: execute(g, prog, n_slots, 0)[0])
    np.testing.assert_allclose(measured.result, ref, rtol=1e-10, atol=1e-12)
    pred = simulate_peak(prog) * 8
    assert abs(measured.peak_bytes - pred) <= 0.1 * measured.peak_bytes + 64 * 1024


@pytest.mark.parametrize(
    ("name", "which", "op"),
    [("attention", "reverse elimination", "apply_vjp")],
)  # fmt: skip
def test_a_transposed_factor_read_only_by_rules_is_kept_as_a_view(name, which, op) -> None:
    f, args, wrt = cases.CASES[name](1.0)
    g = trace(f, *args, wrt=list(wrt))
    p = plan_graph(g)
    row = p.row(which)
    prog = compile_jacobian_program(p.lin, row.method, row.order)
    kept = [i for i in prog.instructions if i.info.get("keep_nd")]
    assert kept and all(i.alloc == 0 and i.alias == i.terms[0][0] for i in kept)
    for ins in kept:  # only rules read it, in its block shape
        readers = [j for j in prog.instructions if any(s == ins.out for s, _ in j.terms)]
        assert ins.op == op and readers and all(j.op == op for j in readers)
    measured = peak_memory(lambda: prog.run(g))
    ref = compile_jacobian_program(p.lin, "forward").run(g)
    np.testing.assert_allclose(measured.result, ref, rtol=1e-10, atol=1e-12)
    pred = prog.predicted_peak_bytes
    assert abs(measured.peak_bytes - pred) <= 0.1 * measured.peak_bytes + 64 * 1024
    assert prog.last_mults == prog.predicted_mults == row.mults


@pytest.mark.parametrize("method", ["forward", "reverse", "elimination:forward",
                                    "elimination:reverse", "elimination:markowitz"])
def test_the_jacobian_is_left_uninitialised_only_when_every_block_is_written(method) -> None:
    x, y = RNG.standard_normal(3), RNG.standard_normal(2)
    partial = trace(lambda x, y: (np.sin(x), y * 3.0), x, y, wrt=[0, 1])  # zero blocks
    full = trace(lambda x, y: np.sin(x).sum() * y, x, y, wrt=[0, 1])
    sweep = not method.startswith("elimination")  # a sweep writes whole rows / columns
    for g, empty in ((partial, sweep), (full, True)):
        prog = compile_jacobian_program(linearize(g), method)
        (z,) = [i for i in prog.instructions if i.op == "zeros"]
        assert bool(z.info.get("empty")) is empty
        jac = prog.run(g)
        ref = compile_jacobian_program(linearize(g), "forward").run(g)
        np.testing.assert_allclose(jac, ref, rtol=1e-12, atol=1e-12)
    jac = compile_jacobian_program(linearize(partial), method).run(partial)
    assert not jac[:3, 3:].any() and not jac[3:, :3].any()


def test_every_slot_is_dropped_at_its_last_read() -> None:
    for name in ("attention", "softmax_xent", "layer_norm", "mlp"):
        f, args, wrt = cases.CASES[name](1.0)
        g = trace(f, *args, wrt=list(wrt))
        p = plan_graph(g)
        for row in p.rows:
            if row.method.is_sweep:
                continue
            prog = compile_jacobian_program(p.lin, row.method, row.order).instructions
            for k, ins in enumerate(prog):
                for s in ins.free:
                    later = [j for j in prog[k + 1 :] if any(t == s for t, _ in j.terms)
                             or j.info.get("into") == s]  # fmt: skip
                    assert not later, (name, row.name, k, s)
                    reads = [j for j, i in enumerate(prog[: k + 1])
                             if any(t == s for t, _ in i.terms) or i.info.get("into") == s]
                    assert not reads or reads[-1] == k, (name, row.name, k, s)


def test_a_broadcast_view_is_never_kept_as_a_block() -> None:
    f, args, wrt = cases.CASES["gp_datafit"](1.0)
    g = trace(f, *args, wrt=list(wrt))
    p = plan_graph(g)
    row = p.row("reverse elimination")
    prog = compile_jacobian_program(p.lin, row.method, row.order).instructions
    views = [i for i in prog if i.info.get("view_rule")]
    assert any(i.info["bcast"] for i in views)  # the sum's VJP: a broadcast of its block
    assert not any(i.info.get("keep_nd") and i.info["bcast"] for i in prog)
