"""PyTorch's checkpoint_sequential against chainorder's schedules on the same network.

Same function (weights copied), same gradient and Jacobian, and PyTorch's recomputations
(counted with forward hooks during the backward pass) never fewer than those of chainorder's
segment schedule with PyTorch's own segments, nor than revolve with as many stored states.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from chainorder.checkpoint.revolve import revolve_schedule  # noqa: E402
from chainorder.checkpoint.segments import segments_schedule  # noqa: E402
from chainorder.checkpoint.torch_baseline import (  # noqa: E402
    torch_checkpointed,
    torch_peak,
    torch_sequential,
)
from chainorder.errors import SpecError  # noqa: E402
from chainorder.execute import evaluate_streamed  # noqa: E402
from chainorder.nets import MLP  # noqa: E402
from chainorder.plan import plan  # noqa: E402


def _mlp(width: int, depth_pairs: int, out: int) -> MLP:
    return MLP([width, *[width, "tanh"] * (depth_pairs - 1), out, "tanh"], seed=5)


def _torch_boundaries(n_links: int, segments: int) -> tuple[int, ...]:
    size = n_links // segments  # checkpoint_sequential's segment size; the rest is the last
    return tuple(j * size for j in range(segments))


def test_same_function() -> None:
    net = _mlp(6, 4, 3)
    x = net.random_input(seed=2)
    y = torch_sequential(net)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(y, net(x), rtol=1e-13)


@pytest.mark.parametrize("jacobian", [False, True])
def test_gradient_and_jacobian_match_chainorder(jacobian: bool) -> None:
    net = _mlp(7, 6, 4 if jacobian else 1)
    x = net.random_input(seed=3)
    expected = evaluate_streamed(plan(net.chain, "reverse"), net, x.copy())
    seq = torch_sequential(net)
    n = net.chain.n_links
    for k in range(1, n + 1):
        run = torch_checkpointed(seq, x, k, jacobian=jacobian)
        got = run.result if jacobian else run.result[None, :]
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13)
        if k == 1:
            assert run.recomputations == 0
        # only the checkpointed segments (all but the last) are evaluated again
        assert all(link <= (n // k) * (k - 1) for link in run.recomputed_links)


def test_chainorder_recomputes_no_more_than_pytorch_at_its_segments() -> None:
    net = _mlp(5, 12, 1)
    n = net.chain.n_links
    seq = torch_sequential(net)
    x = net.random_input(seed=1)
    for k in range(1, n + 1):
        measured = torch_checkpointed(seq, x, k, jacobian=False).recomputations
        ours = segments_schedule(n, boundaries=_torch_boundaries(n, k))
        assert ours.recomputations <= measured
        # revolve holding no more states than that segment schedule recomputes no more
        assert revolve_schedule(n, ours.max_stored).recomputations <= ours.recomputations


def test_profiler_peak_counts_live_tensors() -> None:
    def make() -> object:
        a = torch.ones(10_000, dtype=torch.float64)
        b = a * 2
        del a
        return b

    _, peak = torch_peak(make)
    assert 160_000 <= peak < 200_000  # a and b alive together, 80 kB each


def test_bad_segments_and_activations() -> None:
    with pytest.raises(SpecError, match="segments must be a positive integer"):
        torch_checkpointed(torch_sequential(_mlp(3, 2, 1)), np.ones(3), 0, jacobian=False)
    with pytest.raises(SpecError, match="the PyTorch baseline builds"):
        torch_sequential(MLP("3,3,sin,2", seed=0))
