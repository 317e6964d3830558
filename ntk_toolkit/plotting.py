"""Matplotlib figures. matplotlib is imported lazily, with the Agg backend when
no display is configured, so importing ntk_toolkit never imports it."""

from __future__ import annotations

import numpy as np

__all__ = ["pyplot", "plot_spectra", "plot_fit", "plot_recovery_curve", "plot_denoising",
           "plot_fit_image_vs_noise", "plot_inpainting"]


#: Interactive backends that need a display; anything else (Agg, PDF, the
#: notebook backends "inline"/"module://…", "widget", "ipympl") is left alone.
_GUI_BACKENDS = ("tkagg", "qtagg", "qt5agg", "qt6agg", "gtk3agg", "gtk4agg", "wxagg", "macosx",
                 "tkcairo", "qtcairo", "gtk3cairo", "gtk4cairo", "wxcairo")


def pyplot():
    """``matplotlib.pyplot``, switched to Agg only where a GUI backend has no display.

    matplotlib is imported on the first call, not with ``ntk_toolkit``. On
    Linux without ``DISPLAY`` or ``WAYLAND_DISPLAY`` a GUI backend is replaced by
    Agg; notebook and file backends are kept.

    Returns
    -------
    module
        ``matplotlib.pyplot``.

    Examples
    --------
    >>> from ntk_toolkit.plotting import pyplot
    >>> plt = pyplot()
    >>> plt.__name__
    'matplotlib.pyplot'
    >>> fig, ax = plt.subplots()
    >>> plt.close(fig)
    """
    import os
    import sys

    import matplotlib

    backend = str(matplotlib.get_backend()).lower()
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and backend in _GUI_BACKENDS:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_spectra(spectra: dict, ax=None, by_frequency: bool = True):
    """Eigenvalues of several kernels on a log scale.

    Parameters
    ----------
    spectra : dict[str, Spectrum]
        Label -> spectrum.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes; by default a new figure.
    by_frequency : bool, default True
        For circulant spectra plot ``λ_f`` against the frequency ``f``;
        otherwise against the rank (decreasing order).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    The spectra of ``Σ`` for a narrow and a wide triangle filter, one line each:

    >>> import ntk_toolkit as nt
    >>> from ntk_toolkit.filters import triangle
    >>> from ntk_toolkit.operators import CircularConv
    >>> from ntk_toolkit.plotting import plot_spectra, pyplot
    >>> spectra = {f"triangle {p}": nt.spectrum(nt.TwoLayerGenerator(CircularConv(triangle(p), 32), k=2))
    ...            for p in (1, 4)}
    >>> fig = plot_spectra(spectra)
    >>> ax = fig.axes[0]
    >>> [line.get_label() for line in ax.get_lines()], ax.get_xlabel(), ax.get_yscale()
    (['triangle 1', 'triangle 4'], 'frequency f', 'log')
    >>> pyplot().close(fig)
    """
    plt = pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
    else:
        fig = ax.figure
    for label, s in spectra.items():
        if by_frequency and s.is_circulant:
            ax.semilogy(np.arange(s.eigenvalues_by_frequency.size), np.maximum(s.eigenvalues_by_frequency, 1e-300),
                        label=label)
            ax.set_xlabel("frequency f")
        else:
            ax.semilogy(np.arange(1, s.n + 1), np.maximum(s.eigenvalues, 1e-300), label=label)
            ax.set_xlabel("rank i (decreasing eigenvalue)")
    ax.set_ylabel("eigenvalue λ")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_fit(iterations, actual, predicted, ax=None, title: str | None = None,
             ylabel: str = "relative residual ‖y − G(C_τ)‖/‖y − G(C_0)‖"):
    """Actual vs predicted residual norm over iterations (log–log).

    Parameters
    ----------
    iterations : array_like, shape (T,)
        Iteration numbers ``τ >= 0`` (plotted at ``τ + 1`` on the log axis).
    actual, predicted : array_like, shape (T,)
        Positive values at those iterations: the network's and the prediction's.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes; by default a new figure.
    title : str, optional
    ylabel : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    The linearized residual along one eigenvector, ``(1 − ηλ)^τ``, against a
    stand-in for the measured one:

    >>> import numpy as np
    >>> from ntk_toolkit.plotting import plot_fit, pyplot
    >>> tau = np.arange(0, 200, 10)
    >>> fig = plot_fit(tau, 0.98 ** tau + 1e-3, 0.98 ** tau, title="one eigenvector")
    >>> ax = fig.axes[0]
    >>> len(ax.get_lines()), ax.get_xscale(), ax.get_yscale(), ax.get_title()
    (2, 'log', 'log', 'one eigenvector')
    >>> pyplot().close(fig)
    """
    plt = pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
    else:
        fig = ax.figure
    it = np.asarray(iterations, dtype=float)
    ax.loglog(it + 1, actual, label="network (gradient descent)", lw=2)
    ax.loglog(it + 1, predicted, "--", label="linearized prediction (Σ)", lw=2)
    ax.set_xlabel("iteration τ + 1")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_recovery_curve(result, ax=None, title: str | None = None):
    """Recovery error against the number of measurements: simulated and predicted (log scale).

    For each kernel of a :class:`~ntk_toolkit.RecoveryCurve`, the recovery
    law's prediction as a line and the simulated RMS error as dots of the same
    colour; the minimum-l2 interpolant ``A⁺y`` in grey (``docs/theory.md`` §5.2,
    eq. (5.6)).

    Parameters
    ----------
    result : RecoveryCurve
        From :func:`ntk_toolkit.recovery_curve`; its arrays have shape
        ``(F, M)`` (kernels × numbers of measurements) and ``(M,)``.
    ax : matplotlib Axes, optional
        Draw into these axes; default a new figure.
    title : str, optional
        Default ``"smoothest interpolant, n=…, σ=…"``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, recovery_curve, signals
    >>> from ntk_toolkit.filters import triangle
    >>> from ntk_toolkit.plotting import plot_recovery_curve, pyplot
    >>> gen = TwoLayerGenerator(CircularConv(triangle(4), 32), 2)
    >>> curve = recovery_curve([gen], signals.smooth(32, p=5, seed=0), ms=[8, 16], trials=3, seed=1)
    >>> fig = plot_recovery_curve(curve)
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['triangle(4): recovery law', "triangle(4): simulated (3 A's)", 'A⁺y: predicted', 'A⁺y: simulated']
    >>> pyplot().close(fig)
    """
    plt = pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.8, 4.4))
    else:
        fig = ax.figure
    ms = result.ms
    for i, label in enumerate(result.labels):
        line, = ax.semilogy(ms, np.maximum(result.predicted_rms[i], 1e-16), "-", lw=1.8,
                            label=f"{label}: recovery law")
        ax.semilogy(ms, np.maximum(result.simulated_rms[i], 1e-16), "o", color=line.get_color(),
                    label=f"{label}: simulated ({result.trials} A's)")
    ax.semilogy(ms, result.predicted_rms_min_l2, "--", color="grey", label="A⁺y: predicted")
    ax.semilogy(ms, result.simulated_rms_min_l2, "x", color="grey", label="A⁺y: simulated")
    ax.set_xlabel("number of measurements m")
    ax.set_ylabel("RMS relative error ‖x̂ − x‖/‖x‖")
    ax.set_title(title if title is not None else f"smoothest interpolant, n={result.n}, σ={result.noise_std:g}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="x-small")
    return fig


# --------------------------------------------------------------------------- image experiments
def _image_row(fig, cells, panels) -> None:
    """Gray images in ``[0, 1]`` with titles, axes off, one per gridspec cell."""
    for cell, (img, title) in zip(cells, panels):
        ax = fig.add_subplot(cell)
        ax.imshow(np.clip(img, 0.0, 1.0), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(title, fontsize="small")
        ax.set_axis_off()


def plot_denoising(result, title: str | None = None):
    """Images and PSNR curves of :func:`~ntk_toolkit.image_experiments.denoise_image`.

    Top row: clean, noisy, early-stopped (the network at its best recorded iteration) and
    final images in gray (clipped to ``[0, 1]`` for display). Below: the network's PSNR
    against the iteration and the linearized prediction's (``docs/theory.md`` §4.1–§4.2),
    log ``x``, with both best stopping times marked and the noisy image's PSNR.

    Parameters
    ----------
    result : ImageDenoising
    title : str, optional
        Title of the curve panel; default names the image size, σ and k.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from ntk_toolkit import CircularConv2D, TwoLayerGenerator, filters, images
    >>> from ntk_toolkit.image_experiments import denoise_image
    >>> from ntk_toolkit.plotting import plot_denoising, pyplot
    >>> gen = TwoLayerGenerator(CircularConv2D(filters.bilinear(), (12, 12)), k=32)
    >>> fig = plot_denoising(denoise_image(gen, images.load("camera", 12), sigma=0.1, steps=20))
    >>> len(fig.axes), fig.axes[-1].get_xscale()
    (5, 'log')
    >>> pyplot().close(fig)
    """
    plt = pyplot()
    r = result
    fig = plt.figure(figsize=(10.5, 6.6))
    gs = fig.add_gridspec(2, 4, height_ratios=(1.0, 1.25), hspace=0.3)
    _image_row(fig, [gs[0, j] for j in range(4)], (
        (r.clean, "clean"), (r.noisy, f"noisy: {r.noisy_psnr:.2f} dB"),
        (r.early_stopped, f"early-stopped (τ = {r.best_iteration}): {r.best_psnr:.2f} dB"),
        (r.final, f"after {r.steps} steps: {r.final_psnr:.2f} dB")))
    ax = fig.add_subplot(gs[1, :])
    t_all = np.arange(r.predicted_psnr_all.size, dtype=float)
    ax.semilogx(np.asarray(r.iterations, float) + 1, r.psnr, "-", lw=2.2, label="network G(C_τ)")
    ax.semilogx(t_all + 1, r.predicted_psnr_all, "--", lw=1.8, label="linearized prediction (Σ)")
    ax.plot(r.best_iteration + 1, r.best_psnr, "o", ms=9, mfc="none", mew=2, color="C0",
            label=f"network best: τ = {r.best_iteration}, {r.best_psnr:.2f} dB")
    ax.plot(r.predicted_best_iteration + 1, r.predicted_best_psnr, "s", ms=9, mfc="none", mew=2, color="C1",
            label=f"predicted best: τ = {r.predicted_best_iteration}, {r.predicted_best_psnr:.2f} dB")
    ax.axhline(r.noisy_psnr, color="k", lw=1, ls="-.", label="noisy image (the limit τ → ∞)")
    sigma = "given noisy image" if r.sigma is None else f"σ = {r.sigma * 255:.3g}/255"
    ax.set_xlabel("iteration τ + 1")
    ax.set_ylabel("PSNR against the clean image (dB)")
    ax.set_title(title or f"Denoising by early stopping: {r.shape[0]}×{r.shape[1]}, {sigma}, k = {r.k}",
                 fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_fit_image_vs_noise(result, title: str | None = None):
    """The image and the noise of :func:`~ntk_toolkit.image_experiments.fit_image_vs_noise`, and their
    relative residuals against the iteration: network and linearized prediction (log–log).

    Parameters
    ----------
    result : ImageVsNoiseFit
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from ntk_toolkit import CircularConv2D, TwoLayerGenerator, filters, images
    >>> from ntk_toolkit.image_experiments import fit_image_vs_noise
    >>> from ntk_toolkit.plotting import plot_fit_image_vs_noise, pyplot
    >>> gen = TwoLayerGenerator(CircularConv2D(filters.bilinear(), (12, 12)), k=32)
    >>> fig = plot_fit_image_vs_noise(fit_image_vs_noise(gen, images.load("camera", 12), steps=30))
    >>> len(fig.axes), fig.axes[-1].get_yscale()
    (3, 'log')
    >>> pyplot().close(fig)
    """
    plt = pyplot()
    r = result
    fig = plt.figure(figsize=(11.5, 4.4))
    gs = fig.add_gridspec(1, 4, width_ratios=(1.0, 1.0, 0.15, 2.6))
    noise = r.noise - r.noise.min()
    noise = noise / max(float(noise.max()), 1e-300)  # its own range, for display
    _image_row(fig, [gs[0, 0], gs[0, 1]], ((r.image, "image"), (noise, f"{r.noise_kind} noise, same norm")))
    ax = fig.add_subplot(gs[0, 3])
    for j, (kind, act, pred, t_act, t_pred) in enumerate((
            ("image", r.residual_image, r.predicted_residual_image, r.fit_time_image, r.predicted_fit_time_image),
            ("noise", r.residual_noise, r.predicted_residual_noise, r.fit_time_noise, r.predicted_fit_time_noise))):
        ax.loglog(np.arange(act.size) + 1.0, act, "-", lw=2.2, color=f"C{j}", label=f"{kind}: network (τ = {t_act:g})")
        ax.loglog(np.arange(pred.size) + 1.0, pred, "--", lw=1.6, color=f"C{j}",
                  label=f"{kind}: linearized Σ (τ = {t_pred:g})")
    ax.axhline(r.delta, color="k", lw=1, ls=":", label=f"δ = {r.delta:g}")
    ax.set_xlabel("iteration τ + 1")
    ax.set_ylabel("relative residual ‖y − G(C_τ)‖ / ‖y‖")
    ax.set_title(title or f"Image vs noise: ratio {r.ratio:.3g} (predicted {r.predicted_ratio:.3g}), k = {r.k}",
                 fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_inpainting(result, title: str | None = None):
    """Images and PSNR curves of :func:`~ntk_toolkit.image_experiments.inpaint_image`.

    Top row: clean image, ``A⁺y`` (the observed pixels, zeros elsewhere, for a mask), the
    smoothest interpolant ``x̂`` and the network after convergence. Below: the network's
    PSNR and the linear model's against the iteration, with ``x̂`` (their limit), the
    recovery law for Gaussian ``A`` with the same ``m`` and, when computed, one Gaussian
    ``A``'s interpolant as horizontal lines (``docs/theory.md`` §5).

    Parameters
    ----------
    result : ImageInpainting
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from ntk_toolkit import CircularConv2D, TwoLayerGenerator, filters, images
    >>> from ntk_toolkit.image_experiments import inpaint_image
    >>> from ntk_toolkit.plotting import plot_inpainting, pyplot
    >>> gen = TwoLayerGenerator(CircularConv2D(filters.bilinear(), (12, 12)), k=32)
    >>> fig = plot_inpainting(inpaint_image(gen, images.load("camera", 12), keep=0.5, max_steps=30))
    >>> len(fig.axes), fig.axes[-1].get_xscale()
    (5, 'log')
    >>> pyplot().close(fig)
    """
    plt = pyplot()
    r = result
    n = r.clean.size
    nx2 = float(np.sum(r.clean ** 2))

    def db(rel):  # relative error → PSNR: MSE = rel² ‖x‖² / n
        with np.errstate(divide="ignore"):
            return float(10.0 * np.log10(n / (rel ** 2 * nx2)))

    fig = plt.figure(figsize=(10.5, 6.6))
    gs = fig.add_gridspec(2, 4, height_ratios=(1.0, 1.25), hspace=0.3)
    _image_row(fig, [gs[0, j] for j in range(4)], (
        (r.clean, "clean"), (r.observed, f"A⁺y (m = {r.m} of {n}): {r.psnr_min_l2:.2f} dB"),
        (r.interpolant, f"smoothest interpolant x̂: {r.psnr_interpolant:.2f} dB"),
        (r.network, f"network, {r.steps} steps: {r.psnr_network:.2f} dB")))
    ax = fig.add_subplot(gs[1, :])
    it = np.asarray(r.iterations, float) + 1
    ax.semilogx(it, r.psnr, "-", lw=2.2, label="network G(C_τ)")
    ax.semilogx(it, r.predicted_psnr, "--", lw=1.8, label="linearized prediction (Σ)")
    ax.axhline(r.psnr_interpolant, color="C2", lw=1.5, ls=":", label="smoothest interpolant x̂ (limit)")
    ax.axhline(db(r.law_error), color="C3", lw=1.5, ls="-.", label="recovery law, Gaussian A with the same m")
    if np.isfinite(r.gaussian_error):
        ax.axhline(db(r.gaussian_error), color="C3", lw=1, ls=":", label="x̂ from one Gaussian A (same m)")
    ax.set_xlabel("iteration τ + 1")
    ax.set_ylabel("PSNR against the clean image (dB)")
    ax.set_title(title or f"Inpainting: {r.shape[0]}×{r.shape[1]}, {r.measurement}, k = {r.k}", fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return fig
