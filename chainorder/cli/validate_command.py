"""``chainorder validate``: run forward, reverse and optimal on real Jacobians, set measured
time, memory and GFLOP/s next to the predictions, and check that the Jacobians agree."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from chainorder.cli.common import DimsOption, fail, out_console, require_dims, user_errors
from chainorder.report.plan_tables import format_bytes, format_count
from chainorder.validate import MAX_ALL_TREES_LINKS, ValidationReport, validate

__all__ = ["register", "validate_command", "validation_lines", "validation_table"]

_EXAMPLES = """
Examples:

  chainorder validate --dims 784,512,tanh,512,tanh,10

  chainorder validate --dims 4096,64,4096,64,4096 --setting streamed --repeat 3

  chainorder validate --dims 30,35,15,5,10,20,25 --all-trees --json

Exit status: 0 when every Jacobian agrees with forward mode's within the dtype's tolerance,
1 when one does not, 2 on bad input.
"""


_WIDE = 110  # narrower terminals get one block of lines per plan instead of a table


def validation_table(report: ValidationReport) -> Table:
    """Predicted next to measured figures, one row per plan (units in the headers)."""
    dt = report.dtype.name
    table = Table(
        title=(
            f"{report.chain.spec()} · setting {report.setting.value} · {report.backend} · {dt} · "
            f"best of {report.repeat}"
        ),
        title_justify="left",
    )
    table.add_column("plan", overflow="fold", min_width=7)
    for header in (
        "mults",
        "FLOPs",
        "pred. peak",
        "meas. peak",
        "meas/pred",
        "time ms",
        "GFLOP/s",
        "rel.diff",
    ):
        table.add_column(header, justify="right", no_wrap=True)
    for row in report.rows:
        measured = row.measured_peak_bytes
        table.add_row(
            row.label,
            format_count(row.plan.mults),
            format_count(row.plan.flops),
            format_bytes(row.predicted_peak_bytes),
            format_bytes(measured) if measured >= 0 else "not measured",
            f"{row.memory_ratio:.3f}" if measured >= 0 else "-",
            f"{row.time.best * 1e3:.3f}",
            f"{row.gflops:.2f}",
            f"{row.rel_diff:.1e}",
        )
    return table


def validation_lines(report: ValidationReport) -> str:
    """The same figures as :func:`validation_table`, one block per plan (narrow terminals)."""
    lines = [
        f"{report.chain.spec()} · setting {report.setting.value} · {report.backend} · "
        f"{report.dtype.name} · best of {report.repeat}"
    ]
    for row in report.rows:
        measured = row.measured_peak_bytes
        meas = (
            f"{format_bytes(measured)} ({row.memory_ratio:.3f}× predicted)"
            if measured >= 0
            else "not measured"
        )
        lines += [
            f"{row.label}: J = {row.plan.expression()}",
            f"  predicted: {format_count(row.plan.mults)} mults, "
            f"{format_count(row.plan.flops)} FLOPs, peak {format_bytes(row.predicted_peak_bytes)}",
            f"  measured:  {row.time.best * 1e3:.3f} ms, {row.gflops:.2f} GFLOP/s, peak {meas}",
            f"  rel. diff vs forward: {row.rel_diff:.1e}",
        ]
    return "\n".join(lines)


def _legend(report: ValidationReport) -> str:
    width = max(len(row.label) for row in report.rows)
    return "\n".join(f"  {row.label:<{width}}  J = {row.plan.expression()}" for row in report.rows)


def validate_command(
    dims: DimsOption = None,
    setting: Annotated[
        str,
        typer.Option(
            "--setting",
            help=(
                "'given': seeded random Jacobians; 'streamed': a seeded MLP of the chain "
                "forms each Jacobian from its activation."
            ),
        ),
    ] = "given",
    backend: Annotated[
        str, typer.Option("--backend", help="Array library: numpy or cupy (NVIDIA GPU).")
    ] = "numpy",
    dtype: Annotated[
        str, typer.Option("--dtype", help="float64, float32, complex128, ...")
    ] = "float64",
    repeat: Annotated[
        int, typer.Option("--repeat", help="Timed runs per plan (best is shown), after a warm-up.")
    ] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the Jacobians / network.")] = 0,
    all_trees: Annotated[
        bool,
        typer.Option(
            "--all-trees",
            help=f"Run every bracketing (chains of at most {MAX_ALL_TREES_LINKS} links).",
        ),
    ] = False,
    rtol: Annotated[
        float | None,
        typer.Option("--rtol", help="Agreement tolerance (default: by dtype, 1e-9 for float64)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run plans on real Jacobians: predicted mults, FLOPs and memory next to measured time,
    peak memory and GFLOP/s, and the numerical agreement of every Jacobian."""
    dims = require_dims(dims)
    if repeat < 1:
        fail(f"--repeat must be at least 1, got {repeat}")
    if rtol is not None and not rtol > 0:
        fail(f"--rtol must be positive, got {rtol}")
    with user_errors():
        report = validate(
            dims,
            setting=setting,
            backend=backend,
            dtype=dtype,
            repeat=repeat,
            seed=seed,
            all_trees=all_trees,
            rtol=rtol,
        )
    if as_json:
        typer.echo(report.to_json())
    else:
        out = out_console
        if out.width >= _WIDE:
            out.print(validation_table(report))
            out.print(_legend(report), markup=False, soft_wrap=True)
        else:
            out.print(validation_lines(report), markup=False, soft_wrap=True)
        out.print(
            f"units: mults = scalar multiplications; FLOPs = 2 per multiply-add; peaks in bytes "
            f"of {report.dtype.name}; time = best of {report.repeat} after a warm-up; "
            "GFLOP/s = predicted FLOPs / time; rel.diff = max|J - J_forward| / max|J_forward|",
            markup=False,
            soft_wrap=True,
        )
        out.print(f"memory: {report.memory_compared}", markup=False)
        out.print(f"BLAS: {report.blas}", markup=False)
        verdict = "OK" if report.ok else "FAILED"
        out.print(
            f"agreement: largest relative difference {report.max_difference:.2e} "
            f"(normwise, vs forward mode); tolerance {report.tolerance:.0e} for "
            f"{report.dtype.name}: {verdict}",
            markup=False,
        )
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``validate`` to ``app``."""
    app.command("validate", help=validate_command.__doc__ + "\n" + _EXAMPLES)(validate_command)
