"""Real images for the image experiments of the papers (``docs/theory.md`` §8): loading, noise, metrics.

The images are the sample images that scikit-image ships inside its package
(``camera``, ``astronaut``, ``shepp_logan_phantom`` …), so they load without a
network connection. :func:`load` returns them as float64 arrays in ``[0, 1]``,
gray ``(H, W)`` or color ``(H, W, 3)``, center-cropped and resized to a
requested size; :func:`add_noise` adds the papers' Gaussian noise (``σ = 25/255
… 40/255``, clipped to ``[0, 1]``); :func:`psnr` and :func:`ssim` are
scikit-image's metrics with the range of the images fixed to ``[0, 1]``.

The toolkit's models work on flattened signals: an ``(H, W)`` image is the
row-major vector ``image.reshape(-1)`` of length ``n = H*W`` and comes back with
``x.reshape(H, W)``.

scikit-image is imported inside the functions, so ``import ntk_toolkit`` does
not import it.
"""

from __future__ import annotations

import importlib.util
import numbers
from pathlib import Path

import numpy as np

from ._validation import as_float_array, as_rng, check_bool, check_int, check_positive

__all__ = ["available", "load", "add_noise", "psnr", "ssim"]

#: Sample images of ``skimage.data`` that are single 2-D gray or RGB(A) pictures:
#: function name -> the file it reads, relative to the ``skimage`` package
#: directory. :func:`available` lists those whose file is present in the
#: installed package; the others (``eagle``, ``skin``, ``human_mitosis`` in
#: scikit-image 0.26) are downloaded by scikit-image on first use and are not
#: offered. Excluded: volumes and stacks (``cells3d``, ``kidney``, ``lily``,
#: ``lfw_subset`` …), pairs (``stereo_motorcycle``, ``vortex``), the generated
#: ``binary_blobs`` and the alias ``cat`` (= ``chelsea``).
_CANDIDATES = {
    "astronaut": "data/astronaut.png",
    "brick": "data/brick.png",
    "camera": "data/camera.png",
    "cell": "data/cell.png",
    "checkerboard": "data/chessboard_GRAY.png",
    "chelsea": "data/chelsea.png",
    "clock": "data/clock_motion.png",
    "coffee": "data/coffee.png",
    "coins": "data/coins.png",
    "colorwheel": "data/color.png",
    "eagle": "data/eagle.png",
    "grass": "data/grass.png",
    "gravel": "data/gravel.png",
    "horse": "data/horse.png",
    "hubble_deep_field": "data/hubble_deep_field.jpg",
    "human_mitosis": "data/mitosis.tif",
    "immunohistochemistry": "data/ihc.png",
    "logo": "data/logo.png",
    "microaneurysms": "data/microaneurysms.png",
    "moon": "data/moon.png",
    "page": "data/page.png",
    "retina": "data/retina.jpg",
    "rocket": "data/rocket.jpg",
    "shepp_logan_phantom": "data/phantom.png",
    "skin": "data/skin.jpg",
    "text": "data/text.png",
}

#: scikit-image's default SSIM window (``win_size=7``): smaller images have no valid window.
_SSIM_MIN_SIDE = 7


def _skimage_dir() -> Path:
    """The installed ``skimage`` package directory, found without importing scikit-image."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("ntk_toolkit.images needs scikit-image: pip install 'scikit-image>=0.21'")
    return Path(list(spec.submodule_search_locations)[0])


def available() -> tuple[str, ...]:
    """Names of the images that :func:`load` can load, sorted.

    An image is listed when its file is present inside the installed
    scikit-image package: those load without a network connection. The images
    scikit-image downloads on first use are not listed, whatever the local
    download cache holds, so the list is the same on every machine with the
    same scikit-image version. The check looks at the files, not at a list
    fixed for one version: with scikit-image 0.26 it gives the 23 names below.

    Returns
    -------
    tuple of str

    Notes
    -----
    Cost: one ``stat`` per candidate file; scikit-image is not imported.

    Native sizes (scikit-image 0.26; ``(H, W)``, color images ``(H, W, 3)``,
    ``logo`` RGBA): astronaut 512×512×3, brick 512×512, camera 512×512, cell
    660×550, checkerboard 200×200, chelsea 300×451×3, clock 300×400, coffee
    400×600×3, coins 303×384, colorwheel 370×371×3, grass 512×512, gravel
    512×512, horse 328×400 (binary), hubble_deep_field 872×1000×3,
    immunohistochemistry 512×512×3, logo 500×500×4, microaneurysms 102×102,
    moon 512×512, page 191×384, retina 1411×1411×3, rocket 427×640×3,
    shepp_logan_phantom 400×400, text 172×448.

    Examples
    --------
    >>> from ntk_toolkit.images import available
    >>> names = available()
    >>> {"astronaut", "camera", "shepp_logan_phantom"} <= set(names)
    True
    >>> list(names) == sorted(names)
    True
    """
    root = _skimage_dir()
    return tuple(sorted(name for name, rel in _CANDIDATES.items() if (root / rel).is_file()))


def _check_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str naming an image, got {type(name).__name__} {name!r}")
    names = available()
    if name in names:
        return name
    if name in _CANDIDATES:
        raise ValueError(
            f"name={name!r} is not shipped with the installed scikit-image (it would be downloaded "
            f"from the internet); choose one of {', '.join(names)}"
        )
    raise ValueError(f"name must be one of the images shipped with scikit-image: {', '.join(names)}; got {name!r}")


def _check_size(size) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        side = check_int("size", size, minimum=1)
        return side, side
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return check_int("size[0]", size[0], minimum=1), check_int("size[1]", size[1], minimum=1)
    raise TypeError(f"size must be None, a positive int or a pair (H, W) of positive ints, got {size!r}")


def _center_crop(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """The largest centered region of ``img`` with the aspect ratio ``h : w``."""
    H, W = img.shape[:2]
    if H * w > W * h:  # too tall: keep all columns
        hc, wc = max(1, round(W * h / w)), W
    else:  # too wide (or exact): keep all rows
        hc, wc = H, max(1, round(H * w / h))
    top, left = (H - hc) // 2, (W - wc) // 2
    return img[top:top + hc, left:left + wc]


def load(name: str, size=None, gray: bool = True, upsample: bool = False) -> np.ndarray:
    """One of the images scikit-image ships, as float64 in ``[0, 1]``.

    The image ``skimage.data.<name>()`` is scaled to ``[0, 1]``
    (``skimage.util.img_as_float``; RGBA is composited on white with
    ``skimage.color.rgba2rgb``), converted to gray with
    ``skimage.color.rgb2gray`` (or gray to three equal channels with
    ``gray2rgb`` for ``gray=False``), and, given a ``size``, center-cropped to
    the aspect ratio of ``size`` and resized to it with
    ``skimage.transform.resize(..., anti_aliasing=True)`` (bilinear; a
    Gaussian pre-filter when downsampling).

    Parameters
    ----------
    name : str
        One of :func:`available` (e.g. ``"camera"``, ``"astronaut"``,
        ``"shepp_logan_phantom"``).
    size : int, (int, int) or None, default None
        Output ``(H, W)``; an int ``s`` is ``(s, s)``; ``None`` keeps the native
        size (no crop). A size larger than the cropped source is an error
        unless ``upsample=True``.
    gray : bool, default True
        ``True``: a gray image of shape ``(H, W)``. ``False``: shape
        ``(H, W, 3)``, also for gray sources (three equal channels).
    upsample : bool, default False
        Allow a ``size`` larger than the source (bilinear interpolation adds
        no detail).

    Returns
    -------
    ndarray of float64, shape (H, W) or (H, W, 3)
        Values in ``[0, 1]``; a new C-contiguous array. As a signal of the
        toolkit: ``image.reshape(-1)``, length ``n = H*W`` (row-major).

    Raises
    ------
    ValueError
        ``name`` not in :func:`available` (the message lists them), or a
        ``size`` larger than the source without ``upsample=True``.

    Notes
    -----
    Cost: reading the file (a few ms; the first call imports ``skimage.io``,
    ~0.5 s) and ``O(H_src W_src)`` for the filter and interpolation. The
    papers' images (``docs/theory.md`` §8): ``load("shepp_logan_phantom",
    256)`` for P1's 256×256 phantom, ``load("astronaut", gray=False)`` for its
    512×512 color astronaut.

    Examples
    --------
    >>> from ntk_toolkit.images import load
    >>> x = load("camera", size=64)
    >>> x.shape, x.dtype.name, bool(0 <= x.min() and x.max() <= 1)
    ((64, 64), 'float64', True)
    >>> load("astronaut", size=(32, 48), gray=False).shape
    (32, 48, 3)
    >>> load("camera").shape  # native size
    (512, 512)
    """
    name = _check_name(name)
    target = _check_size(size)
    gray = check_bool("gray", gray)
    upsample = check_bool("upsample", upsample)

    import skimage.color
    import skimage.data
    import skimage.transform
    import skimage.util

    img = skimage.util.img_as_float(getattr(skimage.data, name)())
    if img.ndim == 3 and img.shape[-1] == 4:
        img = skimage.color.rgba2rgb(img)
    if gray and img.ndim == 3:
        img = skimage.color.rgb2gray(img)
    elif not gray and img.ndim == 2:
        img = skimage.color.gray2rgb(img)
    if target is not None:
        h, w = target
        native = img.shape[:2]
        img = _center_crop(img, h, w)
        hc, wc = img.shape[:2]
        if (h > hc or w > wc) and not upsample:
            raise ValueError(
                f"size={size!r} is larger than {name!r} allows at this aspect ratio "
                f"(at most {hc}×{wc} pixels after the center crop of the native "
                f"{native[0]}×{native[1]}); pass a smaller size or upsample=True"
            )
        if (h, w) != (hc, wc):
            img = skimage.transform.resize(img, (h, w), order=1, anti_aliasing=True)
    # rgb2gray and interpolation can leave rounding errors just outside [0, 1]
    return np.ascontiguousarray(np.clip(img, 0.0, 1.0), dtype=np.float64)


def add_noise(x, sigma: float, seed=None, clip: bool = True) -> np.ndarray:
    """``x + σ z`` with ``z`` i.i.d. standard normal, clipped to ``[0, 1]`` by default.

    The papers' noisy images (``docs/theory.md`` §8): ``σ`` is given on the
    ``[0, 1]`` scale, e.g. ``25/255`` (P1 Table 1), ``30/255`` (Fig. 2),
    ``40/255`` (Fig. 1), and the noisy image is clipped to ``[0, 1]``. Every
    entry gets its own draw, so the channels of a color image get independent
    noise.

    Parameters
    ----------
    x : array_like, any shape
        Clean image or signal (finite).
    sigma : float
        Noise standard deviation, ``>= 0``.
    seed : int, numpy.random.Generator or None
        Source of ``z``; the same seed gives the same noise.
    clip : bool, default True
        Clip the result to ``[0, 1]``; ``False`` returns ``x + σ z`` exactly.

    Returns
    -------
    ndarray of float64, same shape as ``x``

    Notes
    -----
    Cost: ``O(x.size)``. Clipping biases the noise near 0 and 1: the noise
    actually added is ``add_noise(x, σ, seed) - x``, not ``σ z``.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.images import add_noise
    >>> x = np.full((200, 200), 0.5)
    >>> y = add_noise(x, 25 / 255, seed=0)
    >>> y.shape, bool(0 <= y.min() and y.max() <= 1)
    ((200, 200), True)
    >>> round(float(np.std(y - x) * 255))  # σ = 25/255
    25
    >>> bool(np.array_equal(y, add_noise(x, 25 / 255, seed=0)))  # same seed, same noise
    True
    """
    x = as_float_array("x", x)
    sigma = check_positive("sigma", sigma, allow_zero=True)
    clip = check_bool("clip", clip)
    y = x + sigma * as_rng(seed).standard_normal(x.shape)
    return np.clip(y, 0.0, 1.0, out=y) if clip else y


def _pair(x, reference) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array("x", x)
    reference = as_float_array("reference", reference)
    if x.shape != reference.shape:
        raise ValueError(f"x and reference must have the same shape, got {x.shape} and {reference.shape}")
    if x.size == 0:
        raise ValueError("x and reference must not be empty")
    return x, reference


#: Largest ``data_range`` of :func:`psnr` and :func:`ssim`: their formulas square it.
MAX_DATA_RANGE = 1e150


def _check_range(data_range) -> float:
    data_range = check_positive("data_range", data_range)
    if data_range > MAX_DATA_RANGE:
        raise ValueError(f"data_range must be a peak value in (0, {MAX_DATA_RANGE:g}] (it is squared), "
                         f"got {data_range!r}")
    return data_range


def psnr(x, reference, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio of ``x`` against ``reference``, in dB.

    ``PSNR = 10 log10(data_range² / MSE)``, ``MSE = mean((x - reference)²)``:
    ``skimage.metrics.peak_signal_noise_ratio`` with the given range. With
    ``data_range=1`` this is the papers' ``10 log10(1/MSE)``
    (``docs/theory.md`` §8).

    Parameters
    ----------
    x : array_like, any shape
        Estimate (e.g. a denoised image or a flat signal of length ``n = H*W``).
    reference : array_like, same shape as ``x``
        Clean image.
    data_range : float, default 1.0
        Peak value: 1 for images in ``[0, 1]``.

    Returns
    -------
    float
        ``inf`` if ``x`` equals ``reference``.

    Notes
    -----
    Cost: ``O(x.size)``. The MSE averages over every entry (all channels of a
    color image).

    Examples
    --------
    An error of 0.1 on every pixel: MSE = 0.01, PSNR = 20 dB.

    >>> import numpy as np
    >>> from ntk_toolkit.images import psnr
    >>> ref = np.zeros((4, 4))
    >>> round(psnr(ref + 0.1, ref), 10)
    20.0
    >>> psnr(ref, ref)
    inf
    """
    x, reference = _pair(x, reference)
    data_range = _check_range(data_range)
    from skimage.metrics import peak_signal_noise_ratio

    with np.errstate(divide="ignore"):  # MSE = 0: identical images, PSNR = inf
        return float(peak_signal_noise_ratio(reference, x, data_range=data_range))


def ssim(x, reference, data_range: float = 1.0, shape=None) -> float:
    """Structural similarity of ``x`` and ``reference`` (1 for equal images).

    ``skimage.metrics.structural_similarity`` with its defaults (7×7 uniform
    window, ``K1 = 0.01``, ``K2 = 0.03``), the given range and, for a color
    image ``(H, W, C)``, the mean over the channels (``channel_axis=-1``).

    Parameters
    ----------
    x : array_like, shape (H, W), (H, W, C) or (H*W,)
        Estimate. A flat signal (the toolkit's row-major vector) needs
        ``shape``.
    reference : array_like, same shape as ``x``
        Clean image.
    data_range : float, default 1.0
        Range of the pixel values: 1 for images in ``[0, 1]``.
    shape : (int, int) or None
        ``(H, W)`` of the image when ``x`` and ``reference`` are flat vectors
        of length ``H*W``; ignored otherwise.

    Returns
    -------
    float
        In ``[-1, 1]``.

    Raises
    ------
    ValueError
        Flat input without ``shape``, or an image smaller than 7×7 (the window).

    Notes
    -----
    Cost: ``O(H W C)`` (uniform filters of the image, its square and the
    product).

    Examples
    --------
    >>> from ntk_toolkit.images import add_noise, load, ssim
    >>> clean = load("camera", size=64)
    >>> ssim(clean, clean)
    1.0
    >>> light, heavy = add_noise(clean, 0.05, seed=0), add_noise(clean, 0.2, seed=0)
    >>> bool(1 > ssim(light, clean) > ssim(heavy, clean))
    True
    >>> ssim(light.reshape(-1), clean.reshape(-1), shape=(64, 64)) == ssim(light, clean)
    True
    """
    x, reference = _pair(x, reference)
    data_range = _check_range(data_range)
    if x.ndim == 1:
        if shape is None:
            raise ValueError(
                f"x is a flat vector of length {x.size}: pass shape=(H, W) with H*W = {x.size} to compute SSIM"
            )
        if not (isinstance(shape, (tuple, list)) and len(shape) == 2):
            raise TypeError(f"shape must be a pair (H, W) of positive ints, got {shape!r}")
        H, W = (check_int(f"shape[{i}]", s, minimum=1) for i, s in enumerate(shape))
        if H * W != x.size:
            raise ValueError(f"shape={tuple(shape)} has {H * W} pixels but x has length {x.size}")
        x, reference = x.reshape(H, W), reference.reshape(H, W)
    if x.ndim not in (2, 3):
        raise ValueError(f"x must be an image of shape (H, W) or (H, W, C), or flat with shape=, got shape {x.shape}")
    if min(x.shape[:2]) < _SSIM_MIN_SIDE:
        raise ValueError(
            f"x must be at least {_SSIM_MIN_SIDE}×{_SSIM_MIN_SIDE} pixels (the SSIM window), got shape {x.shape}"
        )
    from skimage.metrics import structural_similarity

    channel_axis = -1 if x.ndim == 3 else None
    return float(structural_similarity(reference, x, data_range=data_range, channel_axis=channel_axis))
