"""The interval-DP engine against plain-Python references, and its three callers."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.linalg._linalg import _multi_dot_matrix_chain_order

from chainorder.chain import Chain
from chainorder.solvers import solve_dp
from chainorder.solvers.interval import Block, sliding, solve_intervals
from chainorder.solvers.multi_dot import multi_dot_tree
from chainorder.testing import brute_force_optimum


def _reference_multi_dot(dims: list[int]) -> object:
    """NumPy's own DP (the routine multi_dot calls), converted to a chainorder tree."""
    n = len(dims) - 1
    p = dims[::-1]
    if n == 1:
        return 1
    arrays = [SimpleNamespace(shape=(p[i], p[i + 1])) for i in range(n)]
    s = _multi_dot_matrix_chain_order(arrays)

    def build(i: int, j: int) -> object:
        if i == j:
            return n - i
        k = int(s[i, j])
        return (build(i, k), build(k + 1, j))

    return build(0, n - 1)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([1, 2, 3, 4, 7, 10, 100, 1000]), min_size=2, max_size=14))
def test_multi_dot_order_is_numpys_own_including_ties(dims: list[int]) -> None:
    assert multi_dot_tree(dims) == _reference_multi_dot(dims)


def test_multi_dot_order_on_equal_widths_takes_the_first_split() -> None:
    # every bracketing ties; NumPy keeps k = i everywhere: A_0 (A_1 (A_2 A_3)) = J4·(J3·(J2·J1))
    assert multi_dot_tree([5] * 5) == _reference_multi_dot([5] * 5) == (4, (3, (2, 1)))


def _chain_price(d: np.ndarray):
    q = sliding(d)

    def price(b: Block) -> np.ndarray:
        prod = (d[b.ends] * d[: b.count])[:, None] * q[b.starts, : b.width]
        return b.right + b.left + prod

    return price


@pytest.mark.parametrize("dtype", [np.int64, object])
def test_engine_matches_brute_force_on_random_chains(dtype) -> None:
    rng = random.Random(3)
    for _ in range(40):
        dims = [rng.randint(1, 9) for _ in range(rng.randint(2, 8))]
        engine = solve_intervals(len(dims) - 1, _chain_price(np.array(dims, dtype=dtype)), dtype)
        assert engine.cost() == brute_force_optimum(Chain.from_dims(dims))[0]
        assert solve_dp(Chain.from_dims(dims)).mults == engine.cost()


def test_engine_reports_progress_to_the_end() -> None:
    seen: list[tuple[int, int]] = []
    d = np.arange(1, 12)
    solve_intervals(10, _chain_price(d), progress=lambda done, total: seen.append((done, total)))
    assert len(seen) == 9 and seen[-1][0] == seen[-1][1] == (10**3 - 10) // 6
    assert [a for a, _ in seen] == sorted(a for a, _ in seen)


def test_solve_dp_forwards_progress() -> None:
    calls = []
    solve_dp(Chain.from_dims([3, 4, 5, 6, 7]), progress=lambda a, b: calls.append((a, b)))
    assert calls[-1] == (10, 10)  # (L³ - L) / 6 split evaluations for L = 4


def _matrix_free_reference(d: list[int]) -> int:
    """Plain triple loop of a two-option matrix-free recurrence (see the engine's notes).

    Option 1 forms both parts and multiplies them; option 2 forms the right part i..k and
    pushes its d_{i-1} columns through the links k+1..j one at a time (tangent sweep):
    C(i..k) + d_{i-1}·S(k+1..j), S = sum of d_l·d_{l-1}.
    """
    n = len(d) - 1
    link = [0] + [d[l] * d[l - 1] for l in range(1, n + 1)]
    c = [[0] * (n + 2) for _ in range(n + 2)]
    for length in range(2, n + 1):
        for i in range(1, n - length + 2):
            j = i + length - 1
            best = None
            for k in range(i, j):
                formed = c[i][k] + c[k + 1][j] + d[j] * d[k] * d[i - 1]
                sweep = c[i][k] + d[i - 1] * sum(link[k + 1 : j + 1])
                value = min(formed, sweep)
                best = value if best is None else min(best, value)
            c[i][j] = best
    return c[1][n]


def _matrix_free_price(dims: list[int]):
    d = np.array(dims, dtype=np.int64)
    n = len(dims) - 1
    prefix = np.zeros(n + 1, dtype=np.int64)  # S(1..l) = prefix[l]
    prefix[1:] = np.cumsum(d[1:] * d[:-1])
    q, pre = sliding(d), sliding(prefix)

    def price(b: Block) -> np.ndarray:
        product = (d[b.ends] * d[: b.count])[:, None] * q[b.starts, : b.width]
        formed = b.right + b.left + product
        s_tail = prefix[b.ends][:, None] - pre[b.starts, : b.width]  # S(k+1..j)
        sweep = b.right + d[: b.count][:, None] * s_tail
        return np.minimum(formed, sweep)

    return price


def test_engine_expresses_a_matrix_free_dp_with_several_options_per_split() -> None:
    rng = random.Random(5)
    for _ in range(30):
        dims = [rng.randint(1, 30) for _ in range(rng.randint(2, 9))]
        engine = solve_intervals(len(dims) - 1, _matrix_free_price(dims))
        assert engine.cost() == _matrix_free_reference(dims)
