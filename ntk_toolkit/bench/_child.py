"""Benchmark measurements that run in their own process.

The parent calls :func:`run_child` with a task (a JSON-serialisable dict);
the child (``python -c "...; _child.main(sys.argv)" TASK_JSON``) runs it and
reports progress as lines ``@@ntk-bench {json}`` on stdout, the last one with
``"final": true``. The parent waits at most ``time_limit`` seconds between
two reports (so the limit applies to each measurement, not to the whole
task), kills the child when that is exceeded and classifies the outcome:
``ok``, ``time-out``, ``out of memory``, ``missing`` (a peer library is not
installed), ``disagrees`` (a peer's result differs from ntk_toolkit's) or
``error``.

Running in a fresh process gives every measurement its own thread settings
(set in the environment before NumPy, PyTorch or JAX are imported), a clean
peak-RSS counter and isolation from crashes and the OOM killer.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from ._child_deep import peer_deep_task

__all__ = ["ChildResult", "child_env", "classify_exit", "run_child"]

MARK = "@@ntk-bench "

#: Relative agreement a peer must reach with ntk_toolkit (float64) before it is timed.
PEER_RTOL = 1e-10

#: Peers form the dense Jacobian (``8 n² k`` bytes) and about as much again in
#: intermediates; a run whose estimate exceeds this fraction of the available
#: memory is reported as out of memory without being started.
PEER_MEMORY_FACTOR = 3.0
MEMORY_FRACTION = 0.8

# `python -m ntk_toolkit.bench._child` would import this module twice (once with the package)
_CHILD_SNIPPET = "import sys; from ntk_toolkit.bench import _child; sys.exit(_child.main(sys.argv))"
_FIRST_CALL_SNIPPET = (
    "import sys, time; t0 = time.perf_counter(); import ntk_toolkit; t = time.perf_counter() - t0; "
    "from ntk_toolkit.bench import _child; sys.exit(_child.main(sys.argv, import_seconds=t))"
)

_OOM_TEXT = ("out of memory", "outofmemory", "cannot allocate memory", "can't allocate memory",
             "resource_exhausted", "failed to allocate", "bad_alloc", "memoryerror")


# =========================================================================== parent side
@dataclass
class ChildResult:
    """Outcome of one child process.

    Attributes
    ----------
    status : str
        ``ok``, ``time-out``, ``out of memory``, ``missing``, ``disagrees`` or ``error``.
    result : dict
        The child's final report (empty when it did not send one).
    events : list of dict
        Every report, in order.
    elapsed : float
        Wall time of the whole child (seconds).
    message : str
        Human-readable detail for a status other than ``ok``.
    other_cores : float or None
        Average number of cores used by other processes meanwhile (set by the caller).
    """

    status: str
    result: dict = field(default_factory=dict)
    events: list = field(default_factory=list)
    elapsed: float = 0.0
    message: str = ""
    other_cores: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def child_env(threads: int, base: dict | None = None) -> dict:
    """Environment of a child: every library limited to ``threads`` threads."""
    env = dict(os.environ if base is None else base)
    t = str(int(threads))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = t
    flags = env.get("XLA_FLAGS", "")
    flags = " ".join(f for f in flags.split() if not f.startswith(("--xla_cpu_multi_thread_eigen",
                                                                     "intra_op_parallelism_threads")))
    env["XLA_FLAGS"] = (flags + f" --xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'}"
                        f" intra_op_parallelism_threads={t}").strip()
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["NTK_BENCH_THREADS"] = t
    return env


def classify_exit(returncode: int, stderr: str) -> tuple[str, str]:
    """Status and message of a child that ended without a final report."""
    tail = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if returncode == -getattr(signal, "SIGKILL", 9) or returncode == 137:
        return "out of memory", "killed (SIGKILL, most likely by the out-of-memory killer)"
    low = stderr.lower()
    if any(s in low for s in _OOM_TEXT):
        return "out of memory", tail
    return "error", f"exit status {returncode}: {tail}" if tail else f"exit status {returncode}"


def _watch(proc: subprocess.Popen, time_limit: float):
    """Collect the reports of ``proc``; kill it when a report is more than its limit late.

    Returns ``(events, final, timed_out, stderr)``; ``timed_out`` is the limit
    that was exceeded (0 when none was).
    """
    lines: queue.Queue = queue.Queue()
    err_chunks: list[str] = []

    def read_out():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def read_err():
        for line in proc.stderr:
            err_chunks.append(line)
            if len(err_chunks) > 200:
                del err_chunks[:100]

    readers = [threading.Thread(target=read_out, daemon=True), threading.Thread(target=read_err, daemon=True)]
    for th in readers:
        th.start()
    events: list[dict] = []
    final = None
    limit = time_limit
    deadline = time.perf_counter() + limit
    timed_out = 0.0
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.perf_counter()))
        except queue.Empty:
            timed_out = limit
            proc.kill()
            break
        if line is None:
            break
        if not line.startswith(MARK):
            continue
        try:
            ev = json.loads(line[len(MARK):])
        except json.JSONDecodeError:
            continue
        events.append(ev)
        if ev.get("final"):
            final = ev
        limit = float(ev.get("next_limit", time_limit))
        deadline = time.perf_counter() + limit
    proc.wait()
    for th in readers:
        th.join(timeout=5)
    return events, final, timed_out, "".join(err_chunks)


def run_child(task: dict, *, threads: int, time_limit: float, argv: list | None = None,
              env: dict | None = None) -> ChildResult:
    """Run ``task`` in a child process; at most ``time_limit`` s between two of its reports.

    Parameters
    ----------
    task : dict
        ``{"task": name, ...}``; see :data:`TASKS`.
    threads : int
        Thread count of every library in the child.
    time_limit : float
        Seconds allowed for each measurement (between two reports); the
        child is killed and the result is ``time-out`` when it is exceeded.
        A report may extend the wait for the next one with ``"next_limit"``.
    argv : list of str, optional
        Command to run instead of this module (for tests).
    env : dict, optional
        Base environment (default ``os.environ``).
    """
    if time_limit <= 0:
        raise ValueError(f"time_limit must be > 0 seconds, got {time_limit!r}")
    if argv is not None:
        cmd = list(argv)
    elif task.get("task") == "first_call":  # time `import ntk_toolkit` itself in the fresh interpreter
        cmd = [sys.executable, "-c", _FIRST_CALL_SNIPPET, json.dumps(task)]
    else:
        cmd = [sys.executable, "-c", _CHILD_SNIPPET, json.dumps(task)]
    t0 = time.perf_counter()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=child_env(threads, env), errors="replace") as proc:
        events, final, timed_out, stderr = _watch(proc, time_limit)
    elapsed = time.perf_counter() - t0
    if timed_out:
        last = events[-1].get("event", "start") if events else "start"
        return ChildResult("time-out", {}, events, elapsed,
                           f"no result within {timed_out:g} s (after '{last}')")
    if final is not None:
        status = final.get("status", "error")
        return ChildResult(status, final, events, elapsed, final.get("message", ""))
    status, message = classify_exit(proc.returncode, stderr)
    return ChildResult(status, {}, events, elapsed, message)


# =========================================================================== child side
class PeerDisagrees(Exception):
    """A peer's result differs from ntk_toolkit's beyond :data:`PEER_RTOL`."""

    def __init__(self, rel_diff: float):
        super().__init__(f"max relative difference {rel_diff:.3g} > {PEER_RTOL:g}")
        self.rel_diff = rel_diff


def emit(**event) -> None:
    """Send one report to the parent."""
    print(MARK + json.dumps(event), flush=True)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak_rss() -> bool:
    """Reset the peak-RSS counter to the current RSS (Linux ``clear_refs``); True on success."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_rss_bytes() -> int:
    """Peak RSS of this process's address space (``VmHWM``, reset by :func:`_reset_peak_rss`).

    Not ``getrusage().ru_maxrss`` on Linux: the kernel carries the peak RSS of
    the address space replaced at ``exec`` into it — with ``vfork`` (as
    :mod:`subprocess` uses) that is the *parent's* — and ``clear_refs`` does not
    reset it, so a child of a large parent would report the parent's peak.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _set_threads() -> int:
    """Numba on the benchmark's thread count (normally already so from ``NUMBA_NUM_THREADS``).

    ``numba.set_num_threads`` starts the thread pool, which belongs to the
    cost of a first call, so it is only called when the count differs.
    """
    import numba

    threads = int(os.environ.get("NTK_BENCH_THREADS", "0")) or numba.config.NUMBA_NUM_THREADS
    if threads != numba.config.NUMBA_NUM_THREADS:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return threads


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _measure(fn, task: dict) -> dict:
    """Time ``fn()`` (``task["repeats"]`` calls within ``task["budget"]`` s); peak extra RSS of the first call.

    The peak-RSS counter is reset just before the first call, so ``extra_bytes``
    (peak RSS minus RSS before) covers that call and what it returns
    (``out_nbytes``) and nothing that ran before it (``exact_peak`` is False
    when the counter could not be reset; then the peak may predate the call).
    """
    repeats, budget = int(task.get("repeats", 1)), float(task.get("budget", float("inf")))
    reset = _reset_peak_rss()
    rss0 = _rss_bytes()
    t, out = _timed(fn)
    peak = _peak_rss_bytes()
    out_nbytes = _nbytes(out)
    del out
    times = [t]
    emit(event="timed", seconds=t)
    for _ in range(repeats - 1):
        if sum(times) >= budget:
            break
        times.append(_timed(fn)[0])  # the result is dropped before the next call
        emit(event="timed", seconds=times[-1])
    return {"times": times, "rss_before": rss0, "peak_rss": peak, "extra_bytes": max(0, peak - rss0),
            "out_nbytes": out_nbytes, "exact_peak": reset}


def _nbytes(out) -> int:
    """Bytes of the arrays a routine returned (an array, or a result object's array attributes)."""
    if hasattr(out, "nbytes"):
        return int(out.nbytes)
    fields = getattr(out, "__dict__", {}) or {}
    return int(sum(getattr(v, "nbytes", 0) for v in fields.values()))


def _task_kernel(task: dict) -> dict:
    """ntk_toolkit's empirical kernel: time, and peak extra RSS of the first call."""
    import ntk_toolkit as nt

    from .reference import benchmark_generator, init_weights

    _set_threads()
    n, k = int(task["n"]), int(task["k"])
    small = benchmark_generator(64, 16)
    nt.empirical_kernel(small, small.init(0))  # load the compiled kernels outside the measurement
    gen = benchmark_generator(n, k)
    C = init_weights(gen, int(task.get("seed", 0)))
    emit(event="ready", C_nbytes=int(C.nbytes), next_limit=float(task.get("call_limit", 1e9)))
    out = _measure(lambda: nt.empirical_kernel(gen, C), task)
    return {**out, "C_nbytes": int(C.nbytes), "K_nbytes": out["out_nbytes"]}


#: Routines of the ``image`` task (measured on :func:`reference.image_problem`).
IMAGE_OPS = ("spectrum", "gradient_descent")


def _task_image(task: dict) -> dict:
    """A routine on ``H x W`` images (``op``): time, and peak extra RSS of the first call.

    ``spectrum`` of ``Σ`` for ``triangle2d(3)``; ``gradient_descent`` of
    ``steps`` steps on :func:`~ntk_toolkit.bench.reference.image_problem`
    with ``k`` channels, recording only the last ``C``. One untimed call at the
    same size first (on another generator) loads the compiled kernels, so that
    their code is not counted as memory of the call.
    """
    import ntk_toolkit as nt

    from .reference import IMAGE_SPECTRUM_FILTER_WIDTH, image_generator, image_problem

    _set_threads()
    op = task["op"]
    if op not in IMAGE_OPS:
        raise ValueError(f"unknown image op {op!r}; valid: {', '.join(IMAGE_OPS)}")
    H, W = (int(x) for x in task["shape"])
    out: dict = {"op": op}
    if op == "spectrum":
        nt.spectrum(image_generator((H, W), 2, p=IMAGE_SPECTRUM_FILTER_WIDTH))
        gen = image_generator((H, W), 2, p=IMAGE_SPECTRUM_FILTER_WIDTH)

        def fn():
            return nt.spectrum(gen)
    else:
        k, steps = int(task["k"]), int(task["steps"])
        gen, C0, y, eta = image_problem(H, W, k)
        nt.gradient_descent(gen, y, C0, eta, 2, record=[2])
        gen, C0, y, eta = image_problem(H, W, k)

        def fn():
            return nt.gradient_descent(gen, y, C0, eta, steps, record=[steps]).C

        out.update(C_nbytes=int(C0.nbytes), steps=steps)
    emit(event="ready", next_limit=float(task.get("call_limit", 1e9)))
    return {**_measure(fn, task), **out}


def _peer_module(name: str):
    if name == "torch":
        import torch

        from . import peers_torch as mod

        torch.set_num_threads(int(os.environ.get("NTK_BENCH_THREADS", "1")))
    elif name == "jax":
        import jax  # noqa: F401

        from . import peers_jax as mod
    else:
        raise ValueError(f"unknown peer {name!r}; valid: 'torch', 'jax'")
    return mod


def _check_peer_memory(nbytes: int, limit: int | None) -> None:
    from ._timing import available_memory, fmt_bytes

    if limit is None:
        limit = int(MEMORY_FRACTION * available_memory())
    if nbytes > limit:
        raise MemoryError(f"estimated {fmt_bytes(nbytes)} for the dense Jacobian and its intermediates, "
                          f"above the {fmt_bytes(limit)} available")


def _time_repeats(fn, task: dict) -> list[float]:
    times: list[float] = []
    for _ in range(int(task.get("repeats", 3))):
        t, _ = _timed(fn)
        times.append(t)
        emit(event="timed", seconds=t)
        if sum(times) >= float(task.get("budget", float("inf"))):
            break
    return times


def _task_peer_kernel(task: dict) -> dict:
    """A peer's ``J Jᵀ`` (dense Jacobian): checked against ntk_toolkit, then timed."""
    n, k = int(task["n"]), int(task["k"])
    _check_peer_memory(int(PEER_MEMORY_FACTOR * 8 * n * n * k), task.get("memory_limit"))
    mod = _peer_module(task["peer"])
    import numpy as np

    import ntk_toolkit as nt

    from .reference import benchmark_generator, init_weights, rel_diff

    _set_threads()
    gen = benchmark_generator(n, k)
    C = init_weights(gen)
    op = gen.operator
    emit(event="started", version=mod.version())
    if task["peer"] == "jax":
        fn_j = mod.kernel_fn(op.taps, op.center, gen.output_weights, task.get("form", "roll"))

        def fn():
            return np.asarray(fn_j(C).block_until_ready())
    else:
        def fn():
            return mod.kernel(op.taps, op.center, gen.output_weights, C)
    reset = _reset_peak_rss()
    rss0 = _rss_bytes()
    t_first, K = _timed(fn)
    extra = max(0, _peak_rss_bytes() - rss0)
    emit(event="first call", seconds=t_first)
    err = rel_diff(K, nt.empirical_kernel(gen, C))
    del K
    if not err <= PEER_RTOL:
        raise PeerDisagrees(err)
    emit(event="checked", rel_diff=err)
    times = _time_repeats(fn, task)
    return {"times": times, "first_call": t_first, "rel_diff": err, "extra_bytes": extra,
            "exact_peak": reset, "version": mod.version()}


def _task_peer_gd(task: dict) -> dict:
    """A peer's gradient-descent loop: checked against ntk_toolkit, then timed per step.

    1-D (``n``, ``k``: :func:`~ntk_toolkit.bench.reference.benchmark_problem`) or,
    with ``shape`` ``[H, W]``, images (:func:`~ntk_toolkit.bench.reference.image_problem`).
    """
    mod = _peer_module(task["peer"])
    import ntk_toolkit as nt

    from .reference import benchmark_problem, image_problem, rel_diff

    _set_threads()
    k = int(task["k"])
    steps, check = int(task["steps"]), int(task.get("check_steps", 10))
    kw = {"form": task.get("form", "roll")} if task["peer"] == "jax" else {}
    if task.get("shape") is not None:
        H, W = (int(x) for x in task["shape"])
        gen, C0, y, eta = image_problem(H, W, k)
        op = gen.operator
        emit(event="started", version=mod.version())
        kw.pop("form", None)  # one form on images
        run = mod.make_gradient_descent_2d(op.taps, op.center, (H, W), gen.output_weights, y, C0, eta, **kw)
    else:
        gen, C0, y, eta = benchmark_problem(int(task["n"]), k)
        op = gen.operator
        emit(event="started", version=mod.version())
        run = mod.make_gradient_descent(op.taps, op.center, gen.output_weights, y, C0, eta, **kw)
    t_first, C = _timed(lambda: run(check))
    err = rel_diff(C, nt.gradient_descent(gen, y, C0, eta, check, record=[check]).C)
    if not err <= PEER_RTOL:
        raise PeerDisagrees(err)
    emit(event="checked", rel_diff=err, first_call=t_first)
    run(steps)  # warm-up at the timed length
    emit(event="warm")
    times = _time_repeats(lambda: run(steps), task)
    return {"times": times, "steps": steps, "first_call": t_first, "rel_diff": err, "version": mod.version()}


#: Public routines whose first call in a fresh process is measured, at a small size.
FIRST_CALL_ROUTINES = (
    "forward", "gradient", "jvp", "vjp", "empirical_kernel", "expected_kernel", "spectrum",
    "gradient_descent", "linearized", "gradient_flow", "smoothest_interpolant", "recovery_law",
)


def _first_call_setup(nt, n: int, k: int):
    """Inputs built with NumPy only, so that no routine is loaded before it is timed."""
    import numpy as np

    from .reference import benchmark_generator

    gen = benchmark_generator(n, k)
    C = gen.init(0)
    y = np.sin(2 * np.pi * 3 * np.arange(n) / n)
    eta = 1.0 / float(np.sum(np.abs(gen.operator.taps))) ** 2  # <= 1/‖U‖² = max_step_size(gen)
    m = n // 2
    A = np.random.default_rng(2).standard_normal((m, n)) / np.sqrt(m)
    calls = {
        "forward": lambda: gen.forward(C),
        "gradient": lambda: gen.gradient(C, y),
        "jvp": lambda: gen.jvp(C, C),
        "vjp": lambda: gen.vjp(C, y),
        "empirical_kernel": lambda: nt.empirical_kernel(gen, C),
        "expected_kernel": lambda: nt.expected_kernel(gen),
        "spectrum": lambda: nt.spectrum(gen),
        "gradient_descent": lambda: nt.gradient_descent(gen, y, C, eta, 10),
        "linearized": lambda: nt.linearized(gen, y, eta).loss(10),
        "gradient_flow": lambda: nt.gradient_flow(gen, y, eta).loss(10.0),
        "smoothest_interpolant": lambda: nt.smoothest_interpolant(gen, A, A @ y),
        "recovery_law": lambda: nt.recovery_law(gen, y, m),
    }
    return calls


def _task_first_call(task: dict) -> dict:
    """``import ntk_toolkit`` and the first call of routines, in this fresh process."""
    import ntk_toolkit as nt

    t_import = task.get("_import_seconds")
    _set_threads()
    names = list(task["routines"])
    unknown = [r for r in names if r not in FIRST_CALL_ROUTINES]
    if unknown:
        raise ValueError(f"unknown routine(s) {unknown}; valid: {', '.join(FIRST_CALL_ROUTINES)}")
    calls = _first_call_setup(nt, int(task.get("n", 64)), int(task.get("k", 256)))
    emit(event="imported", seconds=t_import)
    out = {}
    for name in names:
        t, _ = _timed(calls[name])
        out[name] = t
        emit(event=name, seconds=t)
    return {"import": t_import, "first_call": out}


def _task_sleep(task: dict) -> dict:
    """For tests: report, then sleep ``seconds``."""
    emit(event="sleeping")
    time.sleep(float(task["seconds"]))
    return {}


TASKS = {
    "peer_deep": lambda task: peer_deep_task(task, emit, PeerDisagrees),
    "kernel": _task_kernel,
    "image": _task_image,
    "peer_kernel": _task_peer_kernel,
    "peer_gd": _task_peer_gd,
    "first_call": _task_first_call,
    "sleep": _task_sleep,
}


def _looks_like_oom(text: str) -> bool:
    low = text.lower()
    return any(s in low for s in _OOM_TEXT)


def main(argv: list | None = None, import_seconds: float | None = None) -> int:
    """Run one task given as JSON in ``argv[1]``; always ends with a final report.

    ``import_seconds`` is the time the caller took to ``import ntk_toolkit``
    (``first_call`` task).
    """
    argv = sys.argv if argv is None else argv
    try:
        task = json.loads(argv[1])
        handler = TASKS[task["task"]]
        task["_import_seconds"] = import_seconds
    except (IndexError, json.JSONDecodeError, KeyError, TypeError) as exc:
        emit(final=True, status="error", message=f"bad task {argv[1:]!r}: {exc!r}; tasks: {', '.join(TASKS)}")
        return 2
    try:
        result = handler(task)
    except MemoryError as exc:
        emit(final=True, status="out of memory", message=str(exc))
    except ModuleNotFoundError as exc:
        emit(final=True, status="missing", module=exc.name, message=str(exc))
    except PeerDisagrees as exc:
        emit(final=True, status="disagrees", rel_diff=exc.rel_diff, message=str(exc))
    except Exception as exc:  # reported to the parent, which decides what to show
        text = f"{type(exc).__name__}: {exc}"
        emit(final=True, status="out of memory" if _looks_like_oom(text) else "error", message=text[:2000])
    else:
        emit(final=True, status="ok", **result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
