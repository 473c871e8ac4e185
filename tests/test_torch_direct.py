"""The direct route of chainorder.torch (batched rules, one torch call per operation): exact
against torch.func on the suite's cases and on random programs, the aten operations it
dispatches (against the torch.func route's), its peak memory, and the 5 % tie rule without
measured peaks (tests/test_torch_peaks.py: with them)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

import chainorder.torch as ct  # noqa: E402
import chainorder.torch.candidates as cand  # noqa: E402
from chainorder.frameworks.models import case_names, make_model  # noqa: E402
from chainorder.matfree import plan_matrix_free, pure_adjoint_plan, pure_tangent_plan  # noqa: E402
from chainorder.torch.candidates import Candidate, tie_break  # noqa: E402
from chainorder.torch.execute import run_plan  # noqa: E402
from chainorder.torch.graph import build_chain, trace  # noqa: E402
from chainorder.torch.jacobian import program_of  # noqa: E402
from chainorder.torch.memory import torch_peak_bytes  # noqa: E402

F64 = torch.float64
F = torch.nn.functional


def _close(J, f, x) -> None:
    torch.testing.assert_close(J, torch.func.jacrev(f)(x), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(J, torch.func.jacfwd(f)(x), rtol=1e-10, atol=1e-12)


def _every_plan_direct_and_exact(fn, x) -> None:
    """Every segment of ``fn`` at ``x`` is on the direct route, and the optimal and both pure
    plans run there give torch.func's Jacobian."""
    chain = build_chain(trace(fn), [x])
    assert all(chain.direct(l) for l in range(1, len(chain.segments) + 1))
    for plan in _plans(chain):
        with torch.no_grad():
            J = run_plan(plan, chain, [x])
        _close(J, fn, x)


def _plans(chain, big: bool = False):
    plans = [plan_matrix_free(chain.links)]
    return (
        plans if big else [*plans, pure_tangent_plan(chain.links), pure_adjoint_plan(chain.links)]
    )


@pytest.mark.parametrize("name", case_names())
def test_every_suite_case_is_exact_on_the_direct_route(name: str) -> None:
    m = make_model(name, seed=5, tokens=4)
    net, x = m.torch_module(F64), torch.from_numpy(m.input(seed=5))
    chain = build_chain(trace(net), [x])
    assert all(chain.direct(l) for l in range(1, len(chain.segments) + 1))
    for plan in _plans(chain, big=name == "hourglass"):
        _close(run_plan(plan, chain, [x], direct=True), net, x)


class _Ops(TorchDispatchMode):
    """Aten operations dispatched, and those that launch kernels (not views, allocations)."""

    def __init__(self) -> None:
        super().__init__()
        self.ops = self.kernels = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops += 1
        if not func.is_view and func._overloadpacket.__name__ not in ("_unsafe_view", "empty"):
            self.kernels += 1
        return func(*args, **(kwargs or {}))


def _count(fn) -> _Ops:
    """Operations of one call after a first one (which may set up constants, e.g. a 0-d one)."""
    with torch.no_grad():
        fn()
        with _Ops() as counter:
            fn()
    return counter


def _mlp(widths, seed=0):
    torch.manual_seed(seed)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1], dtype=F64))
        if i < len(widths) - 2:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers), torch.randn(widths[0], dtype=F64)


def _kernel_bound(plan, chain) -> int:
    """What the direct route may launch: one kernel per node of the forward pass (through
    the last activation a sweep needs), one per activation derivative (``1 - y²``), one per
    visit of a Linear or activation by a sweep (``mm`` / ``*``), one per plan node (the
    identity, a diagonal's matrix, a product)."""
    swept = [l for n in plan.nodes for l in n.swept()]
    acts = [l for l in set(swept) if chain.segments[l - 1].link.diagonal]
    forward = max(acts, default=0)
    return forward + len(acts) + len(swept) + len(plan.nodes)


@pytest.mark.parametrize(
    ("widths", "kind"),
    [([96, 6, 96, 6, 96], "optimal"), ([4, 48, 48, 70], "tangent"), ([70, 48, 48, 4], "adjoint")],
)
def test_direct_route_dispatches_a_bounded_number_of_operations(widths, kind) -> None:
    net, x = _mlp(widths)
    chain = build_chain(trace(net), [x])
    plan = {
        "optimal": plan_matrix_free,
        "tangent": pure_tangent_plan,
        "adjoint": pure_adjoint_plan,
    }[kind](chain.links)
    assert kind != "optimal" or plan.mode == "mixed"
    bound = _kernel_bound(plan, chain)
    direct = _count(lambda: run_plan(plan, chain, [x], direct=True))
    assert direct.kernels <= bound and direct.ops <= 2 * bound
    # the same plan through torch.func (vjp / vmap / jvp) breaks the bound: the test can fail
    via_func = _count(lambda: run_plan(plan, chain, [x], direct=False))
    assert via_func.kernels > bound
    if kind != "optimal":  # and so do torch.func's own jacfwd / jacrev
        pure = torch.func.jacfwd if kind == "tangent" else torch.func.jacrev
        assert _count(lambda: pure(net)(x)).kernels > bound


@pytest.mark.parametrize(
    ("widths", "mode"), [([6, 64, 64, 90], "jacfwd"), ([90, 64, 64, 6], "jacrev")]
)
def test_direct_pure_sweeps_hold_no_more_than_torch_func(widths, mode) -> None:
    net, x = _mlp(widths)
    jac = ct.jacobian(net, measure=False)
    planned = jac.plan_for(x)
    theirs = planned.baselines[mode]
    mine = planned.baselines["direct-fwd" if mode == "jacfwd" else "direct-rev"]
    assert mine.program == "direct" and theirs.program == f"torch.func.{mode}"
    with torch.no_grad():
        run_mine, run_theirs = jac._runner(mine, planned), jac._runner(theirs, planned)
        _close(run_mine(x), net, x)
        peak_mine = torch_peak_bytes(lambda: run_mine(x), "cpu")[0]
        peak_theirs = torch_peak_bytes(lambda: run_theirs(x), "cpu")[0]
    assert peak_mine <= 1.1 * peak_theirs
    assert peak_mine >= mine.peak_bytes  # the schedule model's arrays are a lower bound


def test_unmeasured_tie_within_five_percent_goes_to_the_smaller_predicted_peak() -> None:
    plan = pure_tangent_plan(build_chain(trace(torch.nn.Linear(2, 2)), [torch.ones(2)]).links)
    fast = Candidate("jacrev", plan, 5000, "torch.func.jacrev", score=1.00)
    near = Candidate("direct-fwd", plan, 1000, "direct", score=1.04)
    far = Candidate("jacfwd", plan, 10, "torch.func.jacfwd", score=1.06)
    assert tie_break([fast, near, far], fast) is near
    assert tie_break([fast, far], fast) is fast
    same = Candidate("optimal", plan, 5000, "direct", score=1.01)
    assert tie_break([same, fast], fast) is fast  # equal peaks: the fastest


def test_tie_falls_back_to_predicted_peaks_when_the_profiler_is_taken(monkeypatch) -> None:
    """Under the caller's own torch profiler the peaks cannot be measured (a second profiler
    would end the caller's): the predicted peaks decide, and the reason says so."""
    net, x = _mlp([6, 32, 32, 40])
    jac = ct.jacobian(net, measure=True)
    planned = jac.plan_for(x)
    scores = {"optimal": 1.0, "jacfwd": 1.03, "jacrev": 3.0, "direct-rev": 3.0}
    peaks = {"optimal": 900, "jacfwd": 100}
    for c in planned.candidates:
        c.peak_bytes = peaks.get(c.name, 10_000)
    ticks = [0.0]
    real = type(jac)._execute

    def execute(c, planned, args):  # the real program; the CPU clock advances by its score
        out = real(jac, c, planned, args)
        ticks[0] += scores[c.name]
        return out

    monkeypatch.setattr(jac, "_execute", execute)
    monkeypatch.setattr(cand.time, "process_time", lambda: ticks[0])
    with torch.profiler.profile() as prof:
        J = jac(x)
    assert prof.profiler is not None  # the caller's profiler ran to its end
    assert jac.last.chosen == "jacfwd" and "smaller predicted peak" in jac.last.reason
    assert "unavailable" in jac.last.reason and "another torch profiler" in jac.last.reason
    assert all(c.measured_peak_bytes is None for c in planned.candidates)
    _close(J, net, x)


def test_mixed_programs_on_plain_functions() -> None:
    torch.manual_seed(2)
    w, b = torch.randn(7, 5, dtype=F64), torch.randn(7, dtype=F64)
    c = torch.randn(4, 7, dtype=F64)

    def f(x):  # x: 3 × 5
        h = torch.tanh(F.linear(x, w, b))  # 3 × 7
        a = torch.softmax(h @ h.transpose(0, 1), dim=-1)  # both matmul operands depend on x
        y = (a @ h) * 0.5 + h  # residual
        return (c @ y.t()).relu().sum(0) - y.mean(dim=1, keepdim=False).exp().sum()

    x = torch.randn(3, 5, dtype=F64)
    chain = build_chain(trace(f), [x])
    assert all(chain.direct(l) for l in range(1, len(chain.segments) + 1))
    for plan in _plans(chain):
        assert program_of(plan, chain, True) == "direct"
        _close(run_plan(plan, chain, [x]), f, x)
    jac = ct.jacobian(f, method="optimal")
    _close(jac(x), f, x)
    text = jac.explain()
    assert "program: direct (batched rules" in text and "runs torch.func.jacrev" in text
    rev = ct.jacobian(f, method="reverse")
    rev(x)
    assert "program: torch.func.jacrev itself" in rev.explain()


_ACTS = [torch.nn.Tanh, torch.nn.ReLU, torch.nn.Sigmoid, torch.nn.GELU, torch.nn.SiLU,
         torch.nn.Softplus]  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(
    widths=st.lists(st.integers(1, 9), min_size=2, max_size=6),
    acts=st.lists(st.integers(0, len(_ACTS) - 1), min_size=5, max_size=5),
    norm=st.booleans(),
    plan_kind=st.sampled_from(["optimal", "tangent", "adjoint"]),
    seed=st.integers(0, 10**6),
)
def test_random_sequentials_match_torch_func(widths, acts, norm, plan_kind, seed) -> None:
    torch.manual_seed(seed)
    layers: list = [torch.nn.LayerNorm(widths[0], dtype=F64)] if norm and widths[0] > 1 else []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1], dtype=F64))
        layers.append(_ACTS[acts[i]]())
    net = torch.nn.Sequential(*layers)
    x = torch.randn(widths[0], dtype=F64)
    chain = build_chain(trace(net), [x])
    plan = {"optimal": plan_matrix_free, "tangent": pure_tangent_plan,
            "adjoint": pure_adjoint_plan}[plan_kind](chain.links)  # fmt: skip
    J = run_plan(plan, chain, [x], direct=True)
    torch.testing.assert_close(J, torch.func.jacrev(net)(x), rtol=1e-9, atol=1e-11)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 4),
    cols=st.integers(1, 5),
    power=st.sampled_from([2, 3, 1.5]),
    dims=st.sampled_from([None, 0, 1, (0, 1)]),
    keep=st.booleans(),
    seed=st.integers(0, 10**6),
)
def test_random_functions_of_shape_operations_match_torch_func(rows, cols, power, dims, keep,
                                                               seed) -> None:  # fmt: skip
    torch.manual_seed(seed)
    c = torch.randn(rows, cols, dtype=F64)
    v = torch.randn(cols, dtype=F64)

    def f(x):  # rows × cols
        y = torch.permute(x * c + v, (1, 0)).reshape(rows * cols).reshape(cols, rows)
        z = (y.t() * y.t()).abs() ** power - torch.sigmoid(x) / 2.0 + (-x)
        s = z.sum() if dims is None else z.sum(dim=dims, keepdim=keep)
        return torch.log_softmax(s.reshape(-1) * 0.3, dim=0).sum() + z.flatten()

    x = torch.randn(rows, cols, dtype=F64)
    chain = build_chain(trace(f), [x])
    assert all(chain.direct(l) for l in range(1, len(chain.segments) + 1))
    for plan in _plans(chain):
        J = run_plan(plan, chain, [x], direct=True)
        torch.testing.assert_close(J, torch.func.jacrev(f)(x), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("batched", [False, True])
def test_convolutions_module_and_functional_on_the_direct_route(batched) -> None:
    torch.manual_seed(6)
    w = torch.randn(3, 2, 3, dtype=F64)

    def f(x):
        return torch.tanh(F.conv1d(x, w, None, 2, 1)).sum(-1)

    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, stride=2, padding=1, dilation=2), torch.nn.ReLU(),
        torch.nn.Conv2d(4, 4, 2, groups=2),
    ).double()  # fmt: skip
    shapes = ((3, 2, 9), (3, 2, 8, 8)) if batched else ((2, 9), (2, 8, 8))
    for fn, shape in ((f, shapes[0]), (net, shapes[1])):
        _every_plan_direct_and_exact(fn, torch.randn(*shape, dtype=F64))


def test_a_segment_is_diagonal_only_if_its_free_operations_keep_positions() -> None:
    """tanh then a transpose of a square matrix, or a same-shape max pool: equal shapes but
    not a diagonal Jacobian (they were taken for one: the diagonal plan was wrong); a residual
    tanh (x + tanh x) and an affine tanh are diagonal. Every method, both routes: exact."""
    sq = torch.randn(4, 4, dtype=F64)
    img = torch.randn(2, 5, 5, dtype=F64)
    cases = [
        (lambda x: torch.tanh(x).t(), sq, "custom"),
        (torch.nn.Sequential(torch.nn.Tanh(), torch.nn.MaxPool2d(3, 1, 1)), img, "custom"),
        (lambda x: x + torch.tanh(x), sq, "elementwise"),
        (lambda x: (torch.tanh(x) + 1).reshape(16).reshape(4, 4), sq, "elementwise"),
    ]
    for f, x, kind in cases:
        chain = build_chain(trace(f), [x])
        assert [s.link.kind for s in chain.segments] == [kind]
        for method in ("optimal", "forward", "reverse"):
            for direct in (True, False):
                _close(ct.jacobian(f, method=method, direct=direct)(x), f, x)


_POOLS = [  # (module, input shape): every kind, 1-3 spatial axes, with and without a batch
    (torch.nn.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 3, 10)),
    (torch.nn.AvgPool2d(2), (3, 7, 6)),
    (torch.nn.AvgPool2d((3, 2), 2, 1, divisor_override=5), (2, 2, 9, 8)),
    (torch.nn.AvgPool3d(2, 1), (1, 2, 4, 5, 4)),
    (torch.nn.AdaptiveAvgPool1d(4), (2, 3, 11)),
    (torch.nn.AdaptiveAvgPool2d((3, None)), (2, 7, 5)),
    (torch.nn.AdaptiveAvgPool3d(2), (1, 2, 5, 4, 3)),
    (torch.nn.MaxPool1d(3, 2, 1, dilation=2), (2, 3, 12)),
    (torch.nn.MaxPool2d(2, ceil_mode=True), (2, 2, 7, 7)),
    (torch.nn.MaxPool2d(3, 1, 1), (3, 6, 6)),
    (torch.nn.MaxPool3d(2), (1, 2, 4, 4, 4)),
    (torch.nn.AdaptiveMaxPool1d(3), (2, 3, 10)),
    (torch.nn.AdaptiveMaxPool2d((2, 3)), (1, 2, 7, 8)),
    (torch.nn.AdaptiveMaxPool3d(2), (2, 3, 5, 4)),
]


@pytest.mark.parametrize("pool, shape", _POOLS, ids=lambda v: type(v).__name__)
def test_pooling_on_the_direct_route_matches_torch_func(pool, shape) -> None:
    """After a tanh (so that the maxima move with the input), every plan's Jacobian on the
    direct route equals torch.func's, and the pool's segment is on the direct route."""
    torch.manual_seed(7)
    net = torch.nn.Sequential(torch.nn.Tanh(), pool)
    _every_plan_direct_and_exact(net, torch.randn(*shape, dtype=F64))


@pytest.mark.parametrize("name", [n for n in case_names() if n != "hourglass"])
def test_direct_plans_peak_within_ten_percent_of_the_smaller_pure_mode(name: str) -> None:
    """The suite's peak target for the plan method="auto" runs without timing (the direct
    route), and the schedule model's prediction as a lower bound of the measured peak."""
    m = make_model(name, seed=1, tokens=4)
    net, x = m.torch_module(F64), torch.from_numpy(m.input())
    auto = ct.jacobian(net, measure=False)
    with torch.no_grad():
        auto(x)
        assert auto.last.candidate.program == "direct"
        mine = torch_peak_bytes(lambda: auto(x), "cpu")[0]
        rev = torch_peak_bytes(lambda: torch.func.jacrev(net)(x), "cpu")[0]
        fwd = torch_peak_bytes(lambda: torch.func.jacfwd(net)(x), "cpu")[0]
    assert mine <= 1.1 * min(rev, fwd)
    assert mine >= auto.last.candidate.peak_bytes
