"""Checks of the symbolic family: the kernels that :mod:`ntk_toolkit.symbolic` derives for other
activations against the network (``docs/theory.md`` §2.2, §4.1; ``docs/guide/symbolic_kernels.md``).

* ``dual-vs-monte-carlo``: each closed form, lambdified from its sympy derivation, against the
  Monte-Carlo mean of the empirical kernel ``J(C_0) J(C_0)ᵀ``; the error falls like ``k^(−1/2)``.
* ``activation-spectra``: the activation changes the spectrum of ``Σ`` and with it the fit time of
  a smooth signal and of noise; predicted from ``Σ`` (linearized dynamics) vs measured on the network.

sympy is imported when a check runs, not when the family is discovered.
"""

from __future__ import annotations

import numpy as np

from ..generator import TwoLayerGenerator
from ..kernels import empirical_kernel, expected_kernel
from ..operators import CircularConv
from ..prediction import linearized
from ..spectrum import spectrum
from ._base import register, result, sizes
from ._common import figure, finish_axes, loglog_slope, rng, spectral_rel_err

#: Position of the family in the report (after image, 50).
REPORT_ORDER = 60

# ----------------------------------------------------------------------------- dual vs Monte-Carlo
_MC_SIZES = {
    "tiny": {"n": 16, "ks": (16, 64, 256, 1024), "R": 8, "omega": 0.8, "max_err": 0.1,
             "activations": ("relu", "abs", "erf", "quadratic", "linear")},
    "quick": {"n": 48, "ks": (16, 64, 256, 1024, 4096), "R": 16, "omega": 0.8, "max_err": 0.04,
              "activations": ("relu", "leaky_relu:0.1", "abs", "erf", "quadratic", "linear")},
    "full": {"n": 96, "ks": (16, 64, 256, 1024, 4096, 16384), "R": 32, "omega": 0.8, "max_err": 0.02,
             "activations": ("relu", "leaky_relu:0.1", "leaky_relu:-0.5", "abs", "erf", "quadratic", "linear")},
}
#: Pass range of the log–log slope of the error against k (Monte-Carlo rate −½).
_K_SLOPE = (-0.75, -0.3)
#: The symbolic Σ and the core's expected_kernel are the same formula: rounding only.
_SYMBOLIC_VS_CORE = 1e-12
#: An activation whose J Jᵀ does not depend on C (linear: U Uᵀ) has no Monte-Carlo error at all.
_DETERMINISTIC = 1e-12


def _symbolic_sigma(name: str, gen: TwoLayerGenerator, omega: float) -> np.ndarray:
    """``Σ`` from :func:`ntk_toolkit.symbolic.two_layer_kernel`, lambdified and evaluated on ``U Uᵀ``."""
    from .. import symbolic as sy

    fn = sy.to_numpy(sy.two_layer_kernel(name), args=(sy.inner, sy.norm_i, sy.norm_j, sy.omega))
    P = gen.operator.gram()
    d = np.sqrt(np.diag(P))
    S = fn(P, d[:, None], d[None, :], omega)
    return 0.5 * (S + S.T)


def _plot_mc(res):
    d = res.data
    fig, (ax,) = figure(figsize=(6.4, 4.2))
    ks = np.asarray(d["ks"], float)
    for j, name in enumerate(d["activations"]):
        ax.loglog(ks, d["errors"][j], "o-", label=name)
    ax.loglog(ks, d["errors"][0][0] * (ks / ks[0]) ** -0.5, "k--", lw=1, label="∝ k^(−1/2)")
    finish_axes(ax, "channels k", "‖mean J Jᵀ − Σ_symbolic‖₂ / ‖Σ‖₂",
                f"Symbolic Σ vs Monte-Carlo mean of J Jᵀ ({d['R']} draws)")
    return [("", fig)]


@register(
    "dual-vs-monte-carlo",
    claim="For each activation with a closed form, Σ derived symbolically (sympy, lambdified) equals the "
          "Monte-Carlo mean of J(C0) J(C0)ᵀ up to an error that falls like k^(−1/2), and equals the "
          "numerical core's expected_kernel to rounding.",
    reference="docs/theory.md §2.2 and §2.6; docs/guide/symbolic_kernels.md",
    faults=("relu-for-all",),
    plot=_plot_mc,
)
def dual_vs_monte_carlo(profile: str, seed: int, fault: str | None = None):
    """Symbolic ``Σ`` of several activations vs the Monte-Carlo mean of the empirical kernel.

    For each activation and width ``k`` the relative spectral error of the mean
    of ``R`` empirical kernels against ``Σ`` is measured. Pass: for every
    activation the error at the largest ``k`` is at most ``max_err`` and the
    log–log slope of the error against ``k`` lies in [−0.75, −0.3] (or the
    error is at rounding level for every ``k``: linear, ``J Jᵀ = U Uᵀ``); and the
    symbolic ``Σ`` agrees with :func:`ntk_toolkit.expected_kernel` to 1e-12.
    Fault ``relu-for-all``: every activation is predicted with ReLU's formula.
    """
    p = sizes(_MC_SIZES, profile)
    n, R, omega = p["n"], p["R"], p["omega"]
    from ..filters import triangle

    op = CircularConv(triangle(3), n)
    draw = rng(seed)
    errors, slopes, core = [], [], []
    for name in p["activations"]:
        gen = TwoLayerGenerator(op, 2, activation=name)
        Sigma = _symbolic_sigma("relu" if fault == "relu-for-all" else name, gen, omega)
        exact = expected_kernel(gen, omega=omega)
        core.append(float(np.max(np.abs(_symbolic_sigma(name, gen, omega) - exact)) / np.max(np.abs(exact))))
        errs = []
        for k in p["ks"]:
            g = TwoLayerGenerator(op, k, activation=name)
            mean = sum(empirical_kernel(g, g.init(draw, omega=omega)) for _ in range(R)) / R
            errs.append(spectral_rel_err(mean, Sigma))
        errors.append(errs)
        slopes.append(loglog_slope(p["ks"], errs))
    errors = np.asarray(errors)
    final = errors[:, -1]
    rates = [bool(np.max(e) <= _DETERMINISTIC or _K_SLOPE[0] <= s <= _K_SLOPE[1]) for e, s in zip(errors, slopes)]
    passed = bool(np.all(final <= p["max_err"]) and all(rates) and max(core) <= _SYMBOLIC_VS_CORE)
    return result(
        predicted={"k_slope": -0.5, "symbolic_vs_core": 0.0},
        measured={"activations": list(p["activations"]), "k_slopes": slopes, "error_at_k_max": final,
                  "symbolic_vs_core_rel": max(core)},
        criterion={"text": f"per activation: error at k={p['ks'][-1]} ≤ {p['max_err']} and slope of error vs k in "
                           f"[{_K_SLOPE[0]}, {_K_SLOPE[1]}] (unless the error is ≤ {_DETERMINISTIC:g} at every k); "
                           f"symbolic Σ = expected_kernel to {_SYMBOLIC_VS_CORE:g}",
                   "max_err": p["max_err"], "slope_range": list(_K_SLOPE), "core_tol": _SYMBOLIC_VS_CORE},
        passed=passed,
        data={"ks": list(p["ks"]), "errors": errors, "activations": list(p["activations"]), "R": R},
    )


# ----------------------------------------------------------------------------- activation spectra
_SPEC_SIZES = {
    "tiny": {"n": 32, "k": 256, "activations": ("relu", "tanh", "erf")},
    "quick": {"n": 64, "k": 512, "activations": ("relu", "leaky_relu:0.1", "tanh", "erf", "softplus")},
    "full": {"n": 128, "k": 2048, "activations": ("relu", "leaky_relu:0.1", "abs", "tanh", "erf", "softplus")},
}
#: Initialisation scale: ω = 2 puts tanh and erf in their saturating range, where Σ differs most from ReLU's.
_OMEGA = 2.0
#: Fit time: the first step at which ‖y − G(C_τ)‖ ≤ _DELTA ‖y‖.
_DELTA = 0.1
#: Measured vs predicted fit time: |τ_net − τ_pred| ≤ _FIT_RTOL τ_pred + 1 (finite-width error O(1/√k)).
_FIT_RTOL = 0.15


def _targets(n: int, seed: int):
    m = np.arange(n)
    smooth = np.cos(2 * np.pi * 2 * m / n) + 0.5 * np.sin(2 * np.pi * 3 * m / n)
    noise = rng(seed, 7).standard_normal(n)
    return smooth / np.linalg.norm(smooth), noise / np.linalg.norm(noise)


def _measured_fit_time(gen, y, eta, steps, seed) -> int:
    from ..dynamics import gradient_descent

    traj = gradient_descent(gen, y, gen.init(seed=seed, omega=_OMEGA, symmetric=True), eta, steps,
                            record=np.arange(steps + 1))
    res = np.linalg.norm(y[None, :] - traj.outputs, axis=1)
    hit = np.flatnonzero(res <= _DELTA * np.linalg.norm(y))
    return int(hit[0]) if hit.size else steps + 1


def _plot_spectra(res):
    d = res.data
    fig, (ax1, ax2) = figure(2, figsize=(13, 4.6))
    for j, name in enumerate(d["activations"]):
        ax1.semilogy(d["eigenvalues_by_frequency"][j], "-", color=f"C{j}", label=name)
    finish_axes(ax1, "frequency f", "λ_f of Σ", f"Spectrum of Σ by activation (ω = {_OMEGA:g})")
    x = np.arange(len(d["activations"]))
    for i, (label, marker) in enumerate((("smooth", "o"), ("noise", "s"))):
        ax2.plot(x, d["predicted"][:, i], marker, mfc="none", ms=9, color=f"C{i}", label=f"{label}: predicted")
        ax2.plot(x, d["measured"][:, i], "x", ms=9, color=f"C{i}", label=f"{label}: network")
    ax2.set_xticks(x, d["activations"])
    finish_axes(ax2, "activation", f"steps to ‖residual‖ ≤ {_DELTA:g}‖y‖", "Fit time: Σ's prediction vs network",
                log="y")
    fig.tight_layout()
    return [("", fig)]


@register(
    "activation-spectra",
    claim="The activation changes the spectrum of Σ and so the fit times of a smooth signal and of noise; "
          "for ReLU, leaky ReLU, tanh and erf the fit times predicted from Σ (linearized dynamics) match "
          "gradient descent on the network, and noise is fitted more slowly than the smooth signal.",
    reference="docs/theory.md §2.5, §4.1; docs/guide/symbolic_kernels.md",
    faults=("relu-spectrum",),
    plot=_plot_spectra,
)
def activation_spectra(profile: str, seed: int, fault: str | None = None):
    """Fit times of a smooth signal and of noise for several activations: predicted vs measured.

    ``ω = 2``, mirrored initialisation (``G(C_0) = 0``), ``η = max_step_size(gen)``.
    Pass: for every activation and target ``|τ_net − τ_pred| ≤ 0.15 τ_pred + 1``,
    and noise takes longer than the smooth signal.
    Fault ``relu-spectrum``: every activation is predicted with ReLU's ``Σ``.
    """
    p = sizes(_SPEC_SIZES, profile)
    n, k = p["n"], p["k"]
    from ..dynamics import max_step_size
    from ..filters import triangle

    op = CircularConv(triangle(3), n)
    smooth, noise = _targets(n, seed)
    relu_spec = spectrum(TwoLayerGenerator(op, k), omega=_OMEGA)
    predicted, measured, lam = [], [], []
    for j, name in enumerate(p["activations"]):
        gen = TwoLayerGenerator(op, k, activation=name)
        spec = spectrum(gen, omega=_OMEGA)
        lam.append(spec.eigenvalues_by_frequency)
        eta = max_step_size(gen)
        pred_spec = relu_spec if fault == "relu-spectrum" else spec
        pr = [linearized(pred_spec, y, eta).fit_time(_DELTA) for y in (smooth, noise)]
        me = [_measured_fit_time(gen, y, eta, int(1.5 * max(pr)) + 5, seed + 31 * j + i)
              for i, y in enumerate((smooth, noise))]
        predicted.append(pr)
        measured.append(me)
    predicted, measured = np.asarray(predicted, float), np.asarray(measured, float)
    close = np.abs(measured - predicted) <= _FIT_RTOL * predicted + 1
    slower = measured[:, 1] > measured[:, 0]
    return result(
        predicted={"fit_times": predicted.tolist(), "noise_slower": True},
        measured={"activations": list(p["activations"]), "fit_times": measured.tolist(),
                  "max_rel_dev": float(np.max(np.abs(measured - predicted) / predicted)),
                  "noise_over_smooth": (measured[:, 1] / measured[:, 0]).tolist()},
        criterion={"text": f"|τ_net − τ_pred| ≤ {_FIT_RTOL} τ_pred + 1 for every activation and target; "
                           "noise slower than the smooth signal", "fit_rtol": _FIT_RTOL, "delta": _DELTA},
        passed=bool(np.all(close) and np.all(slower)),
        data={"activations": list(p["activations"]), "predicted": predicted, "measured": measured,
              "eigenvalues_by_frequency": np.asarray(lam)},
    )
