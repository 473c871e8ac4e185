"""The row ``method="auto"`` runs: least score, a sweep preferred within a near-tie."""

from __future__ import annotations

import numpy as np

import chainorder
from chainorder.graph.planning import NEAR_TIE, choose_row, row_score


def _kernel(ell, X):
    y = np.linspace(-1.0, 1.0, X.shape[0])
    K = 0.0
    for a in range(2):
        D = (X[:, None, a] - X[None, :, a]) ** 2
        K = K + np.exp(-D / (2 * ell[a] ** 2))
    return y @ np.linalg.inv(K) @ y


def _attention(x, Wq, Wk, Wv):
    q, k, v = x @ Wq, x @ Wk, x @ Wv
    s = q @ k.T / 4.0
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)) @ v




def test_a_sweep_within_the_near_tie_is_chosen_over_an_elimination() -> None:
    rng = np.random.default_rng(0)
    jf = chainorder.grad(_kernel, argnums=(0, 1))
    jf(np.array([0.5, 0.6]), rng.standard_normal((20, 2)))
    rows, chosen = jf.plan.rows, jf.plan.chosen
    best = min(rows, key=lambda r: (row_score(r), r.peak_bytes))
    assert chosen is choose_row(rows)
    assert row_score(chosen) <= (1 + NEAR_TIE) * row_score(best)
    if not best.method.is_sweep:  # the score alone would run an elimination here
        assert chosen.method.is_sweep


def test_outside_a_near_tie_the_least_score_wins_and_inside_the_leaner_program() -> None:
    rng = np.random.default_rng(1)
    args = (rng.standard_normal((16, 8)), *(rng.standard_normal((8, 8)) for _ in range(3)))
    jf = chainorder.jacobian(_attention)
    jf(*args)
    rows, chosen = jf.plan.rows, jf.plan.chosen
    least = min(row_score(r) for r in rows)
    assert row_score(chosen) <= (1 + NEAR_TIE) * least
    for r in rows:  # nothing in the tie beats the chosen row by kind, then by memory
        if row_score(r) <= (1 + NEAR_TIE) * least:
            assert (not chosen.method.is_sweep, chosen.peak_bytes) <= (
                not r.method.is_sweep, r.peak_bytes)
