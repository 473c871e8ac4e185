"""Rendering of matrix-free plans: rich tables of the links, the plan's nodes and the comparison.

Every number carries its unit: mults (scalar multiplications), FLOPs (2 per multiply-add, 1 per
diagonal scaling), bytes of the plan's dtype (binary prefixes). Numeric columns never wrap or
get cut: a table wider than the console grows beyond it rather than hiding digits.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from chainorder.matfree.links import LinkCost
from chainorder.matfree.plan import MatrixFreePlan
from chainorder.report.plan_tables import elide_text
from chainorder.units import format_bytes, format_count

__all__ = [
    "MAX_ROWS",
    "baseline_plans",
    "links_table",
    "matfree_comparison_table",
    "matfree_nodes_table",
    "natural_width",
    "print_table",
    "render_text",
    "speedup",
]


def speedup(a: int, b: int) -> str:
    """``a / b`` as a speedup such as ``2.68×`` (``∞`` when ``b == 0 < a``).

    Examples
    --------
    >>> speedup(150, 56), speedup(100, 100), speedup(1, 0)
    ('2.68×', '1.00×', '∞')

    Notes
    -----
    O(1).
    """
    if b == 0:
        return "1.00×" if a == 0 else "∞"
    x = a / b
    return f"{x:.3g}×" if x >= 10 else f"{x:.2f}×"


#: Tables longer than this show their first and last ``MAX_ROWS // 2`` rows (the JSON holds all).
MAX_ROWS = 40


def _shown(n: int, max_rows: int | None) -> tuple[range, range]:
    """The row indices shown: all of them, or the first and last ``max_rows // 2``."""
    if max_rows is None or n <= max_rows:
        return range(n), range(n, n)
    half = max(max_rows // 2, 1)
    return range(half), range(n - half, n)


def _elision_row(table: Table, hidden: int, what: str) -> str:
    """Add a row of ``…`` and return the caption note naming what is not shown."""
    table.add_row(*(["…"] * len(table.columns)), style="dim")
    return f" ({format_count(hidden)} {what} not shown; --json holds all)"


def _table(title: str) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
    )
    table.caption_justify = "left"
    return table


def _shape(link: LinkCost) -> str:
    extra = ""
    if link.kind in ("conv1d", "conv2d"):
        ins = "×".join(map(str, (link.param("in_channels"), *link.param("in_shape"))))
        outs = "×".join(map(str, (link.param("out_channels"), *link.param("out_shape"))))
        k = "×".join(map(str, link.param("kernel")))
        s = "×".join(map(str, link.param("stride")))
        p = "×".join(map(str, link.param("padding")))
        extra = f" ({ins}→{outs}, k {k}, s {s}, p {p})"
    return f"{link.rows}×{link.cols}{extra}"


def links_table(
    links: tuple[LinkCost, ...] | list[LinkCost],
    title: str | None = None,
    *,
    max_rows: int | None = MAX_ROWS,
) -> Table:
    """One row per link: kind, shape, tangent/adjoint mults per seed, tape, preaccumulation.

    More than ``max_rows`` links show the first and last ``max_rows // 2`` and one row
    saying how many are not shown (``max_rows=None``: every link).

    Examples
    --------
    >>> from chainorder.matfree import parse_matrix_free
    >>> links_table(parse_matrix_free("1x28x28,conv2d(8,k=3),relu,10")).row_count
    3
    >>> links_table(parse_matrix_free(",".join(["4"] * 101))).row_count  # 20 + … + 20
    41

    Notes
    -----
    O(L).
    """
    table = _table(title or "links (J_l: d_l × d_{l-1})")
    table.add_column("l", justify="right", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("shape", no_wrap=True)
    for header in ("tangent/seed", "adjoint/seed", "tape", "preacc."):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("given", no_wrap=True)
    links = list(links)
    head, tail = _shown(len(links), max_rows)
    note = ""
    for index in (*head, *tail):
        if tail and index == tail[0]:
            note = _elision_row(table, tail[0] - len(head), "links")
        link = links[index]
        table.add_row(
            str(index + 1),
            link.label,
            _shape(link),
            format_count(link.tangent),
            format_count(link.adjoint),
            format_count(link.tape),
            format_count(link.preaccumulation),
            "yes" if link.given else "",
        )
    table.caption = (
        "tangent/seed, adjoint/seed = mults of one JVP (per seed column) / one VJP (per seed "
        "row); tape = elements kept for the adjoint; preacc. = mults to form J_l as an array" + note
    )
    return table


def matfree_nodes_table(
    plan: MatrixFreePlan, title: str | None = None, *, max_rows: int | None = MAX_ROWS
) -> Table:
    """One row per node, children first: links, action, swept links, seeds, result, mults.

    More than ``max_rows`` nodes show the first and last ``max_rows // 2`` (the root is
    always shown, last) and one row saying how many are not shown.

    Examples
    --------
    >>> from chainorder.matfree import custom, plan_matrix_free
    >>> p = plan_matrix_free([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)])
    >>> matfree_nodes_table(p).row_count
    3

    Notes
    -----
    O(number of nodes).
    """
    table = _table(title or f"plan: {plan.mode_label}, {format_count(plan.mults)} mults")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("links", no_wrap=True)
    table.add_column("action", no_wrap=True)
    table.add_column("through", no_wrap=True)
    table.add_column("seeds", justify="right", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("mults", justify="right", no_wrap=True)
    table.add_column("FLOPs", justify="right", no_wrap=True)
    head, tail = _shown(len(plan.nodes), max_rows)
    note = ""
    for index in (*head, *tail):
        if tail and index == tail[0]:
            note = _elision_row(table, tail[0] - len(head), "nodes")
        node = plan.nodes[index]
        rows = plan.links[node.hi - 1].rows
        cols = plan.links[node.lo - 1].cols
        result = f"diag({rows})" if node.diagonal else f"{rows}×{cols}"
        span = str(node.lo) if node.lo == node.hi else f"{node.lo}..{node.hi}"
        swept = list(node.swept()) if node.action in ("tangent", "adjoint") else []
        through = ""
        if swept:
            through = str(swept[0]) if len(swept) == 1 else f"{swept[0]}→{swept[-1]}"
        elif node.action == "dense":
            through = f"#{node.left} · #{node.right}"
        seeds = ""
        if node.action == "tangent":
            seeds = f"{format_count(node.seeds)} col"
        elif node.action in ("adjoint",):
            seeds = f"{format_count(node.seeds)} row"
        elif node.action == "diagonal":
            seeds = "1 (ones)"
        table.add_row(
            str(index),
            span,
            node.action,
            through,
            seeds,
            result,
            format_count(node.mults),
            format_count(node.flops),
            style="bold" if index == len(plan.nodes) - 1 else None,
        )
    table.caption = (
        f"expression: {elide_text(plan.expression())}  —  tangent: JVPs on seed columns from "
        "the right child (or I); adjoint: VJPs on seed rows from the left child (or I); dense: "
        "#left · #right" + note
    )
    return table


def baseline_plans(plan: MatrixFreePlan) -> dict[str, MatrixFreePlan]:
    """``{"optimum": plan, "pure tangent": .., "pure adjoint": .., "given-matrix": ..}``.

    Examples
    --------
    >>> from chainorder.matfree import custom, plan_matrix_free
    >>> p = plan_matrix_free([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)])
    >>> {k: v.mults for k, v in baseline_plans(p).items()}
    {'optimum': 56, 'pure tangent': 150, 'pure adjoint': 100, 'given-matrix': 123}

    Notes
    -----
    O(L³) (the given-matrix DP).
    """
    from chainorder.matfree.planning import given_matrix_plan, pure_adjoint_plan, pure_tangent_plan

    links, dtype = plan.links, plan.dtype
    return {
        "optimum": plan,
        "pure tangent": pure_tangent_plan(links, dtype),
        "pure adjoint": pure_adjoint_plan(links, dtype),
        "given-matrix": given_matrix_plan(links, dtype),
    }


def matfree_comparison_table(
    plans: Mapping[str, MatrixFreePlan], memory: bool = True, title: str | None = None
) -> Table:
    """Plans side by side: mode, mults, FLOPs, speedup of the first plan, peak memory.

    Parameters
    ----------
    plans : mapping of name to MatrixFreePlan
        E.g. :func:`baseline_plans`; the first is the reference of the speedup column.
    memory : bool
        Add the predicted peak in both settings (:func:`chainorder.matfree.memory.predict_memory`).

    Examples
    --------
    >>> from chainorder.matfree import custom, plan_matrix_free
    >>> p = plan_matrix_free([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)])
    >>> matfree_comparison_table(baseline_plans(p), memory=False).row_count
    4

    Notes
    -----
    O(number of plans · L) plus the memory simulation.
    """
    items = list(plans.items())
    first = items[0][1]
    table = _table(title or "matrix-free plans compared")
    table.add_column("plan", no_wrap=True)
    table.add_column("mode", no_wrap=True)
    table.add_column("mults", justify="right", no_wrap=True)
    table.add_column("FLOPs", justify="right", no_wrap=True)
    table.add_column(f"{items[0][0]} speedup", justify="right", no_wrap=True)
    if memory:
        table.add_column("peak given", justify="right", no_wrap=True)
        table.add_column("peak streamed", justify="right", no_wrap=True)
    best = min(p.mults for _, p in items)
    for name, p in items:
        row = [
            name,
            p.mode_label,
            format_count(p.mults),
            format_count(p.flops),
            speedup(p.mults, first.mults) if p is not first else "",
        ]
        if memory:
            from chainorder.matfree.memory import predict_memory

            row += [
                format_bytes(predict_memory(p, "given").peak_bytes),
                format_bytes(predict_memory(p, "streamed").peak_bytes),
            ]
        table.add_row(*row, style="bold green" if p.mults == best else None)
    table.caption = (
        "mults = scalar multiplications; FLOPs = 2 per multiply-add, 1 per diagonal scaling; "
        f"peak memory in bytes of {first.dtype} (given: links/tapes present; streamed: the "
        "forward pass is part of the run)"
    )
    return table


def natural_width(table: Table) -> int:
    """Columns the table needs so that no cell is wrapped or cut.

    Notes
    -----
    O(size of the table).
    """
    probe = Console(file=io.StringIO(), width=10_000, color_system=None)
    return Measurement.get(probe, probe.options, table).maximum


def render_text(table: Table) -> str:
    """The table as plain text at its natural width: no column squeezed, no digit cut.

    Examples
    --------
    >>> from chainorder.matfree import custom, plan_matrix_free
    >>> p = plan_matrix_free([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)])
    >>> "given-matrix" in render_text(matfree_comparison_table(baseline_plans(p), memory=False))
    True

    Notes
    -----
    O(size of the table).
    """
    width = natural_width(table)
    buffer = io.StringIO()
    Console(file=buffer, width=max(width, 20), highlight=False, color_system=None).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def print_table(table: Table, console: Console | None = None) -> None:
    """Print ``table`` at its natural width; a narrow terminal wraps lines instead of cutting.

    Notes
    -----
    O(size of the table).
    """
    console = console or Console(highlight=False)
    if natural_width(table) <= console.width:
        console.print(table)
    else:
        console.out(render_text(table), end="", highlight=False)
