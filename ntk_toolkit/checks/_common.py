"""Shared set-ups for the checks: generators, runs of the network next to the linear model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dynamics import LinearizedPrediction, Trajectory, gradient_descent, linearized, max_step_size
from ..filters import Filter, from_spec
from ..generator import TwoLayerGenerator
from ..operators import CircularConv
from ..spectrum import Spectrum, spectrum


def make_gen(filt, n: int, k: int) -> TwoLayerGenerator:
    """Generator with a circulant operator; ``filt`` is a Filter or a spec such as ``"triangle:4"``."""
    if not isinstance(filt, Filter):
        filt = from_spec(filt)
    return TwoLayerGenerator(CircularConv(filt, n), k)


@dataclass
class Run:
    """A gradient-descent run and the linearized prediction from the same start."""

    gen: TwoLayerGenerator
    spec: Spectrum
    traj: Trajectory
    lin: LinearizedPrediction
    y: np.ndarray
    eta: float

    @property
    def iterations(self) -> np.ndarray:
        return self.traj.iterations

    def actual_residuals(self) -> np.ndarray:
        """``y − G(C_τ)`` at the recorded iterations, shape (R, n)."""
        return self.y[None, :] - self.traj.outputs

    def predicted_residuals(self) -> np.ndarray:
        return self.lin.residual(self.traj.iterations)


def run_pair(gen: TwoLayerGenerator, y, steps: int, seed: int, omega: float = 1.0, symmetric: bool = True,
             eta: float | None = None, eta_pred: float | None = None, record=None, spec=None) -> Run:
    """Run gradient descent on the network and build the linearized prediction (``Σ``).

    ``eta_pred`` (default ``eta``) is the step size used in the prediction only —
    the checks' self-tests use it to inject a wrong prediction.
    """
    eta = max_step_size(gen) if eta is None else eta
    if record is not None and not isinstance(record, (int, np.integer)):
        record = np.union1d([0], np.asarray(record, dtype=np.int64))
    C0 = gen.init(seed=seed, omega=omega, symmetric=symmetric)
    traj = gradient_descent(gen, y, C0, eta, steps, record=record)
    spec = spectrum(gen) if spec is None else spec
    lin = linearized(spec, y, eta if eta_pred is None else eta_pred, f0=traj.outputs[0])
    return Run(gen=gen, spec=spec, traj=traj, lin=lin, y=np.asarray(y, float), eta=eta)
