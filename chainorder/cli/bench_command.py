"""``chainorder bench``: run a named suite and write a benchmark table (and a plot)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from chainorder.atomic import write_atomic
from chainorder.bench import count_rows, run_suite, suite_cases, suite_names
from chainorder.cli.common import check_output_path, err_console, fail, user_errors
from chainorder.cli.validate_command import (
    MaxMemoryOption,
    RepeatOption,
    SeedOption,
    terminal_width,
)
from chainorder.report.bench_tables import FORMATS, plot_predicted_vs_measured, render

__all__ = ["bench_command", "register"]

# one line per paragraph: the help renderer wraps paragraphs and keeps single newlines
_HELP = "\n\n".join(
    [
        "Run a benchmark suite: every plan and baseline on the same data, predicted next to "
        "measured, as a table (terminal, Markdown, CSV, JSON or LaTeX).",
        "Examples:",
        "  chainorder bench --suite mlp",
        "  chainorder bench --suite hourglass --format md --out hourglass.md",
        "  chainorder bench -s random -f csv -o random.csv --plot random.png",
        "  chainorder bench --suite mlp --memory-limit 8MiB",
        "Suites: mlp (784,512,tanh,512,tanh,10), hourglass (4096,64,4096,64,4096), widening, "
        "narrowing, random (5 seeded chains, L = 6, every bracketing), smoke (tiny), all.",
        "Every case is planned and its memory checked against --max-memory before the first "
        "array is created; exit status 2 on bad input or when a case would not fit.",
    ]
)


def bench_command(
    suite: Annotated[
        str, typer.Option("--suite", "-s", help=f"Suite to run: {', '.join(suite_names())}.")
    ] = "mlp",
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"Output format: {', '.join(FORMATS)}.")
    ] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the table to this file (atomic).")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also plot predicted FLOPs vs measured time (PNG)."),
    ] = None,
    repeat: RepeatOption = 3,
    seed: SeedOption = 0,
    threads: Annotated[
        int | None,
        typer.Option("--threads", help="Limit NumPy's BLAS threads (needs threadpoolctl)."),
    ] = None,
    frameworks: Annotated[
        bool,
        typer.Option(
            "--frameworks/--no-frameworks",
            help="Compare with JAX / PyTorch jacfwd and jacrev where installed.",
        ),
    ] = True,
    memory: Annotated[
        bool,
        typer.Option("--memory/--no-memory", help="Measure each plan's peak memory too."),
    ] = True,
    max_memory: MaxMemoryOption = None,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="Run each chain of the suite as a streamed MLP with the cheapest plan that "
            "fits this limit (e.g. 64MiB): predicted vs measured peak and recomputations.",
        ),
    ] = None,
) -> None:
    """Run a benchmark suite; write its table (see _HELP)."""
    if memory_limit is not None:  # issue 11
        _bench_memory_limited(suite, memory_limit, seed, repeat, max_memory, out)
        return
    if fmt not in FORMATS:
        fail(f"unknown --format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    if threads is not None and threads < 1:
        fail(f"--threads must be at least 1, got {threads}")
    if out is not None:
        check_output_path("--out", out)
    if plot is not None:
        check_output_path("--plot", plot)
        try:
            import matplotlib  # noqa: F401  (fail before running a long suite)
        except ImportError:
            fail("--plot needs matplotlib: pip install 'jacobian-chainorder[plot]'")
    with user_errors():
        suite_cases(suite)  # unknown suite: one line, exit 2
        total = count_rows(suite)
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=not err_console.is_terminal,  # not a terminal: no bar, no stray newline
        ) as progress:
            task = progress.add_task(f"suite {suite}", total=total)

            def advance(row: object) -> None:
                progress.update(task, advance=1, description=f"{row.case}: {row.method}")  # type: ignore[attr-defined]

            result = run_suite(
                suite,
                repeat=repeat,
                seed=seed,
                measure_memory=memory,
                frameworks=frameworks,
                blas_threads=threads,
                max_memory=max_memory,
                on_row=advance,
            )
        text = render(result, fmt, terminal_width() if out is None else None)
        if out is not None:
            write_atomic(out, text)
        if plot is not None:
            plot_predicted_vs_measured(result, plot)
    if out is None:
        typer.echo(text, nl=False)  # a table wider than the terminal comes as blocks of lines
    else:
        err_console.print(f"wrote {len(result.rows)} rows to {out}", markup=False)
    if plot is not None:
        err_console.print(f"wrote plot to {plot}", markup=False)


def _bench_memory_limited(
    suite: str, memory_limit: str, seed: int, repeat: int, max_memory: str | None, out: Path | None
) -> None:
    """``bench --memory-limit``: every chain of the suite under the limit, measured."""
    from chainorder.cli.checkpoint_command import checkpoint_bench_output

    if out is not None:
        check_output_path("--out", out)
    with user_errors():
        specs = list(dict.fromkeys(c.spec for c in suite_cases(suite) if not c.matrix_free))
        text, ok = checkpoint_bench_output(specs, memory_limit, seed, repeat, max_memory)
        if out is not None:
            write_atomic(out, text)
    if out is None:
        typer.echo(text, nl=False)
    else:
        err_console.print(f"wrote {out}", markup=False)
    if not ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``bench`` to ``app``."""
    app.command("bench", help=_HELP)(bench_command)
