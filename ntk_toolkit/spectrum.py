"""Spectra of kernels, the real trigonometric basis, and per-frequency energy.

For a circulant kernel (``Σ`` of a generator with a :class:`CircularConv`) the
eigenvectors are the real trigonometric functions and the eigenvalues are the
real DFT of the first row (``docs/theory.md`` §2.3); :func:`spectrum` then costs
O(n log n) and never builds an ``n x n`` array. For any other symmetric matrix
it uses ``scipy.linalg.eigh``.

Cos/sin pairs of the same frequency share an eigenvalue, so eigenvectors are
only defined up to a rotation inside each pair: compare them as subspaces
(:func:`frequency_energy`, projectors), never one by one.

Images (a generator with :class:`~ntk_toolkit.operators.CircularConv2D`) work the same
way in the real plane-wave basis :class:`~ntk_toolkit.bases.TrigBasis2D`
(``docs/theory.md`` §2.4): frequencies are pairs ``(f1, f2)``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from . import _lazy
from ._memory import check_memory
from ._validation import as_float_array, check_int, check_kernel_matrix, renamed_argument
from .bases import COS, SIN, TrigBasis
from .generator import is_generator
from .kernels import expected_kernel, expected_kernel_first_row

__all__ = ["Spectrum", "as_spectrum", "spectrum", "basis_spectrum", "circulant_spectrum", "trig_basis",
           "frequency_energy", "COS", "SIN"]


@dataclass(frozen=True, eq=False)
class Spectrum:
    """Eigen-decomposition of a symmetric kernel, eigenvalues in decreasing order.

    Attributes
    ----------
    eigenvalues : ndarray, shape (n,)
        Decreasing.
    method : str
        ``"circulant-fft"`` (from the first row, in the basis of the
        operator) or ``"eigh"`` (dense eigensolver).
    frequencies : ndarray of int, shape (n, d), or None
        With a basis, the frequency of each eigenvalue's basis function
        (``d = 1`` in 1-D: ``f = 0 … n//2``).
    kinds : ndarray of int, shape (n,), or None
        With a basis, :data:`COS` (0, also DC and Nyquist) or :data:`SIN` (1).
    eigenvalues_by_frequency : ndarray or None
        With a basis, the eigenvalue of each frequency (1-D: ``λ_f`` for
        ``f = 0 … n//2``, shape ``(n//2 + 1,)``).
    basis : object or None
        The eigenbasis (e.g. :class:`~ntk_toolkit.bases.TrigBasis`), ``None``
        for a dense spectrum whose eigenvectors are stored.
    positions : ndarray of int, shape (n,), or None
        With a basis, the position in basis order of each eigenvalue's basis function.

    Examples
    --------
    >>> import numpy as np
    >>> s = circulant_spectrum([2.0, 1.0, 0.0, 1.0])
    >>> s.eigenvalues.tolist(), s.frequencies[:, 0].tolist()
    ([4.0, 2.0, 2.0, 0.0], [0, 1, 1, 2])
    >>> x = np.array([1.0, 0.0, 0.0, 0.0])
    >>> bool(np.allclose(s.synthesize(s.project(x)), x))
    True
    """

    eigenvalues: np.ndarray
    method: str
    frequencies: np.ndarray | None = None
    kinds: np.ndarray | None = None
    eigenvalues_by_frequency: np.ndarray | None = None
    basis: object | None = None
    positions: np.ndarray | None = None
    _vectors: np.ndarray | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return int(self.eigenvalues.shape[0])

    @property
    def is_circulant(self) -> bool:
        """True when the spectrum comes from an eigenbasis (``basis is not None``), not a dense eigensolver."""
        return self.basis is not None

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
        return self.basis.analysis(x)[self.positions]

    def synthesize(self, coefficients) -> np.ndarray:
        """``Σ_i c_i w_i``: the inverse of :meth:`project`.

        Parameters
        ----------
        coefficients : array_like, shape (n,) or (n, B)
        """
        c = self._check_x(coefficients, "coefficients")
        if self._vectors is not None:
            return self._vectors @ c
        in_basis_order = np.empty_like(c)
        in_basis_order[self.positions] = c
        return self.basis.synthesis(in_basis_order)

    def apply_kernel(self, x) -> np.ndarray:
        """``K x = W diag(max(λ, 0)) Wᵀ x`` for ``x`` of shape ``(n,)`` or ``(n, B)`` (negative rounding clipped)."""
        return self.synthesize(np.maximum(self.eigenvalues, 0.0)[:, None] * self.project(x)
                               if np.ndim(x) == 2 else np.maximum(self.eigenvalues, 0.0) * self.project(x))

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

    Examples
    --------
    ``W`` is orthogonal and ``Wᵀ S W`` is diagonal for a symmetric circulant
    ``S``:

    >>> import numpy as np
    >>> from ntk_toolkit import trig_basis
    >>> W, f = trig_basis(6, return_frequencies=True)
    >>> f.tolist()
    [0, 1, 1, 2, 2, 3]
    >>> bool(np.allclose(W.T @ W, np.eye(6)))
    True
    >>> S = np.array([np.roll([3.0, 1.0, 0.0, 0.0, 0.0, 1.0], i) for i in range(6)])
    >>> D = W.T @ S @ W
    >>> bool(np.allclose(D, np.diag(np.diag(D)))), np.diag(D).round(12).tolist()
    (True, [5.0, 4.0, 4.0, 2.0, 2.0, 1.0])
    """
    basis = TrigBasis(n)
    W = basis.matrix()
    return (W, basis.frequencies()[:, 0].astype(int)) if return_frequencies else W


def frequency_energy(x, shape=None) -> np.ndarray:
    """Energy of ``x`` per frequency, cos and sin summed.

    ``E_f = ⟨w_f^c, x⟩² + ⟨w_f^s, x⟩²`` for ``f = 0 … n//2`` (``docs/theory.md``
    eq. (2.12)); invariant to the
    rotation inside each degenerate pair, and ``Σ_f E_f = ‖x‖²`` (Parseval).

    For images pass ``shape=(H, W)``: then ``E_f`` is the energy per frequency
    pair ``{f, −f}`` of the real plane-wave basis (``docs/theory.md`` §2.4),
    in the order of ``TrigBasis2D(shape).pair_frequencies()``; its radial
    profile is :meth:`~ntk_toolkit.bases.TrigBasis2D.radial_energy`.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, B); with ``shape``, also (H, W)
        Signals as columns. Without ``shape`` a 2-D array is always a stack
        of 1-D signals, never an image.
    shape : tuple (H, W), optional
        Image shape; ``x`` is then one ``(H, W)`` image, or flattened
        (row-major) images of ``n = H·W`` pixels as columns.

    Returns
    -------
    ndarray, shape (n//2 + 1,) or (n//2 + 1, B); with ``shape``, (m,) or (m, B)
        ``m`` = number of frequency pairs of the image.

    Examples
    --------
    A cosine of frequency 3 has all its energy at ``f = 3``, also after a
    circular shift (which rotates it inside the cos/sin pair); the energies
    sum to ``‖x‖²``:

    >>> import numpy as np
    >>> from ntk_toolkit import frequency_energy, signals
    >>> x = signals.trig(16, 3)
    >>> e = frequency_energy(x)
    >>> e.shape, int(np.argmax(e)), round(float(e.sum()), 12)
    ((9,), 3, 1.0)
    >>> bool(np.allclose(frequency_energy(np.roll(x, 1)), e))
    True

    An image: the energy per frequency pair, summing to ``‖x‖²``:

    >>> img = np.random.default_rng(0).standard_normal((4, 6))
    >>> E = frequency_energy(img, shape=(4, 6))
    >>> E.shape, bool(np.isclose(E.sum(), np.sum(img**2)))
    ((14,), True)
    """
    if shape is not None:
        from .bases2d import TrigBasis2D

        basis = TrigBasis2D(shape)
        x = as_float_array("x", x, ndim=(1, 2))
        if x.shape != basis.shape and x.shape[0] != basis.n:
            raise ValueError(f"x must be an image of shape {basis.shape} or have {basis.n} rows "
                             f"(H*W for shape={basis.shape}), got shape {x.shape}")
        return basis.energy(_energy_in_range(x))
    x = as_float_array("x", x, ndim=(1, 2))
    if x.shape[0] == 0:
        raise ValueError(f"x must have at least one row, got shape {x.shape}")
    return TrigBasis(x.shape[0]).energy(_energy_in_range(x))


def _energy_in_range(x: np.ndarray) -> np.ndarray:
    """``x`` unchanged, or a ``ValueError`` naming it when its energy ``‖x‖²`` would overflow float64."""
    top = float(np.max(np.abs(x))) if x.size else 0.0
    if top * math.sqrt(max(x.size, 1)) >= 1e150:
        raise ValueError(f"x has entries up to {top:.3g}: its energy (a sum of squares) overflows float64; "
                         "rescale x (energies scale with its square)")
    return x


# --------------------------------------------------------------------------- spectra
def basis_spectrum(basis, first_row) -> Spectrum:
    """Spectrum of the symmetric matrix that ``basis`` diagonalises and whose first row is ``first_row``.

    The basis maps the first row to one eigenvalue per basis function (for
    :class:`~ntk_toolkit.bases.TrigBasis`: the real DFT of the row,
    ``docs/theory.md`` eq. (2.10)); they are sorted in decreasing order,
    ties by frequency and then cos before sin. Cost O(n log n), no
    ``n x n`` array.

    Parameters
    ----------
    basis : object
        An eigenbasis such as ``operator.basis``.
    first_row : array_like, shape (n,)

    Returns
    -------
    Spectrum

    Examples
    --------
    >>> from ntk_toolkit.bases import TrigBasis
    >>> basis_spectrum(TrigBasis(3), [1.0, 0.5, 0.5]).eigenvalues.tolist()
    [2.0, 0.5, 0.5]
    """
    if not all(hasattr(basis, a) for a in ("eigenvalues_by_frequency", "expand", "frequencies", "kinds")):
        raise TypeError(f"basis must be a TrigBasis or TrigBasis2D, got {type(basis).__name__}")
    lam_by_f = basis.eigenvalues_by_frequency(first_row)
    lam = basis.expand(lam_by_f)
    freqs, kinds = basis.frequencies(), basis.kinds()
    if _in_frequency_order(freqs, kinds):  # ties keep the basis order: a stable sort is the lexsort below
        order = np.argsort(-lam, kind="stable")
    else:
        keys = (kinds,) + tuple(freqs[:, d] for d in range(freqs.shape[1] - 1, -1, -1)) + (-lam,)
        order = np.lexsort(keys)
    return Spectrum(eigenvalues=lam[order], method="circulant-fft", frequencies=freqs[order], kinds=kinds[order],
                    eigenvalues_by_frequency=lam_by_f, basis=basis, positions=order)


def _in_frequency_order(freqs: np.ndarray, kinds: np.ndarray) -> bool:
    """True when the rows ``(f_1, …, f_d, kind)`` are lexicographically non-decreasing (O(n d))."""
    decided = np.zeros(max(kinds.shape[0] - 1, 0), dtype=bool)
    for key in [freqs[:, d] for d in range(freqs.shape[1])] + [kinds]:
        step = np.diff(key.astype(np.int64))
        if np.any(step[~decided] < 0):
            return False
        decided |= step > 0
    return True


def circulant_spectrum(first_row) -> Spectrum:
    """Spectrum of the symmetric circulant matrix with the given first row.

    ``λ_f = Σ_d s_d cos(2πfd/n)`` (real DFT of the first row, ``docs/theory.md``
    eq. (2.10)), each ``0 < f < n/2`` twice (cos and sin). Cost O(n log n).

    Parameters
    ----------
    first_row : array_like, shape (n,)
        Must satisfy ``s_d = s_{n−d}`` (symmetric circulant).

    Returns
    -------
    Spectrum
        In the trigonometric basis (:class:`~ntk_toolkit.bases.TrigBasis`).

    Examples
    --------
    >>> circulant_spectrum([1.0, 0.25, 0.0, 0.25]).eigenvalues.tolist()
    [1.5, 1.0, 1.0, 0.5]
    """
    s = as_float_array("first_row", first_row, ndim=1)
    if s.size == 0:
        raise ValueError("first_row must contain at least one value (the kernel's first row), got an empty array")
    return basis_spectrum(TrigBasis(s.shape[0]), s)


@renamed_argument("obj", "kernel")
def as_spectrum(kernel, omega: float = 1.0) -> Spectrum:
    """The spectrum of "a kernel": a kernel matrix, a :class:`Spectrum` or a generator.

    The one converter behind every function that takes a ``kernel``
    argument (:func:`ntk_toolkit.linearized`, :func:`ntk_toolkit.recovery_law`, …).

    Parameters
    ----------
    kernel : ndarray of shape (n, n), Spectrum or Generator
        * a generator: the spectrum of its expected kernel ``Σ``. When its
          operator has a ``basis`` (a circulant ``U``) this is computed from
          ``Σ``'s first row in that basis (O(n log n), no ``n x n`` array,
          ``docs/theory.md`` §2.3, eq. (2.10)); otherwise by ``eigh`` of the
          dense ``Σ`` (O(n³)) — never by an FFT that the operator does not justify.
        * a symmetric matrix: ``scipy.linalg.eigh`` (O(n³)).
        * a Spectrum: returned unchanged.
    omega : float, default 1.0
        With a generator: the standard deviation of the entries of ``C``
        (``gen.init(seed, omega)``), on which ``Σ`` depends unless the
        activation is positively homogeneous and the output layer fixed.
        Must stay 1.0 for a matrix or a Spectrum.

    Returns
    -------
    Spectrum

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import TwoLayerGenerator
    >>> from ntk_toolkit.filters import delta
    >>> from ntk_toolkit.operators import CircularConv
    >>> s = as_spectrum(TwoLayerGenerator(CircularConv(delta(), 8), k=2))
    >>> s.method, s.eigenvalues.round(12).tolist()
    ('circulant-fft', [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    >>> as_spectrum(np.diag([1.0, 3.0])).eigenvalues.tolist()
    [3.0, 1.0]
    """
    if is_generator(kernel):
        op = getattr(kernel, "operator", None)
        if op is not None and op.basis is not None:
            return basis_spectrum(op.basis, expected_kernel_first_row(kernel, omega))
        return _eigh_spectrum(expected_kernel(kernel, omega))
    if not isinstance(omega, numbers.Real) or omega != 1.0:
        raise ValueError(f"omega applies to a generator (the scale of its initialisation), got omega={omega!r} "
                         f"with a {type(kernel).__name__}; leave omega=1.0")
    if isinstance(kernel, Spectrum):
        return kernel
    if isinstance(kernel, (np.ndarray, list, tuple)):
        return _eigh_spectrum(check_kernel_matrix("kernel", kernel))
    raise TypeError(
        "kernel must be a symmetric (n, n) array, a Spectrum or a generator (for its expected kernel Σ), "
        f"got {type(kernel).__name__}"
    )


@renamed_argument("obj", "kernel")
def spectrum(kernel, omega: float = 1.0) -> Spectrum:
    """Eigenvalues (decreasing) and eigenvectors of a kernel: the same as :func:`as_spectrum`.

    Parameters
    ----------
    kernel : TwoLayerGenerator, ndarray of shape (n, n), or Spectrum
        See :func:`as_spectrum`; with a generator, the spectrum of its
        expected kernel ``Σ`` (O(n log n) for a circulant operator).
    omega : float, default 1.0
        With a generator: the initialisation scale ``ω`` of ``Σ``
        (:func:`ntk_toolkit.expected_kernel`).

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
    >>> s = spectrum(TwoLayerGenerator(CircularConv(delta(), 8), k=2, activation="erf"), omega=0.5)
    >>> s.eigenvalues.round(6).tolist()[:2]  # (4/π) / √(1 + 4ω²): flat for the δ filter
    [0.900316, 0.900316]
    """
    return as_spectrum(kernel, omega)


def _eigh_spectrum(K: np.ndarray) -> Spectrum:
    n = K.shape[0]
    check_memory(3 * 8 * n * n, f"the eigendecomposition of a ({n}, {n}) kernel",
                 "use a circulant operator, whose spectrum takes O(n log n) (spectrum(gen))")
    w, V = _lazy.linalg().eigh(K)
    w, V = w[::-1].copy(), np.ascontiguousarray(V[:, ::-1])
    return Spectrum(eigenvalues=w, method="eigh", _vectors=V)
