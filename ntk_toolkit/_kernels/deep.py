"""Fused channel-by-channel kernels of the deep decoder's fixed stages (:mod:`ntk_toolkit.deep`).

Arrays hold one channel per leading index: ``(k, H, W)`` images (a 1-D
signal is an image of one row, ``H = 1``) or ``(k, P)`` with the positions
flattened row-major. Every kernel runs ``prange`` over channels and each
channel is computed by one thread start to end (its rows stay in the L2
cache between the passes), so results do not depend on the number of
threads. No ``fastmath`` and no contraction in the per-entry arithmetic,
whose operations and order are those of the NumPy expressions of
:mod:`ntk_toolkit.deep._layers`; the sums over a channel (``_row_*``) are
reassociable (:func:`~ntk_toolkit._jit.sum_jit`: vectorised partial sums in
an order fixed for a given build, where NumPy sums pairwise: rounding only).

* :func:`upsample` — linear interpolation along both axes (``W`` first, then
  ``H``) with the index/weight tables of ``_layers.axis_weights``;
  ``out[o] = x[i0[o]] w0[o] + x[i1[o]] w1[o]`` per axis.
* :func:`upsample_adjoint` — its transpose (``H`` first, then ``W``):
  ``g[i0[o]] += w0[o] y[o]``, ``g[i1[o]] += w1[o] y[o]``.
* :func:`relu_norm` — ``B = γ x̂ + β`` with ``x̂ = (relu(y) − μ)/√(σ² + ε)``,
  the mask ``1{y > 0}`` and ``1/√(σ² + ε)``; ``y`` is overwritten by ``x̂``.
  Three passes over the channel (ReLU and sum, centred sum of squares, write).
* :func:`relu_norm_backward` (and :func:`relu_norm_backward_rank1` for
  ``g = v rᵀ``, one output channel: ``g`` never formed) — the gradients of
  ``γ`` and ``β`` and ``g_y = 1{y > 0} · inv · (γ g − mean(γ g) − x̂ mean(x̂ γ g))``
  from ``g = ∂/∂B`` (``docs/theory.md`` §6): one pass for the sums, one to write.
* :func:`upsample_relu_norm`, :func:`relu_norm_backward_adjoint` — the
  interpolation followed by :func:`relu_norm`, and :func:`relu_norm_backward`
  followed by the adjoint interpolation, channel by channel (each channel
  in cache between the two); the same results as the stages apart.
* :func:`matmul_rows` — a matrix product split into fixed blocks of rows, one
  BLAS call per block, parallel over blocks (for OpenBLAS on one thread).

Cost of each stage kernel: O(k · positions of the larger side).
"""

import math

import numpy as np
from numba import prange

from .._jit import jit, pjit, sum_jit


@jit
def _upsample_channel(x, out, hi0, hi1, hw0, hw1, wi0, wi1, ww0, ww1):  # pragma: no cover - compiled
    """``out = interpolate(x)`` for one channel: ``x`` of shape ``(H, W)``, ``out`` ``(H', W')``.

    An axis whose length does not change is copied (the tables are then not read).
    """
    H, W = x.shape
    Ho, Wo = out.shape
    t = np.empty((H, Wo))
    for h in range(H):
        if Wo == W:
            for o in range(Wo):
                t[h, o] = x[h, o]
        else:
            for o in range(Wo):
                t[h, o] = x[h, wi0[o]] * ww0[o] + x[h, wi1[o]] * ww1[o]
    for o1 in range(Ho):
        if Ho == H:
            for o in range(Wo):
                out[o1, o] = t[o1, o]
        else:
            a, b, w0, w1 = hi0[o1], hi1[o1], hw0[o1], hw1[o1]
            for o in range(Wo):
                out[o1, o] = t[a, o] * w0 + t[b, o] * w1


@pjit
def upsample(x, out, hi0, hi1, hw0, hw1, wi0, wi1, ww0, ww1):  # pragma: no cover - compiled
    """``out[c] = interpolate(x[c])``: ``x`` of shape ``(k, H, W)``, ``out`` ``(k, H', W')``."""
    for c in prange(x.shape[0]):
        _upsample_channel(x[c], out[c], hi0, hi1, hw0, hw1, wi0, wi1, ww0, ww1)


@jit
def _upsample_adjoint_channel(y, out, hi0, hi1, hw0, hw1, wi0, wi1, ww0, ww1):  # pragma: no cover - compiled
    """``out = interpolateᵀ(y)`` for one channel: ``y`` of shape ``(H', W')``, ``out`` ``(H, W)`` (overwritten)."""
    Ho, Wo = y.shape
    H, W = out.shape
    t = np.zeros((H, Wo))
    for o1 in range(Ho):
        if Ho == H:
            for o in range(Wo):
                t[o1, o] = y[o1, o]
        else:
            a, b, w0, w1 = hi0[o1], hi1[o1], hw0[o1], hw1[o1]
            for o in range(Wo):
                t[a, o] += w0 * y[o1, o]
                t[b, o] += w1 * y[o1, o]
    for h in range(H):
        if Wo == W:
            for o in range(W):
                out[h, o] = t[h, o]
        else:
            for j in range(W):
                out[h, j] = 0.0
            for o in range(Wo):
                out[h, wi0[o]] += ww0[o] * t[h, o]
                out[h, wi1[o]] += ww1[o] * t[h, o]


@pjit
def upsample_adjoint(y, out, hi0, hi1, hw0, hw1, wi0, wi1, ww0, ww1):  # pragma: no cover - compiled
    """``out[c] = interpolateᵀ(y[c])``: ``y`` of shape ``(k, H', W')``, ``out`` ``(k, H, W)`` (overwritten)."""
    for c in prange(y.shape[0]):
        _upsample_adjoint_channel(y[c], out[c], hi0, hi1, hw0, hw1, wi0, wi1, ww0, ww1)


@sum_jit
def _row_sum(a):  # pragma: no cover - compiled
    """``Σ_p a[p]`` (reassociable: vectorised partial sums in a fixed order)."""
    s = 0.0
    for p in range(a.size):
        s += a[p]
    return s


@sum_jit
def _relu_row_sum(a):  # pragma: no cover - compiled
    """``a ← relu(a)`` in place (NaN becomes 0, as ``np.where(a > 0, a, 0)``) and ``Σ_p a[p]``."""
    s = 0.0
    for p in range(a.size):
        v = a[p] if a[p] > 0.0 else 0.0
        a[p] = v
        s += v
    return s


@sum_jit
def _row_centred_squares(a, mean):  # pragma: no cover - compiled
    """``Σ_p (a[p] − mean)²``."""
    s = 0.0
    for p in range(a.size):
        d = a[p] - mean
        s += d * d
    return s


@sum_jit
def _row_dot(a, b):  # pragma: no cover - compiled
    """``Σ_p a[p] b[p]``."""
    s = 0.0
    for p in range(a.size):
        s += a[p] * b[p]
    return s


@jit
def _relu_norm_row(row, g, b, eps, out, mask):  # pragma: no cover - compiled
    """One channel of :func:`relu_norm` (rows of ``P`` entries); returns ``1/√(σ² + ε)``."""
    P = row.size
    mean = _relu_row_sum(row) / P
    ic = 1.0 / math.sqrt(_row_centred_squares(row, mean) / P + eps)
    for p in range(P):
        v = row[p]
        mask[p] = v > 0.0  # relu(y) > 0 exactly where y > 0
        xh = (v - mean) * ic
        row[p] = xh
        out[p] = xh * g + b
    return ic


@pjit
def relu_norm(y, scale, shift, eps, out, mask, inv):  # pragma: no cover - compiled
    """Channel normalisation of ``relu(y)`` (``y``, ``out``, ``mask`` of shape ``(k, P)``); ``y`` becomes ``x̂``."""
    for c in prange(y.shape[0]):
        inv[c] = _relu_norm_row(y[c], scale[c], shift[c], eps, out[c], mask[c])


@pjit
def upsample_relu_norm(z, y, y2, hi0, hi1, hw0, hw1, wi0, wi1, ww0, ww1, scale, shift, eps, out, mask,
                       inv):  # pragma: no cover - compiled
    """:func:`upsample` of ``z`` (``(k, H, W)``) into ``y2`` (``(k, H', W')``) then :func:`relu_norm` of ``y``.

    ``y`` (``(k, H' W')``) and ``y2`` are two views of the same array; each channel is
    interpolated and normalised while it is in the cache (``y`` becomes ``x̂``).
    """
    for c in prange(z.shape[0]):
        _upsample_channel(z[c], y2[c], hi0, hi1, hw0, hw1, wi0, wi1, ww0, ww1)
        inv[c] = _relu_norm_row(y[c], scale[c], shift[c], eps, out[c], mask[c])


@jit
def _relu_norm_backward_row(g, xhat, mask, ic, sc, out):  # pragma: no cover - compiled
    """One channel of :func:`relu_norm_backward`; returns ``(∂/∂γ, ∂/∂β)``. ``out`` may be ``g``."""
    P = g.size
    sg = _row_sum(g)
    sgx = _row_dot(g, xhat)
    m2 = sc * sg / P
    proj = sc * sgx / P
    for p in range(P):
        v = ((g[p] * sc - m2) - xhat[p] * proj) * ic
        out[p] = v if mask[p] else 0.0
    return sgx, sg


@pjit
def relu_norm_backward(g, xhat, mask, inv, scale, out, gscale, gshift):  # pragma: no cover - compiled
    """``out = ∂/∂y`` from ``g = ∂/∂B`` (all ``(k, P)``), and ``∂/∂γ``, ``∂/∂β`` (``(k,)``)."""
    for c in prange(g.shape[0]):
        gscale[c], gshift[c] = _relu_norm_backward_row(g[c], xhat[c], mask[c], inv[c], scale[c], out[c])


@pjit
def relu_norm_backward_adjoint(g, g2, xhat, mask, inv, scale, hi0, hi1, hw0, hw1, wi0, wi1, ww0, ww1, out, gscale,
                               gshift):  # pragma: no cover - compiled
    """:func:`relu_norm_backward` in place in ``g`` (``(k, H' W')``), then :func:`upsample_adjoint` into ``out``.

    ``g2`` is ``g`` viewed as ``(k, H', W')``; ``out`` has shape ``(k, H, W)``.
    Each channel goes through both while it is in the cache.
    """
    for c in prange(g.shape[0]):
        gscale[c], gshift[c] = _relu_norm_backward_row(g[c], xhat[c], mask[c], inv[c], scale[c], g[c])
        _upsample_adjoint_channel(g2[c], out[c], hi0, hi1, hw0, hw1, wi0, wi1, ww0, ww1)


@sum_jit
def _row_scaled_sum(r, v):  # pragma: no cover - compiled
    """``Σ_p v r[p]`` (the row ``v r`` of a rank-one matrix, never formed)."""
    s = 0.0
    for p in range(r.size):
        s += v * r[p]
    return s


@sum_jit
def _row_scaled_dot(r, v, b):  # pragma: no cover - compiled
    """``Σ_p (v r[p]) b[p]``."""
    s = 0.0
    for p in range(r.size):
        s += (v * r[p]) * b[p]
    return s


@pjit
def relu_norm_backward_rank1(v, r, xhat, mask, inv, scale, out, gscale, gshift):  # pragma: no cover - compiled
    """:func:`relu_norm_backward` at ``g = v rᵀ`` (``v`` of shape ``(k,)``, ``r`` ``(P,)``), without forming ``g``.

    Every ``g[c, p] = v[c] r[p]`` is the same product as in the formed outer
    product, so the results are those of :func:`relu_norm_backward` on it.
    """
    k, P = xhat.shape
    for c in prange(k):
        sc = scale[c]
        vc = v[c]
        sg = _row_scaled_sum(r, vc)
        sgx = _row_scaled_dot(r, vc, xhat[c])
        gscale[c] = sgx
        gshift[c] = sg
        m2 = sc * sg / P
        proj = sc * sgx / P
        ic = inv[c]
        for p in range(P):
            val = (((vc * r[p]) * sc - m2) - xhat[c, p] * proj) * ic
            out[c, p] = val if mask[c, p] else 0.0


@pjit
def matmul_rows(a, b, out, rows):  # pragma: no cover - compiled
    """``out = a @ b`` by blocks of ``rows`` rows (``a`` C-contiguous; ``b`` C- or F-contiguous).

    One BLAS product per block (OpenBLAS on one thread), the blocks parallel:
    the products use the cores the other kernels use. The blocks do not depend
    on the thread count, so neither do the results.
    """
    m = a.shape[0]
    for t in prange((m + rows - 1) // rows):
        lo = t * rows
        hi = min(m, lo + rows)
        np.dot(a[lo:hi], b, out[lo:hi])
