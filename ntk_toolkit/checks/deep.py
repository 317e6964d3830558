"""Checks of the deep family: the Jacobian of deep decoders and multi-layer convolutional generators
(``docs/theory.md`` §2.7, §5.3, §6; claims [20] and [21] of §9).

The networks are :class:`ntk_toolkit.deep.DeepDecoder` (the 1-D network of the authors' Jacobian
experiment — linear upsampling, channel normalisation, last layer fixed to ``(1, −1)/√k``,
Xavier-normal initialisation — and the 2-D decoder with bilinear upsampling) and
:class:`ntk_toolkit.deep.MultiLayerConvGenerator`. The spectra are matrix-free
(:func:`ntk_toolkit.deep.jacobian_spectrum`). There is no closed-form theory for these networks:
the predictions are the qualitative statements of the papers (geometric decay, trigonometric
leading subspace, stable subspace, fixed interpolation as the source of the bias) and, for depth,
the linearized dynamics with the network's own kernel ``J(θ_0) J(θ_0)ᵀ`` next to the two-layer
closed form ``Σ``.
"""

from __future__ import annotations

import numpy as np

from ..deep import (
    DeepDecoder,
    MultiLayerConvGenerator,
    decay_rate,
    fit,
    jacobian_spectrum,
    subspace_drift,
    trig_overlap,
)
from ..filters import delta, triangle
from ..generator import TwoLayerGenerator
from ..images import load
from ..kernels import empirical_kernel, expected_kernel
from ..operators import CircularConv
from ..prediction import linearized
from ._base import register, result, sizes
from ._common import figure, finish_axes, rng

#: Position of the family in the report (after image, 50).
REPORT_ORDER = 70


def _fig7_net(n: int, k: int, layers: int) -> DeepDecoder:
    """The 1-D deep decoder of the authors' Jacobian experiment (``docs/theory.md`` §6)."""
    return DeepDecoder((n,), [k] * layers, last_layer="fixed")


def _image_net(size: int, k: int, layers: int, upsample: str = "bilinear") -> DeepDecoder:
    return DeepDecoder((size, size), [k] * layers, upsample=upsample)


# ----------------------------------------------------------------------------- [20a]
_GD_SIZES = {
    "tiny": {"n": 128, "k1": 32, "size": 16, "k2": 16, "layers": 4, "r": 12},
    "quick": {"n": 256, "k1": 64, "size": 32, "k2": 32, "layers": 5, "r": 30},
    "full": {"n": 512, "k1": 128, "size": 64, "k2": 64, "layers": 5, "r": 50},
}
#: Straight-line fit of log s_i (i ≥ 2): measured R² 0.95–0.98 at r = 30 (1-D, 2-D; widths 16–128),
#: 0.77–0.98 at r = 12 (tiny, 4 seeds), where the top cluster weighs more in the fit.
_GD_MIN_R2 = 0.75
#: s_r / s_2: measured 0.26–0.50 for r = 12 … 50; a flat spectrum (random Gaussian J) gives ≈ 0.9.
_GD_MAX_DROP = 0.6


def _plot_decay(res):
    d = res.data
    fig, (ax,) = figure(1)
    for j, label in enumerate(d["labels"]):
        s = np.asarray(d["singular_values"][j])
        i = np.arange(1, s.size + 1)
        ax.semilogy(i, s, "o", ms=3, color=f"C{j}", label=f"{label}: s_i")
        fit_ = d["fits"][j]
        ax.semilogy(i[1:], np.exp(fit_["intercept"] + np.log(fit_["rate"]) * np.arange(s.size - 1)), "-",
                    color=f"C{j}", label=f"geometric fit, rate {fit_['rate']:.3f}, R² {fit_['r2']:.3f}")
    finish_axes(ax, "index i", "singular value of J(θ_0)", "Leading singular values of deep decoders' Jacobians")
    fig.tight_layout()
    return [("", fig)]


@register(
    "geometric-decay",
    claim="The leading singular values of a deep decoder's Jacobian at initialization decay geometrically "
          "(log s_i is close to a straight line in i), for 1-D and 2-D outputs.",
    reference="docs/theory.md §2.7, §5.3; claim 20(a); Heckel & Soltanolkotabi, ICLR 2020 (Fig. 7)",
    faults=("random-jacobian",),
    plot=_plot_decay,
)
def geometric_decay(profile: str, seed: int, fault: str | None = None):
    """Geometric decay of the Jacobian's singular values [20a].

    The ``r`` leading singular values (Lanczos) of the 1-D decoder of the Jacobian experiment
    (``n = 256``, ``[64]*5``; tiny 128, ``[32]*4``) and of a 2-D decoder (32×32, ``[32]*4``,
    bilinear). :func:`~ntk_toolkit.deep.decay_rate` fits ``log s_i`` for ``i ≥ 2`` (the first
    value is left out: it often stands apart). Pass, both networks: ``R² ≥ 0.75`` (the decay
    is geometric) and ``s_r / s_2 ≤ 0.6`` (it is substantial). Fault ``random-jacobian``: the
    singular values of a Gaussian matrix
    of the Jacobian's shape (nearly flat) are measured instead.
    """
    p = sizes(_GD_SIZES, profile)
    nets = [("1-D", _fig7_net(p["n"], p["k1"], p["layers"]), "xavier"),
            ("2-D", _image_net(p["size"], p["k2"], p["layers"] - 1), "pytorch")]
    labels, svals, fits, rows = [], [], [], {}
    for j, (label, net, scheme) in enumerate(nets):
        theta = net.init(seed=rng(seed, 1, j), scheme=scheme)
        if fault == "random-jacobian":
            G = rng(seed, 2, j).standard_normal((net.n, net.num_params))
            s = np.linalg.svd(G, compute_uv=False)[:p["r"]]
        else:
            s = jacobian_spectrum(net, theta, p["r"], seed=rng(seed, 3, j)).singular_values
        f = decay_rate(s, skip=1)
        drop = float(s[-1] / s[1])
        labels.append(label)
        svals.append(s)
        fits.append(f.to_dict())
        rows[label] = {"rate": f.rate, "r2": f.r2, "drop_s_r_over_s_2": drop, "net": repr(net)}
    ok = all(v["r2"] >= _GD_MIN_R2 and v["drop_s_r_over_s_2"] <= _GD_MAX_DROP for v in rows.values())
    return result(
        predicted={"decay": "geometric", "min_r2": _GD_MIN_R2, "max_drop": _GD_MAX_DROP},
        measured={**{f"{k}_{m}": v[m] for k, v in rows.items() for m in ("rate", "r2", "drop_s_r_over_s_2")},
                  "r": p["r"]},
        criterion={"text": f"for the 1-D and the 2-D decoder: R² of the fit of log s_i (i ≥ 2) ≥ {_GD_MIN_R2} "
                           f"and s_r/s_2 ≤ {_GD_MAX_DROP}", "min_r2": _GD_MIN_R2, "max_drop": _GD_MAX_DROP},
        passed=bool(ok),
        data={"labels": labels, "singular_values": svals, "fits": fits},
    )


# ----------------------------------------------------------------------------- [20b]
_TS_SIZES = {
    "tiny": {"n": 128, "widths": (8, 64), "layers": 4, "r": 12},
    "quick": {"n": 256, "widths": (16, 128), "layers": 5, "r": 30},
    "full": {"n": 512, "widths": (16, 64, 256), "layers": 5, "r": 50},
}
#: The overlap of the top-r subspace must exceed this multiple of a random subspace's, r/n. Measured
#: 2.5–4.7 (tiny, n = 128, r = 12, 4 seeds), about 5 (quick, n = 256, r = 30).
_TS_MIN_FACTOR = 2.0


def _plot_trig(res):
    d = res.data
    fig, (ax,) = figure(1)
    for j, k in enumerate(d["widths"]):
        ov = np.asarray(d["overlaps"][j])
        ax.plot(np.arange(1, ov.size + 1), ov, "-o", ms=3, label=f"width k = {k}")
    r = len(d["overlaps"][0])
    ax.plot(np.arange(1, r + 1), np.arange(1, r + 1) / d["n"], "k--", label="random subspace, j/n")
    finish_axes(ax, "j", "overlap of top-j singular subspace with j lowest frequencies",
                f"Trigonometric overlap, 1-D deep decoder, n = {d['n']}")
    fig.tight_layout()
    return [("", fig)]


@register(
    "trig-subspace",
    claim="The top-j left singular subspace of a deep decoder's Jacobian overlaps the span of the j "
          "lowest-frequency trigonometric functions far more than a random subspace, and more so for wider networks.",
    reference="docs/theory.md §2.7; claim 20(b); Heckel & Soltanolkotabi, ICLR 2020 (Fig. 7)",
    faults=("high-frequencies",),
    plot=_plot_trig,
)
def trig_subspace(profile: str, seed: int, fault: str | None = None):
    """Trigonometric leading subspace, growing with width [20b].

    1-D decoder of the Jacobian experiment (``n = 256``, 5 layers) at widths 16 and 128 (full:
    16, 64, 256); :func:`~ntk_toolkit.deep.trig_overlap` of the ``r = 30`` leading left singular
    vectors. Pass: for every width the overlap at ``j = r`` is ≥ 2 r/n (twice a random
    subspace's), and the mean overlap over ``j`` grows with the width (widest > narrowest).
    Fault ``high-frequencies``: the vectors are modulated by ``(−1)^m`` before the comparison,
    which sends frequency ``f`` to ``n/2 − f`` (the highest frequencies are compared).
    """
    p = sizes(_TS_SIZES, profile)
    n, r = p["n"], p["r"]
    overlaps, means, last = [], [], []
    for j, k in enumerate(p["widths"]):
        net = _fig7_net(n, k, p["layers"])
        V = jacobian_spectrum(net, net.init(seed=rng(seed, 1, j), scheme="xavier"), r, seed=rng(seed, 2, j)).vectors
        if fault == "high-frequencies":
            V = V * ((-1.0) ** np.arange(n))[:, None]
        ov = trig_overlap(V, (n,))
        overlaps.append(ov)
        means.append(float(ov.mean()))
        last.append(float(ov[-1]))
    random_level = r / n
    ok = min(last) >= _TS_MIN_FACTOR * random_level and means[-1] > means[0]
    return result(
        predicted={"overlap_at_r_min": _TS_MIN_FACTOR * random_level, "random_level": random_level,
                   "mean_overlap_grows_with_width": True},
        measured={"widths": list(p["widths"]), "overlap_at_r": last, "mean_overlap": means, "r": r, "n": n},
        criterion={"text": f"overlap at j = r ≥ {_TS_MIN_FACTOR:g} r/n = {_TS_MIN_FACTOR * random_level:.3f} for "
                           "every width; mean overlap of the widest > narrowest", "min_factor": _TS_MIN_FACTOR},
        passed=bool(ok),
        data={"widths": list(p["widths"]), "overlaps": overlaps, "n": n},
    )


# ----------------------------------------------------------------------------- [20c]
_SS_SIZES = {
    "tiny": {"n": 128, "k": 64, "layers": 4, "steps": 90, "small": 4, "big": 16},
    "quick": {"n": 128, "k": 64, "layers": 5, "steps": 300, "small": 5, "big": 20},
    "full": {"n": 256, "k": 256, "layers": 5, "steps": 1000, "small": 5, "big": 20},
}
#: Fraction of the trained top-``small`` subspace inside the initial top-``big`` one, as a multiple
#: of a random subspace's ``big/n``: measured 4.2–5.8 (n = 128, k = 64 and 256, 300 Adam steps),
#: 2.9–5.1 (tiny, 90 steps, 4 seeds).
_SS_MIN_FACTOR = 2.5
_SS_LR = 0.001


def _containment(V_big: np.ndarray, V_small: np.ndarray) -> float:
    Q = np.linalg.qr(V_big)[0]
    return float(np.sum((Q.T @ V_small) ** 2)) / V_small.shape[1]


def _plot_stability(res):
    d = res.data
    fig, (ax1, ax2) = figure(2)
    ax1.plot(d["iterations"], d["contained"], "-o", label="trained top-j₁ inside initial top-j₂")
    ax1.axhline(d["random_level"], color="k", ls="--", label="random subspace")
    finish_axes(ax1, "Adam iteration", "fraction contained", "Leading subspace during training")
    ax2.plot(np.arange(1, len(d["angles_deg"]) + 1), d["angles_deg"], "-o", label="principal angles, top-j₂")
    finish_axes(ax2, "index", "angle (degrees)", "Principal angles, initialization vs end")
    fig.tight_layout()
    return [("", fig)]


@register(
    "subspace-stability",
    claim="The leading singular subspace of a deep decoder's Jacobian changes little while the network is "
          "trained: the leading directions after training stay inside the leading subspace at initialization.",
    reference="docs/theory.md §2.7; claim 20(c); Heckel & Soltanolkotabi, ICLR 2020 (Fig. 7)",
    faults=("random-subspace",),
    plot=_plot_stability,
)
def subspace_stability(profile: str, seed: int, fault: str | None = None):
    """Stability of the leading subspace under training [20c].

    The 1-D decoder (``n = 128``, ``[64]*5``) is fitted with Adam (``lr = 0.001``, 300 steps) to
    the middle row of ``camera``; :func:`~ntk_toolkit.deep.fit` records the Jacobian's 20
    leading left singular vectors every 100 steps. Measured: the fraction of the top-5 subspace
    after training that lies in the top-20 subspace at initialization
    (``‖Q₀ᵀ V₁‖²_F / 5``), and the principal angles (:func:`~ntk_toolkit.deep.subspace_drift`)
    of the two top-20 subspaces. Pass: fraction ≥ 2.5 × 20/n (the level of a random
    subspace) at every recorded step. Fault ``random-subspace``: a random subspace stands in for the trained one.
    """
    p = sizes(_SS_SIZES, profile)
    n = p["n"]
    net = _fig7_net(n, p["k"], p["layers"])
    y = load("camera", n)[n // 2]
    every = max(1, p["steps"] // 3)
    tr = fit(net, y, net.init(seed=rng(seed, 1), scheme="xavier"), optimizer="adam", lr=_SS_LR, steps=p["steps"],
             record=[0], jacobian_every=every, rank=p["big"], seed=seed)
    V0 = tr.singular_vectors[0]
    trained = list(tr.singular_vectors[1:])
    if fault == "random-subspace":
        trained = [np.linalg.qr(rng(seed, 2, j).standard_normal((n, p["big"])))[0] for j in range(len(trained))]
    contained = [_containment(V0, V[:, :p["small"]]) for V in trained]
    angles = np.degrees(subspace_drift(V0, trained[-1]))
    level = p["big"] / n
    ok = min(contained) >= _SS_MIN_FACTOR * level
    return result(
        predicted={"min_contained": _SS_MIN_FACTOR * level, "random_level": level},
        measured={"contained": contained, "iterations": tr.spectrum_iterations[1:].tolist(),
                  "median_angle_deg": float(np.median(angles)), "loss_ratio": float(tr.losses[-1] / tr.losses[0])},
        criterion={"text": f"fraction of the trained top-{p['small']} subspace inside the initial top-{p['big']} "
                           f"≥ {_SS_MIN_FACTOR:g} × the random level {p['big']}/n at every recorded step",
                   "min_factor": _SS_MIN_FACTOR},
        passed=bool(ok),
        data={"iterations": tr.spectrum_iterations[1:].tolist(), "contained": contained,
              "angles_deg": angles, "random_level": p["big"] / n},
    )


# ----------------------------------------------------------------------------- [21]
_AB_SIZES = {
    "tiny": {"size": 16, "k": 16, "layers": 4, "steps": 600},
    "quick": {"size": 16, "k": 32, "layers": 4, "steps": 800},
    "full": {"size": 32, "k": 64, "layers": 4, "steps": 3000},
}
#: Fit = ‖G − y‖ ≤ δ ‖y − ȳ‖. Measured (16×16 and 32×32, 2 seeds): noise/image ratio 20–40 with
#: fixed bilinear upsampling, 1.2–1.6 with trainable interpolation filters.
_AB_DELTA, _AB_MIN_RATIO, _AB_MIN_GAP = 0.3, 5.0, 3.0
_AB_LR = 0.01


def _fit_time(net, theta, y, steps: int):
    goal = 0.5 * (_AB_DELTA * float(np.linalg.norm(y - y.mean()))) ** 2
    loss0 = net.loss(theta, y)
    tr = fit(net, y, theta, optimizer="adam", lr=_AB_LR, steps=steps, record=[0], stop_at=min(1.0, goal / loss0))
    return (tr.steps if tr.converged else None), tr.losses


def _plot_ablation(res):
    d = res.data
    fig, (ax,) = figure(1)
    for j, arch in enumerate(d["architectures"]):
        for style, target in (("-", "image"), (":", "noise")):
            losses = np.asarray(d["losses"][arch][target])
            ax.semilogy(np.arange(losses.size), losses / losses[0], style, color=f"C{j}", label=f"{arch}, {target}")
    finish_axes(ax, "Adam iteration", "loss / initial loss", "Image vs noise: fixed vs trainable interpolation")
    fig.tight_layout()
    return [("", fig)]


@register(
    "architecture-ablation",
    claim="A deep decoder with fixed interpolating upsampling fits a natural image much faster than noise; "
          "making the interpolation filters trainable (transposed convolutions) shrinks the gap.",
    reference="docs/theory.md §1.1, §9 claim [21]; Heckel & Soltanolkotabi, ICLR 2020 (Fig. 4)",
    faults=("fixed-both",),
    plot=_plot_ablation,
)
def architecture_ablation(profile: str, seed: int, fault: str | None = None):
    """Fixed vs trainable interpolation, image vs noise [21].

    2-D decoders of 16×16 outputs (full 32×32), ``[32]*4``, bilinear upsampling vs
    ``upsample="transposed"`` (zero insertion and a trainable 4×4 filter per layer), same seed;
    Adam (``lr = 0.01``) on ``camera`` and on uniform noise in ``[0, 1)``. Fit time: first step
    with ``‖G − y‖ ≤ 0.3 ‖y − ȳ‖``. Predicted direction: ratio (noise / image) large with fixed
    interpolation and much smaller with trainable filters. Pass: fixed ratio ≥ 5 and
    fixed ratio ≥ 3 × trainable ratio (an unfinished fit counts as the step cap).
    Fault ``fixed-both``: the "trainable" arm also uses fixed bilinear upsampling.
    """
    p = sizes(_AB_SIZES, profile)
    size = p["size"]
    img = load("camera", size).ravel()
    noise = rng(seed, 1).random(size * size)
    archs = {"fixed bilinear": "bilinear", "trainable filters": "bilinear" if fault == "fixed-both" else "transposed"}
    times, losses = {}, {}
    for arch, up in archs.items():
        net = _image_net(size, p["k"], p["layers"], upsample=up)
        theta = net.init(seed=rng(seed, 2))
        times[arch], losses[arch] = {}, {}
        for target, y in (("image", img), ("noise", noise)):
            t, ls = _fit_time(net, theta, y, p["steps"])
            times[arch][target] = t
            losses[arch][target] = ls
    ratios = {a: (v["noise"] if v["noise"] is not None else p["steps"]) / max(1, v["image"] or p["steps"])
              for a, v in times.items()}
    fixed, trainable = ratios["fixed bilinear"], ratios["trainable filters"]
    ok = fixed >= _AB_MIN_RATIO and fixed >= _AB_MIN_GAP * trainable
    return result(
        predicted={"ratio_fixed": f">= {_AB_MIN_RATIO:g}", "ratio_fixed_over_trainable": f">= {_AB_MIN_GAP:g}"},
        measured={"fit_times": times, "ratio_fixed": fixed, "ratio_trainable": trainable,
                  "ratio_fixed_over_trainable": fixed / trainable, "size": size, "k": p["k"]},
        criterion={"text": f"noise/image fit-time ratio ≥ {_AB_MIN_RATIO:g} with fixed upsampling and ≥ "
                           f"{_AB_MIN_GAP:g} × the ratio with trainable filters (fit: residual ≤ {_AB_DELTA} ‖y − ȳ‖)",
                   "min_ratio": _AB_MIN_RATIO, "min_gap": _AB_MIN_GAP, "delta": _AB_DELTA},
        passed=bool(ok),
        data={"architectures": list(archs), "losses": losses},
    )


# ----------------------------------------------------------------------------- depth
_DP_SIZES = {
    "tiny": {"n": 32, "k": 128, "depths": (1, 2), "steps": 3000},
    "quick": {"n": 32, "k": 256, "depths": (1, 2, 3), "steps": 4000},
    "full": {"n": 64, "k": 512, "depths": (1, 2, 3, 4), "steps": 20000},
}
_DP_DELTA = 0.3
#: Smooth-signal fit time vs the linearized prediction with the network's own kernel J(θ_0)J(θ_0)ᵀ:
#: measured equal ±1 step (n = 32, k = 256, depths 1–3).
_DP_SMOOTH_TOL = 0.3
#: The structure-before-noise ratio may not fall below this fraction of the two-layer prediction.
_DP_MIN_FRACTION = 0.5


def _plot_depth(res):
    d = res.data
    fig, (ax,) = figure(1)
    ax.semilogy(d["depths"], d["measured_ratio"], "o-", label="measured (network)")
    ax.semilogy(d["depths"], d["kernel_ratio"], "s--", label="linearized with J(θ₀)J(θ₀)ᵀ")
    ax.axhline(d["two_layer_ratio"], color="k", ls=":", label="two-layer prediction (Σ)")
    ax.set_xticks(d["depths"])
    finish_axes(ax, "depth d", "fit-time ratio noise / smooth", "Fit-time ratio against depth")
    fig.tight_layout()
    return [("", fig)]


@register(
    "depth",
    claim="With fixed smoothing convolutions between layers, deeper generators keep (and sharpen) the bias "
          "of the two-layer model: noise takes at least as many more steps than a smooth signal as the two-layer "
          "closed form predicts, and more with depth.",
    reference="docs/theory.md §2.7 (nested smoothing), §4.1, §5.3",
    faults=("delta-filter",),
    plot=_plot_depth,
)
def depth(profile: str, seed: int, fault: str | None = None):
    """Fit-time ratios against depth, side by side with the two-layer prediction.

    :class:`~ntk_toolkit.deep.MultiLayerConvGenerator` with ``d = 1, 2, 3`` copies of a
    ``triangle(3)`` convolution (``n = 32``, ``k = 256``), mirrored initialisation
    (``G(θ_0) = 0``), plain gradient descent with ``η = 1/λ_max(J(θ_0)J(θ_0)ᵀ)``. Targets: a smooth
    signal (frequencies 1 and 2) and Gaussian noise of the same norm; fit time: first step with
    ``‖G − y‖ ≤ 0.3 ‖y‖``. Predictions: the two-layer closed form (``Σ`` of the same filter) and
    the linearized dynamics with each network's own kernel. Pass: at every depth the measured
    ratio ≥ 0.5 × the two-layer prediction and the smooth fit time within
    ``1 + 0.3 ×`` its kernel prediction; the deepest ratio exceeds the depth-1 ratio.
    Fault ``delta-filter``: the networks use the identity (δ-filter) instead of the triangle.
    """
    p = sizes(_DP_SIZES, profile)
    n, k = p["n"], p["k"]
    m = np.arange(n)
    smooth = np.cos(2 * np.pi * m / n) + 0.5 * np.sin(4 * np.pi * m / n)
    noise = rng(seed, 1).standard_normal(n)
    noise *= np.linalg.norm(smooth) / np.linalg.norm(noise)
    U = CircularConv(triangle(3), n)
    Sigma = expected_kernel(TwoLayerGenerator(U, k))
    eta2 = 1.0 / float(np.linalg.eigvalsh(Sigma)[-1])
    two = linearized(Sigma, smooth, eta=eta2)
    two_ratio = two.fit_time(_DP_DELTA, noise) / max(1, two.fit_time(_DP_DELTA, smooth))
    op = CircularConv(delta(), n) if fault == "delta-filter" else U
    measured, kernel_ratio, smooth_ok, rows = [], [], [], []
    for j, d in enumerate(p["depths"]):
        gen = MultiLayerConvGenerator([op] * d, [k] * d)
        theta = gen.init(seed=rng(seed, 2, j), symmetric=True)
        K = empirical_kernel(gen, theta)
        eta = 1.0 / float(np.linalg.eigvalsh(K)[-1])
        pred = linearized(K, smooth, eta=eta)
        t = []
        for y in (smooth, noise):
            tr = fit(gen, y, theta, optimizer="gd", lr=eta, steps=p["steps"], record=[0], stop_at=_DP_DELTA ** 2)
            t.append(tr.steps if tr.converged else p["steps"])
        ps, pn = pred.fit_time(_DP_DELTA, smooth), pred.fit_time(_DP_DELTA, noise)
        measured.append(t[1] / max(1, t[0]))
        kernel_ratio.append(pn / max(1, ps))
        smooth_ok.append(abs(t[0] - ps) <= 1 + _DP_SMOOTH_TOL * ps)
        rows.append({"depth": d, "fit_smooth": t[0], "fit_noise": t[1], "predicted_smooth": ps, "predicted_noise": pn})
    ok = (all(r >= _DP_MIN_FRACTION * two_ratio for r in measured) and all(smooth_ok)
          and measured[-1] > measured[0])
    return result(
        predicted={"two_layer_ratio": two_ratio, "kernel_ratio": kernel_ratio},
        measured={"depths": list(p["depths"]), "ratio": measured, "runs": rows, "n": n, "k": k},
        criterion={"text": f"every depth: measured ratio ≥ {_DP_MIN_FRACTION} × two-layer ratio and smooth fit time "
                           f"within 1 + {_DP_SMOOTH_TOL} × its kernel prediction; deepest ratio > depth-1 ratio "
                           f"(fit: ‖G − y‖ ≤ {_DP_DELTA} ‖y‖)",
                   "min_fraction": _DP_MIN_FRACTION, "smooth_tol": _DP_SMOOTH_TOL, "delta": _DP_DELTA},
        passed=bool(ok),
        data={"depths": list(p["depths"]), "measured_ratio": measured, "kernel_ratio": kernel_ratio,
              "two_layer_ratio": two_ratio},
    )
