"""Named strategies (revolve, √L) as checkpoint plans: executed, measured, and never cheaper
than the exact planner at the same peak."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainorder.checkpoint import plan_with_memory_limit
from chainorder.checkpoint.bookkeeping import executor_bookkeeping
from chainorder.checkpoint.plan import bookkeeping_bytes
from chainorder.checkpoint.revolve import revolve_schedule
from chainorder.checkpoint.segments import segments_schedule
from chainorder.checkpoint.strategies import strategy_plan, strategy_schedule
from chainorder.execute import compile_plan, evaluate_streamed
from chainorder.measure import peak_memory
from chainorder.nets import MLP
from chainorder.plan import plan


@pytest.mark.parametrize("strategy", ["revolve", "sqrt"])
def test_executed_plan_matches_prediction(strategy: str) -> None:
    spec = [96, *[96, "tanh"] * 7, 1, "tanh"]  # 16 links, the gradient
    net = MLP(spec, seed=2)
    full = plan(net.chain, "reverse")
    expected = evaluate_streamed(full, net, net.random_input(seed=3))
    reserve = bookkeeping_bytes(16)
    limit = None if strategy == "sqrt" else (full.peak_bytes("streamed") * 9) // 10 + reserve
    cp = strategy_plan(net.chain, strategy, memory_limit=limit)
    if strategy == "sqrt":
        sch = strategy_schedule(net.chain, strategy)
    else:  # the most checkpoints whose peak plus its own bookkeeping fit
        sch = next(
            revolve_schedule(16, s) for s in range(16, 0, -1) if _footprint(net.chain, s) <= limit
        )
    assert sch.strategy == ("segments" if strategy == "sqrt" else "revolve")
    if strategy == "sqrt":
        assert sch == segments_schedule(16)
    if limit is not None:
        assert cp.footprint_bytes <= limit
        assert cp.reserve_bytes == executor_bookkeeping(16, cp.events) <= reserve
        assert cp.peak_bytes < full.peak_bytes("streamed")
    f = compile_plan(cp)
    J = f(net, net.random_input(seed=3))
    np.testing.assert_allclose(J, expected, rtol=1e-12, atol=1e-14)
    assert f.last_recomputations == cp.recomputations == sch.recomputations > 0
    measured = peak_memory(lambda: f(net, lambda: net.random_input(seed=3))).peak_bytes
    assert cp.peak_bytes * 0.95 <= measured <= cp.peak_bytes * 1.05
    if limit is not None:
        assert measured <= limit


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=3, max_size=9), st.integers(0, 5))
def test_exact_planner_is_never_worse_than_revolve(dims: list[int], slack: int) -> None:
    spec = ",".join(map(str, dims))
    n = len(dims) - 1
    s = 1 + slack % n
    cp = strategy_plan(spec, "revolve", memory_limit=None)  # every state: no recomputation
    assert cp.recomputations == 0
    rv = strategy_plan(spec, "revolve", memory_limit=8 * _peak(spec, s), reserve=0)
    dp = plan_with_memory_limit(spec, rv.peak_bytes, reserve=0)
    assert dp.peak_bytes <= rv.peak_bytes
    assert dp.cost <= rv.cost


def _peak(spec: str, s: int) -> int:
    from chainorder.checkpoint.sweep_events import reverse_sweep_peak

    return reverse_sweep_peak(spec, revolve_schedule(len(spec.split(",")) - 1, s))


def test_revolve_front_is_pareto_and_dominated_by_the_exact_planner() -> None:
    from chainorder.checkpoint import pareto_front
    from chainorder.checkpoint.strategies import revolve_front

    spec = "6,5,tanh,5,7,tanh,7,4,tanh,4,2"
    rv = revolve_front(spec)
    assert [c.peak_elements for c in rv] == sorted({c.peak_elements for c in rv})
    assert all(a.cost > b.cost for a, b in itertools.pairwise(rv))
    assert rv[-1].recomputations == 0
    exact = pareto_front(spec)
    for cp in rv:  # the exact front reaches every revolve point at no more cost
        assert any(e.peak_elements <= cp.peak_elements and e.cost <= cp.cost for e in exact)


def _footprint(chain, s: int) -> int:
    """Peak bytes plus executor bookkeeping of revolve with ``s`` checkpoints (float64)."""
    from chainorder.checkpoint.sweep_events import reverse_sweep_events

    _, events = reverse_sweep_events(chain, revolve_schedule(chain.n_links, s))
    return 8 * _peak(chain.spec(), s) + executor_bookkeeping(chain.n_links, events)


@pytest.mark.parametrize("n_links", [40, 64])
@pytest.mark.parametrize("s", [1, 2, 3, 5, 8])
def test_long_chains_are_never_worse_than_revolve(n_links: int, s: int) -> None:
    """Beyond the exhaustive search (24 links) revolve stays a candidate of the planner."""
    spec = ",".join(["8"] * n_links + ["1"])
    rv = strategy_plan(spec, "revolve", memory_limit=8 * _peak(spec, s), reserve=0)
    dp = plan_with_memory_limit(spec, rv.peak_bytes, reserve=0)
    assert dp.peak_bytes <= rv.peak_bytes
    assert dp.cost <= rv.cost
    assert dp.recompute_mults <= rv.recompute_mults
