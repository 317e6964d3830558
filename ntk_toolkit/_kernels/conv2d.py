"""2-D circular convolution by direct taps, parallel over output rows.

Index convention (``docs/theory.md`` §2.4): images are ``(H, W, k)`` arrays
(``k`` columns, one image per column), taps ``u[0..L1-1, 0..L2-1]`` with
centre ``(h1, h2)``;
``(U X)[i1, i2, :] = Σ_{a1, a2} u[a1, a2] X[(i1 − a1 + h1) mod H, (i2 − a2 + h2) mod W, :]``
(``sign = −1``) and the adjoint reads ``(j1 + a1 − h1, j2 + a2 − h2)``
(``sign = +1``). A separable filter runs as two passes of the same kernel,
with taps of shape ``(L1, 1)`` and ``(1, L2)``.

A thread owns whole output rows ``i1``; every output entry is the sum over
the taps in row-major tap order, whatever the number of threads. Column
indices are unsigned so that LLVM vectorises the loop over the ``k``
columns (see :mod:`ntk_toolkit._kernels.rows`).
"""

import numpy as np
from numba import prange

from .._jit import pjit
from .rows import wrap


@pjit
def stencil2d(taps, h1, h2, X, out, sign):  # pragma: no cover - compiled
    """``out = U X`` (``sign = −1``) or ``Uᵀ X`` (``sign = +1``) for ``(H, W, k)`` arrays."""
    H, W, k = X.shape
    L1, L2 = taps.shape
    m = np.uint64(k)
    for i1 in prange(H):
        for i2 in range(W):
            for c in range(m):
                out[i1, i2, c] = 0.0
            for a1 in range(L1):
                r1 = wrap(i1 + sign * (a1 - h1), H)
                for a2 in range(L2):
                    r2 = wrap(i2 + sign * (a2 - h2), W)
                    t = taps[a1, a2]
                    for c in range(m):
                        out[i1, i2, c] += t * X[r1, r2, c]
