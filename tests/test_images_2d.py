"""2-D circular convolutions (images): filters, operator, plane-wave basis, kernels, spectrum.

Every fast path against the 2-D oracle of ``naive.py`` (``U`` built entry by
entry, then the same dense ``J``, ``K``, ``Σ``, gradient descent and linearized
residual as in 1-D) on a grid of image shapes and filters (odd and even sizes,
separable and not), to ``RTOL``; then the mathematics as hypothesis
properties, and bad input.
"""

from __future__ import annotations

import functools
import math

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ntk_toolkit as nt
from conftest import GD_TOL, PSD_TOL, SPECTRUM_TOL, assert_close
from ntk_toolkit import filters as F
from ntk_toolkit.bases import COS, SIN, TrigBasis2D
from ntk_toolkit.operators import CircularConv, CircularConv2D, DenseOperator

SHAPES = ((4, 4), (5, 7), (8, 12), (16, 16))
FILTERS = ("triangle2d_2", "bilinear", "sep_rand_3x2", "rand_3x3", "rand_2x4", "rand_5x3", "delta")
METHODS = ("direct", "fft")


def make_filter(name: str) -> F.Filter2D:
    rng = np.random.default_rng(sum(map(ord, name)))  # fixed taps per name
    if name == "triangle2d_2":
        return F.triangle2d(2)
    if name == "bilinear":
        return F.bilinear()
    if name == "sep_rand_3x2":  # rank one, given as plain taps: detected as separable
        return F.Filter2D(np.outer(rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 2)))
    if name == "delta":
        return F.Filter2D([[1.0]])
    L1, L2 = (int(s) for s in name.split("_")[1].split("x"))
    return F.Filter2D(rng.uniform(-1, 1, (L1, L2)))


CASES = [(shape, filt) for shape in SHAPES for filt in FILTERS
         if make_filter(filt).shape[0] <= shape[0] and make_filter(filt).shape[1] <= shape[1]]


@functools.cache
def dense_u(shape, filt):
    return naive.conv2d_matrix(make_filter(filt).taps, *shape)


@functools.cache
def dense_sigma(shape, filt, k):
    return naive.expected_kernel(dense_u(shape, filt), naive.default_v(k))


def case_id(c):
    return f"{c[0][0]}x{c[0][1]}-{c[1]}"


# --------------------------------------------------------------------------- filters
def test_filter2d_attributes_and_normalisation():
    f = F.Filter2D([[1.0, 2.0, 0.0], [3.0, 4.0, 1.0]])
    assert f.shape == (2, 3) and f.center == (0, 1) and f.ndim == 2
    assert math.isclose(float(np.linalg.norm(f.taps)), 1.0, rel_tol=1e-15)
    assert f.separable is None
    raw = F.Filter2D([[1.0, 2.0], [3.0, 4.0]], normalize=False)
    assert raw.taps.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert F.Filter2D([[2.0, 4.0]]) == F.Filter2D([[1.0, 2.0]])
    with pytest.raises(ValueError):
        f.taps[0, 0] = 1.0  # read-only


@pytest.mark.parametrize("taps", [np.outer([1.0, -2.0, 0.5], [3.0, 1.0]), np.outer([1.0], [2.0, 1.0, 5.0]),
                                  np.outer([0.3, 0.0, 1.0, -1.0], [1.0, 1.0, 2.0, 2.0])])
def test_rank_one_taps_are_separable(taps):
    f = F.Filter2D(taps)
    f1, f2 = f.separable
    assert_close(np.outer(f1.taps, f2.taps), f.taps, what="factors")
    rng = np.random.default_rng(3)
    g = F.Filter2D(taps + 1e-6 * rng.standard_normal(taps.shape)) if min(taps.shape) > 1 else None
    assert g is None or g.separable is None


def test_separable_constructors():
    t2, b3 = F.triangle(2, normalize=False), F.box(3, normalize=False)
    f = F.separable(t2, b3, normalize=False)
    assert f.taps.tolist() == np.outer([1.0, 2.0, 1.0], [1.0, 1.0, 1.0]).tolist()
    assert [g.taps.tolist() for g in f.separable] == [[1.0, 2.0, 1.0], [1.0, 1.0, 1.0]]
    assert_close(F.separable(t2).taps, F.Filter2D(np.outer([1, 2, 1], [1, 2, 1])).taps)
    p = 3
    tri = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    assert_close(F.triangle2d(p).taps, F.Filter2D(np.outer(tri, tri)).taps)
    assert F.triangle2d(p).center == (2, 2) and F.triangle2d(1).taps.tolist() == [[1.0]]
    g = F.gaussian2d(1.5, normalize=False)
    i = np.arange(-6, 7)
    assert_close(g.taps, np.exp(-(i[:, None] ** 2 + i[None, :] ** 2) / (2 * 1.5**2)), what="gaussian2d")
    assert g.shape == (13, 13) and F.gaussian2d(1.5, truncate=2.0).shape == (7, 7)
    assert_close(F.box2d(2).taps, np.full((2, 2), 0.5))
    assert F.box2d(2).center == (0, 0)
    b = F.bilinear(normalize=False)
    assert_close(b.taps, np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 16.0, what="bilinear")
    assert b.center == (1, 1) and F.bilinear().separable is not None
    for filt in (F.triangle2d(3), F.gaussian2d(1.0), F.box2d(3), F.bilinear()):
        assert math.isclose(float(np.linalg.norm(filt.taps)), 1.0, rel_tol=1e-14)


def test_from_spec_and_parse_shape():
    assert F.from_spec("triangle2d:3") == F.triangle2d(3)
    assert F.from_spec("gaussian2d:1.5") == F.gaussian2d(1.5)
    assert F.from_spec("gaussian2d:1.5:2") == F.gaussian2d(1.5, truncate=2.0)
    assert F.from_spec("box2d:3") == F.box2d(3) and F.from_spec("bilinear") == F.bilinear()
    assert F.from_spec("triangle:3") == F.triangle(3)  # 1-D unchanged
    assert F.parse_shape("128x96") == (128, 96) and F.parse_shape("7") == (7,)
    for bad in ("128x", "x4", "4x4x4", "-4x4", "0x4", "axb"):
        with pytest.raises(ValueError, match="shape"):
            F.parse_shape(bad)
    with pytest.raises(ValueError, match="triangle2d:P"):
        F.from_spec("triangle2d:x")


# --------------------------------------------------------------------------- operator
@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("method", METHODS)
def test_operator_against_oracle(case, method):
    shape, filt = case
    f = make_filter(filt)
    U = dense_u(shape, filt)
    op = CircularConv2D(f, shape, method=method)
    n = op.n
    assert op.shape == (n, n) and op.grid_shape == shape
    assert (op.direct_taps() is None) == (op.method == "fft")
    X = np.random.default_rng(n).standard_normal((n, 3))
    assert_close(op.apply(X), U @ X, what="U X")
    assert_close(op.apply_T(X), U.T @ X, what="Uᵀ X")
    assert_close(op.apply(X[:, 1]), U @ X[:, 1], what="U x")
    assert_close(op.apply_T(X[:, 2]), U.T @ X[:, 2], what="Uᵀ x")
    assert_close(op.apply(X[:, 0]).reshape(shape), naive.apply_conv2d(f.taps, X[:, 0].reshape(shape)),
                 what="convolution sum")
    assert_close(op.todense(), U, what="todense")
    assert_close(op.first_column, U[:, 0], what="first column")
    G = U @ U.T
    assert_close(op.gram_first_row(), G[0], what="gram_first_row")
    assert_close(op.gram(), G, what="gram")
    assert math.isclose(op.norm(), float(np.linalg.norm(U, 2)), rel_tol=1e-12)
    # |eigenvalues of U| = singular values of the normal matrix U
    mods = np.sort(np.abs(np.fft.fft2(op.first_column.reshape(shape))).ravel())
    assert_close(mods, np.sort(np.linalg.svd(U, compute_uv=False)), what="|frequency response|")
    assert_close(np.abs(op.frequency_response()), np.abs(np.fft.fft2(U[:, 0].reshape(shape)))[:, :shape[1] // 2 + 1])


def test_long_filter_gram_row_by_fft():
    f = F.Filter2D(np.random.default_rng(5).uniform(-1, 1, (4, 4)))
    op = CircularConv2D(f, (4, 4), method="direct")  # (L1 L2)² = 256 > 64 n: FFT autocorrelation
    U = naive.conv2d_matrix(f.taps, 4, 4)
    assert_close(op.gram_first_row(), (U @ U.T)[0])


@pytest.mark.parametrize("even", [False, True])
def test_one_row_or_column_is_the_1d_convolution(even):
    taps = np.random.default_rng(7).uniform(-1, 1, 4 if even else 5)
    one = CircularConv(F.Filter(taps), 9)
    for shape, t2 in (((1, 9), taps[None, :]), ((9, 1), taps[:, None])):
        for method in METHODS:
            op = CircularConv2D(F.Filter2D(t2), shape, method=method)
            assert_close(op.todense(), one.todense())
            x = np.random.default_rng(1).standard_normal(9)
            assert_close(op.apply(x), one.apply(x))


def test_auto_method_rule():
    assert CircularConv2D(F.triangle2d(3), (64, 64)).method == "direct"
    assert CircularConv2D(F.gaussian2d(4.0), (64, 64)).method == "fft"  # 33 + 33 taps > FFT_COST_2D log2(4096) = 48
    nonsep = F.Filter2D(np.random.default_rng(0).uniform(-1, 1, (9, 9)))
    assert CircularConv2D(nonsep, (64, 64)).method == "fft"
    assert "CircularConv2D" in nt.operators.__all__ and nt.CircularConv2D is CircularConv2D


# --------------------------------------------------------------------------- basis
@pytest.mark.parametrize("shape", SHAPES + ((1, 1), (1, 6), (6, 1), (3, 3), (2, 5)), ids=str)
def test_plane_wave_basis_against_oracle(shape):
    H, W = shape
    n = H * W
    b = TrigBasis2D(shape)
    freqs, kinds = b.frequencies(), b.kinds()
    assert freqs.shape == (n, 2) and kinds.shape == (n,)
    M = b.matrix()
    for i in range(n):
        ref = naive.plane_wave(H, W, freqs[i], "sin" if kinds[i] == SIN else "cos")
        assert np.max(np.abs(M[:, i] - ref)) <= 1e-13, (i, freqs[i], kinds[i])
    assert_close(M.T @ M, np.eye(n), what="orthonormal")
    # each pair {f, −f} exactly once; canonical: f1 in [0, H/2], f2 in (−W/2, W/2]
    pairs = {(int(f1) % H, int(f2) % W) for f1, f2 in b.pair_frequencies()}
    mirrors = {((-f1) % H, (-f2) % W) for f1, f2 in pairs}
    assert len(pairs) == b.pair_frequencies().shape[0] and pairs | mirrors == {(a, c) for a in range(H)
                                                                               for c in range(W)}
    assert np.all((0 <= freqs[:, 0]) & (2 * freqs[:, 0] <= H) & (-W < 2 * freqs[:, 1]) & (2 * freqs[:, 1] <= W))
    X = np.random.default_rng(n).standard_normal((n, 3))
    assert_close(b.analysis(X), M.T @ X, what="analysis")
    assert_close(b.synthesis(X), M @ X, what="synthesis")
    assert_close(b.analysis(X[:, 0]), M.T @ X[:, 0], what="analysis of a vector")
    E = b.energy(X)
    c = M.T @ X
    ref = np.array([np.sum(c[np.all(freqs == f, axis=1)] ** 2, axis=0) for f in b.pair_frequencies()])
    assert_close(E, ref, what="energy per pair")
    assert_close(E.sum(axis=0), np.sum(X**2, axis=0), what="Parseval")
    radius, ring = b.radial_energy(X[:, 0], bins=3)
    assert radius.shape == (3,) and math.isclose(float(ring.sum()), float(X[:, 0] @ X[:, 0]), rel_tol=1e-12)


@pytest.mark.parametrize("shape", [(4, 4), (5, 7), (6, 5)], ids=str)
def test_plane_waves_diagonalise_block_circulant_matrices(shape):
    """A symmetric block-circulant matrix with s(d1, d2) != s(−d1, d2): products of 1-D bases fail, plane waves work."""
    H, W = shape
    rng = np.random.default_rng(H * W)
    s = rng.standard_normal((H, W))
    s = s + np.roll(s[::-1, ::-1], (1, 1), axis=(0, 1))  # s(d) = s(−d) only
    b = TrigBasis2D(shape)
    S = naive.block_circulant_from_first_row(s.ravel(), H, W)
    assert_close(b.matrix_from_first_row(s.ravel()), S, what="matrix_from_first_row")
    M = b.matrix()
    D = M.T @ S @ M
    assert np.max(np.abs(D - np.diag(np.diag(D)))) <= 1e-12 * np.max(np.abs(S))
    assert_close(b.eigenvalues(s.ravel()), np.diag(D), what="eigenvalues")
    lam = np.fft.fft2(s).real
    assert_close(b.eigenvalues_by_frequency(s.ravel()), lam[:, :W // 2 + 1], what="by frequency")
    # products of 1-D cos/sin do not diagonalise this matrix (the kernel is not axis-symmetric)
    P = np.kron(nt.trig_basis(H), nt.trig_basis(W))
    Dp = P.T @ S @ P
    assert np.max(np.abs(Dp - np.diag(np.diag(Dp)))) > 1e-3 * np.max(np.abs(S))


def test_axis_symmetric_filter_degeneracy_up_to_four():
    gen = nt.TwoLayerGenerator(CircularConv2D(F.triangle2d(2), (8, 8)), k=2)
    s = nt.spectrum(gen)
    lam_by_f = s.eigenvalues_by_frequency
    for f1 in range(1, 4):
        for f2 in range(1, 4):
            assert math.isclose(lam_by_f[f1, f2], lam_by_f[8 - f1, f2], rel_tol=1e-12)  # (f1, f2) ~ (−f1, f2)
    # the 4-fold eigenspace of (1, 1) and (1, −1) in the spectrum
    sel = np.isclose(s.eigenvalues, lam_by_f[1, 1], rtol=1e-12, atol=0)
    assert sel.sum() == 4
    assert {tuple(f) for f in s.frequencies[sel]} == {(1, 1), (1, -1)}


# --------------------------------------------------------------------------- generator, kernels, spectrum
K_CH = 6


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("method", METHODS)
def test_generator_against_oracle(case, method):
    shape, filt = case
    U = dense_u(shape, filt)
    n = U.shape[0]
    gen = nt.TwoLayerGenerator(CircularConv2D(make_filter(filt), shape, method=method), K_CH)
    v = naive.default_v(K_CH)
    C = naive.draw_C_away_from_kinks(U, n, K_CH, seed=n)
    rng = np.random.default_rng(n + 1)
    D, r, y = rng.standard_normal((n, K_CH)), rng.standard_normal(n), rng.standard_normal(n)
    assert (gen.fused_step(0.1) is None) == (method == "fft")
    assert_close(gen.forward(C), naive.forward(U, C, v), what="forward")
    assert_close(gen.jvp(C, D), naive.jvp(U, C, v, D), what="jvp")
    assert_close(gen.vjp(C, r), naive.vjp(U, C, v, r), what="vjp")
    assert_close(gen.gradient(C, y), naive.gradient(U, C, v, y), what="gradient")
    if n <= 96:
        assert_close(gen.jacobian(C), naive.jacobian(U, C, v), what="jacobian")
    Kn = naive.empirical_kernel_sum(U, C, v)
    for m in ("structured", "blas"):
        assert_close(nt.empirical_kernel(gen, C, method=m), Kn, what=f"empirical kernel ({m})")
    S = dense_sigma(shape, filt, K_CH)
    assert_close(nt.expected_kernel_first_row(gen), S[0], what="Σ first row")
    assert_close(nt.expected_kernel(gen), S, what="Σ")
    assert math.isclose(gen.kernel_norm_bound(), float(np.linalg.norm(U, 2)) ** 2, rel_tol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_spectrum_against_eigvalsh(case):
    shape, filt = case
    S = dense_sigma(shape, filt, K_CH)
    gen = nt.TwoLayerGenerator(CircularConv2D(make_filter(filt), shape), K_CH)
    sp = nt.spectrum(gen)
    assert sp.method == "circulant-fft" and sp.frequencies.shape == (S.shape[0], 2)
    assert np.all(np.diff(sp.eigenvalues) <= 0)
    assert_close(sp.eigenvalues, naive.eigvals_desc(S), what="eigenvalues")
    # the eigenvectors it reports are eigenvectors of the dense Σ
    V = sp.eigenvectors
    assert_close(S @ V, V * sp.eigenvalues[None, :], what="Σ V = V Λ")
    x = np.random.default_rng(2).standard_normal(S.shape[0])
    assert_close(sp.apply_kernel(x), S @ x, what="apply_kernel")


GD_CASES = [c for c in CASES if c[0] in ((5, 7), (8, 12))]


@pytest.mark.parametrize("case", GD_CASES, ids=case_id)
@pytest.mark.parametrize("method", METHODS)
def test_gradient_descent_and_linearized_against_oracle(case, method):
    shape, filt = case
    U = dense_u(shape, filt)
    n = U.shape[0]
    gen = nt.TwoLayerGenerator(CircularConv2D(make_filter(filt), shape, method=method), K_CH)
    v = naive.default_v(K_CH)
    rng = np.random.default_rng(n)
    y = rng.standard_normal(n)
    C0 = gen.init(seed=n, omega=0.5)
    eta = 0.5 / gen.kernel_norm_bound()
    steps = 25
    tr = nt.gradient_descent(gen, y, C0, eta, steps, record=list(range(steps + 1)))
    losses, outputs, C = naive.gradient_descent(U, v, y, C0, eta, steps)
    assert_close(tr.losses, losses, what="losses")
    assert_close(tr.outputs, outputs, what="outputs")
    assert_close(tr.C, C, rtol=GD_TOL, what="final weights")
    S = dense_sigma(shape, filt, K_CH)
    eta_lin = 1.8 / naive.eigvals_desc(S)[0]
    lin = nt.linearized(gen, y, eta_lin)
    res, outs = naive.linearized_run(S, y, eta_lin, 40)
    taus = [0, 1, 7, 40]
    assert_close(lin.residual(taus), res[taus], what="linearized residual")
    assert_close(lin.output(taus), outs[taus], what="linearized output")


# --------------------------------------------------------------------------- properties
shapes2 = st.tuples(st.integers(2, 9), st.integers(2, 9))


@st.composite
def image_setups(draw):
    H, W = draw(shapes2)
    L1, L2 = draw(st.integers(1, min(H, 4))), draw(st.integers(1, min(W, 4)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if draw(st.booleans()):
        taps = np.outer(rng.uniform(0.1, 1, L1) * rng.choice([-1, 1], L1), rng.uniform(0.1, 1, L2))
    else:
        taps = rng.uniform(-1, 1, (L1, L2))
        taps[0, 0] = 1.0
    method = draw(st.sampled_from(METHODS))
    return (H, W), F.Filter2D(taps), method, rng


@settings(max_examples=20)
@given(image_setups(), st.integers(0, 8), st.integers(0, 8))
def test_shift_equivariance(s, s1, s2):
    shape, f, method, rng = s
    op = CircularConv2D(f, shape, method=method)
    x = rng.standard_normal(shape)
    shifted = op.apply(np.roll(x, (s1, s2), axis=(0, 1)).ravel()).reshape(shape)
    assert_close(shifted, np.roll(op.apply(x.ravel()).reshape(shape), (s1, s2), axis=(0, 1)))
    # the filter moved by one pixel (a leading row of zeros, odd height: same centre) shifts U: same Σ spectrum
    if f.shape[0] % 2 == 1 and f.shape[0] + 1 <= shape[0]:
        moved = F.Filter2D(np.vstack([np.zeros((1, f.shape[1])), f.taps]), normalize=False)
        lam = nt.spectrum(nt.TwoLayerGenerator(CircularConv2D(f, shape), 2)).eigenvalues
        lam_moved = nt.spectrum(nt.TwoLayerGenerator(CircularConv2D(moved, shape), 2)).eigenvalues
        assert_close(lam_moved, lam, rtol=SPECTRUM_TOL)


@settings(max_examples=20)
@given(image_setups())
def test_transpose_equivariance(s):
    (H, W), f, method, rng = s
    op = CircularConv2D(f, (H, W), method=method)
    opT = CircularConv2D(F.Filter2D(f.taps.T, normalize=False), (W, H), method=method)
    x = rng.standard_normal((H, W))
    # the centre of the transposed filter is the transposed centre only when both sizes have the same parity
    if (f.shape[0] - f.shape[1]) % 2 == 0:
        assert_close(opT.apply(x.T.ravel()).reshape(W, H), op.apply(x.ravel()).reshape(H, W).T)
    assert_close(np.sort(np.abs(opT.frequency_response()).ravel()).max(), op.norm())


@settings(max_examples=10)
@given(shapes2)
def test_delta_filter_gives_half_identity(shape):
    gen = nt.TwoLayerGenerator(CircularConv2D(F.Filter2D([[3.0]]), shape), k=4)
    n = shape[0] * shape[1]
    assert_close(nt.expected_kernel(gen), 0.5 * np.eye(n))
    assert_close(nt.spectrum(gen).eigenvalues, np.full(n, 0.5))


@settings(max_examples=15)
@given(image_setups())
def test_sigma_spectrum_and_plane_wave_diagonalisation(s):
    shape, f, method, rng = s
    gen = nt.TwoLayerGenerator(CircularConv2D(f, shape, method=method), k=2)
    S = nt.expected_kernel(gen)
    U = naive.conv2d_matrix(f.taps, *shape)
    assert_close(S, naive.expected_kernel(U, naive.default_v(2)))
    assert_close(nt.spectrum(gen).eigenvalues, naive.eigvals_desc(S), rtol=SPECTRUM_TOL)
    M = TrigBasis2D(shape).matrix()
    D = M.T @ S @ M
    assert np.max(np.abs(D - np.diag(np.diag(D)))) <= SPECTRUM_TOL * np.max(np.abs(S))
    lam = np.linalg.eigvalsh(S)
    assert lam.min() >= -PSD_TOL * lam.max()


@settings(max_examples=15)
@given(shapes2, st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_separable_spectrum_from_the_two_1d_autocorrelations(shape, L1, L2, seed):
    """A separable u = a ⊗ b: U Uᵀ has the first row A1[d1] A2[d2] (the two 1-D autocorrelations), and Σ's
    eigenvalues are the 2-D DFT of that row through the arc-cosine map — checked against the dense eigensolver."""
    H, W = shape
    L1, L2 = min(L1, H), min(L2, W)
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.1, 1, L1) * rng.choice([-1, 1], L1)
    b = rng.uniform(0.1, 1, L2) * rng.choice([-1, 1], L2)
    A1 = CircularConv(F.Filter(a, normalize=False), H).gram_first_row()
    A2 = CircularConv(F.Filter(b, normalize=False), W).gram_first_row()
    row = np.outer(A1, A2)  # (U Uᵀ)[0, (d1, d2)]
    s = 0.5 * row * (1.0 - np.arccos(np.clip(row / row[0, 0], -1.0, 1.0)) / np.pi)  # ‖v‖² = 1
    predicted = np.sort(np.fft.fft2(s).real.ravel())[::-1]
    U = naive.conv2d_matrix(np.outer(a, b), H, W)
    S = naive.expected_kernel(U, naive.default_v(2))
    assert_close(predicted, naive.eigvals_desc(S), rtol=SPECTRUM_TOL)
    gen = nt.TwoLayerGenerator(CircularConv2D(F.separable(F.Filter(a, normalize=False), F.Filter(b, normalize=False),
                                                          normalize=False), shape), k=2)
    assert_close(nt.spectrum(gen).eigenvalues, predicted, rtol=SPECTRUM_TOL)


def test_frequency_energy_images_and_1d_unchanged():
    x = np.random.default_rng(0).standard_normal((6, 4))
    E = nt.frequency_energy(x, shape=(6, 4))
    assert_close(E, TrigBasis2D((6, 4)).energy(x.ravel()))
    assert_close(nt.frequency_energy(x.ravel(), shape=(6, 4)), E)
    assert nt.frequency_energy(x).shape == (4, 4)  # without shape: 4 columns of length 6, as before
    assert_close(nt.frequency_energy(x), np.stack([naive.frequency_energy(x[:, j]) for j in range(4)], axis=1))
    with pytest.raises(ValueError, match="shape"):
        nt.frequency_energy(np.ones(10), shape=(3, 3))


# --------------------------------------------------------------------------- bad input
BAD = [
    ("filter-larger-than-image", lambda: CircularConv2D(F.triangle2d(3), (4, 8)), ValueError,
     r"5x5 taps, larger than the image shape \(4, 8\)"),
    ("1d-filter-to-2d", lambda: CircularConv2D(F.triangle(2), (4, 4)), TypeError,
     r"filter must be an ntk_toolkit.filters.Filter2D, got Filter .*CircularConv\(filter, n\)"),
    ("2d-filter-to-1d", lambda: CircularConv(F.triangle2d(2), 16), TypeError,
     r"1-D ntk_toolkit.filters.Filter, got the 2-D .*CircularConv2D"),
    ("array-to-2d", lambda: CircularConv2D(np.ones((2, 2)), (4, 4)), TypeError, r"Filter2D, got ndarray"),
    ("shape-zero", lambda: CircularConv2D(F.box2d(1), (0, 4)), ValueError, r"shape\[0\] \(H\) must be .*>= 1"),
    ("shape-1d", lambda: CircularConv2D(F.box2d(1), (16,)), ValueError, r"shape must be a pair \(H, W\)"),
    ("shape-str", lambda: CircularConv2D(F.box2d(1), "4x4"), ValueError, r"shape must be a pair"),
    ("shape-float", lambda: CircularConv2D(F.box2d(1), (4.5, 4)), TypeError, r"shape\[0\] \(H\) must be an integer"),
    ("bad-method", lambda: CircularConv2D(F.box2d(1), (4, 4), method="fast"), ValueError, r"method must be"),
    ("x-rows", lambda: CircularConv2D(F.box2d(2), (4, 4)).apply(np.ones(15)), ValueError,
     r"x must have 16 rows .*got shape \(15,\)"),
    ("x-image", lambda: CircularConv2D(F.box2d(2), (4, 4)).apply(np.ones((4, 4))), ValueError,
     r"x must have 16 rows"),
    ("gen-C", lambda: nt.TwoLayerGenerator(CircularConv2D(F.box2d(2), (4, 4)), 2).forward(np.ones((15, 2))),
     ValueError, r"C must have shape \(16, 2\)"),
    ("taps-1d", lambda: F.Filter2D([1.0, 2.0]), ValueError, r"taps must have 2 dimension"),
    ("taps-zero", lambda: F.Filter2D(np.zeros((2, 2))), ValueError, r"taps must not be all zero"),
    ("separable-untruncated", lambda: F.separable(F.gaussian(2.0, truncate=None)), ValueError,
     r"depend on the signal length"),
    ("separable-2d", lambda: F.separable(F.triangle2d(2)), TypeError, r"f1 must be a 1-D"),
    ("basis-shape", lambda: TrigBasis2D((4, 0)), ValueError, r"shape\[1\] \(W\) must be"),
    ("basis-rows", lambda: TrigBasis2D((2, 3)).analysis(np.ones(5)), ValueError, r"6 rows"),
    ("basis-first-row", lambda: TrigBasis2D((2, 3)).eigenvalues(np.arange(6.0)), ValueError, r"symmetric"),
]


@pytest.mark.parametrize("name,call,exc,match", BAD, ids=[b[0] for b in BAD])
def test_bad_input(name, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_dense_operator_of_a_2d_convolution_agrees():
    """The generic (dense) path on the same U gives the same Σ spectrum and empirical kernel."""
    U = dense_u((5, 7), "rand_3x3")
    op = CircularConv2D(make_filter("rand_3x3"), (5, 7))
    g2, gd = nt.TwoLayerGenerator(op, 4), nt.TwoLayerGenerator(DenseOperator(U), 4)
    assert_close(nt.spectrum(g2).eigenvalues, nt.spectrum(gd).eigenvalues)
    C = g2.init(seed=3)
    assert_close(nt.empirical_kernel(g2, C), nt.empirical_kernel(gd, C))
    assert COS == 0 and SIN == 1
