#!/usr/bin/env python
"""Core performance benchmarks of ntk_toolkit (float64, this machine).

Measures, as medians with [min–max] over repeats, timed with
``time.perf_counter`` after a warm-up call (so Numba compile time and first-touch
page faults are excluded):

(a) ``empirical_kernel(gen, C, method="structured")`` for a ``triangle(4)``
    circulant generator and ``C = gen.init(0)``, plus the peak extra memory of
    that call measured with ``tracemalloc`` (NumPy registers its allocations
    with it; BLAS work buffers and Numba-internal allocations are not seen),
    reported as a multiple of ``C.nbytes``; and the explicit ``J Jᵀ``
    (``method="jacobian"``) against the structured path at a small size;
(b) ``spectrum(gen)`` (circulant, O(n log n));
(c) ``gradient_descent`` time per step, against a naive dense-``U`` NumPy loop
    implementing the same update;
(d) ``import ntk_toolkit`` in a fresh interpreter.

Usage::

    python benchmarks/bench_core.py              # full sizes (a few minutes)
    python benchmarks/bench_core.py --quick      # small sizes (seconds)
    python benchmarks/bench_core.py --json out.json
    python benchmarks/bench_core.py --only kernel,gd --profile

Targets (full mode only; ``--quick`` sizes are not comparable):
structured kernel (1024, 8192) <= 0.5 s; (4096, 16384) <= 10 s with <= 3x
``C.nbytes`` extra memory; spectrum at n = 2**20 <= 2 s; gradient descent
<= 15 ms/step and >= 10x faster than the naive loop; import <= 1 s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

import ntk_toolkit as nt
from ntk_toolkit.filters import triangle
from ntk_toolkit.operators import CircularConv

SECTIONS = ("kernel", "spectrum", "gd", "import")

FULL = {
    "kernel": [((1024, 8192), 5), ((4096, 16384), 3)],
    "kernel_pair": ((256, 1024), 3),  # structured vs explicit J Jᵀ
    "spectrum": (2**20, 5),
    "gd": ((512, 2048), 200, 5),  # (n, k), steps, repeats
    "naive_steps": 20,
    "import": 5,
}
QUICK = {
    "kernel": [((256, 1024), 3), ((512, 2048), 3)],
    "kernel_pair": ((64, 256), 3),
    "spectrum": (2**16, 5),
    "gd": ((128, 512), 50, 3),
    "naive_steps": 10,
    "import": 5,
}

# Targets (seconds, or dimensionless), keyed by (operation, size); full mode only.
TARGETS = {
    ("empirical_kernel structured", (1024, 8192)): {"time_s": 0.5},
    ("empirical_kernel structured", (4096, 16384)): {"time_s": 10.0, "mem_x": 3.0},
    ("spectrum (circulant)", (2**20,)): {"time_s": 2.0},
    ("gradient_descent per step", (512, 2048)): {"time_s": 0.015, "ratio": 10.0},
    ("import ntk_toolkit", ()): {"time_s": 1.0},
}


# --------------------------------------------------------------------------- helpers
def make_gen(n: int, k: int) -> nt.TwoLayerGenerator:
    return nt.TwoLayerGenerator(CircularConv(triangle(4), n), k=k)


# -- contention monitor: how many cores did *other* processes use meanwhile? -----------
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
    """Measures the average number of cores used by other processes during a block."""

    def __enter__(self):
        self.wall, self.busy, self.own = time.perf_counter(), _machine_busy_seconds(), _own_cpu_seconds()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.wall
        busy = _machine_busy_seconds()
        if busy is None or self.busy is None or wall <= 0:
            self.other_cores = None
        else:
            other = (busy - self.busy) - (_own_cpu_seconds() - self.own)
            self.other_cores = max(0.0, other / wall)
        return False


#: A measurement during which other processes used more cores than this is flagged.
CONTENTION_CORES = 0.25


def wait_until_idle(max_wait: float, threshold: float = 0.1, window: float = 2.0) -> float | None:
    """Wait (at most ``max_wait`` s) until other processes use < ``threshold`` cores over ``window`` s.

    Returns the last measured load of other processes (cores).
    """
    deadline = time.perf_counter() + max_wait
    while True:
        with LoadMonitor() as mon:
            time.sleep(window)
        if mon.other_cores is None or mon.other_cores < threshold or time.perf_counter() >= deadline:
            return mon.other_cores
        log(f"[wait] other processes use {mon.other_cores:.2f} cores; waiting ...")


def time_call(fn, repeats: int, warmup: int = 1) -> tuple[list[float], float | None]:
    """Wall-clock times of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls,
    and the average number of cores used by other processes meanwhile."""
    for _ in range(warmup):
        fn()
    out = []
    with LoadMonitor() as mon:
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return out, mon.other_cores


def summary(timed: tuple[list[float], float | None], per: int = 1) -> dict:
    times, other = timed
    times = [t / per for t in times]
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "repeats": len(times), "times": times, "other_cores": other}


def peak_traced_bytes(fn) -> int:
    """Peak bytes allocated (and traced by tracemalloc) during ``fn()`` above the start level."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
        del result
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return int(peak)


def fmt_time(s: float) -> str:
    if s >= 1.0:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def fmt_summary(st: dict) -> str:
    return f"{fmt_time(st['median'])} [{fmt_time(st['min'])}–{fmt_time(st['max'])}]"


def profile_top(fn, limit: int = 12) -> str:
    """cProfile one call of ``fn`` and return the top functions by cumulative time."""
    pr = cProfile.Profile()
    pr.enable()
    fn()
    pr.disable()
    buf = io.StringIO()
    pstats.Stats(pr, stream=buf).sort_stats("cumulative").print_stats(limit)
    return buf.getvalue()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- (a) kernel
def _kernel_profiler(n: int, k: int):
    """A callable that rebuilds the inputs and profiles one structured-kernel call."""
    def run() -> str:
        gen = make_gen(n, k)
        C = gen.init(0)
        return profile_top(lambda: nt.empirical_kernel(gen, C, method="structured"))
    return run


def bench_kernel(cfg: dict, rows: list) -> None:
    # warm-up at a small size: compiles the direct-convolution kernel once
    g0 = make_gen(64, 16)
    nt.empirical_kernel(g0, g0.init(0), method="structured")

    for (n, k), repeats in cfg["kernel"]:
        gen = make_gen(n, k)
        C = gen.init(0)
        log(f"[kernel] structured n={n} k={k}: memory run (also warm-up) ...")
        def call(gen=gen, C=C):
            return nt.empirical_kernel(gen, C, method="structured")

        peak = peak_traced_bytes(call)
        log(f"[kernel] structured n={n} k={k}: {repeats} timed runs ...")
        st = summary(time_call(call, repeats, warmup=0))
        rows.append({
            "operation": "empirical_kernel structured", "size": (n, k), "stats": st,
            "reference": None, "ratio": None,
            "peak_bytes": peak, "peak_x_C": peak / C.nbytes, "C_nbytes": C.nbytes,
            "output_bytes": 8 * n * n,
        })
        rows[-1]["_profile"] = (f"empirical_kernel structured {(n, k)}", _kernel_profiler(n, k))
        del C, gen, call

    (n, k), repeats = cfg["kernel_pair"]
    gen = make_gen(n, k)
    C = gen.init(0)
    log(f"[kernel] jacobian vs structured n={n} k={k} ...")
    Ks = nt.empirical_kernel(gen, C, method="structured")
    Kj = nt.empirical_kernel(gen, C, method="jacobian")
    err = float(np.max(np.abs(Ks - Kj)) / np.max(np.abs(Kj)))
    del Ks, Kj
    st_s = summary(time_call(lambda: nt.empirical_kernel(gen, C, method="structured"), repeats))
    peak_j = peak_traced_bytes(lambda: nt.empirical_kernel(gen, C, method="jacobian"))
    st_j = summary(time_call(lambda: nt.empirical_kernel(gen, C, method="jacobian"), repeats))
    rows.append({
        "operation": "empirical_kernel jacobian (J Jᵀ)", "size": (n, k), "stats": st_j,
        "reference": None, "ratio": None,
        "peak_bytes": peak_j, "peak_x_C": peak_j / C.nbytes, "C_nbytes": C.nbytes,
        "output_bytes": 8 * n * n,
    })
    rows.append({
        "operation": "empirical_kernel structured", "size": (n, k), "stats": st_s,
        "reference": {"name": "jacobian", "median": st_j["median"]},
        "ratio": st_j["median"] / st_s["median"],
        "peak_bytes": None, "peak_x_C": None, "C_nbytes": C.nbytes,
        "max_rel_diff_vs_jacobian": err,
    })


# --------------------------------------------------------------------------- (b) spectrum
def bench_spectrum(cfg: dict, rows: list) -> None:
    n, repeats = cfg["spectrum"]
    gen = make_gen(n, 2)
    log(f"[spectrum] n={n} ...")
    st = summary(time_call(lambda: nt.spectrum(gen), repeats))
    peak = peak_traced_bytes(lambda: nt.spectrum(gen))
    rows.append({"operation": "spectrum (circulant)", "size": (n,), "stats": st,
                 "reference": None, "ratio": None, "peak_bytes": peak, "peak_x_C": None})
    rows[-1]["_profile"] = (f"spectrum n={n}", lambda: profile_top(lambda: nt.spectrum(gen)))


# --------------------------------------------------------------------------- (c) gradient descent
def naive_gd(U: np.ndarray, v: np.ndarray, y: np.ndarray, C0: np.ndarray, eta: float,
             steps: int) -> np.ndarray:
    """The same update with a dense ``U`` and plain NumPy (the reference)."""
    C = C0.copy()
    for _ in range(steps):
        Z = U @ C
        g = np.maximum(Z, 0.0) @ v
        r = g - y
        C -= eta * (U.T @ ((Z > 0) * r[:, None] * v))
    return C


def bench_gd(cfg: dict, rows: list) -> None:
    (n, k), steps, repeats = cfg["gd"]
    naive_steps = cfg["naive_steps"]
    gen = make_gen(n, k)
    C0 = gen.init(0, omega=0.1)
    rng = np.random.default_rng(1)
    m = np.arange(n)
    y = np.sin(2 * np.pi * 3 * m / n) + 0.1 * rng.standard_normal(n)
    eta = nt.max_step_size(gen)

    # warm-up (compiles the fused kernels) and a correctness check against the naive loop
    log(f"[gd] n={n} k={k}: warm-up and agreement check ...")
    check_steps = 10
    traj = nt.gradient_descent(gen, y, C0, eta, check_steps, record=[check_steps])
    U = gen.operator.todense()
    v = np.array(gen.output_weights)
    Cn = naive_gd(U, v, y, C0, eta, check_steps)
    agree = float(np.max(np.abs(traj.C - Cn)) / np.max(np.abs(Cn)))

    log(f"[gd] n={n} k={k}: {repeats} x {steps} steps ...")
    st = summary(time_call(lambda: nt.gradient_descent(gen, y, C0, eta, steps, record=[steps]),
                           repeats, warmup=0), per=steps)
    log(f"[gd] naive dense loop: {repeats} x {naive_steps} steps ...")
    st_ref = summary(time_call(lambda: naive_gd(U, v, y, C0, eta, naive_steps), repeats, warmup=1),
                     per=naive_steps)
    rows.append({"operation": "naive dense-U NumPy GD per step", "size": (n, k), "stats": st_ref,
                 "reference": None, "ratio": None, "peak_bytes": None, "peak_x_C": None})
    rows.append({
        "operation": "gradient_descent per step", "size": (n, k), "stats": st,
        "reference": {"name": "naive dense-U NumPy", "median": st_ref["median"]},
        "ratio": st_ref["median"] / st["median"], "peak_bytes": None, "peak_x_C": None,
        "steps": steps, "eta": eta, "max_rel_diff_vs_naive_after_10_steps": agree,
    })
    rows[-1]["_profile"] = (f"gradient_descent {(n, k)} x {steps}", lambda: profile_top(
        lambda: nt.gradient_descent(gen, y, C0, eta, steps, record=[steps])))


# --------------------------------------------------------------------------- (d) import
_IMPORT_SNIPPET = (
    "import time; t0 = time.perf_counter(); import ntk_toolkit; "
    "print(time.perf_counter() - t0)"
)


def bench_import(cfg: dict, rows: list) -> None:
    repeats = cfg["import"]
    log(f"[import] {repeats} fresh interpreters ...")
    env = dict(os.environ)

    def one() -> float:
        out = subprocess.run([sys.executable, "-c", _IMPORT_SNIPPET], capture_output=True,
                             text=True, check=True, env=env)
        return float(out.stdout.strip().splitlines()[-1])

    one()  # warm the file-system cache and the bytecode caches
    with LoadMonitor() as mon:
        times = [one() for _ in range(repeats)]
    rows.append({"operation": "import ntk_toolkit", "size": (), "stats": summary((times, mon.other_cores)),
                 "reference": None, "ratio": None, "peak_bytes": None, "peak_x_C": None})
    def importtime() -> str:
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import ntk_toolkit"],
                             capture_output=True, text=True, check=True, env=env)
        entries = []
        for line in out.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[1].strip().isdigit():
                entries.append((int(parts[1]), parts[2].rstrip()))
        entries.sort(reverse=True)
        return "\n".join(f"{us:>9d}  {name}" for us, name in entries[:15])

    rows[-1]["_profile"] = ("import (cumulative µs, top 15)", importtime)


# --------------------------------------------------------------------------- report
def evaluate(rows: list, quick: bool) -> None:
    for row in rows:
        key = (row["operation"], tuple(row["size"]))
        tgt = None if quick else TARGETS.get(key)
        row["target"] = tgt
        if tgt is None:
            row["meets_target"] = None
            continue
        ok = row["stats"]["median"] <= tgt["time_s"]
        if "mem_x" in tgt:
            ok = ok and row["peak_x_C"] is not None and row["peak_x_C"] <= tgt["mem_x"]
        if "ratio" in tgt:
            ok = ok and row["ratio"] is not None and row["ratio"] >= tgt["ratio"]
        row["meets_target"] = bool(ok)


def fmt_target(tgt: dict | None) -> str:
    if not tgt:
        return "—"
    parts = [f"≤ {fmt_time(tgt['time_s'])}"]
    if "mem_x" in tgt:
        parts.append(f"≤ {tgt['mem_x']:g}× C")
    if "ratio" in tgt:
        parts.append(f"≥ {tgt['ratio']:g}× naive")
    return ", ".join(parts)


def markdown_table(rows: list) -> str:
    head = ("| operation | size | median [min–max] | reference | ratio | peak memory | target | met "
            "| other load |\n|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for row in rows:
        size = "(" + ", ".join(str(s) for s in row["size"]) + ")" if row["size"] else "—"
        ref = row["reference"]
        ref_s = f"{ref['name']}: {fmt_time(ref['median'])}" if ref else "—"
        ratio = f"{row['ratio']:.1f}×" if row["ratio"] is not None else "—"
        if row.get("peak_bytes") is None:
            mem = "—"
        elif row.get("peak_x_C") is not None:
            mem = f"{row['peak_bytes'] / 2**20:.0f} MiB = {row['peak_x_C']:.2f}× C.nbytes"
        else:
            mem = f"{row['peak_bytes'] / 2**20:.0f} MiB"
        met = {None: "—", True: "yes", False: "**NO**"}[row.get("meets_target")]
        other = row["stats"].get("other_cores")
        other_s = "?" if other is None else f"{other:.2f}" + (" ⚠" if other > CONTENTION_CORES else "")
        lines.append(f"| {row['operation']} | {size} | {fmt_summary(row['stats'])} | {ref_s} | "
                     f"{ratio} | {mem} | {fmt_target(row.get('target'))} | {met} | {other_s} |")
    return "\n".join(lines)


def environment() -> dict:
    import numba
    import scipy

    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
        "numba": numba.__version__, "ntk_toolkit": nt.__version__, "cpu": cpu,
        "cpu_count": os.cpu_count(), "numba_threads": numba.get_num_threads(),
        "platform": platform.platform(),
    }


def write_json(path: str, payload: dict) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as fh:
        json.dump(payload, fh, indent=2, default=lambda o: list(o) if isinstance(o, tuple) else str(o))
    os.replace(tmp, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Example: python benchmarks/bench_core.py --quick --json q.json")
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds); targets not checked")
    parser.add_argument("--json", metavar="FILE", help="also write all measurements as JSON")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                        help="before each section wait up to SECONDS for other processes to go "
                             "quiet (< 0.1 cores busy); useful on shared machines")
    parser.add_argument("--profile", action="store_true",
                        help="profile every operation (cProfile; -X importtime for the import); "
                             "operations that miss a target are always profiled")
    args = parser.parse_args(argv)

    only = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        parser.error(f"--only: unknown section(s) {bad}; valid: {', '.join(SECTIONS)}")
    cfg = QUICK if args.quick else FULL
    runners = {"kernel": bench_kernel, "spectrum": bench_spectrum, "gd": bench_gd,
               "import": bench_import}

    env = environment()
    rows: list = []
    profiles: dict = {}
    for name in SECTIONS:
        if name in only:
            if args.wait_idle > 0:
                wait_until_idle(args.wait_idle)
            runners[name](cfg, rows)
    evaluate(rows, args.quick)

    # profile every operation with --profile, otherwise those that missed their target
    missed = [r for r in rows if r.get("meets_target") is False]
    for r in rows:
        if "_profile" in r and (args.profile or r in missed):
            title, fn = r["_profile"]
            log(f"[profile] {title} ...")
            profiles[title] = fn()
    for r in rows:
        r.pop("_profile", None)

    mode = "quick" if args.quick else "full"
    print(f"## ntk_toolkit core benchmarks ({mode} mode, float64)\n")
    print(f"{env['cpu']}, {env['cpu_count']} CPUs, Numba threads {env['numba_threads']}; "
          f"Python {env['python']}, NumPy {env['numpy']}, SciPy {env['scipy']}, "
          f"Numba {env['numba']}, ntk_toolkit {env['ntk_toolkit']}\n")
    print(markdown_table(rows))
    notes = ["*other load* = average number of cores used by other processes during the timed "
             f"repeats (from /proc/stat minus this process); ⚠ above {CONTENTION_CORES} cores means "
             "the timings are inflated by contention"]
    for r in rows:
        if "max_rel_diff_vs_jacobian" in r:
            notes.append(f"structured vs jacobian kernel at {tuple(r['size'])}: max rel. diff "
                         f"{r['max_rel_diff_vs_jacobian']:.1e}")
        if "max_rel_diff_vs_naive_after_10_steps" in r:
            notes.append(f"gradient_descent vs naive loop at {tuple(r['size'])} after 10 steps: max rel. "
                         f"diff of C {r['max_rel_diff_vs_naive_after_10_steps']:.1e}; eta = "
                         f"max_step_size(gen) = {r['eta']:.4g}, {r['steps']} steps per run")
        if r["operation"] == "empirical_kernel structured" and r.get("peak_bytes") is not None:
            notes.append(f"peak memory at {tuple(r['size'])} includes the returned (n, n) kernel "
                         f"({r['output_bytes'] / 2**20:.0f} MiB); C.nbytes = {r['C_nbytes'] / 2**20:.0f} MiB")
    if notes:
        print("\nNotes:\n" + "\n".join(f"* {s}" for s in notes))
    contended = [r for r in rows if (r["stats"].get("other_cores") or 0) > CONTENTION_CORES]
    if contended:
        print("\n**Warning:** other processes were running during "
              + "; ".join(f"{r['operation']} {tuple(r['size'])}" for r in contended)
              + ". Re-run on an idle machine (or with --wait-idle) before trusting these numbers.")
    if missed:
        print("\n**Targets missed:** " + "; ".join(
            f"{r['operation']} {tuple(r['size'])}" for r in missed))
    for title, text in profiles.items():
        print(f"\n### Profile: {title}\n\n```\n{text.strip()}\n```")

    if args.json:
        write_json(args.json, {"mode": mode, "environment": env, "results": rows, "profiles": profiles})
    return 0


if __name__ == "__main__":
    sys.exit(main())
