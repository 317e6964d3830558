"""Activations in the numerical core: closed forms and quadrature against direct integration,
the generator's passes and kernels against dense references, Σ against Monte-Carlo, and the
ReLU default path unchanged."""

from __future__ import annotations

import math

import naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ntk_toolkit as nt
from conftest import FD_TOL, RTOL, assert_close
from ntk_toolkit import filters as F
from ntk_toolkit.activations import ACTIVATIONS, Activation, as_activation, correlation_row, expected_product
from ntk_toolkit.operators import CircularConv, DenseOperator

#: Closed forms against nested adaptive quadrature (scipy.quad at 1e-13): the issue's bound.
INTEGRAL_TOL = 1e-10
#: Gauss–Hermite quadrature (smooth activations, q <= 4) against nested adaptive quadrature;
#: measured <= 2.3e-12 (activations.QUADRATURE_NODES), 40x margin.
QUADRATURE_TOL = 1e-10
#: Monte-Carlo: |mean over R draws − Σ| <= MC_SIGMAS · (sample std of the mean), entrywise max;
#: with n² <= 256 entries the chance of a false failure is far below 1e-4.
MC_SIGMAS = 6.0

NAMES = ["relu", "leaky_relu:0.1", "leaky_relu:-0.5", "abs", "step", "erf", "tanh", "softplus", "quadratic",
         "linear"]
CLOSED = [a for a in NAMES if as_activation(a).closed_form]
SMOOTH = ["erf", "tanh", "softplus", "quadratic", "linear"]
RHOS = [-1.0, -0.73, -0.2, 0.0, 0.41, 0.95, 1.0]


# --------------------------------------------------------------------------- Gaussian expectations
@pytest.mark.parametrize("derivative", [False, True])
@pytest.mark.parametrize("name", CLOSED)
def test_closed_forms_match_direct_integration(name, derivative):
    """Every closed form against scipy's nested quadrature on a ρ grid with both endpoints."""
    q1, q2 = 0.7, 1.3
    rhos = RHOS if name in ("relu", "erf") else [-1.0, -0.2, 0.41, 1.0]
    got = expected_product(name, np.array(rhos), q1, q2, derivative=derivative)
    want = np.array([naive.gaussian_product_mean(name, r, q1, q2, derivative) for r in rhos])
    assert np.max(np.abs(got - want)) <= INTEGRAL_TOL


@pytest.mark.slow
@pytest.mark.parametrize("derivative", [False, True])
@pytest.mark.parametrize("name", CLOSED)
def test_closed_forms_match_direct_integration_full_grid(name, derivative):
    for q1, q2 in [(1.0, 1.0), (0.3, 2.5), (4.0, 0.5)]:
        got = expected_product(name, np.array(RHOS), q1, q2, derivative=derivative)
        want = np.array([naive.gaussian_product_mean(name, r, q1, q2, derivative) for r in RHOS])
        assert np.max(np.abs(got - want)) <= INTEGRAL_TOL * max(1.0, np.max(np.abs(want)))


@pytest.mark.parametrize("derivative", [False, True])
@pytest.mark.parametrize("name", ["tanh", "softplus"])
def test_quadrature_matches_direct_integration(name, derivative):
    rhos = [-1.0, -0.5, 0.0, 0.8, 1.0]
    for q1, q2 in [(1.0, 1.0), (0.4, 2.0)]:
        got = expected_product(name, np.array(rhos), q1, q2, derivative=derivative)
        want = np.array([naive.gaussian_product_mean(name, r, q1, q2, derivative) for r in rhos])
        assert np.max(np.abs(got - want)) <= QUADRATURE_TOL


@pytest.mark.parametrize("name", ["erf", "quadratic", "linear", "leaky_relu:1"])
def test_quadrature_matches_closed_form(name):
    """The quadrature path itself against the closed forms of smooth (or linear) activations."""
    r = np.linspace(-1.0, 1.0, 11)
    for q in (0.25, 1.0, 3.0):
        for d in (False, True):
            assert_close(expected_product(name, r, q, 1.0, derivative=d, method="quadrature"),
                         expected_product(name, r, q, 1.0, derivative=d), rtol=QUADRATURE_TOL, what=name)


def test_correlation_row_uses_quadrature_at_distinct_values():
    r = np.array([1.0, 0.5, 0.0, 0.0, -0.25, 0.0, 0.5])
    row = correlation_row("tanh", r, 1.0, derivative=True)
    assert_close(row, expected_product("tanh", r, 1.0, 1.0, derivative=True), rtol=1e-14, what="row")
    assert row[2] == row[3] == row[5]


# --------------------------------------------------------------------------- generator passes
def _gen(name, n=12, k=6, op="direct", trained=False, filt=None):
    filt = F.triangle(3) if filt is None else filt
    U = CircularConv(filt, n, method="fft" if op == "fft" else "direct")
    if op == "2d":
        from ntk_toolkit.filters import triangle2d

        U = nt.CircularConv2D(triangle2d(2), (n // 4, 4))
    if op == "dense":
        U = DenseOperator(U.todense() + 0.05 * np.random.default_rng(3).standard_normal((n, n)))
    return nt.TwoLayerGenerator(U, k, activation=name, train_output=trained)


@pytest.mark.parametrize("trained", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_forward_jacobian_jvp_vjp_match_naive(name, trained):
    gen = _gen(name, trained=trained, op="fft")
    W = gen.init(seed=1, omega=0.8)
    U = gen.operator.todense()
    C, v = gen.split_weights(W)
    a = W[gen.n] if trained else None
    assert_close(gen.forward(W), naive.forward_activation(U, C, v, name), what="forward")
    J = naive.jacobian_activation(U, C, gen.output_weights, name, a=a)
    assert_close(gen.jacobian(W), J, what="jacobian")
    D = gen.init(seed=2)
    Dvec = np.concatenate([D[:gen.n].T.reshape(-1), D[gen.n]]) if trained else D.T.reshape(-1)
    assert_close(gen.jvp(W, D), J @ Dvec, what="jvp")
    r = np.random.default_rng(4).standard_normal(gen.n)
    g = J.T @ r
    want = np.vstack([g[:gen.n * gen.k].reshape(gen.k, gen.n).T, g[gen.n * gen.k:]]) if trained else \
        g.reshape(gen.k, gen.n).T
    assert_close(gen.vjp(W, r), want, what="vjp")


@pytest.mark.parametrize("trained", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_jvp_vjp_match_finite_differences(name, trained):
    """Central differences of G, away from kinks (piecewise-linear activations are exact there)."""
    gen = _gen(name, n=10, k=4, trained=trained, op="fft")
    U = gen.operator.todense()
    W = gen.init(seed=5)
    W[:gen.n] = naive.draw_C_away_from_kinks(U, gen.n, gen.k, seed=5, margin=0.05)
    D = gen.init(seed=6)
    h = 1e-3 * naive.kink_margin(U, W[:gen.n]) / max(1.0, float(np.abs(U @ D[:gen.n]).max()))
    fd = (gen.forward(W + h * D) - gen.forward(W - h * D)) / (2 * h)
    smooth = name in SMOOTH or name == "quadratic"
    tol = 1e-6 if smooth or trained else FD_TOL  # smooth: O(h²) truncation with h ~ 1e-5
    assert_close(gen.jvp(W, D), fd, rtol=tol, what="jvp")
    r = np.random.default_rng(7).standard_normal(gen.n)
    assert math.isclose(float(np.sum(gen.vjp(W, r) * D)), float(gen.jvp(W, D) @ r), rel_tol=1e-12, abs_tol=1e-12)
    g = gen.vjp(W, r)  # entry by entry: ∂⟨r, G⟩/∂W[j, l] by central differences
    for j, ell in [(0, 0), (3, 1), (gen.n - 1, gen.k - 1)] + ([(gen.n, 2)] if trained else []):
        E = np.zeros_like(W)
        E[j, ell] = h
        fd_entry = (gen.forward(W + E) - gen.forward(W - E)) @ r / (2 * h)
        assert math.isclose(g[j, ell], fd_entry, rel_tol=tol, abs_tol=tol * np.abs(g).max())


@pytest.mark.parametrize("op", ["direct", "fft", "dense", "2d"])
@pytest.mark.parametrize("trained", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_empirical_kernel_matches_dense_jacobian(name, trained, op):
    """``empirical_kernel`` (bit-packed counts, float64 BLAS) against the dense ``J Jᵀ`` at 1e-12."""
    gen = _gen(name, n=24, k=70, op=op, trained=trained)
    W = gen.init(seed=8, omega=0.9)
    if trained:  # a trained output layer moves away from ±1: unequal |v_l|
        W[gen.n] += 0.3 * np.random.default_rng(9).standard_normal(gen.k)
    U = gen.operator.todense()
    J = naive.jacobian_activation(U, W[:gen.n], gen.output_weights, name, a=W[gen.n] if trained else None)
    want = J @ J.T
    for method in ("auto", "blas"):
        assert_close(nt.empirical_kernel(gen, W, method=method), want, rtol=RTOL, what=f"{name} {method}")


def test_non_relu_blas_path_is_float64():
    """The issue's 1e-7 defect: σ' kept in float32. Smooth σ' now agrees with the dense J Jᵀ to 1e-12."""
    gen = _gen("tanh", n=32, k=256)
    C = gen.init(seed=0)
    K = nt.empirical_kernel(gen, C)
    J = gen.jacobian(C)
    assert_close(K, J @ J.T, rtol=1e-13, what="tanh")


def test_relu_paths_unchanged_and_levels_consistent():
    """ReLU keeps the popcount kernel bit for bit; leaky ReLU at slope 0 (the levels path) agrees with it."""
    gen = _gen("relu", n=40, k=128)
    C = gen.init(seed=3)
    K = nt.empirical_kernel(gen, C)
    assert np.array_equal(K, nt.empirical_kernel(nt.TwoLayerGenerator(gen.operator, 128), C))
    leaky0 = nt.TwoLayerGenerator(gen.operator, 128, activation="leaky_relu:0")
    assert_close(nt.empirical_kernel(leaky0, C), K, rtol=1e-15, what="slope 0")
    lin = nt.TwoLayerGenerator(gen.operator, 128, activation="linear")
    assert_close(nt.empirical_kernel(lin, C), nt.kernels.gram_matrix(gen), rtol=1e-15, what="linear")
    assert gen.fused_step(0.1) is not None and leaky0.fused_step(0.1) is None


def test_relu_expected_kernel_is_bitwise_the_theory_formula():
    gen = _gen("relu", n=32, k=2, filt=F.gaussian(1.5))
    a = gen.operator.gram_first_row()
    vv = float(gen.output_weights @ gen.output_weights)
    want = vv * 0.5 * a * (1.0 - np.arccos(np.clip(a / a[0], -1.0, 1.0)) / np.pi)
    assert np.array_equal(nt.expected_kernel_first_row(gen), want)
    assert np.array_equal(nt.expected_kernel_first_row(gen, omega=3.0), want)


# --------------------------------------------------------------------------- expected kernel
@pytest.mark.parametrize("trained", [False, True])
@pytest.mark.parametrize("name", ["leaky_relu:0.1", "abs", "step", "erf", "tanh", "softplus", "quadratic"])
def test_expected_kernel_matches_nested_quadrature(name, trained):
    """``expected_kernel`` (circulant and dense operators, ω ≠ 1) against the double loop of nested quadratures."""
    gen = _gen(name, n=8, k=2, op="fft", trained=trained, filt=F.triangle(2))
    U = gen.operator.todense()
    want = naive.expected_kernel_activation(U, gen.output_weights, name, omega=0.7, trained=trained)
    assert_close(nt.expected_kernel(gen, omega=0.7), want, rtol=INTEGRAL_TOL, what=name)


@pytest.mark.parametrize("name", ["abs", "tanh", pytest.param("erf", marks=pytest.mark.slow),
                                  pytest.param("softplus", marks=pytest.mark.slow)])
def test_expected_kernel_dense_operator_matches_nested_quadrature(name):
    """A dense ``U`` (rows of different norms: every entry has its own variances) with a trained output layer."""
    gen = _gen(name, n=5, k=2, op="dense", trained=True, filt=F.triangle(2))
    U = gen.operator.todense()
    want = naive.expected_kernel_activation(U, gen.output_weights, name, omega=0.7, trained=True)
    assert_close(nt.expected_kernel(gen, omega=0.7), want, rtol=INTEGRAL_TOL, what=name)


def _monte_carlo(gen, omega, draws, trained_term_only=False):
    Ks = []
    for seed in range(draws):
        W = gen.init(seed=100 + seed, omega=omega)
        if trained_term_only:
            Z = gen.preactivation(W)
            P = gen.activation.fn(Z)
            Ks.append(P @ P.T / gen.k)
        else:
            Ks.append(nt.empirical_kernel(gen, W))
    Ks = np.array(Ks)
    return Ks.mean(axis=0), Ks.std(axis=0, ddof=1) / math.sqrt(draws)


def _mc_case(name, trained, k, draws):
    gen = _gen(name, n=16, k=k, op="direct", trained=trained, filt=F.triangle(3))
    mean, sem = _monte_carlo(gen, 0.8, draws)
    Sigma = nt.expected_kernel(gen, omega=0.8)
    err = np.abs(mean - Sigma)
    assert np.all(err <= MC_SIGMAS * sem + 1e-12), (name, float(np.max(err / (sem + 1e-300))))
    return float(np.max(err)), float(np.max(sem))


@pytest.mark.parametrize("trained", [False, True])
@pytest.mark.parametrize("name", ["leaky_relu:0.1", "abs", "erf", "tanh", "softplus", "quadratic"])
def test_expected_kernel_matches_monte_carlo(name, trained):
    """Mean of ``J Jᵀ`` over draws of ``C_0`` (fixed seeds) against Σ: error within 6 standard errors."""
    _mc_case(name, trained, k=64, draws=30)


@pytest.mark.parametrize("name", ["erf", "tanh", "abs"])
def test_monte_carlo_error_falls_like_inverse_sqrt_k(name):
    """The standard error of one draw's kernel falls like ``k^(−1/2)``: 16x the channels, about 1/4 the error."""
    small = _mc_case(name, False, k=32, draws=40)[1]
    large = _mc_case(name, False, k=512, draws=40)[1]
    assert 0.15 <= large / small <= 0.4


@pytest.mark.parametrize("name", ["relu", "tanh", "softplus"])
def test_output_term_matches_monte_carlo(name):
    """The NNGP term ``Σ_a`` against the mean of ``φ(UC) φ(UC)ᵀ / k``."""
    gen = _gen(name, n=16, k=64, trained=True)
    fixed = _gen(name, n=16, k=64, trained=False)
    mean, sem = _monte_carlo(gen, 1.2, 30, trained_term_only=True)
    Sa = nt.expected_kernel(gen, omega=1.2) - nt.expected_kernel(fixed, omega=1.2)
    assert np.all(np.abs(mean - Sa) <= MC_SIGMAS * sem + 1e-12)


@given(name=st.sampled_from(NAMES), taps=st.lists(st.integers(-3, 3), min_size=1, max_size=4),
       n=st.integers(8, 24), omega=st.floats(0.3, 1.5), trained=st.booleans())
def test_sigma_is_symmetric_psd_circulant(name, taps, n, omega, trained):
    if not any(taps):
        taps = [1]
    gen = nt.TwoLayerGenerator(CircularConv(F.Filter(taps), n), 2, activation=name, train_output=trained)
    S = nt.expected_kernel(gen, omega=omega)
    assert np.array_equal(S, S.T)
    s = S[0]
    for i in range(n):
        assert np.allclose(S[i], np.roll(s, i), rtol=0, atol=1e-14 * np.abs(s).max())
    lam = np.linalg.eigvalsh(S)
    assert lam.min() >= -1e-12 * max(1.0, lam.max())
    spec = nt.spectrum(gen, omega=omega)
    assert_close(np.sort(spec.eigenvalues), lam, rtol=1e-10, what="FFT spectrum")


@given(name=st.sampled_from(NAMES), omega=st.floats(0.2, 2.0), n=st.integers(2, 16))
def test_delta_filter_gives_scaled_identity(name, omega, n):
    gen = nt.TwoLayerGenerator(CircularConv(F.delta(), n), 2, activation=name)
    c = float(expected_product(name, 1.0, omega**2, omega**2, derivative=True))
    assert_close(nt.expected_kernel(gen, omega=omega), c * np.eye(n), rtol=1e-14, what=name)


# --------------------------------------------------------------------------- training and custom activations
@pytest.mark.parametrize("trained", [False, True])
@pytest.mark.parametrize("name", ["tanh", "leaky_relu:0.1", "erf"])
def test_gradient_descent_matches_explicit_steps(name, trained):
    gen = _gen(name, n=12, k=8, trained=trained, op="fft")
    y = np.sin(2 * np.pi * np.arange(12) / 12)
    W0 = gen.init(seed=0, omega=0.5)
    eta = 0.2
    traj = nt.gradient_descent(gen, y, W0, eta, steps=5, check_step=not trained)
    U = gen.operator.todense()
    W = W0.copy()
    for _ in range(5):
        C, v = gen.split_weights(W)
        J = naive.jacobian_activation(U, C, gen.output_weights, name, a=W[gen.n] if trained else None)
        g = J.T @ (naive.forward_activation(U, C, v, name) - y)
        step = np.vstack([g[:96].reshape(8, 12).T, g[96:]]) if trained else g.reshape(8, 12).T
        W = W - eta * step
    assert_close(traj.outputs[-1], naive.forward_activation(U, *gen.split_weights(W), name), what=name)
    assert traj.losses[-1] < traj.losses[0]


def test_unbounded_kernel_has_no_stable_step():
    gen = _gen("quadratic")
    assert math.isinf(gen.kernel_norm_bound())
    with pytest.raises(ValueError, match="no step size that is stable for every weight"):
        nt.max_step_size(gen)
    assert _gen("erf").kernel_norm_bound() == pytest.approx(4.0 / math.pi * gen.operator.norm() ** 2)


def test_custom_activation_through_the_core():
    sine = Activation(np.sin, np.cos, "sine", lipschitz=1.0)
    gen = nt.TwoLayerGenerator(CircularConv(F.triangle(2), 8), 4, activation=sine)
    C = gen.init(seed=0)
    J = gen.jacobian(C)
    assert_close(nt.empirical_kernel(gen, C), J @ J.T, what="sine")
    want = [float(expected_product(sine, r, 1.0, 1.0, derivative=True)) for r in (0.0, 1.0)]
    assert want[1] == pytest.approx(0.5 * (1 + math.exp(-2)), rel=1e-12)  # E[cos² x] = (1 + e^{−2q})/2
    assert want[0] == pytest.approx(math.exp(-1.0), rel=1e-12)  # (E cos x)² = e^{−q}
    assert gen.kernel_norm_bound() == pytest.approx(gen.operator.norm() ** 2)


def test_activation_names_and_equality():
    assert as_activation("leaky_relu:0.25").pattern_levels == (0.25, 0.75)
    assert as_activation("relu") is ACTIVATIONS["relu"] and as_activation("relu") == "relu"
    assert as_activation("leaky_relu:0.25") is as_activation("leaky_relu:0.25")
    gen = nt.TwoLayerGenerator(CircularConv(F.delta(), 4), 2, activation="abs", train_output=True)
    assert repr(gen).endswith("activation='abs', train_output=True)")
    import pickle

    assert pickle.loads(pickle.dumps(as_activation("leaky_relu:0.25"))) is as_activation("leaky_relu:0.25")


@pytest.mark.parametrize("trained", [False, True])
@pytest.mark.parametrize("name", ["leaky_relu:0.1", "tanh"])
def test_matrix_free_kernel_operator(name, trained):
    gen = _gen(name, n=16, k=8, trained=trained, op="fft")
    W = gen.init(seed=3)
    K = nt.empirical_kernel(gen, W)
    X = np.random.default_rng(4).standard_normal((16, 3))
    assert_close(nt.kernel_operator(gen, W) @ X, K @ X, what=name)
