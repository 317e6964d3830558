"""Spectra of kernels, the real trigonometric basis, and per-frequency energy.

For a circulant kernel (``Σ`` of a generator with a :class:`CircularConv`) the
eigenvectors are the real trigonometric functions and the eigenvalues are the
real DFT of the first row (``docs/theory.md`` §2.3); :func:`spectrum` then costs
O(n log n) and never builds an ``n x n`` array. For any other symmetric matrix
it uses ``scipy.linalg.eigh``.

Cos/sin pairs of the same frequency share an eigenvalue, so eigenvectors are
only defined up to a rotation inside each pair: compare them as subspaces
(:func:`frequency_energy`, projectors), never one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _lazy
from ._memory import check_memory
from ._validation import as_float_array, check_int

__all__ = ["Spectrum", "spectrum", "circulant_spectrum", "trig_basis", "frequency_energy"]

COS, SIN = 0, 1


@dataclass(frozen=True, eq=False)
class Spectrum:
    """Eigen-decomposition of a symmetric kernel, eigenvalues in decreasing order.

    Attributes
    ----------
    eigenvalues : ndarray, shape (n,)
        Decreasing.
    method : str
        ``"circulant-fft"`` or ``"eigh"``.
    frequencies : ndarray of int, shape (n,), or None
        For a circulant kernel, the frequency ``f`` (0 … n//2) of each eigenvalue.
    kinds : ndarray of int, shape (n,), or None
        For a circulant kernel, 0 for the cosine (or DC / Nyquist) function and
        1 for the sine function of that frequency.
    eigenvalues_by_frequency : ndarray, shape (n//2 + 1,), or None
        For a circulant kernel, ``λ_f`` for ``f = 0 … n//2``.
    """

    eigenvalues: np.ndarray
    method: str
    frequencies: np.ndarray | None = None
    kinds: np.ndarray | None = None
    eigenvalues_by_frequency: np.ndarray | None = None
    _vectors: np.ndarray | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return int(self.eigenvalues.shape[0])

    @property
    def is_circulant(self) -> bool:
        return self.frequencies is not None

    @property
    def eigenvectors(self) -> np.ndarray:
        """Orthonormal eigenvectors as columns, shape ``(n, n)``, in eigenvalue order.

        For a circulant kernel they are generated on demand from the
        trigonometric basis (O(n²) memory).
        """
        if self._vectors is not None:
            return self._vectors
        n = self.n
        check_memory(8 * n * n, f"the ({n}, {n}) eigenvector matrix",
                     "use Spectrum.project / Spectrum.synthesize, which work in O(n log n)")
        return self.synthesize(np.eye(n))

    def eigenvector(self, i: int) -> np.ndarray:
        """The ``i``-th eigenvector (0-based, eigenvalue order), shape ``(n,)``."""
        i = check_int("i", i, minimum=0)
        if i >= self.n:
            raise ValueError(f"i must be < n={self.n}, got {i}")
        if self._vectors is not None:
            return self._vectors[:, i].copy()
        e = np.zeros(self.n)
        e[i] = 1.0
        return self.synthesize(e)

    def _check_x(self, x, name="x"):
        x = as_float_array(name, x, ndim=(1, 2))
        if x.shape[0] != self.n:
            raise ValueError(f"{name} must have {self.n} rows, got shape {x.shape}")
        return x

    def project(self, x) -> np.ndarray:
        """Coefficients ``⟨w_i, x⟩`` in eigenvalue order.

        Parameters
        ----------
        x : array_like, shape (n,) or (n, B)

        Returns
        -------
        ndarray, same shape as ``x``
            O(n log n) per column for circulant spectra, O(n²) otherwise.
        """
        x = self._check_x(x)
        if self._vectors is not None:
            return self._vectors.T @ x
        return _trig_analysis(x)[self._order()]

    def synthesize(self, coefficients) -> np.ndarray:
        """``Σ_i c_i w_i``: the inverse of :meth:`project`.

        Parameters
        ----------
        coefficients : array_like, shape (n,) or (n, B)
        """
        c = self._check_x(coefficients, "coefficients")
        if self._vectors is not None:
            return self._vectors @ c
        freq_ordered = np.empty_like(c)
        freq_ordered[self._order()] = c
        return _trig_synthesis(freq_ordered)

    def apply_kernel(self, x) -> np.ndarray:
        """``K x = W diag(max(λ, 0)) Wᵀ x`` for ``x`` of shape ``(n,)`` or ``(n, B)`` (negative rounding clipped)."""
        return self.synthesize(np.maximum(self.eigenvalues, 0.0)[:, None] * self.project(x)
                               if np.ndim(x) == 2 else np.maximum(self.eigenvalues, 0.0) * self.project(x))

    def _order(self) -> np.ndarray:
        """Map eigenvalue index -> index in the frequency-ordered trig basis."""
        f, kind = self.frequencies, self.kinds
        pos = np.where(f == 0, 0, 2 * f - 1 + kind)
        return pos

    def energy_in_top(self, x, p: int, relative: bool = False) -> float:
        """Energy ``Σ_{i<p} ⟨w_i, x⟩²`` of ``x`` in the top-``p`` eigenspace.

        Parameters
        ----------
        x : array_like, shape (n,)
        p : int
            ``0 <= p <= n``; "top" means the ``p`` largest eigenvalues. If ``p``
            splits a degenerate cos/sin pair the value depends on the basis.
        relative : bool, default False
            Divide by ``‖x‖²``.
        """
        p = check_int("p", p, minimum=0)
        if p > self.n:
            raise ValueError(f"p must be <= n={self.n}, got {p}")
        x = self._check_x(x)
        if x.ndim != 1:
            raise ValueError(f"x must be a vector of shape ({self.n},), got {x.shape}")
        c = self.project(x)
        e = float(np.sum(c[:p] ** 2))
        if relative:
            total = float(x @ x)
            if total == 0:
                raise ValueError("x is zero: the relative energy is undefined")
            e /= total
        return e

    def to_dict(self) -> dict:
        d = {"n": self.n, "method": self.method, "eigenvalues": self.eigenvalues.tolist()}
        if self.is_circulant:
            d["frequencies"] = self.frequencies.tolist()
            d["kinds"] = ["cos" if k == COS else "sin" for k in self.kinds]
            d["eigenvalues_by_frequency"] = self.eigenvalues_by_frequency.tolist()
        return d


# --------------------------------------------------------------------------- trig basis
def _trig_analysis(x: np.ndarray) -> np.ndarray:
    """Coefficients in the frequency-ordered basis [DC, c1, s1, c2, s2, …, (Nyquist)]."""
    n = x.shape[0]
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


def _trig_synthesis(c: np.ndarray) -> np.ndarray:
    n = c.shape[0]
    X = np.zeros((n // 2 + 1,) + c.shape[1:], dtype=complex)
    X[0] = c[0] * np.sqrt(n)
    half = (n - 1) // 2
    s = np.sqrt(n / 2.0)
    X[1:half + 1] = s * (c[1:2 * half + 1:2] - 1j * c[2:2 * half + 2:2])
    if n % 2 == 0:
        X[n // 2] = c[n - 1] * np.sqrt(n)
    return np.fft.irfft(X, n=n, axis=0)


def trig_basis(n: int, return_frequencies: bool = False):
    """Real orthonormal trigonometric basis of ``R^n`` (``docs/theory.md`` §2.3, eq. (2.11)).

    Columns in frequency order: ``w_0 = 1/√n``; for ``1 <= f < n/2`` the pair
    ``√(2/n) cos(2πfm/n)``, ``√(2/n) sin(2πfm/n)``; for even ``n`` the Nyquist
    column ``(−1)^m/√n`` last. It diagonalises every symmetric circulant matrix.

    Parameters
    ----------
    n : int
    return_frequencies : bool, default False
        Also return the frequency of each column.

    Returns
    -------
    W : ndarray, shape (n, n)
    frequencies : ndarray of int, shape (n,), only if ``return_frequencies``
    """
    n = check_int("n", n, minimum=1)
    check_memory(8 * n * n, f"the ({n}, {n}) trigonometric basis",
                 "use frequency_energy or Spectrum.project, which work in O(n log n)")
    m = np.arange(n)[:, None]
    freqs = np.concatenate([[0], np.repeat(np.arange(1, (n - 1) // 2 + 1), 2),
                            [n // 2] if n % 2 == 0 else []]).astype(int)
    kinds = np.zeros(n, dtype=int)
    kinds[2:2 * ((n - 1) // 2) + 1:2] = SIN
    ang = 2 * np.pi * m * freqs[None, :] / n
    W = np.where(kinds[None, :] == SIN, np.sin(ang), np.cos(ang)) * np.sqrt(2.0 / n)
    W[:, 0] = 1.0 / np.sqrt(n)
    if n % 2 == 0:
        W[:, -1] = np.where(np.arange(n) % 2 == 0, 1.0, -1.0) / np.sqrt(n)
    return (W, freqs) if return_frequencies else W


def frequency_energy(x) -> np.ndarray:
    """Energy of ``x`` per frequency, cos and sin summed.

    ``E_f = ⟨w_f^c, x⟩² + ⟨w_f^s, x⟩²`` for ``f = 0 … n//2`` (``docs/theory.md``
    eq. (2.12)); invariant to the
    rotation inside each degenerate pair, and ``Σ_f E_f = ‖x‖²`` (Parseval).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, B)

    Returns
    -------
    ndarray, shape (n//2 + 1,) or (n//2 + 1, B)
    """
    x = as_float_array("x", x, ndim=(1, 2))
    n = x.shape[0]
    if n == 0:
        raise ValueError(f"x must have at least one row, got shape {x.shape}")
    X = np.fft.rfft(x, axis=0)
    E = np.abs(X) ** 2 * (2.0 / n)
    E[0] /= 2.0
    if n % 2 == 0:
        E[n // 2] /= 2.0
    return E


# --------------------------------------------------------------------------- spectra
def circulant_spectrum(first_row) -> Spectrum:
    """Spectrum of the symmetric circulant matrix with the given first row.

    ``λ_f = Σ_d s_d cos(2πfd/n)`` (real DFT of the first row, ``docs/theory.md``
    eq. (2.10)), each
    ``0 < f < n/2`` twice (cos and sin). Cost O(n log n).

    Parameters
    ----------
    first_row : array_like, shape (n,)
        Must satisfy ``s_d = s_{n−d}`` (symmetric circulant).
    """
    s = as_float_array("first_row", first_row, ndim=1)
    n = s.shape[0]
    sym = s[(-np.arange(n)) % n]
    scale = max(float(np.max(np.abs(s))), np.finfo(float).tiny)
    if float(np.max(np.abs(s - sym))) > 1e-12 * scale:
        raise ValueError("first_row must be symmetric (s[d] == s[n - d]) for a symmetric circulant matrix")
    lam_f = np.fft.rfft(s).real
    half = (n - 1) // 2
    freqs = np.concatenate([[0], np.repeat(np.arange(1, half + 1), 2),
                            [n // 2] if n % 2 == 0 else []]).astype(np.int64)
    kinds = np.zeros(n, dtype=np.int8)
    kinds[2:2 * half + 1:2] = SIN
    lam = lam_f[freqs]
    order = np.lexsort((kinds, freqs, -lam))
    return Spectrum(eigenvalues=lam[order], method="circulant-fft", frequencies=freqs[order],
                    kinds=kinds[order], eigenvalues_by_frequency=lam_f)


def spectrum(obj) -> Spectrum:
    """Eigenvalues (decreasing) and eigenvectors of a kernel.

    Parameters
    ----------
    obj : TwoLayerGenerator, ndarray of shape (n, n), or Spectrum
        * a generator: the spectrum of its expected kernel ``Σ``. With a
          circulant operator this is the FFT of ``Σ``'s first row
          (O(n log n), no ``n x n`` array, eigenvectors = trigonometric basis,
          ``docs/theory.md`` §2.3, eq. (2.10)); otherwise ``eigh`` of the dense ``Σ``.
        * a symmetric matrix: ``scipy.linalg.eigh`` (O(n³)).
        * a Spectrum: returned unchanged.

    Returns
    -------
    Spectrum

    Examples
    --------
    >>> from ntk_toolkit import TwoLayerGenerator, spectrum
    >>> from ntk_toolkit.filters import delta
    >>> from ntk_toolkit.operators import CircularConv
    >>> s = spectrum(TwoLayerGenerator(CircularConv(delta(), 8), k=2))
    >>> s.eigenvalues.round(12).tolist()
    [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    """
    from .generator import TwoLayerGenerator
    from .kernels import _as_kernel_matrix, expected_kernel, expected_kernel_first_row

    if isinstance(obj, Spectrum):
        return obj
    if isinstance(obj, TwoLayerGenerator):
        if getattr(obj.operator, "is_circulant", False):
            return circulant_spectrum(expected_kernel_first_row(obj))
        return _eigh_spectrum(expected_kernel(obj))
    if isinstance(obj, (np.ndarray, list, tuple)):
        return _eigh_spectrum(_as_kernel_matrix("obj", obj))
    raise TypeError(
        f"obj must be a TwoLayerGenerator, a symmetric (n, n) array or a Spectrum, got {type(obj).__name__}"
    )


def _eigh_spectrum(K: np.ndarray) -> Spectrum:
    n = K.shape[0]
    check_memory(3 * 8 * n * n, f"the eigendecomposition of a ({n}, {n}) kernel",
                 "use a circulant operator, whose spectrum takes O(n log n) (spectrum(gen))")
    w, V = _lazy.linalg().eigh(K)
    w, V = w[::-1].copy(), np.ascontiguousarray(V[:, ::-1])
    return Spectrum(eigenvalues=w, method="eigh", _vectors=V)
