"""Checkpointed plans executed on real networks: same Jacobian, predicted peak, recomputations."""

import numpy as np
import pytest

import chainorder
from chainorder.checkpoint import pareto_front, plan_with_memory_limit
from chainorder.checkpoint.run import run_checkpointed
from chainorder.execute import compile_plan, evaluate_streamed
from chainorder.measure import peak_memory
from chainorder.nets import MLP

GRADIENT = "300,400,tanh,350,tanh,380,tanh,320,tanh,360,tanh,300,tanh,1"
JACOBIAN = "200,300,tanh,250,tanh,280,tanh,200"
WIDE = "900,1000,tanh,1100,tanh,1000,tanh,1100,tanh,1000,tanh,1"


class CountingSource:
    """Counts ``activation`` calls of the wrapped network."""

    def __init__(self, net):
        self.net, self.chain, self.calls = net, net.chain, 0

    def activation(self, k, x):
        self.calls += 1
        return self.net.activation(k, x)

    def jacobian(self, l, x):
        return self.net.jacobian(l, x)


@pytest.mark.parametrize("spec", [GRADIENT, JACOBIAN, "6,5,tanh,7,sin,4,relu,5,3,tanh,1"])
def test_every_front_plan_gives_the_unconstrained_jacobian(spec):
    net = MLP(spec, seed=3)
    x = net.random_input()
    reference = evaluate_streamed(chainorder.plan(net.chain), net, x)
    front = pareto_front(net.chain)
    assert len(front) >= 2
    for cp in front:
        counting = CountingSource(net)
        f = compile_plan(cp)
        np.testing.assert_allclose(f(counting, x), reference, rtol=1e-12, atol=1e-12)
        assert counting.calls == net.chain.n_links - 1 + cp.recomputations
        assert f.last_recomputations == cp.recomputations


def _measured(cp, net, x):
    f = compile_plan(cp)
    return peak_memory(lambda: f(net, x.copy)).peak_bytes


@pytest.mark.parametrize("spec", [GRADIENT, JACOBIAN, WIDE])
def test_measured_peak_is_within_five_percent_of_the_prediction(spec):
    net = MLP(spec, seed=0)
    x = net.random_input()
    for cp in pareto_front(net.chain):
        assert abs(_measured(cp, net, x) - cp.peak_bytes) <= 0.05 * cp.peak_bytes


@pytest.mark.parametrize("spec", [WIDE, GRADIENT, "90,100,tanh,110,tanh,100,tanh,1"])
def test_measured_peak_stays_under_the_limit(spec):
    net = MLP(spec, seed=0)
    x = net.random_input()
    front = pareto_front(net.chain)
    assert len(front) >= 2 and front[0].recomputations > 0
    for point in front:
        limit = point.footprint_bytes  # just enough for this front plan and its bookkeeping
        cp = plan_with_memory_limit(net.chain, limit)
        assert cp.cost <= point.cost and cp.footprint_bytes <= limit
        assert _measured(cp, net, x) <= limit


def test_recomputing_plan_really_recomputes():
    net = MLP(GRADIENT, seed=0)
    cp = pareto_front(net.chain)[0]
    assert cp.recomputations > 0
    counting = CountingSource(net)
    compile_plan(cp)(counting, net.random_input())
    assert counting.calls > net.chain.n_links - 1


def test_checkpoint_plan_runs_streamed_only_and_guards_memory():
    net = MLP("4,4,4,4,4,4,1", seed=0)
    cp = plan_with_memory_limit(net.chain, 256, reserve=0)
    f = compile_plan(cp, "given")  # a checkpoint plan is a streamed schedule
    assert f.setting.value == "streamed"
    with pytest.raises(chainorder.errors.MemoryLimitError):
        f(net, net.random_input(), max_memory=100)


@pytest.mark.parametrize("spec", ["64,64,tanh,64,tanh,64,tanh,64,tanh,64", "20,300,tanh,20"])
def test_every_front_plan_stays_under_a_limit_set_at_its_footprint(spec: str) -> None:
    """Dense-by-diagonal products once held NumPy's broadcast buffer (up to 64 KiB) unpriced."""
    for cp in pareto_front(spec):
        run = run_checkpointed(spec, cp.footprint_bytes, repeat=1)
        assert run.measured_peak_bytes <= cp.footprint_bytes
        assert run.ok
