"""Peak memory: recursions against step-by-step simulation, brute force over child orders,
and the closed forms of the pure modes."""

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainorder.chain import Chain
from chainorder.errors import UnknownSettingError
from chainorder.memory import (
    Setting,
    _order,
    as_setting,
    forward_given_peak_closed_form,
    forward_streamed_peak_closed_form,
    given_memory,
    memory_profile,
    reverse_given_peak_closed_form,
    reverse_streamed_peak_closed_form,
    schedule_events,
    simulate_peak,
    streamed_memory,
)
from chainorder.testing import random_chain, random_tree
from chainorder.tree import flatten, forward_tree, reverse_tree

SETTINGS = [Setting.GIVEN, Setting.STREAMED]


def _profile(chain, flat, setting):
    if setting is Setting.GIVEN:
        return given_memory(chain, flat)
    return streamed_memory(chain, flat)


@given(
    n=st.integers(1, 9),
    seed=st.integers(0, 10**6),
    diag=st.sampled_from([0.0, 0.4]),
    setting=st.sampled_from(SETTINGS),
)
def test_recursion_equals_simulation(n, seed, diag, setting):
    chain = random_chain(seed, n, 1, 40, diag)
    flat = flatten(random_tree(seed, n), n)
    profile = _profile(chain, flat, setting)
    events = schedule_events(chain, flat, profile.order, setting)
    assert simulate_peak(chain, flat, events, setting) == profile.peak_elements


@pytest.mark.parametrize("setting", SETTINGS)
def test_recursion_is_the_minimum_over_every_child_order(setting):
    rng = random.Random(7)
    for _ in range(40):
        n = rng.randint(2, 6)
        chain = random_chain(rng, n, 1, 30, 0.3)
        flat = flatten(random_tree(rng, n), n)
        inner = flat.internal()
        simulated = []
        for choice in itertools.product([False, True], repeat=len(inner)):
            left_first = [False] * len(flat.lo)
            for i, c in zip(inner, choice, strict=True):
                left_first[i] = c
            order = _order(flat, left_first)
            events = schedule_events(chain, flat, order, setting)
            simulated.append(simulate_peak(chain, flat, events, setting))
        assert _profile(chain, flat, setting).peak_elements == min(simulated)


dims_strategy = st.lists(st.integers(1, 200), min_size=2, max_size=12)


@given(dims_strategy)
def test_given_closed_forms(dims):
    chain = Chain.from_dims(dims)
    n = chain.n_links
    assert given_memory(chain, flatten(forward_tree(n))).peak_elements == (
        forward_given_peak_closed_form(dims)
    )
    assert given_memory(chain, flatten(reverse_tree(n))).peak_elements == (
        reverse_given_peak_closed_form(dims)
    )


@given(dims_strategy)
def test_streamed_closed_forms_are_the_lecture_schedules(dims):
    chain = Chain.from_dims(dims)
    n = chain.n_links
    fwd, rev = flatten(forward_tree(n)), flatten(reverse_tree(n))
    streaming = streamed_memory(chain, fwd, child_order="right-first")
    assert streaming.peak_elements == forward_streamed_peak_closed_form(dims)
    caching = streamed_memory(chain, rev, child_order="left-first")
    assert caching.peak_elements == reverse_streamed_peak_closed_form(dims)
    # reverse mode's cache-then-sweep order is always the best one for its tree
    assert streamed_memory(chain, rev).peak_elements == caching.peak_elements
    # the best order never loses to the lecture's forward streaming
    assert streamed_memory(chain, fwd).peak_elements <= streaming.peak_elements


def test_lecture_memory_story_scalar_output():
    # d_L = 1 (a loss): reverse mode caches every activation, forward keeps d_l × d_0 blocks
    dims = [1000, 500, 500, 500, 1]
    chain = Chain.from_dims(dims)
    rev = memory_profile(chain, reverse_tree(4), "streamed").peak_elements
    assert rev == reverse_streamed_peak_closed_form(dims)
    # the cache of activations x_0..x_3 is part of the reverse-mode peak
    assert rev >= sum(dims[:3]) + 500 * 500


def test_streamed_events_follow_the_lecture_for_forward_mode():
    chain = Chain.from_dims([2, 3, 4, 5])
    flat = flatten(forward_tree(3))
    order = streamed_memory(chain, flat, child_order="right-first").order
    kinds = [(e.kind, e.index) for e in schedule_events(chain, flat, order, "streamed")]
    assert kinds == [
        ("form", 1),
        ("compute", 1),
        ("release", 0),
        ("form", 2),
        ("compute", 2),
        ("release", 1),
        ("multiply", 3),
        ("free", 1),
        ("free", 2),
        ("form", 3),
        ("release", 2),
        ("multiply", 4),
        ("free", 0),
        ("free", 3),
    ]


def test_unknown_setting():
    with pytest.raises(UnknownSettingError, match="given, streamed"):
        as_setting("cached")
