"""What chainorder.torch predicts, measured: products counted by PyTorch's own flop registry,
cut points and segments, and peak memory against torch.func's pure modes."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402
from torch.utils.flop_counter import flop_registry  # noqa: E402

import chainorder.torch as ct  # noqa: E402
from chainorder.frameworks.models import make_model  # noqa: E402
from chainorder.matfree import plan_matrix_free, pure_adjoint_plan, pure_tangent_plan  # noqa: E402
from chainorder.torch.execute import (  # noqa: E402
    needed_cuts,
    run_plan,
    transposed_tangent,
)
from chainorder.torch.graph import build_chain, trace  # noqa: E402
from chainorder.torch.memory import torch_peak_bytes  # noqa: E402

F64 = torch.float64


class _Flops(TorchDispatchMode):
    """FLOPs of matrix products and convolutions, by FlopCounterMode's registry (which itself
    cannot run under torch.func.vjp's hooks)."""

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        rule = flop_registry.get(func._overloadpacket)
        if rule is not None:
            self.flops += rule(*args, **kwargs, out_val=out)
        return out


#: nodes whose batched rule prepares something in the forward pass (so the pass reaches them):
#: a derivative, a BatchNorm's scale, the positions of a max pool's maxima
_ACTIVATIONS = ("tanh", "relu", "sigmoid", "batchnorm2d", "maxpool2d")


def _on_direct_route(chain, node) -> bool:
    """Independently of the executor: no circular-padded convolution in the swept segments
    (the one operation of these models without a batched rule)."""
    mods = [
        chain.gm.get_submodule(n.target)
        for l in node.swept()
        for n in chain.segments[l - 1].nodes
        if n.op == "call_module"
    ]
    return bool(list(node.swept())) and all(
        getattr(m, "padding_mode", "zeros") == "zeros" for m in mods
    )


def _expected_products(plan, chain, direct: bool = False) -> int:
    """Product mults the plan predicts: sweeps, dense products, forward evaluations."""
    segs = chain.segments
    fwd = [sum(c.forward for c in s.costs if c.products) for s in segs]
    last = max(needed_cuts(plan))  # the torch.func route: the forward pass to the last cut
    if direct:  # one forward pass, through the last swept segment with an activation
        last = 0
        for node in plan.nodes:
            if not _on_direct_route(chain, node):
                last = max(last, node.split - 1 if node.action == "tangent" else node.lo - 1)
                continue
            for l in node.swept():
                if any(c.label.lower() in _ACTIVATIONS for c in segs[l - 1].costs):
                    last = max(last, l)
    total = sum(fwd[:last])
    for node in plan.nodes:
        swept = list(node.swept())
        if node.action in ("tangent", "adjoint"):
            total += node.seeds * sum(segs[l - 1].products for l in swept)
        if direct and _on_direct_route(chain, node):
            pass  # nothing evaluated again
        elif node.action == "diagonal":  # jvp: the primal twice
            total += 2 * sum(fwd[l - 1] for l in swept)
        elif node.action == "tangent" and transposed_tangent(chain, node):
            total += sum(fwd[l - 1] + segs[l - 1].products for l in swept)  # vjp + one seed
        elif node.action == "tangent":  # jvp through a convolution: the primal twice
            total += 2 * sum(fwd[l - 1] for l in swept)
        else:
            total += sum(fwd[l - 1] for l in swept)
        if node.action == "dense":
            left, right = plan.nodes[node.left], plan.nodes[node.right]
            if not (left.diagonal or right.diagonal):
                total += node.mults
    return total


def _hourglass():
    torch.manual_seed(0)
    w = [128, 8, 128, 8, 128]
    layers = []
    for i in range(4):
        layers += [torch.nn.Linear(w[i], w[i + 1], dtype=F64)] + ([torch.nn.Tanh()] * (i < 3))
    return torch.nn.Sequential(*layers), torch.randn(128, dtype=F64)


def _cnn():
    m = make_model("cnn", seed=2)
    return m.torch_module(F64), torch.from_numpy(m.input())


def _mixed_cnn():
    """A circular-padded convolution (no batched rule: the torch.func route) before an
    hourglass of Linears (direct route): the optimal plan mixes the two routes."""
    torch.manual_seed(4)
    net = torch.nn.Sequential(
        torch.nn.Conv1d(1, 2, 3, padding=1, padding_mode="circular"), torch.nn.Flatten(0),
        torch.nn.Linear(2 * 64, 8),
        torch.nn.Tanh(), torch.nn.Linear(8, 96), torch.nn.Tanh(), torch.nn.Linear(96, 8),
        torch.nn.Tanh(), torch.nn.Linear(8, 96),
    ).double()  # fmt: skip
    return net, torch.randn(1, 64, dtype=F64)


def _pooled_cnn():
    """BatchNorm (eval), max, average and adaptive pooling: every one on the direct route."""
    torch.manual_seed(6)
    bn = torch.nn.BatchNorm2d(4)
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 2.0)
    bn.weight.data.uniform_(0.5, 1.5)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), bn, torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3), torch.nn.Tanh(), torch.nn.AvgPool2d(2),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(0), torch.nn.Linear(6, 5),
    ).double().eval()  # fmt: skip
    return net, torch.randn(1, 1, 12, 12, dtype=F64)


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("build", [_hourglass, _cnn, _mixed_cnn, _pooled_cnn])
def test_counted_products_equal_the_prediction(build, direct) -> None:
    net, x = build()
    chain = build_chain(trace(net), [x])
    plans = [plan_matrix_free(chain.links), pure_tangent_plan(chain.links)]
    plans.append(pure_adjoint_plan(chain.links))
    reference = torch.func.jacrev(net)(x)
    for plan in plans:
        with _Flops() as counter, torch.no_grad():
            J = run_plan(plan, chain, [x], direct)
        expected = _expected_products(plan, chain, direct)
        assert counter.flops == 2 * expected, plan.expression()
        torch.testing.assert_close(J, reference, rtol=1e-10, atol=1e-12)


def test_pure_plans_count_what_torch_func_counts() -> None:
    net, x = _hourglass()
    chain = build_chain(trace(net), [x])
    for plan, reference in (
        (pure_adjoint_plan, torch.func.jacrev),
        (pure_tangent_plan, torch.func.jacfwd),
    ):
        with _Flops() as mine, torch.no_grad():
            run_plan(plan(chain.links), chain, [x], direct=False)
        with _Flops() as theirs, torch.no_grad():
            reference(net)(x)
        assert mine.flops == theirs.flops


def test_cut_points_and_segments() -> None:
    torch.manual_seed(0)

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = torch.nn.Linear(6, 6), torch.nn.Linear(6, 6)

        def forward(self, x):
            return x + self.b(torch.relu(self.a(x)))  # x is used twice: no cut inside

    net = torch.nn.Sequential(torch.nn.Linear(4, 6), Block(), torch.nn.Flatten(0),
                              torch.nn.Linear(6, 3))  # fmt: skip
    chain = build_chain(trace(net), [torch.ones(4)])
    labels = [s.label for s in chain.segments]
    assert labels == ["Linear", "Linear+relu+Linear", "Linear"]  # Flatten merged (free)
    assert [s.link.tangent for s in chain.segments] == [24, 36 + 6 + 36, 18]
    assert chain.segments[1].link.tape == 6 and not chain.segments[1].link.diagonal
    x = torch.randn(4)
    torch.testing.assert_close(ct.jacobian(net)(x), torch.func.jacrev(net)(x))


def test_transformer_attention_prices_both_matmul_operands() -> None:
    m = make_model("transformer", tokens=4)
    chain = build_chain(trace(m.torch_module(F64)), [torch.from_numpy(m.input())])
    assert len(chain.segments) == 2  # attention + residual, MLP + residual
    t, d, h = 4, 128, 256
    linears = 4 * t * d * d + 2 * t * d * h
    attention = 2 * (t * t * d) * 2  # q@kᵀ and a@v, both operands depend on x
    assert sum(s.products for s in chain.segments) == linears + attention


@pytest.mark.parametrize("build", [_hourglass, _cnn])
def test_peak_memory_within_ten_percent_of_the_smaller_pure_mode(build) -> None:
    net, x = build()
    auto = ct.jacobian(net, method="optimal")
    with torch.no_grad():
        auto(x)  # plan first: the peak of a run, not of planning
        mine = torch_peak_bytes(lambda: auto(x), "cpu")[0]
        rev = torch_peak_bytes(lambda: torch.func.jacrev(net)(x), "cpu")[0]
        fwd = torch_peak_bytes(lambda: torch.func.jacfwd(net)(x), "cpu")[0]
    assert mine <= 1.1 * min(rev, fwd)
    # the schedule model names the arrays of the plan: PyTorch's transients come on top
    assert mine >= auto.last.baselines["optimal"].peak_bytes


def test_a_plan_mixes_the_direct_and_torch_func_routes() -> None:
    from chainorder.torch.jacobian import program_of

    net, x = _mixed_cnn()
    chain = build_chain(trace(net), [x])
    plan = plan_matrix_free(chain.links)
    assert program_of(plan, chain, True) == "direct + torch.func sweeps"
    assert program_of(plan, chain, False) == "torch.func sweeps"
    assert [chain.direct(l) for l in range(1, 4)] == [False, True, True]
