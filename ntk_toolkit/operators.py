"""Linear operators: the fixed convolution ``U`` and measurement operators ``A``.

Every operator acting on signals works on flattened signals of length ``n``
(for images ``n = H*W`` in row-major order) and exposes ``grid_shape`` (the
shape of one signal) so that a 2-D circular convolution can be added without
changing callers. ``apply`` and ``apply_T`` accept a vector of shape ``(n,)``
or a stack of columns of shape ``(n, k)``.

* :class:`CircularConv` — circular convolution with a :class:`~ntk_toolkit.filters.Filter`
  (``docs/theory.md`` §1.1): direct taps for short filters, FFT for long ones.
* :class:`DenseOperator` — an arbitrary fixed ``n x n`` matrix, no circulant shortcuts.
* :class:`~ntk_toolkit.measurements.GaussianMeasurement`, :class:`~ntk_toolkit.measurements.RandomMask`,
  :class:`~ntk_toolkit.measurements.SubsampledDCT`, :class:`~ntk_toolkit.measurements.Identity`,
  :class:`~ntk_toolkit.measurements.MatrixMeasurement` — measurement operators ``A``
  (``m x n``) for the loss ``½‖A G(C) − y‖²`` (defined in
  :mod:`ntk_toolkit.measurements`).
"""

from __future__ import annotations

import math

import numpy as np

from . import _lazy
from ._memory import check_memory
from ._validation import as_float_array, check_int
from .filters import Filter

__all__ = [
    "CircularConv",
    "DenseOperator",
    "GaussianMeasurement",
    "RandomMask",
    "SubsampledDCT",
    "MatrixMeasurement",
    "Identity",
    "as_measurement",
    "circulant_from_first_row",
]

#: Direct taps cost about ``n k L`` multiply-adds, the FFT path about
#: ``FFT_COST n k log2(n)``; the direct path is chosen when it is cheaper.
#: Measured with ``benchmarks/conv_cost_rule.py`` (wall clock, 2 cores, idle,
#: n k = 2**20): a gradient-descent step by the fused direct sweep stays faster
#: than the FFT path up to L ≈ 16–29 log2 n (n = 4096 … 256); ``apply`` alone
#: up to L ≈ 5–11 log2 n. Gradient descent is where the operator spends its
#: time, so the rule sits between the two.
FFT_COST = 12.0


def _fft_workers() -> int:
    return -1


def circulant_from_first_row(row: np.ndarray) -> np.ndarray:
    """Dense circulant matrix ``M[i, j] = row[(j - i) mod n]``.

    Cost O(n²) time and memory; used for small cases and tests only.
    """
    row = np.asarray(row)
    n = row.shape[0]
    check_memory(16 * n * n, f"the dense ({n}, {n}) circulant matrix",
                 "work with its first row (circulant structure) or the spectrum instead")
    idx = (np.arange(n)[None, :] - np.arange(n)[:, None]) % n
    return row[idx]


class CircularConv:
    """Circular convolution of length ``n`` with a fixed filter.

    ``(U c)[i] = Σ_t u[h + t] · c[(i − t) mod n]`` with ``h = (L − 1)//2``
    (``docs/theory.md`` §1.1, eqs. (1.1)–(1.2)): column ``j`` of ``U`` is the filter with its
    centre tap on sample ``j``; ``U`` is circulant.

    Parameters
    ----------
    filter : Filter
        The filter; its length must not exceed ``n``.
    n : int
        Signal length.
    method : {"auto", "direct", "fft"}, default "auto"
        How to apply ``U``. ``direct`` costs ``O(n k L)`` (Numba kernel,
        row-parallel), ``fft`` costs ``O(n k log n)`` (``scipy.fft``). ``auto``
        picks the cheaper by the rule ``L <= FFT_COST * log2(n)``.

    Attributes
    ----------
    n : int
    shape : tuple (n, n)
    grid_shape : tuple (n,)
    taps : ndarray, shape (L,)
    center : int
    method : str
        The resolved method, ``"direct"`` or ``"fft"``.

    Examples
    --------
    >>> from ntk_toolkit.filters import triangle
    >>> U = CircularConv(triangle(2, normalize=False), 5)
    >>> U.todense()[0]
    array([2., 1., 0., 0., 1.])
    """

    is_circulant = True

    def __init__(self, filter: Filter, n: int, method: str = "auto"):
        if not isinstance(filter, Filter):
            raise TypeError(
                f"filter must be an ntk_toolkit.filters.Filter, got {type(filter).__name__}; "
                "build one with triangle(p), gaussian(std), box(w), delta() or Filter(taps)"
            )
        self.n = check_int("n", n, minimum=1)
        self.filter = filter
        self.taps = np.ascontiguousarray(filter.taps_for(self.n), dtype=np.float64)
        self.center = (self.taps.size - 1) // 2
        if method not in ("auto", "direct", "fft"):
            raise ValueError(f"method must be 'auto', 'direct' or 'fft', got {method!r}")
        if method == "auto":
            method = "direct" if self.taps.size <= FFT_COST * max(math.log2(self.n), 1.0) else "fft"
        self.method = method
        # first column of the circulant U: c[d] = u[h + d]
        col = np.zeros(self.n)
        idx = (np.arange(self.taps.size) - self.center) % self.n
        np.add.at(col, idx, self.taps)
        self._column = col
        self._response = None

    # -- structure -----------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return (self.n, self.n)

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return (self.n,)

    @property
    def first_column(self) -> np.ndarray:
        """First column of ``U`` (``U[i, j] = first_column[(i − j) mod n]``)."""
        return self._column.copy()

    def frequency_response(self) -> np.ndarray:
        """``rfft`` of the first column: the eigenvalues of ``U``, shape ``(n//2 + 1,)``."""
        if self._response is None:
            self._response = np.fft.rfft(self._column)
        return self._response

    def norm(self) -> float:
        """Spectral norm ``‖U‖ = max_f |û_f|``. Cost O(n log n)."""
        return float(np.max(np.abs(self.frequency_response())))

    def gram_first_row(self) -> np.ndarray:
        """First row of ``U Uᵀ``: the circular autocorrelation ``a_d = Σ_t u_t u_{t+d}``.

        ``U Uᵀ`` is symmetric circulant with ``(U Uᵀ)[i, j] = a[(j − i) mod n]``
        (``docs/theory.md`` §2.3, eq. (2.8)). Computed exactly from the taps in O(L²) for
        short filters, by FFT in O(n log n) otherwise.

        Returns
        -------
        ndarray, shape (n,)
        """
        key = (self.n, self.taps.tobytes())  # cached: 50–60 µs a call, against 0.6 ms for a kernel at n = 256
        cached = self.__dict__.get("_gram_first_row")
        if cached is None or cached[0] != key:
            L = self.taps.size
            if L * L <= 64 * self.n:
                a = np.zeros(self.n)
                diff = (np.arange(L)[None, :] - np.arange(L)[:, None]) % self.n
                np.add.at(a, diff.ravel(), np.outer(self.taps, self.taps).ravel())
            else:
                a = np.fft.irfft(np.abs(self.frequency_response()) ** 2, n=self.n)
            cached = (key, a)
            self.__dict__["_gram_first_row"] = cached
        return cached[1].copy()

    def todense(self) -> np.ndarray:
        """The ``n x n`` matrix ``U``. O(n²) memory: small cases and tests only."""
        check_memory(24 * self.n * self.n, f"the dense ({self.n}, {self.n}) matrix U",
                     "apply U with apply()/apply_T() (O(n k L) or O(n k log n))")
        return circulant_from_first_row(self._column).T.copy()

    # -- application ---------------------------------------------------------
    def _check(self, name, x):
        x = as_float_array(name, x, ndim=(1, 2))
        if x.shape[0] != self.n:
            raise ValueError(f"{name} must have {self.n} rows (the signal length n), got shape {x.shape}")
        return x

    def apply(self, x) -> np.ndarray:
        """``U x`` for ``x`` of shape ``(n,)`` or ``(n, k)``."""
        return self._apply(self._check("x", x), adjoint=False)

    def apply_T(self, x) -> np.ndarray:
        """``Uᵀ x`` for ``x`` of shape ``(n,)`` or ``(n, k)``."""
        return self._apply(self._check("x", x), adjoint=True)

    def _apply(self, x: np.ndarray, adjoint: bool) -> np.ndarray:
        """Apply to a clean C-contiguous float64 array (no validation)."""
        vec = x.ndim == 1
        X = x.reshape(self.n, -1) if vec else x
        if self.method == "direct":
            from ._jit import threads_for
            from ._kernels import conv

            out = np.empty_like(X)
            with threads_for(X.size * self.taps.size):
                (conv.circ_corr if adjoint else conv.circ_conv)(self.taps, self.center, X, out)
        else:
            resp = self.frequency_response()
            if adjoint:
                resp = np.conj(resp)
            F = _lazy.fft().rfft(X, axis=0, workers=_fft_workers())
            F *= resp[:, None]
            out = _lazy.fft().irfft(F, n=self.n, axis=0, workers=_fft_workers())
        return out.reshape(x.shape) if vec else out

    def __repr__(self) -> str:
        return f"CircularConv({self.filter.name}, n={self.n}, method={self.method!r})"


class DenseOperator:
    """An arbitrary fixed ``n x n`` matrix ``U`` (no circulant shortcuts).

    Parameters
    ----------
    U : array_like, shape (n, n)
        The matrix; finite, square.
    """

    is_circulant = False

    def __init__(self, U):
        U = as_float_array("U", U, ndim=2)
        if U.shape[0] != U.shape[1]:
            raise ValueError(f"U must be square (n, n), got shape {U.shape}")
        self.U = U
        self.n = U.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n, self.n)

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return (self.n,)

    def norm(self) -> float:
        """Spectral norm ``‖U‖`` (largest singular value). Cost O(n³)."""
        return float(np.linalg.norm(self.U, 2))

    def gram(self) -> np.ndarray:
        """``U Uᵀ``, shape (n, n)."""
        check_memory(8 * self.n * self.n, f"U Uᵀ of shape ({self.n}, {self.n})", "use a CircularConv operator")
        return self.U @ self.U.T

    def todense(self) -> np.ndarray:
        return self.U.copy()

    def _check(self, name, x):
        x = as_float_array(name, x, ndim=(1, 2))
        if x.shape[0] != self.n:
            raise ValueError(f"{name} must have {self.n} rows (the signal length n), got shape {x.shape}")
        return x

    def apply(self, x) -> np.ndarray:
        """``U x`` for ``x`` of shape ``(n,)`` or ``(n, k)``."""
        return self.U @ self._check("x", x)

    def apply_T(self, x) -> np.ndarray:
        """``Uᵀ x`` for ``x`` of shape ``(n,)`` or ``(n, k)``."""
        return self.U.T @ self._check("x", x)

    def _apply(self, x: np.ndarray, adjoint: bool) -> np.ndarray:
        return (self.U.T if adjoint else self.U) @ x

    def __repr__(self) -> str:
        return f"DenseOperator(n={self.n})"


# --------------------------------------------------------------------------- measurements
# Measurement operators live in ntk_toolkit.measurements and are re-exported here.
from .measurements import (  # noqa: E402
    GaussianMeasurement,
    Identity,
    MatrixMeasurement,
    RandomMask,
    SubsampledDCT,
    as_measurement,
)
