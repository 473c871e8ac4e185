"""Hu–Shing: optimal cost against the exact DP and brute force, valid trees, long chains."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainorder.chain import Chain
from chainorder.cost import pure_mode_mults, tree_cost
from chainorder.errors import ChainorderError, SpecError, SpecTypeError
from chainorder.solvers.dp import solve_dp
from chainorder.solvers.hu_shing import hu_shing, hu_shing_tree
from chainorder.testing import brute_force_optimum, random_chain
from chainorder.tree import flatten


def _widths(rng: random.Random, family: str, n: int) -> list[int]:
    if family == "ties":  # many equal widths and ties between brackets
        return [rng.randint(1, 4) for _ in range(n)]
    if family == "ones":  # mostly width 1
        return [1 if rng.random() < 0.7 else rng.randint(2, 50) for _ in range(n)]
    if family == "equal":
        return [rng.randint(1, 9)] * n
    if family == "huge":
        return [rng.randint(1, 10**9) for _ in range(n)]
    if family == "extremes":  # 1 and 10^9 only
        return [rng.choice([1, 10**9]) for _ in range(n)]
    if family == "walk":  # smooth rises and falls: deeply nested arcs
        x, out = rng.randint(20, 60), []
        for _ in range(n):
            x = max(1, x + rng.randint(-3, 3))
            out.append(x)
        return out
    return [rng.randint(1, 1000) for _ in range(n)]


FAMILIES = ["uniform", "ties", "ones", "equal", "huge", "extremes", "walk"]


def _check(dims: list[int]) -> int:
    """Hu–Shing's cost equals the DP's, its tree is valid and prices at that cost."""
    chain = Chain.from_dims(dims)
    mults, tree = hu_shing(dims)
    assert mults == solve_dp(chain).mults, dims
    flatten(tree, chain.n_links)
    assert tree_cost(chain, tree).mults == mults, dims
    return mults


@pytest.mark.parametrize("family", FAMILIES)
def test_equals_dp_on_many_random_chains(family):
    # 7 families × 366 chains (300 of L ≤ 12, 60 of L ≤ 80, 6 of L ≤ 300) = 2562 chains;
    # widths past int64 make the DP use Python ints, so those families stay shorter
    rng = random.Random(f"hu-shing-{family}")
    top = 300 if family not in ("huge", "extremes") else 120
    lengths = (
        [rng.randint(1, 12) for _ in range(300)]
        + [rng.randint(13, top // 4) for _ in range(60)]
        + [rng.randint(top // 4 + 1, top) for _ in range(6)]
    )
    for L in lengths:
        _check(_widths(rng, family, L + 1))


STRUCTURED = {
    "increasing": lambda L: list(range(1, L + 2)),
    "decreasing": lambda L: list(range(L + 1, 0, -1)),
    "mountain": lambda L: [1 + min(i, L - i) for i in range(L + 1)],
    "valley": lambda L: [1 + abs(L // 2 - i) for i in range(L + 1)],
    "zigzag": lambda L: [1 if i % 2 else 1000 for i in range(L + 1)],
    "rising zigzag": lambda L: [(i % 2) * 1000 + i + 1 for i in range(L + 1)],
    "sawtooth": lambda L: [i % 17 + 1 for i in range(L + 1)],
    "powers": lambda L: [2 ** (i % 16) for i in range(L + 1)],
}


@pytest.mark.parametrize("shape", list(STRUCTURED))
@pytest.mark.parametrize("L", [1, 2, 3, 4, 5, 7, 16, 33, 120, 300])
def test_equals_dp_on_structured_chains(shape, L):
    _check(STRUCTURED[shape](L))


@given(
    dims=st.lists(
        st.one_of(st.integers(1, 5), st.integers(1, 10**9), st.sampled_from([1, 10**9])),
        min_size=2,
        max_size=40,
    )
)
def test_equals_dp_hypothesis(dims):
    _check(dims)


@given(n=st.integers(1, 8), seed=st.integers(0, 10**6), high=st.sampled_from([3, 64, 10**9]))
def test_equals_brute_force(n, seed, high):
    chain = random_chain(seed, n, 1, high)
    mults, tree = hu_shing(chain.dims)
    assert mults == brute_force_optimum(chain)[0]
    assert tree_cost(chain, tree).mults == mults


def test_textbook_example():
    # CLRS 15.2: 15125 mults, ((A1 (A2 A3)) ((A4 A5) A6)) — links are numbered from the input
    chain = Chain.from_dims([30, 35, 15, 5, 10, 20, 25])
    assert hu_shing(chain.dims) == (15125, ((6, (5, 4)), ((3, 2), 1)))
    assert hu_shing_tree(chain) == ((6, (5, 4)), ((3, 2), 1))


def test_short_chains():
    assert hu_shing([5, 7]) == (0, 1)
    assert hu_shing([10, 20, 30]) == (6000, (2, 1))
    assert hu_shing([2, 3, 4, 5]) == (2 * 3 * 4 + 2 * 4 * 5, (3, (2, 1)))


def test_long_monotone_chain_is_forward_mode():
    # widths rising from the input: the fan from d_0 (forward mode) is optimal; 3·10^4 levels deep
    L = 30_000
    chain = Chain.from_dims(range(1, L + 2))
    mults, tree = hu_shing(chain.dims)
    assert mults == pure_mode_mults(chain, False)
    assert tree_cost(chain, tree).mults == mults
    falling = Chain.from_dims(range(L + 1, 0, -1))
    assert hu_shing(falling.dims)[0] == pure_mode_mults(falling, True)


def test_long_random_chain_is_consistent_and_beats_pure_modes():
    chain = random_chain(11, 50_000, 1, 1000)
    mults, tree = hu_shing(chain.dims)
    assert tree_cost(chain, tree).mults == mults
    assert mults < min(pure_mode_mults(chain, False), pure_mode_mults(chain, True))


def test_seven_hundred_links_against_dp():
    _check(_widths(random.Random(5), "uniform", 701))


def test_diagonal_links_are_refused():
    chain = Chain.parse("784,512,tanh,512,10")
    with pytest.raises(SpecError, match=r"dense chains only.*link 2 is diagonal"):
        hu_shing_tree(chain)


@pytest.mark.parametrize(
    ("dims", "error"),
    [([5], SpecError), ([3, 0, 4], SpecError), ([3, 2.5, 4], SpecTypeError)],
)
def test_bad_widths(dims, error):
    with pytest.raises(error) as info:
        hu_shing(dims)
    assert isinstance(info.value, ChainorderError)


@pytest.fixture
def registered():
    from chainorder.solvers import register_solver, unregister_solver

    name = "hu-shing-under-test"
    register_solver(name, hu_shing_tree, "Hu–Shing (test registration)")
    yield name
    unregister_solver(name)


def test_as_a_registered_solver_in_plan(registered):
    from chainorder import plan

    spec = ",".join(str(d) for d in _widths(random.Random(9), "uniform", 201))
    hs, dp = plan(spec, registered), plan(spec, "optimal")
    assert hs.mults == dp.mults == hu_shing(Chain.parse(spec).dims)[0]
    with pytest.raises(SpecError, match="dense chains only"):
        plan("64,tanh,32,10", registered)
