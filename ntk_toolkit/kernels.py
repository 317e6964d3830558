"""Empirical kernel ``K(C) = J Jᵀ`` and its infinite-width expectation ``Σ``.

``docs/theory.md`` §2.1 (empirical kernel), §2.2 (closed form of ``Σ``) and
§2.3 (circulant structure).
"""

from __future__ import annotations

import functools

import numpy as np

from . import _lazy
from ._jit import threads_for
from ._memory import check_memory
from ._validation import as_float_array, check_positive
from .activations import as_activation, correlation_row, expected_product
from .generator import Generator, is_generator

__all__ = ["empirical_kernel", "expected_kernel", "expected_kernel_first_row", "gram_matrix"]

#: Bytes of float temporaries per channel block when streaming the activation
#: pattern through an FFT or dense operator, or through BLAS ``syrk``.
_BLOCK_BYTES = 32 * 1024**2
#: Direct taps: at most this many channels per block, so that the
#: ``L + _PACK_ROWS − 1`` rows of ``C`` a block of ``_PACK_ROWS`` output rows
#: reads (``8 · block`` bytes each) stay in L2.
_DIRECT_CHANNELS = 512
_PACK_ROWS = 64
#: Popcount Gram: tiles of ``_TILE`` rows against ``_TILE`` rows (a multiple of
#: 4), over chunks of ``_CHUNK_WORDS`` 64-bit words (two tiles of a chunk take
#: ``2 · 8 · _TILE · _CHUNK_WORDS`` bytes = 256 KiB of L2).
_TILE = 64
_CHUNK_WORDS = 256
#: Cost of a pair of rows in the band kernel relative to the register-blocked
#: tiles; the band kernel runs when ``_BAND_COST × its pairs <= the tiles' pairs``.
#: Measured with a filter as long as the signal (every offset counted, 2 threads):
#: band 1.08×, 1.16×, 0.90× and 0.90× the time of the tiles at (n, k) = (256, 1024),
#: (512, 1024), (1024, 8192) and (2048, 4096); the vector popcount is the limit of both.
_BAND_COST = 1

_METHODS = ("auto", "structured", "blas", "jacobian")


def _check_gen(gen) -> Generator:
    if not is_generator(gen):
        raise TypeError(
            "gen must be a generator (a TwoLayerGenerator, or an object with n, num_params, init, forward, "
            f"jvp and vjp), got {type(gen).__name__}"
        )
    return gen


def _is_two_layer(gen) -> bool:
    """True for the two-layer model ``φ(U C) v`` (operator, output weights, activation)."""
    return all(hasattr(gen, a) for a in ("operator", "output_weights", "activation", "k"))


def _check_two_layer(gen, what: str):
    gen = _check_gen(gen)
    if not _is_two_layer(gen):
        raise TypeError(
            f"{what} is defined for the two-layer model G(C) = φ(U C) v (a generator with operator, "
            f"output_weights, activation and k); got {type(gen).__name__}, which has no closed form: "
            "estimate E[J Jᵀ] by Monte Carlo, averaging ntk_toolkit.empirical_kernel(gen, gen.init(seed=s)) "
            "over seeds s"
        )
    return gen


def _circulant(op) -> bool:
    """True when ``U Uᵀ[i, j]`` depends on ``(j − i) mod n`` only (a basis that is circulant in the flat index)."""
    return op.basis is not None and bool(op.basis.circulant)


def gram_matrix(gen) -> np.ndarray:
    """``U Uᵀ`` as a dense ``(n, n)`` matrix (from its first row when the operator's basis is circulant).

    Examples
    --------
    >>> from ntk_toolkit import TwoLayerGenerator
    >>> from ntk_toolkit.filters import delta
    >>> from ntk_toolkit.operators import CircularConv
    >>> gram_matrix(TwoLayerGenerator(CircularConv(delta(), 3), k=2)).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    return _check_two_layer(gen, "U Uᵀ").operator.gram()


def empirical_kernel(gen, C, method: str = "auto") -> np.ndarray:
    """Empirical (finite-width) kernel ``K(C) = J(C) J(C)ᵀ``.

    ``K = (U Uᵀ) ∘ (S diag(v²) Sᵀ)`` with ``S = 1{U C > 0}``: ``K_ij`` is
    ``⟨u_i, u_j⟩`` times the ``v²``-weighted fraction of channels in which
    outputs ``i`` and ``j`` are both active (``docs/theory.md`` §2.1,
    eq. (2.3)).

    Parameters
    ----------
    gen : Generator
        The generator: a :class:`~ntk_toolkit.TwoLayerGenerator` (operator
        ``U``, output weights ``v``, activation), or any generator of the
        :class:`~ntk_toolkit.generator.Generator` protocol, whose ``J`` is then
        formed from ``n`` vector-Jacobian products (O(n · P) memory for ``P``
        parameters; ``method`` is ignored).
    C : array_like, shape (n, k)
        Weights at which the kernel is taken; finite.
    method : {"auto", "structured", "blas", "jacobian"}, default "auto"
        ``structured`` never forms ``J``: it counts co-active channels on
        bit-packed activation patterns when the activation is ReLU and all
        ``v_l²`` are equal (the default ``v``), and otherwise runs ``blas``.
        ``blas`` forms float patterns block by block and accumulates their
        Gram with BLAS ``syrk`` (any ``v`` and activation). ``jacobian`` forms
        the dense ``J`` (O(n² k) memory) and returns ``J Jᵀ``; for tests.
        ``auto`` is ``structured``. See Notes for cost and memory.

    Returns
    -------
    ndarray, shape (n, n)
        Symmetric positive semi-definite.

    Raises
    ------
    MemoryError
        If the estimated peak memory (below) exceeds the budget
        (:func:`ntk_toolkit.set_memory_budget`); nothing is allocated then.
        The spectrum of the expected kernel, ``ntk_toolkit.spectrum(gen)``,
        needs O(n) memory.

    See Also
    --------
    expected_kernel : Its expectation ``Σ`` over the initialisation.
    ntk_toolkit.spectrum : Eigenvalues of ``Σ`` in O(n log n) for a circulant ``U``.

    Notes
    -----
    *Popcount path* (``structured`` with ReLU and all ``v_l² = s``). Then
    ``S diag(v²) Sᵀ = s N`` with ``N[i, j] = #{l : S[i, l] = S[j, l] = 1}``
    the number of channels in which outputs ``i`` and ``j`` are both active,
    and

    * ``K[i, j] = s · N[i, j] · a[(j − i) mod n]`` for a circulant ``U``, with
      ``a`` the first row of ``U Uᵀ`` (``docs/theory.md`` §2.3);
    * ``K[i, j] = s · N[i, j] · (U Uᵀ)[i, j]`` otherwise.

    ``S`` is packed 64 channels to a 64-bit word (``n ⌈k/64⌉`` words,
    ``n k / 8`` bytes) and ``N[i, j] = Σ_w popcount(P[i, w] & P[j, w])`` is
    counted for ``i <= j`` only: at most ``n² ⌈k/64⌉ / 2`` word operations
    (AND, popcount, add). For a circulant ``U`` only the pairs where ``K``
    can be nonzero are counted: a filter of ``L`` taps has ``a_d = 0`` for
    ``L <= d <= n − L``, so row ``i`` is paired with rows ``(i + d) mod n``
    at the ``L`` offsets ``0 <= d < L`` (each unordered pair once;
    ``n L ⌈k/64⌉`` word operations, parallel over rows; in general the
    offsets ``d <= n/2`` where ``a_d ≠ 0``). A dense ``U``, or a circulant
    one whose band is wider than its tiles, is counted in 64 x 64 tiles of
    rows over the triangle, in parallel; tiles where ``a`` (or, for an
    operator that is not circulant, the dense ``U Uᵀ``: the block band of a
    2-D convolution) vanishes are skipped (``K`` is exactly zero there). The counts are exact integers,
    so the result does not depend on the number of threads, and the band
    and the tiles give the same bits.

    The pattern is streamed over blocks of channels: a direct-taps
    ``CircularConv`` computes each row of ``U C`` from the taps and packs its
    signs on the fly (O(n k L) flops, no float block at all); an FFT or
    dense operator forms one block of ``U C`` of at most 32 MiB at a time
    (O(n k log n) or O(n² k) flops). Peak extra memory: ``8 n²`` bytes for
    ``K`` plus ``n k / 8`` for the packed pattern plus the operator's block
    temporaries; no second ``n x k`` float array and no ``n x n`` integer
    array is allocated. Measured (AVX2, 2 cores), ``triangle(4)``: about
    0.5 ms at (n, k) = (256, 1024) and under 1 s at (4096, 65536); when
    every pair is counted (a filter as long as the signal) the popcount runs
    at about 3.5·10⁹ word operations per second per core.

    *BLAS path* (``blas``, or ``structured`` with unequal ``|v_l|`` or
    another activation). The patterns ``φ'(U C) diag(|v|)`` are formed block
    by block and their Gram accumulated with ``syrk`` (one triangle):
    O(n² k) flops, peak extra memory about ``3 · 8 n²`` bytes plus one block.
    With all ``v_l²`` equal and ``k < 2²⁴`` the counts are exact in float32
    and the result equals the popcount path bit for bit.

    The first call compiles the Numba kernels (of the order of 10 s on 2
    cores); later processes load them from the on-disk cache (about 1 s).

    Examples
    --------
    >>> import numpy as np
    >>> import ntk_toolkit as nt
    >>> from ntk_toolkit.filters import triangle
    >>> from ntk_toolkit.operators import CircularConv
    >>> gen = nt.TwoLayerGenerator(CircularConv(triangle(2), 32), k=128)
    >>> C = gen.init(seed=0)
    >>> K = nt.empirical_kernel(gen, C)
    >>> K.shape, bool(np.allclose(K, nt.empirical_kernel(gen, C, method="jacobian")))
    ((32, 32), True)
    """
    gen = _check_gen(gen)
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, _METHODS))}, got {method!r}")
    if not _is_two_layer(gen):
        return _kernel_generic(gen, C)
    C = gen.check_weights(C)
    if method == "jacobian":
        J = gen.jacobian(C)
        return J @ J.T
    act = as_activation(gen.activation)
    trained = bool(getattr(gen, "train_output", False))
    W = C
    if trained:
        C, v = gen.split_weights(W)
        C, v2 = np.ascontiguousarray(C), v ** 2
    else:
        v2 = gen.output_weights ** 2
    equal = bool(np.all(v2 == v2[0])) and gen.k < 2**31
    if method != "blas" and act.is_relu and equal and not trained:
        return _kernel_popcount(gen, C, float(v2[0]))
    if method != "blas" and act.pattern_levels is not None and equal:
        K = _kernel_levels(gen, C, float(v2[0]), act)
    else:
        K = _kernel_blas(gen, C, v2)
    if trained:
        _add_output_term(gen, C, act, K)
    return K


def _kernel_generic(gen, C) -> np.ndarray:
    """``J Jᵀ`` of any generator, ``J`` formed row by row from ``n`` vector-Jacobian products."""
    n, P = int(gen.n), int(gen.num_params)
    _memory_guard(8 * (n * n + n * P), n)
    C = gen.check_weights(C) if hasattr(gen, "check_weights") else as_float_array("C", C)
    J = np.empty((n, P))
    e = np.zeros(n)
    for i in range(n):
        e[i] = 1.0
        J[i] = np.asarray(gen.vjp(C, e), dtype=np.float64).reshape(-1)
        e[i] = 0.0
    return J @ J.T


def _channel_block(n: int, k: int) -> int:
    """Channels per streamed block: ``_BLOCK_BYTES`` of float64, whole words when possible."""
    block = max(1, min(k, _BLOCK_BYTES // (8 * n)))
    return block - block % 64 if block >= 64 else block


def _memory_guard(nbytes: int, n: int) -> None:
    check_memory(nbytes, f"the empirical kernel of size ({n}, {n})",
                 "apply it matrix-free with ntk_toolkit.kernel_operator(gen, C) (O(n k) memory) and take its "
                 "leading eigenpairs with ntk_toolkit.top_eigenpairs(gen, C, r), or use ntk_toolkit.spectrum(gen) "
                 "(the spectrum of the expected kernel, O(n) memory)")


def _kernel_popcount(gen, C: np.ndarray, scale: float) -> np.ndarray:
    """``K = scale · N ∘ (U Uᵀ)`` with the channel counts ``N`` from bit-packed patterns."""
    from ._kernels import gram
    from ._kernels.rows import pair_taps

    n, k = C.shape
    op = gen.operator
    words = (k + 63) // 64
    npad = -(-n // _TILE) * _TILE
    direct = op.direct_taps()
    rows = direct is not None and np.ndim(direct[0]) == 1  # 1-D taps: signs packed row by row from C
    circulant = _circulant(op)
    block = _channel_block(n, k)
    # C block, U C block and FFT buffers; the byte mask of a 2-D direct-taps pass
    temporaries = 0 if rows else n * k if direct is not None else 4 * 8 * n * block
    _memory_guard(8 * n * n + 8 * npad * words + temporaries, n)
    P = np.zeros((npad, words), dtype=np.uint64)
    if rows:
        taps, center = direct
        cb = min(block, _DIRECT_CHANNELS)
        paired = pair_taps(taps, center) if cb % 64 == 0 else None
        with threads_for(n * k * taps.size):
            if paired is not None:  # odd symmetric filters up to 7 taps: two rows at a time
                gram.pack_pairs(paired[0], paired[1], C, cb, _PACK_ROWS, P)
            else:
                gram.pack_direct(taps, center, C, cb, _PACK_ROWS, P)
    elif direct is not None:  # 2-D direct taps: the fused forward pass gives the pattern as bytes
        mask = gen.forward_pattern(C)[1] if _relu_pattern(gen) else op.apply_unchecked(C, adjoint=False)
        with threads_for(mask.size):
            gram.pack_signs(mask, 0, P)
        del mask
    else:
        for start in range(0, k, block):
            stop = min(k, start + block)
            Zb = np.ascontiguousarray(op.apply_unchecked(np.ascontiguousarray(C[:, start:stop]), adjoint=False))
            with threads_for(Zb.size):
                gram.pack_signs(Zb, start, P)
            del Zb
    if circulant:
        a = np.ascontiguousarray(op.gram_first_row(), dtype=np.float64)
        nonzero = (a != 0).tobytes()
        offsets = _band_offsets(n, nonzero)
        tiles_i, tiles_j = _circulant_tiles(n, _TILE, nonzero)
        K = np.zeros((n, n))
        if _BAND_COST * n * offsets.size <= tiles_i.size * _TILE * _TILE:
            with threads_for(n * offsets.size * words):
                gram.pattern_gram_band(P, n, offsets, a, scale, K)
            return K
    else:
        a = np.zeros(1)
        K = np.ascontiguousarray(gram_matrix(gen), dtype=np.float64)  # U Uᵀ, overwritten by K
        tiles_i, tiles_j = _nonzero_tiles(K, _TILE)
    with threads_for(tiles_i.size * _TILE * _TILE * words):
        gram.pattern_gram(P, n, tiles_i, tiles_j, a, circulant, scale, _TILE, _CHUNK_WORDS, K)
    return K


@functools.lru_cache(maxsize=64)
def _band_offsets(n: int, nonzero: bytes) -> np.ndarray:
    """The offsets ``d ∈ [0, n/2]`` where ``a[d]`` or ``a[n − d]`` is nonzero (read-only, cached)."""
    nz = np.frombuffer(nonzero, dtype=bool)
    d = np.arange(n // 2 + 1)
    offsets = d[nz[d] | nz[(n - d) % n]].astype(np.int64)
    offsets.flags.writeable = False
    return offsets


@functools.lru_cache(maxsize=64)
def _circulant_tiles(n: int, tile: int, nonzero: bytes) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_circulant_support` of the upper tiles, cached by ``n``, tile size and the zero pattern of ``a``.

    Repeated kernels of one generator (a sweep over weights, a benchmark) find
    the tile list in the cache: at ``(n, k) = (256, 1024)`` building it took
    about a fifth of the time of the whole kernel.
    """
    a = np.frombuffer(nonzero, dtype=bool).astype(np.float64)
    ti, tj = _circulant_support(a, n, *np.triu_indices(-(-n // tile)), tile=tile)
    ti.flags.writeable = False
    tj.flags.writeable = False
    return ti, tj


def _nonzero_tiles(B: np.ndarray, tile: int) -> tuple[np.ndarray, np.ndarray]:
    """The tiles ``(bi, bj)``, ``bi <= bj``, where the dense symmetric ``B = U Uᵀ`` is not all zero.

    The general form of :func:`_circulant_support`, read from the matrix
    (O(n²) comparisons): ``K = N ∘ B`` is exactly zero on the other tiles,
    which keep the zeros of ``B`` (e.g. the block band of a 2-D convolution,
    whose ``U Uᵀ`` vanishes between image rows farther apart than the filter).
    """
    starts = np.arange(0, B.shape[0], tile)
    nz = np.logical_or.reduceat(np.logical_or.reduceat(B != 0, starts, axis=1), starts, axis=0)  # rows first: fast
    ti, tj = np.nonzero(np.triu(nz))
    return np.ascontiguousarray(ti, dtype=np.int64), np.ascontiguousarray(tj, dtype=np.int64)


def _circulant_support(a: np.ndarray, n: int, tiles_i: np.ndarray, tiles_j: np.ndarray, tile: int | None = None):
    """The tiles ``(bi, bj)`` of the upper triangle where ``a[(j − i) mod n]`` is not all zero.

    In a tile the offsets ``j − i`` (``i <= j < n``) fill the interval
    ``[max(0, j0 − i_last), j_last − i0]``; elsewhere ``K = 0`` exactly (a
    filter of ``L`` taps has ``a_d = 0`` for ``L <= d <= n − L``), so those
    tiles are neither counted nor written (``K`` starts at zero).
    """
    tile = _TILE if tile is None else tile
    i0 = tiles_i * tile
    j0 = tiles_j * tile
    dmin = np.maximum(0, j0 - (np.minimum(i0 + tile, n) - 1))
    dmax = np.minimum(j0 + tile, n) - 1 - i0
    nonzero = np.concatenate(([0], np.cumsum(a != 0)))
    keep = nonzero[dmax + 1] > nonzero[dmin]
    return np.ascontiguousarray(tiles_i[keep]), np.ascontiguousarray(tiles_j[keep])


def _relu_pattern(gen) -> bool:
    """True when ``gen.forward_pattern`` returns the 0/1 ReLU mask (ReLU, output layer fixed)."""
    return as_activation(gen.activation).is_relu and not getattr(gen, "train_output", False)


def _kernel_levels(gen, C: np.ndarray, scale: float, act) -> np.ndarray:
    """``K`` for ``φ'(z) = p + q·1{z > 0}`` from the exact channel counts of the ReLU pattern.

    With all ``v_l² = s``: ``Σ_l v_l² φ'(z_il) φ'(z_jl) = s (p² k + p q (N_ii + N_jj) + q² N_ij)``,
    so ``K = q² K_relu + s (U Uᵀ) ∘ (p² k + p q (N_ii + N_jj))`` with ``N_ii`` recovered
    (as exact integers) from the diagonal of ``K_relu = s N ∘ (U Uᵀ)``. O(n²) on top of the popcount.
    """
    p, q = act.pattern_levels
    K = _kernel_popcount(gen, C, scale)
    A = gram_matrix(gen)
    diag = np.diag(A)
    counts = np.zeros(gen.n)
    nz = diag != 0  # a zero row of U has a zero row of U Uᵀ: its counts do not matter
    counts[nz] = np.rint(np.diag(K)[nz] / (scale * diag[nz]))
    K *= q * q
    B = counts[:, None] + counts[None, :]
    B *= p * q
    B += p * p * C.shape[1]
    B *= A
    B *= scale
    K += B
    return K


def _add_output_term(gen, C: np.ndarray, act, K: np.ndarray) -> None:
    """``K += φ(U C) φ(U C)ᵀ / k`` (the trained output layer, ``v = a/√k``), blocks of channels with ``dsyrk``."""
    n, k = C.shape
    block = _channel_block(n, k)
    H = np.zeros((n, n), order="F")
    for start in range(0, k, block):
        Zb = gen.operator.apply_unchecked(np.ascontiguousarray(C[:, start:start + block]), adjoint=False)
        Pb = np.ascontiguousarray(act.fn(Zb), dtype=np.float64)
        H = _lazy.blas().dsyrk(1.0 / k, Pb.T, beta=1.0, c=H, trans=1, lower=0, overwrite_c=1)
    H = np.triu(H)
    K += H
    K += np.triu(H, 1).T


def _kernel_blas(gen, C: np.ndarray, v2: np.ndarray) -> np.ndarray:
    """``K = (U Uᵀ) ∘ (S diag(v²) Sᵀ)`` with float patterns and BLAS ``syrk``.

    float32 (exact counts) only for the 0/1 ReLU pattern; every other ``φ'`` in float64.
    """
    n, k = C.shape
    block = _channel_block(n, k)
    _memory_guard(3 * 8 * n * n + 4 * 8 * n * block, n)
    act = as_activation(gen.activation)
    relu = act.is_relu
    equal = bool(np.all(v2 == v2[0])) and k < 2**24 and relu
    G = np.zeros((n, n), dtype=np.float32 if equal else np.float64, order="F")
    syrk = _lazy.blas().ssyrk if equal else _lazy.blas().dsyrk
    dphi = act.derivative
    for start in range(0, k, block):
        stop = min(k, start + block)
        Cb = np.ascontiguousarray(C[:, start:stop])
        Zb = gen.operator.apply_unchecked(Cb, adjoint=False)
        if equal:
            Sb = np.greater(Zb, 0.0).astype(np.float32)
        else:
            Sb = dphi(Zb) * np.sqrt(v2[start:stop])[None, :]
        del Zb
        # Sb is C-contiguous (n, b): its transpose is Fortran (b, n); trans=1 gives Sbᵀᵀ Sbᵀ = Sb Sbᵀ
        G = syrk(1.0, Sb.T, beta=1.0, c=G, trans=1, lower=0, overwrite_c=1)
    scale = float(v2[0]) if equal else 1.0
    if _circulant(gen.operator):
        from ._kernels import gram

        K = np.empty((n, n))
        a = np.ascontiguousarray(gen.operator.gram_first_row())
        with threads_for(n * n):
            gram.finish_circulant(G, a, scale, K)
        return K
    K = np.triu(G).astype(np.float64)
    K += np.triu(K, 1).T
    K *= scale
    K *= gram_matrix(gen)
    return K


def expected_kernel_first_row(gen, omega: float = 1.0) -> np.ndarray:
    """First row of ``Σ`` for an operator with a basis (circulant ``U``), without any ``n x n`` array.

    ReLU: ``s_d = ‖v‖² · ½ a_d (1 − arccos(a_d / a_0) / π)`` with ``a`` the circular
    autocorrelation of the filter (``docs/theory.md`` §2.2–2.3, eq. (2.9)). Cost
    O(min(L², n log n)) plus O(n).

    Any activation: ``s_d = ‖v‖² a_d E[φ'(x)φ'(y)] (+ E[φ(x)φ(y)] with
    ``train_output``)`` for ``x, y`` Gaussian with variances ``ω² a_0`` and
    correlation ``a_d / a_0`` (:func:`ntk_toolkit.activations.expected_product`:
    the closed form, or Gauss–Hermite quadrature at the distinct nonzero
    ``a_d`` plus one value for all ``a_d = 0``, cached per ``(ω, filter)``).

    Parameters
    ----------
    gen : TwoLayerGenerator
    omega : float, default 1.0
        Standard deviation of the entries of ``C`` (as ``gen.init(seed, omega)``);
        ``Σ`` of a positively homogeneous activation (ReLU, leaky ReLU, abs,
        step, linear) without a trained output layer does not depend on it.

    Returns
    -------
    ndarray, shape (n,)
        ``Σ[i, j] = s[(j − i) mod n]``; ``s_d = s_{n−d}``.

    Examples
    --------
    The ``delta`` filter gives ``s = (½, 0, …, 0)``; for any filter, the
    circular shifts of the first row are the dense ``Σ``:

    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, expected_kernel, expected_kernel_first_row
    >>> from ntk_toolkit.filters import delta, triangle
    >>> expected_kernel_first_row(TwoLayerGenerator(CircularConv(delta(), 4), k=2)).tolist()
    [0.5, 0.0, 0.0, 0.0]
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 8), k=2)
    >>> s = expected_kernel_first_row(gen)
    >>> bool(np.allclose(s[1:], s[:0:-1]))  # s_d = s_{n−d}
    True
    >>> S = np.array([np.roll(s, i) for i in range(8)])
    >>> bool(np.allclose(S, expected_kernel(gen)))
    True
    """
    gen = _check_two_layer(gen, "the expected kernel")
    omega = check_positive("omega", omega)
    op = gen.operator
    if op.basis is None:
        raise ValueError(
            f"expected_kernel_first_row needs an operator with a basis (a circulant U such as CircularConv), "
            f"got {type(op).__name__} with basis None; use expected_kernel(gen) for a general operator"
        )
    a = op.gram_first_row()
    a0 = a[0]
    if not a0 > 0:
        raise ValueError("the filter has zero norm: every row of U is zero")
    cos = np.clip(a / a0, -1.0, 1.0)
    vv = float(gen.output_weights @ gen.output_weights)
    act = as_activation(gen.activation)
    trained = bool(getattr(gen, "train_output", False))
    if act.is_relu and not trained:
        return vv * 0.5 * a * (1.0 - np.arccos(cos) / np.pi)
    q = omega * omega * float(a0)
    s = vv * a * correlation_row(act, cos, q, derivative=True)
    if trained:
        s += correlation_row(act, cos, q)
    return s


def expected_kernel(gen, omega: float = 1.0) -> np.ndarray:
    """Expected kernel ``Σ = E_{C_0}[J(C_0) J(C_0)ᵀ]`` as a dense ``(n, n)`` matrix.

    ReLU: ``Σ_ij = ‖v‖² ⟨u_i, u_j⟩ (π − θ_ij) / (2π)``,
    ``θ_ij = arccos(⟨u_i, u_j⟩ / (‖u_i‖ ‖u_j‖))`` with ``u_i`` the rows of ``U``
    (``docs/theory.md`` §2.2, eq. (2.5)). Independent of the initialisation scale ``ω``.

    Any activation: ``Σ_ij = ‖v‖² ⟨u_i, u_j⟩ E[φ'(x_i) φ'(x_j)]`` with
    ``x_i = u_iᵀc``, ``c ~ N(0, ω² I)`` (variances ``ω² ‖u_i‖²``, correlation
    ``cos θ_ij``); with ``train_output=True`` plus ``Σ_a[i, j] = E[φ(x_i) φ(x_j)]``
    (:mod:`ntk_toolkit.output_layer`). Closed forms where the activation has
    one (:func:`ntk_toolkit.symbolic.dual`), Gauss–Hermite quadrature otherwise
    (:func:`ntk_toolkit.activations.expected_product`).

    Parameters
    ----------
    gen : TwoLayerGenerator
    omega : float, default 1.0
        Standard deviation of the entries of ``C`` (``gen.init(seed, omega)``).

    Returns
    -------
    ndarray, shape (n, n)

    Notes
    -----
    For a circulant operator ``Σ`` is circulant and built from
    :func:`expected_kernel_first_row`; its spectrum is available in O(n log n)
    from :func:`ntk_toolkit.spectrum` without this matrix. Cost O(n²) memory.

    Examples
    --------
    The ``delta`` filter (``U = I``) gives ``Σ = ½ I``; the closed form for a
    general (dense) ``U`` agrees with the circulant path:

    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, DenseOperator, TwoLayerGenerator, expected_kernel
    >>> from ntk_toolkit.filters import delta, triangle
    >>> bool(np.allclose(expected_kernel(TwoLayerGenerator(CircularConv(delta(), 4), k=2)), 0.5 * np.eye(4)))
    True
    >>> U = CircularConv(triangle(2), 8)
    >>> dense = TwoLayerGenerator(DenseOperator(U.todense()), k=2)
    >>> bool(np.allclose(expected_kernel(dense), expected_kernel(TwoLayerGenerator(U, k=2))))
    True
    """
    gen = _check_two_layer(gen, "the expected kernel")
    omega = check_positive("omega", omega)
    n = gen.n
    check_memory(3 * 8 * n * n, f"the expected kernel of size ({n}, {n})",
                 "use expected_kernel_first_row(gen) or ntk_toolkit.spectrum(gen)")
    if gen.operator.basis is not None:
        return gen.operator.basis.matrix_from_first_row(expected_kernel_first_row(gen, omega))
    P = gen.operator.gram()
    d = np.sqrt(np.diag(P))
    if np.any(d == 0):
        rows = np.flatnonzero(d == 0)[:5].tolist()
        raise ValueError(f"U has rows of zero norm (rows {rows}); the angle θ_ij is undefined there")
    cos = np.clip(P / np.outer(d, d), -1.0, 1.0)
    np.fill_diagonal(cos, 1.0)  # θ_ii = 0 exactly: arccos is ill-conditioned at 1 (error ~ √eps)
    vv = float(gen.output_weights @ gen.output_weights)
    act = as_activation(gen.activation)
    trained = bool(getattr(gen, "train_output", False))
    if act.is_relu and not trained:
        S = vv * P * (np.pi - np.arccos(cos)) / (2.0 * np.pi)
    else:
        q = (omega * d) ** 2
        S = vv * P * expected_product(act, cos, q[:, None], q[None, :], derivative=True)
        if trained:
            S += expected_product(act, cos, q[:, None], q[None, :])
    return 0.5 * (S + S.T)
