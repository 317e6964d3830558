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
``startup``
    ``import ntk_toolkit`` and the first call of each public routine in a
    fresh process with a warm Numba cache.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import numpy as np

from ._child import FIRST_CALL_ROUTINES, PEER_RTOL, ChildResult, run_child
from ._timing import (
    LoadMonitor,
    Stats,
    available_memory,
    copy_bandwidth,
    environment,
    fmt_bytes,
    fmt_time,
    load_average,
    set_blas_threads,
    time_call,
    wait_until_idle,
)
from .reference import (
    benchmark_generator,
    benchmark_problem,
    init_weights,
    jacobian_kernel,
    naive_gradient_descent,
    naive_spectrum,
    rel_diff,
)
from .report import BenchReport, Row

__all__ = ["FULL", "PEERS", "QUICK", "SECTIONS", "Config", "run_suite"]

SECTIONS = ("kernel", "gd", "spectrum", "startup")
PEERS = ("torch", "jax")
PEER_NAMES = {"torch": "PyTorch", "jax": "JAX"}
#: (peer, form) pairs that are timed: JAX writes U as shifted copies (``roll``) and as a convolution.
PEER_VARIANTS = (("torch", None), ("jax", "roll"), ("jax", "conv"))
KERNEL_PEER_NAMES = {("torch", None): "torch.func.jacrev J Jᵀ", ("jax", "roll"): "jax.jacrev J Jᵀ (jnp.roll, jit)",
                     ("jax", "conv"): "jax.jacrev J Jᵀ (lax.conv, jit)"}
GD_PEER_NAMES = {("torch", None): "PyTorch autograd loop (F.pad circular + conv1d)",
                 ("jax", "roll"): "JAX jitted fori_loop (jnp.roll)", ("jax", "conv"): "JAX jitted fori_loop (lax.conv)"}
INSTALL_HINT = 'pip install "ntk_toolkit[peers]"'


@dataclass(frozen=True)
class Config:
    """Sizes and repeat counts of one mode."""

    kernel_pair: tuple  # (n, k): ntk_toolkit vs explicit J Jᵀ and the peers
    kernel_repeats: int
    ref_repeats: int
    kernel_times: tuple  # ((n, k), repeats) timed in this process
    kernel_memory: tuple  # ((n, k), repeats) timed with peak RSS in a fresh process
    largest: bool  # search the largest (n, 16n) within LARGEST_SECONDS
    gd: tuple  # (n, k)
    gd_steps: int
    gd_repeats: int
    naive_steps: int
    peer_steps: int
    spectrum_n: int
    spectrum_repeats: int
    first_call_size: tuple
    first_call_isolated: bool  # one fresh process per routine (else one for all, in order)
    bandwidth_bytes: int
    budget: float  # seconds of timed repeats per measurement (at least one repeat)


FULL = Config(
    kernel_pair=(256, 1024), kernel_repeats=7, ref_repeats=3,
    kernel_times=(((1024, 8192), 5),),
    kernel_memory=(((4096, 16384), 3), ((4096, 65536), 1)),
    largest=True,
    gd=(512, 2048), gd_steps=200, gd_repeats=7, naive_steps=20, peer_steps=50,
    spectrum_n=2**20, spectrum_repeats=5, first_call_size=(64, 256), first_call_isolated=True,
    bandwidth_bytes=256 * 2**20, budget=20.0,
)
QUICK = Config(
    kernel_pair=(64, 256), kernel_repeats=5, ref_repeats=3,
    kernel_times=(),
    kernel_memory=(((512, 2048), 2),),
    largest=False,
    gd=(128, 512), gd_steps=50, gd_repeats=3, naive_steps=10, peer_steps=20,
    spectrum_n=2**16, spectrum_repeats=5, first_call_size=(64, 256), first_call_isolated=False,
    bandwidth_bytes=64 * 2**20, budget=2.0,
)

#: Time limit of one call in the search for the largest (n, 16n) kernel.
LARGEST_SECONDS = 60.0
LARGEST_START, LARGEST_STEP = 4096, 1024
#: Memory kept free for the interpreter and libraries when sizing the largest kernel.
MEMORY_RESERVE = 512 * 2**20

#: Targets, full mode only. Keys: (section, operation key, size).
TARGETS = {
    ("kernel", "torch", (256, 1024)): {"min_ratio": 200.0},
    ("kernel", "jax", (256, 1024)): {"min_ratio": 200.0},
    ("kernel", "time", (1024, 8192)): {"max_s": 0.5},
    ("kernel", "memory", (4096, 16384)): {"max_s": 10.0, "max_x_C": 3.0},
    ("gd", "naive", (512, 2048)): {"max_s": 0.015, "min_ratio": 10.0},
    ("gd", "torch", (512, 2048)): {"min_ratio": 3.0},
    ("gd", "jax", (512, 2048)): {"min_ratio": 1.0},
    ("gd", "bound", (512, 2048)): {"min_ratio": 0.5},
    ("gd", "float32", (512, 2048)): {"min_ratio": 1.6},
    ("spectrum", "time", (2**20,)): {"max_s": 2.0},
    ("startup", "import", ()): {"max_s": 1.0},
}


def _nt():
    import ntk_toolkit as nt

    return nt


def has_dtype_argument() -> bool:
    """Whether :func:`ntk_toolkit.gradient_descent` takes ``dtype=``."""
    return "dtype" in inspect.signature(_nt().gradient_descent).parameters


def peer_available(peer: str) -> bool:
    """Whether the peer library is installed (without importing it)."""
    return importlib.util.find_spec(peer) is not None


class _Run:
    """State of one run: configuration, rows, notes and the child launcher."""

    def __init__(self, cfg: Config, quick: bool, peers: bool, threads: int, time_limit: float,
                 log: Callable[[str], None]):
        self.cfg, self.quick, self.peers, self.threads = cfg, quick, peers, threads
        self.time_limit, self.log = time_limit, log
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.hints: list[str] = []
        self.bandwidth: dict | None = None
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

    # -- kernel ----------------------------------------------------------------
    def kernel_pair(self) -> Stats:
        nt = _nt()
        cfg = self.cfg
        n, k = cfg.kernel_pair
        gen = benchmark_generator(n, k)
        C = init_weights(gen)
        ours = time_call(lambda: nt.empirical_kernel(gen, C), cfg.kernel_repeats, budget=cfg.budget)
        t0 = time.perf_counter()
        K_ref = jacobian_kernel(gen, C)
        first = time.perf_counter() - t0
        err = rel_diff(nt.empirical_kernel(gen, C), K_ref)
        del K_ref
        ref = time_call(lambda: jacobian_kernel(gen, C), cfg.ref_repeats, warmup=0,
                        budget=max(cfg.budget - first, 0.0))
        self.add(Row("kernel", "empirical_kernel", (n, k), ours=ours, reference="explicit J Jᵀ (method='jacobian')",
                     ref=ref, ref_status="ok", details={"ref_rel_diff": err}), ("kernel", "jacobian", (n, k)))
        self.notes.append(f"empirical_kernel vs explicit J Jᵀ at {(n, k)}: max rel. diff {err:.1e}")
        self._kernel_ours = ours
        return ours

    def kernel_peer(self, peer: str, form: str | None = None) -> None:
        n, k = self.cfg.kernel_pair
        ours = getattr(self, "_kernel_ours", None) or self.kernel_pair()
        row = Row("kernel", "empirical_kernel", (n, k), ours=ours, reference=KERNEL_PEER_NAMES[peer, form])
        res = None
        if self.peer_usable(peer):
            res = self.child({"task": "peer_kernel", "peer": peer, "form": form, "n": n, "k": k,
                              "repeats": self.cfg.ref_repeats, "budget": self.cfg.budget})
        self.add(self.peer_row(row, res), ("kernel", peer, (n, k)))

    def kernel_times(self) -> None:
        nt = _nt()
        for (n, k), repeats in self.cfg.kernel_times:
            gen = benchmark_generator(n, k)
            C = init_weights(gen)
            ours = time_call(lambda gen=gen, C=C: nt.empirical_kernel(gen, C), repeats, budget=self.cfg.budget)
            self.add(Row("kernel", "empirical_kernel", (n, k), ours=ours), ("kernel", "time", (n, k)))
            del C

    def kernel_memory_row(self, n: int, k: int, res: ChildResult, operation: str = "empirical_kernel") -> Row:
        row = Row("kernel", operation, (n, k))
        if not res.ok:
            row.status = res.status
            row.details["message"] = res.message
            return row
        r = res.result
        row.ours = Stats.from_times(r["times"], res.other_cores)
        row.peak_bytes = int(r["extra_bytes"])
        row.peak_x_C = r["extra_bytes"] / r["C_nbytes"]
        row.details.update(C_nbytes=r["C_nbytes"], K_nbytes=r["K_nbytes"], exact_peak=r["exact_peak"],
                           measured_in="fresh process (RSS)")
        return row

    def kernel_memory(self) -> None:
        self._memory_results = {}
        for (n, k), repeats in self.cfg.kernel_memory:
            res = self.child({"task": "kernel", "n": n, "k": k, "repeats": repeats, "budget": self.cfg.budget})
            self._memory_results[(n, k)] = res
            row = self.add(self.kernel_memory_row(n, k, res), ("kernel", "memory", (n, k)))
            if row.status == "ok":
                self.notes.append(f"empirical_kernel at {(n, k)}: peak extra memory {fmt_bytes(row.peak_bytes)} "
                                  f"= {row.peak_x_C:.2f}× C.nbytes ({fmt_bytes(row.details['C_nbytes'])}), "
                                  f"including the returned kernel ({fmt_bytes(row.details['K_nbytes'])})")

    def kernel_largest(self) -> None:
        tried, best, reason = [], None, None
        x_C = 0.5  # extra memory as a multiple of C, updated from each measurement
        n = LARGEST_START
        known = getattr(self, "_memory_results", {})
        while True:
            k = 16 * n
            c_bytes = 8 * n * k
            need = int(c_bytes * (1.0 + 1.25 * x_C)) + MEMORY_RESERVE
            avail = available_memory()
            if need > avail:
                reason = (f"n = {n} would need about {fmt_bytes(need)} (C = {fmt_bytes(c_bytes)}), "
                          f"{fmt_bytes(avail)} available")
                break
            res = known.get((n, k))
            if res is None:
                self.log(f"largest kernel within {LARGEST_SECONDS:g} s: trying n = {n}, k = {k}")
                res = self.child({"task": "kernel", "n": n, "k": k, "repeats": 1,
                                  "call_limit": LARGEST_SECONDS * 1.05 + 2.0},
                                 time_limit=max(self.time_limit, 120.0))
            t = res.result["times"][0] if res.ok else None
            tried.append({"n": n, "k": k, "status": res.status, "seconds": t})
            if not res.ok:
                reason = f"n = {n}: {res.status}" + (f" ({res.message})" if res.message else "")
                break
            if t > LARGEST_SECONDS:
                reason = f"n = {n} took {fmt_time(t)}"
                break
            best = (n, k, res)
            x_C = max(x_C, res.result["extra_bytes"] / res.result["C_nbytes"])
            n += LARGEST_STEP
        op = f"empirical_kernel, largest (n, 16n) within {LARGEST_SECONDS:g} s"
        if best is None:
            row = Row("kernel", op, (), status="none completed", details={"tried": tried, "stopped": reason})
        else:
            row = self.kernel_memory_row(best[0], best[1], best[2], operation=op)
            row.details.update(tried=tried, stopped=reason)
        self.add(row)
        self.notes.append(f"largest (n, 16n) kernel within {LARGEST_SECONDS:g} s: "
                          + (f"n = {best[0]} in {fmt_time(best[2].result['times'][0])}" if best else "none")
                          + f"; stopped: {reason}")

    # -- gradient descent ----------------------------------------------------------
    def gd(self) -> None:
        """float64, float32 and the copy bandwidth measured interleaved, then the dense-U NumPy loop.

        Every repeat times a copy of ``bandwidth_bytes`` (best of 3), then,
        after an untimed 20-step run that lets the machine settle from the
        copy, a float64 run and a float32 run back to back, so that the bound and the float32
        speed-up compare measurements taken under the same conditions (the
        speed of a shared machine drifts within seconds); their ratios are the
        medians of the per-repeat ratios.
        """
        nt = _nt()
        cfg = self.cfg
        n, k = cfg.gd
        gen, C0, y, eta = benchmark_problem(n, k)
        check, steps = 10, cfg.gd_steps
        C_ours = nt.gradient_descent(gen, y, C0, eta, check, record=[check]).C  # also the warm-up
        U = gen.operator.todense()
        v = np.array(gen.output_weights)
        err = rel_diff(C_ours, naive_gradient_descent(U, v, y, C0, eta, check))
        runs = {"float64": lambda: nt.gradient_descent(gen, y, C0, eta, steps, record=[steps])}
        self._gd32_err = None
        if has_dtype_argument():
            C32 = nt.gradient_descent(gen, y, C0, eta, check, record=[check], dtype=np.float32).C  # warm-up
            self._gd32_err = rel_diff(C32, C_ours)
            runs["float32"] = lambda: nt.gradient_descent(gen, y, C0, eta, steps, record=[steps], dtype=np.float32)
        # untimed after each copy: freeing the copy's arrays slowed the next 5–10 steps (2.2 ms instead of 1.5)
        settle = lambda: nt.gradient_descent(gen, y, C0, eta, 20, record=[20])  # noqa: E731
        times: dict[str, list[float]] = {name: [] for name in runs}
        samples = []
        with LoadMonitor() as mon:
            for _ in range(cfg.gd_repeats):
                samples.append(copy_bandwidth(cfg.bandwidth_bytes, repeats=3, threads=self.threads))
                settle()
                for name, fn in runs.items():
                    t0 = time.perf_counter()
                    fn()
                    times[name].append(time.perf_counter() - t0)
                if sum(map(sum, times.values())) >= cfg.budget:
                    break
        self._gd_stats = {name: Stats.from_times(t, mon.other_cores, per=steps) for name, t in times.items()}
        bws = [smp["best"] for smp in samples]
        self.bandwidth = {**samples[int(np.argmax(bws))], "best": max(bws), "median": statistics.median(bws),
                          "samples": bws, "repeats_each": 3}
        ours = self._gd_stats["float64"]
        ref = time_call(lambda: naive_gradient_descent(U, v, y, C0, eta, cfg.naive_steps), cfg.ref_repeats,
                        warmup=1, per=cfg.naive_steps, budget=cfg.budget)
        self.add(Row("gd", "gradient_descent per step", (n, k), ours=ours, reference="dense-U NumPy loop",
                     ref=ref, ref_status="ok", details={"ref_rel_diff": err, "steps": steps, "eta": eta}),
                 ("gd", "naive", (n, k)))
        self.notes.append(f"gradient_descent vs dense-U NumPy loop at {(n, k)} after {check} steps: max rel. "
                          f"diff of C {err:.1e}; η = max_step_size(gen) = {eta:.4g}; {steps} steps per timed run")
        self._gd64 = ours
        self.gd_bound("float64", 8)

    def gd_bound(self, dtype: str, itemsize: int) -> None:
        n, k = self.cfg.gd
        ours = self._gd_stats[dtype]
        bws = self.bandwidth["samples"]
        nbytes = (2 * itemsize + 2) * n * k
        bounds = [nbytes / bw for bw in bws]
        over = [t / bd for t, bd in zip(ours.times, bounds)]  # per repeat, bandwidth measured just before
        bw = statistics.median(bws)
        row = Row("gd", "gradient_descent per step", (n, k), dtype=dtype, ours=ours,
                  reference=f"memory-bandwidth bound ({bw / 1e9:.1f} GB/s)", ref=Stats(tuple(bounds)),
                  ref_status="ok", ratio=1.0 / statistics.median(over),
                  details={"bytes_per_step": nbytes, "bandwidth_bytes_per_s": bws, "bound_s": bounds,
                           "ours_over_bound": over, "ours_over_bound_median": statistics.median(over)})
        self.add(row, ("gd", "bound", (n, k)) if dtype == "float64" else None)
        if dtype == "float64":
            self.notes.append(
                f"bandwidth bound: a step reads and writes C and writes and reads the activation mask, "
                f"(2·itemsize + 2)·n·k bytes = {fmt_bytes(nbytes)} at {(n, k)} float64; copy bandwidth "
                f"(np.copyto of {fmt_bytes(self.bandwidth['bytes'])}, read + write, best of 3, measured before "
                f"each timed run) {min(bws) / 1e9:.1f}–{max(bws) / 1e9:.1f} GB/s; ntk_toolkit takes "
                f"{statistics.median(over):.2f}× [{min(over):.2f}–{max(over):.2f}] the bound of its repeat")

    def gd_float32(self) -> None:
        cfg = self.cfg
        n, k = cfg.gd
        op = "gradient_descent per step"
        stats = getattr(self, "_gd_stats", {})
        if "float32" not in stats:
            message = ("gradient_descent has no dtype argument" if not has_dtype_argument()
                       else "measured with the float64 runs of the gd section, which did not run")
            self.add(Row("gd", op, (n, k), dtype="float32", status="not available", details={"message": message}))
            return
        ours, ref = stats["float32"], stats["float64"]
        speedup = [t64 / t32 for t64, t32 in zip(ref.times, ours.times)]  # per repeat, run back to back
        self.add(Row("gd", op, (n, k), dtype="float32", ours=ours, reference="ntk_toolkit float64", ref=ref,
                     ref_status="ok", ratio=statistics.median(speedup),
                     details={"rel_diff_vs_float64_after_10_steps": self._gd32_err, "steps": cfg.gd_steps,
                              "speedup_per_repeat": speedup}),
                 ("gd", "float32", (n, k)))
        self.notes.append(f"gradient_descent float32 vs float64 at {(n, k)} after 10 steps: max rel. diff "
                          f"of C {self._gd32_err:.1e}; float32 runs interleaved with the float64 ones, speed-up "
                          f"{statistics.median(speedup):.2f}× [{min(speedup):.2f}–{max(speedup):.2f}] per repeat")
        self.gd_bound("float32", 4)

    def gd_peer(self, peer: str, form: str | None = None) -> None:
        cfg = self.cfg
        n, k = cfg.gd
        ours = getattr(self, "_gd64", None)
        row = Row("gd", "gradient_descent per step", (n, k), ours=ours, reference=GD_PEER_NAMES[peer, form],
                  status="ok" if ours is not None else "not measured")
        res = None
        if self.peer_usable(peer):
            res = self.child({"task": "peer_gd", "peer": peer, "form": form, "n": n, "k": k, "steps": cfg.peer_steps,
                              "repeats": cfg.gd_repeats, "budget": cfg.budget})
        self.add(self.peer_row(row, res, per=cfg.peer_steps), ("gd", peer, (n, k)))

    # -- spectrum ------------------------------------------------------------------
    def spectrum(self) -> None:
        nt = _nt()
        cfg = self.cfg
        n = cfg.spectrum_n
        gen = benchmark_generator(n, 2)
        err = rel_diff(nt.spectrum(gen).eigenvalues, naive_spectrum(gen))
        ours = time_call(lambda: nt.spectrum(gen), cfg.spectrum_repeats, budget=cfg.budget)
        ref = time_call(lambda: naive_spectrum(gen), cfg.spectrum_repeats, budget=cfg.budget)
        self.add(Row("spectrum", "spectrum of Σ (circulant)", (n,), ours=ours,
                     reference="full FFT of Σ's first row + sort", ref=ref, ref_status="ok",
                     details={"ref_rel_diff": err}), ("spectrum", "time", (n,)))

    # -- start-up ------------------------------------------------------------------
    def startup(self) -> None:
        n, k = self.cfg.first_call_size
        routines = list(FIRST_CALL_ROUTINES)
        warm = self.child({"task": "first_call", "routines": routines, "n": n, "k": k})
        if not warm.ok:
            self.add(Row("startup", "warm the Numba cache", (n, k), status=warm.status,
                         details={"message": warm.message}))
            return
        imports = [warm.result["import"]]
        groups = [[r] for r in routines] if self.cfg.first_call_isolated else [routines]
        firsts: dict = {}
        for group in groups:
            res = self.child({"task": "first_call", "routines": group, "n": n, "k": k})
            for name in group:
                if res.ok:
                    firsts[name] = Stats((res.result["first_call"][name],), res.other_cores)
                else:
                    firsts[name] = res
            if res.ok:
                imports.append(res.result["import"])
        self.add(Row("startup", "import ntk_toolkit (fresh process)", (), dtype="—", ours=Stats(tuple(imports)),
                     details={"processes": len(imports)}), ("startup", "import", ()))
        for name, st in firsts.items():
            if isinstance(st, Stats):
                self.add(Row("startup", f"first call: {name}", (n, k), ours=st))
            else:
                self.add(Row("startup", f"first call: {name}", (n, k), status=st.status,
                             details={"message": st.message}))
        how = ("each routine in its own fresh process" if self.cfg.first_call_isolated else
               "all routines one after the other in one fresh process, so a routine may find kernels "
               "already loaded by an earlier one")
        self.notes.append(f"first call = time of the first call of a routine after `import ntk_toolkit` in a fresh "
                          f"process with a warm Numba cache, at {(n, k)}; {how}. It is the cost of loading compiled "
                          "kernels and lazily imported modules")

    # -- plan ----------------------------------------------------------------------
    def plan(self, sections) -> list[tuple[str, Callable[[], None]]]:
        units = []
        if "kernel" in sections:
            units.append(("kernel vs J Jᵀ", self.kernel_pair))
            if self.peers:
                units += [(f"kernel vs {p} {f or ''}".strip(), lambda p=p, f=f: self.kernel_peer(p, f))
                          for p, f in PEER_VARIANTS]
            if self.cfg.kernel_times:
                units.append(("kernel times", self.kernel_times))
            units.append(("kernel memory", self.kernel_memory))
            if self.cfg.largest:
                units.append(("largest kernel", self.kernel_largest))
        if "gd" in sections:
            units += [("gradient descent", self.gd), ("gradient descent float32", self.gd_float32)]
            if self.peers:
                units += [(f"gradient descent vs {p} {f or ''}".strip(), lambda p=p, f=f: self.gd_peer(p, f))
                          for p, f in PEER_VARIANTS]
        if "spectrum" in sections:
            units.append(("spectrum", self.spectrum))
        if "startup" in sections:
            units.append(("start-up", self.startup))
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
    run = _Run(QUICK if quick else FULL, quick, peers, threads, float(time_limit), log)
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
