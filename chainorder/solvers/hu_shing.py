"""Exact optimal order of a long dense chain: Hu and Shing's polygon algorithm.

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

Cost: O(L) for the sweep, the fans and the tree; the queues are binary heaps melded small
into large, O(L log² L) in the worst case and O(L log L) in practice (Hu and Shing's
mergeable heaps give O(L log L), at a higher constant in Python). Measured: 10^6 random
links in about 6 s of CPU time. Among tied optima the tree may differ from the DP's
(which breaks ties by peak memory); the number of multiplications is the same.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np

from chainorder.chain import Chain
from chainorder.errors import SpecError
from chainorder.gcpause import gc_paused
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
            f"{chain.structures[bad - 1].value}; use 'optimal' (exact) or 'bounded' "
            "(fast, with a proven gap) for chains with elementwise links"
        )


def _solve(dims: Sequence[int]) -> tuple[int, Tree]:
    """Hu–Shing on validated widths; returns ``(mults, tree)``.

    The cyclic garbage collector is paused meanwhile: the run allocates millions of
    acyclic lists and tuples, and its repeated generational scans would double the time.
    """
    with gc_paused():
        return _solve_polygon(dims)


def _solve_polygon(dims: Sequence[int]) -> tuple[int, Tree]:
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
    span = _split_spans(arcs, keep, w, n, shift)
    return mults, _tree_from_spans(span, L)


class _Arcs:
    """The tree of potential h-arcs as parallel lists; node ``m - 1`` is the root arc.

    ``owner[x]`` is the innermost arc containing polygon edge ``(x, x + 1)``.
    """

    __slots__ = ("child_start", "children", "lchild", "m", "owner", "parent", "rchild", "u", "v")

    def __init__(self, w: list[int], n: int) -> None:
        u: list[int] = []
        v: list[int] = []
        children: list[int] = []  # children of node a: children[child_start[a]:child_start[a+1]]
        child_start: list[int] = [0]
        lchild: list[int] = []  # the child sharing the left end (or -1)
        rchild: list[int] = []  # the child sharing the right end (or -1)
        parent: list[int] = [-1] * n  # at most n - 3 arcs plus the root
        owner: list[int] = [-1] * n  # -1: the root
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
                idx = len(u)
                k = len(astack)
                while k and u[astack[k - 1]] >= a:
                    k -= 1
                if k == len(astack):
                    owner[a:i] = [idx] * (i - a)
                    lchild.append(-1)
                    rchild.append(-1)
                else:
                    inner = astack[k:]
                    del astack[k:]
                    children.extend(inner)
                    prev = a
                    for c in inner:
                        parent[c] = idx
                        if u[c] > prev:
                            owner[prev : u[c]] = [idx] * (u[c] - prev)
                        prev = v[c]
                    if i > prev:
                        owner[prev:i] = [idx] * (i - prev)
                    lchild.append(inner[0] if u[inner[0]] == a else -1)
                    rchild.append(inner[-1] if v[inner[-1]] == i else -1)
                child_start.append(len(children))
                astack.append(idx)
                u.append(a)
                v.append(i)
            vstack.append(i)
        root = len(u)
        for c in astack:
            parent[c] = root
        children.extend(astack)  # the root's children
        child_start.append(len(children))
        lchild.append(-1)
        rchild.append(-1)
        u.append(0)
        v.append(n)
        del parent[root + 1 :]
        self.u, self.v, self.children, self.child_start = u, v, children, child_start
        self.lchild, self.rchild, self.m = lchild, rchild, root + 1
        self.parent, self.owner = parent, owner


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

    root = m - 1
    for a in range(root):  # children have smaller ids than parents: a post-order
        ua, va = u[a], v[a]
        wu, wv = w[ua], w[va]
        mul = wu * wv
        den = base[a]
        c0, c1 = cstart[a], cstart[a + 1]
        if c0 == c1:  # a leaf arc: one triangle-fan over its own edges, nothing below
            if wu <= wv:
                num = wu * (den + mul - wu * w[ua + 1])
            else:
                num = wv * (den + mul - wv * w[va - 1])
            gnum[a] = num
            gden[a] = den
            heaps[a] = [(-(num * scale // den), a)]
            continue
        if wu <= wv:
            lo, wlo = ua, wu
        else:
            lo, wlo = va, wv
        heap, den = _merge_children(heaps, base, children, c0, c1, den)
        den = _drop(heap, gnum, gden, nxt, removed, wlo, den)
        # the region's edge at ``lo`` other than the arc: the first kept arc nested at lo
        if lo == ua:
            x = lchild[a]
            if x >= 0 and removed[x]:
                x = _first_kept(lfind, removed, x)
            mn = wlo * (w[ua + 1] if x < 0 else w[v[x]])
        else:
            x = rchild[a]
            if x >= 0 and removed[x]:
                x = _first_kept(rfind, removed, x)
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
    # the root: the whole polygon, fanned from vertex 0 over what is not kept below it
    heap, den = _merge_children(heaps, base, children, cstart[root], cstart[root + 1], base[root])
    den = _drop(heap, gnum, gden, nxt, removed, w[0], den)
    total = w[0] * (den + w[0] * w[0] - w[0] * w[1] - w[0] * w[n - 1])
    total += sum(gnum[g] for _, g in heap)
    return total, removed


def _merge_children(
    heaps: list, base: list[int], children: list[int], c0: int, c1: int, den: int
) -> tuple[list[tuple[int, int]], int]:
    """Meld the children's queues, small into large; subtract their bases from ``den``."""
    if c1 == c0:
        return [], den
    if c1 == c0 + 1:
        c = children[c0]
        heap = heaps[c]
        heaps[c] = None
        return heap, den - base[c]
    kids = children[c0:c1]
    big = max(kids, key=lambda c: len(heaps[c]))
    heap = heaps[big]
    for c in kids:
        den -= base[c]
        if c != big:
            other = heaps[c]
            if len(other) * 8 > len(heap):
                heap.extend(other)
                heapq.heapify(heap)
            else:
                for item in other:
                    heapq.heappush(heap, item)
        heaps[c] = None
    return heap, den


def _drop(
    heap: list[tuple[int, int]],
    gnum: list[int],
    gden: list[int],
    nxt: list[int],
    removed: list[bool],
    wlo: int,
    den: int,
) -> int:
    """Drop every group cheaper fanned from ``wlo`` (support >= wlo); returns the new den."""
    while heap and gnum[heap[0][1]] >= wlo * gden[heap[0][1]]:
        g = heapq.heappop(heap)[1]
        den += gden[g]
        while g >= 0:
            removed[g] = True
            g = nxt[g]
    return den


def _first_kept(find: list[int], removed: list[bool], x: int) -> int:
    """First arc not removed along a nested chain starting at ``x`` (-1: none); compresses."""
    y = x
    while y >= 0 and removed[y]:
        y = find[y]
    while x != y:  # path compression: every arc passed now points at y
        x_next = find[x]
        find[x] = y
        x = x_next
    return y


def _split_spans(arcs: _Arcs, removed: list[bool], w: list[int], n: int, shift: int) -> list[int]:
    """``span[k] = j - i`` of the triangle ``(i, k, j)``, ``i < k < j``, of every split ``k``.

    Every region is fanned from its smallest vertex: each of its boundary edges ``(x, y)``
    not touching the fan vertex ``p`` gives a triangle ``(p, x, y)``. In a triangulation
    with root side ``(0, L)`` every vertex ``0 < k < L`` is the middle vertex of exactly one
    triangle, whose span is the product split at ``k``. Vectorised over the edges.
    """
    u, v, parent, m = arcs.u, arcs.v, arcs.parent, arcs.m
    root = m - 1
    fan = [u[a] if w[u[a]] <= w[v[a]] else v[a] for a in range(m)]
    fan[root] = 0
    region = [0] * m  # nearest kept ancestor-or-self (the root is always kept)
    region[root] = root
    for a in range(root - 1, -1, -1):  # parents have larger ids
        region[a] = region[parent[a]] if removed[a] else a
    fan_of_region = np.array(fan, dtype=np.int64)[np.array(region, dtype=np.int64)]
    owner = np.array(arcs.owner, dtype=np.int64)
    owner[owner < 0] = root
    # polygon edges (x, x + 1), x = 0..n-1 (vertex n is vertex 0)
    xs = np.arange(n, dtype=np.int64)
    ps = fan_of_region[owner]
    ys = xs + 1
    # kept arcs, as edges of their parent's region
    kept = [a for a in range(root) if not removed[a]]
    if kept:
        ka = np.array(kept, dtype=np.int64)
        par = np.array(parent, dtype=np.int64)[ka]
        xs = np.concatenate([xs, np.array(u, dtype=np.int64)[ka]])
        ys = np.concatenate([ys, np.array(v, dtype=np.int64)[ka]])
        ps = np.concatenate([ps, fan_of_region[par]])
    ys %= n
    use = (xs != ps) & (ys != ps)
    a = (xs[use] + shift) % n
    b = (ys[use] + shift) % n
    c = (ps[use] + shift) % n
    hi = np.maximum(np.maximum(a, b), c)
    lo = np.minimum(np.minimum(a, b), c)
    mid = a + b + c - hi - lo
    span = np.zeros(n, dtype=np.int64)
    span[mid] = hi - lo
    return span.tolist()


def _tree_from_spans(span: list[int], L: int) -> Tree:
    """The tree whose product split after link ``k`` covers ``span[k]`` links; iterative.

    Splits in link order are the tree's in-order and an ancestor's span strictly contains
    its descendants', so a Cartesian-tree stack sweep (largest span on top) rebuilds it.
    """
    stack_key: list[int] = []
    stack_sub: list[Tree] = []
    sub: Tree = 1
    for k in range(1, L):
        key = span[k]
        while stack_key and stack_key[-1] < key:
            stack_key.pop()
            sub = (sub, stack_sub.pop())  # (later links, earlier links)
        stack_key.append(key)
        stack_sub.append(sub)
        sub = k + 1
    while stack_sub:
        sub = (sub, stack_sub.pop())
    return sub
