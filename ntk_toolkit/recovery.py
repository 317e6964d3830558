"""Compressive sensing: predictions of where gradient descent converges, the
recovery law and baselines.

``docs/theory.md`` §5: in the linearized regime gradient descent on
``½‖A G(C) − y‖²`` converges to ``G(C_0) + K Aᵀ (A K Aᵀ)⁻¹ (y − A G(C_0))``; with
``G(C_0) → 0`` this is the *smoothest interpolant*
``x̂ = Σ Aᵀ (A Σ Aᵀ)⁻¹ y = argmin_{A x = y} xᵀ Σ⁻¹ x``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _lazy
from ._memory import check_memory
from ._validation import as_float_array, check_int, check_kernel_matrix, check_positive
from .generator import is_generator
from .measurements import as_measurement, as_measurements
from .spectrum import Spectrum, as_spectrum

__all__ = [
    "smoothest_interpolant",
    "min_l2_interpolant",
    "oracle_projection",
    "l1_recovery",
    "effective_ridge",
    "RecoveryLaw",
    "recovery_law",
    "predicted_recovery_error",
]


# --------------------------------------------------------------------------- helpers
def _n_of(kernel) -> int:
    if isinstance(kernel, Spectrum) or is_generator(kernel):
        return kernel.n
    arr = np.asarray(kernel) if isinstance(kernel, (np.ndarray, list, tuple)) else None
    if arr is None or arr.ndim != 2:
        got = f"an array of shape {arr.shape}" if arr is not None else repr(kernel)[:60]
        raise TypeError(f"kernel must be an (n, n) matrix, a Spectrum or a generator, got {got}")
    return arr.shape[0]


def _kernel_times(kernel, M: np.ndarray) -> np.ndarray:
    """``K M`` for a kernel matrix (exactly, by BLAS), a Spectrum or a generator (its ``Σ``); ``M`` is (n, B)."""
    if isinstance(kernel, (np.ndarray, list, tuple)):
        return check_kernel_matrix("kernel", kernel) @ M
    return as_spectrum(kernel).apply_kernel(M)


def _measurement_and_y(A, n, y):
    A = as_measurement(A, n)
    if A is None:
        raise TypeError("A must be an (m, n) array or a measurement operator, got None")
    y = as_measurements(y, A, A.shape[1])
    return A, y


# --------------------------------------------------------------------------- interpolants
def smoothest_interpolant(kernel, A, y, pinv: bool = False, rcond: float = 1e-12) -> np.ndarray:
    """Minimum kernel-norm interpolant ``x̂ = K Aᵀ (A K Aᵀ)⁻¹ y``.

    ``x̂ = argmin { xᵀ K⁻¹ x : A x = y }`` — with ``K = Σ`` the smoothest
    signal consistent with the measurements (``docs/theory.md`` §5.1, eq. (5.3)), the limit
    of gradient descent on the network as ``k → ∞`` and ``ω → 0``.

    Parameters
    ----------
    kernel : ndarray (n, n), Spectrum or generator
        ``K``; a generator means its expected kernel ``Σ`` (applied through
        its O(n log n) circulant spectrum when available).
    A : measurement operator or ndarray (m, n)
    y : array_like, shape (m,)
    pinv : bool, default False
        Use the pseudo-inverse of ``A K Aᵀ`` (eigenvalues below
        ``rcond · λ_max`` dropped) — for rank-deficient kernels (exact recovery,
        ``docs/theory.md`` eq. (5.8)). Without it a
        numerically singular ``A K Aᵀ`` raises ``ValueError``.
    rcond : float, default 1e-12
        Relative threshold for "numerically singular".

    Returns
    -------
    ndarray, shape (n,)

    Notes
    -----
    Cost: ``K Aᵀ`` (O(n m log n) circulant, O(n² m) dense) plus ``eigh`` of the
    ``m x m`` matrix ``A K Aᵀ`` (O(m³)); no explicit inverse is formed.

    Examples
    --------
    ``A x̂ = y``, and a generator gives the same ``x̂`` as its dense ``Σ``:

    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, expected_kernel, filters, smoothest_interpolant
    >>> gen = TwoLayerGenerator(CircularConv(filters.triangle(3), 32), k=2)
    >>> A = np.random.default_rng(0).standard_normal((8, 32))
    >>> y = A @ np.cos(2 * np.pi * np.arange(32) / 32)
    >>> x_hat = smoothest_interpolant(gen, A, y)
    >>> bool(np.allclose(A @ x_hat, y)), bool(np.allclose(x_hat, smoothest_interpolant(expected_kernel(gen), A, y)))
    (True, True)
    """
    n = _n_of(kernel)
    A, y = _measurement_and_y(A, n, y)
    m = A.shape[0]
    check_memory(8 * (3 * n * m + 4 * m * m), f"the smoothest interpolant with m={m} measurements of n={n}",
                 "use fewer measurements, or predict the error with predicted_recovery_error")
    At = np.ascontiguousarray(A.todense().T)
    KAt = _kernel_times(kernel, At)
    M = At.T @ KAt
    mu, V = _lazy.linalg().eigh(0.5 * (M + M.T))
    top = float(mu[-1]) if mu.size else 0.0
    if not top > 0:
        raise ValueError("A K Aᵀ is zero: the kernel sees nothing of the measurements")
    keep = mu > rcond * top
    if not pinv and not np.all(keep):
        raise ValueError(
            f"A K Aᵀ is numerically singular (condition number "
            f"{(top / float(mu[0])) if mu[0] > 0 else float('inf'):.3g} "
            f"> 1/rcond = {1 / rcond:.3g}; {int((~keep).sum())} of {mu.size} eigenvalues below "
            f"rcond·λ_max): use fewer measurements than the kernel's rank, or pinv=True"
        )
    coef = np.where(keep, (V.T @ y) / np.where(keep, mu, 1.0), 0.0)
    return KAt @ (V @ coef)


def min_l2_interpolant(A, y) -> np.ndarray:
    """Minimum-l2 interpolant ``A⁺ y`` (the smoothest interpolant of ``Σ = ½ I``, eq. (5.3)). O(m² n).

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import min_l2_interpolant, smoothest_interpolant
    >>> A, y = np.random.default_rng(0).standard_normal((3, 8)), np.array([1.0, -2.0, 0.5])
    >>> x_hat = min_l2_interpolant(A, y)
    >>> bool(np.allclose(A @ x_hat, y)), bool(np.allclose(x_hat, smoothest_interpolant(0.5 * np.eye(8), A, y)))
    (True, True)
    """
    A = as_measurement(A, _ncols(A))
    y = as_measurements(y, A, A.shape[1])
    m, n = A.shape
    check_memory(8 * (3 * m * n + 2 * min(m, n) ** 2), f"A⁺y with A of shape ({m}, {n})",
                 "use fewer measurements or l1_recovery (matrix-free)")
    return _lazy.linalg().lstsq(A.todense(), y, lapack_driver="gelsd")[0]


def _ncols(A) -> int:
    shape = getattr(A, "shape", None)
    if shape is None and isinstance(A, (list, tuple)):
        shape = np.shape(A)
    if shape is None or len(shape) != 2:
        raise TypeError(
            f"A must be an (m, n) array or a measurement operator, got "
            f"{'None' if A is None else type(A).__name__ + (f' of shape {tuple(shape)}' if shape is not None else '')}"
        )
    return int(shape[1])


def oracle_projection(kernel, y, p: int, A=None) -> np.ndarray:
    """Oracle estimate in the top-``p`` eigenspace of the kernel.

    Without ``A``: the orthogonal projection ``W_p W_pᵀ y`` (denoising oracle,
    ``docs/theory.md`` §4.2). With ``A``: least squares within that space,
    ``W_p (A W_p)⁺ y`` — the best an estimator that knows the signal's
    subspace can do from the measurements.

    Parameters
    ----------
    kernel : ndarray (n, n), Spectrum or generator
    y : array_like, shape (n,) or (m,)
    p : int
        ``1 <= p <= n``; top means the ``p`` largest eigenvalues.
    A : measurement operator or ndarray (m, n), optional

    Examples
    --------
    ``x`` in the top-3 eigenspace of ``Σ`` (frequencies 0, 1) is kept, and recovered from ``m = 6 >= p``:

    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, filters, oracle_projection, signals
    >>> gen, x = TwoLayerGenerator(CircularConv(filters.triangle(3), 16), k=2), signals.trig(16, 1)
    >>> A = np.random.default_rng(0).standard_normal((6, 16))
    >>> bool(np.allclose(oracle_projection(gen, x, 3), x)), bool(np.allclose(oracle_projection(gen, A @ x, 3, A), x))
    (True, True)
    """
    spec = as_spectrum(kernel)
    p = check_int("p", p, minimum=1)
    if p > spec.n:
        raise ValueError(f"p must be <= n={spec.n}, got {p}")
    check_memory(24 * spec.n * p, f"the top-{p} eigenvectors of length {spec.n}", "use a smaller p")
    Wp = spec.synthesize(np.eye(spec.n, p))
    A = as_measurement(A, spec.n)
    if A is None:
        y = as_float_array("y", y, shape=(spec.n,))
        return Wp @ (Wp.T @ y)
    y = as_measurements(y, A, A.shape[1])
    B = A.apply(Wp)
    return Wp @ _lazy.linalg().lstsq(B, y, lapack_driver="gelsd")[0]


def l1_recovery(A, y, lam: float | None = None, steps: int = 3000, tol: float = 1e-10) -> np.ndarray:
    """l1 recovery in the orthonormal DCT basis by FISTA.

    Solves ``min_c ½‖A D c − y‖² + lam ‖c‖₁`` with ``D`` the inverse orthonormal
    DCT-II, and returns ``x = D c``. ``lam`` defaults to ``1e-4 ‖Dᵀ Aᵀ y‖_∞``
    (close to basis pursuit for noiseless data), reached by continuation from
    a large value. Step ``1/‖A‖²``; stops when the relative change of ``c`` is
    below ``tol``.

    Parameters
    ----------
    A : measurement operator or ndarray (m, n)
    y : array_like, shape (m,)
    lam : float, optional
    steps : int, default 3000
    tol : float, default 1e-10

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.fft import idct
    >>> from ntk_toolkit import l1_recovery
    >>> x = idct(np.eye(32)[2] - 0.5 * np.eye(32)[7], norm="ortho")  # two nonzero DCT coefficients
    >>> A = np.random.default_rng(0).standard_normal((16, 32)) / 4  # 16 Gaussian measurements
    >>> bool(np.linalg.norm(l1_recovery(A, A @ x) - x) < 1e-3 * np.linalg.norm(x))
    True
    """
    A = as_measurement(A, _ncols(A))
    y = as_measurements(y, A, A.shape[1])
    steps = check_int("steps", steps, minimum=1)
    fft = _lazy.fft()

    def D(c):
        return fft.idct(c, type=2, norm="ortho")

    def Dt(x):
        return fft.dct(x, type=2, norm="ortho")

    grad0 = Dt(A.apply_T(y))
    scale = float(np.max(np.abs(grad0)))
    if scale == 0:
        return np.zeros(A.shape[1])
    lam_target = 1e-4 * scale if lam is None else check_positive("lam", lam)
    L = A.norm() ** 2
    c = np.zeros(A.shape[1])
    z, t = c.copy(), 1.0
    lam_cur = max(lam_target, 0.5 * scale)
    for it in range(steps):
        g = Dt(A.apply_T(A.apply(D(z)) - y))
        w = z - g / L
        c_new = np.sign(w) * np.maximum(np.abs(w) - lam_cur / L, 0.0)
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        z = c_new + ((t - 1.0) / t_new) * (c_new - c)
        change = float(np.linalg.norm(c_new - c)) / max(float(np.linalg.norm(c_new)), 1e-300)
        c, t = c_new, t_new
        if lam_cur > lam_target and (change < 1e-4 or it % 50 == 49):
            lam_cur = max(lam_target, 0.5 * lam_cur)
            t, z = 1.0, c.copy()
        elif lam_cur == lam_target and change < tol:
            break
    return D(c)


# --------------------------------------------------------------------------- recovery law
def effective_ridge(eigenvalues, m: int) -> float:
    """Effective ridge ``κ`` solving ``Σ_i λ_i / (λ_i + κ) = m`` (``docs/theory.md`` §5.2, eq. (5.5)).

    Returns 0 when ``m`` is at least the number of positive eigenvalues.

    Examples
    --------
    ``4 / (1 + κ) = 2`` gives ``κ = 1``; ``m`` at least the rank gives ``κ = 0``:

    >>> from ntk_toolkit import effective_ridge
    >>> round(effective_ridge([1.0, 1.0, 1.0, 1.0], m=2), 10), effective_ridge([1.0, 0.5, 0.0], m=2)
    (1.0, 0.0)
    """
    lam = np.maximum(as_float_array("eigenvalues", eigenvalues, ndim=1), 0.0)
    m = check_int("m", m, minimum=1)
    top = float(lam.max()) if lam.size else 0.0
    pos = lam[lam > 1e-14 * top] if top > 0 else lam[:0]
    if m >= pos.size:
        return 0.0

    def f(logk):
        return float(np.sum(pos / (pos + math.exp(logk)))) - m

    lo = math.log(float(pos.min()) * 1e-12)
    hi = math.log(top * pos.size * 1e3)
    return math.exp(_lazy.optimize().brentq(f, lo, hi, xtol=1e-13, rtol=1e-13))


@dataclass(frozen=True)
class RecoveryLaw:
    """Deterministic-equivalent prediction of ``E‖x̂ − x‖²`` (``docs/theory.md`` §5.2, eq. (5.6)).

    Attributes
    ----------
    kappa : float
        Effective ridge.
    df2 : float
        ``Σ λ_i² / (λ_i + κ)²``.
    bias : float
        ``Σ a_i² κ² / (λ_i + κ)² / (1 − df₂/m)``.
    variance : float
        ``m σ_e² df₂ / (m − df₂)`` (0 without noise).
    total : float
        ``bias + variance``.
    keep_factors : ndarray
        ``λ_i / (λ_i + κ)``: how much of each eigen-component is kept.

    Examples
    --------
    From :func:`recovery_law`; the keep factors sum to ``m`` (eq. (5.5)):

    >>> import numpy as np
    >>> from ntk_toolkit import recovery_law
    >>> law = recovery_law(np.diag([3.0, 2.0, 1.0, 0.0]), [1.0, -1.0, 0.5, 0.0], m=2, noise_std=0.1)
    >>> round(float(law.keep_factors.sum()), 10), bool(np.isclose(law.total, law.bias + law.variance))
    (2.0, True)
    """

    m: int
    kappa: float
    df2: float
    bias: float
    variance: float
    total: float
    keep_factors: np.ndarray

    def to_dict(self) -> dict:
        return {"m": self.m, "kappa": self.kappa, "df2": self.df2, "bias": self.bias,
                "variance": self.variance, "total": self.total}


def recovery_law(kernel, x, m: int, noise_std: float = 0.0) -> RecoveryLaw:
    """Recovery law of the smoothest interpolant from ``m`` Gaussian measurements.

    For ``A`` with i.i.d. ``N(0, 1/m)`` entries and ``y = A x + e``,
    ``e ~ N(0, noise_std² I_m)``:

    ``E‖x̂ − x‖² ≈ Σ_i a_i² κ²/(λ_i+κ)² / (1 − df₂/m) + m σ_e² df₂/(m − df₂)``,

    ``Σ_i λ_i/(λ_i+κ) = m``, ``df₂ = Σ_i λ_i²/(λ_i+κ)²``, ``a = Wᵀ x``
    (``docs/theory.md`` §5.2, eqs. (5.5)–(5.6)). With ``m`` at least the kernel's rank, ``κ = 0``:
    components in the range of the kernel are recovered exactly.

    Parameters
    ----------
    kernel : ndarray (n, n), Spectrum or generator
    x : array_like, shape (n,)
    m : int
    noise_std : float, default 0

    Examples
    --------
    ``x`` in the range of a rank-3 kernel: error 0 from ``m >= 3`` noiseless measurements, not
    from 2; noise adds ``m σ_e² df₂ / (m − df₂)`` (``6 · 0.01 · 3 / 3``):

    >>> import numpy as np
    >>> from ntk_toolkit import recovery_law
    >>> K, x = np.diag([3.0, 2.0, 1.0, 0.0, 0.0, 0.0]), [1.0, -1.0, 0.5, 0.0, 0.0, 0.0]
    >>> recovery_law(K, x, m=3).total, recovery_law(K, x, m=2).total > 0, round(recovery_law(K, x, 6, 0.1).total, 12)
    (0.0, True, 0.06)
    """
    spec = as_spectrum(kernel)
    x = as_float_array("x", x, shape=(spec.n,))
    m = check_int("m", m, minimum=1)
    noise_std = check_positive("noise_std", noise_std, allow_zero=True)
    lam = np.maximum(spec.eigenvalues, 0.0)
    a2 = spec.project(x) ** 2
    kappa = effective_ridge(lam, m)
    top = float(lam.max())
    if kappa > 0:
        keep = lam / (lam + kappa)
        df2 = float(np.sum(keep**2))
        bias = float(np.sum(a2 * (kappa / (lam + kappa)) ** 2)) / (1.0 - df2 / m)
    else:
        pos = lam > 1e-14 * top
        keep = pos.astype(float)
        df2 = float(pos.sum())
        resid = float(np.sum(a2[~pos]))
        bias = 0.0 if resid <= 1e-28 * max(float(a2.sum()), 1e-300) else (
            resid / (1.0 - df2 / m) if m > df2 else math.inf)
    if noise_std == 0:
        variance = 0.0
    else:
        variance = m * noise_std**2 * df2 / (m - df2) if m > df2 else math.inf
    return RecoveryLaw(m=m, kappa=kappa, df2=df2, bias=bias, variance=variance, total=bias + variance,
                       keep_factors=keep)


def predicted_recovery_error(kernel, x, m: int, noise_std: float = 0.0) -> float:
    """Expected squared error ``E‖x̂ − x‖²`` of the smoothest interpolant from ``m``
    Gaussian measurements (the recovery law of ``docs/theory.md`` §5.2, eq. (5.6)).

    ``kernel`` may be a kernel matrix, a Spectrum or a generator (its ``Σ``).
    See :func:`recovery_law` for the terms.

    Examples
    --------
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, filters, predicted_recovery_error, signals
    >>> gen, x = TwoLayerGenerator(CircularConv(filters.delta(), 16), k=2), signals.smooth(16, seed=0)  # ‖x‖ = 1
    >>> round(predicted_recovery_error(gen, x, m=4), 12)  # Σ = ½ I: the error of A⁺y, ‖x‖² (1 − m/n)
    0.75
    """
    return recovery_law(kernel, x, m, noise_std).total


def __getattr__(name: str):
    # Running gradient descent to convergence is dynamics, and the Monte-Carlo
    # recovery curve an experiment; the names stay reachable from here.
    if name in ("Convergence", "run_to_convergence"):
        from . import dynamics

        return getattr(dynamics, name)
    if name in ("RecoveryCurve", "recovery_curve"):
        from . import experiments

        return getattr(experiments, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
