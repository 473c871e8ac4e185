"""The text of :meth:`chainorder.torch.jacobian.TorchJacobian.explain`.

Three parts: the segments of the traced program (operations, shapes, mults per seed of a JVP and
a VJP, tape), the plan that runs (its nodes: tangent sweeps, adjoint sweeps, diagonals, dense
products) and the program that runs it, and every candidate's predicted mults, FLOPs, peak
memory (the matrix-free schedule model of :mod:`chainorder.matfree.memory`, streamed setting)
and program next to ``jacfwd`` and ``jacrev``, with the first call's timings when it measured
and, for the candidates tied on time, the peak bytes measured in one more run (which decided
the choice; see :mod:`chainorder.torch.candidates`).
"""

from __future__ import annotations

from typing import Any

from chainorder.units import format_bytes, format_count

__all__ = ["explain_text"]


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) if shape else "scalar"


def _program(program: str) -> str:
    if program == "direct":
        return "direct (batched rules: one torch call per operation, one forward pass)"
    if program.startswith("torch.func.jac"):
        return f"{program} itself"
    return program


def explain_text(jac: Any, planned: Any) -> str:
    """Lines describing ``planned`` for the Jacobian function ``jac``.

    Examples
    --------
    >>> import torch
    >>> import chainorder.torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Tanh(), torch.nn.Linear(4, 6))
    >>> text = chainorder.torch.jacobian(net).explain(torch.ones(6))
    >>> print(text.splitlines()[0])
    chainorder.torch.jacobian(Sequential): 6 -> 6, float32, 3 segments
    >>> "jacfwd" in text and "jacrev" in text
    True

    Notes
    -----
    O(segments + plan nodes).
    """
    from chainorder.torch.execute import forward_mults

    chain = planned.chain
    name = getattr(jac.f, "__name__", type(jac.f).__name__)
    lines = [
        f"chainorder.torch.jacobian({name}): {_shape(chain.in_shape)} -> "
        f"{_shape(chain.out_shape)}, {planned.dtype}, {len(chain.segments)} segments",
        "segments (mults per seed column of a JVP / row of a VJP):",
    ]
    for seg in chain.segments:
        link = seg.link
        lines.append(
            f"  {seg.index:>3}  {seg.label:<28} {_shape(seg.in_shape):>12} -> "
            f"{_shape(seg.out_shape):<12} JVP {format_count(link.tangent)}, VJP "
            f"{format_count(link.adjoint)}, tape {format_count(link.tape)}"
            + (" (diagonal)" if link.diagonal else "")
        )
    plan = planned.plan
    lines.append(f"plan ({planned.chosen}, {plan.mode_label}): {plan.expression()}")
    lines.append(f"program: {_program(planned.candidate.program)}")
    lines.extend(plan.describe()[2:-1] if plan.comparison else plan.describe()[2:])
    lines.append(
        "candidates (predicted; peak: the plan's arrays in the chainorder.matfree schedule "
        "model, PyTorch's temporaries come on top; measured: the allocator's peak in one run, "
        "for candidates tied on time):"
    )
    best = min(c.mults for c in planned.baselines.values()) or 1
    timed = {c.name: c for c in planned.candidates if c.seconds is not None}
    for c in sorted(planned.baselines.values(), key=lambda c: c.mults):
        mark = "*" if c.name == planned.chosen else " "
        extra = ""
        if c.name in timed:
            t = timed[c.name]
            extra = f", timed {t.seconds:.4f} s wall, {t.cpu_seconds:.4f} s CPU (best run)"
        measured = ""
        if c.measured_peak_bytes is not None:
            measured = f" predicted, {format_bytes(c.measured_peak_bytes)} measured"
        lines.append(
            f" {mark} {c.name:<10} {format_count(c.mults):>16} mults ({c.mults / best:.2f}×), "
            f"{format_count(c.plan.flops)} FLOPs, peak {format_bytes(c.peak_bytes)}{measured}, "
            f"runs {c.program}{extra}"
        )
    direct = planned.candidate.program != "torch.func sweeps"
    lines.append(
        "forward evaluations of the chosen plan: "
        f"{format_count(forward_mults(plan, chain, direct))} mults (not in the figures above)"
    )
    lines.append(f"choice: {planned.chosen} — {planned.reason}")
    return "\n".join(lines)
