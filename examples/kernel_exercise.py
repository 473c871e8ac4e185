"""Lecture 3, question 2: the kernel exercise f(ℓ, X) = yᵀ (K₁ + K₂)⁻¹ y.

    K_a = exp(Λ_a),  Λ_a = −D_a / (2 ℓ_a²),  D_a = (X[:, None, a] − X[None, :, a])²,

with ℓ ∈ ℝ², X ∈ ℝ^{N×2}. ``y`` is a fixed vector (a constant of the graph). The script
answers parts a–c: the shape of every intermediate, the computational graph (written as
Graphviz DOT), and forward versus reverse mode — which derivative each step carries, its
cost in scalar multiplications (mults) and its memory — then checks the gradient by
central finite differences.

Run it::

    python examples/kernel_exercise.py            # N = 50
    chainorder trace examples/kernel_exercise.py:f --arg ell=[0.1,0.12] --arg X=50x2 --seed 0

"""

from __future__ import annotations

import sys

import numpy as np


def f(ell, X):
    """yᵀ (K₁ + K₂)⁻¹ y as in the notes (the inverse written out, as eq. 27 does)."""
    y = np.linspace(-1.0, 1.0, X.shape[0])
    K = 0.0
    for a in range(2):
        D = (X[:, None, a] - X[None, :, a]) ** 2
        Lam = -D / (2 * ell[a] ** 2)
        K = K + np.exp(Lam)
    return y @ np.linalg.inv(K) @ y


def example_args(n: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """ℓ = (0.1, 0.12) (so that K is well conditioned) and X with standard normal entries, N × 2."""
    rng = np.random.default_rng(seed)
    return np.array([0.1, 0.12]), rng.standard_normal((n, 2))


def main(n: int = 50) -> None:
    from rich.console import Console

    from chainorder.gradcheck import check_grads
    from chainorder.graph import plan_graph, trace, validate_graph
    from chainorder.graph.render import to_dot
    from chainorder.report.graph_tables import cost_table, nodes_table, steps_table

    console = Console()
    ell, X = example_args(n)
    graph = trace(f, ell, X)
    console.print(f"[bold]a.[/] shapes, N = {n}")
    console.print(nodes_table(graph))
    console.print("[bold]b.[/] the computational graph (Graphviz DOT; render with dot -Tpng):")
    console.print(f"{len(graph.nx)} nodes, {graph.nx.number_of_edges()} edges; "
                  f"{len(to_dot(graph).splitlines())} lines of DOT")
    p = plan_graph(graph)
    console.print("[bold]c.[/] forward versus reverse mode (mults = scalar multiplications)")
    console.print(steps_table(p.forward, graph))
    console.print(steps_table(p.reverse, graph))
    console.print(cost_table(p))
    check_grads(f, ell, X)
    report = validate_graph(p)
    console.print(f"gradient check by finite differences: {'ok' if report.ok else 'FAILED'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
