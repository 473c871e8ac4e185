"""``chainorder plan --matrix-free / --chain`` and ``validate --matrix-free`` (issue 10)."""

import dataclasses
import json
import re

import pytest
from typer.testing import CliRunner

from chainorder.cli import app
from chainorder.matfree import (
    MatrixFreePlan,
    brute_force,
    parse_matrix_free,
    plan_matrix_free,
    predict_memory,
    read_chain_file,
)
from chainorder.units import format_bytes

runner = CliRunner()

GDJCPB = "3\n3 3 29\n1 3 14\n2 1 7\n"
CNN = "1x28x28,conv2d(8,k=3),relu,conv2d(16,k=3,stride=2),relu,10"


def run(*args, env=None):
    return runner.invoke(app, list(args), env=env)


@pytest.fixture
def gdjcpb(tmp_path):
    path = tmp_path / "example.txt"
    path.write_text(GDJCPB)
    return path


def test_gdjcpb_text_file_gives_56_150_100_123_at_80_columns(gdjcpb):
    result = run("plan", "--chain", str(gdjcpb), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    out = result.output
    rows = {
        line.split()[0] + " " + line.split()[1]: line
        for line in out.splitlines()
        if re.match(r"^ (optimum|pure tangent|pure adjoint|given-matrix) ", line)
    }
    assert re.search(r"\s56\s+112\s", rows["optimum mixed,"])
    assert re.search(r"\s150\s+300\s+2\.68×", rows["pure tangent"])
    assert re.search(r"\s100\s+200\s+1\.79×", rows["pure adjoint"])
    assert re.search(r"\s123\s+246\s+2\.20×", rows["given-matrix mixed,"])
    assert "…" not in out  # no number cut at 80 columns
    assert "optimum plan (mixed, matrix-free): 56 mults, 112 FLOPs" in out
    assert "J = (T[3]·I)·(I·A[2..1])" in out
    for action in ("adjoint", "tangent", "dense"):
        assert action in out


def test_cnn_spec_prints_links_nodes_memory_and_the_comparison():
    result = run("plan", "--dims", CNN, "--matrix-free", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    out = result.output
    p = plan_matrix_free(CNN)
    assert "conv2d" in out and "1×28×28→8×26×26" in out
    assert f"{p.mults:,} mults" in out and "reverse, matrix-free" in out
    assert "10 row" in out  # one adjoint sweep on the 10 seed rows
    for setting in ("given", "streamed"):
        assert format_bytes(predict_memory(p, setting).peak_bytes) in out
    assert f"{p.comparison.pure_tangent:,}" in out and f"{p.comparison.given_matrix:,}" in out
    assert "…" not in out


def test_json_and_save_round_trip(gdjcpb, tmp_path):
    saved = tmp_path / "plan.json"
    result = run("plan", "--chain", str(gdjcpb), "--json", "--save", str(saved))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)  # nothing but JSON on stdout
    assert data["mults"] == 56 and data["selected"] == "optimum"
    assert {k: v["mults"] for k, v in data["baselines"].items()} == {
        "optimum": 56,
        "pure tangent": 150,
        "pure adjoint": 100,
        "given-matrix": 123,
    }
    assert MatrixFreePlan.from_json(saved.read_text()).mults == 56
    expected = plan_matrix_free(read_chain_file(gdjcpb))
    assert [n["action"] for n in data["nodes"]] == [n.action for n in expected.nodes]


@pytest.mark.parametrize(
    ("mode", "mults"), [("forward", 150), ("reverse", 100), ("given-matrix", 123), ("optimal", 56)]
)
def test_mode_selects_the_saved_plan(gdjcpb, tmp_path, mode, mults):
    saved = tmp_path / "p.json"
    result = run("plan", "--chain", str(gdjcpb), "--mode", mode, "--save", str(saved))
    assert result.exit_code == 0, result.output
    assert MatrixFreePlan.from_json(saved.read_text()).mults == mults


def test_steps_show_the_schedule_and_its_peak():
    spec = "40,relu,30,tanh,20"
    result = run("plan", "--dims", spec, "--matrix-free", "--steps", "--setting", "streamed")
    assert result.exit_code == 0, result.output
    peak = predict_memory(plan_matrix_free(spec), "streamed").peak_bytes
    assert "schedule (streamed setting)" in result.output
    assert f"peak {format_bytes(peak)}" in result.output
    assert "compute" in result.output  # the forward pass is part of a streamed run


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("3\n3 3 29\n1 4 14\n2 1 7\n", "line 3"),
        ("3\n3 3 29\n1 3 x\n2 1 7\n", "line 3"),
        ("2\n3 3 29\n", "2 factors announced"),
        ('{"links": [{"kind": "dense", "rows": 0, "cols": 3}]}', "line 1"),
        ("", "empty"),
    ],
)
def test_bad_files_are_one_line_exit_2(tmp_path, text, fragment):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    result = run("plan", "--chain", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["--matrix-free"],
        ["--dims", "3,4", "--chain", "x.txt"],
        ["--chain", "/nonexistent/chain.txt"],
        ["--dims", "3,conv2d(8,k=3),4", "--matrix-free"],
        ["--dims", "3,4,5", "--matrix-free", "--mode", "hu-shing"],
        ["--dims", "3,4,5", "--matrix-free", "--setting", "sideways"],
    ],
)
def test_bad_input_is_one_line_exit_2(args):
    result = run("plan", *args)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_validate_matrix_free_reports_every_baseline():
    result = run("validate", "--dims", "30,tanh,20,12", "--matrix-free", "--repeat", "1")
    assert result.exit_code == 0, result.output
    for name in ("optimum", "pure tangent", "pure adjoint", "given-matrix"):
        assert name in result.output
    assert "every Jacobian agrees" in result.output


def test_validate_all_plans_json_runs_every_plan():
    spec = "6,relu,5,4"
    result = run(
        "validate",
        "--dims",
        spec,
        "--matrix-free",
        "--all-plans",
        "--repeat",
        "1",
        "--json",
        "--setting",
        "streamed",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    _, count = brute_force(parse_matrix_free(spec))
    assert len(data["rows"]) >= count
    assert -1.0 <= data["spearman"] <= 1.0
    assert data["setting"] == "streamed"
    assert min(r["mults"] for r in data["rows"]) == plan_matrix_free(spec).mults


def test_validate_exits_1_when_a_jacobian_disagrees(monkeypatch):
    import chainorder.cli.matfree_command as mc

    real = mc.measure_matrix_free

    def strict(*args, **kwargs):  # a tolerance no float result can meet
        report = real(*args, **kwargs)
        return dataclasses.replace(report, tolerance=-1.0)

    monkeypatch.setattr(mc, "measure_matrix_free", strict)
    result = run("validate", "--dims", "5,tanh,4,3", "--matrix-free", "--repeat", "1")
    assert result.exit_code == 1
    assert "DISAGREES" in result.output


@pytest.mark.parametrize("extra", [["--backend", "cupy"], ["--all-trees"], ["--rtol", "1e-3"]])
def test_validate_flags_that_do_not_apply_are_one_line_exit_2(extra):
    result = run("validate", "--dims", "5,4,3", "--matrix-free", *extra)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and extra[0] in lines[0] and "--matrix-free" in lines[0]


def test_long_chains_print_a_bounded_summary_and_json_keeps_every_link():
    dims = ",".join(str(2 + (7 * l) % 9) for l in range(301))  # 300 links
    result = CliRunner().invoke(app, ["plan", "--dims", dims, "--matrix-free"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) < 140, len(lines)
    assert "260 links not shown; --json holds all" in " ".join(lines)
    assert re.search(r"^\s*300\s+dense", result.output, re.M)  # the last link is shown
    data = json.loads(
        CliRunner().invoke(app, ["plan", "--dims", dims, "--matrix-free", "--json"]).output
    )
    assert len(data["links"]) == 300
