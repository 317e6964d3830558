"""The image experiments on tiny images, against direct computations: PSNR recomputed from the
returned images, the linearized prediction from the dense ``Σ`` and matrix powers, fit times,
the interpolation condition ``A x̂ = y``; and their bad-input errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ntk_toolkit import CircularConv2D, TwoLayerGenerator, expected_kernel, filters, images, linearized, recovery_law
from ntk_toolkit.dynamics import gradient_descent, max_step_size
from ntk_toolkit.image_experiments import (
    DEFAULT_OMEGA,
    denoise_image,
    fit_image_vs_noise,
    inpaint_image,
)
from ntk_toolkit.measurements import GaussianMeasurement, RandomMask, SubsampledDCT, SubsampledDCT2D

SHAPE = (8, 10)
#: PSNR and outputs computed two ways (FFT eigenbasis vs dense Σ and matrix powers): rounding only.
TOL = 1e-8


@pytest.fixture(scope="module")
def gen():
    return TwoLayerGenerator(CircularConv2D(filters.bilinear(), SHAPE), k=32)


@pytest.fixture(scope="module")
def clean():
    return images.load("camera", SHAPE)


@pytest.fixture(scope="module")
def sigma_dense(gen):
    return expected_kernel(gen)


def _psnr(a, b):
    return images.psnr(np.asarray(a).reshape(-1), np.asarray(b).reshape(-1))


# ----------------------------------------------------------------------------- denoise_image
@pytest.fixture(scope="module")
def denoised(gen, clean):
    return denoise_image(gen, clean, sigma=0.1, steps=40, seed=3)


def test_denoise_psnr_recomputed_from_images(denoised):
    r = denoised
    assert r.psnr.shape == r.iterations.shape and r.iterations[0] == 0 and r.iterations[-1] == 40
    assert math.isclose(r.best_psnr, _psnr(r.early_stopped, r.clean), abs_tol=TOL)
    assert math.isclose(r.final_psnr, _psnr(r.final, r.clean), abs_tol=TOL)
    assert math.isclose(r.noisy_psnr, _psnr(r.noisy, r.clean), abs_tol=TOL)
    assert r.best_psnr == r.psnr.max() and r.best_iteration == r.iterations[np.argmax(r.psnr)]
    assert r.predicted_best_iteration in r.iterations.tolist()  # the default record includes τ*
    i = int(np.flatnonzero(r.iterations == r.predicted_best_iteration)[0])
    assert r.psnr_at_predicted_best == r.psnr[i]


def test_denoise_prediction_against_dense_matrix_powers(denoised, gen, sigma_dense):
    """``f_τ = y − (I − ηΣ)^τ y`` (``G(C_0) = 0``, mirrored) from the dense ``Σ``, at every ``τ``."""
    r = denoised
    y, x = r.noisy.reshape(-1), r.clean.reshape(-1)
    Q = np.eye(y.size) - r.eta * sigma_dense
    residual = y.copy()
    for tau in range(r.steps + 1):
        f = y - residual
        assert math.isclose(r.predicted_psnr_all[tau], _psnr(f, x), abs_tol=TOL), tau
        if tau == r.predicted_best_iteration:
            np.testing.assert_allclose(r.predicted_early_stopped.reshape(-1), f, atol=1e-10)
        residual = Q @ residual
    assert r.predicted_best_iteration == int(np.argmax(r.predicted_psnr_all))
    np.testing.assert_array_equal(r.predicted_psnr, r.predicted_psnr_all[r.iterations])


def test_denoise_seeding_and_network_run(denoised, gen, clean):
    """The noise and ``C_0`` come from two streams spawned from ``seed``, in that order."""
    r_noise, r_init = np.random.default_rng(3).spawn(2)
    y = images.add_noise(clean.reshape(-1), 0.1, seed=r_noise, clip=False)
    np.testing.assert_array_equal(denoised.noisy.reshape(-1), y)
    C0 = gen.init(seed=r_init, omega=DEFAULT_OMEGA, symmetric=True)
    assert np.max(np.abs(gen.forward(C0))) < 1e-12  # mirrored: G(C_0) = 0
    traj = gradient_descent(gen, y, C0, max_step_size(gen), 40, record=[denoised.best_iteration, 40])
    np.testing.assert_allclose(traj.outputs[0], denoised.early_stopped.reshape(-1), atol=1e-12)
    np.testing.assert_allclose(traj.losses, denoised.losses, rtol=1e-12)
    again = denoise_image(gen, clean, sigma=0.1, steps=40, seed=3)
    np.testing.assert_array_equal(again.psnr, denoised.psnr)


def test_denoise_given_noisy_record_clip_and_dict(gen, clean):
    noisy = np.clip(clean + 0.2 * np.random.default_rng(0).standard_normal(SHAPE), 0, 1)
    r = denoise_image(gen, clean, None, 10, noisy=noisy, record=[0, 3, 10])
    np.testing.assert_array_equal(r.noisy, noisy)
    assert r.sigma is None and r.iterations.tolist() == [0, 3, 10]
    if r.predicted_best_iteration not in (0, 3, 10):
        assert math.isnan(r.psnr_at_predicted_best)
    clipped = denoise_image(gen, clean, 0.3, 5, clip=True, record=[0, 5])
    assert clipped.clip and clipped.noisy.min() >= 0 and clipped.noisy.max() <= 1
    d = json.loads(json.dumps(r.to_dict()))
    assert d["iterations"] == [0, 3, 10] and len(d["predicted_psnr"]) == 3 and "clean" not in d


def test_denoise_kernel_argument(gen, clean, sigma_dense):
    """A dense kernel gives the same prediction as the generator's FFT spectrum."""
    a = denoise_image(gen, clean, 0.1, 15, seed=1, record=[0, 15])
    b = denoise_image(gen, clean, 0.1, 15, seed=1, record=[0, 15], kernel=sigma_dense)
    np.testing.assert_allclose(a.predicted_psnr_all, b.predicted_psnr_all, atol=TOL)


# ----------------------------------------------------------------------------- fit_image_vs_noise
@pytest.fixture(scope="module")
def fitted(gen, clean):
    return fit_image_vs_noise(gen, clean, 400, seed=0, delta=0.2)


def test_fit_times_consistent(fitted, gen, sigma_dense, clean):
    r = fitted
    x, z = clean.reshape(-1), r.noise.reshape(-1)
    assert math.isclose(np.linalg.norm(z), np.linalg.norm(x), rel_tol=1e-12)
    for act, pred_curve, t_act, t_pred, y in (
            (r.residual_image, r.predicted_residual_image, r.fit_time_image, r.predicted_fit_time_image, x),
            (r.residual_noise, r.predicted_residual_noise, r.fit_time_noise, r.predicted_fit_time_noise, z)):
        assert act[0] == 1.0 and pred_curve[0] == 1.0
        # actual: the run stops at the first τ with residual ≤ δ
        assert math.isfinite(t_act) and t_act == act.size - 1
        assert act[-1] <= r.delta < act[-2]
        # predicted: the dense kernel gives the same fit time, and it is the first crossing of the curve
        assert linearized(sigma_dense, y, r.eta).fit_time(r.delta) == t_pred
        assert int(np.flatnonzero(pred_curve <= r.delta)[0]) == t_pred
    assert r.ratio == r.fit_time_noise / r.fit_time_image
    assert r.predicted_ratio == r.predicted_fit_time_noise / r.predicted_fit_time_image
    assert r.fit_time_noise > r.fit_time_image


def test_fit_predicted_curve_against_matrix_powers(fitted, sigma_dense, clean):
    x = clean.reshape(-1)
    Q = np.eye(x.size) - fitted.eta * sigma_dense
    r = x.copy()
    for tau in range(min(30, fitted.predicted_residual_image.size)):
        assert math.isclose(fitted.predicted_residual_image[tau], np.linalg.norm(r) / np.linalg.norm(x), abs_tol=TOL)
        r = Q @ r


def test_fit_not_reached_and_uniform_noise(gen, clean):
    r = fit_image_vs_noise(gen, clean, 3, noise="uniform", delta=0.01)
    assert r.fit_time_noise == math.inf and r.residual_noise.size == 4
    assert r.noise.min() >= 0 and r.noise_kind == "uniform"
    assert json.loads(json.dumps(r.to_dict()))["fit_time_noise"] == "inf"


# ----------------------------------------------------------------------------- inpaint_image
def _dense_interpolant(S, A, y):
    M = A @ S @ A.T
    return S @ A.T @ np.linalg.solve(M, y)


@pytest.mark.parametrize("kind", ["mask", "gaussian", "dct", "dct2d"])
def test_inpaint_interpolant_and_psnr(kind, gen, clean, sigma_dense):
    n = clean.size
    x = clean.reshape(-1)
    A = {"mask": RandomMask(n, m=30, seed=1), "gaussian": GaussianMeasurement(30, n, seed=1),
         "dct": SubsampledDCT(30, n, seed=1), "dct2d": SubsampledDCT2D(30, SHAPE, seed=1)}[kind]
    r = inpaint_image(gen, clean, A=A, max_steps=3000, rtol=1e-6, seed=0)
    y = A.apply(x)
    xh = r.interpolant.reshape(-1)
    np.testing.assert_allclose(A.apply(xh), y, atol=1e-9)  # A x̂ = y
    np.testing.assert_allclose(xh, _dense_interpolant(sigma_dense, A.todense(), y), atol=1e-9)
    assert r.m == 30 and r.converged
    assert math.isclose(r.psnr_interpolant, _psnr(r.interpolant, clean), abs_tol=TOL)
    assert math.isclose(r.psnr_network, _psnr(r.network, clean), abs_tol=TOL)
    assert math.isclose(r.psnr_min_l2, _psnr(r.observed, clean), abs_tol=TOL)
    assert math.isclose(r.error_interpolant, np.linalg.norm(xh - x) / np.linalg.norm(x), rel_tol=1e-12)
    assert math.isclose(r.distance_to_interpolant, np.linalg.norm(r.network - r.interpolant) / np.linalg.norm(x),
                        rel_tol=1e-12)
    np.testing.assert_allclose(r.observed.reshape(-1), np.linalg.pinv(A.todense()) @ y, atol=1e-9)  # A⁺y
    law = recovery_law(gen, x, 30)
    assert math.isclose(r.law_error, math.sqrt(law.total) / np.linalg.norm(x), rel_tol=1e-12)
    assert r.psnr[-1] == r.psnr_network and r.predicted_psnr[-1] == r.psnr_predicted


def test_inpaint_linear_model_against_matrix_powers(gen, clean, sigma_dense):
    """``f_τ = Σ Aᵀ (AΣAᵀ)⁻¹ [I − (I − ηAΣAᵀ)^τ] y`` at the recorded iterations (``G(C_0) = 0``)."""
    n = clean.size
    A = RandomMask(n, keep=0.4, seed=2)
    r = inpaint_image(gen, clean, A=A, max_steps=25, record=[0, 7, 25], gaussian_reference=False)
    assert r.steps == 25 and not r.converged and math.isnan(r.gaussian_error)
    Ad, x = A.todense(), clean.reshape(-1)
    y = Ad @ x
    M = Ad @ sigma_dense @ Ad.T
    P = np.eye(A.m) - r.eta * M
    for tau, ps in zip(r.iterations, r.predicted_psnr):
        f = sigma_dense @ Ad.T @ np.linalg.solve(M, (np.eye(A.m) - np.linalg.matrix_power(P, int(tau))) @ y)
        assert math.isclose(ps, _psnr(f, x), abs_tol=1e-7), tau
    assert json.loads(json.dumps(r.to_dict()))["gaussian_error"] == "nan"


def test_inpaint_keep_draws_a_mask(gen, clean):
    r = inpaint_image(gen, clean, keep=0.5, seed=4, max_steps=5, gaussian_reference=False)
    mask = RandomMask(clean.size, keep=0.5, seed=np.random.default_rng(4).spawn(3)[0])
    assert r.m == mask.m and r.measurement == repr(mask)
    kept = np.flatnonzero(r.observed.reshape(-1))
    assert set(kept.tolist()) <= set(mask.indices.tolist())


# ----------------------------------------------------------------------------- bad input
def test_bad_input(gen, clean):
    other = images.load("camera", (8, 8))
    with pytest.raises(ValueError, match=r"image has shape \(8, 8\).*\(8, 10\)"):
        denoise_image(gen, other, 0.1, 5)
    with pytest.raises(ValueError, match="image must be a gray image"):
        fit_image_vs_noise(gen, clean.reshape(-1), 5)
    with pytest.raises(ValueError, match="sigma must be a finite number > 0, got -0.1"):
        denoise_image(gen, clean, -0.1, 5)
    with pytest.raises(ValueError, match="sigma must be a noise standard deviation"):
        denoise_image(gen, clean, None, 5)
    with pytest.raises(ValueError, match="noisy must have shape"):
        denoise_image(gen, clean, None, 5, noisy=other)
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        denoise_image(gen, clean, 0.1, 0)
    with pytest.raises(ValueError, match="omega must be a finite number > 0"):
        denoise_image(gen, clean, 0.1, 5, omega=0.0)
    with pytest.raises(TypeError, match="gen must be a generator"):
        denoise_image("bilinear", clean, 0.1, 5)
    with pytest.raises(TypeError, match="clip must be True or False"):
        denoise_image(gen, clean, 0.1, 5, clip="yes")
    with pytest.raises(ValueError, match=r"record must name at least one iteration in \[0, steps=5\]"):
        denoise_image(gen, clean, 0.1, 5, record=np.array([], dtype=int))
    with pytest.raises(ValueError, match=r"record must contain iterations in \[0, steps=5\]"):
        denoise_image(gen, clean, 0.1, 5, record=[0, 9])
    with pytest.raises(ValueError, match="kernel has size n=4"):
        denoise_image(gen, clean, 0.1, 5, kernel=np.eye(4))
    with pytest.raises(ValueError, match="image must be finite"):
        denoise_image(gen, np.full(SHAPE, np.nan), 0.1, 5)
    with pytest.raises(ValueError, match=r"delta must be in \(0, 1\), got 1.0"):
        fit_image_vs_noise(gen, clean, 5, delta=1.0)
    with pytest.raises(ValueError, match="noise must be 'gaussian' or 'uniform', got 'pink'"):
        fit_image_vs_noise(gen, clean, 5, noise="pink")
    with pytest.raises(ValueError, match="image must not be zero"):
        fit_image_vs_noise(gen, np.zeros(SHAPE), 5)
    with pytest.raises(ValueError, match="give exactly one of keep"):
        inpaint_image(gen, clean)
    with pytest.raises(ValueError, match="give exactly one of keep"):
        inpaint_image(gen, clean, keep=0.5, A=RandomMask(clean.size, m=3))
    with pytest.raises(ValueError, match="keep must be a probability"):
        inpaint_image(gen, clean, keep=1.5)
    with pytest.raises(ValueError, match=r"A has shape \(3, 64\) but the signal length is n=80"):
        inpaint_image(gen, clean, A=RandomMask(64, m=3))
    with pytest.raises(TypeError, match="gaussian_reference must be True or False"):
        inpaint_image(gen, clean, keep=0.5, gaussian_reference=1)


# ----------------------------------------------------------------------------- regime diagnostics
def test_denoise_diagnostics_are_those_of_the_run(gen, clean):
    """``diagnostics=True`` judges the very run: the same arrays as gradient_descent with diagnostics at the
    20 geometric iterations, the PSNR curve unchanged."""
    from ntk_toolkit import linear_regime
    from ntk_toolkit.dynamics import geometric_iterations
    from ntk_toolkit.image_experiments import DIAGNOSTICS_AT

    plain = denoise_image(gen, clean, 0.1, 60, seed=4)
    r = denoise_image(gen, clean, 0.1, 60, seed=4, diagnostics="dense", tol=0.05)
    np.testing.assert_array_equal(r.psnr, plain.psnr)
    assert plain.regime is None and "regime" not in plain.to_dict()
    r_noise, r_init = np.random.default_rng(4).spawn(2)
    y = images.add_noise(clean.reshape(-1), 0.1, seed=r_noise, clip=False)
    C0 = gen.init(seed=r_init, omega=DEFAULT_OMEGA, symmetric=True)
    taus = geometric_iterations(60, DIAGNOSTICS_AT)
    traj = gradient_descent(gen, y, C0, max_step_size(gen), 60, record=taus, diagnostics="dense")
    want = linear_regime(traj, tol=0.05)
    assert r.regime.in_regime == want.in_regime and r.regime.tol == 0.05
    np.testing.assert_array_equal(r.regime.diagnostics["iterations"], taus)
    for key in ("weight_change", "sign_flips", "kernel_drift", "linearization_gap"):
        np.testing.assert_allclose(r.regime.diagnostics[key], getattr(traj, key), rtol=1e-12, atol=1e-15)
    assert r.regime.diagnostics["sign_flips"][-1] > 0  # not vacuous
    d = json.loads(json.dumps(r.to_dict()))
    assert d["regime"]["in_regime"] == want.in_regime and len(d["diagnostics"]["linearization_gap"]) == taus.size


def test_fit_and_inpaint_diagnostics(gen, clean):
    f = fit_image_vs_noise(gen, clean, 400, seed=1, diagnostics=True)
    plain = fit_image_vs_noise(gen, clean, 400, seed=1)
    assert (f.fit_time_image, f.fit_time_noise) == (plain.fit_time_image, plain.fit_time_noise)
    for v, t in ((f.regime_image, f.fit_time_image), (f.regime_noise, f.fit_time_noise)):
        its = v.diagnostics["iterations"]
        assert its[0] == 0 and its[-1] == min(t, 400) and v.max_gap >= 0
    d = f.to_dict()
    assert {"regime_image", "regime_noise", "diagnostics_image", "diagnostics_noise"} <= set(d)
    assert plain.regime_image is None and "regime_image" not in plain.to_dict()
    r = inpaint_image(gen, clean, keep=0.5, seed=2, max_steps=300, diagnostics=True, gaussian_reference=False)
    assert r.regime is not None and r.regime.diagnostics["iterations"][-1] == r.steps
    assert r.regime.in_regime == bool(np.all(r.regime.diagnostics["linearization_gap"] <= 0.1))
    assert r.to_dict()["regime"]["tol"] == 0.1


def test_diagnostics_bad_input(gen, clean):
    with pytest.raises(ValueError, match="diagnostics must be True, False, 'auto'.*'often'"):
        denoise_image(gen, clean, 0.1, 5, diagnostics="often")
    with pytest.raises(ValueError, match="tol must be a finite number > 0, got -1"):
        fit_image_vs_noise(gen, clean, 5, diagnostics=True, tol=-1)
    with pytest.raises(ValueError, match="tol must be a finite number > 0"):
        inpaint_image(gen, clean, keep=0.5, diagnostics=True, tol=0)
