"""Fused kernels for the two-layer generator with a circulant ``U`` (direct taps).

Index convention (``docs/theory.md`` §1.1): taps ``u[0..L-1]`` with centre
``h``; ``(U X)[i, :] = Σ_a u[a] X[(i − a + h) mod n, :]`` and
``(Uᵀ R)[j, :] = Σ_a u[a] R[(j + a − h) mod n, :]``.

Work is split over **blocks of channels** (columns of ``C``): a thread owns
whole column blocks and walks down their rows, so the ``L`` rows of ``C`` that
one output row needs stay in L1 cache and no two threads ever touch the same
memory. Output ``i`` of the network is ``Σ_b gpart[b, i]``, summed by the
wrapper over blocks in a fixed order; the block width depends only on ``k``
(:func:`block_width`), so results do not depend on the number of threads.

* :func:`forward_mask` — ``Z = U C`` row by row, the activation mask
  ``1{Z > 0}`` (uint8) and the per-block partial outputs ``Σ_l v_l relu(Z_il)``,
  without storing ``Z``.
* :func:`backward` — the gradient ``Uᵀ (mask ∘ r vᵀ)`` into ``out``.
* :func:`step` — one fused gradient-descent step: updates
  ``C ← C − η Uᵀ(M_τ ∘ r_τ vᵀ)`` in place and, in the same sweep, computes the
  next mask ``M_{τ+1}`` (overwriting ``M_τ``) and the next partial outputs.
  Each row of ``C`` is read and written once per step: the forward pass of
  row ``i`` runs as soon as the rows ``i − L + 1 + h … i + h`` it needs are
  updated (a lag of ``h`` rows), by which time no later update still reads
  mask row ``i``; the ``L − 1`` rows whose window wraps around are done at
  the end of the sweep. One ``n x k`` byte mask is the only ``n x k``
  temporary.

The partial sums use eight accumulators in a fixed order (no reassociation by
the compiler: no fastmath), in float64 also for float32 weights.
"""

import numpy as np
from numba import prange

from .._jit import inline_jit, pjit


def block_width(k: int) -> int:
    """Channels per column block: about ``k / 2`` rounded up to a multiple of 8, within [64, 1024].

    Depends on ``k`` only (so results do not depend on the thread count). Long
    blocks amortise the per-row overhead of a block (measured at
    ``(n, k) = (512, 2048)`` on one thread: 4.8 ms per step with 256 channels
    per block, 3.9 ms with 1024); at least two blocks keep two cores busy.
    """
    return min(1024, max(64, 8 * -(-k // 16)))


@inline_jit
def _forward_row(taps, h, C, vb, mask, c0, c1, z, i):  # pragma: no cover - compiled
    """Forward pass of row ``i`` on columns ``c0:c1``; returns ``Σ_c v_c relu(z_c)``."""
    n = C.shape[0]
    L = taps.shape[0]
    m = c1 - c0
    Cs = C[(i + h) % n, c0:c1]
    w = taps[0]
    for c in range(m):
        z[c] = w * Cs[c]
    for a in range(1, L):
        Cs = C[(i - a + h) % n, c0:c1]
        w = taps[a]
        for c in range(m):
            z[c] += w * Cs[c]
    mi = mask[i, c0:c1]
    for c in range(m):
        zc = z[c]
        pos = zc > 0.0
        mi[c] = np.uint8(pos)
        z[c] = vb[c] * zc if pos else 0.0 * zc
    m8 = m - m % 8
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    s4 = 0.0
    s5 = 0.0
    s6 = 0.0
    s7 = 0.0
    for c in range(0, m8, 8):
        s0 += z[c]
        s1 += z[c + 1]
        s2 += z[c + 2]
        s3 += z[c + 3]
        s4 += z[c + 4]
        s5 += z[c + 5]
        s6 += z[c + 6]
        s7 += z[c + 7]
    for c in range(m8, m):
        s0 += z[c]
    return ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7))


@inline_jit
def _backward_row(taps, h, mask, r, scale, c0, c1, acc, j):  # pragma: no cover - compiled
    """``acc = scale · Σ_a u[a] r[src_a] mask[src_a, c0:c1]`` for output row ``j``."""
    n = mask.shape[0]
    L = taps.shape[0]
    m = c1 - c0
    for c in range(m):
        acc[c] = 0.0
    for a in range(L):
        src = (j + a - h) % n
        w = scale * taps[a] * r[src]
        if w != 0.0:
            ms = mask[src, c0:c1]
            for c in range(m):
                acc[c] += w * ms[c]


@pjit
def forward_mask(taps, h, C, v, mask, gpart, bw):  # pragma: no cover - compiled
    n, k = C.shape
    nb = gpart.shape[0]
    for b in prange(nb):
        c0 = b * bw
        c1 = min(k, c0 + bw)
        z = np.empty(c1 - c0, dtype=C.dtype)
        vb = v[c0:c1]
        for i in range(n):
            gpart[b, i] = _forward_row(taps, h, C, vb, mask, c0, c1, z, i)


@pjit
def backward(taps, h, mask, r, v, one, out, bw):  # pragma: no cover - compiled
    n, k = mask.shape
    nb = (k + bw - 1) // bw
    for b in prange(nb):
        c0 = b * bw
        c1 = min(k, c0 + bw)
        acc = np.empty(c1 - c0, dtype=out.dtype)
        vb = v[c0:c1]
        for j in range(n):
            _backward_row(taps, h, mask, r, one, c0, c1, acc, j)
            oj = out[j, c0:c1]
            for c in range(c1 - c0):
                oj[c] = vb[c] * acc[c]


@pjit
def step(taps, h, mask, r, v, eta, C, gpart, bw):  # pragma: no cover - compiled
    n, k = C.shape
    L = taps.shape[0]
    nb = gpart.shape[0]
    lo = L - 1 - h  # first row whose forward window does not wrap below 0
    hi = n - 1 - h  # last row whose forward window does not wrap above n − 1
    neg = -eta
    for b in prange(nb):
        c0 = b * bw
        c1 = min(k, c0 + bw)
        m = c1 - c0
        z = np.empty(m, dtype=C.dtype)
        acc = np.empty(m, dtype=C.dtype)
        vb = v[c0:c1]
        for j in range(n):
            _backward_row(taps, h, mask, r, neg, c0, c1, acc, j)
            Cj = C[j, c0:c1]
            for c in range(m):
                Cj[c] += vb[c] * acc[c]
            i = j - h
            if i >= lo:
                gpart[b, i] = _forward_row(taps, h, C, vb, mask, c0, c1, z, i)
        for i in range(n):
            if i < lo or i > hi:
                gpart[b, i] = _forward_row(taps, h, C, vb, mask, c0, c1, z, i)
