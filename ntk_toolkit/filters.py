"""Filter taps for the fixed convolution ``U`` of the generator.

A :class:`Filter` is a short vector of taps ``u[0..L-1]`` with a centre index
``h = (L - 1) // 2``. Circular convolution with it (see
:class:`ntk_toolkit.operators.CircularConv`) places tap ``h`` on the output
sample, exactly as the authors build ``U`` (``docs/theory.md`` §1.1).

Filters are normalised to unit l2 norm unless ``normalize=False``. Because the
expected kernel ``Σ`` is scale-invariant only in its angles, the norm of the
filter scales ``U``, ``‖U‖`` and every kernel by ``‖u‖²``.

Constructors: :func:`triangle`, :func:`gaussian`, :func:`box`, :func:`delta`,
:meth:`Filter` for custom taps and :func:`from_spec` for strings such as
``"triangle:4"`` used by the command line.

Two-dimensional filters for images (:class:`Filter2D`, :func:`separable`,
:func:`triangle2d`, :func:`gaussian2d`, :func:`box2d`, :func:`bilinear`) and
:func:`parse_shape` are defined in :mod:`ntk_toolkit.filters2d` and reachable
from here (``ntk_toolkit.filters.triangle2d``).
"""

from __future__ import annotations

import math

import numpy as np

from ._memory import check_memory
from ._validation import as_float_array, check_bool, check_int, check_positive

__all__ = ["Filter", "triangle", "gaussian", "box", "delta", "from_spec",  # noqa: F822 (2-D names resolved lazily)
           "Filter2D", "separable", "triangle2d", "gaussian2d", "box2d", "bilinear", "parse_shape"]

#: Names defined in :mod:`ntk_toolkit.filters2d` (which builds on this module) and resolved from here.
_FILTERS_2D = ("Filter2D", "separable", "triangle2d", "gaussian2d", "box2d", "bilinear", "parse_shape")


def __getattr__(name: str):
    if name in _FILTERS_2D:
        from . import filters2d

        return getattr(filters2d, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Filter:
    """Fixed convolution filter.

    Parameters
    ----------
    taps : array_like, shape (L,)
        Filter taps. Must be finite and not all zero.
    normalize : bool, default True
        Scale the taps to unit l2 norm.
    name : str, optional
        Human-readable description (used in reports and plots).

    Attributes
    ----------
    taps : ndarray, shape (L,)
        The (normalised) taps. For a filter whose taps depend on the signal
        length (``gaussian(std, truncate=None)``) use :meth:`taps_for`.
    center : int
        Index of the tap placed on the output sample, ``(L - 1) // 2``.
    normalize : bool
        Whether the taps are normalised to unit l2 norm.

    Examples
    --------
    Custom taps are scaled to unit l2 norm, so ``‖U‖`` and the kernels do not
    depend on the scale of the taps:

    >>> import numpy as np
    >>> from ntk_toolkit.filters import Filter
    >>> f = Filter([1.0, 2.0, 1.0])
    >>> f.center, f.length
    (1, 3)
    >>> round(float(np.linalg.norm(f.taps)), 12)
    1.0
    >>> f == Filter([2.0, 4.0, 2.0])
    True
    >>> Filter([1.0, 2.0, 1.0], normalize=False).taps
    array([1., 2., 1.])
    """

    __slots__ = ("_taps", "normalize", "name", "_periodic_std")

    def __init__(self, taps, normalize: bool = True, name: str | None = None):
        normalize = check_bool("normalize", normalize)
        arr = as_float_array("taps", taps, ndim=1)
        if arr.size == 0:
            raise ValueError("taps must contain at least one value, got an empty array")
        peak = float(np.max(np.abs(arr)))
        if peak == 0.0:
            raise ValueError("taps must not be all zero (the filter would have zero norm)")
        if normalize:
            with np.errstate(over="ignore", under="ignore"):
                norm = float(np.linalg.norm(arr))
            if not (math.isfinite(norm) and norm > 0):  # huge or tiny taps: scale by the largest first
                arr = arr / peak
                norm = float(np.linalg.norm(arr))
            arr = arr / norm
        arr.setflags(write=False)
        self._taps = arr
        self.normalize = bool(normalize)
        self.name = name if name is not None else f"custom(L={arr.size})"
        self._periodic_std = None

    @classmethod
    def _periodic_gaussian(cls, std: float, normalize: bool) -> Filter:
        self = cls.__new__(cls)
        self._taps = None
        self.normalize = bool(normalize)
        self.name = f"gaussian({std:g}, untruncated)"
        self._periodic_std = float(std)
        return self

    @property
    def taps(self) -> np.ndarray:
        if self._taps is None:
            raise ValueError(
                f"filter {self.name} has taps that depend on the signal length n; "
                "use filter.taps_for(n)"
            )
        return self._taps

    @property
    def length(self) -> int | None:
        """Number of taps ``L`` (``None`` when it depends on ``n``)."""
        return None if self._taps is None else int(self._taps.size)

    @property
    def center(self) -> int:
        if self._taps is None:
            raise ValueError(
                f"filter {self.name} has a centre that depends on n; it is (n - 1) // 2"
            )
        return (self._taps.size - 1) // 2

    @property
    def depends_on_n(self) -> bool:
        """True for filters whose taps are only fixed once ``n`` is known."""
        return self._taps is None

    def taps_for(self, n: int) -> np.ndarray:
        """Taps of this filter for a signal of length ``n``.

        Parameters
        ----------
        n : int
            Signal length; the filter must not be longer than ``n``.

        Returns
        -------
        ndarray, shape (L,)
            The taps (``L = n`` for an untruncated Gaussian, whose taps cover
            every circular offset ``-(n//2 - 1 + n%2) .. n//2`` once, centred at
            index ``(n - 1)//2``).

        Examples
        --------
        A fixed filter has the same taps for every ``n``; an untruncated
        Gaussian has one tap per circular offset, with its peak at ``(n - 1)//2``:

        >>> import numpy as np
        >>> from ntk_toolkit.filters import gaussian, triangle
        >>> triangle(2).taps_for(8).size
        3
        >>> g = gaussian(1.5, truncate=None)
        >>> g.depends_on_n, g.length
        (True, None)
        >>> u = g.taps_for(8)
        >>> u.size, int(np.argmax(u)), round(float(np.linalg.norm(u)), 12)
        (8, 3, 1.0)
        """
        n = check_int("n", n, minimum=1)
        if self._taps is not None:
            if self._taps.size > n:
                raise ValueError(
                    f"filter {self.name} has {self._taps.size} taps, longer than the "
                    f"signal length n={n}; use n >= {self._taps.size} or a shorter filter"
                )
            return self._taps
        h = (n - 1) // 2
        offsets = np.arange(n) - h
        taps = np.exp(-(offsets.astype(float) ** 2) / (2.0 * self._periodic_std**2))
        if self.normalize:
            taps /= np.linalg.norm(taps)
        taps.setflags(write=False)
        return taps

    def __repr__(self) -> str:
        return f"Filter({self.name})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Filter):
            return NotImplemented
        if self._taps is None or other._taps is None:
            return (self._periodic_std == other._periodic_std
                    and self.normalize == other.normalize)
        return self._taps.shape == other._taps.shape and bool(np.all(self._taps == other._taps))

    def __hash__(self) -> int:
        if self._taps is None:
            return hash(("periodic_gaussian", self._periodic_std, self.normalize))
        return hash(self._taps.tobytes())


def _check_taps_memory(L: int, what: str, arg: str) -> None:
    """Memory guard for a filter of ``L`` taps (a few temporaries of ``8 L`` bytes)."""
    check_memory(8 * L, f"the {L} taps of {what}", f"use a smaller {arg} (a filter is at most n taps long)")


def triangle(p: int, normalize: bool = True) -> Filter:
    """Triangle (linear-interpolation) filter of half-width ``p``.

    Taps ``p - |i|`` for ``|i| < p``, length ``2p - 1``; ``p = 1`` is the
    identity (δ filter). This is the authors' "triangle p" filter
    (``docs/theory.md`` §2.5, eq. (2.14)); ``|û_f|²`` has its first zero at ``f = n/p``.

    Parameters
    ----------
    p : int
        Half-width, ``p >= 1``.
    normalize : bool, default True
        Scale to unit l2 norm.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.filters import delta, triangle
    >>> triangle(3, normalize=False).taps
    array([1., 2., 3., 2., 1.])
    >>> u = triangle(3)
    >>> u.center, round(float(np.linalg.norm(u.taps)), 12)
    (2, 1.0)

    ``p = 1`` is the identity filter:

    >>> triangle(1) == delta()
    True
    """
    p = check_int("p", p, minimum=1)
    _check_taps_memory(2 * p - 1, f"triangle(p={p})", "p")
    i = np.arange(-(p - 1), p)
    return Filter(p - np.abs(i).astype(float), normalize=normalize, name=f"triangle({p})")


def gaussian(std: float, truncate: float | None = 4.0, normalize: bool = True) -> Filter:
    """Sampled Gaussian filter.

    Taps ``exp(-i² / (2 std²))`` for ``|i| <= floor(truncate * std)``.

    With ``truncate=None`` the Gaussian is not truncated: once the signal length
    ``n`` is known (:meth:`~ntk_toolkit.Filter.taps_for`) the taps cover every circular
    offset exactly once, ``L = n``, centred at ``(n - 1)//2``.

    Notes
    -----
    The authors' Gaussian filters (``docs/theory.md`` §2.5, eq. (2.15)) are
    ``exp(-q² / (σ n)²)`` for ``q = -n/2 .. n/2 - 1``, a width that is a fraction
    ``σ`` of ``n``. They are reproduced by
    ``gaussian(std=σ * n / sqrt(2), truncate=None)``. (The authors' array puts the
    peak one sample to the right of index ``(n-1)//2``; that circular shift of
    ``U`` leaves ``U Uᵀ``, ``Σ`` and all spectra unchanged.)

    Parameters
    ----------
    std : float
        Standard deviation in samples, ``> 0``.
    truncate : float or None, default 4.0
        Truncation radius in standard deviations, or ``None`` for none.
    normalize : bool, default True
        Scale to unit l2 norm.

    Examples
    --------
    Truncated at ``4 std``: ``2·floor(4 std) + 1`` symmetric taps.

    >>> import numpy as np
    >>> from ntk_toolkit.filters import gaussian
    >>> u = gaussian(1.0, normalize=False).taps
    >>> u.size, float(u[4]), bool(np.array_equal(u, u[::-1]))
    (9, 1.0, True)
    >>> bool(np.isclose(u[5], np.exp(-0.5)))  # exp(-i²/(2 std²)) at i = 1
    True

    The authors' filter of width ``σ = 0.05`` at ``n = 64`` (see Notes), up to the
    circular shift by one sample:

    >>> n, sigma = 64, 0.05
    >>> q = np.arange(-n // 2, n // 2)
    >>> authors = np.exp(-q**2 / (sigma * n) ** 2)
    >>> u = gaussian(std=sigma * n / np.sqrt(2), truncate=None).taps_for(n)
    >>> bool(np.allclose(np.roll(u, 1), authors / np.linalg.norm(authors)))
    True
    """
    std = check_positive("std", std)
    if truncate is None:
        return Filter._periodic_gaussian(std, normalize)
    truncate = check_positive("truncate", truncate)
    r = int(math.floor(truncate * std))
    _check_taps_memory(2 * r + 1, f"gaussian(std={std:g}, truncate={truncate:g})", "std or truncate")
    i = np.arange(-r, r + 1, dtype=float)
    return Filter(np.exp(-(i**2) / (2.0 * std**2)), normalize=normalize,
                  name=f"gaussian({std:g})")


def box(width: int, normalize: bool = True) -> Filter:
    """Box (moving-average) filter: ``width`` equal taps, centre ``(width-1)//2``.

    Parameters
    ----------
    width : int
        Number of taps, ``>= 1``.
    normalize : bool, default True
        Scale to unit l2 norm (each tap ``1/√width``).

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.filters import box
    >>> box(4, normalize=False).taps
    array([1., 1., 1., 1.])
    >>> u = box(4)
    >>> u.center, bool(np.allclose(u.taps, 0.5))
    (1, True)
    """
    width = check_int("width", width, minimum=1)
    _check_taps_memory(width, f"box(width={width})", "width")
    return Filter(np.ones(width), normalize=normalize, name=f"box({width})")


def delta(normalize: bool = True) -> Filter:
    """The identity filter ``[1]``: ``U = I`` and ``Σ = I/2`` (no smoothing).

    Parameters
    ----------
    normalize : bool, default True
        Scale to unit l2 norm (no effect on the single tap 1).

    Examples
    --------
    >>> from ntk_toolkit.filters import box, delta
    >>> d = delta()
    >>> d.taps, d.center
    (array([1.]), 0)
    >>> d == box(1)
    True
    """
    return Filter(np.ones(1), normalize=normalize, name="delta")


def from_spec(spec: str):
    """Build a filter from a short text specification.

    Accepted forms: ``triangle:P``, ``gaussian:STD`` (truncated at 4 std),
    ``gaussian:STD:TRUNCATE`` or ``gaussian:STD:none``, ``box:W``, ``delta``,
    ``custom:T0,T1,...``; and the 2-D filters (a :class:`Filter2D`)
    ``triangle2d:P``, ``gaussian2d:STD`` or ``gaussian2d:STD:TRUNCATE``,
    ``box2d:W`` and ``bilinear``.

    Parameters
    ----------
    spec : str
        The specification, case-insensitive in its kind.

    Returns
    -------
    Filter or Filter2D

    Examples
    --------
    >>> from ntk_toolkit.filters import from_spec, gaussian, triangle
    >>> from_spec("triangle:4") == triangle(4)
    True
    >>> from_spec("triangle2d:3").name, from_spec("gaussian2d:1.5").shape
    ('triangle2d(3)', (13, 13))
    >>> from_spec("gaussian:2.5:none") == gaussian(2.5, truncate=None)
    True
    >>> from_spec("custom:1,2,1").taps.round(4).tolist()
    [0.4082, 0.8165, 0.4082]
    >>> from_spec("sinc:3")
    Traceback (most recent call last):
    ...
    ValueError: filter spec 'sinc:3' is not recognised; valid forms: triangle:P, ...
    """
    if not isinstance(spec, str):
        raise TypeError(f"filter spec must be a string, got {spec!r}")
    kind, _, rest = spec.strip().partition(":")
    kind = kind.lower()
    valid = ("triangle:P, gaussian:STD[:TRUNCATE|none], box:W, delta, custom:T0,T1,..., "
             "triangle2d:P, gaussian2d:STD[:TRUNCATE], box2d:W, bilinear")
    try:
        if kind in ("triangle2d", "gaussian2d", "box2d", "bilinear"):
            from . import filters2d

            if kind == "triangle2d":
                return filters2d.triangle2d(int(rest))
            if kind == "box2d":
                return filters2d.box2d(int(rest))
            if kind == "gaussian2d":
                std, _, trunc = rest.partition(":")
                return filters2d.gaussian2d(float(std), truncate=float(trunc) if trunc else 4.0)
            if not rest:
                return filters2d.bilinear()
        if kind == "triangle":
            return triangle(int(rest))
        if kind == "gaussian":
            std, _, trunc = rest.partition(":")
            if trunc.lower() == "none":
                return gaussian(float(std), truncate=None)
            return gaussian(float(std), truncate=float(trunc) if trunc else 4.0)
        if kind == "box":
            return box(int(rest))
        if kind == "delta" and not rest:
            return delta()
        if kind == "custom":
            return Filter([float(t) for t in rest.split(",")])
    except (ValueError, TypeError) as exc:
        raise ValueError(f"filter spec {spec!r} is invalid ({exc}); valid forms: {valid}") from exc
    raise ValueError(f"filter spec {spec!r} is not recognised; valid forms: {valid}")
