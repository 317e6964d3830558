"""Linear operators: the fixed convolution ``U`` and measurement operators ``A``.

Every operator is an :class:`Operator`: it works on flattened signals of
length ``n`` (for images ``n = H*W`` in row-major order), exposes ``shape``,
``grid_shape`` (the shape of one signal) and ``basis`` (the eigenbasis that
diagonalises it, or ``None``), and applies itself with ``apply`` / ``apply_T``
(validated) or ``apply_unchecked`` (for clean arrays). ``apply`` and
``apply_T`` accept a vector of shape ``(n,)`` or a stack of columns of shape
``(n, k)``. A user's own operator needs only ``n``, ``apply`` and ``apply_T``
(:class:`OperatorLike`); :func:`as_operator` gives it the full interface.

* :class:`CircularConv` — circular convolution with a :class:`~ntk_toolkit.filters.Filter`
  (``docs/theory.md`` §1.1): direct taps for short filters, FFT for long ones.
* :class:`~ntk_toolkit.convolution2d.CircularConv2D` — 2-D circular convolution of
  ``H x W`` images with a :class:`~ntk_toolkit.filters.Filter2D` (``docs/theory.md`` §2.4;
  defined in :mod:`ntk_toolkit.convolution2d`, reachable from here).
* :class:`DenseOperator` — an arbitrary fixed ``n x n`` matrix, no circulant shortcuts.
* :class:`~ntk_toolkit.measurements.GaussianMeasurement`, :class:`~ntk_toolkit.measurements.RandomMask`,
  :class:`~ntk_toolkit.measurements.SubsampledDCT`, :class:`~ntk_toolkit.measurements.Identity`,
  :class:`~ntk_toolkit.measurements.MatrixMeasurement` — measurement operators ``A``
  (``m x n``) for the loss ``½‖A G(C) − y‖²`` (defined in
  :mod:`ntk_toolkit.measurements`).
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import numpy as np

from . import _lazy
from ._memory import check_memory
from ._validation import as_float_array, check_int
from .bases import TrigBasis
from .filters import Filter

__all__ = [
    "Operator",
    "OperatorLike",
    "as_operator",
    "CircularConv",
    "CircularConv2D",  # noqa: F822 (resolved lazily from ntk_toolkit.convolution2d)
    "DenseOperator",
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

    Examples
    --------
    >>> circulant_from_first_row(np.array([1.0, 2.0, 3.0])).tolist()
    [[1.0, 2.0, 3.0], [3.0, 1.0, 2.0], [2.0, 3.0, 1.0]]
    """
    row = np.asarray(row)
    return TrigBasis(row.shape[0]).matrix_from_first_row(row)


@runtime_checkable
class OperatorLike(Protocol):
    """What a user-defined operator must provide to be used as ``U`` (or ``A``).

    ``n`` is the length of the input signals; ``apply(x)`` and ``apply_T(y)``
    accept one vector or a stack of columns (``(n,)`` or ``(n, k)``). Optional
    attributes are used when present: ``shape`` (default ``(n, n)``),
    ``grid_shape``, ``norm()``, ``todense()``, ``basis``. Wrap such an object
    with :func:`as_operator` to get the full :class:`Operator` interface.

    Examples
    --------
    >>> class Scale:
    ...     n = 3
    ...     def apply(self, x): return 2.0 * x
    ...     def apply_T(self, x): return 2.0 * x
    >>> isinstance(Scale(), OperatorLike)
    True
    """

    n: int

    def apply(self, x) -> np.ndarray: ...

    def apply_T(self, x) -> np.ndarray: ...


class Operator:
    """Base class of the linear operators of the toolkit (``U`` and ``A``).

    A subclass sets ``n`` (input length) and implements
    :meth:`apply_unchecked`; everything else has a default built on it. The
    layers above (generator, kernels, spectrum, dynamics) use only this
    interface.

    Attributes
    ----------
    n : int
        Length of the input signals.
    m : int
        Length of the output (``n`` for a square operator).
    shape : tuple (m, n)
    grid_shape : tuple
        Shape of one input signal (``(n,)`` in 1-D); signals are flattened row-major.
    basis : object or None
        The eigenbasis that diagonalises ``U Uᵀ`` and every kernel built from
        it (e.g. :class:`ntk_toolkit.bases.TrigBasis` for a circular
        convolution), or ``None`` when no such structure is known: then
        spectra are computed by a dense eigensolver, never by an FFT.

    Examples
    --------
    >>> class Double(Operator):
    ...     def __init__(self, n): self.n = n
    ...     def apply_unchecked(self, x, adjoint=False): return 2.0 * x
    >>> op = Double(3)
    >>> op.apply(np.ones(3)).tolist(), op.norm(), op.basis is None
    ([2.0, 2.0, 2.0], 2.0, True)
    """

    n: int
    basis = None
    #: Whether :meth:`apply` rejects non-finite input (measurement operators pass NaN through).
    finite_input = True
    _output_rows = "the signal length n"

    @property
    def m(self) -> int:
        return self.n

    @property
    def shape(self) -> tuple[int, int]:
        return (self.m, self.n)

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return (self.n,)

    # -- application ---------------------------------------------------------
    def _rows(self, name: str, x, rows: int, what: str) -> np.ndarray:
        x = as_float_array(name, x, ndim=(1, 2), finite=self.finite_input)
        if x.shape[0] != rows:
            raise ValueError(f"{name} must have {rows} rows ({what}), got shape {x.shape}")
        return x

    def check_input(self, x, name: str = "x") -> np.ndarray:
        """``x`` as a float64 array of shape ``(n,)`` or ``(n, k)``, or a clear error."""
        return self._rows(name, x, self.n, "the signal length n")

    def check_output(self, y, name: str = "y") -> np.ndarray:
        """``y`` as a float64 array of shape ``(m,)`` or ``(m, k)``, or a clear error."""
        return self._rows(name, y, self.m, self._output_rows)

    def apply(self, x) -> np.ndarray:
        """``U x`` for ``x`` of shape ``(n,)`` or ``(n, k)``."""
        return self.apply_unchecked(self.check_input(x), adjoint=False)

    def apply_T(self, x) -> np.ndarray:
        """``Uᵀ x`` for ``x`` of shape ``(m,)`` or ``(m, k)``."""
        return self.apply_unchecked(self.check_output(x, "x"), adjoint=True)

    def apply_unchecked(self, x: np.ndarray, adjoint: bool = False) -> np.ndarray:
        """``U x`` (or ``Uᵀ x``) for a clean C-contiguous float array (no validation).

        For the layers above, which validate once and then apply many times.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement apply_unchecked")

    # -- structure -----------------------------------------------------------
    def todense(self) -> np.ndarray:
        """The ``(m, n)`` matrix, by applying the operator to the identity. O(m n) memory."""
        check_memory(8 * (self.m + self.n) * self.n, f"the dense {self.shape} matrix of {type(self).__name__}",
                     "apply the operator with apply()/apply_T()")
        return np.ascontiguousarray(self.apply_unchecked(np.eye(self.n), adjoint=False))

    def norm(self) -> float:
        """Spectral norm (largest singular value), from the dense matrix: O(m n min(m, n))."""
        return float(np.linalg.norm(self.todense(), 2))

    def gram(self) -> np.ndarray:
        """``U Uᵀ`` as a dense ``(m, m)`` matrix (from :meth:`gram_first_row` when the basis is circulant)."""
        check_memory(8 * self.m * self.m, f"U Uᵀ of shape ({self.m}, {self.m})",
                     "use an operator with a basis (CircularConv) and its gram_first_row()")
        if self.basis is not None and self.basis.circulant:
            return self.basis.matrix_from_first_row(self.gram_first_row())
        D = self.todense()
        return D @ D.T

    def gram_first_row(self) -> np.ndarray:
        """First row of ``U Uᵀ``; defined for operators whose ``basis`` diagonalises ``U Uᵀ``."""
        raise NotImplementedError(
            f"{type(self).__name__} has no basis: U Uᵀ has no structured first row; use gram()"
        )

    def direct_taps(self) -> tuple[np.ndarray, int | tuple[int, int]] | None:
        """``(taps, center)`` when ``U`` is a circular convolution applied by direct taps, else ``None``.

        In 1-D the taps have shape ``(L,)`` and the centre is an int; in 2-D
        (:class:`~ntk_toolkit.operators.CircularConv2D`) shape ``(L1, L2)`` and
        a pair. The fused Numba kernels (forward pass, gradient,
        gradient-descent step, bit-packed kernel) run exactly when this is
        not ``None``.
        """
        return None


def as_operator(op, name: str = "operator") -> Operator:
    """An :class:`Operator` for ``op``: itself, or a wrapper around an :class:`OperatorLike` object.

    The wrapper validates inputs, calls ``op.apply`` / ``op.apply_T`` and
    takes ``shape``, ``grid_shape``, ``norm``, ``todense`` and ``basis``
    from ``op`` when it has them (otherwise the :class:`Operator` defaults,
    and ``basis = None``).

    Examples
    --------
    >>> class Scale:
    ...     n = 2
    ...     def apply(self, x): return 3.0 * x
    ...     def apply_T(self, x): return 3.0 * x
    >>> op = as_operator(Scale())
    >>> op.shape, op.norm(), op.todense().tolist()
    ((2, 2), 3.0, [[3.0, 0.0], [0.0, 3.0]])
    """
    if isinstance(op, Operator):
        return op
    if not isinstance(op, OperatorLike):
        missing = [a for a in ("n", "apply", "apply_T") if not hasattr(op, a)]
        raise TypeError(
            f"{name} must be an ntk_toolkit Operator (CircularConv, DenseOperator, …) or an object with "
            f"n, apply and apply_T; got {type(op).__name__} without {', '.join(map(repr, missing))}"
        )
    return _WrappedOperator(op)


class _WrappedOperator(Operator):
    """:class:`Operator` interface around a user's :class:`OperatorLike` object."""

    def __init__(self, op):
        self.wrapped = op
        self.n = check_int("operator.n", op.n, minimum=1)
        shape = tuple(getattr(op, "shape", (self.n, self.n)))
        if len(shape) != 2 or shape[1] != self.n:
            raise ValueError(f"operator.shape must be (m, n={self.n}), got {shape}")
        self._m = int(shape[0])
        self.basis = getattr(op, "basis", None)

    @property
    def m(self) -> int:
        return self._m

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return tuple(getattr(self.wrapped, "grid_shape", (self.n,)))

    def apply_unchecked(self, x, adjoint=False):
        out = (self.wrapped.apply_T if adjoint else self.wrapped.apply)(x)
        return np.ascontiguousarray(out, dtype=np.float64)

    def todense(self):
        if hasattr(self.wrapped, "todense"):
            return as_float_array("operator.todense()", self.wrapped.todense(), shape=self.shape)
        return super().todense()

    def norm(self):
        return float(self.wrapped.norm()) if hasattr(self.wrapped, "norm") else super().norm()

    def gram_first_row(self):
        if hasattr(self.wrapped, "gram_first_row"):
            return np.asarray(self.wrapped.gram_first_row(), dtype=np.float64)
        return super().gram_first_row()

    def __repr__(self) -> str:
        return f"as_operator({self.wrapped!r})"


class CircularConv(Operator):
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

    #: Kept for code written against earlier releases: ``basis is not None`` (circulant ``U``).
    is_circulant = True

    def __init__(self, filter: Filter, n: int, method: str = "auto"):
        if getattr(filter, "ndim", 1) == 2:
            raise TypeError(
                f"filter must be a 1-D ntk_toolkit.filters.Filter, got the 2-D {filter!r}; "
                "use CircularConv2D(filter, (H, W)) for images"
            )
        if not isinstance(filter, Filter):
            raise TypeError(
                f"filter must be an ntk_toolkit.filters.Filter, got {type(filter).__name__}; "
                "build one with triangle(p), gaussian(std), box(w), delta() or Filter(taps)"
            )
        self.n = check_int("n", n, minimum=1)
        check_memory(8 * self.n, f"a circular convolution of length n={self.n} (its first column and "
                     "frequency response)", "use a smaller n")
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
        self.basis = TrigBasis(self.n)

    # -- structure -----------------------------------------------------------
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
        return self.basis.matrix_from_first_row(self._column).T.copy()

    # -- application ---------------------------------------------------------
    def direct_taps(self) -> tuple[np.ndarray, int] | None:
        """``(taps, center)`` when applied by direct taps (the fused kernels' path), else ``None``."""
        return (self.taps, self.center) if self.method == "direct" else None

    def apply_unchecked(self, x: np.ndarray, adjoint: bool = False) -> np.ndarray:
        """``U x`` or ``Uᵀ x`` for a clean C-contiguous float array (no validation)."""
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


class DenseOperator(Operator):
    """An arbitrary fixed ``n x n`` matrix ``U`` (no circulant shortcuts, ``basis = None``).

    Parameters
    ----------
    U : array_like, shape (n, n)
        The matrix; finite, square.

    Examples
    --------
    >>> op = DenseOperator(np.array([[1.0, 2.0], [0.0, 1.0]]))
    >>> op.apply(np.array([1.0, 1.0])).tolist(), op.apply_T(np.array([1.0, 1.0])).tolist()
    ([3.0, 1.0], [1.0, 3.0])
    """

    is_circulant = False

    def __init__(self, U):
        U = as_float_array("U", U, ndim=2)
        if U.shape[0] != U.shape[1]:
            raise ValueError(f"U must be square (n, n), got shape {U.shape}")
        self.U = U
        self.n = U.shape[0]

    def norm(self) -> float:
        """Spectral norm ``‖U‖`` (largest singular value). Cost O(n³)."""
        return float(np.linalg.norm(self.U, 2))

    def gram(self) -> np.ndarray:
        """``U Uᵀ``, shape (n, n)."""
        check_memory(8 * self.n * self.n, f"U Uᵀ of shape ({self.n}, {self.n})", "use a CircularConv operator")
        return self.U @ self.U.T

    def todense(self) -> np.ndarray:
        """A copy of ``U``."""
        return self.U.copy()

    def apply_unchecked(self, x: np.ndarray, adjoint: bool = False) -> np.ndarray:
        """``U x`` or ``Uᵀ x`` (BLAS), no validation."""
        return (self.U.T if adjoint else self.U) @ x

    def __repr__(self) -> str:
        return f"DenseOperator(n={self.n})"


def __getattr__(name: str):
    # The measurement operators live in ntk_toolkit.measurements; they are
    # still reachable from here, as in earlier releases.
    if name in _MEASUREMENT_NAMES:
        from . import measurements

        return getattr(measurements, name)
    if name == "CircularConv2D":  # defined in ntk_toolkit.convolution2d, which builds on this module
        from . import convolution2d

        return convolution2d.CircularConv2D
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_MEASUREMENT_NAMES = ("GaussianMeasurement", "RandomMask", "SubsampledDCT", "MatrixMeasurement", "Identity",
                      "as_measurement")
