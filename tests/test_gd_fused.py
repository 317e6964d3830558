"""The fused gradient-descent sweep, the channel-blocked kernels and float32.

Sizes cross the channel-block boundaries of ``_kernels.gd.block_width``
(64 channels per block up to k = 128, then about k / 2) and use odd ``n``, filters as long as
``n`` and even tap counts (centre not in the middle).
"""

import naive
import numpy as np
import pytest

import ntk_toolkit as nt
from conftest import F32_GD_TOL, GD_TOL, RTOL
from ntk_toolkit._jit import num_threads
from ntk_toolkit._kernels import gd
from ntk_toolkit._kernels.rows import pair_taps
from ntk_toolkit.filters import Filter, triangle
from ntk_toolkit.operators import CircularConv

# (n, k, taps): k not a multiple of the block width, odd n, L = n, even L
CASES = [
    (5, 2, [1.0, 2.0, 0.5, 0.25, 0.1]),
    (7, 66, [0.3, 1.0, 0.3]),
    (9, 130, [0.2, 0.5, 1.0, 0.7]),
    (16, 300, list(triangle(3).taps)),
    (33, 70, [1.0]),
    (12, 600, [0.1, 0.4, 1.0, 0.4, 0.1, 0.05]),
    (11, 2100, [0.5, 1.0, 0.5]),  # blocks of 1024, 1024 and 52
    # symmetric taps are added in pairs: two and three passes, and an even L without a middle tap
    (13, 140, list(triangle(5).taps)),
    (31, 66, list(triangle(8).taps)),
    (20, 74, [0.1, 0.3, 0.6, 1.0, 1.0, 0.6, 0.3, 0.1]),
]


def _gen(n, k, taps, method="direct"):
    return nt.TwoLayerGenerator(CircularConv(Filter(np.asarray(taps, dtype=float)), n=n, method=method), k=k)


@pytest.mark.parametrize("n,k,taps", CASES)
def test_fused_descent_matches_naive(n, k, taps):
    gen = _gen(n, k, taps)
    assert gen.fused_step(1.0) is not None
    U = gen.operator.todense()
    C0 = gen.init(3)
    y = np.random.default_rng(4).standard_normal(n)
    eta = nt.max_step_size(gen)
    steps = 25
    losses, outputs, C = naive.gradient_descent(U, gen.v, y, C0, eta, steps)
    traj = nt.gradient_descent(gen, y, C0, eta, steps, record=list(range(steps + 1)))
    scale = np.abs(outputs).max()
    assert np.abs(traj.outputs - outputs).max() <= RTOL * 100 * scale
    assert np.abs(traj.C - C).max() <= RTOL * 100 * np.abs(C).max()
    np.testing.assert_allclose(traj.losses, losses, rtol=GD_TOL)


@pytest.mark.parametrize("n,k,taps", CASES)
def test_blocked_forward_and_backward_match_naive(n, k, taps):
    gen = _gen(n, k, taps)
    U = gen.operator.todense()
    C = gen.init(5)
    r = np.random.default_rng(6).standard_normal(n)
    g, mask = gen.forward_pattern(C)
    np.testing.assert_array_equal(mask, (U @ C > 0).astype(np.uint8))
    ref = naive.forward(U, C, gen.v)
    assert np.abs(g - ref).max() <= RTOL * max(np.abs(ref).max(), 1e-300)
    grad = gen.backward(mask, r)
    ref = naive.vjp(U, C, gen.v, r)
    assert np.abs(grad - ref).max() <= RTOL * np.abs(ref).max()
    # the direct-taps operator and its adjoint, blocked by channels
    X = np.random.default_rng(7).standard_normal((n, k))
    assert np.abs(gen.operator.apply(X) - U @ X).max() <= RTOL * np.abs(U @ X).max()
    assert np.abs(gen.operator.apply_T(X) - U.T @ X).max() <= RTOL * np.abs(U.T @ X).max()


def test_step_equals_update_then_forward():
    """One fused sweep = the update by M_τ followed by a fresh forward pass, bit for bit."""
    n, k = 31, 200
    gen = _gen(n, k, [0.2, 0.6, 1.0, 0.6, 0.2, 0.1])
    C = gen.init(1)
    r = np.random.default_rng(2).standard_normal(n)
    eta = 0.37
    g0, mask = gen.forward_pattern(C)
    expected_C = C - eta * gen.backward(mask, r)
    taps, v = gen._fused_args(np.float64)
    bw = gd.block_width(k)
    gpart = np.empty((-(-k // bw), n))
    C1 = C.copy()
    gd.step(taps, gen.operator.center, mask, r, v, eta, C1, gpart, bw)
    np.testing.assert_allclose(C1, expected_C, rtol=0, atol=1e-15 * np.abs(C).max())
    g1, mask1 = gen.forward_pattern(C1)
    np.testing.assert_array_equal(mask, mask1)  # the sweep left M_{τ+1} in the mask buffer
    np.testing.assert_array_equal(gpart.sum(axis=0), g1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_serial_and_parallel_identical(dtype):
    n, k = 45, 2100  # 3 channel blocks: 1024, 1024, 52
    gen = _gen(n, k, list(triangle(4).taps))
    C0 = gen.init(8)
    y = np.random.default_rng(9).standard_normal(n)
    eta = nt.max_step_size(gen)
    runs = []
    for threads in (1, 2):
        with num_threads(threads):
            runs.append(nt.gradient_descent(gen, y, C0, eta, 30, record=[0, 7, 30], dtype=dtype))
            runs.append(gen.operator.apply(C0))
    np.testing.assert_array_equal(runs[0].outputs, runs[2].outputs)
    np.testing.assert_array_equal(runs[0].C, runs[2].C)
    np.testing.assert_array_equal(runs[0].losses, runs[2].losses)
    np.testing.assert_array_equal(runs[1], runs[3])


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_float32_within_documented_tolerance(method):
    n, k, steps = 64, 256, 200
    gen = nt.TwoLayerGenerator(CircularConv(triangle(4), n=n, method=method), k=k)
    C0 = gen.init(0)
    y = np.random.default_rng(1).standard_normal(n)
    eta = nt.max_step_size(gen)
    rec = [0, 1, 10, 100, steps]
    a = nt.gradient_descent(gen, y, C0, eta, steps, record=rec)
    b = nt.gradient_descent(gen, y, C0, eta, steps, record=rec, dtype=np.float32)
    assert b.C.dtype == np.float32 and a.C.dtype == np.float64
    assert b.outputs.dtype == np.float64 and b.losses.dtype == np.float64
    err = np.linalg.norm(a.outputs - b.outputs, axis=1) / np.linalg.norm(a.outputs, axis=1)
    assert err.max() <= F32_GD_TOL
    np.testing.assert_allclose(b.losses, a.losses, rtol=F32_GD_TOL)
    # not float64 in disguise: the weights differ at float32 rounding
    assert np.abs(a.C - b.C).max() > 0


def test_float32_dense_operator_stores_float32():
    n, k = 12, 40
    gen = _gen(n, k, [0.5, 1.0, 0.5])
    dense = nt.TwoLayerGenerator(nt.DenseOperator(gen.operator.todense()), k=k)
    C0 = dense.init(2)
    y = np.random.default_rng(3).standard_normal(n)
    eta = nt.max_step_size(dense)
    a = nt.gradient_descent(dense, y, C0, eta, 50, record=[50])
    b = nt.gradient_descent(dense, y, C0, eta, 50, record=[50], dtype=np.float32)
    assert b.C.dtype == np.float32
    assert np.linalg.norm(a.outputs - b.outputs) <= F32_GD_TOL * np.linalg.norm(a.outputs)


@pytest.mark.parametrize("bad", ["float16", np.int64, np.complex128])
def test_bad_dtype(bad):
    gen = _gen(8, 4, [1.0])
    with pytest.raises(ValueError, match="dtype must be numpy.float64 or numpy.float32"):
        nt.gradient_descent(gen, np.zeros(8), gen.init(0), 0.1, 1, dtype=bad)
    with pytest.raises(TypeError, match="dtype must be"):
        nt.gradient_descent(gen, np.zeros(8), gen.init(0), 0.1, 1, dtype="not-a-dtype")


def test_block_width_depends_on_k_only():
    assert [gd.block_width(k) for k in (1, 64, 130, 512, 513, 2048, 10**6)] == [64, 64, 72, 256, 264, 1024, 1024]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_weights_give_non_finite_outputs(dtype, bad):
    """The reassociated row sum keeps IEEE semantics: ±inf and NaN reach the output (divergence stays visible)."""
    n, k = 16, 140
    gen = _gen(n, k, list(triangle(3).taps))
    taps, v = gen._fused_args(np.dtype(dtype))
    bw = gd.block_width(k)
    C = np.asarray(gen.init(1), dtype=dtype)
    C[5, 70] = bad
    mask = np.zeros((n, k), dtype=np.uint8)
    gpart = np.zeros((-(-k // bw), n))
    gd.forward_mask(taps, gen.operator.center, C, v, mask, gpart, bw)
    g = gpart.sum(axis=0)
    hit = np.flatnonzero(naive.conv_matrix(taps, n)[:, 5])  # outputs whose window contains row 5
    assert not np.isfinite(g[hit]).any() and np.isfinite(np.delete(g, hit)).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("taps", [
    [0.25, 0.5, 0.25],                                  # symmetric, one pass
    list(triangle(4).taps),                             # symmetric L = 7, one pass of p7
    list(triangle(5).taps),                             # symmetric L = 9, two passes
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],  # 4 passes
    [0.2, 0.6, 1.0, 0.6, 0.2, 0.1],                     # not symmetric, two passes of four
    [0.3, -0.7, 1.1, 0.4, 0.05, -0.2, 0.9, 0.1, 0.6],   # not symmetric, three passes
])
def test_forward_row_is_the_stencil_bit_for_bit(taps, dtype):
    """The fused forward pass (last stencil pass + mask + relu sum) sees exactly the stencil's ``z``.

    With a one-hot ``v`` the partial output of a row is ``relu(z[i, c])`` alone, so it must equal
    the stencil (the direct-taps convolution) bit for bit; the mask must equal its sign.
    """
    from ntk_toolkit._kernels import rows

    n, k = 23, 150
    t = np.asarray(taps, dtype=dtype)
    h = len(taps) // 2
    C = np.random.default_rng(len(taps)).standard_normal((n, k)).astype(dtype)
    Z = np.empty((n, k), dtype=dtype)
    sym = bool(np.all(t == t[::-1]))
    for i in range(n):
        rows.stencil(Z[i], t, C, i + h, -1, 0, sym)
    bw = gd.block_width(k)
    nb = -(-k // bw)
    mask = np.empty((n, k), np.uint8)
    gpart = np.empty((nb, n))
    for c in (0, 1, 63, 64, bw - 1, k - 1):
        v = np.zeros(k, dtype=dtype)
        v[c] = 1
        gd.forward_mask(t, h, C, v, mask, gpart, bw)
        np.testing.assert_array_equal(gpart.sum(axis=0), np.maximum(Z[:, c], 0).astype(np.float64))
    np.testing.assert_array_equal(mask, (Z > 0).astype(np.uint8))


PAIR_CASES = [(taps, n, k) for taps in ([1.0], [0.25, 0.5, 0.25], list(triangle(3).taps), list(triangle(4).taps))
              for n, k in ((5, 70), (7, 10), (30, 2100), (31, 200)) if len(taps) <= n]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("taps, n, k", PAIR_CASES)
def test_step_pairs_equals_step(taps, n, k, dtype):
    """Two rows at a time (odd symmetric filters padded to 7 taps): the same weights and masks, bit for bit.

    Covers signals shorter than the padded filter (n = 5), odd n (a last single row) and several blocks.
    """
    gen = _gen(n, k, taps)
    C = gen.init(1).astype(dtype)
    r = np.random.default_rng(2).standard_normal(n).astype(dtype)
    t, v = gen._fused_args(dtype)
    h = gen.operator.center
    bw = gd.block_width(k)
    nb = -(-k // bw)
    _, mask = gen.forward_pattern(C)
    C1, m1, g1 = C.copy(), mask.copy(), np.empty((nb, n))
    gd.step(t, h, m1, r, v, dtype(0.37), C1, g1, bw)
    pt, ph = pair_taps(t, h)
    assert pt.shape == (7,) and pt.dtype == dtype and ph == h + (7 - len(taps)) // 2
    C2, m2, g2 = C.copy(), mask.copy(), np.empty((nb, n))
    gd.step_pairs(pt, ph, m2, r, v, dtype(0.37), C2, g2, bw)
    np.testing.assert_array_equal(C2, C1)
    np.testing.assert_array_equal(m2, m1)
    # row sums may be reassociated differently in the paired loop (float32: partial sums of 256 channels)
    np.testing.assert_allclose(g2, g1, rtol=0, atol=(1e-15 if dtype == np.float64 else 1e-6) * np.abs(g1).max())


def test_pair_taps_only_for_odd_symmetric_filters_up_to_seven_taps():
    assert pair_taps(np.array([0.1, 0.2, 0.3, 0.2, 0.1]), 2)[1] == 3
    np.testing.assert_array_equal(pair_taps(np.array([0.1, 0.2, 0.3, 0.2, 0.1]), 2)[0],
                                  [0, 0.1, 0.2, 0.3, 0.2, 0.1, 0])
    assert pair_taps(np.array([0.5, 0.5]), 0) is None                      # even
    assert pair_taps(np.array([0.2, 0.6, 1.0, 0.6, 0.1]), 2) is None       # not symmetric
    assert pair_taps(np.asarray(triangle(5).taps), 4) is None              # 9 taps


def test_gradient_descent_takes_the_paired_step_for_triangle_filters(monkeypatch):
    calls = []
    step_pairs = gd.step_pairs

    def spy(*args):
        calls.append(args[0].size)
        return step_pairs(*args)

    monkeypatch.setattr(gd, "step_pairs", spy)
    gen = _gen(33, 64, list(triangle(3).taps))
    y = np.random.default_rng(3).standard_normal(33)
    nt.gradient_descent(gen, y, gen.init(4), nt.max_step_size(gen), 3)
    assert calls == [7, 7, 7]
