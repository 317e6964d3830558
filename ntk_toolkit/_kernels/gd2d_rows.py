"""Row kernels of the 2-D fused gradient-descent sweeps (:mod:`ntk_toolkit._kernels.gd2d`).

One image row at a time, on one block of channels: the vertical and horizontal
passes of ``U`` and ``Uᵀ`` for any filter (a sum of ``R`` separable terms,
through a ring of converted mask rows) and for a separable filter (columns of
the vertical pass streamed just ahead of the horizontal pass, pixels two at a
time for filters of at most four columns), fused with the mask, the relu sums
and the update. The conventions and the formulas are those of
:mod:`ntk_toolkit._kernels.gd2d` (``docs/theory.md`` §2.4). Compiled with
``contract=True`` (:mod:`ntk_toolkit._jit`): multiply-adds may be fused.
"""

import numpy as np

from .._jit import inline_jit, jit, sum_jit
from .rows import group


@jit(contract=True)
def _vertical(T, A, r, X, rows, c0, m, W):  # pragma: no cover - compiled
    """``T[i2, c] = Σ_q A[r, q] X[rows[q] W + i2, c0 + c]`` for all ``i2 < W``, ``c < m``."""
    L1 = A.shape[1]
    c0 = np.uint64(c0)
    for i2 in range(W):
        for c in range(np.uint64(m)):
            T[i2, c] = A[r, 0] * X[rows[0] * W + i2, c0 + c]
        for q in range(1, L1):
            a = A[r, q]
            p = rows[q] * W + i2
            for c in range(np.uint64(m)):
                T[i2, c] += a * X[p, c0 + c]


@jit(contract=True)
def _vertical_ring(T, A, r, ring, slots, m, W):  # pragma: no cover - compiled
    """``T[i2, c] = Σ_q A[r, q] ring[slots[q], i2, c]``."""
    L1 = A.shape[1]
    for i2 in range(W):
        for c in range(np.uint64(m)):
            T[i2, c] = A[r, 0] * ring[slots[0], i2, c]
        for q in range(1, L1):
            a = A[r, q]
            s = slots[q]
            for c in range(np.uint64(m)):
                T[i2, c] += a * ring[s, i2, c]


@jit(contract=True)
def _horizontal(Z, T, B, r, h2, sign, W, m, first):  # pragma: no cover - compiled
    """``Z[i2, c] (=|+=) Σ_q B[r, q] T[(i2 + sign (q − h2)) mod W, c]`` (zero taps skipped)."""
    L2 = B.shape[1]
    for i2 in range(W):
        started = not first
        for q in range(L2):
            b = B[r, q]
            if b == 0:
                continue
            s = i2 + sign * (q - h2)
            while s < 0:
                s += W
            while s >= W:
                s -= W
            if started:
                for c in range(np.uint64(m)):
                    Z[i2, c] += b * T[s, c]
            else:
                for c in range(np.uint64(m)):
                    Z[i2, c] = b * T[s, c]
                started = True
        if not started:
            for c in range(np.uint64(m)):
                Z[i2, c] = 0.0


@sum_jit(contract=True)
def _mask_relu_sum(Z, i2, vb, mask, p, c0):  # pragma: no cover - compiled
    """``mask[p, c0 + c] = 1{Z[i2, c] > 0}`` and ``Σ_c vb[c] relu(Z[i2, c])`` (NaN and ±inf kept visible)."""
    s = 0.0
    c0 = np.uint64(c0)
    m = np.uint64(vb.shape[0])
    chunk = np.uint64(256) if Z.itemsize < 8 else m  # float32: partial sums over 256 channels
    q0 = np.uint64(0)
    while q0 < m:
        q1 = min(m, q0 + chunk)
        sc = vb[0] - vb[0]  # zero in the dtype of the weights
        for c in range(q0, q1):
            zc = Z[i2, c]
            pos = zc > 0
            mask[p, c0 + c] = np.uint8(pos)
            sc += vb[c] * (zc if pos else zc - zc)
        s += np.float64(sc)
        q0 = q1
    return s


@jit(contract=True)
def _forward_row(A, B, h1, h2, H, W, C, vb, mask, c0, i1, T, Z, rows, gout, linear):  # pragma: no cover - compiled
    """Forward pass of image row ``i1`` on columns ``c0 : c0 + m``: mask row and ``gout[i2] = Σ_c v_c relu(z)``."""
    m = vb.shape[0]
    L1 = A.shape[1]
    for q in range(L1):
        s = i1 - q + h1
        while s < 0:
            s += H
        while s >= H:
            s -= H
        rows[q] = s
    for r in range(A.shape[0]):
        _vertical(T, A, r, C, rows, c0, m, W)
        _horizontal(Z, T, B, r, h2, -1, W, m, r == 0)
    for i2 in range(W):
        if linear:
            gout[i2] = _masked_sum(Z, i2, vb, mask, i1 * W + i2, c0)
        else:
            gout[i2] = _mask_relu_sum(Z, i2, vb, mask, i1 * W + i2, c0)


@jit(contract=True)
def _ring_fill(ring, slot, mask, r, coef, s1, W, c0, m):  # pragma: no cover - compiled
    """``ring[slot, i2, c] = coef · r[s1 W + i2] · mask[s1 W + i2, c0 + c]``: one image row entering the ring."""
    c0 = np.uint64(c0)
    for i2 in range(W):
        p = s1 * W + i2
        w = coef * r[p]
        for c in range(np.uint64(m)):
            ring[slot, i2, c] = w * mask[p, c0 + c]


@jit(contract=True)
def _gradient_row(A, B, h2, W, ring, j1, slots, T, Z, out, vb, c0, update):  # pragma: no cover - compiled
    """Image row ``j1`` of ``vb ∘ Uᵀ(ring)`` added to (``update``) or written into ``out``."""
    m = vb.shape[0]
    for r in range(A.shape[0]):
        _vertical_ring(T, A, r, ring, slots, m, W)
        _horizontal(Z, T, B, r, h2, 1, W, m, r == 0)
    c0u = np.uint64(c0)
    for i2 in range(W):
        p = j1 * W + i2
        if update:
            for c in range(np.uint64(m)):
                out[p, c0u + c] += vb[c] * Z[i2, c]
        else:
            for c in range(np.uint64(m)):
                out[p, c0u + c] = vb[c] * Z[i2, c]


@jit(contract=True)
def _slots(slots, j1, L1):  # pragma: no cover - compiled
    """Ring slots of the source image rows ``j1 − h1 + q`` (``q < L1``): ``(j1 + q) mod L1``."""
    for q in range(L1):
        slots[q] = (j1 + q) % L1


# --------------------------------------------------------------------------- separable filters (R = 1)
@inline_jit(contract=True)
def _column_from_rows(T, col, a, rq, X, W, c0, m):  # pragma: no cover - compiled
    """``T[col, c] = Σ_q a[q] X[rq[q] W + col, c0 + c]``: one column of the vertical pass, four rows per pass."""
    L1 = a.shape[0]
    c0 = np.uint64(c0)
    mm = np.uint64(m)
    for g in range(0, L1, 4):
        t0 = a[g]
        p0 = rq[g] * W + col
        t1 = t0 - t0
        t2 = t1
        t3 = t1
        p1 = p0
        p2 = p0
        p3 = p0
        if g + 1 < L1:
            t1 = a[g + 1]
            p1 = rq[g + 1] * W + col
        if g + 2 < L1:
            t2 = a[g + 2]
            p2 = rq[g + 2] * W + col
        if g + 3 < L1:
            t3 = a[g + 3]
            p3 = rq[g + 3] * W + col
        if g == 0:
            for c in range(mm):
                T[col, c] = ((t0 * X[p0, c0 + c] + t1 * X[p1, c0 + c]) + t2 * X[p2, c0 + c]) + t3 * X[p3, c0 + c]
        else:
            for c in range(mm):
                T[col, c] += ((t0 * X[p0, c0 + c] + t1 * X[p1, c0 + c]) + t2 * X[p2, c0 + c]) + t3 * X[p3, c0 + c]


@inline_jit(contract=True)
def _column_from_mask(T, col, a, coef, rq, r, mask, W, c0, m):  # pragma: no cover - compiled
    """``T[col, c] = Σ_q a[q] coef r[p_q] mask[p_q, c0 + c]`` with ``p_q = rq[q] W + col``: a column of the
    vertical pass of the gradient, read straight from the byte mask (four rows per pass)."""
    L1 = a.shape[0]
    c0 = np.uint64(c0)
    mm = np.uint64(m)
    for g in range(0, L1, 4):
        p0 = rq[g] * W + col
        t0 = a[g] * coef * r[p0]
        t1 = t0 - t0
        t2 = t1
        t3 = t1
        p1 = p0
        p2 = p0
        p3 = p0
        if g + 1 < L1:
            p1 = rq[g + 1] * W + col
            t1 = a[g + 1] * coef * r[p1]
        if g + 2 < L1:
            p2 = rq[g + 2] * W + col
            t2 = a[g + 2] * coef * r[p2]
        if g + 3 < L1:
            p3 = rq[g + 3] * W + col
            t3 = a[g + 3] * coef * r[p3]
        if g == 0:
            for c in range(mm):
                T[col, c] = ((t0 * mask[p0, c0 + c] + t1 * mask[p1, c0 + c]) + t2 * mask[p2, c0 + c]) \
                    + t3 * mask[p3, c0 + c]
        else:
            for c in range(mm):
                T[col, c] += ((t0 * mask[p0, c0 + c] + t1 * mask[p1, c0 + c]) + t2 * mask[p2, c0 + c]) \
                    + t3 * mask[p3, c0 + c]


@inline_jit(contract=True)
def _h_head(z, T, b, base, sign, W, m):  # pragma: no cover - compiled
    """All passes of four horizontal taps but the last into ``z``; returns the first tap of the last pass."""
    L2 = b.shape[0]
    last = ((L2 - 1) // 4) * 4
    mm = np.uint64(m)
    for g in range(0, last, 4):
        t0, s0, t1, s1, t2, s2, t3, s3 = group(b, base, sign, W, g)
        if g == 0:
            for c in range(mm):
                z[c] = ((t0 * T[s0, c] + t1 * T[s1, c]) + t2 * T[s2, c]) + t3 * T[s3, c]
        else:
            for c in range(mm):
                z[c] += ((t0 * T[s0, c] + t1 * T[s1, c]) + t2 * T[s2, c]) + t3 * T[s3, c]
    return last


@inline_jit(contract=True)
def _h_mask_relu_sum(z, has_z, T, vb, mask, p, c0, t0, s0, t1, s1, t2, s2, t3, s3):  # pragma: no cover
    """Last horizontal pass fused with the mask row and ``Σ_c vb[c] relu(z_c)`` (``z`` not stored)."""
    s = 0.0
    c0 = np.uint64(c0)
    m = np.uint64(vb.shape[0])
    chunk = np.uint64(256) if T.itemsize < 8 else m  # float32: partial sums over 256 channels
    q0 = np.uint64(0)
    while q0 < m:
        q1 = min(m, q0 + chunk)
        sc = vb[0] - vb[0]  # zero in the dtype of the weights
        for c in range(q0, q1):
            zc = _z4(z, has_z, c, T, t0, s0, t1, s1, t2, s2, t3, s3)
            pos = zc > 0
            mask[p, c0 + c] = np.uint8(pos)
            sc += vb[c] * (zc if pos else zc - zc)
        s += np.float64(sc)
        q0 = q1
    return s


@inline_jit(contract=True)
def _h_masked_sum(z, has_z, T, vb, mask, p, c0, t0, s0, t1, s1, t2, s2, t3, s3):  # pragma: no cover
    """Last horizontal pass fused with ``Σ_c vb[c] mask[p, c0 + c] z_c`` (the mask is read, not written)."""
    s = 0.0
    c0 = np.uint64(c0)
    m = np.uint64(vb.shape[0])
    chunk = np.uint64(256) if T.itemsize < 8 else m
    q0 = np.uint64(0)
    while q0 < m:
        q1 = min(m, q0 + chunk)
        sc = vb[0] - vb[0]
        for c in range(q0, q1):
            sc += vb[c] * mask[p, c0 + c] * _z4(z, has_z, c, T, t0, s0, t1, s1, t2, s2, t3, s3)
        s += np.float64(sc)
        q0 = q1
    return s


@sum_jit(contract=True)
def _masked_sum(Z, i2, vb, mask, p, c0):  # pragma: no cover - compiled
    """``Σ_c vb[c] mask[p, c0 + c] Z[i2, c]``."""
    s = 0.0
    c0 = np.uint64(c0)
    for c in range(np.uint64(vb.shape[0])):
        s += vb[c] * mask[p, c0 + c] * Z[i2, c]
    return s


@inline_jit(contract=True)
def _z4(z, has_z, c, T, t0, s0, t1, s1, t2, s2, t3, s3):  # pragma: no cover - compiled
    """``(z[c] +) (((t0 T[s0, c] + t1 T[s1, c]) + t2 T[s2, c]) + t3 T[s3, c])`` (inlined into its callers)."""
    y = ((t0 * T[s0, c] + t1 * T[s1, c]) + t2 * T[s2, c]) + t3 * T[s3, c]
    return z[c] + y if has_z else y


@jit(contract=True)
def _forward_row_sep(a, b, h1, h2, H, W, C, vb, mask, c0, i1, T, z, gout, rq, linear):  # pragma: no cover
    """Forward pass of image row ``i1`` for a separable filter (:func:`forward_row_from` on the rows of ``C``)."""
    for q in range(a.shape[0]):
        rq[q] = _wrap(i1 - q + h1, H)
    forward_row_from(a, b, h2, W, C, c0, vb, mask, c0, i1 * W, T, z, gout, rq, linear)


@sum_jit(contract=True)
def forward_row_from(a, b, h2, W, X, xc0, vb, mask, c0, p0, T, z, gout, rq, linear):  # pragma: no cover
    """One image row of the forward pass of a separable filter from the image rows ``rq[q]`` of ``X``.

    ``T[col] = Σ_q a[q] X[rq[q] W + col, xc0 : xc0 + m]`` (the vertical pass) fills
    ``T`` column by column just ahead of the horizontal pass (the
    ``L2 − 1 − h2`` wrapped-around columns first), so the columns a pixel
    reads are still in L1 cache; the horizontal pass is fused with the mask
    (pixels ``p0 … p0 + W − 1``, channels from ``c0``) and the relu sum
    (``gout[i2] = Σ_c v_c relu(z)``), or with ``linear``, with ``Σ_c v_c M z``
    for the given mask ``M``.
    """
    m = vb.shape[0]
    L2 = b.shape[0]
    behind = L2 - 1 - h2  # columns left of i2 that z[i2] reads
    stop = W - behind
    for col in range(stop, W):
        _column_from_rows(T, col, a, rq, X, W, xc0, m)
    done = 0
    i2 = 0
    if L2 <= 4 and not linear:  # pixels two at a time (the relu pass of a filter of at most four columns)
        while i2 + 1 < W:
            while done < stop and done <= i2 + 1 + h2:
                _column_from_rows(T, done, a, rq, X, W, xc0, m)
                done += 1
            t0, t1, t2, t3, u0, u1, u2, u3, u4 = _pair_columns(b, i2 + 1 + h2, -1, W)
            ga, gb = _pair_mask_relu_sum(T, vb, mask, p0 + i2, c0, t0, t1, t2, t3, u0, u1, u2, u3, u4)
            gout[i2] = ga
            gout[i2 + 1] = gb
            i2 += 2
    first = i2
    for i2 in range(first, W):
        while done < stop and done <= i2 + h2:
            _column_from_rows(T, done, a, rq, X, W, xc0, m)
            done += 1
        last = _h_head(z, T, b, i2 + h2, -1, W, m)
        t0, s0, t1, s1, t2, s2, t3, s3 = group(b, i2 + h2, -1, W, last)
        if linear:  # Σ_c v_c M z_c with the given mask M
            gout[i2] = _h_masked_sum(z, last > 0, T, vb, mask, p0 + i2, c0, t0, s0, t1, s1, t2, s2, t3, s3)
        else:
            gout[i2] = _h_mask_relu_sum(z, last > 0, T, vb, mask, p0 + i2, c0, t0, s0, t1, s1, t2, s2, t3, s3)


@jit(contract=True)
def _gradient_row_sep(a, b, h1, h2, H, W, mask, r, coef, j1, T, z, out, vb, c0, update, rq):  # pragma: no cover
    """Image row ``j1`` of ``vb ∘ Uᵀ(coef · mask ∘ r 1ᵀ)`` for a separable filter (:func:`gradient_row_to`)."""
    for q in range(a.shape[0]):
        rq[q] = _wrap(j1 + q - h1, H)
    gradient_row_to(a, b, h2, W, mask, r, coef, c0, T, z, out, j1, c0, vb, update, rq)


@jit(contract=True)
def gradient_row_to(a, b, h2, W, mask, r, coef, c0, T, z, out, orow, oc0, vb, update, rq):  # pragma: no cover
    """One image row of ``vb ∘ Uᵀ(coef · mask ∘ r 1ᵀ)`` for a separable filter from the mask rows ``rq[q]``,
    added to (``update``) or written into ``out[orow W + j2, oc0 + c]``.

    The vertical pass is read from the byte mask (channels from ``c0``)
    column by column just ahead of the horizontal one, whose last four taps
    are fused with the update.
    """
    m = vb.shape[0]
    mm = np.uint64(m)
    oc0u = np.uint64(oc0)
    L2 = b.shape[0]
    behind = h2  # columns left of j2 that the adjoint reads
    stop = W - behind
    for col in range(stop, W):
        _column_from_mask(T, col, a, coef, rq, r, mask, W, c0, m)
    done = 0
    ahead = L2 - 1 - h2
    j2 = 0
    if L2 <= 4:  # pixels two at a time: five column loads for two gradient rows instead of eight
        while j2 + 1 < W:
            while done < stop and done <= j2 + 1 + ahead:
                _column_from_mask(T, done, a, coef, rq, r, mask, W, c0, m)
                done += 1
            t0, t1, t2, t3, w0, w1, w2, w3, w4 = _pair_columns(b, j2 - h2, 1, W)
            p = orow * W + j2
            for c in range(mm):
                x0 = T[w0, c]
                x1 = T[w1, c]
                x2 = T[w2, c]
                x3 = T[w3, c]
                x4 = T[w4, c]
                ya = ((t0 * x0 + t1 * x1) + t2 * x2) + t3 * x3
                yb = ((t0 * x1 + t1 * x2) + t2 * x3) + t3 * x4
                if update:
                    out[p, oc0u + c] += vb[c] * ya
                    out[p + 1, oc0u + c] += vb[c] * yb
                else:
                    out[p, oc0u + c] = vb[c] * ya
                    out[p + 1, oc0u + c] = vb[c] * yb
            j2 += 2
    first = j2
    for j2 in range(first, W):
        while done < stop and done <= j2 + ahead:
            _column_from_mask(T, done, a, coef, rq, r, mask, W, c0, m)
            done += 1
        last = _h_head(z, T, b, j2 - h2, 1, W, m)
        t0, s0, t1, s1, t2, s2, t3, s3 = group(b, j2 - h2, 1, W, last)
        p = orow * W + j2
        has_z = last > 0
        if update:
            for c in range(mm):
                out[p, oc0u + c] += vb[c] * _z4(z, has_z, c, T, t0, s0, t1, s1, t2, s2, t3, s3)
        else:
            for c in range(mm):
                out[p, oc0u + c] = vb[c] * _z4(z, has_z, c, T, t0, s0, t1, s1, t2, s2, t3, s3)


@inline_jit(contract=True)
def _pair_columns(b, base, sign, W):  # pragma: no cover - compiled
    """Four taps of ``b`` (zero past its end) and the five columns ``(base + sign·q) mod W``, ``q = 0 … 4``, that
    two neighbouring pixels read (one of them ``q = 0 … 3``, the other ``q = 1 … 4``); past the taps, column 1."""
    L2 = b.shape[0]
    t0 = b[0]
    t1 = t0 - t0
    t2 = t1
    t3 = t1
    if L2 > 1:
        t1 = b[1]
    if L2 > 2:
        t2 = b[2]
    if L2 > 3:
        t3 = b[3]
    u0 = _wrap(base, W)
    u1 = _wrap(base + sign, W)
    u2 = u1
    u3 = u1
    u4 = u1
    if L2 > 1:
        u2 = _wrap(base + 2 * sign, W)
    if L2 > 2:
        u3 = _wrap(base + 3 * sign, W)
    if L2 > 3:
        u4 = _wrap(base + 4 * sign, W)
    return t0, t1, t2, t3, u0, u1, u2, u3, u4


@inline_jit(contract=True)
def _pair_mask_relu_sum(T, vb, mask, p, c0, t0, t1, t2, t3, ua, ub, uc, ud, ue):  # pragma: no cover - compiled
    """Pixels ``p`` (columns ``ub … ue``) and ``p + 1`` (columns ``ua … ud``) of the last horizontal pass, fused
    with both mask rows and both relu sums: five column loads for two pixels instead of eight."""
    s0 = 0.0
    s1 = 0.0
    c0 = np.uint64(c0)
    m = np.uint64(vb.shape[0])
    chunk = np.uint64(256) if T.itemsize < 8 else m  # float32: partial sums over 256 channels
    q0 = np.uint64(0)
    while q0 < m:
        q1 = min(m, q0 + chunk)
        sa = vb[0] - vb[0]
        sb = sa
        for c in range(q0, q1):
            xa = T[ua, c]
            xb = T[ub, c]
            xc = T[uc, c]
            xd = T[ud, c]
            xe = T[ue, c]
            za = ((t0 * xb + t1 * xc) + t2 * xd) + t3 * xe
            zb = ((t0 * xa + t1 * xb) + t2 * xc) + t3 * xd
            pa = za > 0
            pb = zb > 0
            mask[p, c0 + c] = np.uint8(pa)
            mask[p + 1, c0 + c] = np.uint8(pb)
            sa += vb[c] * (za if pa else za - za)
            sb += vb[c] * (zb if pb else zb - zb)
        s0 += np.float64(sa)
        s1 += np.float64(sb)
        q0 = q1
    return s0, s1


@inline_jit(contract=True)
def _wrap(i, n):  # pragma: no cover - compiled
    """``i mod n`` for ``i`` at most one period off."""
    while i < 0:
        i += n
    while i >= n:
        i -= n
    return i
