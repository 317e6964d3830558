"""The fused 2-D kernels against dense matrices (oracle: U built entry by entry)."""

import numpy as np
import pytest

from ntk_toolkit._kernels import gd, gd2d


def dense_u2d(taps, H, W):
    L1, L2 = taps.shape
    h1, h2 = (L1 - 1) // 2, (L2 - 1) // 2
    U = np.zeros((H * W, H * W))
    for i1 in range(H):
        for i2 in range(W):
            for t1 in range(-h1, L1 - h1):
                for t2 in range(-h2, L2 - h2):
                    U[i1 * W + i2, ((i1 - t1) % H) * W + (i2 - t2) % W] += taps[h1 + t1, h2 + t2]
    return U


def factors(taps, separable):
    L1, L2 = taps.shape
    if separable:
        u, s, vt = np.linalg.svd(taps)
        return np.ascontiguousarray(u[:, :1].T * s[0]), np.ascontiguousarray(vt[:1])
    return np.ascontiguousarray(taps.T), np.ascontiguousarray(np.eye(L2))


CASES = [((4, 4), (3, 3), True), ((5, 7), (3, 2), False), ((8, 12), (4, 5), False), ((6, 5), (1, 3), True),
         ((7, 9), (5, 3), True), ((16, 16), (3, 3), False)]


@pytest.mark.parametrize("shape,tshape,sep", CASES)
@pytest.mark.parametrize("k", [8, 130])
def test_kernels_match_dense(shape, tshape, sep, k):
    H, W = shape
    rng = np.random.default_rng(0)
    if sep:
        taps = np.outer(rng.standard_normal(tshape[0]), rng.standard_normal(tshape[1]))
    else:
        taps = rng.standard_normal(tshape)
    A, B = factors(taps, sep)
    h1, h2 = (tshape[0] - 1) // 2, (tshape[1] - 1) // 2
    U = dense_u2d(taps, H, W)
    n = H * W
    C = rng.standard_normal((n, k))
    v = np.where(np.arange(k) < k // 2, 1.0, -1.0) / np.sqrt(k)
    bw = gd.block_width(k)
    nb = -(-k // bw)
    mask = np.empty((n, k), np.uint8)
    gpart = np.empty((nb, n))
    gd2d.forward_mask(A, B, h1, h2, H, W, C, v, mask, gpart, bw)
    Z = U @ C
    np.testing.assert_array_equal(mask, (Z > 0).astype(np.uint8))
    np.testing.assert_allclose(gpart.sum(0), np.maximum(Z, 0) @ v, rtol=1e-12, atol=1e-12)
    r = rng.standard_normal(n)
    out = np.empty((n, k))
    gd2d.backward(A, B, h1, h2, H, W, mask, r, v, 1.0, out, bw)
    ref = U.T @ ((Z > 0) * r[:, None] * v[None, :])
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    eta = 0.3
    C1 = C.copy()
    m1 = mask.copy()
    gd2d.step(A, B, h1, h2, H, W, m1, r, v, eta, C1, gpart, bw)
    Cref = C - eta * ref
    np.testing.assert_allclose(C1, Cref, rtol=1e-12, atol=1e-12)
    Z1 = U @ C1
    np.testing.assert_array_equal(m1, (Z1 > 0).astype(np.uint8))
    np.testing.assert_allclose(gpart.sum(0), np.maximum(Z1, 0) @ v, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_2d_float32_within_documented_tolerance(method):
    """As in 1-D (tests/test_gd_fused.py): outputs within F32_GD_TOL of float64 over 200 steps."""
    import ntk_toolkit as nt
    from conftest import F32_GD_TOL
    from ntk_toolkit.filters import triangle2d

    gen = nt.TwoLayerGenerator(nt.CircularConv2D(triangle2d(2), (8, 8), method=method), k=256)
    C0 = gen.init(0)
    y = np.random.default_rng(1).standard_normal(gen.n)
    eta = nt.max_step_size(gen)
    rec = [0, 1, 10, 100, 200]
    a = nt.gradient_descent(gen, y, C0, eta, 200, record=rec)
    b = nt.gradient_descent(gen, y, C0, eta, 200, record=rec, dtype=np.float32)
    assert b.C.dtype == np.float32
    err = np.linalg.norm(a.outputs - b.outputs, axis=1) / np.linalg.norm(a.outputs, axis=1)
    assert err.max() <= F32_GD_TOL
    assert np.abs(a.C - b.C).max() > 0


def test_fused_2d_descent_does_not_depend_on_threads():
    """One block of all channels: two threads split the 32 image rows into two regions, one thread does not."""
    import numba

    import ntk_toolkit as nt
    from ntk_toolkit.filters import Filter2D, triangle2d

    for filt in (triangle2d(2), Filter2D(np.arange(1.0, 7.0).reshape(2, 3))):
        gen = nt.TwoLayerGenerator(nt.CircularConv2D(filt, (32, 12)), k=200)
        assert gen.fused_step(0.1) is not None
        C0 = gen.init(seed=1, omega=0.1)
        y = np.random.default_rng(2).standard_normal(gen.n)
        eta = nt.max_step_size(gen)
        t2 = nt.gradient_descent(gen, y, C0, eta, 40, record=[40])
        old = numba.get_num_threads()
        try:
            numba.set_num_threads(1)
            t1 = nt.gradient_descent(gen, y, C0, eta, 40, record=[40])
        finally:
            numba.set_num_threads(old)
        np.testing.assert_array_equal(t1.C, t2.C)
        np.testing.assert_array_equal(t1.outputs, t2.outputs)


@pytest.mark.parametrize("sep", [True, False])
def test_matrix_free_kernel_in_2d(sep):
    """J D from the pattern (fused masked sweep) and K = J Jᵀ as an operator, against dense matrices."""
    import ntk_toolkit as nt
    from ntk_toolkit.filters import Filter2D, triangle2d

    filt = triangle2d(2) if sep else Filter2D(np.arange(1.0, 7.0).reshape(3, 2))
    gen = nt.TwoLayerGenerator(nt.CircularConv2D(filt, (6, 7)), k=130)
    C = gen.init(seed=3)
    D = np.random.default_rng(4).standard_normal((gen.n, gen.k))
    mask = gen.forward_pattern(C)[1]
    U = gen.operator.todense()
    ref = ((U @ C > 0) * (U @ D)) @ gen.output_weights
    np.testing.assert_allclose(gen.jvp_pattern(mask, D), ref, rtol=1e-12, atol=1e-12)
    K = nt.empirical_kernel(gen, C)
    R = np.random.default_rng(5).standard_normal((gen.n, 3))
    np.testing.assert_allclose(nt.kernel_operator(gen, C) @ R, K @ R, rtol=1e-11, atol=1e-11)
    top = nt.top_eigenpairs(gen, C, 4, method="lanczos", seed=0)
    np.testing.assert_allclose(top.eigenvalues, np.linalg.eigvalsh(K)[::-1][:4], rtol=1e-8)


REGION_CASES = [((16, 6), (3, 3), True), ((13, 5), (4, 2), False), ((12, 4), (1, 3), True), ((14, 7), (5, 5), True),
                ((15, 3), (2, 4), False)]


def _partitions(H, L1):
    """Region starts: one region, two, and uneven splits into regions of at least L1 − 1 rows."""
    size = max(L1 - 1, 1)
    cuts = [[0, H], [0, H // 2, H], [0, size, H - size, H], list(range(0, H - size + 1, size)) + [H]]
    return [np.array(sorted(set(c)), dtype=np.int64) for c in cuts if all(b - a >= size for a, b in zip(c, c[1:]))]


@pytest.mark.parametrize("shape,tshape,sep", REGION_CASES)
def test_row_regions_give_the_same_bits(shape, tshape, sep):
    """Splitting the image rows into regions (more tasks than blocks) changes no bit of any sweep."""
    H, W = shape
    rng = np.random.default_rng(3)
    taps = np.outer(*(rng.standard_normal(t) for t in tshape)) if sep else rng.standard_normal(tshape)
    A, B = factors(taps, sep)
    h1, h2 = (tshape[0] - 1) // 2, (tshape[1] - 1) // 2
    n, k, bw = H * W, 24, 16
    nb = -(-k // bw)
    C = rng.standard_normal((n, k))
    v = rng.standard_normal(k)
    r = rng.standard_normal(n)
    runs = []
    for starts in _partitions(H, tshape[0]):
        mask = np.empty((n, k), np.uint8)
        gpart = np.empty((nb, n))
        gd2d._forward_sweep(A, B, h1, h2, H, W, C, v, mask, gpart, bw, False, starts)
        g0 = gpart.copy()
        out = np.empty((n, k))
        gd2d._backward(A, B, h1, h2, H, W, mask, r, v, 1.0, out, bw, starts)
        C1 = C.copy()
        gd2d._step(A, B, h1, h2, H, W, mask, r, v, 0.3, C1, gpart, bw, starts)
        runs.append((g0, out, C1, mask, gpart))
    assert len(runs) >= 3
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("H,L1,nb,threads,expected", [(128, 3, 1, 2, [0, 64, 128]), (128, 3, 2, 2, [0, 128]),
                                                      (20, 3, 1, 2, [0, 20]), (64, 3, 1, 8, [0, 16, 32, 48, 64]),
                                                      (40, 30, 1, 2, [0, 40])])
def test_regions_split_rows_only_when_blocks_are_fewer_than_threads(H, L1, nb, threads, expected):
    assert gd2d.regions(H, L1, nb, threads).tolist() == expected
