"""Replay without re-tracing: every node's value equals a fresh trace's at random new points;
guards (comparisons, argmax, np.where(cond), integer casts ...) re-checked; a changed guard
traces and plans again."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainorder
from chainorder.engine.replay import Replay
from chainorder.graph import graph_fd_jacobian, trace

RNG = np.random.default_rng(5)


def attention(x, Wq, Wk):
    q, k = x @ Wq, x @ Wk
    s = q @ k.T / np.sqrt(q.shape[-1])
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)) @ x


def layer_norm(x, g):
    mu = x.mean(axis=-1, keepdims=True)
    v = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return g * (x - mu) / np.sqrt(v + 1e-5)


def gp_fit(ell, X, y):
    d = X[:, None, :] - X[None, :, :]
    K = np.exp(-0.5 * ((d / ell) ** 2).sum(-1)) + 0.1 * np.eye(X.shape[0])
    return 0.5 * y @ np.linalg.solve(K, y)


CASES = [
    (attention, [(6, 4), (4, 3), (4, 3)]),
    (layer_norm, [(3, 5), (5,)]),
    (gp_fit, [(2,), (7, 2), (7,)]),
    (lambda x: np.sort(x)[::-1].cumsum() * np.abs(x), [(5,)]),
    (lambda x: np.where(x > 0, x, 0.1 * x).sum() + x.max(), [(6,)]),
]


@settings(max_examples=20, deadline=None)
@given(st.integers(0, len(CASES) - 1), st.integers(0, 2**16))
def test_replay_equals_a_fresh_trace_at_new_points(case: int, seed: int) -> None:
    f, shapes = CASES[case]
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal(s) for s in shapes]
    if f is gp_fit:
        args[0] = np.abs(args[0]) + 0.5
    g = trace(f, *args)
    replay = Replay(g)
    new = [a + 0.3 * rng.standard_normal(a.shape) for a in args]
    if f is gp_fit:
        new[0] = np.abs(new[0]) + 0.5
    vals = replay.run(new, new)
    fresh = trace(f, *new)
    if vals is None:  # a guard changed: then the fresh trace must differ in some guard
        assert any(
            not np.array_equal(np.asarray(a.result), np.asarray(b.result), equal_nan=False)
            for a, b in zip(g.guards, fresh.guards, strict=False)
        ) or len(g.guards) != len(fresh.guards)
        return
    assert fresh.order == g.order
    for name, value in replay.values_by_name(vals).items():
        np.testing.assert_allclose(value, fresh.value(name), rtol=1e-12, atol=1e-12)
    # and the Jacobian of the replayed graph is the fresh one's
    h = replay.graph_at(vals)
    for m in ("forward", "reverse"):
        np.testing.assert_allclose(
            chainorder.graph.graph_jacobian(h, m),
            chainorder.graph.graph_jacobian(fresh, m),
            rtol=1e-10, atol=1e-12,
        )  # fmt: skip


def test_data_dependent_if_traces_again() -> None:
    def f(x):
        if (x.sum() > 0).all():
            return np.sin(x) * x
        return np.exp(x)

    jf = chainorder.jacobian(f)
    x = np.array([0.5, 1.0])
    np.testing.assert_allclose(jf(x), np.diag(np.cos(x) * x + np.sin(x)))
    np.testing.assert_allclose(jf(2 * x), np.diag(np.cos(2 * x) * 2 * x + np.sin(2 * x)))
    assert jf.last.traces == 1
    np.testing.assert_allclose(jf(-x), np.diag(np.exp(-x)))  # the other branch
    assert jf.last.traces == 2 and jf.last.graph.guards[0].result == np.False_
    np.testing.assert_allclose(jf(x), np.diag(np.cos(x) * x + np.sin(x)))
    assert jf.last.traces == 3
    assert len(jf.entries) == 1


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x.reshape(-1)[x.argmax()] * x,  # argmax as an index (a getitem param)
        lambda x: x * (x > 0),  # a comparison as a constant mask
        lambda x: x[np.where(x > 0)].sum() * x,  # np.where(cond) indices
        lambda x: x * x.astype(int),  # an integer cast
        lambda x: x * np.floor(x) + np.sign(x) * x,  # zero-derivative ufuncs
        lambda x: np.take_along_axis(x, x.argsort(), axis=0) * x,
    ],
)
def test_every_guard_kind_gives_the_right_jacobian_at_new_points(f) -> None:
    jf = chainorder.jacobian(f)
    for _ in range(6):
        x = RNG.standard_normal(5) * 2
        expect = graph_fd_jacobian(trace(f, x))
        np.testing.assert_allclose(jf(x), expect, atol=1e-6)
    assert jf.last.traces > 1  # the guards did change between these points
    y = RNG.standard_normal(5) * 2
    jf(y)
    traces = jf.last.traces
    jf(y.copy())
    assert jf.last.traces == traces  # same guards: replayed


def test_guards_are_recorded_with_their_line() -> None:
    g = trace(lambda x: x * (x > 0), np.ones(2))
    (guard,) = g.guards
    assert guard.fn is np.greater and "test_engine_replay.py:" in guard.line
    assert guard.args[0] == ("node", "x")
