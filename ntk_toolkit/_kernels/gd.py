"""Fused kernels for the two-layer generator with a circulant ``U``.

``forward_mask`` computes, row by row, ``z = (U C)[i, :]``, the activation mask
``1{z > 0}`` and ``G(C)[i] = Σ_l v_l relu(z_l)`` without storing ``U C``.
``backward`` computes ``Uᵀ (mask ∘ r vᵀ)`` row by row and either writes it
(``out``) or subtracts ``eta`` times it from ``C`` in place (``update``).
Rows are independent, so the parallel loops are deterministic.
"""

import numpy as np
from numba import prange

from .._jit import pjit


@pjit
def forward_mask(taps, h, C, v, mask, g):  # pragma: no cover - compiled
    n, k = C.shape
    L = taps.shape[0]
    for i in prange(n):
        z = np.zeros(k, dtype=C.dtype)
        for a in range(L):
            src = (i - a + h) % n
            w = taps[a]
            for c in range(k):
                z[c] += w * C[src, c]
        acc = 0.0
        for c in range(k):  # branch-free: activation signs are random
            zc = z[c]
            pos = zc > 0.0
            mask[i, c] = np.uint8(pos)
            acc += v[c] * (zc if pos else 0.0)
        g[i] = acc


@pjit
def backward(taps, h, mask, r, v, out):  # pragma: no cover - compiled
    n, k = mask.shape
    L = taps.shape[0]
    for j in prange(n):
        for c in range(k):
            out[j, c] = 0.0
        for a in range(L):
            src = (j + a - h) % n
            w = taps[a] * r[src]
            if w != 0.0:
                for c in range(k):
                    out[j, c] += w * mask[src, c]
        for c in range(k):
            out[j, c] *= v[c]


@pjit
def backward_update(taps, h, mask, r, v, eta, C):  # pragma: no cover - compiled
    n, k = mask.shape
    L = taps.shape[0]
    for j in prange(n):
        acc = np.zeros(k, dtype=C.dtype)
        for a in range(L):
            src = (j + a - h) % n
            w = taps[a] * r[src]
            if w != 0.0:
                for c in range(k):
                    acc[c] += w * mask[src, c]
        for c in range(k):
            C[j, c] -= eta * v[c] * acc[c]
