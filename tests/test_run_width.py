"""At 80 columns, validate and bench print every number in full (no cut, no ellipsis)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from chainorder.cli import app
from chainorder.units import format_bytes, format_count

runner = CliRunner()


def _invoke(args: list[str], columns: int | None) -> str:
    env = {"COLUMNS": str(columns) if columns else None}  # None: unset
    r = runner.invoke(app, args, env=env)
    assert r.exit_code == 0, r.output
    return r.output


def _no_cut(text: str, columns: int) -> None:
    assert "…" not in text
    for line in text.splitlines():
        # a line only runs past the width when it is one unbreakable word (an expression)
        assert len(line) <= columns or " " not in line.strip(), line


@pytest.mark.parametrize("columns", [80, 60])
@pytest.mark.parametrize("spec", ["400,400,400", "784,512,tanh,512,tanh,10", "30,35,15,5,10,20,25"])
def test_validate_prints_every_number_in_full(spec: str, columns: int) -> None:
    args = ["validate", "--dims", spec, "--repeat", "1", "--seed", "1"]
    text = _invoke(args, columns)
    _no_cut(text, columns)
    report = json.loads(_invoke([*args, "--json"], None))
    for p in report["plans"]:
        assert format_count(p["predicted_mults"]) in text
        assert format_count(p["predicted_flops"]) in text
        assert format_bytes(p["predicted_peak_bytes"]) in text
        assert p["expression"] in text
    assert f"{report['max_rel_diff']:.2e}" in text


def test_validate_table_when_wide_blocks_when_narrow() -> None:
    args = ["validate", "--dims", "30,35,15,5,10,20,25", "--repeat", "1"]
    assert "┃" in _invoke(args, 200) or "│" in _invoke(args, 200)
    narrow = _invoke(args, 80)
    assert "│" not in narrow and "  predicted: 15,125 mults, 30,250 FLOPs" in narrow


@pytest.mark.parametrize("columns", [80, 100])
def test_bench_smoke_prints_every_number_in_full(columns: int) -> None:
    args = ["bench", "--suite", "smoke", "--repeat", "1", "--no-frameworks"]
    text = _invoke(args, columns)
    _no_cut(text, columns)
    rows = json.loads(_invoke([*args, "--format", "json"], None))["rows"]
    for row in rows:
        assert row["method"] in text
        for key in ("predicted_mults", "predicted_flops"):
            if row[key] is not None:
                assert format_count(row[key]) in text
        if row["predicted_peak_bytes"] is not None:
            assert format_bytes(row["predicted_peak_bytes"]) in text


def test_bench_table_at_natural_width_when_piped_or_written(tmp_path) -> None:
    args = ["bench", "--suite", "smoke", "--repeat", "1", "--no-frameworks"]
    piped = _invoke(args, None)
    assert "pred. FLOPs" in piped and max(len(line) for line in piped.splitlines()) > 80
    out = tmp_path / "t.txt"
    _invoke([*args, "--out", str(out)], 80)
    assert "pred. FLOPs" in out.read_text()  # a file gets the table whatever the terminal
