"""Rich tables of matrix-free plans: every number in full, at any console width."""

from __future__ import annotations

import io

from rich.console import Console

from chainorder.matfree import custom, parse_matrix_free, plan_matrix_free
from chainorder.report.matfree_tables import (
    baseline_plans,
    links_table,
    matfree_comparison_table,
    matfree_nodes_table,
    print_table,
    render_text,
    speedup,
)
from chainorder.units import format_count

HOURGLASS = "4096,64,tanh,4096,tanh,64,tanh,4096"


def _printed(table, width: int) -> str:
    buffer = io.StringIO()
    print_table(table, Console(file=buffer, width=width, color_system=None))
    return buffer.getvalue()


def test_numbers_never_cut_at_80_columns() -> None:
    plan = plan_matrix_free(HOURGLASS)
    plans = baseline_plans(plan)
    text = _printed(matfree_comparison_table(plans), 80)
    for p in plans.values():
        assert format_count(p.mults) in text
        assert format_count(p.flops) in text
    assert "…" not in text
    nodes = _printed(matfree_nodes_table(plan), 80)
    for node in plan.nodes:
        assert format_count(node.mults) in nodes and format_count(node.flops) in nodes
    assert "…" not in nodes


def test_comparison_rows_and_speedups() -> None:
    plan = plan_matrix_free([custom(3, 3, 29), custom(1, 3, 14), custom(2, 1, 7)])
    text = render_text(matfree_comparison_table(baseline_plans(plan)))
    rows = {}
    for line in text.splitlines():
        for name in ("pure tangent", "pure adjoint", "given-matrix"):
            if line.strip().startswith(name):
                rows[name] = line
    assert "2.68×" in rows["pure tangent"] and " 150 " in rows["pure tangent"]
    assert "1.79×" in rows["pure adjoint"] and " 100 " in rows["pure adjoint"]
    assert "2.20×" in rows["given-matrix"] and " 123 " in rows["given-matrix"]
    assert speedup(7, 0) == "∞" and speedup(0, 0) == "1.00×"


def test_links_table_shows_conv_geometry() -> None:
    links = parse_matrix_free("1x28x28,conv2d(16,k=3,stride=2),relu,10")
    text = render_text(links_table(links))
    assert "1×28×28→16×13×13, k 3×3, s 2×2, p 0×0" in text
    assert format_count(links[0].tangent) in text
