"""chainorder.jax internals: pricing, cut vertices, planning, and predictions against XLA."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

import chainorder.jax as cjax  # noqa: E402
from chainorder.jax.bench_cases import make_case, mlp  # noqa: E402
from chainorder.jax.price import price_op  # noqa: E402
from chainorder.jax.program import trace_program  # noqa: E402
from chainorder.jax.segments import segment_program  # noqa: E402
from chainorder.jax.timing import xla_figures  # noqa: E402
from chainorder.matfree.planning import plan_matrix_free  # noqa: E402


def eqns(f, *args):
    return jax.make_jaxpr(f)(*args).jaxpr.eqns


def test_import_jax_inside_the_package_is_the_real_jax():
    import chainorder.jax.program as program

    prog, _ = program.trace_program(lambda x: x * 2.0, (jnp.ones(2),))
    assert prog.ops[0].eqn.primitive.name == "mul"
    assert jax.__name__ == "jax" and "chainorder" not in jax.__file__


def test_prices_of_dot_conv_elementwise_and_structure():
    x, w = jnp.ones((5, 3)), jnp.ones((3, 4))
    (dot,) = eqns(lambda a, b: a @ b, x, w)
    assert price_op(dot, [True, False]).tangent == 5 * 4 * 3
    both = price_op(dot, [True, True])
    assert (both.tangent, both.adjoint, both.tape) == (2 * 60, 2 * 60, 15 + 12)
    img, ker = jnp.ones((1, 2, 6, 6)), jnp.ones((4, 2, 3, 3))
    (conv,) = eqns(lambda a: jax.lax.conv_general_dilated(a, ker, (1, 1), "VALID"), img)
    assert price_op(conv, [True, False]).tangent == 4 * 4 * 4 * (2 * 3 * 3)  # outputs × kernel
    (tanh,) = eqns(jnp.tanh, x)
    assert (price_op(tanh, [True]).tangent, price_op(tanh, [True]).tape) == (15, 15)
    assert price_op(tanh, [True]).diagonal
    for f in (lambda a: a.T, lambda a: a.reshape(-1), lambda a: a + 1.0, jnp.sum):
        (e,) = eqns(f, x)
        assert price_op(e, [True] + [False] * (len(e.invars) - 1)).tangent == 0
    (tr,) = eqns(lambda a: a.T, x)
    assert not price_op(tr, [True]).diagonal  # a permutation, not a diagonal
    (div,) = eqns(lambda a, b: a / b, x, x)
    assert price_op(div, [False, True]).tangent == 2 * 15
    (srt,) = eqns(jnp.sort, jnp.ones(6))
    assert price_op(srt, [True]).unknown == ("sort",)
    assert price_op(srt, [True]).tangent == 36  # dense 6×6 per seed


def test_cuts_split_an_mlp_at_every_layer_and_not_inside_a_residual():
    f = mlp((6, 5, 4, 3))
    prog, _ = trace_program(f, (jnp.ones(6),))
    segs = segment_program(prog, prog.inputs)
    assert [(s.rows, s.cols) for s in segs] == [(5, 6), (5, 5), (4, 5), (4, 4), (3, 4)]
    assert [s.diagonal for s in segs] == [False, True, False, True, False]
    g, x = make_case("residual", "float32", scale=64)
    prog, _ = trace_program(g, (x,))
    segs = segment_program(prog, prog.inputs)
    # x feeds both the skip and the branch: no cut inside the block, the final tanh is one
    assert len(segs) == 2 and segs[1].diagonal
    n = x.size
    assert segs[0].cost.tangent == 2 * n * (4 * n) + 4 * n  # two dense layers and a tanh


def test_no_cut_when_two_paths_stay_live():
    def f(x):
        a, b = jnp.sin(x), jnp.cos(x)
        return jnp.tanh(a) * jnp.exp(b)

    prog, _ = trace_program(f, (jnp.ones(4),))
    segs = segment_program(prog, prog.inputs)
    assert len(segs) == 1 and segs[0].diagonal
    assert segs[0].cost.tangent == 4 * 4 + 2 * 4  # sin, cos, tanh, exp, and mul of two actives


def test_links_and_plan_are_the_matfree_planners():
    f, x = make_case("hourglass", "float32", scale=16)
    jac = cjax.jacobian(f, measure=False)
    prep = jac.prepared(x)
    from chainorder.jax.segments import link_of

    links = [link_of(s) for s in prep.segs]
    assert prep.plans["optimal"].plan == plan_matrix_free(links, "float32")
    assert prep.plans["forward"].mults == x.size * sum(l.tangent for l in links)
    assert prep.plans["reverse"].mults == f(x).size * sum(l.adjoint for l in links)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(1, 24), min_size=2, max_size=5), st.integers(0, 10**6))
def test_random_mlp_widths_match_jacrev(widths, seed):
    f = mlp(tuple(widths), "float32", seed)
    x = jnp.asarray(np.random.default_rng(seed).standard_normal(widths[0]), jnp.float32)
    jac = cjax.jacobian(f, measure=False)
    got = jax.jit(jac)(x)
    np.testing.assert_allclose(got, jax.jit(jax.jacrev(f))(x), rtol=2e-4, atol=2e-5)
    prep = jac.prepared(x)
    assert prep.plan.mults <= min(prep.plans["forward"].mults, prep.plans["reverse"].mults)


@pytest.mark.parametrize("name", ["hourglass", "wide_in"])
def test_predicted_flops_are_what_xla_compiles(name):
    """The plan's FLOPs plus the forward evaluations it runs are XLA's count of the compiled
    Jacobian, and the plans rank as predicted. XLA may rewrite the first product of a sweep
    that starts from the identity (``I·W = W``): that link's sweep work is the allowed saving.
    Compiled staged, as ``jax.jit`` of the Jacobian compiles them (nothing folded at trace
    time)."""
    f, x = make_case(name, "float32", scale=4)
    prep = cjax.jacobian(f, measure=False).prepared(x)
    cost = jax.jit(f).lower(x).compile().cost_analysis()
    forward = float((cost[0] if isinstance(cost, list) else cost)["flops"])
    for key in ("optimal", "forward", "reverse"):
        plan = prep.plans[key].plan
        sweeps = sum(n.action in ("tangent", "adjoint", "diagonal") for n in plan.nodes)
        saved = 0
        for n in plan.nodes:
            if n.action == "tangent" and n.right < 0:
                saved += 2 * n.seeds * plan.links[n.split - 1].tangent
            if n.action == "adjoint" and n.left < 0:
                saved += 2 * n.seeds * plan.links[n.split - 2].adjoint
        xla = xla_figures(prep, key).flops
        # above: the identity seed block is built at run time (XLA counts its compare and
        # convert, 2 per element) and an elementwise JVP counts 3 operations per element where
        # the plan prices one multiply-add: at most 4 % of the plan's FLOPs here
        high = plan.flops * 1.04 + (1 + sweeps) * forward * 1.1 + 1e4
        assert plan.flops - saved <= xla <= high, key
    if name == "hourglass":
        opt, fwd = xla_figures(prep, "optimal").flops, xla_figures(prep, "forward").flops
        assert opt < 0.5 * fwd
        assert xla_figures(prep, "optimal").peak_bytes <= xla_figures(prep, "forward").peak_bytes


def _hlo(compiled):
    import re

    lines = [re.sub(r"metadata=\{[^}]*\}", "", ln) for ln in compiled.as_text().splitlines()]
    return [re.sub(r"%[\w.\-]+", "%", ln).strip() for ln in lines if " = " in ln]


@pytest.mark.parametrize(("name", "ref"), [("wide_out", "jacfwd"), ("wide_in", "jacrev")])
def test_a_pure_plan_compiles_to_the_same_program_as_jax(name, ref):
    """Where the plan is a pure mode, jit(chainorder.jax.jacobian) is jit(jacfwd/jacrev)'s own
    XLA program (instruction for instruction, names aside): it cannot be slower."""
    f, x = make_case(name, "float32", scale=16)
    ours = jax.jit(cjax.jacobian(f, measure=False)).lower(x).compile()
    theirs = jax.jit(getattr(jax, ref)(f)).lower(x).compile()
    assert _hlo(ours) == _hlo(theirs)
