"""Memory model of matrix-free plans: closed forms, bookkeeping invariants, and tracemalloc."""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_matfree_exec import random_links

from chainorder.errors import UnknownSettingError
from chainorder.matfree.elementals import ElementalChain
from chainorder.matfree.execute import execute
from chainorder.matfree.links import conv2d, dense, elementwise
from chainorder.matfree.memory import predict_memory, simulate
from chainorder.matfree.plan import MatrixFreePlan
from chainorder.matfree.reference import all_plans
from chainorder.matfree.schedule import broadcast_buffer, schedule
from chainorder.measure import peak_memory

MLP = [
    dense(200, 150),
    elementwise(200, "tanh"),
    dense(120, 200),
    elementwise(120, "tanh"),
    dense(30, 120),
]
CNN = [
    conv2d(1, (12, 12), 4, 3),
    elementwise(400, "relu"),
    conv2d(4, (10, 10), 6, 3, stride=2, padding=1),
    elementwise(150, "relu"),
    dense(10, 150),
]


def test_pure_modes_on_dense_chains_match_closed_forms():
    d = [7, 5, 9, 4]
    links = [dense(d[l], d[l - 1]) for l in range(1, 4)]
    fwd = MatrixFreePlan.from_nodes(links, [(1, 3, 1, "tangent")])
    rev = MatrixFreePlan.from_nodes(links, [(1, 3, 4, "adjoint")])
    # tangent: I (d0²), then block_{l-1} and block_l = d_l·d_0 side by side
    blocks = [d[0] * d[0]] + [d[l] * d[0] for l in range(1, 4)]
    assert predict_memory(fwd, "given").peak_elements == max(
        a + b for a, b in itertools.pairwise(blocks)
    )
    rblocks = [d[3] * d[3]] + [d[3] * d[l] for l in (2, 1, 0)]
    assert predict_memory(rev, "given").peak_elements == max(
        a + b for a, b in itertools.pairwise(rblocks)
    )
    # streamed with no tapes: x_0 is dropped first, nothing else is computed
    assert predict_memory(fwd, "streamed").peak_elements == max(
        d[0], *(a + b for a, b in itertools.pairwise(blocks))
    )


def test_streamed_adjoint_keeps_tapes_until_the_sweep_reaches_them():
    links = [dense(6, 4), elementwise(6, "tanh"), dense(5, 6), elementwise(5, "tanh")]
    rev = MatrixFreePlan.from_nodes(links, [(1, 4, 5, "adjoint")])
    kinds = [(e.kind, e.link) for e in schedule(rev, "streamed").events]
    # forward pass to link 4 first; the tape of link 4 goes right after its VJP, link 2 later
    assert kinds[:5] == [
        ("compute", 1),
        ("compute", 2),
        ("compute", 3),
        ("compute", 4),
        ("release", 4),
    ]
    assert kinds.index(("free_tape", 4)) == kinds.index(("vjp", 4)) + 1
    assert kinds.index(("free_tape", 2)) == kinds.index(("vjp", 2)) + 1
    # peak: tapes 6 + 5, I_5 (25) scaled in place by link 4 (NumPy's ufunc buffer), ...
    assert predict_memory(rev, "streamed").peak_elements == max(
        4 + 6,  # x_0 and x_1
        6 + 6 + 6,  # x_1, x_2 and its tape
        6 + 5 + 6 + 5,  # tape_2, x_2 -> x_3, x_4 + tape_4 ... (at compute 4)
        6 + 5 + 25 + broadcast_buffer(5, 5),  # tapes, I scaled in place by vjp 4
        6 + 25 + 30,  # tape_2, block 5x5 -> 5x6 (tape_4 freed)
        6 + 30 + broadcast_buffer(5, 6),  # the 5x6 block scaled in place by vjp 2
        30 + 20,
    )


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n_links=st.integers(1, 4), given_p=st.sampled_from([0, 0.4]))
def test_bookkeeping_ends_with_exactly_the_result(seed, n_links, given_p):
    rng = np.random.default_rng(seed)
    links = random_links(rng, n_links, given_p)
    result = links[-1].rows * links[0].cols
    for plan in list(all_plans(links))[:50]:
        for setting in ("streamed", "given"):
            sched = schedule(plan, setting)
            peak, end = simulate(sched)
            if setting == "given" and plan.root.action == "given":
                assert end == sched.base  # the result is the input array itself
                continue
            base = sched.base if setting == "given" else 0
            assert end == result + base
            assert peak >= end
            assert all(e.alloc >= 0 and e.free >= 0 and e.transient >= 0 for e in sched.events)


@pytest.mark.parametrize("links", [MLP, CNN], ids=["mlp", "cnn"])
def test_measured_peak_within_ten_percent_of_predicted(links):
    net = ElementalChain(links, seed=0)
    x = net.random_input()
    tapes = net.tapes(x)
    plans = list(all_plans(links))[::117]  # 21 plans of each, both settings
    assert len(plans) > 20
    for plan in plans:
        for setting in ("streamed", "given"):
            pred = predict_memory(plan, setting).allocated_bytes
            if setting == "streamed":
                run = partial(execute, plan, net, x.copy, setting=setting)
            else:
                run = partial(execute, plan, net, setting=setting, tapes=tapes)
            measured = peak_memory(run).peak_bytes
            assert abs(measured / pred - 1) <= 0.10, (setting, plan.nodes, measured, pred)


def test_unknown_setting_is_a_specific_error():
    plan = MatrixFreePlan.from_nodes([dense(2, 2)], [(1, 1, 1, "tangent")])
    with pytest.raises(UnknownSettingError, match="given, streamed"):
        predict_memory(plan, "cached")
