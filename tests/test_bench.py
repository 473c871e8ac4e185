"""Benchmark suites and their rendering (timings are never asserted, only their presence)."""

from __future__ import annotations

import csv
import io
import json
import sys

import numpy as np
import pytest

from chainorder.bench import (
    SUITES,
    BenchResult,
    count_rows,
    iter_suite,
    random_dense_specs,
    run_suite,
    suite_cases,
    suite_names,
)
from chainorder.chain import Chain
from chainorder.errors import ChainorderError, SpecError
from chainorder.execute import evaluate
from chainorder.plan import Plan, plan
from chainorder.report.bench_tables import (
    FORMATS,
    PlotUnavailableError,
    plot_predicted_vs_measured,
    render,
    to_latex,
)
from chainorder.solvers.multi_dot import multi_dot_tree
from chainorder.validate import random_jacobians


@pytest.fixture(scope="module")
def smoke() -> BenchResult:
    return run_suite("smoke", repeat=1, frameworks=False)


def test_suite_catalogue() -> None:
    assert set(suite_names()) == {*SUITES, "all", "frameworks"}  # frameworks: models, not chains
    assert suite_cases("mlp")[0].spec == "784,512,tanh,512,tanh,10"
    assert suite_cases("hourglass")[0].spec == "4096,64,4096,64,4096"
    random_cases = suite_cases("random")
    assert len(random_cases) == 5 and all(c.all_trees for c in random_cases)
    for case in random_cases:
        c = Chain.parse(case.spec)
        assert c.n_links == 6 and c.is_dense and all(64 <= d <= 1024 for d in c.dims)
    assert "smoke" not in {c.name for c in suite_cases("all")}
    with pytest.raises(SpecError, match="unknown suite 'nope'; expected one of: all"):
        suite_cases("nope")


def test_random_specs_are_seeded() -> None:
    assert random_dense_specs(3, seed=7) == random_dense_specs(3, seed=7)
    assert random_dense_specs(3, seed=7) != random_dense_specs(3, seed=8)


@pytest.mark.parametrize(
    "dims", [[30, 35, 15, 5, 10, 20, 25], [4, 9, 2, 7, 3], [10, 3], [5, 5, 5, 5], [2, 80, 3, 90, 1]]
)
def test_multi_dot_tree_is_an_optimal_order_and_matches_multi_dot(dims: list[int]) -> None:
    chain = Chain.from_dims(dims)
    p = Plan.from_tree(chain, multi_dot_tree(dims))
    assert p.mults == plan(chain).mults
    js = random_jacobians(chain, 1)
    np.testing.assert_allclose(
        evaluate(p, js), np.linalg.multi_dot(js[::-1]) if len(js) > 1 else js[0], rtol=1e-10
    )


def test_smoke_suite_rows(smoke: BenchResult) -> None:
    assert len(smoke.rows) == count_rows("smoke")
    methods = {r.method for r in smoke.rows}
    assert {
        "chainorder forward",
        "numpy.linalg.multi_dot",
        "chainorder in multi_dot's order",
    } <= methods
    for row in smoke.rows:
        if row.method.startswith("chainorder"):
            assert row.status == "ok" and row.time_s is not None and row.time_s > 0
            assert row.predicted_mults is not None and row.rel_diff is not None
        elif row.method.startswith(("jax", "torch")):
            assert row.status == "skipped (--no-frameworks)" and row.time_s is None
    streamed = [r for r in smoke.rows if r.setting == "streamed" and r.measured_peak_bytes]
    for row in streamed:
        assert row.measured_peak_bytes >= row.predicted_peak_bytes


def test_framework_rows_are_checked_or_say_not_installed() -> None:
    rows = [r for r in iter_suite("smoke", repeat=1) if r.method.startswith(("jax", "torch"))]
    assert len(rows) == 4
    for row in rows:
        if row.status == "not installed":
            assert row.time_s is None and row.rel_diff is None
        else:  # installed: the Jacobian matched chainorder's before the time was reported
            assert row.status == "ok" and row.rel_diff < 1e-9 and row.time_s > 0


def test_framework_missing_gives_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.setitem(sys.modules, "torch", None)
    rows = [r for r in iter_suite("smoke", repeat=1) if r.method.startswith(("jax", "torch"))]
    assert {r.status for r in rows} == {"not installed"}


def test_renderings(smoke: BenchResult) -> None:
    for fmt in FORMATS:
        assert render(smoke, fmt).strip()
    data = json.loads(render(smoke, "json"))
    assert len(data["rows"]) == len(smoke.rows) and "time_s" in data["units"]
    rows = list(csv.DictReader(io.StringIO(render(smoke, "csv"))))
    assert len(rows) == len(smoke.rows) and float(rows[0]["time_s"]) > 0
    md = render(smoke, "md").splitlines()
    assert md[2].startswith("| case | setting | method") and len(md) == 4 + len(smoke.rows)
    assert "time (ms)" in render(smoke, "table")
    with pytest.raises(ChainorderError, match="unknown format 'xml'"):
        render(smoke, "xml")


def test_latex_escapes_specials() -> None:
    from chainorder.bench import BenchRow

    row = BenchRow(
        "s", "a_b", "1,2", "given", "x & y", "J2·J1", "forward", 1, 2, 3, 4, 0.5, 1.0, 0.0, "50% ok"
    )
    text = to_latex(BenchResult("s", (row,), 1, 0, "float64"))
    assert r"a\_b" in text and r"x \& y" in text and r"J2$\cdot$J1" in text and r"50\% ok" in text
    assert text.count(r"\\") == 2 and r"\begin{tabular}" in text


def test_plot_without_matplotlib(
    smoke: BenchResult, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(PlotUnavailableError, match=r"pip install 'jacobian-chainorder\[plot\]'"):
        plot_predicted_vs_measured(smoke, tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()


def test_plot_with_matplotlib(smoke: BenchResult, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "p.png"
    plot_predicted_vs_measured(smoke, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
