"""``chainorder bench`` through typer's CliRunner (the tiny ``smoke`` suite)."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest
from typer.testing import CliRunner

from chainorder.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(
        app, ["bench", "--suite", "smoke", "--repeat", "1", "--no-frameworks", *args]
    )


def test_help_shows_an_example() -> None:
    r = runner.invoke(app, ["bench", "--help"])
    assert r.exit_code == 0 and "chainorder bench --suite mlp" in r.output


def test_table_to_stdout() -> None:
    r = run()
    assert r.exit_code == 0, r.output
    assert "chainorder forward" in r.output and "multi_dot" in r.output


def test_json_to_stdout() -> None:
    r = run("--format", "json", "--no-memory")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["suite"] == "smoke" and data["rows"]
    assert all(row["measured_peak_bytes"] is None for row in data["rows"])


@pytest.mark.parametrize("fmt", ["csv", "md", "latex", "json", "table"])
def test_out_file_written(fmt: str, tmp_path) -> None:
    out = tmp_path / f"bench.{fmt}"
    r = run("--format", fmt, "--out", str(out))
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "smoke" in text
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows and rows[0]["suite"] == "smoke"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_plot(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "plot.png"
    r = run("--format", "csv", "--out", str(tmp_path / "t.csv"), "--plot", str(png))
    assert r.exit_code == 0, r.output
    assert png.read_bytes().startswith(b"\x89PNG")


def test_plot_without_matplotlib_fails_before_running(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    r = run("--plot", str(tmp_path / "p.png"))
    assert r.exit_code == 2 and "--plot needs matplotlib" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "xml"), "unknown --format 'xml'"),
        (("--suite", "nope"), "unknown suite 'nope'"),
        (("--repeat", "0"), "repeat must be an integer from 1 to 10000"),
        (("--threads", "0"), "--threads must be at least 1"),
        (("--out", "/no/such/folder/x.md"), "does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: tuple[str, ...], message: str, tmp_path) -> None:
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output


def test_out_is_a_directory(tmp_path) -> None:
    r = run("--out", str(tmp_path))
    assert r.exit_code == 2 and "is a directory" in r.output


def test_smoke_suite_has_matrix_free_rows_in_the_bench_tables() -> None:
    r = run("--format", "json")
    assert r.exit_code == 0, r.output
    rows = [row for row in json.loads(r.output)["rows"] if row["case"] == "smoke-cnn"]
    assert len(rows) == 4 and {row["status"] for row in rows} == {"ok"}
    assert any("jacrev" in row["method"] for row in rows)
    assert all("matrix-free" in row["mode"] for row in rows)
    md = run("--format", "md")
    assert md.exit_code == 0 and "matrix-free optimum" in md.output
