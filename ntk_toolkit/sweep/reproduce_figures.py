"""Figures of the reproduce targets, drawn from the rows of their store (median and interquartile band
over seeds)."""

from __future__ import annotations

import re

import numpy as np

from .results import aggregate

__all__ = ["draw", "FIGURES"]


def _width(spec: str) -> float:
    """The width of a filter specification (``triangle:8`` -> 8, ``gaussian:2.1:none`` -> 2.1)."""
    parts = spec.split(":")
    try:
        return float(parts[1])
    except (IndexError, ValueError):
        return 1.0


def _curve(ax, rows, x, y, *, color, label, style="o-", band=True, xmap=None):
    agg = aggregate(rows, x, y).get(None)
    if agg is None:
        return
    xs = np.array([xmap(v) if xmap else v for v in agg["x"]], dtype=float)
    med = np.array(agg["median"])
    ok = np.isfinite(med)
    ax.plot(xs[ok], med[ok], style, color=color, label=label, ms=4)
    if band:
        lo, hi = np.array(agg["q25"]), np.array(agg["q75"])
        good = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(xs[good], lo[good], hi[good], color=color, alpha=0.18, lw=0)


def _by(rows, key):
    out: dict = {}
    for r in rows:
        out.setdefault(r[key], []).append(r)
    return out


def _finish(ax, xlabel, ylabel, title, log=""):
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if "x" in log:
        ax.set_xscale("log")
    if "y" in log:
        ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def _spectra(target, rows, plt):
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.6))
    s = target.scale
    for i, r in enumerate(sorted(rows, key=lambda r: (r["filter"].split(":")[0], _width(r["filter"])))):
        lam = [r[f"lambda_{j}"] * s for j in range(r["n"]) if f"lambda_{j}" in r]
        a1.semilogy(np.arange(len(lam)), lam, color=f"C{i}", label=r["filter"])
    _finish(a1, "index i (decreasing order)", f"eigenvalue of Σ × {s:.3g}", f"Spectra, n = {rows[0]['n']}", "")
    fams: dict = {}
    for r in rows:
        fams.setdefault(r["filter"].split(":")[0], []).append((_width(r["filter"]), r["lambda_min"] * s))
    for j, (fam, pts) in enumerate(sorted(fams.items())):
        pts.sort()
        a2.loglog([p[0] for p in pts], [p[1] for p in pts], "o-", color=f"C{j}", label=fam)
    _finish(a2, "filter width (triangle p; Gaussian std in samples)", f"min eigenvalue × {s:.3g}",
            "Minimum eigenvalue against the width", "")
    return fig


def _fit_time(target, rows, plt):
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for i, (sig, rs) in enumerate(sorted(_by(rows, "signal").items())):
        _curve(ax, rs, "filter", "fit_time_network", color=f"C{i}", label=f"{sig}: network", xmap=_width)
        _curve(ax, rs, "filter", "fit_time_predicted", color=f"C{i}", label=f"{sig}: predicted", style="s--",
               band=False, xmap=_width)
    r0 = rows[0]
    _finish(ax, "triangle filter width p (p = 1: δ)", f"iterations to {r0['delta']:g} of the initial residual",
            f"Fitting speed, n = {r0['n']}, k = {r0['k']}", "xy")
    return fig


def _denoising(target, rows, plt):
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for i, (filt, rs) in enumerate(sorted(_by(rows, "filter").items(), key=lambda kv: _width(kv[0]))):
        taus = sorted({int(m.group(1)) for k in rs[0] if (m := re.fullmatch(r"error_network_t(\d+)", k))})
        for kind, style, band in (("network", "-", True), ("predicted", "--", False)):
            vals = np.array([[r[f"error_{kind}_t{t}"] for t in taus] for r in rs])
            med = np.median(vals, axis=0)
            x = np.maximum(taus, 0.5)
            ax.plot(x, med, style, color=f"C{i}", label=f"{filt}: {kind}")
            if band:
                ax.fill_between(x, *np.percentile(vals, [25, 75], axis=0), color=f"C{i}", alpha=0.18, lw=0)
    ax.axhline(rows[0]["noise"], color="0.5", lw=0.8, ls=":", label="‖z‖/‖x‖ (no denoising)")
    r0 = rows[0]
    _finish(ax, "iteration τ (0 drawn at 0.5)", "‖G(C_τ) − x‖ / ‖x‖",
            f"Early stopping, {r0['signal']} signal, n = {r0['n']}, k = {r0['k']}", "xy")
    return fig


def _recovery(target, rows, plt):
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    by_filter = sorted(_by(rows, "filter").items(), key=lambda kv: _width(kv[0]))
    for i, (filt, rs) in enumerate(by_filter):
        _curve(ax, rs, "m", "error_interpolant", color=f"C{i}", label=f"{filt}: smoothest interpolant")
        _curve(ax, rs, "m", "error_predicted", color=f"C{i}", label=f"{filt}: recovery law", style="--", band=False)
        if any("error_network" in r for r in rs):
            _curve(ax, rs, "m", "error_network", color=f"C{i}", label=f"{filt}: network", style="x", band=False)
    _curve(ax, by_filter[0][1], "m", "error_min_l2", color="0.4", label="A⁺y (min-l2)", style="^:")
    _finish(ax, "number of measurements m", "‖x̂ − x‖ / ‖x‖",
            f"Recovery from Gaussian measurements, n = {rows[0]['n']}", "y")
    return fig


def _image_denoising(target, rows, plt):
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for i, (y, label) in enumerate((("best_psnr", "network, best iteration"),
                                    ("predicted_best_psnr", "linearized prediction, best iteration"),
                                    ("final_psnr", "network, last iteration"), ("noisy_psnr", "noisy image"))):
        _curve(ax, rows, "sigma", y, color=f"C{i}", label=label, xmap=lambda s: 255 * s)
    r0 = rows[0]
    _finish(ax, "noise level σ × 255", "PSNR (dB)",
            f"Denoising {r0['image']} {r0['size']}², {r0['filter']}, k = {r0['k']}")
    return fig


def _image_inpainting(target, rows, plt):
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for i, (y, label) in enumerate((("psnr_network", "network, run to convergence"),
                                    ("psnr_interpolant", "smoothest interpolant"),
                                    ("psnr_min_l2", "zero filling (A⁺y)"))):
        _curve(ax, rows, "keep", y, color=f"C{i}", label=label)
    r0 = rows[0]
    _finish(ax, "fraction of pixels kept", "PSNR (dB)",
            f"Inpainting {r0['image']} {r0['size']}², {r0['filter']}, k = {r0['k']}")
    return fig


def _image_fit_time(target, rows, plt):
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for i, (what, label) in enumerate((("image", "image"), ("noise", "noise of the same norm"))):
        _curve(ax, rows, "filter", f"fit_time_{what}", color=f"C{i}", label=f"{label}: network", xmap=_width)
        _curve(ax, rows, "filter", f"predicted_fit_time_{what}", color=f"C{i}", label=f"{label}: predicted",
               style="s--", band=False, xmap=_width)
    r0 = rows[0]
    _finish(ax, "2-D triangle filter width (1: δ)", f"iterations to {r0['delta']:g} of the norm",
            f"Images vs {r0['noise']} noise, {r0['size']}², k = {r0['k']} (median over images and seeds)", "y")
    return fig


#: Figure kind (``[reproduce] figure``) -> drawing function ``(target, rows, pyplot) -> Figure``.
FIGURES = {"spectra": _spectra, "fit_time": _fit_time, "denoising_curves": _denoising, "recovery": _recovery,
           "image_denoising": _image_denoising, "image_inpainting": _image_inpainting,
           "image_fit_time": _image_fit_time}


def draw(target, rows: list[dict]):
    """The figure of ``target`` from its ``done`` rows.

    Examples
    --------
    >>> from ntk_toolkit.sweep.reproduce import get_target
    >>> rows = [{"filter": "triangle:1", "n": 4, "lambda_min": 0.5, "lambda_0": 0.5, "lambda_1": 0.5}]
    >>> fig = draw(get_target("p1-fig6-spectrum"), rows)
    >>> len(fig.axes)
    2
    """
    from ..plotting import pyplot

    if not rows:
        raise ValueError(f"target {target.name!r} has no finished points to draw")
    if target.figure not in FIGURES:
        raise ValueError(f"target {target.name!r} names figure {target.figure!r}; known: {', '.join(FIGURES)}")
    fig = FIGURES[target.figure](target, rows, pyplot())
    fig.tight_layout()
    return fig
