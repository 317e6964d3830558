"""Kernels of the regime diagnostics (``docs/theory.md`` §9.1).

* :func:`chunk_sq_diff` — ``‖X − X0‖_F²`` over two arrays of the same shape,
  read once each: the array is cut into :data:`CHUNK` entries per chunk
  (independent of the thread count), each chunk summed serially on one
  thread, the chunk sums added in order by the wrapper, so the result is the
  same for every number of threads.
* :func:`band_counts` — the co-activation counts ``N[i, j]`` of a bit-packed
  pattern on the band where ``U Uᵀ`` is nonzero (the exact kernel drift of a
  convolution without forming ``n x n`` matrices).
"""

import numpy as np
from numba import prange

from .._jit import inline_jit, pjit
from .gram import popcount

#: Entries per chunk of the parallel sum.
CHUNK = 1 << 16


@pjit
def chunk_sq_diff(x, x0, out):  # pragma: no cover - compiled
    """``out[c] = Σ_{i in chunk c} (x[i] − x0[i])²`` for flat float arrays ``x`` (float64 or float32) and ``x0``."""
    n = x.size
    for c in prange(out.size):
        s = 0.0
        stop = min(n, (c + 1) * CHUNK)
        for i in range(c * CHUNK, stop):
            d = np.float64(x[i]) - x0[i]
            s += d * d
        out[c] = s


@inline_jit
def _and_count(P, i, j, words):  # pragma: no cover - compiled
    """``Σ_w popcount(P[i, w] & P[j, w])``: channels active in both rows."""
    c = 0
    for w in range(words):
        c += popcount(P[i, w] & P[j, w])
    return c


@inline_jit
def _xor_count(P, P0, i, words):  # pragma: no cover - compiled
    """``Σ_w popcount(P[i, w] ^ P0[i, w])``: channels of row ``i`` whose sign differs between the patterns."""
    f = 0
    for w in range(words):
        f += popcount(P[i, w] ^ P0[i, w])
    return f


@inline_jit
def _neighbour(i, H, W, d1, d2):  # pragma: no cover - compiled
    """Row ``((i1 + d1) mod H) W + (i2 + d2) mod W`` of the output ``i = i1 W + i2``."""
    i1 = i // W
    return ((i1 + d1) % H) * W + (i - i1 * W + d2) % W


@pjit
def band_counts(P, P0, H, W, d1, d2, out, flips):  # pragma: no cover - compiled
    """``out[i, q] = Σ_w popcount(P[i, w] & P[j, w])`` with ``j = ((i1 + d1[q]) mod H) W + (i2 + d2[q]) mod W``,
    and ``flips[i] = Σ_w popcount(P[i, w] ^ P0[i, w])``.

    ``P`` holds the bit-packed activation pattern of ``n = H W`` outputs
    (row ``i = i1 W + i2``, 64 channels a word): ``out[i, q]`` is the number
    of channels in which output ``i`` and its neighbour at offset
    ``(d1[q], d2[q])`` are both active (``H = 1`` for a 1-D signal), and
    ``flips[i]`` the number of channels of output ``i`` whose sign differs
    from the pattern ``P0``. Exact integers; rows in parallel, so the result
    does not depend on the thread count. Cost ``n (|q| + 1) ⌈k/64⌉`` word
    operations.
    """
    words = P.shape[1]
    for i in prange(H * W):
        flips[i] = _xor_count(P, P0, i, words)
        for q in range(d1.shape[0]):
            out[i, q] = _and_count(P, i, _neighbour(i, H, W, d1[q], d2[q]), words)


@pjit
def band_drift(P, P0, counts0, wq, H, W, d1, d2, rows, flips):  # pragma: no cover - compiled
    """``rows[i] = Σ_q wq[q] (N[i, j_q] − counts0[i, q])²`` and ``flips[i]`` as in :func:`band_counts`.

    The squared change of the co-activation counts on the band, weighted,
    summed per row in ``q`` order (the wrapper adds the rows in order): the
    kernel drift of :class:`~ntk_toolkit.diagnostics.DiagnosticsRecorder`
    without an ``(n, |q|)`` array of counts. Rows in parallel; deterministic.
    """
    words = P.shape[1]
    for i in prange(H * W):
        flips[i] = _xor_count(P, P0, i, words)
        s = 0.0
        for q in range(d1.shape[0]):
            d = np.float64(_and_count(P, i, _neighbour(i, H, W, d1[q], d2[q]), words) - counts0[i, q])
            s += wq[q] * d * d
        rows[i] = s
