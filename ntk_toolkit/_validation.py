"""Input validation shared by the public functions.

Every check raises ``ValueError`` or ``TypeError`` with a message that names the
argument, the value received and what would be valid.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import warnings

import numpy as np


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_int(name: str, value, *, minimum: int | None = None, even: bool = False) -> int:
    """Return ``value`` as an ``int`` or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    if even and value % 2:
        raise ValueError(
            f"{name} must be even (half the channels have output weight +1/sqrt(k), "
            f"half -1/sqrt(k)), got {value}; use {value + 1} or {value - 1}"
        )
    return value


def check_bool(name: str, value) -> bool:
    """Return ``value`` as a ``bool`` (``True``/``False`` or a numpy bool) or raise ``TypeError`` naming ``name``.

    Examples
    --------
    >>> check_bool("clip", np.True_)
    True
    >>> check_bool("clip", "yes")
    Traceback (most recent call last):
        ...
    TypeError: clip must be True or False, got 'yes'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_describe(value)}")
    return bool(value)


def check_positive(name: str, value, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite positive ``float`` or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        valid = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {valid}, got {value!r}")
    return value


def as_float_array(name: str, value, *, shape: tuple | None = None, ndim=None,
                   finite: bool = True, dtype=np.float64) -> np.ndarray:
    """Convert to a C-contiguous float array, checking shape and finiteness.

    ``shape`` may contain ``None`` for a free axis; ``ndim`` may be an int or a
    tuple of allowed dimensionalities.
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name} must be array-like, got {_describe(value)}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got {_describe(value)}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got a complex array")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(
                f"{name} must have {' or '.join(map(str, allowed))} dimension(s), "
                f"got shape {arr.shape}"
            )
    if shape is not None:
        ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
        if not ok:
            parts = ["any" if s is None else str(s) for s in shape]
            want = "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if finite and not _all_finite(arr):
        bad = sum(int(c.size - np.count_nonzero(np.isfinite(c))) for c in _chunks(arr))
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite entries")
    return arr


#: Entries per chunk of the finiteness check: its boolean temporary stays at 1 MiB
#: instead of one byte per entry of the array (n k bytes for the weights C).
_FINITE_CHUNK = 1 << 20


def _chunks(arr: np.ndarray):
    flat = arr.reshape(-1)
    for start in range(0, flat.size, _FINITE_CHUNK):
        yield flat[start:start + _FINITE_CHUNK]


def _all_finite(arr: np.ndarray) -> bool:
    """True if no entry is NaN or infinite.

    The sum of the entries is NaN or infinite if any entry is, so a finite sum
    proves the array finite (NumPy's vectorised pairwise sum: one pass, no
    temporary, no BLAS call — a multithreaded BLAS dot product would leave
    OpenBLAS' threads spinning beside the compiled kernel that follows, see
    :mod:`ntk_toolkit._blas`). Only when the sum is not finite (a non-finite
    entry, or finite entries whose sum overflows) are the entries tested
    chunk by chunk.
    """
    if arr.dtype.kind == "f" and arr.size:
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(arr.sum()):
                return True
    return all(bool(np.isfinite(c).all()) for c in _chunks(arr))


def as_rng(seed, name: str = "seed") -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from an int, a Generator or ``None``; errors name ``name``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0):
        return np.random.default_rng(seed)
    raise TypeError(
        f"{name} must be a non-negative integer, a numpy.random.Generator or None, got {_describe(seed)}"
    )


def check_kernel_matrix(name: str, K) -> np.ndarray:
    """``K`` as a finite, square, symmetric float64 matrix (relative asymmetry <= 1e-10), or a clear error."""
    K = as_float_array(name, K, ndim=2)
    if K.shape[0] != K.shape[1]:
        raise ValueError(f"{name} must be a square (n, n) matrix, got shape {K.shape}")
    if K.size == 0:
        raise ValueError(f"{name} must be a square (n, n) matrix with n >= 1, got shape {K.shape}")
    scale = max(float(np.max(np.abs(K))), np.finfo(float).tiny)
    if float(np.max(np.abs(K - K.T))) > 1e-10 * scale:
        raise ValueError(f"{name} must be symmetric; max |K - Kᵀ| = {np.max(np.abs(K - K.T)):.3g}")
    return K


def renamed_argument(old: str, new: str):
    """Decorator: accept the keyword ``old`` as a deprecated alias of the argument ``new`` for one release.

    Passing ``old=...`` warns with a ``DeprecationWarning`` naming the new
    name and calls the function with ``new=...``; passing both is an error.
    """

    def decorate(func):
        position = list(inspect.signature(func).parameters).index(new)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if old in kwargs:
                if new in kwargs or len(args) > position:
                    raise TypeError(f"{func.__name__}() got both {new!r} and its old name {old!r}; pass {new!r} only")
                warnings.warn(f"{func.__name__}(): the argument {old!r} is now called {new!r}; "
                              f"the old name will be removed in the next release", DeprecationWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return decorate
