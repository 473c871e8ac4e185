"""The ``chainorder trace`` result as data: the function's value, its Jacobian or gradient,
and the JSON document of ``chainorder trace --json``.

In the JSON document, arrays of at most :data:`FULL_ARRAY_LIMIT` (10,000) entries are given
in full (nested lists); larger ones as a summary: shape, size, the first
:data:`SUMMARY_ENTRIES` entries (row-major), min, max and the Frobenius (2-)norm, and for a
matrix its top-left :data:`CORNER` × :data:`CORNER` block. The text
output (:func:`chainorder.report.graph_tables.result_lines`) prints arrays in full up to
:data:`TEXT_FULL_LIMIT` (12) entries and summarises larger ones the same way. Non-finite
numbers are written as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` so that the
document stays strict JSON.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainorder.graph.planning import GraphPlan
from chainorder.graph.traced_graph import TracedGraph
from chainorder.graph.validate import GraphValidationReport

__all__ = [
    "CORNER",
    "FULL_ARRAY_LIMIT",
    "SUMMARY_ENTRIES",
    "TEXT_FULL_LIMIT",
    "array_data",
    "derivative_parts",
    "trace_document",
]

#: Arrays with at most this many entries are written in full in the JSON document.
FULL_ARRAY_LIMIT = 10_000
#: Arrays with at most this many entries are printed in full in the text output.
TEXT_FULL_LIMIT = 12
#: Entries shown by the summary of a larger array.
SUMMARY_ENTRIES = 5
#: The summary of a larger matrix also shows its top-left CORNER × CORNER block.
CORNER = 3


def _number(x: float) -> float | str:
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def _nested(a: np.ndarray) -> Any:
    if a.ndim == 0:
        return _number(float(a))
    return [_nested(row) for row in a]


def array_data(a: np.ndarray, full_limit: int | None = None) -> dict[str, Any]:
    """JSON-ready form of ``a``: in full up to ``full_limit`` entries (default
    :data:`FULL_ARRAY_LIMIT`), else a summary.

    Examples
    --------
    >>> array_data(np.array([[1.0, 2.0]]))
    {'shape': [1, 2], 'size': 2, 'values': [[1.0, 2.0]]}
    >>> s = array_data(np.arange(1000.0), full_limit=100)
    >>> s["first"], s["min"], s["max"], round(s["norm"], 1)
    ([0.0, 1.0, 2.0, 3.0, 4.0], 0.0, 999.0, 18243.7)

    Notes
    -----
    O(size of ``a``) for a summary (min, max, norm); O(size) for the full list.
    """
    a = np.asarray(a, dtype=float)
    full_limit = FULL_ARRAY_LIMIT if full_limit is None else full_limit
    out: dict[str, Any] = {"shape": list(a.shape), "size": int(a.size)}
    if a.size <= full_limit:
        out["values"] = _nested(a)
        return out
    flat = a.ravel()
    finite = flat[np.isfinite(flat)]
    out["first"] = [_number(float(v)) for v in flat[:SUMMARY_ENTRIES]]
    out["min"] = _number(float(finite.min())) if finite.size else "NaN"
    out["max"] = _number(float(finite.max())) if finite.size else "NaN"
    out["norm"] = _number(float(np.linalg.norm(flat)))
    if a.ndim == 2:
        out["corner"] = _nested(a[:CORNER, :CORNER])
    return out


def derivative_parts(graph: TracedGraph, jacobian: np.ndarray) -> tuple[str, list[tuple]]:
    """Split the ``m × n`` Jacobian for display: ``("gradient", [(input, array), ...])`` when
    the function has one scalar output (each part shaped like its input), else
    ``("jacobian", [("d outputs / d inputs", J)])``.

    Examples
    --------
    >>> from chainorder.graph import trace
    >>> g = trace(lambda x, y: x.sum() * y.sum(), np.ones(2), np.full(3, 2.0))
    >>> kind, parts = derivative_parts(g, np.arange(5.0)[None, :])
    >>> kind, [(name, a.shape) for name, a in parts]
    ('gradient', [('x', (2,)), ('y', (3,))])

    Notes
    -----
    O(1): views of ``jacobian``.
    """
    if graph.n_out != 1:
        return "jacobian", [("d outputs / d inputs", jacobian)]
    parts, off = [], 0
    for name in graph.inputs:
        size = graph.size(name)
        parts.append((name, jacobian[0, off : off + size].reshape(graph.shape(name))))
        off += size
    return "gradient", parts


def trace_document(
    target: str,
    plan: GraphPlan,
    jacobian: np.ndarray,
    report: GraphValidationReport | None = None,
    measured: list | None = None,
) -> dict[str, Any]:
    """The JSON document of ``chainorder trace --json``.

    Keys: ``target``; ``nodes`` (every node: name, kind, op, shape, size, output);
    ``value`` (one :func:`array_data` per output); ``gradient`` (input name →
    :func:`array_data`, for one scalar output) or ``jacobian`` (the ``m × n`` matrix, rows
    the outputs and columns the inputs, each flattened and concatenated);
    ``arrays`` (the full-array limit and summary size); ``plan``
    (:meth:`GraphPlan.to_dict`), ``check`` (the numerical comparisons, or ``None``) and
    ``measured`` (the chosen mode and both sweeps run for real: predicted next to measured
    time and peak memory, each row's ``to_dict()``; ``None`` when not measured).

    Examples
    --------
    >>> from chainorder.graph import plan_graph, trace
    >>> p = plan_graph(trace(lambda x: (x * x).sum(), np.array([1.0, 2.0])))
    >>> doc = trace_document("f", p, np.array([[2.0, 4.0]]))
    >>> doc["value"], doc["gradient"]["x"]["values"], doc["plan"]["chosen_method"]
    ([{'shape': [], 'size': 1, 'values': 5.0}], [2.0, 4.0], 'reverse')

    Notes
    -----
    O(V + E) for the node list plus O(m·n) for the Jacobian's summary.
    """
    graph = plan.graph
    kind, parts = derivative_parts(graph, jacobian)
    doc: dict[str, Any] = {
        "target": target,
        "nodes": [
            {
                "name": n.name,
                "kind": n.kind,
                "op": n.op,
                "shape": list(n.shape),
                "size": n.size,
                "output": n.output,
            }
            for n in graph.nodes()
        ],
        "value": [array_data(graph.value(y)) for y in graph.outputs],
    }
    if kind == "gradient":
        doc["gradient"] = {name: array_data(a) for name, a in parts}
    else:
        doc["jacobian"] = array_data(jacobian)
    doc["arrays"] = {"full_up_to_entries": FULL_ARRAY_LIMIT, "summary_entries": SUMMARY_ENTRIES}
    doc["plan"] = plan.to_dict()
    doc["check"] = (
        None
        if report is None
        else {
            "method": report.method,
            "ok": report.ok,
            "comparisons": [
                {
                    "reference": c.reference,
                    "max_abs": _number(c.max_abs),
                    "max_rel": _number(c.max_rel),
                    "ok": c.ok,
                }
                for c in report.comparisons
            ],
        }
    )
    doc["measured"] = None if measured is None else [m.to_dict() for m in measured]
    return doc
