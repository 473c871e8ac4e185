"""``chainorder plan --memory-limit / --pareto``: memory-limited plans in the streamed setting."""

from __future__ import annotations

from pathlib import Path

import typer

from chainorder.chain import Chain
from chainorder.checkpoint import pareto_front, plan_with_memory_limit
from chainorder.cli.common import fail, out_console
from chainorder.memory import Setting
from chainorder.plan import json_text
from chainorder.report.checkpoint_tables import (
    checkpoint_summary,
    front_table,
    plot_front,
    run_table,
    run_to_dict,
    steps_table,
)

#: Most points of the front printed, saved or plotted (a long chain's front has thousands).
FRONT_POINTS = 40

__all__ = ["checkpoint_bench_output", "checkpoint_plan_output", "checkpoint_validation_output"]


def checkpoint_plan_output(
    chain: Chain,
    dtype: str,
    setting: Setting,
    memory_limit: str | None,
    pareto: bool,
    steps: bool,
    as_json: bool,
    save: Path | None,
    plot: Path | None,
) -> None:
    """Plan under ``memory_limit`` and/or list the front; print (or JSON) and save.

    Raises
    ------
    typer.Exit
        ``--memory-limit`` / ``--pareto`` outside the streamed setting, or ``--plot``
        without ``--pareto`` (one line on stderr, exit 2).

    Examples
    --------
    >>> import contextlib, io, json
    >>> buf = io.StringIO()
    >>> with contextlib.redirect_stdout(buf):
    ...     checkpoint_plan_output(Chain.parse("4,4,4,4,1"), "float64", Setting.STREAMED, "4KB",
    ...                            True, False, True, None, None)
    >>> out = json.loads(buf.getvalue())
    >>> [(p["peak_bytes"], p["total_mults"], p["strategy"]) for p in out["pareto"]]
    [(224, 112, 'reverse-checkpoints'), (256, 96, 'tree')]

    Notes
    -----
    The cost of :func:`chainorder.checkpoint.plan_with_memory_limit` and
    :func:`chainorder.checkpoint.pareto_front` (see there), plus O(points + L) output.
    """
    if setting is not Setting.STREAMED:
        fail(
            "--memory-limit and --pareto plan checkpointed schedules, which exist in the "
            "streamed setting only: add --setting streamed"
        )
    if plot is not None and not pareto:
        fail("--plot draws the cost–memory front: add --pareto")
    chosen = None if memory_limit is None else plan_with_memory_limit(chain, memory_limit, dtype)
    front = (
        pareto_front(chain, dtype, memory_limit=memory_limit, max_points=FRONT_POINTS)
        if pareto
        else []
    )
    if save is not None and chosen is not None:
        from chainorder.atomic import write_atomic

        write_atomic(save, json_text(chosen.to_dict()) + "\n")
    if plot is not None:
        try:
            plot_front(front, plot)
        except ImportError:
            fail("--plot needs matplotlib: pip install 'chainorder[plot]'")
    if as_json:
        payload: dict[str, object] = {"chain": chain.to_dict(), "dtype": dtype}
        if chosen is not None:
            payload["plan"] = chosen.to_dict()
        if pareto:
            payload["pareto"] = [_point(cp) for cp in front]
        typer.echo(json_text(payload))
        return
    out = out_console
    if chosen is not None:
        for line in checkpoint_summary(chosen):
            out.print(line, markup=False)
        if steps:
            out.print(steps_table(chosen))
    if pareto:
        out.print(front_table(front))
    if save is not None and chosen is not None:
        out.print(f"saved plan to {save}", markup=False)
    if plot is not None:
        out.print(f"plotted the front to {plot}", markup=False)


def _point(cp: object) -> dict[str, object]:
    d = cp.to_dict()["checkpointing"]  # type: ignore[attr-defined]
    d["expression"] = cp.expression()  # type: ignore[attr-defined]
    return d


def checkpoint_validation_output(
    dims: str,
    memory_limit: str,
    dtype: str,
    seed: int,
    repeat: int,
    max_memory: str | None,
    as_json: bool,
) -> tuple[str, bool]:
    """``validate --memory-limit``: the report's text and whether every check holds.

    Examples
    --------
    >>> text, ok = checkpoint_validation_output("4,4,4,1", "4KB", "float64", 0, 1, None, False)
    >>> ok, "predicted peak 224 B" in text
    (True, True)

    Notes
    -----
    One planned and executed run (:func:`chainorder.checkpoint.run.run_checkpointed`):
    planning as in :func:`chainorder.checkpoint.plan_with_memory_limit`, then ``repeat``
    executions of the plan and of the unconstrained one on a seeded MLP.
    """
    from chainorder.checkpoint.run import run_checkpointed

    run = run_checkpointed(
        Chain.parse(dims), memory_limit, dtype=dtype, seed=seed, repeat=repeat,
        max_memory=max_memory,
    )  # fmt: skip
    if as_json:
        return json_text(run_to_dict(run)) + "\n", run.ok
    lines = checkpoint_summary(run.plan)
    table = run_table([run], "memory-limited plan on a seeded MLP: predicted vs measured")
    return _text(lines, table), run.ok


def checkpoint_bench_output(
    specs: list[str], memory_limit: str, seed: int, repeat: int, max_memory: str | None
) -> tuple[str, bool]:
    """``bench --memory-limit``: one measured row per chain of the suite.

    Examples
    --------
    >>> text, ok = checkpoint_bench_output(["4,4,4,1", "3,5,2"], "4KB", 0, 1, None)
    >>> ok, "4,4,4,1" in text, "3,5,2" in text
    (True, True, True)

    Notes
    -----
    One :func:`chainorder.checkpoint.run.run_checkpointed` per spec (see
    :func:`checkpoint_validation_output`).
    """
    from chainorder.checkpoint.run import run_checkpointed

    runs = [
        run_checkpointed(spec, memory_limit, seed=seed, repeat=repeat, max_memory=max_memory)
        for spec in specs
    ]
    table = run_table(runs, f"memory-limited plans (limit {memory_limit}), streamed MLPs")
    return _text([], table), all(run.ok for run in runs)


def _text(lines: list[str], table: object) -> str:
    import io

    from rich.console import Console

    console = Console(width=120, record=True, file=io.StringIO(), highlight=False)
    for line in lines:
        console.print(line, markup=False)
    console.print(table)
    return console.export_text()
