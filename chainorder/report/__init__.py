"""Rendering only: every table, tree, JSON document and plot chainorder prints or writes.

One module per kind of output: ``units`` (numbers with their units), ``plan_tables``,
``validate_tables``, ``graph_tables`` (traced graphs and the trace JSON) and
``bench_tables``. Nothing here plans, executes or measures; it renders what it is given.
"""

__all__: list[str] = []
