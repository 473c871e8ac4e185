"""``chainorder validate`` through typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from chainorder.cli import app

runner = CliRunner()


def run(*args: str, columns: int | None = None):
    env = {"COLUMNS": str(columns) if columns else None}  # None: unset
    return runner.invoke(app, ["validate", *args], env=env)


def test_help_shows_an_example() -> None:
    r = run("--help")
    assert r.exit_code == 0
    assert "chainorder validate --dims 784,512,tanh,512,tanh,10" in r.output


@pytest.mark.parametrize("width", [200, 80, None])
def test_prints_predictions_measurements_and_agreement(width: int | None) -> None:
    r = run("--dims", "30,35,15,5,10,20,25", "--repeat", "1", columns=width)
    assert r.exit_code == 0, r.output
    out = r.output
    assert "40,500" in out and "47,500" in out and "15,125" in out  # mults
    assert "(J6·(J5·J4))·((J3·J2)·J1)" in out
    assert "KiB" in out and "GFLOP/s" in out and "ms" in out
    assert "tolerance 1e-09 for float64: OK" in out
    assert "units: mults = scalar multiplications" in out or "mults," in out


def test_json_streamed() -> None:
    r = run(
        "--dims", "6,5,tanh,4", "--setting", "streamed", "--json", "--repeat", "1", "--seed", "3"
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["setting"] == "streamed" and data["seed"] == 3 and data["ok"] is True
    assert [p["label"] for p in data["plans"]] == ["forward", "reverse", "optimal"]
    assert data["plans"][0]["measured_peak_bytes"] > 0


def test_all_trees() -> None:
    r = run("--dims", "8,6,5,4,3", "--all-trees", "--json", "--repeat", "1")
    assert r.exit_code == 0
    assert len(json.loads(r.output)["plans"]) == 5


def test_exit_1_when_jacobians_disagree() -> None:
    r = run("--dims", "40,50,30,60", "--dtype", "float32", "--rtol", "1e-12", "--repeat", "1")
    assert r.exit_code == 1
    assert "FAILED" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "missing --dims"),
        (("--dims", "784,x,10"), "unknown word 'x' at position 2"),
        (("--dims", "4,3", "--setting", "lazy"), "unknown memory setting 'lazy'"),
        (("--dims", "4,3", "--dtype", "int8"), "not a floating or complex dtype"),
        (("--dims", "4,3", "--backend", "tpu"), "unknown backend 'tpu'"),
        (("--dims", "4,3", "--repeat", "0"), "repeat must be an integer from 1 to 10000"),
        (("--dims", "4,3", "--rtol", "-1"), "rtol must be positive"),
        (("--dims", ",".join(["3"] * 12), "--all-trees"), "limited to 8 links"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: tuple[str, ...], message: str) -> None:
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "Traceback" not in r.output


def test_cupy_backend_without_cupy_is_a_clean_error(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "cupy", None)
    r = run("--dims", "4,3", "--backend", "cupy")
    assert r.exit_code == 2 and "needs CuPy" in r.output
