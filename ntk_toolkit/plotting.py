"""Matplotlib figures. matplotlib is imported lazily, with the Agg backend when
no display is configured, so importing ntk_toolkit never imports it."""

from __future__ import annotations

import numpy as np

__all__ = ["pyplot", "plot_spectra", "plot_fit", "plot_recovery_curve", "plot_spectrum_2d", "plot_eigen_images"]


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


# --------------------------------------------------------------------------- images (2-D spectra)
def _image_spectrum(spec):
    """``(Spectrum, (H, W))`` of an image kernel in its plane-wave basis, or an error saying what to pass."""
    from .spectrum import as_spectrum

    s = as_spectrum(spec)
    if getattr(s.basis, "ndim", None) != 2:
        what = (f"a 1-D spectrum (n={s.n}); plot it with plot_spectra" if s.basis is not None else
                f"a spectrum without an eigenbasis (method {s.method!r}, n={s.n})")
        raise ValueError("spec must be the spectrum of an image kernel, in the plane-wave basis of a generator "
                         f"with CircularConv2D (ntk_toolkit.spectrum(gen)); got {what}")
    return s, tuple(int(d) for d in s.basis.shape)


def _eigenvalue_grid(s, shape) -> np.ndarray:
    """``λ(f1, f2)`` for every frequency ``f mod (H, W)``, shape ``(H, W)``: the ``rfft2`` half and ``λ(−f) = λ(f)``."""
    H, W = shape
    half = s.eigenvalues_by_frequency
    full = np.empty((H, W))
    full[:, : W // 2 + 1] = half
    j = np.arange(W // 2 + 1, W)
    full[:, j] = half[(-np.arange(H)) % H][:, W - j]
    return full


def _root_figure(ax):
    """The figure that holds ``ax``, also when ``ax`` is in a subfigure."""
    fig = ax.figure
    root = getattr(fig, "figure", None)
    return root if root is not None else fig


def _color_floor(values: np.ndarray, vmin) -> float:
    top = float(np.max(values))
    if vmin is not None:
        vmin = float(vmin)
        if not (np.isfinite(vmin) and 0 < vmin < top):
            raise ValueError(f"vmin must be a positive number below the largest eigenvalue {top:.6g}, got {vmin!r}")
        return vmin
    if not top > 0:
        raise ValueError(f"the spectrum has no positive eigenvalue (largest {top:.6g}): nothing to draw on a log scale")
    positive = values[values > 0]
    return max(float(positive.min()), 1e-12 * top)


def plot_spectrum_2d(spec, ax=None, vmin=None, cmap: str = "viridis", title: str | None = None):
    """Eigenvalues of an image kernel over the frequency plane, and their radial profile.

    Left: the image of ``λ(f1, f2)`` for all ``H·W`` frequencies, arranged as
    by ``numpy.fft.fftshift`` (``f = 0`` in the centre; ``f1`` vertical,
    growing downwards from ``−H//2`` like the row index of an image, ``f2``
    horizontal), on a log colour scale with a colour bar
    (``docs/theory.md`` §2.4, eq. (2.13)). With this orientation (and square
    images) the plane wave of frequency ``f``, drawn as an image, varies
    along the direction of the point ``f`` seen from the centre. Right: ``λ`` of each
    frequency pair against its radius ``|f|``
    (:meth:`~ntk_toolkit.bases.TrigBasis2D.radii`) with the mean over the
    rings ``round(|f|) = r`` as a line; the spread at one radius shows how
    far the filter is from isotropic.

    Parameters
    ----------
    spec : Spectrum or generator
        The spectrum of a generator with a
        :class:`~ntk_toolkit.operators.CircularConv2D` (``ntk_toolkit.spectrum(gen)``),
        or the generator itself.
    ax : matplotlib Axes or a pair of Axes, optional
        ``(ax_image, ax_radial)``; a single Axes draws the image only. By
        default a new figure with both. The colour bar takes its room from
        the image's axes; inside a larger grid, put the two axes in a
        subfigure of their own (``Figure.subfigures``) to keep the grid aligned.
    vmin : float, optional
        Lower end of the colour scale and of the radial axis; smaller
        eigenvalues are drawn at it. Default: the smallest positive
        eigenvalue, at least ``1e-12 · λ_max``.
    cmap : str, default "viridis"
    title : str, optional
        Title of the image axes; default ``"eigenvalues of Σ, H×W"``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    The image holds ``λ`` with ``f = 0`` at its centre, where the largest
    eigenvalue of a smoothing filter sits:

    >>> import numpy as np
    >>> import ntk_toolkit as nt
    >>> from ntk_toolkit.filters import triangle2d
    >>> from ntk_toolkit.operators import CircularConv2D
    >>> from ntk_toolkit.plotting import plot_spectrum_2d, pyplot
    >>> s = nt.spectrum(nt.TwoLayerGenerator(CircularConv2D(triangle2d(2), (8, 6)), 2))
    >>> fig = plot_spectrum_2d(s)
    >>> ax_image, ax_radial, colorbar = fig.axes
    >>> img = ax_image.get_images()[0].get_array()
    >>> img.shape, bool(img[4, 3] == s.eigenvalues[0]), ax_radial.get_yscale()
    ((8, 6), True, 'log')
    >>> pyplot().close(fig)
    """
    s, (H, W) = _image_spectrum(spec)
    if ax is None:
        axes = None
    elif np.iterable(ax):
        axes = list(np.ravel(np.asarray(ax, dtype=object)))
        if len(axes) not in (1, 2):
            raise ValueError(f"ax must be one Axes or a pair (ax_image, ax_radial), got {len(axes)} axes")
    else:
        axes = [ax]
    grid = _eigenvalue_grid(s, (H, W))
    floor = _color_floor(grid, vmin)
    plt = pyplot()
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.4), layout="constrained")
        axes = list(axes)
    from matplotlib.colors import LogNorm

    ax_img = axes[0]
    fig = ax_img.figure  # a Figure or a SubFigure
    colormap = plt.get_cmap(cmap).with_extremes(under=plt.get_cmap(cmap)(0.0), bad=plt.get_cmap(cmap)(0.0))
    extent = (-(W // 2) - 0.5, W - W // 2 - 0.5, H - H // 2 - 0.5, -(H // 2) - 0.5)
    im = ax_img.imshow(np.fft.fftshift(grid), origin="upper", extent=extent, interpolation="nearest",
                       norm=LogNorm(vmin=floor, vmax=float(grid.max())), cmap=colormap)
    fig.colorbar(im, ax=ax_img, label="λ(f₁, f₂)", extend="min" if grid.min() < floor else "neither")
    ax_img.set_xlabel("frequency f₂ (horizontal)")
    ax_img.set_ylabel("frequency f₁ (vertical, downwards)")
    ax_img.set_title(title if title is not None else f"eigenvalues of Σ, {H}×{W}")
    if len(axes) == 2:
        ax_rad = axes[1]
        pairs = s.basis.pair_frequencies()
        rho = s.basis.radii()
        lam = grid[pairs[:, 0] % H, pairs[:, 1] % W]
        ring = np.rint(rho).astype(np.int64)
        counts = np.bincount(ring)
        radii = np.flatnonzero(counts)
        mean = np.bincount(ring, weights=lam)[radii] / counts[radii]
        ax_rad.semilogy(rho, np.maximum(lam, floor), ".", ms=3 if lam.size < 5000 else 1.5, alpha=0.5,
                        rasterized=lam.size > 5000, label="one frequency pair {f, −f}")
        ax_rad.semilogy(radii, np.maximum(mean, floor), "-", color="C1", lw=1.8, label="mean over round(|f|) = r")
        ax_rad.set_ylim(bottom=floor / 1.5)
        ax_rad.set_xlabel("radius |f|" + ("" if H == W else f" (cycles per {min(H, W)} pixels)"))
        ax_rad.set_ylabel("eigenvalue λ")
        ax_rad.set_title("radial profile")
        ax_rad.grid(True, which="both", alpha=0.3)
        ax_rad.legend(fontsize="small")
    return _root_figure(ax_img)


def plot_eigen_images(spec, indices=8, ncols: int | None = None, axes=None, cmap: str = "RdBu_r"):
    """The leading eigen-images of an image kernel: eigenvectors reshaped to ``(H, W)``, in a grid.

    Each panel is titled with its eigenvalue, its frequency pair
    ``(f1, f2)`` and whether it is the cosine or the sine of that pair
    (``docs/theory.md`` §2.4); colours are symmetric about zero (blue
    negative, red positive). Eigenvalues of a cos/sin pair are equal, and
    those of ``(f1, f2)`` and ``(f1, −f2)`` too for a filter symmetric in
    each axis, so which of them comes first is a convention.

    Parameters
    ----------
    spec : Spectrum or generator
        As for :func:`plot_spectrum_2d`.
    indices : int or sequence of int, default 8
        Eigenvalue ranks to show (0 = largest); an int ``m`` means ``0 … m−1``.
    ncols : int, optional
        Panels per row; default ``min(count, 4)``.
    axes : array of Axes, optional
        At least as many as panels (extra ones are hidden); default a new figure.
    cmap : str, default "RdBu_r"

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> import ntk_toolkit as nt
    >>> from ntk_toolkit.filters import gaussian2d
    >>> from ntk_toolkit.operators import CircularConv2D
    >>> from ntk_toolkit.plotting import plot_eigen_images, pyplot
    >>> s = nt.spectrum(nt.TwoLayerGenerator(CircularConv2D(gaussian2d(1.0), (16, 16)), 2))
    >>> fig = plot_eigen_images(s, 6, ncols=3)
    >>> len(fig.axes), fig.axes[1].get_title().splitlines()[1]
    (6, 'f = (0, 1) cos')
    >>> img = fig.axes[1].get_images()[0].get_array()
    >>> bool(np.allclose(img, s.eigenvector(1).reshape(16, 16)))
    True
    >>> pyplot().close(fig)
    """
    s, (H, W) = _image_spectrum(spec)
    if isinstance(indices, (int, np.integer)) and not isinstance(indices, bool):
        if indices < 1:
            raise ValueError(f"indices must be a positive count or a sequence of ranks, got {indices}")
        idx = list(range(min(int(indices), s.n)))
    else:
        idx = list(np.atleast_1d(np.asarray(indices)).ravel()) if np.iterable(indices) else None
        if not idx or any(isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)) for i in idx):
            raise ValueError(f"indices must be a positive count or a non-empty sequence of integer ranks, "
                             f"got {indices!r}")
        bad = [int(i) for i in idx if not 0 <= i < s.n]
        if bad:
            raise ValueError(f"indices must be ranks in 0 … {s.n - 1} (n = {H}·{W}), got {bad}")
        idx = [int(i) for i in idx]
    if ncols is None:
        ncols = min(len(idx), 4)
    elif isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    ncols = int(ncols)
    if axes is None:
        nrows = -(-len(idx) // ncols)
        fig, grid_axes = pyplot().subplots(nrows, ncols, figsize=(2.4 * ncols, 2.55 * nrows), squeeze=False,
                                           layout="constrained")
        panels = list(grid_axes.ravel())
    else:
        panels = list(np.ravel(np.asarray(axes, dtype=object)))
        if len(panels) < len(idx):
            raise ValueError(f"axes must hold at least {len(idx)} Axes (one per eigen-image), got {len(panels)}")
        fig = _root_figure(panels[0])
    for ax, i in zip(panels, idx):
        v = s.eigenvector(i).reshape(H, W)
        a = float(np.max(np.abs(v)))
        ax.imshow(v, cmap=cmap, vmin=-a, vmax=a, interpolation="nearest")
        f1, f2 = (int(f) for f in s.frequencies[i])
        ax.set_title(f"λ_{i} = {s.eigenvalues[i]:.4g}\nf = ({f1}, {f2}) {'sin' if s.kinds[i] else 'cos'}",
                     fontsize="small")
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in panels[len(idx):]:
        ax.set_axis_off()
    return fig
