"""chainorder.jax runs a pure sweep as JAX's own jacfwd/jacrev (issue 12)."""

from __future__ import annotations

import pytest

pytest.importorskip("jax")


def test_a_pure_sweep_is_jax_own_program() -> None:
    """A plan that is one sweep from the identity runs (and is timed) as jacfwd/jacrev itself."""
    import jax
    import jax.numpy as jnp

    import chainorder.jax as cj
    from chainorder.jax.timing import compiled_plan

    W = jnp.linspace(-1.0, 1.0, 15).reshape(3, 5)

    def f(x):
        return jnp.tanh(W @ jnp.tanh(x))

    x = jnp.linspace(0.0, 1.0, 5)
    for method, pure in (("reverse", jax.jacrev), ("forward", jax.jacfwd)):
        jac = cj.jacobian(f, method=method, measure=False)
        assert str(jax.make_jaxpr(jac)(x)) == str(jax.make_jaxpr(pure(f))(x))
        timed = compiled_plan(jac.prepared(x), method)
        assert jnp.allclose(timed(x), pure(f)(x))
        own = jax.jit(pure(f)).lower(x).compile()  # staged, as compiled_plan compiles
        assert timed.cost_analysis() == own.cost_analysis()
