"""Trace a plain NumPy function into a DAG of primitive ops (a :class:`TracedGraph`).

Arguments are wrapped in :class:`~chainorder.graph.boxed.TracedArray`; every op is evaluated
at once on the example values and recorded on a :class:`~chainorder.graph.tape.Tape`; the
result is a :class:`~chainorder.graph.traced_graph.TracedGraph`. This module is the entry
point; the pieces live in :mod:`~chainorder.graph.boxed`, :mod:`~chainorder.graph.tape` and
:mod:`~chainorder.graph.traced_graph`, and are re-exported here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainorder.errors import TraceError
from chainorder.graph.boxed import TracedArray, traced_constructors
from chainorder.graph.tape import Tape
from chainorder.graph.traced_graph import NodeInfo, TracedGraph

__all__ = ["NodeInfo", "TracedArray", "TracedGraph", "trace"]


def _is_numeric(x: Any) -> bool:
    if isinstance(x, bool | np.bool_):
        return False
    if isinstance(x, int | float | np.integer | np.floating):
        return True
    return isinstance(x, np.ndarray) and (
        np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
    )


def _argument_names(fn: object, example_args: tuple[Any, ...]) -> list[str]:
    """Parameter names of the example arguments; :class:`TraceError` when ``fn`` is not
    callable or cannot be called with that many positional arguments."""
    if not callable(fn):
        raise TraceError(
            f"trace needs a function to trace, got {type(fn).__name__} "
            "(call it as trace(fn, *example_args))"
        )
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return [f"arg{i}" for i in range(len(example_args))]
    try:
        signature.bind(*example_args)
    except TypeError as exc:
        name = getattr(fn, "__name__", type(fn).__name__)
        raise TraceError(
            f"cannot call {name}{signature} with {len(example_args)} example "
            f"argument{'s' if len(example_args) != 1 else ''}: {exc}"
        ) from None
    params = list(signature.parameters.values())
    if params and params[0].kind == inspect.Parameter.VAR_POSITIONAL:
        return [f"arg{i}" for i in range(len(example_args))]
    return [params[i].name if i < len(params) else f"arg{i}" for i in range(len(example_args))]


def _positions(
    wrt: object, names: list[str], example_args: tuple[Any, ...], fn_name: str
) -> list[int]:
    """Sorted positions of the differentiated arguments (every numeric one by default)."""
    if wrt is None:
        return [i for i, a in enumerate(example_args) if _is_numeric(a)]
    if isinstance(wrt, str | bytes) or not isinstance(wrt, Sequence | set | frozenset | np.ndarray):
        raise TraceError(f"wrt must be a list of argument positions or names, got {wrt!r}")
    positions = []
    for w in wrt:
        if isinstance(w, str):
            if w not in names:
                raise TraceError(f"wrt names {w!r}, which is not an argument of {fn_name}: {names}")
            positions.append(names.index(w))
        elif (
            isinstance(w, int | np.integer)
            and not isinstance(w, bool)
            and -len(example_args) <= w < len(example_args)
        ):
            positions.append(int(w) % len(example_args))
        else:
            raise TraceError(f"wrt={w!r} is not an argument position or name")
    return sorted(set(positions))


def trace(
    fn: Callable[..., Any],
    *example_args: Any,
    wrt: Sequence[int | str] | None = None,
    carry: Sequence[int] = (),
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
    carry : sequence of int, optional
        Positions of non-differentiated float array arguments whose ops are recorded too
        (constant nodes that :meth:`TracedGraph.with_inputs` replaces at new values), as
        :func:`chainorder.jacobian` traces them.

    Returns
    -------
    TracedGraph

    Raises
    ------
    UnsupportedOperationError
        When ``fn`` uses an op without a rule; the message names the op and the line.
    TraceError
        For bad arguments (including NaN or infinite values of a differentiated argument),
        or when an output does not depend on a differentiated input.

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
    names = _argument_names(fn, example_args)
    fn_name = getattr(fn, "__name__", type(fn).__name__)
    positions = _positions(wrt, names, example_args, fn_name)
    if not positions:
        raise TraceError("nothing to differentiate: no numeric argument (pass wrt=...)")
    tape = Tape()
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
            if not np.isfinite(value).all():
                raise TraceError(
                    f"argument {names[i]!r} has non-finite values (nan or inf); "
                    "expected finite real numbers"
                )
            call_args[i] = tape.add_input(names[i], value.copy(), True)
        elif i in carry:
            call_args[i] = tape.add_carried(names[i], np.array(a), i)
        else:
            tape.const_names[id(a)] = names[i]
    with traced_constructors():
        out = fn(*call_args)
    single = not isinstance(out, tuple | list)
    outs = [out] if single else list(out)
    if not outs:
        raise TraceError(f"{fn_name} returned no outputs")
    output_names: list[str] = []
    for k, o in enumerate(outs):
        if not isinstance(o, TracedArray) or not tape.g.nodes[o._node]["differentiable"]:
            raise TraceError(f"output {k} of {fn_name} does not depend on a differentiated input")
        if tape.g.nodes[o._node]["kind"] == "input" or o._node in output_names:
            o = tape.apply("positive", (o,), {})  # a copy, so that each output is its own node
        tape.g.nodes[o._node]["output"] = True
        output_names.append(o._node)
    inputs = [names[i] for i in positions]
    graph = TracedGraph(tape.g, inputs, output_names, fn, example_args, positions, single)
    graph.guards = tuple(tape.guards)
    return graph
