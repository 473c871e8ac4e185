"""The frameworks suite: the same models in PyTorch and JAX, its rows, the bench hook."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from chainorder.bench import suite_cases, suite_names
from chainorder.errors import SpecError
from chainorder.frameworks.models import case_names, make_model

torch = pytest.importorskip("torch")


def test_cases_and_bench_hook() -> None:
    assert case_names() == (
        "mlp-wide-in", "mlp-wide-out", "hourglass", "residual", "transformer", "cnn", "loss",
    )  # fmt: skip
    assert "frameworks" in suite_names()
    assert suite_cases("frameworks") == ()
    assert "frameworks" not in {c.name for c in suite_cases("all")}
    with pytest.raises(SpecError, match="unknown frameworks case"):
        make_model("resnet")


@pytest.mark.parametrize("name", case_names())
def test_torch_and_jax_models_compute_the_same_function(name: str) -> None:
    jax = pytest.importorskip("jax")
    m = make_model(name, seed=5, tokens=4)
    x = m.input(seed=5)
    with jax.enable_x64(True):
        y_jax = np.asarray(m.jax_function("float64")(x))
    with torch.no_grad():
        y_torch = m.torch_module(torch.float64)(torch.from_numpy(x)).numpy()
    assert y_torch.shape == y_jax.shape
    np.testing.assert_allclose(y_torch, y_jax, rtol=1e-12, atol=1e-12)


def test_suite_rows_check_then_time() -> None:
    from chainorder.frameworks.suite import METHODS, iter_results

    rows = list(iter_results(("cnn",), repeat=1, dtypes=("float64",)))
    cpu = [r for r in rows if r.device == "cpu"]
    assert [r.method for r in cpu] == list(METHODS)
    by = {r.method: r for r in cpu}
    for method in ("torch.func.jacrev", "torch.func.jacfwd", "chainorder.torch auto"):
        r = by[method]
        assert r.status == "ok" and r.seconds > 0 and r.rel_diff <= 1e-9
        assert r.peak_bytes > 0 and r.memory_source.startswith("torch.profiler")
    assert by["chainorder.torch auto"].mode == "reverse"  # 10 outputs: one adjoint sweep
    auto = by["chainorder.torch auto"]  # the first call kept the fastest of its programs:
    if auto.pure_call:  # jacrev itself, named as such ...
        assert (auto.pure_call, auto.program) == ("torch.func.jacrev", "")
    else:  # ... or its own route, named instead
        assert auto.program in ("direct", "torch.func sweeps", "direct + torch.func sweeps")
    for r in cpu:  # one figure per round, the best round as the row's time
        if r.status == "ok":
            assert len(r.rounds) == len(r.cpu_rounds) == 1
            assert (r.seconds, r.cpu_seconds) == (min(r.rounds), min(r.cpu_rounds))
    assert by["torch.func.jacfwd"].predicted_mults > by["torch.func.jacrev"].predicted_mults
    if importlib.util.find_spec("jax") is not None:
        r = by["jax.jit(jax.jacrev)"]
        assert r.status == "ok" and r.peak_bytes > 0 and r.memory_source.startswith("XLA")
        if "jax.jit(chainorder.jax)" in by and by["jax.jit(chainorder.jax)"].status == "ok":
            auto = by["jax.jit(chainorder.jax)"]
            assert (auto.mode, auto.pure_call) == ("reverse", "jax.jacrev")
            assert auto.predicted_mults == r.predicted_mults


def test_cli_runs_the_suite(monkeypatch) -> None:
    import json

    from typer.testing import CliRunner

    from chainorder.cli import app
    from chainorder.frameworks import suite

    monkeypatch.setattr(suite, "case_names", lambda: ("mlp-wide-out",))
    r = CliRunner().invoke(
        app, ["bench", "--suite", "frameworks", "--repeat", "1", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["rows"]
    assert len(rows) == suite.count_rows()
    mine = [row for row in rows if row["method"] == "chainorder.torch auto"]
    assert {row["setting"] for row in mine} >= {"float32 cpu", "float64 cpu"}
    assert all(row["status"] == "ok" and row["mode"] == "forward" for row in mine)
