"""Matrix-free flags of ``chainorder plan`` and ``chainorder validate`` (issue 10).

``plan --dims SPEC --matrix-free`` / ``plan --chain FILE`` and ``validate --dims SPEC
--matrix-free`` call into this module, so the shared command modules only dispatch:

- :func:`matfree_plan_output`: the links, the plan's nodes (dense product / tangent sweep with
  its seed columns / adjoint sweep with its seed rows), the mode label, predicted mults,
  FLOPs and peak memory in both settings (tapes included), the comparison with pure tangent,
  pure adjoint and the given-matrix plan, and with ``steps`` the event schedule.
- :func:`matfree_validation_output`: predicted against measured time and peak per plan
  (:func:`chainorder.matfree.measure.measure_matrix_free`).

Every number keeps its digits: tables are printed at their natural width (a narrow terminal
wraps lines rather than cutting a number).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.table import Table

from chainorder.atomic import write_atomic
from chainorder.errors import SpecError
from chainorder.matfree.chainfile import read_chain_file
from chainorder.matfree.links import LinkCost
from chainorder.matfree.measure import MatrixFreeReport, measure_matrix_free
from chainorder.matfree.memory import predict_memory
from chainorder.matfree.plan import MatrixFreePlan
from chainorder.matfree.plan_io import lower_bound_line, plan_expression, plan_to_dict
from chainorder.matfree.planning import plan_matrix_free
from chainorder.matfree.schedule import schedule
from chainorder.matfree.spec import parse_matrix_free
from chainorder.memory import as_setting
from chainorder.report.matfree_tables import (
    _table,
    baseline_plans,
    elide_text,
    links_table,
    matfree_comparison_table,
    matfree_nodes_table,
    render_text,
    speedup,
)
from chainorder.units import format_bytes, format_count

__all__ = [
    "MODES",
    "load_links",
    "matfree_plan_output",
    "matfree_validation_output",
    "steps_table",
    "validation_table",
]

#: ``--mode`` words accepted with ``--matrix-free`` / ``--chain``: the plan selected for
#: ``--json``, ``--save`` and ``--steps``.
MODES = {
    "optimal": "optimum",
    "matrix-free": "optimum",
    "forward": "pure tangent",
    "reverse": "pure adjoint",
    "given-matrix": "given-matrix",
}


def load_links(dims: str | None, chain: Path | None) -> tuple[LinkCost, ...]:
    """The links of ``--dims SPEC`` (matrix-free spec words) or of ``--chain FILE``.

    Raises
    ------
    SpecError
        Both or neither given, a bad spec, or a bad file (naming the line).

    Examples
    --------
    >>> [link.label for link in load_links("1x8x8,conv2d(2,k=3),relu,10", None)]
    ['conv2d', 'relu', 'dense']

    Notes
    -----
    O(L) plus the file's size.
    """
    if dims is not None and chain is not None:
        raise SpecError("give either --dims or --chain, not both")
    if chain is not None:
        return read_chain_file(chain)
    if dims is None or not dims.strip():
        raise SpecError("missing --dims SPEC or --chain FILE (e.g. --dims 784,512,tanh,10)")
    if dims.startswith("@"):  # --dims @FILE: the spec read from a file
        from chainorder.cli.dims_file import read_dims_file

        dims = read_dims_file(dims[1:])
    return parse_matrix_free(dims)


def steps_table(plan: MatrixFreePlan, setting: str) -> Table:
    """The event schedule of ``plan`` in ``setting``, with the memory alive after each event.

    Examples
    --------
    >>> from chainorder.matfree import custom, plan_matrix_free
    >>> p = plan_matrix_free([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)])
    >>> steps_table(p, "given").row_count  # identity, 2 VJPs; identity, 1 JVP; the product
    6

    Notes
    -----
    O(number of events).
    """
    sched = schedule(plan, setting)
    itemsize = predict_memory(plan, setting).itemsize
    table = _table(f"schedule ({sched.setting.value} setting)")
    for name in ("#", "event", "node", "link", "alloc", "transient", "free", "alive after"):
        table.add_column(name, justify="left" if name == "event" else "right", no_wrap=True)
    live = peak = sched.base
    for k, ev in enumerate(sched.events, 1):
        live += ev.alloc
        peak = max(peak, live + ev.transient)
        live -= ev.free
        table.add_row(
            str(k),
            ev.kind,
            "" if ev.node < 0 else str(ev.node),
            "" if ev.link < 0 else str(ev.link),
            format_bytes(ev.alloc * itemsize) if ev.alloc else "",
            format_bytes(ev.transient * itemsize) if ev.transient else "",
            format_bytes(ev.free * itemsize) if ev.free else "",
            format_bytes(live * itemsize),
        )
    table.caption = (
        f"bytes of {plan.dtype}; inputs present throughout: {format_bytes(sched.base * itemsize)}; "
        f"peak {format_bytes(peak * itemsize)} (transient = a layer's temporaries during the event)"
    )
    return table


def _plan_json(plans: dict[str, MatrixFreePlan], selected: str) -> str:
    chosen = plans[selected]
    data: dict[str, Any] = plan_to_dict(chosen)
    data["selected"] = selected
    data["expression"] = plan_expression(chosen)
    data["peak_bytes"] = {s: predict_memory(chosen, s).peak_bytes for s in ("given", "streamed")}
    data["baselines"] = {
        name: {
            "mults": p.mults,
            "flops": p.flops,
            "mode": p.mode_label,
            "expression": plan_expression(p),
            "peak_bytes": {s: predict_memory(p, s).peak_bytes for s in ("given", "streamed")},
        }
        for name, p in plans.items()
    }
    return json.dumps(data, indent=2)


def matfree_plan_output(
    dims: str | None,
    chain: Path | None,
    *,
    mode: str = "optimal",
    dtype: str = "float64",
    setting: str = "given",
    steps: bool = False,
    as_json: bool = False,
    save: Path | None = None,
) -> str:
    """Plan a matrix-free chain; the text (or JSON) ``chainorder plan`` prints.

    Parameters
    ----------
    dims, chain
        A matrix-free spec, or a JSON chain file / GDJCPB instance (exactly one).
    mode : str
        The plan selected for ``--json``/``--save``/``--steps``: one of :data:`MODES`.
    setting : str
        Setting of the ``--steps`` schedule (both settings' peaks are always shown).
    save : Path, optional
        Write the selected plan's JSON here (atomic; readable by ``MatrixFreePlan.from_json``).

    Raises
    ------
    SpecError, ChainTooLongError, UnknownSettingError, DtypeError
        Bad input (one line; the CLI exits 2).

    Examples
    --------
    >>> text = matfree_plan_output("3,1,1,2", None)
    >>> "pure tangent" in text and "given-matrix" in text
    True

    Notes
    -----
    O(L³) planning plus the memory simulation of four plans.
    """
    if mode not in MODES:
        raise SpecError(
            f"--mode {mode!r} does not apply to a matrix-free chain; expected one of: "
            f"{', '.join(MODES)}"
        )
    chosen_setting = as_setting(setting).value
    links = load_links(dims, chain)
    optimum = plan_matrix_free(links, dtype)
    plans = baseline_plans(optimum)
    selected = MODES[mode]
    plan = plans[selected]
    if save is not None:
        write_atomic(save, plan.to_json() + "\n")
    if as_json:
        return _plan_json(plans, selected) + "\n"
    peaks = {s: predict_memory(plan, s).peak_bytes for s in ("given", "streamed")}
    parts = [
        render_text(links_table(links)),
        "\n" + render_text(matfree_nodes_table(plan, title=f"{selected} plan: nodes")),
        "\n",
        f"{selected} plan ({plan.mode_label}): {format_count(plan.mults)} mults, "
        f"{format_count(plan.flops)} FLOPs; peak memory {format_bytes(peaks['given'])} given, "
        f"{format_bytes(peaks['streamed'])} streamed ({plan.dtype}, tapes included)\n",
        f"J = {elide_text(plan_expression(plan))}\n",
        "" if plan.lower_bound is None else lower_bound_line(plan) + "\n",
        "\n" + render_text(matfree_comparison_table(plans)),
        "optimum against: "
        + ", ".join(
            f"{name} {speedup(p.mults, optimum.mults)}"
            for name, p in plans.items()
            if name != "optimum"
        )
        + "\n",
    ]
    if steps:
        parts.append("\n" + render_text(steps_table(plan, chosen_setting)))
    if save is not None:
        parts.append(f"saved plan to {save}\n")
    return "".join(parts)


def validation_table(report: MatrixFreeReport) -> Table:
    """Predicted against measured, one row per plan.

    Notes
    -----
    O(number of plans).
    """
    table = _table(f"matrix-free plans run ({report.setting.value} setting)")
    for name in (
        "plan",
        "mode",
        "predicted mults",
        "measured time",
        "GFLOP/s",
        "predicted peak",
        "measured peak",
        "measured / predicted",
        "max difference",
    ):
        table.add_column(
            name, justify="left" if name in ("plan", "mode") else "right", no_wrap=True
        )
    for row in report.rows:
        table.add_row(
            row.name,
            row.mode,
            format_count(row.mults),
            f"{row.seconds * 1e3:.3f} ms",
            f"{row.gflops:.2f}",
            format_bytes(row.predicted_bytes),
            format_bytes(row.measured_bytes),
            f"{row.memory_ratio:.3f}",
            f"{row.difference:.1e}",
        )
    return table


def matfree_validation_output(
    dims: str | None,
    *,
    setting: str = "given",
    repeat: int = 5,
    seed: int = 0,
    dtype: str = "float64",
    all_plans: bool = False,
    max_memory: str | None = None,
    as_json: bool = False,
    unsupported: dict[str, bool] | None = None,
) -> tuple[str, bool]:
    """Run the matrix-free plans of ``dims`` on real layers: ``(text or JSON, ok)``.

    ``unsupported`` maps the flags of the given-array validation that do not apply here to
    whether they were used (a :class:`SpecError` names them). ``ok`` is False when a
    Jacobian disagrees with the explicit product beyond the dtype's
    tolerance (the CLI exits 1); a peak off its prediction by more than 10 % is reported.

    Examples
    --------
    >>> text, ok = matfree_validation_output("6,4,tanh,3", repeat=1)
    >>> ok, "pure adjoint" in text
    (True, True)

    Notes
    -----
    Time of running every plan ``repeat + 1`` times (``all_plans``: every plan of the DP's family).
    """
    used = [flag for flag, on in (unsupported or {}).items() if on]
    if used:
        raise SpecError(
            f"{', '.join(used)} does not apply with --matrix-free (NumPy layers, every plan "
            "checked against the explicit product within the dtype's tolerance; use --all-plans)"
        )
    links = load_links(dims, None)
    report = measure_matrix_free(
        links,
        setting=setting,
        every_plan=all_plans,
        repeat=repeat,
        seed=seed,
        dtype=dtype,
        max_memory=max_memory,
    )
    agree = report.max_difference <= report.tolerance
    if as_json:
        return json.dumps(report.to_dict(), indent=2) + "\n", agree
    lines = [render_text(links_table(links)), "\n" + render_text(validation_table(report))]
    summary = (
        f"worst measured / predicted peak {report.worst_memory_ratio:.3f} "
        f"({'within' if report.memory_ok else 'NOT within'} 10 %); max difference from the "
        f"explicit product {report.max_difference:.1e}"
    )
    if all_plans or len(report.rows) > 2:
        summary += f"; Spearman(predicted mults, measured time) {report.spearman:.3f}"
    lines.append(summary + "\n")
    lines.append(
        f"every Jacobian agrees with the {report.reference} within {report.tolerance:.1e}\n"
        if agree
        else f"a Jacobian DISAGREES with the {report.reference} beyond {report.tolerance:.1e}\n"
    )
    return "".join(lines), agree
