"""The ``images`` section: the toolkit on ``H x W`` images (:class:`ntk_toolkit.CircularConv2D`).

Sizes are ``(H, W)`` (spectrum) or ``(H, W, k)``; ``n = H·W``.

* the spectrum of ``Σ`` (``triangle2d(3)``) against a full 2-D FFT of its first
  row, with the peak extra memory of a first call in a fresh process;
* a gradient-descent step (``triangle2d(2)``) against a sparse-``U`` NumPy loop,
  the memory-bandwidth bound and float32 (measured interleaved with the helpers
  of the ``gd`` section), the PyTorch and JAX loops (``gd.gd_peer``), and the
  peak extra memory of one run in a fresh process;
* ``top_eigenpairs`` and ``empirical_kernel``, timed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._timing import fmt_bytes, fmt_time, time_call
from ..reference import (
    IMAGE_SPECTRUM_FILTER_WIDTH,
    image_generator,
    image_problem,
    init_weights,
    naive_gradient_descent,
    naive_spectrum,
    rel_diff,
    sparse_conv2d_matrix,
)
from ..report import Row
from . import toolkit
from .gd import CHECK_STEPS, gd_bound, interleaved
from .kernel import memory_row

if TYPE_CHECKING:
    from ..suite import Run

SECTION = "images"
GD_OPERATION = "gradient_descent per step"


def images_spectrum(state: Run) -> None:
    """:func:`ntk_toolkit.spectrum` of ``Σ`` at each ``cfg.images_spectrum`` size against a full 2-D FFT.

    Both are timed in this process; the peak extra memory (RSS) of a first
    call is measured in a fresh process and shown with the row, next to the
    ``8 n²`` bytes a dense ``n x n`` array would take.
    """
    nt = toolkit()
    cfg = state.cfg
    for H, W in cfg.images_spectrum:
        n = H * W
        gen = image_generator((H, W), 2, p=IMAGE_SPECTRUM_FILTER_WIDTH)
        err = rel_diff(nt.spectrum(gen).eigenvalues, naive_spectrum(gen))  # also the warm-up of both
        ours = time_call(lambda gen=gen: nt.spectrum(gen), cfg.images_repeats, warmup=0, budget=cfg.budget)
        ref = time_call(lambda gen=gen: naive_spectrum(gen), cfg.images_repeats, warmup=0, budget=cfg.budget)
        row = Row(SECTION, "spectrum of Σ (block-circulant)", (H, W), ours=ours,
                  reference="full 2-D FFT of Σ's first row + sort", ref=ref, ref_status="ok",
                  details={"ref_rel_diff": err, "filter": gen.operator.filter.name, "n_by_n_bytes": 8 * n * n})
        res = state.child({"task": "image", "op": "spectrum", "shape": [H, W], "repeats": 1})
        if res.ok:
            row.peak_bytes = int(res.result["extra_bytes"])
            row.details.update(peak_measured_in="first call in a fresh process (RSS)",
                               first_call_s=res.result["times"][0], out_nbytes=res.result["out_nbytes"],
                               exact_peak=res.result["exact_peak"])
            state.notes.append(f"spectrum of Σ at {(H, W)} ({gen.operator.filter.name}): max rel. diff from the "
                               f"2-D FFT {err:.1e}; peak extra memory of a first call in a fresh process "
                               f"{fmt_bytes(row.peak_bytes)} (returned: {fmt_bytes(res.result['out_nbytes'])}; a "
                               f"dense n x n float64 array would take {fmt_bytes(8 * n * n)})")
        else:
            row.details.update(peak_status=res.status, peak_message=res.message)
            state.notes.append(f"spectrum of Σ at {(H, W)}: peak memory not measured ({res.status}: {res.message})")
        state.add(row, (SECTION, "spectrum", (H, W)))


def images_gd(state: Run) -> None:
    """float64, float32 and the copy bandwidth interleaved (``gd.interleaved``), then a sparse-``U`` NumPy loop.

    At ``n = H·W`` pixels a dense ``U`` takes ``8 n²`` bytes (2 GiB at
    128 x 128), so the in-repo reference is the same iteration with ``U`` as a
    SciPy sparse matrix (:func:`~ntk_toolkit.bench.reference.sparse_conv2d_matrix`).
    """
    nt = toolkit()
    cfg = state.cfg
    H, W, k = size = cfg.images_gd
    gen, C0, y, eta = image_problem(H, W, k)
    steps = cfg.images_gd_steps
    C_ours = nt.gradient_descent(gen, y, C0, eta, CHECK_STEPS, record=[CHECK_STEPS]).C  # also the warm-up
    op = gen.operator
    U = sparse_conv2d_matrix(op.taps, op.center, (H, W))
    v = np.array(gen.output_weights)
    err = rel_diff(C_ours, naive_gradient_descent(U, v, y, C0, eta, CHECK_STEPS))  # also its warm-up
    ours = interleaved(state, SECTION, size, gen, y, C0, eta, steps, C_ours).stats["float64"]
    ref = time_call(lambda: naive_gradient_descent(U, v, y, C0, eta, cfg.images_naive_steps), cfg.ref_repeats,
                    warmup=0, per=cfg.images_naive_steps, budget=cfg.budget)
    state.add(Row(SECTION, GD_OPERATION, size, ours=ours, reference="sparse-U NumPy loop (scipy.sparse)",
                  ref=ref, ref_status="ok",
                  details={"ref_rel_diff": err, "steps": steps, "eta": eta, "filter": op.filter.name,
                           "operator_method": op.method}),
              (SECTION, "naive", size))
    state.notes.append(f"gradient_descent on {H} x {W} images, k = {k} ({op.filter.name}, {op.method} "
                       f"convolution) vs sparse-U NumPy loop after {CHECK_STEPS} steps: max rel. diff of C "
                       f"{err:.1e}; η = max_step_size(gen) = {eta:.4g}; {steps} steps per timed run")
    gd_bound(state, SECTION, "float64")


def images_gd_memory(state: Run) -> None:
    """Time and peak extra memory (RSS) of one gradient-descent run in a fresh process, per step and × ``C.nbytes``."""
    cfg = state.cfg
    H, W, k = size = cfg.images_gd
    steps = cfg.images_gd_steps
    res = state.child({"task": "image", "op": "gradient_descent", "shape": [H, W], "k": k, "steps": steps,
                       "repeats": 1})
    row = memory_row(size, res, operation=f"gradient_descent per step, one {steps}-step run (fresh process)",
                     section=SECTION, per=steps)
    row.details["steps"] = steps
    state.add(row, (SECTION, "memory", size))
    if row.status == "ok":
        state.notes.append(f"gradient_descent on {H} x {W} images, k = {k}, one run of {steps} steps recording the "
                           f"last C, in a fresh process: peak extra memory {fmt_bytes(row.peak_bytes)} = "
                           f"{row.peak_x_C:.2f}× C.nbytes ({fmt_bytes(row.details['C_nbytes'])}), including the "
                           "returned C")


def images_top(state: Run) -> None:
    """:func:`ntk_toolkit.top_eigenpairs` of ``K(C)`` at ``cfg.images_top`` (``r = cfg.images_top_r``, ``seed=0``).

    A call on a small image (Lanczos path) first loads the compiled kernels;
    the timed calls start cold at the measured size. No reference: the dense
    eigendecomposition of ``K`` would take ``8 n²`` bytes and ``O(n³)`` time;
    the row reports the residual norms ``‖K x − λ x‖`` of the pairs instead.
    """
    nt = toolkit()
    cfg = state.cfg
    H, W, k = size = cfg.images_top
    r = cfg.images_top_r
    small = image_generator((24, 24), 16)
    nt.top_eigenpairs(small, init_weights(small), 4, seed=0)
    gen = image_generator((H, W), k)
    C = init_weights(gen)
    out = []
    ours = time_call(lambda: out.append(nt.top_eigenpairs(gen, C, r, seed=0)), cfg.images_repeats, warmup=0,
                     budget=cfg.budget)
    top = out[-1]
    rel_res = float(np.max(top.residual_norms) / top.eigenvalues[0])
    state.add(Row(SECTION, f"top_eigenpairs(gen, C, {r})", size, ours=ours,
                  details={"method": top.method, "matvecs": top.matvecs, "max_residual_over_lambda1": rel_res,
                           "eigenvalues": top.eigenvalues.tolist(), "filter": gen.operator.filter.name}),
              (SECTION, "top_eigenpairs", size))
    state.notes.append(f"top_eigenpairs(gen, C, {r}) on {H} x {W} images, k = {k}: {top.method}, {top.matvecs} "
                       f"products with K, max residual ‖K x − λ x‖ / λ₁ = {rel_res:.1e}; median "
                       f"{fmt_time(ours.median)}")


def images_kernel(state: Run) -> None:
    """:func:`ntk_toolkit.empirical_kernel` at ``cfg.images_kernel`` (timed; no reference at this size)."""
    nt = toolkit()
    cfg = state.cfg
    H, W, k = size = cfg.images_kernel
    gen = image_generator((H, W), k)
    C = init_weights(gen)
    ours = time_call(lambda: nt.empirical_kernel(gen, C), cfg.images_repeats, budget=cfg.budget)
    state.add(Row(SECTION, "empirical_kernel", size, ours=ours,
                  details={"K_nbytes": 8 * gen.n * gen.n, "filter": gen.operator.filter.name}),
              (SECTION, "kernel", size))
