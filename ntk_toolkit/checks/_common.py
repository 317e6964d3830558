"""What the checks share: seeds, relative errors and slopes, figures, and the set-ups
(generators, runs of the network next to the linear model)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dynamics import LinearizedPrediction, Trajectory, gradient_descent, linearized, max_step_size
from ..filters import Filter, from_spec
from ..generator import TwoLayerGenerator
from ..operators import CircularConv
from ..spectrum import Spectrum, spectrum


# ----------------------------------------------------------------------------- seeds
def rng(seed: int, *tags: int) -> np.random.Generator:
    """The random stream of one part of a check: ``default_rng([seed, *tags])``.

    Every check derives all its randomness from its ``seed`` this way, with
    fixed integer ``tags`` naming the purpose and index of each stream, so the
    parts are independent of each other and of the order in which they run.

    Parameters
    ----------
    seed : int
        The check's seed (``--seed``).
    *tags : int
        Purpose and indices of the stream (e.g. ``rng(seed, 2, s)`` for the
        initialisation of repetition ``s``).

    Returns
    -------
    numpy.random.Generator

    Notes
    -----
    ``rng(seed)`` equals ``numpy.random.default_rng(seed)``.
    """
    return np.random.default_rng([seed, *tags])


# ----------------------------------------------------------------------------- numbers
def loglog_slope(x, y) -> float:
    """Least-squares slope of ``log y`` against ``log x``."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    return float(np.polyfit(lx, ly, 1)[0])


def rel_err(a, x):
    """``‖a − x‖ / ‖x‖`` (l2) for a vector ``a`` or for each row of a matrix ``a``.

    Parameters
    ----------
    a : array_like, shape (n,) or (R, n)
    x : array_like, shape (n,)

    Returns
    -------
    ndarray
        Shape ``()`` for a vector ``a`` (use ``float()``), ``(R,)`` for rows.
    """
    x = np.asarray(x, float)
    return np.linalg.norm(np.atleast_2d(a) - x[None, :], axis=1).squeeze() / np.linalg.norm(x)


def sym_norm(A) -> float:
    """Spectral norm of a symmetric matrix (largest |eigenvalue|, via ``eigvalsh``)."""
    w = np.linalg.eigvalsh(A)
    return float(max(abs(w[0]), abs(w[-1])))


def spectral_rel_err(A, B) -> float:
    """``‖A − B‖₂ / ‖B‖₂`` for symmetric matrices (``eigvalsh``, cheaper than an SVD)."""
    return sym_norm(A - B) / sym_norm(B)


def collect(runs: list, key: str):
    """The value of ``key`` for a single repetition, the list over repetitions otherwise.

    Checks that repeat their experiment over several seeds (the ``full``
    profile) report each number as a list, one entry per repetition.
    """
    vals = [r[key] for r in runs]
    return vals[0] if len(vals) == 1 else vals


# ----------------------------------------------------------------------------- figures
def figure(ncols: int = 1, figsize: tuple | None = None, **subplots):
    """A new figure with one row of ``ncols`` axes.

    Parameters
    ----------
    ncols : int
    figsize : (float, float), optional
        Inches; default ``(6.8 ncols, 4.6)``.
    **subplots
        Passed to ``pyplot.subplots`` (e.g. ``gridspec_kw``).

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : list of matplotlib.axes.Axes
        Always a list, also for one axes: ``fig, (ax,) = figure()``.
    """
    from ..plotting import pyplot

    fig, axes = pyplot().subplots(1, ncols, figsize=figsize or (6.8 * ncols, 4.6), **subplots)
    return fig, list(np.atleast_1d(axes))


def finish_axes(ax, xlabel: str, ylabel: str, title: str, *, log: str = "", legend: bool = True,
                **legend_kw) -> None:
    """The checks' axes style: labels, title, grid, legend and optional log scales.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    xlabel, ylabel, title : str
    log : str
        ``"x"``, ``"y"`` or ``"xy"``: the axes to put on a log scale.
    legend : bool
        Draw the legend (small font).
    **legend_kw
        Passed to ``ax.legend`` (e.g. ``loc``, ``ncol``, ``bbox_to_anchor``).
    """
    if "x" in log:
        ax.set_xscale("log")
    if "y" in log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    if legend:
        ax.legend(**{"fontsize": "small", **legend_kw})


# ----------------------------------------------------------------------------- set-ups


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
