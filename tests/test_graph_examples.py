"""The lecture examples in examples/: the numbers the notes give (or should give)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from chainorder.gradcheck import check_grads
from chainorder.graph import jacobian_forward, jacobian_reverse, plan_graph, trace, validate_graph

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kernel_exercise_shapes_costs_and_gradient() -> None:
    ex = load("kernel_exercise")
    N = 50
    ell, X = ex.example_args(N)
    g = trace(ex.f, ell, X)
    # part a: the shape of every intermediate, for each a = 1, 2
    ops = [(n.op, n.shape) for n in g.nodes() if n.kind == "intermediate"]
    branch = [
        ("getitem", (N, 1)), ("getitem", (1, N)), ("subtract", (N, N)), ("power", (N, N)),
        ("negative", (N, N)), ("getitem", ()), ("power", ()), ("multiply", ()),
        ("divide", (N, N)), ("exp", (N, N)), ("add", (N, N)),
    ]  # fmt: skip
    assert ops == branch + branch + [("inv", (N, N)), ("matmul", (N,)), ("matmul", ())]
    assert (g.n_in, g.n_out) == (2 + 2 * N, 1)
    # part c: one tangent / adjoint sweep costs 2·(4N² + 2) + 2N³ (inv) + N² + N mults
    per_sweep = 2 * (4 * N * N + 2) + 2 * N**3 + N * N + N
    p = plan_graph(g)
    assert p.row("forward mode").mults == (2 + 2 * N) * per_sweep == 27_800_508
    assert p.row("reverse mode").mults == per_sweep == 272_554
    # memory: the graph's values plus what the compiled sweep allocates at its peak
    # (forward carries 102 tangents of every live node, reverse one adjoint)
    from chainorder.graph.program import compile_jacobian_program

    values = p.lin.values_elements() * 8
    for mode in ("forward", "reverse"):
        prog = compile_jacobian_program(p.lin, mode)
        assert p.row(f"{mode} mode").peak_bytes == values + prog.predicted_peak_bytes
    assert p.row("forward mode").peak_bytes > 10 * p.row("reverse mode").peak_bytes
    assert p.chosen.mults <= p.row("reverse mode").mults
    check_grads(ex.f, ell, X)
    assert validate_graph(g, p.chosen.order).ok


def test_sqrt_cos_reverse_mode_equals_the_analytic_derivative() -> None:
    ex = load("sqrt_cos")
    g = trace(ex.f, 1.0)
    assert [g.nx.nodes[v]["op"] for v in g.order if g.nx.nodes[v]["kind"] == "intermediate"] == [
        "power", "exp", "add", "sqrt", "cos", "add",
    ]  # fmt: skip
    for x in (1.0, 0.5, -1.3):
        assert ex.reverse_mode(x) == pytest.approx(ex.analytic(x), rel=1e-12)
    assert ex.reverse_mode(1.0) == pytest.approx(5.983082595909, abs=1e-11)


def test_tanh_network_forward_mode() -> None:
    ex = load("tanh_network")
    d = ex.forward_mode(1.0)
    assert round(d, 4) == -0.2859
    t = np.tanh(2.0)
    assert d == pytest.approx(2 * (1.2 * t - 2) * 1.2 * (1 - t * t) * 2, rel=1e-14)
    assert d != pytest.approx(-0.283, abs=1e-3)  # the notes' rounded value


def test_product_rule_example_is_six_not_eight() -> None:
    ex = load("product_rule")
    dx, dy = ex.gradient(4.0, 2.0)
    assert dx == 6.0 == 2 * (1 + 2.0)
    assert dy == 8.0 == 2 * 4.0
    g = trace(ex.f, 4.0, 2.0)
    assert np.array_equal(jacobian_forward(g), jacobian_reverse(g))
