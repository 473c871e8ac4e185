"""``chainorder trace FILE.py:FUNC --arg NAME=SHAPE|VALUE ...``: trace, plan, check, draw."""

from __future__ import annotations

import importlib.util
import inspect
import json
import math
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from chainorder.atomic import write_atomic
from chainorder.cli.common import check_output_path, err_console, out_console, user_errors
from chainorder.errors import SpecError, TraceError
from chainorder.memory_guard import check_memory, memory_errors

__all__ = ["call_args", "load_function", "parse_arg", "register"]

_SHAPE = re.compile(r"^\d+(x\d+)*$")
_HELP_ARG = (
    "NAME=SHAPE or NAME=VALUE, once per argument. SHAPE like 50x2 or 3 (filled with seeded "
    "standard normal values); VALUE a float like 1.0 or -2 or a list like [0.1,0.12]."
)


def parse_arg(
    text: str, rng: np.random.Generator, max_memory: int | str | None = None
) -> tuple[str, np.ndarray | float]:
    """Parse one ``--arg``: ``x=50x2`` → seeded random array, ``x=1.0`` → 1.0.

    A bare non-negative integer is a shape (``n=3`` → a vector of 3); write ``3.0`` for the
    number. Lists ``[a,b,...]`` give an explicit 1-D array. Values must be finite. A shape's
    bytes (float64, exact integers) are checked against ``max_memory`` (default: a fraction
    of the available memory, see :mod:`chainorder.memory_guard`) before anything is allocated.

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
        nbytes = math.prod(shape) * np.dtype(np.float64).itemsize  # exact: no int64 overflow
        check_memory(nbytes, f"--arg {name}={spec} (float64)", max_memory)
        with memory_errors(f"--arg {name}={spec}"):
            return name, rng.standard_normal(shape)
    if spec.startswith("[") and spec.endswith("]"):
        fields = spec[1:-1].split(",")
        if not spec[1:-1].strip():
            raise SpecError(f"bad --arg {text!r}: empty list")
        for pos, field in enumerate(fields, 1):
            if not field.strip():
                raise SpecError(f"bad --arg {text!r}: list entry {pos} is empty; expected a number")
        try:
            values = [float(p) for p in fields]
        except ValueError:
            raise SpecError(f"bad --arg {text!r}: {hint}") from None
        if not all(math.isfinite(v) for v in values):
            raise SpecError(f"bad --arg {text!r}: values must be finite (no nan or inf)")
        return name, np.array(values)
    try:
        value = float(spec)
    except ValueError:
        raise SpecError(f"bad --arg {text!r}: {hint}") from None
    if not math.isfinite(value):
        raise SpecError(f"bad --arg {text!r}: the value must be finite (no nan or inf)")
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
    except SystemExit as exc:
        raise TraceError(
            f"importing {path_text} raised SystemExit({exc.code!r}); the module must define "
            f"{func} without exiting (guard scripts with if __name__ == '__main__')"
        ) from None
    except Exception as exc:  # user code: report, never a traceback
        raise TraceError(f"importing {path_text} failed: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.pop(0)
    fn = getattr(module, func, None)
    if not callable(fn):
        raise SpecError(f"{path_text} has no function {func!r}")
    return fn


def call_args(
    fn: Any, args: list[str], seed: int, max_memory: int | str | None = None
) -> tuple[list[Any], list[int]]:
    """The positional arguments of ``fn`` from ``--arg`` texts, and the positions given.

    Parameters without an ``--arg`` take their default (and are not differentiated); a
    parameter without a default must be given. Keyword-only and ``*args``/``**kwargs``
    parameters cannot be set by ``--arg``.

    Examples
    --------
    >>> def f(x=1.0, y=2.0, z=3.0):
    ...     return x * y * z
    >>> call_args(f, ["y=1.5"], seed=0)
    ([1.0, 1.5], [1])

    Notes
    -----
    O(total size of the arguments).
    """
    if seed < 0:
        raise SpecError(f"--seed must be a non-negative integer, got {seed}")
    rng = np.random.default_rng(seed)
    given: dict[str, Any] = {}
    for text in args:
        name, value = parse_arg(text, rng, max_memory)
        if name in given:
            raise SpecError(f"--arg {name} given twice")
        given[name] = value
    params = inspect.signature(fn).parameters
    positional = [
        n for n, p in params.items() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    settable = ", ".join(positional) or "none"
    for name in given:
        if name not in params:
            raise SpecError(
                f"{fn.__name__} has no parameter {name!r}; --arg sets one of: {settable}"
            )
        if name not in positional:
            kind = {"KEYWORD_ONLY": "keyword-only", "VAR_POSITIONAL": "*args",
                    "VAR_KEYWORD": "**kwargs"}[params[name].kind.name]  # fmt: skip
            raise SpecError(
                f"{fn.__name__}'s parameter {name!r} is {kind}, which --arg cannot set; "
                f"--arg sets one of: {settable}"
            )
    out: list[Any] = []
    wrt: list[int] = []
    for pname in positional:
        p = params[pname]
        if pname in given:
            wrt.append(len(out))
            out.append(given[pname])
        elif p.default is not p.empty:
            out.append(p.default)
        else:
            raise SpecError(
                f"missing --arg {pname}=SHAPE|VALUE for {fn.__name__}({', '.join(params)})"
            )
    while len(out) > (wrt[-1] + 1 if wrt else 0):  # trailing defaults: leave to Python
        out.pop()
    return out, wrt


def _trace(target: str, fn: Any, call: list[Any], wrt: list[int]) -> Any:
    from chainorder.graph.trace import trace

    if not wrt:
        raise SpecError(
            f"nothing to differentiate: give --arg NAME=SHAPE|VALUE for a parameter of {target}"
        )
    try:
        return trace(fn, *call, wrt=wrt)
    except (TraceError, SpecError):
        raise
    except SystemExit as exc:
        raise TraceError(
            f"calling {target} raised SystemExit({exc.code!r}); a traced function must "
            "return its outputs, not exit"
        ) from None
    except MemoryError:
        raise
    except Exception as exc:  # user code raising something else
        raise TraceError(f"calling {target} failed: {type(exc).__name__}: {exc}") from None


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
        max_memory: Annotated[
            str | None,
            typer.Option(
                "--max-memory",
                help="Refuse arguments or Jacobians needing more than this (e.g. 2GiB); "
                "default: half of the available memory.",
            ),
        ] = None,
        search: Annotated[
            str,
            typer.Option(
                "--search",
                help="Elimination-order search: auto (exact when small), greedy, or anneal "
                "(simulated annealing within --time-budget).",
            ),
        ] = "auto",
        time_budget: Annotated[
            float | None,
            typer.Option("--time-budget", help="Seconds the anneal search may take (10)."),
        ] = None,
        no_measure: Annotated[
            bool,
            typer.Option(
                "--no-measure",
                help="Skip running the chosen mode and both sweeps for measured time and peak "
                "memory.",
            ),
        ] = False,
    ) -> None:
        """Trace a NumPy function: its value and gradient or Jacobian, the cost of forward /
        reverse / elimination orders, predicted next to measured time and peak memory of the
        chosen order and both sweeps, a numerical check, a drawing.

        Example: chainorder trace examples/kernel_exercise.py:f --arg ell=[0.1,0.12]
        --arg X=50x2 --dot kernel.dot
        """
        from chainorder.engine.measured import measure_modes
        from chainorder.graph.planning import plan_graph
        from chainorder.graph.render import png_bytes, to_dot
        from chainorder.graph.validate import graph_jacobian, validate_graph
        from chainorder.report.graph_tables import (
            check_table,
            cost_table,
            measured_table,
            nodes_table,
            result_lines,
        )
        from chainorder.report.trace_json import trace_document

        with user_errors():
            if seed < 0:
                raise SpecError(f"--seed must be a non-negative integer, got {seed}")
            if max_memory is not None:
                from chainorder.units import parse_bytes

                parse_bytes(max_memory)
            for option, path in (("--dot", dot), ("--png", png)):
                if path is not None:
                    check_output_path(option, path)
            fn = load_function(target)
            call, wrt = call_args(fn, arg or [], seed, max_memory)
            with memory_errors(f"tracing and planning {target}"):
                graph = _trace(target, fn, call, wrt)
                p = plan_graph(graph, seed=seed, search=search, time_budget=time_budget)
            jac_bytes = graph.n_out * graph.n_in * np.dtype(np.float64).itemsize
            peak = max(p.chosen.peak_bytes, p.forward.peak_bytes, p.reverse.peak_bytes)
            check_memory(
                peak + 2 * jac_bytes, f"the Jacobian of {target} ({graph.n_out} x {graph.n_in})",
                max_memory,
            )  # fmt: skip
            report = None
            with memory_errors(f"the Jacobian of {target}"), np.errstate(all="ignore"):
                if no_check:
                    how = str(p.method) if p.method.is_sweep else p.chosen.order
                    jacobian = graph_jacobian(graph, how, seed, lin=p.lin)
                else:
                    report = validate_graph(p)
                    jacobian = report.jacobian
                measured = None if no_measure else measure_modes(p)
            dot_text = to_dot(graph, p.chosen.order, title=target)
            if dot is not None:
                write_atomic(dot, dot_text)
            if png is not None:
                write_atomic(png, png_bytes(dot_text, graph))
        if as_json:
            out_console.print_json(
                json.dumps(trace_document(target, p, jacobian, report, measured))
            )
        else:
            for line in result_lines(graph, jacobian):
                out_console.print(line, markup=False, soft_wrap=True)
            out_console.print(nodes_table(graph))
            out_console.print(cost_table(p))
            chosen = p.chosen
            how = " → ".join(chosen.order) if chosen.order else f"{p.method} sweeps"
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
            if measured is not None:
                out_console.print(measured_table(measured))
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
