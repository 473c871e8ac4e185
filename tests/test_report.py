"""Human formatting keeps units and exact figures."""

from rich.console import Console

from chainorder.plan import compare_modes, plan
from chainorder.report.plan_tables import (
    comparison_table,
    format_ratio,
    schedule_table,
    tree_renderable,
)
from chainorder.units import format_bytes, format_count


def render(obj):
    console = Console(width=140, record=True)
    console.print(obj)
    return console.export_text()


def test_formats():
    assert format_count(15125) == "15,125"
    assert format_bytes(1023) == "1023 B" and format_bytes(1024) == "1 KiB"
    assert format_bytes(3 * 2**30) == "3 GiB"
    assert format_ratio(float("inf")) == "∞"


def test_tables_and_tree():
    plans = compare_modes("30,35,15,5,10,20,25")
    text = render(comparison_table(plans, "streamed"))
    assert "15,125" in text and "40,500" in text and "47,500" in text and "streamed" in text
    tree = render(tree_renderable(plans["optimal"]))
    assert tree.count("J") >= 6 and "mults" in tree
    steps = render(schedule_table(plans["optimal"]))
    assert "J3·J2" in steps


def test_huge_trees_are_not_drawn():
    assert "not drawn" in render(tree_renderable(plan([2] * 100, "forward")))
