"""chainorder.torch.jacobian against torch.func.jacrev / jacfwd (float64) on the suite's models,
its methods, measuring, explain() and its errors."""

from __future__ import annotations

import functools
import itertools

import pytest

torch = pytest.importorskip("torch")

import chainorder.torch as ct  # noqa: E402
from chainorder.errors import (  # noqa: E402
    DtypeError,
    SpecError,
    SpecTypeError,
    TraceError,
    UnsupportedOperationError,
)
from chainorder.frameworks.models import case_names, make_model  # noqa: E402
from chainorder.torch.candidates import tie_break  # noqa: E402

F64 = torch.float64


def _model(name: str):
    m = make_model(name, seed=3, tokens=4)
    return m.torch_module(F64), torch.from_numpy(m.input(seed=3))


def test_import_resolves_to_pytorch() -> None:
    # the package chainorder.torch imports the real PyTorch, not itself
    from chainorder.torch import graph

    gm = graph.trace(torch.nn.Linear(2, 2))
    assert type(gm).__module__.startswith("torch.fx")


@functools.cache
def _reference(name: str):
    net, x = _model(name)
    return net, x, torch.func.jacrev(net)(x), torch.func.jacfwd(net)(x)


_CASES = [
    (name, method)
    for name in case_names()
    for method in ("auto", "optimal", "forward", "reverse")
    if name != "hourglass" or method in ("auto", "reverse")  # 4096 × 4096: two runs only
]


@pytest.mark.parametrize(("name", "method"), _CASES)
def test_matches_jacrev_and_jacfwd(name: str, method: str) -> None:
    net, x, rev, fwd = _reference(name)
    J = ct.jacobian(net, method=method)(x)
    assert J.shape == rev.shape
    torch.testing.assert_close(J, rev, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(J, fwd, rtol=1e-10, atol=1e-12)


def _hourglass(wide: int = 96, narrow: int = 6):
    torch.manual_seed(0)
    widths = [wide, narrow, wide, narrow, wide]
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        layers.append(torch.nn.Linear(a, b, dtype=F64))
        if i < len(widths) - 2:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers), torch.randn(wide, dtype=F64)


def test_hourglass_is_mixed_and_exact() -> None:
    net, x = _hourglass()
    jac = ct.jacobian(net, method="optimal")
    J = jac(x)
    plan = jac.last.plan
    assert plan.mode == "mixed"
    assert {"tangent", "adjoint"} <= plan.actions
    assert plan.mults < min(c.mults for n, c in jac.last.baselines.items() if n != "optimal")
    torch.testing.assert_close(J, torch.func.jacrev(net)(x), rtol=1e-10, atol=1e-12)


def test_argnums_and_other_arguments_are_constants() -> None:
    torch.manual_seed(1)
    w = torch.randn(5, 3, dtype=F64)

    def f(a, x, scale):
        return torch.tanh(a @ x) * scale

    x = torch.randn(3, dtype=F64)
    J = ct.jacobian(f, argnums=1)(w, x, 2.0)
    torch.testing.assert_close(J, torch.func.jacrev(f, argnums=1)(w, x, 2.0))
    Jw = ct.jacobian(f, argnums=0)(w, x, 2.0)  # d/d a: 5 × (5 × 3)
    torch.testing.assert_close(Jw, torch.func.jacrev(f, argnums=0)(w, x, 2.0))


def test_plan_is_reused_per_signature() -> None:
    net, x = _model("mlp-wide-out")
    jac = ct.jacobian(net, method="optimal")
    jac(x)
    first = jac.last
    jac(x + 1)
    assert jac.last is first
    jac(x.float().double()[None].squeeze(0))  # same shape/dtype
    assert jac.last is first


def test_measure_true_times_every_distinct_candidate() -> None:
    net, x = _hourglass()
    jac = ct.jacobian(net, measure=True)
    J = jac(x)
    planned = jac.last
    assert planned.measured and len(planned.candidates) >= 2
    assert all(c.seconds is not None and c.seconds > 0 for c in planned.candidates)
    fastest = min(planned.candidates, key=lambda c: c.cpu_seconds)
    # a 5 % tie: the smaller measured peak
    assert planned.chosen == tie_break(planned.candidates, fastest).name
    torch.testing.assert_close(J, torch.func.jacrev(net)(x), rtol=1e-10, atol=1e-12)
    text = jac.explain()
    assert "timed" in text and f"* {planned.chosen}" in text


def test_measure_default_only_for_close_predictions() -> None:
    net, x = _hourglass()  # the mixed plan is far ahead: nothing timed
    jac = ct.jacobian(net)
    jac(x)
    assert not jac.last.measured and len(jac.last.candidates) == 1
    square = torch.nn.Sequential(torch.nn.Linear(8, 8, dtype=F64), torch.nn.Tanh())
    jac = ct.jacobian(square)  # jacfwd and jacrev predicted equal: timed on the first call
    jac(torch.ones(8, dtype=F64))
    assert jac.last.measured and {c.name for c in jac.last.candidates} >= {"jacrev"}
    jac = ct.jacobian(square, measure=False)
    jac(torch.ones(8, dtype=F64))
    assert not jac.last.measured


def test_explain_lists_segments_plan_and_baselines() -> None:
    net, x = _model("cnn")
    text = ct.jacobian(net).explain(x)
    assert "5 segments" in text and "Conv2d" in text and "(diagonal)" in text
    assert "jacfwd" in text and "jacrev" in text and "peak" in text
    assert "adjoint sweep" in text


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"method": "sideways"}, SpecError),
        ({"argnums": -1}, SpecError),
        ({"argnums": True}, SpecError),
        ({"method": "forward", "measure": True}, SpecError),
        ({"measure": "yes"}, SpecError),
    ],
)
def test_bad_arguments(kwargs, error) -> None:
    with pytest.raises(error):
        ct.jacobian(torch.nn.Linear(2, 2), **kwargs)


def test_untraceable_and_unsupported_programs() -> None:
    def branchy(x):
        return x * 2 if x.sum() > 0 else x

    with pytest.raises(TraceError, match="cannot trace"):
        ct.jacobian(branchy)(torch.ones(3))
    with pytest.raises(TraceError, match="one tensor"):
        ct.jacobian(lambda x: (x * 2, x * 3))(torch.ones(3))
    with pytest.raises(UnsupportedOperationError, match="cumsum"):
        ct.jacobian(lambda x: torch.cumsum(x, 0))(torch.ones(3))
    for dtype in (torch.int64, torch.bfloat16, torch.complex64):  # one line, the fix named
        with pytest.raises(DtypeError, match=r"has dtype \w+; .* float16, float32, float64.*cast"):
            ct.jacobian(lambda x: x * 2)(torch.ones(3, dtype=dtype))
    with pytest.raises(TraceError, match="floating tensor, got list"):
        ct.jacobian(lambda x: x * 2)([1.0, 2.0])
    with pytest.raises(SpecTypeError, match="a function or a module"):
        ct.jacobian(3)
    with pytest.raises(SpecError, match="nothing planned"):
        ct.jacobian(torch.nn.Linear(2, 2)).explain()
    drop = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))
    with pytest.raises(UnsupportedOperationError, match="eval"):
        ct.jacobian(drop)(torch.ones(2))


def test_composes_with_vmap_and_autograd() -> None:
    """Per-sample Jacobians (torch.func.vmap) and gradients through the Jacobian (a Jacobian
    penalty) equal torch.func.jacrev's. A first call inside a transform cannot read values, so
    it runs the planned candidate untimed and leaves the timed choice to a plain call."""
    torch.manual_seed(4)
    net = torch.nn.Sequential(
        torch.nn.Linear(5, 7, dtype=F64), torch.nn.Tanh(), torch.nn.Linear(7, 3, dtype=F64)
    )
    xb = torch.randn(4, 5, dtype=F64)
    jac = ct.jacobian(net, measure=True)
    ref = torch.func.vmap(torch.func.jacrev(net))(xb)
    torch.testing.assert_close(torch.func.vmap(jac)(xb), ref, rtol=1e-10, atol=1e-12)
    assert not jac.last.measured  # inside vmap: not timed
    jac(xb[0])
    assert jac.last.measured  # the plain call timed and kept one
    torch.testing.assert_close(torch.func.vmap(jac)(xb), ref, rtol=1e-10, atol=1e-12)

    def penalty(jacobian_of):
        net.zero_grad(set_to_none=True)
        (jacobian_of(net)(xb[1]) ** 2).sum().backward()
        return [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in net.parameters()]

    for method in ("auto", "forward", "reverse"):
        got = penalty(functools.partial(ct.jacobian, method=method))
        for a, b in zip(got, penalty(torch.func.jacrev), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    grad = torch.func.grad(lambda v: ct.jacobian(net)(v).sum())(xb[2])
    ref_grad = torch.func.grad(lambda v: torch.func.jacrev(net)(v).sum())(xb[2])
    torch.testing.assert_close(grad, ref_grad, rtol=1e-10, atol=1e-12)


def _layer_nets():
    """BatchNorm in eval mode (a diagonal), average, max and adaptive pooling, as modules and
    as functions, each with an input."""
    F = torch.nn.functional
    torch.manual_seed(8)
    bn = torch.nn.BatchNorm1d(6, dtype=F64).eval()
    bn.running_var.uniform_(0.5, 2.0)
    bn1d = torch.nn.Sequential(torch.nn.Linear(4, 6, dtype=F64), bn, torch.nn.Tanh())
    pool1d = torch.nn.Sequential(
        torch.nn.Conv1d(2, 3, 3, dtype=F64), torch.nn.MaxPool1d(2), torch.nn.AvgPool1d(2),
        torch.nn.AdaptiveAvgPool1d(1),
    )  # fmt: skip

    def pools(x):
        return F.adaptive_max_pool2d(F.avg_pool2d(F.max_pool2d(x, 2), 2, 1), 2)

    return {
        "bn1d": (bn1d, torch.randn(3, 4, dtype=F64)),
        "pools": (pools, torch.randn(2, 9, 9, dtype=F64)),
        "pool1d": (pool1d, torch.randn(1, 2, 14, dtype=F64)),
    }


def test_batch_norm_and_pooling_layers_match_torch_func() -> None:
    """Every method's Jacobian, on both routes, is jacrev's and jacfwd's; BatchNorm in
    training mode and a pool returning its indices are refused in one line."""
    nets = _layer_nets()
    for name, (net, x) in nets.items():
        ref = torch.func.jacrev(net)(x)
        torch.testing.assert_close(ref, torch.func.jacfwd(net)(x), rtol=1e-10, atol=1e-12)
        for method in ("auto", "optimal", "forward", "reverse"):
            for direct in (True, False):
                J = ct.jacobian(net, method=method, direct=direct)(x)
                torch.testing.assert_close(J, ref, rtol=1e-10, atol=1e-12, msg=name)
    with pytest.raises(UnsupportedOperationError, match=r"BatchNorm1d in training mode.*eval"):
        ct.jacobian(nets["bn1d"][0].train())(torch.randn(3, 4, dtype=F64))
    with pytest.raises(UnsupportedOperationError, match="return_indices"):
        pool = torch.nn.Sequential(torch.nn.Tanh(), torch.nn.MaxPool1d(2, return_indices=True))
        ct.jacobian(pool)(torch.randn(1, 4, dtype=F64))
