"""The ``kernel`` section: :func:`ntk_toolkit.empirical_kernel` against the explicit ``J Jᵀ``,
the peers' ``jacrev`` kernels, its memory in a fresh process and the largest kernel within a time limit."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .._child import ChildResult
from .._timing import Stats, available_memory, fmt_bytes, fmt_time, time_call
from ..config import KERNEL_PEER_NAMES, LARGEST_SECONDS, LARGEST_START, LARGEST_STEP, MEMORY_RESERVE
from ..reference import benchmark_generator, init_weights, jacobian_kernel, rel_diff
from ..report import Row
from . import toolkit

if TYPE_CHECKING:
    from ..suite import Run

def kernel_pair(state: Run) -> Stats:
    """Time ``empirical_kernel`` against the explicit ``J Jᵀ`` at ``cfg.kernel_pair`` (same process)."""
    nt = toolkit()
    cfg = state.cfg
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
    state.add(Row("kernel", "empirical_kernel", (n, k), ours=ours, reference="explicit J Jᵀ (method='jacobian')",
                  ref=ref, ref_status="ok", details={"ref_rel_diff": err}), ("kernel", "jacobian", (n, k)))
    state.notes.append(f"empirical_kernel vs explicit J Jᵀ at {(n, k)}: max rel. diff {err:.1e}")
    state.kernel_ours = ours
    return ours


def kernel_peer(state: Run, peer: str, form: str | None = None) -> None:
    """Time ``J Jᵀ`` of a peer library (``peer``, ``form``) in its own process."""
    n, k = state.cfg.kernel_pair
    ours = state.kernel_ours or kernel_pair(state)
    row = Row("kernel", "empirical_kernel", (n, k), ours=ours, reference=KERNEL_PEER_NAMES[peer, form])
    res = None
    if state.peer_usable(peer):
        res = state.child({"task": "peer_kernel", "peer": peer, "form": form, "n": n, "k": k,
                           "repeats": state.cfg.ref_repeats, "budget": state.cfg.budget})
    state.add(state.peer_row(row, res), ("kernel", peer, (n, k)))


def kernel_times(state: Run) -> None:
    """Time ``empirical_kernel`` at the sizes of ``cfg.kernel_times`` (no reference)."""
    nt = toolkit()
    for (n, k), repeats in state.cfg.kernel_times:
        gen = benchmark_generator(n, k)
        C = init_weights(gen)
        ours = time_call(lambda gen=gen, C=C: nt.empirical_kernel(gen, C), repeats, budget=state.cfg.budget)
        state.add(Row("kernel", "empirical_kernel", (n, k), ours=ours), ("kernel", "time", (n, k)))
        del C


def memory_row(size: tuple, res: ChildResult, operation: str = "empirical_kernel", section: str = "kernel",
               per: int = 1) -> Row:
    """The row of a routine measured in a fresh process: time (divided by ``per``) and peak extra memory (RSS).

    ``peak_x_C`` is set when the child reports ``C_nbytes``.
    """
    row = Row(section, operation, tuple(size))
    if not res.ok:
        row.status = res.status
        row.details["message"] = res.message
        return row
    r = res.result
    row.ours = Stats.from_times(r["times"], res.other_cores, per=per)
    row.peak_bytes = int(r["extra_bytes"])
    if r.get("C_nbytes"):
        row.peak_x_C = r["extra_bytes"] / r["C_nbytes"]
    row.details.update({key: r[key] for key in ("C_nbytes", "K_nbytes", "out_nbytes", "exact_peak") if key in r})
    row.details["measured_in"] = "fresh process (RSS)"
    return row


def kernel_memory(state: Run) -> None:
    """Time and peak extra memory of ``empirical_kernel`` in a fresh process (``cfg.kernel_memory``)."""
    state.memory_results = {}
    for (n, k), repeats in state.cfg.kernel_memory:
        res = state.child({"task": "kernel", "n": n, "k": k, "repeats": repeats, "budget": state.cfg.budget})
        state.memory_results[(n, k)] = res
        row = state.add(memory_row((n, k), res), ("kernel", "memory", (n, k)))
        if row.status == "ok":
            state.notes.append(f"empirical_kernel at {(n, k)}: peak extra memory {fmt_bytes(row.peak_bytes)} "
                               f"= {row.peak_x_C:.2f}× C.nbytes ({fmt_bytes(row.details['C_nbytes'])}), "
                               f"including the returned kernel ({fmt_bytes(row.details['K_nbytes'])})")


def kernel_largest(state: Run) -> None:
    """The largest ``(n, 16n)`` kernel computed within ``LARGEST_SECONDS`` (full mode)."""
    tried, best, reason = [], None, None
    x_C = 0.5  # extra memory as a multiple of C, updated from each measurement
    n = LARGEST_START
    known = state.memory_results
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
            state.log(f"largest kernel within {LARGEST_SECONDS:g} s: trying n = {n}, k = {k}")
            res = state.child({"task": "kernel", "n": n, "k": k, "repeats": 1,
                               "call_limit": LARGEST_SECONDS * 1.05 + 2.0},
                              time_limit=max(state.time_limit, 120.0))
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
        row = memory_row((best[0], best[1]), best[2], operation=op)
        row.details.update(tried=tried, stopped=reason)
    state.add(row)
    state.notes.append(f"largest (n, 16n) kernel within {LARGEST_SECONDS:g} s: "
                       + (f"n = {best[0]} in {fmt_time(best[2].result['times'][0])}" if best else "none")
                       + f"; stopped: {reason}")
