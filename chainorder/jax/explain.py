"""The text of ``JaxJacobian.explain()``: segments, the plan's steps, costs against jacfwd/jacrev.

Layout::

    chainorder.jax.jacobian: 7 segments, 4096 inputs -> 4096 outputs (float32)
      1  dot_general+add        64×4096    tangent 262,144/seed  adjoint 262,144/seed
      2  tanh                   64×64      diagonal ...
    plan (optimal, mixed, matrix-free): ...
      adjoint sweep over segments 2..1 on 64 seed rows ...
    plans (predicted mults; XLA's compiled FLOPs and allocated bytes, memory_analysis)
      chosen: optimal  ...
      jacfwd = forward ...
      jacrev = reverse ...
    timed on the first call: optimal 1.2 ms, forward 3.4 ms (kept optimal)
    unknown primitives priced as dense Jacobians: sort
"""

from __future__ import annotations

from typing import Any

from chainorder.units import format_bytes, format_count

__all__ = ["explain_text", "step_lines"]


def step_lines(plan: Any) -> list[str]:
    """One line per plan node: what runs, on which segments, with how many seeds and mults.

    Examples
    --------
    >>> from chainorder.matfree.links import custom
    >>> from chainorder.matfree.planning import pure_adjoint_plan
    >>> step_lines(pure_adjoint_plan([custom(2, 3, 6), custom(1, 2, 2)]))
    ['adjoint sweep (VJPs) through segments 2..1 from I, 1 seed row: 8 mults']

    Notes
    -----
    O(nodes).
    """
    lines = []
    for node in plan.nodes:
        m = f"{format_count(node.mults)} mults"
        if node.action == "tangent":
            start = "I" if node.right < 0 else f"the array of segments {node.lo}..{node.split - 1}"
            lines.append(
                f"tangent sweep (JVPs) through segments {node.split}..{node.hi} from {start}, "
                f"{node.seeds} seed column{'s' * (node.seeds != 1)}: {m}"
            )
        elif node.action == "adjoint":
            start = "I" if node.left < 0 else f"the array of segments {node.split}..{node.hi}"
            lines.append(
                f"adjoint sweep (VJPs) through segments {node.split - 1}..{node.lo} from {start}, "
                f"{node.seeds} seed row{'s' * (node.seeds != 1)}: {m}"
            )
        elif node.action == "diagonal":
            lines.append(f"diagonal of segment {node.lo} (one JVP of ones): {m}")
        elif node.action == "dense":
            lines.append(
                f"dense product [{node.split}..{node.hi}]·[{node.lo}..{node.split - 1}]: {m}"
            )
        else:
            lines.append(f"{node.action} {node.lo}..{node.hi}: {m}")
    return lines


def explain_text(prep: Any) -> str:
    """The full explanation of one :class:`~chainorder.jax.api.Prepared`.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from chainorder.jax.api import jacobian
    >>> w = jnp.ones((3, 2), dtype=jnp.float32)
    >>> jac = jacobian(lambda x: jnp.tanh(x @ w), measure=False)
    >>> lines = explain_text(jac.prepared(jnp.ones(3, dtype=jnp.float32))).splitlines()
    >>> lines[0]
    'chainorder.jax.jacobian: 2 segments, 3 inputs -> 2 outputs (float32)'
    >>> lines[3]
    'plan: optimal (reverse, matrix-free)'

    Notes
    -----
    O(segments + nodes).
    """
    import numpy as np

    from chainorder.jax.timing import xla_figures

    segs = prep.segs
    chosen = prep.plan
    dtype = np.dtype(prep.dtype).name
    out = [
        f"chainorder.jax.jacobian: {len(segs)} segment{'s' * (len(segs) != 1)}, "
        f"{segs[0].cols} inputs -> {segs[-1].rows} outputs ({dtype})"
    ]
    width = max(len(s.label) for s in segs)
    for i, s in enumerate(segs, start=1):
        shape = f"{s.rows}×{s.cols}"
        kind = "diagonal" if s.diagonal else "        "
        out.append(
            f"  {i:>3}  {s.label:<{width}}  {shape:>11}  {kind}  "
            f"tangent {format_count(s.cost.tangent)}/seed  adjoint {format_count(s.cost.adjoint)}"
            f"/seed  tape {format_count(s.cost.tape)} elements"
        )
    out.append(f"plan: {chosen.name} ({chosen.plan.mode_label})")
    out.extend(f"  {line}" for line in step_lines(chosen.plan))
    out.append("plans (predicted mults; XLA's compiled FLOPs and allocated bytes, memory_analysis)")
    rows = [("chosen: " + chosen.name, chosen.name), ("jacfwd = forward", "forward"),
            ("jacrev = reverse", "reverse")]  # fmt: skip
    rows += [(name, name) for name in ("optimal", "given") if name != chosen.name]
    base = min(prep.plans["forward"].mults, prep.plans["reverse"].mults)
    for label, name in rows:
        c = prep.plans[name]
        ratio = c.mults / base if base else 1.0
        fig = xla_figures(prep, name)
        out.append(
            f"  {label:<18} {format_count(c.mults):>15} mults {ratio:7.3f}× best pure  "
            f"{format_count(int(fig.flops)):>15} FLOPs  {format_bytes(fig.peak_bytes):>10}"
        )
    if prep.timings:
        timed = ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in prep.timings.items())
        out.append(
            f"timed on the first call (best of 2 to 5 interleaved runs, compiled): {timed}; "
            f"kept {chosen.name}{_tie_note(prep)}"
        )
    unknown = tuple(dict.fromkeys(u for s in segs for u in s.cost.unknown))
    if unknown:
        out.append(
            "unknown primitives, priced as dense Jacobians (an upper bound): " + ", ".join(unknown)
        )
    return "\n".join(out)


def _tie_note(prep: Any) -> str:
    """Why a timed choice fell where it did when candidates tied on time (else nothing)."""
    from chainorder.jax.timing import xla_figures
    from chainorder.ties import PEAK_EQUAL, TIME_TIE, time_ties

    near = time_ties(prep.timings, TIME_TIE)
    if len(near) < 2:
        return ""
    fastest, kept = near[0], prep.chosen
    peak = {k: format_bytes(xla_figures(prep, k).peak_bytes) for k in near}
    lead = f" ({len(near)} within {TIME_TIE - 1:.0%} of the fastest: a tie"
    if kept == fastest:
        within = f"within {PEAK_EQUAL - 1:.0%} of the smallest"
        return f"{lead}, the fastest kept: its XLA peak {peak[kept]} is {within})"
    return f"{lead}, {kept} kept for its smaller XLA peak, {peak[kept]} vs {peak[fastest]})"
