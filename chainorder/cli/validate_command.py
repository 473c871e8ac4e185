"""``chainorder validate``: run forward, reverse and optimal on real Jacobians, set measured
time, memory and GFLOP/s next to the predictions, and check that the Jacobians agree."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated

import typer

from chainorder.cli.common import DimsOption, require_dims, user_errors
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
        "  chainorder validate --dims 64,relu,32,tanh,10 --matrix-free --all-plans",
        "Exit status: 0 when every Jacobian agrees with forward mode's within the dtype's "
        "tolerance, 1 when one does not, 2 on bad input or when the run would not fit "
        "--max-memory (checked before anything is allocated).",
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
        str, typer.Option("--backend", help="Array library: numpy or cupy (NVIDIA GPU).")
    ] = "numpy",
    dtype: Annotated[
        str, typer.Option("--dtype", help="float64, float32, complex128, ...")
    ] = "float64",
    repeat: RepeatOption = 5,
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
    matrix_free: Annotated[
        bool,
        typer.Option("--matrix-free", help="Run matrix-free plans (JVPs/VJPs) on real layers."),
    ] = False,
    all_plans: Annotated[
        bool,
        typer.Option("--all-plans", help="With --matrix-free: every plan (short chains)."),
    ] = False,
) -> None:
    """Run plans on real Jacobians; print predicted next to measured figures (see _HELP)."""
    dims = require_dims(dims)
    if matrix_free:  # issue 10: chainorder.cli.matfree_command
        from chainorder.cli.matfree_command import matfree_validation_output

        with user_errors():
            text, ok = matfree_validation_output(
                dims, setting=setting, repeat=repeat, seed=seed, dtype=dtype,
                all_plans=all_plans, max_memory=max_memory, as_json=as_json,
                unsupported={"--backend": backend != "numpy", "--all-trees": all_trees,
                             "--rtol": rtol is not None},
            )  # fmt: skip
        typer.echo(text, nl=False)
        raise typer.Exit(0 if ok else 1)
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
            max_memory=max_memory,
        )
        text = report.to_json() + "\n" if as_json else render_validation(report, terminal_width())
    typer.echo(text, nl=False)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``validate`` to ``app``."""
    app.command("validate", help=_HELP)(validate_command)
