"""``chainorder plan``: compare optimal, forward and reverse for a chain; show, save, JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chainorder.atomic import write_atomic
from chainorder.chain import Chain
from chainorder.cli.common import (
    DimsOption,
    check_output_path,
    fail,
    out_console,
    require_dims,
    user_errors,
)
from chainorder.dtypes import as_dtype
from chainorder.errors import ChainTooLongError
from chainorder.memory import as_setting
from chainorder.plan import Plan, json_text, plan
from chainorder.report.plan_tables import (
    chain_summary,
    comparison_table,
    format_count,
    schedule_table,
    short_expression,
    tree_renderable,
)
from chainorder.solvers import MAX_EXACT_LINKS, available_solvers

__all__ = ["plan_command", "register"]


_EXAMPLES = """
Examples:

  chainorder plan --dims 784,512,512,10

  chainorder plan --dims "784 512 tanh 512 tanh 10" --setting streamed --steps

  chainorder plan --dims 4096,64,4096,64,4096 --json

  chainorder plan --dims 30,35,15,5,10,20,25 --mode reverse --dtype float32 --save plan.json
"""


def _plans(chain: Chain, mode: str, dtype: str) -> dict[str, Plan]:
    names = ["optimal", "forward", "reverse"]
    if mode not in names:
        names.append(mode)
    if chain.n_links > MAX_EXACT_LINKS and mode != "optimal":
        names.remove("optimal")  # the exact DP is refused; pure modes need no search
    return {name: plan(chain, name, dtype) for name in names}


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
) -> None:
    """Find the optimal bracketing of J_L···J_1 and compare it with forward and reverse mode."""
    spec = require_dims(dims)
    if save is not None:
        check_output_path("--save", save)
    with user_errors():
        chosen = as_setting(setting)
        chain = Chain.parse(spec)
        dt = as_dtype(dtype)
        if mode not in available_solvers():
            plan(chain, mode, dt)  # raises UnknownSolverError with the valid names
        try:
            plans = _plans(chain, mode, dt.name)
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
    out.print(chain_summary(chain), markup=False)
    out.print(comparison_table(plans, chosen))
    if "optimal" not in plans:
        out.print(
            f"optimal: not computed; the exact solver handles at most {MAX_EXACT_LINKS} links",
            markup=False,
        )
    out.print(
        f"\n{mode} plan ({selected.mode.value} mode): {format_count(selected.mults)} mults, "
        f"{format_count(selected.flops)} FLOPs",
        markup=False,
    )
    out.print(f"J = {short_expression(selected)}", markup=False)
    out.print(tree_renderable(selected))
    if steps:
        out.print(schedule_table(selected, chosen))
    if save is not None:
        out.print(f"saved plan to {save}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``plan`` to ``app``."""
    app.command("plan", help=plan_command.__doc__ + "\n" + _EXAMPLES)(plan_command)
