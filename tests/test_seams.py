"""The interfaces the layers above depend on: operators, generators, "a kernel".

* A user's operator that implements only the :class:`OperatorLike` protocol
  works through the generator, both kernels, gradient descent and the
  linearized prediction, and gives what :class:`DenseOperator` gives.
* An operator whose ``basis`` is ``None`` never gets an FFT spectrum.
* A user's generator that implements only the :class:`Generator` protocol
  runs through gradient descent, the empirical kernel and the prediction.
* ``as_spectrum`` is the one converter; renamed arguments still work, with a warning.
"""

from __future__ import annotations

import naive
import numpy as np
import pytest

import ntk_toolkit as nt
from ntk_toolkit import _jit
from ntk_toolkit.bases import TrigBasis
from ntk_toolkit.filters import triangle
from ntk_toolkit.generator import Generator
from ntk_toolkit.operators import CircularConv, DenseOperator, Operator, OperatorLike, as_operator

TOL = 1e-12


class MatrixOnly:
    """A user operator: a small dense matrix with nothing but the protocol (n, apply, apply_T)."""

    def __init__(self, U):
        self.U = np.asarray(U, dtype=float)
        self.n = self.U.shape[0]

    def apply(self, x):
        return self.U @ x

    def apply_T(self, x):
        return self.U.T @ x


def _matrix(n=12, seed=0):
    return np.random.default_rng(seed).standard_normal((n, n)) / np.sqrt(n) + np.eye(n)


def test_protocol_operator_matches_dense_operator_through_every_layer():
    U = _matrix()
    n, k = U.shape[0], 64
    user = nt.TwoLayerGenerator(MatrixOnly(U), k=k)
    dense = nt.TwoLayerGenerator(DenseOperator(U), k=k)
    assert isinstance(MatrixOnly(U), OperatorLike) and user.operator.basis is None
    C0 = dense.init(seed=1, omega=0.5)
    y = np.random.default_rng(2).standard_normal(n)
    # forward, jvp, vjp, the dense Jacobian
    np.testing.assert_allclose(user.forward(C0), dense.forward(C0), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(user.forward(C0), naive.forward(U, C0, dense.v), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(user.vjp(C0, y), dense.vjp(C0, y), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(user.jacobian(C0), dense.jacobian(C0), rtol=TOL, atol=TOL)
    # both kernels: empirical (every method) and expected (the dense path)
    for method in ("structured", "blas", "jacobian"):
        np.testing.assert_allclose(nt.empirical_kernel(user, C0, method=method),
                                   nt.empirical_kernel(dense, C0, method=method), rtol=TOL, atol=TOL)
    Sigma = nt.expected_kernel(user)
    np.testing.assert_allclose(Sigma, nt.expected_kernel(dense), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(Sigma, naive.expected_kernel(U, dense.v), rtol=1e-10, atol=1e-12)
    # spectrum, step size, gradient descent, the linearized prediction
    assert nt.spectrum(user).method == "eigh"
    np.testing.assert_allclose(nt.spectrum(user).eigenvalues, nt.spectrum(dense).eigenvalues, rtol=1e-10, atol=TOL)
    eta = nt.max_step_size(dense)
    assert nt.max_step_size(user) == pytest.approx(eta, rel=1e-12)
    t_user = nt.gradient_descent(user, y, C0, eta, 30, record=[0, 10, 30])
    t_dense = nt.gradient_descent(dense, y, C0, eta, 30, record=[0, 10, 30])
    np.testing.assert_allclose(t_user.outputs, t_dense.outputs, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(t_user.C, t_dense.C, rtol=1e-11, atol=1e-12)
    lin_u = nt.linearized(nt.empirical_kernel(user, C0), y, eta, f0=user.forward(C0))
    lin_d = nt.linearized(nt.empirical_kernel(dense, C0), y, eta, f0=dense.forward(C0))
    np.testing.assert_allclose(lin_u.output([10, 30]), lin_d.output([10, 30]), rtol=1e-10, atol=1e-12)


class LooksCirculant(MatrixOnly):
    """A non-circulant operator that carries the old circulant flag and a first row, but no basis."""

    is_circulant = True

    def gram_first_row(self):
        return (self.U @ self.U.T)[0]


def test_an_operator_without_basis_never_gets_an_fft_spectrum():
    U = _matrix(10, seed=3)
    gen = nt.TwoLayerGenerator(LooksCirculant(U), k=4)
    assert gen.operator.basis is None
    s = nt.spectrum(gen)
    Sigma = naive.expected_kernel(U, gen.v)
    assert s.method == "eigh" and not s.is_circulant
    np.testing.assert_allclose(s.eigenvalues, np.sort(np.linalg.eigvalsh(Sigma))[::-1], rtol=1e-10, atol=1e-12)
    # what an FFT of the first row would have given is wrong for this operator
    wrong = nt.circulant_spectrum(0.5 * (Sigma[0] + Sigma[0][(-np.arange(10)) % 10])).eigenvalues
    assert np.max(np.abs(wrong - s.eigenvalues)) > 1e-3
    with pytest.raises(ValueError, match="basis"):
        nt.expected_kernel_first_row(gen)
    # and the empirical kernel takes the general (dense U Uᵀ) path
    C = gen.init(seed=0)
    np.testing.assert_allclose(nt.empirical_kernel(gen, C), nt.empirical_kernel(gen, C, method="jacobian"),
                               rtol=TOL, atol=TOL)


def test_a_circular_convolution_carries_the_trigonometric_basis():
    op = CircularConv(triangle(3), 16)
    assert op.basis == TrigBasis(16) and op.direct_taps() is not None
    assert CircularConv(triangle(3), 16, method="fft").direct_taps() is None
    assert DenseOperator(np.eye(4)).basis is None and DenseOperator(np.eye(4)).direct_taps() is None
    s = nt.spectrum(nt.TwoLayerGenerator(op, k=2))
    assert s.basis == op.basis and s.frequencies.shape == (16, 1)
    W = TrigBasis(16).matrix()
    np.testing.assert_allclose(W.T @ W, np.eye(16), atol=1e-13)


def test_as_operator_wraps_a_protocol_object_and_rejects_others():
    op = as_operator(MatrixOnly(np.eye(3) * 2))
    assert isinstance(op, Operator) and op.shape == (3, 3) and op.norm() == pytest.approx(2.0)
    with pytest.raises(ValueError, match="x must have 3 rows"):
        op.apply(np.ones(4))
    assert as_operator(DenseOperator(np.eye(2))).__class__ is DenseOperator
    with pytest.raises(TypeError, match="without 'apply_T'"):
        as_operator(type("Half", (), {"n": 2, "apply": lambda self, x: x})())


class LinearGenerator:
    """A generator of the protocol only: ``G(C) = B vec(C)`` (its own linearization)."""

    def __init__(self, n=8, p=20, seed=0):
        self.B = np.random.default_rng(seed).standard_normal((n, p)) / np.sqrt(p)
        self.n, self.p = n, p

    @property
    def num_params(self):
        return self.p

    def init(self, seed=None, omega=1.0):
        return omega * np.random.default_rng(seed).standard_normal(self.p)

    def forward(self, C):
        return self.B @ C

    def jvp(self, C, D):
        return self.B @ D

    def vjp(self, C, r):
        return self.B.T @ r


def test_a_protocol_generator_runs_through_gradient_descent_and_the_prediction():
    gen = LinearGenerator()
    assert isinstance(gen, Generator) and not isinstance(gen.B, Generator)
    C0 = gen.init(seed=1, omega=0.3)
    y = np.random.default_rng(2).standard_normal(gen.n)
    K = nt.empirical_kernel(gen, C0)
    np.testing.assert_allclose(K, gen.B @ gen.B.T, rtol=TOL, atol=TOL)
    eta = nt.max_step_size(K)
    steps = [0, 1, 5, 40]
    traj = nt.gradient_descent(gen, y, C0, eta, 40, record=steps)
    lin = nt.linearized(K, y, eta, f0=gen.forward(C0))
    # a linear model is its own linearization: prediction and descent agree at every step
    np.testing.assert_allclose(traj.outputs, lin.output(steps), rtol=1e-10, atol=1e-12)
    assert traj.reason == "ran the requested steps=40"
    with pytest.raises(TypeError, match="kernel_norm_bound"):
        nt.max_step_size(gen)


def test_trajectory_says_why_it_stopped():
    gen = nt.TwoLayerGenerator(CircularConv(triangle(2), 16), k=32)
    y = np.cos(2 * np.pi * np.arange(16) / 16)
    C0 = gen.init(seed=0, omega=0.1)
    eta = nt.max_step_size(gen)
    t = nt.gradient_descent(gen, y, C0, eta, 3, stop_at=1e-12)
    assert not t.converged and t.reason.startswith("step cap steps=3 reached")
    t = nt.gradient_descent(gen, y, C0, eta, 2000, stop_at=1e-3)
    assert t.converged and t.reason == f"loss fell below stop_at=0.001 × initial loss after {t.steps} steps"
    assert t.to_dict()["reason"] == t.reason


def test_as_spectrum_is_the_one_converter():
    gen = nt.TwoLayerGenerator(CircularConv(triangle(2), 8), k=2)
    s = nt.as_spectrum(gen)
    assert nt.as_spectrum(s) is s and nt.spectrum(s) is s
    np.testing.assert_allclose(nt.as_spectrum(nt.expected_kernel(gen)).eigenvalues, s.eigenvalues, atol=1e-13)
    with pytest.raises(TypeError, match="kernel must be"):
        nt.as_spectrum("K")


def test_renamed_arguments_still_work_with_a_deprecation_warning():
    gen = nt.TwoLayerGenerator(CircularConv(triangle(2), 8), k=2)
    y = np.ones(8)
    with pytest.warns(DeprecationWarning, match="'kernel_or_spectrum' is now called 'kernel'"):
        old = nt.linearized(kernel_or_spectrum=gen, y=y, eta=0.5)
    np.testing.assert_array_equal(old.residual(3), nt.linearized(kernel=gen, y=y, eta=0.5).residual(3))
    with pytest.warns(DeprecationWarning, match="'gen_or_kernel'"):
        assert nt.max_step_size(gen_or_kernel=gen) == nt.max_step_size(gen)
    with pytest.warns(DeprecationWarning, match="'obj'"):
        assert nt.spectrum(obj=gen).eigenvalues.tolist() == nt.spectrum(gen).eigenvalues.tolist()
    with pytest.raises(TypeError, match="both 'kernel' and its old name"):
        nt.linearized(gen, y, 0.5, kernel_or_spectrum=gen)


def test_old_module_paths_still_resolve():
    from ntk_toolkit import dynamics, operators, recovery

    assert recovery.run_to_convergence is dynamics.run_to_convergence
    assert operators.GaussianMeasurement is nt.measurements.GaussianMeasurement
    assert dynamics.linearized is nt.linearized


@pytest.mark.parametrize("value, expected", [(None, True), ("1", True), ("0", False), ("off", False), ("False", False)])
def test_numba_cache_switch(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(_jit.CACHE_ENV, raising=False)
    else:
        monkeypatch.setenv(_jit.CACHE_ENV, value)
    assert _jit.cache_enabled() is expected
    assert _jit._options()["cache"] is expected
