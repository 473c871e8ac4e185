"""chainorder.torch per-call path: once planned, a call does the plan's work and nothing else."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import chainorder.torch as ct  # noqa: E402


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(30, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3)
    ).double()


def test_later_calls_skip_planning_and_run_the_framework_own_function(monkeypatch):
    net = _net()
    x = torch.randn(30, dtype=torch.float64)
    jac = ct.jacobian(net, method="reverse")
    first = jac(x)
    torch.testing.assert_close(first, torch.func.jacrev(net)(x))

    def no_planning(*args):
        raise AssertionError("planned again")

    monkeypatch.setattr(jac, "plan_for", no_planning)
    seen = []
    real = torch.func.jacrev

    def spy(*args, **kwargs):
        seen.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch.func, "jacrev", spy)
    y = torch.randn(30, dtype=torch.float64)
    torch.testing.assert_close(jac(y), real(net)(y))
    assert seen == []  # the jacrev wrapper was built once, on the first call
    monkeypatch.undo()
    z = torch.randn(2, 30, dtype=torch.float64)  # a new signature is planned (batched input)
    assert jac(z).shape == (2, 3, 2, 30)


def test_a_mixed_plan_call_reuses_its_plan_and_matches_jacrev():
    torch.manual_seed(1)
    net = torch.nn.Sequential(
        torch.nn.Linear(64, 4), torch.nn.Tanh(), torch.nn.Linear(4, 64), torch.nn.Tanh(),
        torch.nn.Linear(64, 4), torch.nn.Tanh(), torch.nn.Linear(4, 64),
    ).double()  # fmt: skip
    x = torch.randn(64, dtype=torch.float64)
    jac = ct.jacobian(net, method="optimal")
    jac(x)
    assert jac.last.plan.mode == "mixed"
    planned = jac.last
    for _ in range(2):
        torch.testing.assert_close(jac(torch.randn(64, dtype=torch.float64) * 0 + x),
                                   torch.func.jacrev(net)(x))  # fmt: skip
    assert jac.last is planned


def test_on_a_gpu_auto_times_every_distinct_plan_even_when_mults_differ_widely():
    net = _net()
    x = torch.randn(30, dtype=torch.float64)
    jac = ct.jacobian(net)
    every = jac.plan_for(x).baselines
    on_cpu = jac._choose(every, on_gpu=False)
    on_gpu = jac._choose(every, on_gpu=True)
    # on the CPU the mults rule out jacfwd (5× more); the reverse sweep's two programs (the
    # direct route and torch.func.jacrev itself) are timed
    assert {c.name for c in on_cpu[0]} == {"optimal", "jacrev"}
    assert {c.program for c in on_cpu[0]} == {"direct", "torch.func.jacrev"}
    assert "GPU" in on_gpu[2]  # every distinct program: both pure modes, both routes
    assert {c.name for c in on_gpu[0]} == {"optimal", "jacrev", "jacfwd", "direct-fwd"}
    forced = ct.jacobian(net, measure=False)._choose(every, on_gpu=True)
    assert len(forced[0]) == 1  # measure=False still plans only
