"""Dask execution (issue 13 item 4): lazy graphs in the plan's order, the chunking rule, the
memory estimate per block and per worker. Uses the synchronous scheduler: no cluster."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
import dask  # noqa: E402

from chainorder.chain import Chain  # noqa: E402
from chainorder.dask_backend import (  # noqa: E402
    chunk_lengths,
    evaluate_dask,
    link_chunks,
    predict_memory,
    rechunk_links,
)
from chainorder.errors import ExecutionError, SpecError  # noqa: E402
from chainorder.execute import evaluate  # noqa: E402
from chainorder.nets import random_jacobians  # noqa: E402
from chainorder.plan import Plan, plan  # noqa: E402
from chainorder.tree import all_trees  # noqa: E402

SYNC = {"scheduler": "synchronous"}


def _dask(Js, chunks=3):
    return [da.from_array(J, chunks=chunks) for J in Js]


def _reference(Js):
    out = np.diag(Js[0]) if Js[0].ndim == 1 else Js[0]
    for J in Js[1:]:
        out = J[:, None] * out if J.ndim == 1 else J @ out
    return out


def _matmul_descendants(result) -> list[int]:
    """For each matmul layer, how many other matmul layers it depends on (transitively)."""
    deps = result.dask.dependencies
    names = [n for n in deps if n.startswith("matmul")]
    memo: dict[str, set[str]] = {}

    def below(n: str) -> set[str]:
        if n not in memo:
            acc: set[str] = set()
            for d in deps[n]:
                acc |= below(d) | ({d} if d.startswith("matmul") else set())
            memo[n] = acc
        return memo[n]

    return sorted(len(below(n)) for n in names)


def _plan_descendants(p: Plan) -> list[int]:
    flat = p.flat
    sizes = [0] * len(flat.lo)
    for i in range(len(flat.lo)):
        if flat.left[i] >= 0:
            sizes[i] = 1 + sizes[flat.left[i]] + sizes[flat.right[i]]
    return sorted(sizes[i] - 1 for i in range(len(flat.lo)) if flat.left[i] >= 0)


@pytest.mark.parametrize("spec", ["7,5,9,4,6", "6,4,tanh,8,3", "5,relu,tanh,5", "4,4"])
def test_evaluate_on_dask_is_lazy_and_matches_numpy(spec):
    p = plan(spec)
    Js = random_jacobians(p.chain, seed=3)
    lazy = evaluate(p, _dask(Js))
    assert type(lazy).__module__.startswith("dask")
    with dask.config.set(SYNC):
        got = lazy.compute()
    want = _reference(Js)
    if got.ndim == 1:
        want = np.diag(want)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_graph_follows_every_bracketing():
    chain = Chain.from_dims([6, 5, 7, 4, 3])
    Js = _dask(random_jacobians(chain, seed=1))
    seen = set()
    for tree in all_trees(chain.n_links):
        p = Plan.from_tree(chain, tree, "custom")
        lazy = evaluate_dask(p, Js, chunk_bytes=200)
        assert _matmul_descendants(lazy) == _plan_descendants(p)
        seen.add(tuple(_plan_descendants(p)))
        with dask.config.set(SYNC):
            np.testing.assert_allclose(
                lazy.compute(), _reference([np.asarray(J) for J in Js]), rtol=1e-12
            )
    assert len(seen) > 1  # the shapes of the trees differ, and the graphs with them


def test_diagonal_links_are_scalings_not_matmuls():
    p = plan("6,5,tanh,relu,4", "forward")  # J4·(relu·(tanh·J1)): one dense·dense product
    lazy = evaluate(p, _dask(random_jacobians(p.chain, seed=0)))
    layers = list(lazy.dask.layers)
    assert sum(n.startswith("matmul") for n in layers) == 1
    q = plan("6,tanh,relu,4", "forward")  # no two dense links: no matmul at all
    assert not any(
        n.startswith("matmul") for n in evaluate(q, _dask(random_jacobians(q.chain))).dask.layers
    )


def test_chunk_rule_and_no_rechunk_between_products():
    chain = Chain.from_dims([40, 7, 40, 7, 40])
    lengths = chunk_lengths(chain, 8, 8 * 15 * 15)
    assert lengths == (15, 7, 15, 7, 15)
    p = plan(chain)
    Js = [
        da.from_array(J, chunks=link_chunks(chain, l, lengths))
        for l, J in enumerate(random_jacobians(chain, seed=2), start=1)
    ]
    lazy = evaluate_dask(p, Js, chunk_bytes=8 * 15 * 15)
    assert lazy.chunks == ((15, 15, 10), (15, 15, 10))
    assert not any(n.startswith("rechunk") for n in lazy.dask.layers)
    # inputs chunked otherwise are rechunked once, at the leaf
    other = rechunk_links(p, _dask(random_jacobians(chain, seed=2), 11), 8 * 15 * 15)
    assert [J.chunks for J in other] == [J.chunks for J in Js]


def test_mixing_numpy_and_dask_is_an_error():
    p = plan("3,4,5")
    Js = random_jacobians(p.chain)
    with pytest.raises(ExecutionError, match="mixed array namespaces"):
        evaluate(p, [Js[0], da.from_array(Js[1])])
    with pytest.raises(ExecutionError, match="needs dask arrays"):
        evaluate_dask(p, Js)
    with pytest.raises(ExecutionError, match=r"J2 \(link 2, dense\): expected shape"):
        evaluate(p, [da.from_array(Js[0]), da.ones((4, 5))])


def test_memory_estimate_by_hand():
    # hourglass, float64, 64 MiB blocks: side 2896
    p = plan("20000,200,20000,200,20000")
    est = predict_memory(p, workers=2, threads_per_worker=2)
    s = 2896
    assert est.chunk_lengths == (s, 200, s, 200, s)
    assert est.largest_block_bytes == s * s * 8
    # J4·(…): (s×200)·(200×s) + output, or the sum holding its one partial and its output
    assert est.largest_task_bytes == max(s * 200 * 2 + s * s, 2 * s * s) * 8
    assert est.working_bytes == 2 * est.largest_task_bytes
    assert est.resident_bytes == -(-p.peak_bytes("given") // 2)
    assert est.per_worker_bytes == est.working_bytes + est.resident_bytes
    assert est.spills(est.per_worker_bytes - 1) and not est.spills(est.per_worker_bytes)
    # a long contraction: partial sums of up to 16 blocks
    q = plan("200,20000,200", "forward")
    n_k = -(-20000 // s)
    assert (
        predict_memory(q).largest_task_bytes
        == max(200 * s * 2 + 200 * 200, (n_k + 1) * 200 * 200) * 8
    )
    with pytest.raises(SpecError):
        predict_memory(p, workers=0)
    with pytest.raises(SpecError):
        predict_memory(p, chunk_bytes="lots")
