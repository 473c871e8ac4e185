"""Devices of the frameworks suite: which ones run, JAX's device for each, and full float32
on GPUs for every framework alike (:mod:`chainorder.frameworks.suite`)."""

from __future__ import annotations

from typing import Any

__all__ = ["devices_wanted", "full_float32_on_gpus", "jax_device"]


def devices_wanted(wanted: tuple[str, ...] | None = None) -> list[str]:
    """``"cpu"`` and, where torch sees one, ``"cuda"``; only those in ``wanted`` if given.

    Examples
    --------
    >>> devices_wanted(("cpu",))  # doctest: +SKIP
    ['cpu']

    Notes
    -----
    O(1).
    """
    import torch

    have = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    return [d for d in have if wanted is None or d in wanted]


def full_float32_on_gpus(jax_ok: bool = True) -> None:
    """float32 products in full float32 on GPUs, for every framework alike: TF32 off in
    torch (cuBLAS and cuDNN; cuDNN's convolutions default to TF32) and XLA's default
    matmul precision ``highest`` (JAX's GPU default is TF32). With TF32 the frameworks'
    Jacobians differed beyond float32's tolerance and no time could count (seen on an H200).

    Examples
    --------
    >>> full_float32_on_gpus(jax_ok=False)  # doctest: +SKIP
    """
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if jax_ok:
        import jax

        jax.config.update("jax_default_matmul_precision", "highest")


def jax_device(device: str) -> Any:
    """JAX's device for the suite's ``device`` name (``None`` where JAX has no such).

    Examples
    --------
    >>> jax_device("cpu").platform  # doctest: +SKIP
    'cpu'

    Notes
    -----
    O(1).
    """
    import jax

    try:
        found = jax.devices("cpu" if device == "cpu" else "gpu")
    except RuntimeError:  # no backend of that kind
        return None
    return found[0] if found else None
