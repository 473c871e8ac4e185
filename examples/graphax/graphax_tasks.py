"""The graphax benchmark tasks written in NumPy, by name, with graphax's published counts.

Each module of this folder holds one task: ``fn`` (scalar arguments, a tuple of scalar
outputs; vectors for ``RoeFlux_3d (vectors)``), ``ARGS`` (the point graphax evaluates it
at) and ``GRAPHAX`` (forward, reverse, Markowitz and AlphaGrad mults as published by
Lohoff & Neftci). :func:`load_task` imports one by name and :func:`linearized` traces and
linearises it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np

__all__ = ["TASKS", "linearized", "load_task"]

HERE = Path(__file__).resolve().parent
#: graphax's task name → module file of this folder.
TASKS = {
    "RoeFlux_1d": "roeflux_1d",
    "RoeFlux_3d": "roeflux_3d",
    "RoeFlux_3d (vectors)": "roeflux_3d_vec",
    "RobotArm_6DOF": "robot_arm_6dof",
    "HumanHeartDipole": "human_heart_dipole",
    "PropaneCombustion": "propane_combustion",
}


def load_task(name: str) -> ModuleType:
    """The module of task ``name`` (a key of :data:`TASKS`)."""
    file = TASKS[name]
    spec = importlib.util.spec_from_file_location(f"graphax_{file}", HERE / f"{file}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def linearized(name: str):
    """Trace task ``name`` at its ``ARGS`` and linearise it (raises if an op is missing)."""
    from chainorder.graph import linearize, trace

    task = load_task(name)
    return linearize(trace(task.fn, *(np.asarray(a, dtype=float) for a in task.ARGS)))
