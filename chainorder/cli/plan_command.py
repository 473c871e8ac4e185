"""``chainorder plan``: compare optimal, forward and reverse for a chain; show, save, JSON."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from chainorder.atomic import write_atomic
from chainorder.chain import Chain
from chainorder.cli.common import (
    DimsOption,
    check_output_path,
    err_console,
    fail,
    out_console,
    require_dims,
    user_errors,
)
from chainorder.dtypes import as_dtype
from chainorder.errors import ChainTooLongError, SpecError
from chainorder.memory import as_setting
from chainorder.plan import Plan, json_text, plan
from chainorder.report.plan_tables import (
    chain_summary,
    comparison_table,
    schedule_table,
    short_expression,
    tree_renderable,
)
from chainorder.solvers import MAX_EXACT_LINKS, available_solvers
from chainorder.solvers.interval import ProgressFn
from chainorder.units import format_count

__all__ = ["plan_command", "register"]


_EXAMPLES = """
Examples:

  chainorder plan --dims 784,512,512,10

  chainorder plan --dims "784 512 tanh 512 tanh 10" --setting streamed --steps

  chainorder plan --dims 4096,64,4096,64,4096 --json

  chainorder plan --dims 30,35,15,5,10,20,25 --mode reverse --dtype float32 --save plan.json

  chainorder plan --dims "1x28x28,conv2d(8,k=3),relu,conv2d(16,k=3,stride=2),relu,10" --matrix-free

  chainorder plan --chain gdjcpb.txt --steps

  chainorder plan --dims 90,100,tanh,110,tanh,100,tanh,1 --setting streamed --pareto

  chainorder plan --dims 90,100,tanh,110,tanh,100,tanh,1 --setting streamed --memory-limit 94KiB
"""


def _plans(chain: Chain, mode: str, dtype: str, show_progress: bool) -> dict[str, Plan]:
    """The selected plan and the pure modes; the exact search only when it is selected.

    A pure mode needs no search, and the other pure mode is O(L) too, so ``--mode forward``
    and ``--mode reverse`` never run the O(L³) DP.
    """
    names = ["optimal", "forward", "reverse"] if mode == "optimal" else ["forward", "reverse"]
    if mode not in names:
        names.insert(0, mode)
    with _progress(show_progress) as progress:
        return {name: plan(chain, name, dtype, progress=progress) for name in names}


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[ProgressFn | None]:
    """A transient rich progress bar on stderr that appears only after about a second."""
    if not enabled:
        yield None
        return
    start = time.monotonic()
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            if time.monotonic() - start < _PROGRESS_DELAY_S:
                return
            bar = Progress(
                TextColumn("planning (exact search)"),
                BarColumn(),
                TaskProgressColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            )
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task("plan", total=total)
        state["bar"].update(state["task"], completed=done)

    try:
        yield update
    finally:
        if "bar" in state:
            state["bar"].stop()


_PROGRESS_DELAY_S = 1.0


def plan_command(
    dims: DimsOption = None,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            "-m",
            help=f"Plan to show, save and schedule: {', '.join(available_solvers())}.",
        ),
    ] = "optimal",
    dtype: Annotated[
        str, typer.Option("--dtype", help="Element type for bytes: float64, float32, ...")
    ] = "float64",
    setting: Annotated[
        str,
        typer.Option(
            "--setting",
            help="Memory setting: 'given' Jacobians, or 'streamed' from a forward pass.",
        ),
    ] = "given",
    steps: Annotated[
        bool, typer.Option("--steps", help="Also print the product schedule.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only JSON (optimal, forward, reverse).")
    ] = False,
    save: Annotated[
        Path | None,
        typer.Option("--save", help="Write the selected plan as JSON to this file (atomic)."),
    ] = None,
    matrix_free: Annotated[
        bool,
        typer.Option(
            "--matrix-free",
            help="Links known by JVP/VJP costs (conv2d(8,k=3), dense, relu, ...): the cheapest "
            "mix of tangent sweeps, adjoint sweeps and dense products.",
        ),
    ] = False,
    chain_file: Annotated[
        Path | None,
        typer.Option("--chain", help="Matrix-free chain file: JSON or a GDJCPB instance."),
    ] = None,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="Streamed setting: the cheapest plan (Jacobian + recomputed mults) whose "
            "predicted peak fits, e.g. 64MiB, 2GiB or bytes; --steps shows its store / drop / "
            "recompute schedule.",
        ),
    ] = None,
    pareto: Annotated[
        bool,
        typer.Option("--pareto", help="Streamed setting: print the cost–memory front."),
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="With --pareto: plot the front to this file (plot extra)."),
    ] = None,
) -> None:
    """Find the optimal bracketing of J_L···J_1 and compare it with forward and reverse mode."""
    if matrix_free or chain_file is not None:  # issue 10: chainorder.cli.matfree_command
        from chainorder.cli.matfree_command import matfree_plan_output

        if save is not None:
            check_output_path("--save", save)
        with user_errors():
            text = matfree_plan_output(
                dims, chain_file, mode=mode, dtype=dtype, setting=setting, steps=steps,
                as_json=as_json, save=save,
            )  # fmt: skip
        typer.echo(text, nl=False)
        return
    spec = require_dims(dims)
    if save is not None:
        check_output_path("--save", save)
    if memory_limit is not None or pareto or plot is not None:  # issue 11
        from chainorder.cli.checkpoint_command import checkpoint_plan_output

        if plot is not None:
            check_output_path("--plot", plot)
        with user_errors():
            if mode != "optimal":
                raise SpecError(
                    f"--mode {mode} does not apply with --memory-limit/--pareto/--plot: the "
                    "checkpoint planner searches every bracketing itself"
                )
            args = (as_dtype(dtype).name, as_setting(setting), memory_limit, pareto, steps)
            checkpoint_plan_output(Chain.parse(spec), *args, as_json, save, plot)
        return
    with user_errors():
        chosen = as_setting(setting)
        chain = Chain.parse(spec)
        dt = as_dtype(dtype)
        if mode not in available_solvers():
            plan(chain, mode, dt)  # raises UnknownSolverError with the valid names
        try:
            plans = _plans(chain, mode, dt.name, err_console.is_terminal and not as_json)
        except ChainTooLongError as exc:
            fail(str(exc))
        selected = plans[mode]
        if save is not None:
            write_atomic(save, selected.to_json() + "\n")
    if as_json:
        payload = {
            "chain": chain.to_dict(),
            "dtype": dt.name,
            "setting": chosen.value,
            "selected": mode,
            "plans": {name: p.to_dict() for name, p in plans.items()},
        }
        typer.echo(json_text(payload))
        return
    out = out_console
    width = out.width
    out.print(chain_summary(chain), markup=False)
    out.print(comparison_table(plans, chosen, width=width))
    if "optimal" not in plans:
        out.print(
            f"optimal: not searched with --mode {mode} (use --mode optimal for the exact "
            f"search: any dense chain, up to {MAX_EXACT_LINKS} links with elementwise ones)",
            markup=False,
        )
    out.print(
        f"\n{mode} plan ({selected.mode.value} mode): {format_count(selected.mults)} mults, "
        f"{format_count(selected.flops)} FLOPs",
        markup=False,
    )
    out.print(_how_found(selected), markup=False)
    out.print(f"J = {short_expression(selected, width=max(width - 4, 20))}", markup=False)
    out.print(tree_renderable(selected, width=width))
    if steps:
        out.print(schedule_table(selected, chosen, width=width))
    if save is not None:
        out.print(f"saved plan to {save}", markup=False)


def _how_found(p: Plan) -> str:
    """Which algorithm ran and what is proven about the plan's cost."""
    if p.lower_bound is None:
        return f"found by: {p.method} (no search; nothing proven about the optimum)"
    if p.lower_bound == p.mults:
        return f"found by: {p.method}; proven optimal"
    return (
        f"found by: {p.method}; proven lower bound on the optimum "
        f"{format_count(p.lower_bound)} mults: this plan is at most {p.gap:.2%} above optimal"
    )


def register(app: typer.Typer) -> None:
    """Add ``plan`` to ``app``."""
    app.command("plan", help=plan_command.__doc__ + "\n" + _EXAMPLES)(plan_command)
