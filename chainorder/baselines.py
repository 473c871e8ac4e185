"""Baselines: other ways to compute the same Jacobian, each checked before it is timed.

``numpy.linalg.multi_dot``
    NumPy's own chain product (dense chains, given setting), next to chainorder run in
    multi_dot's order (:func:`chainorder.solvers.multi_dot.multi_dot_tree`).
JAX ``jax.jacfwd`` / ``jax.jacrev`` and PyTorch ``torch.func.jacfwd`` / ``jacrev``
    The :class:`chainorder.nets.MLP` written with the framework's arrays and activations, at
    the same input (streamed setting). JAX and PyTorch are imported only here and only when
    asked for; when absent the baseline says ``not installed`` instead of failing.

A baseline's time is reported only after its Jacobian matched chainorder's forward-mode
Jacobian within the tolerance; otherwise its status says ``mismatch``. The data (Jacobians,
network, input) and the reference come from :class:`chainorder.runner.ValidationRun`, so
the baselines run on exactly what the plans ran on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainorder.chain import Structure
from chainorder.execute import compile_plan
from chainorder.measure import max_relative_difference, time_call
from chainorder.memory import Setting
from chainorder.nets import MLP
from chainorder.plan import Plan
from chainorder.runner import ValidationRun
from chainorder.solvers.multi_dot import multi_dot_tree

__all__ = [
    "FRAMEWORK_METHODS",
    "Baseline",
    "checked_time",
    "framework_baselines",
    "multi_dot_baselines",
]

#: ``(framework, function)`` pairs of :func:`framework_baselines`, in row order.
FRAMEWORK_METHODS: tuple[tuple[str, str], ...] = (
    ("jax", "jacfwd"),
    ("jax", "jacrev"),
    ("torch", "jacfwd"),
    ("torch", "jacrev"),
)


@dataclass(frozen=True, slots=True)
class Baseline:
    """One baseline's outcome: time (s, best of repeat) only when its Jacobian matched.

    ``plan`` is the bracketing the baseline follows when it has one (its predicted mults
    and FLOPs apply); ``predicted_peak_bytes`` is set where chainorder's model covers it.
    """

    method: str
    mode: str
    time_s: float | None
    rel_diff: float | None
    status: str
    plan: Plan | None = None
    predicted_peak_bytes: int | None = None


def checked_time(
    call: Callable[[], Any], reference: Any, *, repeat: int, tol: float
) -> tuple[float | None, float, str]:
    """``(best time or None, difference, status)``: timed only when ``call()`` matches.

    Examples
    --------
    >>> import numpy as np
    >>> t, diff, status = checked_time(lambda: np.eye(2), np.eye(2), repeat=1, tol=1e-9)
    >>> t > 0, diff, status
    (True, 0.0, 'ok')
    >>> checked_time(lambda: 2 * np.eye(2), np.eye(2), repeat=1, tol=1e-9)[1:]
    (1.0, 'mismatch: time not reported')

    Notes
    -----
    ``repeat + 2`` calls when it matches (check, warm-up, timed runs), one otherwise.
    """
    result = call()
    diff = max_relative_difference(result, reference)
    del result
    if not diff <= tol:
        return None, diff, "mismatch: time not reported"
    return time_call(call, repeat=repeat).best, diff, "ok"


def multi_dot_baselines(run: ValidationRun, tol: float) -> Iterator[Baseline]:
    """chainorder in multi_dot's order, then ``numpy.linalg.multi_dot``, on the run's Jacobians.

    ``run`` must have been measured (its data and reference exist) in the given setting.

    Examples
    --------
    >>> run = ValidationRun("30,35,15,5,10,20,25", repeat=1, measure_memory=False)
    >>> _ = list(run.measurements())
    >>> [(b.method, b.status) for b in multi_dot_baselines(run, 1e-9)]
    [("chainorder in multi_dot's order", 'ok'), ('numpy.linalg.multi_dot', 'ok')]

    Notes
    -----
    O(L³) for multi_dot's order, then the products' arithmetic ``repeat + 2`` times each.
    """
    jacobians = run.make_data()
    tree = multi_dot_tree(run.chain.dims)
    p = Plan.from_tree(run.chain, tree, "multi_dot order", run.dtype)

    f = compile_plan(p, Setting.GIVEN)

    def ours() -> Any:
        return f(jacobians)

    yield Baseline(
        "chainorder in multi_dot's order",
        p.mode.value,
        *checked_time(ours, run.reference, repeat=run.repeat, tol=tol),
        plan=p,
        predicted_peak_bytes=p.peak_bytes(Setting.GIVEN),
    )
    arrays = jacobians[::-1]
    yield Baseline(
        "numpy.linalg.multi_dot",
        p.mode.value,
        *checked_time(
            lambda: np.linalg.multi_dot(arrays), run.reference, repeat=run.repeat, tol=tol
        ),
        plan=p,
    )


def framework_baselines(
    run: ValidationRun, tol: float, *, enabled: bool = True
) -> Iterator[Baseline]:
    """JAX and PyTorch ``jacfwd``/``jacrev`` of the run's network at its input.

    ``run`` must have been measured in the streamed setting. Each of
    :data:`FRAMEWORK_METHODS` gives one :class:`Baseline`: ``ok`` with a time, ``mismatch``,
    ``not installed``, ``n/a: ...`` (an activation the framework lacks) or ``skipped``.

    Examples
    --------
    >>> run = ValidationRun("4,3,tanh,2", setting="streamed", repeat=1)
    >>> _ = list(run.measurements())
    >>> {b.status for b in framework_baselines(run, 1e-9, enabled=False)}
    {'skipped (--no-frameworks)'}

    Notes
    -----
    One traced call to check, then ``repeat + 1`` timed calls, per installed framework.
    """
    for framework, fn_mode in FRAMEWORK_METHODS:
        method = f"{framework} {'torch.func.' if framework == 'torch' else 'jax.'}{fn_mode}"
        mode = fn_mode[3:]
        if not enabled:
            yield Baseline(method, mode, None, None, "skipped (--no-frameworks)")
            continue
        net, x = run.make_data()
        try:
            call = (_jax_call if framework == "jax" else _torch_call)(net, x, fn_mode)
        except ImportError:
            yield Baseline(method, mode, None, None, "not installed")
            continue
        except _Unsupported as exc:
            yield Baseline(method, mode, None, None, f"n/a: {exc}")
            continue
        host = np.asarray(run.backend.to_numpy(run.reference))
        yield Baseline(method, mode, *checked_time(call, host, repeat=run.repeat, tol=tol))


class _Unsupported(Exception):
    pass


def _layers(net: MLP) -> list[tuple[str, Any, Any]]:
    out = []
    for link in net.chain.links:
        l = link.index
        if link.structure is Structure.DENSE:
            out.append(("dense", np.asarray(net.weights[l]), np.asarray(net.biases[l])))
        elif l in net.scales:
            out.append(("scale", np.asarray(net.scales[l]), None))
        else:
            out.append((link.name.lower(), None, None))
    return out


def _network_function(
    net: MLP, to_array: Callable[[Any], Any], acts: dict[str, Any], framework: str
) -> Callable[[Any], Any]:
    """The MLP's forward function written with a framework's arrays and activations."""
    layers = []
    for kind, a, b in _layers(net):
        if kind == "dense":
            layers.append((kind, to_array(a), to_array(b)))
        elif kind == "scale":
            layers.append((kind, to_array(a), None))
        elif kind in acts:
            layers.append((kind, acts[kind], None))
        else:
            raise _Unsupported(f"no {framework} activation for {kind!r}")

    def f(v: Any) -> Any:
        for kind, a, b in layers:
            v = a @ v + b if kind == "dense" else (a * v if kind == "scale" else a(v))
        return v

    return f


def _jax_call(net: MLP, x: Any, fn_mode: str) -> Callable[[], Any]:
    import jax  # optional: the "bench" extra

    if net.dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    acts = {
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
        "sigmoid": jax.nn.sigmoid,
        "softplus": jax.nn.softplus,
        "gelu": lambda v: jax.nn.gelu(v, approximate=True),
        "sin": jnp.sin,
        "cos": jnp.cos,
        "exp": jnp.exp,
        "square": jnp.square,
        "identity": lambda v: v,
    }
    f = _network_function(net, jnp.asarray, acts, "JAX")
    jac = jax.jit(jax.jacfwd(f) if fn_mode == "jacfwd" else jax.jacrev(f))
    xj = jnp.asarray(np.asarray(x))

    def call() -> Any:
        return np.asarray(jac(xj).block_until_ready())

    return call


def _torch_call(net: MLP, x: Any, fn_mode: str) -> Callable[[], Any]:
    import torch  # optional: the "bench" extra
    import torch.func

    acts = {
        "tanh": torch.tanh,
        "relu": torch.relu,
        "sigmoid": torch.sigmoid,
        "softplus": torch.nn.functional.softplus,
        "gelu": lambda v: torch.nn.functional.gelu(v, approximate="tanh"),
        "sin": torch.sin,
        "cos": torch.cos,
        "exp": torch.exp,
        "square": torch.square,
        "identity": lambda v: v,
    }
    f = _network_function(net, torch.from_numpy, acts, "PyTorch")
    jac = torch.func.jacfwd(f) if fn_mode == "jacfwd" else torch.func.jacrev(f)
    xt = torch.from_numpy(np.asarray(x).copy())

    def call() -> Any:
        with torch.no_grad():
            return jac(xt).numpy()

    return call
