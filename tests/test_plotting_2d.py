"""Figures of image kernels: ``plot_spectrum_2d`` and ``plot_eigen_images`` draw the right data.

The expected values are computed here independently of the toolkit's FFT
path: ``λ(f) = Σ_d s(d) cos θ_f(d)`` (``docs/theory.md`` eq. (2.13)) summed
over the first row ``s`` of the dense ``Σ``.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import LogNorm

import ntk_toolkit as nt
from ntk_toolkit.bases import TrigBasis2D
from ntk_toolkit.filters import Filter2D, triangle, triangle2d
from ntk_toolkit.operators import CircularConv, CircularConv2D
from ntk_toolkit.plotting import plot_eigen_images, plot_spectra, plot_spectrum_2d, pyplot

H, W = 6, 8


@pytest.fixture(autouse=True)
def _close_figures():
    plt = pyplot()
    before = set(plt.get_fignums())
    yield
    for num in set(plt.get_fignums()) - before:
        plt.close(num)


def _gen(filt=None, shape=(H, W)):
    filt = filt if filt is not None else Filter2D([[1.0, 2.0, 0.5], [0.0, 1.0, 1.5]], name="skew")
    return nt.TwoLayerGenerator(CircularConv2D(filt, shape), 2)


def _direct_eigenvalue(s_row: np.ndarray, f1: int, f2: int, shape) -> float:
    """``λ(f) = Σ_d s(d) cos(2π (f1 d1/H + f2 d2/W))`` by a plain sum."""
    h, w = shape
    d1, d2 = np.divmod(np.arange(h * w), w)
    return float(np.sum(s_row * np.cos(2 * np.pi * (f1 * d1 / h + f2 * d2 / w))))


def test_spectrum_image_holds_every_eigenvalue_centred():
    gen = _gen()
    s_row = nt.expected_kernel(gen)[0]
    fig = plot_spectrum_2d(nt.spectrum(gen))
    assert len(fig.axes) == 3  # image, radial profile, colour bar
    ax_img = fig.axes[0]
    im = ax_img.get_images()[0]
    img = np.asarray(im.get_array())
    assert img.shape == (H, W)
    for r in range(H):
        for c in range(W):
            f1, f2 = r - H // 2, c - W // 2  # fftshift: f = 0 at (H//2, W//2)
            assert img[r, c] == pytest.approx(_direct_eigenvalue(s_row, f1, f2, (H, W)), rel=1e-10, abs=1e-12)
    assert isinstance(im.norm, LogNorm)
    assert im.norm.vmax == pytest.approx(img.max())
    # rows from f1 = −H//2 at the top to H − H//2 − 1 at the bottom, like the rows of an image
    left, right, bottom, top = im.get_extent()
    assert (left, right, bottom, top) == (-W // 2 - 0.5, W - W // 2 - 0.5, H - H // 2 - 0.5, -H // 2 - 0.5)
    assert im.origin == "upper"
    assert ax_img.get_ylim() == (bottom, top)


def test_the_image_is_not_symmetric_in_one_axis_for_a_skewed_filter():
    # the filter is not symmetric in f2 -> −f2: the image must not be mirrored by mistake
    img = np.asarray(plot_spectrum_2d(_gen()).axes[0].get_images()[0].get_array())
    assert not np.allclose(img[:, 1:], img[:, 1:][:, ::-1])
    # but λ(−f) = λ(f): point symmetry about the centre (rows/columns 1: are symmetric for even H, W)
    np.testing.assert_allclose(img[1:, 1:], img[1:, 1:][::-1, ::-1], rtol=1e-12, atol=1e-14)


def test_radial_profile_has_one_point_per_frequency_pair():
    gen = _gen()
    s_row = nt.expected_kernel(gen)[0]
    fig = plot_spectrum_2d(gen)  # a generator is accepted too
    ax_rad = fig.axes[1]
    points, mean = ax_rad.get_lines()
    basis = TrigBasis2D((H, W))
    pairs = basis.pair_frequencies()
    np.testing.assert_allclose(points.get_xdata(), np.hypot(pairs[:, 0] * min(H, W) / H,
                                                            pairs[:, 1] * min(H, W) / W))
    expected = [_direct_eigenvalue(s_row, f1, f2, (H, W)) for f1, f2 in pairs]
    np.testing.assert_allclose(points.get_ydata(), expected, rtol=1e-10)
    # the ring means
    rings = np.rint(points.get_xdata()).astype(int)
    want = [np.mean(np.asarray(expected)[rings == r]) for r in np.unique(rings)]
    np.testing.assert_allclose(mean.get_ydata(), want, rtol=1e-10)
    assert ax_rad.get_yscale() == "log"


def test_axes_arguments():
    s = nt.spectrum(_gen())
    plt = pyplot()
    fig, ax = plt.subplots()
    assert plot_spectrum_2d(s, ax=ax) is fig
    assert len(fig.axes) == 2  # the image and its colour bar, no radial profile
    fig2, (a, b) = plt.subplots(1, 2)
    assert plot_spectrum_2d(s, ax=(a, b), title="mine") is fig2
    assert a.get_title() == "mine" and b.get_lines()
    with pytest.raises(ValueError, match=r"ax must be one Axes or a pair .* got 3 axes"):
        plot_spectrum_2d(s, ax=[a, b, a])


def test_floor_of_the_colour_scale():
    s = nt.spectrum(_gen(triangle2d(2), (8, 8)))
    fig = plot_spectrum_2d(s, vmin=0.5)
    im = fig.axes[0].get_images()[0]
    assert im.norm.vmin == 0.5
    assert min(fig.axes[1].get_lines()[0].get_ydata()) >= 0.5  # drawn at the floor, not dropped
    for bad in (0.0, -1.0, np.nan, 1e9):
        with pytest.raises(ValueError, match="vmin must be a positive number below the largest eigenvalue"):
            plot_spectrum_2d(s, vmin=bad)


def test_spectra_that_are_not_of_images_are_refused_before_drawing():
    plt = pyplot()
    before = len(plt.get_fignums())
    s1 = nt.spectrum(nt.TwoLayerGenerator(CircularConv(triangle(2), 16), 2))
    with pytest.raises(ValueError, match=r"image kernel.*got a 1-D spectrum \(n=16\); plot it with plot_spectra"):
        plot_spectrum_2d(s1)
    with pytest.raises(ValueError, match=r"without an eigenbasis \(method 'eigh'"):
        plot_eigen_images(nt.spectrum(np.eye(4)))
    with pytest.raises(TypeError, match="kernel must be"):
        plot_spectrum_2d("sigma")
    assert len(plt.get_fignums()) == before


def test_eigen_images_are_the_eigenvectors_with_their_labels():
    s = nt.spectrum(_gen(triangle2d(2), (8, 10)))
    fig = plot_eigen_images(s, 5, ncols=3)
    assert len(fig.axes) == 6
    assert not fig.axes[5].axison  # the spare panel is hidden
    basis = TrigBasis2D((8, 10))
    for i, ax in enumerate(fig.axes[:5]):
        img = np.asarray(ax.get_images()[0].get_array())
        np.testing.assert_allclose(img, s.eigenvector(i).reshape(8, 10))
        f1, f2 = (int(f) for f in s.frequencies[i])
        kind = "sin" if s.kinds[i] else "cos"
        assert ax.get_title().splitlines() == [f"λ_{i} = {s.eigenvalues[i]:.4g}", f"f = ({f1}, {f2}) {kind}"]
        # a plane wave: all its energy at its own frequency pair
        energy = basis.energy(img)
        pair = np.flatnonzero((basis.pair_frequencies() == (f1, f2)).all(axis=1))
        assert energy[pair] == pytest.approx(1.0) and energy.sum() == pytest.approx(1.0)
        lo, hi = ax.get_images()[0].get_clim()
        assert lo == -hi == pytest.approx(-np.abs(img).max())


def test_eigen_images_by_rank_and_into_given_axes():
    s = nt.spectrum(_gen(triangle2d(2), (8, 8)))
    fig, axes = pyplot().subplots(2, 2)
    assert plot_eigen_images(s, [0, 7, 63], axes=axes) is fig
    assert np.allclose(axes[0, 1].get_images()[0].get_array(), s.eigenvector(7).reshape(8, 8))
    assert not axes[1, 1].axison
    with pytest.raises(ValueError, match=r"axes must hold at least 3 Axes"):
        plot_eigen_images(s, 3, axes=axes.ravel()[:2])


@pytest.mark.parametrize("indices,match", [
    (0, "positive count"),
    ([], "non-empty sequence"),
    ([0, 1.5], "integer ranks"),
    ([0, 64], r"ranks in 0 … 63 \(n = 8·8\), got \[64\]"),
    ([-1], r"got \[-1\]"),
    (True, "integer ranks"),
])
def test_eigen_images_bad_indices(indices, match):
    s = nt.spectrum(_gen(triangle2d(2), (8, 8)))
    with pytest.raises(ValueError, match=match):
        plot_eigen_images(s, indices)


def test_eigen_images_bad_ncols():
    s = nt.spectrum(_gen(triangle2d(2), (8, 8)))
    with pytest.raises(ValueError, match="ncols must be a positive integer, got 0"):
        plot_eigen_images(s, 2, ncols=0)


def test_plot_spectra_refuses_image_spectra_by_frequency():
    plt = pyplot()
    before = len(plt.get_fignums())
    s2 = nt.spectrum(_gen(triangle2d(2), (8, 8)))
    with pytest.raises(ValueError, match=r"spectra\['img'\] is the spectrum of an image kernel.*plot_spectrum_2d"):
        plot_spectra({"img": s2})
    assert len(plt.get_fignums()) == before
    fig = plot_spectra({"img": s2}, by_frequency=False)
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), s2.eigenvalues)
    assert fig.axes[0].get_xlabel() == "rank i (decreasing eigenvalue)"
