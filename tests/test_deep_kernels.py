"""The deep decoder's fused stage kernels (``ntk_toolkit._kernels.deep``) against loops and against each other."""

from __future__ import annotations

import math

import naive
import numba
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import RTOL, assert_close
from ntk_toolkit import _blas
from ntk_toolkit.deep._layers import (
    NORM_EPS,
    ROW_BLOCK,
    SPLIT_WORK,
    matmul,
    relu_norm_backward,
    relu_norm_backward_rank1,
    relu_norm_forward,
    upsample_array,
    upsample_array_adjoint,
)

ADJOINT_TOL = 1e-12


def _relu_norm_backward_loops(g, y, scale):
    """``∂/∂y ⟨g, relu_norm(y)⟩`` and the scale/shift gradients, channel by channel with Python sums."""
    gy, gs, gb = np.zeros_like(g), np.zeros(g.shape[0]), np.zeros(g.shape[0])
    for c in range(g.shape[0]):
        x = [v if v > 0 else 0.0 for v in y[c]]
        P = len(x)
        mu = sum(x) / P
        inv = 1.0 / math.sqrt(sum((v - mu) ** 2 for v in x) / P + NORM_EPS)
        xh = [(v - mu) * inv for v in x]
        gs[c] = sum(gc * xc for gc, xc in zip(g[c], xh))
        gb[c] = sum(g[c])
        sg = [scale[c] * v for v in g[c]]
        m, proj = sum(sg) / P, sum(a * b for a, b in zip(sg, xh)) / P
        for p in range(P):
            gy[c, p] = inv * (sg[p] - m - xh[p] * proj) if y[c, p] > 0 else 0.0
    return gy, gs, gb


def _problem(seed, k=3, P=40):
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((k, P))
    y[0, :3] = -1.0  # some zeros after the ReLU in every channel
    return rng, y, rng.uniform(0.5, 2.0, k), rng.standard_normal(k)


def test_relu_norm_forward_matches_the_loops():
    rng, y, scale, shift = _problem(0)
    out, xhat, inv, mask = relu_norm_forward(y.copy(), scale, shift)
    relu = np.where(y > 0, y, 0.0)
    assert_close(out, naive.channel_norm_loops(relu, scale, shift), RTOL, "out")
    assert_close(xhat, naive.channel_norm_loops(relu, np.ones(3), np.zeros(3)), RTOL, "xhat")
    assert np.array_equal(mask, y > 0)
    assert_close(inv[:, 0], 1.0 / np.sqrt(relu.var(axis=1) + NORM_EPS), RTOL, "inv")


def test_relu_norm_backward_matches_the_loops_and_the_rank_one_form():
    rng, y, scale, shift = _problem(1)
    _, xhat, inv, mask = relu_norm_forward(y.copy(), scale, shift)
    g = rng.standard_normal(y.shape)
    ref = _relu_norm_backward_loops(g, y, scale)
    got = relu_norm_backward(g, xhat, mask, inv, scale)
    for a, b, name in zip(got, ref, ("gy", "gscale", "gshift")):
        assert_close(a, b, RTOL, name)
    g2 = g.copy()
    inplace = relu_norm_backward(g2, xhat, mask, inv, scale, overwrite=True)
    assert inplace[0] is g2 and np.array_equal(inplace[0], got[0])
    v, r = rng.standard_normal(3), rng.standard_normal(y.shape[1])
    dense = relu_norm_backward(np.outer(v, r), xhat, mask, inv, scale)
    for a, b, name in zip(relu_norm_backward_rank1(v, r, xhat, mask, inv, scale), dense, ("gy", "gs", "gb")):
        assert_close(a, b, 1e-14, name)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_relu_norm_backward_is_the_gradient_of_the_forward(seed):
    rng, y, scale, shift = _problem(seed)
    y[np.abs(y) < 0.05] = 0.5  # away from the ReLU's kink
    y[0, :3] = -1.0
    g, d = rng.standard_normal(y.shape), rng.standard_normal(y.shape)
    _, xhat, inv, mask = relu_norm_forward(y.copy(), scale, shift)
    gy = relu_norm_backward(g, xhat, mask, inv, scale)[0]
    h = 1e-6
    fd = (relu_norm_forward(y + h * d, scale, shift)[0] - relu_norm_forward(y - h * d, scale, shift)[0]) / (2 * h)
    lhs, rhs = float(np.sum(g * fd)), float(np.sum(gy * d))
    assert abs(lhs - rhs) <= 1e-6 * max(1.0, abs(lhs))


def test_upsample_kernels_match_the_loops_and_are_adjoint():
    rng = np.random.default_rng(2)
    for factor in (2, 3):
        x2 = rng.standard_normal((3, 5, 7))
        up = upsample_array(x2, factor)
        assert_close(up, np.array([naive.upsample_channel(c, factor) for c in x2]), RTOL, "bilinear")
        y2 = rng.standard_normal(up.shape)
        lhs = float((up * y2).sum())
        assert abs(lhs - float((x2 * upsample_array_adjoint(y2, factor)).sum())) <= ADJOINT_TOL * abs(lhs)
        x1 = rng.standard_normal((2, 6))
        up1 = upsample_array(x1, factor)
        assert_close(up1, np.array([naive.upsample_linear_1d(list(row), factor) for row in x1]), RTOL, "linear")
        y1 = rng.standard_normal(up1.shape)
        lhs = float((up1 * y1).sum())
        assert abs(lhs - float((x1 * upsample_array_adjoint(y1, factor)).sum())) <= ADJOINT_TOL * abs(lhs)


def test_kernels_do_not_depend_on_the_thread_count():
    rng, y, scale, shift = _problem(3, k=5, P=64)
    g = rng.standard_normal(y.shape)
    x = rng.standard_normal((5, 4, 8))
    a, b = rng.standard_normal((3 * ROW_BLOCK + 5, 64)), rng.standard_normal((64, 700))
    old = numba.get_num_threads()
    runs = []
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            out, xhat, inv, mask = relu_norm_forward(y.copy(), scale, shift)
            with _blas.single_thread():
                prod = matmul(a, b)
            runs.append([out, xhat, inv, *relu_norm_backward(g, xhat, mask, inv, scale),
                         upsample_array(x, 2), upsample_array_adjoint(upsample_array(x, 2), 2), prod])
    finally:
        numba.set_num_threads(old)
    for a, b in zip(*runs):
        assert np.array_equal(a, b)


def test_matmul_by_blocks_of_rows_equals_the_product():
    rng = np.random.default_rng(4)
    m, k, n = 3 * ROW_BLOCK + 5, 64, 700  # a last, shorter block
    assert m * k * n >= SPLIT_WORK
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    wide = rng.standard_normal((k, 2 * n))
    with _blas.single_thread():
        for lhs, rhs in ((a, b), (np.asfortranarray(a), b), (a, np.asfortranarray(b)), (a, wide[:, ::2])):
            assert_close(matmul(lhs, rhs), lhs @ rhs, 1e-14, "matmul")


def test_fused_upsampling_and_normalisation_equal_the_two_stages():
    from ntk_toolkit.deep._layers import upsample_relu_norm_forward

    rng = np.random.default_rng(5)
    for shape in ((4, 6), (7,)):
        z = rng.standard_normal((3, int(np.prod(shape))))
        scale, shift = rng.uniform(0.5, 2.0, 3), rng.standard_normal(3)
        up = upsample_array(z.reshape((3,) + shape), 2).reshape(3, -1)
        for a, b in zip(upsample_relu_norm_forward(z, shape, 2, scale, shift), relu_norm_forward(up, scale, shift)):
            assert np.array_equal(a, b)


def test_fused_backward_and_adjoint_upsampling_equal_the_two_stages():
    from ntk_toolkit.deep._layers import relu_norm_backward_upsample_adjoint

    rng = np.random.default_rng(6)
    for shape in ((4, 6), (7,)):
        y = rng.standard_normal((3, 4 * int(np.prod(shape)) if len(shape) == 2 else 2 * shape[0]))
        scale, shift = rng.uniform(0.5, 2.0, 3), rng.standard_normal(3)
        _, xhat, inv, mask = relu_norm_forward(y, scale, shift)
        g = rng.standard_normal(y.shape)
        gy, gs, gb = relu_norm_backward(g, xhat, mask, inv, scale)
        big = tuple(2 * s for s in shape)
        ref = upsample_array_adjoint(gy.reshape((3,) + big), 2).reshape(3, -1)
        got = relu_norm_backward_upsample_adjoint(g.copy(), xhat, mask, inv, scale, shape, 2)
        for a, b in zip(got, (ref, gs, gb)):
            assert np.array_equal(a, b)
