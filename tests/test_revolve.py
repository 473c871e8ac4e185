"""Revolve (binomial checkpointing): closed form == recursion == brute force == schedule count.

References: Griewank, "Achieving logarithmic growth of temporal and spatial complexity in
reverse automatic differentiation", Optim. Methods Softw. 1 (1992) 35–54; Griewank & Walther,
"Algorithm 799: revolve", ACM TOMS 26 (2000) 19–45. With ``β(s, r) = C(s+r, s)`` the most steps
``s`` checkpoints reverse with repetition number ``r``, the minimal number of forward steps at
``l = β(s, r)`` is ``r·β(s, r) − β(s+1, r−1)``; TOMS 799's ``numforw(steps, snaps)`` computes the
same count with the loop ``reps += 1; range = range·(reps+snaps)/reps`` until ``range ≥ steps``,
then ``reps·steps − range·reps/(snaps+1)``, reimplemented below from that description.
"""

from __future__ import annotations

from math import comb

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainorder.checkpoint.actions import Action, replay_actions
from chainorder.checkpoint.revolve import (
    brute_force_advances,
    repetition_number,
    revolve_advances,
    revolve_recursion_table,
    revolve_schedule,
)
from chainorder.checkpoint.segments import segment_boundaries, segments_schedule, sqrt_segments
from chainorder.errors import SpecError, SpecTypeError

TABLE = revolve_recursion_table(100, 9)


def numforw(steps: int, snaps: int) -> int:
    """TOMS 799's NUMFORW, from its description (integer arithmetic as in the C code)."""
    reps, rng = 0, 1
    while rng < steps:
        reps += 1
        rng = rng * (reps + snaps) // reps
    return reps * steps - rng * reps // (snaps + 1)


def test_closed_form_matches_the_published_numforw_and_beta_identity() -> None:
    for l in range(1, 200):
        for s in range(1, 12):
            assert revolve_advances(l, s) == numforw(l, s), (l, s)
    # l = β(s, r): r·β(s, r) − β(s+1, r−1), and l + 1 needs one more repetition
    for s in range(1, 7):
        for r in range(1, 7):
            l = comb(s + r, s)
            assert revolve_advances(l, s) == r * l - comb(s + r, s + 1), (s, r)
            assert repetition_number(l, s) == r
            assert repetition_number(l + 1, s) == r + 1


@pytest.mark.parametrize(
    ("l", "s", "t"),
    [  # by hand: r smallest with C(s+r, s) >= l, then r·l − C(s+r, s+1)
        (1, 1, 0),
        (2, 1, 1),
        (5, 1, 10),  # s = 1: l(l−1)/2
        (10, 2, 20),  # r = 3: C(5, 2) = 10 >= 10; 30 − C(5, 3) = 30 − 10
        (10, 3, 15),  # r = 2: C(5, 3) = 10 >= 10; 20 − C(5, 4) = 20 − 5
        (20, 3, 45),  # r = 3: C(6, 3) = 20; 60 − C(6, 4) = 60 − 15
        (21, 3, 49),  # r = 4: C(7, 3) = 35; 84 − C(7, 4) = 84 − 35
        (100, 5, 316),  # r = 4: C(8, 5) = 56 < 100 <= C(9, 5) = 126; 400 − C(9, 6) = 400 − 84
        (10, 9, 9),  # s >= l − 1: the plain sweep, l − 1
    ],
)
def test_golden_values(l: int, s: int, t: int) -> None:
    assert revolve_advances(l, s) == t
    assert TABLE[s, l] == t
    assert revolve_schedule(l, s).advances == t


@given(st.integers(1, 60), st.integers(1, 8))
def test_closed_form_equals_recursion_and_schedule(l: int, s: int) -> None:
    t = revolve_advances(l, s)
    assert t == TABLE[s, l]
    sch = revolve_schedule(l, s)
    assert sch.advances == t
    assert sch.recomputations == t - (l - 1)
    assert sch.max_stored <= s
    assert sch.max_states <= s + 1
    assert replay_actions(sch.actions, l).advances == t  # independent replay of the actions


@given(st.integers(1, 7), st.integers(1, 4))
def test_brute_force_over_every_action_sequence(l: int, s: int) -> None:
    assert brute_force_advances(l, s) == revolve_advances(l, s)


def test_recursion_base_cases_and_monotonicity() -> None:
    for l in range(1, 61):
        assert TABLE[1, l] == l * (l - 1) // 2
        assert all(TABLE[s, l] >= TABLE[s + 1, l] >= l - 1 for s in range(1, 8))
    assert all(TABLE[s, 1] == 0 for s in range(1, 10))


def test_long_schedule_is_fast_and_exact() -> None:
    sch = revolve_schedule(1000, 10)
    assert sch.advances == revolve_advances(1000, 10) == 3636
    assert sch.max_stored <= 10


@given(st.integers(1, 80), st.data())
def test_segments_count(l: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, l))
    bounds = segment_boundaries(l, k)
    sch = segments_schedule(l, k)
    assert sch.recomputations == bounds[-1] - (k - 1)  # one extra sweep over all but the last
    assert sch.recomputations <= l - 1
    assert (
        sch.max_stored <= k + max(b - a for a, b in zip(bounds, (*bounds[1:], l), strict=True)) - 1
    )
    # never better than revolve with as many checkpoints
    assert sch.advances >= revolve_advances(l, sch.max_stored)


def test_sqrt_segments_is_sublinear() -> None:
    sch = segments_schedule(100)
    assert sqrt_segments(100) == 10
    assert sch.max_stored == 10 + 10 - 1
    assert sch.recomputations == 90 - 9


@pytest.mark.parametrize(
    ("call", "exc", "text"),
    [
        (lambda: revolve_advances(0, 3), SpecError, "steps must be a positive integer, got 0"),
        (lambda: revolve_schedule(5, 0), SpecError, "checkpoints must be a positive"),
        (lambda: revolve_advances(2.0, 3), SpecTypeError, "steps must be a non-negative integer"),
        (lambda: segment_boundaries(3, 4), SpecError, "segments must be at most"),
        (lambda: segments_schedule(5, boundaries=(0, 3, 2)), SpecError, "increasing"),
        (lambda: brute_force_advances(20, 2), SpecError, "at most 12 steps"),
    ],
)
def test_bad_input_is_one_clear_error(call, exc, text) -> None:
    with pytest.raises(exc, match=text):
        call()


@pytest.mark.parametrize(
    ("actions", "text"),
    [
        ([Action("store", 0, 0), Action("reverse", 0, 0)], "the next step to reverse is 1"),
        ([Action("restore", 1, 1)], "not stored"),
        ([Action("advance", 0, 2)], "at most at x_1"),
        ([Action("advance", 0, 1), Action("reverse", 1, 1)], "steps 0..0 were never reversed"),
        ([Action("advance", 0, 1), Action("reverse", 1, 1), Action("reverse", 0, 0)], "none"),
    ],
)
def test_replay_rejects_impossible_schedules(actions, text) -> None:
    with pytest.raises(SpecError, match=text):
        replay_actions(actions, 2)
