"""All Numba options in one place.

Every compiled kernel of the package is decorated with :func:`jit` (serial) or
:func:`pjit` (parallel) from this module, never with a bare ``numba.njit``:

* ``cache=True`` so that a fresh process with a warm on-disk cache does not
  recompile;
* no ``fastmath`` flags: NaN and inf keep their IEEE meaning, which the
  divergence detection of :func:`ntk_toolkit.gradient_descent` relies on;
* ``nogil=True`` so kernels can run in threads;
* compilation is lazy (no signatures), so ``import ntk_toolkit`` never
  compiles anything. Kernel modules are imported on first use.

Parallel kernels (``pjit``) only use ``prange`` over independent output rows,
so results do not depend on the number of threads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numba

_OPTIONS = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}


def jit(func):
    """Compile ``func`` lazily as a serial, cached Numba kernel."""
    return numba.njit(**_OPTIONS)(func)


def pjit(func):
    """Compile ``func`` lazily as a parallel, cached Numba kernel."""
    return numba.njit(parallel=True, **_OPTIONS)(func)


@contextlib.contextmanager
def num_threads(n_threads: int | None) -> Iterator[None]:
    """Temporarily set Numba's thread count (``None`` leaves it unchanged)."""
    if n_threads is None:
        yield
        return
    if not isinstance(n_threads, (int,)) or n_threads < 1:
        raise ValueError(f"n_threads must be a positive integer or None, got {n_threads!r}")
    old = numba.get_num_threads()
    numba.set_num_threads(min(int(n_threads), numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(old)
