"""Gradient descent on the network and its linearized prediction.

* :func:`gradient_descent` runs plain gradient descent on ``½‖A G(C) − y‖²``
  (``docs/theory.md`` §1.3, eqs. (1.8)–(1.9)) and returns a :class:`Trajectory`.
* :func:`linearized` predicts the discrete iteration ``r_τ = (I − ηK)^τ r_0``
  (``docs/theory.md`` §4.1, §5.1); :func:`gradient_flow` predicts its
  continuous-time limit ``r(t) = exp(−ηKt) r_0``. The two are separate
  functions on purpose: a step count and a time are different things.
* :func:`max_step_size` gives the stable step size.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np

from . import _blas, _lazy
from ._jit import threads_for
from ._memory import check_memory
from ._validation import as_float_array, check_int, check_positive
from .generator import TwoLayerGenerator
from .operators import as_measurement
from .spectrum import Spectrum, spectrum

__all__ = [
    "DivergenceError",
    "Trajectory",
    "LinearizedPrediction",
    "gradient_descent",
    "linearized",
    "gradient_flow",
    "max_step_size",
]


class DivergenceError(RuntimeError):
    """Gradient descent diverged; the message names the iteration, the loss and the stable step."""


# --------------------------------------------------------------------------- step sizes
def max_step_size(gen_or_kernel, A=None) -> float:
    """Stable step size.

    Parameters
    ----------
    gen_or_kernel : TwoLayerGenerator, ndarray (n, n) or Spectrum
    A : measurement operator or ndarray (m, n), optional

    Returns
    -------
    float
        * For a **network** (generator): ``1 / (‖v‖² ‖U‖² ‖A‖²)``. Since
          ``J(C) J(C)ᵀ ⪯ ‖v‖² ‖U‖² I`` for every ``C``, this step makes every
          direction of the linearized iteration contract monotonically
          (``0 <= 1 − ηλ < 1``) whatever the weights (``docs/theory.md`` §1.3,
          eq. (1.11)).
        * For a **linear model** (kernel matrix or Spectrum ``K``):
          ``2 / λ_max(A K Aᵀ)``, the bound above which some component of
          ``(I − ηAKAᵀ)^τ`` grows (eq. (1.12)).
    """
    if isinstance(gen_or_kernel, TwoLayerGenerator):
        gen = gen_or_kernel
        A = as_measurement(A, gen.n)
        vv = float(gen.output_weights @ gen.output_weights)
        a = 1.0 if A is None else A.norm()
        denom = vv * gen.operator.norm() ** 2 * a**2
        if not denom > 0:
            raise ValueError(f"‖v‖²‖U‖²‖A‖² = {denom:g}: the operator U, the output weights v or A is zero, "
                             "so the network's output cannot change and no step size is defined")
        return 1.0 / denom
    system = _residual_system(gen_or_kernel, A)
    lam_max = float(np.max(system[0]))
    if not lam_max > 0:
        raise ValueError("the kernel has no positive eigenvalue: every step size is stable and nothing is fitted")
    return 2.0 / lam_max


# --------------------------------------------------------------------------- trajectory
@dataclass(frozen=True, eq=False)
class Trajectory:
    """Result of :func:`gradient_descent`.

    Attributes
    ----------
    iterations : ndarray of int, shape (R,)
        Iterations at which outputs were recorded (``0`` = initial output).
    outputs : ndarray, shape (R, n)
        ``G(C_τ)`` for ``τ`` in ``iterations``.
    losses : ndarray, shape (steps + 1,)
        ``losses[τ] = ½‖A G(C_τ) − y‖²`` for ``τ = 0 … steps``.
    C : ndarray, shape (n, k)
        Final weights ``C_steps``.
    eta : float
    steps : int
        Steps run (fewer than requested when ``stop_at`` was reached).
    converged : bool
        True when the run stopped because the loss reached ``stop_at`` times
        its initial value; the last recorded output is then the final one.
    """

    iterations: np.ndarray
    outputs: np.ndarray
    losses: np.ndarray
    C: np.ndarray
    eta: float
    steps: int
    converged: bool = False

    def output_at(self, tau: int) -> np.ndarray:
        """The recorded output at iteration ``tau``."""
        hits = np.flatnonzero(self.iterations == tau)
        if hits.size == 0:
            raise ValueError(f"iteration {tau} was not recorded; recorded: {self.iterations.tolist()}")
        return self.outputs[hits[0]]

    def to_dict(self) -> dict:
        return {"iterations": self.iterations.tolist(), "outputs": self.outputs.tolist(),
                "losses": self.losses.tolist(), "eta": self.eta, "steps": self.steps,
                "converged": self.converged}


def geometric_iterations(steps: int, num: int) -> np.ndarray:
    """About ``num`` distinct iterations from 0 to ``steps``, geometrically spaced."""
    steps = check_int("steps", steps, minimum=0)
    num = check_int("num", num, minimum=2)
    if steps == 0:
        return np.zeros(1, dtype=np.int64)
    pts = np.round(np.geomspace(1, steps, num - 1)).astype(np.int64) if num > 2 else np.zeros(0, np.int64)
    return np.unique(np.concatenate([[0, steps], pts]))


def _record_list(record, steps: int) -> np.ndarray:
    if record is None:
        return geometric_iterations(steps, 50)
    if isinstance(record, (int, np.integer)) and not isinstance(record, bool):
        if record < 2:
            raise ValueError(f"record as an int is a number of geometrically spaced iterations (>= 2, "
                             f"0 and steps included), got {record}; pass a list such as [0] to record fewer")
        return geometric_iterations(steps, int(record))
    arr = np.asarray(record)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"record must be None, an int (number of geometrically spaced points) "
                        f"or a sequence of iteration numbers, got {record!r}")
    if arr.size and (arr.min() < 0 or arr.max() > steps):
        raise ValueError(f"record must contain iterations in [0, steps={steps}], got {arr.tolist()}")
    return np.unique(arr.astype(np.int64))


def _check_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be numpy.float64 or numpy.float32, got {dtype!r}") from exc
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be numpy.float64 or numpy.float32, got {dt}")
    return dt


def gradient_descent(gen: TwoLayerGenerator, y, C0, eta: float, steps: int, A=None, record=None,
                     *, check_step: bool = True, divergence_factor: float = 1e6,
                     stop_at: float | None = None, progress: bool = False, dtype=np.float64) -> Trajectory:
    """Plain gradient descent on ``½‖A G(C) − y‖²``.

    ``C_{τ+1} = C_τ − η Uᵀ(M_τ ∘ r_τ vᵀ)`` with ``M_τ = 1{U C_τ > 0}`` and
    ``r_τ = Aᵀ(A G(C_τ) − y)`` (``docs/theory.md`` §1.3, eqs. (1.8)–(1.9)).

    Parameters
    ----------
    gen : TwoLayerGenerator
    y : array_like, shape (n,) or (m,) with ``A``
        Target (measurements).
    C0 : array_like, shape (n, k)
        Initial weights (not modified).
    eta : float
        Step size ``> 0``. With ``check_step`` it must not exceed
        ``2 * max_step_size(gen, A)``, beyond which even the linearization at
        the worst weights is unstable.
    steps : int
        Number of steps ``>= 0``.
    A : measurement operator or ndarray (m, n), optional
        Measurement operator; identity (denoising) when omitted.
    record : None, int or sequence of int
        Iterations at which to store ``G(C_τ)``: explicit list, an int for that
        many geometrically spaced iterations, or ``None`` for 50 of them.
        ``0`` is the initial output.
    check_step : bool, default True
        Reject step sizes above the stable bound.
    divergence_factor : float, default 1e6
        Stop with :class:`DivergenceError` when the loss is not finite or
        exceeds this factor times ``max(loss_0, ½‖y‖²)``.
    stop_at : float, optional
        Stop as soon as the loss is at most ``stop_at`` times the initial loss;
        ``steps`` is then the cap. The trajectory reports the steps run
        (``Trajectory.steps``), whether it stopped early
        (``Trajectory.converged``), and only the requested iterations reached.
    progress : bool, default False
        Show a tqdm progress bar.
    dtype : {numpy.float64, numpy.float32}, default float64
        Precision of the weights ``C`` and of the arithmetic on them. Outputs,
        residuals and losses are always float64 (with direct taps, each row
        of the forward pass is summed in float32 over 256 channels at a time,
        then in float64). ``float32`` halves the memory
        traffic of a step (1.8× faster with direct taps at (512, 2048) on 2 cores); the weights then
        carry a relative rounding error of about 6e-8 per step, and activation
        patterns of entries near 0 may flip, so a float32 trajectory follows
        the float64 one to about 1e-5 relative in the outputs over hundreds of
        steps (measured in ``tests/test_gd_fused.py``). With an FFT operator
        the transforms run in single precision; a dense ``U`` computes in
        float64 and stores ``C`` in float32.

    Returns
    -------
    Trajectory
        ``Trajectory.C`` has the requested ``dtype``.

    Notes
    -----
    With a :class:`CircularConv` applied by direct taps each step is one fused
    Numba sweep over ``C`` by blocks of channels: the update
    ``C ← C − η Uᵀ(M_τ ∘ r_τ vᵀ)`` of each row is followed, ``h`` rows later,
    by the forward pass that yields ``M_{τ+1}`` and ``G(C_{τ+1})``; each entry
    of ``C`` is read and written once per step, O(n k L) time, one ``n x k``
    byte mask as the only temporary; odd symmetric filters of at most seven
    taps (triangles up to ``p = 4``) take rows two at a time, which reads
    fewer rows per output row (about 23 % faster per step). Otherwise ``U``
    is applied by FFT or as a dense matrix (:class:`CircularConv` picks direct taps or FFT by the cost
    rule of ``operators.FFT_COST``). The first call compiles the kernels (a few
    seconds, cached on disk).
    """
    # BLAS calls here (‖A‖, A x, Aᵀ y) stay on one thread: OpenBLAS workers
    # spinning after a call would share the cores with the parallel step
    # (ntk_toolkit._blas)
    with _blas.single_thread():
        return _gradient_descent(gen, y, C0, eta, steps, A, record, check_step, divergence_factor, stop_at,
                                 progress, dtype)


def _gradient_descent(gen, y, C0, eta, steps, A, record, check_step, divergence_factor, stop_at, progress,
                      dtype) -> Trajectory:
    if not isinstance(gen, TwoLayerGenerator):
        raise TypeError(f"gen must be a TwoLayerGenerator, got {type(gen).__name__}")
    A = as_measurement(A, gen.n)
    y = gen._check_y(y, A)
    dtype = _check_dtype(dtype)
    C = np.array(gen._check_C(C0, "C0"), dtype=dtype, order="C", copy=True)
    eta = check_positive("eta", eta)
    steps = check_int("steps", steps, minimum=0)
    divergence_factor = check_positive("divergence_factor", divergence_factor)
    if stop_at is not None:
        stop_at = check_positive("stop_at", stop_at)
    bound = max_step_size(gen, A)
    if check_step and eta > 2.0 * bound * (1 + 1e-12):
        raise ValueError(
            f"eta={eta:.6g} exceeds 2 × the stable step 1/(‖v‖²‖U‖²‖A‖²) = 2 × {bound:.6g}; "
            f"use eta <= ntk_toolkit.max_step_size(gen, A) = {bound:.6g} "
            "(or pass check_step=False to run anyway)"
        )
    rec = _record_list(record, steps)
    outputs = np.empty((rec.size + 1, gen.n))
    losses = np.empty(steps + 1)
    ref = max(0.5 * float(y @ y), np.finfo(float).tiny)
    fused = gen._fused
    op = gen.operator
    if fused:
        from ._kernels import gd
        from ._kernels.rows import pair_taps

        taps, v = gen._fused_args(dtype)
        center = op.center
        fused_step = gd.step
        paired = pair_taps(taps, center)  # odd symmetric filters up to 7 taps: two rows at a time
        if paired is not None:
            (taps, center), fused_step = paired, gd.step_pairs
        bw = gd.block_width(gen.k)
        gpart = np.empty((-(-gen.k // bw), gen.n))
        eta_t = dtype.type(eta)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="gradient descent", unit="step", leave=False)
    j = 0
    converged = False
    last = steps
    small = contextlib.ExitStack()
    # a diverging run overflows: detect it from the loss below instead of warning
    small.enter_context(np.errstate(over="ignore", invalid="ignore"))
    small.enter_context(threads_for(gen.n * gen.k * getattr(op, "taps", np.empty(gen.n)).size))
    try:
        g, mask = gen._forward(C)
        for tau in range(steps + 1):
            if A is None:
                r = g - y
                loss = 0.5 * float(r @ r)
            else:
                rm = A.apply(g) - y
                loss = 0.5 * float(rm @ rm)
                r = np.ascontiguousarray(A.apply_T(rm), dtype=np.float64)
            losses[tau] = loss
            if tau == 0:
                ref = max(ref, loss)
            if not math.isfinite(loss) or loss > divergence_factor * ref:
                raise DivergenceError(
                    f"gradient descent diverged at iteration {tau}: loss {loss:.6g} "
                    f"(initial {losses[0]:.6g}) with eta={eta:.6g}; the stable step size is "
                    f"max_step_size(gen, A) = {bound:.6g}"
                )
            if stop_at is not None and loss <= stop_at * losses[0]:
                converged, last = True, tau
            if j < rec.size and rec[j] == tau:
                outputs[j] = g
                j += 1
            elif converged:  # keep the final output of a run that stopped early
                rec = np.concatenate([rec[:j], [tau]])
                outputs[j] = g
                j += 1
            if tau == steps or converged:
                break
            if fused:
                fused_step(taps, center, mask, np.ascontiguousarray(r, dtype=dtype), v, eta_t, C, gpart, bw)
                g = gpart.sum(axis=0)
            else:
                C -= (eta * gen._backward(mask, r)).astype(dtype, copy=False)
                g, mask = gen._forward(C)
            if bar is not None:
                bar.update(1)
    finally:
        small.close()
        if bar is not None:
            bar.close()
    return Trajectory(iterations=rec[:j], outputs=outputs[:j], losses=losses[:last + 1], C=C, eta=eta,
                      steps=last, converged=converged)


# --------------------------------------------------------------------------- linearized
def _as_spectrum(kernel_or_spectrum) -> Spectrum:
    if isinstance(kernel_or_spectrum, (Spectrum, TwoLayerGenerator, np.ndarray, list, tuple)):
        return spectrum(kernel_or_spectrum)
    raise TypeError(
        "kernel_or_spectrum must be a kernel matrix (n, n), a Spectrum or a TwoLayerGenerator "
        f"(for its expected kernel Σ), got {type(kernel_or_spectrum).__name__}"
    )


def _residual_system(kernel_or_spectrum, A):
    """Eigen-system of the residual iteration: ``K`` (denoising) or ``A K Aᵀ``.

    Returns ``(mu, analysis, synthesis, spec, KAt_basis)``.
    """
    spec = _as_spectrum(kernel_or_spectrum)
    A = as_measurement(A, spec.n)
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
    """

    def __init__(self, kernel_or_spectrum, y, eta, f0, A, flow: bool):
        self.flow = flow
        self.eta = check_positive("eta", eta)
        mu, analysis, synthesis, spec, H = _residual_system(kernel_or_spectrum, A)
        self.spectrum = spec
        self.A = as_measurement(A, spec.n)
        self.n = spec.n
        m = self.n if self.A is None else self.A.shape[0]
        self.y = as_float_array("y", y, shape=(m,))
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


def linearized(kernel_or_spectrum, y, eta: float, f0=None, A=None) -> LinearizedPrediction:
    """Linearized gradient-descent dynamics ``r_τ = (I − η K)^τ r_0``.

    ``docs/theory.md`` §4.1, eq. (4.2) (denoising) and §5.1, eq. (5.1) (with a measurement operator:
    ``ρ_τ = (I − η A K Aᵀ)^τ ρ_0``).

    Parameters
    ----------
    kernel_or_spectrum : ndarray (n, n), Spectrum or TwoLayerGenerator
        The kernel ``K``: an empirical kernel ``J Jᵀ``, the expected kernel
        ``Σ``, its :class:`Spectrum`, or a generator (meaning its ``Σ``, via
        the O(n log n) circulant spectrum when available).
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
    return LinearizedPrediction(kernel_or_spectrum, y, eta, f0, A, flow=False)


def gradient_flow(kernel_or_spectrum, y, eta: float = 1.0, f0=None, A=None) -> LinearizedPrediction:
    """Gradient flow of the linearized model: ``r(t) = exp(−η K t) r_0`` (``docs/theory.md`` eq. (4.7)).

    The continuous-time limit of :func:`linearized`; ``t`` is real and
    ``η t`` plays the role of ``η τ``. Same parameters and methods as
    :func:`linearized`, with factors ``exp(−ημ_i t)``.
    """
    return LinearizedPrediction(kernel_or_spectrum, y, eta, f0, A, flow=True)
