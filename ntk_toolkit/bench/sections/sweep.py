"""The ``sweep`` section: the cost of :mod:`ntk_toolkit.sweep` itself.

* the store's overhead per point: a sweep of ``cfg.sweep_trivial`` points of a trivial
  measurement (:func:`trivial`, no numerical work) run in this process (``scheduler="serial"``:
  driver and one SQLite transaction per point) and on a local pool of two processes (also the
  inter-process traffic);
* throughput: the same ``fit_time`` sweep (``cfg.sweep_fit``: noise and a step fitted to 5 % by
  the triangle filters of width 4 and 8, from a few to ``steps`` iterations per point) on a local
  pool of two worker processes against one, each task on one Numba/OpenBLAS thread; the ratio
  is the speed-up.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .._timing import LoadMonitor, Stats
from ..report import Row

if TYPE_CHECKING:
    from ..suite import Run

SECTION = "sweep"


def trivial(*, x: float, seed: int) -> dict:
    """A measurement that does no numerical work: the sweep machinery's own cost.

    Examples
    --------
    >>> trivial(x=2.0, seed=3)
    {'x': 2.0, 'seed': 3}
    """
    return {"x": x, "seed": seed}


def _timed_run(spec: dict, folder: Path, name: str, **kwargs) -> float:
    from ...sweep import run

    t0 = time.perf_counter()
    res = run(spec, folder / f"{name}.db", **kwargs)
    seconds = time.perf_counter() - t0
    if res.done != res.total:
        raise RuntimeError(f"sweep benchmark {name}: {res.failed} of {res.total} points failed")
    return seconds


def sweep_store(state: Run) -> None:
    """Seconds per point of a trivial sweep: serial (driver + store) and on a 2-process pool."""
    n = state.cfg.sweep_trivial
    spec = {"sweep": {"measurement": "ntk_toolkit.bench.sections.sweep:trivial", "seeds": 10},
            "grid": {"x": [float(i) for i in range(n // 10)]}}
    with tempfile.TemporaryDirectory() as d:
        with LoadMonitor() as mon:  # the pool runs below are left unmonitored: their workers count as "other"
            serial = _timed_run(spec, Path(d), "serial", scheduler="serial")
        pool = _timed_run(spec, Path(d), "pool", workers=2, threads=1)
        resume = _timed_run(spec, Path(d), "pool", workers=2, threads=1)
    state.add(Row(SECTION, "store overhead per point (serial: driver + one transaction)", (n,), dtype="—",
                  ours=Stats.from_times([serial], mon.other_cores, per=n), details={"seconds_total": serial}),
              (SECTION, "store", (n,)))
    state.add(Row(SECTION, "overhead per point, local pool of 2 processes", (n,), dtype="—",
                  ours=Stats.from_times([pool], per=n), details={"seconds_total": pool}))
    state.notes.append(f"sweep: {n} points of a trivial measurement in {serial:.2f} s in this process "
                       f"({1e3 * serial / n:.2f} ms per point: spec expansion, one SQLite transaction per point, "
                       f"progress), {pool:.2f} s on a local pool of 2 processes ({1e3 * pool / n:.2f} ms per point, "
                       f"including start-up and inter-process traffic); finding all {n} stored on a rerun took "
                       f"{resume:.2f} s")


def sweep_workers(state: Run) -> None:
    """A ``fit_time`` sweep on 2 local worker processes against 1 (one thread per task)."""
    n, k, seeds, steps = state.cfg.sweep_fit
    spec = {"sweep": {"measurement": "fit_time", "seeds": seeds},
            "grid": {"filter": ["triangle:4", "triangle:8"], "n": [n], "k": [k, 2 * k], "signal": ["noise", "step"],
                     "delta": [0.05], "steps": [steps]}}
    points = 8 * seeds
    with tempfile.TemporaryDirectory() as d:
        _timed_run({**spec, "sweep": {**spec["sweep"], "seeds": 1}}, Path(d), "warm", scheduler="serial")
        one = _timed_run(spec, Path(d), "one", workers=1, threads=1)
        two = _timed_run(spec, Path(d), "two", workers=2, threads=1)
    state.add(Row(SECTION, "fit_time sweep, 2 worker processes", (points,), ours=Stats((two,)),
                  reference="the same sweep on 1 worker process", ref=Stats((one,)), ref_status="ok",
                  details={"n": n, "k": [k, 2 * k], "steps": steps, "seeds": seeds}),
              (SECTION, "workers", (points,)))
    state.notes.append(f"sweep: {points} fit_time points (n = {n}, k = {k} and {2 * k}, triangle:4 and triangle:8, "
                       f"noise and step to 5 % of the residual, at most {steps} steps) in "
                       f"{one:.1f} s on 1 worker process and {two:.1f} s on 2 (one Numba/OpenBLAS thread per task; "
                       f"speed-up {one / two:.2f}×, including pool start-up)")
