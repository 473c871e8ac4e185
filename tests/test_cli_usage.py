"""Usage errors, help pages and output paths of the whole CLI: one line, exit 2, no panel.

The one-line rendering lives once in ``chainorder.cli.common`` (``ChainorderGroup``); these
tests drive every command through it, and a throwaway app built the same way checks the
safety net for errors that escape a command.
"""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from chainorder import __version__
from chainorder.cli import app
from chainorder.cli.common import ChainorderGroup, ChainorderTyper, tidy_help, usage_line
from chainorder.errors import SpecError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
runner = CliRunner()
COMMANDS = ("plan", "validate", "bench", "trace")


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def assert_one_line(result, *fragments: str) -> str:
    """Exit 2, nothing on stdout, exactly one ``error:`` line on stderr holding ``fragments``."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    err = result.stderr
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("error: "), repr(err)
    assert result.stdout == ""
    for bad in ("Traceback", "╭", "│", "Usage:", "Try '"):
        assert bad not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


# ----------------------------------------------------------------- typer/click's own errors

USAGE_ERRORS = [
    (
        ["plan", "--foo"],
        ["no such option --foo for 'chainorder plan'", "see 'chainorder plan --help'"],
    ),
    (["plan", "--dim", "3,4"], ["no such option --dim", "did you mean --dims?"]),
    (["plan", "-z"], ["no such option -z for 'chainorder plan'"]),
    (["plan", "--dims"], ["option --dims of 'chainorder plan' needs a value"]),
    (["plan", "--dims", "3,4", "extra"], ["unexpected argument 'extra'", "takes options only"]),
    (["plan", "--dims", "3,4", "a", "b"], ["unexpected argument 'a b'"]),
    (
        ["validate", "--dims", "3,4", "--repeat", "x"],
        ["--repeat expects an integer, got 'x'", "see 'chainorder validate --help'"],
    ),
    (["validate", "--dims", "3,4", "--seed", "1.5"], ["--seed expects an integer, got '1.5'"]),
    (["validate", "--dims", "3,4", "--rtol", "abc"], ["--rtol expects a number, got 'abc'"]),
    (["validate", "--dims", "3,4", "--json=yes"], ["--json of 'chainorder validate' is a flag"]),
    (["validate", "--bogus"], ["no such option --bogus for 'chainorder validate'"]),
    (["bench", "--repeat", "x"], ["--repeat expects an integer, got 'x'"]),
    (["bench", "--threads", "two"], ["--threads expects an integer, got 'two'"]),
    (["bench", "--frameworks=x"], ["--frameworks of 'chainorder bench' is a flag"]),
    (["bench", "--out"], ["option --out of 'chainorder bench' needs a value"]),
    (["bench", "extra"], ["unexpected argument 'extra' for 'chainorder bench'"]),
    (["trace"], ["missing argument 'TARGET' for 'chainorder trace'"]),
    (["trace", "a.py:f", "--seed"], ["option --seed of 'chainorder trace' needs a value"]),
    (["trace", "a.py:f", "--seed", "x"], ["--seed expects an integer, got 'x'"]),
    (["trace", "a.py:f", "b.py:g"], ["unexpected argument 'b.py:g'", "takes TARGET"]),
    (["trace", "a.py:f", "--nope"], ["no such option --nope for 'chainorder trace'"]),
    (
        ["nope"],
        [
            "no such command 'nope'",
            "expected one of: plan, trace, validate, bench",
            "see 'chainorder --help'",
        ],
    ),
    (["plna"], ["no such command 'plna'", "did you mean 'plan'?"]),
    (["--versio"], ["no such option --versio for 'chainorder'", "did you mean --version?"]),
    (["--dims", "3,4"], ["no such option --dims for 'chainorder'"]),
]


@pytest.mark.parametrize(("args", "fragments"), USAGE_ERRORS, ids=lambda a: " ".join(a))
def test_usage_errors_are_one_line_and_exit_2(args: list[str], fragments: list[str]) -> None:
    assert_one_line(run(*args), *fragments)


@pytest.mark.parametrize("columns", ["40", "80", "200"])
def test_usage_errors_stay_one_line_at_any_width(columns: str) -> None:
    result = run("validate", "--dims", "3,4", "--repeat", "x" * 300, env={"COLUMNS": columns})
    assert_one_line(result, "--repeat expects an integer")


def test_library_errors_keep_their_one_line() -> None:
    assert_one_line(run("plan", "--dims", "3,abc"), "unknown word")
    assert_one_line(run("plan"), "missing --dims")


# ----------------------------------------------------------------- help and version


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("command", [*COMMANDS, None])
def test_help_pages_exit_0_fit_and_show_no_bool_metavar(command: str | None, columns: int):
    args = [command, "--help"] if command else ["--help"]
    result = run(*args, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Usage: chainorder" in text and "<bool>" not in text and "<list[" not in text
    assert max(len(line) for line in text.splitlines()) <= columns
    assert not re.search(r"\w[,.]? {3,}\w", _prose(text)), "a docstring indent leaked into text"
    assert "--help" in text and "Show this message and exit." in text


def _prose(text: str) -> str:
    """The help page's text outside the option/command boxes."""
    return "\n".join(line for line in text.splitlines() if not line.startswith(("│", "╭", "╰")))


@pytest.mark.parametrize("command", COMMANDS)
def test_help_paragraphs_rewrap_and_examples_stay_whole(command: str) -> None:
    """Every prose paragraph of a command's help reads as one run of words (no indentation or
    hard breaks from the docstring) and every example command line stays whole."""
    help_text = typer.main.get_command(app).commands[command].help
    text = run(command, "--help", env={"COLUMNS": "120"}).stdout
    flat = " ".join(text.split())
    for paragraph in help_text.split("\n\n"):
        for line in paragraph.splitlines():
            if line.startswith("chainorder ") and len(line) < 116:
                assert any(out.strip() == line for out in text.splitlines()), line
        if not paragraph.startswith(("chainorder", "Examples:")):
            assert " ".join(paragraph.split()) in flat, paragraph
    first = " ".join(help_text.split("\n\n")[0].split())
    listing = run("--help", env={"COLUMNS": "120"}).stdout.replace("│", " ")
    assert first in " ".join(listing.split())


def test_flags_have_no_value_placeholder_but_options_do() -> None:
    text = run("validate", "--help", env={"COLUMNS": "120"}).stdout
    json_line = next(line for line in text.splitlines() if line.startswith("│ --json"))
    repeat_line = next(line for line in text.splitlines() if line.startswith("│ --repeat"))
    assert "<" not in json_line and "<int>" in repeat_line


def test_version_and_bare_command() -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"chainorder {__version__}"
    bare = run()
    assert bare.exit_code == 0 and "Usage: chainorder" in bare.stdout
    assert bare.stdout.count("Usage: chainorder") == 1


def test_tidy_help_keeps_examples_one_per_line() -> None:
    text = (
        "First line\n    continued.\n\nExamples:\n\n  chainorder a\n\n  chainorder b\n\nEnd\n  x."
    )
    assert (
        tidy_help(text)
        == "First line continued.\n\nExamples:\nchainorder a\nchainorder b\n\nEnd x."
    )
    assert tidy_help(None) is None


# ----------------------------------------------------------------- output paths


def _save_args(command: str, path: Path) -> list[str]:
    if command == "plan":
        return ["plan", "--dims", "3,4", "--save", str(path)]
    if command == "bench":
        return ["bench", "--suite", "smoke", "--repeat", "1", "--no-frameworks", "--out", str(path)]
    return ["trace", f"{EXAMPLES}/product_rule.py:f", "--arg", "x=4.0", "--arg", "y=2.0",
            "--no-check", "--dot", str(path)]  # fmt: skip


@pytest.mark.parametrize("command", ["plan", "bench", "trace"])
def test_output_under_a_regular_file_is_one_line(command: str, tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep")
    target = blocker / "out.json"
    assert_one_line(run(*_save_args(command, target)), "is a file, not a folder")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert blocker.read_text() == "keep"


@pytest.mark.parametrize("command", ["plan", "bench", "trace"])
def test_output_into_a_missing_folder_is_one_line(command: str, tmp_path: Path) -> None:
    assert_one_line(run(*_save_args(command, tmp_path / "no" / "out.json")), "does not exist")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["plan", "bench", "trace"])
def test_output_into_a_folder_without_permission(command, tmp_path, monkeypatch) -> None:
    # Tests run as root, where chmod does not stop writes; refuse where the OS would.
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    assert_one_line(run(*_save_args(command, tmp_path / "out.json")), "permission denied")
    assert list(tmp_path.iterdir()) == []


def test_output_folder_that_cannot_be_entered(tmp_path, monkeypatch) -> None:
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if str(path).startswith(str(locked)):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    result = run("plan", "--dims", "3,4", "--save", str(locked / "p.json"))
    monkeypatch.undo()
    assert_one_line(result, "--save", "cannot be entered (permission denied)")
    assert list(locked.iterdir()) == []


# ----------------------------------------------------------------- the safety net


class _Mode(str, enum.Enum):
    forward = "forward"
    reverse = "reverse"


def _net_app() -> typer.Typer:
    demo = ChainorderTyper(name="demo", cls=ChainorderGroup, add_completion=False)

    @demo.callback()
    def _root() -> None:
        """Demo."""

    @demo.command("raise")
    def raise_(what: str) -> None:
        """Raise what the argument names, outside any user_errors block."""
        if what == "spec":
            raise SpecError("bad spec: expected widths,\nnot words")
        if what == "perm":
            raise PermissionError(13, "Permission denied", "/root/x")
        if what == "memory":
            raise MemoryError()
        if what == "exit0":
            raise SystemExit(0)
        if what == "bug":
            raise RuntimeError("a real bug")

    @demo.command("pick")
    def pick(
        mode: Annotated[_Mode, typer.Option("--mode")] = _Mode.forward,
        n: Annotated[int, typer.Option("--n", min=1)] = 1,
        when: Annotated[float, typer.Argument()] = 0.0,
    ) -> None:
        """Options typer checks itself: a choice, a range, a number argument."""

    return demo


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--mode", "sideways"], "--mode expects one of 'forward', 'reverse', got 'sideways'"),
        (["--n", "0"], "--n must be greater than or equal to 1, got '0'"),
        (["abc"], "WHEN expects a number, got 'abc'"),
    ],
)
def test_typer_checked_values_are_one_line(args: list[str], fragment: str) -> None:
    assert_one_line(runner.invoke(_net_app(), ["pick", *args]), fragment, "see 'demo pick --help'")


@pytest.mark.parametrize(
    ("what", "fragment"),
    [
        ("spec", "bad spec: expected widths, not words"),
        ("perm", "cannot use '/root/x': Permission denied"),
        ("memory", "out of memory while running 'demo raise'"),
    ],
)
def test_errors_escaping_a_command_become_one_line(what: str, fragment: str) -> None:
    assert_one_line(runner.invoke(_net_app(), ["raise", what]), fragment)


def test_system_exit_passes_through() -> None:
    # rich ends a run whose stdout pipe closed (`chainorder plan ... | head -1`) with
    # SystemExit; that is no user error. User code's sys.exit is caught where trace runs it.
    assert runner.invoke(_net_app(), ["raise", "exit0"]).exit_code == 0


def test_real_bugs_are_not_hidden() -> None:
    result = runner.invoke(_net_app(), ["raise", "bug"])
    assert isinstance(result.exception, RuntimeError)


def test_usage_line_without_context_names_the_program() -> None:
    from typer._click.exceptions import UsageError  # the vendored click of typer >= 0.2x

    assert usage_line(UsageError("Something odd.")) == (
        "something odd ('chainorder'); see 'chainorder --help'"
    )
