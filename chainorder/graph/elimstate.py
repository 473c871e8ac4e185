"""The mutable state of a vertex elimination (adjacency, edge structures, numbers) and
the counting conventions; :mod:`~chainorder.graph.eliminate` drives it.

Under the ``"chainorder"`` convention the state prices exactly what the executor
(:mod:`~chainorder.graph.elimprog`) runs. An edge is either *original* (its local partial
is not held; the op's rule applies it to a block of tangents or cotangents) or *formed*
(held as a diagonal vector or as a dense matrix). The product ``∂k/∂j · ∂j/∂i`` is the
cheapest of: forming both factors and multiplying them (diagonal · diagonal: ``n``;
diagonal · dense: the dense size; dense · dense: ``p·q·r``), applying ``∂k/∂j`` by its
tangent rule to the columns of the formed ``∂j/∂i``, or applying ``∂j/∂i`` by its adjoint
rule to the rows of the formed ``∂k/∂j`` (one column / row when both are diagonal). A rule
is never applied to a diagonal factor against a dense one: that would expand the diagonal
into a dense ``size(j) × size(j)`` block, whose writes, and the rule's reductions and
copies over it, no mult counts (a broadcast ``x[:, None] - x[None, :]`` of 50 values:
6.25 M scalars moved at a price of 0 mults); the diagonal multiplies the formed partial.
Forming an original partial costs nothing when its entries are an operand's
(:mod:`~chainorder.graph.blocks`: products, matrix products), else its rule: one tangent
for a diagonal partial, else the cheaper of ``size(u)`` tangents and ``size(v)`` adjoints
of the identity (on equal mults, the smaller identity). A factor formed
once serves every product of the same elimination step.
"""

from __future__ import annotations

from dataclasses import replace

from chainorder.errors import TraceError
from chainorder.graph.linearize import LinearizedGraph
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
    """Mutable elimination state: adjacency and edge structures."""

    def __init__(self, lin: LinearizedGraph, convention: str = "chainorder") -> None:
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
        new.nnz = self.nnz
        return new

    def form_cost(self, e: tuple[str, str]) -> tuple[int, str | None]:
        """Mults and way (``hook``, ``ones``, ``jvp``, ``vjp``; ``None`` if held) of forming
        ``e`` (``hook``: :func:`chainorder.graph.blocks.form`, no mults)."""
        if e not in self.A:
            return 0, None
        cache = self.lin._form_costs  # an original edge's forming never changes
        found = cache.get(e)
        if found is None:
            if e in self.lin.formers:
                found = (0, "hook")
            else:
                jv, vj = self.A[e]
                if self.E[e].is_diagonal:
                    found = (jv, "ones")
                else:
                    nu, nv = self.lin.sizes[e[0]], self.lin.sizes[e[1]]
                    # equal mults (a 0-mult rule: sum, slice, broadcast): the smaller
                    # identity seed, nu² or nv² scalars written that no mult counts
                    a, b = nu * jv, nv * vj
                    found = (a, "jvp") if (a, nu) <= (b, nv) else (b, "vjp")
            cache[e] = found
        return found

    def product(
        self, i: str, j: str, k: str, formed: frozenset | set = frozenset()
    ) -> tuple[int, EdgeStructure, str]:
        """Mults, structure and way (``mm``, ``jvp``, ``vjp``) of ``∂k/∂j · ∂j/∂i``.

        ``formed``: original edges already formed in this step (no forming cost).
        """
        jk, ij = (j, k), (i, j)
        a, b = self.E[ij], self.E[jk]
        if self.graphax:  # ±1 factors cost, partials are formed
            lazy = (b.kind == "select" and k in self._outs) or (
                a.kind == "select" and i in self._ins
            )
            return (*_graphax_product(b, a, lazy), "mm")
        diag = a.is_diagonal and b.is_diagonal
        out = EdgeStructure.diagonal(a.rows) if diag else EdgeStructure.dense(b.rows, a.cols)
        fa = 0 if ij in formed else self.form_cost(ij)[0]
        fb = 0 if jk in formed else self.form_cost(jk)[0]
        if diag:
            mm = a.rows
        elif a.is_diagonal:
            mm = b.rows * b.cols
        elif b.is_diagonal:
            mm = a.rows * a.cols
        else:
            mm = b.rows * b.cols * a.cols
        best = (fa + fb + mm, out, "mm")
        # A rule applies to the columns (rows) of a dense formed factor, or to the one
        # column of a diagonal when both factors are diagonal; never to a diagonal factor
        # expanded into a dense size(j) x size(j) block (unpriced O(size(j)^2) work).
        if jk in self.A and (diag or not a.is_diagonal):
            m = fa + (1 if diag else a.cols) * self.A[jk][0]
            if m < best[0]:
                best = (m, out, "jvp")
        if ij in self.A and (diag or not b.is_diagonal):
            m = fb + (1 if diag else b.rows) * self.A[ij][1]
            if m < best[0]:
                best = (m, out, "vjp")
        return best

    @staticmethod
    def newly_formed(way: str, ij: tuple[str, str], jk: tuple[str, str]) -> tuple:
        """The factors a product made in ``way`` forms."""
        return {"mm": (ij, jk), "jvp": (ij,), "vjp": (jk,)}[way]

    def stored(self, e: tuple[str, str]) -> int:
        """Scalars held for edge ``e``: none for an original partial (applied from the kept
        values by its rule), ``nnz`` for an accumulated one."""
        return 0 if e in self.A else self.E[e].nnz

    def added(self, old: EdgeStructure, s: EdgeStructure) -> EdgeStructure:
        """Structure of an accumulated edge plus a product (formed: diagonal or dense)."""
        if self.graphax:
            return add_structures(old, s)
        if old.is_diagonal and s.is_diagonal:
            return EdgeStructure.diagonal(old.rows)
        return EdgeStructure.dense(old.rows, old.cols)

    def _step(self, j: str, record: list | None = None) -> tuple[int, int]:
        """Mults and change of stored scalars of eliminating ``j`` (``record``: the
        products, in execution order, as ``(i, k, mults, structure, way)``)."""
        mults, dnnz = 0, 0
        formed: set = set()
        for i in sorted(self.pred[j]):
            for k in sorted(self.succ[j]):
                m, s, way = self.product(i, j, k, formed)
                if not self.graphax:
                    formed.update(self.newly_formed(way, (i, j), (j, k)))
                old = self.E.get((i, k))
                if old is None:
                    dnnz += s.nnz
                else:
                    if not self.graphax:
                        m += self.form_cost((i, k))[0]
                    dnnz += self.added(old, s).nnz - self.stored((i, k))
                mults += m
                if record is not None:
                    record.append((i, k, m, s, way))
        dnnz -= sum(self.stored((i, j)) for i in self.pred[j])
        dnnz -= sum(self.stored((j, k)) for k in self.succ[j])
        return mults, dnnz

    def cost(self, j: str) -> tuple[int, int]:
        """(mults, change of stored scalars) of eliminating ``j``."""
        return self._step(j)

    def eliminate(self, j: str, record: list | None = None) -> tuple[int, int, int]:
        """Eliminate ``j``; return (mults, fill edges created, peak nnz during the step).

        ``record`` receives the products as :meth:`_step` describes them.
        """
        products: list = []
        mults, _ = self._step(j, products)
        if record is not None:
            record.extend(products)
        fill, peak = 0, self.nnz
        current = self.nnz
        for i, k, _, s, _ in products:
            old = self.E.get((i, k))
            if old is None:
                fill += 1
                self.E[(i, k)] = s
                self.pred[k].add(i)
                self.succ[i].add(k)
                current += s.nnz
            else:
                new = self.added(old, s)
                before = self.stored((i, k))
                self.A.pop((i, k), None)
                current += s.nnz  # the product exists before it is added in
                peak = max(peak, current)
                current += new.nnz - before - s.nnz
                self.E[(i, k)] = new
            peak = max(peak, current)
        edges = [(i, j) for i in self.pred[j]] + [(j, k) for k in self.succ[j]]
        for e in edges:
            current -= self.stored(e)
            self.E.pop(e)
            self.A.pop(e, None)
        for i in self.pred[j]:
            self.succ[i].discard(j)
        for k in self.succ[j]:
            self.pred[k].discard(j)
        del self.pred[j], self.succ[j]
        self.nnz = current
        return mults, fill, peak

    def finish_cost(self) -> int:
        """Mults of forming the input → output partials still original at the end."""
        if self.graphax:
            return 0
        return sum(self.form_cost(e)[0] for e in self.E if e in self.A)
