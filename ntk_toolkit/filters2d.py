"""Two-dimensional filter taps for the 2-D circular convolution of images.

A :class:`Filter2D` is a small array of taps ``u[0..L1-1, 0..L2-1]`` with the
centre ``(h1, h2) = ((L1 − 1)//2, (L2 − 1)//2)``; circular convolution with it
(:class:`ntk_toolkit.operators.CircularConv2D`) places tap ``(h1, h2)`` on the
output pixel, the 2-D form of the 1-D convention (``docs/theory.md`` §1.1,
§2.4). As in 1-D, taps are scaled to unit l2 (Frobenius) norm unless
``normalize=False``.

Constructors: :func:`separable` (outer product of two 1-D filters),
:func:`triangle2d`, :func:`gaussian2d`, :func:`box2d`, :func:`bilinear`, and
:class:`Filter2D` for custom taps. All of them are also reachable as
``ntk_toolkit.filters.<name>``; :func:`ntk_toolkit.filters.from_spec` reads
``triangle2d:P``, ``gaussian2d:STD``, ``box2d:W`` and ``bilinear``, and
:func:`parse_shape` reads image shapes such as ``"128x96"``.
"""

from __future__ import annotations

import re

import numpy as np

from ._validation import as_float_array, check_bool, check_int
from .filters import Filter, box, gaussian, triangle

__all__ = ["Filter2D", "separable", "triangle2d", "gaussian2d", "box2d", "bilinear", "parse_shape"]

#: Relative tolerance of the rank-one test behind :attr:`Filter2D.separable`:
#: ``σ₂ <= SEPARABLE_RTOL · σ₁`` (singular values of the taps).
SEPARABLE_RTOL = 1e-12


class Filter2D:
    """Fixed 2-D convolution filter.

    Parameters
    ----------
    taps : array_like, shape (L1, L2)
        Filter taps; finite and not all zero.
    normalize : bool, default True
        Scale the taps to unit l2 (Frobenius) norm.
    name : str, optional
        Human-readable description (reports, plots).

    Attributes
    ----------
    taps : ndarray, shape (L1, L2)
        The (normalised) taps, read-only.
    shape : tuple (L1, L2)
    center : tuple (h1, h2)
        The tap placed on the output pixel, ``((L1 − 1)//2, (L2 − 1)//2)``.
    separable : tuple of two Filter, or None
        ``(f1, f2)`` with ``taps == outer(f1.taps, f2.taps)`` when the taps
        have rank one (numerically: second singular value at most
        ``SEPARABLE_RTOL`` times the first), else ``None``. The factors are
        not normalised individually; their outer product is the taps. A
        filter built by :func:`separable` keeps its exact factors.
    normalize : bool
    name : str
    ndim : int
        2.

    Examples
    --------
    >>> import numpy as np
    >>> f = Filter2D([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], normalize=False)
    >>> f.shape, f.center
    ((3, 2), (1, 0))
    >>> f.separable is None
    True
    >>> g = Filter2D(np.outer([1.0, 2.0, 1.0], [1.0, 1.0]))
    >>> round(float(np.linalg.norm(g.taps)), 12)
    1.0
    >>> f1, f2 = g.separable
    >>> bool(np.allclose(np.outer(f1.taps, f2.taps), g.taps, rtol=0, atol=1e-15))
    True
    """

    __slots__ = ("_taps", "normalize", "name", "_factors")
    ndim = 2

    def __init__(self, taps, normalize: bool = True, name: str | None = None):
        normalize = check_bool("normalize", normalize)
        arr = as_float_array("taps", taps, ndim=2)
        if arr.size == 0:
            raise ValueError(f"taps must contain at least one value, got an empty array of shape {arr.shape}")
        norm = float(np.linalg.norm(arr))
        if norm == 0.0:
            raise ValueError("taps must not be all zero (the filter would have zero norm)")
        if normalize:
            arr = arr / norm
        arr.setflags(write=False)
        self._taps = arr
        self.normalize = bool(normalize)
        self.name = name if name is not None else f"custom({arr.shape[0]}x{arr.shape[1]})"
        self._factors = _rank_one_factors(arr)

    @property
    def taps(self) -> np.ndarray:
        return self._taps

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self._taps.shape[0]), int(self._taps.shape[1]))

    @property
    def center(self) -> tuple[int, int]:
        L1, L2 = self.shape
        return ((L1 - 1) // 2, (L2 - 1) // 2)

    @property
    def separable(self) -> tuple[Filter, Filter] | None:
        if self._factors is None:
            return None
        f1, f2 = self._factors
        return (Filter(f1, normalize=False, name=f"{self.name}[axis 0]"),
                Filter(f2, normalize=False, name=f"{self.name}[axis 1]"))

    def taps_for(self, shape) -> np.ndarray:
        """The taps, after checking that the filter fits in an image of ``shape = (H, W)``.

        Raises
        ------
        ValueError
            If ``L1 > H`` or ``L2 > W`` (the taps would wrap onto each other).

        Examples
        --------
        >>> triangle2d(2).taps_for((4, 4)).shape
        (3, 3)
        """
        H, W = _check_shape2(shape)
        L1, L2 = self.shape
        if L1 > H or L2 > W:
            raise ValueError(
                f"filter {self.name} has {L1}x{L2} taps, larger than the image shape {(H, W)}; "
                f"use an image of at least {max(L1, H)}x{max(L2, W)} pixels or a smaller filter"
            )
        return self._taps

    def __repr__(self) -> str:
        return f"Filter2D({self.name})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Filter2D):
            return NotImplemented
        return self._taps.shape == other._taps.shape and bool(np.all(self._taps == other._taps))

    def __hash__(self) -> int:
        return hash((self._taps.shape, self._taps.tobytes()))


def _rank_one_factors(taps: np.ndarray):
    """``(f1, f2)`` with ``outer(f1, f2) ≈ taps`` when the taps have numerical rank one, else ``None``."""
    if min(taps.shape) == 1:
        return (np.ascontiguousarray(taps[:, 0]), np.ones(1)) if taps.shape[1] == 1 else (
            np.ones(1), np.ascontiguousarray(taps[0]))
    U, s, Vt = np.linalg.svd(taps)
    if s[1] > SEPARABLE_RTOL * s[0]:
        return None
    f1 = U[:, 0] * np.sqrt(s[0])
    f2 = Vt[0] * np.sqrt(s[0])
    if f1[np.argmax(np.abs(f1))] < 0:  # a fixed sign: the largest entry of f1 is positive
        f1, f2 = -f1, -f2
    return f1, f2


def _check_filter1d(name: str, f) -> np.ndarray:
    if not isinstance(f, Filter):
        raise TypeError(f"{name} must be a 1-D ntk_toolkit.filters.Filter (triangle(p), gaussian(std), box(w), "
                        f"Filter(taps)), got {type(f).__name__}")
    if f.depends_on_n:
        raise ValueError(f"{name}={f.name} has taps that depend on the signal length; "
                         "use a truncated filter (e.g. gaussian(std, truncate=4.0))")
    return f.taps


def separable(f1: Filter, f2: Filter | None = None, normalize: bool = True, name: str | None = None) -> Filter2D:
    """The separable 2-D filter ``u[a1, a2] = f1[a1] · f2[a2]`` (outer product of two 1-D filters).

    ``f1`` filters along the rows' index (axis 0, height), ``f2`` along axis 1
    (width). The 2-D convolution with it is the 1-D convolution with ``f1``
    along axis 0 followed by that with ``f2`` along axis 1, and
    ``CircularConv2D`` applies it that way (``O(L1 + L2)`` per pixel).

    Parameters
    ----------
    f1 : Filter
        Filter along axis 0; fixed taps (not an untruncated Gaussian).
    f2 : Filter, optional
        Filter along axis 1; default ``f1``.
    normalize : bool, default True
        Scale to unit l2 norm (the outer product of unit-norm factors has unit norm).
    name : str, optional
        Default ``"separable(<f1>, <f2>)"``.

    Returns
    -------
    Filter2D
        Whose :attr:`~Filter2D.separable` is the pair of factors (exactly).

    Examples
    --------
    >>> from ntk_toolkit.filters import box, triangle
    >>> f = separable(triangle(2, normalize=False), box(2, normalize=False), normalize=False)
    >>> f.taps.tolist(), f.center
    ([[1.0, 1.0], [2.0, 2.0], [1.0, 1.0]], (1, 0))
    >>> [g.taps.tolist() for g in f.separable]
    [[1.0, 2.0, 1.0], [1.0, 1.0]]
    """
    normalize = check_bool("normalize", normalize)
    t1 = _check_filter1d("f1", f1)
    t2 = t1 if f2 is None else _check_filter1d("f2", f2)
    if name is None:
        name = f"separable({f1.name}, {(f1 if f2 is None else f2).name})"
    if normalize:
        t1, t2 = t1 / np.linalg.norm(t1), t2 / np.linalg.norm(t2)
    out = Filter2D(np.outer(t1, t2), normalize=False, name=name)
    out.normalize = bool(normalize)
    out._factors = (np.array(t1, dtype=np.float64), np.array(t2, dtype=np.float64))
    return out


def triangle2d(p: int, normalize: bool = True) -> Filter2D:
    """Separable triangle filter ``triangle(p) ⊗ triangle(p)``: ``(2p − 1) x (2p − 1)`` taps.

    The bilinear-interpolation kernel of half-width ``p`` in both axes;
    ``p = 1`` is the 2-D identity (δ) filter.

    Parameters
    ----------
    p : int
        Half-width, ``>= 1``.
    normalize : bool, default True

    Examples
    --------
    >>> triangle2d(2, normalize=False).taps.tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    >>> triangle2d(3).shape, triangle2d(3).center, triangle2d(3).name
    ((5, 5), (2, 2), 'triangle2d(3)')
    """
    p = check_int("p", p, minimum=1)
    return separable(triangle(p, normalize=False), normalize=normalize, name=f"triangle2d({p})")


def gaussian2d(std: float, truncate: float = 4.0, normalize: bool = True) -> Filter2D:
    """Separable isotropic Gaussian ``exp(−(i² + j²)/(2 std²))`` for ``|i|, |j| <= floor(truncate·std)``.

    Parameters
    ----------
    std : float
        Standard deviation in pixels, ``> 0``.
    truncate : float, default 4.0
        Truncation radius in standard deviations (per axis).
    normalize : bool, default True

    Examples
    --------
    >>> import numpy as np
    >>> g = gaussian2d(1.0, normalize=False)
    >>> g.shape, float(g.taps[4, 4])
    ((9, 9), 1.0)
    >>> bool(np.isclose(g.taps[5, 6], np.exp(-(1 + 4) / 2)))
    True
    """
    g = gaussian(std, truncate=truncate, normalize=False)
    return separable(g, normalize=normalize, name=f"gaussian2d({float(std):g})")


def box2d(width: int, normalize: bool = True) -> Filter2D:
    """Box filter: ``width x width`` equal taps, centre ``((width − 1)//2,) * 2``.

    Examples
    --------
    >>> import numpy as np
    >>> b = box2d(2)
    >>> b.center, bool(np.allclose(b.taps, 0.5))
    ((0, 0), True)
    """
    width = check_int("width", width, minimum=1)
    return separable(box(width, normalize=False), normalize=normalize, name=f"box2d({width})")


def bilinear(normalize: bool = True) -> Filter2D:
    """The 4 x 4 smoother ``[1, 3, 3, 1]/4 ⊗ [1, 3, 3, 1]/4`` (bilinear upsampling by 2), centre ``(1, 1)``.

    An even-sized filter: its centre tap ``(1, 1)`` is the first of the two
    middle taps, as for even 1-D filters.

    Parameters
    ----------
    normalize : bool, default True
        Scale to unit l2 norm (``normalize=False`` keeps the taps ``/16``, which sum to 4).

    Examples
    --------
    >>> f = bilinear(normalize=False)
    >>> f.shape, f.center, float(f.taps.sum())
    ((4, 4), (1, 1), 4.0)
    >>> f.taps[1].tolist()
    [0.1875, 0.5625, 0.5625, 0.1875]
    """
    t = Filter(np.array([1.0, 3.0, 3.0, 1.0]) / 4.0, normalize=False, name="bilinear-1d")
    return separable(t, normalize=normalize, name="bilinear")


def _check_shape2(shape) -> tuple[int, int]:
    if (isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__")
            or getattr(shape, "ndim", 1) == 0 or len(shape) != 2):
        raise ValueError(f"shape must be a pair (H, W) of positive integers, got {shape!r}")
    return (check_int("shape[0] (H)", shape[0], minimum=1), check_int("shape[1] (W)", shape[1], minimum=1))


_SHAPE = re.compile(r"^\s*(\d+)\s*(?:[x×X,]\s*(\d+)\s*)?$")


def parse_shape(text: str) -> tuple[int, ...]:
    """Read a signal shape from text: ``"HxW"`` → ``(H, W)``, ``"N"`` → ``(N,)``.

    ``x``, ``X``, ``×`` or ``,`` separate the two sizes; sizes are positive integers.

    Examples
    --------
    >>> parse_shape("128x96"), parse_shape("64"), parse_shape(" 32 × 16 ")
    ((128, 96), (64,), (32, 16))
    >>> parse_shape("128x")
    Traceback (most recent call last):
    ...
    ValueError: text '128x' is not recognised as a shape; use HxW (e.g. 128x96) for an image or N ...
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a shape string such as '128x96', got {text!r}")
    m = _SHAPE.match(text)
    if m is None:
        raise ValueError(f"text {text!r} is not recognised as a shape; use HxW (e.g. 128x96) for an image "
                         "or N (e.g. 256) for a 1-D signal")
    sizes = tuple(int(g) for g in m.groups() if g is not None)
    if min(sizes) < 1:
        raise ValueError(f"shape {text!r} has a zero size; every size must be >= 1")
    return sizes
