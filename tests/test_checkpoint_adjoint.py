"""The checkpointed adjoint (VJP) sweep: right Jacobian, predicted peak and recomputations."""

from dataclasses import replace
from functools import reduce

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainorder.chain import Chain
from chainorder.checkpoint.adjoint import (
    adjoint_bookkeeping,
    adjoint_fronts,
    adjoint_pareto_front,
    plan_adjoint_with_memory_limit,
    simulate_actions,
)
from chainorder.checkpoint.adjoint_run import run_adjoint
from chainorder.errors import InfeasibleMemoryLimitError
from chainorder.measure import peak_memory
from chainorder.nets import MLP

GRADIENT = "300,400,tanh,350,tanh,380,tanh,320,tanh,360,tanh,300,tanh,1"
MIXED = "6,5,tanh,7,sin,4,relu,5,3,sigmoid,1"
JACOBIAN = "20,30,tanh,25,tanh,28,diag,20"
WIDE = "2000,2000,tanh,2000,tanh,2000,tanh,2000,tanh,2000,tanh,1"


class Counting:
    """Counts ``activation`` calls of the wrapped network."""

    def __init__(self, net):
        self.net, self.weights, self.calls = net, net.weights, 0
        self.backend = net.backend

    def activation(self, k, x):
        self.calls += 1
        return self.net.activation(k, x)

    def jacobian(self, l, x):
        return self.net.jacobian(l, x)


def explicit_jacobian(net, x):
    """``J_L ⋯ J_1`` from the formed Jacobians (diagonal ones as vectors)."""
    mats = [J if J.ndim == 2 else np.diag(J) for J in net.jacobians_at(x)]
    return reduce(lambda acc, J: J @ acc, mats[1:], mats[0]) if len(mats) > 1 else mats[0]


@pytest.mark.parametrize("spec", [GRADIENT, MIXED, JACOBIAN, "5,tanh", "4,3", "4,4,4,4,1"])
def test_every_front_plan_gives_the_explicit_jacobian(spec):
    net = MLP(spec, seed=3)
    x = net.random_input()
    want = np.atleast_2d(explicit_jacobian(net, x))
    front = adjoint_pareto_front(net.chain)
    for p in front:
        counting = Counting(net)
        got = run_adjoint(p, counting, x.copy())
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
        assert counting.calls == net.chain.n_links - 1 + p.recomputations
    if spec == GRADIENT:
        assert front[0].recomputations > 0


@pytest.mark.parametrize("spec", [GRADIENT, MIXED, JACOBIAN])
def test_model_replay_matches_the_dp(spec):
    chain = Chain.parse(spec)
    af = adjoint_fronts(chain)
    for j, (peak, cost, _) in enumerate(af.root):
        acts = af.actions(j)
        assert simulate_actions(chain, chain.dims[-1], acts)[0] == peak
        assert sum(af.fig.f[k] for kind, k in acts if kind == "compute") == cost


@pytest.mark.parametrize(
    "spec",
    [
        WIDE,
        GRADIENT,
        "3000,3000,tanh,2000,sin,3000,sigmoid,3000,3",
        "3000,3000,relu,2000,relu,3000,relu,1",
        "3,4,tanh,1",
        MIXED,
        JACOBIAN,
    ],
)
def test_measured_peak_is_the_prediction_plus_bookkeeping(spec):
    """Arrays' data as predicted; beyond it only the executor's bookkeeping (a few hundred
    bytes per array alive, bounded by :func:`adjoint_bookkeeping`); within 5 % on wide nets."""
    net = MLP(spec, seed=0)
    x = net.random_input()
    for p in adjoint_pareto_front(net.chain):
        measured = peak_memory(lambda p=p: run_adjoint(p, net, x.copy)).peak_bytes
        bound = adjoint_bookkeeping(net.chain.n_links, p.max_arrays)
        assert p.peak_bytes <= measured <= p.peak_bytes + bound, (p.peak_bytes, measured)
        if net.chain.dims[1] >= 2000:
            assert abs(measured - p.peak_bytes) <= 0.05 * p.peak_bytes, (p.peak_bytes, measured)


@pytest.mark.parametrize(
    "spec",
    [GRADIENT, MIXED, "64,64,tanh,64,tanh,64,tanh,64,tanh,1", "64,64,relu,64,relu,64,relu,1"],
)
def test_measured_peak_stays_under_the_limit(spec):
    net = MLP(spec, seed=0)
    x = net.random_input()
    front = adjoint_pareto_front(net.chain)
    for point in front:
        limit = point.peak_bytes + adjoint_bookkeeping(net.chain.n_links, point.max_arrays)
        p = plan_adjoint_with_memory_limit(net.chain, limit)
        assert p.footprint_bytes <= limit and p.forward_mults <= point.forward_mults
        assert peak_memory(lambda p=p: run_adjoint(p, net, x.copy)).peak_bytes <= limit


def test_infeasible_limit_names_the_smallest_footprint():
    with pytest.raises(InfeasibleMemoryLimitError) as info:
        plan_adjoint_with_memory_limit(GRADIENT, "1KiB")
    smallest = info.value.smallest_peak_bytes
    assert smallest > 1024
    assert plan_adjoint_with_memory_limit(GRADIENT, smallest).footprint_bytes == smallest


def test_gradient_fits_where_the_jacobian_sweep_cannot():
    """A 64-wide gradient: activations only, no 32 KiB ``J_l``."""
    spec = [64, *[64, "tanh"] * 31, 1, "tanh"]
    p = plan_adjoint_with_memory_limit(spec, "8KiB")
    assert p.footprint_bytes <= 8 * 1024 and p.recomputations > 0


# brute force: every nested schedule, replayed on the model -----------------------------------
chain_of = [None]  # the chain the brute force enumerates


def _schedules(n, s, t):
    """Action lists of every way to reverse links ``s+1..t`` from ``x_s``."""
    stretch = []
    for i in range(s + 1, t):  # keep only what a VJP reads: a dense link's VJP needs no x
        stretch.append(("compute", i))
        if chain_of[0].structures[i - 1].value == "dense":
            stretch.append(("release", i - 1))
    for u in range(t, s, -1):
        stretch += [("seed", n)] if u == n else []
        stretch.append(("vjp", u))
    yield stretch
    for cut in range(s + 1, t):
        adv = []
        for i in range(s + 1, cut + 1):
            adv.append(("compute", i))
            if i - 1 > s:
                adv.append(("release", i - 1))
        for right in _schedules(n, cut, t):
            for left in _schedules(n, s, cut):
                yield adv + right + left


chains = st.lists(
    st.tuples(st.integers(1, 6), st.sampled_from(["dense", "tanh"])), min_size=1, max_size=6
).map(
    lambda links: Chain.parse(
        ",".join([str(links[0][0]), *(str(w) if kind == "dense" else "tanh" for w, kind in links)])
    )
)


@settings(max_examples=40, deadline=None)
@given(chains)
def test_dp_equals_brute_force(chain):
    n, m = chain.n_links, chain.dims[-1]
    chain_of[0] = chain
    af = adjoint_fronts(chain)
    costs = af.fig.f
    brute = {}
    for acts in _schedules(n, 0, n):
        peak = simulate_actions(chain, m, acts)[0]
        cost = sum(costs[k] for kind, k in acts if kind == "compute")
        brute[peak] = min(brute.get(peak, cost), cost)
    for level in sorted(brute):
        best = min(c for p, c in brute.items() if p <= level)
        fits = [c for p, c, _ in af.root if p <= level]
        assert fits and min(fits) == best
    assert af.root[0][0] == min(brute)


def test_restricted_positions_give_valid_plans():
    """Checkpoints among a few positions (what chains beyond 80 links use)."""
    net = MLP(GRADIENT, seed=1)
    x = net.random_input()
    want = np.atleast_2d(explicit_jacobian(net, x))
    full = adjoint_fronts(net.chain)
    af = adjoint_fronts(net.chain, positions=[4, 8])
    assert af.root[0][0] >= full.root[0][0]
    for j, (peak, _, _) in enumerate(af.root):
        acts = af.actions(j)
        assert simulate_actions(net.chain, 1, acts)[0] == peak
        plan = replace(adjoint_pareto_front(net.chain)[0], actions=tuple(acts))
        np.testing.assert_allclose(run_adjoint(plan, net, x.copy()), want, rtol=1e-10, atol=1e-12)


def test_gradient_equals_pytorchs_at_its_own_level():
    """At the peak of PyTorch's checkpoint_sequential (k = 4), the adjoint plan that fits gives
    PyTorch's gradient."""
    pytest.importorskip("torch")
    from chainorder.checkpoint.torch_baseline import (
        torch_checkpointed,
        torch_peak,
        torch_sequential,
    )

    net = MLP([16, *[16, "tanh"] * 7, 1, "tanh"], seed=0)
    x = net.random_input()
    seq = torch_sequential(net)
    run, peak = torch_peak(lambda: torch_checkpointed(seq, x, 4, jacobian=False))
    p = plan_adjoint_with_memory_limit(net.chain, max(peak, 4096))
    got = run_adjoint(p, net, x.copy())
    np.testing.assert_allclose(got, run.result[None, :], rtol=1e-10, atol=1e-12)
