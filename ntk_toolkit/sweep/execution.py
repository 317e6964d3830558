"""Running a sweep: pending points sent to a local process pool, a Dask cluster or any executor, and
written to the store by the driver as they complete.

The driver lists the spec's points, skips those the store holds (``done``, and ``failed`` unless
``retry_failed``), and keeps at most a bounded number of tasks in flight. A task is a plain tuple
(measurement name, parameters, seed, thread limit); a worker returns a plain dict (status,
metrics or traceback, wall time, host, toolkit version) and never touches the store.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import socket
import sys
import time
import traceback
from dataclasses import dataclass

from .spec import SweepSpec, load_spec
from .store import Store

__all__ = ["run", "SweepResult", "run_point", "DASK_MISSING"]

#: What ``--scheduler`` and ``load()`` say when Dask or pandas is missing.
DASK_MISSING = ("a Dask scheduler needs dask.distributed, which is not installed: "
                "pip install 'ntk_toolkit[sweep]' (or pip install 'dask[distributed]')")

_THREADS_SET: list = [None]


@dataclass(frozen=True)
class SweepResult:
    """What :func:`run` did.

    Attributes
    ----------
    total : int
        (point, seed) runs of the spec.
    skipped : int
        Runs found in the store and not rerun.
    ran : int
        Runs executed now.
    done, failed : int
        Status counts of the spec's runs in the store afterwards.
    seconds : float
        Wall time of the call.
    store : str
    spec_hash : str

    Examples
    --------
    >>> SweepResult(4, 1, 3, 4, 0, 0.5, "s.db", "ab").remaining
    0
    """

    total: int
    skipped: int
    ran: int
    done: int
    failed: int
    seconds: float
    store: str
    spec_hash: str

    @property
    def remaining(self) -> int:
        """Runs of the spec with no row in the store."""
        return self.total - self.done - self.failed

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {"total": self.total, "skipped": self.skipped, "ran": self.ran, "done": self.done,
                "failed": self.failed, "remaining": self.remaining, "seconds": self.seconds,
                "store": self.store, "spec_hash": self.spec_hash}


def _limit_threads(threads: int | None) -> None:
    """Numba and OpenBLAS threads of this worker (once per process and value; Numba's count is per
    thread, so it is set on every call)."""
    if threads is None:
        return
    import numba

    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    if _THREADS_SET[0] != threads:
        from .. import _blas

        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)
        _blas.set_threads(int(threads))
        _THREADS_SET[0] = threads


def run_point(measurement: str, params: dict, seed: int, threads: int | None = None) -> dict:
    """Run one (point, seed) and return a plain dict; a measurement's exception becomes ``failed``.

    This is the task every worker runs. ``threads`` caps Numba's and OpenBLAS's threads in
    the worker (``None``: leave them).

    Returns
    -------
    dict
        ``status`` (``done``/``failed``), ``metrics`` (dict or None), ``traceback`` (str or
        None), ``wall_time`` (s), ``host``, ``toolkit_version``.

    Examples
    --------
    >>> r = run_point("spectrum_summary", {"filter": "delta", "n": 8, "keep": 0}, seed=0)
    >>> r["status"], round(r["metrics"]["lambda_min"], 12)
    ('done', 0.5)
    >>> run_point("spectrum_summary", {"filter": "triangle:9", "n": 8, "keep": 0}, seed=0)["status"]
    'failed'
    """
    from .. import __version__
    from .registry import get_measurement

    _limit_threads(threads)
    t0 = time.perf_counter()
    try:
        metrics, tb, status = get_measurement(measurement)(params, seed), None, "done"
    except Exception:
        metrics, tb, status = None, traceback.format_exc(), "failed"
    return {"status": status, "metrics": metrics, "traceback": tb, "wall_time": time.perf_counter() - t0,
            "host": socket.gethostname(), "toolkit_version": __version__}


class _Serial(cf.Executor):
    """Runs each task in the calling process at submission (``scheduler="serial"``)."""

    def submit(self, fn, /, *args, **kwargs):
        fut = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # pragma: no cover - run_point catches measurement errors
            fut.set_exception(exc)
        return fut


#: The most worker processes (or threads per task) a sweep accepts.
MAX_WORKERS = 4096


def _check_workers(workers) -> int | None:
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be a positive integer (at most {MAX_WORKERS}) or None, got {workers!r}")
    return workers


def _open_executor(scheduler, workers, threads):
    """``(executor, slots, threads per task, cleanup callables)`` for a scheduler name or address."""
    cpus = os.cpu_count() or 1
    if scheduler is None:
        import multiprocessing

        n = workers or cpus
        per = threads or max(1, cpus // n)
        pool = cf.ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"))
        return pool, n, per, [lambda: pool.shutdown(wait=True, cancel_futures=True)]
    if scheduler == "serial":
        return _Serial(), 1, threads, []
    if not isinstance(scheduler, str) or not (scheduler == "local" or "://" in scheduler):
        raise ValueError(f"scheduler must be None (local processes), 'serial', 'local' (a Dask LocalCluster) "
                         f"or a Dask scheduler address such as 'tcp://host:8786', got {scheduler!r}")
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError(DASK_MISSING) from exc
    cleanup = []
    if scheduler == "local":
        import logging

        # dashboard on a free port (no warning when 8787 is taken); the workers' shutdown chatter silenced
        cluster = LocalCluster(n_workers=workers or cpus, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=":0", silence_logs=logging.CRITICAL)
        client = Client(cluster)
        cleanup = [client.close, cluster.close]
    else:
        client = Client(scheduler)
        cleanup = [client.close]
    slots = sum(client.nthreads().values()) or 1
    return client.get_executor(), slots, threads or 1, cleanup


class _NoBar:
    """The progress bar's interface, doing nothing (tqdm is imported only when a bar is shown)."""

    def update(self, n=1):
        pass

    def set_postfix_str(self, s="", refresh=True):
        pass

    def close(self):
        pass


def _progress_bar(total, initial, enabled):
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="pt", desc="sweep", file=sys.stderr, dynamic_ncols=True,
                smoothing=0.1)


def run(spec, store, scheduler: str | None = None, workers: int | None = None, retry_failed: bool = False,
        executor: cf.Executor | None = None, *, progress: bool = False, allow_mixed: bool = False,
        batch: int | None = None, threads: int | None = None) -> SweepResult:
    """Run the points of ``spec`` that ``store`` does not hold yet, and write each as it finishes.

    Parameters
    ----------
    spec : SweepSpec, dict, path or TOML text
        Anything :func:`load_spec` reads.
    store : Store, str or os.PathLike
        A store, or its file (opened and closed here).
    scheduler : None, "serial", "local" or str
        ``None``: a local process pool (``workers`` processes, default one per core; no
        server; started with ``spawn``, so a calling script needs the
        ``if __name__ == "__main__":`` guard). ``"local"``: a Dask ``LocalCluster`` on 127.0.0.1 started (and closed)
        here. ``"tcp://HOST:PORT"``: a ``dask.distributed.Client`` on that existing cluster
        (closed afterwards; the cluster is left running). ``"serial"``: in this process,
        one point at a time. Dask needs the ``sweep`` extra.
    workers : int, optional
        Processes of the local pool or workers of the ``LocalCluster``.
    retry_failed : bool, default False
        Rerun the points stored as ``failed`` (by default they are skipped like ``done`` ones).
    executor : concurrent.futures.Executor, optional
        Run the tasks on this executor instead (e.g. ``client.get_executor()`` of a Dask
        client); it is not shut down. Excludes ``scheduler``.
    progress : bool, default False
        A tqdm bar with points done, failed, remaining and the estimated time left.
    allow_mixed : bool, default False
        Accept a store holding points of another code version of the measurement.
    batch : int, optional
        Tasks in flight at once; default twice the number of worker slots.
    threads : int, optional
        Numba and OpenBLAS threads per task: default ``cores // workers`` for the local
        pool, 1 per Dask worker thread (also for a Dask client's executor); other
        executors are left alone unless it is given. OpenBLAS's count is per process: given
        with ``"serial"`` or a thread pool, it applies to the calling process.

    Returns
    -------
    SweepResult

    Notes
    -----
    Only this process writes the store, one transaction per finished point, so a killed run
    loses at most the points in flight and a rerun resumes. The same point and seed give the
    same metrics on any worker: the measurement draws only from streams spawned from the seed,
    and the numerical kernels give the same result for any thread count. Tasks are submitted
    in the order of :meth:`SweepSpec.points`; rows are keyed, so completion order does not
    matter.

    Examples
    --------
    >>> import tempfile, os
    >>> spec = {"sweep": {"measurement": "spectrum_summary", "seeds": 1},
    ...         "grid": {"filter": ["delta", "triangle:2"], "n": [16]}}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     first = run(spec, os.path.join(d, "s.db"), scheduler="serial")
    ...     again = run(spec, os.path.join(d, "s.db"), scheduler="serial")
    >>> (first.ran, first.done), (again.ran, again.skipped)
    ((2, 2), (0, 2))
    """
    t_start = time.perf_counter()
    spec = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    workers = _check_workers(workers)
    if threads is not None:
        threads = _check_workers(threads)
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise ValueError(f"batch must be a positive integer or None, got {batch!r}")
    if executor is not None and scheduler is not None:
        raise ValueError("give either executor or scheduler, not both")
    if executor is not None and not isinstance(executor, cf.Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor, got {type(executor).__name__}")
    own_store = not isinstance(store, Store)
    st = Store(store) if own_store else store
    try:
        return _run(spec, st, scheduler, workers, retry_failed, executor, progress, allow_mixed, batch, threads,
                    t_start)
    finally:
        if own_store:
            st.close()


def _run(spec, store, scheduler, workers, retry_failed, executor, progress, allow_mixed, batch, threads, t_start):
    store.register_spec(spec, allow_mixed=allow_mixed)
    points = spec.points()
    have = store.statuses(spec.measurement.name)
    skip = {"done"} if retry_failed else {"done", "failed"}
    pending = [p for p in points if have.get(p.key) not in skip]
    counts = {"done": 0, "failed": 0}
    for p in points:
        if have.get(p.key) in counts:
            counts[have[p.key]] += 1
    if retry_failed:
        counts["failed"] -= sum(1 for p in pending if have.get(p.key) == "failed")
    skipped = len(points) - len(pending)
    cleanup = []
    if pending:
        if executor is not None:
            # a Dask client's executor runs one task per worker thread: one Numba/BLAS thread each
            dask = type(executor).__name__ == "ClientExecutor"
            ex, slots, per = executor, max(1, workers or os.cpu_count() or 1), threads or (1 if dask else None)
        else:
            ex, slots, per, cleanup = _open_executor(scheduler, workers, threads)
        limit = batch or 2 * slots
        bar = _progress_bar(len(points), skipped, progress)
        bar.set_postfix_str(_postfix(counts, len(points)))
        try:
            _drive(spec, store, pending, ex, per, limit, bar, counts, len(points))
        finally:
            bar.close()
            for fn in cleanup:
                fn()
    final = store.counts(spec)
    return SweepResult(len(points), skipped, len(pending), final["done"], final["failed"],
                       time.perf_counter() - t_start, str(store.path), spec.spec_hash)


def _postfix(counts: dict, total: int) -> str:
    return f"done {counts['done']} failed {counts['failed']} remaining {total - counts['done'] - counts['failed']}"


def _drive(spec, store, pending, ex, threads, limit, bar, counts, total) -> None:
    name = spec.measurement.name
    queue = iter(pending)
    in_flight: dict = {}

    def fill():
        while len(in_flight) < limit:
            p = next(queue, None)
            if p is None:
                return
            in_flight[ex.submit(run_point, name, p.params, p.seed, threads)] = p

    try:
        fill()
        while in_flight:
            finished, _ = cf.wait(list(in_flight), return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                p = in_flight.pop(fut)
                try:
                    result = fut.result()
                except cf.BrokenExecutor as exc:
                    raise RuntimeError(
                        "a worker process of the local pool exited (killed, out of memory, or a script that starts "
                        "the sweep without the `if __name__ == \"__main__\":` guard that process pools need); "
                        "the finished points are stored: run again to resume") from exc
                except Exception:
                    result = {"status": "failed", "metrics": None, "traceback": traceback.format_exc()}
                store.write(p, result, spec)
                counts[result["status"]] += 1
                bar.set_postfix_str(_postfix(counts, total), refresh=False)
                bar.update(1)
            fill()
    except BaseException:
        for fut in in_flight:
            fut.cancel()
        raise
