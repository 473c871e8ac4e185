"""Shared pieces of the CLI: the typer app, the stderr console and error reporting."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from chainorder._version import __version__
from chainorder.errors import ChainorderError

__all__ = [
    "DimsOption",
    "app",
    "check_output_path",
    "err_console",
    "fail",
    "out_console",
    "require_dims",
    "user_errors",
]

app = typer.Typer(
    name="chainorder",
    help=(
        "Plan, cost and check the order in which a chain of Jacobians J_L···J_1 is multiplied: "
        "exact optimal bracketing next to pure forward (JVP) and reverse (VJP) mode."
    ),
    no_args_is_help=True,
    epilog=(
        "Examples: chainorder plan --dims 784,512,512,10  ·  "
        "chainorder plan --dims 784,512,tanh,512,tanh,10 --setting streamed --steps  ·  "
        "chainorder validate --dims 4096,64,4096,64,4096  ·  "
        "chainorder trace examples/sqrt_cos.py:f --arg x=1.0"
    ),
    add_completion=False,
    pretty_exceptions_enable=False,
)

out_console = Console(highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """Print ``error: message`` as one line on stderr and exit with status 2."""
    err_console.print(f"error: {message}", markup=False)
    raise typer.Exit(2)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn any :class:`~chainorder.errors.ChainorderError` into :func:`fail`."""
    try:
        yield
    except ChainorderError as exc:
        fail(str(exc))


#: The ``--dims`` option shared by the commands that take a chain spec.
DimsOption = Annotated[
    str | None,
    typer.Option(
        "--dims",
        "-d",
        help=(
            "Chain spec: widths d_0..d_L separated by commas or spaces; a word (tanh, relu, "
            "sigmoid, diag, ...) inserts an elementwise link at the current width."
        ),
    ),
]


def require_dims(dims: str | None) -> str:
    """``dims`` itself, or one line on stderr and exit 2 when ``--dims`` was not given."""
    if dims is None:
        fail("missing --dims: give the chain widths, e.g. --dims 784,512,tanh,512,tanh,10")
    return dims


def check_output_path(option: str, path: Path) -> None:
    """Fail (exit 2) before any work when ``path`` cannot be written as a file."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        fail(f"{option} {str(path)!r} is a directory; expected a file path")
    if not folder.is_dir():
        fail(f"{option} {str(path)!r}: folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        fail(f"{option} {str(path)!r}: folder {str(folder)!r} is not writable")


def _version_callback(value: bool) -> None:
    if value:
        out_console.print(f"chainorder {__version__}", markup=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """Plan, cost and check Jacobian chain products."""
