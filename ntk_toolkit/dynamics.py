"""Gradient descent on the network.

* :func:`gradient_descent` runs plain gradient descent on ``½‖A G(C) − y‖²``
  (``docs/theory.md`` §1.3, eqs. (1.8)–(1.9)) on any generator of the
  :class:`~ntk_toolkit.generator.Generator` protocol and returns a
  :class:`Trajectory`; with ``stop_at`` it runs until the loss has fallen
  by that factor (:func:`run_to_convergence` is the same with a default step).
* :func:`max_step_size` gives the stable step size (:mod:`ntk_toolkit.stability`);
  the guard of :func:`gradient_descent` estimates the stability limit of the
  linearized iteration at ``C_0`` and warns or refuses above it.
* ``diagnostics=True`` records whether the run stays in the linear regime
  (:mod:`ntk_toolkit.diagnostics`, :mod:`ntk_toolkit.regime`).
* The linearized prediction of the same dynamics lives in
  :mod:`ntk_toolkit.prediction` (:func:`~ntk_toolkit.linearized`,
  :func:`~ntk_toolkit.gradient_flow`), the result of a run and the
  ``record`` arguments in :mod:`ntk_toolkit.trajectory` (:class:`Trajectory`,
  :func:`geometric_iterations`, :func:`record_iterations`); all re-exported here.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass

import numpy as np

from . import _blas
from ._jit import threads_for
from ._memory import check_memory
from ._validation import as_float_array, check_bool, check_int, check_positive
from .generator import Generator, is_generator
from .measurements import as_measurement
from .prediction import LinearizedPrediction, gradient_flow, linearized
from .stability import HARD_FACTOR, StepSizeWarning, max_step_size, step_limit
from .trajectory import Trajectory, geometric_iterations, record_iterations, stop_reason

__all__ = [
    "DivergenceError",
    "Trajectory",
    "Convergence",
    "LinearizedPrediction",
    "gradient_descent",
    "run_to_convergence",
    "linearized",
    "gradient_flow",
    "max_step_size",
    "geometric_iterations",
    "record_iterations",
]


class DivergenceError(RuntimeError):
    """Gradient descent diverged; the message names the iteration, the loss and the stable step.

    Examples
    --------
    A step a thousand times the stable one, let through with
    ``check_step=False``, blows the loss up at once:

    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, DivergenceError, TwoLayerGenerator, gradient_descent, max_step_size
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 16), k=64)
    >>> y = np.cos(2 * np.pi * np.arange(16) / 16)
    >>> eta = 1000 * max_step_size(gen)
    >>> gradient_descent(gen, y, gen.init(seed=0, omega=0.1), eta, steps=10, check_step=False)
    Traceback (most recent call last):
        ...
    ntk_toolkit.dynamics.DivergenceError: gradient descent diverged at iteration ...: loss ... with eta=375;
    a stable step is eta = max_step_size(gen, A) = 0.375
    >>> issubclass(DivergenceError, RuntimeError)
    True
    """


def _check_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be numpy.float64 or numpy.float32, got {dtype!r}") from exc
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be numpy.float64 or numpy.float32, got {dt}")
    return dt


def gradient_descent(gen: Generator, y, C0, eta: float, steps: int, A=None, record=None,
                     *, check_step: bool = True, divergence_factor: float = 1e6, divergence_window: int = 100,
                     stop_at: float | None = None, progress: bool = False, dtype=np.float64,
                     diagnostics: bool | str = False, diagnostics_at=None) -> Trajectory:
    """Plain gradient descent on ``½‖A G(C) − y‖²``.

    ``C_{τ+1} = C_τ − η Uᵀ(M_τ ∘ r_τ vᵀ)`` with ``M_τ = 1{U C_τ > 0}`` and
    ``r_τ = Aᵀ(A G(C_τ) − y)`` (``docs/theory.md`` §1.3, eqs. (1.8)–(1.9)).

    Parameters
    ----------
    gen : Generator
        A :class:`~ntk_toolkit.TwoLayerGenerator`, or any generator of the
        :class:`~ntk_toolkit.generator.Generator` protocol: each step then
        costs one ``forward`` and one ``vjp`` (or its
        ``forward_pattern``/``backward`` pair, or its ``fused_step``).
    y : array_like, shape (n,) or (m,) with ``A``
        Target (measurements).
    C0 : array_like, shape (n, k)
        Initial weights (not modified).
    eta : float
        Step size ``> 0``. With ``check_step``, see the step-size guard in Notes.
    steps : int
        Number of steps ``>= 0``.
    A : measurement operator or ndarray (m, n), optional
        Measurement operator; identity (denoising) when omitted.
    record : None, int or sequence of int
        Iterations at which to store ``G(C_τ)``: explicit list, an int for that
        many geometrically spaced iterations, or ``None`` for 50 of them.
        ``0`` is the initial output.
    check_step : bool, default True
        The step-size guard (Notes): accept steps below the stability limit
        of the linearized iteration at ``C_0``, warn above it, refuse far above.
    divergence_factor : float, default 1e6
        Stop with :class:`DivergenceError` when the loss is not finite or
        exceeds this factor times the smallest loss of the last
        ``divergence_window`` iterations (floored at ``1e-6 × max(loss_0, ½‖y‖²)``,
        so that rounding noise of a converged run is not growth).
    divergence_window : int, default 100
        Window of that comparison, ``>= 1``.
    stop_at : float, optional
        Stop as soon as the loss is at most ``stop_at`` times the initial loss;
        ``steps`` is then the cap. The trajectory reports the steps run
        (``Trajectory.steps``), whether it stopped early
        (``Trajectory.converged``, ``Trajectory.reason``), and only the
        requested iterations reached.
    progress : bool, default False
        Show a tqdm progress bar.
    diagnostics : bool or {"auto", "dense", "matrix-free"}, default False
        Record the regime diagnostics at the recorded iterations
        (:class:`Trajectory` ``.weight_change``, ``.sign_flips``,
        ``.kernel_drift``, ``.linearization_gap``; judged by
        :func:`ntk_toolkit.linear_regime`). ``True`` is ``"auto"``: the exact
        kernel drift (dense ``K``) up to ``n = 4096`` with the linearized
        outputs from an eigendecomposition up to ``n = 256`` and from a
        Lanczos decomposition above, matrix-free estimates above ``n = 4096``;
        above ``n = 256`` a ReLU convolution with a short filter (1-D or 2-D)
        takes the exact drift on the band of ``U Uᵀ`` at every ``n``
        (:class:`~ntk_toolkit.diagnostics.DiagnosticsRecorder`). Cost: one
        kernel per recorded iteration (dense popcount kernel, or 4 kernel
        products) and one eigendecomposition or Lanczos run.
    diagnostics_at : None, int or sequence of int
        Where the diagnostics are taken (with ``diagnostics``), independently
        of ``record``: ``None`` for the recorded iterations, an int for that
        many geometrically spaced iterations, or a list
        (``Trajectory.diagnostics_iterations``). A run recorded densely (a
        PSNR curve) keeps its diagnostics cheap with e.g. ``diagnostics_at=20``.
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
    *Step-size guard* (``docs/theory.md`` §9.2). A step ``η <= 2/β``
    (``2 ×`` :func:`max_step_size` ``(gen, A)``, ``β`` from
    ``kernel_norm_bound``) is stable for the linearization at every weight
    and is accepted at once. Otherwise :func:`~ntk_toolkit.stability.step_limit`
    estimates ``λ̂ ≈ λ_max(A K(C_0) Aᵀ)`` by power iteration (O(n k L) per
    iteration, ``λ̂ <= λ_max``); steps up to ``2/λ̂`` are accepted — every
    step below the actual limit is, and one above it only within the
    estimate's error ``δ = 0.02`` (:data:`~ntk_toolkit.stability.SAFETY_MARGIN`) —,
    steps up to twice ``2/λ̂`` run with a
    :class:`~ntk_toolkit.stability.StepSizeWarning`, larger steps raise
    ``ValueError``. A run that diverges anyway (non-finite loss, or growth by
    ``divergence_factor`` within ``divergence_window`` iterations) stops with
    :class:`DivergenceError` naming the iteration, the loss and a stable step.

    With a :class:`~ntk_toolkit.operators.CircularConv` applied by direct taps
    (``gen.fused_step(eta, dtype)`` is not ``None``) each step is one fused
    Numba sweep over ``C`` by blocks of channels: the update
    ``C ← C − η Uᵀ(M_τ ∘ r_τ vᵀ)`` of each row is followed, ``h`` rows later,
    by the forward pass that yields ``M_{τ+1}`` and ``G(C_{τ+1})``; each entry
    of ``C`` is read and written once per step, O(n k L) time, one ``n x k``
    byte mask as the only temporary; odd symmetric filters of at most seven
    taps (triangles up to ``p = 4``) take rows two at a time, which reads
    fewer rows per output row (about 23 % faster per step). Otherwise ``U``
    is applied by FFT or as a dense matrix (``CircularConv`` picks direct taps or FFT by the cost
    rule of ``operators.FFT_COST``). The first call compiles the kernels (a few
    seconds, cached on disk).

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import TwoLayerGenerator, max_step_size
    >>> from ntk_toolkit.filters import triangle
    >>> from ntk_toolkit.operators import CircularConv
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 16), k=64)
    >>> y = np.cos(2 * np.pi * np.arange(16) / 16)
    >>> traj = gradient_descent(gen, y, gen.init(seed=0, omega=0.1), eta=max_step_size(gen), steps=100,
    ...                         record=[0, 100])
    >>> traj.iterations.tolist(), bool(traj.losses[-1] < 0.01 * traj.losses[0])
    ([0, 100], True)
    """
    # BLAS calls here (‖A‖, A x, Aᵀ y) stay on one thread: OpenBLAS workers
    # spinning after a call would share the cores with the parallel step
    # (ntk_toolkit._blas)
    with _blas.single_thread():
        return _gradient_descent(gen, y, C0, eta, steps, A, record, check_step, divergence_factor,
                                 divergence_window, stop_at, progress, dtype, diagnostics, diagnostics_at)


def _passes(gen):
    """``(forward_pattern, backward)`` of a generator: its fast pair, or ``forward`` and ``vjp``."""
    if hasattr(gen, "forward_pattern") and hasattr(gen, "backward"):
        return gen.forward_pattern, gen.backward
    return (lambda C: (np.asarray(gen.forward(C), dtype=np.float64), C)), gen.vjp


def _step_guard(gen, C0, A, eta: float, bound):
    """The step-size guard of :func:`gradient_descent`: ``None`` (``η <= 2/β``) or the :class:`StepLimit`."""
    if bound is not None and eta <= 2.0 * bound * (1 + 1e-12):
        return None
    lim = step_limit(gen, C0, A)
    if eta > lim.hard:
        raise ValueError(
            f"eta={eta:.6g} exceeds {HARD_FACTOR:g} × the stability limit 2/λ_max(A K(C0) Aᵀ) ≈ {lim.limit:.6g} "
            f"of the linearized iteration at C0 (power iteration, λ_max ≈ {lim.lam_max:.6g}); use "
            f"eta <= {lim.safe:.6g} (or pass check_step=False to run anyway)"
        )
    if eta > lim.accept:
        warnings.warn(StepSizeWarning(
            f"eta={eta:.6g} is above the stability limit 2/λ_max(A K(C0) Aᵀ) ≈ {lim.limit:.6g} of the linearized "
            f"iteration at C0 (a step below it: eta <= {lim.safe:.6g}); the network may still train, "
            "but the linearized prediction does not describe the run"), stacklevel=4)
    return lim


def _diverged(gen, C0, A, tau, loss, losses, eta, bound, lim, window) -> DivergenceError:
    if bound is not None:
        stable = f"a stable step is eta = max_step_size(gen, A) = {bound:.6g}"
    else:
        if lim is None:
            with contextlib.suppress(ValueError, TypeError):
                lim = step_limit(gen, C0, A)
        stable = ("no stable step size is known" if lim is None
                  else f"a stable step is eta = {0.5 * lim.safe:.6g} (half the stability limit at C0)")
    recent = float(np.min(losses[max(0, tau - window):tau])) if tau > 0 else float(losses[0])
    return DivergenceError(
        f"gradient descent diverged at iteration {tau}: loss {loss:.6g} (initial {losses[0]:.6g}, smallest of "
        f"the previous {min(tau, window)} iterations {recent:.6g}) with eta={eta:.6g}; {stable}"
    )


def _gradient_descent(gen, y, C0, eta, steps, A, record, check_step, divergence_factor, window, stop_at,
                      progress, dtype, diagnostics, diagnostics_at=None) -> Trajectory:
    if not is_generator(gen):
        raise TypeError(
            "gen must be a generator (a TwoLayerGenerator, or an object with n, num_params, init, forward, jvp "
            f"and vjp), got {type(gen).__name__}"
        )
    A = as_measurement(A, gen.n)
    m = gen.n if A is None else A.shape[0]
    y = gen.check_target(y, A) if hasattr(gen, "check_target") else as_float_array("y", y, shape=(m,))
    dtype = _check_dtype(dtype)
    if diagnostics is True:
        diagnostics = "auto"
    if diagnostics is not False and (not isinstance(diagnostics, str)
                                     or diagnostics not in ("auto", "dense", "matrix-free")):
        raise ValueError(f"diagnostics must be True, False, 'auto', 'dense' or 'matrix-free', got {diagnostics!r}")
    C0 = gen.check_weights(C0, "C0") if hasattr(gen, "check_weights") else as_float_array("C0", C0)
    check_memory(C0.size * (dtype.itemsize + 1) + (8 * C0.size if diagnostics else 0),
                 f"gradient descent on weights of shape {C0.shape} (a copy of C0, the activation mask"
                 f"{' and the copy of C0 for the diagnostics' if diagnostics else ''})",
                 "use a smaller n or k, or dtype=numpy.float32")
    C = np.array(C0, dtype=dtype, order="C", copy=True)
    eta = check_positive("eta", eta)
    steps = check_int("steps", steps, minimum=0)
    divergence_factor = check_positive("divergence_factor", divergence_factor)
    window = check_int("divergence_window", window, minimum=1)
    if stop_at is not None:
        stop_at = check_positive("stop_at", stop_at)
    check_step = check_bool("check_step", check_step)
    bound = (max_step_size(gen, A) if hasattr(gen, "kernel_norm_bound") and math.isfinite(gen.kernel_norm_bound())
             else None)
    check_memory(8 * (steps + 1), f"the losses of steps={steps} iterations",
                 "use fewer steps per call (a run can continue from Trajectory.C)")
    lim = _step_guard(gen, np.asarray(C0, dtype=np.float64), A, eta, bound) if check_step else None
    rec = record_iterations(record, steps)
    if diagnostics_at is not None and not diagnostics:
        raise ValueError(f"diagnostics_at={diagnostics_at!r} needs diagnostics=True (or 'auto', 'dense', "
                         "'matrix-free')")
    drec = rec if diagnostics_at is None else record_iterations(diagnostics_at, steps, "diagnostics_at")
    dset = set(drec.tolist()) if diagnostics else set()
    outputs = np.empty((rec.size + 1, gen.n))
    losses = np.empty(steps + 1)
    ref = max(0.5 * float(y @ y), np.finfo(float).tiny)
    recorder = None
    fused = gen.fused_step(eta, dtype) if hasattr(gen, "fused_step") else None
    forward_pattern, backward = _passes(gen)
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
    if fused is not None:
        small.enter_context(threads_for(fused.work))
    try:
        g, mask = forward_pattern(C)
        if diagnostics:
            from .diagnostics import DiagnosticsRecorder

            keep = hasattr(gen, "forward_pattern")  # else the "pattern" of _passes is C itself, not a pattern
            recorder = DiagnosticsRecorder(gen, C0, g, mask if keep else None, y, A, eta, method=diagnostics)
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
                if not math.isfinite(loss):
                    raise ValueError(
                        f"the initial loss ½‖A G(C0) − y‖² is not finite ({loss}): G(C0) overflows for C0 with "
                        f"entries up to {float(np.max(np.abs(C0))):.3g}; use a smaller initialisation scale "
                        "(omega of gen.init)")
                ref = max(ref, loss)
            if not math.isfinite(loss) or (loss > divergence_factor * 1e-6 * ref and tau > 0 and loss > (
                    divergence_factor * max(1e-6 * ref, float(np.min(losses[max(0, tau - window):tau]))))):
                raise _diverged(gen, C0, A, tau, loss, losses, eta, bound, lim, window)
            if stop_at is not None and loss <= stop_at * losses[0]:
                converged, last = True, tau
            if j < rec.size and rec[j] == tau:
                outputs[j] = g
                j += 1
            elif converged:  # keep the final output of a run that stopped early
                rec = np.concatenate([rec[:j], [tau]])
                outputs[j] = g
                j += 1
            if recorder is not None and (tau in dset or converged):
                recorder.record(tau, C, g, mask if keep else None)
            if tau == steps or converged:
                break
            if fused is not None:
                g = fused(mask, r, C)
            else:
                C -= (eta * backward(mask, r)).astype(dtype, copy=False)
                g, mask = forward_pattern(C)
            if bar is not None:
                bar.update(1)
    finally:
        small.close()
        if bar is not None:
            bar.close()
    reason = stop_reason(converged, stop_at, last, steps, losses)
    diag = {} if recorder is None else recorder.finish()
    return Trajectory(iterations=rec[:j], outputs=outputs[:j], losses=losses[:last + 1], C=C, eta=eta,
                      steps=last, converged=converged, reason=reason, step_limit=lim, **diag)


# --------------------------------------------------------------------------- convergence
@dataclass(frozen=True, eq=False)
class Convergence:
    """Result of :func:`run_to_convergence`.

    Attributes
    ----------
    trajectory : Trajectory
    converged : bool
        True if the loss fell below ``rtol`` times its initial value.
    reason : str
        Why the run stopped.
    steps : int
    losses : ndarray
        Training loss at every step.
    iterations : ndarray
        Recorded iterations.
    errors : ndarray or None
        ``‖G(C_τ) − x‖`` at the recorded iterations when ``x_true`` was given.
    output : ndarray, shape (n,)
        Final output ``G(C_steps)``.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import TwoLayerGenerator
    >>> from ntk_toolkit.filters import triangle
    >>> from ntk_toolkit.operators import CircularConv
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 16), k=64)
    >>> y = np.cos(2 * np.pi * np.arange(16) / 16)
    >>> res = run_to_convergence(gen, y, gen.init(seed=0, omega=0.1), rtol=1e-6, x_true=y)
    >>> res.converged, bool(res.errors[-1] < 1e-2)
    (True, True)
    """

    trajectory: Trajectory
    converged: bool
    reason: str
    steps: int
    losses: np.ndarray
    iterations: np.ndarray
    errors: np.ndarray | None
    output: np.ndarray

    def to_dict(self) -> dict:
        return {"converged": self.converged, "reason": self.reason, "steps": self.steps,
                "final_loss": float(self.losses[-1]), "iterations": self.iterations.tolist(),
                "errors": None if self.errors is None else self.errors.tolist()}


def run_to_convergence(gen: Generator, y, C0, eta: float | None = None, A=None, rtol: float = 1e-10,
                       max_steps: int = 100_000, x_true=None, record=50, progress: bool = False,
                       diagnostics: bool | str = False, diagnostics_at=None) -> Convergence:
    """Run gradient descent until the training loss falls below ``rtol`` × its
    initial value, or ``max_steps`` steps — and say which.

    :func:`gradient_descent` with ``stop_at=rtol``, a default step size and
    the image-space error of each recorded output.

    Parameters
    ----------
    gen : Generator
    y : array_like, shape (m,) (or (n,) without ``A``)
    C0 : array_like, shape (n, k)
    eta : float, optional
        Default :func:`ntk_toolkit.max_step_size` ``(gen, A)``.
    A : measurement operator or ndarray (m, n), optional
    rtol : float, default 1e-10
    max_steps : int, default 100000
    x_true : array_like, shape (n,), optional
        Truth, to report the image-space error ``‖G(C_τ) − x‖``.
    record : int or sequence, default 50
        Iterations at which outputs are kept (see :func:`gradient_descent`); the
        final output is always kept.
    diagnostics : bool or str, default False
        Regime diagnostics at the recorded iterations, or at ``diagnostics_at``
        (see :func:`gradient_descent`); the final iteration is always among them.
    diagnostics_at : None, int or sequence of int
        See :func:`gradient_descent` (an int spaces them geometrically up to ``max_steps``).

    Returns
    -------
    Convergence

    Examples
    --------
    The result says whether the loss reached ``rtol`` or the step cap was hit:

    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, run_to_convergence
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 16), k=64)
    >>> y = np.cos(2 * np.pi * np.arange(16) / 16)
    >>> C0 = gen.init(seed=0, omega=0.1)
    >>> res = run_to_convergence(gen, y, C0, rtol=1e-6)
    >>> res.converged, bool(res.losses[-1] <= 1e-6 * res.losses[0])
    (True, True)
    >>> short = run_to_convergence(gen, y, C0, rtol=1e-6, max_steps=5)
    >>> short.converged, short.steps, short.reason
    (False, 5, 'step cap max_steps=5 reached with loss ratio ...')
    """
    rtol = check_positive("rtol", rtol)
    max_steps = check_int("max_steps", max_steps, minimum=1)
    eta = max_step_size(gen, A) if eta is None else eta
    if record is not None and not isinstance(record, (int, np.integer)):
        arr = np.asarray(record)
        if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
            raise TypeError(f"record must be an int or a 1-D sequence of integer iterations, got {record!r}")
        record = np.union1d(arr.astype(np.int64), [max_steps])  # always keep the final output
    traj = gradient_descent(gen, y, C0, eta, max_steps, A=A, record=record, stop_at=rtol, progress=progress,
                            diagnostics=diagnostics, diagnostics_at=diagnostics_at)
    reason = (f"loss fell below rtol={rtol:g} × initial loss after {traj.steps} steps" if traj.converged
              else f"step cap max_steps={max_steps} reached with loss ratio {traj.losses[-1] / traj.losses[0]:.3g}")
    errors = None
    if x_true is not None:
        x = as_float_array("x_true", x_true, shape=(gen.n,))
        errors = np.linalg.norm(traj.outputs - x[None, :], axis=1)
    return Convergence(trajectory=traj, converged=traj.converged, reason=reason, steps=traj.steps,
                       losses=traj.losses, iterations=traj.iterations, errors=errors, output=traj.outputs[-1])
