"""``chainorder plan`` through typer's CliRunner: output, JSON, files and exit codes."""

import json

import pytest
from typer.testing import CliRunner

from chainorder import __version__
from chainorder.cli import app
from chainorder.plan import Plan

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_table_for_the_readme_example():
    result = run("plan", "--dims", "784,512,512,10")
    assert result.exit_code == 0, result.output
    out = result.output
    for fragment in ("optimal", "forward", "reverse", "6,635,520", "209,534,976", "31.6×"):
        assert fragment in out
    assert "J = (J3·J2)·J1" in out
    assert "mults = scalar multiplications" in out


def test_steps_and_setting():
    result = run("plan", "--dims", "784 512 tanh 512 tanh 10", "--setting", "streamed", "--steps")
    assert result.exit_code == 0, result.output
    assert "schedule (streamed setting" in result.output
    assert "512×512 diag" in result.output


def test_json_holds_three_plans():
    result = run("plan", "--dims", "30,35,15,5,10,20,25", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)  # nothing but JSON on stdout
    plans = data["plans"]
    assert {k: plans[k]["mults"] for k in plans} == {
        "optimal": 15_125,
        "forward": 40_500,
        "reverse": 47_500,
    }
    assert plans["forward"]["tree"] == "[6,[5,[4,[3,[2,1]]]]]"
    assert plans["forward"]["postfix"] == [6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0]
    assert plans["reverse"]["mode"] == "reverse"
    for p in plans.values():
        assert set(p["peak_memory_bytes"]) == {"given", "streamed"}
        assert isinstance(p["flops"], int)


def test_save_writes_the_selected_plan(tmp_path):
    target = tmp_path / "plan.json"
    result = run("plan", "--dims", "30,35,15,5", "--mode", "reverse", "--save", str(target))
    assert result.exit_code == 0, result.output
    p = Plan.from_json(target.read_text())
    assert p.solver == "reverse" and p.tree == ((3, 2), 1)
    assert [f.name for f in tmp_path.iterdir()] == ["plan.json"]


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_help_shows_examples():
    result = run("plan", "--help")
    assert result.exit_code == 0 and "chainorder plan --dims 784,512,512,10" in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--dims", ""], "empty chain spec"),
        (["--dims", "5"], "at least two widths"),
        (["--dims", "0,3"], "positive integers"),
        (["--dims", "3,-4"], "positive integers"),
        (["--dims", "3,2.5"], "positive integer"),
        (["--dims", "3,abc"], "unknown word"),
        (["--dims", "tanh,3"], "no width before it"),
        (["--dims", "20,28,48,diag,25", "--mode", "hu-shing"], "dense chains only"),
        (["--dims", "3,4", "--mode", "fastest"], "unknown mode"),
        (["--dims", "3,4", "--dtype", "int8"], "not a floating"),
        (["--dims", "3,4", "--dtype", "float99"], "unknown dtype"),
        (["--dims", "3,4", "--setting", "cached"], "unknown memory setting"),
        ([], "missing --dims"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, fragment):
    result = run("plan", *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_unwritable_save_leaves_no_file(tmp_path):
    missing = tmp_path / "nope" / "plan.json"
    result = run("plan", "--dims", "3,4", "--save", str(missing))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    result = run("plan", "--dims", "3,4", "--save", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.stderr
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = run("plan", "--dims", "3,4", "--save", str(locked / "p.json"))
        if result.exit_code == 0:  # running as root ignores permissions
            assert (locked / "p.json").exists()
        else:
            assert result.exit_code == 2 and "not writable" in result.stderr
            assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_long_chain_with_pure_mode_skips_optimal():
    result = run("plan", "--dims", ",".join(["3"] * 4502), "--mode", "forward")
    assert result.exit_code == 0
    assert "optimal: not searched with --mode forward" in result.output


def test_json_of_deep_pure_mode_trees(tmp_path):
    import random

    from chainorder.cost import forward_mults_closed_form

    widths = [random.Random(i).randint(2, 60) for i in range(1101)]
    dims = ",".join(map(str, widths))
    result = run("plan", "--dims", dims, "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)  # fixed depth: Python's default recursion limit suffices
    assert data["plans"]["forward"]["mults"] == forward_mults_closed_form(widths)
    assert len(result.output) < 1_000_000  # trees on one line: O(L) text
    target = tmp_path / "p.json"
    assert run("plan", "--dims", dims, "--mode", "forward", "--save", str(target)).exit_code == 0
    assert Plan.from_json(target.read_text()).mode.value == "forward"
