"""Bad input to the CLI, fuzzed: every command answers in one line, never a traceback.

For ``plan``, ``validate``, ``bench`` and ``trace`` (through ``CliRunner``) each bad input must
give exit status 2, exactly one ``error: ...`` line on stderr, no traceback and no file at the
requested output path. The cases come from issue 7 ("Why") and from lists of what a user
mistypes; hypothesis adds random specs, option names and values. Requests for huge arrays run
under an address-space cap (Linux). The library's side is tests/test_fuzz_library.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest
from fuzz_support import BIG_WIDTH, HUGE, address_space_cap, skip_unless_beyond_default_limit
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from chainorder.cli import app

runner = CliRunner()


# ============================================================================ helpers


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "100"})


def assert_refused(result, out: Path | None = None, *fragments: str) -> None:
    """Exit 2, one ``error:`` line on stderr, no traceback, nothing written at ``out``."""
    detail = (result.exit_code, result.output, repr(result.exception))
    assert result.exit_code == 2, detail
    assert result.exception is None or isinstance(result.exception, SystemExit), detail
    err = result.stderr
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, detail
    assert "Traceback" not in result.output and "╭" not in result.output, detail
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    if out is not None:
        assert not out.exists(), f"{out} was written"
        leftovers = (
            [p.name for p in out.parent.glob(f".{out.name}*")] if out.parent.is_dir() else []
        )
        assert leftovers == [], leftovers


@pytest.fixture
def modules(tmp_path: Path) -> Path:
    """Small user modules for ``trace``: well-behaved ones and ones that misbehave."""
    files = {
        "good.py": """
            import numpy as np
            def f(x):
                return np.sin(x) * x
            def two(x, y):
                return x * y + np.cos(x)
            def kwonly(x, *, k=2.0):
                return x * k
            not_callable = 3
        """,
        "exit_at_import.py": "raise SystemExit(0)\n",
        "exit_in_call.py": """
            import sys
            def f(x):
                sys.exit(0)
            def g(x):
                raise SystemExit(3)
            def h(x):
                exit()
        """,
        "raises.py": """
            def f(x):
                raise ValueError("boom")
            def g(x):
                raise KeyError("k")
            def returns_text(x):
                return "not an array"
            def returns_none(x):
                return None
        """,
        "broken_import.py": "import no_such_module_for_chainorder_tests\n",
        "syntax_error.py": "def f(:\n",
        "not_python.txt": "def f(x): return x\n",
    }
    for name, body in files.items():
        (tmp_path / name).write_text(textwrap.dedent(body))
    (tmp_path / "out").mkdir()
    return tmp_path


# ============================================================================ CLI: plan

BAD_SPECS = [
    "3,,4",  # issue 7: an empty field must not silently become the chain 3,4
    ",3,4",
    "3,4,",
    "3,,",
    ",,",
    "3, ,4",
    "",
    "   ",
    "5",
    "0,3",
    "3,0",
    "3,-4",
    "-3,4",
    "3,-0",
    "3,2.5",
    "3,1e3",
    "3,4.0",
    "3,abc",
    "3,4x",
    "3;4",
    "3:4",
    "3/4",
    "tanh,3",
    "tanh",
    "3,tanh5",
    "3,tan",
    "3,diag(4)",
    "nan,3",
    "3,inf",
    "3,-inf",
    "0x10,3",
    "3,4,five",
    "[3,4]",
    "3,4]",
    "3 , , 4",
    "3,\x00,4",
    "3,4\n5,,6",
    "3,\u2028,4",
    "′3,4",
    "3,4,-1,5",
    ",".join(["20,28,48,diag,25"] * 3000),  # beyond the DP, elementwise links, no proof
]


@pytest.mark.parametrize("spec", BAD_SPECS, ids=repr)
def test_plan_refuses_bad_specs(spec: str, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    assert_refused(invoke("plan", "--dims", spec, "--save", str(out)), out)


def test_plan_empty_field_names_its_position(tmp_path: Path) -> None:
    result = invoke("plan", "--dims", "3,,4")
    assert_refused(result, None, "empty")
    assert "2" in result.stderr  # the position of the empty field


PLAN_OPTIONS = [
    ["--mode", "fastest"],
    ["--mode", ""],
    ["--dtype", "int8"],
    ["--dtype", "float99"],
    ["--dtype", ""],
    ["--dtype", "object"],
    ["--dtype", "bool"],
    ["--dtype", "str"],
    ["--dtype", "datetime64"],
    ["--setting", "cached"],
    ["--setting", ""],
    ["--setting", "GIVEN!"],
    ["--mode", "optimal", "--mode", "nope"],
    ["--steps=1"],
    ["--json=no"],
]


@pytest.mark.parametrize("options", PLAN_OPTIONS, ids=" ".join)
def test_plan_refuses_bad_options(options: list[str], tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    assert_refused(invoke("plan", "--dims", "3,4,5", *options, "--save", str(out)), out)


@pytest.mark.parametrize("spec", [f"{BIG_WIDTH},3,2", f"3,{BIG_WIDTH},3", f"{BIG_WIDTH},tanh,2"])
def test_plan_widths_of_any_size_plan_and_print(spec: str) -> None:
    """Issue 7: a 400-digit width is no error; the table and JSON carry exact integers."""
    result = invoke("plan", "--dims", spec)
    assert result.exit_code == 0, (result.output, repr(result.exception))
    assert "Traceback" not in result.output and result.stderr == ""
    result = invoke("plan", "--dims", spec, "--json")
    assert result.exit_code == 0, (result.output, repr(result.exception))
    doc = json.loads(result.stdout)
    assert int(BIG_WIDTH) in doc["chain"]["dims"]
    assert doc["plans"]["forward"]["mults"] >= int(BIG_WIDTH)


# ============================================================================ CLI: validate

VALIDATE_CASES = [
    ["--dims", "3,,4"],
    ["--dims", "3,abc"],
    ["--dims", "5"],
    ["--dims", "0,3"],
    ["--dims", ""],
    ["--dims", "3,4", "--seed", "-1"],  # issue 7: was a traceback
    ["--dims", "3,4", "--seed", "-123456789"],
    ["--dims", "3,4", "--rtol", "-1"],
    ["--dims", "3,4", "--rtol", "0"],
    ["--dims", "3,4", "--rtol", "nan"],
    ["--dims", "3,4", "--rtol", "inf"],
    ["--dims", "3,4", "--rtol", "-inf"],
    ["--dims", "3,4", "--repeat", "0"],
    ["--dims", "3,4", "--repeat", "-5"],
    ["--dims", "3,4", "--repeat", "1.5"],
    ["--dims", "3,4", "--backend", "nope"],
    ["--dims", "3,4", "--backend", ""],
    ["--dims", "3,4", "--dtype", "int64"],
    ["--dims", "3,4", "--dtype", "float99"],
    ["--dims", "3,4", "--setting", "cached"],
    ["--dims", "3,4,tanh5"],
    ["--dims", ",".join(["2"] * 12), "--all-trees"],
    ["--dims", "3,4", "--max-memory", "lots"],
    ["--dims", "3,4", "--max-memory", "-1GiB"],
    ["--dims", "3,4", "--max-memory", ""],
    [],
]

#: Refused by the memory guard, whose message says what "needs" how much.
VALIDATE_TOO_BIG = [
    ["--dims", "2000,2000,2000", "--max-memory", "1KiB"],
    ["--dims", "2000,tanh,2000", "--setting", "streamed", "--max-memory", "1KiB"],
    ["--dims", f"{BIG_WIDTH},3"],
    ["--dims", "65536,65536,65536,65536"],
    ["--dims", HUGE, "--max-memory", "1GiB"],
]


@pytest.mark.parametrize("args", VALIDATE_CASES, ids=" ".join)
def test_validate_refuses(args: list[str]) -> None:
    with address_space_cap():
        result = invoke("validate", "--repeat", "1", *args)
    assert_refused(result)


@pytest.mark.parametrize("args", VALIDATE_TOO_BIG, ids=" ".join)
def test_validate_refuses_what_does_not_fit(args: list[str]) -> None:
    if "--max-memory" not in args:
        skip_unless_beyond_default_limit(3 * 65536**2 * 8)
    with address_space_cap():
        result = invoke("validate", "--repeat", "1", *args)
    assert_refused(result, None, " needs ")


def test_validate_memory_guard_refuses_before_allocating() -> None:
    """A small --max-memory refuses a 3 × 32 MB run before any of it is allocated."""
    tracemalloc.start()
    try:
        result = invoke("validate", "--dims", "2000,2000,2000", "--max-memory", "1MiB")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_refused(result, None, " needs ")
    assert peak < 16 * 1024**2, f"{peak} bytes traced before the refusal"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs RLIMIT_AS")
def test_validate_of_a_huge_chain_is_refused_by_the_default_guard() -> None:
    """Issue 7: ``validate --dims 100000,100000,100000`` must be refused by the guard, under an
    address-space cap of 3 GiB, with the default limit (no --max-memory)."""
    skip_unless_beyond_default_limit(2 * 100000**2 * 8)
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, "
        "resource.getrlimit(resource.RLIMIT_AS)[1])); from chainorder.cli import main; "
        "sys.argv = ['chainorder', 'validate', '--dims', sys.argv[1], '--repeat', '1']; main()"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "COLUMNS": "100"}
    done = subprocess.run(
        [sys.executable, "-c", code, HUGE], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 2, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert " needs " in done.stderr and "out of memory" not in done.stderr, done.stderr


# ============================================================================ CLI: bench

BENCH_CASES = [
    ["--suite", "nope"],
    ["--suite", ""],
    ["--format", "xml"],
    ["--format", ""],
    ["--repeat", "0"],
    ["--repeat", "-1"],
    ["--threads", "0"],
    ["--threads", "-2"],
    ["--seed", "-1"],  # issue 7: was a traceback
    ["--seed", "-99"],
    ["--max-memory", "lots"],
    ["--repeat", "x"],
    ["--seed", "1.5"],
    ["--suite"],
    ["--frameworks=maybe"],
]


@pytest.mark.parametrize("args", BENCH_CASES, ids=" ".join)
def test_bench_refuses(args: list[str], tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    result = invoke("bench", "--no-frameworks", "--format", "md", "--out", str(out), *args)
    assert_refused(result, out)


@pytest.mark.parametrize("suite", ["mlp", "hourglass", "smoke"])
def test_bench_memory_guard_refuses_before_running(suite: str, tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    args = ["--suite", suite, "--no-frameworks", "--out", str(out), "--max-memory", "1KiB"]
    assert_refused(invoke("bench", *args), out, " needs ")


# ============================================================================ CLI: trace

TRACE_TARGETS = [
    ("good.py", ["--arg", "x=1.0"]),  # no ':FUNC'
    ("good.py:", ["--arg", "x=1.0"]),
    ("good.py:nothing", ["--arg", "x=1.0"]),
    ("good.py:not_callable", ["--arg", "x=1.0"]),
    ("missing.py:f", ["--arg", "x=1.0"]),
    ("not_python.txt:f", ["--arg", "x=1.0"]),
    ("out:f", ["--arg", "x=1.0"]),
    ("exit_at_import.py:f", ["--arg", "x=1.0"]),  # issue 7: exited 0 with no output
    ("exit_in_call.py:f", ["--arg", "x=1.0"]),
    ("exit_in_call.py:g", ["--arg", "x=1.0"]),
    ("exit_in_call.py:h", ["--arg", "x=1.0"]),
    ("raises.py:f", ["--arg", "x=1.0"]),
    ("raises.py:g", ["--arg", "x=1.0"]),
    ("raises.py:returns_text", ["--arg", "x=1.0"]),
    ("raises.py:returns_none", ["--arg", "x=1.0"]),
    ("broken_import.py:f", ["--arg", "x=1.0"]),
    ("syntax_error.py:f", ["--arg", "x=1.0"]),
    ("good.py:f", []),
    ("good.py:f", ["--arg", "x=abc"]),
    ("good.py:f", ["--arg", "x="]),
    ("good.py:f", ["--arg", "=1.0"]),
    ("good.py:f", ["--arg", "x"]),
    ("good.py:f", ["--arg", "1x=1.0"]),
    ("good.py:f", ["--arg", "x=0x3"]),
    ("good.py:f", ["--arg", "x=3x0"]),
    ("good.py:f", ["--arg", "x=nan"]),  # issue 7: NaN/inf argument values
    ("good.py:f", ["--arg", "x=inf"]),
    ("good.py:f", ["--arg", "x=-inf"]),
    ("good.py:f", ["--arg", "x=[1.0,nan]"]),
    ("good.py:f", ["--arg", "x=[inf]"]),
    ("good.py:f", ["--arg", "x=[]"]),
    ("good.py:f", ["--arg", "x=[1,,2]"]),
    ("good.py:f", ["--arg", "x=[a]"]),
    ("good.py:f", ["--arg", "x=65536x65536x65536x65536"]),  # issue 7: int64 overflow
    ("good.py:f", ["--arg", "x=" + "x".join(["4294967296"] * 3)]),
    ("good.py:f", ["--arg", "x=100000x100000"]),  # 80 GB: the memory guard
    ("good.py:f", ["--arg", "x=1.0", "--arg", "x=2.0"]),
    ("good.py:f", ["--arg", "x=1.0", "--arg", "z=2.0"]),
    ("good.py:two", ["--arg", "x=1.0"]),
    ("good.py:kwonly", ["--arg", "x=1.0", "--arg", "k=3.0"]),
    ("good.py:f", ["--arg", "x=1.0", "--seed", "-1"]),  # issue 7: was a traceback
    ("good.py:f", ["--arg", "x=3", "--seed", "-7"]),
    ("good.py:f", ["--arg", "x=1.0", "--max-memory", "lots"]),
    ("good.py:f", ["--arg", "x=1000x1000", "--max-memory", "1KiB"]),
    ("good.py:f", ["--arg", "x=[1.0,2.0]", "--arg", "x=3"]),
    ("good.py:f", ["--arg", "x=3x"]),
    ("good.py:f", ["--arg", "x=x3"]),
    ("good.py:f", ["--arg", "x=3x-3"]),
]


@pytest.mark.parametrize(("target", "args"), TRACE_TARGETS, ids=lambda v: str(v))
def test_trace_refuses(target: str, args: list[str], modules: Path) -> None:
    out = modules / "out" / "graph.dot"
    with address_space_cap():
        result = invoke("trace", str(modules / target), *args, "--dot", str(out))
    assert_refused(result, out)


@pytest.mark.parametrize(
    "dot",
    ["good.py/graph.dot", "missing/graph.dot", "out", "missing/deeper/graph.dot"],
)
def test_trace_refuses_unusable_output_paths(dot: str, modules: Path) -> None:
    before = sorted(p.name for p in modules.rglob("*"))
    result = invoke(
        "trace", str(modules / "good.py:f"), "--arg", "x=1.0", "--dot", str(modules / dot)
    )
    assert_refused(result)
    assert sorted(p.name for p in modules.rglob("*")) == before
    assert (modules / "good.py").read_text().startswith("\nimport numpy")


# ============================================================================ CLI: output paths


@pytest.mark.parametrize("command", ["plan", "bench"])
@pytest.mark.parametrize("where", ["file_parent", "missing", "directory", "nested_missing"])
def test_outputs_into_unusable_places(command: str, where: str, tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep")
    target = {
        "file_parent": blocker / "out.json",
        "missing": tmp_path / "missing" / "out.json",
        "directory": tmp_path,
        "nested_missing": tmp_path / "a" / "b" / "c" / "out.json",
    }[where]
    if command == "plan":
        result = invoke("plan", "--dims", "3,4,5", "--save", str(target))
    else:
        result = invoke("bench", "--suite", "smoke", "--no-frameworks", "--out", str(target))
    assert_refused(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


# ============================================================================ CLI: hypothesis

SPEC_ALPHABET = st.sampled_from([*"0123456789,,,  .-+xe", "tanh", "relu", "diag", "nan"])


@settings(max_examples=60, deadline=None)
@given(st.lists(SPEC_ALPHABET, max_size=24).map("".join))
def test_plan_never_crashes_on_random_specs(spec: str) -> None:
    result = invoke("plan", "--dims", spec)
    assert result.exit_code in (0, 2), (spec, result.output, repr(result.exception))
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 10**30), min_size=2, max_size=8),
    st.data(),
)
def test_plan_refuses_every_empty_field(widths: list[int], data) -> None:
    items = [str(w) for w in widths]
    at = data.draw(st.integers(0, len(items)))
    items.insert(at, data.draw(st.sampled_from(["", " ", "  "])))
    result = invoke("plan", "--dims", ",".join(items))
    assert_refused(result)


OPTIONS = {
    "plan": {"--dims", "--mode", "--dtype", "--setting", "--steps", "--json", "--save", "--help"},
    "validate": {
        "--dims",
        "--setting",
        "--backend",
        "--dtype",
        "--repeat",
        "--seed",
        "--help",
        "--all-trees",
        "--rtol",
        "--json",
        "--max-memory",
    },
    "bench": {
        "--suite",
        "--format",
        "--out",
        "--plot",
        "--repeat",
        "--seed",
        "--threads",
        "--frameworks",
        "--no-frameworks",
        "--memory",
        "--no-memory",
        "--max-memory",
        "--help",
    },
}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(OPTIONS)), st.from_regex(r"--[a-z][a-z-]{1,14}", fullmatch=True))
def test_unknown_options_are_one_line(command: str, option: str) -> None:
    if any(known.startswith(option) or option.startswith(known) for known in OPTIONS[command]):
        return  # click accepts unambiguous prefixes of real options; not a bad input
    assert_refused(invoke(command, option), None, "no such option")


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(
        [
            ("validate", "--repeat"),
            ("validate", "--seed"),
            ("bench", "--repeat"),
            ("bench", "--threads"),
            ("validate", "--rtol"),
        ]
    ),
    st.text(min_size=1, max_size=12).filter(
        lambda s: not s.startswith("-") and any(c.isalpha() and c not in "eEinfaINFA" for c in s)
    ),
)
def test_malformed_numbers_are_one_line(where: tuple[str, str], value: str) -> None:
    command, option = where  # ``value`` has a letter no number can have
    assert_refused(invoke(command, option, value))
