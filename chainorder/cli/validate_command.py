"""``chainorder validate``: run forward, reverse and optimal on real Jacobians, set measured
time, memory and GFLOP/s next to the predictions, and check that the Jacobians agree."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated

import typer

from chainorder.cli.common import DimsOption, require_dims, user_errors
from chainorder.errors import SpecError
from chainorder.memory_guard import DEFAULT_MEMORY_FRACTION
from chainorder.report.validate_tables import render_validation
from chainorder.runner import MAX_ALL_TREES_LINKS, MAX_REPEAT
from chainorder.validate import validate

__all__ = [
    "MaxMemoryOption",
    "RepeatOption",
    "SeedOption",
    "register",
    "terminal_width",
    "validate_command",
]

#: ``--seed``, shared by ``validate`` and ``bench``.
SeedOption = Annotated[
    int, typer.Option("--seed", help="Seed of the Jacobians, network and input (0 or more).")
]

#: ``--repeat``, shared by ``validate`` and ``bench``.
RepeatOption = Annotated[
    int,
    typer.Option(
        "--repeat",
        help=f"Timed runs of each plan or method, 1 to {MAX_REPEAT} (best shown), after a warm-up.",
    ),
]

#: ``--max-memory``, shared by ``validate`` and ``bench``.
MaxMemoryOption = Annotated[
    str | None,
    typer.Option(
        "--max-memory",
        help=(
            "Refuse to start when the predicted bytes exceed this, e.g. 2GiB "
            f"(default: {DEFAULT_MEMORY_FRACTION:.0%} of the available memory)."
        ),
    ),
]


def terminal_width() -> int | None:
    """Columns to render for: ``$COLUMNS``, else the terminal's; None when piped (no limit)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


# one line per paragraph: the help renderer wraps paragraphs and keeps single newlines
_HELP = "\n\n".join(
    [
        "Run plans on real Jacobians: predicted mults, FLOPs and memory next to measured time, "
        "peak memory and GFLOP/s, and the numerical agreement of every Jacobian.",
        "Examples:",
        "  chainorder validate --dims 784,512,tanh,512,tanh,10",
        "  chainorder validate --dims 4096,64,4096,64,4096 --setting streamed",
        "  chainorder validate --dims 30,35,15,5,10,20,25 --all-trees --json",
        "  chainorder validate --dims 8000,200,8000,200,8000 --backend dask --workers 2 "
        "--memory-per-worker 2GiB",
        "  chainorder validate --dims 64,relu,32,tanh,10 --matrix-free --all-plans",
        "  chainorder validate --dims 900,1000,tanh,1100,tanh,1000,tanh,1 --setting streamed "
        "--memory-limit 14MiB",
        "Exit status: 0 when every Jacobian agrees with forward mode's within the dtype's "
        "tolerance, 1 when one does not, 2 on bad input or when the run would not fit "
        "--max-memory (checked before anything is allocated).",
        "With --backend dask the plans run on a dask.distributed LocalCluster (or --scheduler): "
        "the limit is per worker (--memory-per-worker; the working set of each worker is "
        "checked against it, the rest may spill to disk), and measured time and per-worker peak "
        "memory (Dask's sampling) are set next to the predictions.",
    ]
)


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
        str,
        typer.Option(
            "--backend",
            help="Array library: numpy, cupy (NVIDIA GPU) or dask (a Dask cluster).",
        ),
    ] = "numpy",
    dtype: Annotated[
        str, typer.Option("--dtype", help="float64, float32, complex128, ...")
    ] = "float64",
    repeat: Annotated[
        int | None,
        typer.Option(
            "--repeat",
            help=f"Timed runs of each plan, 1 to {MAX_REPEAT} (best shown); default 5 after a "
            "warm-up, 1 without warm-up for dask.",
        ),
    ] = None,
    seed: SeedOption = 0,
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
    max_memory: MaxMemoryOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", help="dask: LocalCluster worker processes (2).")
    ] = None,
    threads_per_worker: Annotated[
        int | None, typer.Option("--threads-per-worker", help="dask: threads per worker (1).")
    ] = None,
    memory_per_worker: Annotated[
        str | None,
        typer.Option("--memory-per-worker", help="dask: memory limit of each worker (2GiB)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="dask: address of a running scheduler to use instead."),
    ] = None,
    chunk_size: Annotated[
        str | None,
        typer.Option("--chunk-size", help="dask: bytes of a square block (64MiB)."),
    ] = None,
    matrix_free: Annotated[
        bool,
        typer.Option("--matrix-free", help="Run matrix-free plans (JVPs/VJPs) on real layers."),
    ] = False,
    all_plans: Annotated[
        bool,
        typer.Option("--all-plans", help="With --matrix-free: every plan (short chains)."),
    ] = False,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="Streamed setting: run the cheapest plan that fits (e.g. 64MiB) on a seeded "
            "MLP; measured peak, recomputations and Jacobian against the predictions.",
        ),
    ] = None,
) -> None:
    """Run plans on real Jacobians; print predicted next to measured figures (see _HELP)."""
    dims = require_dims(dims)
    if memory_limit is not None:  # issue 11: chainorder.checkpoint.run
        from chainorder.cli.checkpoint_command import checkpoint_validation_output

        with user_errors():
            if setting.strip().lower() != "streamed" or backend != "numpy" or matrix_free:
                raise SpecError(
                    "--memory-limit runs the streamed setting on NumPy: use --setting streamed"
                )
            text, ok = checkpoint_validation_output(
                dims, memory_limit, dtype, seed, 3 if repeat is None else repeat, max_memory,
                as_json,
            )  # fmt: skip
        typer.echo(text, nl=False)
        raise typer.Exit(0 if ok else 1)
    dask_options = {
        "--workers": workers,
        "--threads-per-worker": threads_per_worker,
        "--memory-per-worker": memory_per_worker,
        "--scheduler": scheduler,
        "--chunk-size": chunk_size,
    }
    if matrix_free:  # issue 10: chainorder.cli.matfree_command
        from chainorder.cli.matfree_command import matfree_validation_output

        with user_errors():
            unsupported = {"--backend": backend != "numpy", "--all-trees": all_trees,
                           "--rtol": rtol is not None}
            unsupported.update({k: v is not None for k, v in dask_options.items()})
            text, ok = matfree_validation_output(
                dims, setting=setting, repeat=5 if repeat is None else repeat, seed=seed,
                dtype=dtype, all_plans=all_plans, max_memory=max_memory, as_json=as_json,
                unsupported=unsupported,
            )  # fmt: skip
        typer.echo(text, nl=False)
        raise typer.Exit(0 if ok else 1)
    if backend.strip().lower() == "dask":
        with user_errors():
            text, ok = _validate_dask(
                dims,
                setting,
                dtype,
                repeat,
                seed,
                all_trees,
                rtol,
                max_memory,
                as_json,
                dask_options,
            )
        typer.echo(text, nl=False)
        if not ok:
            raise typer.Exit(1)
        return
    with user_errors():
        given = [name for name, value in dask_options.items() if value is not None]
        if given:
            raise SpecError(f"{', '.join(given)} only apply with --backend dask")
        repeat = 5 if repeat is None else repeat
        report = validate(
            dims,
            setting=setting,
            backend=backend,
            dtype=dtype,
            repeat=repeat,
            seed=seed,
            all_trees=all_trees,
            rtol=rtol,
            max_memory=max_memory,
        )
        text = report.to_json() + "\n" if as_json else render_validation(report, terminal_width())
    typer.echo(text, nl=False)
    if not report.ok:
        raise typer.Exit(1)


def _validate_dask(
    dims: str,
    setting: str,
    dtype: str,
    repeat: int | None,
    seed: int,
    all_trees: bool,
    rtol: float | None,
    max_memory: str | None,
    as_json: bool,
    options: dict[str, object],
) -> tuple[str, bool]:
    """``validate --backend dask``: the report's text and whether the Jacobians agree."""
    from chainorder.dask_report import render_dask_validation, validate_dask

    if setting.strip().lower() != "given":
        raise SpecError("--backend dask runs the given setting only (seeded Jacobians)")
    if all_trees:
        raise SpecError("--all-trees is not available with --backend dask")
    if max_memory is not None:
        raise SpecError("with --backend dask the limit is per worker: use --memory-per-worker")
    report = validate_dask(
        dims,
        workers=2 if options["--workers"] is None else options["--workers"],
        memory_per_worker=options["--memory-per-worker"] or "2GiB",
        threads_per_worker=options["--threads-per-worker"] or 1,
        scheduler=options["--scheduler"],
        dtype=dtype,
        repeat=1 if repeat is None else repeat,
        seed=seed,
        rtol=rtol,
        chunk_bytes=options["--chunk-size"],
    )
    text = report.to_json() + "\n" if as_json else render_dask_validation(report, terminal_width())
    return text, report.ok


def register(app: typer.Typer) -> None:
    """Add ``validate`` to ``app``."""
    app.command("validate", help=_HELP)(validate_command)
