"""Checkpointed schedules replayed on matrix-free elementals (issue 11 point 4).

Every point of the memory-limited planner's Pareto front, on a small CNN, a deeper CNN, a 1-D
CNN and an MLP given as a matrix-free spec: the Jacobian equals the unconstrained plan's and
the explicit product, the forward calls are ``L - 1`` plus the predicted recomputations, and
the tracemalloc peak stays under the limit and within 5 % of the predicted peak.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from chainorder.checkpoint import pareto_front, plan_with_memory_limit
from chainorder.checkpoint.elemental_source import (
    SOURCE_OVERHEAD_BYTES,
    ElementalSource,
    chain_of_links,
    conv_jacobian,
    link_transients,
    transient_peak,
)
from chainorder.checkpoint.elementals import (
    elemental_front,
    parameter_elements,
    plan_elementals,
    run_checkpointed_elementals,
    with_transients,
)
from chainorder.checkpoint.run import PEAK_TOLERANCE, CheckpointRun
from chainorder.errors import InfeasibleMemoryLimitError, MemoryLimitError
from chainorder.execute import compile_plan
from chainorder.execute_links import DG, GD, multiply
from chainorder.matfree.conv import Conv2d, ConvGeometry
from chainorder.matfree.elementals import ElementalChain
from chainorder.matfree.planning import as_links
from chainorder.measure import peak_memory
from chainorder.memory import simulate_peak
from chainorder.plan import plan

SMALL_CNN = "1x12x12,conv2d(4,k=3),relu,conv2d(6,k=3,stride=2),relu,10"
WIDE_CNN = (
    "1x4x4,conv2d(64,k=3,padding=1),relu,tanh,relu,sigmoid,relu,tanh,relu,"
    "conv2d(4,k=3,stride=2,padding=1),relu,10"
)
CNN_1D = (
    "2x32,conv1d(4,k=3,padding=1),relu,conv1d(4,k=3,padding=1),tanh,conv1d(4,k=3,stride=2),gelu,1"
)
MLP_SPEC = "100,200,tanh,300,tanh,200,relu,100,tanh,10"
SPECS = [SMALL_CNN, WIDE_CNN, CNN_1D, MLP_SPEC]


def _setup(spec: str, dtype: str = "float64"):
    links = as_links(spec)
    net = ElementalChain(links, seed=3, dtype=dtype)
    return links, net, net.random_input(4)


@pytest.mark.parametrize(
    "g",
    [
        ConvGeometry(2, 5, 5, 3, 3, 3, 2, 2, 1, 1),
        ConvGeometry(3, 9, 8, 4, 3, 3),
        ConvGeometry(4, 10, 10, 6, 3, 3, 2, 2, 0, 0),
        ConvGeometry(2, 7, 9, 3, 5, 2, 3, 1, 2, 1),
        ConvGeometry(1, 1, 20, 2, 1, 3, 1, 2, 0, 1),  # a 1-D convolution
        ConvGeometry(1, 3, 3, 1, 3, 3, 1, 1, 2, 2),  # padding larger than the overlap
    ],
)
def test_conv_jacobian_is_the_elementals_own_without_temporaries(g: ConvGeometry) -> None:
    conv = Conv2d.random(g, np.random.default_rng(1))
    ref = conv.jacobian(None)
    m = peak_memory(lambda: conv_jacobian(conv))
    assert np.array_equal(m.result, ref)
    assert m.peak_bytes - ref.nbytes <= 4096  # no identity, no im2col of n seeds


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("rows", "cols"), [(1, 50), (7, 1), (10, 100), (16, 1024), (3, 3000), (2, 5000), (300, 40)]
)
def test_the_executors_diagonal_scaling_allocates_only_its_result(
    rows: int, cols: int, dtype: str
) -> None:
    """A broadcast product would hold NumPy's iterator buffer (up to 8192 elements) too."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((rows, cols)).astype(dtype)
    row, col = rng.standard_normal(cols).astype(dtype), rng.standard_normal(rows).astype(dtype)
    for kind, fn, ref in (
        (DG, lambda: multiply(DG, a, row), a * row[None, :]),
        (GD, lambda: multiply(GD, col, a), col[:, None] * a),
    ):
        m = peak_memory(fn)
        np.testing.assert_allclose(m.result, ref, rtol=1e-6)
        assert m.peak_bytes - a.nbytes <= 2048, kind


@pytest.mark.parametrize("spec", [*SPECS, "3x10x10,conv2d(5,k=5,stride=2,padding=2),sigmoid,4"])
def test_each_call_allocates_its_result_and_modelled_transient(spec: str) -> None:
    _, net, x = _setup(spec)
    src = ElementalSource(net)
    compute, form = link_transients(net)
    for l in range(1, len(net) + 1):
        act = peak_memory(lambda l=l, x=x: src.activation(l, x))
        jac = peak_memory(lambda l=l, x=x: src.jacobian(l, x))
        for m, extra in ((act, compute[l - 1]), (jac, form[l - 1])):
            over = m.peak_bytes - m.result.nbytes - extra * x.itemsize
            assert 0 <= over <= SOURCE_OVERHEAD_BYTES, (l, over)
        x = src.activation(l, x)


def test_source_values_are_the_elementals() -> None:
    _, net, x = _setup(SMALL_CNN)
    src = ElementalSource(net)
    tapes = net.tapes(x)
    for l, layer in enumerate(net.layers, start=1):
        y, _ = layer.forward(x)
        assert np.array_equal(src.activation(l, x), y)
        J = src.jacobian(l, x)
        dense = layer.jacobian(tapes[l - 1])
        assert np.array_equal(np.diag(J) if J.ndim == 1 else J, dense)
        x = y
    assert src.chain.dims == net.dims


@pytest.mark.parametrize("spec", SPECS)
def test_every_front_point_replays_exactly_and_as_predicted(spec: str) -> None:
    links, net, x = _setup(spec)
    chain = chain_of_links(links)
    costs = tuple(link.forward for link in links)
    explicit = net.jacobian(x)
    free = compile_plan(plan(chain, "optimal"), "streamed")
    unconstrained = free(ElementalSource(net), x)
    np.testing.assert_allclose(unconstrained, explicit, rtol=1e-10, atol=1e-12)
    n_elementwise = sum(link.diagonal for link in links)
    front = pareto_front(chain, "float64", costs)
    assert front
    for model in front:
        cp = with_transients(model, net)
        assert transient_peak(cp, (0,) * len(links), (0,) * len(links)) >= simulate_peak(
            chain, cp.plan.flat, list(cp.events), "streamed", cp.plan.shapes
        )
        src = ElementalSource(net)
        measured = peak_memory(lambda cp=cp, src=src: compile_plan(cp)(src, x.copy))
        np.testing.assert_allclose(measured.result, unconstrained, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(measured.result, explicit, rtol=1e-10, atol=1e-12)
        assert src.forward_calls == len(links) - 1 + cp.recomputations
        assert src.tape_calls == n_elementwise  # every J_l formed once
        assert measured.peak_bytes <= cp.footprint_bytes  # the limit this point was fitted to
        gap = abs(measured.peak_bytes - cp.peak_bytes)
        assert gap <= PEAK_TOLERANCE * cp.peak_bytes, (model, measured.peak_bytes, cp.peak_bytes)


@pytest.mark.parametrize("spec", [WIDE_CNN, MLP_SPEC])
def test_run_at_every_point_of_the_elemental_front(spec: str) -> None:
    front = elemental_front(spec)
    assert [cp.peak_elements for cp in front] == sorted(cp.peak_elements for cp in front)
    assert all(a.cost > b.cost for a, b in pairwise(front))
    for cp in front:
        run = run_checkpointed_elementals(spec, cp.footprint_bytes, repeat=1)
        assert isinstance(run, CheckpointRun)
        assert run.plan.cost == cp.cost and run.plan.peak_elements == cp.peak_elements
        assert run.agrees and run.under_limit
        assert run.measured_recomputations == run.plan.recomputations
        assert abs(run.measured_peak_bytes - run.plan.peak_bytes) <= 0.05 * run.plan.peak_bytes
        assert run.ok


def test_recomputation_is_exercised_and_limits_choose_the_cheapest() -> None:
    front = elemental_front(MLP_SPEC)
    assert front[0].recomputations > 0 and front[-1].recomputations == 0
    for cp in front:
        chosen = plan_elementals(MLP_SPEC, cp.footprint_bytes)
        fitting = [c for c in front if c.footprint_bytes <= cp.footprint_bytes]
        assert chosen.cost == min(c.cost for c in fitting)
        assert chosen.memory_limit == cp.footprint_bytes
    limit = front[1].footprint_bytes
    limited = elemental_front(MLP_SPEC, memory_limit=limit)
    assert [c.cost for c in limited] == [c.cost for c in front if c.footprint_bytes <= limit]
    assert all(c.memory_limit == limit for c in limited)


def test_infeasible_limit_names_the_smallest_footprint() -> None:
    smallest = elemental_front(SMALL_CNN)[0].footprint_bytes
    with pytest.raises(InfeasibleMemoryLimitError, match="smallest achievable peak") as err:
        plan_elementals(SMALL_CNN, smallest - 1)
    assert err.value.smallest_peak_bytes == smallest
    assert plan_elementals(SMALL_CNN, smallest).footprint_bytes == smallest


def test_plan_with_memory_limit_plans_the_elementals_chain() -> None:
    links, net, x = _setup(MLP_SPEC)
    chain = chain_of_links(links)
    costs = tuple(link.forward for link in links)
    cp = plan_with_memory_limit(chain, "520KiB", "float64", links)  # LinkCost.forward
    assert cp.forward_costs == costs
    src = ElementalSource(net)
    got = compile_plan(cp)(src, x)
    np.testing.assert_allclose(got, net.jacobian(x), rtol=1e-10, atol=1e-12)
    assert src.forward_calls == len(links) - 1 + cp.recomputations


def test_float32_run() -> None:
    run = run_checkpointed_elementals(SMALL_CNN, "300KiB", dtype="float32", repeat=1)
    assert run.ok and run.plan.plan.itemsize == 4


def test_parameters_are_checked_before_the_network_is_built() -> None:
    spec = "2x6x6,conv2d(3,k=3,stride=2),diag,tanh,4"
    net = ElementalChain(as_links(spec), seed=0)
    arrays = []
    for layer in net.layers:
        for name in ("weight", "bias", "kernel", "_kmat", "_kmat_offsets", "_scale"):
            value = getattr(layer, name, None)
            if value is not None:
                arrays.append(value)
    held = sum(int(a.size) for a in arrays)
    bound = parameter_elements(as_links(spec))
    assert bound == held + 12  # exact but for tanh, which holds no scales (d = 12)
    with pytest.raises(MemoryLimitError, match="parameters of 4 elementals"):
        run_checkpointed_elementals(spec, "1MiB", max_memory=bound * 8 - 1)
