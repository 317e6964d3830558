"""The ``gd`` section: a step of :func:`ntk_toolkit.gradient_descent` against a dense-``U``
NumPy loop, the memory-bandwidth bound, float32 and the peers' loops.

The interleaved float64/float32/bandwidth measurement (:func:`interleaved`), the bound
(:func:`gd_bound`), the float32 row (:func:`gd_float32`) and the peer rows (:func:`gd_peer`)
take the section they belong to, so the ``images`` section uses them for its 2-D problem.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .._timing import LoadMonitor, Stats, copy_bandwidth, fmt_bytes, time_call
from ..config import GD_PEER_NAMES, IMAGE_GD_PEER_NAMES
from ..reference import benchmark_problem, naive_gradient_descent, rel_diff
from ..report import Row
from . import has_dtype_argument, toolkit

if TYPE_CHECKING:
    from ..suite import Run

#: Steps after which ntk_toolkit is compared with the references (and float32 with float64).
CHECK_STEPS = 10


@dataclass
class GdRuns:
    """float64 and float32 runs of one section and the copy bandwidth, measured interleaved.

    Attributes
    ----------
    size : tuple
        The rows' size: ``(n, k)`` or, for images, ``(H, W, k)``.
    entries : int
        Entries of ``C`` (``n k``).
    steps : int
        Steps of every timed run.
    stats : dict
        ``{"float64": Stats, "float32": Stats}`` in seconds per step (float32
        only when :func:`ntk_toolkit.gradient_descent` takes ``dtype``);
        repeat ``i`` of each was run right after bandwidth sample ``i``.
    bandwidth : list of float
        Copy bandwidth (bytes/s) measured before each repeat.
    err32 : float or None
        Max relative difference of ``C`` between float32 and float64 after
        :data:`CHECK_STEPS` steps.
    """

    size: tuple
    entries: int
    steps: int
    stats: dict
    bandwidth: list
    err32: float | None = None


def interleaved(state: Run, section: str, size: tuple, gen, y, C0, eta: float, steps: int,
                C_check: np.ndarray) -> GdRuns:
    """Time float64 and float32 runs of ``steps`` steps and the copy bandwidth, interleaved.

    Every repeat times a copy of ``cfg.bandwidth_bytes`` (best of 3), then,
    after an untimed 20-step run that lets the machine settle from the
    copy, a float64 run and a float32 run back to back, so that the bound and the float32
    speed-up compare measurements taken under the same conditions (the
    speed of a shared machine drifts within seconds); their ratios are the
    medians of the per-repeat ratios. ``C_check`` is the float64 ``C`` after
    :data:`CHECK_STEPS` steps (its call is also the float64 warm-up). The
    result is stored in ``state.gd_runs[section]``; the first section that
    measures the bandwidth also sets ``state.bandwidth`` (the report's).
    """
    nt = toolkit()
    cfg = state.cfg
    runs = {"float64": lambda: nt.gradient_descent(gen, y, C0, eta, steps, record=[steps])}
    err32 = None
    if has_dtype_argument():
        C32 = nt.gradient_descent(gen, y, C0, eta, CHECK_STEPS, record=[CHECK_STEPS], dtype=np.float32).C  # warm-up
        err32 = rel_diff(C32, C_check)
        runs["float32"] = lambda: nt.gradient_descent(gen, y, C0, eta, steps, record=[steps], dtype=np.float32)
    # untimed after each copy: freeing the copy's arrays slowed the next 5–10 steps (2.2 ms instead of 1.5)
    settle = lambda: nt.gradient_descent(gen, y, C0, eta, 20, record=[20])  # noqa: E731
    times: dict[str, list[float]] = {name: [] for name in runs}
    samples = []
    with LoadMonitor() as mon:
        for _ in range(cfg.gd_repeats):
            samples.append(copy_bandwidth(cfg.bandwidth_bytes, repeats=3, threads=state.threads))
            settle()
            for name, fn in runs.items():
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
            if sum(map(sum, times.values())) >= cfg.budget:
                break
    bws = [smp["best"] for smp in samples]
    out = GdRuns(size=tuple(size), entries=int(C0.size), steps=steps, bandwidth=bws, err32=err32,
                 stats={name: Stats.from_times(t, mon.other_cores, per=steps) for name, t in times.items()})
    state.gd_runs[section] = out
    if state.bandwidth is None:
        state.bandwidth = {**samples[int(np.argmax(bws))], "best": max(bws), "median": statistics.median(bws),
                           "samples": bws, "repeats_each": 3, "section": section}
    return out


def gd(state: Run) -> None:
    """float64, float32 and the copy bandwidth interleaved (:func:`interleaved`), then the dense-U NumPy loop."""
    nt = toolkit()
    cfg = state.cfg
    n, k = cfg.gd
    gen, C0, y, eta = benchmark_problem(n, k)
    check, steps = CHECK_STEPS, cfg.gd_steps
    C_ours = nt.gradient_descent(gen, y, C0, eta, check, record=[check]).C  # also the warm-up
    U = gen.operator.todense()
    v = np.array(gen.output_weights)
    err = rel_diff(C_ours, naive_gradient_descent(U, v, y, C0, eta, check))
    ours = interleaved(state, "gd", (n, k), gen, y, C0, eta, steps, C_ours).stats["float64"]
    ref = time_call(lambda: naive_gradient_descent(U, v, y, C0, eta, cfg.naive_steps), cfg.ref_repeats,
                    warmup=1, per=cfg.naive_steps, budget=cfg.budget)
    state.add(Row("gd", "gradient_descent per step", (n, k), ours=ours, reference="dense-U NumPy loop",
                  ref=ref, ref_status="ok", details={"ref_rel_diff": err, "steps": steps, "eta": eta}),
              ("gd", "naive", (n, k)))
    state.notes.append(f"gradient_descent vs dense-U NumPy loop at {(n, k)} after {check} steps: max rel. "
                       f"diff of C {err:.1e}; η = max_step_size(gen) = {eta:.4g}; {steps} steps per timed run")
    gd_bound(state, "gd", "float64")


def bound_bytes(entries: int, itemsize: int) -> int:
    """Bytes a gradient-descent step must move: read and write ``C``, write and read the one-byte mask.

    ``(2·itemsize + 2)·n·k`` for ``entries = n·k``.

    Examples
    --------
    >>> from ntk_toolkit.bench.sections.gd import bound_bytes
    >>> bound_bytes(512 * 2048, 8) / 2**20, bound_bytes(128 * 128 * 256, 4) / 2**20
    (18.0, 40.0)
    """
    return (2 * int(itemsize) + 2) * int(entries)


def gd_bound(state: Run, section: str, dtype: str) -> None:
    """Row: a ``dtype`` step of ``section``'s runs against the memory-bandwidth bound measured before each repeat."""
    runs = state.gd_runs[section]
    size = runs.size
    ours = runs.stats[dtype]
    bws = runs.bandwidth
    nbytes = bound_bytes(runs.entries, np.dtype(dtype).itemsize)
    bounds = [nbytes / bw for bw in bws]
    over = [t / bd for t, bd in zip(ours.times, bounds)]  # per repeat, bandwidth measured just before
    bw = statistics.median(bws)
    row = Row(section, "gradient_descent per step", size, dtype=dtype, ours=ours,
              reference=f"memory-bandwidth bound ({bw / 1e9:.1f} GB/s)", ref=Stats(tuple(bounds)),
              ref_status="ok", ratio=1.0 / statistics.median(over),
              details={"bytes_per_step": nbytes, "bandwidth_bytes_per_s": bws, "bound_s": bounds,
                       "ours_over_bound": over, "ours_over_bound_median": statistics.median(over)})
    state.add(row, (section, "bound", size) if dtype == "float64" else None)
    if dtype == "float64":
        state.notes.append(
             f"bandwidth bound ({section}): a step reads and writes C and writes and reads the activation mask, "
             f"(2·itemsize + 2)·n·k bytes = {fmt_bytes(nbytes)} at {size} float64; copy bandwidth "
             f"(np.copyto of {fmt_bytes(state.cfg.bandwidth_bytes)}, read + write, best of 3, measured before "
             f"each timed run) {min(bws) / 1e9:.1f}–{max(bws) / 1e9:.1f} GB/s; ntk_toolkit takes "
             f"{statistics.median(over):.2f}× [{min(over):.2f}–{max(over):.2f}] the bound of its repeat")


def _problem(state: Run, section: str):
    """Size, child-task fields, peer steps and peer names of ``section``'s gradient-descent problem."""
    cfg = state.cfg
    if section == "gd":
        n, k = cfg.gd
        return (n, k), {"n": n, "k": k}, cfg.peer_steps, GD_PEER_NAMES
    H, W, k = cfg.images_gd
    return (H, W, k), {"shape": [H, W], "k": k}, cfg.images_peer_steps, IMAGE_GD_PEER_NAMES


def gd_float32(state: Run, section: str = "gd") -> None:
    """Row: the float32 step against the float64 one (measured interleaved by :func:`interleaved`)."""
    size = _problem(state, section)[0]
    op = "gradient_descent per step"
    runs = state.gd_runs.get(section)
    if runs is None or "float32" not in runs.stats:
        message = ("gradient_descent has no dtype argument" if not has_dtype_argument()
                   else f"measured with the float64 runs of the {section} section, which did not run")
        state.add(Row(section, op, size, dtype="float32", status="not available", details={"message": message}))
        return
    ours, ref = runs.stats["float32"], runs.stats["float64"]
    speedup = [t64 / t32 for t64, t32 in zip(ref.times, ours.times)]  # per repeat, run back to back
    state.add(Row(section, op, size, dtype="float32", ours=ours, reference="ntk_toolkit float64", ref=ref,
                  ref_status="ok", ratio=statistics.median(speedup),
                  details={f"rel_diff_vs_float64_after_{CHECK_STEPS}_steps": runs.err32, "steps": runs.steps,
                           "speedup_per_repeat": speedup}),
              (section, "float32", size))
    state.notes.append(f"gradient_descent float32 vs float64 at {size} after {CHECK_STEPS} steps: max rel. diff "
                       f"of C {runs.err32:.1e}; float32 runs interleaved with the float64 ones, speed-up "
                       f"{statistics.median(speedup):.2f}× [{min(speedup):.2f}–{max(speedup):.2f}] per repeat")
    gd_bound(state, section, "float32")


def gd_peer(state: Run, peer: str, form: str | None = None, section: str = "gd") -> None:
    """Time a peer library's gradient-descent loop (``peer``, ``form``) on ``section``'s problem, in its own process."""
    cfg = state.cfg
    size, problem, steps, names = _problem(state, section)
    runs = state.gd_runs.get(section)
    ours = runs.stats["float64"] if runs is not None else None
    row = Row(section, "gradient_descent per step", size, ours=ours, reference=names[peer, form],
              status="ok" if ours is not None else "not measured")
    res = None
    if state.peer_usable(peer):
        res = state.child({"task": "peer_gd", "peer": peer, "form": form, **problem, "steps": steps,
                           "repeats": cfg.gd_repeats, "budget": cfg.budget})
    state.add(state.peer_row(row, res, per=steps), (section, peer, size))
