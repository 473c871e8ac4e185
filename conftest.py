"""Doctest collection: modules whose examples need an optional extra (``dask``, ``torch``,
``jax``) are skipped when it is not installed (``pip install 'jacobian-chainorder[dask]'``
runs them)."""

import importlib.util

_HAS_DASK = (
    importlib.util.find_spec("dask") is not None
    and importlib.util.find_spec("distributed") is not None
)

_HAS_TORCH = importlib.util.find_spec("torch") is not None

collect_ignore = (
    []
    if _HAS_DASK
    else [
        "chainorder/dask_backend.py",
        "chainorder/dask_checks.py",
        "chainorder/dask_run.py",
        "chainorder/dask_report.py",
    ]
)

collect_ignore_glob = []
if not _HAS_TORCH:
    collect_ignore_glob += [
        "chainorder/torch/*.py",
        "chainorder/frameworks/torch_models.py",
        "chainorder/frameworks/suite.py",
    ]
# chainorder.jax and the suite's JAX models: every example needs JAX (the 'jax' extra)
if importlib.util.find_spec("jax") is None:
    collect_ignore_glob += ["chainorder/jax/*.py", "chainorder/frameworks/jax_models.py"]
