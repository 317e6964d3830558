"""Row kernels shared by the direct-taps convolution, the fused gradient-descent step and the pattern packing.

Every direct-taps evaluation of ``(U X)[i, c0:c1] = Σ_a u[a] X[(i − a + h) mod n, c0:c1]``
in the package goes through :func:`stencil`, so the convolution, the forward pass
of gradient descent and the packed activation pattern add the same products in
the same order and agree bit for bit (the same signs, the same pattern).

Taps are applied four per pass over a row, ``dst (=|+=) ((t0 x0 + t1 x1) + t2 x2) + t3 x3``:
one load and store of ``dst`` per four multiply-adds instead of per tap, and few
enough distinct arrays in a loop that LLVM vectorises it (its run-time overlap
checks stay within their limit). Past the last tap a pass weighs a valid row by
zero. Measured on one core (AVX2, rows of 1024 float64 in L1): 0.34–0.44 ns per
entry for a pass of four taps, against 0.10–0.12 ns per entry and tap for one
tap per pass.
"""

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


@jit
def g4_at(acc, has_acc, c, t0, x0, t1, x1, t2, x2, t3, x3):  # pragma: no cover - compiled
    """Entry ``c`` of a pass of four taps: ``(acc[c] +) ((t0 x0 + t1 x1) + t2 x2) + t3 x3`` (``acc`` when ``has_acc``).

    The formula of :func:`g4`, as a compiled function without fast-math flags
    that LLVM inlines into its callers' loops, so that a caller compiled with
    ``reassoc`` (:func:`~ntk_toolkit._jit.sum_jit`, to vectorise a sum over
    the row) still adds the taps in exactly this order. (:func:`g4` writes
    the formula out: calling this from every pass, in each of its typed
    variants, doubled the compile time of the kernels; a test checks that
    both give the same bits.)
    """
    p = ((t0 * x0[c] + t1 * x1[c]) + t2 * x2[c]) + t3 * x3[c]
    return acc[c] + p if has_acc else p


@inline_jit
def g4(dst, first, t0, x0, t1, x1, t2, x2, t3, x3):  # pragma: no cover - compiled
    """``dst (=|+=) ((t0 x0 + t1 x1) + t2 x2) + t3 x3`` elementwise (``=`` when ``first``)."""
    m = dst.shape[0]
    if first:
        for c in range(m):
            dst[c] = ((t0 * x0[c] + t1 * x1[c]) + t2 * x2[c]) + t3 * x3[c]
    else:
        for c in range(m):
            dst[c] += ((t0 * x0[c] + t1 * x1[c]) + t2 * x2[c]) + t3 * x3[c]


@inline_jit
def group(taps, X, base, sign, nrows, c0, c1, g):  # pragma: no cover - compiled
    """Taps ``g … g+3`` and the rows ``X[(base + sign·a) mod nrows, c0:c1]`` they weigh.

    Past the last tap the weight is zero on a valid row. The zero is
    ``t0 − t0`` so that it keeps the dtype of the taps (a float64 zero would
    turn a float32 pass into float64 arithmetic).
    """
    L = taps.shape[0]
    t0 = taps[g]
    x0 = X[wrap(base + sign * g, nrows), c0:c1]
    t1 = t0 - t0
    x1 = x0
    t2 = t1
    x2 = x0
    t3 = t1
    x3 = x0
    if g + 1 < L:
        t1 = taps[g + 1]
        x1 = X[wrap(base + sign * (g + 1), nrows), c0:c1]
    if g + 2 < L:
        t2 = taps[g + 2]
        x2 = X[wrap(base + sign * (g + 2), nrows), c0:c1]
    if g + 3 < L:
        t3 = taps[g + 3]
        x3 = X[wrap(base + sign * (g + 3), nrows), c0:c1]
    return t0, x0, t1, x1, t2, x2, t3, x3


@inline_jit
def symmetric(taps):  # pragma: no cover - compiled
    """True if ``taps[a] == taps[L − 1 − a]`` for every ``a`` (exactly)."""
    L = taps.shape[0]
    for a in range(L // 2):
        if taps[a] != taps[L - 1 - a]:
            return False
    return True


@jit
def p7_at(acc, has_acc, c, t0, x0, y0, t1, x1, y1, t2, x2, y2, t3, x3):  # pragma: no cover - compiled
    """Entry ``c`` of a symmetric pass: ``(acc[c] +) ((t0 (x0 + y0) + t1 (x1 + y1)) + t2 (x2 + y2)) + t3 x3``.

    Three tap pairs and one tap: the formula of :func:`p7` (see :func:`g4_at`).
    """
    p = ((t0 * (x0[c] + y0[c]) + t1 * (x1[c] + y1[c])) + t2 * (x2[c] + y2[c])) + t3 * x3[c]
    return acc[c] + p if has_acc else p


@inline_jit
def p7(dst, first, t0, x0, y0, t1, x1, y1, t2, x2, y2, t3, x3):  # pragma: no cover - compiled
    """``dst (=|+=) ((t0 (x0 + y0) + t1 (x1 + y1)) + t2 (x2 + y2)) + t3 x3``: three tap pairs and one tap."""
    m = dst.shape[0]
    if first:
        for c in range(m):
            dst[c] = ((t0 * (x0[c] + y0[c]) + t1 * (x1[c] + y1[c])) + t2 * (x2[c] + y2[c])) + t3 * x3[c]
    else:
        for c in range(m):
            dst[c] += ((t0 * (x0[c] + y0[c]) + t1 * (x1[c] + y1[c])) + t2 * (x2[c] + y2[c])) + t3 * x3[c]


@inline_jit
def pair_groups(L):  # pragma: no cover - compiled
    """Passes of :func:`p7` for ``L`` symmetric taps: ``⌈(L // 2) / 3⌉``, at least one."""
    return max(1, (L // 2 + 2) // 3)


@inline_jit
def pgroup(taps, X, base, sign, nrows, c0, c1, gi):  # pragma: no cover - compiled
    """Pass ``gi`` of a symmetric stencil: pairs ``3 gi … 3 gi + 2`` of taps ``(a, L − 1 − a)``.

    The middle tap of an odd ``L`` goes into the last pass; unused slots weigh
    the row of tap 0 by zero (in the dtype of the taps).
    """
    L = taps.shape[0]
    npair = L // 2
    r0 = X[wrap(base, nrows), c0:c1]
    zero = taps[0] - taps[0]
    q = 3 * gi
    t0 = zero
    x0 = r0
    y0 = r0
    t1 = zero
    x1 = r0
    y1 = r0
    t2 = zero
    x2 = r0
    y2 = r0
    t3 = zero
    x3 = r0
    if q < npair:
        t0 = taps[q]
        x0 = X[wrap(base + sign * q, nrows), c0:c1]
        y0 = X[wrap(base + sign * (L - 1 - q), nrows), c0:c1]
    if q + 1 < npair:
        t1 = taps[q + 1]
        x1 = X[wrap(base + sign * (q + 1), nrows), c0:c1]
        y1 = X[wrap(base + sign * (L - 2 - q), nrows), c0:c1]
    if q + 2 < npair:
        t2 = taps[q + 2]
        x2 = X[wrap(base + sign * (q + 2), nrows), c0:c1]
        y2 = X[wrap(base + sign * (L - 3 - q), nrows), c0:c1]
    if L % 2 == 1 and gi == pair_groups(L) - 1:
        t3 = taps[npair]
        x3 = X[wrap(base + sign * npair, nrows), c0:c1]
    return t0, x0, y0, t1, x1, y1, t2, x2, y2, t3, x3


@jit
def head(dst, taps, X, base, sign, c0, c1, sym):  # pragma: no cover - compiled
    """Every pass of :func:`stencil` but the last into ``dst``; returns the index of the last pass.

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
            t0, x0, y0, t1, x1, y1, t2, x2, y2, t3, x3 = pgroup(taps, X, base, sign, n, c0, c1, gi)
            p7(dst, gi == 0, t0, x0, y0, t1, x1, y1, t2, x2, y2, t3, x3)
        return last
    last = 4 * ((L - 1) // 4)
    for g in range(0, last, 4):
        t0, x0, t1, x1, t2, x2, t3, x3 = group(taps, X, base, sign, n, c0, c1, g)
        g4(dst, g == 0, t0, x0, t1, x1, t2, x2, t3, x3)
    return last


@jit
def stencil(dst, taps, X, base, sign, c0, c1, sym):  # pragma: no cover - compiled
    """``dst = Σ_a taps[a] X[(base + sign·a) mod n, c0:c1]``.

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
            t0, x0, y0, t1, x1, y1, t2, x2, y2, t3, x3 = pgroup(taps, X, base, sign, n, c0, c1, gi)
            p7(dst, gi == 0, t0, x0, y0, t1, x1, y1, t2, x2, y2, t3, x3)
        return
    for g in range(0, L, 4):
        t0, x0, t1, x1, t2, x2, t3, x3 = group(taps, X, base, sign, n, c0, c1, g)
        g4(dst, g == 0, t0, x0, t1, x1, t2, x2, t3, x3)
