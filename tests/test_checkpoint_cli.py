"""``plan --memory-limit / --pareto / --plot``, ``validate`` and ``bench --memory-limit``."""

import json

import pytest
from typer.testing import CliRunner

from chainorder.checkpoint import pareto_front, plan_with_memory_limit
from chainorder.cli import app

runner = CliRunner()
SPEC = "90,100,tanh,110,tanh,100,tanh,1"


def run(*args):
    return runner.invoke(app, list(args))


def test_plan_with_a_memory_limit_prints_the_cheapest_fitting_plan_and_its_steps():
    result = run("plan", "--dims", SPEC, "--setting", "streamed", "--memory-limit", "94KiB",
                 "--steps")  # fmt: skip
    assert result.exit_code == 0, result.output
    cp = plan_with_memory_limit(SPEC, "94KiB")
    out = result.output
    flat = " ".join(out.split())  # rich wraps long lines at the runner's 80 columns
    assert "memory limit 94 KiB" in flat and f"({cp.peak_elements} elements)" in flat
    assert cp.recomputations == 1 and "(1 activation recomputed)" in flat
    assert "recompute" in out and "drop" in out and "form" in out and "store" in out
    assert out.count("recompute ") + out.count("recompute│") >= cp.recomputations


def test_plan_json_carries_the_checkpointing_section():
    result = run("plan", "--dims", SPEC, "--setting", "streamed", "--memory-limit", "94KiB",
                 "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)["plan"]
    c = data["checkpointing"]
    cp = plan_with_memory_limit(SPEC, "94KiB")
    assert c["memory_limit_bytes"] == 94 * 1024
    assert c["peak_bytes"] == cp.peak_bytes and c["recompute_mults"] == cp.recompute_mults
    assert c["checkpoints"] == list(cp.checkpoints) and c["recomputations"] == cp.recomputations
    assert len(c["events"].split()) == len(cp.events)
    assert data["mults"] == cp.jacobian_mults


def test_pareto_front_table_json_and_plot(tmp_path):
    result = run("plan", "--dims", SPEC, "--setting", "streamed", "--pareto", "--json")
    assert result.exit_code == 0, result.output
    points = json.loads(result.output)["pareto"]
    front = pareto_front(SPEC)
    assert [p["peak_bytes"] for p in points] == [cp.peak_bytes for cp in front]
    assert [p["total_mults"] for p in points] == [cp.total_mults for cp in front]
    table = run("plan", "--dims", SPEC, "--setting", "streamed", "--pareto")
    assert "cost–memory front" in table.output and "reverse-checkpoints" in table.output
    pytest.importorskip("matplotlib")
    png = tmp_path / "front.png"
    result = run("plan", "--dims", SPEC, "--setting", "streamed", "--pareto", "--plot", str(png))
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--memory-limit", "1MiB"], "add --setting streamed"),
        (["--setting", "streamed", "--memory-limit", "1KiB"], "smallest achievable streamed peak"),
        (["--setting", "streamed", "--memory-limit", "lots"], "cannot read 'lots'"),
        (["--setting", "streamed", "--plot", "x.png"], "add --pareto"),
    ],
)
def test_bad_memory_options_are_one_line(args, message):
    result = run("plan", "--dims", SPEC, *args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_validate_with_a_memory_limit_measures_the_run():
    result = run("validate", "--dims", SPEC, "--setting", "streamed", "--memory-limit", "94KiB",
                 "--repeat", "1", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] and data["under_limit"] and data["peak_within_5_percent"]
    assert data["measured_recomputations"] == data["plan"]["checkpointing"]["recomputations"]
    assert data["measured_peak_bytes"] <= 94 * 1024
    text = run("validate", "--dims", SPEC, "--setting", "streamed", "--memory-limit", "94KiB",
               "--repeat", "1")  # fmt: skip
    assert text.exit_code == 0 and "predicted vs measured" in text.output
    wrong = run("validate", "--dims", SPEC, "--memory-limit", "94KiB")
    assert wrong.exit_code == 2 and "--setting streamed" in wrong.output


def test_bench_with_a_memory_limit():
    result = run("bench", "--suite", "smoke", "--memory-limit", "1MiB", "--repeat", "1")
    assert result.exit_code == 0, result.output
    assert "memory-limited plans (limit 1MiB)" in result.output


def test_a_mode_with_a_memory_limit_is_one_line_exit_2():
    result = CliRunner().invoke(
        app, ["plan", "--dims", "4,4,4,1", "--setting", "streamed", "--mode", "forward",
              "--memory-limit", "8KiB"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--mode forward does not apply with --memory-limit" in result.output
