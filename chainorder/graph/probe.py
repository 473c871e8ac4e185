"""What one rule application allocates, measured once per op at compile time.

A rule applied to a block of ``k`` tangents (or adjoints) leaves a result — a new array of
``k × size(out)`` scalars, or a *view* of the block (reshape, transpose, an identity
argument of ``add``) that allocates nothing and keeps the block alive — and, while it runs,
temporaries: the op's factor (``1 - tanh²``), a solve's intermediate, a broadcast copy.
Those depend on how NumPy implements the rule, so :func:`footprint` runs the rule on
a block of zeros under ``tracemalloc`` — of ``k`` rows when small, else of ``k₁`` and
``2k₁`` rows, fitting ``held(k) = h₀ + h₁·k`` and ``transient(k) = t₀ + t₁·k`` scalars
(float64). The compiled program's memory model
(:func:`~chainorder.graph.instr.simulate_peak`) adds these to its slots; tests then hold
the model against ``tracemalloc`` of whole runs at full ``k``.
"""

from __future__ import annotations

import math
import tracemalloc
import weakref
from dataclasses import dataclass

import numpy as np

from chainorder.graph.ops import get_rule

__all__ = ["Footprint", "Footprints", "footprint", "summed"]

_ITEM = 8
_PER_GRAPH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Footprint:
    """Scalars a rule application holds in its result and transiently, as lines in ``k``."""

    view: bool
    held0: int
    held1: int
    temp0: int
    temp1: int

    def held(self, k: int) -> int:
        """Scalars of the result of ``k`` rows (0 for a view)."""
        return 0 if self.view else max(0, self.held0 + self.held1 * k)

    def temp(self, k: int) -> int:
        """Scalars held only while the rule runs, for ``k`` rows."""
        return max(0, self.temp0 + self.temp1 * k)


def _measure(fn) -> tuple[int, int, bool]:
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result, block = fn()
        cur, peak = tracemalloc.get_traced_memory()
    finally:
        if started:
            tracemalloc.stop()
    view = isinstance(result, np.ndarray) and np.shares_memory(result, block)
    return cur - base, peak - cur, view


def footprint(graph, v: str, argnum: int, kind: str, shape_in: tuple, k: int) -> Footprint:
    """The :class:`Footprint` of ``v``'s ``kind`` (``jvp``/``vjp``) rule for argument
    ``argnum`` on blocks of shape ``(k, *shape_in)``.

    Measured at ``k`` itself when the block is small; else fitted from two blocks of at
    least 512 KiB (beyond NumPy's 256 KiB threshold for reusing temporaries, where the
    footprint becomes linear in ``k``).

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> g = trace(lambda x: np.tanh(x).reshape(2, 50), np.ones(100))
    >>> fp = footprint(g, "v1", 0, "jvp", (100,), 3)  # tanh: a new array of 3 × 100 scalars
    >>> footprint(g, "v2", 0, "jvp", (100,), 3).view, 300 <= fp.held(3) < 340
    (True, True)

    Notes
    -----
    Two or three rule applications (one to warm caches), on at most ``max(k, 2k₁)`` rows.
    """
    d = graph.nx.nodes[v]
    rule = get_rule(d["op"])
    values = tuple(graph.value(a) for a in d["args"])
    apply = rule.jvp if kind == "jvp" else rule.vjp
    width = max(math.prod(shape_in), math.prod(np.shape(graph.value(v))), 1)
    k1 = max(2, -(-65536 // width))

    def measure(rows: int, warm: bool = True) -> tuple[int, int, bool]:
        block = np.zeros((rows, *shape_in))

        def run():
            return apply(argnum, block, values, graph.value(v), d["params"]), block

        if warm:  # first calls fill caches (einsum paths, LAPACK and BLAS workspaces)
            run()
        return _measure(run)

    if k <= 2 * k1:
        h, t, view = measure(k)
        return Footprint(view, h // _ITEM, 0, t // _ITEM, 0)
    # the measured run on k₁ rows warmed the rule for the second block
    (h1, t1, view), (h2, t2, _) = measure(k1), measure(2 * k1, warm=False)
    held1, temp1 = (h2 - h1) // (_ITEM * k1), (t2 - t1) // (_ITEM * k1)
    return Footprint(view, h1 // _ITEM - held1 * k1, held1, t1 // _ITEM - temp1 * k1, temp1)


class Footprints:
    """:func:`footprint` of each ``(node, argnum, kind, k)`` of one graph, measured once
    per graph (kept while the graph lives), so that every program compiled for it is
    priced with the same figures."""

    def __new__(cls, graph) -> Footprints:
        found = _PER_GRAPH.get(graph)
        if found is None:
            found = super().__new__(cls)
            found.graph = graph
            found._cache = {}
            _PER_GRAPH[graph] = found
        return found

    def __call__(self, v: str, argnum: int, kind: str, shape_in: tuple, k: int) -> Footprint:
        key = (v, argnum, kind, k)
        if key not in self._cache:
            self._cache[key] = footprint(self.graph, v, argnum, kind, tuple(shape_in), k)
        return self._cache[key]


def summed(fps: list[Footprint], k: int, size: int, src: int = -1) -> tuple[int, int, int]:
    """``(alloc, temp, alias)`` of summing the rule results of ``fps`` on ``k`` rows.

    ``size``: scalars of the sum (a new array when there are several terms); a single
    term's view result aliases slot ``src``. The first two results are added into a new
    array, later ones in place (:func:`chainorder.graph.instr.execute`).

    Examples
    --------
    >>> fp = Footprint(False, 0, 10, 5, 0)
    >>> summed([fp], 3, 30), summed([fp, fp], 3, 30)
    ((30, 5, -1), (30, 60, -1))

    Notes
    -----
    O(len(fps)).
    """
    if len(fps) == 1:
        fp = fps[0]
        if fp.view and src >= 0:
            return 0, fp.temp(k), src
        return fp.held(k), fp.temp(k), -1
    r = [fp.held(k) for fp in fps]
    peak = max(r[0] + fps[0].temp(k), r[0] + r[1] + fps[1].temp(k), r[0] + r[1] + size)
    for fp, rt in zip(fps[2:], r[2:], strict=True):
        peak = max(peak, size + rt + fp.temp(k))
    return size, max(0, peak - size), -1
