"""Measurement helpers: ranks, Spearman, agreement, tolerance, timing and memory bookkeeping."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainorder.measure import (
    gflops,
    max_relative_difference,
    median_interval,
    peak_memory,
    rankdata,
    spearman,
    time_call,
    tolerance,
)


def test_rankdata_averages_ties() -> None:
    assert rankdata([3.0, 1.0, 4.0, 1.0, 5.0]).tolist() == [3.0, 1.5, 4.0, 1.5, 5.0]
    assert rankdata([]).tolist() == []


def test_spearman_known_values() -> None:
    assert spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(0.8207826816681233)
    assert spearman([1, 2, 3], [3, 2, 1]) == -1.0
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))
    assert np.isnan(spearman([1], [2]))
    with pytest.raises(ValueError, match="equal length"):
        spearman([1, 2], [1, 2, 3])


@given(
    st.lists(
        st.tuples(st.integers(0, 20), st.floats(-1e6, 1e6, allow_nan=False)),
        min_size=3,
        max_size=30,
    )
)
def test_spearman_matches_scipy(pairs: list[tuple[int, float]]) -> None:
    stats = pytest.importorskip("scipy.stats")
    x, y = zip(*pairs, strict=True)
    ours = spearman(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on constant input; we return nan too
        theirs = stats.spearmanr(x, y).statistic
    if np.isnan(theirs):
        assert np.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-12)


def test_spearman_is_invariant_under_monotone_maps() -> None:
    x = np.random.default_rng(0).random(50)
    y = x**3 + 2
    assert spearman(x, y) == pytest.approx(1.0)


def test_max_relative_difference() -> None:
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert max_relative_difference(a, a) == 0.0
    assert max_relative_difference(a + 4e-3, a) == pytest.approx(1e-3)
    assert max_relative_difference(np.zeros(2), np.zeros(2)) == 0.0
    assert max_relative_difference(np.ones(2), np.zeros(2)) == float("inf")
    # normwise: a tiny entry with a large relative error does not dominate
    assert max_relative_difference(np.array([1e-12, 1.0]), np.array([2e-12, 1.0])) < 1e-11


def test_tolerance_by_dtype() -> None:
    assert tolerance("float64") == 1e-9
    assert tolerance(np.complex128) == 1e-9
    assert tolerance("float32") == tolerance("complex64") == 1e-4
    assert tolerance("float16") == 5e-2


def test_gflops() -> None:
    assert gflops(3_000_000_000, 1.5) == 2.0
    assert np.isnan(gflops(10, 0.0))


def test_time_call_runs_warmup_then_repeats() -> None:
    calls: list[int] = []
    t = time_call(lambda: calls.append(1), repeat=4, warmup=2)
    assert len(calls) == 6 and t.repeat == 4 and t.warmup == 2
    assert t.best == min(t.times) <= t.median
    with pytest.raises(ValueError, match="at least 1"):
        time_call(lambda: None, repeat=0)


def test_peak_memory_counts_only_what_the_call_allocates() -> None:
    keep = np.ones(200_000)  # allocated before: not counted
    m = peak_memory(lambda: (np.ones(100_000), np.ones(50_000))[0])
    assert 1_200_000 <= m.peak_bytes < 1_220_000
    assert m.method == "tracemalloc" and m.result.shape == (100_000,)
    del keep


def test_peak_memory_inside_an_active_trace() -> None:
    import tracemalloc

    tracemalloc.start()
    try:
        _ = np.ones(300_000)
        m = peak_memory(lambda: np.ones(10_000))
        assert tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()
    assert 80_000 <= m.peak_bytes < 90_000


@given(st.lists(st.floats(0.1, 10.0), min_size=1, max_size=60))
def test_median_interval_is_the_widest_rank_pair_with_the_coverage(values: list[float]) -> None:
    """Against the coverage summed term by term: 1 - 2 P(B <= j-1), B ~ Bin(n, 1/2)."""
    from math import comb

    n, xs = len(values), sorted(values)
    lo, hi = median_interval(values)
    median = float(np.median(values))
    assert lo <= median <= hi

    def coverage(j: int) -> float:
        return 1 - 2 * sum(comb(n, k) for k in range(j)) / 2**n

    ok = [j for j in range(1, (n + 1) // 2 + 1) if coverage(j) >= 0.95]
    j = max(ok) if ok else 1  # too few values: the whole range
    assert (lo, hi) == (xs[j - 1], xs[n - j])


def test_median_interval_known_ranks_and_errors() -> None:
    assert median_interval(range(21)) == (5, 15)  # the textbook ranks 6 and 16 of 21
    assert median_interval(range(100)) == (39, 60)  # ranks 40 and 61 of 100
    assert median_interval([3.0]) == (3.0, 3.0)
    with pytest.raises(ValueError, match="at least one"):
        median_interval([])
    with pytest.raises(ValueError, match="level"):
        median_interval([1.0, 2.0], level=1.5)
