"""Finishing pass of the structured empirical kernel.

``K[i, j] = K[j, i] = scale · G[i, j] · a[(j − i) mod n]`` for ``i <= j``, where
``G`` holds the upper triangle of the activation-pattern Gram (as written by
BLAS ``syrk``, Fortran order) and ``a`` is the first row of the circulant
``U Uᵀ``. One pass, no ``n x n`` temporaries; rows are independent.
"""

from numba import prange

from .._jit import pjit


@pjit
def finish_circulant(G, a, scale, K):  # pragma: no cover - compiled
    n = G.shape[0]
    for i in prange(n):
        for j in range(i, n):
            d = j - i
            val = scale * G[i, j] * a[d]
            K[i, j] = val
            K[j, i] = val
