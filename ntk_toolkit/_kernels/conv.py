"""Circular convolution by direct taps, parallel over blocks of channels.

Index convention (``docs/theory.md`` §1.1): with taps ``u[0..L-1]`` and centre
``h``, ``(U X)[i, :] = Σ_a u[a] X[(i - a + h) mod n, :]`` and the adjoint
``(Uᵀ R)[j, :] = Σ_a u[a] R[(j + a - h) mod n, :]``.

A thread owns whole blocks of columns (:func:`ntk_toolkit._kernels.gd.block_width`
channels) and walks down their rows, so the ``L`` input rows of an output row
stay in cache. Every output entry is the same sum in the same order
whatever the number of threads, the sum of :func:`ntk_toolkit._kernels.rows.stencil`
(four taps per pass) that the fused gradient-descent step and the packed
activation pattern use too.
"""

from numba import prange

from .._jit import pjit
from .rows import stencil, symmetric


@pjit
def _shift_sum(taps, h, X, out, bw, sign):  # pragma: no cover - compiled
    n, k = X.shape
    sym = symmetric(taps)
    nb = (k + bw - 1) // bw
    for b in prange(nb):
        c0 = b * bw
        c1 = min(k, c0 + bw)
        for i in range(n):
            stencil(out[i, c0:c1], taps, X, i - sign * h, sign, c0, sym)


def circ_conv(taps, h, X, out):
    """``out = U X`` (``sign = −1``: source row ``i − a + h``)."""
    from .gd import block_width

    _shift_sum(taps, h, X, out, block_width(X.shape[1]), -1)


def circ_corr(taps, h, R, out):
    """``out = Uᵀ R`` (``sign = +1``: source row ``j + a − h``)."""
    from .gd import block_width

    _shift_sum(taps, h, R, out, block_width(R.shape[1]), 1)
