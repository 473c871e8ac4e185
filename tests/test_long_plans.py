"""Issue 13 item 3: long plans are usable (files of widths, JSON, schedule, summaries)."""

from __future__ import annotations

import json
import random
import time

import pytest
from typer.testing import CliRunner

from chainorder.cli import app
from chainorder.cli.dims_file import read_dims_file
from chainorder.errors import SpecError, TreeError
from chainorder.plan import Plan, plan
from chainorder.tree import all_trees, flatten, tree_expression
from chainorder.treeforms import (
    flat_from_postfix,
    parse_tree_text,
    postfix_from_text,
    to_postfix,
    tree_text,
)


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_a_100k_link_plan_round_trips_through_json_and_schedules():
    rng = random.Random(3)
    dims = [rng.randint(1, 1000) for _ in range(100_001)]
    start = time.perf_counter()
    p = plan(dims)
    text = p.to_json()
    back = Plan.from_json(text)
    steps = back.schedule()
    elapsed = time.perf_counter() - start
    assert back == p and back.method == "hu-shing" and back.mults == p.mults
    assert len(steps) == 99_999 and sum(s.mults for s in steps) == p.mults
    assert json.loads(text)["postfix"][-1] == 0
    assert elapsed < 120  # linear: a quadratic step would take hours at this length


def test_postfix_from_text_agrees_with_the_tree_forms_on_every_small_tree():
    for n in range(1, 7):
        for tree in all_trees(n):
            text = tree_text(tree)
            assert postfix_from_text(text) == to_postfix(tree)
            assert parse_tree_text(text, n) == tree
            assert flat_from_postfix(to_postfix(tree), n) == flatten(tree, n)


@pytest.mark.parametrize(
    "text", ["[3,2,1]", "[[3],2]", "[3,2]1", "[3 2]", "[,3,2]", "[3,2],", "", "[[3,2],1"]
)
def test_bad_tree_text_is_a_tree_error(text):
    with pytest.raises(TreeError):
        postfix_from_text(text)


@pytest.mark.parametrize(
    ("seq", "n"), [([2, 1, 0], 3), ([1, 2, 0], 2), ([2, 1, 0, 0], 2), ([2, -1, 0], 2), ([], 1)]
)
def test_bad_postfix_is_a_tree_error(seq, n):
    with pytest.raises(TreeError):
        flat_from_postfix(seq, n)


def test_expression_of_a_deep_tree_is_linear_and_matches_the_small_case():
    p = plan([2] * 200_002, mode="forward")
    text = p.expression()
    assert text.startswith("J200001·(J200000·(") and text.endswith("(J2·J1)" + ")" * 199_998)
    assert tree_expression(((4, 3), (2, 1))) == "(J4·J3)·(J2·J1)"


def test_dims_from_a_file_match_the_command_line(tmp_path):
    rng = random.Random(4)
    dims = [rng.randint(1, 500) for _ in range(20_001)]
    path = tmp_path / "widths.txt"
    lines = [" ".join(map(str, dims[i : i + 10])) + "," for i in range(0, len(dims), 10)]
    path.write_text("# a long chain\n" + "\n".join(lines) + "\n")
    assert read_dims_file(str(path)) == ",".join(map(str, dims))
    result = run("plan", "--dims", f"@{path}", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["plans"]["optimal"]["mults"] == plan(dims).mults
    assert data["plans"]["optimal"]["method"] == "hu-shing"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "cannot read the file"),
        ("", "holds no widths"),
        ("3,,4", "line 1 has an empty item"),
        ("3 0 4", "width at position 2 is 0"),
        ("3 tanhh 4", "unknown word 'tanhh'"),
        (b"\xff\xfe3", "not UTF-8 text"),
    ],
)
def test_a_bad_dims_file_is_one_line_naming_it(tmp_path, content, fragment):
    path = tmp_path / "w.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(SpecError, match=fragment):
        read_dims_file(str(path))
    result = run("plan", "--dims", f"@{path}")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: --dims @{path}: ")
    assert fragment in lines[0]


def test_plan_summarises_a_long_tree_and_lists_part_of_a_long_schedule(tmp_path):
    path = tmp_path / "w.txt"
    rng = random.Random(6)
    path.write_text("\n".join(str(rng.randint(1, 900)) for _ in range(2_001)))
    result = run("plan", "--dims", f"@{path}", "--steps")
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "tree of 2000 links summarised, not drawn" in out
    assert "1799 of 1999 steps not listed" in out
    assert "lower bound" not in out  # exact: no gap to report


def test_plan_shows_the_bounded_solver_gap():
    result = run("plan", "--dims", "20,28,48,diag,25", "--mode", "bounded")
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "48,560" in out and "at most 0.49% above optimal" in out
