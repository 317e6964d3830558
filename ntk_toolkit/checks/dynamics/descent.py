"""Checks of the dynamics family, gradient descent: the network's residual against
the linearized prediction ``r_τ = (I − ηΣ)^τ r_0`` (``docs/theory.md`` §4.1).

Common set-up (``_common.run_pair``): mirrored initialisation (``G(C_0) = 0``,
so ``r_0 = y``), ``ω = 1``, step ``η = max_step_size(gen) = 1/‖U‖²``. Because the
ReLU network is positively homogeneous, gradient descent from ``(αC_0, αy)`` is
gradient descent from ``(C_0, y)`` scaled by ``α``: only the ratio
``rms = ‖y‖ / (ω √n)`` (target size per weight scale) matters. ``rms`` is a
parameter of every check: ``rms ≈ 1`` lets the activation patterns move enough
for the linearization gap to be clearly measurable; ``rms = 1/32`` is the lazy
(kernel) regime in which the per-component claims are expected to hold at
affordable widths.
"""

from __future__ import annotations

import numpy as np

from ... import signals
from ...dynamics import linearized, max_step_size
from ...spectrum import frequency_energy, spectrum
from .._base import register, result, sizes
from .._common import figure, finish_axes, make_gen, rng, run_pair

#: Tags of the two random streams of a run: ``rng(seed, *key, _TARGET)`` and ``rng(seed, *key, _INIT)``.
_TARGET, _INIT = 0, 1


# ----------------------------------------------------------------------------- helpers
def _flat_spectrum(n: int, rng, norm: float) -> np.ndarray:
    """Equal energy at every frequency ``f = 0 … n//2``, random phases: every trig
    component starts measurably, unlike white noise whose per-frequency energy is
    exponentially distributed."""
    f = np.arange(n // 2 + 1)
    phase = rng.uniform(0.0, 2 * np.pi, f.size)
    phase[0] = 0.0
    if n % 2 == 0:
        phase[-1] = 0.0
    y = np.cos(2 * np.pi * np.outer(np.arange(n), f) / n + phase).sum(axis=1)
    return y * (norm / np.linalg.norm(y))


def _crossing(rel: np.ndarray, level: float) -> float:
    """First (fractional) iteration at which ``rel[τ]`` falls to ``level``: log-linear
    interpolation between the two steps around the crossing; ``inf`` if never."""
    hit = np.flatnonzero(rel <= level)
    if hit.size == 0:
        return float("inf")
    i = int(hit[0])
    if i == 0:
        return 0.0
    a, b = np.log(rel[i - 1]), np.log(rel[i])
    return float(i - 1 + (a - np.log(level)) / (a - b))


def _rel_residual(losses: np.ndarray) -> np.ndarray:
    """``‖r_τ‖ / ‖r_0‖`` from losses ``½‖r_τ‖²``."""
    return np.sqrt(np.asarray(losses) / losses[0])


def _wider(spec: str) -> str:
    """The filter twice as wide (``delta`` → ``triangle:2``): the faulty prediction."""
    return "triangle:2" if spec == "delta" else f"triangle:{2 * int(spec.split(':')[1])}"


def _width(spec: str) -> int:
    return 1 if spec == "delta" else int(spec.split(":")[1])


# ----------------------------------------------------------------------------- [6]
_GAP_SIZES = {
    "tiny": {"n": 32, "filter": "triangle:3", "ks": (64, 128, 256, 512, 1024), "steps": 100, "seeds": 8},
    "quick": {"n": 64, "filter": "triangle:4", "ks": (128, 256, 512, 1024, 2048, 4096), "steps": 200,
              "seeds": 6},
    "full": {"n": 256, "filter": "triangle:4", "ks": (256, 512, 1024, 2048, 4096, 8192, 16384), "steps": 200,
             "seeds": 3},
}
_GAP_COMMON = {"rms": 1.0, "noise": 0.5, "smooth_p": 8}
_GAP_SLOPE = (-0.75, -0.3)
#: max/min over k of the seed-mean √k·gap; a slope of −0.3 instead of −0.5 over a 32× range of k gives 2.0.
_GAP_SPREAD = 2.0


def _plot_gap(res):
    from matplotlib.ticker import NullFormatter

    d = res.data
    ks, gaps = np.asarray(d["ks"], float), np.asarray(d["gaps"])
    fig, (ax,) = figure(figsize=(6.4, 4.2))
    for s, g in enumerate(gaps):
        ax.loglog(ks, g, "o", color="C0", alpha=0.4, ms=4, label="per seed" if s == 0 else None)
    mean = gaps.mean(axis=0)
    ax.loglog(ks, mean, "o-", color="C0", lw=2, label="mean over seeds")
    fit = np.exp(d["intercept"]) * ks ** d["slope"]
    ax.loglog(ks, fit, "C1-", label=f"fit: slope {d['slope']:.2f}")
    ax.loglog(ks, mean[0] * (ks / ks[0]) ** -0.5, "k--", lw=1, label="∝ k^(−1/2)")
    ax.set_xticks(ks)
    ax.set_xticklabels([f"{int(k)}" for k in ks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    finish_axes(ax, "channels k", r"gap $\max_{\tau\leq T}\,\|r_\tau - r^{\rm lin}_\tau\| \,/\, \|y\|$",
                f"Network vs linearized residual (n={d['n']}, T={d['steps']})")
    return [("", fig)]


@register(
    "linearization-gap",
    claim="The network's residual stays close to the linearized one r_τ = (I − ηΣ)^τ r_0; the gap "
          "max_τ≤T ‖r_τ − r_τ^lin‖/‖y‖ shrinks like k^(−1/2) at fixed ω.",
    reference="docs/theory.md §4.1, §2.6; claim [6]; Heckel & Soltanolkotabi, ICLR 2020",
    faults=("eta-doubled",),
    plot=_plot_gap,
)
def linearization_gap(profile: str, seed: int, fault: str | None = None):
    """Linearization gap vs width [6].

    For each ``k`` on a geometric grid and each of several seeds, gradient
    descent (``η = 1/‖U‖²``, mirrored init, ``ω = 1``) fits
    ``y = smooth (8 lowest trig functions) + noise (half its norm)`` scaled to
    ``‖y‖ = √n`` (``rms = 1``: weights move enough that the gap is far above
    rounding, ~1e-2). The gap is the maximum over every iteration ``τ ≤ T`` of
    ``‖r_τ − r_τ^lin‖/‖y‖``, ``r^lin`` from ``Σ``. Pass: the log–log slope of the
    gap against ``k`` (pooled over seeds) lies in [−0.75, −0.3] and the
    seed-mean ``√k·gap`` varies by at most a factor 2.0 over the grid.
    Fault ``eta-doubled``: the prediction uses ``2η`` while the network keeps
    ``η`` (``2η`` is still below the linear model's bound ``2/λ_max(Σ)``): the gap
    is O(1) and does not shrink.
    """
    p = {**sizes(_GAP_SIZES, profile), **_GAP_COMMON}
    n, T, ks = p["n"], p["steps"], p["ks"]
    gaps = np.empty((p["seeds"], len(ks)))
    for s in range(p["seeds"]):
        for i, k in enumerate(ks):
            r_y, r_c = rng(seed, s, i, _TARGET), rng(seed, s, i, _INIT)
            y = signals.smooth(n, p["smooth_p"], seed=r_y) + signals.white_noise(n, p["noise"], seed=r_y)
            y *= p["rms"] * np.sqrt(n) / np.linalg.norm(y)
            gen = make_gen(p["filter"], n, k)
            eta = max_step_size(gen)
            run = run_pair(gen, y, T, seed=r_c, eta=eta, eta_pred=2 * eta if fault == "eta-doubled" else None,
                           record=np.arange(T + 1))
            diff = run.actual_residuals() - run.predicted_residuals()
            gaps[s, i] = np.linalg.norm(diff, axis=1).max() / np.linalg.norm(y)
    slope, intercept = np.polyfit(np.log(np.tile(ks, p["seeds"])), np.log(gaps.ravel()), 1)
    scaled = np.sqrt(ks) * gaps.mean(axis=0)
    spread = float(scaled.max() / scaled.min())
    passed = bool(_GAP_SLOPE[0] <= slope <= _GAP_SLOPE[1] and spread <= _GAP_SPREAD)
    return result(
        predicted={"gap_slope": -0.5, "sqrt_k_times_gap": "constant in k"},
        measured={"gap_slope": float(slope), "sqrt_k_gap_spread": spread, "sqrt_k_times_gap": scaled,
                  "gap_mean": gaps.mean(axis=0), "ks": list(ks), "seeds": p["seeds"], "n": n, "T": T},
        criterion={"text": f"log–log slope of the gap vs k (pooled over {p['seeds']} seeds) in "
                           f"[{_GAP_SLOPE[0]}, {_GAP_SLOPE[1]}] and max/min over k of the seed-mean √k·gap "
                           f"≤ {_GAP_SPREAD}",
                   "slope_range": list(_GAP_SLOPE), "max_spread": _GAP_SPREAD},
        passed=passed,
        data={"ks": list(ks), "gaps": gaps, "slope": float(slope), "intercept": float(intercept), "n": n,
              "steps": T},
    )


# ----------------------------------------------------------------------------- [7]
_DECAY_SIZES = {
    "tiny": {"n": 32, "k": 2048, "filter": "triangle:3", "steps": 250, "seeds": 1},
    "quick": {"n": 64, "k": 4096, "filter": "triangle:4", "steps": 300, "seeds": 2},
    "full": {"n": 256, "k": 16384, "filter": "triangle:4", "steps": 400, "seeds": 2},
}
_DECAY_COMMON = {"rms": 1 / 32, "selected_below": 0.5, "window_floor": 0.2}
_DECAY_MEDIAN, _DECAY_MAX = 0.10, 0.25


def _component_rates(amp: np.ndarray, below: float, floor: float):
    """Measured log-decay rate per frequency from amplitudes ``amp[f, τ]`` (``amp[:, 0] = 1``).

    A frequency is *selected* when its amplitude at the last step is ``≤ below``;
    its rate is minus the least-squares slope of ``log amp`` over ``τ = 0 …`` the
    first step at which ``amp ≤ floor`` (at least 3 points).
    """
    rates = np.full(amp.shape[0], np.nan)
    for f in np.flatnonzero(amp[:, -1] <= below):
        under = np.flatnonzero(amp[f] <= floor)
        end = max(int(under[0]) if under.size else amp.shape[1] - 1, 2)
        rates[f] = -np.polyfit(np.arange(end + 1), np.log(amp[f, : end + 1]), 1)[0]
    return rates


def _plot_decay(res):
    d = res.data
    fig, (ax1, ax2) = figure(2, figsize=(11.5, 5.0))
    tau = np.arange(d["actual_energy"].shape[1])
    for j, f in enumerate(d["shown"]):
        ax1.semilogy(tau, d["actual_energy"][f], "-", color=f"C{j}", label=f"f = {f} actual")
        ax1.semilogy(tau, d["predicted_energy"][f], "--", color=f"C{j}", label=f"f = {f} predicted")
    ax1.axhline(d["window_floor"] ** 2, color="grey", lw=1, ls=":", label="end of rate-fit window")
    ax1.set_ylim(max(1e-6, float(np.min(d["actual_energy"][d["shown"]])) / 2), 2.0)
    finish_axes(ax1, "iteration τ", r"residual energy at frequency f, $E_f(r_\tau)/E_f(r_0)$",
                "Per-frequency residual (seed 0)", fontsize="x-small", ncol=3, loc="upper center",
                bbox_to_anchor=(0.5, -0.13))
    pred, meas = np.asarray(d["predicted_rates"]), np.asarray(d["measured_rates"])
    ok = np.isfinite(meas) & np.isfinite(pred) & (pred > 0)
    sc = ax2.scatter(pred[ok], meas[ok], c=np.asarray(d["frequency"])[ok], cmap="viridis", s=18)
    fig.colorbar(sc, ax=ax2, label="frequency f")
    lo, hi = np.min([pred[ok].min(), meas[ok].min()]) / 1.5, np.max([pred[ok].max(), meas[ok].max()]) * 1.5
    ax2.loglog([lo, hi], [lo, hi], "k--", lw=1, label="identity")
    finish_axes(ax2, r"predicted rate $-\log|1 - \eta\lambda_f|$", "measured rate (fit of log amplitude)",
                f"Decay rate per frequency (median rel. err. {d['median_err']:.3f})")
    fig.tight_layout()
    return [("", fig)]


@register(
    "per-component-decay",
    claim="Each trigonometric component of the network's residual decays like (1 − ηλ_f)^τ: the measured "
          "per-frequency log-decay rate matches −log(1 − ηλ_f) across the spectrum for large k.",
    reference="docs/theory.md §4.1; claim [7]; Heckel & Soltanolkotabi, ICLR 2020",
    faults=("eta-doubled",),
    plot=_plot_decay,
)
def per_component_decay(profile: str, seed: int, fault: str | None = None):
    """Per-frequency decay rates of the network's residual [7].

    The target has equal energy at every frequency (random phases), scaled to
    ``‖y‖ = √n/32`` (``rms = 1/32``, ``ω = 1``: the lazy regime; at ``rms = 1`` the
    kernel drifts by ~10 % at the floor frequencies and the rates there are
    20–40 % slow at n = 64, k = 4096–16384). The residual energy ``E_f(r_τ)`` (cos and sin
    summed, ``frequency_energy``) is recorded at every step; amplitude
    ``a_f(τ) = √(E_f(r_τ)/E_f(r_0))``. Selection: frequencies with
    ``a_f(T) ≤ 0.5`` (decay measurable within ``T``). Measured rate: minus the
    least-squares slope of ``log a_f`` over ``τ = 0 …`` the first step with
    ``a_f ≤ 0.2`` (so the fit stays above the O(k^(−1/2)) linearization error).
    Predicted rate: ``−log|1 − ηλ_f|``. Pass, pooled over the seeds: median
    relative error ≤ 0.10 and maximum ≤ 0.25, with at least half of the
    frequencies selected. Fault ``eta-doubled``: prediction with ``2η``.
    """
    p = {**sizes(_DECAY_SIZES, profile), **_DECAY_COMMON}
    n, T = p["n"], p["steps"]
    gen = make_gen(p["filter"], n, p["k"])
    eta = max_step_size(gen)
    spec = spectrum(gen)
    lam = spec.eigenvalues_by_frequency
    eta_pred = 2 * eta if fault == "eta-doubled" else eta
    with np.errstate(divide="ignore"):
        pred = -np.log(np.abs(1.0 - eta_pred * lam))
    errs, meas_all, keep = [], [], None
    for s in range(p["seeds"]):
        r_y, r_c = rng(seed, s, _TARGET), rng(seed, s, _INIT)
        y = _flat_spectrum(n, r_y, p["rms"] * np.sqrt(n))
        run = run_pair(gen, y, T, seed=r_c, eta=eta, eta_pred=eta_pred, record=np.arange(T + 1), spec=spec)
        E = frequency_energy(run.actual_residuals().T)
        amp = np.sqrt(E / E[:, :1])
        meas = _component_rates(amp, p["selected_below"], p["window_floor"])
        sel = np.isfinite(meas)
        errs.append(np.abs(meas[sel] / pred[sel] - 1.0))
        meas_all.append(meas)
        if keep is None:
            Ep = frequency_energy(run.predicted_residuals().T)
            keep = {"actual_energy": E / E[:, :1], "predicted_energy": Ep / Ep[:, :1], "measured_rates": meas}
    err = np.concatenate(errs)
    n_sel = [int(np.isfinite(m).sum()) for m in meas_all]
    median, worst = (float(np.median(err)), float(np.max(err))) if err.size else (np.inf, np.inf)
    enough = min(n_sel) >= 0.5 * lam.size
    passed = bool(enough and median <= _DECAY_MEDIAN and worst <= _DECAY_MAX)
    sel0 = np.flatnonzero(np.isfinite(keep["measured_rates"]))
    shown = sorted({int(sel0[int(q * (sel0.size - 1))]) for q in (0.0, 0.3, 0.6, 1.0)}) if sel0.size else []
    return result(
        predicted={"rate_at_lowest_selected_f": float(pred[sel0[0]]) if sel0.size else float("nan"),
                   "rate_at_highest_selected_f": float(pred[sel0[-1]]) if sel0.size else float("nan"),
                   "eta": eta_pred},
        measured={"median_rel_err": median, "max_rel_err": worst, "frequencies_selected": n_sel,
                  "frequencies_total": int(lam.size), "seeds": p["seeds"], "n": n, "k": p["k"], "T": T},
        criterion={"text": f"over frequencies with a_f(T) ≤ {p['selected_below']} (at least half of them), rates "
                           f"fitted until a_f ≤ {p['window_floor']}: median |measured/predicted − 1| ≤ "
                           f"{_DECAY_MEDIAN} and max ≤ {_DECAY_MAX}",
                   "median_max": _DECAY_MEDIAN, "max_max": _DECAY_MAX,
                   "selected_below": p["selected_below"], "window_floor": p["window_floor"]},
        passed=passed,
        data={**keep, "predicted_rates": pred, "frequency": np.arange(lam.size), "shown": shown,
              "median_err": median, "window_floor": p["window_floor"]},
    )


# ----------------------------------------------------------------------------- [8]
_FIT_SIZES = {
    "tiny": {"n": 32, "k": 1024, "filters": ("delta", "triangle:2", "triangle:4"), "seeds": 1},
    "quick": {"n": 64, "k": 4096, "filters": ("delta", "triangle:2", "triangle:4", "triangle:8"), "seeds": 1},
    "full": {"n": 256, "k": 8192, "filters": ("delta", "triangle:2", "triangle:4", "triangle:8"), "seeds": 2},
}
_FIT_COMMON = {"rms": 1 / 32, "level": 0.1, "smooth_p": 4, "budget": 1.6}
_FIT_RATIO_TOL = 0.25


def _fit_times(gen, pred_gen, y, seed, level, budget):
    """Actual and predicted (fractional) iterations to reach ``level`` relative residual.

    The step budget is ``budget ×`` the correct prediction (whatever ``pred_gen``
    is), so a faulty prediction changes the predicted number only.
    """
    eta = max_step_size(gen)
    steps = int(np.ceil(budget * linearized(spectrum(gen), y, eta).fit_time(level))) + 10
    run = run_pair(gen, y, steps, seed=seed, eta=eta, record=2, spec=spectrum(pred_gen))
    last = run.lin.fit_time(level)
    pred = _crossing(_rel_residual(run.lin.loss(np.arange(last + 1))), level)
    return _crossing(_rel_residual(run.traj.losses), level), pred, last


def _plot_fit(res):
    d = res.data
    w = np.asarray(d["widths"], float)
    fig, (ax,) = figure(figsize=(6.4, 4.2))
    for j, kind in enumerate(("smooth", "noise")):
        ax.semilogy(w, d[f"predicted_{kind}"], "--", color=f"C{j}", label=f"{kind}: predicted (linearized Σ)")
        ax.semilogy(w, d[f"actual_{kind}"], "o", color=f"C{j}", ms=7, mfc="none", mew=2,
                    label=f"{kind}: actual network")
    ax.set_xscale("log", base=2)
    ax.set_xticks(w)
    ax.set_xticklabels(["δ" if x == 1 else f"{int(x)}" for x in w])
    for x, t, r in zip(w, d["actual_noise"], d["actual_ratio"]):
        ax.annotate(f"×{r:.3g}", (x, t), textcoords="offset points", xytext=(9, -13), fontsize="small", color="C1")
    ax.plot([], [], " ", label="×r: actual noise / smooth ratio")
    ax.set_xlim(w[0] / 1.4, w[-1] * 1.6)
    ax.set_ylim(bottom=float(np.min([d["actual_smooth"], d["predicted_smooth"]])) / 2)
    finish_axes(ax, "triangle filter half-width p (δ filter: p = 1)",
                f"iterations to {int(100 * d['level'])} % relative residual",
                f"Fitting a smooth signal vs noise of equal norm (n={d['n']}, k={d['k']})")
    return [("", fig)]


@register(
    "structure-vs-noise",
    claim="A smooth signal is fitted in far fewer iterations than white noise of equal norm; the ratio, "
          "predicted by the linearized dynamics, grows with the filter width and is ≈ 1 for the δ filter.",
    reference="docs/theory.md §2.5, §4.1; claim [8]; Heckel & Soltanolkotabi, ICLR 2020 (Fig. 1, 4)",
    faults=("filter-swapped",),
    plot=_plot_fit,
)
def structure_vs_noise(profile: str, seed: int, fault: str | None = None):
    """Iterations to fit a smooth signal vs noise, predicted vs actual [8].

    For each filter (δ, triangles of growing width) the network fits, from the
    same mirrored initialisation, a smooth signal (4 lowest trig functions) and
    white noise, both of norm ``√n/32`` (``rms = 1/32``, ``ω = 1``). Fit time =
    first iteration with ``‖r_τ‖ ≤ 0.1‖r_0‖``, interpolated log-linearly between
    steps (smooth signals are fitted in ~5 steps, so whole steps would be a 20 %
    rounding); the prediction is the same crossing of the linearized residual
    (``LinearizedPrediction.fit_time(0.1)`` gives its ceiling). The noise runs
    get ``1.6 ×`` the predicted number of steps. Pass: for every filter
    ``|actual ratio / predicted ratio − 1| ≤ 0.25``, the actual ratio strictly
    increases with width, and it is within 25 % of 1 for δ.

    Regime: with ``ω = 0.01``, non-mirrored init (``rms ≈ 12``), the network fits
    noise 2× slower than predicted for triangle:2 and does not fit it within
    2.5× the predicted time for triangle:4 and 8 (n = 64, k = 2048): the
    activation patterns move. At ``rms = 1/16`` the triangle:8 ratio is still
    13–24 % above the prediction (k = 2048–4096); at ``rms = 1/32`` the deviation
    is 5–14 % (n = 64, k = 2048–8192) and shrinks with k (3–5 % at n = 256, k = 8192).
    Fault ``filter-swapped``: each prediction uses the Σ of the filter twice as
    wide (δ → triangle:2, triangle:p → triangle:2p).
    """
    p = {**sizes(_FIT_SIZES, profile), **_FIT_COMMON}
    n, k, filters = p["n"], p["k"], p["filters"]
    norm = p["rms"] * np.sqrt(n)
    times = np.empty((p["seeds"], len(filters), 2, 2))  # seed, filter, (smooth, noise), (actual, predicted)
    ceil_pred = np.empty((p["seeds"], len(filters), 2), dtype=np.int64)
    for s in range(p["seeds"]):
        r_y = rng(seed, s, _TARGET)
        targets = (signals.smooth(n, p["smooth_p"], seed=r_y, norm=norm), signals.white_noise(n, norm, seed=r_y))
        for i, spec in enumerate(filters):
            gen = make_gen(spec, n, k)
            pred_gen = make_gen(_wider(spec), n, k) if fault == "filter-swapped" else gen
            for j, y in enumerate(targets):
                a, b, c = _fit_times(gen, pred_gen, y, rng(seed, s, i, _INIT), p["level"], p["budget"])
                times[s, i, j], ceil_pred[s, i, j] = (a, b), c
    mean = times.mean(axis=0)  # filter, target, (actual, predicted)
    actual_ratio = mean[:, 1, 0] / mean[:, 0, 0]
    pred_ratio = mean[:, 1, 1] / mean[:, 0, 1]
    with np.errstate(invalid="ignore"):
        dev = np.abs(actual_ratio / pred_ratio - 1.0)
    increasing = bool(np.all(np.diff(actual_ratio) > 0))
    delta_ok = bool(abs(actual_ratio[0] - 1.0) <= _FIT_RATIO_TOL)
    passed = bool(np.all(dev <= _FIT_RATIO_TOL) and increasing and delta_ok)
    return result(
        predicted={"ratio_noise_to_smooth": pred_ratio, "fit_time_smooth": mean[:, 0, 1],
                   "fit_time_noise": mean[:, 1, 1], "fit_time_ceil_seed0": ceil_pred[0].T.tolist()},
        measured={"ratio_noise_to_smooth": actual_ratio, "max_rel_dev_of_ratio": float(np.max(dev)),
                  "fit_time_smooth": mean[:, 0, 0], "fit_time_noise": mean[:, 1, 0],
                  "ratio_increasing": increasing, "filters": list(filters), "n": n, "k": k, "seeds": p["seeds"]},
        criterion={"text": f"for every filter |actual/predicted ratio − 1| ≤ {_FIT_RATIO_TOL}; actual ratio strictly "
                           f"increasing with width; δ-filter ratio within {_FIT_RATIO_TOL} of 1",
                   "ratio_tol": _FIT_RATIO_TOL, "level": p["level"]},
        passed=passed,
        data={"widths": [_width(f) for f in filters], "level": p["level"], "n": n, "k": k,
              "actual_smooth": mean[:, 0, 0], "actual_noise": mean[:, 1, 0],
              "predicted_smooth": mean[:, 0, 1], "predicted_noise": mean[:, 1, 1], "actual_ratio": actual_ratio},
    )
