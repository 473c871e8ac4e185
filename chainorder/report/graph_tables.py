"""Rich tables for traced graphs: intermediates, mode costs, sweep steps, numerical checks.

Rendering only: every number comes from the objects passed in.
"""

from __future__ import annotations

import os

import numpy as np
from rich.table import Table

from chainorder.graph.planning import GraphPlan
from chainorder.graph.sweep import SweepCost
from chainorder.graph.trace import TracedGraph
from chainorder.graph.validate import GraphValidationReport
from chainorder.report.trace_json import (
    CORNER,
    SUMMARY_ENTRIES,
    TEXT_FULL_LIMIT,
    derivative_parts,
)
from chainorder.units import format_bytes, format_count

__all__ = [
    "check_table",
    "cost_table",
    "measured_table",
    "nodes_table",
    "result_lines",
    "steps_table",
]


def _numbers_column(t: Table, header: str, cells: list[str], justify: str = "right") -> None:
    """A column that is never wrapped or cut: numbers keep every digit, and the table
    shrinks its text columns instead."""
    width = max([len(header), *(len(c) for c in cells)])
    t.add_column(header, justify=justify, no_wrap=True, min_width=width, overflow="fold")


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


def nodes_table(graph: TracedGraph) -> Table:
    """Every input, array constant and op: name, kind, op, shape, size, source line.

    When every node comes from one file, the line column holds line numbers and the title
    names the file (so that no line number is cut on a narrow terminal).

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> nodes_table(trace(lambda x: np.sin(x), np.ones(2))).row_count
    2
    """
    nodes = graph.nodes()
    files = {n.line.split(":", 1)[0] for n in nodes if n.line}
    one_file = len(files) == 1
    title = "Traced graph (nodes in evaluation order)"
    if one_file:
        title = f"Traced graph (nodes in evaluation order; lines of {os.path.basename(*files)})"
    t = Table(title=title)
    rows = []
    for n in nodes:
        kind = n.kind + (" (output)" if n.output else "")
        where = n.line.split(": ", 1)[0]
        if one_file and where:
            where = where.rsplit(":", 1)[1]
        rows.append((n.name, kind, n.op, _shape(n.shape), format_count(n.size), where))
    for i, col in enumerate(("name", "kind", "op", "shape", "size", "line")):
        cells = [r[i] for r in rows]
        if col in ("size", "line", "shape", "name"):
            _numbers_column(t, col, cells, "right" if col in ("size", "line") else "left")
        else:
            t.add_column(col)
    for r in rows:
        t.add_row(*r)
    return t


def cost_table(plan: GraphPlan) -> Table:
    """Every mode side by side: mults, peak memory, how the figure arises."""
    g = plan.graph
    t = Table(title=f"Cost of the Jacobian ({g.n_out} x {g.n_in}): mults = scalar multiplications")
    mults = [format_count(r.mults) for r in plan.rows]
    peaks = [format_bytes(r.peak_bytes) for r in plan.rows]
    t.add_column("mode")
    t.add_column("model")
    _numbers_column(t, "mults", mults)
    _numbers_column(t, "peak memory", peaks)
    t.add_column("how")
    for r, m, b in zip(plan.rows, mults, peaks, strict=True):
        mark = " *" if r is plan.chosen else ""
        t.add_row(r.name + mark, r.model, m, b, r.note)
    t.caption = (
        "sweep: n tangent / m adjoint sweeps, each op by its JVP/VJP rule. elimination: the "
        "products of a vertex-elimination order, a local partial formed or applied by its "
        "rule, whichever is cheaper. * chosen"
    )
    return t


def steps_table(cost: SweepCost, graph: TracedGraph) -> Table:
    """Step by step: what each op of a sweep computes, its mults, and memory after it."""
    what = "d v / d inputs" if cost.mode == "forward" else "d outputs / d v"
    t = Table(title=f"{cost.mode} mode, step by step ({cost.directions} directions)")
    rows = [
        (
            s.node, s.op, f"{s.carried[0]} x {s.carried[1]}", format_count(s.mults),
            format_bytes(s.live_elements * graph.itemsize),
        )
        for s in cost.steps
    ]  # fmt: skip
    for i, col in enumerate(("node", "op", f"carries {what}", "mults", "live memory")):
        if col == "op":
            t.add_column(col)
        else:
            _numbers_column(t, col, [r[i] for r in rows], "right" if i >= 3 else "left")
    for r in rows:
        t.add_row(*r)
    t.caption = f"total {format_count(cost.mults)} mults; peak {format_bytes(cost.peak_bytes)}"
    return t


def check_table(report: GraphValidationReport) -> Table:
    """The chosen order's Jacobian against forward, reverse and finite differences."""
    t = Table(title="Numerical check of the chosen order's Jacobian")
    rows = [
        (c.reference, f"{c.max_abs:.2e}", f"{c.max_rel:.2e}", "ok" if c.ok else "MISMATCH")
        for c in report.comparisons
    ]
    t.add_column("compared with")
    _numbers_column(t, "max |difference|", [r[1] for r in rows])
    _numbers_column(t, "relative", [r[2] for r in rows])
    t.add_column("result")
    for r in rows:
        t.add_row(*r)
    return t


def measured_table(rows: list) -> Table:
    """Predicted next to measured: mults, time and peak memory of each mode run.

    ``rows`` are :class:`chainorder.engine.measured.ModeMeasurement` objects (any object with
    their attributes).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> t = measured_table([NS(name="reverse mode", chosen=True, predicted_mults=8,
    ...     predicted_peak_bytes=2048, seconds=1e-4, measured_peak_bytes=2100)])
    >>> t.row_count, [c.header for c in t.columns][:3]
    (1, ['mode', 'mults (pred.)', 'time'])

    Notes
    -----
    O(rows).
    """
    t = Table(
        title="Predicted and measured (time: best of runs; peak: tracemalloc, beyond the "
        "traced values)",
        caption="* chosen",
    )
    cells = [
        (
            f"{r.name}{' *' if r.chosen else ''}",
            format_count(r.predicted_mults),
            f"{r.seconds * 1e3:,.2f} ms",
            format_bytes(r.predicted_peak_bytes),
            format_bytes(r.measured_peak_bytes),
        )
        for r in rows
    ]
    headers = ["mults (pred.)", "time", "peak (pred.)", "peak (meas.)"]
    t.add_column("mode", min_width=max(len(c[0]) for c in cells), no_wrap=True)
    for k, h in enumerate(headers):
        _numbers_column(t, h, [c[k + 1] for c in cells])
    for c in cells:
        t.add_row(*c)
    return t


def _array_text(a: np.ndarray) -> str:
    a = np.asarray(a, dtype=float)
    shape = "x".join(map(str, a.shape)) if a.shape else "scalar"
    if a.size <= TEXT_FULL_LIMIT:
        body = np.array2string(
            a, separator=", ", max_line_width=10**9, formatter={"float_kind": "{:.10g}".format}
        )
        return f"({shape}) {' '.join(body.split())}"
    flat = a.ravel()
    first = ", ".join(f"{v:.6g}" for v in flat[:SUMMARY_ENTRIES])
    text = (
        f"({shape}, {format_count(a.size)} entries, summary) first {first}, ...; "
        f"min {np.nanmin(flat):.6g}, max {np.nanmax(flat):.6g}, norm {np.linalg.norm(flat):.6g}"
    )
    if a.ndim == 2:
        rows = "; ".join(", ".join(f"{v:.6g}" for v in row) for row in a[:CORNER, :CORNER])
        text += f"; top-left corner [{rows}]"
    return text


def result_lines(graph: TracedGraph, jacobian: np.ndarray) -> list[str]:
    """The function's value and its gradient (one scalar output) or Jacobian, as text lines.

    Arrays of at most :data:`~chainorder.report.trace_json.TEXT_FULL_LIMIT` entries are
    printed in full (10 significant digits), larger ones as shape, first entries, min, max
    and norm.

    Examples
    --------
    >>> from chainorder.graph import trace
    >>> g = trace(lambda x: (x * x).sum(), np.array([1.0, 2.0]))
    >>> print("\\n".join(result_lines(g, np.array([[2.0, 4.0]]))))
    value of v2: (scalar) 5
    gradient d v2 / d x: (2) [2, 4]

    Notes
    -----
    O(m·n) for the Jacobian's summary.
    """
    lines = [f"value of {y}: {_array_text(graph.value(y))}" for y in graph.outputs]
    kind, parts = derivative_parts(graph, jacobian)
    if kind == "gradient":
        y = graph.outputs[0]
        lines += [f"gradient d {y} / d {name}: {_array_text(a)}" for name, a in parts]
    else:
        lines.append(
            f"Jacobian d ({', '.join(graph.outputs)}) / d ({', '.join(graph.inputs)}), "
            f"{jacobian.shape[0]} x {jacobian.shape[1]}: {_array_text(jacobian)}"
        )
    return lines
