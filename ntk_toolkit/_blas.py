"""Thread count of the OpenBLAS that NumPy and SciPy bring, set at run time.

Why it matters: after a multithreaded BLAS call (a matrix-vector product with
a dense measurement matrix, a long dot product), OpenBLAS' worker threads
keep spinning for a while before they sleep. A compiled parallel kernel that
runs in that window shares the cores with them: a step of compressive-sensing
gradient descent with a dense ``A`` of ``m`` rows (O(m n) BLAS work next to
the O(n k L) kernel) is then markedly slower, as are the first steps after
any multithreaded BLAS call (measured costs in ``docs/benchmarks.md``).
:func:`single_thread` runs a loop that alternates small BLAS calls with
parallel kernels with OpenBLAS on one thread.

The environment variable ``OPENBLAS_NUM_THREADS`` only works before NumPy is
imported; this module calls OpenBLAS' own ``set_num_threads`` and
``get_num_threads`` in the libraries bundled with the NumPy and SciPy wheels.
With another BLAS (MKL, Accelerate) nothing is changed.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import os
import threading
from collections.abc import Iterator

__all__ = ["get_threads", "set_threads", "single_thread"]

_SET = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
        "openblas_set_num_threads64_", "openblas_set_num_threads")
_GET = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
        "openblas_get_num_threads64_", "openblas_get_num_threads")


@functools.lru_cache(maxsize=1)
def _libraries() -> tuple:
    """``(get, set)`` function pairs of every OpenBLAS bundled with NumPy and SciPy (once per process)."""
    import numpy as np

    pkgs = [np]
    with contextlib.suppress(ImportError):
        import scipy

        pkgs.append(scipy)
    found = []
    for pkg in pkgs:
        root = os.path.dirname(pkg.__path__[0])
        for path in sorted(glob.glob(os.path.join(root, pkg.__name__ + ".libs", "*openblas*"))):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            setter = next((getattr(lib, s) for s in _SET if hasattr(lib, s)), None)
            getter = next((getattr(lib, s) for s in _GET if hasattr(lib, s)), None)
            if setter is not None and getter is not None:
                getter.restype = ctypes.c_int
                setter.argtypes = [ctypes.c_int]
                found.append((getter, setter))
    return tuple(found)


def get_threads() -> list[int]:
    """Thread counts of the OpenBLAS libraries found (empty if none)."""
    return [int(get()) for get, _ in _libraries()]


def set_threads(n: int | list[int]) -> bool:
    """Set the OpenBLAS thread count (one int for all, or one per library as from :func:`get_threads`).

    Returns True if at least one library was found.
    """
    libs = _libraries()
    counts = [int(n)] * len(libs) if isinstance(n, int) else list(n)
    if len(counts) != len(libs):
        raise ValueError(f"n must be an int or a list of {len(libs)} thread counts, got {n!r}")
    if any(c < 1 for c in counts):
        raise ValueError(f"n must hold thread counts >= 1, got {n!r}")
    for (_, setter), c in zip(libs, counts):
        setter(c)
    return bool(libs)


_lock = threading.Lock()
_depth = 0
_saved: list[int] = []


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """OpenBLAS on one thread inside the block; the previous counts are restored when the outermost block exits.

    Process-wide (OpenBLAS has one thread count), nestable and safe to enter
    from several Python threads at once.
    """
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = get_threads()
            if any(c != 1 for c in _saved):
                set_threads(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and any(c != 1 for c in _saved):
                set_threads(_saved)
