"""chainorder.jacobian on device arrays without a GPU (issue 8 point 7), through the CuPy
stand-in of ``tests/fake_cupy.py``: device arrays that raise on any implicit host copy and on
any NumPy array among their operands, as CuPy's do. Every benchmark function, in every
method, must keep its values on the "device" (first call and replay) and return NumPy's
Jacobian. The real-GPU test is tests/test_engine_cupy.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import fake_cupy
import numpy as np
import pytest

import chainorder
from chainorder.engine.api import namespace

_PATH = Path(__file__).resolve().parent.parent / "examples" / "graph_cases.py"
_spec = importlib.util.spec_from_file_location("graph_cases_fake_cupy", _PATH)
graph_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(graph_cases)

METHODS = ("auto", "forward", "reverse", "elimination:forward", "elimination:reverse",
           "markowitz", "chain", "search")  # fmt: skip


def _real_cupy():
    """CuPy where it is installed and sees a GPU, else ``None``."""
    try:
        import cupy

        return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:  # not installed, or no usable CUDA device
        return None


#: Where CuPy sees a GPU, every test here runs on it too (the same checks on hardware).
_REAL = _real_cupy()


@pytest.fixture(params=["stand-in"] + ([pytest.param("cupy", marks=pytest.mark.gpu)]
                                       if _REAL is not None else []))  # fmt: skip
def cp(request, monkeypatch: pytest.MonkeyPatch):
    """The CuPy stand-in, and real CuPy where a GPU is available."""
    if request.param == "cupy":
        return _REAL
    mod = fake_cupy.module()
    monkeypatch.setitem(sys.modules, "cupy", mod)
    return mod


def test_the_stand_in_refuses_what_cupy_refuses(cp) -> None:
    x = cp.asarray(np.arange(3.0))
    with pytest.raises(TypeError):
        np.asarray(x)
    with pytest.raises(TypeError):
        x * np.ones(3)
    with pytest.raises(TypeError):
        np.ones(3) + x
    assert namespace(np.tanh(x)) is cp and namespace(x.sum()) is cp
    np.testing.assert_array_equal(cp.asnumpy(np.einsum("i,i->i", x, x)), np.arange(3.0) ** 2)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", sorted(graph_cases.CASES))
def test_jacobian_keeps_device_values_on_the_device(cp, case: str, method: str) -> None:
    f, args, wrt = graph_cases.CASES[case](0.25)
    if method not in chainorder.engine.api.METHODS:
        pytest.skip(f"{method} is not a method name")
    argnums = wrt if len(wrt) > 1 else wrt[0]
    try:
        ref = chainorder.jacobian(f, argnums=argnums, method=method)(*args)
    except chainorder.errors.ChainorderError as exc:  # a method that does not apply here
        pytest.skip(str(exc))
    jf = chainorder.jacobian(f, argnums=argnums, method=method)
    rng = np.random.default_rng(1)
    for call in range(2):  # the first call (trace on host copies) and the replay
        host = args if call == 0 else tuple(
            a + 0.01 * rng.standard_normal(np.shape(a)) if i in wrt else a
            for i, a in enumerate(args)
        )
        want = chainorder.jacobian(f, argnums=argnums, method=method)(*host)
        dev = tuple(cp.asarray(a) if isinstance(a, np.ndarray) else a for a in host)
        got = jf(*dev)
        got_t, want_t = (got, want) if isinstance(got, tuple) else ((got,), (want,))
        for g, w in zip(got_t, want_t, strict=True):
            assert namespace(g) is cp
            np.testing.assert_allclose(cp.asnumpy(g), w, rtol=1e-10, atol=1e-12)
    assert jf.last.traces == 1
    del ref


def _op_cases() -> dict:
    from test_graph_ops import CASES

    return CASES


@pytest.mark.parametrize("method", ("forward", "reverse", "markowitz"))
@pytest.mark.parametrize("name", sorted(_op_cases()))
def test_every_op_rule_keeps_device_values_on_the_device(cp, name: str, method: str) -> None:
    fn, args = _op_cases()[name]
    argnums = tuple(range(len(args))) if len(args) > 1 else 0
    want = chainorder.jacobian(fn, argnums=argnums, method=method)(*args)
    jf = chainorder.jacobian(fn, argnums=argnums, method=method)
    for _ in range(2):  # the first call and the replay
        got = jf(*(cp.asarray(a) for a in args))
        got_t, want_t = (got, want) if isinstance(got, tuple) else ((got,), (want,))
        for g, w in zip(got_t, want_t, strict=True):
            assert namespace(g) is cp
            np.testing.assert_allclose(cp.asnumpy(g), w, rtol=1e-10, atol=1e-12)
