"""Circular convolution by direct taps, row-parallel.

Index convention (``docs/theory.md`` §1.1): with taps ``u[0..L-1]`` and centre
``h``, ``(U X)[i, :] = Σ_a u[a] X[(i - a + h) mod n, :]`` and the adjoint
``(Uᵀ R)[j, :] = Σ_a u[a] R[(j + a - h) mod n, :]``.
"""

from numba import prange

from .._jit import pjit


@pjit
def circ_conv(taps, h, X, out):  # pragma: no cover - compiled
    n, k = X.shape
    L = taps.shape[0]
    for i in prange(n):
        for c in range(k):
            out[i, c] = 0.0
        for a in range(L):
            src = (i - a + h) % n
            w = taps[a]
            for c in range(k):
                out[i, c] += w * X[src, c]


@pjit
def circ_corr(taps, h, R, out):  # pragma: no cover - compiled
    n, k = R.shape
    L = taps.shape[0]
    for j in prange(n):
        for c in range(k):
            out[j, c] = 0.0
        for a in range(L):
            src = (j + a - h) % n
            w = taps[a]
            for c in range(k):
                out[j, c] += w * R[src, c]
