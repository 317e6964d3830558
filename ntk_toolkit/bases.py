"""Eigenbases that diagonalise structured operators.

An operator that is diagonalised by a known orthonormal basis carries it as
its ``basis`` attribute (``None`` for a general operator, see
:class:`ntk_toolkit.operators.Operator`). The basis owns everything that
depends on it:

* the analysis (coefficients of a signal) and the synthesis (its inverse),
  both in O(n log n);
* the map from the first row of a matrix it diagonalises to that matrix's
  eigenvalues, and the frequency label of each basis function;
* the dense matrix with a given first row, for small cases and tests.

A kernel built from such an operator (``U Uᵀ``, the expected kernel ``Σ``)
is diagonalised by the same basis, so :func:`ntk_toolkit.spectrum` computes
its spectrum from one row; a kernel of an operator whose ``basis`` is
``None`` goes through a dense eigensolver instead, never through an FFT
that would be wrong for it.

:class:`TrigBasis` is the real trigonometric basis of ``R^n`` that
diagonalises every symmetric circulant matrix (``docs/theory.md`` §2.3);
:class:`TrigBasis2D` (defined in :mod:`ntk_toolkit.bases2d`, reachable from
here) is the real plane-wave basis of ``H x W`` images that diagonalises every
symmetric block-circulant matrix with circulant blocks (2-D circular
convolutions, ``docs/theory.md`` §2.4).
"""

from __future__ import annotations

import numpy as np

from ._memory import check_memory
from ._validation import as_float_array, check_int

__all__ = ["TrigBasis", "TrigBasis2D", "COS", "SIN"]  # noqa: F822 (TrigBasis2D resolved lazily)

#: Kind of a trigonometric basis function: cosine (also DC and Nyquist) or sine.
COS, SIN = 0, 1


class TrigBasis:
    """The real orthonormal trigonometric basis of ``R^n`` (``docs/theory.md`` §2.3, eq. (2.11)).

    Basis functions in frequency order: ``w_0 = 1/√n``; for ``1 <= f < n/2``
    the pair ``√(2/n) cos(2πfm/n)``, ``√(2/n) sin(2πfm/n)``; for even ``n``
    the Nyquist function ``(−1)^m/√n`` last. It diagonalises every symmetric
    circulant matrix ``M[i, j] = s[(j − i) mod n]`` (``s_d = s_{n−d}``), with
    eigenvalue ``λ_f = Σ_d s_d cos(2πfd/n)`` on both functions of frequency
    ``f`` (eq. (2.10)).

    Parameters
    ----------
    n : int
        Signal length, ``>= 1``.

    Attributes
    ----------
    n : int
    grid_shape : tuple (n,)
    ndim : int
        1: one frequency per basis function.
    circulant : bool
        True: the matrices it diagonalises are circulant in the flat index,
        ``M[i, j] = s[(j − i) mod n]``.

    Examples
    --------
    >>> import numpy as np
    >>> b = TrigBasis(6)
    >>> x = np.arange(6.0)
    >>> bool(np.allclose(b.synthesis(b.analysis(x)), x))
    True
    >>> b.frequencies()[:, 0].tolist(), b.kinds().tolist()
    ([0, 1, 1, 2, 2, 3], [0, 0, 1, 0, 1, 0])
    """

    ndim = 1
    circulant = True

    def __init__(self, n: int):
        self.n = check_int("n", n, minimum=1)
        self.grid_shape = (self.n,)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.n == self.n

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.n))

    def __repr__(self) -> str:
        return f"TrigBasis(n={self.n})"

    # ------------------------------------------------------------------ labels
    def frequencies(self) -> np.ndarray:
        """Frequency of each basis function in basis order, shape ``(n, 1)``, values ``0 … n//2`` (cached)."""
        if self.__dict__.get("_frequencies") is None:
            n = self.n
            half = (n - 1) // 2
            f = np.concatenate([[0], np.repeat(np.arange(1, half + 1), 2), [n // 2] if n % 2 == 0 else []])
            f = f.astype(np.int64)[:, None]
            f.flags.writeable = False
            self._frequencies = f
        return self._frequencies

    def kinds(self) -> np.ndarray:
        """:data:`COS` or :data:`SIN` for each basis function in basis order, shape ``(n,)`` (read-only, cached)."""
        if self.__dict__.get("_kinds") is None:
            kinds = np.zeros(self.n, dtype=np.int8)
            kinds[2:2 * ((self.n - 1) // 2) + 1:2] = SIN
            kinds.flags.writeable = False
            self._kinds = kinds
        return self._kinds

    # ------------------------------------------------------------------ transforms
    def _check(self, name: str, x) -> np.ndarray:
        x = as_float_array(name, x, ndim=(1, 2))
        if x.shape[0] != self.n:
            raise ValueError(f"{name} must have {self.n} rows, got shape {x.shape}")
        return x

    def analysis(self, x) -> np.ndarray:
        """Coefficients ``⟨w_i, x⟩`` in basis order, by one real FFT.

        Parameters
        ----------
        x : array_like, shape (n,) or (n, B)

        Returns
        -------
        ndarray, same shape as ``x``
            O(n log n) per column.
        """
        x = self._check("x", x)
        n = self.n
        X = np.fft.rfft(x, axis=0)
        out = np.empty(x.shape)
        out[0] = X[0].real / np.sqrt(n)
        half = (n - 1) // 2  # frequencies 1..half have cos and sin
        s = np.sqrt(2.0 / n)
        out[1:2 * half + 1:2] = s * X[1:half + 1].real
        out[2:2 * half + 2:2] = -s * X[1:half + 1].imag
        if n % 2 == 0:
            out[n - 1] = X[n // 2].real / np.sqrt(n)
        return out

    def synthesis(self, coefficients) -> np.ndarray:
        """``Σ_i c_i w_i``, the inverse of :meth:`analysis`.

        Parameters
        ----------
        coefficients : array_like, shape (n,) or (n, B)
            In basis order.

        Returns
        -------
        ndarray, same shape
        """
        c = self._check("coefficients", coefficients)
        n = self.n
        X = np.zeros((n // 2 + 1,) + c.shape[1:], dtype=complex)
        X[0] = c[0] * np.sqrt(n)
        half = (n - 1) // 2
        s = np.sqrt(n / 2.0)
        X[1:half + 1] = s * (c[1:2 * half + 1:2] - 1j * c[2:2 * half + 2:2])
        if n % 2 == 0:
            X[n // 2] = c[n - 1] * np.sqrt(n)
        return np.fft.irfft(X, n=n, axis=0)

    def matrix(self) -> np.ndarray:
        """The basis as the columns of an ``(n, n)`` matrix. O(n²) memory: small cases only."""
        n = self.n
        check_memory(8 * n * n, f"the ({n}, {n}) trigonometric basis",
                     "use TrigBasis.analysis / synthesis, which work in O(n log n)")
        m = np.arange(n)[:, None]
        freqs = self.frequencies()[:, 0]
        ang = 2 * np.pi * m * freqs[None, :] / n
        W = np.where(self.kinds()[None, :] == SIN, np.sin(ang), np.cos(ang)) * np.sqrt(2.0 / n)
        W[:, 0] = 1.0 / np.sqrt(n)
        if n % 2 == 0:
            W[:, -1] = np.where(np.arange(n) % 2 == 0, 1.0, -1.0) / np.sqrt(n)
        return W

    def energy(self, x) -> np.ndarray:
        """Energy of ``x`` per frequency, cos and sin summed (eq. (2.12)).

        Parameters
        ----------
        x : array_like, shape (n,) or (n, B)

        Returns
        -------
        ndarray, shape (n//2 + 1,) or (n//2 + 1, B)
            ``Σ_f E_f = ‖x‖²``.
        """
        x = self._check("x", x)
        n = self.n
        E = np.abs(np.fft.rfft(x, axis=0)) ** 2 * (2.0 / n)
        E[0] /= 2.0
        if n % 2 == 0:
            E[n // 2] /= 2.0
        return E

    # ------------------------------------------------------------------ matrices it diagonalises
    def check_first_row(self, first_row, name: str = "first_row") -> np.ndarray:
        """Validate the first row of a symmetric circulant matrix (``s_d = s_{n−d}``)."""
        s = as_float_array(name, first_row, shape=(self.n,))
        sym = s[(-np.arange(self.n)) % self.n]
        scale = max(float(np.max(np.abs(s))), np.finfo(float).tiny)
        if float(np.max(np.abs(s - sym))) > 1e-12 * scale:
            raise ValueError(f"{name} must be symmetric (s[d] == s[n - d]) for a symmetric circulant matrix")
        return s

    def eigenvalues_by_frequency(self, first_row) -> np.ndarray:
        """``λ_f = Σ_d s_d cos(2πfd/n)`` for ``f = 0 … n//2`` (eq. (2.10)): one real FFT, shape ``(n//2 + 1,)``."""
        return np.fft.rfft(self.check_first_row(first_row)).real

    def eigenvalues(self, first_row) -> np.ndarray:
        """Eigenvalue of each basis function (basis order) of the matrix with this first row, shape ``(n,)``."""
        return self.expand(self.eigenvalues_by_frequency(first_row))

    def expand(self, by_frequency) -> np.ndarray:
        """The eigenvalue of each basis function (basis order) from :meth:`eigenvalues_by_frequency`'s output."""
        return np.asarray(by_frequency)[self.frequencies()[:, 0]]

    def matrix_from_first_row(self, first_row) -> np.ndarray:
        """The dense circulant ``M[i, j] = s[(j − i) mod n]``. O(n²) memory: small cases and tests."""
        s = np.asarray(first_row)
        n = self.n
        check_memory(16 * n * n, f"the dense ({n}, {n}) circulant matrix",
                     "work with its first row (circulant structure) or the spectrum instead")
        idx = (np.arange(n)[None, :] - np.arange(n)[:, None]) % n
        return s[idx]



def __getattr__(name: str):
    # The 2-D basis lives in ntk_toolkit.bases2d (which builds on this module); reachable from here.
    if name == "TrigBasis2D":
        from . import bases2d

        return bases2d.TrigBasis2D
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
