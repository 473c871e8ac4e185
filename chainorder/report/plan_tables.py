"""Rendering of plans for people: rich tables and trees, human units. Rendering only.

Every number printed carries its unit: ``mults`` (scalar multiplications), ``FLOPs`` (2 per
multiply-add) and bytes (binary prefixes, for the plan's dtype).
"""

from __future__ import annotations

from collections.abc import Mapping

from rich import box
from rich.table import Table
from rich.text import Text
from rich.tree import Tree as RichTree

from chainorder.chain import Chain, Structure
from chainorder.cost import node_shapes, product_mults
from chainorder.memory import Setting, as_setting
from chainorder.plan import Plan

__all__ = [
    "MAX_DRAWN_LINKS",
    "chain_summary",
    "comparison_table",
    "format_bytes",
    "format_count",
    "format_ratio",
    "schedule_table",
    "short_expression",
    "tree_renderable",
]

#: Trees with more links than this are not drawn (the expression and JSON still are).
MAX_DRAWN_LINKS = 64
_MAX_EXPRESSION = 400


def format_count(n: int) -> str:
    """Exact integer with thousands separators; scientific beyond 10^18.

    Examples
    --------
    >>> format_count(6635520)
    '6,635,520'
    >>> format_count(12 * 10**27)
    '1.200e+28'

    Notes
    -----
    O(1).
    """
    return f"{n:,}" if abs(n) < 10**18 else f"{n:.3e}"


def format_bytes(n: int) -> str:
    """Bytes with binary prefixes, three significant figures.

    Examples
    --------
    >>> format_bytes(512), format_bytes(6635520)
    ('512 B', '6.33 MiB')

    Notes
    -----
    O(1).
    """
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{n} B" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_ratio(x: float) -> str:
    """A speedup such as ``31.6×``.

    Examples
    --------
    >>> format_ratio(31.57), format_ratio(1.0)
    ('31.6×', '1.00×')

    Notes
    -----
    O(1).
    """
    if x == float("inf"):
        return "∞"
    return f"{x:.3g}×" if x >= 10 else f"{x:.2f}×"


def chain_summary(chain: Chain) -> str:
    """One line: widths, links, elementwise links.

    Examples
    --------
    >>> chain_summary(Chain.parse("784,512,tanh,10"))
    'd = 784 → 512 → 512 → 10  (L = 3 links: 2 dense, 1 diagonal [tanh])'

    Notes
    -----
    O(L).
    """
    widths = (
        " → ".join(map(str, chain.dims))
        if chain.n_links <= 24
        else (
            " → ".join(map(str, chain.dims[:8])) + " → … → " + " → ".join(map(str, chain.dims[-4:]))
        )
    )
    diag = [chain.names[i] for i, s in enumerate(chain.structures) if s is Structure.DIAGONAL]
    dense = chain.n_links - len(diag)
    kinds = f"{dense} dense"
    if diag:
        names = sorted(set(diag))
        kinds += f", {len(diag)} diagonal [{', '.join(names)}]"
    return f"d = {widths}  (L = {chain.n_links} links: {kinds})"


def short_expression(plan: Plan) -> str:
    """The bracketing, elided in the middle when longer than 400 characters.

    Examples
    --------
    >>> from chainorder.plan import plan
    >>> short_expression(plan("3,4,5"))
    'J2·J1'

    Notes
    -----
    O(L).
    """
    text = plan.expression()
    if len(text) <= _MAX_EXPRESSION:
        return text
    half = _MAX_EXPRESSION // 2
    return f"{text[:half]} … {text[-half:]}  ({len(text):,} characters; full text in --json)"


def comparison_table(
    plans: Mapping[str, Plan], setting: Setting | str = Setting.GIVEN, title: str | None = None
) -> Table:
    """Table of plans side by side: mults, FLOPs, peak memory, largest product, speedups.

    Examples
    --------
    >>> from chainorder.plan import compare_modes
    >>> comparison_table(compare_modes("3,4,5")).row_count
    3

    Notes
    -----
    O(number of plans).
    """
    setting = as_setting(setting)
    first = next(iter(plans.values()))
    table = Table(
        title=title or f"plans compared (peak memory: {setting.value} setting)",
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
    )
    table.add_column("plan", no_wrap=True)
    table.add_column("mode", no_wrap=True)
    for header in ("mults", "FLOPs", "peak mem", "largest", "vs fwd", "vs rev"):
        table.add_column(header, justify="right", no_wrap=True)
    best = min(p.mults for p in plans.values())
    for name, p in plans.items():
        style = "bold green" if p.mults == best else None
        table.add_row(
            name,
            p.mode.value,
            format_count(p.mults),
            format_count(p.flops),
            format_bytes(p.peak_bytes(setting)),
            format_bytes(p.largest_intermediate_bytes),
            format_ratio(p.speedup_vs_forward),
            format_ratio(p.speedup_vs_reverse),
            style=style,
        )
    table.caption = (
        "mults = scalar multiplications; FLOPs = 2 per multiply-add (BLAS); memory in bytes "
        f"of {first.dtype.name} ({first.itemsize} B/element); largest = largest product "
        "formed; vs fwd / vs rev = speedup in mults over pure forward / reverse mode"
    )
    table.caption_justify = "left"
    return table


def tree_renderable(plan: Plan) -> RichTree | Text:
    """The bracketing drawn as a rich tree; each product shows its shape and mults.

    Examples
    --------
    >>> from chainorder.plan import plan
    >>> tree_renderable(plan("3,4,5")).label
    'J2..J1  5×3 (dense) = 60 mults'

    Notes
    -----
    O(L); not drawn beyond 64 links.
    """
    if plan.n_links > MAX_DRAWN_LINKS:
        return Text(
            f"(tree of {plan.n_links} links not drawn; more than {MAX_DRAWN_LINKS}: "
            "see the expression or --json)"
        )
    flat = plan.flat
    shapes = node_shapes(plan.chain, flat)
    d = plan.chain.dims

    def label(i: int) -> str:
        rows, cols = shapes.rows[i], shapes.cols[i]
        kind = shapes.structure[i].value
        if flat.is_leaf(i):
            name = plan.chain.names[flat.lo[i] - 1]
            what = f"{kind}: {name}" if shapes.structure[i] is Structure.DIAGONAL else kind
            return f"J{flat.lo[i]}  {rows}×{cols} ({what})"
        a, b = flat.left[i], flat.right[i]
        m = product_mults(
            d[flat.hi[a]],
            d[flat.hi[b]],
            d[flat.lo[b] - 1],
            shapes.structure[a],
            shapes.structure[b],
        )
        return f"J{flat.hi[i]}..J{flat.lo[i]}  {rows}×{cols} ({kind}) = {format_count(m)} mults"

    root = RichTree(label(flat.root))
    stack = [(flat.root, root)]
    while stack:
        i, node = stack.pop()
        if flat.is_leaf(i):
            continue
        for child in (flat.left[i], flat.right[i]):
            stack.append((child, node.add(label(child))))
    return root


def schedule_table(plan: Plan, setting: Setting | str = Setting.GIVEN) -> Table:
    """The product steps of ``plan`` in execution order, with shapes and costs.

    Examples
    --------
    >>> from chainorder.plan import plan
    >>> schedule_table(plan("3,4,5,6")).row_count
    2

    Notes
    -----
    O(L).
    """
    setting = as_setting(setting)
    table = Table(
        title=f"schedule ({setting.value} setting, execution order)",
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
    )
    for col, just in (
        ("step", "right"),
        ("product", "left"),
        ("left", "left"),
        ("right", "left"),
        ("result", "left"),
        ("mults", "right"),
        ("FLOPs", "right"),
    ):
        table.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    for s in plan.schedule(setting):
        table.add_row(
            str(s.number),
            f"{s.label(s.left_links)}·{s.label(s.right_links)}",
            _shape(s.left_shape, s.left_structure),
            _shape(s.right_shape, s.right_structure),
            _shape(s.out_shape, s.out_structure),
            format_count(s.mults),
            format_count(s.flops),
        )
    table.caption = "shapes rows×cols; 'diag' = stored as its diagonal"
    table.caption_justify = "left"
    return table


def _shape(shape: tuple[int, int], structure: Structure) -> str:
    text = f"{shape[0]}×{shape[1]}"
    return f"{text} diag" if structure is Structure.DIAGONAL else text
