"""The chain executor on device arrays without a GPU, through the CuPy stand-in of
``tests/fake_cupy.py`` (device arrays that refuse host mixing and implicit copies): every
mode keeps the product on the "device" and equals NumPy's. The real-GPU tests are in
tests/test_gpu.py."""

from __future__ import annotations

import sys

import fake_cupy
import numpy as np
import pytest

from chainorder.execute import compile_plan, evaluate
from chainorder.plan import plan
from chainorder.validate import random_jacobians


@pytest.mark.parametrize("spec", ["30,35,15,5,10,20,25", "784,512,tanh,512,tanh,10", "6,diag,diag"])
@pytest.mark.parametrize("mode", ["forward", "reverse", "optimal"])
def test_evaluate_keeps_device_values_on_the_device(
    monkeypatch: pytest.MonkeyPatch, spec: str, mode: str
) -> None:
    cp = fake_cupy.module()
    monkeypatch.setitem(sys.modules, "cupy", cp)
    p = plan(spec, mode)
    host = random_jacobians(p.chain, 4)
    dev = [cp.asarray(h) for h in host]
    want = evaluate(p, host)
    for got in (evaluate(p, dev), compile_plan(p, "given")(dev)):
        assert type(got).__module__ == "cupy"
        np.testing.assert_allclose(cp.asnumpy(got), want, rtol=1e-12, atol=1e-14)
