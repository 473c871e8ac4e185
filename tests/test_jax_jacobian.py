"""chainorder.jax.jacobian against JAX's own jacfwd/jacrev (float64), on the issue-12 models."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

import chainorder.jax as cjax  # noqa: E402
from chainorder.errors import DtypeError, ExecutionError, SpecError, SpecTypeError  # noqa: E402
from chainorder.jax.bench_cases import CASES, make_case, mlp  # noqa: E402

METHODS = ("auto", "optimal", "forward", "reverse", "given")


@pytest.fixture(autouse=True)
def x64():
    """Float64 for these tests only; the previous setting is restored."""
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def jfwd(f, argnums=0):
    """``jax.jit(jax.jacfwd(f))``: one compilation instead of one per eager primitive."""
    return jax.jit(jax.jacfwd(f, argnums))


def jrev(f, argnums=0):
    return jax.jit(jax.jacrev(f, argnums))


def close(a, b, tol=1e-10):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    assert len(la) == len(lb)
    for u, v in zip(la, lb, strict=True):
        assert u.shape == v.shape and u.dtype == v.dtype
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", CASES)
def test_cases_match_jacfwd_and_jacrev_under_jit(name):
    f, x = make_case(name, "float64", scale=16)
    ref = jfwd(f)(x)
    close(jrev(f)(x), ref)
    close(jax.jit(cjax.jacobian(f, measure=False))(x), ref)


@pytest.mark.parametrize("name", ["hourglass", "attention", "cnn"])
def test_every_method_is_exact(name):
    f, x = make_case(name, "float64", scale=16)
    ref = jrev(f)(x)
    for method in METHODS:
        close(jax.jit(cjax.jacobian(f, method=method, measure=False))(x), ref)


def test_hourglass_plans_a_mixed_order_below_both_pure_modes():
    f, x = make_case("hourglass", "float64", scale=16)  # 256,4,256,4,256
    jac = cjax.jacobian(f, measure=False)
    prep = jac.prepared(x)
    assert prep.chosen == "optimal" and prep.plan.plan.mode == "mixed"
    pure = min(prep.plans["forward"].mults, prep.plans["reverse"].mults)
    assert prep.plan.mults < 0.5 * pure
    close(jax.jit(jac)(x), jfwd(f)(x))


def test_wide_in_is_reverse_and_wide_out_forward():
    f, x = make_case("wide_in", "float64", scale=8)
    assert cjax.jacobian(f).prepared(x).plan.plan.mode == "reverse"
    f, x = make_case("wide_out", "float64", scale=8)
    assert cjax.jacobian(f).prepared(x).plan.plan.mode == "forward"


def test_vmap_and_jit_compose():
    f, x = make_case("hourglass", "float64", scale=32)
    xs = jnp.stack([x, 2 * x, -x])
    jac = cjax.jacobian(f, measure=False)
    got = jax.jit(jax.vmap(jac))(xs)
    close(got, jax.jit(jax.vmap(jax.jacfwd(f)))(xs))
    close(jax.vmap(jax.jit(jac))(xs), jax.jit(jax.vmap(jax.jacrev(f)))(xs))


@pytest.mark.parametrize("name", ["hourglass", "residual"])
def test_grad_through_the_jacobian_matches_jacfwd(name):
    """A Jacobian penalty's gradient, eager and jitted, as through jax.jacfwd (the residual
    block's first call times its candidates inside the grad trace, on random inputs)."""
    f, x = make_case(name, "float64", scale=16)

    def penalty(jacobian_of):
        return lambda v: jnp.sum(jacobian_of(f)(v) ** 2)

    ref = jax.grad(penalty(jax.jacfwd))(x)
    close(jax.grad(penalty(cjax.jacobian))(x), ref, tol=1e-9)
    close(jax.jit(jax.grad(penalty(cjax.jacobian)))(x), ref, tol=1e-9)


def test_tuple_argnums_and_pytrees_follow_jacfwd_layout():
    w = jnp.linspace(-1.0, 1.0, 12).reshape(3, 4)

    def f(x, p, scale):
        h = jnp.tanh(x @ w + p["b"]) * scale
        return {"y": h @ p["v"], "z": jnp.sum(h**2)}

    x, scale = jnp.linspace(0.1, 0.3, 3), jnp.asarray(1.5)
    p = {"b": jnp.ones(4) * 0.2, "v": jnp.arange(8.0).reshape(4, 2) / 8}
    close(cjax.jacobian(f, (0, 1))(x, p, scale), jax.jacfwd(f, (0, 1))(x, p, scale))  # eager
    for argnums in (1, (2, 0), -1):
        got = jax.jit(cjax.jacobian(f, argnums, measure=False))(x, p, scale)
        close(got, jrev(f, argnums)(x, p, scale))


def test_list_outputs_matrix_inputs_and_constant_outputs():
    def f(a):
        return [jnp.sin(a) @ a.T, jnp.ones(2), a.sum()]

    a = jnp.arange(6.0).reshape(2, 3) / 5
    close(jax.jit(cjax.jacobian(f))(a), jfwd(f)(a))


def test_nested_jit_and_custom_jvp_are_seen_layer_by_layer():
    inner = jax.jit(mlp((40, 6, 40, 6, 40), "float64"))
    f = lambda x: jax.nn.relu(inner(x))  # noqa: E731
    x = jnp.linspace(-1, 1, 40)
    jac = cjax.jacobian(f, measure=False)
    prep = jac.prepared(x)
    assert len(prep.segs) >= 5  # the jitted MLP is inlined, not one opaque segment
    assert prep.plan.plan.mode == "mixed"
    close(jax.jit(jac)(x), jfwd(f)(x))


@pytest.mark.parametrize(
    "f",
    [
        lambda x: jax.lax.stop_gradient(x) * 0.5 + jnp.tanh(x),  # a value without derivative
        lambda x: jnp.tanh(x) * jax.lax.stop_gradient(jnp.sin(x)).sum(),
        lambda x: jnp.sin(x) * (jnp.argmax(x) + 1.0),  # an integer from the input, then used
        lambda x: jnp.tanh(x).T @ jax.lax.stop_gradient(x * 2.0),
    ],
)
def test_values_computed_from_the_input_without_derivative(f):
    """Operations that read a value computed from the input but carry no derivative (after a
    stop_gradient or an argmax) run inside the segments: every method equals jax.jacfwd (they
    were left to the constants' pass, which ran before their input existed: KeyError)."""
    x = jnp.linspace(-1.0, 1.2, 9).reshape(3, 3)
    ref = jfwd(f)(x)
    for method in METHODS:
        close(cjax.jacobian(f, method=method, measure=False)(x), ref)
        close(jax.jit(cjax.jacobian(f, method=method, measure=False))(x), ref)


def test_unknown_primitives_are_priced_densely_and_named():
    f = lambda x: jnp.sort(jnp.tanh(x)) * 2.0  # noqa: E731
    x = jnp.linspace(-1, 1, 7)
    jac = cjax.jacobian(f, measure=False)
    close(jax.jit(jac)(x), jfwd(f)(x))
    text = jac.explain()
    assert "unknown primitives" in text and "sort" in text


def test_measure_times_close_candidates_and_explain_shows_them():
    f, x = make_case("residual", "float64", scale=16)  # forward and reverse cost the same
    jac = cjax.jacobian(f)
    out = jax.jit(jac)(x)  # the first call is traced: timing uses random inputs
    close(out, jfwd(f)(x))
    prep = jac.prepared(x)
    assert {"forward", "reverse"} <= set(prep.timings)
    assert prep.chosen in prep.timings
    assert all(t > 0 for t in prep.timings.values())
    assert "timed on the first call" in jac.explain()
    off = cjax.jacobian(f, measure=False)
    assert off.prepared(x).timings == {}
    f, x = make_case("wide_in", "float64", scale=32)
    assert len(cjax.jacobian(f, measure=True).prepared(x).timings) >= 2


def test_explain_lists_segments_steps_and_baselines():
    from chainorder.jax.explain import step_lines

    f, x = make_case("hourglass", "float64", scale=32)
    jac = cjax.jacobian(f, measure=False)
    text = jac.explain(x)
    prep = jac.prepared(x)
    for line in step_lines(prep.plan.plan):
        assert line in text
    for s in prep.segs:
        assert s.label in text
    for word in ("7 segments", "jacfwd", "jacrev", "FLOPs", "mults", "adjoint sweep"):
        assert word in text, word


def test_float32_stays_float32():
    f, x = make_case("cnn", "float32", scale=4)
    out = jax.jit(cjax.jacobian(f, measure=False))(x)
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(out, jrev(f)(x), rtol=1e-4, atol=1e-5)


def test_bad_input_raises_one_clear_error():
    f = lambda x: x * 2.0  # noqa: E731
    with pytest.raises(SpecError, match="method"):
        cjax.jacobian(f, method="sideways")
    with pytest.raises(SpecTypeError, match="callable"):
        cjax.jacobian(3)
    with pytest.raises(SpecTypeError, match="measure"):
        cjax.jacobian(f, measure="yes")
    with pytest.raises(SpecError, match="out of range"):
        cjax.jacobian(f, argnums=2)(jnp.ones(2))
    with pytest.raises(SpecTypeError, match="argnums"):
        cjax.jacobian(f, argnums="0")(jnp.ones(2))
    for x in (jnp.arange(3), jnp.ones(3, jnp.bfloat16), jnp.ones(3, jnp.complex64)):
        with pytest.raises(
            DtypeError, match=r"float16, float32 and float64 arrays; got \w+ \(cast"
        ):
            cjax.jacobian(f)(x)
    with pytest.raises(SpecError, match="explain"):
        cjax.jacobian(f).explain()
    with pytest.raises(SpecError, match="returned no arrays"):
        cjax.jacobian(lambda x: None)(jnp.ones(2))


def test_without_jax_one_line_names_the_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "jax", None)
    with pytest.raises(ExecutionError, match=r"pip install 'jacobian-chainorder\[jax\]'"):
        cjax.jacobian(lambda x: x)


def _xla_peak(g, x):
    """temp + output bytes of XLA's compiled ``g`` (what the peak column reports)."""
    mem = jax.jit(g).lower(x).compile().memory_analysis()
    return int(mem.temp_size_in_bytes) + int(mem.output_size_in_bytes)


def test_a_time_tie_goes_to_the_smaller_xla_peak_of_jacfwd_and_jacrev():
    """The first-call rule (chainorder.ties): within 5 % of the fastest, the smaller of the
    compiled programs' peaks, read here from jax.jit(jax.jacfwd/jacrev) independently."""
    from chainorder.jax.api import choose_timed

    f, x = make_case("wide_out", "float64", scale=32)  # jacrev holds the larger buffers
    jac = cjax.jacobian(f, measure=False)
    prep = jac.prepared(x)
    fwd, rev = _xla_peak(jax.jacfwd(f), x), _xla_peak(jax.jacrev(f), x)
    assert fwd * 1.01 < rev or rev * 1.01 < fwd  # the two differ: the tie has a winner
    lean, heavy = ("forward", "reverse") if fwd < rev else ("reverse", "forward")
    prep.timings = {heavy: 1.00e-4, lean: 1.04e-4}  # the heavier one 4 % faster: a tie
    assert choose_timed(prep) == lean
    prep.chosen = lean
    assert "kept for its smaller XLA peak" in jac.explain()
    prep.timings = {heavy: 1.00e-4, lean: 1.06e-4}  # 6 %: no tie, the fastest kept
    assert choose_timed(prep) == heavy
    prep.chosen = heavy
    assert "a tie" not in jac.explain()
