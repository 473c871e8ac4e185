"""chainorder.torch on a CUDA device: the Jacobians of the suite's models equal
``torch.func.jacrev``'s on the same device, the first call scores candidates by wall clock and
measures tied candidates' peaks with CUDA's allocator statistics (equal to
``torch_peak_bytes`` of each candidate's own runner), and a known allocation is measured exactly.

Skipped without a CUDA device. ``CHAINORDER_TORCH_TEST_DEVICES=cpu`` runs the same tests on the
CPU (the profiler's allocator instead of CUDA's), to check them on a machine without a GPU.
"""

from __future__ import annotations

import os

import pytest

torch = pytest.importorskip("torch")

import chainorder.torch as ct  # noqa: E402
import chainorder.torch.candidates as cand  # noqa: E402
from chainorder.frameworks.models import case_names, make_model  # noqa: E402
from chainorder.torch.candidates import PEAK_EQUAL  # noqa: E402
from chainorder.torch.memory import measured_peak_bytes, torch_peak_bytes  # noqa: E402

F64 = torch.float64
DEVICES = os.environ.get("CHAINORDER_TORCH_TEST_DEVICES", "cuda").split(",")
#: the same program's allocator peak, run after run
PEAK_RTOL = 0.02


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    if request.param.startswith("cuda") and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    return request.param


def _model(name: str, device: str):
    m = make_model(name, seed=3, tokens=4)
    net = m.torch_module(F64, device=device)
    return net, torch.from_numpy(m.input(seed=3)).to(device)


@pytest.mark.parametrize("name", case_names())
def test_every_candidate_on_the_device_matches_jacrev(name: str, device: str) -> None:
    net, x = _model(name, device)
    jac = ct.jacobian(net, measure=True)
    J = jac(x)
    ref = torch.func.jacrev(net)(x)
    assert J.device == x.device
    torch.testing.assert_close(J, ref, rtol=1e-10, atol=1e-12)
    planned = jac.last
    for c in planned.candidates:  # every program the first call could have kept
        torch.testing.assert_close(jac._runner(c, planned)(x), ref, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(jac(x), ref, rtol=1e-10, atol=1e-12)  # the kept runner


def test_first_call_on_the_device_measures_every_tied_peak(monkeypatch, device: str) -> None:
    """TIE made large: every candidate ties; its measured peak is torch_peak_bytes of its own
    runner on that device, the score is the wall clock on CUDA (the process's CPU time on the
    CPU), and the kept candidate follows the rule from those peaks."""
    net, x = _model("hourglass", device)
    jac = ct.jacobian(net, measure=True)
    planned = jac.plan_for(x)
    monkeypatch.setattr(cand, "TIE", 1e9)
    J = jac(x)
    assert planned.measured and len(planned.candidates) >= 2
    on_cuda = x.is_cuda
    for c in planned.candidates:
        assert c.score == (c.seconds if on_cuda else c.cpu_seconds)
        run = jac._runner(c, planned)
        again = torch_peak_bytes(lambda run=run: run(x), device)[0]
        assert c.measured_peak_bytes == pytest.approx(again, rel=PEAK_RTOL)
    low = min(c.measured_peak_bytes for c in planned.candidates)
    fastest = min(planned.candidates, key=lambda c: c.score)
    equal = [c for c in planned.candidates if c.measured_peak_bytes <= PEAK_EQUAL * low]
    assert planned.chosen == min(equal, key=lambda c: (c.score, c is not fastest)).name
    assert "measured peak" in planned.reason
    torch.testing.assert_close(J, torch.func.jacrev(net)(x), rtol=1e-10, atol=1e-12)


def test_a_known_allocation_is_measured_exactly_and_earlier_ones_are_not(device: str) -> None:
    held = torch.ones(1 << 18, dtype=F64, device=device)  # 2 MiB allocated before: not counted
    n = 1 << 20  # 8 MiB
    peak, how = measured_peak_bytes(lambda: torch.zeros(n, dtype=F64, device=device), device)
    assert peak == 8 * n
    assert how == (
        "torch.cuda.max_memory_allocated" if held.is_cuda else "torch.profiler CPU allocator"
    )
    # two live blocks at once: both count; a freed one does not add to a later one
    peak, _ = measured_peak_bytes(
        lambda: (
            torch.zeros(n, dtype=F64, device=device),
            torch.zeros(n, dtype=F64, device=device),
        ),
        device,
    )
    assert peak == 16 * n
    del held
