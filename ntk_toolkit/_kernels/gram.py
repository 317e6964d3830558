"""Kernels of the structured empirical kernel ``K = (U Uᵀ) ∘ (S diag(v²) Sᵀ)``.

``docs/theory.md`` §2.1 and §2.3. With ``S = 1{U C > 0}`` (shape ``(n, k)``)
and all ``v_l²`` equal to ``s``, ``S diag(v²) Sᵀ = s · N`` where
``N[i, j] = #{l : S[i, l] = S[j, l] = 1}`` counts channels. These kernels
compute ``N`` on activation patterns packed 64 channels to a word:

* :func:`pack_direct` computes each row ``(U C)[i, :]`` of a circulant ``U``
  from its taps, block of channels by block of channels, and writes the signs
  straight into the bit matrix ``P`` (no ``n x k`` float array);
* :func:`pack_signs` packs the signs of a block of pre-activations
  ``Z = (U C)[:, c0:c0+b]`` computed elsewhere (FFT or dense operator);
* :func:`pattern_gram` computes ``N[i, j] = Σ_w popcount(P[i, w] & P[j, w])``
  for ``i <= j`` on a list of ``tb x tb`` tiles of rows, and finishes each
  tile straight into ``K[i, j] = K[j, i] = s · N[i, j] · B[i, j]`` with
  ``B = U Uᵀ`` given by its first row ``a`` (circulant:
  ``B[i, j] = a[(j − i) mod n]``) or held in the upper triangle of ``K`` on
  entry (dense ``U``). The counts of a tile live in a small int32 array; no
  ``n x n`` integer array exists. The caller may leave out tiles where ``B``
  is zero (a short filter makes ``U Uᵀ`` a circulant band).
* :func:`pattern_gram_band` counts only the pairs ``(i, (i + d) mod n)`` at
  the offsets ``d`` where the circulant ``U Uᵀ`` is nonzero (the ``L``
  offsets of a filter of ``L`` taps) and writes the same values as
  :func:`pattern_gram`;
* :func:`finish_circulant` is the finishing pass of the float path (patterns
  weighted by ``|v_l|`` and accumulated by BLAS ``syrk``).

Bit ``b`` of ``P[i, w]`` is ``S[i, 64 w + b]``; bits of channels ``>= k`` and
rows ``>= n`` are zero, so they never count. Every parallel loop runs over
independent output rows or tiles and the counts are integers: results are
identical for any number of threads.

Cost of :func:`pattern_gram`: ``tb² ⌈k/64⌉`` word operations (AND, popcount,
add) per tile, at most ``n² ⌈k/64⌉ / 2`` in all; LLVM vectorises the popcount
with AVX2 byte lookups (``vpshufb``, ``vpsadbw``). Within a tile the words are
taken in chunks of ``wc`` (the two blocks of rows of a chunk stay in L2) and
the rows in 4 x 2 blocks whose eight counts stay in registers. The vector
popcount itself is the limit: the rate of word operations is the same for
register blocks from 1 x 1 to 4 x 4 (measured rate in ``docs/benchmarks.md``).
Cost of :func:`pattern_gram_band`: ``n |offsets| ⌈k/64⌉`` word operations,
one pair of rows at a time (the popcount is the limit here too: with every
offset counted it takes about as long as the tiles).
Cost of :func:`pack_direct`: ``n k L`` multiply-adds, and one read of ``C``.
"""

import numpy as np
from numba import prange
from numba.core import types
from numba.extending import intrinsic

from .._jit import inline_jit, jit, pjit
from .rows import eight, stencil, symmetric, wrap


@intrinsic
def popcount(typingctx, x):  # pragma: no cover - compiled
    """Number of set bits of a 64-bit word (LLVM ``llvm.ctpop.i64``), as int64."""
    if not isinstance(x, types.Integer) or x.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return types.int64(x), codegen


@jit
def _set_bits(row, wrow, c0, P):  # pragma: no cover - compiled
    """OR the signs ``row[c] > 0`` into ``P[wrow]`` at bit positions ``c0 + c``.

    A leading partial word (``c0`` not a multiple of 64), whole words, then a
    trailing partial word. Indices into slices start at 0 so that the loops
    vectorise (compare, shift, OR).
    """
    m = row.shape[0]
    c = 0
    bit = c0 & 63
    if bit:
        cnt = min(64 - bit, m)
        seg = row[:cnt]
        word = np.uint64(0)
        for t in range(cnt):
            word |= np.uint64(seg[t] > 0.0) << np.uint64(bit + t)
        P[wrow, c0 >> 6] |= word
        c = cnt
    wd = (c0 + c) >> 6
    while c + 64 <= m:
        seg = row[c:c + 64]
        word = np.uint64(0)
        for t in range(64):
            word |= np.uint64(seg[t] > 0.0) << np.uint64(t)
        P[wrow, wd] |= word
        wd += 1
        c += 64
    if c < m:
        seg = row[c:m]
        word = np.uint64(0)
        for t in range(m - c):
            word |= np.uint64(seg[t] > 0.0) << np.uint64(t)
        P[wrow, wd] |= word


@pjit
def pack_direct(taps, h, C, block, rows, P):  # pragma: no cover - compiled
    """Pack ``S = 1{U C > 0}`` into ``P`` for a circulant ``U`` given by its taps.

    ``(U C)[i, c] = Σ_a taps[a] C[(i − a + h) mod n, c]`` by
    :func:`ntk_toolkit._kernels.rows.stencil`, the sum of the direct-taps
    convolution (same rounding, same signs).
    Each parallel iteration owns ``rows`` consecutive rows of ``P`` and walks
    over blocks of ``block`` channels (any size ``>= 1``), so that the ``L +
    rows − 1`` rows of ``C`` that a block reads stay in cache; one row of a
    block at a time is held in a float buffer. ``P`` must be zero on entry;
    shape ``(>= n, ⌈k/64⌉)``. Cost O(n k L).
    """
    n, k = C.shape
    sym = symmetric(taps)
    nrb = (n + rows - 1) // rows
    for rb in prange(nrb):
        z = np.empty(block, dtype=C.dtype)
        r0 = rb * rows
        r1 = min(n, r0 + rows)
        for c0 in range(0, k, block):
            m = min(block, k - c0)
            zb = z[:m]
            for i in range(r0, r1):
                stencil(zb, taps, C, i + h, -1, c0, sym)
                _set_bits(zb, i, c0, P)


@inline_jit
def _pair_words(C, c0, m, i, P, t0, t1, t2, t3, q0, q1, q2, q3, q4, q5, q6, q7):  # pragma: no cover - compiled
    """Signs of rows ``i`` and ``i + 1`` of ``U C`` on channels ``c0 … c0 + m`` OR-ed into ``P`` (``c0 % 64 == 0``).

    Seven symmetric taps from the eight rows ``q_p = i + 1 + h − p`` of ``C``:
    row ``i + 1`` weighs ``q0 … q6``, row ``i`` weighs ``q1 … q7``, each added
    in the order of :func:`ntk_toolkit._kernels.rows.p7` (the same signs), and
    the signs go straight into 64-bit words: neither row is stored as floats.
    """
    c0 = np.uint64(c0)
    m = np.uint64(m)
    wd = c0 >> np.uint64(6)
    c = np.uint64(0)
    while c < m:
        cnt = min(np.uint64(64), m - c)
        base = c0 + c
        wa = np.uint64(0)
        wb = np.uint64(0)
        for t in range(cnt):
            cc = base + t
            w0, w1, w2, w3, w4, w5, w6, w7 = eight(C, cc, q0, q1, q2, q3, q4, q5, q6, q7)
            za = ((t0 * (w1 + w7) + t1 * (w2 + w6)) + t2 * (w3 + w5)) + t3 * w4
            zb = ((t0 * (w0 + w6) + t1 * (w1 + w5)) + t2 * (w2 + w4)) + t3 * w3
            wa |= np.uint64(za > 0) << t
            wb |= np.uint64(zb > 0) << t
        P[i, wd] |= wa
        P[i + 1, wd] |= wb
        wd += np.uint64(1)
        c += cnt


@pjit
def pack_pairs(taps, h, C, block, rows, P):  # pragma: no cover - compiled
    """:func:`pack_direct` for seven symmetric taps (:func:`~ntk_toolkit._kernels.rows.pair_taps`), two rows at a time.

    Rows whose window does not wrap go in pairs through :func:`_pair_words`
    (eight rows of ``C`` read per two output rows, signs packed on the fly);
    the others as in :func:`pack_direct`. ``block`` must be a multiple of 64
    and ``rows`` even. The same bits as :func:`pack_direct`.
    """
    n, k = C.shape
    t0 = taps[0]
    t1 = taps[1]
    t2 = taps[2]
    t3 = taps[3]
    lo = 6 - h  # first row whose window does not wrap below 0
    hi = n - 1 - h  # last row whose window does not wrap above n − 1
    nrb = (n + rows - 1) // rows
    for rb in prange(nrb):
        z = np.empty(block, dtype=C.dtype)
        r0 = rb * rows
        r1 = min(n, r0 + rows)
        for c0 in range(0, k, block):
            m = min(block, k - c0)
            zb = z[:m]
            i = r0
            while i < r1:
                if i >= lo and i + 1 <= hi and i + 1 < r1:
                    bq = i + 1 + h
                    _pair_words(C, c0, m, i, P, t0, t1, t2, t3, bq, bq - 1, bq - 2, bq - 3, bq - 4, bq - 5, bq - 6,
                                bq - 7)
                    i += 2
                else:
                    stencil(zb, taps, C, i + h, -1, c0, True)
                    _set_bits(zb, i, c0, P)
                    i += 1


@pjit
def pack_signs(Z, c0, P):  # pragma: no cover - compiled
    """OR the signs ``Z[i, c] > 0`` into ``P`` at channels ``c0 + c``; rows in parallel."""
    n = Z.shape[0]
    for i in prange(n):
        _set_bits(Z[i], i, c0, P)


@pjit
def pattern_gram(P, n, tiles_i, tiles_j, a, circulant, scale, tb, wc, K):  # pragma: no cover - compiled
    """``K[i, j] = K[j, i] = scale · N[i, j] · B[i, j]`` on the given tiles, ``N`` counted from ``P``.

    ``N[i, j] = Σ_w popcount(P[i, w] & P[j, w])`` for ``i <= j < n`` in the
    tiles ``(tiles_i[t], tiles_j[t])`` (block indices, ``tiles_i <= tiles_j``)
    of ``tb x tb`` rows. ``B[i, j] = a[j − i]`` when ``circulant``; otherwise
    ``B`` is read from the upper triangle of ``K`` on entry (``U Uᵀ``; the
    lower triangle is overwritten, never read). ``P`` has a multiple of
    ``tb`` rows, ``tb`` a multiple of 4. Tiles are independent and run in
    parallel; within a tile, chunks of ``wc`` words and 4 x 2 blocks of rows
    (eight counts in registers).
    """
    W = P.shape[1]
    for t in prange(tiles_i.shape[0]):
        bi = tiles_i[t]
        bj = tiles_j[t]
        i0 = bi * tb
        j0 = bj * tb
        cnt = np.zeros((tb, tb), dtype=np.int32)
        for w0 in range(0, W, wc):
            w1 = min(W, w0 + wc)
            nw = w1 - w0
            for ii in range(0, tb, 4):
                p0 = P[i0 + ii, w0:w1]
                p1 = P[i0 + ii + 1, w0:w1]
                p2 = P[i0 + ii + 2, w0:w1]
                p3 = P[i0 + ii + 3, w0:w1]
                jstart = ii if bi == bj else 0
                for jj in range(jstart, tb, 2):
                    q0 = P[j0 + jj, w0:w1]
                    q1 = P[j0 + jj + 1, w0:w1]
                    s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = 0
                    for w in range(nw):  # from 0: provably in bounds, vectorises
                        x0 = p0[w]
                        x1 = p1[w]
                        x2 = p2[w]
                        x3 = p3[w]
                        y0 = q0[w]
                        y1 = q1[w]
                        s00 += popcount(x0 & y0)
                        s01 += popcount(x0 & y1)
                        s10 += popcount(x1 & y0)
                        s11 += popcount(x1 & y1)
                        s20 += popcount(x2 & y0)
                        s21 += popcount(x2 & y1)
                        s30 += popcount(x3 & y0)
                        s31 += popcount(x3 & y1)
                    cnt[ii, jj] += s00
                    cnt[ii, jj + 1] += s01
                    cnt[ii + 1, jj] += s10
                    cnt[ii + 1, jj + 1] += s11
                    cnt[ii + 2, jj] += s20
                    cnt[ii + 2, jj + 1] += s21
                    cnt[ii + 3, jj] += s30
                    cnt[ii + 3, jj + 1] += s31
        imax = min(tb, n - i0)
        jmax = min(tb, n - j0)
        for ii in range(imax):
            i = i0 + ii
            for jj in range(ii if bi == bj else 0, jmax):
                j = j0 + jj
                b = a[j - i] if circulant else K[i, j]
                val = scale * np.float64(cnt[ii, jj]) * b
                K[i, j] = val
                K[j, i] = val


@pjit
def pattern_gram_band(P, n, offsets, a, scale, K):  # pragma: no cover - compiled
    """``K[i, j] = K[j, i] = scale · N[i, j] · a[|j − i|]`` for ``j = (i + d) mod n``, ``d ∈ offsets``.

    For a circulant ``U Uᵀ`` with first row ``a``, ``K[i, j]`` vanishes
    unless ``a[(j − i) mod n] ≠ 0``; a filter of ``L`` taps leaves the
    ``2L − 1`` offsets ``|d| < L``. ``offsets`` are the ``d`` in ``[0, n/2]``
    where ``a[d]`` or ``a[n − d]`` is nonzero; each unordered pair of rows is
    counted once (for ``d = n/2`` only rows ``i < n/2``), ``N[i, j] = Σ_w
    popcount(P[i, w] & P[j, w])``, and the value written is the one of
    :func:`pattern_gram` (same ``a`` entry, same products), so the two
    kernels agree bit for bit. Cost ``n |offsets| ⌈k/64⌉`` word operations
    against about ``n (|offsets| + tb) ⌈k/64⌉`` for the tiles; ``K`` must be
    zero on entry. Rows run in parallel; entries written by two rows carry
    the same value.
    """
    W = P.shape[1]
    nd = offsets.shape[0]
    half = n // 2
    for ip in prange(n):
        i = np.int64(ip)
        pi = P[i, :W]
        for q in range(nd):
            d = np.int64(offsets[q])
            if 2 * d == n and i >= half:
                continue
            j = wrap(i + d, n)
            pj = P[j, :W]
            c = 0
            for w in range(W):
                c += popcount(pi[w] & pj[w])
            lo = i if i < j else j
            hi = j if i < j else i
            val = scale * np.float64(c) * a[hi - lo]
            K[lo, hi] = val
            K[hi, lo] = val


@pjit
def finish_circulant(G, a, scale, K):  # pragma: no cover - compiled
    """``K[i, j] = K[j, i] = scale · G[i, j] · a[(j − i) mod n]`` from the upper triangle of ``G``.

    ``G`` is the float pattern Gram written by BLAS ``syrk`` (upper triangle,
    Fortran order) and ``a`` the first row of the circulant ``U Uᵀ``. One
    pass, no ``n x n`` temporaries; rows are independent.
    """
    n = G.shape[0]
    for i in prange(n):
        for j in range(i, n):
            d = j - i
            val = scale * G[i, j] * a[d]
            K[i, j] = val
            K[j, i] = val
