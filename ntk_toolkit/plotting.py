"""Matplotlib figures. matplotlib is imported lazily, with the Agg backend when
no display is configured, so importing ntk_toolkit never imports it."""

from __future__ import annotations

import numpy as np

__all__ = ["pyplot", "plot_spectra", "plot_fit", "plot_recovery_curve",  # noqa: F822 (image plots resolved lazily)
           "plot_spectrum_2d", "plot_eigen_images", "plot_denoising", "plot_fit_image_vs_noise", "plot_inpainting"]

#: Figures of images (2-D spectra, eigen-images, the image experiments), defined in
#: :mod:`ntk_toolkit.plotting_images` and resolved from here.
_IMAGE_PLOTS = ("plot_spectrum_2d", "plot_eigen_images", "plot_denoising", "plot_fit_image_vs_noise",
                "plot_inpainting")


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
        otherwise against the rank (decreasing order). Spectra of images
        (frequency pairs) are refused here: they need ``by_frequency=False``
        or :func:`plot_spectrum_2d`.

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
    for label, s in spectra.items():
        if by_frequency and s.frequencies is not None and s.frequencies.shape[1] != 1:
            raise ValueError(
                f"spectra[{label!r}] is the spectrum of an image kernel (frequency pairs (f1, f2)), which has no "
                "single frequency axis; use plot_spectrum_2d for it, or plot_spectra(..., by_frequency=False) "
                "to plot the eigenvalues against their rank")
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


def __getattr__(name: str):
    if name in _IMAGE_PLOTS:
        from . import plotting_images

        return getattr(plotting_images, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
