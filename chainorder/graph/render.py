"""Draw a traced graph: Graphviz DOT text always; PNG through Graphviz or matplotlib.

Both renderers are optional and imported lazily: the ``dot`` program (or the ``graphviz``
Python package) first, then matplotlib with networkx's layout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from chainorder.errors import ChainorderError
from chainorder.graph.trace import TracedGraph

__all__ = ["RenderError", "png_bytes", "to_dot"]


class RenderError(ChainorderError, ValueError):
    """No PNG renderer is installed, or the renderer failed."""


def _quote(text: str) -> str:
    """A DOT string; ``\\n`` sequences in ``text`` stay line breaks."""
    return '"' + text.replace('"', '\\"') + '"'


def to_dot(graph: TracedGraph, order: Sequence[str] | None = None, title: str | None = None) -> str:
    """Graphviz DOT text of ``graph``.

    Inputs are ellipses, ops boxes, outputs double boxes, array constants grey notes
    (scalar constants are left out); a differentiated edge is labelled with its local
    partial's kind, a constant's edge is dashed. With ``order``, each eliminated vertex
    shows its position in the elimination order.

    Examples
    --------
    >>> import numpy as np
    >>> from chainorder.graph import trace
    >>> text = to_dot(trace(lambda x: np.exp(x).sum(), np.ones(3)))
    >>> text.splitlines()[0], '"x" -> "v1" [label="diagonal"];' in text
    ('digraph traced {', True)

    Notes
    -----
    O(V + E).
    """
    rank = {v: i for i, v in enumerate(order or ())}
    lines = ["digraph traced {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    lines.append('  edge [fontname="Helvetica", fontsize=8];')
    if title:
        lines.append(f"  label={_quote(title)}; labelloc=t;")
    g = graph.nx
    shown = set()
    for name in graph.order:
        d = g.nodes[name]
        shape = "x".join(map(str, d["shape"])) or "scalar"
        if d["kind"] == "constant":
            if not d["shape"]:
                continue
            attrs = 'shape=note, style=filled, fillcolor="#eeeeee", color="#999999"'
            label = f"{d['label']}\\nconstant\\n{shape}"
        elif d["kind"] == "input":
            attrs = 'shape=ellipse, style="bold,filled", fillcolor="#dbe9ff"'
            label = f"{name}\\ninput\\n{shape}"
        else:
            attrs = "shape=box"
            if d["output"]:
                attrs = 'shape=box, peripheries=2, style=filled, fillcolor="#ffe9c9"'
            elif not d["differentiable"]:
                attrs = 'shape=box, color="#999999"'
            label = f"{name}\\n{d['op']}\\n{shape}"
            if name in rank:
                label += f"\\neliminated #{rank[name] + 1}"
        shown.add(name)
        lines.append(f"  {_quote(name)} [label={_quote(label)}, {attrs}];")
    for u, v, data in g.edges(data=True):
        if u not in shown or v not in shown:
            continue
        if data["differentiable"] and data["structure"] is not None:
            lines.append(f"  {_quote(u)} -> {_quote(v)} [label={_quote(data['structure'].kind)}];")
        else:
            lines.append(f'  {_quote(u)} -> {_quote(v)} [style=dashed, color="#999999"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def png_bytes(dot_text: str, graph: TracedGraph) -> bytes:
    """Render to PNG with Graphviz if installed, else matplotlib; :class:`RenderError` if neither.

    Notes
    -----
    Graphviz: one ``dot -Tpng`` call. matplotlib: a spring/layered layout of V nodes.
    """
    exe = shutil.which("dot")
    if exe:
        proc = subprocess.run(
            [exe, "-Tpng"], input=dot_text.encode(), capture_output=True, check=False
        )
        if proc.returncode != 0:
            raise RenderError(
                f"graphviz dot failed: {proc.stderr.decode(errors='replace').strip()}"
            )
        return proc.stdout
    try:
        import graphviz  # type: ignore[import-not-found]

        return graphviz.Source(dot_text).pipe(format="png")
    except ImportError:
        pass
    except Exception as exc:  # the Python package without the dot program
        if not _has_matplotlib():
            raise RenderError(f"graphviz could not render PNG: {exc}") from None
    if _has_matplotlib():
        return _matplotlib_png(graph)
    raise RenderError(
        "PNG output needs Graphviz (the 'dot' program) or matplotlib; install one "
        "(e.g. pip install matplotlib) or use --dot FILE"
    )


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


def _matplotlib_png(graph: TracedGraph) -> bytes:
    import io

    import matplotlib  # type: ignore[import-not-found]

    if os.environ.get("MPLBACKEND") is None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found]
    import networkx as nx

    g = graph.nx.subgraph(
        [
            v
            for v in graph.nx
            if graph.nx.nodes[v]["shape"] or graph.nx.nodes[v]["kind"] != "constant"
        ]
    )
    for layer, nodes in enumerate(nx.topological_generations(g)):
        for v in nodes:
            g.nodes[v]["layer"] = layer
    pos = nx.multipartite_layout(g, subset_key="layer")
    fig, ax = plt.subplots(figsize=(max(6, len(g) * 0.5), 5))
    labels = {
        v: f"{v}\n{g.nodes[v]['op']}\n{'x'.join(map(str, g.nodes[v]['shape'])) or 'scalar'}"
        for v in g
    }
    nx.draw_networkx(g, pos, ax=ax, labels=labels, node_color="#dbe9ff", node_size=900, font_size=6)
    ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
