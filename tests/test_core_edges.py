"""Issue 7, planning core: hard edges (specs, huge widths, JSON, executor, pure modes, width)."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import chainorder.cost
import chainorder.memory
import chainorder.solvers.dp
from chainorder.chain import Chain
from chainorder.cli import app
from chainorder.cost import forward_mults_closed_form, reverse_mults_closed_form
from chainorder.errors import ExecutionError, MemoryLimitError, PlanFormatError, SpecError
from chainorder.execute import compile_plan, evaluate, evaluate_streamed
from chainorder.plan import Plan, compare_modes, plan
from chainorder.report.plan_tables import comparison_table, schedule_table, tree_renderable
from chainorder.testing import brute_force_optimum, random_tree
from chainorder.treeforms import from_postfix, parse_tree_text, to_postfix, tree_text
from chainorder.units import format_count

runner = CliRunner()


def run(*args: str, **env: str):
    return runner.invoke(app, list(args), env=env or None)


# pure modes never search -------------------------------------------------------------------
@pytest.fixture
def no_dp(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the O(L³) DP ran for a pure mode")

    monkeypatch.setattr(chainorder.solvers.dp, "solve_dp", refuse)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_pure_mode_plans_never_run_the_dp(no_dp, mode: str) -> None:
    dims = [random.Random(1).randint(1, 90) for _ in range(300)]
    p = plan(dims, mode)
    assert (p.forward_mults, p.reverse_mults) == (
        forward_mults_closed_form(dims),
        reverse_mults_closed_form(dims),
    )
    result = run("plan", "--dims", ",".join(map(str, dims)), "--mode", mode)
    assert result.exit_code == 0, result.output
    assert "optimal: not searched" in result.output
    data = json.loads(run("plan", "--dims", "3,4,5,6", "--mode", mode, "--json").output)
    assert set(data["plans"]) == {"forward", "reverse"}
    with pytest.raises(AssertionError, match="DP ran"):
        plan(dims, "optimal")  # the patch is live: the optimal mode does reach it


# node shapes once ----------------------------------------------------------------------------
def test_node_shapes_are_computed_once_per_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    p = plan("30,35,tanh,35,15,5,10,20,25")
    expected = p.mults

    def refuse(*args, **kwargs):
        raise AssertionError("node shapes recomputed")

    for module in (chainorder.cost, chainorder.memory, sys.modules["chainorder.plan"]):
        monkeypatch.setattr(module, "node_shapes", refuse)
    assert sum(s.mults for s in p.schedule("streamed")) == expected
    tree_renderable(p)
    schedule_table(p)
    comparison_table({"optimal": p})
    rng = np.random.default_rng(0)
    js = [
        rng.standard_normal(link.shape) if link.structure.value == "dense"
        else rng.standard_normal(link.rows)
        for link in p.chain.links
    ]
    assert compile_plan(p)(js).shape == (25, 30)


# specs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "position"),
    [("3,,4", 2), (",3,4", 1), ("3,4,", 3), ("3, ,4", 2), ("5 tanh,,4", 3), (",", 1)],
)
def test_empty_items_name_their_position(spec: str, position: int) -> None:
    with pytest.raises(SpecError, match=f"empty item at position {position}"):
        Chain.parse(spec)
    result = run("plan", "--dims", spec)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and f"position {position}" in result.stderr


def test_too_many_digits_is_one_clear_error() -> None:
    result = run("plan", "--dims", "9" * 5000 + ",3")
    assert result.exit_code == 2 and "digits" in result.stderr
    assert result.stderr.count("\n") == 1


# huge widths ---------------------------------------------------------------------------------
def test_huge_widths_plan_exactly_in_table_and_json() -> None:
    big = 10**400 + 7
    dims = [3, big, 3, 5, big]
    result = run("plan", "--dims", ",".join(map(str, dims)), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    optimum = brute_force_optimum(Chain.from_dims(dims))[0]
    assert data["plans"]["optimal"]["mults"] == optimum  # exact Python ints in the JSON
    assert data["plans"]["forward"]["mults"] == forward_mults_closed_form(dims)
    assert data["chain"]["dims"][1] == big
    table = run("plan", "--dims", ",".join(map(str, dims)), "--steps", COLUMNS="80")
    assert table.exit_code == 0, table.output
    assert format_count(optimum) in table.output and "Traceback" not in table.output
    assert run("plan", "--dims", f"{big},3").exit_code == 0


# JSON at any length --------------------------------------------------------------------------
def test_ten_thousand_link_plan_parses_with_default_limits(tmp_path) -> None:
    dims = [random.Random(2).randint(1, 40) for _ in range(10_001)]
    result = run("plan", "--dims", ",".join(map(str, dims)), "--mode", "reverse", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)  # Python's default recursion limit
    postfix = data["plans"]["reverse"]["postfix"]
    assert len(postfix) == 2 * 10_000 - 1 and all(type(x) is int for x in postfix)
    assert data["plans"]["reverse"]["mults"] == reverse_mults_closed_form(dims)
    if shutil.which("jq"):
        out = subprocess.run(
            ["jq", ".plans.reverse.postfix | length"],
            input=result.output,
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == str(2 * 10_000 - 1)
    target = tmp_path / "p.json"
    assert run("plan", "--dims", ",".join(map(str, dims)), "--mode", "forward",
               "--save", str(target)).exit_code == 0
    p = Plan.from_json(target.read_text())
    assert p.mode.value == "forward" and p.mults == forward_mults_closed_form(dims)


@pytest.mark.parametrize("bad", [None, 12, 1.5, ["{}"], {"format": "chainorder-plan"}])
def test_from_json_of_non_text_is_a_plan_format_error(bad) -> None:
    with pytest.raises(PlanFormatError, match="must be JSON text"):
        Plan.from_json(bad)


def test_from_json_reads_bytes_and_rejects_garbage() -> None:
    p = plan("30,35,15,5")
    assert Plan.from_json(p.to_json().encode()) == p
    for text in ("", "[" * 100_000, '"plan"', "null", b"\xff"):
        with pytest.raises(PlanFormatError):
            Plan.from_json(text)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40), st.integers(0, 10**6))
def test_flat_forms_round_trip(n: int, seed: int) -> None:
    tree = random_tree(seed, n)
    post = to_postfix(tree)
    assert len(post) == 2 * n - 1 and post.count(0) == n - 1
    assert from_postfix(post, n) == tree
    assert parse_tree_text(tree_text(tree), n) == tree
    assert json.loads(tree_text(tree)) == json.loads(json.dumps(tree))


@pytest.mark.parametrize(
    "bad",
    [[], [0], [1, 0], [2, 1], [1, 2, 0], [2, 1, 0, 0], [-1], ["1"], [True], "21 0", None],
)
def test_bad_postfix_is_a_tree_error(bad) -> None:
    from chainorder.errors import TreeError

    with pytest.raises(TreeError):
        from_postfix(bad, 2)


@pytest.mark.parametrize("bad", ["", "[2,1", "[2,1]]", "[3,2,1]", "[[2],1]", "[2;1]", "[1,2]"])
def test_bad_tree_text_is_a_tree_error(bad: str) -> None:
    from chainorder.errors import TreeError

    with pytest.raises(TreeError):
        parse_tree_text(bad, 2 if bad != "[3,2,1]" else 3)


# executor ------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_numpy_matrix_links_name_the_link() -> None:
    p = plan("3,4,tanh,5")
    js = [np.ones((4, 3)), np.ones(4), np.matrix(np.ones((5, 4)))]
    with pytest.raises(ExecutionError, match=r"J3 \(link 3, dense\) is a numpy.matrix"):
        evaluate(p, js)


class _Recorder:
    def __init__(self, chain: Chain, fail: bool = False) -> None:
        self.chain, self.calls, self.fail = chain, 0, fail

    def activation(self, k, x):
        self.calls += 1
        if self.fail:
            raise MemoryError
        return np.ones(self.chain.dims[k])

    def jacobian(self, l, x):
        self.calls += 1
        return np.ones((self.chain.dims[l], self.chain.dims[l - 1]))


def test_streamed_evaluation_checks_memory_before_allocating() -> None:
    p = plan("400,300,200", "reverse")
    source = _Recorder(p.chain)
    made = []
    with pytest.raises(MemoryLimitError, match=r"needs .* but the limit is 1 KiB"):
        evaluate_streamed(p, source, lambda: made.append(1) or np.ones(400), max_memory="1KiB")
    assert source.calls == 0 and made == []  # refused before x_0 or anything else
    need = p.peak_bytes("streamed")
    assert evaluate_streamed(p, source, np.ones(400), max_memory=need).shape == (200, 400)
    with pytest.raises(MemoryLimitError):
        evaluate_streamed(p, source, np.ones(400), max_memory=need - 1)
    with pytest.raises(MemoryLimitError, match="ran out of memory"):
        evaluate_streamed(p, _Recorder(p.chain, fail=True), np.ones(400))


# 80 columns ----------------------------------------------------------------------------------
_CHAINS = [
    "768,3072,gelu,768,768,3072,gelu,768,50257",
    "784,512,512,10",
    "30,35,15,5,10,20,25",
    "4096,64,4096,64,4096,64,4096,64,4096,64,4096",
    "123456789,987654321,55555,123456789012",
    "1,100000,100000,100000,100000,100000,100000,1",
    ",".join(["3"] * 70),
]
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?:e\+\d+)?")


@pytest.mark.parametrize("spec", _CHAINS)
@pytest.mark.parametrize("mode", ["optimal", "reverse"])
def test_plan_output_at_80_columns_never_cuts_a_number(spec: str, mode: str) -> None:
    result = run("plan", "--dims", spec, "--mode", mode, "--steps", COLUMNS="80")
    assert result.exit_code == 0, result.output
    out = result.output
    assert max(len(line) for line in out.splitlines()) <= 80
    assert not re.search(r"\d…|…\d|\d,…", out), out
    plans = compare_modes(spec, modes=("optimal", "forward", "reverse"))
    printed = set(_NUMBER.findall(out))
    for name in ("forward", "reverse") + (("optimal",) if mode == "optimal" else ()):
        assert format_count(plans[name].mults) in printed
    for step in plans[mode].schedule():
        assert format_count(step.mults) in printed


def test_plan_cli_prints_no_progress_when_piped_or_json() -> None:
    dims = ",".join(str(random.Random(3).randint(1, 500)) for _ in range(120))
    for extra in ([], ["--json"]):
        result = run("plan", "--dims", dims, *extra)
        assert result.exit_code == 0 and result.stderr == ""


# progress ------------------------------------------------------------------------------------
def _terminal_console():
    import io

    from rich.console import Console

    return Console(file=io.StringIO(), force_terminal=True, width=80)


def test_progress_bar_appears_after_the_delay_on_a_terminal(monkeypatch) -> None:
    import chainorder.cli.plan_command as command

    console = _terminal_console()
    monkeypatch.setattr(command, "err_console", console)
    monkeypatch.setattr(command, "_PROGRESS_DELAY_S", 0.0)
    dims = ",".join(str(random.Random(4).randint(1, 500)) for _ in range(80))
    result = run("plan", "--dims", dims)
    assert result.exit_code == 0 and result.stderr == ""
    assert "planning (exact search)" in console.file.getvalue()
    # --json: never, even on a terminal
    console.file.truncate(0)
    assert run("plan", "--dims", dims, "--json").exit_code == 0
    assert console.file.getvalue() == ""


def test_progress_bar_stays_hidden_for_quick_plans(monkeypatch) -> None:
    import chainorder.cli.plan_command as command

    console = _terminal_console()
    monkeypatch.setattr(command, "err_console", console)  # default delay: about a second
    assert run("plan", "--dims", "30,35,15,5,10,20,25").exit_code == 0
    assert console.file.getvalue() == ""
    with command._progress(False) as progress:
        assert progress is None


_ODD_VALUES = [None, 1, -1, 1.5, "x", [], {}, [1], [[1]], True, "[[3,2],1]", [3, 2, 0, 1, 0],
               {"dims": [1, 2]}, {"dims": "a"}, "float128", "int32", "[" * 50, 10**40]


def test_every_field_of_a_plan_document_is_checked() -> None:
    """320+ corrupted documents: a PlanFormatError or the very same plan, never anything else."""
    p = plan("30,35,15,5")
    base = p.to_dict()
    outcomes = {"refused": 0, "same": 0}
    for key in base:
        for value in _ODD_VALUES:
            try:
                q = Plan.from_dict({**base, key: value})
            except PlanFormatError as exc:
                assert "\n" not in str(exc)
                outcomes["refused"] += 1
            else:
                assert (q.chain, q.flat, q.mults) == (p.chain, p.flat, p.mults)
                outcomes["same"] += 1
    assert sum(outcomes.values()) >= 300 and outcomes["refused"] > 150


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="0123456789,, -+.etanhrlux\t", max_size=24))
def test_plan_cli_answers_any_spec_in_one_line(spec: str) -> None:
    result = run("plan", "--dims", spec)
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        Chain.parse(spec)  # accepted by the CLI only when the library accepts it
    else:
        assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr
        with pytest.raises((SpecError, ValueError)):
            Chain.parse(spec)
