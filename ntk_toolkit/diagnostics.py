"""Regime diagnostics of a gradient-descent run (``docs/theory.md`` §9.1).

The linearized prediction holds while the weights move little relative to
their initial size, few activation signs flip, and the kernel ``K(C_τ)`` stays
close to ``K(C_0)``. :func:`ntk_toolkit.gradient_descent` with
``diagnostics=True`` records, at the recorded iterations,

* ``weight_change`` — ``‖C_τ − C_0‖_F / ‖C_0‖_F``;
* ``sign_flips`` — the fraction of entries of the activation pattern
  ``1{U C > 0}`` that differ from that of ``C_0``;
* ``kernel_drift`` — ``‖K(C_τ) − K(C_0)‖_F / ‖K(C_0)‖_F``;
* ``linearization_gap`` — ``‖G(C_τ) − f_τ‖ / s`` with ``f_τ`` the output of
  the linearized iteration at ``K(C_0)`` started from ``G(C_0)`` and
  ``s = max(‖y‖ / ‖A‖, ‖G(C_0)‖)`` (``‖y‖`` for denoising): the size of
  the smallest output that fits ``y``.

What they need of a generator: ``forward`` / ``vjp`` / ``jvp`` (the
protocol) for the kernel and the prediction; ``forward_pattern`` for the
sign flips (the pattern may be an array or a tuple of arrays, one per layer;
without it ``sign_flips`` is NaN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._memory import check_memory, memory_budget
from ._validation import as_rng

__all__ = ["DiagnosticsRecorder", "DENSE_MAX_N", "DENSE_DRIFT_MAX_N", "PROBES", "BAND_MAX_FRACTION",
           "pattern_signs", "linearized_outputs", "band_structure"]

#: ``method="auto"`` eigendecomposes ``A K(C_0) Aᵀ`` for the linearized outputs up to this
#: ``n``; above it they come from a Lanczos decomposition (products with the dense ``K(C_0)``
#: when it is formed). At ``(n, k) = (512, 2048)`` the eigendecomposition took 27 ms, about
#: 3.5 % of a 1000-step run; the Lanczos evaluation a few milliseconds.
DENSE_MAX_N = 256

#: ``method="auto"`` forms ``K(C_τ)`` for the kernel drift (the popcount kernel,
#: ``8 n²`` bytes each) up to this ``n`` when it fits the memory budget; above it
#: the drift is a Hutchinson estimate.
DENSE_DRIFT_MAX_N = 4096

#: The same for a generator other than the two-layer model, whose dense ``K``
#: is formed from ``n`` vector-Jacobian products.
GENERIC_DENSE_MAX_N = 256

#: Rademacher probes of the Hutchinson estimate of the kernel drift.
PROBES = 4

#: ``method="auto"`` takes the exact kernel drift on the band of ``U Uᵀ``
#: (:func:`band_structure`) instead of forming ``K`` when at most this fraction
#: of the offsets of ``U Uᵀ`` is nonzero (a filter much shorter than the signal).
BAND_MAX_FRACTION = 1 / 8

#: Largest Krylov dimension of the Lanczos evaluation of the linearized outputs.
MAX_KRYLOV = 200


def pattern_signs(pattern) -> np.ndarray | None:
    """The activation pattern as one flat boolean array (``None`` when there is none).

    Examples
    --------
    >>> pattern_signs((np.array([[1, 0]]), np.array([0.5, 0.0]))).tolist()
    [True, False, True, False]
    """
    if pattern is None:
        return None
    parts = pattern if isinstance(pattern, (tuple, list)) else (pattern,)
    return np.concatenate([np.asarray(p).ravel() > 0 for p in parts])


def band_structure(gen):
    """Where ``U Uᵀ`` is nonzero, for the drift of a two-layer ReLU convolution: ``(H, W, d1, d2, a)`` or ``None``.

    For a :class:`~ntk_toolkit.CircularConv` (``H = 1``, ``W = n``) or a
    :class:`~ntk_toolkit.CircularConv2D` on an ``H x W`` grid, ``U Uᵀ[i, j] =
    a[(j1 − i1) mod H, (j2 − i2) mod W]`` (its first row); ``(d1, d2)`` are the
    offsets where ``a`` is nonzero and ``a`` their values. With ReLU and equal
    ``v_l² = s`` the kernel is ``K[i, j] = s · N[i, j] · U Uᵀ[i, j]``
    (``docs/theory.md`` §2.1) and vanishes off these offsets, so
    ``‖K(C) − K(C_0)‖_F² = s² Σ_i Σ_q a_q² (N[i, j_q] − N_0[i, j_q])²`` is
    exact from the counts on the band (:func:`ntk_toolkit._kernels.diag.band_counts`).
    ``None`` for another generator, activation or operator, unequal or
    trained output weights.

    Examples
    --------
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator
    >>> from ntk_toolkit.filters import triangle
    >>> H, W, d1, d2, a = band_structure(TwoLayerGenerator(CircularConv(triangle(2), 16), k=4))
    >>> H, W, d2.tolist()
    (1, 16, [0, 1, 2, 14, 15])
    """
    from .activations import as_activation
    from .convolution2d import CircularConv2D
    from .operators import CircularConv

    op = getattr(gen, "operator", None)
    if not (isinstance(op, (CircularConv, CircularConv2D)) and hasattr(gen, "output_weights")
            and hasattr(gen, "activation")) or getattr(gen, "train_output", False):
        return None
    v2 = np.asarray(gen.output_weights, dtype=float) ** 2
    if not (as_activation(gen.activation).is_relu and v2.size and np.all(v2 == v2[0])):
        return None
    H, W = (1, int(op.n)) if isinstance(op, CircularConv) else tuple(int(s) for s in op.grid_shape)
    a = np.asarray(op.gram_first_row(), dtype=np.float64).reshape(-1)
    idx = np.flatnonzero(a)
    d1, d2 = np.divmod(idx, W)
    return H, W, d1.astype(np.int64), d2.astype(np.int64), a[idx]


def _pack(pattern) -> np.ndarray:
    """The signs ``pattern > 0`` (shape ``(n, k)``) packed 64 channels to a word, shape ``(n, ⌈k/64⌉)``."""
    from ._jit import threads_for
    from ._kernels import gram

    Z = np.ascontiguousarray(pattern)
    P = np.zeros((Z.shape[0], (Z.shape[1] + 63) // 64), dtype=np.uint64)
    with threads_for(Z.size):
        gram.pack_signs(Z, 0, P)
    return P


def _band_counts(pattern, band, P0=None):
    """The counts ``N[i, j_q]`` of the activation pattern ``pattern > 0`` (shape ``(n, k)``) on the band, the
    number of signs that differ from the packed pattern ``P0`` (0 without it), and the packed pattern."""
    from ._jit import threads_for
    from ._kernels import diag

    H, W, d1, d2 = band[:4]
    P = _pack(pattern)
    n = P.shape[0]
    out = np.empty((n, d1.size), dtype=np.int64)
    flips = np.empty(n, dtype=np.int64)
    with threads_for(n * (d1.size + 1) * P.shape[1]):
        diag.band_counts(P, P if P0 is None else P0, H, W, d1, d2, out, flips)
    return out, int(np.sum(flips)), P


def _half_band(band):
    """One offset of each pair ``±d`` of a band (``U Uᵀ`` is symmetric: ``a_d = a_{−d}``), with its
    multiplicity: ``(H, W, d1, d2, a, mult)``, ``mult`` 2 for a pair, 1 for an offset equal to its negative."""
    H, W, d1, d2, a = band
    idx = d1 * W + d2
    neg = ((-d1) % H) * W + (-d2) % W
    keep = idx <= neg
    return H, W, d1[keep], d2[keep], a[keep], np.where(idx[keep] == neg[keep], 1.0, 2.0)


def _apply_A(A, x):
    return x if A is None else A.apply(x)


def _apply_AT(A, x):
    return x if A is None else np.ascontiguousarray(A.apply_T(x), dtype=np.float64)


def _h_matrix(theta, eta: float, taus) -> np.ndarray:
    """``h_τ(θ_i) = (1 − (1 − ηθ_i)^τ)/θ_i`` (``ητ`` at ``θ_i = 0``) for each ``τ`` (rows) and ``θ_i`` (columns)."""
    taus = np.asarray(taus, dtype=float)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        safe = np.where(theta > 0, theta, 1.0)[None, :]
        return np.where(theta[None, :] > 0, (1.0 - np.power(1.0 - eta * theta[None, :], taus)) / safe, eta * taus)


def linearized_outputs(Q, theta, Z, coeffs, f0, eta: float, taus) -> np.ndarray:
    """``f_τ = f_0 − Z diag(h_τ(θ)) c`` with ``h_τ(μ) = (1 − (1 − ημ)^τ)/μ`` (``ητ`` at ``μ = 0``), shape ``(T, n)``.

    ``Q`` (unused but for the shape) are orthonormal vectors with
    ``Qᵀ M Q = diag(θ)``, ``Z = K Aᵀ Q`` and ``c = Qᵀ r_0`` for the
    residual ``r_0 = A f_0 − y`` (``docs/theory.md`` §5.1).

    Examples
    --------
    With ``K = diag(1, 0)``, ``η = ½``, ``f_0 = 0`` and ``y = (1, 1)``: after two
    steps the first component is ``1 − ¼``, the second is never fitted.

    >>> Q = np.eye(2)
    >>> linearized_outputs(Q, np.array([1.0, 0.0]), np.diag([1.0, 0.0]), np.array([-1.0, -1.0]),
    ...                    np.zeros(2), 0.5, [2]).tolist()
    [[0.75, 0.0]]
    """
    taus = np.asarray(taus, dtype=float)
    out = np.empty((taus.size, f0.size))
    with np.errstate(over="ignore", invalid="ignore"):
        q = 1.0 - eta * theta
        for i, t in enumerate(taus):
            h = np.where(theta > 0, (1.0 - np.power(q, t)) / np.where(theta > 0, theta, 1.0), eta * t)
            out[i] = f0 - Z @ (h * coeffs)
    return out


def _lanczos(prod, r0: np.ndarray, m: int, converged=None):
    """Lanczos with full reorthogonalisation from ``r0``: ``(Q, T, P)`` with ``P[:, j] = K Aᵀ q_j``.

    ``converged(T, P)``, when given, is asked every 4 steps from step 16 on
    whether to stop. The vectors are kept as rows (contiguous for BLAS) in
    arrays that grow by doubling, from 32 rows (memory-guarded at each
    growth), and returned as columns.
    """
    dim = r0.size
    beta0 = float(np.linalg.norm(r0))
    Q = P = None
    alpha, beta = [], []
    q = r0 / beta0
    j = 0
    for j in range(m):
        z, w = prod(q)  # z = K Aᵀ q_j, w = A z = M q_j
        if Q is None or j == Q.shape[0]:
            rows = min(m, 32 if Q is None else 2 * Q.shape[0])
            check_memory(8 * rows * (dim + z.size), f"the Lanczos vectors of the regime diagnostics ({rows} of "
                         f"sizes {dim} and {z.size})", "use gradient_descent(..., diagnostics=False)")
            Q = np.concatenate([Q, np.empty((rows - Q.shape[0], dim))]) if Q is not None else np.empty((rows, dim))
            P = np.concatenate([P, np.empty((rows - P.shape[0], z.size))]) if P is not None else \
                np.empty((rows, z.size))
        Q[j] = q
        P[j] = z
        a = float(q @ w)
        alpha.append(a)
        w = w - (Q[:j + 1] @ w) @ Q[:j + 1]
        w = w - (Q[:j + 1] @ w) @ Q[:j + 1]
        b = float(np.linalg.norm(w))
        if j + 1 == m or b <= 1e-12 * max(abs(a), 1e-300):
            break
        if converged is not None and j >= 15 and (j + 1) % 4 == 0:
            T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
            if converged(T, P[:j + 1].T, beta0):
                break
        beta.append(b)
        q = w / b
    size = j + 1
    T = np.diag(alpha) + np.diag(beta[:size - 1], 1) + np.diag(beta[:size - 1], -1)
    return Q[:size].T, T, P[:size].T, beta0


def _relative_distance(X: np.ndarray, X0: np.ndarray, norm0: float) -> float:
    """``‖X − X0‖_F / norm0`` (NaN when ``norm0 = 0``): one parallel pass reading each array once."""
    if not norm0 > 0:
        return math.nan
    from ._jit import threads_for
    from ._kernels import diag

    x = np.ascontiguousarray(X).reshape(-1)
    x0 = np.ascontiguousarray(X0, dtype=np.float64).reshape(-1)
    part = np.empty(-(-x.size // diag.CHUNK))
    with threads_for(x.size):
        diag.chunk_sq_diff(x, x0, part)
    return math.sqrt(float(np.sum(part))) / norm0


@dataclass
class DiagnosticsRecorder:
    """Collects the regime diagnostics of one run; used by :func:`ntk_toolkit.gradient_descent`.

    Parameters
    ----------
    gen : Generator
    C0 : ndarray
        Initial weights (not copied: they must not change during the run;
        :func:`~ntk_toolkit.gradient_descent` updates its own copy).
    g0 : ndarray, shape (n,)
        ``G(C_0)``.
    pattern0 : array, tuple of arrays or None
        Activation pattern of ``C_0`` (from ``forward_pattern``).
    y : ndarray, A : measurement operator or None, eta : float
    method : {"auto", "dense", "matrix-free"}
        ``dense`` forms ``K(C_τ)`` (``8 n²`` bytes each) and eigendecomposes
        ``A K(C_0) Aᵀ`` (O(n³)); ``matrix-free`` estimates the drift with
        :data:`PROBES` Rademacher probes (``‖(K_τ − K_0) Z‖_F / ‖K_0 Z‖_F``,
        :data:`PROBES` kernel products per recorded iteration) and evaluates
        the linearized outputs by Lanczos on ``A K(C_0) Aᵀ`` from ``r_0``
        (once per run, until the outputs change by less than 1e-8
        relative, at most :data:`MAX_KRYLOV` products). ``auto`` takes the
        exact drift up to ``n =`` :data:`DENSE_DRIFT_MAX_N` (:data:`GENERIC_DENSE_MAX_N`
        for a generator other than the two-layer model) and the
        eigendecomposition up to :data:`DENSE_MAX_N`, when they fit the memory
        budget (``Trajectory.diagnostics_method`` is then ``"dense"``, or
        ``"dense-drift"`` with the Lanczos outputs), and the matrix-free
        estimates above. Above :data:`DENSE_MAX_N`, a two-layer ReLU
        convolution whose ``U Uᵀ`` is a narrow band (:func:`band_structure`,
        at most :data:`BAND_MAX_FRACTION` of its offsets nonzero) takes
        ``"banded"`` at every ``n``: the exact drift from the co-activation
        counts on the band (``O(n |D| ⌈k/64⌉)`` per recorded iteration for
        ``|D|`` offsets, no ``n x n`` matrix; ``docs/theory.md`` eq. (9.2a))
        and the Lanczos outputs from the sparse ``K(C_0)``.
    seed : int, default 0
        Seed of the probes.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, gradient_descent
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 16), k=64)
    >>> y = np.cos(2 * np.pi * np.arange(16) / 16)
    >>> traj = gradient_descent(gen, y, gen.init(seed=0), 0.3, 50, record=[0, 50], diagnostics=True)
    >>> [float(a[0]) for a in (traj.weight_change, traj.sign_flips, traj.kernel_drift, traj.linearization_gap)]
    [0.0, 0.0, 0.0, 0.0]
    >>> traj.diagnostics_method
    'dense'
    """

    gen: object
    C0: np.ndarray
    g0: np.ndarray
    pattern0: object
    y: np.ndarray
    A: object
    eta: float
    method: str = "auto"
    seed: int = 0

    def __post_init__(self):
        from .kernels import empirical_kernel
        from .matfree import kernel_operator

        if self.method not in ("auto", "dense", "matrix-free"):
            raise ValueError(f"diagnostics must be True, False, 'auto', 'dense' or 'matrix-free', got {self.method!r}")
        n = int(self.gen.n)
        fits = 3 * 8 * n * n <= memory_budget()
        # the two-layer model has the popcount kernel; another generator's K costs n vjps (GENERIC_DENSE_MAX_N)
        two_layer = all(hasattr(self.gen, a) for a in ("operator", "output_weights", "activation"))
        dense_max = DENSE_DRIFT_MAX_N if two_layer else GENERIC_DENSE_MAX_N
        self._dense_gap = self.method == "dense" or (self.method == "auto" and fits and n <= DENSE_MAX_N)
        band = band_structure(self.gen) if self.method == "auto" and not self._dense_gap else None
        self._band = band if band is not None and band[2].size <= BAND_MAX_FRACTION * n else None
        self._dense_drift = self.method == "dense" or (self.method == "auto" and fits and n <= dense_max
                                                       and self._band is None)
        self.method = ("banded" if self._band is not None else
                       ("dense" if self._dense_gap else "dense-drift") if self._dense_drift else "matrix-free")
        self.C0 = np.asarray(self.C0, dtype=np.float64)  # not copied: the run updates its own copy
        self._norm0 = float(np.linalg.norm(self.C0))
        if self._band is None:
            self._signs0 = pattern_signs(self.pattern0)
            if isinstance(self.pattern0, np.ndarray) and self.pattern0.dtype == np.uint8:
                self._mask0 = self.pattern0.reshape(-1).copy()
        self._rows = []
        a = 1.0 if self.A is None else self.A.norm()
        self.scale = max(float(np.linalg.norm(self.y)) / a if a > 0 else 0.0, float(np.linalg.norm(self.g0)))
        if self._dense_drift:
            check_memory(3 * 8 * n * n, f"the dense regime diagnostics of n={n} (K(C_0), K(C_τ), eigenvectors)",
                         "use gradient_descent(..., diagnostics='matrix-free') (Hutchinson and Lanczos estimates)")
            self._K0 = empirical_kernel(self.gen, self.C0)
            self._K0norm = float(np.linalg.norm(self._K0))
        elif self._band is not None:
            import scipy.sparse

            H, W, d1, d2, a, mult = self._band = _half_band(self._band)
            counts, _, self._packed0 = _band_counts(self.pattern0, self._band)
            check_memory(8 * 6 * counts.size, f"the band of K(C_0) ({2 * counts.size} entries)",
                         "use gradient_descent(..., diagnostics='matrix-free')")
            self._counts0 = counts
            self._band_w = mult * a * a
            self._band_ref = math.sqrt(float(np.sum(np.sum(self._band_w[None, :] * counts.astype(np.float64) ** 2,
                                                           axis=1))))
            # K(C_0) on the band: the kept offsets and their mirror images (i, j) -> (j, i)
            i = np.repeat(np.arange(n), d1.size)
            j = (((i // W).reshape(n, -1) + d1[None, :]) % H * W + ((i % W).reshape(n, -1) + d2[None, :]) % W).ravel()
            vals = (float(np.asarray(self.gen.output_weights, dtype=float)[0] ** 2) * a[None, :] * counts).ravel()
            pair = np.tile(mult == 2.0, n)
            self._K0band = scipy.sparse.csr_matrix(
                (np.concatenate([vals, vals[pair]]), (np.concatenate([i, j[pair]]), np.concatenate([j, i[pair]]))),
                shape=(n, n))
        else:
            self._op0 = kernel_operator(self.gen, self.C0)
            rng = as_rng(self.seed)
            self._Z = rng.choice([-1.0, 1.0], size=(n, PROBES))
            self._P0 = self._op0 @ self._Z
            self._P0norm = float(np.linalg.norm(self._P0))

    def record(self, tau: int, C: np.ndarray, g: np.ndarray, pattern) -> None:
        """Diagnostics at iteration ``tau`` for weights ``C``, output ``g = G(C)`` and its pattern."""
        from .kernels import empirical_kernel
        from .matfree import kernel_operator

        wc = _relative_distance(C, self.C0, self._norm0)
        if self._band is not None:  # the sign flips and the drift from one pass over the packed pattern
            from ._jit import threads_for
            from ._kernels import diag

            H, W, d1, d2, _, _ = self._band
            P = _pack(pattern)
            rows = np.empty(P.shape[0])
            flipped = np.empty(P.shape[0], dtype=np.int64)
            with threads_for(P.shape[0] * (d1.size + 1) * P.shape[1]):
                diag.band_drift(P, self._packed0, self._counts0, self._band_w, H, W, d1, d2, rows, flipped)
            drift = math.sqrt(float(np.sum(rows))) / self._band_ref if self._band_ref > 0 else math.nan
            self._rows.append((tau, wc, int(np.sum(flipped)) / pattern.size, 0.0 if tau == 0 else drift,
                               np.array(g, dtype=np.float64)))
            return
        if pattern is None or self._signs0 is None:
            flips = math.nan
        elif isinstance(pattern, np.ndarray) and pattern.dtype == np.uint8 and pattern.size == self._signs0.size:
            flips = np.count_nonzero(pattern.reshape(-1) != self._mask0) / pattern.size  # 0/1 bytes: no conversion
        else:
            flips = float(np.mean(pattern_signs(pattern) != self._signs0))
        if tau == 0:
            drift = 0.0
        elif self._dense_drift:
            drift = _relative_distance(empirical_kernel(self.gen, C), self._K0, self._K0norm)
        else:
            drift = float(np.linalg.norm(kernel_operator(self.gen, C) @ self._Z - self._P0)) / self._P0norm
        self._rows.append((tau, wc, flips, drift, np.array(g, dtype=np.float64)))

    def _prediction_basis(self):
        """``(Q, θ, Z, c)`` of :func:`linearized_outputs` for ``M = A K(C_0) Aᵀ`` and ``r_0 = A G(C_0) − y``."""
        A = self.A
        r0 = _apply_A(A, self.g0) - self.y
        if self._dense_gap:
            if A is None:
                theta, Q = np.linalg.eigh(0.5 * (self._K0 + self._K0.T))
                Z = Q * theta[None, :]
            else:
                At = np.ascontiguousarray(A.todense().T)
                KAt = self._K0 @ At
                theta, Q = np.linalg.eigh(0.5 * (At.T @ KAt + (At.T @ KAt).T))
                Z = KAt @ Q
            theta = np.maximum(theta, 0.0)
            return Q, theta, Z, Q.T @ r0
        if not float(np.linalg.norm(r0)) > 0:
            return np.zeros((r0.size, 0)), np.zeros(0), np.zeros((self.g0.size, 0)), np.zeros(0)

        if hasattr(self, "_K0"):  # the dense K(C_0) of the exact drift: one matrix-vector product
            matvec = self._K0.__matmul__
        elif hasattr(self, "_K0band"):  # the sparse K(C_0) of the banded drift
            matvec = self._K0band.__matmul__
        else:
            if not hasattr(self, "_op0"):
                from .matfree import kernel_operator

                self._op0 = kernel_operator(self.gen, self.C0)
            matvec = self._op0.matvec

        def prod(q):
            z = matvec(_apply_AT(A, q))
            return z, _apply_A(A, z)

        taus = np.array([row[0] for row in self._rows], dtype=float)
        last = {"gram": np.zeros((0, 0))}

        def converged(T, P, beta0):  # the outputs at every recorded τ settle to 1e-8 relative
            # f_τ − f_0 = −P w_τ with w_τ = S h_τ(θ) ∘ c (j numbers each): their changes are measured
            # through the Gram matrix PᵀP, extended by the new columns only, so a check costs
            # O(T j²) and the run O(n j²) in all, not O(n j (j + T)) per check
            j = P.shape[1]
            G, old = last["gram"], last["gram"].shape[0]
            G = np.pad(G, (0, j - old))
            G[old:, :] = P[:, old:].T @ P  # P is a view of the rows: contiguous products
            G[:old, old:] = G[old:, :old].T
            last["gram"] = G
            theta, S = np.linalg.eigh(T)
            w = (_h_matrix(np.maximum(theta, 0.0), self.eta, taus) * (beta0 * S[0, :])[None, :]) @ S.T  # (T, j)
            prev = last.get("w")
            last["w"] = w
            if prev is None:
                return False
            d = w - np.pad(prev, ((0, 0), (0, j - prev.shape[1])))
            change = np.max(np.einsum("ti,ij,tj->t", d, G, d))
            scale = np.max(np.einsum("ti,ij,tj->t", w, G, w))
            return bool(max(float(change), 0.0) <= 1e-16 * float(scale))

        Q, T, P, beta0 = _lanczos(prod, r0, int(min(r0.size, MAX_KRYLOV)), converged)
        theta, S = np.linalg.eigh(T)
        return Q @ S, np.maximum(theta, 0.0), P @ S, beta0 * S[0, :]

    def finish(self) -> dict:
        """The fields of the trajectory: ``weight_change``, ``sign_flips``, ``kernel_drift``, ``linearization_gap``,
        ``diagnostics_iterations`` and ``diagnostics_method``."""
        taus = np.array([row[0] for row in self._rows], dtype=np.int64)
        outs = np.array([row[4] for row in self._rows]).reshape(taus.size, self.g0.size)
        gap = np.zeros(taus.size)
        if taus.size:
            Q, theta, Z, c = self._prediction_basis()
            f = linearized_outputs(Q, theta, Z, c, self.g0, self.eta, taus)
            with np.errstate(over="ignore", invalid="ignore"):
                diff = np.linalg.norm(outs - f, axis=1)
            gap = diff / self.scale if self.scale > 0 else diff
            gap = np.where(np.isfinite(gap), gap, np.inf)
        return {
            "weight_change": np.array([row[1] for row in self._rows]),
            "sign_flips": np.array([row[2] for row in self._rows]),
            "kernel_drift": np.array([row[3] for row in self._rows]),
            "linearization_gap": gap,
            "diagnostics_iterations": taus,
            "diagnostics_method": self.method,
        }
