"""The real plane-wave basis of ``H x W`` images (``docs/theory.md`` §2.4).

:class:`TrigBasis2D` is the 2-D counterpart of :class:`ntk_toolkit.bases.TrigBasis`,
with the same interface; it is the ``basis`` of
:class:`ntk_toolkit.operators.CircularConv2D` and also reachable as
``ntk_toolkit.bases.TrigBasis2D``.
"""

from __future__ import annotations

import functools

import numpy as np

from ._memory import check_memory
from ._validation import as_float_array, check_int
from .bases import SIN

__all__ = ["TrigBasis2D"]


@functools.lru_cache(maxsize=8)
def _plane_wave_tables(H: int, W: int) -> dict:
    """Frequency labels and ``rfft2`` positions of the basis functions of :class:`TrigBasis2D` (cached, read-only)."""
    n = H * W
    # the signed frequencies s1 in [0, H/2], s2 in (−W/2, W/2], in (s1, s2) order; canonical ones kept
    lo = (W - 1) // 2
    s1, s2 = np.meshgrid(np.arange(H // 2 + 1), np.arange(-lo, W // 2 + 1), indexing="ij")
    edge1 = (s1 == 0) | (2 * s1 == H)
    canon = ~edge1 | (s2 >= 0)
    real_only = edge1 & ((2 * s2) % W == 0)
    c1, c2, cself = s1[canon], s2[canon], real_only[canon]
    width = np.where(cself, 1, 2)
    first = np.concatenate(([0], np.cumsum(width)[:-1]))  # basis index of each frequency's first function
    # position of each canonical frequency in the rfft2 layout (H, W//2 + 1), and whether it is mirrored there
    half = W // 2 + 1
    mirrored = c2 < 0
    pos_f = np.where(mirrored, ((-c1) % H) * half - c2, c1 * half + c2)
    scale_f = np.where(cself, 1.0 / np.sqrt(n), np.sqrt(2.0 / n))
    kinds = np.zeros(n, dtype=np.int8)
    kinds[first[~cself] + 1] = SIN
    sign = np.ones(n)
    sign[first[~cself] + 1] = np.where(mirrored[~cself], 1.0, -1.0)  # ⟨w^sin, x⟩ = −Im x̂(f), x̂(f) = conj at a mirror
    t = {
        "frequencies": np.repeat(np.stack([c1, c2], axis=1).astype(np.int64), width, axis=0),
        "pair_frequencies": np.stack([c1, c2], axis=1).astype(np.int64),
        "kinds": kinds,
        "position": np.repeat(pos_f, width),
        "sign": sign,
        "scale": np.repeat(scale_f, width),
        "pair_position": pos_f,
        "pair_real_only": cself,
        "first": first,
        "index": (np.cumsum(canon.ravel()) - 1).reshape(canon.shape),  # grid (s1, s2 + lo) -> frequency
    }
    for v in t.values():
        v.setflags(write=False)
    return t


@functools.lru_cache(maxsize=8)
def _synthesis_tables(H: int, W: int) -> dict:
    """For each ``rfft2`` cell: the basis indices of its frequency's cos and sin functions and their weights."""
    n = H * W
    t = _plane_wave_tables(H, W)
    lo = (W - 1) // 2
    p1, p2 = np.meshgrid(np.arange(H), np.arange(W // 2 + 1), indexing="ij")
    s1 = np.where(p1 <= H // 2, p1, p1 - H)
    mirror = s1 < 0  # the cell holds x̂(−f) = conj x̂(f) of the canonical f = (−s1, −p2)
    c2 = np.where(mirror, -p2, p2)
    c2[2 * c2 == -W] = W // 2  # −W/2 ≡ W/2
    j = t["index"][np.abs(s1), lo + c2].ravel()
    real_only = t["pair_real_only"][j]
    first = t["first"][j]
    out = {
        "cos": first,
        "sin": first + ~real_only,
        "sin_weight": np.where(real_only, 0.0, np.where(mirror.ravel(), 1.0, -1.0)),
        "scale": np.where(real_only, np.sqrt(n), np.sqrt(n / 2.0)),
    }
    for v in out.values():
        v.setflags(write=False)
    return out


class TrigBasis2D:
    """The real orthonormal plane-wave basis of ``H x W`` images (``docs/theory.md`` §2.4).

    Images are flattened row-major, pixel ``m = (m1, m2)`` at index
    ``m1·W + m2``; ``n = H·W``. For a frequency ``f = (f1, f2)`` write
    ``θ_f(m) = 2π (f1 m1 / H + f2 m2 / W)``. The frequencies ``f`` and ``−f``
    (mod ``(H, W)``) form a pair; for one representative of each pair the
    basis has the two functions

    ``√(2/n) cos θ_f`` and ``√(2/n) sin θ_f``,

    and for each of the (up to four) frequencies with ``f ≡ −f`` (both
    ``2 f1 ≡ 0 mod H`` and ``2 f2 ≡ 0 mod W``) the single function
    ``cos θ_f / √n`` (values ±1/√n). These ``n`` functions diagonalise every
    real symmetric block-circulant matrix with circulant blocks,
    ``M[i, j] = s((j1 − i1) mod H, (j2 − i2) mod W)`` with ``s(d) = s(−d)``
    (e.g. ``U Uᵀ`` and ``Σ`` of a 2-D circular convolution): both functions
    of ``f`` have the eigenvalue ``λ(f) = Σ_d s(d) cos θ_f(d)`` (eq. (2.13)).
    Products of 1-D cosines and sines would not do: ``cos(a) cos(b)`` mixes
    ``(f1, f2)`` with ``(f1, −f2)``, which share an eigenvalue only for
    axis-symmetric kernels.

    Canonical frequencies (the representative of each pair), signed:
    ``f1 ∈ [0, H/2]``; ``f2 ∈ (−W/2, W/2]`` when ``0 < f1 < H/2``, and
    ``f2 ∈ [0, W/2]`` on the edges ``f1 = 0`` and ``f1 = H/2``. Basis order:
    by ``f1``, then ``f2``, the cosine before the sine.

    Parameters
    ----------
    shape : tuple (H, W)
        Image shape, positive integers.

    Attributes
    ----------
    n : int
        ``H·W``.
    shape, grid_shape : tuple (H, W)
    ndim : int
        2: each basis function has a frequency ``(f1, f2)``.
    circulant : bool
        False: the matrices it diagonalises are block-circulant, not circulant
        in the flat index (their first row still determines them).

    Notes
    -----
    :meth:`analysis` and :meth:`synthesis` cost one ``rfft2`` / ``irfft2``
    (``O(n log n)`` per column) plus ``O(n)``; the label tables are built
    once per shape (``O(n)``, cached).

    Examples
    --------
    >>> import numpy as np
    >>> b = TrigBasis2D((2, 3))
    >>> b.frequencies().tolist(), b.kinds().tolist()
    ([[0, 0], [0, 1], [0, 1], [1, 0], [1, 1], [1, 1]], [0, 0, 1, 0, 0, 1])
    >>> x = np.arange(6.0)
    >>> bool(np.allclose(b.synthesis(b.analysis(x)), x))
    True
    >>> W = b.matrix()
    >>> bool(np.allclose(W.T @ W, np.eye(6)))
    True
    """

    ndim = 2
    circulant = False

    def __init__(self, shape):
        if (isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__")
            or getattr(shape, "ndim", 1) == 0 or len(shape) != 2):
            raise ValueError(f"shape must be a pair (H, W) of positive integers, got {shape!r}")
        H = check_int("shape[0] (H)", shape[0], minimum=1)
        W = check_int("shape[1] (W)", shape[1], minimum=1)
        self.shape = self.grid_shape = (H, W)
        self.n = H * W

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.shape == self.shape

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.shape))

    def __repr__(self) -> str:
        return f"TrigBasis2D(shape={self.shape})"

    def _tables(self) -> dict:
        return _plane_wave_tables(*self.shape)

    # ------------------------------------------------------------------ labels
    def frequencies(self) -> np.ndarray:
        """Canonical frequency ``(f1, f2)`` of each basis function in basis order, shape ``(n, 2)`` (read-only)."""
        return self._tables()["frequencies"]

    def kinds(self) -> np.ndarray:
        """:data:`COS` (also the real-only frequencies) or :data:`SIN` per basis function, shape ``(n,)``."""
        return self._tables()["kinds"]

    def pair_frequencies(self) -> np.ndarray:
        """The canonical frequencies, one per pair ``{f, −f}``, in basis order: shape ``(m, 2)``.

        The rows of :meth:`energy`. ``m = (n + r)/2`` with ``r`` (1, 2 or 4)
        real-only frequencies.
        """
        return self._tables()["pair_frequencies"]

    # ------------------------------------------------------------------ transforms
    def _check(self, name: str, x) -> np.ndarray:
        x = as_float_array(name, x, ndim=(1, 2))
        if x.shape[0] != self.n:
            raise ValueError(f"{name} must have {self.n} rows (H*W for shape {self.shape}), got shape {x.shape}")
        return x

    def _check_image(self, name: str, x) -> np.ndarray:
        """An ``(H, W)`` image flattened, or ``(n,)`` / ``(n, B)`` as given."""
        x = as_float_array(name, x, ndim=(1, 2))
        if x.ndim == 2 and x.shape == self.shape and x.shape[0] != self.n:
            return x.reshape(self.n)
        return self._check(name, x)

    def _rfft(self, x: np.ndarray) -> np.ndarray:
        H, W = self.shape
        X = x.reshape(H, W, -1)
        return np.fft.rfft2(X, axes=(0, 1)).reshape(H * (W // 2 + 1), -1)

    def analysis(self, x) -> np.ndarray:
        """Coefficients ``⟨w_i, x⟩`` in basis order, from one ``rfft2``.

        ``⟨w^cos_f, x⟩ = √(2/n) Re x̂(f)``, ``⟨w^sin_f, x⟩ = −√(2/n) Im x̂(f)``,
        with ``x̂(f) = Σ_m x[m] e^{−iθ_f(m)}``.

        Parameters
        ----------
        x : array_like, shape (n,) or (n, B)
            Flattened images (row-major), one per column.

        Returns
        -------
        ndarray, same shape as ``x``
        """
        x = self._check("x", x)
        t = self._tables()
        R = self._rfft(x)[t["position"]]
        out = np.where((t["kinds"] == SIN)[:, None], t["sign"][:, None] * R.imag, R.real)
        out *= t["scale"][:, None]
        return out.reshape(x.shape)

    def synthesis(self, coefficients) -> np.ndarray:
        """``Σ_i c_i w_i``, the inverse of :meth:`analysis` (one ``irfft2``).

        Parameters
        ----------
        coefficients : array_like, shape (n,) or (n, B)
            In basis order.

        Returns
        -------
        ndarray, same shape
        """
        c = self._check("coefficients", coefficients)
        H, W = self.shape
        t = _synthesis_tables(H, W)
        C = c.reshape(self.n, -1)
        R = C[t["cos"]] + 1j * (t["sin_weight"][:, None] * C[t["sin"]])
        R *= t["scale"][:, None]
        x = np.fft.irfft2(R.reshape(H, W // 2 + 1, -1), s=(H, W), axes=(0, 1))
        return x.reshape(c.shape)

    def matrix(self) -> np.ndarray:
        """The basis as the columns of an ``(n, n)`` matrix, evaluated entry by entry. Small cases only."""
        n = self.n
        H, W = self.shape
        check_memory(3 * 8 * n * n, f"the ({n}, {n}) plane-wave basis",
                     "use TrigBasis2D.analysis / synthesis, which work in O(n log n)")
        m1, m2 = np.divmod(np.arange(n), W)
        f = self.frequencies()
        ang = 2 * np.pi * (np.outer(m1, f[:, 0]) / H + np.outer(m2, f[:, 1]) / W)
        return np.where(self.kinds()[None, :] == SIN, np.sin(ang), np.cos(ang)) * self._tables()["scale"][None, :]

    def energy(self, x) -> np.ndarray:
        """Energy of ``x`` per frequency pair ``{f, −f}``, cos and sin summed.

        ``E_f = ⟨w^cos_f, x⟩² + ⟨w^sin_f, x⟩² = (2/n)|x̂(f)|²`` (``|x̂(f)|²/n``
        for a real-only frequency), in the order of :meth:`pair_frequencies`;
        invariant to rotations inside each pair, and ``Σ_f E_f = ‖x‖²``.

        Parameters
        ----------
        x : array_like, shape (H, W), (n,) or (n, B)
            An image, or flattened images as columns.

        Returns
        -------
        ndarray, shape (m,) or (m, B)
            ``m`` = number of pairs (rows of :meth:`pair_frequencies`).

        Examples
        --------
        >>> import numpy as np
        >>> b = TrigBasis2D((4, 4))
        >>> x = np.random.default_rng(0).standard_normal((4, 4))
        >>> bool(np.isclose(b.energy(x).sum(), np.sum(x**2)))
        True
        """
        x = self._check_image("x", x)
        t = self._tables()
        R = self._rfft(x)[t["pair_position"]]
        E = np.abs(R) ** 2 * (2.0 / self.n)
        E[t["pair_real_only"]] /= 2.0
        return E.reshape((-1,) + x.shape[1:])

    def radii(self) -> np.ndarray:
        """Radius ``ρ = min(H, W) · √((f1/H)² + (f2/W)²)`` of each frequency pair, shape ``(m,)``.

        In cycles per image side for square images (``ρ = |f|``); for
        rectangular ones, in cycles per length of the shorter side.
        """
        H, W = self.shape
        f = self.pair_frequencies()
        return min(H, W) * np.hypot(f[:, 0] / H, f[:, 1] / W)

    def radial_energy(self, x, bins=None) -> tuple[np.ndarray, np.ndarray]:
        """Energy of ``x`` against the radius of the frequency (:meth:`radii`), summed over rings.

        Parameters
        ----------
        x : array_like, shape (H, W), (n,) or (n, B)
        bins : int or None, default None
            ``None``: one ring per integer radius, the pairs with
            ``round(ρ) = r`` for ``r = 0, 1, …, round(ρ_max)``. An integer:
            that many rings of equal width on ``[0, ρ_max]`` (the last
            closed).

        Returns
        -------
        radius : ndarray, shape (R,)
            The integer radii, or the centres of the rings.
        energy : ndarray, shape (R,) or (R, B)
            Energy per ring; sums to ``‖x‖²``.

        Examples
        --------
        >>> import numpy as np
        >>> b = TrigBasis2D((8, 8))
        >>> m1, m2 = np.divmod(np.arange(64), 8)
        >>> r, E = b.radial_energy(np.cos(2 * np.pi * (m1 + m2) / 8))  # |f| = √2
        >>> int(r[np.argmax(E)]), round(float(E.sum()), 10)
        (1, 32.0)
        """
        E = self.energy(x)
        rho = self.radii()
        if bins is None:
            idx = np.rint(rho).astype(np.int64)
            radius = np.arange(int(idx.max()) + 1, dtype=np.float64)
        else:
            nb = check_int("bins", bins, minimum=1)
            edges = np.linspace(0.0, float(rho.max()) or 1.0, nb + 1)
            idx = np.clip(np.searchsorted(edges, rho, side="right") - 1, 0, nb - 1)
            radius = 0.5 * (edges[:-1] + edges[1:])
        out = np.zeros((radius.size,) + E.shape[1:])
        np.add.at(out, idx, E)
        return radius, out

    # ------------------------------------------------------------------ matrices it diagonalises
    def check_first_row(self, first_row, name: str = "first_row") -> np.ndarray:
        """Validate the first row of a symmetric block-circulant matrix: ``s(d) = s(−d)`` on the ``(H, W)`` grid."""
        s = as_float_array(name, first_row, shape=(self.n,))
        H, W = self.shape
        S = s.reshape(H, W)
        sym = np.roll(S[::-1, ::-1], (1, 1), axis=(0, 1))  # sym[d] = S[−d mod (H, W)]
        scale = max(float(np.max(np.abs(s))), np.finfo(float).tiny)
        if float(np.max(np.abs(S - sym))) > 1e-12 * scale:
            raise ValueError(f"{name} must be symmetric (s[d1, d2] == s[-d1, -d2] on the {self.shape} grid) "
                             "for a symmetric block-circulant matrix")
        return s

    def eigenvalues_by_frequency(self, first_row) -> np.ndarray:
        """``λ(f1, f2) = Σ_d s(d) cos θ_f(d)`` (eq. (2.13)) in the ``rfft2`` layout: shape ``(H, W//2 + 1)``.

        Entry ``[f1, f2]`` for ``f1 = 0 … H−1`` (unsigned: ``H − f1`` is
        ``−f1``) and ``f2 = 0 … W//2``; the other half follows from
        ``λ(−f) = λ(f)``. The real part of the ``rfft2`` of the first row
        reshaped ``(H, W)``.
        """
        H, W = self.shape
        return np.fft.rfft2(self.check_first_row(first_row).reshape(H, W)).real

    def eigenvalues(self, first_row) -> np.ndarray:
        """Eigenvalue of each basis function (basis order) of the matrix with this first row, shape ``(n,)``."""
        return self.expand(self.eigenvalues_by_frequency(first_row))

    def expand(self, by_frequency) -> np.ndarray:
        """The eigenvalue of each basis function (basis order) from :meth:`eigenvalues_by_frequency`'s output."""
        return np.asarray(by_frequency).ravel()[self._tables()["position"]]

    def matrix_from_first_row(self, first_row) -> np.ndarray:
        """The dense block-circulant ``M[i, j] = s((j1 − i1) mod H, (j2 − i2) mod W)``. Small cases and tests."""
        s = np.asarray(first_row)
        n = self.n
        H, W = self.shape
        check_memory(16 * n * n, f"the dense ({n}, {n}) block-circulant matrix",
                     "work with its first row (block-circulant structure) or the spectrum instead")
        S = s.reshape(H, W)
        w = np.arange(W)
        blocks = S[:, (w[None, :] - w[:, None]) % W]  # blocks[d1] = the circulant W x W block of offset d1
        h = np.arange(H)
        M = blocks[(h[None, :] - h[:, None]) % H]  # (I, J, i2, j2) -> block (J − I) mod H
        return np.ascontiguousarray(M.transpose(0, 2, 1, 3)).reshape(n, n)
