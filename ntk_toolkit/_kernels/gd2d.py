"""Fused kernels for the two-layer generator with a 2-D circular convolution (direct taps).

Images of ``H x W`` pixels are the rows of ``C`` in row-major order: pixel
``(i1, i2)`` is row ``p = i1 W + i2``. The taps ``u`` (``L1 x L2``, centre
``(h1, h2)``) are given as a sum of ``R`` separable terms,
``u[q1, q2] = Σ_r A[r, q1] B[r, q2]`` (``R = 1`` for a separable filter; for any
other filter ``A[r] = u[:, r]``, ``B[r] = e_r``, ``R = L2``), and

* ``(U X)[(i1, i2)] = Σ_r Σ_{q2} B[r, q2] T_r[(i2 − q2 + h2) mod W]`` with the
  vertical pass ``T_r[i2'] = Σ_{q1} A[r, q1] X[((i1 − q1 + h1) mod H, i2')]``;
* ``(Uᵀ Y)[(j1, j2)] = Σ_r Σ_{q2} B[r, q2] S_r[(j2 + q2 − h2) mod W]`` with
  ``S_r[j2'] = Σ_{q1} A[r, q1] Y[((j1 + q1 − h1) mod H, j2')]``

(``docs/theory.md`` §2.4): ``L1 + L2`` multiply-adds per entry for a
separable filter, ``L2 (L1 + 1)`` otherwise. Zero taps of ``B`` are skipped.

The row sweeps of a separable filter are compiled with reassociable sums
(:func:`~ntk_toolkit._jit.sum_jit`, no assumption about NaN or inf), so the
order of the additions inside a row is LLVM's, fixed for a given build; the
forward pass, the step and the gradient share these functions, so their
masks agree, and the oracle tests hold them to 1e-12.

As in 1-D (:mod:`ntk_toolkit._kernels.gd`), work is split over blocks of
channels (:func:`block_width_for`: all ``k`` channels while a block's
vertical pass fits in the L2 cache, so that the weights of a pixel are one
contiguous run of ``C``; it depends on ``k`` and ``W`` only) and, when there
are fewer blocks than threads, over regions of image rows (:func:`regions`);
a task owns one block of one region and walks down its image rows; the
per-block partial outputs ``gpart[b, p] = Σ_{c ∈ b} v_c relu(z_pc)`` are
summed by the wrapper in a fixed order, so results do not depend on the
number of threads. The row kernels are in
:mod:`ntk_toolkit._kernels.gd2d_rows`.

* :func:`forward_mask` — ``Z = U C`` image row by image row, the mask
  ``1{Z > 0}`` (uint8) and the partial outputs, without storing ``Z``.
* :func:`backward` — ``Uᵀ (mask ∘ r vᵀ)`` into ``out``.
* :func:`masked_forward` — ``Σ_c v_c M[p, c] (U D)[p, c]``: the Jacobian-vector
  product ``J D`` for a given pattern (the matrix-free kernel's second half).
* :func:`step` — one fused gradient-descent step: ``C ← C − η Uᵀ(M ∘ r vᵀ)``
  in place and, in the same sweep, the next mask and partial outputs. A ring
  of the ``L1`` image rows of ``−η M ∘ r 1ᵀ`` (converted to floats once, when
  they enter it) feeds the gradient of image row ``j1``; the forward pass of
  image row ``i1 = j1 − h1`` follows as soon as the rows it reads are
  updated, when no later gradient row still reads mask row ``i1``; the first
  ``L1 − 1`` forward rows of each region (whose window reaches into the
  region before, or wraps around) are done at the end of the sweep. Each
  entry of ``C`` is read and written once per sweep (plus the ``L1`` rows of
  the forward window in cache).
"""

import numpy as np
from numba import prange

from .._jit import jit, pjit
from .gd2d_rows import _forward_row, _forward_row_sep, _gradient_row, _gradient_row_sep, _ring_fill, _slots


@jit(contract=True)
def _forward_any(A, B, h1, h2, H, W, C, vb, mask, c0, i1, T, Z, z, rows, gout, sep,
                 linear=False):  # pragma: no cover - compiled
    if sep:
        _forward_row_sep(A[0], B[0], h1, h2, H, W, C, vb, mask, c0, i1, T, z, gout, rows, linear)
    else:
        _forward_row(A, B, h1, h2, H, W, C, vb, mask, c0, i1, T, Z, rows, gout, linear)


#: Bytes that the vertical pass ``T`` of one block (``W x bw`` entries, 8 bytes each) may take: it stays in the
#: core's L2 cache. Below it a block holds all ``k`` channels, so that the ``k`` weights of a pixel are one
#: contiguous run of ``C`` and a sweep streams through memory; threads then share the work by regions of rows.
BLOCK_BYTES = 1 << 20


def block_width_for(k: int, stencil: tuple) -> int:
    """Channels per block of the 2-D sweeps for ``k`` channels and the ``stencil`` ``(A, B, h1, h2, H, W)``.

    All ``k`` when ``W k`` entries fit in :data:`BLOCK_BYTES`; otherwise the
    fewest blocks that fit, of equal width (a multiple of 8, at least 64).
    Depends on ``k`` and ``W`` only, so results do not depend on the number of
    threads.
    """
    W = int(stencil[5])
    cap = max(64, BLOCK_BYTES // (8 * W))
    if k <= cap:
        return int(k)
    nb = -(-k // cap)
    return int(8 * -(-k // (8 * nb)))


#: Fewest image rows in a region of the row split (:func:`regions`): each region defers the forward pass of
#: its first ``L1 − 1`` rows to the end of the sweep, when their rows of ``C`` are no longer in cache.
MIN_REGION_ROWS = 16


def regions(H: int, L1: int, nb: int, threads: int) -> np.ndarray:
    """Start rows of the image-row regions of a sweep, with ``H`` appended (int64, strictly increasing).

    The ``nb`` blocks of channels are split further into ``R`` regions of image
    rows when there are fewer blocks than threads, ``R = ⌈threads / nb⌉``, each
    of at least :data:`MIN_REGION_ROWS` (and ``L1 − 1``) rows. Which thread
    computes an entry never changes its arithmetic, so results do not depend on
    ``R`` or on the number of threads.
    """
    per = max(MIN_REGION_ROWS, L1 - 1, 1)
    R = max(1, min(-(-threads // max(nb, 1)), H // per))
    return np.array([(g * H) // R for g in range(R + 1)], dtype=np.int64)


@pjit(contract=True)
def _forward_sweep(A, B, h1, h2, H, W, C, v, mask, gpart, bw, linear, starts):  # pragma: no cover - compiled
    k = C.shape[1]
    sep = A.shape[0] == 1
    nb = gpart.shape[0]
    nr = starts.shape[0] - 1
    L1 = A.shape[1]
    for task in prange(nb * nr):
        b = task // nr
        g = task - b * nr
        c0 = b * bw
        m = min(k, c0 + bw) - c0
        T = np.empty((W, m), dtype=C.dtype)
        Z = np.empty((1 if sep else W, m), dtype=C.dtype)
        rows = np.empty(L1, dtype=np.int64)
        z = np.empty(m, dtype=C.dtype)
        vb = v[c0:c0 + m]
        for i1 in range(starts[g], starts[g + 1]):
            _forward_any(A, B, h1, h2, H, W, C, vb, mask, c0, i1, T, Z, z, rows, gpart[b, i1 * W:(i1 + 1) * W], sep,
                         linear)


def _starts(H, A, gpart):
    import numba

    return regions(H, A.shape[1], gpart.shape[0], numba.get_num_threads())


def forward_mask(A, B, h1, h2, H, W, C, v, mask, gpart, bw):
    """``Z = U C``: the mask ``1{Z > 0}`` into ``mask`` and ``gpart[b, p] = Σ_{c ∈ b} v_c relu(Z[p, c])``."""
    _forward_sweep(A, B, h1, h2, H, W, C, v, mask, gpart, bw, False, _starts(H, A, gpart))


def masked_forward(A, B, h1, h2, H, W, D, v, mask, gpart, bw):
    """``gpart[b, p] = Σ_{c ∈ b} v_c mask[p, c] (U D)[p, c]``: ``J D`` for a given pattern (mask not written)."""
    _forward_sweep(A, B, h1, h2, H, W, D, v, mask, gpart, bw, True, _starts(H, A, gpart))


@jit(contract=True)
def _gradient_any(A, B, h1, h2, H, W, mask, r, coef, j1, ring, slots, T, Z, z, rows, out, vb, c0, update,
                  sep):  # pragma: no cover - compiled
    """Image row ``j1`` of the gradient: from the mask directly (separable), or through the ring (in which
    source row ``j1 − h1 + L1 − 1`` is converted as it enters)."""
    if sep:
        _gradient_row_sep(A[0], B[0], h1, h2, H, W, mask, r, coef, j1, T, z, out, vb, c0, update, rows)
    else:
        L1 = A.shape[1]
        _ring_fill(ring, (j1 + L1 - 1) % L1, mask, r, coef, (j1 - h1 + L1 - 1) % H, W, c0, vb.shape[0])
        _slots(slots, j1, L1)
        _gradient_row(A, B, h2, W, ring, j1, slots, T, Z, out, vb, c0, update)


@jit(contract=True)
def _ring_start(ring, mask, r, coef, h1, H, W, c0, m, sep, s):  # pragma: no cover - compiled
    """Slots ``(s + q) mod L1``, ``q < L1 − 1``, of the ring: the source rows ``s − h1 + q`` that gradient row ``s``
    reads before its own row enters; no ring for a separable filter."""
    if not sep:
        L1 = ring.shape[0]
        for q in range(L1 - 1):
            _ring_fill(ring, (s + q) % L1, mask, r, coef, (s + q - h1) % H, W, c0, m)


@jit(contract=True)
def _work_buffers(sep, L1, W, m, like):  # pragma: no cover - compiled
    """Per-block work arrays of the gradient sweeps (dtype of ``like``): the ring of image rows (general
    filters only), the vertical pass ``T``, the horizontal one ``Z`` (general filters), row and slot
    indices, and one row ``z`` of partial sums."""
    ring = np.empty((1 if sep else L1, W, m), dtype=like.dtype)
    T = np.empty((W, m), dtype=like.dtype)
    Z = np.empty((1 if sep else W, m), dtype=like.dtype)
    slots = np.empty(L1, dtype=np.int64)
    rows = np.empty(L1, dtype=np.int64)
    z = np.empty(m, dtype=like.dtype)
    return ring, T, Z, slots, rows, z


@pjit(contract=True)
def _backward(A, B, h1, h2, H, W, mask, r, v, one, out, bw, starts):  # pragma: no cover - compiled
    k = mask.shape[1]
    sep = A.shape[0] == 1
    L1 = A.shape[1]
    nb = (k + bw - 1) // bw
    nr = starts.shape[0] - 1
    for task in prange(nb * nr):
        b = task // nr
        g = task - b * nr
        c0 = b * bw
        m = min(k, c0 + bw) - c0
        ring, T, Z, slots, rows, z = _work_buffers(sep, L1, W, m, out)
        vb = v[c0:c0 + m]
        _ring_start(ring, mask, r, one, h1, H, W, c0, m, sep, starts[g])
        for j1 in range(starts[g], starts[g + 1]):
            _gradient_any(A, B, h1, h2, H, W, mask, r, one, j1, ring, slots, T, Z, z, rows, out, vb, c0, False, sep)


def backward(A, B, h1, h2, H, W, mask, r, v, one, out, bw):
    """``out = vb ∘ Uᵀ(one · mask ∘ r 1ᵀ)``: the gradient ``Jᵀ r`` for the pattern ``mask`` (``one = 1``)."""
    import numba

    k = mask.shape[1]
    starts = regions(H, A.shape[1], -(-k // bw), numba.get_num_threads())
    _backward(A, B, h1, h2, H, W, mask, r, v, one, out, bw, starts)


@pjit(contract=True)
def _step(A, B, h1, h2, H, W, mask, r, v, eta, C, gpart, bw, starts):  # pragma: no cover - compiled
    k = C.shape[1]
    sep = A.shape[0] == 1
    L1 = A.shape[1]
    nb = gpart.shape[0]
    nr = starts.shape[0] - 1
    neg = -eta
    for task in prange(nb * nr):  # the gradient rows of each region and the forward rows inside it
        b = task // nr
        g = task - b * nr
        s = starts[g]
        c0 = b * bw
        m = min(k, c0 + bw) - c0
        ring, T, Z, slots, rows, z = _work_buffers(sep, L1, W, m, C)
        vb = v[c0:c0 + m]
        _ring_start(ring, mask, r, neg, h1, H, W, c0, m, sep, s)
        for j1 in range(s, starts[g + 1]):
            # gradient row j1 reads the mask rows j1 − h1 … j1 − h1 + L1 − 1 as they were before the step
            _gradient_any(A, B, h1, h2, H, W, mask, r, neg, j1, ring, slots, T, Z, z, rows, C, vb, c0, True, sep)
            if j1 - s >= L1 - 1:  # forward row i1 reads C rows i1 + h1 − L1 + 1 … i1 + h1 = j1, all updated
                i1 = j1 - h1
                _forward_any(A, B, h1, h2, H, W, C, vb, mask, c0, i1, T, Z, z, rows, gpart[b, i1 * W:(i1 + 1) * W],
                             sep)
    for task in prange(nb * nr):  # the first L1 − 1 forward rows of each region read rows of the region before
        b = task // nr
        g = task - b * nr
        c0 = b * bw
        m = min(k, c0 + bw) - c0
        T = np.empty((W, m), dtype=C.dtype)
        Z = np.empty((1 if sep else W, m), dtype=C.dtype)
        rows = np.empty(L1, dtype=np.int64)
        z = np.empty(m, dtype=C.dtype)
        vb = v[c0:c0 + m]
        for t in range(L1 - 1):
            i1 = (starts[g] - h1 + t) % H
            _forward_any(A, B, h1, h2, H, W, C, vb, mask, c0, i1, T, Z, z, rows, gpart[b, i1 * W:(i1 + 1) * W], sep)

def step(A, B, h1, h2, H, W, mask, r, v, eta, C, gpart, bw):
    """One fused step ``C ← C − η Uᵀ(M ∘ r vᵀ)`` in place, then the next mask and ``gpart`` (see the module)."""
    _step(A, B, h1, h2, H, W, mask, r, v, eta, C, gpart, bw, _starts(H, A, gpart))
