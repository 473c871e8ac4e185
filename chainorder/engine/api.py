"""``chainorder.jacobian(f)`` and ``chainorder.grad(f)``: Jacobians of plain NumPy functions,
planned once per argument shapes and dtypes, replayed at new values.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainorder.engine.layout import split_jacobian
from chainorder.engine.replay import Replay
from chainorder.errors import SpecError, SpecTypeError, UnknownSolverError
from chainorder.graph.exactsearch import forget_steps
from chainorder.graph.ops.registry import namespace_of_array as namespace
from chainorder.graph.planning import GraphPlan, ModeCost, plan_graph
from chainorder.graph.program import compile_jacobian_program
from chainorder.graph.trace import trace
from chainorder.graph.traced_graph import TracedGraph

__all__ = [
    "METHODS",
    "PLAN_OPTIONS",
    "CacheEntry",
    "JacobianFunction",
    "grad",
    "jacobian",
    "namespace",
]

#: Accepted ``method`` names: ``auto`` picks the cheapest row of the plan.
METHODS = (
    "auto", "forward", "reverse", "markowitz", "chain", "search", "elimination:forward",
    "elimination:reverse", "elimination:markowitz", "elimination:chain", "elimination:search",
)  # fmt: skip


#: Options of :func:`~chainorder.graph.planning.plan_graph` for the first call: fewer random
#: restarts than its default (the first call is timed against JIT compilation).
PLAN_OPTIONS = {"restarts": 8}


@dataclass
class CacheEntry:
    """What one argument signature compiles to: the trace, its plan, the chosen row, the
    replay and the numeric program; ``traces`` counts how often it was traced.

    Examples
    --------
    >>> e = jacobian(np.sin).compiled(np.zeros(3))
    >>> e.row.name, e.traces, e.program.predicted_mults
    ('forward elimination', 1, 0)
    """

    graph: TracedGraph
    plan: GraphPlan
    row: ModeCost
    replay: Replay
    program: Any
    traces: int = 1
    shapes: tuple | None = None  # (output shapes, input shapes), set by the first layout


def _method_key(method: object) -> str:
    if not isinstance(method, str):
        raise SpecTypeError(f"method must be a string (one of {', '.join(METHODS)}), "
                            f"got {type(method).__name__}")  # fmt: skip
    if method not in METHODS:
        raise UnknownSolverError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if method in ("markowitz", "chain", "search"):
        return f"elimination:{method}"
    return method


def _argnums(argnums: object) -> tuple[tuple[int, ...], bool]:
    def one(a: object) -> int:
        if isinstance(a, bool) or not isinstance(a, int | np.integer):
            raise SpecTypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
        return int(a)

    if isinstance(argnums, tuple):
        if not argnums:
            raise SpecError("argnums is an empty tuple: nothing to differentiate")
        nums = tuple(one(a) for a in argnums)
        if len(set(nums)) != len(nums):
            raise SpecError(f"argnums {argnums} repeats an argument")
        return nums, True
    return (one(argnums),), False


def _host(x: Any) -> Any:
    return x.get() if namespace(x) is not np else x


def _arg_key(a: Any, differentiated: bool) -> tuple:
    """The cache key of one argument: shape and dtype of arrays that are traced (values may
    change), the value itself of everything else (it is baked into the trace)."""
    if type(a) is np.ndarray and (differentiated or a.dtype.kind == "f"):  # the common case
        return ("d" if differentiated else "c", a.shape, a.dtype.str, "numpy")
    xp = namespace(a)
    if differentiated:
        arr = a if xp is not np else np.asarray(a)
        return ("d", arr.shape, arr.dtype.str, xp.__name__)
    if isinstance(a, np.ndarray | xp.ndarray) and np.issubdtype(a.dtype, np.floating):
        return ("c", a.shape, a.dtype.str, xp.__name__)
    if isinstance(a, np.ndarray):
        return ("s", a.shape, a.dtype.str, a.tobytes())
    try:
        hash(a)
    except TypeError:
        return ("id", id(a))
    return ("s", type(a).__name__, a)


class JacobianFunction:
    """The function that :func:`jacobian` returns: call it with ``f``'s arguments.

    Attributes
    ----------
    fn : callable
        The differentiated function.
    argnums : int or tuple of int
        As given.
    method : str
        As given.
    entries : dict
        Cache: argument signature → :class:`CacheEntry`.
    last : CacheEntry or None
        The entry used by the most recent call.

    Examples
    --------
    >>> jf = jacobian(lambda x: x**3)
    >>> jf(np.array([1.0, 2.0]))
    array([[ 3.,  0.],
           [ 0., 12.]])
    >>> jf(np.array([2.0, 0.0])).diagonal(), jf.last.traces, len(jf.entries)
    (array([12.,  0.]), 1, 1)

    Notes
    -----
    A call costs one cache-key computation (O(number of arguments)), a replay and the
    planned accumulation; a new signature costs a trace and a plan too.
    """

    def __init__(
        self, fn: Callable[..., Any], argnums: Any, method: str, scalar: bool, reuse: bool = True
    ) -> None:
        if not callable(fn):
            raise SpecTypeError(f"jacobian needs a function, got {type(fn).__name__}")
        self.fn = fn
        self.argnums = argnums
        self._nums, self._tuple_in = _argnums(argnums)
        self.method = method
        self._key = _method_key(method)
        self._scalar = scalar
        self.reuse = bool(reuse)
        self.entries: dict[tuple, CacheEntry] = {}
        self._by_count: dict[int, tuple[int, ...]] = {}  # argument count → positions
        self.last: CacheEntry | None = None
        self.__name__ = f"jacobian({getattr(fn, '__name__', 'f')})"
        self.__doc__ = getattr(fn, "__doc__", None)

    def __repr__(self) -> str:
        return (f"<{'grad' if self._scalar else 'jacobian'} of "
                f"{getattr(self.fn, '__name__', 'f')}, method={self.method!r}, "
                f"{len(self.entries)} compiled>")  # fmt: skip

    # --- planning
    def _positions(self, n_args: int) -> tuple[int, ...]:
        found = self._by_count.get(n_args)
        if found is not None:
            return found
        out = []
        for a in self._nums:
            if not -n_args <= a < n_args:
                raise SpecError(f"argnums {self.argnums!r} is out of range for {n_args} "
                                f"argument{'' if n_args == 1 else 's'}")  # fmt: skip
            out.append(a % n_args)
        if len(set(out)) != len(out):
            raise SpecError(f"argnums {self.argnums!r} names one argument twice")
        self._by_count[n_args] = found = tuple(out)
        return found

    def _compile(self, args: tuple, wrt: tuple[int, ...], carry: tuple[int, ...]) -> CacheEntry:
        graph = trace(self.fn, *(_host(a) for a in args), wrt=list(wrt), carry=carry)
        if self._scalar and (len(graph.outputs) != 1 or graph.n_out != 1):
            shapes = [graph.shape(y) for y in graph.outputs]
            raise SpecError(f"grad needs one scalar output, {getattr(self.fn, '__name__', 'f')} "
                            f"returns shape{'s' if len(shapes) > 1 else ''} "
                            f"{', '.join(map(str, shapes))}; use jacobian")  # fmt: skip
        plan = plan_graph(graph, **PLAN_OPTIONS)
        forget_steps(plan.lin)  # the search's step prices: not needed once planned
        if self._key == "auto":
            row = plan.chosen
        else:
            rows = [r for r in plan.rows if str(r.method) == self._key]
            if not rows:
                raise UnknownSolverError(
                    f"method {self.method!r} does not apply to this graph (it has no cut "
                    f"vertex); use one of {', '.join(m for m in METHODS if 'chain' not in m)}"
                )
            row = rows[0]
        program = compile_jacobian_program(plan.lin, row.method, row.order)
        return CacheEntry(graph, plan, row, Replay(graph, reuse=self.reuse), program)

    def compiled(self, *args: Any) -> CacheEntry:
        """The cache entry for ``args`` (traced and planned now if new), without running it.

        Examples
        --------
        >>> jacobian(lambda x: x.sum()).compiled(np.ones(4)).graph.n_in
        4
        """
        return self._entry(args)[0]

    def _entry(self, args: tuple) -> tuple[CacheEntry, bool]:
        wrt = self._positions(len(args))
        key = tuple(_arg_key(a, i in wrt) for i, a in enumerate(args))
        entry = self.entries.get(key)
        if entry is not None:
            return entry, False
        carry = tuple(i for i, k in enumerate(key) if k[0] == "c")
        entry = self._compile(args, wrt, carry)
        self.entries[key] = entry
        return entry, True

    # --- calling
    def __call__(self, *args: Any) -> Any:
        entry, fresh = self._entry(args)
        graph = entry.graph
        xp = namespace(args[graph.wrt[0]])
        if not fresh or xp is not np:  # CuPy: the trace ran on host copies; replay on device
            inputs = [
                xp.asarray(args[p], dtype=graph.nx.nodes[x]["dtype"])
                for p, x in zip(graph.wrt, graph.inputs, strict=True)
            ]
            held = entry.replay.lock.acquire(blocking=False)
            try:
                return self._rerun(entry, inputs, args, xp, held)
            finally:
                if held:
                    entry.replay.lock.release()
        self.last = entry
        return self._layout(entry.program.run(graph), entry)

    def _rerun(self, entry: CacheEntry, inputs: list, args: tuple, xp: Any, held: bool) -> Any:
        """Replay ``entry`` at new values and run its program; ``held``: this call owns
        the replay's kept buffers (the values and the program's reads of them)."""
        graph = entry.graph
        vals = entry.replay.run(inputs, args, xp, use_buffers=held)
        if vals is None:  # a guard changed: the function takes another path here
            retraced = self._compile(args, graph.wrt, _carried(graph))
            retraced.traces = entry.traces + 1
            self.entries[_key_of(self.entries, entry)] = entry = retraced
            graph = entry.graph
            if xp is not np:  # traced on host copies: the values on the device
                graph = entry.replay.graph_at(entry.replay.run(inputs, args, xp), args)
        else:
            graph = entry.replay.graph_at(vals, args)
        self.last = entry
        return self._layout(entry.program.run(graph), entry)

    def _layout(self, jac: Any, entry: CacheEntry) -> Any:
        if entry.shapes is None:
            graph = entry.graph
            outs = [()] if self._scalar else [graph.shape(y) for y in graph.outputs]
            entry.shapes = (outs, [graph.shape(x) for x in graph.inputs])
        out_shapes, in_shapes = entry.shapes
        if self._scalar:
            blocks = split_jacobian(jac, out_shapes, in_shapes, False, True)
            return blocks if self._tuple_in else blocks[0]
        tuple_out = not entry.graph.single_output
        return split_jacobian(jac, out_shapes, in_shapes, tuple_out, self._tuple_in)

    # --- what was planned
    @property
    def plan(self) -> GraphPlan:
        """The plan (every mode's cost) of the most recent call's argument signature."""
        if self.last is None:
            raise SpecError("no plan yet: call the function first (it plans on its first call)")
        return self.last.plan

    def explain(self) -> str:
        """The plan table of the most recent call, the chosen row and the cache state.

        Examples
        --------
        >>> jf = jacobian(lambda x: np.tanh(x).sum())
        >>> _ = jf(np.ones(3))
        >>> print(jf.explain().splitlines()[-1])
        method auto: forward elimination, 3 mults; 1 signature compiled, traced 1 time
        """
        from rich.console import Console

        from chainorder.report.graph_tables import cost_table
        from chainorder.units import format_bytes

        plan, entry = self.plan, self.last
        buf = io.StringIO()
        Console(file=buf, width=110, color_system=None).print(cost_table(plan))
        row = entry.row
        n = len(self.entries)
        return (
            buf.getvalue().rstrip()
            + f"\nmethod {self.method}: {row.name}, {row.mults:,} mults; {n} signature"
            + f"{'' if n == 1 else 's'} compiled, traced {entry.traces} "
            + f"time{'' if entry.traces == 1 else 's'}"
            + (f"; holds {format_bytes(entry.replay.held_bytes)} of forward values between "
               "calls (reuse=True)" if entry.replay.held_bytes else "")
        )  # fmt: skip


def _carried(graph: TracedGraph) -> tuple[int, ...]:
    return tuple(int(d["carried"]) for _, d in graph.nx.nodes(data=True) if "carried" in d)


def _key_of(entries: dict, entry: CacheEntry) -> tuple:
    for k, v in entries.items():
        if v is entry:
            return k
    raise AssertionError("entry not cached")  # pragma: no cover


def jacobian(
    f: Callable[..., Any],
    argnums: int | tuple[int, ...] = 0,
    *,
    method: str = "auto",
    reuse: bool = True,
) -> JacobianFunction:
    """The Jacobian of ``f`` as a function of ``f``'s arguments, in JAX's layout.

    Parameters
    ----------
    f : callable
        Plain NumPy code returning an array or a tuple of arrays.
    argnums : int or tuple of int
        The arguments to differentiate. A tuple gives a tuple of blocks, one per argument.
    method : str
        ``"auto"`` (the cheapest row of the plan: fewest mults plus peak scalars, see
        :func:`~chainorder.graph.planning.row_score`), ``"forward"`` or ``"reverse"`` (sweeps),
        or an elimination order: ``"markowitz"``, ``"chain"``, ``"search"``, or
        ``"elimination:NAME"`` (NAME also ``forward`` or ``reverse``).
    reuse : bool
        Keep the forward values NumPy ufuncs compute (64 KiB or more each) between calls
        and write later calls' values into them: no fresh pages per call. The function
        then holds those bytes between calls (``explain()`` states them; at most the
        graph's values, which the plan's peak counts). A call that finds them in use by
        another thread computes its values afresh; ``reuse=False`` always does.

    Returns
    -------
    JacobianFunction
        Called with ``f``'s arguments, it returns blocks of shape ``out.shape + in.shape``
        (a tuple per output when ``f`` returns a tuple). It traces and plans on the first
        call for each signature (shapes and dtypes of the array arguments, values of the
        others), then replays the recorded program; when a comparison or other
        zero-derivative value that steered the trace changes, it traces and plans again.
        ``.plan`` and ``.explain()`` show the plan.

    Raises
    ------
    SpecTypeError, SpecError
        ``f`` not callable; ``argnums`` not an int or tuple of ints, or out of range.
    UnknownSolverError
        An unknown ``method``.
    TraceError, UnsupportedOperationError
        As :func:`~chainorder.graph.trace.trace`.

    Examples
    --------
    >>> W = np.array([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]])
    >>> jf = jacobian(lambda x, W: np.tanh(W @ x), argnums=(0, 1))
    >>> dx, dW = jf(np.zeros(2), W)
    >>> dx.shape, dW.shape
    ((3, 2), (3, 3, 2))
    >>> np.allclose(dx, W)
    True

    Notes
    -----
    First call: one trace, :func:`~chainorder.graph.planning.plan_graph`, one run. Later
    calls with the same signature: one replay (one call per op and per guard) and the
    planned accumulation's products.
    """
    return JacobianFunction(f, argnums, method, scalar=False, reuse=reuse)


def grad(
    f: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *, reuse: bool = True
) -> JacobianFunction:
    """The gradient of a scalar-valued ``f``: blocks of the arguments' shapes.

    Examples
    --------
    >>> g = grad(lambda x: (x**2).sum())
    >>> g(np.array([1.0, -2.0]))
    array([ 2., -4.])

    Raises
    ------
    SpecError
        When ``f`` returns more than one scalar (on the first call).

    Notes
    -----
    As :func:`jacobian` with ``method="auto"`` (``reuse`` as there).
    """
    return JacobianFunction(f, argnums, "auto", scalar=True, reuse=reuse)
