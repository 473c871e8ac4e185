"""PyTorch's ``checkpoint_sequential`` on the same network, measured: the baseline of issue 11.

:func:`torch_sequential` copies a :class:`chainorder.nets.MLP` (weights, biases, activations)
into a ``torch.nn.Sequential`` of ``Linear`` and activation modules, one module per link, in
float64. :func:`torch_checkpointed` runs ``checkpoint_sequential`` with ``k`` segments on
``x_0`` and back-propagates either the gradient (``d_L = 1``) or the whole Jacobian (one
batched backward pass over the ``d_L`` rows of the identity, ``is_grads_batched=True``), and
counts every module evaluation made *during* the backward pass: PyTorch's recomputations.

Memory is measured with ``torch.profiler`` (``profile_memory=True``): the CPU allocator's
running ``Total Allocated`` counter of every ``[memory]`` event, peak minus the value before
the first allocation — the bytes of live tensors, as ``tracemalloc`` counts NumPy's buffers
(``tracemalloc`` does not see PyTorch's allocator). PyTorch is imported inside the functions
(the ``bench`` extra); ``preserve_rng_state=False`` because the network draws no random
numbers (PyTorch would otherwise copy its 5 KiB CPU generator state into every segment).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chainorder.chain import Structure
from chainorder.errors import SpecError

__all__ = ["TORCH_ACTIVATIONS", "TorchRun", "torch_checkpointed", "torch_peak", "torch_sequential"]

TORCH_ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")


def torch_sequential(net: Any) -> Any:
    """A float64 ``torch.nn.Sequential`` computing the same function as ``net`` (an MLP).

    Module ``l − 1`` is link ``l``: ``Linear`` with the MLP's ``W_l, b_l`` for a dense link,
    the activation module for an elementwise one. Parameters do not require gradients.

    Raises
    ------
    SpecError
        A link whose activation has no PyTorch module here (see :data:`TORCH_ACTIVATIONS`).

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.nets import MLP
    >>> torch = __import__("pytest").importorskip("torch")
    >>> net = MLP("3,4,tanh,2", seed=0)
    >>> seq = torch_sequential(net)
    >>> x = np.linspace(-1.0, 1.0, 3)
    >>> bool(np.allclose(seq(torch.from_numpy(x)).detach().numpy(), net(x)))
    True

    Notes
    -----
    O(parameters) time and memory.
    """
    import torch

    modules = []
    for link in net.chain.links:
        if link.structure is Structure.DENSE:
            lin = torch.nn.Linear(link.cols, link.rows, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.asarray(net.weights[link.index])))
                lin.bias.copy_(torch.from_numpy(np.asarray(net.biases[link.index])))
            modules.append(lin)
            continue
        name = link.name.lower()
        if name not in TORCH_ACTIVATIONS:
            raise SpecError(
                f"link {link.index} is {link.name!r}; the PyTorch baseline builds "
                f"{', '.join(TORCH_ACTIVATIONS)} links"
            )
        modules.append(
            {
                "tanh": torch.nn.Tanh,
                "relu": torch.nn.ReLU,
                "sigmoid": torch.nn.Sigmoid,
                "identity": torch.nn.Identity,
            }[name]()
        )
    return torch.nn.Sequential(*modules).requires_grad_(False)


@dataclass(frozen=True, slots=True)
class TorchRun:
    """One PyTorch run: the result and the modules (links) evaluated again in the backward."""

    result: np.ndarray
    recomputed_links: tuple[int, ...]

    @property
    def recomputations(self) -> int:
        """Module evaluations during the backward pass."""
        return len(self.recomputed_links)


def torch_checkpointed(seq: Any, x0: np.ndarray, segments: int, *, jacobian: bool) -> TorchRun:
    """``checkpoint_sequential(seq, segments, x)`` then the gradient or the whole Jacobian.

    Parameters
    ----------
    seq : torch.nn.Sequential
        From :func:`torch_sequential`.
    x0 : numpy.ndarray
        The input ``x_0`` (copied into a new tensor).
    segments : int
        ``k >= 1``; ``k = 1`` runs the plain network (PyTorch never checkpoints the last
        segment, so one segment is no checkpointing).
    jacobian : bool
        The ``(d_L, d_0)`` Jacobian by one batched backward pass; else the gradient of the
        output's sum (``d_L = 1``: the gradient).

    Returns
    -------
    TorchRun

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.nets import MLP
    >>> _ = __import__("pytest").importorskip("torch")
    >>> net = MLP("3,4,tanh,4,tanh,1", seed=0)
    >>> run = torch_checkpointed(torch_sequential(net), np.ones(3), 2, jacobian=False)
    >>> run.result.shape, run.recomputations > 0
    ((3,), True)

    Notes
    -----
    One forward and one backward pass, plus PyTorch's recomputations.
    """
    import torch
    from torch.utils.checkpoint import checkpoint_sequential

    if isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
        raise SpecError(f"segments must be a positive integer, got {segments!r}")
    in_backward = [False]
    recomputed: list[int] = []
    handles = []
    for i, module in enumerate(seq):

        def hook(*_: object, link: int = i + 1) -> None:
            if in_backward[0]:
                recomputed.append(link)

        handles.append(module.register_forward_hook(hook))
    try:
        x = torch.from_numpy(np.array(x0, dtype=np.float64)).requires_grad_(True)
        if segments == 1:
            y = seq(x)
        else:
            y = checkpoint_sequential(
                seq, segments, x, use_reentrant=False, preserve_rng_state=False
            )
        in_backward[0] = True
        if jacobian:
            eye = torch.eye(y.shape[0], dtype=y.dtype)
            (g,) = torch.autograd.grad(y, x, eye, is_grads_batched=True)
        else:
            (g,) = torch.autograd.grad(y.sum(), x)
        return TorchRun(g.detach().numpy(), tuple(recomputed))
    finally:
        for h in handles:
            h.remove()


def torch_peak(fn: Callable[[], Any]) -> tuple[Any, int]:
    """``(fn(), peak bytes)`` of PyTorch's CPU allocator while ``fn`` runs (torch.profiler).

    Examples
    --------
    >>> torch = __import__("pytest").importorskip("torch")
    >>> _, peak = torch_peak(lambda: torch.ones(1000, dtype=torch.float64) * 2)
    >>> peak >= 8000
    True

    Notes
    -----
    Profiling slows ``fn`` down: time it separately.
    """
    import torch

    activities = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=activities, profile_memory=True) as prof:
        out = fn()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trace.json"
        prof.export_chrome_trace(str(path))
        trace = json.loads(path.read_text())
    memory = [e["args"] for e in trace.get("traceEvents", []) if e.get("name") == "[memory]"]
    memory = [m for m in memory if str(m.get("Device Type", 0)) in ("0", "cpu", "CPU")]
    if not memory:
        return out, 0
    base = memory[0]["Total Allocated"] - memory[0]["Bytes"]
    return out, max(m["Total Allocated"] for m in memory) - base
