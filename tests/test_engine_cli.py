"""``chainorder trace`` shows the Jacobian (a summary with a corner when large) and the chosen
order's and both sweeps' predicted next to measured time and peak memory; ``--json`` holds
it all."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from chainorder.cli import app
from chainorder.engine.measured import measure_modes
from chainorder.graph import graph_jacobian, plan_graph, trace

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
runner = CliRunner()
TANH = f"{EXAMPLES}/tanh_network.py"


def _kernel(*extra: str):
    return runner.invoke(
        app,
        ["trace", f"{EXAMPLES}/kernel_exercise.py:f", "--arg", "ell=[0.1,0.12]",
         "--arg", "X=8x2", *extra],
    )  # fmt: skip


def test_text_output_has_the_measured_table() -> None:
    res = _kernel()
    assert res.exit_code == 0, res.output
    assert "Predicted and measured" in res.output
    assert "forward mode" in res.output.split("Predicted and measured")[1]
    assert "gradient d" in res.output and "top-left corner" in res.output


def test_json_holds_measured_rows_that_match_the_plan() -> None:
    res = _kernel("--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    rows = doc["measured"]
    assert [r["method"] for r in rows][1:] == ["forward", "reverse"] or rows[0]["method"] in (
        "forward", "reverse",
    )  # fmt: skip
    assert rows[0]["chosen"] and rows[0]["method"] == doc["plan"]["chosen_method"]
    plan_mults = {m["method"]: m["mults"] for m in doc["plan"]["modes"]}
    for r in rows:
        assert r["plan_mults"] == plan_mults[r["method"]]
        assert r["counted_mults"] == r["predicted_mults"]
        assert r["seconds"] > 0 and r["measured_peak_bytes"] > 0
        assert r["measured_peak_bytes"] <= 1.1 * r["predicted_peak_bytes"] + 65536
        assert r["units"]["memory"] == "bytes"
    assert doc["gradient"]["X"]["values"]  # small: in full


def test_no_measure_skips_it() -> None:
    res = _kernel("--json", "--no-measure")
    assert res.exit_code == 0 and json.loads(res.output)["measured"] is None


def test_measured_peak_of_a_sweep_is_its_derivative_arrays() -> None:
    # forward mode on x -> W @ tanh(x): n = 200 tangents of every live node dominate
    W = np.random.default_rng(0).standard_normal((3, 200))
    g = trace(lambda x: W @ np.tanh(x), np.ones(200))
    rows = {r.method: r for r in measure_modes(plan_graph(g), repeat=1)}
    fwd = rows["forward"]
    tangents = 200 * 200 * 8  # one n × size(x) tangent block of float64
    assert fwd.measured_peak_bytes >= tangents
    assert fwd.measured_peak_bytes <= 1.1 * fwd.predicted_peak_bytes + 65536
    assert np.allclose(graph_jacobian(g, "forward"), W * (1 - np.tanh(1.0) ** 2))


def test_large_jacobian_summary_has_a_corner() -> None:
    from chainorder.report.trace_json import array_data

    a = np.arange(20000.0).reshape(100, 200)
    assert array_data(a)["corner"] == [
        [0.0, 1.0, 2.0],
        [200.0, 201.0, 202.0],
        [400.0, 401.0, 402.0],
    ]
