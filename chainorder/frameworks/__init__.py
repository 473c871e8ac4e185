"""The frameworks suite (issue 12, point 4): JAX and PyTorch Jacobians of the same models.

- :mod:`~chainorder.frameworks.models`: the cases and their parameters (NumPy).
- :mod:`~chainorder.frameworks.torch_models` / :mod:`~chainorder.frameworks.jax_models`:
  the same models in PyTorch and JAX.
- :mod:`~chainorder.frameworks.suite`: the runner (``chainorder bench --suite frameworks``).
"""

from chainorder.frameworks.models import CASES, Model, case_names, make_model

__all__ = ["CASES", "Model", "case_names", "make_model"]
