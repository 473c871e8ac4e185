"""Shared pieces of the CLI: the typer app, the stderr console and error reporting.

Every way a run can go wrong for the user ends here as ONE line ``error: ...`` on stderr and
exit status 2, for every command, with no code in the commands: :class:`ChainorderGroup`
renders typer/click's own usage errors with :func:`usage_line` (never click's boxed panel) and
turns a :class:`~chainorder.errors.ChainorderError`, an unusable file path or a
``MemoryError`` that escape a command into the same one line (``trace`` catches user code's
``SystemExit`` where it runs that code; any other ``SystemExit`` passes through). Help pages
are tidied once too (:func:`tidy_help`): paragraphs re-wrap at any width, examples stay one
per line, flags show no ``<bool>`` placeholder.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from chainorder._version import __version__
from chainorder.atomic import check_writable
from chainorder.cli.dims_file import read_dims_file
from chainorder.cli.usage_errors import _sentence, click_errors, one_line, usage_line
from chainorder.errors import ChainorderError

__all__ = [
    "ChainorderCommand",
    "ChainorderGroup",
    "ChainorderTyper",
    "DimsOption",
    "app",
    "check_output_path",
    "err_console",
    "fail",
    "one_line",
    "out_console",
    "require_dims",
    "tidy_help",
    "usage_line",
    "user_errors",
]

out_console = Console(highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def fail(message: str) -> NoReturn:
    """Print ``error: message`` as one line on stderr and exit with status 2.

    Examples
    --------
    >>> try:
    ...     fail("bad --dims '3,,4': empty item at position 2")
    ... except typer.Exit as exc:
    ...     print(exc.exit_code)
    2

    Notes
    -----
    O(len(message)).
    """
    err_console.print(f"error: {one_line(message)}", markup=False, emoji=False)
    raise typer.Exit(2)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn any :class:`~chainorder.errors.ChainorderError` into :func:`fail`.

    Examples
    --------
    >>> from chainorder.errors import SpecError
    >>> try:
    ...     with user_errors():
    ...         raise SpecError("unknown word 'tanhh'")
    ... except typer.Exit as exc:
    ...     print(exc.exit_code)
    2

    Notes
    -----
    O(1).
    """
    try:
        yield
    except ChainorderError as exc:
        fail(str(exc))


_EXAMPLE_LINE = re.compile(r"^\s*(\$ )?chainorder\b")


def tidy_help(text: str | None) -> str | None:
    r"""Help text with each prose paragraph on one line and example commands one per line.

    Docstrings are written wrapped and indented; the help renderer keeps those breaks and the
    indentation, which breaks the wrapping at other widths. Paragraphs (blank-line separated)
    are joined into one line that the renderer wraps to the terminal; paragraphs of example
    command lines keep one command per line and follow their ``Examples:`` header directly.

    Examples
    --------
    >>> print(tidy_help("Run plans on\n    real Jacobians.\n\nExamples:\n\n  chainorder plan"))
    Run plans on real Jacobians.
    <BLANKLINE>
    Examples:
    chainorder plan

    Notes
    -----
    O(len(text)).
    """
    if text is None:
        return None
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if all(_EXAMPLE_LINE.match(line) for line in lines):
            if out and (out[-1].endswith(":") or _EXAMPLE_LINE.match(out[-1].splitlines()[-1])):
                out[-1] += "\n" + "\n".join(lines)
                continue
            out.append("\n".join(lines))
        else:
            out.append(" ".join(" ".join(lines).split()))
    return "\n\n".join(out)


def _tidy_params(command: Any) -> None:
    """No ``<bool>`` on flags, ``<str>`` (not ``<list[str]>``) on repeatable options."""
    for param in command.params:
        with contextlib.suppress(Exception):
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
            elif getattr(getattr(param, "type_descriptor", None), "is_list", False):
                if param.metavar is None and getattr(param, "param_type_name", "") == "option":
                    param.metavar = "<" + param.bare_type()[5:-1] + ">"
            elif getattr(param, "param_type_name", "") == "argument" and param.metavar is None:
                param.metavar = param.name.upper()


class _OneLineParsing:
    """Shared by command and group: help option without metavar, errors that name the command."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except click_errors.UsageError as exc:
            if exc.ctx is None:  # e.g. "--dims" without a value: name the command anyway
                exc.ctx = ctx
            raise


def _tidy_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    for key in ("help", "short_help", "epilog"):
        if isinstance(kwargs.get(key), str):
            kwargs[key] = tidy_help(kwargs[key])
    return kwargs


class ChainorderCommand(_OneLineParsing, TyperCommand):
    """A typer command with tidied help (see :func:`tidy_help`) and no metavar on flags."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **_tidy_kwargs(kwargs))
        _tidy_params(self)


class ChainorderGroup(_OneLineParsing, TyperGroup):
    """The root command: one-line errors for everything below it (see the module notes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **_tidy_kwargs(kwargs))
        _tidy_params(self)

    def make_context(self, info_name: str | None, args: list[str], *a: Any, **kw: Any) -> Any:
        try:
            return super().make_context(info_name, args, *a, **kw)
        except click_errors.ClickException as exc:
            _render(exc)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except click_errors.ClickException as exc:
            _render(exc)
        except ChainorderError as exc:
            fail(str(exc))
        except (PermissionError, FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            where = f" {exc.filename!r}" if exc.filename else ""
            fail(f"cannot use{where}: {exc.strerror or exc}")
        except MemoryError as exc:
            fail(
                f"out of memory while running '{_running(ctx)}'"
                f"{': ' + str(exc) if str(exc) else ''}; try a smaller problem"
            )


def _running(ctx: Any) -> str:
    """``chainorder plan``: the command line of the sub-command being run."""
    sub = getattr(ctx, "invoked_subcommand", None)
    return f"{ctx.command_path} {sub}" if sub else ctx.command_path


def _render(exc: Exception) -> NoReturn:
    if isinstance(exc, click_errors.NoArgsIsHelpError):  # bare `chainorder`: the help page
        text = exc.format_message()  # rich help pages are printed while being formatted
        if text.strip():
            typer.echo(text)
        raise typer.Exit(0)
    if isinstance(exc, click_errors.UsageError):
        fail(usage_line(exc))
    err_console.print(f"error: {_sentence(exc.format_message())}", markup=False)  # type: ignore[attr-defined]
    raise typer.Exit(getattr(exc, "exit_code", 1))


class ChainorderTyper(typer.Typer):
    """``typer.Typer`` whose commands default to :class:`ChainorderCommand`."""

    def command(self, name: str | None = None, *, cls: Any = None, **kwargs: Any) -> Any:
        return super().command(name, cls=cls or ChainorderCommand, **kwargs)


app = ChainorderTyper(
    name="chainorder",
    cls=ChainorderGroup,
    help=(
        "Plan, cost and check the order in which a chain of Jacobians J_L···J_1 is multiplied: "
        "exact optimal bracketing next to pure forward (JVP) and reverse (VJP) mode."
    ),
    no_args_is_help=True,
    epilog=(
        "Examples:\n\n"
        "chainorder plan --dims 784,512,512,10\n\n"
        "chainorder plan --dims 784,512,tanh,512,tanh,10 --setting streamed --steps\n\n"
        "chainorder validate --dims 4096,64,4096,64,4096\n\n"
        "chainorder trace examples/sqrt_cos.py:f --arg x=1.0"
    ),
    add_completion=False,
    pretty_exceptions_enable=False,
)


#: The ``--dims`` option shared by the commands that take a chain spec.
DimsOption = Annotated[
    str | None,
    typer.Option(
        "--dims",
        "-d",
        help=(
            "Chain spec: widths d_0..d_L separated by commas or spaces; a word (tanh, relu, "
            "sigmoid, diag, ...) inserts an elementwise link at the current width. @FILE reads "
            "them from a file (commas or whitespace, # comments)."
        ),
    ),
]


def require_dims(dims: str | None) -> str:
    """The spec: ``dims`` itself, or the file's (``@FILE``); one line and exit 2 if unusable.

    A missing ``--dims``, or a file that cannot be read or parsed
    (:func:`~chainorder.cli.dims_file.read_dims_file`), ends the run with one ``error:`` line.

    Examples
    --------
    >>> require_dims("784,512,10")
    '784,512,10'

    Notes
    -----
    O(1) for a spec, O(size of the file) for ``@FILE``.
    """
    if dims is None:
        fail("missing --dims: give the chain widths, e.g. --dims 784,512,tanh,512,tanh,10")
    if dims.startswith("@"):
        with user_errors():
            return read_dims_file(dims[1:])
    return dims


def check_output_path(option: str, path: Path) -> None:
    """Fail (exit 2) before any work when ``path`` cannot be written as a file.

    The check creates and removes a temporary file in the target folder
    (:func:`chainorder.atomic.check_writable`), so it is right for root too, where
    ``os.access`` says every folder is writable.

    Examples
    --------
    >>> import tempfile
    >>> check_output_path("--save", Path(tempfile.mkdtemp()) / "plan.json")
    >>> try:
    ...     check_output_path("--save", Path(tempfile.mkdtemp()) / "no" / "plan.json")
    ... except typer.Exit as exc:
    ...     print(exc.exit_code)
    2

    Notes
    -----
    O(depth of the path) system calls; nothing is left behind.
    """
    with user_errors():
        try:
            check_writable(path)
        except ChainorderError as exc:
            raise type(exc)(f"{option}: {exc}") from None


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
