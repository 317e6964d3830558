"""Spectra of deep generators' Jacobians, the trigonometric overlap, decay fits, subspace drift and fitting."""

from __future__ import annotations

import naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ntk_toolkit as nt
from conftest import PROJ_TOL, RTOL, assert_close
from ntk_toolkit.deep import (
    DeepDecoder,
    MultiLayerConvGenerator,
    decay_rate,
    fit,
    jacobian_spectrum,
    subspace_drift,
    trig_overlap,
)
from ntk_toolkit.deep.spectra import trig_functions
from ntk_toolkit.filters import triangle

#: Lanczos (ARPACK, tol=1e-12) against LAPACK's SVD: eigenvalues of J Jᵀ to ~1e-12 relative,
#: singular values (square roots) to about half that.
LANCZOS_TOL = 1e-9


def _projector(V):
    return V @ V.T


@pytest.mark.parametrize("net", [
    DeepDecoder((16, 16), [4, 6, 6, 6]),           # n = 256 > P = 130: Lanczos on Jᵀ J
    DeepDecoder((32,), [4, 16, 16, 16]),           # n = 32 < P: Lanczos on J Jᵀ
    MultiLayerConvGenerator([nt.CircularConv(triangle(2), 40)] * 2, [6, 6]),
], ids=["JtJ", "JJt", "multilayer"])
def test_lanczos_matches_the_dense_svd(net):
    theta = net.init(seed=1)
    U, s, _ = np.linalg.svd(net.jacobian(theta), full_matrices=False)
    r = 5
    spec = jacobian_spectrum(net, theta, r, method="lanczos", tol=1e-12, seed=0)
    assert_close(spec.singular_values, s[:r], LANCZOS_TOL, "singular values")
    assert spec.products > 0
    assert s[r - 1] > s[r] * (1 + 1e-6)  # the top-r subspace is well defined
    assert_close(_projector(spec.vectors), _projector(U[:, :r]), 1e-7, "top-r left subspace")
    dense = jacobian_spectrum(net, theta, r, method="dense")
    assert_close(dense.singular_values, s[:r], RTOL, "dense")
    assert_close(np.abs(dense.vectors.T @ U[:, :r]), np.eye(r), PROJ_TOL, "dense vectors")


def test_trig_functions_are_the_lowest_frequencies():
    W1 = trig_functions((12,), 12)
    assert_close(W1, nt.trig_basis(12), RTOL, "1-D order")
    W2 = trig_functions((6, 8), 48)
    assert_close(W2.T @ W2, np.eye(48), RTOL, "orthonormal")
    # radii of the chosen functions do not decrease
    H, W = 6, 8
    m1, m2 = np.divmod(np.arange(H * W), W)
    energy = []
    for col in W2.T:
        F = np.abs(np.fft.fft2(col.reshape(H, W))) ** 2
        f1, f2 = np.unravel_index(np.argmax(F), F.shape)
        f1, f2 = min(f1, H - f1), min(f2, W - f2)
        energy.append(min(H, W) * np.hypot(f1 / H, f2 / W))
    assert np.all(np.diff(energy) >= -1e-12)
    assert_close(W2[:, 0], np.full(48, 1 / np.sqrt(48)), RTOL, "constant first")


@given(seed=st.integers(0, 2**16), j=st.integers(1, 10))
def test_trig_overlap_depends_on_the_subspace_only(seed, j):
    """Rotating the top-j vectors among themselves (any invertible mix) leaves the j-th overlap unchanged."""
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((24, 10))
    M = rng.standard_normal((j, j)) + 3 * np.eye(j)
    V2 = V.copy()
    V2[:, :j] = V[:, :j] @ M
    a, b = trig_overlap(V, (24,)), trig_overlap(V2, (24,))
    assert abs(a[j - 1] - b[j - 1]) <= 1e-12
    assert np.all((a >= 0) & (a <= 1))


def test_trig_overlap_extremes_and_random_level():
    W = trig_functions((8, 8), 64)
    assert_close(trig_overlap(W[:, :10], (8, 8)), np.ones(10), RTOL, "trig basis itself")
    assert_close(trig_overlap(W[:, 54:], (8, 8)), np.zeros(10), 1e-12, "highest frequencies")
    rng = np.random.default_rng(0)
    avg = np.mean([trig_overlap(rng.standard_normal((64, 8)), (8, 8)) for _ in range(200)], axis=0)
    # E overlap_j = j/n for a uniformly random subspace; 200 draws: standard error below 0.01
    assert_close(avg, np.arange(1, 9) / 64, 0.2, "random subspace")


def test_decay_rate_and_subspace_drift():
    s = 5.0 * 0.7 ** np.arange(12)
    fit_ = decay_rate(s)
    assert abs(fit_.rate - 0.7) < 1e-12 and abs(fit_.r2 - 1) < 1e-12 and fit_.count == 12
    assert decay_rate(np.r_[100.0, s], skip=1).rate == pytest.approx(0.7, rel=1e-12)
    noisy = decay_rate(np.exp(np.random.default_rng(0).standard_normal(30)) + 1)
    assert noisy.r2 < 0.5
    t = 0.3
    V0 = np.eye(4)[:, :2]
    V1 = np.stack([np.eye(4)[:, 0], np.cos(t) * np.eye(4)[:, 1] + np.sin(t) * np.eye(4)[:, 2]], axis=1)
    assert_close(subspace_drift(V0, V1), [0.0, t], 1e-12, "angles")
    assert_close(subspace_drift(V1 @ np.array([[2.0, 1.0], [0.0, 1.0]]), V1), [0.0, 0.0], 1e-7, "same span")


# --------------------------------------------------------------------------- fitting
def test_gd_fit_equals_gradient_descent():
    net = DeepDecoder((16,), [4, 8, 8], output="linear")
    theta0, y = net.init(seed=0), np.cos(2 * np.pi * np.arange(16) / 16)
    ours = fit(net, y, theta0, optimizer="gd", lr=1e-3, steps=25, record=[0, 25])
    ref = nt.gradient_descent(net, y, theta0, eta=1e-3, steps=25, record=[0, 25])
    assert_close(ours.losses, ref.losses, RTOL, "losses")
    assert_close(ours.outputs, ref.outputs, RTOL, "outputs")


def test_adam_fit_matches_the_written_out_adam():
    net = DeepDecoder((16,), [4, 6, 6])
    theta0, y = net.init(seed=0), 0.5 + 0.2 * np.sin(2 * np.pi * np.arange(16) / 16)
    ours = fit(net, y, theta0, optimizer="adam", lr=0.01, steps=15, record=[15])
    ref = naive.adam_run(lambda t: net.vjp(t, net.forward(t) - y), theta0, 0.01, 15)
    assert_close(ours.theta, ref, 1e-11, "Adam parameters")
    assert_close(ours.outputs[-1], net.forward(ref), 1e-11, "Adam output")


def test_fit_records_spectra_and_stops():
    net = DeepDecoder((16,), [4, 8, 8])
    y = 0.5 + 0.3 * np.cos(2 * np.pi * np.arange(16) / 16)
    traj = fit(net, y, net.init(seed=0), lr=0.01, steps=500, jacobian_every=10, rank=4, stop_at=0.05)
    assert traj.converged and traj.losses[-1] <= 0.05 * traj.losses[0]
    assert traj.spectrum_iterations[0] == 0 and traj.spectrum_iterations[-1] == traj.steps
    assert traj.singular_vectors.shape == (traj.spectrum_iterations.size, 16, 4)
    assert traj.iterations[-1] == traj.steps and traj.steps_to(0.05) == traj.steps


def test_fit_detects_divergence_and_rejects_bad_input():
    net = DeepDecoder((16,), [4, 8, 8], output="linear")
    theta0, y = net.init(seed=0), np.ones(16)
    with pytest.raises(nt.DivergenceError, match="gd diverged at iteration"):
        fit(net, y, theta0, optimizer="gd", lr=10.0, steps=50)
    with pytest.raises(ValueError, match="optimizer must be"):
        fit(net, y, theta0, optimizer="sgd")
    with pytest.raises(ValueError, match="y must have shape"):
        fit(net, np.ones(15), theta0)
    with pytest.raises(ValueError, match="lr must be"):
        fit(net, y, theta0, lr=-1.0)
    with pytest.raises(ValueError, match="r must be below"):
        jacobian_spectrum(net, theta0, 16)
    with pytest.raises(ValueError, match="prod"):
        trig_overlap(np.ones((15, 2)), (4, 4))
    with pytest.raises(ValueError, match="positive"):
        decay_rate([1.0, 0.0])
    with pytest.raises(ValueError, match="same number of rows"):
        subspace_drift(np.ones((4, 1)), np.ones((5, 1)))
