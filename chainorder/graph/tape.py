"""The tape: records the ops of one trace as nodes of a ``networkx.DiGraph``.

Each op is evaluated at once on the example values by its registry rule
(:mod:`chainorder.graph.ops`); the node keeps the value, shape, dtype, argument names, the
user's line and whether it depends on a differentiated input, and each edge the structure of
the local partial.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np

from chainorder.errors import TraceError
from chainorder.graph.boxed import TracedArray, value_of
from chainorder.graph.ops import get_rule, matmul_spec
from chainorder.graph.structure import add_structures
from chainorder.graph.unsupported import unsupported, user_line

__all__ = ["Guard", "Tape"]


class Guard:
    """A value that a traced input decided without a derivative: a comparison, ``argmax``,
    ``np.where(cond)``, ``x.round()``, an integer ``astype`` ... (the result is a constant of
    the rest of the trace, or steered Python control flow).

    ``fn(*args, **kwargs)`` recomputes it; each argument is stored as a reference: ``("node",
    name)`` for a traced value, ``("guard", i)`` for the result of guard ``i``, ``("value",
    v)`` for anything else (tuples and lists are walked). A replay at new inputs recomputes
    every guard and re-traces when one differs from :attr:`result`. ``("guard", i, j)``
    names part ``j`` of a tuple result (``j`` is ``None`` for the whole result).

    Examples
    --------
    >>> from chainorder.graph.trace import trace
    >>> (guard,) = trace(lambda x: x * (x > 0), np.array([1.0, -1.0])).guards
    >>> guard.fn.__name__, guard.args, guard.result
    ('greater', (('node', 'x'), ('value', 0)), array([ True, False]))
    """

    __slots__ = ("args", "fn", "kwargs", "line", "result")

    def __init__(self, fn: Any, args: tuple, kwargs: dict, result: Any, line: str) -> None:
        self.fn, self.args, self.kwargs, self.result, self.line = fn, args, kwargs, result, line

    def __repr__(self) -> str:
        return f"Guard({getattr(self.fn, '__name__', self.fn)!s} at {self.line})"


class Tape:
    """Records nodes of one trace into a networkx DiGraph."""

    def __init__(self) -> None:
        self.g = nx.DiGraph()
        self.counter = 0
        self.const_ids: dict[int, str] = {}
        self.const_names: dict[int, str] = {}
        self.keep: list[Any] = []
        self.guards: list[Guard] = []
        self._guard_ids: dict[int, tuple[int, int | None]] = {}

    def add_input(self, name: str, value: np.ndarray, differentiable: bool) -> TracedArray:
        self.g.add_node(
            name, kind="input", op="input", value=value, shape=value.shape, dtype=str(value.dtype),
            args=(), params={}, line="", differentiable=differentiable, output=False, label=name,
        )  # fmt: skip
        return TracedArray(self, name, value)

    def add_carried(self, name: str, value: np.ndarray, position: int) -> TracedArray:
        """A non-differentiated array argument as a constant node that a replay replaces
        (``carried`` = its argument position); ops on it are recorded, not folded."""
        self.g.add_node(
            name, kind="constant", op="constant", value=value, shape=value.shape,
            dtype=str(value.dtype), args=(), params={}, line="", differentiable=False,
            output=False, label=name, carried=position,
        )  # fmt: skip
        return TracedArray(self, name, value)

    def constant(self, x: Any) -> str:
        key = id(x)
        if key in self.const_ids:
            return self.const_ids[key]
        self.keep.append(x)  # keep alive so that id() stays unique
        value = np.asarray(x)
        if value.dtype == object or not (
            np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_
        ):
            raise TraceError(f"cannot use {type(x).__name__} as an array constant at {user_line()}")
        name = self.const_names.get(key) or f"c{len(self.const_ids) + 1}"
        label = self.const_names.get(key) or (
            np.format_float_positional(float(value), trim="-") if value.ndim == 0 else name
        )
        self.g.add_node(
            name, kind="constant", op="constant", value=value, shape=value.shape,
            dtype=str(value.dtype), args=(), params={}, line="", differentiable=False,
            output=False, label=label,
        )  # fmt: skip
        self.const_ids[key] = name
        return name

    def _guard_ref(self, x: Any) -> Any:
        if isinstance(x, TracedArray):
            return ("node", x._node)
        if id(x) in self._guard_ids:
            return ("guard", *self._guard_ids[id(x)])
        if isinstance(x, tuple | list):
            return ("seq", type(x) is tuple, tuple(self._guard_ref(o) for o in x))
        return ("value", x)

    def derived(self, fn: Any, args: tuple, kwargs: dict | None = None) -> Any:
        """``fn`` applied to the values of ``args``: a zero-derivative result, recorded as a
        :class:`Guard` so that a replay can check it (see :mod:`chainorder.engine.replay`)."""
        kwargs = dict(kwargs or {})
        result = fn(*(_plain(a) for a in args), **{k: _plain(v) for k, v in kwargs.items()})
        guard = Guard(
            fn,
            tuple(self._guard_ref(a) for a in args),
            {k: self._guard_ref(v) for k, v in kwargs.items()},
            result,
            user_line(),
        )
        self.keep.append(result)  # keep alive so that id() stays unique
        self._guard_ids[id(result)] = (len(self.guards), None)
        if isinstance(result, tuple | list):
            for j, part in enumerate(result):
                self._guard_ids.setdefault(id(part), (len(self.guards), j))
        self.guards.append(guard)
        return result

    def _ref(self, x: Any) -> str:
        if isinstance(x, TracedArray):
            if x._tape is not self:
                raise TraceError("a traced array from another trace was used")
            return x._node
        return self.constant(x)

    def apply(self, op: str, inputs: Sequence[Any], params: dict) -> Any:
        rule = get_rule(op)
        refs = [self._ref(x) for x in inputs]
        values = [value_of(x) for x in inputs]
        try:
            value = rule.forward(*values, **params)
        except (ValueError, TypeError, IndexError, np.linalg.LinAlgError) as exc:
            raise TraceError(f"{op} failed at {user_line()}: {exc}") from None
        value = np.asarray(value)
        if not any(isinstance(x, TracedArray) for x in inputs):
            return value
        self.counter += 1
        name = f"v{self.counter}"
        diff = any(
            self.g.nodes[r]["differentiable"]
            for i, r in enumerate(refs)
            if i not in rule.nondiff_args
        )
        self.g.add_node(
            name, kind="intermediate", op=op, value=value, shape=value.shape,
            dtype=str(value.dtype), args=tuple(refs), params=params, line=user_line(),
            differentiable=diff, output=False, label=name,
        )  # fmt: skip
        shapes = tuple(np.shape(v) for v in values)
        for i, r in enumerate(refs):
            edge_diff = self.g.nodes[r]["differentiable"] and i not in rule.nondiff_args
            st = rule.structure(i, shapes, value.shape, params) if edge_diff else None
            if self.g.has_edge(r, name):
                data = self.g.edges[r, name]
                data["argnums"] = (*data["argnums"], i)
                if st is not None and data["structure"] is not None:
                    data["structure"] = add_structures(data["structure"], st)
            else:
                self.g.add_edge(r, name, argnums=(i,), structure=st, differentiable=edge_diff)
        return TracedArray(self, name, value)

    def matmul(self, op: str, a: Any, b: Any) -> Any:
        """Record ``a @ b``; an operand whose size-1 batch dimensions broadcast is first
        broadcast (a ``broadcast_to`` op, no mults)."""
        sa, sb = np.shape(value_of(a)), np.shape(value_of(b))
        try:
            batch = np.broadcast_shapes(sa[:-2], sb[:-2])
            if len(sa) > 2 and sa[:-2] != batch[len(batch) - len(sa) + 2 :]:
                a = self.apply("broadcast_to", (a,), {"shape": (*batch, *sa[-2:])})
            if len(sb) > 2 and sb[:-2] != batch[len(batch) - len(sb) + 2 :]:
                b = self.apply("broadcast_to", (b,), {"shape": (*batch, *sb[-2:])})
            spec = matmul_spec(np.shape(value_of(a)), np.shape(value_of(b)))
        except ValueError as exc:
            raise unsupported(f"np.{op} ({exc})") from None
        return self.apply(op, (a, b), {"spec": spec})


def _plain(x: Any) -> Any:
    if isinstance(x, TracedArray):
        return x._value
    if isinstance(x, tuple | list) and any(isinstance(o, TracedArray) for o in x):
        return type(x)(_plain(o) for o in x)
    return x
