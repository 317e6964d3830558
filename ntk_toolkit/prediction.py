"""The linearized prediction of gradient descent.

* :func:`linearized` predicts the discrete iteration ``r_τ = (I − ηK)^τ r_0``
  (``docs/theory.md`` §4.1, §5.1); :func:`gradient_flow` predicts its
  continuous-time limit ``r(t) = exp(−ηKt) r_0``. The two are separate
  functions on purpose: a step count and a time are different things.
* Both take "a kernel" (a matrix, a :class:`~ntk_toolkit.Spectrum` or a
  generator), converted by :func:`ntk_toolkit.as_spectrum`, and work in its
  eigenbasis (or in that of ``A K Aᵀ`` with a measurement operator).
"""

from __future__ import annotations

import math

import numpy as np

from . import _lazy
from ._memory import check_memory
from ._validation import as_float_array, check_positive, renamed_argument
from .measurements import as_measurement, as_measurements
from .spectrum import as_spectrum

__all__ = ["LinearizedPrediction", "linearized", "gradient_flow", "residual_system"]


# --------------------------------------------------------------------------- linearized
def residual_system(kernel, A):
    """Eigen-system of the residual iteration: ``K`` (denoising) or ``A K Aᵀ`` (``docs/theory.md`` §5.1).

    Parameters
    ----------
    kernel : ndarray (n, n), Spectrum or generator
        See :func:`ntk_toolkit.as_spectrum`.
    A : measurement operator, ndarray (m, n) or None

    Returns
    -------
    mu : ndarray, shape (dim,)
        Eigenvalues (decreasing, negative rounding clipped to 0).
    analysis, synthesis : callable
        Coefficients in the eigenbasis and back.
    spec : Spectrum
        The spectrum of ``K``.
    H : ndarray of shape (n, m), or None
        ``K Aᵀ V`` with ``V`` the eigenvectors of ``A K Aᵀ`` (``None`` without ``A``).

    Examples
    --------
    >>> import numpy as np
    >>> mu = residual_system(np.diag([1.0, 2.0]), None)[0]
    >>> mu.tolist()
    [2.0, 1.0]
    """
    spec = as_spectrum(kernel)
    A = as_measurement(A, spec.n, size="kernel has size")  # the two disagree: the error names both
    if A is None:
        return np.maximum(spec.eigenvalues, 0.0), spec.project, spec.synthesize, spec, None
    m, n = A.shape
    check_memory(8 * (3 * n * m + 4 * m * m), f"the eigen-system of A K Aᵀ with m={m} measurements of n={n}",
                 "use fewer measurements")
    At = np.ascontiguousarray(A.todense().T)  # (n, m)
    KAt = spec.apply_kernel(At)  # (n, m)
    M = At.T @ KAt
    M = 0.5 * (M + M.T)
    mu, V = _lazy.linalg().eigh(M)
    mu, V = np.maximum(mu[::-1], 0.0), np.ascontiguousarray(V[:, ::-1])
    return mu, (lambda x: V.T @ x), (lambda c: V @ c), spec, KAt @ V


class LinearizedPrediction:
    """Prediction of the linearized dynamics (see :func:`linearized`, :func:`gradient_flow`).

    All methods accept a scalar or an array of iterations/times and are
    vectorised: ``residual(tau)`` has shape ``(dim,)`` for a scalar and
    ``(T, dim)`` for an array of ``T`` values (``dim = n``, or ``m`` with a
    measurement operator).

    Examples
    --------
    Returned by :func:`linearized`: with ``K = diag(1, 0)`` and ``η = ½`` the
    first component of the residual halves at each step and the second, in the
    null space of ``K``, is never fitted:

    >>> import numpy as np
    >>> from ntk_toolkit import linearized
    >>> lin = linearized(np.diag([1.0, 0.0]), [1.0, 1.0], eta=0.5)
    >>> lin.flow, lin.eigenvalues.tolist()
    (False, [1.0, 0.0])
    >>> lin.component_factors(2).tolist(), lin.output(2).round(12).tolist()
    ([0.25, 1.0], [0.75, 0.0])
    >>> lin.limit().round(12).tolist(), lin.fit_time(0.5, target=[1.0, 0.0])
    ([1.0, 0.0], 1)
    """

    def __init__(self, kernel, y, eta, f0, A, flow: bool):
        self.flow = flow
        self.eta = check_positive("eta", eta)
        mu, analysis, synthesis, spec, H = residual_system(kernel, A)
        self.spectrum = spec
        self.A = as_measurement(A, spec.n)
        self.n = spec.n
        self.y = as_measurements(y, self.A, self.n, size="the kernel's size")
        if f0 is None:
            self.f0 = np.zeros(self.n)
        else:
            self.f0 = as_float_array("f0", f0, shape=(self.n,))
        self.eigenvalues = mu
        self._analysis, self._synthesis, self._H = analysis, synthesis, H
        Af0 = self.f0 if self.A is None else self.A.apply(self.f0)
        self.initial_residual = self.y - Af0
        self.coefficients = analysis(self.initial_residual)
        lam_max = float(mu.max()) if mu.size else 0.0
        if not flow and lam_max > 0 and self.eta * lam_max > 2.0 * (1 + 1e-12):
            raise ValueError(
                f"eta={self.eta:.6g} exceeds the stable step 2/λ_max = {2.0 / lam_max:.6g} of the "
                "linear model; use eta <= ntk_toolkit.max_step_size(kernel, A)"
            )

    # factors -------------------------------------------------------------
    def _taus(self, tau):
        t = np.asarray(tau, dtype=float)
        if t.ndim > 1:
            raise ValueError(f"tau must be a scalar or a 1-D array, got shape {t.shape}")
        if not np.all(np.isfinite(t)) or np.any(t < 0):
            raise ValueError(f"tau must be finite and >= 0, got {tau!r}")
        if not self.flow and np.any(t != np.round(t)):
            raise ValueError(f"tau counts gradient-descent steps and must be integer, got {tau!r}; "
                             "use gradient_flow(...) for continuous time")
        return t

    def _factors(self, t):
        mu = self.eigenvalues
        tt = np.atleast_1d(t)[:, None]
        if self.flow:
            return np.exp(-self.eta * mu[None, :] * tt)
        q = 1.0 - self.eta * mu
        with np.errstate(over="ignore", invalid="ignore"):
            return np.power(q[None, :], tt)

    def component_factors(self, tau) -> np.ndarray:
        """``(1 − ημ_i)^τ`` (or ``exp(−ημ_i t)``), shape ``(dim,)`` or ``(T, dim)``.

        ``μ_i`` are the eigenvalues of ``K`` (or ``A K Aᵀ``), in decreasing order
        (``docs/theory.md`` eqs. (4.3), (4.7)).
        """
        t = self._taus(tau)
        F = self._factors(t)
        return F[0] if t.ndim == 0 else F

    def _check_batch(self, t, what: str) -> None:
        T = int(np.size(t))
        check_memory(3 * 8 * T * self.n, f"the predicted {what} at {T} values of τ",
                     "ask for fewer τ at a time, or for loss(τ), which is O(n) per τ")

    def residual(self, tau) -> np.ndarray:
        """Predicted residual ``y − A f_τ``: ``(I − ηK)^τ r_0``. Shape ``(dim,)`` or ``(T, dim)``.

        ``tau`` may be an array of ``T`` values, evaluated at once: O(dim) per
        ``τ`` for the factors, then one batched synthesis — an inverse real FFT
        per ``τ`` (O(n log n)) for a circulant spectrum, a product with the
        ``(n, dim)`` eigenvectors for a dense one.
        """
        t = self._taus(tau)
        self._check_batch(t, "residuals")
        F = self._factors(t) * self.coefficients[None, :]
        R = self._synthesis(F.T).T
        return R[0] if t.ndim == 0 else R

    def loss(self, tau) -> np.ndarray | float:
        """Predicted loss ``½‖r_τ‖² = ½ Σ_i (1 − ημ_i)^{2τ} c_i²``; O(dim) time per ``τ``.

        An array of ``τ`` is evaluated in chunks, so memory stays O(T + 2²⁰)
        however many values are asked for.
        """
        t = self._taus(tau)
        tt = np.atleast_1d(t)
        L = np.empty(tt.size)
        chunk = max(1, (1 << 20) // max(self.coefficients.size, 1))  # bounded (chunk, dim) temporaries
        for s in range(0, tt.size, chunk):
            L[s:s + chunk] = 0.5 * np.sum((self._factors(tt[s:s + chunk]) * self.coefficients[None, :]) ** 2, axis=1)
        return float(L[0]) if t.ndim == 0 else L

    def output(self, tau) -> np.ndarray:
        """Predicted network output ``f_τ`` in signal space, shape ``(n,)`` or ``(T, n)``.

        Denoising: ``f_τ = y − (I − ηK)^τ (y − f_0)``. With ``A``:
        ``f_τ = f_0 + K Aᵀ (A K Aᵀ)⁻¹ [I − (I − ηAKAᵀ)^τ](y − A f_0)``
        (``docs/theory.md`` §5.1, eq. (5.1)), evaluated in the eigenbasis of ``A K Aᵀ``.
        An array of ``T`` values of ``tau`` is evaluated at once, as in :meth:`residual`.
        """
        t = self._taus(tau)
        self._check_batch(t, "outputs")
        if self.A is None:
            out = self.y[None, :] - self._synthesis((self._factors(t) * self.coefficients[None, :]).T).T
        else:
            out = self.f0[None, :] + (self._gain(t) * self.coefficients[None, :]) @ self._H.T
        return out[0] if t.ndim == 0 else out

    def _gain(self, t):
        """``(1 − φ_τ(μ)) / μ`` with its limit ``η τ`` at ``μ = 0``."""
        mu = self.eigenvalues
        tt = np.atleast_1d(t)[:, None]
        tiny = 1e-13 * max(float(mu.max()), np.finfo(float).tiny)
        safe = np.where(mu > tiny, mu, 1.0)[None, :]
        with np.errstate(over="ignore", invalid="ignore"):
            G = (1.0 - self._factors(t)) / safe
        return np.where(mu[None, :] > tiny, G, self.eta * tt)

    def limit(self) -> np.ndarray:
        """Output as ``τ → ∞``: ``y`` projected off the null space of ``K`` (denoising),
        ``f_0 + K Aᵀ (A K Aᵀ)⁺ (y − A f_0)`` with ``A`` (``docs/theory.md`` eq. (5.2)).

        Returns
        -------
        ndarray, shape (n,)
        """
        mu = self.eigenvalues
        tiny = 1e-13 * max(float(mu.max()), np.finfo(float).tiny)
        keep = mu > tiny
        if self.A is None:
            return self.y - self._synthesis(np.where(keep, 0.0, self.coefficients))
        gain = np.where(keep, 1.0 / np.where(keep, mu, 1.0), 0.0)
        return self.f0 + self._H @ (gain * self.coefficients)

    def fit_time(self, delta: float, target=None):
        """First iteration (or time) at which the residual of ``target`` falls to ``delta`` of its norm.

        Fitting ``target`` alone, its residual after ``τ`` steps is
        ``(I − ηK)^τ target``; returns the smallest integer ``τ`` (gradient
        descent) or real ``t`` (gradient flow) with
        ``‖(I − ηK)^τ target‖ <= delta ‖target‖``, or ``inf`` if never reached
        (``docs/theory.md`` §4.1, eq. (4.5)).

        Parameters
        ----------
        delta : float
            In ``(0, 1]``.
        target : array_like, shape (dim,), optional
            Default: the initial residual ``y − A f_0``.
        """
        delta = check_positive("delta", delta)
        if delta > 1:
            raise ValueError(f"delta must be in (0, 1], got {delta}")
        dim = self.coefficients.shape[0]
        c = self.coefficients if target is None else self._analysis(as_float_array("target", target, shape=(dim,)))
        e2 = c**2
        total = float(e2.sum())
        if total == 0:
            return 0
        goal = delta**2 * total
        mu = self.eigenvalues
        if self.flow:
            stuck = mu <= 0
        else:
            stuck = np.abs(1.0 - self.eta * mu) >= 1.0
        if float(e2[stuck].sum()) > goal * (1 - 1e-12):
            return math.inf

        def energy(t):
            return float(np.sum(e2 * self._factors(np.asarray(t, dtype=float))[0] ** 2))

        if energy(0) <= goal:
            return 0
        hi = 1.0
        while energy(hi) > goal:
            hi *= 2.0
            if hi > 1e18:  # pragma: no cover - guarded by `stuck` above
                return math.inf
        lo = hi / 2.0 if hi > 1 else 0.0
        if self.flow:
            return float(_lazy.optimize().brentq(lambda t: energy(t) - goal, lo, hi, xtol=1e-12 * hi, rtol=1e-14))
        lo, hi = int(lo), int(hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if energy(mid) <= goal:
                hi = mid
            else:
                lo = mid
        return hi


@renamed_argument("kernel_or_spectrum", "kernel")
def linearized(kernel, y, eta: float, f0=None, A=None) -> LinearizedPrediction:
    """Linearized gradient-descent dynamics ``r_τ = (I − η K)^τ r_0``.

    ``docs/theory.md`` §4.1, eq. (4.2) (denoising) and §5.1, eq. (5.1) (with a measurement operator:
    ``ρ_τ = (I − η A K Aᵀ)^τ ρ_0``).

    Parameters
    ----------
    kernel : ndarray (n, n), Spectrum or generator
        The kernel ``K``: an empirical kernel ``J Jᵀ``, the expected kernel
        ``Σ``, its :class:`Spectrum`, or a generator (meaning its ``Σ``, via
        the O(n log n) circulant spectrum when available); converted by
        :func:`ntk_toolkit.as_spectrum`.
    y : array_like, shape (n,) or (m,)
        Target or measurements.
    eta : float
        Step size; at most ``2/λ_max(A K Aᵀ)`` (:func:`max_step_size`).
    f0 : array_like, shape (n,), optional
        Initial output ``G(C_0)``; zero by default.
    A : measurement operator or ndarray (m, n), optional

    Returns
    -------
    LinearizedPrediction
        ``residual(tau)``, ``output(tau)``, ``loss(tau)``,
        ``component_factors(tau)``, ``fit_time(delta, target)``, ``limit()``.
        Costs: O(dim) per ``τ`` for ``loss`` and ``component_factors``; one
        synthesis (O(n log n) circulant, O(n²) dense) per ``τ`` for vectors.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import linearized
    >>> lin = linearized(np.diag([1.0, 0.5]), np.array([1.0, 1.0]), eta=0.5)
    >>> lin.residual(2).round(6).tolist()
    [0.25, 0.5625]
    """
    return LinearizedPrediction(kernel, y, eta, f0, A, flow=False)


@renamed_argument("kernel_or_spectrum", "kernel")
def gradient_flow(kernel, y, eta: float = 1.0, f0=None, A=None) -> LinearizedPrediction:
    """Gradient flow of the linearized model: ``r(t) = exp(−η K t) r_0`` (``docs/theory.md`` eq. (4.7)).

    The continuous-time limit of :func:`linearized`; ``t`` is real and
    ``η t`` plays the role of ``η τ``. Same parameters and methods as
    :func:`linearized`, with factors ``exp(−ημ_i t)``.

    Returns
    -------
    LinearizedPrediction
        With ``flow = True``: ``tau`` is a real time ``t >= 0``.

    Examples
    --------
    Each component of the residual decays like ``exp(−ηλt)``; many small
    gradient-descent steps (``η = 10⁻³``, ``τ = 1000``) approach the flow at
    ``η t = 1``:

    >>> import numpy as np
    >>> from ntk_toolkit import gradient_flow, linearized
    >>> K, y = np.diag([2.0, 0.5]), np.array([1.0, 1.0])
    >>> flow = gradient_flow(K, y, eta=1.0)
    >>> bool(np.allclose(flow.residual(1.0), np.exp(-np.array([2.0, 0.5]))))
    True
    >>> bool(np.allclose(linearized(K, y, eta=1e-3).residual(1000), flow.residual(1.0), atol=1e-3))
    True
    >>> round(flow.fit_time(np.exp(-2.0), target=[1.0, 0.0]), 9)  # ‖r(t)‖ = e^{−2t}: t = 1
    1.0
    """
    return LinearizedPrediction(kernel, y, eta, f0, A, flow=True)
