"""Sums of squared differences for the regime diagnostics (``docs/theory.md`` §9.1).

``‖X − X0‖_F²`` over two arrays of the same shape, read once each: the array
is cut into :data:`CHUNK` entries per chunk (independent of the thread count),
each chunk summed serially on one thread, the chunk sums added in order by the
wrapper, so the result is the same for every number of threads.
"""

import numpy as np
from numba import prange

from .._jit import pjit

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
