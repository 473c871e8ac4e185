"""``chainorder trace FILE.py:FUNC --arg NAME=SHAPE|VALUE ...``: trace, plan, check, draw."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from chainorder.atomic import write_atomic
from chainorder.cli.common import err_console, out_console, user_errors
from chainorder.errors import SpecError, TraceError

__all__ = ["load_function", "parse_arg", "register"]

_SHAPE = re.compile(r"^\d+(x\d+)*$")
_HELP_ARG = (
    "NAME=SHAPE or NAME=VALUE, once per argument. SHAPE like 50x2 or 3 (filled with seeded "
    "standard normal values); VALUE a float like 1.0 or -2 or a list like [0.1,0.12]."
)


def parse_arg(text: str, rng: np.random.Generator) -> tuple[str, np.ndarray | float]:
    """Parse one ``--arg``: ``x=50x2`` → seeded random array, ``x=1.0`` → 1.0.

    A bare non-negative integer is a shape (``n=3`` → a vector of 3); write ``3.0`` for the
    number. Lists ``[a,b,...]`` give an explicit 1-D array.

    Examples
    --------
    >>> name, value = parse_arg("X=4x2", np.random.default_rng(0))
    >>> name, value.shape
    ('X', (4, 2))
    >>> parse_arg("x=1.5", np.random.default_rng(0))
    ('x', 1.5)

    Notes
    -----
    O(size of the array).
    """
    name, sep, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    hint = "expected NAME=SHAPE (e.g. X=50x2, v=3) or NAME=VALUE (e.g. x=1.0, ell=[0.1,0.12])"
    if not sep or not name.isidentifier() or not spec:
        raise SpecError(f"bad --arg {text!r}: {hint}")
    if _SHAPE.match(spec):
        shape = tuple(int(p) for p in spec.split("x"))
        if any(d == 0 for d in shape):
            raise SpecError(f"bad --arg {text!r}: dimensions must be positive")
        if int(np.prod(shape)) > 10_000_000:
            raise SpecError(f"bad --arg {text!r}: more than 10,000,000 elements")
        return name, rng.standard_normal(shape)
    if spec.startswith("[") and spec.endswith("]"):
        try:
            values = [float(p) for p in spec[1:-1].split(",") if p.strip()]
        except ValueError:
            raise SpecError(f"bad --arg {text!r}: {hint}") from None
        if not values:
            raise SpecError(f"bad --arg {text!r}: empty list")
        return name, np.array(values)
    try:
        value = float(spec)
    except ValueError:
        raise SpecError(f"bad --arg {text!r}: {hint}") from None
    if not np.isfinite(value):
        raise SpecError(f"bad --arg {text!r}: the value must be finite")
    return name, value


def load_function(target: str) -> Any:
    """Import ``FUNC`` from ``FILE.py`` given as ``FILE.py:FUNC``; :class:`SpecError` if not."""
    path_text, sep, func = target.rpartition(":")
    if not sep or not func:
        raise SpecError(f"expected FILE.py:FUNC, got {target!r}")
    path = Path(path_text)
    if path.suffix != ".py" or not path.is_file():
        raise SpecError(f"no Python file {path_text!r}")
    spec = importlib.util.spec_from_file_location(f"_chainorder_trace_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.path.insert(0, str(path.parent.resolve()))
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except Exception as exc:  # user code: report, never a traceback
        raise TraceError(f"importing {path_text} failed: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.pop(0)
    fn = getattr(module, func, None)
    if not callable(fn):
        raise SpecError(f"{path_text} has no function {func!r}")
    return fn


def _call_args(fn: Any, args: list[str], seed: int) -> list[Any]:
    import inspect

    rng = np.random.default_rng(seed)
    given: dict[str, Any] = {}
    for text in args:
        name, value = parse_arg(text, rng)
        if name in given:
            raise SpecError(f"--arg {name} given twice")
        given[name] = value
    params = inspect.signature(fn).parameters
    out: list[Any] = []
    for pname, p in params.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.KEYWORD_ONLY):
            continue
        if pname in given:
            out.append(given.pop(pname))
        elif p.default is not p.empty:
            break
        else:
            raise SpecError(
                f"missing --arg {pname}=SHAPE|VALUE for {fn.__name__}({', '.join(params)})"
            )
    if given:
        raise SpecError(
            f"{fn.__name__} has no argument {', '.join(sorted(given))} "
            f"(arguments: {', '.join(params)})"
        )
    return out


def register(app: typer.Typer) -> None:
    """Add the ``trace`` command to ``app``."""

    @app.command("trace")
    def trace_command(
        target: Annotated[str, typer.Argument(help="FILE.py:FUNC, a NumPy function to trace.")],
        arg: Annotated[list[str] | None, typer.Option("--arg", help=_HELP_ARG)] = None,
        seed: Annotated[
            int, typer.Option(help="Seed of the random SHAPE arguments and the order search.")
        ] = 0,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print one JSON document instead of tables.")
        ] = False,
        dot: Annotated[
            Path | None, typer.Option("--dot", help="Write the graph as Graphviz DOT to this file.")
        ] = None,
        png: Annotated[
            Path | None,
            typer.Option("--png", help="Write the graph as PNG (needs graphviz or matplotlib)."),
        ] = None,
        no_check: Annotated[
            bool, typer.Option("--no-check", help="Skip the numerical check.")
        ] = False,
    ) -> None:
        """Trace a NumPy function, cost forward / reverse / elimination orders, check, draw.

        Example: chainorder trace examples/kernel_exercise.py:f --arg ell=[0.1,0.12]
        --arg X=50x2 --dot kernel.dot
        """
        from chainorder.graph.planning import plan_graph
        from chainorder.graph.render import png_bytes, to_dot
        from chainorder.graph.trace import trace
        from chainorder.graph.validate import validate_graph
        from chainorder.report.graph_tables import check_table, cost_table, nodes_table

        with user_errors():
            fn = load_function(target)
            call = _call_args(fn, arg or [], seed)
            try:
                graph = trace(fn, *call)
            except (TraceError, SpecError):
                raise
            except Exception as exc:  # user code raising something else
                raise TraceError(f"calling {target} failed: {type(exc).__name__}: {exc}") from None
            p = plan_graph(graph, seed=seed)
            report = None
            if not no_check:
                with np.errstate(all="ignore"):
                    order = (
                        p.chosen.order if p.chosen.order is not None else p.chosen.name.split()[0]
                    )
                    report = validate_graph(graph, order)
            dot_text = to_dot(graph, p.chosen.order, title=target)
            if dot is not None:
                write_atomic(dot, dot_text)
            if png is not None:
                write_atomic(png, png_bytes(dot_text, graph))
        if as_json:
            doc = {
                "target": target,
                "nodes": [
                    {
                        "name": n.name,
                        "kind": n.kind,
                        "op": n.op,
                        "shape": list(n.shape),
                        "size": n.size,
                        "output": n.output,
                    }
                    for n in graph.nodes()
                ],
                "plan": p.to_dict(),
                "check": None
                if report is None
                else {
                    "method": report.method,
                    "ok": report.ok,
                    "comparisons": [
                        {
                            "reference": c.reference,
                            "max_abs": c.max_abs,
                            "max_rel": c.max_rel,
                            "ok": c.ok,
                        }
                        for c in report.comparisons
                    ],
                },
            }
            out_console.print_json(json.dumps(doc))
        else:
            out_console.print(nodes_table(graph))
            out_console.print(cost_table(p))
            chosen = p.chosen
            how = " → ".join(chosen.order) if chosen.order else f"{chosen.name.split()[0]} sweeps"
            out_console.print(
                f"chosen: {chosen.name}, {chosen.mults:,} mults: {how}",
                markup=False,
                soft_wrap=True,
            )
            if p.reduction is not None:
                r = p.reduction
                out_console.print(
                    f"chain through cut vertices {', '.join(r.cuts)}: dims {list(r.dims)}, "
                    f"{r.expression} ({r.solver}), "
                    f"{r.chain_mults:,} + {r.block_mults:,} block mults",
                    markup=False, soft_wrap=True,
                )  # fmt: skip
            if report is not None:
                out_console.print(check_table(report))
            if dot is not None:
                out_console.print(f"graph written to {dot} (Graphviz DOT)", markup=False)
            if png is not None:
                out_console.print(f"graph drawn to {png}", markup=False)
        if report is not None and not report.ok:
            err_console.print(
                "error: the Jacobians disagree (see the numerical check)", markup=False
            )
            raise typer.Exit(1)
