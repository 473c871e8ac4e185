"""Trace a plain NumPy function into a DAG of primitive ops (a :class:`TracedGraph`).

Arguments are wrapped in :class:`TracedArray`, which NumPy hands back to chainorder through
its array protocols (``__array_ufunc__``, ``__array_function__``) and Python's operator
overloading. Every op is evaluated at once on the example values and recorded as a node of
a ``networkx.DiGraph``; the op's rule comes from :mod:`chainorder.graph.ops`.
"""

from __future__ import annotations

import inspect
import linecache
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from chainorder.errors import TraceError, UnsupportedOperationError
from chainorder.graph.ops import einsum_spec, get_rule, matmul_spec
from chainorder.graph.structure import EdgeStructure, add_structures

__all__ = ["NodeInfo", "TracedArray", "TracedGraph", "trace"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))

_UFUNCS = {
    "add", "subtract", "multiply", "divide", "power", "negative", "positive", "square",
    "exp", "log", "tanh", "sin", "cos", "sqrt", "absolute", "maximum", "matmul",
}  # fmt: skip
_COMPARISONS = {"greater", "greater_equal", "less", "less_equal", "equal", "not_equal", "sign"}


def _user_line() -> str:
    """``file:line: code`` of the innermost frame outside chainorder and NumPy."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        inside = path.startswith(_PACKAGE_DIR + os.sep) and not path.startswith(
            os.path.join(_PACKAGE_DIR, "tests")
        )
        if not inside and not path.startswith(_NUMPY_DIR + os.sep):
            code = linecache.getline(path, frame.f_lineno).strip()
            return f"{os.path.basename(path)}:{frame.f_lineno}" + (f": {code}" if code else "")
        frame = frame.f_back
    return "<unknown>"


def _unsupported(what: str) -> UnsupportedOperationError:
    return UnsupportedOperationError(
        f"unsupported operation {what} at {_user_line()}; chainorder traces "
        "+ - * / ** @, exp, log, tanh, sin, cos, sqrt, abs, maximum, sum, mean, transpose, "
        "reshape, basic indexing, dot, matmul, two-operand einsum, linalg.solve and linalg.inv"
    )


@dataclass(frozen=True)
class NodeInfo:
    """One row of a traced graph's node table.

    ``kind`` is ``input``, ``constant`` or ``intermediate``; ``output`` says whether the
    function returns the node; ``differentiable`` whether it depends on a differentiated input.
    """

    name: str
    kind: str
    op: str
    shape: tuple[int, ...]
    dtype: str
    output: bool
    differentiable: bool
    line: str

    @property
    def size(self) -> int:
        """Number of scalars in the node's value."""
        return math.prod(self.shape)


class TracedArray:
    """A NumPy-like value that records every op applied to it on its tape.

    Users do not build these; :func:`trace` passes them to the traced function.
    """

    __array_priority__ = 1000

    def __init__(self, tape: _Tape, node: str, value: np.ndarray) -> None:
        self._tape = tape
        self._node = node
        self._value = value

    # --- array-like attributes
    shape = property(lambda self: self._value.shape)
    ndim = property(lambda self: self._value.ndim)
    size = property(lambda self: self._value.size)
    dtype = property(lambda self: self._value.dtype)

    @property
    def T(self) -> TracedArray:
        return self._tape.apply("transpose", (self,), {"axes": None})

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return f"TracedArray({self._node}, shape={self.shape}, dtype={self.dtype})"

    # --- NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = ufunc.__name__
        if (
            method != "__call__"
            or kwargs.get("out") is not None
            or kwargs.get("where", True) is not True
        ):
            raise _unsupported(
                f"np.{name}.{method}" if method != "__call__" else f"np.{name}(out=/where=)"
            )
        if name in _COMPARISONS:
            return ufunc(*(_value_of(x) for x in inputs))
        if name == "true_divide":
            name = "divide"
        if name not in _UFUNCS:
            raise _unsupported(f"np.{name}")
        if name == "matmul":
            return self._tape.matmul("matmul", inputs[0], inputs[1])
        return self._tape.apply(name, inputs, {})

    def __array_function__(self, func, types, args, kwargs):
        handler = _FUNCTIONS.get(func)
        if handler is None:
            module = getattr(func, "__module__", "numpy") or "numpy"
            module = module.replace("numpy.linalg._linalg", "np.linalg").replace("numpy", "np")
            raise _unsupported(f"{module}.{func.__name__}")
        return handler(*args, **kwargs)

    def __array__(self, dtype=None, copy=None):
        raise _unsupported("conversion of a traced array to a NumPy array (np.asarray/np.array)")

    def __bool__(self) -> bool:
        raise _unsupported("truth value of a traced array (if/while on traced values)")

    def __float__(self) -> float:
        raise _unsupported("float() of a traced array")

    def __int__(self) -> int:
        raise _unsupported("int() of a traced array")

    def __iter__(self):
        raise _unsupported("iteration over a traced array")

    # --- operators
    def __add__(self, o):
        return np.add(self, o)

    def __radd__(self, o):
        return np.add(o, self)

    def __sub__(self, o):
        return np.subtract(self, o)

    def __rsub__(self, o):
        return np.subtract(o, self)

    def __mul__(self, o):
        return np.multiply(self, o)

    def __rmul__(self, o):
        return np.multiply(o, self)

    def __truediv__(self, o):
        return np.divide(self, o)

    def __rtruediv__(self, o):
        return np.divide(o, self)

    def __pow__(self, o):
        return np.power(self, o)

    def __rpow__(self, o):
        return np.power(o, self)

    def __matmul__(self, o):
        return self._tape.matmul("matmul", self, o)

    def __rmatmul__(self, o):
        return self._tape.matmul("matmul", o, self)

    def __neg__(self):
        return np.negative(self)

    def __pos__(self):
        return np.positive(self)

    def __abs__(self):
        return np.absolute(self)

    def __gt__(self, o):
        return np.greater(self, o)

    def __ge__(self, o):
        return np.greater_equal(self, o)

    def __lt__(self, o):
        return np.less(self, o)

    def __le__(self, o):
        return np.less_equal(self, o)

    def __getitem__(self, key):
        return self._tape.apply("getitem", (self,), {"key": _normalise_key(key)})

    # --- methods
    def sum(self, axis=None, keepdims=False):
        return _h_sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _h_mean(self, axis=axis, keepdims=keepdims)

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], tuple | list)):
            axes = axes[0]
        return _h_transpose(self, axes or None)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = shape[0]
        return _h_reshape(self, tuple(shape))

    def dot(self, other):
        return _h_dot(self, other)


def _value_of(x: Any) -> Any:
    return x._value if isinstance(x, TracedArray) else x


def _normalise_key(key: Any) -> tuple:
    key = key if isinstance(key, tuple) else (key,)
    out = []
    for k in key:
        if isinstance(k, TracedArray):
            raise _unsupported("indexing with a traced array")
        if k is None or k is Ellipsis or isinstance(k, slice):
            out.append(k)
        elif isinstance(k, int | np.integer) and not isinstance(k, bool | np.bool_):
            out.append(int(k))
        else:
            raise _unsupported(
                f"advanced indexing with {type(k).__name__} (use ints, slices, None)"
            )
    return tuple(out)


# ----------------------------------------------------------------------------------------
# the tape


class _Tape:
    """Records nodes of one trace into a networkx DiGraph."""

    def __init__(self) -> None:
        self.g = nx.DiGraph()
        self.counter = 0
        self.const_ids: dict[int, str] = {}
        self.const_names: dict[int, str] = {}
        self.keep: list[Any] = []

    def add_input(self, name: str, value: np.ndarray, differentiable: bool) -> TracedArray:
        self.g.add_node(
            name, kind="input", op="input", value=value, shape=value.shape, dtype=str(value.dtype),
            args=(), params={}, line="", differentiable=differentiable, output=False, label=name,
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
            raise TraceError(
                f"cannot use {type(x).__name__} as an array constant at {_user_line()}"
            )
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

    def _ref(self, x: Any) -> str:
        if isinstance(x, TracedArray):
            if x._tape is not self:
                raise TraceError("a traced array from another trace was used")
            return x._node
        return self.constant(x)

    def apply(self, op: str, inputs: Sequence[Any], params: dict) -> Any:
        rule = get_rule(op)
        refs = [self._ref(x) for x in inputs]
        values = [_value_of(x) for x in inputs]
        try:
            value = rule.forward(*values, **params)
        except (ValueError, TypeError, IndexError, np.linalg.LinAlgError) as exc:
            raise TraceError(f"{op} failed at {_user_line()}: {exc}") from None
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
            dtype=str(value.dtype), args=tuple(refs), params=params, line=_user_line(),
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
        try:
            spec = matmul_spec(np.shape(_value_of(a)), np.shape(_value_of(b)))
        except ValueError as exc:
            raise _unsupported(f"np.{op} ({exc})") from None
        return self.apply(op, (a, b), {"spec": spec})


# ----------------------------------------------------------------------------------------
# __array_function__ handlers


def _tape_of(*xs: Any) -> _Tape:
    for x in xs:
        if isinstance(x, TracedArray):
            return x._tape
    raise AssertionError("no traced argument")  # pragma: no cover


def _no_extras(name: str, **extras: Any) -> None:
    for key, val in extras.items():
        if val is not None and val is not np._NoValue:
            raise _unsupported(f"np.{name}({key}=...)")


def _h_sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _no_extras("sum", dtype=dtype, out=out, initial=initial, where=where)
    return _tape_of(a).apply("sum", (a,), {"axis": axis, "keepdims": bool(keepdims)})


def _h_mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    _no_extras("mean", dtype=dtype, out=out, where=where)
    return _tape_of(a).apply("mean", (a,), {"axis": axis, "keepdims": bool(keepdims)})


def _h_transpose(a, axes=None):
    return _tape_of(a).apply("transpose", (a,), {"axes": None if axes is None else tuple(axes)})


def _h_reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise _unsupported(f"np.reshape(order={order!r})")
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    return _tape_of(a).apply("reshape", (a,), {"shape": shape})


def _h_dot(a, b, out=None):
    _no_extras("dot", out=out)
    if np.ndim(_value_of(a)) > 2 or np.ndim(_value_of(b)) > 2:
        raise _unsupported("np.dot of arrays with more than 2 dimensions (use matmul or einsum)")
    return _tape_of(a, b).matmul("dot", a, b)


def _h_matmul(a, b, **kwargs):
    return _tape_of(a, b).matmul("matmul", a, b)


def _h_einsum(subscripts, *operands, out=None, optimize=False, **kwargs):
    if not isinstance(subscripts, str) or len(operands) != 2 or out is not None or kwargs:
        raise _unsupported("np.einsum (only the two-operand subscripts form is traced)")
    a, b = operands
    try:
        spec = einsum_spec(subscripts, np.shape(_value_of(a)), np.shape(_value_of(b)))
    except ValueError as exc:
        raise _unsupported(f"np.einsum({subscripts!r}): {exc}") from None
    return _tape_of(a, b).apply("einsum", (a, b), {"spec": spec})


def _h_solve(a, b):
    va, vb = _value_of(a), _value_of(b)
    if np.ndim(va) != 2 or np.ndim(vb) not in (1, 2):
        raise _unsupported("np.linalg.solve with stacked matrices (a must be 2-D, b 1-D or 2-D)")
    return _tape_of(a, b).apply("solve", (a, b), {})


def _h_inv(a):
    if np.ndim(_value_of(a)) != 2:
        raise _unsupported("np.linalg.inv of stacked matrices")
    return _tape_of(a).apply("inv", (a,), {})


def _h_unary(name: str) -> Callable[..., Any]:
    def handler(x, *args, **kwargs):
        if args or kwargs:
            raise _unsupported(f"np.{name} with extra arguments")
        return _tape_of(x).apply(name, (x,), {})

    return handler


def _h_shape(a):
    return np.shape(_value_of(a))


def _h_ndim(a):
    return np.ndim(_value_of(a))


def _h_size(a, axis=None):
    return np.size(_value_of(a), axis)


_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: _h_sum,
    np.mean: _h_mean,
    np.transpose: _h_transpose,
    np.reshape: _h_reshape,
    np.dot: _h_dot,
    np.einsum: _h_einsum,
    np.linalg.solve: _h_solve,
    np.linalg.inv: _h_inv,
    np.shape: _h_shape,
    np.ndim: _h_ndim,
    np.size: _h_size,
}


# ----------------------------------------------------------------------------------------
# the traced graph


class TracedGraph:
    """A traced function: a ``networkx.DiGraph`` of inputs, constants and ops.

    Node attributes: ``kind`` (``input``/``constant``/``intermediate``), ``op``, ``shape``,
    ``dtype``, ``value`` (at the example arguments), ``args`` (argument node names in
    order), ``params``, ``line`` (the user code that created it), ``differentiable`` and
    ``output``. Edge attributes: ``argnums`` (positions of the source among the op's
    arguments), ``differentiable`` and ``structure`` (the local partial's
    :class:`~chainorder.graph.structure.EdgeStructure`, ``None`` for constants).

    Attributes
    ----------
    nx : networkx.DiGraph
        The graph itself.
    inputs : tuple of str
        Differentiated inputs, in argument order.
    outputs : tuple of str
        Returned nodes, in order.
    fn : callable
        The traced function, for re-evaluation (finite differences).
    args : tuple
        The example arguments, as given.
    wrt : tuple of int
        Positions of the differentiated arguments.
    """

    def __init__(self, g, inputs, outputs, fn, args, wrt, single_output) -> None:
        self.nx: nx.DiGraph = g
        self.inputs: tuple[str, ...] = tuple(inputs)
        self.outputs: tuple[str, ...] = tuple(outputs)
        self.fn = fn
        self.args = tuple(args)
        self.wrt = tuple(wrt)
        self.single_output = single_output

    def __repr__(self) -> str:
        return (
            f"TracedGraph({getattr(self.fn, '__name__', 'fn')}: {len(self.nx)} nodes, "
            f"inputs={list(self.inputs)}, outputs={list(self.outputs)}, "
            f"n={self.n_in}, m={self.n_out})"
        )

    def node(self, name: str) -> NodeInfo:
        """The :class:`NodeInfo` of node ``name``."""
        d = self.nx.nodes[name]
        return NodeInfo(
            d["label"], d["kind"], d["op"], tuple(d["shape"]), d["dtype"],
            d["output"], d["differentiable"], d["line"],
        )  # fmt: skip

    def nodes(self, include_scalar_constants: bool = False) -> list[NodeInfo]:
        """Every node in creation order (inputs, constants and ops)."""
        out = []
        for name in self.order:
            d = self.nx.nodes[name]
            if d["kind"] == "constant" and not include_scalar_constants and len(d["shape"]) == 0:
                continue
            out.append(self.node(name))
        return out

    @property
    def order(self) -> list[str]:
        """Node names in a topological (creation) order."""
        return list(nx.lexicographical_topological_sort(self.nx, key=self._rank))

    def _rank(self, name: str) -> tuple[int, int]:
        d = self.nx.nodes[name]
        if d["kind"] == "input":
            return (0, self.inputs.index(name) if name in self.inputs else 0)
        if d["kind"] == "constant":
            return (1, 0)
        return (2, int(name[1:]))

    def value(self, name: str) -> np.ndarray:
        """The value of node ``name`` at the example arguments."""
        return self.nx.nodes[name]["value"]

    def shape(self, name: str) -> tuple[int, ...]:
        """The shape of node ``name``."""
        return tuple(self.nx.nodes[name]["shape"])

    def size(self, name: str) -> int:
        """Number of scalars in node ``name``."""
        return math.prod(self.shape(name))

    @property
    def n_in(self) -> int:
        """Total number of differentiated input scalars (the Jacobian's columns)."""
        return sum(self.size(x) for x in self.inputs)

    @property
    def n_out(self) -> int:
        """Total number of output scalars (the Jacobian's rows)."""
        return sum(self.size(y) for y in self.outputs)

    @property
    def itemsize(self) -> int:
        """Bytes per scalar of the outputs' dtype."""
        return int(np.dtype(self.nx.nodes[self.outputs[0]]["dtype"]).itemsize)

    def edge_structure(self, u: str, v: str) -> EdgeStructure | None:
        """Structure of the local partial ``∂v/∂u`` (``None`` when not differentiated)."""
        return self.nx.edges[u, v]["structure"]

    def active(self) -> list[str]:
        """Differentiable nodes that reach an output, in topological order (inputs first)."""
        reach: set[str] = set(self.outputs)
        for y in self.outputs:
            reach |= nx.ancestors(self.nx, y)
        return [
            v
            for v in self.order
            if self.nx.nodes[v]["differentiable"] and (v in reach or v in self.inputs)
        ]

    def replay(self, *inputs: np.ndarray) -> list[np.ndarray]:
        """Re-evaluate the recorded ops at new values of the differentiated inputs.

        Control flow taken at trace time is frozen; constants keep their traced values.
        """
        if len(inputs) != len(self.inputs):
            raise TraceError(f"replay needs {len(self.inputs)} inputs, got {len(inputs)}")
        vals: dict[str, Any] = {}
        for name, x in zip(self.inputs, inputs, strict=True):
            vals[name] = np.asarray(x, dtype=self.nx.nodes[name]["dtype"]).reshape(self.shape(name))
        for name in self.order:
            d = self.nx.nodes[name]
            if name in vals:
                continue
            if d["kind"] in ("input", "constant"):
                vals[name] = d["value"]
                continue
            vals[name] = np.asarray(
                get_rule(d["op"]).forward(*(vals[a] for a in d["args"]), **d["params"])
            )
        return [vals[y] for y in self.outputs]

    def call(self, *inputs: np.ndarray) -> list[np.ndarray]:
        """Call the original function with new values of the differentiated inputs.

        Returns the outputs as a list of arrays (what finite differences compare against).
        """
        args = list(self.args)
        for pos, x in zip(self.wrt, inputs, strict=True):
            args[pos] = np.asarray(x, dtype=float).reshape(np.shape(self.args[pos]))
        out = self.fn(*args)
        outs = out if isinstance(out, tuple | list) else (out,)
        return [np.asarray(o, dtype=float) for o in outs]


def _is_numeric(x: Any) -> bool:
    if isinstance(x, bool | np.bool_):
        return False
    if isinstance(x, int | float | np.integer | np.floating):
        return True
    return isinstance(x, np.ndarray) and (
        np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
    )


def trace(
    fn: Callable[..., Any], *example_args: Any, wrt: Sequence[int | str] | None = None
) -> TracedGraph:
    """Trace ``fn`` at ``example_args`` into a :class:`TracedGraph`.

    Parameters
    ----------
    fn : callable
        Plain NumPy code returning an array or a tuple/list of arrays.
    *example_args
        Values at which to trace. Integer arrays and scalars are converted to float64
        when differentiated.
    wrt : sequence of int or str, optional
        Arguments to differentiate, by position or parameter name. By default every
        numeric argument (float or int scalar or array). The others are passed through
        unchanged and become constants of the graph.

    Returns
    -------
    TracedGraph

    Raises
    ------
    UnsupportedOperationError
        When ``fn`` uses an op without a rule; the message names the op and the line.
    TraceError
        For bad arguments, or when an output does not depend on a differentiated input.

    Examples
    --------
    >>> import numpy as np
    >>> g = trace(lambda x, W: np.tanh(W @ x).sum(), np.ones(3), np.ones((2, 3)), wrt=[0])
    >>> [(n.name, n.op, n.shape) for n in g.nodes()]
    [('x', 'input', (3,)), ('W', 'constant', (2, 3)), ('v1', 'matmul', (2,)), \
('v2', 'tanh', (2,)), ('v3', 'sum', ())]
    >>> g.n_in, g.n_out
    (3, 1)

    Notes
    -----
    One evaluation of ``fn`` plus O(1) bookkeeping per op.
    """
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # pragma: no cover - builtins
        params = []
    names = [params[i] if i < len(params) else f"arg{i}" for i in range(len(example_args))]
    if (
        names
        and params
        and inspect.signature(fn).parameters[params[0]].kind == inspect.Parameter.VAR_POSITIONAL
    ):
        names = [f"arg{i}" for i in range(len(example_args))]
    if wrt is None:
        positions = [i for i, a in enumerate(example_args) if _is_numeric(a)]
    else:
        positions = []
        for w in wrt:
            if isinstance(w, str):
                if w not in names:
                    raise TraceError(
                        f"wrt names {w!r}, which is not an argument of {fn.__name__}: {names}"
                    )
                positions.append(names.index(w))
            elif isinstance(w, int) and -len(example_args) <= w < len(example_args):
                positions.append(w % len(example_args))
            else:
                raise TraceError(f"wrt={w!r} is not an argument position or name")
        positions = sorted(set(positions))
    if not positions:
        raise TraceError("nothing to differentiate: no numeric argument (pass wrt=...)")
    tape = _Tape()
    call_args: list[Any] = list(example_args)
    for i, a in enumerate(example_args):
        if i in positions:
            value = np.asarray(a)
            if not np.issubdtype(value.dtype, np.number) or np.issubdtype(
                value.dtype, np.complexfloating
            ):
                raise TraceError(
                    f"argument {names[i]!r} must be real numbers, got dtype {value.dtype}"
                )
            if not np.issubdtype(value.dtype, np.floating):
                value = value.astype(np.float64)
            call_args[i] = tape.add_input(names[i], value.copy(), True)
        else:
            tape.const_names[id(a)] = names[i]
    out = fn(*call_args)
    single = not isinstance(out, tuple | list)
    outs = [out] if single else list(out)
    if not outs:
        raise TraceError(f"{fn.__name__} returned no outputs")
    output_names: list[str] = []
    for k, o in enumerate(outs):
        if not isinstance(o, TracedArray) or not tape.g.nodes[o._node]["differentiable"]:
            raise TraceError(
                f"output {k} of {getattr(fn, '__name__', 'fn')} does not depend on a "
                "differentiated input"
            )
        if tape.g.nodes[o._node]["kind"] == "input" or o._node in output_names:
            o = tape.apply("positive", (o,), {})  # a copy, so that each output is its own node
        tape.g.nodes[o._node]["output"] = True
        output_names.append(o._node)
    inputs = [names[i] for i in positions]
    return TracedGraph(tape.g, inputs, output_names, fn, example_args, positions, single)
