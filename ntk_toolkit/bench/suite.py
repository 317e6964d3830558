"""The benchmark suite: sections, sizes, targets and the run.

Sections (each compares ntk_toolkit with references measured in the same run):

``kernel``
    :func:`ntk_toolkit.empirical_kernel` against the explicit ``J Jᵀ``
    (``method="jacobian"``, same process) and, with peers, ``J Jᵀ`` from
    ``torch.func.jacrev`` and ``jax.jacrev``; at large sizes, in a fresh
    process, its time and peak extra memory (RSS) as a multiple of
    ``C.nbytes``; in full mode the largest ``(n, 16n)`` computed within 60 s.
``gd``
    :func:`ntk_toolkit.gradient_descent` per step against a dense-``U`` NumPy
    loop (same process), the memory-bandwidth bound of a step, float32 against
    float64 and, with peers, a PyTorch autograd loop and a jitted JAX loop.
``spectrum``
    :func:`ntk_toolkit.spectrum` of the expected kernel against a full FFT of
    its first row.
``images``
    The same on ``H x W`` images (:class:`ntk_toolkit.CircularConv2D`, sizes
    ``(H, W)`` or ``(H, W, k)``): the spectrum of ``Σ`` against a full 2-D
    FFT, with its peak memory in a fresh process; gradient descent per step
    against a sparse-``U`` NumPy loop, the memory-bandwidth bound, float32,
    with peers PyTorch (circular ``conv2d``) and JAX (``lax.conv``), and the
    peak memory of one run in a fresh process; ``top_eigenpairs`` and
    ``empirical_kernel``.
``deep``
    The deep decoder (:mod:`ntk_toolkit.deep`, sizes ``(H, W, k, layers)``):
    ``jacobian_spectrum`` against ``torch.func.jacrev`` + SVD, and one Adam
    step against ``torch.optim.Adam`` (with peers).
``symbolic``
    ``expected_kernel_first_row`` and ``spectrum`` for smooth activations (closed
    form or cached quadrature) against ReLU's; the second call of
    :func:`ntk_toolkit.symbolic.dual`; ``import ntk_toolkit`` without sympy.
``sweep``
    :mod:`ntk_toolkit.sweep`: the store's overhead per point (a trivial
    measurement, in this process and on a 2-process pool) and a ``fit_time``
    sweep on 2 worker processes against 1.
``startup``
    ``import ntk_toolkit`` and the first call of each public routine in a
    fresh process with a warm Numba cache.
``dynamics``
    Gradient descent with the regime diagnostics recorded at 20 iterations
    against the same run without (a 1-D signal and an image), and the stability estimate of the
    step-size guard (:func:`ntk_toolkit.step_limit`).
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager

import numpy as np

from ._child import PEER_RTOL, ChildResult, run_child
from ._timing import LoadMonitor, Stats, environment, fmt_bytes, load_average, set_blas_threads, wait_until_idle
from .config import (
    FULL,
    IMAGE_PEER_VARIANTS,
    INSTALL_HINT,
    PEER_NAMES,
    PEER_VARIANTS,
    PEERS,
    QUICK,
    SECTIONS,
    TARGETS,
    Config,
)
from .report import BenchReport, Row
from .sections import deep, dynamics, gd, images, kernel, spectrum, startup, sweep, symbolic
from .sections import has_dtype_argument as has_dtype_argument

__all__ = ["FULL", "PEERS", "QUICK", "SECTIONS", "Config", "run_suite"]


def peer_available(peer: str) -> bool:
    """Whether the peer library is installed (without importing it)."""
    return importlib.util.find_spec(peer) is not None


class Run:
    """State of one run: configuration, rows, notes, the child launcher and what one section
    measures for another (the kernel time, the memory runs, the interleaved gradient-descent runs
    of each section, the bandwidth)."""

    def __init__(self, cfg: Config, quick: bool, peers: bool, threads: int, time_limit: float,
                 log: Callable[[str], None]):
        self.cfg, self.quick, self.peers, self.threads = cfg, quick, peers, threads
        self.time_limit, self.log = time_limit, log
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.hints: list[str] = []
        self.bandwidth: dict | None = None
        self.kernel_ours: Stats | None = None
        self.memory_results: dict = {}
        self.gd_runs: dict = {}  # section -> gd.GdRuns
        self._missing: set[str] = set()

    # -- helpers ---------------------------------------------------------------
    def add(self, row: Row, key: tuple | None = None) -> Row:
        if key is not None and not self.quick:
            row.target = TARGETS.get(key)
        self.rows.append(row.finish(with_target=not self.quick))
        return row

    def child(self, task: dict, time_limit: float | None = None) -> ChildResult:
        with LoadMonitor() as mon:
            res = run_child(task, threads=self.threads, time_limit=time_limit or self.time_limit)
        res.other_cores = mon.other_cores
        return res

    def peer_usable(self, peer: str) -> bool:
        if peer in self._missing:
            return False
        if not peer_available(peer):
            self._missing.add(peer)
            self.hints.append(f"{peer} is not installed, {PEER_NAMES[peer]} peer skipped: {INSTALL_HINT}")
            return False
        return True

    def peer_row(self, row: Row, res: ChildResult | None, per: int = 1) -> Row:
        """Fill the reference of ``row`` from a peer child's result."""
        if res is None:
            row.ref_status = "not installed"
            return row
        if res.status == "missing":
            row.ref_status = "not installed"
            if INSTALL_HINT not in " ".join(self.hints):
                self.hints.append(f"{res.message}: {INSTALL_HINT}")
        elif res.ok:
            row.ref = Stats.from_times(res.result["times"], res.other_cores, per=per)
            row.ref_status = "ok"
            row.details.update(ref_rel_diff=res.result["rel_diff"], ref_version=res.result.get("version"),
                               ref_first_call_s=res.result.get("first_call"))
            if "extra_bytes" in res.result:
                row.details["ref_peak_bytes"] = res.result["extra_bytes"]
                self.notes.append(f"{row.reference} at {row.size}: peak extra memory "
                                  f"{fmt_bytes(res.result['extra_bytes'])} (first call, RSS); max rel. diff "
                                  f"from ntk_toolkit {res.result['rel_diff']:.1e}")
        else:
            row.ref_status = res.status
            row.details["ref_message"] = res.message
            if res.status == "disagrees":
                row.details["ref_rel_diff"] = res.result.get("rel_diff")
                self.notes.append(f"{row.reference} at {row.size} disagrees with ntk_toolkit: {res.message}; "
                                  "not timed")
        return row


    # -- plan ----------------------------------------------------------------------
    def plan(self, sections) -> list[tuple[str, Callable[[], None]]]:
        units = []
        if "kernel" in sections:
            units.append(("kernel vs J Jᵀ", lambda: kernel.kernel_pair(self)))
            if self.peers:
                units += [(f"kernel vs {p} {f or ''}".strip(), lambda p=p, f=f: kernel.kernel_peer(self, p, f))
                          for p, f in PEER_VARIANTS]
            if self.cfg.kernel_times:
                units.append(("kernel times", lambda: kernel.kernel_times(self)))
            units.append(("kernel memory", lambda: kernel.kernel_memory(self)))
            if self.cfg.largest:
                units.append(("largest kernel", lambda: kernel.kernel_largest(self)))
        if "gd" in sections:
            units += [("gradient descent", lambda: gd.gd(self)),
                      ("gradient descent float32", lambda: gd.gd_float32(self))]
            if self.peers:
                units += [(f"gradient descent vs {p} {f or ''}".strip(), lambda p=p, f=f: gd.gd_peer(self, p, f))
                          for p, f in PEER_VARIANTS]
        if "spectrum" in sections:
            units.append(("spectrum", lambda: spectrum.spectrum(self)))
        if "images" in sections:
            units += [("images: spectrum", lambda: images.images_spectrum(self)),
                      ("images: gradient descent", lambda: images.images_gd(self)),
                      ("images: gradient descent float32", lambda: gd.gd_float32(self, "images"))]
            if self.peers:
                units += [(f"images: gradient descent vs {p}", lambda p=p, f=f: gd.gd_peer(self, p, f, "images"))
                          for p, f in IMAGE_PEER_VARIANTS]
            units += [("images: gradient descent memory", lambda: images.images_gd_memory(self)),
                      ("images: top eigenpairs", lambda: images.images_top(self)),
                      ("images: empirical kernel", lambda: images.images_kernel(self))]
        if "deep" in sections:
            units += [("deep: jacobian spectrum", lambda: deep.deep_spectrum(self)),
                      ("deep: Adam step", lambda: deep.deep_adam(self))]
        if "symbolic" in sections:
            units += [("symbolic: kernels of other activations", lambda: symbolic.symbolic_kernels(self)),
                      ("symbolic: derivations and import", lambda: symbolic.symbolic_dual(self))]
        if "sweep" in sections:
            units += [("sweep: store overhead", lambda: sweep.sweep_store(self)),
                      ("sweep: workers", lambda: sweep.sweep_workers(self))]
        if "startup" in sections:
            units.append(("start-up", lambda: startup.startup(self)))
        if "dynamics" in sections:
            units += [("dynamics: diagnostics overhead", lambda: dynamics.diagnostics_overhead(self)),
                      ("dynamics: diagnostics overhead, image",
                       lambda: dynamics.diagnostics_overhead(self, image=True)),
                      ("dynamics: stability estimate", lambda: dynamics.stability_estimate(self))]
        return units


@contextmanager
def _threads(threads: int):
    """Numba and OpenBLAS on ``threads`` threads in this process (restored after)."""
    import numba

    from .._blas import get_threads, set_threads

    old = numba.get_num_threads()
    old_blas = get_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    blas = set_blas_threads(threads)
    try:
        yield blas
    finally:
        numba.set_num_threads(old)
        if blas:
            set_threads(old_blas)


def run_suite(*, quick: bool = False, peers: bool = False, threads: int | None = None, sections=None,
              time_limit: float = 120.0, wait_idle: float = 0.0, progress: bool = False,
              log: Callable[[str], None] | None = None) -> BenchReport:
    """Run the benchmark suite.

    Parameters
    ----------
    quick : bool, default False
        Small sizes (well under a minute on 2 cores); no targets are checked.
    peers : bool, default False
        Also time the PyTorch and JAX implementations (each in its own
        process, after checking that it agrees with ntk_toolkit to 1e-10).
        A peer that is not installed is skipped with a hint.
    threads : int, optional
        Threads for every library (Numba, BLAS, PyTorch, XLA); default: all
        cores Numba may use.
    sections : iterable of str, optional
        Subset of :data:`SECTIONS` (default all).
    time_limit : float, default 120
        Seconds allowed for each measurement run in a child process; a peer
        over it is reported as ``time-out``.
    wait_idle : float, default 0
        Before each measurement wait up to this many seconds for other
        processes to go quiet.
    progress : bool, default False
        Show a tqdm progress bar (stderr).
    log : callable, optional
        Receives one-line messages (e.g. skipped peers).

    Returns
    -------
    BenchReport

    Examples
    --------
    The full suite takes minutes; one section at quick sizes (the spectrum
    at ``n = 2¹⁶``, ntk_toolkit against a full FFT) takes a fraction of a second:

    >>> from ntk_toolkit.bench import run_suite
    >>> report = run_suite(quick=True, sections=["spectrum"], threads=1)
    >>> [(row.operation, row.size, row.status, row.reference) for row in report.rows]
    [('spectrum of Σ (circulant)', (65536,), 'ok', "full FFT of Σ's first row + sort")]
    >>> run_suite(sections=["gpu"])
    Traceback (most recent call last):
        ...
    ValueError: sections must be a non-empty subset of kernel, gd, spectrum, images, deep, symbolic, dynamics,
    sweep, startup; got ['gpu']
    """
    import numba

    if not isinstance(quick, bool) or not isinstance(peers, bool):
        raise TypeError(f"quick and peers must be True or False, got quick={quick!r}, peers={peers!r}")
    max_threads = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        threads = max_threads
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or not 1 <= threads <= max_threads:
        raise ValueError(f"threads must be an integer in [1, {max_threads}] (the cores Numba may use), "
                         f"got {threads!r}")
    threads = int(threads)
    sections = SECTIONS if sections is None else tuple(sections)
    bad = [s for s in sections if s not in SECTIONS]
    if bad or not sections:
        raise ValueError(f"sections must be a non-empty subset of {', '.join(SECTIONS)}; got {list(sections)}")
    if not (isinstance(time_limit, (int, float)) and math.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    log = log or (lambda msg: None)
    t0 = time.perf_counter()
    env = environment(threads)
    run = Run(QUICK if quick else FULL, quick, peers, threads, float(time_limit), log)
    units = run.plan([s for s in SECTIONS if s in sections])
    with ExitStack() as stack:
        blas = stack.enter_context(_threads(threads))
        env["blas_threads_set"] = blas
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = stack.enter_context(tqdm(total=len(units), desc="bench", unit="part", leave=False))
        for name, fn in units:
            if bar is not None:
                bar.set_postfix_str(name)
            if wait_idle > 0:
                wait_until_idle(wait_idle, log=log)
            fn()
            if bar is not None:
                bar.update(1)
    env["load_average_after"] = load_average()
    rows = run.rows
    if peers:
        run.notes.append(f"peers are checked against ntk_toolkit (max rel. diff ≤ {PEER_RTOL:g}, float64) before "
                         "they are timed, each in its own process with the same thread count")
    return BenchReport(mode="quick" if quick else "full", threads=threads, peers=peers, environment=env,
                       bandwidth=run.bandwidth, rows=rows, notes=run.notes, hints=run.hints,
                       wall_s=time.perf_counter() - t0)
