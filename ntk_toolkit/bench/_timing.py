"""Timing, load monitoring, memory bandwidth and environment of the benchmark suite."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CONTENTION_CORES",
    "LoadMonitor",
    "Stats",
    "copy_bandwidth",
    "environment",
    "fmt_bytes",
    "fmt_time",
    "set_blas_threads",
    "time_call",
    "wait_until_idle",
]

#: A measurement during which other processes used more cores than this is flagged.
CONTENTION_CORES = 0.25


# --------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Stats:
    """Median, min and max of repeated wall-clock times (seconds, per operation).

    Attributes
    ----------
    times : tuple of float
        Every timed repeat, in order.
    other_cores : float or None
        Average number of cores used by other processes while timing (None
        when it could not be measured).
    """

    times: tuple[float, ...]
    other_cores: float | None = None

    def __post_init__(self):
        if not self.times:
            raise ValueError("Stats needs at least one time")

    @classmethod
    def from_times(cls, times, other_cores: float | None = None, per: int = 1) -> Stats:
        """Stats of ``times`` divided by ``per`` (e.g. seconds per step of a ``per``-step run)."""
        if per < 1:
            raise ValueError(f"per must be a positive integer, got {per!r}")
        return cls(tuple(float(t) / per for t in times), other_cores)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def max(self) -> float:
        return max(self.times)

    def to_dict(self) -> dict:
        return {"median": self.median, "min": self.min, "max": self.max, "repeats": len(self.times),
                "times": list(self.times), "other_cores": self.other_cores}

    def __str__(self) -> str:
        if len(self.times) == 1:
            return fmt_time(self.median)
        return f"{fmt_time(self.median)} [{fmt_time(self.min)}–{fmt_time(self.max)}]"


def fmt_time(s: float) -> str:
    """``1.23 s``, ``4.5 ms`` or ``78 µs``."""
    if s >= 1.0:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms" if s < 1e-2 else f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def fmt_bytes(b: float) -> str:
    """``1.5 GiB``, ``12 MiB`` or ``640 KiB``."""
    if b >= 2**30:
        return f"{b / 2**30:.2f} GiB"
    if b >= 2**20:
        return f"{b / 2**20:.0f} MiB"
    return f"{b / 2**10:.0f} KiB"


# --------------------------------------------------------------------------- load of other processes
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_busy_seconds() -> float | None:
    """CPU-seconds spent non-idle by the whole machine since boot (Linux), else None."""
    try:
        with open("/proc/stat") as fh:
            vals = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = vals[3] + vals[4]  # idle + iowait
    return (sum(vals) - idle) / _CLK_TCK


def _own_cpu_seconds() -> float:
    t = os.times()  # all threads of this process, plus waited-for children
    return t.user + t.system + t.children_user + t.children_system


class LoadMonitor:
    """Average number of cores used by *other* processes during a ``with`` block.

    ``other_cores`` is machine-wide busy time (``/proc/stat``) minus this
    process's own CPU time, divided by the wall time; ``None`` off Linux.
    """

    other_cores: float | None = None

    def __enter__(self) -> LoadMonitor:
        self._wall, self._busy, self._own = time.perf_counter(), _machine_busy_seconds(), _own_cpu_seconds()
        return self

    def __exit__(self, *exc) -> bool:
        wall = time.perf_counter() - self._wall
        busy = _machine_busy_seconds()
        if busy is None or self._busy is None or wall <= 0:
            self.other_cores = None
        else:
            other = (busy - self._busy) - (_own_cpu_seconds() - self._own)
            self.other_cores = max(0.0, other / wall)
        return False


def wait_until_idle(max_wait: float, threshold: float = 0.1, window: float = 2.0,
                    log: Callable[[str], None] | None = None) -> float | None:
    """Wait at most ``max_wait`` s until other processes use < ``threshold`` cores over ``window`` s.

    Returns the last measured load of other processes (cores).
    """
    deadline = time.perf_counter() + max_wait
    while True:
        with LoadMonitor() as mon:
            time.sleep(window)
        if mon.other_cores is None or mon.other_cores < threshold or time.perf_counter() >= deadline:
            return mon.other_cores
        if log is not None:
            log(f"other processes use {mon.other_cores:.2f} cores; waiting ...")


def time_call(fn: Callable[[], object], repeats: int, warmup: int = 1, per: int = 1,
              budget: float | None = None) -> Stats:
    """Wall-clock times of ``fn()`` after ``warmup`` untimed calls.

    Parameters
    ----------
    fn : callable
        Called without arguments; its result is discarded.
    repeats : int
        Number of timed calls (``>= 1``).
    warmup : int, default 1
        Untimed calls first (compilation, caches, first-touch page faults).
    per : int, default 1
        Divide every time by this (e.g. the number of steps of one call).
    budget : float, optional
        Stop repeating once the timed calls have taken this many seconds
        (at least one call is always timed).

    Returns
    -------
    Stats
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats!r}")
    for _ in range(warmup):
        fn()
    times: list[float] = []
    with LoadMonitor() as mon:
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
            if budget is not None and sum(times) >= budget:
                break
    return Stats.from_times(times, mon.other_cores, per=per)


# --------------------------------------------------------------------------- memory bandwidth
def copy_bandwidth(nbytes: int = 256 * 2**20, repeats: int = 5, threads: int = 1) -> dict:
    """Measured memory bandwidth of copying a large float64 array (bytes read + written per second).

    Copies ``nbytes`` with ``np.copyto`` on one thread and, when ``threads > 1``,
    split into ``threads`` slices copied concurrently; each is the best of
    ``repeats``. Every copy moves ``2 * nbytes`` (read + write).

    Returns
    -------
    dict
        ``bytes``, ``single_thread`` and ``threaded`` (bytes/s, ``None``
        for one thread) and ``best`` (bytes/s).
    """
    if nbytes < 2**20:
        raise ValueError(f"nbytes must be at least 1 MiB to measure memory bandwidth, got {nbytes}")
    n = nbytes // 8
    src = np.ones(n)
    dst = np.zeros(n)
    np.copyto(dst, src)  # first touch of both
    best1 = min(_timed(lambda: np.copyto(dst, src)) for _ in range(repeats))
    single = 2 * src.nbytes / best1
    threaded = None
    if threads > 1:
        edges = np.linspace(0, n, threads + 1).astype(int)
        parts = [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]
        with ThreadPoolExecutor(threads) as ex:
            def copy_all():
                list(ex.map(lambda s: np.copyto(dst[s], src[s]), parts))

            copy_all()
            best_t = min(_timed(copy_all) for _ in range(repeats))
        threaded = 2 * src.nbytes / best_t
    return {"bytes": int(src.nbytes), "single_thread": single, "threaded": threaded,
            "best": max(single, threaded or 0.0)}


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- threads
def set_blas_threads(n: int) -> bool:
    """Set the thread count of the OpenBLAS bundled with NumPy and SciPy; True if it was set.

    The environment variable ``OPENBLAS_NUM_THREADS`` works only before NumPy
    is imported; this calls OpenBLAS' own ``set_num_threads`` instead
    (:func:`ntk_toolkit._blas.set_threads`).
    """
    from .._blas import set_threads

    return set_threads(int(n))


# --------------------------------------------------------------------------- environment
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _meminfo(key: str) -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def available_memory() -> int:
    """Bytes of memory available to new allocations (``MemAvailable``; 8 GiB if unknown)."""
    avail = _meminfo("MemAvailable")
    return avail if avail is not None else 8 * 2**30


def _version(module: str) -> str | None:
    """Version of an installed package without importing it (None when absent)."""
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def environment(threads: int) -> dict:
    """Versions, CPU, memory, thread count and load of this machine."""
    import numba
    import scipy

    from .. import __version__

    return {
        "python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
        "numba": numba.__version__, "torch": _version("torch"), "jax": _version("jax"),
        "jaxlib": _version("jaxlib"), "ntk_toolkit": __version__, "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(), "threads": threads, "numba_max_threads": numba.config.NUMBA_NUM_THREADS,
        "memory_total": _meminfo("MemTotal"), "memory_available": _meminfo("MemAvailable"),
        "platform": platform.platform(), "executable": sys.executable, "load_average": load_average(),
    }
