"""The CuPy path on a real NVIDIA GPU. Every test here skips cleanly without CuPy or a GPU."""

from __future__ import annotations

import numpy as np
import pytest

from chainorder.backend import get_backend
from chainorder.execute import compile_plan, evaluate, evaluate_streamed
from chainorder.measure import peak_memory
from chainorder.nets import MLP
from chainorder.plan import plan
from chainorder.validate import random_jacobians, validate

cupy = pytest.importorskip("cupy", reason="CuPy is not installed")
try:
    _GPUS = cupy.cuda.runtime.getDeviceCount()
except Exception:  # any CUDA runtime failure means "no usable GPU"
    _GPUS = 0
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(_GPUS == 0, reason="no NVIDIA GPU visible")]


@pytest.mark.parametrize("spec", ["30,35,15,5,10,20,25", "784,512,tanh,512,tanh,10", "6,diag,diag"])
@pytest.mark.parametrize("mode", ["forward", "reverse", "optimal"])
def test_cupy_evaluate_matches_numpy(spec: str, mode: str) -> None:
    p = plan(spec, mode)
    host = random_jacobians(p.chain, 4)
    dev = random_jacobians(p.chain, 4, backend="cupy")
    got = evaluate(p, dev)
    assert isinstance(got, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(got), evaluate(p, host), rtol=1e-10, atol=1e-13)


def test_cupy_streamed_mlp_matches_numpy() -> None:
    spec = "64,48,tanh,48,sigmoid,10"
    p = plan(spec)
    dev_net = MLP(spec, seed=2, backend="cupy")
    host_net = MLP(spec, seed=2)
    got = evaluate_streamed(p, dev_net, dev_net.random_input(3))
    want = evaluate_streamed(p, host_net, host_net.random_input(3))
    np.testing.assert_allclose(cupy.asnumpy(got), want, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("mode", ["forward", "reverse", "optimal"])
def test_cupy_pool_peak_matches_streamed_prediction(mode: str) -> None:
    p = plan("1024,512,tanh,512,tanh,64", mode)
    net = MLP(p.chain, seed=0, backend="cupy")
    x = net.random_input(1)
    f = compile_plan(p, "streamed")
    f(net, x)  # warm up cuBLAS handles outside the measured region
    m = peak_memory(lambda: f(net, x.copy), get_backend("cupy"))
    predicted = p.peak_bytes("streamed")
    # the pool rounds every block up to 512 bytes; allow that per live array
    assert predicted <= m.peak_bytes <= predicted * 1.02 + 64 * 512


def test_validate_on_gpu() -> None:
    r = validate("256,128,tanh,128,32", backend="cupy", repeat=2)
    assert r.ok and r.backend == "cupy"


def test_runner_streamed_on_gpu_within_a_limit() -> None:
    r = validate(
        "256,128,tanh,128,32", setting="streamed", backend="cupy", repeat=1, max_memory="1GiB"
    )
    assert r.ok and r.non_finite == () and r.backend == "cupy"
    assert all(row.measured_peak_bytes >= row.predicted_peak_bytes for row in r.rows)
