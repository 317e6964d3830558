"""Row kernels shared by the direct-taps convolution, the fused gradient-descent step and the pattern packing.

Every direct-taps evaluation of ``(U X)[i, c0:c1] = Σ_a u[a] X[(i − a + h) mod n, c0:c1]``
in the package goes through :func:`stencil`, so the convolution, the forward pass
of gradient descent and the packed activation pattern add the same products in
the same order and agree bit for bit (the same signs, the same pattern).

Rows are named by their index in one 2-D array and read as ``X[r, c0 + c]``,
not passed as row views: a view is an array structure built, passed and
reference-counted per row and per tap, an O(L) overhead per row that dominates
narrow blocks of channels. Column indices are unsigned
(``np.uint64``): a signed index ``c0 + c`` gets NumPy's negative-index
wrap-around, a select per entry that stops LLVM from vectorising the loop.
(Measured costs of both in ``docs/benchmarks.md``.)

Taps are applied four per pass over a row, ``dst (=|+=) ((t0 x0 + t1 x1) + t2 x2) + t3 x3``:
one load and store of ``dst`` per four multiply-adds instead of per tap, and few
enough distinct arrays in a loop that LLVM vectorises it (its run-time overlap
checks stay within their limit). Past the last tap a pass weighs a valid row by
zero. A row costs ``⌈L/4⌉`` passes instead of ``L`` (measured costs in
``docs/benchmarks.md``).
"""

import numpy as np

from .._jit import inline_jit, jit


@inline_jit
def wrap(r, n):  # pragma: no cover - compiled
    """``r mod n`` in ``[0, n)`` by adding or subtracting ``n``.

    Row indices of a stencil are at most one period off (a filter is never
    longer than the signal; the loops cover the rest), so this avoids the
    integer division of ``%`` (tens of cycles, up to seven per stencil row:
    measured as most of the per-row cost of narrow blocks).
    """
    while r < 0:
        r += n
    while r >= n:
        r -= n
    return r


@inline_jit
def group(taps, base, sign, nrows, g):  # pragma: no cover - compiled
    """Taps ``g … g+3`` and the rows ``(base + sign·a) mod nrows`` they weigh.

    Past the last tap the weight is zero on a valid row. The zero is
    ``t0 − t0`` so that it keeps the dtype of the taps (a float64 zero would
    turn a float32 pass into float64 arithmetic).
    """
    L = taps.shape[0]
    t0 = taps[g]
    r0 = wrap(base + sign * g, nrows)
    t1 = t0 - t0
    r1 = r0
    t2 = t1
    r2 = r0
    t3 = t1
    r3 = r0
    if g + 1 < L:
        t1 = taps[g + 1]
        r1 = wrap(base + sign * (g + 1), nrows)
    if g + 2 < L:
        t2 = taps[g + 2]
        r2 = wrap(base + sign * (g + 2), nrows)
    if g + 3 < L:
        t3 = taps[g + 3]
        r3 = wrap(base + sign * (g + 3), nrows)
    return t0, r0, t1, r1, t2, r2, t3, r3


@inline_jit
def g4(dst, first, X, c0, t0, r0, t1, r1, t2, r2, t3, r3):  # pragma: no cover - compiled
    """``dst[c] (=|+=) ((t0 X[r0, c0+c] + t1 X[r1, ·]) + t2 X[r2, ·]) + t3 X[r3, ·]`` (``=`` when ``first``)."""
    m = np.uint64(dst.shape[0])  # unsigned column indices: no negative-index wrap-around, so LLVM vectorises
    c0 = np.uint64(c0)
    if first:
        for c in range(m):
            cc = c0 + c
            dst[c] = ((t0 * X[r0, cc] + t1 * X[r1, cc]) + t2 * X[r2, cc]) + t3 * X[r3, cc]
    else:
        for c in range(m):
            cc = c0 + c
            dst[c] += ((t0 * X[r0, cc] + t1 * X[r1, cc]) + t2 * X[r2, cc]) + t3 * X[r3, cc]


@jit
def g4_at(acc, has_acc, c, X, cc, t0, r0, t1, r1, t2, r2, t3, r3):  # pragma: no cover - compiled
    """Entry ``c`` of a pass of :func:`g4` (column ``cc`` of ``X``), plus ``acc[c]`` when ``has_acc``.

    The formula of :func:`g4` as a compiled function without fast-math flags
    that LLVM inlines into its callers' loops, so that a caller compiled with
    ``reassoc`` (:func:`~ntk_toolkit._jit.sum_jit`, to vectorise a sum over
    the row) still adds the taps in exactly this order. (:func:`g4` writes
    the formula out: calling this from every pass, in each of its typed
    variants, doubled the compile time of the kernels; a test checks that
    both give the same bits.)
    """
    p = ((t0 * X[r0, cc] + t1 * X[r1, cc]) + t2 * X[r2, cc]) + t3 * X[r3, cc]
    return acc[c] + p if has_acc else p


@inline_jit
def symmetric(taps):  # pragma: no cover - compiled
    """True if ``taps[a] == taps[L − 1 − a]`` for every ``a`` (exactly)."""
    L = taps.shape[0]
    for a in range(L // 2):
        if taps[a] != taps[L - 1 - a]:
            return False
    return True


@inline_jit
def p7(dst, first, X, c0, t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3):  # pragma: no cover - compiled
    """``dst[c] (=|+=) ((t0 (x0 + y0) + t1 (x1 + y1)) + t2 (x2 + y2)) + t3 x3``: three tap pairs and one tap.

    ``x_q = X[a_q, c0 + c]``, ``y_q = X[b_q, c0 + c]``.
    """
    m = np.uint64(dst.shape[0])  # unsigned column indices: no negative-index wrap-around, so LLVM vectorises
    c0 = np.uint64(c0)
    if first:
        for c in range(m):
            cc = c0 + c
            dst[c] = (((t0 * (X[a0, cc] + X[b0, cc]) + t1 * (X[a1, cc] + X[b1, cc])) + t2 * (X[a2, cc] + X[b2, cc]))
                      + t3 * X[a3, cc])
    else:
        for c in range(m):
            cc = c0 + c
            dst[c] += (((t0 * (X[a0, cc] + X[b0, cc]) + t1 * (X[a1, cc] + X[b1, cc])) + t2 * (X[a2, cc] + X[b2, cc]))
                       + t3 * X[a3, cc])


@jit
def p7_at(acc, has_acc, c, X, cc, t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3):  # pragma: no cover - compiled
    """Entry ``c`` of a pass of :func:`p7` (column ``cc`` of ``X``), plus ``acc[c]`` when ``has_acc``.

    See :func:`g4_at`.
    """
    p = (((t0 * (X[a0, cc] + X[b0, cc]) + t1 * (X[a1, cc] + X[b1, cc])) + t2 * (X[a2, cc] + X[b2, cc]))
         + t3 * X[a3, cc])
    return acc[c] + p if has_acc else p


@inline_jit
def eight(X, cc, q0, q1, q2, q3, q4, q5, q6, q7):  # pragma: no cover - compiled
    """``X[q0, cc], …, X[q7, cc]``: the eight rows a pair of seven-tap rows reads (the paired kernels)."""
    return X[q0, cc], X[q1, cc], X[q2, cc], X[q3, cc], X[q4, cc], X[q5, cc], X[q6, cc], X[q7, cc]


@inline_jit
def pair_groups(L):  # pragma: no cover - compiled
    """Passes of :func:`p7` for ``L`` symmetric taps: ``⌈(L // 2) / 3⌉``, at least one."""
    return max(1, (L // 2 + 2) // 3)


@inline_jit
def pgroup(taps, base, sign, nrows, gi):  # pragma: no cover - compiled
    """Pass ``gi`` of a symmetric stencil: pairs ``3 gi … 3 gi + 2`` of taps ``(a, L − 1 − a)`` and their rows.

    Returns ``(t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3)``: tap ``t_q``
    weighs rows ``a_q`` (tap ``3 gi + q``) and ``b_q`` (tap ``L − 1 − 3 gi − q``),
    ``(base + sign·a) mod nrows``. The middle tap of an odd ``L`` goes into
    the last pass; unused slots weigh the row of tap 0 by zero (in the dtype
    of the taps).
    """
    L = taps.shape[0]
    npair = L // 2
    r0 = wrap(base, nrows)
    zero = taps[0] - taps[0]
    q = 3 * gi
    t0 = zero
    a0 = r0
    b0 = r0
    t1 = zero
    a1 = r0
    b1 = r0
    t2 = zero
    a2 = r0
    b2 = r0
    t3 = zero
    a3 = r0
    if q < npair:
        t0 = taps[q]
        a0 = wrap(base + sign * q, nrows)
        b0 = wrap(base + sign * (L - 1 - q), nrows)
    if q + 1 < npair:
        t1 = taps[q + 1]
        a1 = wrap(base + sign * (q + 1), nrows)
        b1 = wrap(base + sign * (L - 2 - q), nrows)
    if q + 2 < npair:
        t2 = taps[q + 2]
        a2 = wrap(base + sign * (q + 2), nrows)
        b2 = wrap(base + sign * (L - 3 - q), nrows)
    if L % 2 == 1 and gi == pair_groups(L) - 1:
        t3 = taps[npair]
        a3 = wrap(base + sign * npair, nrows)
    return t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3


@jit
def head(dst, taps, X, base, sign, c0, sym):  # pragma: no cover - compiled
    """Every pass of :func:`stencil` but the last into ``dst`` (columns ``c0 … c0 + len(dst)``); returns the last pass.

    The index is ``gi`` of :func:`pgroup` (``sym``) or the first tap ``g`` of
    :func:`group`; it is 0 when the stencil is a single pass (``dst`` untouched).
    A caller finishes the stencil with that pass, fused with what it does next.
    A compiled function of its own (not inlined), shared by the forward and
    the gradient rows of gradient descent, to keep their compile time down.
    """
    n = X.shape[0]
    L = taps.shape[0]
    if sym:
        last = pair_groups(L) - 1
        for gi in range(last):
            t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3 = pgroup(taps, base, sign, n, gi)
            p7(dst, gi == 0, X, c0, t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3)
        return last
    last = 4 * ((L - 1) // 4)
    for g in range(0, last, 4):
        t0, r0, t1, r1, t2, r2, t3, r3 = group(taps, base, sign, n, g)
        g4(dst, g == 0, X, c0, t0, r0, t1, r1, t2, r2, t3, r3)
    return last


@jit
def stencil(dst, taps, X, base, sign, c0, sym):  # pragma: no cover - compiled
    """``dst = Σ_a taps[a] X[(base + sign·a) mod n, c0 : c0 + len(dst)]``.

    ``sign = −1, base = i + h`` is row ``i`` of ``U X``; ``sign = +1,
    base = j − h`` is row ``j`` of ``Uᵀ X`` (``docs/theory.md`` §1.1).
    ``sym`` (:func:`symmetric`): the taps are added in pairs, seven taps per
    pass (:func:`p7`); otherwise four per pass (:func:`g4`). A compiled
    function of its own, called once per row, not inlined: inlined into
    every caller it made the fused gradient-descent step take minutes to
    compile, for no measurable gain on rows of hundreds of channels.
    """
    n = X.shape[0]
    L = taps.shape[0]
    if sym:
        for gi in range(pair_groups(L)):
            t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3 = pgroup(taps, base, sign, n, gi)
            p7(dst, gi == 0, X, c0, t0, a0, b0, t1, a1, b1, t2, a2, b2, t3, a3)
        return
    for g in range(0, L, 4):
        t0, r0, t1, r1, t2, r2, t3, r3 = group(taps, base, sign, n, g)
        g4(dst, g == 0, X, c0, t0, r0, t1, r1, t2, r2, t3, r3)


def pair_taps(taps: np.ndarray, h: int):
    """Taps and centre for the paired kernels, or ``None`` if the filter does not fit them.

    The paired kernels (:func:`ntk_toolkit._kernels.gd.step_pairs`,
    :func:`ntk_toolkit._kernels.gram.pack_pairs`) take seven symmetric taps
    and compute two rows from eight rows of their input.

    A symmetric filter of odd length ``L ≤ 7`` is padded with ``(7 − L) / 2``
    zero taps on each side (centre ``h + (7 − L) / 2``): the same sums, the
    zero taps adding ``±0`` (results may differ from the single-row kernels
    in the sign of a zero only).
    """
    L = taps.shape[0]
    if L % 2 == 0 or L > 7 or not bool((taps == taps[::-1]).all()):
        return None
    pad = (7 - L) // 2
    out = np.zeros(7, dtype=taps.dtype)  # not np.pad: about 90 µs a call against 5
    out[pad:pad + L] = taps
    return out, h + pad
