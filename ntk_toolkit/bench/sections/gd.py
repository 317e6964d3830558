"""The ``gd`` section: a step of :func:`ntk_toolkit.gradient_descent` against a dense-``U``
NumPy loop, the memory-bandwidth bound, float32 and the peers' loops."""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING

import numpy as np

from .._timing import LoadMonitor, Stats, copy_bandwidth, fmt_bytes, time_call
from ..config import GD_PEER_NAMES
from ..reference import benchmark_problem, naive_gradient_descent, rel_diff
from ..report import Row
from . import has_dtype_argument, toolkit

if TYPE_CHECKING:
    from ..suite import Run

def gd(state: Run) -> None:
    """float64, float32 and the copy bandwidth measured interleaved, then the dense-U NumPy loop.

    Every repeat times a copy of ``bandwidth_bytes`` (best of 3), then,
    after an untimed 20-step run that lets the machine settle from the
    copy, a float64 run and a float32 run back to back, so that the bound and the float32
    speed-up compare measurements taken under the same conditions (the
    speed of a shared machine drifts within seconds); their ratios are the
    medians of the per-repeat ratios.
    """
    nt = toolkit()
    cfg = state.cfg
    n, k = cfg.gd
    gen, C0, y, eta = benchmark_problem(n, k)
    check, steps = 10, cfg.gd_steps
    C_ours = nt.gradient_descent(gen, y, C0, eta, check, record=[check]).C  # also the warm-up
    U = gen.operator.todense()
    v = np.array(gen.output_weights)
    err = rel_diff(C_ours, naive_gradient_descent(U, v, y, C0, eta, check))
    runs = {"float64": lambda: nt.gradient_descent(gen, y, C0, eta, steps, record=[steps])}
    state.gd32_err = None
    if has_dtype_argument():
        C32 = nt.gradient_descent(gen, y, C0, eta, check, record=[check], dtype=np.float32).C  # warm-up
        state.gd32_err = rel_diff(C32, C_ours)
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
    state.gd_stats = {name: Stats.from_times(t, mon.other_cores, per=steps) for name, t in times.items()}
    bws = [smp["best"] for smp in samples]
    state.bandwidth = {**samples[int(np.argmax(bws))], "best": max(bws), "median": statistics.median(bws),
                       "samples": bws, "repeats_each": 3}
    ours = state.gd_stats["float64"]
    ref = time_call(lambda: naive_gradient_descent(U, v, y, C0, eta, cfg.naive_steps), cfg.ref_repeats,
                    warmup=1, per=cfg.naive_steps, budget=cfg.budget)
    state.add(Row("gd", "gradient_descent per step", (n, k), ours=ours, reference="dense-U NumPy loop",
                  ref=ref, ref_status="ok", details={"ref_rel_diff": err, "steps": steps, "eta": eta}),
              ("gd", "naive", (n, k)))
    state.notes.append(f"gradient_descent vs dense-U NumPy loop at {(n, k)} after {check} steps: max rel. "
                       f"diff of C {err:.1e}; η = max_step_size(gen) = {eta:.4g}; {steps} steps per timed run")
    state.gd64 = ours
    gd_bound(state, "float64", 8)


def gd_bound(state: Run, dtype: str, itemsize: int) -> None:
    """Row: a ``dtype`` step against the memory-bandwidth bound measured before each repeat."""
    n, k = state.cfg.gd
    ours = state.gd_stats[dtype]
    bws = state.bandwidth["samples"]
    nbytes = (2 * itemsize + 2) * n * k
    bounds = [nbytes / bw for bw in bws]
    over = [t / bd for t, bd in zip(ours.times, bounds)]  # per repeat, bandwidth measured just before
    bw = statistics.median(bws)
    row = Row("gd", "gradient_descent per step", (n, k), dtype=dtype, ours=ours,
              reference=f"memory-bandwidth bound ({bw / 1e9:.1f} GB/s)", ref=Stats(tuple(bounds)),
              ref_status="ok", ratio=1.0 / statistics.median(over),
              details={"bytes_per_step": nbytes, "bandwidth_bytes_per_s": bws, "bound_s": bounds,
                       "ours_over_bound": over, "ours_over_bound_median": statistics.median(over)})
    state.add(row, ("gd", "bound", (n, k)) if dtype == "float64" else None)
    if dtype == "float64":
        state.notes.append(
             f"bandwidth bound: a step reads and writes C and writes and reads the activation mask, "
             f"(2·itemsize + 2)·n·k bytes = {fmt_bytes(nbytes)} at {(n, k)} float64; copy bandwidth "
             f"(np.copyto of {fmt_bytes(state.bandwidth['bytes'])}, read + write, best of 3, measured before "
             f"each timed run) {min(bws) / 1e9:.1f}–{max(bws) / 1e9:.1f} GB/s; ntk_toolkit takes "
             f"{statistics.median(over):.2f}× [{min(over):.2f}–{max(over):.2f}] the bound of its repeat")


def gd_float32(state: Run) -> None:
    """Row: the float32 step against the float64 one (measured interleaved by :func:`gd`)."""
    cfg = state.cfg
    n, k = cfg.gd
    op = "gradient_descent per step"
    stats = state.gd_stats
    if "float32" not in stats:
        message = ("gradient_descent has no dtype argument" if not has_dtype_argument()
                   else "measured with the float64 runs of the gd section, which did not run")
        state.add(Row("gd", op, (n, k), dtype="float32", status="not available", details={"message": message}))
        return
    ours, ref = stats["float32"], stats["float64"]
    speedup = [t64 / t32 for t64, t32 in zip(ref.times, ours.times)]  # per repeat, run back to back
    state.add(Row("gd", op, (n, k), dtype="float32", ours=ours, reference="ntk_toolkit float64", ref=ref,
                  ref_status="ok", ratio=statistics.median(speedup),
                  details={"rel_diff_vs_float64_after_10_steps": state.gd32_err, "steps": cfg.gd_steps,
                           "speedup_per_repeat": speedup}),
              ("gd", "float32", (n, k)))
    state.notes.append(f"gradient_descent float32 vs float64 at {(n, k)} after 10 steps: max rel. diff "
                       f"of C {state.gd32_err:.1e}; float32 runs interleaved with the float64 ones, speed-up "
                       f"{statistics.median(speedup):.2f}× [{min(speedup):.2f}–{max(speedup):.2f}] per repeat")
    gd_bound(state, "float32", 4)


def gd_peer(state: Run, peer: str, form: str | None = None) -> None:
    """Time the gradient-descent loop of a peer library (``peer``, ``form``) in its own process."""
    cfg = state.cfg
    n, k = cfg.gd
    ours = state.gd64
    row = Row("gd", "gradient_descent per step", (n, k), ours=ours, reference=GD_PEER_NAMES[peer, form],
              status="ok" if ours is not None else "not measured")
    res = None
    if state.peer_usable(peer):
        res = state.child({"task": "peer_gd", "peer": peer, "form": form, "n": n, "k": k, "steps": cfg.peer_steps,
                           "repeats": cfg.gd_repeats, "budget": cfg.budget})
    state.add(state.peer_row(row, res, per=cfg.peer_steps), ("gd", peer, (n, k)))
