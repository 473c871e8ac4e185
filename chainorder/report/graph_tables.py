"""Rich tables for traced graphs: intermediates, mode costs, sweep steps, numerical checks.

Rendering only: every number comes from the objects passed in.
"""

from __future__ import annotations

from rich.table import Table

from chainorder.graph.planning import GraphPlan
from chainorder.graph.sweep import SweepCost
from chainorder.graph.trace import TracedGraph
from chainorder.graph.validate import ValidationReport

__all__ = ["check_table", "cost_table", "format_bytes", "nodes_table", "steps_table"]


def format_bytes(n: int) -> str:
    """``1536`` → ``'1.5 KiB'``.

    Examples
    --------
    >>> format_bytes(1536), format_bytes(12)
    ('1.5 KiB', '12 B')
    """
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


def nodes_table(graph: TracedGraph) -> Table:
    """Every input, array constant and op: name, kind, op, shape, size, source line."""
    t = Table(title="Traced graph (nodes in evaluation order)")
    for col in ("name", "kind", "op", "shape", "size", "line"):
        t.add_column(col, justify="right" if col == "size" else "left")
    for n in graph.nodes():
        kind = n.kind + (" (output)" if n.output else "")
        if n.kind == "intermediate" and not n.output:
            kind = "intermediate"
        t.add_row(n.name, kind, n.op, _shape(n.shape), f"{n.size:,}", n.line.split(": ", 1)[0])
    return t


def cost_table(plan: GraphPlan) -> Table:
    """Every mode side by side: mults, peak memory, how the figure arises."""
    g = plan.graph
    t = Table(title=f"Cost of the Jacobian ({g.n_out} x {g.n_in}): mults = scalar multiplications")
    t.add_column("mode")
    t.add_column("model")
    t.add_column("mults", justify="right")
    t.add_column("peak memory", justify="right")
    t.add_column("how")
    for r in plan.rows:
        mark = " *" if r is plan.chosen else ""
        t.add_row(r.name + mark, r.model, f"{r.mults:,}", format_bytes(r.peak_bytes), r.note)
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
    for col in ("node", "op", f"carries {what}", "mults", "live memory"):
        t.add_column(col, justify="right" if col in ("mults", "live memory") else "left")
    for s in cost.steps:
        t.add_row(
            s.node, s.op, f"{s.carried[0]} x {s.carried[1]}", f"{s.mults:,}",
            format_bytes(s.live_elements * graph.itemsize),
        )  # fmt: skip
    t.caption = f"total {cost.mults:,} mults; peak {format_bytes(cost.peak_bytes)}"
    return t


def check_table(report: ValidationReport) -> Table:
    """The chosen order's Jacobian against forward, reverse and finite differences."""
    t = Table(title="Numerical check of the chosen order's Jacobian")
    for col in ("compared with", "max |difference|", "relative", "result"):
        t.add_column(col)
    for c in report.comparisons:
        t.add_row(c.reference, f"{c.max_abs:.2e}", f"{c.max_rel:.2e}", "ok" if c.ok else "MISMATCH")
    return t
