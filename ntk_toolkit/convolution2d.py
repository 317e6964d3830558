"""Two-dimensional circular convolution of images, the operator ``U`` of an image generator.

:class:`CircularConv2D` is the 2-D form of :class:`ntk_toolkit.operators.CircularConv`
(``docs/theory.md`` §2.4): signals are ``H x W`` images flattened row-major
(``n = H·W``), ``U`` is block-circulant with circulant blocks, and the
operator carries the real plane-wave basis :class:`ntk_toolkit.bases.TrigBasis2D`
that diagonalises ``U Uᵀ`` and the expected kernel ``Σ``. It is also
reachable as ``ntk_toolkit.operators.CircularConv2D`` and ``ntk_toolkit.CircularConv2D``.
"""

from __future__ import annotations

import math

import numpy as np

from . import _lazy
from ._jit import threads_for
from ._memory import check_memory
from .bases2d import TrigBasis2D
from .filters import Filter
from .filters2d import Filter2D
from .operators import Operator

__all__ = ["CircularConv2D", "FFT_COST_2D"]

#: Direct taps cost about ``n k T`` multiply-adds with ``T = L1·L2`` taps
#: (``T = L1 + L2`` for a separable filter, two 1-D passes), the FFT path
#: (``rfft2`` / ``irfft2``) about ``FFT_COST_2D · n k log2(n)``; ``auto``
#: picks the direct path when ``T <= FFT_COST_2D · log2(n)``. Measured with
#: ``apply`` of ``(n, k)`` stacks (2 shared cores, float64, n k = 2**20,
#: random separable filters of 3 … 25 taps per axis and non-separable ones of
#: 3 x 3 … 9 x 9): the two paths take the same time at ``T ≈ 5–7 log2 n`` for
#: k = 64 … 256 channels (images 128², 64²), ``≈ 3 log2 n`` for k = 16 (256²)
#: and ``≈ 1 log2 n`` for k = 4 (512²): a direct pass costs about
#: ``0.25 ns · n T (k + 10)`` there (a fixed cost per pixel and tap that short
#: rows of channels do not amortise), the FFT about ``1–1.5 ns · n k log2 n``.
#: The rule is set for the generator's wide stacks of channels; for a handful
#: of columns on large images pass ``method="fft"`` for filters of more than
#: about ``log2 n`` taps.
FFT_COST_2D = 4.0


class CircularConv2D(Operator):
    """Circular convolution of ``H x W`` images with a fixed 2-D filter.

    ``(U c)[i1, i2] = Σ_{t1, t2} u[h1 + t1, h2 + t2] · c[(i1 − t1) mod H, (i2 − t2) mod W]``
    with ``h_j = (L_j − 1)//2`` (``docs/theory.md`` §2.4): the 1-D convention
    of :class:`~ntk_toolkit.operators.CircularConv` in each axis (with
    ``H = 1`` or ``W = 1`` it is that operator). Images are flattened
    row-major, pixel ``(i1, i2)`` at index ``i1·W + i2``.

    Parameters
    ----------
    filter : Filter2D
        The filter (:func:`~ntk_toolkit.filters.triangle2d`,
        :func:`~ntk_toolkit.filters.gaussian2d`, :func:`~ntk_toolkit.filters.separable`,
        :class:`~ntk_toolkit.filters.Filter2D`, …); no larger than the image in either axis.
    shape : tuple (H, W)
        Image shape.
    method : {"auto", "direct", "fft"}, default "auto"
        ``direct`` applies the taps (Numba kernel, parallel over image rows):
        ``O(n k L1 L2)``, or ``O(n k (L1 + L2))`` as two 1-D passes when
        the filter is separable. ``fft`` multiplies in the 2-D Fourier domain
        (``scipy.fft.rfft2`` / ``irfft2``, batched over the ``k`` columns):
        ``O(n k log n)``. ``auto`` takes ``direct`` when its tap count ``T``
        satisfies ``T <= FFT_COST_2D · log2(n)`` (``T = L1 + L2`` for a
        separable filter, ``L1 L2`` otherwise; see ``FFT_COST_2D`` for the
        measurements behind it).

    Attributes
    ----------
    n : int
        ``H·W``.
    shape : tuple (n, n)
    grid_shape : tuple (H, W)
    taps : ndarray, shape (L1, L2)
    center : tuple (h1, h2)
    method : str
        The resolved method, ``"direct"`` or ``"fft"``.
    basis : TrigBasis2D

    Notes
    -----
    With direct taps, :meth:`direct_taps` gives the stencil to the generator,
    whose forward pass, gradient and gradient-descent step then run as fused
    2-D Numba sweeps (:mod:`ntk_toolkit._kernels.gd2d`); with the FFT they
    run on :meth:`apply_unchecked`. The first direct call compiles the Numba
    kernels (seconds; cached on disk).

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.filters import triangle2d
    >>> U = CircularConv2D(triangle2d(2, normalize=False), (4, 5))
    >>> U.n, U.grid_shape, U.center
    (20, (4, 5), (1, 1))
    >>> U.todense()[0].reshape(4, 5).tolist()[:2]
    [[4.0, 2.0, 0.0, 0.0, 2.0], [2.0, 1.0, 0.0, 0.0, 1.0]]
    >>> x = np.zeros((4, 5)); x[2, 3] = 1.0
    >>> U.apply(x.ravel()).reshape(4, 5)[1:4, 2:5].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """

    is_circulant = False

    def __init__(self, filter: Filter2D, shape, method: str = "auto"):
        if not isinstance(filter, Filter2D):
            hint = ("a 1-D Filter; use CircularConv(filter, n) for 1-D signals, or separable(filter) for its "
                    "2-D version" if isinstance(filter, Filter) else
                    "build one with triangle2d(p), gaussian2d(std), box2d(w), bilinear(), separable(f1, f2) "
                    "or Filter2D(taps)")
            raise TypeError(f"filter must be an ntk_toolkit.filters.Filter2D, got {type(filter).__name__} ({hint})")
        self.filter = filter
        self.taps = np.ascontiguousarray(filter.taps_for(shape), dtype=np.float64)  # checks shape and size
        H, W = int(shape[0]), int(shape[1])
        self._grid = (H, W)
        self.n = H * W
        self.center = filter.center
        if method not in ("auto", "direct", "fft"):
            raise ValueError(f"method must be 'auto', 'direct' or 'fft', got {method!r}")
        factors = filter.separable
        self._passes = None
        if factors is not None:  # two 1-D passes: taps (L1, 1) along axis 0, (1, L2) along axis 1
            t1, t2 = (np.ascontiguousarray(f.taps, dtype=np.float64) for f in factors)
            self._passes = ((t1[:, None].copy(), (self.center[0], 0)), (t2[None, :].copy(), (0, self.center[1])))
        if method == "auto":
            T = sum(self.taps.shape) if factors is not None else self.taps.size
            method = "direct" if T <= FFT_COST_2D * max(math.log2(self.n), 1.0) else "fft"
        self.method = method
        # first column of U, reshaped (H, W): col[d1, d2] = u[h1 + d1, h2 + d2] (indices mod (H, W))
        L1, L2 = self.taps.shape
        col = np.zeros((H, W))
        i1 = (np.arange(L1) - self.center[0]) % H
        i2 = (np.arange(L2) - self.center[1]) % W
        np.add.at(col, (i1[:, None], i2[None, :]), self.taps)
        self._column = col.ravel()
        self._response = None
        self._gram_row = None
        self.basis = TrigBasis2D((H, W))

    @property
    def grid_shape(self) -> tuple[int, int]:
        return self._grid

    # -- structure -----------------------------------------------------------
    @property
    def first_column(self) -> np.ndarray:
        """First column of ``U``, flattened: ``U[i, j] = first_column[(i1 − j1) mod H, (i2 − j2) mod W]`` (reshaped)."""
        return self._column.copy()

    def frequency_response(self) -> np.ndarray:
        """``rfft2`` of the first column reshaped ``(H, W)``: the eigenvalues of ``U``, shape ``(H, W//2 + 1)``."""
        if self._response is None:
            self._response = np.fft.rfft2(self._column.reshape(self._grid))
        return self._response

    def norm(self) -> float:
        """Spectral norm ``‖U‖ = max_f |û(f)|`` (2-D DFT of the kernel). Cost O(n log n)."""
        return float(np.max(np.abs(self.frequency_response())))

    def gram_first_row(self) -> np.ndarray:
        """First row of ``U Uᵀ``: the 2-D circular autocorrelation ``a(d) = Σ_t u(t) u(t + d)``, flattened.

        ``(U Uᵀ)[i, j] = a((j1 − i1) mod H, (j2 − i2) mod W)``; ``a(d) = a(−d)``
        (``docs/theory.md`` §2.4). Exact from the taps in ``O((L1 L2)²)`` for
        short filters, by ``rfft2`` (``|û|²``) in ``O(n log n)`` otherwise.

        Returns
        -------
        ndarray, shape (n,)
        """
        if self._gram_row is None:
            H, W = self._grid
            L1, L2 = self.taps.shape
            T = L1 * L2
            if T * T <= 64 * self.n:
                a = np.zeros((H, W))
                t1, t2 = np.divmod(np.arange(T), L2)
                d1 = (t1[None, :] - t1[:, None]) % H
                d2 = (t2[None, :] - t2[:, None]) % W
                u = self.taps.ravel()
                np.add.at(a, (d1.ravel(), d2.ravel()), np.outer(u, u).ravel())
            else:
                a = np.fft.irfft2(np.abs(self.frequency_response()) ** 2, s=(H, W))
            self._gram_row = a.ravel()
        return self._gram_row.copy()

    def gram(self) -> np.ndarray:
        """``U Uᵀ`` as a dense ``(n, n)`` matrix, from :meth:`gram_first_row` (block-circulant). O(n²) memory."""
        check_memory(8 * self.n * self.n, f"U Uᵀ of shape ({self.n}, {self.n})",
                     "use gram_first_row() (the block-circulant structure) or the spectrum")
        return self.basis.matrix_from_first_row(self.gram_first_row())

    def todense(self) -> np.ndarray:
        """The ``n x n`` matrix ``U``. O(n²) memory: small cases and tests only."""
        check_memory(24 * self.n * self.n, f"the dense ({self.n}, {self.n}) matrix U",
                     "apply U with apply()/apply_T()")
        return self.basis.matrix_from_first_row(self._column).T.copy()

    # -- application ---------------------------------------------------------
    def direct_taps(self) -> tuple[np.ndarray, tuple[int, int]] | None:
        """``(taps, (h1, h2))`` when applied by direct taps, else ``None``.

        The taps have shape ``(L1, L2)``: the fused 2-D kernels of the
        generator (forward pass, gradient, gradient-descent step) run exactly
        when this is not ``None``.

        Examples
        --------
        >>> from ntk_toolkit.filters import triangle2d
        >>> taps, center = CircularConv2D(triangle2d(2), (8, 8)).direct_taps()
        >>> taps.shape, center
        ((3, 3), (1, 1))
        >>> CircularConv2D(triangle2d(2), (8, 8), method="fft").direct_taps() is None
        True
        """
        return (self.taps, tuple(self.center)) if self.method == "direct" else None

    def separable_taps(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(a, b)`` with ``taps = a ⊗ b`` (shapes ``(L1,)``, ``(L2,)``) for a separable filter, else ``None``.

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit.filters import Filter2D, triangle2d
        >>> a, b = CircularConv2D(triangle2d(2), (8, 8)).separable_taps()
        >>> bool(np.allclose(np.outer(a, b), triangle2d(2).taps))
        True
        >>> CircularConv2D(Filter2D([[1.0, 2.0], [3.0, 1.0]]), (8, 8)).separable_taps() is None
        True
        """
        if self._passes is None:
            return None
        return self._passes[0][0][:, 0].copy(), self._passes[1][0][0].copy()

    def apply_unchecked(self, x: np.ndarray, adjoint: bool = False) -> np.ndarray:
        """``U x`` or ``Uᵀ x`` for a clean C-contiguous float array of shape ``(n,)`` or ``(n, k)`` (no validation)."""
        H, W = self._grid
        X = x.reshape(H, W, -1)
        if self.method == "direct":
            from ._kernels import conv2d

            sign = 1 if adjoint else -1
            passes = self._passes if self._passes is not None else ((self.taps, self.center),)
            out = X
            for taps, (h1, h2) in passes:
                src, out = out, np.empty_like(X)
                with threads_for(X.size * taps.size):
                    conv2d.stencil2d(taps, h1, h2, src, out, sign)
        else:
            resp = self.frequency_response()
            if adjoint:
                resp = np.conj(resp)
            fft = _lazy.fft()
            F = fft.rfft2(X, axes=(0, 1), workers=-1)
            F *= resp[:, :, None]
            out = fft.irfft2(F, s=(H, W), axes=(0, 1), workers=-1)
        return out.reshape(x.shape)

    def __repr__(self) -> str:
        H, W = self._grid
        return f"CircularConv2D({self.filter.name}, shape=({H}, {W}), method={self.method!r})"
