"""Matrix-free products with the empirical kernel ``K(C) = J Jᵀ`` for a circulant ``U`` applied by direct taps.

``K r = J (Jᵀ r)`` with ``(Jᵀ r)`` as an ``n x k`` array ``D = Uᵀ(M ∘ r vᵀ)`` and
``J D = (M ∘ U D) v`` (``docs/theory.md`` §2.1, eq. (2.2)). With ``E = Uᵀ(M ∘ r 1ᵀ)``
(so ``D = E diag(v)``):

``(K r)_i = Σ_l v_l² M[i, l] (U E)[i, l]``.

Index convention (``docs/theory.md`` §1.1): taps ``u[0..L-1]`` with centre ``h``;
``(U X)[i, :] = Σ_a u[a] X[(i − a + h) mod n, :]`` and
``(Uᵀ R)[j, :] = Σ_a u[a] R[(j + a − h) mod n, :]``.

One sweep down the rows per block of channels (the blocks of
:func:`~ntk_toolkit._kernels.gd.block_width`, one thread per block): row ``j`` of
``E`` is computed from ``L`` rows of the byte mask and kept in a ring of ``L``
rows; as soon as the ``L`` rows of ``E`` that output row ``i`` needs are in the
ring, ``Σ_l v_l² M[i, l] (U E)[i, l]`` over the block is added up. Neither ``D``
nor ``U D`` is stored: the only memory traffic of size ``n k`` is reading the
mask (one byte per entry). The ``L − 1`` rows of ``E`` whose window wraps around
are computed twice (at the start and the end of the sweep).

The per-block sums ``gpart[b, q, i]`` are added by the wrapper in a fixed order
and the block width depends only on ``k``, so results do not depend on the
number of threads.
"""

import numpy as np
from numba import prange

from .._jit import jit, pjit, sum_jit
from .rows import wrap


@jit
def _e_row(taps, mask, r, q, E, slot, e, c0, m):  # pragma: no cover - compiled
    """``E[slot, c] = Σ_a u[a] r[s_a, q] M[s_a, c0 + c]`` with ``s_a = (e − (L − 1) + a) mod n``.

    Row ``j = e − (L − 1 − h)`` of ``Uᵀ(M ∘ r 1ᵀ)`` on the columns of the block.
    """
    n = mask.shape[0]
    L = taps.shape[0]
    c0 = np.uint64(c0)  # unsigned column indices: no negative-index wrap-around, so LLVM vectorises
    mm = np.uint64(m)
    s = wrap(e - (L - 1), n)
    t = taps[0] * r[s, q]
    for c in range(mm):
        E[slot, c] = t * mask[s, c0 + c]
    for a in range(1, L):
        s = wrap(e - (L - 1) + a, n)
        t = taps[a] * r[s, q]
        if t != 0.0:
            for c in range(mm):
                E[slot, c] += t * mask[s, c0 + c]


@sum_jit
def _masked_forward(taps, E, e, w, mask, i, c0, m, z):  # pragma: no cover - compiled
    """``Σ_c w[c] M[i, c0 + c] Σ_a u[a] E[(e − a) mod L, c]``: output row ``i`` of the block.

    ``z`` (length ``m``) holds the convolution ``(U E)[i, c0 : c0 + m]``; only
    the final sum may be reassociated (:func:`~ntk_toolkit._jit.sum_jit`).
    """
    L = taps.shape[0]
    c0 = np.uint64(c0)
    mm = np.uint64(m)
    s0 = e % L
    t0 = taps[0]
    for c in range(mm):
        z[c] = t0 * E[s0, c]
    for a in range(1, L):
        sa = (e - a) % L
        ta = taps[a]
        for c in range(mm):
            z[c] += ta * E[sa, c]
    acc = 0.0
    for c in range(mm):
        acc += w[c] * (z[c] * mask[i, c0 + c])
    return acc


@pjit
def kernel_apply(taps, mask, w, R, gpart, bw):  # pragma: no cover - compiled
    """``gpart[b, q, i] = Σ_{l in block b} w[l] M[i, l] (U Uᵀ(M ∘ R[:, q] 1ᵀ))[i, l]``.

    ``w = v²``; ``Σ_b gpart[b, q]`` is ``K r`` for ``r = R[:, q]``. ``mask`` is the
    uint8 activation pattern ``(n, k)``, ``R`` float64 ``(n, p)``, ``gpart``
    ``(⌈k / bw⌉, p, n)``. The centre ``h`` of the taps cancels (``U Uᵀ`` does
    not depend on it), so the rows are indexed by ``e = j + L − 1 − h``.
    """
    n, k = mask.shape
    L = taps.shape[0]
    p = R.shape[1]
    nb = gpart.shape[0]
    for bq in prange(nb * p):
        b = bq // p
        q = bq - b * p
        c0 = b * bw
        c1 = min(k, c0 + bw)
        m = c1 - c0
        E = np.empty((L, m))
        z = np.empty(m)
        wb = w[c0:c1]
        # e indexes the rows j = e − (L − 1 − h) of E, from h + 1 − L to n − 1 + h;
        # E row e sits in slot e mod L
        for e in range(n + L - 1):
            _e_row(taps, mask, R, q, E, e % L, e, c0, m)
            if e >= L - 1:
                i = e - (L - 1)  # output row i needs E rows j = i + h − a, i.e. e, e − 1, …, e − L + 1
                gpart[b, q, i] = _masked_forward(taps, E, e, wb, mask, i, c0, m, z)
