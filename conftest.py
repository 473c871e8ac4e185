"""Doctest collection: modules whose examples need the optional ``dask`` extra are skipped
when Dask is not installed (``pip install 'jacobian-chainorder[dask]'`` runs them)."""

import importlib.util

_HAS_DASK = (
    importlib.util.find_spec("dask") is not None
    and importlib.util.find_spec("distributed") is not None
)

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

# chainorder.jax: every example needs JAX (the 'jax' extra)
collect_ignore_glob = [] if importlib.util.find_spec("jax") else ["chainorder/jax/*.py"]
