"""The built-in 1-D sweep measurements: fit time, early-stopping curves, recovery error, spectrum
summaries, finite-width kernel error and the gap between the network and its linearization.

Each is a function of keyword parameters and ``seed`` returning a flat dict of numbers, built on
the library's public functions. Randomness comes from independent streams spawned from ``seed``
(:class:`numpy.random.SeedSequence`), so the same point and seed give the same numbers on any
worker; "not reached within ``steps``" is ``inf``.

The network starts, unless ``init = "gaussian"``, from the mirrored initialisation
(``gen.init(symmetric=True)``, ``G(C_0) = 0``): the residual is then the target alone and, with
the default ``ω = 1`` (weights far larger than a unit-norm target), the network stays near its
linearization (``docs/theory.md`` §4.1).
"""

from __future__ import annotations

import math

import numpy as np

from .registry import Param, register_measurement

__all__ = ["fit_time", "denoising_curve", "recovery_error", "spectrum_summary", "kernel_error",
           "linearization_gap"]

SIGNALS = ("smooth", "step", "noise", "piecewise", "piecewise-smooth")
INITS = ("mirrored", "gaussian")

_FILTER = Param("str", doc="1-D filter specification (ntk_toolkit.filters.from_spec), e.g. 'triangle:4'")
_N = Param("int", doc="signal length")
_K = Param("int", doc="number of channels (even)")
_SIGNAL = Param("str", "smooth", SIGNALS, doc="target signal (unit norm)")
_OMEGA = Param("float", 1.0, doc="initialisation scale ω")
#: Outputs kept by the curve and gap measurements: every iteration while ``(steps + 1) n`` floats stay below this.
_DENSE_OUTPUTS = 1 << 22

_INIT = Param("str", "mirrored", INITS, doc="mirrored (G(C_0) = 0) or plain Gaussian C_0")


def _streams(seed: int, count: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(count)]


def _generator(filter: str, n: int, k: int):
    from ..filters import from_spec
    from ..generator import TwoLayerGenerator
    from ..operators import CircularConv

    return TwoLayerGenerator(CircularConv(from_spec(filter), n), k)


def _init(gen, rng, omega: float, init: str) -> np.ndarray:
    return gen.init(seed=rng, omega=omega, symmetric=(init == "mirrored"))


def _fit_iteration(rel: np.ndarray, delta: float) -> float:
    hit = np.flatnonzero(rel <= delta)
    return float(hit[0]) if hit.size else math.inf


@register_measurement("fit_time", {
    "filter": _FILTER, "n": _N, "k": _K, "signal": _SIGNAL, "omega": _OMEGA,
    "delta": Param("float", 0.1, doc="fit when ‖r_τ‖ <= delta ‖r_0‖"),
    "steps": Param("int", 5000, doc="cap on the iterations"),
    "init": _INIT,
})
def fit_time(*, filter: str, n: int, k: int, signal: str = "smooth", omega: float = 1.0, delta: float = 0.1,
             steps: int = 5000, init: str = "mirrored", seed: int) -> dict:
    """Iterations until the residual falls to ``delta`` of its initial norm: network and linearized prediction.

    Gradient descent at ``η = max_step_size(gen)`` on ``½‖G(C) − y‖²``, stopped at the first
    ``τ`` with ``‖y − G(C_τ)‖ <= delta ‖y − G(C_0)‖`` (at most ``steps``); the prediction is
    :meth:`~ntk_toolkit.LinearizedPrediction.fit_time` of ``r_τ = (I − ηΣ)^τ r_0``
    (``docs/theory.md`` §4.1, eq. (4.5)). Cost: O(n k L) per step.

    Returns ``fit_time_network``, ``fit_time_predicted`` (``inf`` if not reached),
    ``ratio_network_predicted``, ``steps_run``, ``final_relative_residual``.

    Examples
    --------
    >>> r = fit_time(filter="triangle:2", n=16, k=64, signal="smooth", steps=500, seed=0)
    >>> r["fit_time_network"] > 0, abs(r["ratio_network_predicted"] - 1) < 0.2
    (True, True)
    """
    from ..dynamics import gradient_descent, max_step_size
    from ..prediction import linearized
    from ..signals import from_name
    from ..spectrum import spectrum

    gen = _generator(filter, n, k)
    rs, rc = _streams(seed, 2)
    y = from_name(signal, n, seed=rs)
    C0 = _init(gen, rc, omega, init)
    eta = max_step_size(gen)
    traj = gradient_descent(gen, y, C0, eta, steps, record=[0], stop_at=delta**2)
    r0 = math.sqrt(2 * traj.losses[0])
    rel = np.sqrt(2 * traj.losses) / r0
    network = _fit_iteration(rel, delta)
    predicted = float(linearized(spectrum(gen), y, eta, f0=traj.outputs[0]).fit_time(delta))
    return {"fit_time_network": network, "fit_time_predicted": predicted,
            "ratio_network_predicted": network / predicted if predicted > 0 else math.nan,
            "steps_run": int(traj.steps), "final_relative_residual": float(rel[-1]), "eta": eta}


def _record_grid(steps: int, num: int) -> np.ndarray:
    from ..dynamics import geometric_iterations

    return np.unique(np.concatenate([[0], geometric_iterations(steps, num)]))


@register_measurement("denoising_curve", {
    "filter": _FILTER, "n": _N, "k": _K, "signal": _SIGNAL, "omega": _OMEGA,
    "noise": Param("float", 0.5, doc="‖z‖/‖x‖ of the white noise added to the unit-norm signal"),
    "steps": Param("int", 2000, doc="iterations of gradient descent"),
    "points": Param("int", 24, doc="number of geometrically spaced iterations reported"),
    "init": _INIT,
})
def denoising_curve(*, filter: str, n: int, k: int, signal: str = "smooth", omega: float = 1.0, noise: float = 0.5,
                    steps: int = 2000, points: int = 24, init: str = "mirrored", seed: int) -> dict:
    """Early-stopping curve: error ``‖G(C_τ) − x‖/‖x‖`` of gradient descent on ``y = x + z``, and its prediction.

    ``x`` unit-norm, ``z`` white noise of norm ``noise``; the prediction is the linear model's
    output ``f_τ = y − (I − ηΣ)^τ (y − G(C_0))`` (``docs/theory.md`` §4.1–§4.2). Every
    iteration is evaluated for the best error (while ``(steps + 1) n`` outputs stay below 2²²
    floats; beyond, 2000 geometrically spaced ones); the curve is reported at about ``points``
    geometrically spaced iterations as ``error_network_t{τ}`` and ``error_predicted_t{τ}``.

    Returns also ``best_error_network``, ``best_iteration_network``,
    ``best_error_predicted``, ``best_iteration_predicted``, ``final_error_network`` and
    ``noise_error`` (``‖z‖/‖x‖``, the error of ``y`` itself).

    Examples
    --------
    >>> r = denoising_curve(filter="triangle:3", n=32, k=64, steps=200, points=5, seed=0)
    >>> r["best_error_network"] < r["noise_error"], "error_network_t0" in r
    (True, True)
    """
    from ..dynamics import gradient_descent, max_step_size
    from ..prediction import linearized
    from ..signals import from_name, white_noise
    from ..spectrum import spectrum

    gen = _generator(filter, n, k)
    rs, rz, rc = _streams(seed, 3)
    x = from_name(signal, n, seed=rs)
    y = x + white_noise(n, norm=noise, seed=rz)
    C0 = _init(gen, rc, omega, init)
    eta = max_step_size(gen)
    shown = _record_grid(steps, points)
    taus = np.arange(steps + 1) if (steps + 1) * n <= _DENSE_OUTPUTS else np.union1d(_record_grid(steps, 2000), shown)
    traj = gradient_descent(gen, y, C0, eta, steps, record=taus)
    err_net = np.linalg.norm(traj.outputs - x, axis=1)
    lin = linearized(spectrum(gen), y, eta, f0=traj.outputs[0])
    err_pred = np.array([np.linalg.norm(lin.output(int(t)) - x) for t in taus])
    out = {"best_error_network": float(err_net.min()), "best_iteration_network": int(taus[np.argmin(err_net)]),
           "best_error_predicted": float(err_pred.min()), "best_iteration_predicted": int(taus[np.argmin(err_pred)]),
           "final_error_network": float(err_net[-1]), "noise_error": float(noise), "eta": eta}
    index = {int(t): i for i, t in enumerate(taus)}
    for t in shown:
        out[f"error_network_t{int(t)}"] = float(err_net[index[int(t)]])
        out[f"error_predicted_t{int(t)}"] = float(err_pred[index[int(t)]])
    return out


@register_measurement("recovery_error", {
    "filter": _FILTER, "n": _N, "m": Param("int", doc="number of Gaussian measurements"),
    "signal": _SIGNAL,
    "noise_std": Param("float", 0.0, doc="standard deviation of the measurement noise"),
    "k": Param("int", 0, doc="channels of a network run to convergence (0: no network)"),
    "omega": _OMEGA, "max_steps": Param("int", 20000, doc="cap on the network's iterations"),
})
def recovery_error(*, filter: str, n: int, m: int, signal: str = "smooth", noise_std: float = 0.0, k: int = 0,
                   omega: float = 1.0, max_steps: int = 20000, seed: int) -> dict:
    """Relative recovery error ``‖x̂ − x‖/‖x‖`` from ``m`` Gaussian measurements ``y = A x + e``.

    ``x̂`` is the smoothest interpolant ``Σ Aᵀ(AΣAᵀ)⁺ y`` (the limit of gradient descent in the
    linear regime, ``docs/theory.md`` §5.1), next to the minimum-l2 interpolant ``A⁺y`` and the
    recovery law's predicted RMS error (§5.2, eq. (5.6)). With ``k > 0`` the network (mirrored
    ``C_0``) is also run to convergence (loss below 1e-8 of its initial value, at most
    ``max_steps``). Cost: O(m n²) for the interpolants; the network O(n k L) per step.

    Returns ``error_interpolant``, ``error_min_l2``, ``error_predicted`` and, with ``k > 0``,
    ``error_network``, ``steps_network``.

    Examples
    --------
    >>> r = recovery_error(filter="triangle:4", n=64, m=24, seed=0)
    >>> r["error_interpolant"] < r["error_min_l2"]
    True
    """
    from ..dynamics import run_to_convergence
    from ..generator import TwoLayerGenerator
    from ..measurements import GaussianMeasurement
    from ..recovery import min_l2_interpolant, predicted_recovery_error, smoothest_interpolant
    from ..signals import from_name
    from ..spectrum import spectrum

    op_gen = _generator(filter, n, 2)
    rs, ra, re, rc = _streams(seed, 4)
    x = from_name(signal, n, seed=rs)
    A = GaussianMeasurement(m, n, seed=ra)
    y = A.apply(x)
    if noise_std > 0:
        y = y + noise_std * re.standard_normal(m)
    spec = spectrum(op_gen)
    xnorm = float(np.linalg.norm(x))
    out = {"error_interpolant": float(np.linalg.norm(smoothest_interpolant(spec, A, y, pinv=True) - x)) / xnorm,
           "error_min_l2": float(np.linalg.norm(min_l2_interpolant(A, y) - x)) / xnorm,
           "error_predicted": math.sqrt(predicted_recovery_error(spec, x, m, noise_std)) / xnorm}
    if k > 0:
        gen = TwoLayerGenerator(op_gen.operator, k)
        res = run_to_convergence(gen, y, gen.init(seed=rc, omega=omega, symmetric=True), A=A, rtol=1e-8,
                                 max_steps=max_steps, record=[0])
        out["error_network"] = float(np.linalg.norm(res.output - x)) / xnorm
        out["steps_network"] = int(res.steps)
    return out


@register_measurement("spectrum_summary", {
    "filter": _FILTER, "n": _N,
    "keep": Param("int", 0, doc="how many leading eigenvalues to report as lambda_{i}"),
})
def spectrum_summary(*, filter: str, n: int, keep: int = 0, seed: int) -> dict:
    """Summary of the spectrum of the expected kernel ``Σ`` (deterministic; ``seed`` unused).

    The eigenvalues of the circulant ``Σ`` (real FFT of its first row, O(n²) for the row and
    O(n log n) for the spectrum; ``docs/theory.md`` §2.3, §2.5), sorted decreasing.

    Returns ``lambda_max``, ``lambda_min``, ``condition`` (``λ_max/λ_min``), ``trace``,
    ``bandwidth`` (number of ``λ > λ_max/10``), ``ratio_f0`` (``λ`` at frequency
    ``round(n/16)`` over ``λ_0``), and with ``keep > 0`` the leading eigenvalues
    ``lambda_0 … lambda_{keep−1}``.

    Examples
    --------
    >>> r = spectrum_summary(filter="delta", n=16, seed=0)
    >>> round(r["lambda_max"], 12), round(r["lambda_min"], 12)
    (0.5, 0.5)
    """
    from ..kernels import expected_kernel_first_row
    from ..spectrum import circulant_spectrum

    row = expected_kernel_first_row(_generator(filter, n, 2))
    lam = np.sort(circulant_spectrum(row).eigenvalues)[::-1]
    by_freq = np.fft.rfft(row).real
    f0 = max(1, round(n / 16))
    out = {"lambda_max": float(lam[0]), "lambda_min": float(lam[-1]),
           "condition": float(lam[0] / lam[-1]) if lam[-1] > 0 else math.inf, "trace": float(lam.sum()),
           "bandwidth": int(np.sum(lam > 0.1 * lam[0])),
           "ratio_f0": float(by_freq[min(f0, by_freq.size - 1)] / by_freq[0])}
    for i in range(min(keep, n)):
        out[f"lambda_{i}"] = float(lam[i])
    return out


@register_measurement("kernel_error", {"filter": _FILTER, "n": _N, "k": _K, "omega": _OMEGA})
def kernel_error(*, filter: str, n: int, k: int, omega: float = 1.0, seed: int) -> dict:
    """Finite-width error of the kernel at initialisation, ``‖J(C_0)J(C_0)ᵀ − Σ‖/‖Σ‖``.

    Spectral (2-norm) and Frobenius relative errors for one Gaussian draw of ``C_0``; theory:
    ``O(√(log n / k))`` (``docs/theory.md`` §2.6). Cost: O(n² k) for the empirical kernel, O(n³)
    for the spectral norm.

    Returns ``error_spectral``, ``error_frobenius``, ``sqrt_k_error_spectral``.

    Examples
    --------
    >>> r = kernel_error(filter="triangle:2", n=16, k=4096, seed=0)
    >>> r["error_spectral"] < 0.2
    True
    """
    from ..kernels import empirical_kernel, expected_kernel

    gen = _generator(filter, n, k)
    (rc,) = _streams(seed, 1)
    K = empirical_kernel(gen, gen.init(seed=rc, omega=omega))
    S = expected_kernel(gen)
    D = K - S
    spec = float(np.linalg.norm(D, 2) / np.linalg.norm(S, 2))
    return {"error_spectral": spec, "error_frobenius": float(np.linalg.norm(D) / np.linalg.norm(S)),
            "sqrt_k_error_spectral": math.sqrt(k) * spec}


@register_measurement("linearization_gap", {
    "filter": _FILTER, "n": _N, "k": _K, "signal": _SIGNAL, "omega": _OMEGA,
    "steps": Param("int", 1000, doc="iterations of gradient descent"), "init": _INIT,
})
def linearization_gap(*, filter: str, n: int, k: int, signal: str = "smooth", omega: float = 1.0,
                      steps: int = 1000, init: str = "mirrored", seed: int) -> dict:
    """Gap between the network and its linearized dynamics, ``max_τ ‖r_τ − r_τ^lin‖/‖y‖``.

    ``r_τ = y − G(C_τ)`` from :func:`~ntk_toolkit.gradient_descent` and
    ``r_τ^lin = (I − ηΣ)^τ r_0`` from :func:`~ntk_toolkit.linearized`, compared at every
    iteration (at 400 geometrically spaced ones when ``(steps + 1) n`` exceeds 2²²);
    theory: ``O(1/√k)`` at fixed ``ω`` (``docs/theory.md`` §4.1, claim [6]).

    Returns ``gap_max``, ``gap_final``, ``sqrt_k_gap_max``.

    Examples
    --------
    >>> r = linearization_gap(filter="triangle:2", n=16, k=256, steps=100, seed=0)
    >>> 0 <= r["gap_final"] <= r["gap_max"] < 0.2
    True
    """
    from ..dynamics import gradient_descent, max_step_size
    from ..prediction import linearized
    from ..signals import from_name
    from ..spectrum import spectrum

    gen = _generator(filter, n, k)
    rs, rc = _streams(seed, 2)
    y = from_name(signal, n, seed=rs)
    eta = max_step_size(gen)
    taus = np.arange(steps + 1) if (steps + 1) * n <= _DENSE_OUTPUTS else _record_grid(steps, 400)
    traj = gradient_descent(gen, y, _init(gen, rc, omega, init), eta, steps, record=taus)
    lin = linearized(spectrum(gen), y, eta, f0=traj.outputs[0])
    ynorm = float(np.linalg.norm(y))
    gaps = np.array([np.linalg.norm((y - traj.outputs[i]) - lin.residual(int(t)))
                     for i, t in enumerate(traj.iterations)]) / ynorm
    return {"gap_max": float(gaps.max()), "gap_final": float(gaps[-1]),
            "sqrt_k_gap_max": math.sqrt(k) * float(gaps.max())}
