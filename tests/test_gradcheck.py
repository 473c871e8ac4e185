"""check_grads passes on correct rules and fails on broken ones."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from chainorder.errors import JacobianMismatchError
from chainorder.gradcheck import central_difference, check_grads
from chainorder.graph import ops


def test_passes_on_a_composite_function() -> None:
    rng = np.random.default_rng(1)
    W = rng.standard_normal((4, 3))
    check_grads(lambda x, W: (np.tanh(W @ x) ** 2).mean(), rng.standard_normal(3), W)


@pytest.mark.parametrize("broken", ["jvp", "vjp"])
def test_fails_when_a_rule_is_wrong(monkeypatch, broken: str) -> None:
    good = ops.REGISTRY["sin"]
    wrong = {broken: lambda i, t, v, out, p: 1.01 * getattr(good, broken)(i, t, v, out, p)}
    monkeypatch.setitem(ops.REGISTRY, "sin", dataclasses.replace(good, **wrong))
    x = np.array([0.4, 1.1])
    mode = "fwd" if broken == "jvp" else "rev"
    with pytest.raises(JacobianMismatchError, match="forward" if mode == "fwd" else "reverse"):
        check_grads(np.sin, x, modes=(mode,))
    other = "rev" if mode == "fwd" else "fwd"
    check_grads(np.sin, x, modes=(other,))  # the other direction is still right


def test_rejects_unknown_modes() -> None:
    with pytest.raises(ValueError, match="unknown modes"):
        check_grads(np.sin, np.ones(2), modes=("sideways",))


def test_central_difference_is_second_order() -> None:
    (d,) = central_difference(lambda xs: [np.exp(xs[0])], [np.array(0.0)], [np.array(1.0)], 1e-3)
    assert abs(d - 1.0) < 1e-6 and abs(d - 1.0) > 1e-9
