"""The mutable state of a vertex elimination (adjacency, edge structures, numbers) and
the counting conventions; :mod:`~chainorder.graph.eliminate` drives it."""

from __future__ import annotations

from dataclasses import replace

from chainorder.errors import TraceError
from chainorder.graph.linearize import (
    LinearizedGraph,
    LocalJacobian,
    add_local,
    multiply_local,
)
from chainorder.graph.structure import EdgeStructure, add_structures, multiply_structures

__all__ = ["CONVENTIONS"]


#: Counting conventions of elimination costs (see the module docstring).
CONVENTIONS = ("chainorder", "graphax")


def _check_convention(convention: str) -> str:
    if convention not in CONVENTIONS:
        raise TraceError(
            f"unknown counting convention {convention!r}; expected one of {list(CONVENTIONS)}"
        )
    return convention


def _graphax_product(
    a: EdgeStructure, b: EdgeStructure, lazy: bool = False
) -> tuple[int, EdgeStructure]:
    """Mults and structure of ``a @ b`` as graphax prices them.

    Every scalar product counts, ±1 ones included, except that a ``select`` factor
    (slice, concatenate) is an index transform and costs nothing. Where it sits between
    two stored partials, graphax materialises the transformed partial, so the block is
    held dense and later products pay for its zeros; where it touches a graph input or
    output (``lazy``) it stays a pending transform and the other factor keeps its sparsity.
    Graphax's one remaining rule, a scalar multiple of the identity stored as one value
    (two such multiply in 1 mult), is not modelled (see examples/graphax/README.md).
    """
    if a.kind == "select" and b.kind == "select":
        return 0, multiply_structures(a, b)[1]
    if a.kind == "select" or b.kind == "select":
        if lazy:
            s = multiply_structures(a, b)[1]
            kind = "sparse" if s.kind == "select" else s.kind
            return 0, replace(s, kind=kind, unit=False)
        return 0, EdgeStructure.dense(a.rows, b.cols)
    m, _ = multiply_structures(replace(a, unit=False), replace(b, unit=False))
    return m, multiply_structures(a, b)[1]


class _State:
    """Mutable elimination state: adjacency and edge structures (and numbers if asked)."""

    def __init__(
        self, lin: LinearizedGraph, numeric: bool = False, convention: str = "chainorder"
    ) -> None:
        self.lin = lin
        self.graphax = _check_convention(convention) == "graphax"
        self._ins, self._outs = frozenset(lin.inputs), frozenset(lin.outputs)
        self.E: dict[tuple[str, str], EdgeStructure] = dict(lin.edges)
        self.A: dict[tuple[str, str], tuple[int, int]] = dict(lin.apply_cost)
        self.pred: dict[str, set[str]] = {v: set() for v in lin.vertices}
        self.succ: dict[str, set[str]] = {v: set() for v in lin.vertices}
        for u, v in self.E:
            self.pred[v].add(u)
            self.succ[u].add(v)
        self.N: dict[tuple[str, str], LocalJacobian] | None = None
        if numeric:
            self.N = {e: lin.local_jacobian(*e) for e in self.E}
        self.nnz = sum(self.stored(e) for e in self.E)

    def copy(self) -> _State:
        new = object.__new__(_State)
        new.lin = self.lin
        new.graphax = self.graphax
        new._ins, new._outs = self._ins, self._outs
        new.E = dict(self.E)
        new.A = dict(self.A)
        new.pred = {v: set(p) for v, p in self.pred.items()}
        new.succ = {v: set(s) for v, s in self.succ.items()}
        new.N = None if self.N is None else dict(self.N)
        new.nnz = self.nnz
        return new

    def product(self, i: str, j: str, k: str) -> tuple[int, EdgeStructure]:
        """Mults and structure of ``∂k/∂j · ∂j/∂i`` (matrix-free where cheaper)."""
        jk, ij = (j, k), (i, j)
        if self.graphax:  # ±1 factors cost, partials are formed
            lazy = (self.E[jk].kind == "select" and k in self._outs) or (
                self.E[ij].kind == "select" and i in self._ins
            )
            return _graphax_product(self.E[jk], self.E[ij], lazy)
        m, s = multiply_structures(self.E[jk], self.E[ij])
        if jk in self.A:
            m = min(m, self.E[ij].cols * self.A[jk][0])
        if ij in self.A:
            m = min(m, self.E[jk].rows * self.A[ij][1])
        return m, s

    def stored(self, e: tuple[str, str]) -> int:
        """Scalars held for edge ``e``: none for an original partial (applied from the kept
        values by its rule), ``nnz`` for an accumulated one."""
        return 0 if e in self.A else self.E[e].nnz

    def cost(self, j: str) -> tuple[int, int]:
        """(mults, change of stored scalars) of eliminating ``j``."""
        mults, dnnz = 0, 0
        for i in self.pred[j]:
            for k in self.succ[j]:
                m, s = self.product(i, j, k)
                mults += m
                old = self.E.get((i, k))
                dnnz += s.nnz if old is None else add_structures(old, s).nnz - self.stored((i, k))
        dnnz -= sum(self.stored((i, j)) for i in self.pred[j])
        dnnz -= sum(self.stored((j, k)) for k in self.succ[j])
        return mults, dnnz

    def eliminate(self, j: str) -> tuple[int, int, int]:
        """Eliminate ``j``; return (mults, fill edges created, peak nnz during the step)."""
        mults, fill, peak = 0, 0, self.nnz
        current = self.nnz
        for i in sorted(self.pred[j]):
            for k in sorted(self.succ[j]):
                m, s = self.product(i, j, k)
                mults += m
                if self.N is not None:
                    prod = multiply_local(self.N[(j, k)], self.N[(i, j)])
                old = self.E.get((i, k))
                if old is None:
                    fill += 1
                    self.E[(i, k)] = s
                    self.pred[k].add(i)
                    self.succ[i].add(k)
                    current += s.nnz
                    if self.N is not None:
                        self.N[(i, k)] = prod
                else:
                    new = add_structures(old, s)
                    before = self.stored((i, k))
                    self.A.pop((i, k), None)
                    current += s.nnz  # the product exists before it is added in
                    peak = max(peak, current)
                    current += new.nnz - before - s.nnz
                    self.E[(i, k)] = new
                    if self.N is not None:
                        self.N[(i, k)] = add_local(self.N[(i, k)], prod)
                peak = max(peak, current)
        edges = [(i, j) for i in self.pred[j]] + [(j, k) for k in self.succ[j]]
        for e in edges:
            current -= self.stored(e)
            self.E.pop(e)
            self.A.pop(e, None)
            if self.N is not None:
                del self.N[e]
        for i in self.pred[j]:
            self.succ[i].discard(j)
        for k in self.succ[j]:
            self.pred[k].discard(j)
        del self.pred[j], self.succ[j]
        self.nnz = current
        return mults, fill, peak
