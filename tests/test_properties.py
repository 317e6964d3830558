"""Hypothesis property tests: the mathematics of design.md §5 stated as properties.

Bounded strategies: n in 4..40, even k in 2..16, filters from
``ntk_toolkit.testing.filters`` (named filters and taps in [-1, 1], length <= n),
seeds. The "ci" profile of conftest.py sets no deadline and derandomizes.
"""

from __future__ import annotations

import naive
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import ntk_toolkit as nt
from conftest import (
    PSD_TOL,
    ROUNDTRIP_TOL,
    RTOL,
    SHIFT_TOL,
    SPECTRUM_TOL,
    assert_close,
)
from ntk_toolkit import filters as F
from ntk_toolkit import testing
from ntk_toolkit.operators import CircularConv, DenseOperator

ns = st.integers(4, 40)
ks = st.integers(1, 8).map(lambda h: 2 * h)
seeds = st.integers(0, 2**32 - 1)
#: "dense" is the same circulant U as a DenseOperator (the generic code paths)
methods = st.sampled_from(["direct", "fft", "dense"])
circulant_methods = st.sampled_from(["direct", "fft"])


@st.composite
def setups(draw, methods=methods):
    """``(gen, U, n, k, seed)`` for a filter of :func:`ntk_toolkit.testing.filters`, signal length and width."""
    n = draw(ns)
    k = draw(ks)
    filt = draw(testing.filters(max_taps=min(n, 9)))
    method = draw(methods)
    seed = draw(seeds)
    U = naive.conv_matrix(filt.taps, n)
    op = DenseOperator(U) if method == "dense" else CircularConv(filt, n, method=method)
    gen = nt.TwoLayerGenerator(op, k)
    return gen, U, n, k, seed


def _scale(M):
    return max(float(np.max(np.abs(M))), 1e-300)


# --------------------------------------------------------------------------- kernels
@given(setups())
def test_empirical_kernel_symmetric_psd(s):
    gen, U, n, k, seed = s
    C = gen.init(seed=seed)
    K = nt.empirical_kernel(gen, C)
    assert np.array_equal(K, K.T)
    lam = np.linalg.eigvalsh(K)
    assert lam.min() >= -PSD_TOL * max(abs(lam).max(), 1e-300)


@given(setups())
def test_expected_kernel_symmetric_psd(s):
    gen, U, n, k, seed = s
    S = nt.expected_kernel(gen)
    assert float(np.max(np.abs(S - S.T))) <= RTOL * _scale(S)
    lam = np.linalg.eigvalsh(S)
    assert lam.min() >= -PSD_TOL * abs(lam).max()
    # the non-circulant path on the same U is symmetric PSD too
    S2 = nt.expected_kernel(nt.TwoLayerGenerator(DenseOperator(U), k))
    assert np.array_equal(S2, S2.T)
    lam2 = np.linalg.eigvalsh(S2)
    assert lam2.min() >= -PSD_TOL * abs(lam2).max()


@given(setups())
def test_trace_K_is_jacobian_frobenius_norm(s):
    gen, U, n, k, seed = s
    C = gen.init(seed=seed)
    K = nt.empirical_kernel(gen, C)
    J = gen.jacobian(C)
    fro2 = float(np.sum(J * J))
    assert abs(np.trace(K) - fro2) <= RTOL * max(fro2, 1e-300)


@given(setups(), seeds)
def test_jvp_vjp_adjoint(s, seed2):
    gen, U, n, k, seed = s
    rng = np.random.default_rng(seed2)
    C = gen.init(seed=seed)
    D = rng.standard_normal((n, k))
    r = rng.standard_normal(n)
    JD = gen.jvp(C, D)
    JTr = gen.vjp(C, r)
    lhs, rhs = float(JD @ r), float(np.sum(D * JTr))
    scale = float(np.abs(JD) @ np.abs(r)) + float(np.sum(np.abs(D * JTr))) + 1e-300
    assert abs(lhs - rhs) <= 10 * RTOL * scale


@given(setups(), seeds)
def test_kernel_invariant_to_channel_permutation_within_sign_groups(s, seed2):
    gen, U, n, k, seed = s
    rng = np.random.default_rng(seed2)
    C = gen.init(seed=seed)
    h = k // 2
    perm = np.concatenate([rng.permutation(h), h + rng.permutation(h)])
    K = nt.empirical_kernel(gen, C)
    assert_close(nt.empirical_kernel(gen, C[:, perm]), K, what="K(C P)")
    # forward is invariant too (channels within a sign group are exchangeable)
    assert_close(gen.forward(C[:, perm]), gen.forward(C), what="G(C P)")


@given(setups(), seeds)
def test_kernel_invariant_to_joint_permutation_of_channels_and_weights(s, seed2):
    """With arbitrary output weights (the float64 path), permuting C and v together."""
    gen, U, n, k, seed = s
    rng = np.random.default_rng(seed2)
    v = rng.uniform(-1, 1, k)
    perm = rng.permutation(k)
    op = gen.operator
    g1 = nt.TwoLayerGenerator(op, k, output_weights=v)
    g2 = nt.TwoLayerGenerator(op, k, output_weights=v[perm])
    C = g1.init(seed=seed)
    assert_close(nt.empirical_kernel(g2, C[:, perm]), nt.empirical_kernel(g1, C), what="K")


@given(setups(), st.integers(0, 1000), st.floats(0.1, 10.0))
def test_scale_invariance_of_kernel_and_homogeneity_of_output(s, shift_seed, alpha):
    gen, U, n, k, seed = s
    C = gen.init(seed=seed)
    assert_close(nt.empirical_kernel(gen, alpha * C), nt.empirical_kernel(gen, C), what="K(αC) = K(C)")
    assert_close(gen.forward(alpha * C), alpha * gen.forward(C), what="G(αC) = αG(C)")


@given(setups(), st.integers(1, 39), st.integers(1, 30))
def test_gradient_descent_shift_equivariance(s, shift, steps):
    gen, U, n, k, seed = s
    rng = np.random.default_rng(seed)
    C0 = gen.init(seed=rng, omega=0.5)
    y = rng.standard_normal(n)
    shift = shift % n
    eta = nt.max_step_size(gen)
    record = [0, steps // 2, steps]
    t1 = nt.gradient_descent(gen, y, C0, eta, steps, record=record)
    t2 = nt.gradient_descent(gen, np.roll(y, shift), np.roll(C0, shift, axis=0), eta, steps, record=record)
    assert_close(t2.losses, t1.losses, rtol=SHIFT_TOL, what="losses")
    assert_close(t2.outputs, np.roll(t1.outputs, shift, axis=1), rtol=SHIFT_TOL, what="outputs")
    assert_close(t2.C, np.roll(t1.C, shift, axis=0), rtol=SHIFT_TOL, what="final C")


@given(setups(methods=circulant_methods))
def test_expected_kernel_is_circulant_and_fft_spectrum_matches_eigvalsh(s):
    gen, U, n, k, seed = s
    # Σ through the generic (non-circulant) path on the dense U is circulant
    S = nt.expected_kernel(nt.TwoLayerGenerator(DenseOperator(U), k))
    scale = _scale(S)
    idx = (np.arange(n)[None, :] - np.arange(n)[:, None]) % n
    circ = S[0][idx]
    assert float(np.max(np.abs(S - circ))) <= 10 * RTOL * scale
    # and agrees with the circulant first row
    row = nt.expected_kernel_first_row(gen)
    assert float(np.max(np.abs(S[0] - row))) <= 10 * RTOL * scale
    # FFT spectrum vs eigvalsh of the dense (naive) Σ
    S_ref = naive.expected_kernel(U, gen.output_weights)
    lam = np.linalg.eigvalsh(S_ref)[::-1]
    spec = nt.spectrum(gen)
    assert spec.method == "circulant-fft"
    assert_close(spec.eigenvalues, lam, rtol=SPECTRUM_TOL, what="FFT spectrum vs eigvalsh")


@given(ns, st.floats(0.1, 10.0), ks)
def test_delta_filter_gives_half_identity(n, scale, k):
    gen = nt.TwoLayerGenerator(CircularConv(F.delta(), n), k)
    np.testing.assert_allclose(nt.expected_kernel(gen), 0.5 * np.eye(n), rtol=0, atol=1e-15)
    np.testing.assert_allclose(nt.spectrum(gen).eigenvalues, np.full(n, 0.5), rtol=0, atol=1e-15)
    gen_dense = nt.TwoLayerGenerator(DenseOperator(np.eye(n)), k)
    np.testing.assert_allclose(nt.expected_kernel(gen_dense), 0.5 * np.eye(n), rtol=0, atol=1e-15)
    # an un-normalised δ of height a: Σ = a²/2 · I
    gen_a = nt.TwoLayerGenerator(CircularConv(F.Filter([scale], normalize=False), n), k)
    np.testing.assert_allclose(nt.expected_kernel(gen_a), 0.5 * scale**2 * np.eye(n), rtol=RTOL, atol=0)


# --------------------------------------------------------------------------- linearized dynamics
@given(setups(methods=st.just("fft")), st.floats(0.05, 1.0), st.booleans(), seeds)
def test_linearized_stable_step_contracts_each_component(s, frac, network_bound, seed2):
    gen, U, n, k, seed = s
    spec = nt.spectrum(gen)
    eta = frac * (nt.max_step_size(gen) if network_bound else nt.max_step_size(spec))
    y = np.random.default_rng(seed2).standard_normal(n)
    lin = nt.linearized(spec, y, eta)
    taus = np.arange(0, 30)
    R = lin.residual(taus)
    norms = np.linalg.norm(R, axis=1)
    assert np.all(np.diff(norms) <= RTOL * norms[0]), "residual norm increased"
    # components decay exactly as (1 − ηλ)^τ, λ from eigvalsh of the dense naive Σ
    lam = np.linalg.eigvalsh(naive.expected_kernel(U, gen.output_weights))[::-1]
    q = 1.0 - eta * np.maximum(lam, 0.0)
    coef = spec.project(y)
    assert_close(lin.coefficients, coef, what="coefficients = project(r0)")
    for tau in (0, 1, 5, 29):
        assert_close(lin.component_factors(tau), q**tau, rtol=ROUNDTRIP_TOL, what="(1 − ηλ)^τ")
        assert_close(spec.project(R[tau]), lin.component_factors(tau) * coef, rtol=ROUNDTRIP_TOL,
                     what="project(residual(τ))")


@given(setups(), st.booleans(), st.floats(0.05, 1.0))
def test_linearized_output_at_zero_is_network_output(s, with_A, frac):
    gen, U, n, k, seed = s
    rng = np.random.default_rng(seed)
    C0 = gen.init(seed=rng, omega=0.5)
    f0 = gen.forward(C0)
    A = rng.standard_normal((max(1, n // 2), n)) if with_A else None
    y = rng.standard_normal(n if A is None else A.shape[0])
    eta = frac * nt.max_step_size(gen, A)
    lin = nt.linearized(gen, y, eta, f0=f0, A=A)
    assert_close(lin.output(0), f0, rtol=ROUNDTRIP_TOL, what="f_0")
    # and the initial residual is y − A f0
    r0 = y - (f0 if A is None else A @ f0)
    assert_close(lin.residual(0), r0, rtol=ROUNDTRIP_TOL, what="r_0")


# --------------------------------------------------------------------------- trig basis
@given(st.integers(1, 64))
def test_trig_basis_orthonormal(n):
    W = nt.trig_basis(n)
    assert_close(W.T @ W, np.eye(n), what="WᵀW")
    assert_close(W @ W.T, np.eye(n), what="WWᵀ")


@given(st.integers(1, 64), seeds)
def test_frequency_energy_parseval(n, seed):
    x = np.random.default_rng(seed).standard_normal(n)
    E = nt.frequency_energy(x)
    assert E.shape == (n // 2 + 1,)
    assert np.all(E >= 0)
    assert abs(float(E.sum()) - float(x @ x)) <= RTOL * float(x @ x)


@given(setups(), st.booleans())
def test_spectrum_synthesize_inverts_project(s, dense):
    gen, U, n, k, seed = s
    spec = nt.spectrum(np.array(naive.expected_kernel(U, gen.output_weights)) if dense else gen)
    x = np.random.default_rng(seed).standard_normal((n, 2))
    assert_close(spec.synthesize(spec.project(x)), x, what="synthesize ∘ project")
    assert_close(spec.project(spec.synthesize(x)), x, what="project ∘ synthesize")
    assert abs(float(np.sum(spec.project(x[:, 0]) ** 2)) - float(x[:, 0] @ x[:, 0])) <= RTOL * float(x[:, 0] @ x[:, 0])


@given(setups())
def test_mirrored_init_gives_zero_output(s):
    gen, U, n, k, seed = s
    C0 = gen.init(seed=seed, omega=0.7, symmetric=True)
    assert np.array_equal(C0[:, : k // 2], C0[:, k // 2:])
    g = gen.forward(C0)
    assert float(np.max(np.abs(g))) <= RTOL * max(1.0, float(np.max(np.abs(gen.preactivation(C0)))))
