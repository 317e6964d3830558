"""The result of a gradient-descent run and the iterations it records.

* :class:`Trajectory` — what :func:`ntk_toolkit.gradient_descent` returns: the
  recorded outputs, every loss, the final weights and, with ``diagnostics``,
  the regime diagnostics (``docs/theory.md`` §9.1).
* :func:`geometric_iterations` and :func:`record_iterations` — the iterations
  named by a ``record`` (or ``diagnostics_at``) argument.

All three are re-exported by :mod:`ntk_toolkit.dynamics`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validation import check_int
from .stability import StepLimit

__all__ = ["Trajectory", "geometric_iterations", "record_iterations", "stop_reason"]


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
    reason : str
        Why the run stopped, in words (the requested steps were run, the
        loss reached ``stop_at``, or the step cap was reached first).
    weight_change, sign_flips, kernel_drift, linearization_gap : ndarray, shape (D,), or None
        Regime diagnostics at the iterations ``diagnostics_iterations``
        (``diagnostics=True``; ``None`` otherwise): ``‖C_τ − C_0‖_F/‖C_0‖_F``, the fraction of
        activation signs flipped since ``C_0``, ``‖K(C_τ) − K(C_0)‖_F/‖K(C_0)‖_F``
        and the distance of ``G(C_τ)`` from the linearized prediction relative
        to ``max(‖y‖/‖A‖, ‖G(C_0)‖)`` (:mod:`ntk_toolkit.diagnostics`,
        ``docs/theory.md`` §9.1).
    diagnostics_iterations : ndarray of int, shape (D,), or None
        Where the diagnostics were taken: the recorded ``iterations`` unless
        ``diagnostics_at`` named others.
    diagnostics_method : str or None
        ``"dense"`` (exact), ``"dense-drift"`` (exact drift, linearized
        outputs from a converged Lanczos decomposition), ``"banded"`` (exact
        drift from the co-activation counts on the band of ``U Uᵀ`` of a
        convolution, Lanczos outputs) or ``"matrix-free"``
        (the kernel drift is a Hutchinson estimate with 4 probes, stated as
        an estimate, and the outputs come from Lanczos).
    step_limit : StepLimit or None
        The stability estimate the step-size guard computed (``None`` when
        ``eta`` was below ``2/β``, stable for every weight, or the guard was off).

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import TwoLayerGenerator, gradient_descent, max_step_size
    >>> from ntk_toolkit.filters import triangle
    >>> from ntk_toolkit.operators import CircularConv
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 16), k=64)
    >>> y = np.cos(2 * np.pi * np.arange(16) / 16)
    >>> traj = gradient_descent(gen, y, gen.init(seed=0, omega=0.1), eta=max_step_size(gen), steps=500,
    ...                         stop_at=1e-4)
    >>> traj.converged, bool(traj.losses[-1] <= 1e-4 * traj.losses[0]), traj.reason.startswith("loss fell")
    (True, True, True)
    """

    iterations: np.ndarray
    outputs: np.ndarray
    losses: np.ndarray
    C: np.ndarray
    eta: float
    steps: int
    converged: bool = False
    reason: str = ""
    weight_change: np.ndarray | None = None
    sign_flips: np.ndarray | None = None
    kernel_drift: np.ndarray | None = None
    linearization_gap: np.ndarray | None = None
    diagnostics_method: str | None = None
    step_limit: StepLimit | None = None
    diagnostics_iterations: np.ndarray | None = None

    def output_at(self, tau: int) -> np.ndarray:
        """The recorded output at iteration ``tau``."""
        hits = np.flatnonzero(self.iterations == tau)
        if hits.size == 0:
            raise ValueError(f"iteration {tau} was not recorded; recorded: {self.iterations.tolist()}")
        return self.outputs[hits[0]]

    def to_dict(self) -> dict:
        out = {"iterations": self.iterations.tolist(), "outputs": self.outputs.tolist(),
               "losses": self.losses.tolist(), "eta": self.eta, "steps": self.steps,
               "converged": self.converged, "reason": self.reason}
        if self.weight_change is not None:
            for key in ("weight_change", "sign_flips", "kernel_drift", "linearization_gap"):
                out[key] = [None if not math.isfinite(x) else float(x) for x in getattr(self, key)]
            out["diagnostics_method"] = self.diagnostics_method
            out["diagnostics_iterations"] = np.asarray(self.diagnostics_iterations).tolist()
        if self.step_limit is not None:
            out["step_limit"] = self.step_limit.to_dict()
        return out


def geometric_iterations(steps: int, num: int) -> np.ndarray:
    """About ``num`` distinct iterations from 0 to ``steps``, geometrically spaced.

    Parameters
    ----------
    steps : int
        Last iteration, ``>= 0``.
    num : int
        ``>= 2``; rounding to integers may merge some points.

    Returns
    -------
    ndarray of int
        Increasing, starting at 0 and ending at ``steps``.

    Examples
    --------
    >>> geometric_iterations(100, 5).tolist()
    [0, 1, 5, 22, 100]
    >>> geometric_iterations(3, 10).tolist()  # fewer points when they coincide
    [0, 1, 2, 3]
    """
    steps = check_int("steps", steps, minimum=0)
    num = min(check_int("num", num, minimum=2), steps + 1)  # no more distinct iterations than 0 … steps
    if steps == 0:
        return np.zeros(1, dtype=np.int64)
    pts = np.round(np.geomspace(1, steps, num - 1)).astype(np.int64) if num > 2 else np.zeros(0, np.int64)
    return np.unique(np.concatenate([[0, steps], pts]))


def record_iterations(record, steps: int, name: str = "record") -> np.ndarray:
    """The iterations named by a ``record`` argument of :func:`gradient_descent`, checked against ``steps``.

    Parameters
    ----------
    record : None, int or sequence of int
        ``None`` for 50 geometrically spaced iterations, an int ``>= 2`` for
        that many (:func:`geometric_iterations`), or explicit iterations in
        ``[0, steps]``.
    steps : int
    name : str, default "record"
        The argument named in errors (``"diagnostics_at"``).

    Returns
    -------
    ndarray of int
        Sorted, without repeats.

    Examples
    --------
    >>> record_iterations([5, 0, 5], 10).tolist()
    [0, 5]
    >>> record_iterations(4, 100).tolist()
    [0, 1, 10, 100]
    """
    steps = check_int("steps", steps, minimum=0)
    if record is None:
        return geometric_iterations(steps, 50)
    if isinstance(record, (int, np.integer)) and not isinstance(record, bool):
        if record < 2:
            raise ValueError(f"{name} as an int is a number of geometrically spaced iterations (>= 2, "
                             f"0 and steps included), got {record}; pass a list such as [0] to record fewer")
        return geometric_iterations(steps, int(record))
    arr = np.asarray(record)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be None, an int (number of geometrically spaced points) "
                        f"or a sequence of iteration numbers, got {record!r}")
    if arr.size and (arr.min() < 0 or arr.max() > steps):
        raise ValueError(f"{name} must contain iterations in [0, steps={steps}], got {arr.tolist()}")
    return np.unique(arr.astype(np.int64))


def stop_reason(converged: bool, stop_at: float | None, last: int, steps: int, losses) -> str:
    """Why a run stopped, in words (``Trajectory.reason``): ``stop_at`` reached, the step cap, or the steps asked.

    Examples
    --------
    >>> stop_reason(True, 1e-4, 37, 100, [1.0])
    'loss fell below stop_at=0.0001 × initial loss after 37 steps'
    >>> stop_reason(False, 1e-4, 100, 100, [2.0] + [0.5] * 100)
    'step cap steps=100 reached with loss ratio 0.25'
    """
    if converged:
        return f"loss fell below stop_at={stop_at:g} × initial loss after {last} steps"
    if stop_at is not None:
        return f"step cap steps={steps} reached with loss ratio {losses[last] / losses[0]:.3g}"
    return f"ran the requested steps={steps}"
