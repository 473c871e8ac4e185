"""Checkpoint schedules as reverse-sweep events, executed on a real network.

An interpreter written here (independent of the executor) replays the events on
:class:`chainorder.nets.MLP`, refusing to compute an activation that is alive or to read one
that was released, and counting every ``compute``; the Jacobian must equal the one of the
unconstrained reverse plan, the compute count the schedule's advances, and the peak of
:func:`chainorder.memory.simulate_peak` the elements this interpreter holds at most.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainorder.checkpoint.revolve import revolve_advances, revolve_schedule
from chainorder.checkpoint.segments import segments_schedule
from chainorder.checkpoint.sweep_events import (
    count_computes,
    reverse_sweep_events,
    reverse_sweep_peak,
)
from chainorder.errors import SpecError
from chainorder.execute import evaluate_streamed
from chainorder.nets import MLP
from chainorder.plan import plan

SPECS = ["6,5,tanh,5,7,sin,7,4,tanh,4,3", "5,5,5,5,5,5,5,5,1", "4,tanh,3,2", "3,2"]


def run_events(net: MLP, flat, events, x: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Replay ``events``: (Jacobian, number of computes, most elements alive at once)."""
    acts: dict[int, np.ndarray] = {0: x.copy()}
    nodes: dict[int, np.ndarray] = {}
    leaf_of = {flat.lo[i]: i for i in range(len(flat.lo)) if flat.left[i] < 0}
    computes = 0

    def alive() -> int:
        return sum(a.size for a in acts.values()) + sum(a.size for a in nodes.values())

    peak = alive()
    for ev in events:
        if ev.kind == "compute":
            assert ev.index not in acts and ev.index - 1 in acts
            acts[ev.index] = net.activation(ev.index, acts[ev.index - 1])
            computes += 1
        elif ev.kind == "release":
            del acts[ev.index]
        elif ev.kind == "form":
            nodes[leaf_of[ev.index]] = net.jacobian(ev.index, acts[ev.index - 1])
        elif ev.kind == "multiply":
            a, b = nodes[flat.left[ev.index]], nodes[flat.right[ev.index]]
            a2 = np.diag(a) if a.ndim == 1 else a
            b2 = np.diag(b) if b.ndim == 1 else b
            nodes[ev.index] = a2 @ b2 if (a.ndim, b.ndim) != (1, 1) else a * b
        else:
            del nodes[ev.index]
        peak = max(peak, alive())
    assert not acts, "every activation is released by the end"
    assert list(nodes) == [flat.root]
    return nodes[flat.root], computes, peak


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("strategy", ["revolve", "segments"])
def test_checkpointed_sweep_gives_the_jacobian(spec: str, strategy: str) -> None:
    net = MLP(spec, seed=3)
    L = net.chain.n_links
    x = net.random_input(seed=4)
    expected = evaluate_streamed(plan(net.chain, "reverse"), net, x.copy(), densify=True)
    for s in range(1, L + 1):  # checkpoints for revolve, segments for the √L schedule
        sch = revolve_schedule(L, s) if strategy == "revolve" else segments_schedule(L, s)
        flat, events = reverse_sweep_events(net.chain, sch)
        J, computes, peak = run_events(net, flat, events, x)
        J = np.diag(J) if J.ndim == 1 else J
        np.testing.assert_allclose(J, expected, rtol=1e-12, atol=1e-12)
        assert computes == count_computes(events) == sch.advances
        # the interpreter holds diagonals as vectors, as the memory model counts them
        assert peak == reverse_sweep_peak(net.chain, sch)


@given(st.integers(1, 14), st.integers(1, 14), st.integers(1, 6))
def test_peak_falls_with_checkpoints_and_matches_the_plan_with_all(
    n_links: int, s: int, width: int
) -> None:
    spec = ",".join([str(width + 2)] * n_links + ["1"])
    full = plan(spec, "reverse").streamed.peak_elements
    assert reverse_sweep_peak(spec, revolve_schedule(n_links, n_links)) == full
    peak = reverse_sweep_peak(spec, revolve_schedule(n_links, s))
    assert peak <= full
    fewer = reverse_sweep_peak(spec, revolve_schedule(n_links, max(1, s - 1)))
    assert fewer <= peak + (width + 2)  # one slot fewer never needs more than one activation


def test_uniform_chain_peak_counts_checkpoints() -> None:
    # 8 wide, gradient (d_L = 1): J_l is 8x8 (64), the running product 1x8
    spec = "8,8,8,8,8,8,1"
    peaks = [reverse_sweep_peak(spec, revolve_schedule(6, s)) for s in range(1, 7)]
    assert peaks == sorted(peaks)
    assert peaks[-1] - peaks[0] == 3 * 8  # s = 1 holds x_0 + working + next; all cached: 6
    assert revolve_advances(6, 1) - 5 == 10


def test_wrong_length_is_refused() -> None:
    with pytest.raises(SpecError, match="reverses 4 steps but the chain has 3 links"):
        reverse_sweep_events("2,3,4,5", revolve_schedule(4, 2))


@given(st.lists(st.integers(1, 9), min_size=2, max_size=12), st.integers(0, 400))
def test_revolve_within_is_the_best_fitting_revolve(dims: list[int], limit: int) -> None:
    from chainorder.checkpoint.strategies import revolve_within
    from chainorder.errors import MemoryLimitError

    n = len(dims) - 1
    spec = ",".join(map(str, dims))
    peaks = {s: reverse_sweep_peak(spec, revolve_schedule(n, s)) for s in range(1, n + 1)}
    fitting = [s for s in peaks if peaks[s] <= limit]
    if not fitting:
        with pytest.raises(MemoryLimitError, match=f"smallest reverse-sweep peak is {peaks[1]}"):
            revolve_within(spec, limit)
        return
    sch = revolve_within(spec, limit)
    assert peaks[sch.checkpoints] <= limit
    assert sch.advances == min(revolve_advances(n, s) for s in fitting)


def test_named_strategies() -> None:
    from chainorder.checkpoint.strategies import strategy_schedule
    from chainorder.errors import MemoryLimitError, UnknownSolverError

    spec = "8,8,8,8,8,8,8,8,8,8,1"
    assert strategy_schedule(spec, "revolve").recomputations == 0
    sqrt = strategy_schedule(spec, "sqrt")
    # 10 steps, 3 segments at 0, 3, 6: x_1, x_2, x_4, x_5 computed twice
    assert (sqrt.strategy, sqrt.recomputations) == ("segments", 4)
    with pytest.raises(MemoryLimitError, match="√L segment schedule peaks at"):
        strategy_schedule(spec, "sqrt", 10)
    with pytest.raises(UnknownSolverError, match="expected one of: revolve, sqrt"):
        strategy_schedule(spec, "chen")
