"""``jacobian(f, reuse=True)``: forward values written into buffers kept between calls."""

from __future__ import annotations

import numpy as np

import chainorder
from chainorder.engine.replay import Replay
from chainorder.graph.trace import trace


def _gp(ell, X, y):
    d = (X[:, None, :] - X[None, :, :]) / ell
    K = np.exp(-0.5 * np.sum(d * d, axis=-1)) + 0.1 * np.eye(X.shape[0])
    return 0.5 * (y @ np.linalg.solve(K, y))


def _args(seed: int, n: int = 100):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    return np.array([0.8, 1.2]) + 0.1 * rng.random(2), X, np.sin(X[:, 0])


def test_reused_buffers_give_each_call_its_own_values() -> None:
    kept = chainorder.grad(_gp, argnums=(0, 1))
    fresh = chainorder.grad(_gp, argnums=(0, 1), reuse=False)
    points = [_args(s) for s in (0, 1, 2, 1, 0)]
    for a in points:  # later calls overwrite the kept buffers; every answer is its own
        got, want = kept(*a), fresh(*a)
        ref = chainorder.grad(_gp, argnums=(0, 1))(*a)  # a first call: traced at a
        for g, w, r in zip(got, want, ref, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)
    assert kept.last.traces == 1 and fresh.last.traces == 1
    held = kept.last.replay.held_bytes
    assert held >= 100 * 100 * 2 * 8  # the N × N × 2 differences at least
    assert held <= kept.last.plan.lin.values_elements() * 8  # at most the graph's values
    assert fresh.last.replay.held_bytes == 0
    assert "of forward values between calls" in kept.explain()
    assert "of forward values" not in fresh.explain()


def test_replay_writes_into_its_buffers_only_when_asked() -> None:
    x = np.linspace(0.0, 1.0, 20000)
    g = trace(lambda x: np.exp(x) * 2.0, x)
    r = Replay(g, reuse=True)
    first = r.run([x + 1.0])
    kept = {k: id(v) for k, v in r._buffers.items()}
    assert kept and r.held_bytes == 20000 * 8 * len(kept)
    second = r.run([x + 2.0])
    assert {k: id(second[k]) for k in kept} == kept  # written in place
    np.testing.assert_allclose(r.outputs(second)[0], np.exp(x + 2.0) * 2.0, rtol=1e-14)
    assert first is not second
    plain = Replay(g)
    a, b = plain.run([x]), plain.run([x])
    assert plain.held_bytes == 0 and r.outputs(a)[0] is not plain.outputs(b)[0]


def test_concurrent_calls_from_threads_each_get_their_own_answer() -> None:
    from concurrent.futures import ThreadPoolExecutor

    kept = chainorder.grad(_gp, argnums=(0, 1))
    points = [_args(s, n=120) for s in range(6)]
    kept(*points[0])  # planned; the replays keep buffers and contend for them
    kept(*points[1])
    assert kept.last.replay.held_bytes > 0  # buffers to contend for (N × N × 2 > 64 KiB)
    want = [chainorder.grad(_gp, argnums=(0, 1), reuse=False)(*a) for a in points]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda a: kept(*a), points * 4))
    for k, g in enumerate(got):
        for gb, wb in zip(g, want[k % len(points)], strict=True):
            np.testing.assert_allclose(gb, wb, rtol=1e-12, atol=1e-12)
    assert not kept.last.replay.lock.locked()
