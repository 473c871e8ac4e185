"""Exact optimal order of a long dense chain: Hu and Shing's polygon algorithm, O(L log L).

A dense chain with widths ``d_0..d_L`` is a convex polygon with vertex weights ``d_0..d_L``;
a bracketing is a triangulation, a product over links ``i+1..j`` split after link ``k`` is
the triangle ``(d_i, d_k, d_j)`` and costs ``d_i·d_k·d_j`` multiplications (T. C. Hu and
M. T. Shing, "Computation of matrix chain products", SIAM J. Comput. 11 (1982) and 13 (1984)).

The algorithm, in the form used here:

1. Rotate the polygon so that vertex 0 is the smallest (ties: the first in chain order; all
   ties are broken by position, which makes the weights a strict total order).
2. *One sweep* with a monotone stack finds the **potential h-arcs**: the arcs ``(u, v)``
   (not touching vertex 0) whose inner vertices all exceed both ends. There are at most
   ``L - 2``; they nest, so they form a tree under the root arc (the whole polygon).
3. In the optimal triangulation every region between a kept h-arc and its nearest kept
   descendants is a *fan* from the region's smallest vertex, which is the smaller end of the
   arc. Dropping a kept arc ``h`` merges its region into its parent's fan from ``w_p``: that
   is cheaper exactly when the arc's *support* ``s(h) = fan(h) / den(h)`` is at least
   ``w_p`` (``den`` is the region's boundary weight minus the arc's own product).
4. Bottom-up over the arc tree, each node holds a max-priority queue of the kept groups
   below it. First every group with support ``>= w_low`` is dropped (into this node's fan);
   then every group whose support is at least the node's own is *merged* into the node (it
   can only ever be dropped together with it). Queues are merged small into large.
5. What is left under the root is the optimal set of h-arcs; each region is fanned from its
   smallest vertex. The fans give a split for every interval, hence the tree.

Supports are compared exactly: ``a/b < c/d`` as ``a·d < c·b`` and heap keys
``floor(num·M / den)`` with ``M >= den_max²``, which orders distinct fractions strictly and
equal ones equally, so the priority queues are plain :mod:`heapq` lists of Python ints.
All costs are exact Python integers.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from chainorder.chain import Chain
from chainorder.errors import SpecError
from chainorder.tree import Tree

__all__ = ["hu_shing", "hu_shing_tree"]


def hu_shing_tree(chain: Chain) -> Tree:
    """The optimal (fewest multiplications) tree of a dense chain, by Hu–Shing.

    Parameters
    ----------
    chain : Chain
        Every link must be dense.

    Returns
    -------
    Tree
        An optimal bracketing (among tied optima, not necessarily the one the DP picks).

    Raises
    ------
    SpecError
        When the chain has a diagonal (elementwise) link: the polygon model prices every
        product as dense.

    Examples
    --------
    >>> hu_shing_tree(Chain.from_dims([30, 35, 15, 5, 10, 20, 25]))
    ((6, (5, 4)), ((3, 2), 1))

    Notes
    -----
    O(L log² L) worst case, O(L log L) typical; O(L) memory; iterative (no recursion limit).
    """
    _check_dense(chain)
    return _solve(chain.dims)[1]


def hu_shing(dims: Sequence[int]) -> tuple[int, Tree]:
    """``(mults, tree)`` of an optimal bracketing of the dense chain with widths ``dims``.

    Parameters
    ----------
    dims : sequence of int
        Widths ``d_0..d_L`` (``L >= 1``), positive integers; link ``l`` is ``d_l × d_{l-1}``.

    Returns
    -------
    mults : int
        Scalar multiplications of the optimum (exact).
    tree : Tree
        An optimal bracketing over links ``1..L``.

    Raises
    ------
    SpecError, SpecTypeError
        When ``dims`` are not at least two positive integers.

    Examples
    --------
    >>> hu_shing([30, 35, 15, 5, 10, 20, 25])[0]
    15125
    >>> hu_shing([10, 20, 30])
    (6000, (2, 1))

    Notes
    -----
    O(L log² L) worst case, O(L log L) typical; O(L) memory.
    """
    chain = Chain.from_dims(dims)
    return _solve(chain.dims)


def _check_dense(chain: Chain) -> None:
    if not chain.is_dense:
        bad = next(l for l, s in enumerate(chain.structures, start=1) if s.value != "dense")
        raise SpecError(
            f"the hu-shing solver handles dense chains only, but link {bad} is "
            f"{chain.structures[bad - 1].value}; use the exact DP ('optimal') for chains "
            "with elementwise links"
        )


def _solve(dims: Sequence[int]) -> tuple[int, Tree]:
    """Hu–Shing on validated widths; returns ``(mults, tree)``."""
    n = len(dims)  # polygon vertices
    L = n - 1
    if L == 1:
        return 0, 1
    if L == 2:
        return dims[0] * dims[1] * dims[2], (2, 1)
    shift = min(range(n), key=dims.__getitem__)  # first minimum
    w = list(dims[shift:]) + list(dims[:shift])
    w.append(w[0])  # vertex n is vertex 0 again: the root arc is (0, n)
    arcs = _Arcs(w, n)
    mults, keep = _select(arcs, w, n)
    apex = _fan_apexes(arcs, keep, w, n, shift)
    return mults, _tree_from_apexes(apex, L)


class _Arcs:
    """The tree of potential h-arcs as parallel lists; node ``m - 1`` is the root arc."""

    __slots__ = ("child_start", "children", "lchild", "m", "rchild", "u", "v")

    def __init__(self, w: list[int], n: int) -> None:
        u: list[int] = []
        v: list[int] = []
        children: list[int] = []  # children of node a: children[child_start[a]:child_start[a+1]]
        child_start: list[int] = [0]
        lchild: list[int] = []  # the child sharing the left end (or -1)
        rchild: list[int] = []  # the child sharing the right end (or -1)
        vstack = [0]
        astack: list[int] = []  # arcs not yet inside a larger one, left to right
        # vertex n (= vertex 0) closes the sweep: every remaining stack entry pops against it,
        # giving only arcs touching vertex 0, which are not h-arcs
        for i in range(1, n):
            wi = w[i]
            while len(vstack) >= 2 and w[vstack[-1]] > wi:
                vstack.pop()
                a = vstack[-1]
                if a == 0:
                    continue
                # arc (a, i): collect the arcs it contains (all on astack with left end >= a)
                k = len(astack)
                while k and u[astack[k - 1]] >= a:
                    k -= 1
                inner = astack[k:]
                del astack[k:]
                children.extend(inner)
                child_start.append(len(children))
                lchild.append(inner[0] if inner and u[inner[0]] == a else -1)
                rchild.append(inner[-1] if inner and v[inner[-1]] == i else -1)
                astack.append(len(u))
                u.append(a)
                v.append(i)
            vstack.append(i)
        children.extend(astack)  # the root's children
        child_start.append(len(children))
        lchild.append(-1)
        rchild.append(-1)
        u.append(0)
        v.append(n)
        self.u, self.v, self.children, self.child_start = u, v, children, child_start
        self.lchild, self.rchild, self.m = lchild, rchild, len(u)


def _select(arcs: _Arcs, w: list[int], n: int) -> tuple[int, list[bool]]:
    """Bottom-up pass: the optimal cost and which potential h-arcs are kept."""
    u, v, children, cstart = arcs.u, arcs.v, arcs.children, arcs.child_start
    lchild, rchild, m = arcs.lchild, arcs.rchild, arcs.m
    cp = [0] * (n + 1)  # cp[i] = sum of w[k-1]·w[k], k = 1..i
    acc = 0
    for i in range(1, n + 1):
        acc += w[i - 1] * w[i]
        cp[i] = acc
    scale = acc * acc  # >= den_max²: heap keys floor(num·scale/den) are exact orders
    base = [cp[v[a]] - cp[u[a]] - w[u[a]] * w[v[a]] for a in range(m)]
    removed = [False] * m
    gnum = [0] * m
    gden = [0] * m
    nxt = [-1] * m  # group member lists (linked), head = the group's top arc
    tail = list(range(m))
    lfind = list(lchild)  # path-compressed "first kept arc" along the left/right-end chains
    rfind = list(rchild)
    heaps: list[list[tuple[int, int]] | None] = [None] * m
    hpush, hpop = heapq.heappush, heapq.heappop

    for a in range(m):  # children have smaller ids than parents: a post-order
        ua, va = u[a], v[a]
        lo = ua if w[ua] <= w[va] else va
        if a == m - 1:
            lo = 0
        wlo = w[lo]
        den = base[a]
        kids = children[cstart[a] : cstart[a + 1]]
        heap: list[tuple[int, int]] = []
        if kids:
            big = max(kids, key=lambda c: len(heaps[c]))  # type: ignore[arg-type]
            heap = heaps[big]  # type: ignore[assignment]
            for c in kids:
                den -= base[c]
                if c != big:
                    other = heaps[c]
                    if len(other) * 8 > len(heap):  # type: ignore[arg-type]
                        heap.extend(other)  # type: ignore[arg-type]
                        heapq.heapify(heap)
                    else:
                        for item in other:  # type: ignore[union-attr]
                            hpush(heap, item)
                heaps[c] = None
            heaps[big] = None
        # 1. groups that are cheaper fanned from w_lo than kept: drop them
        while heap and gnum[heap[0][1]] >= wlo * gden[heap[0][1]]:
            g = hpop(heap)[1]
            den += gden[g]
            while g >= 0:
                removed[g] = True
                g = nxt[g]
        # the region's edge at ``lo`` other than the arc: the first kept arc nested at lo
        if a == m - 1:
            mn = w[0] * w[1] + w[0] * w[n - 1]
            mul = w[0] * w[0]
        else:
            mul = w[ua] * w[va]
            if lo == ua:
                x = _first_kept(lfind, lchild, removed, lchild[a])
                mn = wlo * (w[ua + 1] if x < 0 else w[v[x]])
            else:
                x = _first_kept(rfind, rchild, removed, rchild[a])
                mn = wlo * (w[va - 1] if x < 0 else w[u[x]])
        num = wlo * (den + mul - mn)
        # 2. groups whose support is at least this arc's: they stand or fall with it
        while heap and num * gden[heap[0][1]] <= gnum[heap[0][1]] * den:
            g = hpop(heap)[1]
            num += gnum[g]
            den += gden[g]
            nxt[tail[a]] = g
            tail[a] = tail[g]
        gnum[a] = num
        gden[a] = den
        hpush(heap, (-(num * scale // den), a))
        heaps[a] = heap
    root_heap = heaps[m - 1]
    total = sum(gnum[g] for _, g in root_heap)  # type: ignore[union-attr]
    return total, removed


def _first_kept(find: list[int], chain: list[int], removed: list[bool], x: int) -> int:
    """First arc not removed along a nested chain starting at ``x`` (-1: none); compresses."""
    y = x
    while y >= 0 and removed[y]:
        y = find[y]
    while x >= 0 and removed[x]:  # path compression
        x, find[x] = find[x], y
    return y


def _fan_apexes(
    arcs: _Arcs, removed: list[bool], w: list[int], n: int, shift: int
) -> dict[int, int]:
    """Apex ``k`` of the triangle over every interval ``(i, j)`` (key ``i·n + j``)."""
    u, v, children, cstart, m = arcs.u, arcs.v, arcs.children, arcs.child_start, arcs.m
    apex: dict[int, int] = {}
    for r in range(m):
        if removed[r]:
            continue
        ur, vr = u[r], v[r]
        if r == m - 1:
            p = 0
        else:
            p = ur if w[ur] <= w[vr] else vr
        op = (p + shift) % n
        edges: list[tuple[int, int]] = []
        stack = [r]
        while stack:  # walk the region: own polygon edges, kept children as edges
            a = stack.pop()
            prev = u[a]
            for c in children[cstart[a] : cstart[a + 1]]:
                edges.extend((x, x + 1) for x in range(prev, u[c]))
                if removed[c]:
                    stack.append(c)
                else:
                    edges.append((u[c], v[c]))
                prev = v[c]
            edges.extend((x, x + 1) for x in range(prev, v[a]))
        for x, y in edges:
            if x == p or y == p or (p == 0 and y == n):
                continue
            ox = (x + shift) % n
            oy = (y + shift) % n
            i, k, j = sorted((ox, oy, op))
            apex[i * n + j] = k
    return apex


def _tree_from_apexes(apex: dict[int, int], L: int) -> Tree:
    """Tree over links ``1..L`` from the triangle apex of every interval; iterative."""
    n = L + 1
    out: list[Tree] = []
    stack = [(0, L, False)]
    while stack:
        i, j, done = stack.pop()
        if j == i + 1:
            out.append(j)
        elif done:
            right = out.pop()
            left = out.pop()
            out.append((left, right))
        else:
            k = apex[i * n + j]
            stack.append((i, j, True))
            stack.append((i, k, False))  # right factor: links i+1..k (built second)
            stack.append((k, j, False))  # left factor: links k+1..j (built first)
    return out[0]

