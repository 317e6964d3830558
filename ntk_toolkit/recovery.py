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
from ._validation import as_float_array, as_rng, check_int, check_kernel_matrix, check_positive
from .generator import is_generator
from .measurements import GaussianMeasurement, as_measurement
from .spectrum import Spectrum, as_spectrum, circulant_spectrum

__all__ = [
    "smoothest_interpolant",
    "min_l2_interpolant",
    "oracle_projection",
    "l1_recovery",
    "effective_ridge",
    "RecoveryLaw",
    "recovery_law",
    "predicted_recovery_error",
    "RecoveryCurve",
    "recovery_curve",
]


# --------------------------------------------------------------------------- helpers
def _n_of(kernel) -> int:
    if isinstance(kernel, Spectrum) or is_generator(kernel):
        return kernel.n
    return np.asarray(kernel).shape[0]


def _kernel_times(kernel, M: np.ndarray) -> np.ndarray:
    """``K M`` for a kernel matrix (exactly, by BLAS), a Spectrum or a generator (its ``Σ``); ``M`` is (n, B)."""
    if isinstance(kernel, (np.ndarray, list, tuple)):
        return check_kernel_matrix("kernel", kernel) @ M
    return as_spectrum(kernel).apply_kernel(M)


def _measurement_and_y(A, n, y):
    A = as_measurement(A, n)
    if A is None:
        raise TypeError("A must be an (m, n) array or a measurement operator, got None")
    y = as_float_array("y", y, shape=(A.shape[0],))
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
    y = as_float_array("y", y, shape=(A.shape[0],))
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
    y = as_float_array("y", y, shape=(A.shape[0],))
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
    y = as_float_array("y", y, shape=(A.shape[0],))
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


# --------------------------------------------------------------------------- recovery curve
def _spawned_rngs(seed, count: int) -> list[np.random.Generator]:
    """``count`` independent generators spawned from one seed."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(count)]


def _kernel_label(kernel, i: int) -> str:
    filt = getattr(getattr(kernel, "operator", None), "filter", None)
    return str(filt.name) if filt is not None else f"kernel {i}"


@dataclass(frozen=True, eq=False)
class RecoveryCurve:
    """Result of :func:`recovery_curve`: recovery error against the number of measurements.

    ``F`` kernels, ``M`` numbers of measurements, ``T`` trials per ``m``. Errors
    are relative to ``‖x‖``; "RMS" is the root of the mean over the trials of
    ``‖x̂ − x‖² / ‖x‖²``.

    Attributes
    ----------
    labels : tuple of str, length F
        Name of each kernel (its filter's name for a generator).
    ms : ndarray of int, shape (M,)
        Numbers of measurements.
    n : int
        Signal length.
    trials : int
        Gaussian ``A`` per ``m`` (``T``).
    noise_std : float
        Standard deviation of the measurement noise.
    squared_errors : ndarray, shape (F, M, T)
        ``‖x̂ − x‖²`` of the smoothest interpolant of each kernel in each trial.
    simulated_rms : ndarray, shape (F, M)
        Simulated RMS relative error of the smoothest interpolants.
    predicted_rms : ndarray, shape (F, M)
        ``√(E‖x̂ − x‖²) / ‖x‖`` predicted by the recovery law (``docs/theory.md`` eq. (5.6)).
    kappa : ndarray, shape (F, M)
        Effective ridge ``κ`` of eq. (5.5).
    squared_errors_min_l2 : ndarray, shape (M, T)
        ``‖A⁺y − x‖²`` in each trial (same ``A`` and noise as the kernels).
    simulated_rms_min_l2, predicted_rms_min_l2 : ndarray, shape (M,)
        The same for the minimum-l2 interpolant ``A⁺y`` (``Σ = ½ I``; without
        noise the prediction is ``√(1 − m/n)``).

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import recovery_curve
    >>> curve = recovery_curve(np.diag([1.0, 0.5, 0.25]), [1.0, 1.0, 1.0], ms=[1, 2], trials=4, seed=0)
    >>> curve.labels, curve.squared_errors.shape, sorted(curve.to_dict())
    (('kernel 0',), (1, 2, 4), ['filters', 'measurement', 'min_l2', 'ms', 'n', 'noise', 'trials'])
    """

    labels: tuple
    ms: np.ndarray
    n: int
    trials: int
    noise_std: float
    squared_errors: np.ndarray
    simulated_rms: np.ndarray
    predicted_rms: np.ndarray
    kappa: np.ndarray
    squared_errors_min_l2: np.ndarray
    simulated_rms_min_l2: np.ndarray
    predicted_rms_min_l2: np.ndarray

    def to_dict(self) -> dict:
        """JSON-ready summary (lists of floats); the per-trial squared errors are left out."""
        return {
            "n": self.n, "ms": self.ms.tolist(), "trials": self.trials, "noise": self.noise_std,
            "measurement": "gaussian",
            "filters": [{"filter": label, "simulated_rms": self.simulated_rms[i].tolist(),
                         "predicted_rms": self.predicted_rms[i].tolist(), "kappa": self.kappa[i].tolist()}
                        for i, label in enumerate(self.labels)],
            "min_l2": {"simulated_rms": self.simulated_rms_min_l2.tolist(),
                       "predicted_rms": self.predicted_rms_min_l2.tolist()},
        }


def recovery_curve(kernels, x, ms, trials: int = 20, noise_std: float = 0.0, seed=None, labels=None,
                   progress: bool = False, *, measurement_seeds=None, pinv: bool = True) -> RecoveryCurve:
    """Recovery error of the smoothest interpolant against the number of measurements, simulated and predicted.

    For each ``m`` in ``ms``, draws ``trials`` Gaussian ``A`` (i.i.d.
    ``N(0, 1/m)`` entries) and noise ``e ~ N(0, noise_std² I_m)``, measures
    ``y = A x + e`` and records ``‖x̂ − x‖²`` for the smoothest interpolant
    ``x̂ = K Aᵀ (A K Aᵀ)⁺ y`` of every kernel (the same ``A`` and ``e`` for all
    kernels) and for the minimum-l2 interpolant ``A⁺y``. Next to the simulated
    RMS error it puts the recovery law's prediction for each kernel and for
    ``A⁺y`` (``Σ = ½ I``).

    Parameters
    ----------
    kernels : sequence of (ndarray (n, n), Spectrum or generator)
        The kernels ``K``; a generator means its expected kernel ``Σ``. A single
        kernel is accepted too.
    x : array_like, shape (n,)
        The truth; must not be zero.
    ms : sequence of int, shape (M,)
        Numbers of measurements, each ``1 <= m <= n``.
    trials : int, default 20
        Gaussian ``A`` per ``m``.
    noise_std : float, default 0
        Standard deviation of the measurement noise.
    seed : int, numpy.random.Generator or None
        Each ``m`` gets its own pair of streams (for ``A`` and for the noise)
        seeded from ``seed``.
    labels : sequence of str, optional
        One per kernel; default the filter's name for a generator, otherwise
        ``"kernel i"``.
    progress : bool, default False
        Show a progress bar (one step per trial).
    measurement_seeds : sequence of seeds, length M, optional
        One seed (int, sequence of int or Generator) per ``m`` for its
        ``trials`` Gaussian matrices, instead of the stream derived from
        ``seed`` (which still seeds the noise): common random numbers shared
        with another experiment.
    pinv : bool, default True
        Compute the smoothest interpolants with the pseudo-inverse of
        ``A K Aᵀ`` (robust to rank-deficient kernels); ``False`` solves the
        linear system (see :func:`smoothest_interpolant`).

    Returns
    -------
    RecoveryCurve
        Arrays of shape ``(F, M)`` (per kernel and ``m``) and ``(M,)`` (``A⁺y``).

    Notes
    -----
    Implements the Monte-Carlo side and the prediction of ``docs/theory.md``
    §5.2: the smoothest interpolant is eq. (5.3) (computed with the
    pseudo-inverse of ``A K Aᵀ``, as for rank-deficient kernels in eq. (5.8)),
    the prediction ``√(E‖x̂ − x‖²)/‖x‖`` is the recovery law eq. (5.6) with the
    effective ridge ``κ`` of eq. (5.5). Cost per trial: one smoothest
    interpolant per kernel (O(n m log n + m³) for circulant kernels) and one
    ``A⁺y`` (O(m² n)).

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, recovery_curve, signals
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(4), 32), 2)
    >>> x = signals.smooth(32, p=5, seed=0)
    >>> curve = recovery_curve([gen], x, ms=[8, 16], trials=5, seed=1)
    >>> curve.labels, curve.simulated_rms.shape, curve.squared_errors.shape
    (('triangle(4)',), (1, 2), (1, 2, 5))
    >>> bool(np.all(curve.predicted_rms[0] < curve.predicted_rms_min_l2))
    True
    >>> np.round(curve.predicted_rms_min_l2 ** 2, 12)  # A⁺y: 1 − m/n
    array([0.75, 0.5 ])
    """
    if isinstance(kernels, Spectrum) or is_generator(kernels) or (isinstance(kernels, np.ndarray) and kernels.ndim == 2):
        kernels = [kernels]
    if not isinstance(kernels, (list, tuple)) or not kernels:
        raise TypeError(f"kernels must be a non-empty list of kernels (matrices, Spectrum or generators), "
                        f"got {type(kernels).__name__}{' (empty)' if isinstance(kernels, (list, tuple)) else ''}")
    spectra = [as_spectrum(kernel) for kernel in kernels]
    n = spectra[0].n
    for i, spec in enumerate(spectra):
        if spec.n != n:
            raise ValueError(f"all kernels must have the same size n; kernels[0] has n={n}, kernels[{i}] n={spec.n}")
    if labels is None:
        labels = [_kernel_label(kernel, i) for i, kernel in enumerate(kernels)]
    labels = tuple(str(label) for label in labels)
    if len(labels) != len(spectra):
        raise ValueError(f"labels must have one entry per kernel ({len(spectra)}), got {len(labels)}")
    x = as_float_array("x", x, shape=(n,))
    xnorm2 = float(x @ x)
    if not xnorm2 > 0:
        raise ValueError("x must not be zero: the errors are relative to ‖x‖")
    ms_arr = np.asarray(ms)
    if ms_arr.ndim != 1 or ms_arr.size == 0 or ms_arr.dtype.kind not in "iu":
        raise TypeError(f"ms must be a non-empty sequence of integers, got {ms!r}")
    bad = [int(m) for m in ms_arr if not 1 <= m <= n]
    if bad:
        raise ValueError(f"every m in ms must satisfy 1 <= m <= n={n}, got {bad}")
    ms = [int(m) for m in ms_arr]
    trials = check_int("trials", trials, minimum=1)
    noise_std = check_positive("noise_std", noise_std, allow_zero=True)
    rng = as_rng(seed)
    if measurement_seeds is not None and len(measurement_seeds) != len(ms):
        raise ValueError(f"measurement_seeds must have one seed per m ({len(ms)}), got {len(measurement_seeds)}")
    half_identity = circulant_spectrum(np.eye(1, n)[0] * 0.5)  # Σ = ½ I: the expected kernel of the δ filter
    trial_rngs = [_spawned_rngs(s, 2) for s in rng.integers(0, 2**63 - 1, size=len(ms))]

    sq = np.zeros((len(spectra), len(ms), trials))
    sq_pinv = np.zeros((len(ms), trials))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(ms) * trials, desc="recovery curve", unit="trial", leave=False)
    try:
        for j, m in enumerate(ms):
            r_A, r_noise = trial_rngs[j]
            if measurement_seeds is not None:
                r_A = as_rng(measurement_seeds[j]) if isinstance(measurement_seeds[j], np.random.Generator) \
                    else np.random.default_rng(measurement_seeds[j])
            for t in range(trials):
                A = GaussianMeasurement(m, n, seed=r_A)
                y = A.apply(x) + (noise_std * r_noise.standard_normal(m) if noise_std > 0 else 0.0)
                sq_pinv[j, t] = float(np.sum((min_l2_interpolant(A, y) - x) ** 2))
                for i, spec in enumerate(spectra):
                    sq[i, j, t] = float(np.sum((smoothest_interpolant(spec, A, y, pinv=pinv) - x) ** 2))
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()

    laws = [[recovery_law(spec, x, m, noise_std=noise_std) for m in ms] for spec in spectra]
    laws_pinv = [recovery_law(half_identity, x, m, noise_std=noise_std) for m in ms]
    return RecoveryCurve(
        labels=labels, ms=np.array(ms, dtype=np.int64), n=n, trials=trials, noise_std=noise_std,
        squared_errors=sq,
        simulated_rms=np.sqrt(np.mean(sq, axis=-1) / xnorm2),
        predicted_rms=np.array([[math.sqrt(law.total / xnorm2) for law in row] for row in laws]),
        kappa=np.array([[law.kappa for law in row] for row in laws]),
        squared_errors_min_l2=sq_pinv,
        simulated_rms_min_l2=np.sqrt(np.mean(sq_pinv, axis=-1) / xnorm2),
        predicted_rms_min_l2=np.array([math.sqrt(law.total / xnorm2) for law in laws_pinv]),
    )


def __getattr__(name: str):
    # Running gradient descent to convergence is dynamics, not recovery; the
    # names stay reachable from here as in earlier releases.
    if name in ("Convergence", "run_to_convergence"):
        from . import dynamics

        return getattr(dynamics, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
