"""``mode="optimal"``: the exact order by the algorithm that suits the chain.

* Dense chains longer than :data:`HU_SHING_FROM` links go to Hu–Shing
  (:mod:`chainorder.solvers.hu_shing`, O(L log L)): exact at any length, 10⁶ links in seconds.
* Everything else goes to the exact DP (:mod:`chainorder.solvers.dp`, O(L³)), which also
  breaks ties in multiplications by the lower peak memory and prices diagonal links; it
  refuses chains over :data:`~chainorder.solvers.dp.MAX_EXACT_LINKS` links.
* Longer chains with diagonal links get the bounded solver's tree
  (:mod:`chainorder.solvers.bounded`) when its certified lower bound equals its cost, which
  proves it optimal (method ``"bounded"``); otherwise they are refused with the gap, and
  ``mode="bounded"`` gives that tree with its bound.

The choice was measured (random dense widths 1..1000, one process): the DP takes 5 ms at
100 links, 0.1 s at 400, 0.76 s at 800; Hu–Shing 0.6 ms, 2 ms and 4 ms. Hu–Shing is faster at
every length, but below about 500 links the DP is still interactive and keeps its peak-memory
tie-break, so it keeps those chains.
"""

from __future__ import annotations

from chainorder.chain import Chain
from chainorder.cost import tree_cost
from chainorder.errors import ChainTooLongError
from chainorder.solvers.bounded import bounded_solution
from chainorder.solvers.dp import MAX_EXACT_LINKS, optimal_tree
from chainorder.solvers.hu_shing import _check_dense, _solve
from chainorder.solvers.interval import ProgressFn
from chainorder.solvers.registry import Solution

__all__ = ["HU_SHING_FROM", "hu_shing_solution", "solve_optimal"]

#: Dense chains with more links than this are solved by Hu–Shing instead of the DP.
HU_SHING_FROM = 500


def solve_optimal(chain: Chain, progress: ProgressFn | None = None) -> Solution:
    """The optimal tree and the algorithm that found it (``"dp"`` or ``"hu-shing"``).

    Parameters
    ----------
    chain : Chain
    progress : callable, optional
        Passed to the DP (Hu–Shing needs none).

    Returns
    -------
    Solution
        ``lower_bound`` is the optimum itself (the tree's cost): the tree is exact.

    Raises
    ------
    ChainTooLongError
        A chain with diagonal links, more than ``MAX_EXACT_LINKS`` links and no tree proven
        optimal by the bounded solver.

    Examples
    --------
    >>> solve_optimal(Chain.from_dims([30, 35, 15, 5, 10, 20, 25])).method
    'dp'
    >>> solve_optimal(Chain.from_dims([7, 3] * 300)).method
    'hu-shing'

    Notes
    -----
    O(L log L) for long dense chains, O(L³) time and O(L²) memory otherwise.
    """
    if chain.is_dense and chain.n_links > HU_SHING_FROM:
        return hu_shing_solution(chain)
    if chain.n_links > MAX_EXACT_LINKS:
        fast = bounded_solution(chain)
        mults = tree_cost(chain, fast.tree).mults
        if fast.lower_bound == mults:
            return fast
        gap = (mults - fast.lower_bound) / max(fast.lower_bound, 1)  # type: ignore[operator]
        raise ChainTooLongError(
            f"chain has {chain.n_links} links and diagonal links; the exact DP handles at "
            f"most {MAX_EXACT_LINKS}, and the fastest proven order is at most {gap:.3%} above "
            "optimal: use --mode bounded for it"
        )
    tree = optimal_tree(chain, progress)
    return Solution(tree, "dp", tree_cost(chain, tree).mults)


def hu_shing_solution(chain: Chain) -> Solution:
    """Hu–Shing's optimal tree with its cost as the (attained) lower bound; dense chains only.

    Raises
    ------
    SpecError
        A diagonal link.

    Examples
    --------
    >>> hu_shing_solution(Chain.from_dims([10, 20, 30]))
    Solution(tree=(2, 1), method='hu-shing', lower_bound=6000)

    Notes
    -----
    O(L log L) typical, O(L) memory.
    """
    _check_dense(chain)
    mults, tree = _solve(chain.dims)
    return Solution(tree, "hu-shing", mults)
