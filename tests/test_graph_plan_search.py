"""plan_graph's search option: simulated annealing as the "best found" row."""

import numpy as np
import pytest

from chainorder.errors import TraceError
from chainorder.graph import plan_graph, trace


def _graph():
    rng = np.random.default_rng(3)
    A, B = rng.standard_normal((5, 4)), rng.standard_normal((3, 5))

    def f(x):
        h = np.tanh(A @ np.sin(x))
        return B @ (h * np.exp(h))

    return trace(f, rng.standard_normal(4))


def test_annealing_row_is_never_worse_than_any_structured_order_nor_the_exact_optimum() -> None:
    g = _graph()
    exact = plan_graph(g)  # few intermediates: the "auto" search is exact
    annealed = plan_graph(g, search="anneal", time_budget=0.5, seed=1)
    best = annealed.row("best found (search)")
    structured = [r.mults for r in annealed.rows if r.model == "elimination" and r is not best]
    assert best.mults <= min(structured)
    assert best.mults == exact.row("best found (search)").mults
    assert best.note.startswith("simulated annealing (seed 1, 0.5 s budget)")


def test_unknown_search_method_is_one_clear_error() -> None:
    with pytest.raises(TraceError, match="expected auto, greedy or anneal"):
        plan_graph(_graph(), search="bogus")


def test_trace_cli_search_option() -> None:
    from typer.testing import CliRunner

    from chainorder.cli import app

    base = ["trace", "examples/kernel_exercise.py:f", "--arg", "ell=[0.1,0.12]", "--arg", "X=6x2"]
    ok = CliRunner().invoke(app, [*base, "--search", "anneal", "--time-budget", "0.3", "--json"])
    assert ok.exit_code == 0, ok.output
    assert "simulated annealing" in ok.output
    bad = CliRunner().invoke(app, [*base, "--search", "nope"])
    assert bad.exit_code == 2
