"""Measurement operators ``A`` (``m x n``) for compressive sensing, ``y = A x``.

Every operator has ``shape = (m, n)``, ``apply(x)`` (``x`` of shape ``(n,)`` or
``(n, B)``), ``apply_T(y)`` (the adjoint), ``todense()`` and ``norm()``
(spectral norm ``‖A‖``). They plug into :func:`ntk_toolkit.gradient_descent`,
:meth:`ntk_toolkit.TwoLayerGenerator.loss` / ``gradient`` and
:func:`ntk_toolkit.linearized` through the ``A=`` argument
(``docs/theory.md`` §1.2, §5).
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _lazy
from ._memory import check_memory
from ._validation import as_float_array, as_rng, check_int
from .operators import Operator

__all__ = ["GaussianMeasurement", "RandomMask", "SubsampledDCT", "SubsampledDCT2D", "MatrixMeasurement",
           "Identity", "as_measurement", "as_measurements"]


def _check_dense(m: int, n: int) -> None:
    check_memory(8 * m * n, f"the dense ({m}, {n}) measurement matrix",
                 "apply the operator with apply()/apply_T() instead of forming it")


class _Measurement(Operator):
    """Shared by the measurement operators: an :class:`~ntk_toolkit.operators.Operator` of shape ``(m, n)``
    that lets NaN and inf through (they are reported where the loss is computed)."""

    finite_input = False
    _output_rows = "the number of measurements m"

    @property
    def m(self) -> int:
        return self._m

    @m.setter
    def m(self, value: int) -> None:
        self._m = value

    def _x(self, x, name="x"):
        return self.check_input(x, name)

    def _y(self, y, name="y"):
        return self.check_output(y, name)

    def apply_unchecked(self, x, adjoint=False):
        return self.apply_T(x) if adjoint else self.apply(x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(m={self.m}, n={self.n})"


class MatrixMeasurement(_Measurement):
    """Measurement operator given by an explicit ``m x n`` matrix.

    Parameters
    ----------
    A : array_like, shape (m, n)
        The matrix; finite values.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.measurements import MatrixMeasurement
    >>> A = MatrixMeasurement([[1.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    >>> A.shape, A.norm()
    ((2, 3), 2.0)
    >>> A.apply([1.0, 2.0, 3.0]).tolist(), A.apply_T([1.0, 1.0]).tolist()
    ([4.0, 4.0], [1.0, 2.0, 1.0])

    ``apply`` also takes a batch of ``B`` signals as the columns of an ``(n, B)`` array:

    >>> A.apply(np.eye(3)).tolist() == A.todense().tolist()
    True
    """

    def __init__(self, A):
        A = as_float_array("A", A, ndim=2)
        if A.size == 0:
            raise ValueError(f"A must have at least one row (measurement) and one column, got shape {A.shape}")
        self.A = A
        self.m, self.n = A.shape
        self._norm = None

    def apply(self, x) -> np.ndarray:
        """``A x`` for ``x`` of shape ``(n,)`` or ``(n, B)``."""
        return self.A @ self._x(x)

    def apply_T(self, y) -> np.ndarray:
        """``Aᵀ y`` for ``y`` of shape ``(m,)`` or ``(m, B)``."""
        return self.A.T @ self._y(y)

    def todense(self) -> np.ndarray:
        return self.A.copy()

    def norm(self) -> float:
        """Spectral norm ``‖A‖`` (computed once)."""
        if self._norm is None:
            self._norm = float(np.linalg.norm(self.A, 2))
        return self._norm


class GaussianMeasurement(MatrixMeasurement):
    """Gaussian measurements: ``A`` with i.i.d. ``N(0, 1/m)`` entries (``E‖Ax‖² = ‖x‖²``).

    Parameters
    ----------
    m : int
        Number of measurements, ``1 <= m``.
    n : int
        Signal length.
    seed : int, numpy.random.Generator or None

    Notes
    -----
    ``‖A‖ ≈ 1 + √(n/m)`` (``docs/theory.md`` §1.2). Stored as a dense matrix
    (O(mn) memory), applied by BLAS.

    Examples
    --------
    ``apply_T`` is the adjoint of ``apply``, ``⟨A x, y⟩ = ⟨x, Aᵀ y⟩``:

    >>> import numpy as np
    >>> from ntk_toolkit.measurements import GaussianMeasurement
    >>> A = GaussianMeasurement(8, 32, seed=0)
    >>> rng = np.random.default_rng(1)
    >>> x, y = rng.standard_normal(32), rng.standard_normal(8)
    >>> bool(np.isclose(A.apply(x) @ y, x @ A.apply_T(y)))
    True

    Entries of variance ``1/m``, so ``E‖A x‖² = ‖x‖²``; the spectral norm is
    close to ``1 + √(n/m) = 3``:

    >>> bool(np.isclose(A.todense().var() * 8, 1.0, atol=0.2)), bool(2 < A.norm() < 4)
    (True, True)
    """

    def __init__(self, m: int, n: int, seed=None):
        m = check_int("m", m, minimum=1)
        n = check_int("n", n, minimum=1)
        check_memory(16 * m * n, f"a Gaussian ({m}, {n}) measurement matrix",
                     "use SubsampledDCT or RandomMask, which are applied without a matrix")
        A = as_rng(seed).standard_normal((m, n)) / np.sqrt(m)
        super().__init__(A)


class RandomMask(_Measurement):
    """Random pixel mask (inpainting): keep a random subset of the samples.

    Parameters
    ----------
    n : int
        Signal length.
    keep : float, optional
        Keep each sample independently with this probability (as in the
        authors' inpainting example, ``keep = 1/3``).
    m : int, optional
        Keep exactly ``m`` samples chosen uniformly without replacement.
        Give exactly one of ``keep`` and ``m``.
    seed : int, numpy.random.Generator or None

    Attributes
    ----------
    indices : ndarray of int, shape (m,)
        The kept samples, increasing. ``A = I[indices]``, ``‖A‖ = 1``.

    Examples
    --------
    ``apply`` keeps the samples at ``indices``; its adjoint puts them back and
    fills the others with zeros:

    >>> import numpy as np
    >>> from ntk_toolkit.measurements import RandomMask
    >>> A = RandomMask(8, m=3, seed=0)
    >>> x = np.arange(1.0, 9.0)
    >>> bool(np.array_equal(A.apply(x), x[A.indices]))
    True
    >>> z = A.apply_T(A.apply(x))
    >>> np.flatnonzero(z).tolist() == A.indices.tolist()
    True
    >>> A.shape, A.norm()
    ((3, 8), 1.0)

    With ``keep`` each sample is kept independently, so ``m`` is random,
    ``keep · n`` on average:

    >>> B = RandomMask(300, keep=1 / 3, seed=0)
    >>> B.shape == (B.indices.size, 300), bool(abs(B.m - 100) < 4 * np.sqrt(300 * 1 / 3 * 2 / 3))
    (True, True)
    """

    def __init__(self, n: int, keep: float | None = None, m: int | None = None, seed=None):
        self.n = check_int("n", n, minimum=1)
        check_memory(8 * self.n, f"a mask of length n={self.n}", "use a smaller n")
        rng = as_rng(seed)
        if (keep is None) == (m is None):
            raise ValueError(f"give exactly one of keep and m, got keep={keep!r}, m={m!r}")
        if keep is not None:
            if isinstance(keep, (bool, np.bool_)) or not isinstance(keep, numbers.Real):
                raise TypeError(f"keep must be a real probability in (0, 1], got {keep!r}")
            if not 0 < keep <= 1:
                raise ValueError(f"keep must be a probability in (0, 1], got {keep!r}")
            idx = np.flatnonzero(rng.random(self.n) < keep)
            if idx.size == 0:
                raise ValueError(f"keep={keep} kept no sample of n={self.n}; use a larger keep or m=")
        else:
            m = check_int("m", m, minimum=1)
            if m > self.n:
                raise ValueError(f"m must be <= n={self.n}, got {m}")
            idx = np.sort(rng.choice(self.n, size=m, replace=False))
        self.indices = idx.astype(np.int64)
        self.m = int(idx.size)

    def apply(self, x) -> np.ndarray:
        return self._x(x)[self.indices].copy()

    def apply_T(self, y) -> np.ndarray:
        y = self._y(y)
        out = np.zeros((self.n,) + y.shape[1:])
        out[self.indices] = y
        return out

    def todense(self) -> np.ndarray:
        """The ``m x n`` 0/1 matrix (O(mn) memory: small cases and tests)."""
        _check_dense(self.m, self.n)
        out = np.zeros((self.m, self.n))
        out[np.arange(self.m), self.indices] = 1.0
        return out

    def norm(self) -> float:
        return 1.0


class SubsampledDCT(_Measurement):
    """``m`` random rows of the orthonormal DCT-II, applied with ``scipy.fft`` in O(n log n).

    Parameters
    ----------
    m : int
        Number of measurements, ``1 <= m <= n``.
    n : int
    seed : int, numpy.random.Generator or None

    Attributes
    ----------
    indices : ndarray of int, shape (m,)
        The kept DCT frequencies, increasing. Rows are orthonormal, ``‖A‖ = 1``.

    Examples
    --------
    Orthonormal rows, ``A Aᵀ = I_m``, so ``A`` keeps the energy of the signal in
    the kept frequencies and ``apply_T`` recovers a signal made of them:

    >>> import numpy as np
    >>> from ntk_toolkit.measurements import SubsampledDCT
    >>> A = SubsampledDCT(4, 16, seed=0)
    >>> M = A.todense()
    >>> bool(np.allclose(M @ M.T, np.eye(4)))
    True
    >>> x = A.apply_T([1.0, -2.0, 0.5, 3.0])
    >>> bool(np.allclose(A.apply(x), [1.0, -2.0, 0.5, 3.0]))
    True
    >>> bool(np.allclose(A.apply(np.eye(16)), M))  # apply (FFT) agrees with the matrix
    True
    """

    def __init__(self, m: int, n: int, seed=None):
        self.m = check_int("m", m, minimum=1)
        self.n = check_int("n", n, minimum=1)
        if self.m > self.n:
            raise ValueError(f"m must be <= n={self.n}, got {self.m}")
        check_memory(8 * self.n, f"signals of length n={self.n}", "use a smaller n")
        self.indices = np.sort(as_rng(seed).choice(self.n, size=self.m, replace=False)).astype(np.int64)

    def apply(self, x) -> np.ndarray:
        return _lazy.fft().dct(self._x(x), type=2, norm="ortho", axis=0)[self.indices]

    def apply_T(self, y) -> np.ndarray:
        y = self._y(y)
        full = np.zeros((self.n,) + y.shape[1:])
        full[self.indices] = y
        return _lazy.fft().idct(full, type=2, norm="ortho", axis=0)

    def todense(self) -> np.ndarray:
        """The ``m x n`` matrix (O(mn) memory: small cases and tests).

        Row ``i`` is the orthonormal DCT-II basis function of frequency
        ``f = indices[i]``: ``s_f cos(π f (2t + 1) / (2n))``, ``s_0 = √(1/n)``,
        ``s_f = √(2/n)``.
        """
        _check_dense(self.m, self.n)
        f = np.asarray(self.indices, dtype=float)[:, None]
        t = np.arange(self.n, dtype=float)[None, :]
        scale = np.where(f == 0, np.sqrt(1.0 / self.n), np.sqrt(2.0 / self.n))
        return scale * np.cos(np.pi * f * (2.0 * t + 1.0) / (2.0 * self.n))

    def norm(self) -> float:
        return 1.0


class SubsampledDCT2D(_Measurement):
    """``m`` random coefficients of the orthonormal 2-D DCT-II of an ``H x W`` image, applied with
    ``scipy.fft.dctn`` / ``idctn`` in O(n log n), ``n = H W``.

    The image is the signal ``x = image.reshape(-1)`` (row-major, as everywhere in the
    toolkit). The 2-D DCT-II is separable, ``D_H X D_Wᵀ``, so row ``i`` of ``A`` is the
    product ``d_{f1}[t1] d_{f2}[t2]`` of two 1-D orthonormal DCT-II basis functions
    (:meth:`SubsampledDCT.todense`), flattened, for the coefficient
    ``(f1, f2) = divmod(indices[i], W)``.

    Parameters
    ----------
    m : int
        Number of measurements, ``1 <= m <= H W``.
    shape : (int, int)
        Image shape ``(H, W)``.
    seed : int, numpy.random.Generator or None

    Attributes
    ----------
    indices : ndarray of int, shape (m,)
        The kept coefficients as flat (row-major) indices into the ``(H, W)`` grid of
        frequencies, increasing. Rows are orthonormal, ``‖A‖ = 1``, so ``A⁺ = Aᵀ``.
    grid_shape : tuple (H, W)
    frequencies : ndarray of int, shape (m, 2)
        ``(f1, f2)`` of each kept coefficient (``f1`` along the height).

    Notes
    -----
    Cost: one ``dctn`` (``apply``) or ``idctn`` (``apply_T``) of the image, O(n log n), per
    column; no matrix is stored.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.measurements import SubsampledDCT2D
    >>> A = SubsampledDCT2D(5, (4, 6), seed=0)
    >>> A.shape, A.grid_shape, A.norm()
    ((5, 24), (4, 6), 1.0)
    >>> M = A.todense()
    >>> bool(np.allclose(M @ M.T, np.eye(5)))  # orthonormal rows
    True
    >>> img = np.random.default_rng(1).random((4, 6))
    >>> from scipy.fft import dctn
    >>> bool(np.allclose(A.apply(img.reshape(-1)), dctn(img, norm="ortho").reshape(-1)[A.indices]))
    True
    >>> bool(np.allclose(A.apply(np.eye(24)), M))  # apply (FFT) agrees with the matrix
    True
    """

    def __init__(self, m: int, shape, seed=None):
        if not isinstance(shape, (tuple, list)) or len(shape) != 2:
            raise TypeError(f"shape must be a pair (H, W) of positive ints, got {shape!r}")
        H = check_int("shape[0]", shape[0], minimum=1)
        W = check_int("shape[1]", shape[1], minimum=1)
        self._grid = (H, W)
        self.n = H * W
        self.m = check_int("m", m, minimum=1)
        if self.m > self.n:
            raise ValueError(f"m must be <= n={self.n} (the pixels of a {H}x{W} image), got {self.m}")
        self.indices = np.sort(as_rng(seed).choice(self.n, size=self.m, replace=False)).astype(np.int64)

    @property
    def grid_shape(self) -> tuple[int, int]:
        return self._grid

    @property
    def frequencies(self) -> np.ndarray:
        return np.stack(np.divmod(self.indices, self._grid[1]), axis=1)

    def apply(self, x) -> np.ndarray:
        x = self._x(x)
        coef = _lazy.fft().dctn(x.reshape(self._grid + x.shape[1:]), type=2, norm="ortho", axes=(0, 1))
        return coef.reshape(x.shape)[self.indices]

    def apply_T(self, y) -> np.ndarray:
        y = self._y(y)
        full = np.zeros((self.n,) + y.shape[1:])
        full[self.indices] = y
        img = _lazy.fft().idctn(full.reshape(self._grid + y.shape[1:]), type=2, norm="ortho", axes=(0, 1))
        return img.reshape(full.shape)

    def todense(self) -> np.ndarray:
        """The ``m x n`` matrix (O(mn) memory: small cases and tests): row ``i`` is
        ``d_{f1} ⊗ d_{f2}`` flattened, ``d_f[t] = s_f cos(π f (2t + 1) / (2N))``, ``s_0 = √(1/N)``,
        ``s_f = √(2/N)`` with ``N = H`` resp. ``W``."""
        _check_dense(self.m, self.n)
        H, W = self._grid

        def rows(f, N):
            f = np.asarray(f, dtype=float)[:, None]
            t = np.arange(N, dtype=float)[None, :]
            scale = np.where(f == 0, np.sqrt(1.0 / N), np.sqrt(2.0 / N))
            return scale * np.cos(np.pi * f * (2.0 * t + 1.0) / (2.0 * N))

        f1, f2 = np.divmod(self.indices, W)
        return (rows(f1, H)[:, :, None] * rows(f2, W)[:, None, :]).reshape(self.m, self.n)

    def norm(self) -> float:
        return 1.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(m={self.m}, shape={self._grid[0]}x{self._grid[1]})"


class Identity(_Measurement):
    """The identity measurement ``A = I_n`` (denoising).

    Parameters
    ----------
    n : int
        Signal length (``m = n``).

    Examples
    --------
    >>> from ntk_toolkit.measurements import Identity
    >>> A = Identity(3)
    >>> A.shape, A.apply([1.0, 2.0, 3.0]).tolist(), A.norm()
    ((3, 3), [1.0, 2.0, 3.0], 1.0)
    """

    def __init__(self, n: int):
        self.n = self.m = check_int("n", n, minimum=1)

    def apply(self, x) -> np.ndarray:
        return self._x(x).copy()

    def apply_T(self, y) -> np.ndarray:
        return self._y(y).copy()

    def todense(self) -> np.ndarray:
        _check_dense(self.n, self.n)
        return np.eye(self.n)

    def norm(self) -> float:
        return 1.0


def as_measurement(A, n: int, size: str = "the signal length is"):
    """Normalise a measurement argument.

    ``None`` stays ``None`` (identity, denoising); an array becomes a
    :class:`MatrixMeasurement`; an object with ``apply``, ``apply_T``,
    ``norm`` and ``shape`` is used as it is. Its number of columns must be ``n``.

    Parameters
    ----------
    A : None, array_like of shape (m, n), or measurement operator
    n : int
        The signal length ``A`` must accept.
    size : str, default "the signal length is"
        What sets ``n``, as the error on a mismatch says it (e.g. ``"kernel has size"``).

    Returns
    -------
    None or measurement operator

    Examples
    --------
    >>> from ntk_toolkit.measurements import RandomMask, as_measurement
    >>> as_measurement(None, 4) is None
    True
    >>> as_measurement([[1.0, 0.0, 0.0, 1.0]], 4)
    MatrixMeasurement(m=1, n=4)
    >>> mask = RandomMask(4, m=2, seed=0)
    >>> as_measurement(mask, 4) is mask
    True
    >>> as_measurement(mask, 5)
    Traceback (most recent call last):
    ...
    ValueError: A has shape (2, 4) but the signal length is n=5; A must have shape (m, 5)
    """
    if A is None:
        return None
    if isinstance(A, (np.ndarray, list, tuple)):
        A = MatrixMeasurement(A)
    for attr in ("apply", "apply_T", "norm", "shape"):
        if not hasattr(A, attr):
            raise TypeError(
                f"A must be None, an (m, n) array or a measurement operator with apply, "
                f"apply_T, norm and shape; got {type(A).__name__} without {attr!r}"
            )
    if A.shape[1] != n:
        raise ValueError(
            f"A has shape {tuple(A.shape)} but {size} n={n}; "
            f"A must have shape (m, {n})"
        )
    return A


def as_measurements(y, A, n: int, name: str = "y", size: str = "the signal length") -> np.ndarray:
    """``y`` as a finite float64 array of shape ``(m,)`` for the ``m`` rows of ``A`` (``(n,)`` without ``A``).

    ``A`` is anything :func:`as_measurement` takes (checked against ``n``).

    A length that does not match names both ``y`` and ``A`` (or what sets
    ``n``: ``size``, e.g. ``"the kernel's size"``), since either may be the
    wrong one.

    Examples
    --------
    >>> as_measurements([1.0, 2.0], np.ones((2, 3)), 3).tolist()
    [1.0, 2.0]
    >>> as_measurements([1.0, 2.0, 3.0], np.ones((2, 3)), 3)
    Traceback (most recent call last):
        ...
    ValueError: y must have shape (2,), got (3,): one entry per row of A (2 measurements)
    """
    A = as_measurement(A, n)
    m = n if A is None else int(A.shape[0])
    if np.ndim(y) == 1 and np.shape(y)[0] != m:
        where = (f"without A, its length must match {size} n={n}" if A is None
                 else f"one entry per row of A ({m} measurement{'s' if m != 1 else ''})")
        raise ValueError(f"{name} must have shape ({m},), got {np.shape(y)}: {where}")
    return as_float_array(name, y, shape=(m,))

