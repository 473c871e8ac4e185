"""chainorder.jacobian on CuPy arrays (issue 8 point 7): the trace runs on host copies, the
replay and the Jacobian program on the device; the numbers equal NumPy's. Skipped without
CuPy and a GPU."""

from __future__ import annotations

import numpy as np
import pytest

import chainorder
from chainorder.engine.api import namespace

cupy = pytest.importorskip("cupy")
try:
    cupy.cuda.runtime.getDeviceCount()
except Exception:  # pragma: no cover - CuPy without a usable GPU
    pytest.skip("no CUDA device", allow_module_level=True)


def mlp(x, W1, W2):
    return np.tanh(W2 @ np.tanh(W1 @ x))


def test_jacobian_on_cupy_equals_numpy() -> None:
    rng = np.random.default_rng(0)
    x, W1, W2 = rng.standard_normal(6), rng.standard_normal((5, 6)), rng.standard_normal((3, 5))
    ref = chainorder.jacobian(mlp, argnums=(0, 1))(x, W1, W2)
    jf = chainorder.jacobian(mlp, argnums=(0, 1))
    for _ in range(2):  # first call and replay
        out = jf(cupy.asarray(x), cupy.asarray(W1), cupy.asarray(W2))
        for a, b in zip(out, ref, strict=True):
            assert namespace(a) is cupy
            np.testing.assert_allclose(cupy.asnumpy(a), b, atol=1e-12)
    assert jf.last.traces == 1
