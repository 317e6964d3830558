"""Matplotlib figures of images: 2-D spectra and eigen-images, and the image experiments.

Reachable from :mod:`ntk_toolkit.plotting` as well. matplotlib is imported
lazily (:func:`ntk_toolkit.plotting.pyplot`).
"""

from __future__ import annotations

import numpy as np

from .plotting import pyplot

__all__ = ["plot_spectrum_2d", "plot_eigen_images", "plot_denoising", "plot_fit_image_vs_noise", "plot_inpainting"]


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
