"""All Numba options in one place.

Every compiled kernel of the package is decorated with :func:`jit` (serial) or
:func:`pjit` (parallel) from this module, never with a bare ``numba.njit``:

* ``cache=True`` so that a fresh process with a warm on-disk cache does not
  recompile. Setting the environment variable ``NTK_TOOLKIT_NUMBA_CACHE=0``
  before the first kernel is compiled switches the on-disk cache off (every
  process then compiles its own kernels in memory), for processes that
  share a cache directory they must not write to, or that race on it;
* no ``fastmath`` flags: NaN and inf keep their IEEE meaning, which the
  divergence detection of :func:`ntk_toolkit.gradient_descent` relies on.
  The one exception is :func:`sum_jit`, for a kernel whose only floating-point
  reduction may be reassociated (``reassoc`` alone: no assumption about NaN,
  inf or signed zeros, so ``x − x`` is still NaN for ``x = ±inf``). Kernels
  may also ask for ``contract=True``: a multiply followed by an add may then be
  fused into one FMA instruction (one rounding instead of two; fixed for a
  given build, so results stay deterministic, and no assumption about NaN or
  inf). The 2-D gradient-descent kernels do (a step at 128 x 128, k = 256 took
  about 15 % less time on one thread: 8.5 instead of 10.0 ms, best of 60);
* ``nogil=True`` so kernels can run in threads;
* compilation is lazy (no signatures), so ``import ntk_toolkit`` never
  compiles anything. Kernel modules are imported on first use.

Parallel kernels (``pjit``) only use ``prange`` over independent output rows,
so results do not depend on the number of threads.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

#: Numba's OpenMP threading layer (GNU libgomp) spin-waits between parallel
#: regions by default; when other processes compete for the cores, spinning
#: threads take turns with the working ones and a gradient-descent step at
#: (n, k) = (512, 2048) on 2 cores went from 4.2 to 6.3 ms (float32: 2.5 to
#: 4.5 ms) next to one busy process, with no difference on an idle machine.
#: Passive waiting is set before libgomp is loaded, unless the user chose.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

#: Name of the environment variable that switches Numba's on-disk cache off when set to 0, false, no or off.
CACHE_ENV = "NTK_TOOLKIT_NUMBA_CACHE"


def cache_enabled() -> bool:
    """Whether kernels compiled from now on use Numba's on-disk cache (:data:`CACHE_ENV`, default on)."""
    return os.environ.get(CACHE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def _options() -> dict:
    return {"cache": cache_enabled(), "nogil": True, "fastmath": False, "error_model": "numpy"}


def _flags(*extra: str, contract: bool = False) -> dict:
    """Options with the fastmath flags ``extra`` (plus ``contract``); no flag assumes anything of NaN or inf."""
    flags = set(extra) | ({"contract"} if contract else set())
    return {**_options(), "fastmath": flags or False}


def jit(func=None, *, contract: bool = False):
    """Compile ``func`` lazily as a serial, cached Numba kernel (``@jit`` or ``@jit(contract=True)``)."""
    if func is None:
        return lambda f: jit(f, contract=contract)
    import numba

    return numba.njit(**_flags(contract=contract))(func)


def inline_jit(func=None, *, contract: bool = False):
    """Like :func:`jit`, inlined into its callers at Numba IR level (small row kernels).

    Inlining removes the call and the reference counting of the array views
    passed to it, which cost more than the work for short rows.
    """
    if func is None:
        return lambda f: inline_jit(f, contract=contract)
    import numba

    return numba.njit(inline="always", **_flags(contract=contract))(func)


def sum_jit(func=None, *, contract: bool = False):
    """Like :func:`jit` with ``fastmath={"reassoc"}``: a sum the compiler may vectorise.

    For a small kernel whose result is a sum over a row: LLVM then keeps
    several partial sums in vector registers (a fixed order for a given
    build, so results stay deterministic and independent of the thread
    count). Nothing else in such a kernel should depend on the order of
    floating-point operations.
    """
    if func is None:
        return lambda f: sum_jit(f, contract=contract)
    import numba

    return numba.njit(**_flags("reassoc", contract=contract))(func)


def pjit(func=None, *, contract: bool = False):
    """Compile ``func`` lazily as a parallel, cached Numba kernel."""
    if func is None:
        return lambda f: pjit(f, contract=contract)
    import numba

    return numba.njit(parallel=True, **_flags(contract=contract))(func)


@contextlib.contextmanager
def num_threads(n_threads: int | None) -> Iterator[None]:
    """Temporarily set Numba's thread count (``None`` leaves it unchanged)."""
    if n_threads is None:
        yield
        return
    import numba

    if not isinstance(n_threads, (int,)) or n_threads < 1:
        raise ValueError(f"n_threads must be a positive integer or None, got {n_threads!r}")
    old = numba.get_num_threads()
    numba.set_num_threads(min(int(n_threads), numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(old)


#: Below this many multiply-adds a parallel kernel runs on one thread: the
#: thread-pool start-up then costs more than the work (measured: a step of
#: gradient descent at n=32, k=64 takes 0.06 ms on one thread and 0.5 ms on two).
SMALL_WORK = 1 << 17


@contextlib.contextmanager
def threads_for(work: int) -> Iterator[None]:
    """Run small kernels (``work < SMALL_WORK`` multiply-adds) on one thread."""
    if work >= SMALL_WORK:
        yield
        return
    import numba

    old = numba.get_num_threads()
    if old == 1:
        yield
        return
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(old)
