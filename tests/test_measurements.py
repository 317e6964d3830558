"""Measurement operators ``A`` (``ntk_toolkit.measurements``) and how they plug into
the generator, gradient descent and the linearized dynamics (``theory.md`` §1.2, §5).

Every operator is checked against its explicit matrix: the dense matrix comes
from ``todense()`` (itself checked against an independent formula for the
mask and the DCT), and the products ``apply`` / ``apply_T`` against ``A @ x``
and ``A.T @ y``. The network-level quantities are checked against
``tests/naive.py`` with the dense ``A``.
"""

from __future__ import annotations

import math

import naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ntk_toolkit as nt
from conftest import GD_TOL, LINEARIZED_TOL, RTOL, assert_close
from ntk_toolkit.filters import triangle
from ntk_toolkit.measurements import (
    GaussianMeasurement,
    Identity,
    MatrixMeasurement,
    RandomMask,
    SubsampledDCT,
    SubsampledDCT2D,
    as_measurement,
)
from ntk_toolkit.operators import CircularConv

#: Adjointness ⟨Ax, y⟩ = ⟨x, Aᵀy⟩, relative to ‖A‖‖x‖‖y‖ (issue spec: 1e-12).
ADJOINT_RTOL = 1e-12

#: Spectral norm: LAPACK's SVD vs the closed form / cached value, rounding only.
NORM_RTOL = 1e-12

#: Sample variance of N = m·n i.i.d. Gaussian entries has relative standard
#: error √(2/N); with N = 24 000 that is 0.0091, so 5 % is 5.5 standard errors
#: (false failure < 1e-7 for the fixed seed family). Same idea for the mean.
GAUSS_VAR_RTOL = 0.05
GAUSS_MEAN_SIGMAS = 5.0

KINDS = ("gaussian", "mask_m", "mask_keep", "dct", "dct2d", "identity", "matrix")


def naive_dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II, entry by entry: ``D[f, j] = s_f cos(π f (2j + 1) / (2n))``."""
    D = np.empty((n, n))
    for f in range(n):
        s = math.sqrt(1.0 / n) if f == 0 else math.sqrt(2.0 / n)
        for j in range(n):
            D[f, j] = s * math.cos(math.pi * f * (2 * j + 1) / (2 * n))
    return D


def grid_of(n: int) -> tuple[int, int]:
    """An image shape ``(H, W)`` with ``H W = n``, ``H`` the largest divisor ``<= √n`` (``(1, n)`` for a prime)."""
    h = max(d for d in range(1, math.isqrt(n) + 1) if n % d == 0)
    return h, n // h


def make(kind: str, m: int, n: int, seed: int):
    """An operator of the given kind with ``m`` rows (``mask_keep`` draws its own ``m``)."""
    if kind == "gaussian":
        return GaussianMeasurement(m, n, seed=seed)
    if kind == "mask_m":
        return RandomMask(n, m=m, seed=seed)
    if kind == "mask_keep":
        return RandomMask(n, keep=0.5, seed=seed) if n >= 8 else RandomMask(n, keep=1.0, seed=seed)
    if kind == "dct":
        return SubsampledDCT(m, n, seed=seed)
    if kind == "dct2d":
        return SubsampledDCT2D(m, grid_of(n), seed=seed)
    if kind == "identity":
        return Identity(n)
    if kind == "matrix":
        return MatrixMeasurement(np.random.default_rng(seed).uniform(-1, 1, (m, n)))
    raise KeyError(kind)


# --------------------------------------------------------------------------- dense matrices
@pytest.mark.parametrize("n", [1, 7, 16, 33])
def test_subsampled_dct_todense_is_rows_of_the_orthonormal_dct(n):
    D = naive_dct_matrix(n)
    for m in sorted({1, max(1, n // 2), n}):
        A = SubsampledDCT(m, n, seed=m)
        assert A.shape == (m, n)
        assert A.indices.shape == (m,) and np.all(np.diff(A.indices) > 0)
        assert_close(A.todense(), D[A.indices], what=f"DCT rows n={n} m={m}")
        # the rows are orthonormal: A Aᵀ = I_m
        assert_close(A.todense() @ A.todense().T, np.eye(m), what="A Aᵀ")


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (4, 4), (5, 8), (9, 6)])
def test_subsampled_dct2d_todense_is_rows_of_the_kronecker_dct(shape):
    """The 2-D DCT-II of a row-major image is ``D_H ⊗ D_W``; the kept rows are orthonormal."""
    H, W = shape
    D = np.kron(naive_dct_matrix(H), naive_dct_matrix(W))
    n = H * W
    for m in sorted({1, max(1, n // 3), n}):
        A = SubsampledDCT2D(m, shape, seed=m)
        assert A.shape == (m, n) and A.grid_shape == shape
        assert A.indices.shape == (m,) and np.all(np.diff(A.indices) > 0)
        assert A.frequencies.tolist() == [list(divmod(int(i), W)) for i in A.indices]
        assert_close(A.todense(), D[A.indices], what=f"2-D DCT rows {shape} m={m}")
        assert_close(A.todense() @ A.todense().T, np.eye(m), what="A Aᵀ")


def test_subsampled_dct2d_matches_scipy_dctn_and_its_inverse():
    from scipy.fft import dctn, idctn

    H, W, m = 6, 10, 25
    A = SubsampledDCT2D(m, (H, W), seed=3)
    rng = np.random.default_rng(0)
    img = rng.random((H, W))
    assert_close(A.apply(img.reshape(-1)), dctn(img, norm="ortho").reshape(-1)[A.indices], what="dctn")
    # a batch of images as the columns of an (n, B) array
    imgs = rng.random((3, H, W))
    X = imgs.reshape(3, -1).T
    assert_close(A.apply(X), np.stack([dctn(a, norm="ortho").reshape(-1)[A.indices] for a in imgs], axis=1),
                 what="batched dctn")
    y = rng.standard_normal(m)
    full = np.zeros(H * W)
    full[A.indices] = y
    assert_close(A.apply_T(y), idctn(full.reshape(H, W), norm="ortho").reshape(-1), what="idctn")
    # all coefficients: A is the orthonormal 2-D DCT, Aᵀ A = I
    F = SubsampledDCT2D(H * W, (H, W), seed=0)
    assert_close(F.apply_T(F.apply(img.reshape(-1))), img.reshape(-1), what="Aᵀ A x = x")
    assert repr(A) == "SubsampledDCT2D(m=25, shape=6x10)"


@pytest.mark.parametrize("n", [1, 9, 32])
def test_random_mask_todense_is_rows_of_the_identity(n):
    for A in (RandomMask(n, m=max(1, n // 3), seed=1), RandomMask(n, keep=1.0, seed=2)):
        assert np.array_equal(A.todense(), np.eye(n)[A.indices])
        assert A.indices.dtype.kind == "i" and np.all(np.diff(A.indices) > 0)
        assert A.shape == (A.indices.size, n)
    assert RandomMask(n, keep=1.0, seed=3).m == n  # keep=1 keeps every sample


def test_identity_and_matrix_todense():
    assert np.array_equal(Identity(5).todense(), np.eye(5))
    assert Identity(5).shape == (5, 5)
    M = np.arange(12.0).reshape(3, 4)
    A = MatrixMeasurement(M)
    assert A.shape == (3, 4)
    assert np.array_equal(A.todense(), M)
    A.todense()[0, 0] = 99.0  # todense returns a copy
    assert A.todense()[0, 0] == 0.0


def test_gaussian_todense_matches_its_matrix():
    A = GaussianMeasurement(5, 11, seed=0)
    assert A.shape == (5, 11)
    assert np.array_equal(A.todense(), A.A)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("m,n", [(1, 1), (3, 10), (8, 8), (7, 31)])
def test_apply_and_apply_T_match_the_dense_matrix(kind, m, n):
    A = make(kind, m, n, seed=m * 100 + n)
    D = A.todense()
    mm = A.shape[0]
    assert D.shape == (mm, n)
    rng = np.random.default_rng(n)
    x, X = rng.standard_normal(n), rng.standard_normal((n, 4))
    y, Y = rng.standard_normal(mm), rng.standard_normal((mm, 3))
    assert A.apply(x).shape == (mm,) and A.apply(X).shape == (mm, 4)
    assert A.apply_T(y).shape == (n,) and A.apply_T(Y).shape == (n, 3)
    assert_close(A.apply(x), D @ x, what=f"{kind} apply vector")
    assert_close(A.apply(X), D @ X, what=f"{kind} apply (n, B)")
    assert_close(A.apply_T(y), D.T @ y, what=f"{kind} apply_T vector")
    assert_close(A.apply_T(Y), D.T @ Y, what=f"{kind} apply_T (m, B)")
    # batched = column by column
    for b in range(4):
        assert_close(A.apply(X)[:, b], A.apply(X[:, b]), what="batch column")


@pytest.mark.parametrize("kind", KINDS)
def test_apply_does_not_modify_or_alias_its_input(kind):
    A = make(kind, 4, 12, seed=5)
    x = np.random.default_rng(0).standard_normal(12)
    x0 = x.copy()
    out = A.apply(x)
    out[:] = 7.0
    assert np.array_equal(x, x0)
    y = np.random.default_rng(1).standard_normal(A.shape[0])
    y0 = y.copy()
    A.apply_T(y)[:] = 7.0
    assert np.array_equal(y, y0)


@pytest.mark.parametrize("kind", KINDS)
def test_apply_accepts_lists_and_integers(kind):
    A = make(kind, 3, 8, seed=2)
    xi = np.arange(8)
    assert_close(A.apply(xi.tolist()), A.todense() @ xi.astype(float), what="int list")


# --------------------------------------------------------------------------- adjointness
@st.composite
def operator_and_vectors(draw):
    kind = draw(st.sampled_from(KINDS))
    n = draw(st.integers(1, 40))
    m = draw(st.integers(1, n))
    seed = draw(st.integers(0, 2**32 - 1))
    batch = draw(st.sampled_from([None, 1, 3]))
    scale_x = draw(st.sampled_from([1e-3, 1.0, 1e4]))
    scale_y = draw(st.sampled_from([1e-3, 1.0, 1e4]))
    A = make(kind, m, n, seed)
    rng = np.random.default_rng(seed + 1)
    shape_x = (n,) if batch is None else (n, batch)
    shape_y = (A.shape[0],) if batch is None else (A.shape[0], batch)
    return A, scale_x * rng.standard_normal(shape_x), scale_y * rng.standard_normal(shape_y)


@given(operator_and_vectors())
def test_apply_T_is_the_adjoint_of_apply(case):
    """⟨A x, y⟩ = ⟨x, Aᵀ y⟩ (for (n, B) arrays: column by column, as a Frobenius product)."""
    A, x, y = case
    lhs = float(np.sum(A.apply(x) * y))
    rhs = float(np.sum(x * A.apply_T(y)))
    scale = A.norm() * float(np.linalg.norm(x)) * float(np.linalg.norm(y))
    assert abs(lhs - rhs) <= ADJOINT_RTOL * scale, (lhs, rhs, scale)


# --------------------------------------------------------------------------- norms
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("m,n", [(1, 1), (3, 10), (10, 10), (12, 40)])
def test_norm_is_the_spectral_norm_of_the_dense_matrix(kind, m, n):
    A = make(kind, m, n, seed=7 * m + n)
    expected = float(np.linalg.norm(A.todense(), 2))
    got = A.norm()
    assert isinstance(got, float)
    assert abs(got - expected) <= NORM_RTOL * expected, (got, expected)
    assert A.norm() == got  # cached / deterministic


def test_gaussian_norm_is_about_one_plus_sqrt_n_over_m():
    """‖A‖ ≈ 1 + √(n/m) (theory.md §1.2); Bai–Yin, loose at this size."""
    A = GaussianMeasurement(40, 160, seed=0)
    assert 0.85 * 3.0 < A.norm() < 1.1 * 3.0


# --------------------------------------------------------------------------- statistics, seeds
def test_gaussian_entries_have_mean_zero_and_variance_one_over_m():
    m, n = 60, 400
    A = GaussianMeasurement(m, n, seed=12345).todense()
    N = A.size
    var = float(A.var())
    assert abs(var * m - 1.0) <= GAUSS_VAR_RTOL, f"m·var = {var * m:.4f}"
    assert abs(float(A.mean())) <= GAUSS_MEAN_SIGMAS / math.sqrt(m * N)
    # E‖Ax‖² = ‖x‖²: average over the rows of many unit vectors (loose, same reason)
    X = np.random.default_rng(1).standard_normal((n, 200))
    X /= np.linalg.norm(X, axis=0)
    ratio = float(np.mean(np.sum((A @ X) ** 2, axis=0)))
    assert abs(ratio - 1.0) <= 4 * GAUSS_VAR_RTOL


def test_variance_scales_with_m_not_n():
    for m, n in [(10, 2000), (200, 100)]:
        A = GaussianMeasurement(m, n, seed=m).todense()
        assert abs(float(A.var()) * m - 1.0) <= GAUSS_VAR_RTOL


@pytest.mark.parametrize("kind", ["gaussian", "mask_m", "mask_keep", "dct", "dct2d"])
def test_same_seed_same_operator_different_seed_different_operator(kind):
    a, b, c = (make(kind, 6, 30, seed=s) for s in (11, 11, 12))
    assert np.array_equal(a.todense(), b.todense())
    assert not np.array_equal(a.todense(), c.todense())
    # a Generator is accepted and advanced
    rng = np.random.default_rng(11)
    if kind == "gaussian":
        g1, g2 = GaussianMeasurement(6, 30, seed=rng), GaussianMeasurement(6, 30, seed=rng)
        assert np.array_equal(g1.todense(), a.todense())
        assert not np.array_equal(g1.todense(), g2.todense())


def test_mask_keep_fraction_is_about_keep():
    n, keep = 20_000, 1 / 3
    A = RandomMask(n, keep=keep, seed=0)
    # binomial: standard deviation √(n p (1 − p)) ≈ 67; allow 6 of them
    assert abs(A.m - keep * n) <= 6 * math.sqrt(n * keep * (1 - keep))


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "build, exc, words",
    [
        (lambda: RandomMask(10, m=11), ValueError, ["m", "11", "n=10"]),
        (lambda: RandomMask(10, m=0), ValueError, ["m", "0"]),
        (lambda: SubsampledDCT(11, 10), ValueError, ["m", "11", "n=10"]),
        (lambda: SubsampledDCT(0, 10), ValueError, ["m", "0"]),
        (lambda: SubsampledDCT2D(13, (3, 4)), ValueError, ["m", "13", "n=12", "3x4"]),
        (lambda: SubsampledDCT2D(0, (3, 4)), ValueError, ["m", "0"]),
        (lambda: SubsampledDCT2D(2, (0, 4)), ValueError, ["shape[0]", "0"]),
        (lambda: SubsampledDCT2D(2, 12), TypeError, ["shape", "(H, W)", "12"]),
        (lambda: GaussianMeasurement(0, 10), ValueError, ["m", "0"]),
        (lambda: GaussianMeasurement(3, 0), ValueError, ["n", "0"]),
        (lambda: GaussianMeasurement(3.5, 10), TypeError, ["m", "3.5"]),
        (lambda: Identity(0), ValueError, ["n", "0"]),
        (lambda: RandomMask(10, keep=0.0), ValueError, ["keep", "(0, 1]", "0"]),
        (lambda: RandomMask(10, keep=-0.2), ValueError, ["keep", "-0.2"]),
        (lambda: RandomMask(10, keep=1.5), ValueError, ["keep", "1.5"]),
        (lambda: RandomMask(10, keep=float("nan")), ValueError, ["keep", "nan"]),
        (lambda: RandomMask(10, keep="half"), TypeError, ["keep", "half"]),
        (lambda: RandomMask(10, keep=0.5, m=3), ValueError, ["keep", "m", "exactly one"]),
        (lambda: RandomMask(10), ValueError, ["keep", "m", "exactly one"]),
        (lambda: RandomMask(20, keep=1e-9, seed=0), ValueError, ["keep", "m="]),
        (lambda: MatrixMeasurement(np.ones(3)), ValueError, ["A", "2 dimension"]),
        (lambda: MatrixMeasurement(np.full((2, 2), np.nan)), ValueError, ["A", "finite"]),
        (lambda: GaussianMeasurement(3, 10, seed=-1), TypeError, ["seed"]),
    ],
)
def test_bad_construction_raises_naming_the_argument(build, exc, words):
    with pytest.raises(exc) as info:
        build()
    msg = str(info.value)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_shapes_raise_naming_the_argument_and_shape(kind):
    A = make(kind, 4, 12, seed=0)
    mm = A.shape[0]
    with pytest.raises(ValueError, match=r"x must have 12 rows.*\(11,\)"):
        A.apply(np.ones(11))
    with pytest.raises(ValueError, match=r"x must have 12 rows.*\(13, 2\)"):
        A.apply(np.ones((13, 2)))
    with pytest.raises(ValueError, match=r"x must have 1 or 2 dimension"):
        A.apply(np.ones((12, 2, 2)))
    with pytest.raises(ValueError, match=rf"y must have {mm} rows"):
        A.apply_T(np.ones(mm + 1))
    with pytest.raises(TypeError, match="x must be real"):
        A.apply(np.ones(12, dtype=complex))


def test_as_measurement_normalises_and_checks_n():
    assert as_measurement(None, 5) is None
    M = as_measurement(np.ones((2, 5)), 5)
    assert isinstance(M, MatrixMeasurement)
    G = GaussianMeasurement(2, 5, seed=0)
    assert as_measurement(G, 5) is G
    with pytest.raises(ValueError, match=r"shape \(2, 5\).*n=6"):
        as_measurement(G, 6)
    with pytest.raises(TypeError, match="apply"):
        as_measurement("not an operator", 5)


def test_random_mask_accepts_numpy_scalars_for_keep():
    a = RandomMask(30, keep=np.float32(0.5), seed=4)
    b = RandomMask(30, keep=0.5, seed=4)
    assert np.array_equal(a.indices, b.indices)
    assert RandomMask(5, keep=np.int64(1), seed=0).m == 5
    with pytest.raises(TypeError, match="keep"):
        RandomMask(5, keep=True, seed=0)


# --------------------------------------------------------------------------- plugging into the model
N_GEN, K_GEN = 17, 6


@pytest.fixture(scope="module", params=["direct", "fft"])
def gen(request):
    return nt.TwoLayerGenerator(CircularConv(triangle(3), N_GEN, method=request.param), K_GEN)


def _case(kind, seed=0):
    A = make(kind, 7, N_GEN, seed=seed)
    rng = np.random.default_rng(seed + 50)
    return A, A.todense(), rng


@pytest.mark.parametrize("kind", KINDS)
def test_loss_and_gradient_with_A_match_dense_computation(gen, kind):
    A, D, rng = _case(kind)
    U, v = gen.operator.todense(), gen.output_weights
    C = gen.init(seed=3, omega=0.7)
    y = rng.standard_normal(D.shape[0])
    g = naive.forward(U, C, v)
    r = D @ g - y
    assert_close(gen.residual(C, y, A=A), r, what="residual")
    assert abs(gen.loss(C, y, A=A) - 0.5 * float(r @ r)) <= RTOL * 0.5 * float(r @ r)
    assert abs(gen.loss(C, y, A=A) - naive.loss(U, C, v, y, A=D)) <= RTOL * naive.loss(U, C, v, y, A=D)
    grad = gen.gradient(C, y, A=A)
    assert_close(grad, naive.gradient(U, C, v, y, A=D), what=f"{kind} gradient vs naive")
    # ∇ ½‖A G(C) − y‖² = Jᵀ Aᵀ (A G(C) − y) = vjp(C, Aᵀ(A G − y))
    assert_close(grad, gen.vjp(C, D.T @ r), what=f"{kind} gradient vs vjp")
    # the same as passing the dense matrix
    assert_close(grad, gen.gradient(C, y, A=D), what="operator vs ndarray")


def test_identity_measurement_is_denoising(gen):
    C = gen.init(seed=1, omega=0.5)
    y = np.random.default_rng(0).standard_normal(N_GEN)
    I = Identity(N_GEN)
    assert gen.loss(C, y, A=I) == pytest.approx(gen.loss(C, y), rel=RTOL)
    assert_close(gen.gradient(C, y, A=I), gen.gradient(C, y), what="identity gradient")


def test_gradient_with_A_matches_finite_differences_of_the_loss(gen):
    """Directional derivative of the loss (central difference, no ReLU sign change) = ⟨∇L, D⟩."""
    A, _, rng = _case("gaussian", seed=4)
    U = gen.operator.todense()
    C = naive.draw_C_away_from_kinks(U, N_GEN, K_GEN, seed=9, margin=1e-2)
    y = rng.standard_normal(7)
    Dir = rng.standard_normal(C.shape)
    h = 0.2 * naive.kink_margin(U, C) / float(np.abs(U @ Dir).max())
    assert np.array_equal(U @ (C + h * Dir) > 0, U @ C > 0) and np.array_equal(U @ (C - h * Dir) > 0, U @ C > 0)
    fd = (gen.loss(C + h * Dir, y, A=A) - gen.loss(C - h * Dir, y, A=A)) / (2 * h)
    an = float(np.sum(gen.gradient(C, y, A=A) * Dir))
    # the loss is quadratic along a direction without sign changes: central difference exact up to rounding
    assert abs(fd - an) <= 1e-7 * max(1.0, abs(an))


def test_shape_mismatch_between_A_and_generator_raises(gen):
    C = gen.init(seed=0, omega=0.1)
    A = GaussianMeasurement(4, N_GEN + 1, seed=0)
    with pytest.raises(ValueError, match=rf"n={N_GEN}"):
        gen.loss(C, np.zeros(4), A=A)
    with pytest.raises(ValueError, match=r"y must have shape \(4,\).*\(5,\)"):
        gen.gradient(C, np.zeros(5), A=GaussianMeasurement(4, N_GEN, seed=0))


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_descent_with_A_matches_naive(gen, kind):
    A, D, rng = _case(kind, seed=2)
    U, v = gen.operator.todense(), gen.output_weights
    C0 = gen.init(seed=5, omega=0.3)
    y = D @ rng.standard_normal(N_GEN)
    eta = nt.max_step_size(gen, A)
    assert eta == pytest.approx(1.0 / (gen.operator.norm() ** 2 * np.linalg.norm(D, 2) ** 2), rel=1e-12)
    steps = 40
    traj = nt.gradient_descent(gen, y, C0, eta, steps, A=A, record=list(range(steps + 1)))
    losses, outputs, C = naive.gradient_descent(U, v, y, C0, eta, steps, A=D)
    assert_close(traj.losses, losses, GD_TOL, what=f"{kind} losses")
    assert_close(traj.outputs, outputs, GD_TOL, what=f"{kind} outputs")
    assert_close(traj.C, C, GD_TOL, what=f"{kind} final weights")
    # the stable step makes the loss non-increasing along the way (linearized bound, small ω)
    assert traj.losses[-1] < traj.losses[0]


@pytest.mark.parametrize("kind", KINDS)
def test_linearized_with_A_matches_repeated_products(gen, kind):
    A, D, rng = _case(kind, seed=3)
    K = nt.expected_kernel(gen)
    y = rng.standard_normal(D.shape[0])
    f0 = 0.1 * rng.standard_normal(N_GEN)
    eta = nt.max_step_size(K, A)
    lin = nt.linearized(gen, y, eta, f0=f0, A=A)
    taus = np.arange(0, 61, 5)
    res, outs = naive.linearized_run(K, y, eta, 60, f0=f0, A=D)
    assert_close(lin.residual(taus), res[taus], LINEARIZED_TOL, what=f"{kind} residual")
    assert_close(lin.output(taus), outs[taus], LINEARIZED_TOL, what=f"{kind} output")
    assert_close(lin.loss(taus), 0.5 * np.sum(res[taus] ** 2, axis=1), LINEARIZED_TOL, what="loss")
    assert_close(lin.limit(), naive.linearized_limit(K, y, f0=f0, A=D), LINEARIZED_TOL, what=f"{kind} limit")
    # the same with the dense matrix and with the kernel matrix
    assert_close(nt.linearized(K, y, eta, f0=f0, A=D).output(taus), outs[taus], LINEARIZED_TOL, what="dense")


def test_subsampled_dct2d_with_an_image_generator_matches_naive():
    """Gradient descent on ½‖A G(C) − y‖² with 2-D DCT measurements of an image, against the dense A."""
    g2 = nt.TwoLayerGenerator(nt.CircularConv2D(nt.filters.from_spec("triangle2d:2"), (6, 5)), 8)
    A = SubsampledDCT2D(12, (6, 5), seed=1)
    D, U, v = A.todense(), g2.operator.todense(), g2.output_weights
    C0 = g2.init(seed=2, omega=0.4)
    y = D @ np.random.default_rng(3).random(30)
    eta = nt.max_step_size(g2, A)
    traj = nt.gradient_descent(g2, y, C0, eta, 25, A=A, record=list(range(26)))
    losses, outputs, C = naive.gradient_descent(U, v, y, C0, eta, 25, A=D)
    assert_close(traj.losses, losses, GD_TOL, what="2-D DCT losses")
    assert_close(traj.outputs, outputs, GD_TOL, what="2-D DCT outputs")
    assert_close(traj.C, C, GD_TOL, what="2-D DCT final weights")
