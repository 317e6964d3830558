"""The built-in sweep measurements against the naive references of tests/naive.py (dense U, explicit
loops, matrix powers), and their determinism."""

from __future__ import annotations

import math

import naive
import numpy as np
import pytest

from ntk_toolkit import TwoLayerGenerator, max_step_size
from ntk_toolkit.filters import from_spec
from ntk_toolkit.operators import CircularConv
from ntk_toolkit.signals import from_name, white_noise
from ntk_toolkit.sweep import MEASUREMENTS, get_measurement, run_point
from ntk_toolkit.sweep.measurements import (
    denoising_curve,
    fit_time,
    kernel_error,
    linearization_gap,
    recovery_error,
    spectrum_summary,
)

#: Network vs naive network and linear model vs matrix powers: the same arithmetic in another order.
TOL = 1e-9


def setup(filt, n, k, seed, count):
    """Dense U, v, the library's η and the seed's streams, as the measurements draw them."""
    gen = TwoLayerGenerator(CircularConv(from_spec(filt), n), k)
    U = naive.conv_matrix(from_spec(filt).taps_for(n), n)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(count)]
    return gen, U, naive.default_v(k), max_step_size(gen), rngs


@pytest.mark.parametrize("signal, init", [("smooth", "mirrored"), ("noise", "gaussian"), ("step", "mirrored")])
def test_fit_time_against_naive_gradient_descent_and_matrix_powers(signal, init):
    filt, n, k, seed, delta = "triangle:3", 16, 32, 4, 0.1
    gen, U, v, eta, (rs, rc) = setup(filt, n, k, seed, 2)
    y = from_name(signal, n, seed=rs)
    C0 = gen.init(seed=rc, omega=1.0, symmetric=init == "mirrored")
    losses, outputs, _ = naive.gradient_descent(U, v, y, C0, eta, 400)
    rel = np.sqrt(losses / losses[0])
    expected_network = int(np.flatnonzero(rel <= delta)[0])
    expected_predicted, _ = naive.fit_time_bruteforce(naive.expected_kernel(U, v), y - outputs[0], eta, delta)
    got = fit_time(filter=filt, n=n, k=k, signal=signal, delta=delta, steps=400, init=init, seed=seed)
    assert got["fit_time_network"] == expected_network
    assert got["fit_time_predicted"] == expected_predicted
    assert got["steps_run"] == expected_network  # stopped at the fit


def test_fit_time_not_reached_is_inf():
    got = fit_time(filter="triangle:4", n=32, k=16, signal="noise", steps=3, seed=0)
    assert got["fit_time_network"] == math.inf and got["steps_run"] == 3


def test_linearization_gap_and_denoising_curve_against_naive():
    filt, n, k, seed, steps = "triangle:2", 16, 24, 1, 60
    gen, U, v, eta, (rs, rc) = setup(filt, n, k, seed, 2)
    y = from_name("smooth", n, seed=rs)
    C0 = gen.init(seed=rc, omega=0.5, symmetric=True)
    _, outputs, _ = naive.gradient_descent(U, v, y, C0, eta, steps)
    residuals, _ = naive.linearized_run(naive.expected_kernel(U, v), y, eta, steps, f0=outputs[0])
    gaps = np.linalg.norm((y - outputs) - residuals, axis=1) / np.linalg.norm(y)
    got = linearization_gap(filter=filt, n=n, k=k, omega=0.5, steps=steps, seed=seed)
    assert got["gap_max"] == pytest.approx(gaps.max(), rel=TOL, abs=1e-13)
    assert got["gap_final"] == pytest.approx(gaps[-1], rel=TOL, abs=1e-13)
    assert got["gap_max"] > 1e-4  # k = 24 is far from the kernel regime: the gap is not trivially zero

    gen, U, v, eta, (rs, rz, rc) = setup(filt, n, k, seed, 3)
    x = from_name("smooth", n, seed=rs)
    y = x + white_noise(n, norm=0.5, seed=rz)
    C0 = gen.init(seed=rc, omega=1.0, symmetric=True)
    _, outputs, _ = naive.gradient_descent(U, v, y, C0, eta, steps)
    _, lin = naive.linearized_run(naive.expected_kernel(U, v), y, eta, steps, f0=outputs[0])
    err_net = np.linalg.norm(outputs - x, axis=1)
    err_lin = np.linalg.norm(lin - x, axis=1)
    got = denoising_curve(filter=filt, n=n, k=k, steps=steps, points=6, seed=seed)
    assert got["best_iteration_network"] == int(np.argmin(err_net))
    assert got["best_error_network"] == pytest.approx(err_net.min(), rel=TOL)
    assert got["best_iteration_predicted"] == int(np.argmin(err_lin))
    taus = sorted(int(key.rsplit("_t", 1)[1]) for key in got if key.startswith("error_network_t"))
    assert taus[0] == 0 and taus[-1] == steps and len(taus) >= 5
    for t in taus:
        assert got[f"error_network_t{t}"] == pytest.approx(err_net[t], rel=TOL)
        assert got[f"error_predicted_t{t}"] == pytest.approx(err_lin[t], rel=TOL)


def test_spectrum_summary_and_kernel_error_against_naive():
    filt, n, k = "triangle:3", 24, 40
    gen, U, v, _, (rc,) = setup(filt, n, k, 2, 1)
    S = naive.expected_kernel(U, v)
    lam = naive.eigvals_desc(S)
    got = spectrum_summary(filter=filt, n=n, keep=n, seed=0)
    assert got["lambda_max"] == pytest.approx(lam[0], rel=TOL)
    assert got["lambda_min"] == pytest.approx(lam[-1], rel=TOL)
    assert got["trace"] == pytest.approx(np.trace(S), rel=TOL)
    assert got["bandwidth"] == int(np.sum(lam > 0.1 * lam[0]))
    assert np.allclose([got[f"lambda_{i}"] for i in range(n)], lam, rtol=TOL, atol=1e-14)

    K = naive.empirical_kernel_sum(U, gen.init(seed=rc, omega=1.0), v)
    got = kernel_error(filter=filt, n=n, k=k, seed=2)
    assert got["error_spectral"] == pytest.approx(np.linalg.norm(K - S, 2) / np.linalg.norm(S, 2), rel=TOL)
    assert got["error_frobenius"] == pytest.approx(np.linalg.norm(K - S) / np.linalg.norm(S), rel=TOL)


def test_recovery_error_against_naive_limit():
    filt, n, m, seed = "triangle:4", 32, 12, 3
    _, U, v, _, (rs, ra, _, _) = setup(filt, n, 2, seed, 4)
    from ntk_toolkit.measurements import GaussianMeasurement

    x = from_name("smooth", n, seed=rs)
    A = GaussianMeasurement(m, n, seed=ra).todense()
    y = A @ x
    xhat = naive.linearized_limit(naive.expected_kernel(U, v), y, A=A)
    got = recovery_error(filter=filt, n=n, m=m, seed=seed)
    assert got["error_interpolant"] == pytest.approx(np.linalg.norm(xhat - x) / np.linalg.norm(x), rel=1e-7)
    assert got["error_min_l2"] == pytest.approx(np.linalg.norm(np.linalg.pinv(A) @ y - x) / np.linalg.norm(x),
                                                rel=1e-7)
    assert got["error_interpolant"] < got["error_min_l2"]
    net = recovery_error(filter=filt, n=n, m=m, k=512, max_steps=20000, seed=seed)
    # the trained network's limit is close to the smoothest interpolant at large k (docs/theory.md §5.1)
    assert abs(net["error_network"] - net["error_interpolant"]) < 0.25 * net["error_interpolant"]


def test_measurements_are_deterministic_and_seeded():
    a = run_point("fit_time", {"filter": "triangle:2", "n": 16, "k": 16, "signal": "noise", "omega": 1.0,
                               "delta": 0.1, "steps": 200, "init": "gaussian"}, seed=5)
    b = run_point("fit_time", {"filter": "triangle:2", "n": 16, "k": 16, "signal": "noise", "omega": 1.0,
                               "delta": 0.1, "steps": 200, "init": "gaussian"}, seed=5, threads=1)
    c = run_point("fit_time", {"filter": "triangle:2", "n": 16, "k": 16, "signal": "noise", "omega": 1.0,
                               "delta": 0.1, "steps": 200, "init": "gaussian"}, seed=6)
    assert a["metrics"] == b["metrics"] and a["metrics"] != c["metrics"]


def test_registry_lists_the_issue_measurements():
    get_measurement("fit_time")
    assert {"fit_time", "denoising_curve", "recovery_error", "spectrum_summary", "kernel_error",
            "linearization_gap", "image_fit_time", "image_denoising", "image_inpainting"} <= set(MEASUREMENTS)
    assert {"fit_time_network", "fit_time_predicted"} <= set(
        fit_time(filter="delta", n=8, k=4, steps=10, seed=0))
