"""Matrix-free products with the empirical kernel ``K(C) = J Jᵀ`` for a separable 2-D convolution by direct taps.

``K r = J (Jᵀ r)`` with ``E = Uᵀ(M ∘ r 1ᵀ)`` (an ``n x k`` array, ``Jᵀ r = E diag(v)``):
``(K r)_p = Σ_l v_l² M[p, l] (U E)[p, l]`` (``docs/theory.md`` §2.1, §2.4), with the
2-D convention of :mod:`ntk_toolkit._kernels.gd2d`.

One sweep down the image rows per block of channels (the blocks of
:func:`~ntk_toolkit._kernels.gd.block_width`, one thread per block): image row
``j1`` of ``E`` is computed from the byte mask and kept in a ring of ``L1``
image rows; the forward pass of image row ``i1 = j1 − h1`` reads its ``L1`` rows
of ``E`` from the ring, fused with ``Σ_l v_l² M (U E)``. ``E`` is never stored
whole: the only memory traffic of size ``n k`` is reading the mask (one byte
per entry). The rows whose window wraps around are done at the end, from the
ring (the last ``L1`` rows of ``E``) and a copy of the first ``L1 − 1``.

The per-block sums ``gpart[b, p]`` are added by the wrapper in a fixed order and
the block width depends only on ``k``, so results do not depend on the number
of threads.
"""

import numpy as np
from numba import prange

from .._jit import jit, pjit
from .gd2d_rows import forward_row_from, gradient_row_to


@jit
def _copy_rows(dst, d0, src, s0, count):  # pragma: no cover - compiled
    """``dst[d0 : d0 + count] = src[s0 : s0 + count]`` (rows of two 2-D arrays)."""
    for i in range(count):
        for c in range(src.shape[1]):
            dst[d0 + i, c] = src[s0 + i, c]


@pjit
def kernel_apply(a, b, h1, h2, H, W, mask, r, w, gpart, bw):  # pragma: no cover - compiled
    """``gpart[blk, p] = Σ_{l ∈ blk} w_l M[p, l] (U Uᵀ(M ∘ r 1ᵀ))[p, l]`` for ``u = a ⊗ b`` (``w = v²``)."""
    k = mask.shape[1]
    L1 = a.shape[0]
    nb = gpart.shape[0]
    lo = L1 - 1 - h1  # first image row whose window of E does not wrap below 0
    hi = H - 1 - h1  # last image row whose window of E does not wrap above H − 1
    for blk in prange(nb):
        c0 = blk * bw
        m = min(k, c0 + bw) - c0
        ring = np.empty((L1 * W, m))  # E rows: slot s holds image row e with e mod L1 = s
        head = np.empty((max(L1 - 1, 1) * W, m))  # E rows 0 … L1 − 2, for the wrapped windows
        win = np.empty((L1 * W, m))
        T = np.empty((W, m))
        z = np.empty(m)
        rq = np.empty(L1, dtype=np.int64)
        ones = np.ones(m)
        wb = w[c0:c0 + m]
        for j1 in range(H):
            for q in range(L1):
                s = j1 + q - h1
                while s < 0:
                    s += H
                while s >= H:
                    s -= H
                rq[q] = s
            slot = j1 % L1
            gradient_row_to(a, b, h2, W, mask, r, 1.0, c0, T, z, ring, slot, 0, ones, False, rq)
            if j1 < L1 - 1:
                _copy_rows(head, j1 * W, ring, slot * W, W)
            i1 = j1 - h1
            if i1 >= lo:
                for q in range(L1):
                    rq[q] = (i1 - q + h1) % L1  # the E rows i1 + h1 − q ≤ j1 are in the ring
                forward_row_from(a, b, h2, W, ring, 0, wb, mask, c0, i1 * W, T, z,
                                 gpart[blk, i1 * W:(i1 + 1) * W], rq, True)
        for i1 in range(H):
            if i1 < lo or i1 > hi:
                for q in range(L1):
                    e = i1 - q + h1
                    while e < 0:
                        e += H
                    while e >= H:
                        e -= H
                    if e >= H - L1:
                        _copy_rows(win, q * W, ring, (e % L1) * W, W)
                    else:
                        _copy_rows(win, q * W, head, e * W, W)
                    rq[q] = q
                forward_row_from(a, b, h2, W, win, 0, wb, mask, c0, i1 * W, T, z,
                                 gpart[blk, i1 * W:(i1 + 1) * W], rq, True)
