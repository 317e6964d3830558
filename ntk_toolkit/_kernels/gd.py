"""Fused kernels for the two-layer generator with a circulant ``U`` (direct taps).

Index convention (``docs/theory.md`` §1.1): taps ``u[0..L-1]`` with centre
``h``; ``(U X)[i, :] = Σ_a u[a] X[(i − a + h) mod n, :]`` and
``(Uᵀ R)[j, :] = Σ_a u[a] R[(j + a − h) mod n, :]``.

Work is split over **blocks of channels** (columns of ``C``): a thread owns
whole column blocks and walks down their rows, so the ``L`` rows of ``C`` that
one output row needs stay in cache and no two threads ever touch the same
memory. Output ``i`` of the network is ``Σ_b gpart[b, i]``, summed by the
wrapper over blocks in a fixed order; the block width depends only on ``k``
(:func:`block_width`), so results do not depend on the number of threads.

* :func:`forward_mask` — ``Z = U C`` row by row, the activation mask
  ``1{Z > 0}`` (uint8) and the per-block partial outputs ``Σ_l v_l relu(Z_il)``,
  without storing ``Z``.
* :func:`backward` — the gradient ``Uᵀ (mask ∘ r vᵀ)`` into ``out``.
* :func:`step` — one fused gradient-descent step: updates
  ``C ← C − η Uᵀ(M_τ ∘ r_τ vᵀ)`` in place and, in the same sweep, computes the
  next mask ``M_{τ+1}`` (overwriting ``M_τ``) and the next partial outputs.
  Each row of ``C`` is read and written once per step: the forward pass of
  row ``i`` runs as soon as the rows ``i − L + 1 + h … i + h`` it needs are
  updated (a lag of ``h`` rows), by which time no later update still reads
  mask row ``i``; the ``L − 1`` rows whose window wraps around are done at
  the end of the sweep. One ``n x k`` byte mask is the only ``n x k``
  temporary.
* :func:`step_pairs` — the same step for odd symmetric filters of at most
  seven taps (padded to seven by :func:`~ntk_toolkit._kernels.rows.pair_taps`: triangle filters up to
  ``p = 4``, short Gaussians and boxes), two rows at a time: a pair of
  gradient rows reads eight ring rows instead of fourteen, a pair of forward
  rows eight rows of ``C``; the two rows entering the ring are converted in
  the loop of the gradient pair. The arithmetic stays O(n k L); the
  memory traffic per step falls (measured costs in ``docs/benchmarks.md``).

How the passes are laid out (each point reduces the passes over memory, not
the O(n k L) arithmetic; measured costs in ``docs/benchmarks.md``):

* the backward pass keeps a ring of the ``L`` rows of ``−η M ∘ r 1ᵀ`` (block
  width each) that an output row needs; each mask row is converted to floats
  once, when it enters the ring, instead of once per tap;
* taps are applied four per pass over a row, or seven per pass when they are
  symmetric (:mod:`ntk_toolkit._kernels.rows`; a single loop over all taps
  of both passes is not vectorised by LLVM);
* the last group of gradient taps is fused with the update of ``C``;
* the last pass of the forward stencil is fused with the mask and the relu
  sum (:func:`_p7_mask_relu_sum`), so ``z`` is neither stored nor read back.
  In float32 the sum runs in float32 over 256 channels at a time, added in
  float64: a float64 accumulator would hold the loop to four lanes;
* row indices wrap by a compare and an add (:func:`~ntk_toolkit._kernels.rows.wrap`),
  not an integer division.

The row kernels (:func:`_forward_row`, :func:`_gradient_row`, the stencil
and its head) are compiled functions called once per row rather than inlined
into the sweep: inlined, the step takes about twice as long to compile. They
name rows by index in ``C``, the mask and the ring, with unsigned column
indices (:mod:`ntk_toolkit._kernels.rows`): a step costs O(1) per row and
block beyond its O(width · L) arithmetic, less than with row views. Narrower
blocks, whose ``L`` rows would stay in L1 cache, are slower: the per-row and
per-block overhead grows as ``k / width`` (measured costs in
``docs/benchmarks.md``).

The partial outputs are sums in float64 (for float32 weights, of float32
sums over 256 channels) that the compiler may reassociate
(:func:`_p7_mask_relu_sum`, :func:`_g4_mask_relu_sum`): a fixed order for a
given build, independent of the thread count. The stencil inside them is
not reassociated: its formula lives in compiled functions without fast-math
flags that LLVM inlines
(:func:`~ntk_toolkit._kernels.rows.p7_at`, :func:`~ntk_toolkit._kernels.rows.g4_at`),
so ``z`` and the mask are those of the direct-taps convolution bit for bit.
"""

import numpy as np
from numba import prange

from .._jit import inline_jit, jit, pjit, sum_jit
from .rows import eight, g4_at, group, head, p7_at, pgroup, symmetric, wrap

#: Padding (in entries) of the rows of the work buffers, so that rows of
#: ``W``, ``z`` and ``acc`` whose length is a multiple of 4 KiB do not share their
#: address modulo 4096 ("4K aliasing": a load is held back by a store to an
#: unrelated address with the same low 12 bits). Measured on a seven-tap pass
#: over rows of 1024 float64: 1.02 ns per entry with such rows, 0.77 ns with
#: rows 64 bytes apart.
_PAD = 8


def block_width(k: int) -> int:
    """Channels per column block: about ``k / 2`` rounded up to a multiple of 8, within [64, 1024].

    Depends on ``k`` only (so results do not depend on the thread count). Long
    blocks amortise the per-row overhead of a block (measured at
    ``(n, k) = (512, 2048)`` on one thread: 3.8 ms per step with 256 channels
    per block, 2.4 ms with 1024); at least two blocks keep two cores busy.
    """
    return min(1024, max(64, 8 * -(-k // 16)))


def block_width_for(k: int, stencil: tuple) -> int:
    """:func:`block_width` (the fused kernels' common name: the 2-D kernels' width also depends on the stencil)."""
    return block_width(k)


@inline_jit
def _g4_update(out, j, c0, vb, acc, has_acc, W, t0, r0, t1, r1, t2, r2, t3, r3):  # pragma: no cover - compiled
    """``out[j, c0 + c] += vb[c] ((acc[c] +) t0 W[r0, c] + … + t3 W[r3, c])``.

    The last pass of four gradient taps, fused with the update.
    """
    m = np.uint64(acc.shape[0])  # unsigned column indices (see rows.py)
    c0 = np.uint64(c0)
    if has_acc:
        for c in range(m):
            out[j, c0 + c] += vb[c] * (acc[c] + (((t0 * W[r0, c] + t1 * W[r1, c]) + t2 * W[r2, c]) + t3 * W[r3, c]))
    else:
        for c in range(m):
            out[j, c0 + c] += vb[c] * (((t0 * W[r0, c] + t1 * W[r1, c]) + t2 * W[r2, c]) + t3 * W[r3, c])


@inline_jit
def _p7_update(out, j, c0, vb, acc, has_acc, W, t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3):  # pragma: no cover
    """``out[j, c0 + c] += vb[c] ((acc[c] +) p7)``: the last symmetric gradient pass, fused with the update."""
    m = np.uint64(acc.shape[0])  # unsigned column indices (see rows.py)
    c0 = np.uint64(c0)
    if has_acc:
        for c in range(m):
            out[j, c0 + c] += vb[c] * (acc[c] + (((t0 * (W[a0, c] + W[b0, c]) + t1 * (W[a1, c] + W[b1, c]))
                                                  + t2 * (W[a2, c] + W[b2, c])) + t3 * W[a3, c]))
    else:
        for c in range(m):
            out[j, c0 + c] += vb[c] * (((t0 * (W[a0, c] + W[b0, c]) + t1 * (W[a1, c] + W[b1, c]))
                                        + t2 * (W[a2, c] + W[b2, c])) + t3 * W[a3, c])


#: Channels per partial sum of a float32 forward row, in float32; the partial
#: sums are added in float64 (:func:`_p7_mask_relu_sum`). A float64 row is one sum.
_CHUNK = 256


@sum_jit
def _g4_mask_relu_sum(z, has_acc, vb, mask, i, C, c0, t0, r0, t1, r1, t2, r2, t3, r3):  # pragma: no cover - compiled
    """Last pass of four taps of the forward stencil, the mask and the ``v``-weighted relu sum, in one loop.

    ``z_c = (z[c] +) t0 C[r0, c0 + c] + … + t3 C[r3, c0 + c]`` (:func:`~ntk_toolkit._kernels.rows.g4_at`,
    in the stencil's order: no fast-math flags reach it), ``mask[i, c0 + c] = 1{z_c > 0}``
    (uint8), and returns ``Σ_c vb[c] relu(z_c)`` in float64 (for float32
    ``C``: partial sums over ``_CHUNK`` channels in float32, added in float64). ``relu(z)``
    is ``z − z`` where ``z ≤ 0``, so NaN and ±inf give NaN and divergence
    stays visible. Only the sums may be reassociated (:func:`~ntk_toolkit._jit.sum_jit`):
    LLVM vectorises them with partial sums in registers. ``z_c`` is not stored.
    """
    s = 0.0
    c0 = np.uint64(c0)  # unsigned column indices (see rows.py)
    m = np.uint64(z.shape[0])
    chunk = np.uint64(_CHUNK) if z.itemsize < 8 else m  # float64: one sum
    q0 = np.uint64(0)
    while q0 < m:
        q1 = min(m, q0 + chunk)
        sc = t0 - t0
        for c in range(q0, q1):
            zc = g4_at(z, has_acc, c, C, c0 + c, t0, r0, t1, r1, t2, r2, t3, r3)
            pos = zc > 0
            mask[i, c0 + c] = np.uint8(pos)
            sc += vb[c] * (zc if pos else zc - zc)
        s += np.float64(sc)
        q0 = q1
    return s


@sum_jit
def _p7_mask_relu_sum(z, has_acc, vb, mask, i, C, c0, t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3):  # pragma: no cover
    """Like :func:`_g4_mask_relu_sum` for the last pass of a symmetric stencil (:func:`~.rows.p7_at`).

    Measured on rows of 1024 channels with seven symmetric taps, one thread:
    float64 0.89–0.92 ns per entry against 1.20–1.25 with the stencil stored
    in ``z`` and a second pass for the mask and the sum. In float32 the sums
    over 256 channels in float32 let LLVM use eight lanes (a float64
    accumulator holds the whole loop to four): 0.49 ns per entry, against
    0.67 for the stored ``z`` and 0.75 for a float64 accumulator, with a
    relative error of the row sum of 1.1e-7 (5.5e-8 with float64 sums, 1.8e-7
    with one float32 sum over 1024 channels).
    """
    s = 0.0
    c0 = np.uint64(c0)  # unsigned column indices (see rows.py)
    m = np.uint64(z.shape[0])
    chunk = np.uint64(_CHUNK) if z.itemsize < 8 else m  # float64: one sum
    q0 = np.uint64(0)
    while q0 < m:
        q1 = min(m, q0 + chunk)
        sc = t0 - t0
        for c in range(q0, q1):
            zc = p7_at(z, has_acc, c, C, c0 + c, t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3)
            pos = zc > 0
            mask[i, c0 + c] = np.uint8(pos)
            sc += vb[c] * (zc if pos else zc - zc)
        s += np.float64(sc)
        q0 = q1
    return s


@jit
def _forward_row(taps, h, C, vb, mask, c0, z, i, sym):  # pragma: no cover - compiled
    """Forward pass of row ``i`` on columns ``c0 : c0 + len(z)``; returns ``Σ_c v_c relu(z_c)``.

    ``z = Σ_a u[a] C[i − a + h]``, the stencil of
    :func:`~ntk_toolkit._kernels.rows.stencil` (the sum of the direct-taps
    convolution, bit for bit): its passes but the last into ``z``
    (:func:`~ntk_toolkit._kernels.rows.head`), the last fused with the mask
    row and the ``v``-weighted sum of ``relu(z)`` (:func:`_p7_mask_relu_sum`,
    :func:`_g4_mask_relu_sum`).
    """
    n = C.shape[0]
    last = head(z, taps, C, i + h, -1, c0, sym)
    if sym:
        t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3 = pgroup(taps, i + h, -1, n, last)
        return _p7_mask_relu_sum(z, last > 0, vb, mask, i, C, c0, t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3)
    t0, r0, t1, r1, t2, r2, t3, r3 = group(taps, i + h, -1, n, last)
    return _g4_mask_relu_sum(z, last > 0, vb, mask, i, C, c0, t0, r0, t1, r1, t2, r2, t3, r3)


@inline_jit
def _weight_row(W, slot, mask, s, coef, c0, m):  # pragma: no cover - compiled
    """``W[slot, :m] = coef · mask[s, c0 : c0 + m]``: one row of ``M ∘ r 1ᵀ`` as floats, converted once."""
    c0 = np.uint64(c0)  # unsigned column indices (see rows.py)
    for c in range(np.uint64(m)):
        W[slot, c] = coef * mask[s, c0 + c]


@jit
def _gradient_row(taps, W, ring, acc, out, j, c0, vb, update, sym):  # pragma: no cover - compiled
    """Row ``j`` of ``Uᵀ (W) ∘ v`` into ``out[j, c0 : c0 + len(acc)]`` from the ring ``W``.

    The slot of source row ``s`` is ``(s + h) mod R`` for a ring of ``R``
    rows (``L``, or ``L + 1`` in :func:`step_pairs`), so output row ``j``
    reads slots ``ring + a`` (mod ``R``) with ``ring = j mod R``.

    ``update``: ``out[j] += vb ∘ Σ_a u[a] W[ring + a]``; else ``out[j] = …``.
    Taps in passes of :func:`~ntk_toolkit._kernels.rows.p7` (``sym``) or
    :func:`~ntk_toolkit._kernels.rows.g4` (:func:`~ntk_toolkit._kernels.rows.head`),
    the last pass fused with the update.
    """
    R = W.shape[0]  # ring slots: L, or L + 1 for the paired sweep
    m = acc.shape[0]
    if not update:
        for c in range(m):
            out[j, np.uint64(c0) + np.uint64(c)] = 0.0
    last = head(acc, taps, W, ring, 1, 0, sym)
    if sym:
        t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3 = pgroup(taps, ring, 1, R, last)
        _p7_update(out, j, c0, vb, acc, last > 0, W, t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3)
    else:
        t0, r0, t1, r1, t2, r2, t3, r3 = group(taps, ring, 1, R, last)
        _g4_update(out, j, c0, vb, acc, last > 0, W, t0, r0, t1, r1, t2, r2, t3, r3)


@inline_jit
def _ring_start(W, mask, r, scale, h, c0, m):  # pragma: no cover - compiled
    """Slots ``0 … L−2`` of the ring: source rows ``−h … L−2−h`` (mod n), as output row 0 needs."""
    n = mask.shape[0]
    for a in range(W.shape[0] - 1):
        s = (a - h) % n
        _weight_row(W, a, mask, s, scale * r[s], c0, m)


@inline_jit
def _ring_row(taps, W, mask, r, scale, h, c0, j, ring, acc, out, vb, update, sym):  # pragma: no cover - compiled
    """Gradient row ``j`` into ``out``: source row ``j − h + L − 1`` enters the ring, then
    :func:`_gradient_row`. ``ring`` is ``j mod R`` for a ring of ``R`` rows; returns ``(j + 1) mod R``."""
    n = mask.shape[0]
    L = taps.shape[0]
    R = W.shape[0]
    s = wrap(j - h + L - 1, n)
    _weight_row(W, wrap(ring + L - 1, R), mask, s, scale * r[s], c0, acc.shape[0])
    _gradient_row(taps, W, ring, acc, out, j, c0, vb, update, sym)
    return ring + 1 if ring + 1 < R else 0


@pjit
def forward_mask(taps, h, C, v, mask, gpart, bw):  # pragma: no cover - compiled
    n, k = C.shape
    sym = symmetric(taps)
    nb = gpart.shape[0]
    for b in prange(nb):
        c0 = b * bw
        c1 = min(k, c0 + bw)
        z = np.empty(c1 - c0, dtype=C.dtype)
        vb = v[c0:c1]
        for i in range(n):
            gpart[b, i] = _forward_row(taps, h, C, vb, mask, c0, z, i, sym)


@pjit
def backward(taps, h, mask, r, v, one, out, bw):  # pragma: no cover - compiled
    n, k = mask.shape
    sym = symmetric(taps)
    L = taps.shape[0]
    nb = (k + bw - 1) // bw
    for b in prange(nb):
        c0 = b * bw
        c1 = min(k, c0 + bw)
        m = c1 - c0
        acc = np.empty(m, dtype=out.dtype)
        W = np.empty((L, m + _PAD), dtype=out.dtype)
        vb = v[c0:c1]
        _ring_start(W, mask, r, one, h, c0, m)
        ring = 0  # j mod L
        for j in range(n):
            ring = _ring_row(taps, W, mask, r, one, h, c0, j, ring, acc, out, vb, False, sym)


@pjit
def step(taps, h, mask, r, v, eta, C, gpart, bw):  # pragma: no cover - compiled
    n, k = C.shape
    sym = symmetric(taps)
    L = taps.shape[0]
    nb = gpart.shape[0]
    lo = L - 1 - h  # first row whose forward window does not wrap below 0
    hi = n - 1 - h  # last row whose forward window does not wrap above n − 1
    neg = -eta
    for b in prange(nb):
        c0 = b * bw
        c1 = min(k, c0 + bw)
        m = c1 - c0
        work = np.empty(2 * m + 4 * _PAD, dtype=C.dtype)
        z = work[_PAD:_PAD + m]
        acc = work[m + 3 * _PAD:2 * m + 3 * _PAD]
        W = np.empty((L, m + _PAD), dtype=C.dtype)
        vb = v[c0:c1]
        # ring of the L rows of −η M ∘ r 1ᵀ that output row j needs: source rows j − h … j − h + L − 1
        _ring_start(W, mask, r, neg, h, c0, m)
        ring = 0  # j mod L
        for j in range(n):
            ring = _ring_row(taps, W, mask, r, neg, h, c0, j, ring, acc, C, vb, True, sym)
            i = j - h
            if i >= lo:
                gpart[b, i] = _forward_row(taps, h, C, vb, mask, c0, z, i, sym)
        for i in range(n):
            if i < lo or i > hi:
                gpart[b, i] = _forward_row(taps, h, C, vb, mask, c0, z, i, sym)


# --------------------------------------------------------------------------- paired rows (seven symmetric taps)
@jit
def _p7v(t0, t1, t2, t3, x0, y0, x1, y1, x2, y2, x3):  # pragma: no cover - compiled
    """The formula of :func:`~ntk_toolkit._kernels.rows.p7_at` on values (no fast-math flags; inlined by LLVM)."""
    return ((t0 * (x0 + y0) + t1 * (x1 + y1)) + t2 * (x2 + y2)) + t3 * x3


@sum_jit
def _p7_pair_mask_relu_sum(vb, mask, i, C, c0, t0, t1, t2, t3, q0, q1, q2, q3, q4, q5, q6, q7):  # pragma: no cover
    """Forward rows ``i`` and ``i + 1`` of seven symmetric taps from the eight rows ``q0 … q7`` of ``C``.

    ``q_p`` is row ``i + 1 + h − p``: row ``i + 1`` weighs ``q0 … q6``, row
    ``i`` weighs ``q1 … q7``, each added as in :func:`~ntk_toolkit._kernels.rows.p7_at`
    (bit for bit). Writes both mask rows; returns both relu sums (as
    :func:`_p7_mask_relu_sum`). Eight loads per two entries instead of fourteen.
    """
    s0 = 0.0
    s1 = 0.0
    c0 = np.uint64(c0)
    m = np.uint64(vb.shape[0])
    chunk = np.uint64(_CHUNK) if C.itemsize < 8 else m
    p0 = np.uint64(0)
    while p0 < m:
        p1 = min(m, p0 + chunk)
        u0 = t0 - t0
        u1 = t0 - t0
        for c in range(p0, p1):
            cc = c0 + c
            w0, w1, w2, w3, w4, w5, w6, w7 = eight(C, cc, q0, q1, q2, q3, q4, q5, q6, q7)
            za = _p7v(t0, t1, t2, t3, w1, w7, w2, w6, w3, w5, w4)  # row i
            zb = _p7v(t0, t1, t2, t3, w0, w6, w1, w5, w2, w4, w3)  # row i + 1
            pa = za > 0
            pb = zb > 0
            mask[i, cc] = np.uint8(pa)
            mask[i + 1, cc] = np.uint8(pb)
            u0 += vb[c] * (za if pa else za - za)
            u1 += vb[c] * (zb if pb else zb - zb)
        s0 += np.float64(u0)
        s1 += np.float64(u1)
        p0 = p1
    return s0, s1


@inline_jit
def _p7_pair_update(out, j, c0, vb, W, t0, t1, t2, t3, q0, q1, q2, q3, q4, q5, q6, q7,
                    mask, s6, k6, s7, k7):  # pragma: no cover - compiled
    """Gradient rows ``j`` and ``j + 1`` of seven symmetric taps from the ring slots ``q0 … q7`` (``q_p = j + p``).

    ``out[j] += vb ∘ p7(W[q0 … q6])`` and ``out[j + 1] += vb ∘ p7(W[q1 … q7])``,
    each as in :func:`_p7_update` (bit for bit). The two rows entering the
    ring, ``W[q6] = k6 · mask[s6]`` and ``W[q7] = k7 · mask[s7]`` (as
    :func:`_weight_row`), are converted in the same loop, stored for the next
    pairs and used at once: one pass instead of three (step at ``(512, 2048)``,
    interleaved runs: 1.58 → 1.46 ms on 2 threads, 3.24 → 2.86 ms on one).
    """
    c0 = np.uint64(c0)
    for c in range(np.uint64(vb.shape[0])):
        cc = c0 + c
        w6 = k6 * mask[s6, cc]
        w7 = k7 * mask[s7, cc]
        W[q6, c] = w6
        W[q7, c] = w7
        w0 = W[q0, c]
        w1 = W[q1, c]
        w2 = W[q2, c]
        w3 = W[q3, c]
        w4 = W[q4, c]
        w5 = W[q5, c]
        vc = vb[c]
        out[j, cc] += vc * (((t0 * (w0 + w6) + t1 * (w1 + w5)) + t2 * (w2 + w4)) + t3 * w3)
        out[j + 1, cc] += vc * (((t0 * (w1 + w7) + t1 * (w2 + w6)) + t2 * (w3 + w5)) + t3 * w4)


@pjit
def step_pairs(taps, h, mask, r, v, eta, C, gpart, bw):  # pragma: no cover - compiled
    """:func:`step` for seven symmetric taps (:func:`~ntk_toolkit._kernels.rows.pair_taps`), two rows at a time.

    The ring holds ``L + 1 = 8`` rows; each pair of gradient rows reads eight
    ring rows (fourteen for two single rows) and each pair of forward rows
    eight rows of ``C``. The same sums as :func:`step`, bit for bit.
    """
    n, k = C.shape
    L = 7
    R = 8
    t0 = taps[0]
    t1 = taps[1]
    t2 = taps[2]
    t3 = taps[3]
    lo = L - 1 - h  # first row whose forward window does not wrap below 0
    hi = n - 1 - h  # last row whose forward window does not wrap above n − 1
    neg = -eta
    nb = gpart.shape[0]
    for b in prange(nb):
        c0 = b * bw
        c1 = min(k, c0 + bw)
        m = c1 - c0
        work = np.empty(2 * m + 4 * _PAD, dtype=C.dtype)
        z = work[_PAD:_PAD + m]
        acc = work[m + 3 * _PAD:2 * m + 3 * _PAD]
        W = np.empty((R, m + _PAD), dtype=C.dtype)
        vb = v[c0:c1]
        # slot of source row s: (s + h) mod 8; output row j reads slots j … j + 6
        for a in range(L - 1):
            s = (a - h) % n
            _weight_row(W, a, mask, s, neg * r[s], c0, m)
        nxt = lo  # next forward row not yet done
        j = 0
        while j < n:
            q = j % R
            if j + 1 < n:
                s6 = wrap(j - h + L - 1, n)
                s7 = wrap(j - h + L, n)
                _p7_pair_update(C, j, c0, vb, W, t0, t1, t2, t3, q, (q + 1) % R, (q + 2) % R, (q + 3) % R,
                                (q + 4) % R, (q + 5) % R, (q + 6) % R, (q + 7) % R,
                                mask, s6, neg * r[s6], s7, neg * r[s7])
                j += 2
            else:
                _ring_row(taps, W, mask, r, neg, h, c0, j, q, acc, C, vb, True, True)
                j += 1
            # forward rows whose window (rows i − 3 … i + 3 for h = 3) is updated: i ≤ j − 1 − h
            while nxt <= j - 1 - h and nxt <= hi:
                if nxt + 1 <= j - 1 - h and nxt + 1 <= hi:
                    bq = nxt + 1 + h
                    ga, gb = _p7_pair_mask_relu_sum(vb, mask, nxt, C, c0, t0, t1, t2, t3, bq, bq - 1, bq - 2,
                                                    bq - 3, bq - 4, bq - 5, bq - 6, bq - 7)
                    gpart[b, nxt] = ga
                    gpart[b, nxt + 1] = gb
                    nxt += 2
                else:
                    gpart[b, nxt] = _forward_row(taps, h, C, vb, mask, c0, z, nxt, True)
                    nxt += 1
        for i in range(n):
            if i < lo or i > hi:
                gpart[b, i] = _forward_row(taps, h, C, vb, mask, c0, z, i, True)
