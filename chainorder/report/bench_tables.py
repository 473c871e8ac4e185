"""Render benchmark results: rich table, Markdown, CSV, JSON, LaTeX, and an optional plot.

Rendering only: every function takes a :class:`chainorder.bench.BenchResult` and returns
text (or writes a PNG); nothing is measured here. Every column names its unit. The plot
needs matplotlib (the ``plot`` extra) and is imported only when asked for.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from chainorder.bench import BenchResult, BenchRow
from chainorder.errors import ChainorderError

__all__ = [
    "FORMATS",
    "PlotUnavailableError",
    "plot_predicted_vs_measured",
    "render",
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
    ("predicted_peak_bytes", "pred. peak (bytes)"),
    ("measured_peak_bytes", "meas. peak (bytes)"),
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
    if key in ("predicted_mults", "predicted_flops", "predicted_peak_bytes", "measured_peak_bytes"):
        return f"{value:,}"
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


def _table_text(result: BenchResult) -> str:
    """The rich table as plain text at its natural width (columns never squeezed)."""
    table = rich_table(result)
    probe = Console(file=io.StringIO(), width=1000, color_system=None)
    width = Measurement.get(probe, probe.options, table).maximum
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, highlight=False, color_system=None)
    console.print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def to_markdown(result: BenchResult) -> str:
    """A GitHub Markdown table with a one-line caption.

    Examples
    --------
    >>> from chainorder.bench import BenchResult
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
    >>> from chainorder.bench import BenchResult
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


_RENDERERS: dict[str, Callable[[BenchResult], str]] = {
    "table": _table_text,
    "md": to_markdown,
    "csv": to_csv,
    "json": to_json,
    "latex": to_latex,
}


def render(result: BenchResult, fmt: str = "table") -> str:
    """``result`` as text in ``fmt`` (one of :data:`FORMATS`).

    Raises
    ------
    ChainorderError
        Unknown format (the message lists the valid ones).

    Examples
    --------
    >>> from chainorder.bench import BenchResult
    >>> render(BenchResult("demo", (), 3, 0, "float64"), "csv").split(",")[:3]
    ['suite', 'case', 'chain']

    Notes
    -----
    O(rows).
    """
    if fmt not in _RENDERERS:
        raise _FormatError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
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
