"""Specific exceptions raised by chainorder.

Every error a user can cause derives from :class:`ChainorderError` and also from the
built-in ``ValueError`` or ``TypeError`` it specialises, so ``except ValueError`` keeps
working. The CLI turns any ``ChainorderError`` into one line on stderr and exit status 2.
"""

__all__ = [
    "ChainTooLongError",
    "ChainorderError",
    "DtypeError",
    "ExecutionError",
    "InfeasibleMemoryLimitError",
    "JacobianMismatchError",
    "MemoryLimitError",
    "PlanFormatError",
    "SpecError",
    "SpecTypeError",
    "TraceError",
    "TreeError",
    "UnknownSettingError",
    "UnknownSolverError",
    "UnsupportedOperationError",
]


class ChainorderError(Exception):
    """Base class of every error chainorder raises on purpose."""


class SpecError(ChainorderError, ValueError):
    """A chain specification (dims, widths, elementwise words) is malformed."""


class SpecTypeError(ChainorderError, TypeError):
    """A chain specification has values of the wrong type (e.g. floats, bools)."""


class ChainTooLongError(ChainorderError, ValueError):
    """The chain is longer than the exact solver can hold in memory."""


class UnknownSolverError(ChainorderError, ValueError):
    """The requested mode / solver name is not registered."""


class UnknownSettingError(ChainorderError, ValueError):
    """The memory setting is neither ``given`` nor ``streamed``."""


class DtypeError(ChainorderError, ValueError):
    """The dtype is unknown or not a numeric dtype."""


class TreeError(ChainorderError, ValueError):
    """A bracketing tree does not cover links 1..L exactly once in order."""


class PlanFormatError(ChainorderError, ValueError):
    """A saved plan (JSON) is malformed, from an unknown format version, or inconsistent."""


class ExecutionError(ChainorderError, ValueError):
    """Arrays handed to ``evaluate`` do not fit the plan (count, shape, dtype, namespace)."""


class JacobianMismatchError(ChainorderError, ValueError):
    """Jacobians computed in different orders disagree beyond tolerance."""


class TraceError(ChainorderError, ValueError):
    """Tracing a function failed (bad arguments, non-array output, ...)."""


class UnsupportedOperationError(TraceError):
    """A traced function used an operation that chainorder has no rule for."""


class MemoryLimitError(ChainorderError, MemoryError):
    """Running would allocate more than the memory limit (checked before allocating)."""


class InfeasibleMemoryLimitError(MemoryLimitError):
    """No plan fits the memory limit; ``smallest_peak_bytes`` is the lowest peak possible."""

    def __init__(self, message: str, smallest_peak_bytes: int) -> None:
        super().__init__(message)
        self.smallest_peak_bytes = smallest_peak_bytes
