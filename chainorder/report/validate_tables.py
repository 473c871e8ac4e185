"""Render a :class:`chainorder.validate.ValidationReport`: predicted next to measured figures.

Rendering only (nothing is measured here). :func:`render_validation` gives the whole text the
``validate`` command prints: a table when it fits the width, otherwise one block of lines per
plan, so that no number is ever cut; the footer lines are wrapped between words only. Counts
and bytes use :func:`chainorder.units.format_count` and :func:`chainorder.units.format_bytes`.
"""

from __future__ import annotations

import io
import re
import textwrap
from typing import TYPE_CHECKING

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from chainorder.units import format_bytes, format_count

if TYPE_CHECKING:  # rendering only: the report classes arrive as arguments
    from chainorder.validate import PlanMeasurement, ValidationReport

__all__ = [
    "render_validation",
    "table_text",
    "table_width",
    "validation_legend",
    "validation_lines",
    "validation_summary",
    "validation_table",
    "wrap_words",
]


def table_width(table: Table) -> int:
    """The width a rich table needs so that no cell is folded or cut.

    Examples
    --------
    >>> from rich.table import Table
    >>> t = Table("n", box=None, show_header=False, padding=0)
    >>> t.add_row("123,456,789")
    >>> table_width(t)
    11

    Notes
    -----
    O(cells).
    """
    probe = Console(file=io.StringIO(), width=100_000, color_system=None)
    return Measurement.get(probe, probe.options, table).maximum


def table_text(table: Table) -> str:
    """A rich table as plain text at :func:`table_width` (columns never squeezed).

    Examples
    --------
    >>> from rich.table import Table
    >>> t = Table("n")
    >>> t.add_row("123,456,789")
    >>> "123,456,789" in table_text(t)
    True

    Notes
    -----
    O(cells).
    """
    buffer = io.StringIO()
    console = Console(file=buffer, width=table_width(table), highlight=False, color_system=None)
    console.print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


_UNIT = re.compile(r"(\d) (B|KiB|MiB|GiB|TiB|PiB|EiB|ms|mults|FLOPs|GFLOP/s)(?=\W|$)")


def wrap_words(text: str, width: int | None) -> str:
    """``text`` wrapped at ``width`` between words only (a number is never split).

    Continuation lines are indented two spaces more than the first; a number stays on the
    line of its unit (``11.2 MiB``, ``0.5 ms``).

    Examples
    --------
    >>> print(wrap_words("peak 1,234,567 bytes of float64", 12))
    peak
      1,234,567
      bytes of
      float64
    >>> print(wrap_words("peak 11.2 MiB", 10))
    peak
      11.2 MiB

    Notes
    -----
    O(len(text)).
    """
    if width is None or len(text) <= width:
        return text
    indent = text[: len(text) - len(text.lstrip(" "))] + "  "
    glued = _UNIT.sub("\\1\u00a0\\2", text)  # textwrap splits at ASCII spaces only
    lines = textwrap.wrap(
        glued, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    )
    return "\n".join(lines).replace("\u00a0", " ")


def _title(report: ValidationReport) -> str:
    return (
        f"{report.chain.spec()} · setting {report.setting.value} · {report.backend} · "
        f"{report.dtype.name} · best of {report.repeat}"
    )


def _measured(row: PlanMeasurement) -> str:
    return format_bytes(row.measured_peak_bytes) if row.measured_peak_bytes >= 0 else "-"


def validation_table(report: ValidationReport) -> Table:
    """Predicted next to measured figures, one row per plan (units in the headers).

    Examples
    --------
    >>> from chainorder.validate import validate
    >>> [c.header for c in validation_table(validate("4,3,tanh,2", repeat=1)).columns][:3]
    ['plan', 'mults', 'FLOPs']

    Notes
    -----
    O(plans).
    """
    table = Table(title=_title(report), title_justify="left")
    table.add_column("plan", overflow="fold", min_width=7)
    headers = ("mults", "FLOPs", "pred. peak", "meas. peak", "meas/pred", "ms", "GFLOP/s")
    for header in (*headers, "rel.diff"):
        table.add_column(header, justify="right", no_wrap=True)
    for row in report.rows:
        measured = row.measured_peak_bytes >= 0
        table.add_row(
            row.label,
            format_count(row.plan.mults),
            format_count(row.plan.flops),
            format_bytes(row.predicted_peak_bytes),
            _measured(row),
            f"{row.memory_ratio:.3f}" if measured else "-",
            f"{row.time.best * 1e3:.3f}",
            f"{row.gflops:.2f}",
            f"{row.rel_diff:.1e}",
        )
    return table


def validation_legend(report: ValidationReport) -> str:
    """One line per plan: its label and the product it computes.

    Examples
    --------
    >>> from chainorder.validate import validate
    >>> print(validation_legend(validate("4,3,tanh,2", repeat=1)))
      forward  J = J3·(J2·J1)
      reverse  J = (J3·J2)·J1
      optimal  J = (J3·J2)·J1

    Notes
    -----
    O(plans · L).
    """
    width = max(len(row.label) for row in report.rows)
    return "\n".join(f"  {row.label:<{width}}  J = {row.plan.expression()}" for row in report.rows)


def validation_lines(report: ValidationReport) -> str:
    """The figures of :func:`validation_table` as one block of lines per plan (narrow widths).

    Examples
    --------
    >>> from chainorder.validate import validate
    >>> validation_lines(validate("4,3,tanh,2", repeat=1)).splitlines()[2]
    '  predicted: 36 mults, 60 FLOPs, peak 328 B'

    Notes
    -----
    O(plans).
    """
    lines = [_title(report)]
    for row in report.rows:
        measured = row.measured_peak_bytes >= 0
        meas = f"{_measured(row)} ({row.memory_ratio:.3f}× predicted)" if measured else "-"
        lines += [
            f"{row.label}: J = {row.plan.expression()}",
            f"  predicted: {format_count(row.plan.mults)} mults, "
            f"{format_count(row.plan.flops)} FLOPs, peak {format_bytes(row.predicted_peak_bytes)}",
            f"  measured:  {row.time.best * 1e3:.3f} ms, {row.gflops:.2f} GFLOP/s, peak {meas}",
            f"  rel. diff vs forward: {row.rel_diff:.1e}",
        ]
    return "\n".join(lines)


def validation_summary(report: ValidationReport) -> list[str]:
    """The lines under the figures: units, what memory includes, BLAS, and the verdict.

    Examples
    --------
    >>> from chainorder.validate import validate
    >>> validation_summary(validate("4,3,tanh,2", repeat=1))[-1].endswith("float64: OK")
    True

    Notes
    -----
    O(1).
    """
    dt = report.dtype.name
    return [
        f"units: mults = scalar multiplications; FLOPs = 2 per multiply-add; peaks in bytes of "
        f"{dt}; ms = best of {report.repeat} after a warm-up; GFLOP/s = predicted FLOPs / time; "
        "rel.diff = max|J - J_forward| / max|J_forward|; - = not measured",
        f"memory: {report.memory_compared}",
        f"BLAS: {report.blas}",
        f"agreement: {report.verdict}",
    ]


def render_validation(report: ValidationReport, width: int | None = None) -> str:
    """The full text of ``chainorder validate`` for a terminal of ``width`` columns.

    The table when it fits in ``width`` (or ``width`` is None: a file or a pipe), else the
    blocks of :func:`validation_lines`; long lines wrap between words. Every number is
    printed in full at any width.

    Examples
    --------
    >>> from chainorder.validate import validate
    >>> text = render_validation(validate("30,35,15,5,10,20,25", repeat=1), width=80)
    >>> "47,500 mults" in text and max(len(line) for line in text.splitlines()) <= 80
    True

    Notes
    -----
    O(plans · L) for the expressions.
    """
    table = validation_table(report)
    if width is None or table_width(table) <= width:
        parts = [table_text(table).rstrip("\n"), validation_legend(report)]
    else:
        parts = [validation_lines(report)]
    parts += validation_summary(report)
    lines = [wrap_words(line, width) for part in parts for line in part.splitlines()]
    return "\n".join(lines) + "\n"
