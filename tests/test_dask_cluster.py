"""Dask execution on a small LocalCluster (issue 13 items 4 and 6): validate_dask, the checks,
the per-worker memory guard and the CLI. Seconds in CI; skipped without dask.distributed."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("dask.array")
pytest.importorskip("distributed")

from typer.testing import CliRunner

from chainorder.chain import Chain
from chainorder.cli import app
from chainorder.dask_report import render_dask_validation, validate_dask
from chainorder.dask_run import (
    dask_client,
    evaluate_plan,
    exact_difference,
    measure_product,
    probe_difference,
    random_dask_jacobians,
)
from chainorder.errors import MemoryLimitError, SpecError
from chainorder.plan import plan


@pytest.fixture(scope="module")
def client():
    with dask_client(2, "1GiB", processes=False) as c:
        yield c


def test_validate_dask_small_chain():
    r = validate_dask("40,30,tanh,20,50", workers=2, memory_per_worker="1GiB", processes=False)
    assert [row.label for row in r.rows] == ["forward", "reverse", "optimal"]
    assert r.ok and r.workers == 2 and r.memory_limits == (2**30, 2**30)
    for row in r.rows:
        assert row.measured.check == "exact (NumPy)"
        assert row.measured.seconds > 0 and row.predicted_seconds > 0
        assert len(row.measured.worker_peak_bytes) == 2
        assert all(p > 0 for p in row.measured.worker_peak_bytes)
        assert row.memory.workers == 2
    assert r.rows[2].plan.mults <= min(r.rows[0].plan.mults, r.rows[1].plan.mults)
    doc = json.loads(r.to_json())
    assert doc["ok"] and len(doc["plans"]) == 3
    assert "measured per-worker peak" in render_dask_validation(r)


def test_probe_detects_a_wrong_product(client):
    chain = Chain.from_dims([60, 40, 50, 30])
    Js = client.persist(random_dask_jacobians(chain, seed=4, chunk_bytes=8 * 20 * 20))
    good = evaluate_plan(plan(chain), Js)
    assert probe_difference(good, Js) < 1e-13
    assert exact_difference(good, Js) < 1e-13
    wrong = Js[2] @ Js[1] @ (Js[0] * 1.001)
    assert probe_difference(wrong, Js) > 1e-4
    assert exact_difference(wrong, Js) > 1e-4


def test_measure_product_large_result_uses_the_probe(client):
    chain = Chain.from_dims([300, 20, 300])
    Js = client.persist(random_dask_jacobians(chain, seed=0, chunk_bytes=8 * 100 * 100))
    p = plan(chain)
    m = measure_product(
        client, "opt", lambda: evaluate_plan(p, Js, 8 * 100 * 100), Js, exact_check_bytes=1000
    )
    assert m.check.startswith("probe") and m.rel_diff < 1e-12


def test_memory_guard_is_per_worker():
    # one 64 MiB block product needs more than a 64 MiB worker holds at once
    with pytest.raises(MemoryLimitError, match="working set per worker"):
        validate_dask("4000,4000,4000", workers=1, memory_per_worker="64MiB", processes=False)


def test_bad_arguments():
    with pytest.raises(SpecError):
        validate_dask("4,3", workers=0, processes=False)
    with pytest.raises(SpecError, match="real floating"):
        validate_dask("4,3", workers=1, dtype="complex128", processes=False)


def test_cli_validate_dask_and_its_errors():
    runner = CliRunner()
    args = ["validate", "--dims", "30,20,10", "--backend", "dask", "--workers", "1"]
    res = runner.invoke(app, [*args, "--memory-per-worker", "512MiB", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["backend"] == "dask" and doc["ok"] and doc["workers"] == 1
    assert doc["memory_limit_bytes_per_worker"] == [512 * 2**20]
    assert all(r["measured"]["rel_diff"] < 1e-12 for r in doc["plans"])
    res = runner.invoke(app, ["validate", "--dims", "3,4", "--workers", "2"])
    assert res.exit_code == 2 and "only apply with --backend dask" in res.output
    res = runner.invoke(app, [*args, "--max-memory", "1GiB"])
    assert res.exit_code == 2 and "--memory-per-worker" in res.output
    res = runner.invoke(app, [*args, "--setting", "streamed"])
    assert res.exit_code == 2 and "given setting only" in res.output


def test_result_values_match_numpy_exactly(client):
    chain = Chain.from_dims([30, 20, 20, 10])
    Js = client.persist(random_dask_jacobians(chain, seed=5, chunk_bytes=8 * 8 * 8))
    host = [np.asarray(J.compute()) for J in Js]
    got = evaluate_plan(plan(chain, "reverse"), Js, 8 * 8 * 8).compute()
    np.testing.assert_allclose(got, host[2] @ host[1] @ host[0], rtol=1e-12)


def test_validate_on_a_given_scheduler_uses_its_workers_and_limits():
    import dask
    import distributed

    # a thread worker watches this whole test process's memory (over 768 MiB once torch or
    # JAX is loaded): without these settings it pauses on memory it never allocated and the
    # run waits forever (dask_client sets the same for its own thread workers)
    keys = ("target", "spill", "pause", "terminate")
    no_pause = {f"distributed.worker.memory.{k}": False for k in keys}
    with dask.config.set(no_pause), distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        memory_limit="768MiB",
        dashboard_address=":0",
    ) as cluster:
        r = validate_dask("20,30,10", scheduler=cluster.scheduler_address)
    assert r.workers == 1 and r.threads_per_worker == 2 and r.ok
    assert r.memory_limits == (768 * 2**20,)
    assert r.rows[0].memory.threads_per_worker == 2
