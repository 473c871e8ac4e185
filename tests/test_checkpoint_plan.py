"""Memory-limited planning: the DPs against brute force, limits, errors, forward costs."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainorder import plan
from chainorder.chain import Chain
from chainorder.checkpoint import (
    CheckpointPlan,
    forward_costs,
    pareto_front,
    plan_with_memory_limit,
)
from chainorder.checkpoint.bookkeeping import (
    bookkeeping_bytes,
    bookkeeping_floor,
    executor_bookkeeping,
)
from chainorder.checkpoint.model import ChainFigures
from chainorder.checkpoint.pareto import best_within
from chainorder.checkpoint.reverse import reverse_fronts
from chainorder.checkpoint.search import search
from chainorder.cost import tree_cost
from chainorder.errors import InfeasibleMemoryLimitError, MemoryLimitError, SpecError
from chainorder.matfree.links import custom, dense
from chainorder.memory import simulate_peak
from chainorder.testing import brute_force_front, reverse_sweep_optimum
from chainorder.tree import reverse_tree

width = st.integers(1, 6)
token = st.one_of(width, st.just("tanh"))


@st.composite
def small_chains(draw, max_links=5):
    n = draw(st.integers(1, max_links))
    spec = [draw(width), *(draw(token) for _ in range(n))]
    return Chain.parse(spec)


def _dp_front(chain, costs=None):
    fig = ChainFigures.of(chain, costs)
    found = search(fig, {}, tree_cost(chain, reverse_tree(chain.n_links)).mults)
    return [(c.peak, c.total) for c in found.front]


@given(small_chains(), st.lists(st.integers(0, 40), min_size=5, max_size=5))
def test_dp_front_equals_brute_force(chain, extra):
    costs = tuple(extra[: chain.n_links])
    assert _dp_front(chain, costs) == brute_force_front(chain, costs)


@given(small_chains(max_links=6))
def test_every_front_plan_replays_to_its_figures(chain):
    front = pareto_front(chain)
    assert [(cp.peak_elements, cp.cost) for cp in front] == _dp_front(chain)
    for cp in front:
        assert simulate_peak(chain, cp.plan.flat, list(cp.events), "streamed") == cp.peak_elements
        assert cp.total_mults == cp.forward_mults + cp.recompute_mults + cp.plan.mults
        assert cp.forward_mults == sum(forward_costs(chain)[: chain.n_links - 1])
    costs = [cp.cost for cp in front]
    assert costs == sorted(costs, reverse=True)  # more memory, never more mults
    assert front[-1].recomputations == 0 and front[-1].cost == plan(chain).mults


@pytest.mark.parametrize(
    "spec",
    [[3] * 8, [4] * 7 + [1], [2] + ["tanh"] * 7, [5] * 6 + ["tanh"], [6, 2, 2, 2, 2, 2, 1]],
)
def test_reverse_dp_is_optimal_over_every_schedule_on_uniform_chains(spec):
    chain = Chain.parse(spec)
    fig = ChainFigures.of(chain)
    front = reverse_fronts(fig).root
    first = fig.fwd(1, chain.n_links - 1)
    assert reverse_sweep_optimum(chain, front[0][0] - 1) is None  # nothing fits below
    for peak, _, _ in front:
        for limit in (peak, peak + 1):
            dp = front[best_within(front, limit)][1] - first
            assert reverse_sweep_optimum(chain, limit) == dp


@given(small_chains(max_links=6))
def test_reverse_dp_never_beats_the_exhaustive_search(chain):
    fig = ChainFigures.of(chain)
    first = fig.fwd(1, chain.n_links - 1)
    for peak, cost, _ in reverse_fronts(fig).root:
        best = reverse_sweep_optimum(chain, peak)
        assert best is not None and best <= cost - first


def test_uniform_reverse_sweep_trades_memory_for_recomputation():
    chain = Chain.from_dims([4] * 6 + [1])
    front = pareto_front(chain)
    assert [(cp.peak_elements, cp.recompute_mults) for cp in front] == [
        (28, 96),
        (32, 32),
        (36, 16),
        (40, 0),
    ]
    assert front[0].strategy == "reverse-checkpoints" and front[0].checkpoints == (0,)


@given(small_chains(max_links=6), st.integers(0, 400))
def test_limited_plan_is_the_cheapest_that_fits(chain, limit_elements):
    front = pareto_front(chain)
    fitting = [cp for cp in front if cp.peak_elements <= limit_elements]
    if not fitting:
        with pytest.raises(InfeasibleMemoryLimitError) as err:
            plan_with_memory_limit(chain, max(limit_elements, 1) * 8, reserve=0)
        assert err.value.smallest_peak_bytes == front[0].peak_bytes
        assert str(front[0].peak_bytes) in str(err.value)
        return
    cp = plan_with_memory_limit(chain, limit_elements * 8, reserve=0)
    assert cp.peak_bytes <= limit_elements * 8
    assert cp.cost == min(p.cost for p in fitting)
    assert cp.memory_limit == limit_elements * 8


def test_library_entry_point_units_and_reserve():
    front = pareto_front("4,4,4,4,4,4,1")
    assert all(cp.reserve_bytes == executor_bookkeeping(6, cp.events) for cp in front)
    for limit in sorted({cp.footprint_bytes for cp in front}):
        cp = plan("4,4,4,4,4,4,1", memory_limit=str(limit))
        assert isinstance(cp, CheckpointPlan) and cp.memory_limit == limit
        assert cp.footprint_bytes <= limit
        assert cp.reserve_bytes == executor_bookkeeping(6, cp.events)
        assert cp.cost == min(p.cost for p in front if p.footprint_bytes <= limit)
    cp32 = plan_with_memory_limit("4,4,4,4,4,4,1", 128, "float32", reserve=0)
    assert cp32.peak_elements == 32 and cp32.peak_bytes == 128 and cp32.reserve_bytes == 0
    assert plan("784,512,512,10", memory_limit="64MiB").recomputations == 0


def test_infeasible_limit_is_one_line_with_the_smallest_peak():
    with pytest.raises(MemoryLimitError, match=r"smallest achievable streamed peak is 224 B"):
        plan_with_memory_limit("4,4,4,4,4,4,1", "200", reserve=0)
    smallest = min(cp.footprint_bytes for cp in pareto_front("4,4,4,4,4,4,1"))
    with pytest.raises(InfeasibleMemoryLimitError, match=f"{smallest} bytes: 224 of arrays") as e:
        plan_with_memory_limit("4,4,4,4,4,4,1", smallest - 1)
    assert e.value.smallest_peak_bytes == smallest
    assert plan_with_memory_limit("4,4,4,4,4,4,1", smallest).peak_elements == 28
    assert bookkeeping_floor(6) <= smallest - 224 <= bookkeeping_bytes(6)
    with pytest.raises(SpecError):
        plan_with_memory_limit("4,4,1", "lots")


def test_forward_costs_defaults_overrides_and_elementals():
    chain = Chain.parse("4,3,tanh,2")
    assert forward_costs(chain) == (12, 3, 6)
    assert forward_costs(chain, {3: 100}) == (12, 3, 100)
    assert forward_costs(chain, [1, 2, 3]) == (1, 2, 3)
    links = [dense(3, 4), custom(3, 3, 5, forward=77), dense(2, 3)]
    assert forward_costs(chain, links) == (12, 77, 6)
    for bad in ({4: 1}, {1: -1}, [1, 2], {1: "x"}, {True: 1}):
        with pytest.raises(SpecError):
            forward_costs(chain, bad)


def test_expensive_forward_makes_recomputation_dearer():
    chain = "4,4,4,4,4,4,1"
    cheap = plan_with_memory_limit(chain, 32 * 8, reserve=0)
    dear = plan_with_memory_limit(
        chain, 32 * 8, forward_costs={k: 1000 for k in range(1, 7)}, reserve=0
    )
    assert cheap.recompute_mults == 32
    assert dear.recompute_mults == 1000 * dear.recomputations > cheap.recompute_mults


def test_long_chain_plans_fit_and_replay():
    widths = [(37 * k) % 200 + 20 for k in range(61)] + [1]
    front = pareto_front(widths)
    assert len(front) > 3
    cp = plan_with_memory_limit(widths, front[1].peak_bytes, reserve=0)
    assert cp.peak_bytes <= front[1].peak_bytes and cp.cost == front[1].cost
    assert cp.recomputations > 0 and cp.checkpoints
    assert "positions" in cp.searched


def test_a_solver_mode_with_a_memory_limit_is_refused():
    import chainorder
    from chainorder.errors import SpecError

    with pytest.raises(SpecError, match="does not apply with memory_limit"):
        chainorder.plan("4,4,4,1", "forward", memory_limit="8KiB")
