"""``mode="bounded"``: a fast order for chains with diagonal links, with a certified bound.

The exact DP prices diagonal (elementwise) links but is O(L³); Hu–Shing is O(L log L) but
prices every product as dense. This solver works at any length in O(L log L): it returns a
tree, and a *proven lower bound* on the optimal number of multiplications, so a plan can say
"at most X % above optimal" (the gap is usually a fraction of a percent, often zero).

Construction
------------
Let the chain's diagonal links form maximal *runs* ``R`` (links ``a..b``, all of one width
``d_R``: a diagonal link is square) of ``k_R`` links. The *contracted* chain ``C'`` keeps
only the dense links; its widths are those of ``C`` with each run's repeated width removed.

1. Solve ``C'`` exactly with Hu–Shing: tree ``T'``, cost ``OPT(C')``.
2. Put each run back: bracket its links among themselves (``k_R − 1`` products of ``d_R``
   mults each) and multiply the result into one node ``X`` of ``T'`` adjacent to the run:
   a node whose first link is the dense link just after the run (the run becomes its right
   factor, cost ``d_R·(rows of X)``) or whose last link is the one just before it (left
   factor, cost ``d_R·(columns of X)``). The node with the smallest such width, ``u_R``, is
   chosen. No other product changes shape (a run is square), so the tree costs exactly
   ``U = OPT(C') + Σ_R ((k_R − 1)·d_R + d_R·u_R)``.

Lower bound (the proof)
-----------------------
Take any tree ``T`` of ``C``. Call a product *dense-dense* when both factors contain a dense
link, and *R-touching* when a factor lies inside run ``R``.

* Deleting the diagonal leaves of ``T`` (and the products they fed) leaves a tree ``T'`` of
  ``C'`` whose products are exactly ``T``'s dense-dense products, with the same shapes (the
  outer widths of a factor do not change when square diagonal links are removed from it) and
  the dense price ``p·q·r``. So the dense-dense products of ``T`` cost ``≥ OPT(C')``.
* Count the factors lying inside ``R``: ``k_R`` leaves at first, none at the root (the root
  holds a dense link). Every R-touching product removes exactly one (two merge into one, or
  one meets a factor holding a dense link), so there are exactly ``k_R`` of them, each costing
  at least ``d_R`` (``d_R`` for two diagonals, ``d_R·w`` with ``w ≥ 1`` otherwise), and at
  least one meets a factor holding a dense link. That factor is adjacent to the run, so it
  covers links ``b+1..k`` (cost ``d_R·d_k``, ``k > b``) or ``l..a−1`` (cost ``d_R·d_{l−1}``,
  ``l − 1 < a − 1``): at least ``d_R·m_R`` with ``m_R = min(d_x : x > b or x < a − 1)``.
* These product sets are disjoint (a dense-dense product touches no run; a product touching
  ``R`` has a factor inside ``R``, hence none inside another run and is not dense-dense).

Hence ``OPT(C) ≥ B = OPT(C') + Σ_R ((k_R − 1)·d_R + d_R·m_R)`` and ``B ≤ OPT(C) ≤ U``, with
``U − B = Σ_R d_R·(u_R − m_R)``. When ``C`` is dense, ``B = U = OPT(C)`` (Hu–Shing); when it
has no dense link every tree costs ``(L − 1)·d`` and ``B = U`` again.
"""

from __future__ import annotations

from chainorder.chain import Chain, Structure
from chainorder.solvers.hu_shing import hu_shing
from chainorder.solvers.registry import Solution
from chainorder.tree import FlatTree, Tree, flatten, reverse_tree

__all__ = ["bounded_solution"]


def bounded_solution(chain: Chain) -> Solution:
    """A tree and a proven lower bound on the optimum; see the module notes for the proof.

    Parameters
    ----------
    chain : Chain
        Any chain (dense links, diagonal links, any length).

    Returns
    -------
    Solution
        ``tree``, ``method="bounded"`` and ``lower_bound``: ``lower_bound <= optimal mults
        <= the tree's mults``.

    Examples
    --------
    >>> from chainorder.cost import tree_cost
    >>> c = Chain.parse("1000,1000,tanh,1000,10,relu,10,1000")
    >>> s = bounded_solution(c)
    >>> s.lower_bound, tree_cost(c, s.tree).mults
    (30110100, 30110100)

    Notes
    -----
    O(L log L) typical (Hu–Shing on the dense links, O(L) for the rest); O(L) memory.
    """
    L, dims, kinds = chain.n_links, chain.dims, chain.structures
    dense = [l for l in range(1, L + 1) if kinds[l - 1] is Structure.DENSE]
    if not dense:  # one width throughout: every tree costs (L - 1)·d
        return Solution(reverse_tree(L), "bounded", (L - 1) * dims[0])
    cdims = [dims[dense[0] - 1]] + [dims[l] for l in dense]
    opt_c, tree_c = hu_shing(cdims)
    if len(dense) == L:
        return Solution(tree_c, "bounded", opt_c)
    runs = _runs(kinds)
    flat = flatten(tree_c, len(dense))
    # for each C' link j: the node starting at j with the fewest rows, ending at j with the
    # fewest columns (nodes are children-first, so ties go to the smallest node)
    start_best: dict[int, int] = {}
    end_best: dict[int, int] = {}
    for i in range(len(flat.lo)):
        lo, hi = flat.lo[i], flat.hi[i]
        if lo not in start_best or cdims[hi] < cdims[flat.hi[start_best[lo]]]:
            start_best[lo] = i
        if hi not in end_best or cdims[lo - 1] < cdims[flat.lo[end_best[hi]] - 1]:
            end_best[hi] = i
    prefix_min = _running_min(dims)  # prefix_min[x] = min(d_0..d_x)
    suffix_min = _running_min(dims[::-1])[::-1]  # suffix_min[x] = min(d_x..d_L)
    # C' number of the first dense link after each C link: bisect-free, one sweep
    next_dense = [0] * (L + 2)
    j = len(dense) + 1
    for l in range(L, 0, -1):
        if kinds[l - 1] is Structure.DENSE:
            j -= 1
        next_dense[l] = j
    next_dense[L + 1] = len(dense) + 1
    on_right: dict[int, tuple[int, int]] = {}  # node -> run (a, b) multiplied on its right
    on_left: dict[int, tuple[int, int]] = {}
    bound = opt_c
    inf = max(dims) + 1
    for a, b in runs:
        d, k = dims[a], b - a + 1
        after = next_dense[b + 1]  # C' link just after the run (len(dense)+1: none)
        before = after - 1  # C' link just before it (0: none)
        low = min(suffix_min[b + 1] if b < L else inf, prefix_min[a - 2] if a >= 2 else inf)
        bound += (k - 1) * d + d * low
        rows = cdims[flat.hi[start_best[after]]] if after <= len(dense) else inf
        cols = cdims[flat.lo[end_best[before]] - 1] if before >= 1 else inf
        if rows <= cols:
            on_right[start_best[after]] = (a, b)
        else:
            on_left[end_best[before]] = (a, b)
    return Solution(_rebuild(flat, dense, on_left, on_right), "bounded", bound)


def _runs(kinds: tuple[Structure, ...]) -> list[tuple[int, int]]:
    """Maximal runs ``(a, b)`` of consecutive diagonal links (1-based, inclusive)."""
    runs: list[tuple[int, int]] = []
    start = 0
    for l, kind in enumerate(kinds, start=1):
        if kind is Structure.DIAGONAL:
            start = start or l
        elif start:
            runs.append((start, l - 1))
            start = 0
    if start:
        runs.append((start, len(kinds)))
    return runs


def _running_min(values: tuple[int, ...] | list[int]) -> list[int]:
    out: list[int] = []
    best = values[0]
    for v in values:
        best = min(best, v)
        out.append(best)
    return out


def _run_tree(a: int, b: int) -> Tree:
    tree: Tree = b
    for l in range(b - 1, a - 1, -1):
        tree = (tree, l)
    return tree


def _rebuild(
    flat: FlatTree,
    dense: list[int],
    on_left: dict[int, tuple[int, int]],
    on_right: dict[int, tuple[int, int]],
) -> Tree:
    """``T'`` over the original link numbers, with each run multiplied into its node."""
    built: list[Tree | None] = [None] * len(flat.lo)
    for i in range(len(built)):
        left = flat.left[i]
        if left < 0:
            node: Tree = dense[flat.lo[i] - 1]
        else:
            right = flat.right[i]
            node = (built[left], built[right])  # type: ignore[assignment]
            built[left] = built[right] = None
        if i in on_right:
            node = (node, _run_tree(*on_right[i]))
        if i in on_left:
            node = (_run_tree(*on_left[i]), node)
        built[i] = node
    return built[-1]  # type: ignore[return-value]
