"""The empirical kernel on bit-packed activation patterns (``ntk_toolkit._kernels.gram``).

``K = s · N ∘ (U Uᵀ)`` with ``N[i, j]`` the number of channels in which outputs
``i`` and ``j`` are both active (``docs/theory.md`` §2.1, §2.3). Checked against
``naive.packed_pattern``, ``naive.coactive_counts`` and
``naive.empirical_kernel_sum`` across word boundaries (``k`` around multiples of
64), tile boundaries (odd ``n``), several channel blocks, tiles and word chunks
(forced through the private block constants), tiles skipped where ``U Uᵀ`` is zero,
the three operator kinds, one and two threads, the float fallback, and the memory
guard.
"""

from __future__ import annotations

import tracemalloc

import naive
import numpy as np
import pytest

import ntk_toolkit as nt
import ntk_toolkit.kernels as kernels
from conftest import assert_close
from ntk_toolkit import _jit
from ntk_toolkit import filters as F
from ntk_toolkit._kernels import gram
from ntk_toolkit.operators import CircularConv, DenseOperator

#: Random custom taps of odd and even length (the centre convention matters for both).
TAPS = {"odd": np.random.default_rng(11).uniform(-1, 1, 5), "even": np.random.default_rng(12).uniform(-1, 1, 4),
        # symmetric taps take the paired stencil: L = 9 (two passes) and an even L = 8
        "sym9": F.triangle(5).taps, "sym8": np.array([0.1, -0.3, 0.6, 1.0, 1.0, 0.6, -0.3, 0.1])}


@pytest.fixture(scope="module", autouse=True)
def _warm_up():
    """Compile (or load) every kernel of this module once, outside the tests."""
    P = np.zeros((4, 1), dtype=np.uint64)
    gram.pack_direct(np.ones(3), 1, np.ones((4, 2)), 2, 2, P)
    gram.pack_signs(np.ones((4, 2)), 1, P)
    ti, tj = np.triu_indices(1)
    gram.pattern_gram(P, 4, ti, tj, np.ones(4), True, 1.0, 4, 1, np.empty((4, 4)))
    gram.pattern_gram_band(P, 4, np.arange(3), np.ones(4), 1.0, np.zeros((4, 4)))
    gen = nt.TwoLayerGenerator(CircularConv(F.triangle(2), 8, method="fft"), 4)
    nt.empirical_kernel(gen, gen.init(0))
    nt.empirical_kernel(gen, gen.init(0), method="blas")


def _operator(kind: str, n: int, taps="odd"):
    filt = F.Filter(TAPS[taps]) if isinstance(taps, str) else taps
    if kind in ("direct", "fft"):
        return CircularConv(filt, n, method=kind)
    U = naive.conv_matrix(filt.taps_for(n), n)
    U = U + 0.3 * np.random.default_rng(n).standard_normal((n, n))  # not circulant
    return DenseOperator(U)


def _U(op) -> np.ndarray:
    return op.U if isinstance(op, DenseOperator) else naive.conv_matrix(op.taps, op.n)


def _random_pattern(n: int, k: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, k)) < 0.5


# --------------------------------------------------------------------------- kernel level
@pytest.mark.parametrize("k", [1, 63, 64, 65, 130])
@pytest.mark.parametrize("n", [1, 3, 17, 67])
@pytest.mark.parametrize("tb, wc", [(4, 1), (8, 2), (64, 256)])
def test_pattern_gram_counts_coactive_channels(n, k, tb, wc):
    """Circulant finish with ``a = 1``: ``K`` is the count matrix ``N``, exactly."""
    S = _random_pattern(n, k, seed=n * 1000 + k)
    npad = -(-n // tb) * tb
    P = naive.packed_pattern(S, rows=npad)
    K = np.full((n, n), np.nan)
    gram.pattern_gram(P, n, *np.triu_indices(npad // tb), np.ones(n), True, 1.0, tb, wc, K)
    np.testing.assert_array_equal(K, naive.coactive_counts(S).astype(float))


@pytest.mark.parametrize("k", [1, 64, 130])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 17, 64, 67])
@pytest.mark.parametrize("density", [0.0, 0.2, 1.0])
def test_pattern_gram_band_equals_the_tiles_on_a_circulant_band(n, k, density):
    """Band kernel = tile kernel bit for bit where ``a ≠ 0`` (zeros elsewhere), offsets up to n/2 included."""
    rng = np.random.default_rng(n * 31 + k)
    S = _random_pattern(n, k, seed=n * 77 + k)
    keep = rng.random(n // 2 + 1) < density
    keep[0] = True
    if n % 2 == 0:
        keep[n // 2] = True  # the offset met from both sides
    d = np.arange(n)
    a = np.where(keep[np.minimum(d, (n - d) % n)], rng.uniform(0.5, 1.5, n), 0.0)
    a = 0.5 * (a + a[(n - d) % n])  # symmetric like the autocorrelation of a filter
    npad = -(-n // 8) * 8
    P = naive.packed_pattern(S, rows=npad)
    tiles = np.full((n, n), np.nan)
    gram.pattern_gram(P, n, *np.triu_indices(npad // 8), a, True, 0.25, 8, 1, tiles)
    offsets = kernels._band_offsets(n, (a != 0).tobytes())
    np.testing.assert_array_equal(offsets, np.flatnonzero(keep))
    band = np.zeros((n, n))
    gram.pattern_gram_band(P, n, offsets, a, 0.25, band)
    np.testing.assert_array_equal(band, tiles)
    np.testing.assert_array_equal(band, 0.25 * naive.coactive_counts(S) * naive.circulant_row_to_matrix(a))


@pytest.mark.parametrize("k", [1, 65, 130])
@pytest.mark.parametrize("n", [3, 17, 67])
def test_pattern_gram_dense_finish_uses_upper_triangle(n, k):
    """Dense finish: ``K = s · N · B`` from the upper triangle of ``B``; exactly symmetric."""
    S = _random_pattern(n, k, seed=7 * n + k)
    B = np.random.default_rng(n + k).standard_normal((n, n))
    upper = np.triu(B) + np.triu(B, 1).T
    K = np.ascontiguousarray(B)
    npad = -(-n // 8) * 8
    P = naive.packed_pattern(S, rows=npad)
    gram.pattern_gram(P, n, *np.triu_indices(npad // 8), np.zeros(1), False, 0.25, 8, 1, K)
    np.testing.assert_array_equal(K, 0.25 * naive.coactive_counts(S) * upper)


@pytest.mark.parametrize("k", [1, 63, 65, 130])
@pytest.mark.parametrize("n", [3, 4, 17, 67])
@pytest.mark.parametrize("taps", ["odd", "even", "sym9", "sym8"])
@pytest.mark.parametrize("block, rows", [(1, 1), (3, 5), (64, 64), (65, 7), (512, 64)])
def test_pack_direct_is_the_activation_pattern(n, k, taps, block, rows):
    """Signs of ``U C`` packed on the fly equal the naive pattern bit for bit (taps may wrap: L > n)."""
    u = TAPS[taps]
    C = np.random.default_rng(n + k).standard_normal((n, k))
    P = np.zeros((n + 3, (k + 63) // 64), dtype=np.uint64)  # extra rows must stay zero
    gram.pack_direct(u, (u.size - 1) // 2, C, block, rows, P)
    S = naive.apply_conv(u, C) > 0
    np.testing.assert_array_equal(P, naive.packed_pattern(S, rows=n + 3))


PAIR_TAPS = [[1.0], [0.25, 0.5, 0.25], [0.1, 0.2, 0.3, 0.2, 0.1], list(F.triangle(4).taps)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, k, taps", [(n, k, t) for n in (3, 8, 67) for k in (1, 65, 1100) for t in PAIR_TAPS
                                        if len(t) <= n])
@pytest.mark.parametrize("block, rows", [(64, 2), (512, 64)])
def test_pack_pairs_is_the_activation_pattern(n, k, taps, block, rows, dtype):
    """Two rows at a time (odd symmetric filters padded to 7 taps): the naive pattern and pack_direct's bits."""
    from ntk_toolkit._kernels.rows import pair_taps

    u = np.asarray(taps)
    C = np.random.default_rng(n + k).standard_normal((n, k)).astype(dtype)
    pt, ph = pair_taps(u.astype(dtype), (u.size - 1) // 2)
    P = np.zeros((n + 3, (k + 63) // 64), dtype=np.uint64)  # extra rows must stay zero
    gram.pack_pairs(pt, ph, C, block, rows, P)
    Q = np.zeros_like(P)
    gram.pack_direct(u.astype(dtype), (u.size - 1) // 2, C, block, rows, Q)
    np.testing.assert_array_equal(P, Q)
    if dtype == np.float64:
        S = naive.apply_conv(u, C) > 0
        np.testing.assert_array_equal(P, naive.packed_pattern(S, rows=n + 3))


def test_empirical_kernel_takes_the_paired_packing_for_triangle_filters(monkeypatch):
    calls = []
    pack_pairs = gram.pack_pairs
    monkeypatch.setattr(gram, "pack_pairs", lambda *a: calls.append(a[0].size) or pack_pairs(*a))
    gen = nt.TwoLayerGenerator(CircularConv(F.triangle(3), n=40, method="direct"), k=130)
    C = gen.init(2)
    K = nt.empirical_kernel(gen, C)
    assert calls == [7]
    assert_close(K, nt.empirical_kernel(gen, C, method="jacobian"))


@pytest.mark.parametrize("cuts", [(130,), (1, 130), (63, 64, 65, 130), (3, 70, 127, 130), (64, 128, 130)])
def test_pack_signs_in_unaligned_blocks(cuts):
    """Blocks of channels starting anywhere in a word OR their bits without clobbering others."""
    n, k = 9, 130
    Z = np.random.default_rng(5).standard_normal((n, k))
    P = np.zeros((n, 3), dtype=np.uint64)
    start = 0
    for stop in cuts:
        gram.pack_signs(np.ascontiguousarray(Z[:, start:stop]), start, P)
        start = stop
    np.testing.assert_array_equal(P, naive.packed_pattern(Z > 0))


# --------------------------------------------------------------------------- public function
@pytest.mark.parametrize("kind", ["direct", "fft", "dense"])
@pytest.mark.parametrize("k", [2, 62, 64, 66, 130])
@pytest.mark.parametrize("n", [5, 17, 67])
def test_empirical_kernel_popcount_against_naive(kind, n, k):
    op = _operator(kind, n)
    gen = nt.TwoLayerGenerator(op, k)
    C = gen.init(seed=n + k)
    K = nt.empirical_kernel(gen, C)
    assert_close(K, naive.empirical_kernel_sum(_U(op), C, naive.default_v(k)), what=f"K {kind}")
    np.testing.assert_array_equal(K, K.T)
    # counts are exact in both paths: the float32 BLAS path gives the same bits
    np.testing.assert_array_equal(K, nt.empirical_kernel(gen, C, method="blas"))


def test_direct_pattern_equals_generator_activation_pattern():
    """The packed pattern of the direct path is ``gen.activation_pattern`` exactly (same rounding)."""
    n, k = 67, 130
    gen = nt.TwoLayerGenerator(CircularConv(F.triangle(4), n, method="direct"), k)
    C = gen.init(seed=2)
    P = np.zeros((n, 3), dtype=np.uint64)
    gram.pack_direct(gen.operator.taps, gen.operator.center, C, 64, 64, P)
    np.testing.assert_array_equal(P, naive.packed_pattern(gen.activation_pattern(C)))


@pytest.mark.parametrize("kind", ["direct", "fft", "dense"])
def test_many_blocks_tiles_and_chunks_give_the_same_kernel(monkeypatch, kind):
    """Channel blocks of 3 (and 65), 4-row tiles and 1-word chunks: the same K, bit for bit."""
    n, k = 67, 200
    gen = nt.TwoLayerGenerator(_operator(kind, n, taps="even"), k)
    C = gen.init(seed=9)
    want = nt.empirical_kernel(gen, C)
    assert_close(want, naive.empirical_kernel_sum(_U(gen.operator), C, gen.output_weights), what="default blocks")
    for channels, tile, chunk in [(3, 4, 1), (65, 8, 2), (200, 64, 3)]:
        monkeypatch.setattr(kernels, "_BLOCK_BYTES", 8 * n * channels)
        monkeypatch.setattr(kernels, "_DIRECT_CHANNELS", channels)
        monkeypatch.setattr(kernels, "_PACK_ROWS", 5)
        monkeypatch.setattr(kernels, "_TILE", tile)
        monkeypatch.setattr(kernels, "_CHUNK_WORDS", chunk)
        np.testing.assert_array_equal(nt.empirical_kernel(gen, C), want)


@pytest.mark.parametrize("n, tile", [(61, 4), (64, 8), (150, 8), (200, 64)])
@pytest.mark.parametrize("filt", ["triangle2", "even", "gauss_wide"])
def test_circulant_support_keeps_exactly_the_tiles_where_UUt_is_nonzero(monkeypatch, n, tile, filt):
    """Tiles are skipped only where every ``a[(j − i) mod n]`` (``i <= j``) is zero; brute force."""
    filters = {"triangle2": F.triangle(2), "even": F.Filter(TAPS["even"]),
               "gauss_wide": F.gaussian(0.1 * n, truncate=None)}
    f = filters[filt]
    a = CircularConv(f, n).gram_first_row()
    nb = -(-n // tile)
    monkeypatch.setattr(kernels, "_TILE", tile)
    ti, tj = kernels._circulant_support(a, n, *np.triu_indices(nb))
    UUt = naive.circulant_row_to_matrix(a)
    want = set()
    for bi in range(nb):
        for bj in range(bi, nb):
            block = np.triu(UUt)[bi * tile:(bi + 1) * tile, bj * tile:(bj + 1) * tile]
            if np.any(block != 0):
                want.add((bi, bj))
    assert set(zip(ti.tolist(), tj.tolist())) == want
    ci, cj = kernels._circulant_tiles(n, tile, (a != 0).tobytes())  # the cached list the kernel uses
    assert set(zip(ci.tolist(), cj.tolist())) == want and not ci.flags.writeable
    if filt != "gauss_wide" and n >= 150:
        assert len(want) < nb * (nb + 1) // 2  # something is skipped


@pytest.mark.parametrize("kind", ["direct", "fft"])
@pytest.mark.parametrize("n", [130, 257])
def test_banded_circulant_kernel_with_skipped_tiles(monkeypatch, kind, n):
    """A short filter: most tiles are zero; K still equals the naive kernel, corners (wrap-around) included."""
    monkeypatch.setattr(kernels, "_TILE", 8)
    k = 66
    gen = nt.TwoLayerGenerator(CircularConv(F.triangle(2), n, method=kind), k)
    C = gen.init(seed=n)
    K = nt.empirical_kernel(gen, C)
    want = naive.empirical_kernel_sum(naive.conv_matrix(gen.operator.taps, n), C, naive.default_v(k))
    assert_close(K, want, what="banded K")
    assert K[0, n - 1] != 0 and K[n - 1, 0] == K[0, n - 1]  # the wrap-around corner is counted
    np.testing.assert_array_equal(K, nt.empirical_kernel(gen, C, method="blas"))


@pytest.mark.parametrize("kind", ["direct", "fft"])
def test_serial_and_parallel_results_identical(kind):
    """design.md §4: integer counts, independent tiles: the same bits on one and two threads."""
    numba = pytest.importorskip("numba")
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs at least 2 Numba threads")
    n, k = 256, 1024  # above the single-thread threshold of every kernel involved
    gen = nt.TwoLayerGenerator(CircularConv(F.triangle(4), n, method=kind), k)
    C = gen.init(seed=4)
    with _jit.num_threads(1):
        K1 = nt.empirical_kernel(gen, C)
    with _jit.num_threads(2):
        K2 = nt.empirical_kernel(gen, C)
    np.testing.assert_array_equal(K1, K2)


@pytest.mark.parametrize("band", [True, False])
def test_serial_and_parallel_counts_identical_band_and_tiles(band):
    """Both count kernels called directly (no single-thread shortcut): the same bits on one and two threads."""
    numba = pytest.importorskip("numba")
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs at least 2 Numba threads")
    n, k = 301, 700
    S = _random_pattern(n, k, seed=21)
    a = CircularConv(F.triangle(6), n).gram_first_row()
    P = naive.packed_pattern(S, rows=-(-n // 64) * 64)
    out = []
    for threads in (1, 2):
        K = np.zeros((n, n))
        with _jit.num_threads(threads):
            if band:
                gram.pattern_gram_band(P, n, kernels._band_offsets(n, (a != 0).tobytes()), a, 0.5, K)
            else:
                ti, tj = kernels._circulant_tiles(n, 64, (a != 0).tobytes())
                gram.pattern_gram(P, n, np.array(ti), np.array(tj), a, True, 0.5, 64, 4, K)
        out.append(K)
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], 0.5 * naive.coactive_counts(S) * naive.circulant_row_to_matrix(a))


@pytest.mark.parametrize("kind", ["direct", "fft", "dense"])
def test_unequal_output_weights_fall_back_to_blas(monkeypatch, kind):
    """Unequal ``|v_l|`` cannot be counted: ``structured`` takes the float path, and is right."""
    n, k = 17, 66
    v = np.random.default_rng(3).uniform(-1, 1, k)
    gen = nt.TwoLayerGenerator(_operator(kind, n), k, output_weights=v)
    C = gen.init(seed=1)

    def refuse(*args, **kwargs):
        raise AssertionError("popcount path taken")

    monkeypatch.setattr(kernels, "_kernel_popcount", refuse)
    K = nt.empirical_kernel(gen, C, method="structured")
    assert_close(K, naive.empirical_kernel_sum(_U(gen.operator), C, v), what="K unequal v")
    equal = nt.TwoLayerGenerator(gen.operator, k)
    with pytest.raises(AssertionError, match="popcount path taken"):
        nt.empirical_kernel(equal, C)  # the default v does take the popcount path


def test_memory_guard_refuses_before_allocating():
    n, k = 512, 64
    gen = nt.TwoLayerGenerator(CircularConv(F.triangle(4), n), k)
    C = gen.init(seed=0)
    K_bytes = 8 * n * n
    try:
        nt.set_memory_budget(K_bytes // 2)
        tracemalloc.start()
        try:
            with pytest.raises(MemoryError) as info:
                nt.empirical_kernel(gen, C)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        msg = str(info.value)
        assert f"({n}, {n})" in msg and "bytes" in msg
        assert "ntk_toolkit.spectrum(gen)" in msg and "set_memory_budget" in msg
        assert peak < K_bytes // 8, f"{peak} bytes allocated before refusing"
        with pytest.raises(MemoryError, match="spectrum"):
            nt.empirical_kernel(gen, C, method="blas")
        # the estimate is not far above the real need (K and the packed pattern)
        nt.set_memory_budget(2 * (K_bytes + n * k // 8))
        nt.empirical_kernel(gen, C)
    finally:
        nt.set_memory_budget(None)


def test_method_names():
    gen = nt.TwoLayerGenerator(CircularConv(F.triangle(2), 8), 4)
    with pytest.raises(ValueError, match=r"'auto', 'structured', 'blas', 'jacobian'.*'popcnt'"):
        nt.empirical_kernel(gen, gen.init(0), method="popcnt")


@pytest.mark.parametrize("filt", ["triangle4", "even", "gauss_wide"])
@pytest.mark.parametrize("n", [66, 67, 200])
def test_band_and_tile_paths_give_the_same_kernel(monkeypatch, filt, n):
    """Short filters take the band kernel, wide ones the tiles; forcing either gives the same bits."""
    f = {"triangle4": F.triangle(4), "even": F.Filter(TAPS["even"]),
         "gauss_wide": F.gaussian(0.3 * n, truncate=None)}[filt]
    gen = nt.TwoLayerGenerator(CircularConv(f, n, method="direct"), 130)
    C = gen.init(seed=n)
    calls = []
    for name in ("pattern_gram", "pattern_gram_band"):
        orig = getattr(gram, name)
        monkeypatch.setattr(gram, name, lambda *args, _o=orig, _n=name: (calls.append(_n), _o(*args))[1])
    auto = nt.empirical_kernel(gen, C)
    a = gen.operator.gram_first_row()
    pairs = n * kernels._band_offsets(n, (a != 0).tobytes()).size
    tiles = kernels._circulant_tiles(n, kernels._TILE, (a != 0).tobytes())[0].size * kernels._TILE**2
    assert calls == (["pattern_gram_band"] if pairs <= tiles else ["pattern_gram"])
    if filt != "gauss_wide":
        assert calls == ["pattern_gram_band"] and 10 * pairs < tiles  # a short filter: a thin band
    monkeypatch.setattr(kernels, "_BAND_COST", 0)
    band = nt.empirical_kernel(gen, C)
    monkeypatch.setattr(kernels, "_BAND_COST", 10**9)
    tiles = nt.empirical_kernel(gen, C)
    assert calls[1:] == ["pattern_gram_band", "pattern_gram"]
    np.testing.assert_array_equal(band, tiles)
    np.testing.assert_array_equal(auto, tiles)
    assert_close(auto, naive.empirical_kernel_sum(_U(gen.operator), C, gen.output_weights), what=filt)


def test_gram_first_row_is_cached_and_returned_as_a_copy():
    op = CircularConv(F.triangle(3), n=32)
    a = op.gram_first_row()
    U = op.todense()
    np.testing.assert_allclose(a, (U @ U.T)[0], rtol=0, atol=1e-15)
    a[:] = 7.0  # the caller's copy
    np.testing.assert_allclose(op.gram_first_row(), (U @ U.T)[0], rtol=0, atol=1e-15)
