"""The matrix-free executor does the plan's work and nothing to its inputs: the multiplications
it performs (counted from the arrays each JVP, VJP and product receives) equal the plan's
predicted mults, in-place steps never write into tapes or given arrays, and adjoint sweeps
hand back seeds-last blocks."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_matfree_exec import random_links

from chainorder.matfree.elementals import ElementalChain, Elementwise
from chainorder.matfree.execute import execute
from chainorder.matfree.links import conv2d, dense, elementwise
from chainorder.matfree.plan import MatrixFreePlan
from chainorder.matfree.reference import all_plans

ex = importlib.import_module("chainorder.matfree.execute")  # the package exports execute()


class Counting:
    """A layer that counts the multiplications of the calls it receives, from their shapes."""

    def __init__(self, layer, tally):
        self.layer, self.tally = layer, tally

    def __getattr__(self, name):
        return getattr(self.layer, name)

    def _per_seed(self):
        layer = self.layer
        if layer.kind == "dense":
            return layer.weight.size
        if layer.kind == "elementwise":
            return layer.size
        return layer.geometry.mults_per_seed

    def jvp(self, tape, T, out=None):
        self.tally.append(self._per_seed() * T.shape[1])
        return self.layer.jvp(tape, T, out=out)

    def vjp(self, tape, A, out=None):
        self.tally.append(self._per_seed() * A.shape[0])
        return self.layer.vjp(tape, A, out=out)


def _product_mults(a, b):
    if a.ndim == 2 and b.ndim == 2:
        return a.shape[0] * a.shape[1] * b.shape[1]
    return max(a.size, b.size)  # a diagonal scaling: one mult per entry of the result


def _count_products(monkeypatch, tally):
    """Route the executor's products through a counter (once per test)."""
    for name in ("multiply_stored", "scale_in_place"):
        real = getattr(ex, name)

        def wrapped(a, b, *rest, _real=real):
            tally.append(_product_mults(a, b))
            return _real(a, b, *rest)

        monkeypatch.setattr(ex, name, wrapped)


def _counting_net(net, tally):
    counted = ElementalChain(net.links, seed=0, dtype=net.dtype)
    counted.layers = [Counting(layer, tally) for layer in net.layers]
    return counted


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n_links=st.integers(1, 4), given_p=st.sampled_from([0, 0.3]))
def test_executed_mults_equal_the_plans_prediction(seed, n_links, given_p):
    rng = np.random.default_rng(seed)
    links = random_links(rng, n_links, given_p)
    net = ElementalChain(links, seed=seed)
    x = net.random_input(seed)
    reference = net.jacobian(x)
    plans = list(all_plans(links))
    tally: list[int] = []
    counted = _counting_net(net, tally)
    with pytest.MonkeyPatch.context() as mp:
        _count_products(mp, tally)
        for plan in plans[:: max(1, len(plans) // 25)]:
            for setting in ("given", "streamed"):
                tally.clear()
                J = execute(plan, counted, x, setting=setting)
                assert sum(tally) == plan.mults, (setting, plan.nodes, tally)
                np.testing.assert_allclose(J, reference, rtol=1e-11, atol=1e-12)


def test_in_place_steps_leave_tapes_and_given_arrays_alone():
    links = [
        dense(6, 5, given=True),
        elementwise(6, "tanh", given=True),
        conv2d(1, (2, 3), 2, 2, padding=1).with_given(),
        elementwise(24, "sigmoid"),
        dense(4, 24),
    ]
    net = ElementalChain(links, seed=2)
    x = net.random_input(3)
    reference = net.jacobian(x)
    tapes = net.tapes(x)
    given_arrays = {l: ex.form_given(net.layers[l - 1], tapes[l - 1]) for l in (1, 2, 3)}
    before = [None if t is None else t.copy() for t in tapes]
    given_before = {l: a.copy() for l, a in given_arrays.items()}
    plans = list(all_plans(links))
    for plan in plans[:: max(1, len(plans) // 120)]:
        J = execute(plan, net, setting="given", tapes=tapes, given=given_arrays)
        np.testing.assert_allclose(J, reference, rtol=1e-11, atol=1e-12)
    for t, t0 in zip(tapes, before, strict=True):
        assert (t is None and t0 is None) or np.array_equal(t, t0)
    for l, a in given_arrays.items():
        assert np.array_equal(a, given_before[l])


def test_elementwise_out_scales_the_block_it_is_given():
    act = Elementwise("tanh", 3)
    _, tape = act.forward(np.array([0.1, -0.4, 2.0]))
    T = np.arange(6.0).reshape(3, 2)
    expected = tape[:, None] * T
    assert act.jvp(tape, T, out=T) is T
    np.testing.assert_array_equal(T, expected)
    A = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    expected = A * tape[None, :]
    assert act.vjp(tape, A, out=A) is A and A.flags.f_contiguous
    np.testing.assert_array_equal(A, expected)


def test_adjoint_sweeps_keep_their_blocks_seeds_last():
    links = [conv2d(1, (6, 6), 3, 3, stride=2), elementwise(12, "tanh"), dense(5, 12)]
    net = ElementalChain(links, seed=0)
    x = net.random_input()
    rev = MatrixFreePlan.from_nodes(links, [(1, 3, 4, "adjoint")])  # I·A[3..1]
    J = execute(rev, net, x)
    assert J.flags.f_contiguous  # identity handed over transposed, no step transposed it
    np.testing.assert_allclose(J, net.jacobian(x), rtol=1e-12, atol=1e-13)
