"""Replay a traced function at new arguments without tracing it again.

:class:`Replay` compiles a :class:`~chainorder.graph.traced_graph.TracedGraph` once into a flat
schedule: every node gets a slot in one list; constants are stored in their slots once;
each op is a tuple ``(slot, forward, argument slots, params)``; each
:class:`~chainorder.graph.tape.Guard` (a value the trace decided without a derivative: a
comparison, ``argmax``, ``np.where(cond)``, an integer cast ...) runs right after the last
node it reads. :meth:`Replay.run` is then one loop of array calls. When a guard gives a
different result than at the trace, the recorded program no longer is the function's
program there (data-dependent control flow, or a constant that would differ) and
:meth:`Replay.run` returns ``None``: the caller traces again.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainorder.graph.ops import get_rule
from chainorder.graph.traced_graph import TracedGraph

__all__ = ["Replay", "same_value"]


def same_value(a: Any, b: Any) -> bool:
    """True when a guard's recomputed result ``a`` equals its traced result ``b``.

    Examples
    --------
    >>> same_value(np.array([True, False]), np.array([True, False]))
    True
    >>> same_value((np.array([0, 2]),), (np.array([0]),))
    False

    Notes
    -----
    O(size of the result).
    """
    if isinstance(b, tuple | list):
        return (
            isinstance(a, tuple | list)
            and len(a) == len(b)
            and all(same_value(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, tuple | list):
        return False
    sa, sb = np.shape(a), np.shape(b)
    return sa == sb and bool(np.all(_host(a) == _host(b)))


def _host(a: Any) -> Any:
    get = getattr(a, "get", None)  # CuPy arrays: compare on the host
    return get() if callable(get) and not isinstance(a, dict) else a


class Replay:
    """The flat primal program of a traced graph, with its guards.

    Parameters
    ----------
    graph : TracedGraph
        What to replay; its differentiated inputs and carried arguments (non-differentiated
        array arguments traced as replaceable constants) take new values at each run.
    reuse : bool
        Keep the values that NumPy ufuncs compute (arrays of 64 KiB or more) between runs
        and write each run's values into them (``out=``): no fresh pages per run (a
        400 × 400 × 2 GP kernel: about 2,500 page faults per run otherwise). A run's
        values are then valid until the next run, and ``held_bytes`` stay allocated.
        ``lock`` marks the buffers as in use: a caller that holds it (acquired without
        blocking) runs with them, one that finds it taken runs with fresh arrays, so
        calls from several threads stay correct.

    Examples
    --------
    >>> from chainorder.graph.trace import trace
    >>> def f(x):
    ...     return np.sin(x) * 2.0 if (x > 0).all() else -x
    >>> r = Replay(trace(f, np.array([0.5, 1.0])))
    >>> vals = r.run([np.array([1.0, 2.0])])
    >>> np.allclose(r.outputs(vals)[0], np.sin([1.0, 2.0]) * 2.0)
    True
    >>> r.run([np.array([-1.0, 2.0])]) is None  # the `if` would go the other way
    True

    Notes
    -----
    Compiling is O(V + E + guards); a run is one call per op and per guard, plus O(1)
    Python work each. With ``reuse``, ``held_bytes`` (at most the graph's values) stay
    allocated between runs.
    """

    def __init__(self, graph: TracedGraph, reuse: bool = False) -> None:
        self.graph = graph
        self.reuse = bool(reuse)
        self.lock = threading.Lock()
        self._buffers: dict[int, np.ndarray] = {}  # slot → the array a ufunc writes into
        order = graph.order
        slot = {name: i for i, name in enumerate(order)}
        self.slot = slot
        self.names = tuple(order)
        g = graph.nx
        self.template: list[Any] = [None] * len(order)
        self._ufunc_slots: dict[int, tuple] = {}  # slot → (shape, dtype) of a ufunc's value
        self._device_templates: dict[str, list] = {}
        steps = []
        for name in order:
            d = g.nodes[name]
            if d["kind"] == "intermediate":
                rule = get_rule(d["op"])
                steps.append((slot[name], rule.forward, tuple(slot[a] for a in d["args"]),
                              d["params"]))  # fmt: skip
                if _writes_out(rule.forward, d["value"]):
                    self._ufunc_slots[slot[name]] = (np.shape(d["value"]), d["value"].dtype)
            else:
                self.template[slot[name]] = d["value"]
        self.input_slots = tuple(slot[x] for x in graph.inputs)
        self.carried = tuple(
            (int(g.nodes[n]["carried"]), slot[n]) for n in order if "carried" in g.nodes[n]
        )
        self.output_slots = tuple(slot[y] for y in graph.outputs)
        self.guards = tuple(graph.guards)
        # each guard runs after the last node (or guard) it reads; inputs and constants
        # come first in the order, so a guard reading only them runs before every op
        op_slots = {st[0] for st in steps}
        time: list[int] = []
        after: dict[int, list[int]] = {}
        pre: list[int] = []
        for k, guard in enumerate(self.guards):
            refs = [*guard.args, *guard.kwargs.values()]
            t = max([slot[n] for n in _nodes_of(refs)] + [time[j] for j in _guards_of(refs)],
                    default=-1)  # fmt: skip
            time.append(t)
            (after.setdefault(t, []) if t in op_slots else pre).append(k)
        self._pre_guards = tuple(pre)
        schedule: list[tuple] = []
        for step in steps:
            schedule.append(step)
            schedule.extend((k,) for k in after.get(step[0], ()))
        self.schedule = tuple(schedule)

    def run(
        self,
        inputs: Sequence[Any],
        args: Sequence[Any] | None = None,
        xp: Any = np,
        use_buffers: bool = True,
    ) -> list | None:
        """Every node's value at new ``inputs`` (differentiated inputs, in order) and
        ``args`` (the full argument list, for carried arguments); ``None`` when a guard
        changed (trace again).

        The inputs must already have the traced shapes and dtypes (the caller's cache key).
        ``xp`` is the inputs' array namespace (``cupy`` for device arrays): the constants are
        moved to it once, and the ops' NumPy functions dispatch to it by NumPy's protocols.
        ``use_buffers=False`` computes every value afresh even with ``reuse`` (the caller
        did not get :attr:`lock`).
        """
        reuse = self.reuse and use_buffers and xp is np
        vals = list(self.template if xp is np else self._template_on(xp))
        for s, x in zip(self.input_slots, inputs, strict=True):
            vals[s] = x
        if args is not None:
            for pos, s in self.carried:
                vals[s] = args[pos]
        results: list[Any] = [None] * len(self.guards)
        for k in self._pre_guards:
            if not self._check(k, vals, results):
                return None
        for step in self.schedule:
            if len(step) == 1:
                if not self._check(step[0], vals, results):
                    return None
                continue
            out, forward, arg_slots, params = step
            buf = self._buffers.get(out) if reuse else None
            if buf is not None:
                value = forward(*[vals[a] for a in arg_slots], out=buf, **params)
            else:
                value = forward(*[vals[a] for a in arg_slots], **params)
                if reuse and out in self._ufunc_slots:
                    self._adopt(out, value)
            vals[out] = value if hasattr(value, "shape") else xp.asarray(value)
        return vals

    def _adopt(self, out: int, value: Any) -> None:
        """Keep ``value`` as the buffer of slot ``out`` when it is a new NumPy array of
        the traced shape and dtype (a ufunc writes the next runs' values into it)."""
        shape, dtype = self._ufunc_slots[out]
        if (type(value) is np.ndarray and value.flags.owndata and value.flags.c_contiguous
                and value.shape == shape and value.dtype == dtype):  # fmt: skip
            self._buffers[out] = value

    @property
    def held_bytes(self) -> int:
        """Bytes of forward values held between runs (``reuse``: the ufuncs' buffers)."""
        return sum(b.nbytes for b in self._buffers.values())

    def _template_on(self, xp: Any) -> list:
        key = getattr(xp, "__name__", str(xp))
        cached = self._device_templates.get(key)
        if cached is None:
            cached = [None if v is None else xp.asarray(v) for v in self.template]
            self._device_templates[key] = cached
        return cached

    def _check(self, k: int, vals: list, results: list) -> bool:
        guard = self.guards[k]
        args = [self._resolve(r, vals, results) for r in guard.args]
        kwargs = {key: self._resolve(r, vals, results) for key, r in guard.kwargs.items()}
        value = guard.fn(*args, **kwargs)
        results[k] = value
        return same_value(value, guard.result)

    def _resolve(self, ref: tuple, vals: list, results: list) -> Any:
        kind = ref[0]
        if kind == "node":
            return vals[self.slot[ref[1]]]
        if kind == "guard":
            value = results[ref[1]]
            return value if ref[2] is None else value[ref[2]]
        if kind == "seq":
            items = [self._resolve(r, vals, results) for r in ref[2]]
            return tuple(items) if ref[1] else items
        return ref[1]

    def outputs(self, vals: list) -> list:
        """The outputs among the values of :meth:`run`."""
        return [vals[s] for s in self.output_slots]

    def values_by_name(self, vals: list) -> dict[str, Any]:
        """``{node name: value}`` of a run (for :meth:`TracedGraph.with_values`)."""
        return dict(zip(self.names, vals, strict=True))

    def graph_at(self, vals: list, args: tuple | None = None) -> TracedGraph:
        """The traced graph with the values of a run."""
        return self.graph.with_values(self.values_by_name(vals), args)


def _writes_out(forward: Any, value: Any) -> bool:
    """Whether a step can write its value into a kept buffer: a NumPy ufunc (``out=``)
    with an array value of at least 64 KiB (smaller ones come from the heap anyway)."""
    return (isinstance(forward, np.ufunc) and type(value) is np.ndarray and value.ndim > 0
            and value.nbytes >= 65536)  # fmt: skip


def _guards_of(refs: Sequence[tuple]) -> list[int]:
    out: list[int] = []
    for r in refs:
        if r[0] == "guard":
            out.append(r[1])
        elif r[0] == "seq":
            out.extend(_guards_of(r[2]))
    return out


def _nodes_of(refs: Sequence[tuple]) -> list[str]:
    out: list[str] = []
    for r in refs:
        if r[0] == "node":
            out.append(r[1])
        elif r[0] == "seq":
            out.extend(_nodes_of(r[2]))
    return out
