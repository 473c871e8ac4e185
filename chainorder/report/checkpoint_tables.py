"""Render memory-limited plans: the summary, the store/drop/recompute steps, the front.

Rendering only: every figure comes from a :class:`~chainorder.checkpoint.CheckpointPlan`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from chainorder.chain import Chain
from chainorder.cost import node_shapes
from chainorder.units import format_bytes, format_count

__all__ = [
    "checkpoint_summary",
    "front_table",
    "plot_front",
    "run_table",
    "run_to_dict",
    "step_rows",
    "steps_table",
]


def checkpoint_summary(cp: Any) -> list[str]:
    """Lines describing one memory-limited plan (limit, peak, mults by kind, checkpoints).

    Examples
    --------
    >>> from chainorder.checkpoint import plan_with_memory_limit
    >>> cp = plan_with_memory_limit("4,4,4,4,4,4,1", 256, reserve=0)
    >>> print("\\n".join(checkpoint_summary(cp)[:2]))
    memory limit 256 B (float64): the cheapest streamed plan that fits
    predicted peak 256 B (32 elements); strategy reverse-checkpoints: J = ((((J6·J5)·J4)·J3)·J2)·J1

    Notes
    -----
    O(L) for the expression.
    """
    p = cp.plan
    limit = "none" if cp.memory_limit is None else format_bytes(cp.memory_limit)
    if cp.reserve_bytes:
        limit += f", {format_bytes(cp.reserve_bytes)} of it kept for the executor's bookkeeping"
    points = ", ".join(f"x_{k}" for k in cp.checkpoints) or "none (nothing recomputed)"
    return [
        f"memory limit {limit} ({p.dtype.name}): the cheapest streamed plan that fits",
        f"predicted peak {format_bytes(cp.peak_bytes)} ({cp.peak_elements} elements); "
        f"strategy {cp.strategy}: J = {cp.expression()}",
        f"mults: Jacobian products {format_count(cp.jacobian_mults)}, forward pass "
        f"{format_count(cp.forward_mults)}, recomputation {format_count(cp.recompute_mults)} "
        f"({_plural(cp.recomputations, 'activation')} recomputed); total "
        f"{format_count(cp.total_mults)}",
        f"recomputation starts from: {points}",
        f"searched: {cp.searched}",
    ]


def step_rows(cp: Any) -> list[tuple[int, str, str, int]]:
    """``(number, action, what, live elements after)`` for every event of the schedule.

    Actions: ``compute`` (first time), ``store`` (first time, and kept as a checkpoint that
    recomputation starts from), ``recompute``, ``drop`` (an activation released), ``form``,
    ``multiply``, ``free``.

    Examples
    --------
    >>> from chainorder.checkpoint import plan_with_memory_limit
    >>> cp = plan_with_memory_limit("4,4,4,4,4,4,1", 256, reserve=0)
    >>> for row in step_rows(cp)[:3]:  # x_2 is a checkpoint
    ...     print(row)
    (1, 'compute', 'x_1 from x_0 (4 elements)', 8)
    (2, 'store', 'x_2 from x_1 (4 elements)', 12)
    (3, 'drop', 'x_1', 8)

    Notes
    -----
    O(number of events).
    """
    chain: Chain = cp.chain
    flat = cp.plan.flat
    shapes = node_shapes(chain, flat)
    leaf_of = {flat.lo[i]: i for i in range(len(flat.lo)) if flat.left[i] < 0}
    d = chain.dims
    seen: set[int] = set()
    stored = set(cp.checkpoints)
    live = d[0]
    rows = []
    for number, ev in enumerate(cp.events, start=1):
        k = ev.index
        if ev.kind == "compute":
            action = "recompute" if k in seen else "store" if k in stored else "compute"
            seen.add(k)
            live += d[k]
            what = f"x_{k} from x_{k - 1} ({d[k]} elements)"
        elif ev.kind == "release":
            action, what = "drop", f"x_{k}"
            live -= d[k]
        elif ev.kind == "form":
            live += shapes.elements(leaf_of[k])
            action, what = "form", f"J{k} from x_{k - 1}"
        elif ev.kind == "multiply":
            live += shapes.elements(k)
            a, b = flat.left[k], flat.right[k]
            action, what = "multiply", f"{_label(flat, a)} · {_label(flat, b)}"
        else:
            live -= shapes.elements(k)
            action, what = "free", _label(flat, k)
        rows.append((number, action, what, live))
    return rows


def steps_table(cp: Any) -> Table:
    """The schedule as a table: store / drop / recompute / form / multiply / free.

    Examples
    --------
    >>> from chainorder.checkpoint import plan_with_memory_limit
    >>> cp = plan_with_memory_limit("4,4,4,4,4,4,1", 256, reserve=0)
    >>> t = steps_table(cp)
    >>> [c.header for c in t.columns], t.row_count == len(step_rows(cp))
    (['#', 'action', 'what', 'live'], True)

    Notes
    -----
    O(number of events).
    """
    table = Table(title="checkpoint schedule (streamed setting; live = elements alive after)")
    for name in ("#", "action", "what", "live"):
        table.add_column(name, justify="right" if name in ("#", "live") else "left")
    for number, action, what, live in step_rows(cp):
        table.add_row(str(number), action, what, format_count(live))
    return table


def front_table(front: Sequence[Any]) -> Table:
    """The cost–memory front: one row per plan, by increasing peak.

    Examples
    --------
    >>> from chainorder.checkpoint import pareto_front
    >>> front_table(pareto_front("4,4,4,4,4,4,1", reserve=0)).row_count
    4

    Notes
    -----
    O(points).
    """
    table = Table(title=f"cost–memory front: the cheapest plan at each peak ({len(front)} plans)")
    for name in ("peak bytes", "Jacobian", "recomputed (activations)", "total", "strategy"):
        table.add_column(
            name, justify="left" if name == "strategy" else "right", no_wrap=name == "strategy"
        )
    for cp in front:
        table.add_row(
            format_count(cp.peak_bytes),
            format_count(cp.jacobian_mults),
            f"{format_count(cp.recompute_mults)} ({cp.recomputations})",
            format_count(cp.total_mults),
            cp.strategy,
        )
    return table


def plot_front(front: Sequence[Any], path: Path) -> None:
    """Plot the front (peak bytes vs total mults) to ``path`` with matplotlib (plot extra).

    Raises
    ------
    ImportError
        matplotlib is not installed (``pip install 'chainorder[plot]'``).

    Examples
    --------
    >>> import importlib.util, pathlib, tempfile
    >>> from chainorder.checkpoint import pareto_front
    >>> if importlib.util.find_spec("matplotlib"):  # the plot extra
    ...     path = pathlib.Path(tempfile.mkdtemp()) / "front.png"
    ...     plot_front(pareto_front("4,4,4,4,4,4,1", reserve=0), path)
    ...     assert path.stat().st_size > 0

    Notes
    -----
    O(points), plus matplotlib's rendering.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.step(
        [cp.peak_bytes for cp in front], [cp.total_mults for cp in front], where="post",
        marker="o",
    )  # fmt: skip
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_bytes(int(v))))
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_xlabel(f"predicted peak ({front[0].plan.dtype.name})")
    ax.set_ylabel("total mults (forward + recomputation + Jacobian)")
    ax.set_title(f"cost–memory front: {_short(front[0].chain.spec())}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run_table(runs: Sequence[Any], title: str) -> Table:
    """Predicted next to measured for memory-limited runs (``CheckpointRun`` records).

    Examples
    --------
    >>> from chainorder.checkpoint.run import run_checkpointed
    >>> run = run_checkpointed("4,4,4,1", "4KB", repeat=1)
    >>> run_table([run], "predicted vs measured").row_count
    1

    Notes
    -----
    O(runs).
    """
    table = Table(title=title)
    names = ("chain", "limit", "peak predicted", "measured", "recomputed pred / meas",
             "time (unconstrained)", "max rel diff", "ok")  # fmt: skip
    for name in names:
        table.add_column(name, justify="left" if name in ("chain", "ok") else "right")
    for run in runs:
        cp = run.plan
        diff = run.measured_peak_bytes / cp.peak_bytes - 1 if cp.peak_bytes else 0.0
        table.add_row(
            _short(cp.chain.spec()),
            format_bytes(cp.memory_limit) if cp.memory_limit is not None else "-",
            format_bytes(cp.peak_bytes),
            f"{format_bytes(run.measured_peak_bytes)} ({diff:+.1%})",
            f"{cp.recomputations} / {run.measured_recomputations}",
            f"{run.seconds * 1e3:.2f} ms ({run.unconstrained_seconds * 1e3:.2f} ms)",
            f"{run.max_relative_difference:.1e}",
            "yes" if run.ok else "NO",
        )
    return table


def run_to_dict(run: Any) -> dict[str, Any]:
    """JSON-ready figures of one run (the plan's document plus what was measured).

    Examples
    --------
    >>> from chainorder.checkpoint.run import run_checkpointed
    >>> d = run_to_dict(run_checkpointed("4,4,4,1", "4KB", repeat=1))
    >>> d["ok"], d["plan"]["checkpointing"]["peak_bytes"]
    (True, 224)

    Notes
    -----
    O(L) (the plan's document).
    """
    return {
        "plan": run.plan.to_dict(),
        "measured_peak_bytes": run.measured_peak_bytes,
        "measured_recomputations": run.measured_recomputations,
        "seconds": run.seconds,
        "unconstrained_seconds": run.unconstrained_seconds,
        "unconstrained_peak_bytes": run.unconstrained_peak_bytes,
        "max_relative_difference": run.max_relative_difference,
        "rtol": run.rtol,
        "under_limit": run.under_limit,
        "peak_within_5_percent": run.peak_close,
        "ok": run.ok,
    }


def _label(flat: Any, i: int) -> str:
    lo, hi = flat.lo[i], flat.hi[i]
    return f"J{lo}" if lo == hi else f"J{hi}..J{lo}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _short(text: str) -> str:
    return text if len(text) <= 50 else text[:47] + "..."
