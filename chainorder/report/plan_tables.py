"""Rendering of plans for people: rich tables and trees, human units. Rendering only.

Every number printed carries its unit: ``mults`` (scalar multiplications), ``FLOPs`` (2 per
multiply-add) and bytes (binary prefixes, for the plan's dtype), formatted by
:mod:`chainorder.units` (exact integers of any size). Given a ``width``, tables never cut a
number: optional columns are dropped (and named in the caption) until the table fits, and a
tree too deep for the width is not drawn.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from rich.tree import Tree as RichTree

from chainorder.chain import Chain, Structure
from chainorder.cost import product_mults
from chainorder.memory import Setting, as_setting
from chainorder.plan import Plan
from chainorder.units import format_bytes, format_count

__all__ = [
    "MAX_DRAWN_LINKS",
    "MAX_LISTED_STEPS",
    "chain_summary",
    "comparison_table",
    "elide_text",
    "format_ratio",
    "schedule_table",
    "short_expression",
    "tree_renderable",
]

#: Trees with more links than this are not drawn (the expression and JSON still are).
MAX_DRAWN_LINKS = 64
#: Schedules with more products list the first and last :data:`_STEPS_SHOWN` only.
MAX_LISTED_STEPS = 300
_STEPS_SHOWN = 100
_MAX_EXPRESSION = 400


def format_ratio(x: float) -> str:
    """A speedup such as ``31.6×``.

    Examples
    --------
    >>> format_ratio(31.57), format_ratio(1.0), format_ratio(2.5e7)
    ('31.6×', '1.00×', '2.5e+07×')

    Notes
    -----
    O(1).
    """
    if x == float("inf"):
        return "∞"
    if x >= 1e6:
        return f"{x:.2g}×"
    return f"{x:.3g}×" if x >= 10 else f"{x:.2f}×"


def chain_summary(chain: Chain) -> str:
    """One line: widths, links, elementwise links.

    Examples
    --------
    >>> chain_summary(Chain.parse("784,512,tanh,10"))
    'd = 784 → 512 → 512 → 10  (L = 3 links: 2 dense, 1 diagonal [tanh])'
    >>> chain_summary(Chain.from_dims([3, 3]))
    'd = 3 → 3  (L = 1 link: 1 dense)'

    Notes
    -----
    O(L).
    """
    d = [_width(x) for x in chain.dims]
    widths = (
        " → ".join(d)
        if chain.n_links <= 24
        else (" → ".join(d[:8]) + " → … → " + " → ".join(d[-4:]))
    )
    diag = [chain.names[i] for i, s in enumerate(chain.structures) if s is Structure.DIAGONAL]
    dense = chain.n_links - len(diag)
    kinds = f"{dense} dense"
    if diag:
        names = sorted(set(diag))
        kinds += f", {len(diag)} diagonal [{', '.join(names)}]"
    links = "link" if chain.n_links == 1 else "links"
    return f"d = {widths}  (L = {chain.n_links} {links}: {kinds})"


def _width(d: int) -> str:
    """A width as digits, or scientific beyond 18 digits (the JSON keeps it exact)."""
    return str(d) if d < 10**18 else format_count(d)


def elide_text(text: str, limit: int = _MAX_EXPRESSION) -> str:
    """``text`` cut in the middle at a ``·`` when longer than ``limit`` characters.

    Examples
    --------
    >>> elide_text("A·B·C·D·E·F", limit=6)
    'A· … ·F  (11 characters; full text in --json)'
    >>> elide_text("A·B")
    'A·B'

    Notes
    -----
    O(len(text)).
    """
    if len(text) <= limit:
        return text
    half = limit // 2
    head = text[:half].rpartition("·")[0] + "·"
    tail = text[-half:].partition("·")[2]
    return f"{head} … ·{tail}  ({len(text):,} characters; full text in --json)"


def short_expression(plan: Plan, width: int | None = None) -> str:
    """The bracketing, elided in the middle when longer than 400 characters.

    Cuts and line breaks fall only after a ``·``, never inside a link number. With
    ``width``, lines are broken to at most ``width`` characters, continuation lines indented
    by four spaces (to sit under a ``"J = "`` prefix).

    Examples
    --------
    >>> from chainorder.plan import plan
    >>> short_expression(plan("3,4,5"))
    'J2·J1'
    >>> print(short_expression(plan([2] * 9, "forward"), width=24))
    J8·(J7·(J6·(J5·(J4·(J3·
        (J2·J1))))))

    Notes
    -----
    O(L).
    """
    text = elide_text(plan.expression())
    if width is None or len(text) <= width:
        return text
    lines, line = [], ""
    for piece in re.split(r"(?<=·)|(?<= )", text):  # break after every '·' or space
        if line and len(line) + len(piece) > (width if not lines else width - 4):
            lines.append(line)
            line = ""
        line += piece
    lines.append(line)
    return "\n    ".join(x.rstrip() for x in lines)


#: Optional columns of the comparison table, dropped in this order when it does not fit.
_COMPARISON_DROPS = ("largest", "FLOPs", "vs rev", "vs fwd", "mode", "peak mem")


def comparison_table(
    plans: Mapping[str, Plan],
    setting: Setting | str = Setting.GIVEN,
    title: str | None = None,
    width: int | None = None,
) -> Table:
    """Table of plans side by side: mults, FLOPs, peak memory, largest product, speedups.

    Parameters
    ----------
    plans : mapping of name to Plan
    setting : Setting or str
        Memory setting of the peak column.
    title : str, optional
    width : int, optional
        Columns available: optional columns are dropped (and named in the caption) until
        the table fits, so no number is ever cut.

    Examples
    --------
    >>> from chainorder.plan import compare_modes
    >>> comparison_table(compare_modes("3,4,5")).row_count
    3
    >>> [c.header for c in comparison_table(compare_modes("3,4,5"), width=40).columns]
    ['plan', 'mode', 'mults', 'peak mem']

    Notes
    -----
    O(number of plans · columns²) to fit.
    """
    setting = as_setting(setting)
    first = next(iter(plans.values()))
    best = min(p.mults for p in plans.values())
    columns: dict[str, Callable[[Plan], str]] = {
        "plan": lambda p: "",
        "mode": lambda p: p.mode.value,
        "mults": lambda p: format_count(p.mults),
        "FLOPs": lambda p: format_count(p.flops),
        "peak mem": lambda p: format_bytes(p.peak_bytes(setting)),
        "largest": lambda p: format_bytes(p.largest_intermediate_bytes),
        "vs fwd": lambda p: _speedup(p.forward_mults, p.mults),
        "vs rev": lambda p: _speedup(p.reverse_mults, p.mults),
    }
    rows = [
        ([name] + [cell(p) for cell in list(columns.values())[1:]], p.mults == best)
        for name, p in plans.items()
    ]
    caption = (
        "mults = scalar multiplications; FLOPs = 2 per multiply-add (BLAS); memory in bytes "
        f"of {first.dtype.name} ({first.itemsize} B/element); largest = largest product "
        "formed; vs fwd / vs rev = speedup in mults over pure forward / reverse mode"
    )

    def build(keep: Sequence[str], dropped: Sequence[str]) -> Table:
        table = _table(title or f"plans compared (peak memory: {setting.value} setting)")
        for header in keep:
            left = header in ("plan", "mode")
            table.add_column(header, justify="left" if left else "right", no_wrap=True)
        index = [list(columns).index(h) for h in keep]
        for cells, is_best in rows:
            table.add_row(*(cells[k] for k in index), style="bold green" if is_best else None)
        table.caption = caption + (
            f" ({', '.join(dropped)} left out to fit {width} columns; see --json)"
            if dropped
            else ""
        )
        table.caption_justify = "left"
        return table

    return _fit(build, list(columns), _COMPARISON_DROPS, width)


def _speedup(num: int, den: int) -> str:
    """``num / den`` as a speedup, from the exact ints (no float overflow at any size)."""
    if den == 0:
        return "∞" if num else format_ratio(1.0)
    if num >= 10**6 * den:
        return f"{format_count(num // den)}×"
    if 100 * num < den:
        return "<0.01×"
    return format_ratio(num / den if max(num, den) < 2**1000 else (num * 10**6 // den) / 10**6)


def _table(title: str) -> Table:
    return Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
    )


def _fit(
    build: Callable[[Sequence[str], Sequence[str]], Table],
    headers: list[str],
    drops: Sequence[str],
    width: int | None,
) -> Table:
    """The table with the fewest optional columns left out that fits ``width``."""
    keep, dropped = list(headers), []
    table = build(keep, dropped)
    if width is None:
        return table
    console = Console(width=10_000)  # measure unclamped: the natural width of the table

    def natural(t: Table) -> int:
        return Measurement.get(console, console.options, t).maximum

    for header in drops:
        if natural(table) <= width:
            break
        keep.remove(header)
        dropped.append(header)
        table = build(keep, dropped)
    if natural(table) > width:
        for column in table.columns:  # still too wide: wrap digits rather than cut them
            column.no_wrap = False
            column.overflow = "fold"
    return table


def tree_renderable(plan: Plan, width: int | None = None) -> RichTree | Text:
    """The bracketing drawn as a rich tree; each product shows its shape and mults.

    Examples
    --------
    >>> from chainorder.plan import plan
    >>> tree_renderable(plan("3,4,5")).label
    'J2..J1  5×3 (dense) = 60 mults'

    Notes
    -----
    O(L); beyond 64 links, or when ``width`` is too narrow for its depth, a one-paragraph
    summary (depth, the top split, the largest product) instead of the drawing.
    """
    flat, shapes = plan.flat, plan.shapes
    if plan.n_links > MAX_DRAWN_LINKS:
        return Text(_tree_summary(plan))
    d = plan.chain.dims

    def label(i: int) -> str:
        rows, cols = shapes.rows[i], shapes.cols[i]
        kind = shapes.structure[i].value
        if flat.is_leaf(i):
            name = plan.chain.names[flat.lo[i] - 1]
            what = f"{kind}: {name}" if shapes.structure[i] is Structure.DIAGONAL else kind
            return f"J{flat.lo[i]}  {_width(rows)}×{_width(cols)} ({what})"
        a, b = flat.left[i], flat.right[i]
        m = product_mults(
            d[flat.hi[a]],
            d[flat.hi[b]],
            d[flat.lo[b] - 1],
            shapes.structure[a],
            shapes.structure[b],
        )
        shape = f"{_width(rows)}×{_width(cols)}"
        return f"J{flat.hi[i]}..J{flat.lo[i]}  {shape} ({kind}) = {format_count(m)} mults"

    if width is not None:
        depth = [0] * len(flat.lo)
        for i in range(flat.root, -1, -1):  # parents after children: walk from the root
            if not flat.is_leaf(i):
                depth[flat.left[i]] = depth[flat.right[i]] = depth[i] + 1
        need = max(4 * depth[i] + len(label(i)) for i in range(len(flat.lo)))
        if need > width:
            return Text(
                f"(tree not drawn: it needs {need} columns, {width} are available; "
                "see the expression or --json)"
            )
    root = RichTree(label(flat.root))
    stack = [(flat.root, root)]
    while stack:
        i, node = stack.pop()
        if flat.is_leaf(i):
            continue
        for child in (flat.left[i], flat.right[i]):
            stack.append((child, node.add(label(child))))
    return root


def _tree_summary(plan: Plan) -> str:
    """Depth, top split and costliest product of a tree too long to draw; O(L)."""
    flat, d = plan.flat, plan.chain.dims
    depth = [0] * len(flat.lo)
    costliest, most = flat.root, -1
    for i in range(flat.root, -1, -1):  # parents after children: walk from the root
        if not flat.is_leaf(i):
            a, b = flat.left[i], flat.right[i]
            depth[a] = depth[b] = depth[i] + 1
            kinds = plan.shapes.structure
            m = product_mults(d[flat.hi[a]], d[flat.hi[b]], d[flat.lo[b] - 1], kinds[a], kinds[b])
            if m > most:
                costliest, most = i, m
    top = flat.root
    left, right = flat.left[top], flat.right[top]
    split = (
        f"top product J{flat.hi[left]}..J{flat.lo[left]} · J{flat.hi[right]}..J{flat.lo[right]}"
        if left >= 0
        else "one link"
    )
    c = costliest
    return (
        f"(tree of {plan.n_links} links summarised, not drawn: more than {MAX_DRAWN_LINKS}; "
        f"depth {max(depth)}; {split}; costliest product J{flat.hi[c]}..J{flat.lo[c]} "
        f"= {format_count(max(most, 0))} mults; full tree: --json or --save)"
    )


_SCHEDULE_DROPS = ("FLOPs", "left", "right", "product")


def schedule_table(
    plan: Plan, setting: Setting | str = Setting.GIVEN, width: int | None = None
) -> Table:
    """The product steps of ``plan`` in execution order, with shapes and costs.

    ``width``: optional columns are dropped (and named in the caption) until it fits.

    Examples
    --------
    >>> from chainorder.plan import plan
    >>> schedule_table(plan("3,4,5,6")).row_count
    2

    Notes
    -----
    O(L); over :data:`MAX_LISTED_STEPS` products only the first and last 100 are listed,
    with a row saying how many are not.
    """
    setting = as_setting(setting)
    steps = plan.schedule(setting)
    justify = {"step": "right", "mults": "right", "FLOPs": "right"}
    rows = [
        (
            str(s.number),
            f"{s.label(s.left_links)}·{s.label(s.right_links)}",
            _shape(s.left_shape, s.left_structure),
            _shape(s.right_shape, s.right_structure),
            _shape(s.out_shape, s.out_structure),
            format_count(s.mults),
            format_count(s.flops),
        )
        for s in _listed(steps)
    ]
    hidden = len(steps) - len(rows)
    note = ""
    if hidden > 0:
        rows.insert(_STEPS_SHOWN, ("…", "…", "…", "…", "…", "…", "…"))
        note = (
            f"; {hidden} of {len(steps)} steps not listed (the first and last {_STEPS_SHOWN} "
            "are): the full schedule is in --json or --save"
        )
    headers = ["step", "product", "left", "right", "result", "mults", "FLOPs"]

    def build(keep: Sequence[str], dropped: Sequence[str]) -> Table:
        table = _table(f"schedule ({setting.value} setting, execution order)")
        for header in keep:
            table.add_column(header, justify=justify.get(header, "left"), no_wrap=True)  # type: ignore[arg-type]
        index = [headers.index(h) for h in keep]
        for cells in rows:
            table.add_row(*(cells[k] for k in index))
        table.caption = (
            "shapes rows×cols; 'diag' = stored as its diagonal"
            + (f" ({', '.join(dropped)} left out to fit {width} columns)" if dropped else "")
            + note
        )
        table.caption_justify = "left"
        return table

    return _fit(build, headers, _SCHEDULE_DROPS, width)


def _listed(steps: list[Any]) -> list[Any]:
    if len(steps) <= MAX_LISTED_STEPS:
        return steps
    return steps[:_STEPS_SHOWN] + steps[-_STEPS_SHOWN:]


def _shape(shape: tuple[int, int], structure: Structure) -> str:
    text = f"{_width(shape[0])}×{_width(shape[1])}"
    return f"{text} diag" if structure is Structure.DIAGONAL else text
