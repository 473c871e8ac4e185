"""chainorder.jax under jit: the compiled mixed program does the priced work in fast layouts."""

from __future__ import annotations

import re

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

import chainorder.jax as cjax  # noqa: E402
from chainorder.jax.bench_cases import make_case  # noqa: E402
from chainorder.jax.layout import inactive_operands, opaque_operands, preferred_order  # noqa: E402
from chainorder.jax.program import trace_program  # noqa: E402
from chainorder.jax.segments import segment_program  # noqa: E402
from chainorder.jax.timing import compiled_plan, xla_figures  # noqa: E402

_DOT = re.compile(
    r"= \w+\[(?P<out>[\d,]+)\]\S* dot\(%(?P<lhs>[\w.\-]+), %[\w.\-]+\), "
    r"lhs_contracting_dims=\{(?P<lc>[\d,]*)\}"
)


def _big_dots(text: str, min_elements: int) -> list[tuple[str, str]]:
    """(lhs shape, lhs contracting dims) of every dot with at least min_elements outputs."""
    shapes = dict(re.findall(r"%([\w.\-]+) = \w+\[([\d,]*)\]", text))
    shapes.update(re.findall(r"\(?%?([\w.\-]+): \w+\[([\d,]*)\]", text))
    out = []
    for m in _DOT.finditer(text):
        if np.prod([int(s) for s in m["out"].split(",")]) >= min_elements:
            out.append((shapes[m["lhs"]], m["lc"]))
    return out


def test_the_mixed_hourglass_contracts_every_big_product_along_the_lhs_last_axis():
    """The tangent sweep over the dense block (``T[7]·(…)``) multiplies by a weight that the
    model's ``x @ W.T`` stores as ``[k, o]``: without the layout fix XLA contracts it along its
    leading axis (Eigen's transposed GEMM on CPU, 1.6x slower in float64)."""
    with jax.enable_x64(True):
        f, x = make_case("hourglass", "float64", scale=8)  # 512, 8, 512, 8, 512
        prep = cjax.jacobian(f, measure=False).prepared(x)
        assert prep.plan.plan.expression().startswith("T[")
        text = compiled_plan(prep, "optimal").as_text()
        big = _big_dots(text, 512 * 512)
        assert big, text
        for shape, contracting in big:
            assert contracting == str(len(shape.split(",")) - 1), (shape, contracting)
        # only the tangent-swept weights are reordered: the adjoint sweep's forward products
        # (fused with their biases) would copy a reordered weight back at every call
        entry = text[text.index("ENTRY") :].splitlines()
        copies = [ln for ln in entry if "transpose" in ln.split("=")[0] or " transpose(" in ln]
        assert copies == []
        opt, rev = xla_figures(prep, "optimal"), xla_figures(prep, "reverse")
        assert opt.temp_bytes <= rev.temp_bytes, (opt, rev)
        got = jax.jit(cjax.jacobian(f, measure=False))(x)
        np.testing.assert_allclose(got, jax.jit(jax.jacrev(f))(x), rtol=1e-10, atol=1e-12)


def test_weight_only_products_run_at_run_time_as_priced():
    """A ``given`` plan forms each weight's Jacobian from identity seeds; compiled as ``jit``
    of the Jacobian compiles it (staged), XLA runs those products: it does not fold them at
    compile time (slow: over a minute at 4096×64; and then not the priced program)."""
    f, x = make_case("hourglass", "float32", scale=4)
    prep = cjax.jacobian(f, measure=False).prepared(x)
    plan = prep.plans["given"].plan
    assert xla_figures(prep, "given").flops >= 0.97 * plan.flops


def test_preferred_order_puts_contracted_axes_last_and_leaves_the_rest():
    w, v = jnp.ones((3, 4)), jnp.ones((3, 4))
    prog, _ = trace_program(lambda x: (x @ w) @ v.T, (jnp.ones(3),))
    segs = segment_program(prog, prog.inputs)
    ids = inactive_operands(segs)
    orders = preferred_order(segs, set(ids))
    # x @ w contracts w on axis 0 -> stored transposed; v.T is traced as a transpose of the
    # constant v (an inactive operation), contracted on its axis 0 -> transposed as well
    assert sorted(orders.values()) == [(1, 0), (1, 0)]
    prog2, _ = trace_program(lambda x: w @ x, (jnp.ones(4),))  # contracted on the last axis
    segs2 = segment_program(prog2, prog2.inputs)
    assert preferred_order(segs2, set(inactive_operands(segs2))) == {}


def test_opaque_operands_keep_values_and_compose_with_vmap_and_grad():
    w = jnp.arange(12.0).reshape(3, 4) / 12
    f = lambda x: jnp.tanh(x @ w) @ w.T  # noqa: E731
    xs = jnp.linspace(0.0, 1.0, 6).reshape(2, 3)
    jac = cjax.jacobian(f, method="given", measure=False)
    got = jax.jit(jax.vmap(jac))(xs)
    np.testing.assert_allclose(got, jax.vmap(jax.jacfwd(f))(xs), rtol=1e-6)
    prog, _ = trace_program(f, (xs[0],))
    segs = segment_program(prog, prog.inputs)
    env = {k: v for k, v in prog.consts.items()}
    before = {k: np.asarray(v) for k, v in env.items()}
    opaque_operands(env, segs)
    for k, v in before.items():
        np.testing.assert_array_equal(np.asarray(env[k]), v)
