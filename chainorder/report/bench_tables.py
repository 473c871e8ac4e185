"""Render benchmark results: rich table, Markdown, CSV, JSON, LaTeX, and an optional plot.

Rendering only: every function takes a :class:`chainorder.bench.BenchResult` and returns
text (or writes a PNG); nothing is measured here. Every column names its unit; counts and
bytes are written by :func:`chainorder.units.format_count` and
:func:`chainorder.units.format_bytes` (CSV and JSON keep the raw numbers). The terminal
table is never squeezed: when it is wider than the terminal, :func:`rich_lines` prints one
block of lines per method instead, so no number is cut. The plot needs matplotlib (the
``plot`` extra) and is imported only when asked for.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from typing import Any

from rich.table import Table

from chainorder.bench_rows import BenchResult, BenchRow
from chainorder.errors import ChainorderError
from chainorder.report.validate_tables import table_text, table_width, wrap_words
from chainorder.units import format_bytes, format_count

__all__ = [
    "FORMATS",
    "PlotUnavailableError",
    "plot_predicted_vs_measured",
    "render",
    "rich_lines",
    "rich_table",
    "to_csv",
    "to_json",
    "to_latex",
    "to_markdown",
]

#: Output formats of :func:`render`.
FORMATS: tuple[str, ...] = ("table", "md", "csv", "json", "latex")

_COLUMNS: tuple[tuple[str, str], ...] = (
    ("case", "case"),
    ("setting", "setting"),
    ("method", "method"),
    ("expression", "expression"),
    ("predicted_mults", "pred. mults"),
    ("predicted_flops", "pred. FLOPs"),
    ("predicted_peak_bytes", "pred. peak"),
    ("measured_peak_bytes", "meas. peak"),
    ("time_s", "time (ms)"),
    ("gflop_per_s", "GFLOP/s"),
    ("rel_diff", "rel. diff vs forward"),
    ("status", "status"),
)


class PlotUnavailableError(ChainorderError, ImportError):
    """``--plot`` was asked for but matplotlib is not installed."""


def _cell(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if key in ("predicted_mults", "predicted_flops"):
        return format_count(value)
    if key in ("predicted_peak_bytes", "measured_peak_bytes"):
        return format_bytes(value)
    if key == "time_s":
        return f"{value * 1e3:.3f}"
    if key == "gflop_per_s":
        return f"{value:.2f}"
    if key == "rel_diff":
        return f"{value:.1e}"
    return str(value)


def _header(result: BenchResult) -> str:
    env = result.environment
    return (
        f"suite {result.suite} · {result.dtype} · best of {result.repeat} after 1 warm-up · "
        f"seed {result.seed} · BLAS {env.get('blas', '?')}"
    )


def rich_table(result: BenchResult) -> Table:
    """A rich :class:`~rich.table.Table` of all rows (for the terminal)."""
    table = Table(title=_header(result), title_justify="left")
    for key, title in _COLUMNS:
        numeric = key not in ("case", "setting", "method", "expression", "status")
        table.add_column(title, justify="right" if numeric else "left", overflow="fold")
    for row in result.rows:
        data = row.to_dict()
        table.add_row(*(_cell(key, data[key]) for key, _ in _COLUMNS))
    return table


def rich_lines(result: BenchResult, width: int | None = None) -> str:
    """The table's figures as one block of lines per method, grouped by case (narrow terminals).

    Lines wrap between words at ``width``; no number is ever cut.

    Examples
    --------
    >>> from chainorder.bench_rows import BenchResult, BenchRow
    >>> row = BenchRow("s", "c", "3,4", "given", "chainorder forward", "J1", "forward",
    ...                12, 24, 96, None, 0.001, 0.024, 0.0, "ok")
    >>> print(rich_lines(BenchResult("s", (row,), 1, 0, "float64"), 80))
    suite s · float64 · best of 1 after 1 warm-up · seed 0 · BLAS ?
    c · given · 3,4
      chainorder forward: J1 (forward)
        predicted: 12 mults, 24 FLOPs, peak 96 B
        measured: 1.000 ms, 0.02 GFLOP/s, rel. diff 0.0e+00; ok
    <BLANKLINE>

    Notes
    -----
    O(rows).
    """
    lines = [_header(result)]
    group: tuple[str, str] | None = None
    for row in result.rows:
        if (row.case, row.setting) != group:
            group = (row.case, row.setting)
            lines.append(f"{row.case} · {row.setting} · {row.chain}")
        expression = f": {row.expression}" if row.expression else ""
        head = f"  {row.method}{expression} ({row.mode})"
        predicted = []
        if row.predicted_mults is not None and row.predicted_flops is not None:
            predicted.append(f"{format_count(row.predicted_mults)} mults")
            predicted.append(f"{format_count(row.predicted_flops)} FLOPs")
        if row.predicted_peak_bytes is not None:
            predicted.append(f"peak {format_bytes(row.predicted_peak_bytes)}")
        if not predicted and row.time_s is None and row.rel_diff is None:
            lines.append(f"{head}: {row.status}")
            continue
        lines.append(head)
        if predicted:
            lines.append("    predicted: " + ", ".join(predicted))
        measured = []
        if row.time_s is not None:
            measured.append(f"{_cell('time_s', row.time_s)} ms")
        if row.gflop_per_s is not None:
            measured.append(f"{_cell('gflop_per_s', row.gflop_per_s)} GFLOP/s")
        if row.measured_peak_bytes is not None:
            measured.append(f"peak {format_bytes(row.measured_peak_bytes)}")
        if row.rel_diff is not None:
            measured.append(f"rel. diff {_cell('rel_diff', row.rel_diff)}")
        lines.append(
            "    " + ("measured: " + ", ".join(measured) + "; " if measured else "") + row.status
        )
    return "\n".join(wrap_words(line, width) for line in lines) + "\n"


def _table_text(result: BenchResult, width: int | None = None) -> str:
    """The rich table at its natural width, or :func:`rich_lines` when wider than ``width``."""
    table = rich_table(result)
    if width is not None and table_width(table) > width:
        return rich_lines(result, width)
    return table_text(table)


def to_markdown(result: BenchResult) -> str:
    """A GitHub Markdown table with a one-line caption.

    Examples
    --------
    >>> from chainorder.bench_rows import BenchResult
    >>> print(to_markdown(BenchResult("demo", (), 3, 0, "float64")).splitlines()[2][:30])
    | case | setting | method | ex
    """
    lines = [f"*{_header(result)}*", ""]
    lines.append("| " + " | ".join(title for _, title in _COLUMNS) + " |")
    lines.append(
        "|"
        + "|".join(
            "---:" if k not in ("case", "setting", "method", "expression", "status") else "---"
            for k, _ in _COLUMNS
        )
        + "|"
    )
    for row in result.rows:
        data = row.to_dict()
        cells = [_cell(key, data[key]).replace("|", "\\|") for key, _ in _COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_csv(result: BenchResult) -> str:
    """CSV with raw numbers (seconds, bytes, FLOPs) and a header row of field names."""
    buffer = io.StringIO()
    fields = list(BenchRow.__dataclass_fields__)
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in result.rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.to_dict().items()})
    return buffer.getvalue()


def to_json(result: BenchResult) -> str:
    """The result as JSON (rows, units, environment)."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\^{}",
    "·": r"$\cdot$",
    "—": "--",
    "×": r"$\times$",
    "'": "'",
}


def _latex(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(result: BenchResult) -> str:
    """A LaTeX ``tabular`` (booktabs rules) with escaped text.

    Examples
    --------
    >>> from chainorder.bench_rows import BenchResult
    >>> to_latex(BenchResult("demo", (), 3, 0, "float64")).splitlines()[0]
    '% suite demo · float64 · best of 3 after 1 warm-up · seed 0 · BLAS ?'
    """
    spec = "".join(
        "l" if k in ("case", "setting", "method", "expression", "status") else "r"
        for k, _ in _COLUMNS
    )
    lines = [f"% {_header(result)}", f"\\begin{{tabular}}{{{spec}}}", r"\toprule"]
    lines.append(" & ".join(_latex(title) for _, title in _COLUMNS) + r" \\")
    lines.append(r"\midrule")
    for row in result.rows:
        data = row.to_dict()
        lines.append(" & ".join(_latex(_cell(k, data[k])) for k, _ in _COLUMNS) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


_RENDERERS: dict[str, Callable[..., str]] = {
    "table": _table_text,
    "md": to_markdown,
    "csv": to_csv,
    "json": to_json,
    "latex": to_latex,
}


def render(result: BenchResult, fmt: str = "table", width: int | None = None) -> str:
    """``result`` as text in ``fmt`` (one of :data:`FORMATS`).

    ``width`` (terminal columns) matters for ``table`` only: a table wider than it is
    printed as :func:`rich_lines`; None renders the table at its natural width (files).

    Raises
    ------
    ChainorderError
        Unknown format (the message lists the valid ones).

    Examples
    --------
    >>> from chainorder.bench_rows import BenchResult
    >>> render(BenchResult("demo", (), 3, 0, "float64"), "csv").split(",")[:3]
    ['suite', 'case', 'chain']

    Notes
    -----
    O(rows).
    """
    if fmt not in _RENDERERS:
        raise _FormatError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    if fmt == "table":
        return _table_text(result, width)
    return _RENDERERS[fmt](result)


class _FormatError(ChainorderError, ValueError):
    pass


def plot_predicted_vs_measured(result: BenchResult, path: str | os.PathLike[str]) -> None:
    """Scatter predicted FLOPs against measured time for every chainorder plan, log-log.

    One colour per case; the PNG is written atomically.

    Raises
    ------
    PlotUnavailableError
        matplotlib is not installed (``pip install 'jacobian-chainorder[plot]'``).

    Notes
    -----
    O(rows).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailableError(
            "--plot needs matplotlib: pip install 'jacobian-chainorder[plot]'"
        ) from None
    from chainorder.atomic import write_atomic

    groups: dict[str, list[tuple[float, float]]] = {}
    for row in result.rows:
        if row.method.startswith("chainorder") and row.time_s and row.predicted_flops:
            key = f"{row.case} ({row.setting})"
            groups.setdefault(key, []).append((row.predicted_flops, row.time_s))
    fig, ax = plt.subplots(figsize=(7, 5), dpi=120)
    for key, points in groups.items():
        xs, ys = zip(*points, strict=True)
        ax.scatter(xs, ys, label=key, s=18, alpha=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("predicted cost (FLOPs)")
    ax.set_ylabel("measured time (s, best of repeat)")
    ax.set_title(f"chainorder suite {result.suite}: predicted cost vs measured time")
    if groups:
        ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    write_atomic(path, buffer.getvalue())
