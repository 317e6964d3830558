"""Denoising by early stopping and fitting an image vs noise, on the network and in the linear model
(``docs/theory.md`` §4.1–§4.2; claims [8], [9]). Set-up: :mod:`ntk_toolkit.image_experiments`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._memory import check_memory
from .._validation import as_float_array, as_rng, check_bool, check_int, check_positive
from ..dynamics import geometric_iterations, gradient_descent, record_iterations
from ..images import add_noise
from ..prediction import linearized
from ._setup import (
    DEFAULT_OMEGA,
    DIAGNOSTICS_AT,
    channels,
    check_diagnostics,
    check_setup,
    prediction_spectrum,
    psnr_from_mse,
    psnr_rows,
    regime_dict,
    regime_of,
)

__all__ = ["ImageDenoising", "denoise_image", "ImageVsNoiseFit", "fit_image_vs_noise"]

#: Entries of the recorded outputs ``(R, n)`` that the default ``record`` of :func:`denoise_image` allows.
_RECORD_BUDGET = 1 << 23

#: The largest noise level accepted (the images are on [0, 1]; beyond this the squared
#: errors overflow and the experiment means nothing).
MAX_SIGMA = 1e6


# --------------------------------------------------------------------------- denoising
@dataclass(frozen=True, eq=False)
class ImageDenoising:
    """Result of :func:`denoise_image`: the PSNR curve of gradient descent on a noisy image and its prediction.

    ``R`` recorded iterations; images have shape ``(H, W)``. PSNR in dB against the clean
    image, ``10 log10(1/MSE)``.

    Attributes
    ----------
    shape : tuple (H, W)
    sigma : float or None
        Noise standard deviation (``None`` when the noisy image was given).
    clip : bool
        Whether the noisy image was clipped to ``[0, 1]``.
    eta, omega : float
    k : int or None
        Channels of the generator.
    steps : int
    iterations : ndarray of int, shape (R,)
    psnr : ndarray, shape (R,)
        PSNR of the network's output ``G(C_τ)`` at the recorded iterations.
    predicted_psnr_all : ndarray, shape (steps + 1,)
        PSNR of the linearized output ``f_τ`` at every ``τ = 0 … steps``.
    losses : ndarray, shape (steps + 1,)
        Training loss ``½‖G(C_τ) − y‖²``.
    best_iteration, best_psnr
        The network's best PSNR over the recorded iterations and where.
    predicted_best_iteration, predicted_best_psnr
        The same for the prediction, over every ``τ <= steps``.
    psnr_at_predicted_best : float
        The network's PSNR at ``predicted_best_iteration`` (NaN if not recorded).
    noisy_psnr : float
        PSNR of ``y``: what running to convergence returns.
    clean, noisy, early_stopped, final, predicted_early_stopped : ndarray, shape (H, W)
        ``x``, ``y``, ``G(C_τ)`` at ``best_iteration`` and at ``steps``, and ``f_τ`` at
        ``predicted_best_iteration``.
    regime : RegimeVerdict or None
        With ``diagnostics``: whether the run stays within ``tol`` of its linearized
        prediction at ``K(C_0)`` (:func:`ntk_toolkit.linear_regime`; the diagnostics at
        :data:`DIAGNOSTICS_AT` geometrically spaced iterations in ``regime.diagnostics``).

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv2D, TwoLayerGenerator, filters, images
    >>> gen = TwoLayerGenerator(CircularConv2D(filters.bilinear(), (12, 12)), k=64)
    >>> res = denoise_image(gen, images.load("camera", 12), sigma=0.1, steps=30, record=[0, 5, 30])
    >>> res.iterations.tolist(), res.predicted_psnr.shape, res.early_stopped.shape
    ([0, 5, 30], (3,), (12, 12))
    >>> sorted(res.to_dict())[:4]
    ['best_iteration', 'best_psnr', 'clip', 'eta']
    """

    shape: tuple
    sigma: float | None
    clip: bool
    eta: float
    omega: float
    k: int | None
    steps: int
    iterations: np.ndarray
    psnr: np.ndarray
    predicted_psnr_all: np.ndarray
    losses: np.ndarray
    best_iteration: int
    best_psnr: float
    predicted_best_iteration: int
    predicted_best_psnr: float
    psnr_at_predicted_best: float
    noisy_psnr: float
    clean: np.ndarray
    noisy: np.ndarray
    early_stopped: np.ndarray
    final: np.ndarray
    predicted_early_stopped: np.ndarray
    regime: object = None

    @property
    def predicted_psnr(self) -> np.ndarray:
        """The prediction at the recorded iterations, shape ``(R,)``."""
        return self.predicted_psnr_all[self.iterations]

    @property
    def final_psnr(self) -> float:
        """The network's PSNR after ``steps`` iterations."""
        return float(self.psnr[-1])

    def to_dict(self) -> dict:
        """JSON-ready summary: the numbers and curves (lists); the images are left out."""
        return {"shape": list(self.shape), "sigma": self.sigma, "clip": self.clip, "eta": self.eta,
                "omega": self.omega, "k": self.k, "steps": self.steps, "iterations": self.iterations.tolist(),
                "psnr": self.psnr.tolist(), "predicted_psnr": self.predicted_psnr.tolist(),
                "best_iteration": self.best_iteration, "best_psnr": self.best_psnr,
                "predicted_best_iteration": self.predicted_best_iteration,
                "predicted_best_psnr": self.predicted_best_psnr,
                "psnr_at_predicted_best": self.psnr_at_predicted_best, "noisy_psnr": self.noisy_psnr,
                "final_psnr": self.final_psnr, **regime_dict(self.regime)}


def _denoise_record(steps: int, tau_pred: int, n: int) -> np.ndarray:
    """Default record: every iteration up to ``3 τ*`` (thinned to the memory budget) and 40 geometric ones."""
    window = min(steps, max(20, 3 * tau_pred))
    dense = max(50, min(window + 1, _RECORD_BUDGET // max(n, 1)))
    grid = np.unique(np.round(np.linspace(0, window, min(dense, window + 1))).astype(np.int64))
    return np.union1d(np.union1d(grid, geometric_iterations(steps, 40)), [tau_pred])


def denoise_image(gen, image, sigma, steps: int, *, seed=0, omega: float = DEFAULT_OMEGA, eta: float | None = None,
                  record=None, noisy=None, clip: bool = False, kernel=None, progress: bool = False,
                  diagnostics: bool | str = False, tol: float = 0.1) -> ImageDenoising:
    """Denoise an image by early-stopped gradient descent on the network, next to the linearized prediction.

    ``y = x + σz`` (:func:`ntk_toolkit.images.add_noise`, unclipped by default), gradient
    descent on ``½‖G(C) − y‖²`` from the mirrored ``C_0`` (``G(C_0) = 0``), and the PSNR
    of ``G(C_τ)`` against the clean ``x``; the prediction is the PSNR of the linear model
    ``f_τ = y − (I − ηΣ)^τ (y − G(C_0))`` for the same ``y`` (``docs/theory.md`` §4.1,
    eq. (4.2); its error decomposition is §4.2).

    Parameters
    ----------
    gen : TwoLayerGenerator
        On the image grid: its operator a :class:`~ntk_toolkit.CircularConv2D` of shape ``(H, W)``.
    image : array_like, shape (H, W)
        The clean image, values in ``[0, 1]``.
    sigma : float or None
        Noise standard deviation (``> 0``) on the ``[0, 1]`` scale, e.g. ``25/255``; ``None``
        only with ``noisy``.
    steps : int
        Iterations of gradient descent, ``>= 1``.
    seed : int, numpy.random.Generator or None
        Two independent streams are spawned from it: the noise, then ``C_0``.
    omega : float, default :data:`DEFAULT_OMEGA`
        Scale of ``C_0`` (module notes: the mirrored init gives ``G(C_0) = 0`` for every
        ``ω``; a large ``ω`` keeps the network in the linear regime).
    eta : float, optional
        Step size; default :func:`ntk_toolkit.max_step_size` ``(gen)``.
    record : None, int or sequence of int
        Iterations at which the network's output is kept (see
        :func:`~ntk_toolkit.gradient_descent`); the network's best stopping time is found
        among them. Default: every iteration up to ``3 τ*`` of the prediction (at most
        ``2²³/n`` of them, evenly spaced beyond), 40 geometrically spaced ones and ``τ*``.
    noisy : array_like, shape (H, W), optional
        Use this noisy image instead of drawing one (``sigma`` may then be ``None``).
    clip : bool, default False
        Clip ``y`` to ``[0, 1]`` as the papers do. The theory (§4.2) is for unclipped
        Gaussian noise; the prediction is for the ``y`` actually fitted either way.
    kernel : ndarray (n, n), Spectrum or generator, optional
        Kernel of the prediction; default the generator's expected kernel ``Σ``
        (:func:`ntk_toolkit.spectrum`, O(n log n)). E.g. ``J(C_0) J(C_0)ᵀ``.
    progress : bool, default False
        Show a tqdm progress bar over the gradient-descent steps.
    diagnostics : bool or {"auto", "dense", "matrix-free"}, default False
        Take the regime diagnostics of the run at :data:`DIAGNOSTICS_AT` geometrically
        spaced iterations (``gradient_descent(..., diagnostics=..., diagnostics_at=...)``)
        and judge them with :func:`ntk_toolkit.linear_regime` ``(tol)``: the result's
        ``regime``. Above ``n = 256`` pixels the linearized outputs come from a Lanczos
        decomposition; above ``n = 4096`` the kernel drift is a Hutchinson estimate.
    tol : float, default 0.1
        Largest linearization gap of a run in the linear regime (with ``diagnostics``).

    Returns
    -------
    ImageDenoising

    Notes
    -----
    Cost: ``steps`` gradient-descent steps (one forward and one backward pass each,
    O(n k L) or O(n k log n)); the prediction is O(n log n) once and O(n) per ``τ``
    in the eigenbasis; memory ``(R + 1) n`` for the recorded outputs.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv2D, TwoLayerGenerator, filters, images
    >>> from ntk_toolkit.image_experiments import denoise_image
    >>> gen = TwoLayerGenerator(CircularConv2D(filters.bilinear(), (16, 16)), k=128)
    >>> res = denoise_image(gen, images.load("camera", 16), sigma=0.1, steps=60, seed=0)
    >>> bool(res.best_psnr > res.noisy_psnr), bool(res.predicted_best_psnr > res.noisy_psnr)
    (True, True)
    >>> bool(abs(res.best_psnr - res.predicted_best_psnr) < 1.0)
    True
    """
    x, shape, omega, eta = check_setup(gen, image, omega, eta)
    steps = check_int("steps", steps, minimum=1)
    diagnostics, tol = check_diagnostics(diagnostics, tol)
    check_memory(8 * (steps + 1), f"the loss history of steps={steps}", "use fewer steps")
    clip = check_bool("clip", clip)
    r_noise, r_init = as_rng(seed).spawn(2)
    if noisy is None:
        if sigma is None:
            raise ValueError("sigma must be a noise standard deviation > 0 (e.g. 25/255), got None; "
                             "pass noisy= to use a given noisy image")
        sigma = check_positive("sigma", sigma)
        if sigma > MAX_SIGMA:
            raise ValueError(f"sigma must be a noise standard deviation in (0, {MAX_SIGMA:g}] on the [0, 1] "
                             f"intensity scale, got {sigma!r}")
        y = add_noise(x, sigma, seed=r_noise, clip=bool(clip))
    else:
        sigma = None if sigma is None else check_positive("sigma", sigma)
        y = as_float_array("noisy", noisy, shape=shape).reshape(-1)
    spec = prediction_spectrum(gen, kernel, x.size)
    C0 = gen.init(seed=r_init, omega=omega, symmetric=True)
    f0 = np.asarray(gen.forward(C0), dtype=float)
    lin = linearized(spec, y, eta, f0=f0)
    # predicted error at every τ in the eigenbasis: f_τ − x = (y − x) − q^τ ∘ (y − f_0), O(n) per τ
    q = 1.0 - eta * lin.eigenvalues
    a, b = lin.coefficients, spec.project(y - x)
    mse = np.empty(steps + 1)
    F = np.ones_like(q)
    for t in range(steps + 1):
        mse[t] = float(np.sum((b - F * a) ** 2)) / x.size
        F *= q
    pred_all = psnr_from_mse(mse)
    tau_pred = int(np.argmax(pred_all))
    rec = _denoise_record(steps, tau_pred, x.size) if record is None else record_iterations(record, steps)
    if rec.size == 0:
        raise ValueError(f"record must name at least one iteration in [0, steps={steps}] (the best stopping time "
                         f"is found among them), got {record!r}")
    traj = gradient_descent(gen, y, C0, eta, steps, record=rec, progress=progress, diagnostics=diagnostics,
                            diagnostics_at=DIAGNOSTICS_AT if diagnostics else None)
    its = traj.iterations
    ps = psnr_rows(traj.outputs, x)
    i_best = int(np.argmax(ps))
    hit = np.flatnonzero(its == tau_pred)
    return ImageDenoising(
        shape=shape, sigma=sigma, clip=bool(clip), eta=eta, omega=omega, k=channels(gen), steps=steps,
        iterations=its, psnr=ps, predicted_psnr_all=pred_all, losses=traj.losses,
        best_iteration=int(its[i_best]), best_psnr=float(ps[i_best]),
        predicted_best_iteration=tau_pred, predicted_best_psnr=float(pred_all[tau_pred]),
        psnr_at_predicted_best=float(ps[hit[0]]) if hit.size else math.nan,
        noisy_psnr=float(psnr_rows(y, x)[0]), clean=x.reshape(shape), noisy=y.reshape(shape),
        early_stopped=traj.outputs[i_best].reshape(shape), final=traj.outputs[-1].reshape(shape),
        predicted_early_stopped=lin.output(tau_pred).reshape(shape), regime=regime_of(traj, tol),
    )


# --------------------------------------------------------------------------- image vs noise
@dataclass(frozen=True, eq=False)
class ImageVsNoiseFit:
    """Result of :func:`fit_image_vs_noise`: iterations to fit an image and noise of the same norm.

    Fit time = first ``τ`` with ``‖y − G(C_τ)‖ <= δ ‖y − G(C_0)‖`` (``= δ‖y‖``, the
    mirrored ``G(C_0) = 0``); ``inf`` if not reached within ``steps``.

    Attributes
    ----------
    shape : tuple (H, W)
    delta : float
    noise_kind : str
        ``"gaussian"`` or ``"uniform"``.
    eta, omega : float
    k : int or None
    steps : int
        The cap on each run.
    fit_time_image, fit_time_noise : float
        The network's (``inf`` if not reached).
    predicted_fit_time_image, predicted_fit_time_noise : float
        :meth:`~ntk_toolkit.LinearizedPrediction.fit_time` of the linear model.
    residual_image, residual_noise : ndarray
        The network's relative residual ``‖y − G(C_τ)‖/‖y − G(C_0)‖`` at every step run.
    predicted_residual_image, predicted_residual_noise : ndarray, shape (T + 1,)
        The linear model's, ``τ = 0 … T`` (``T`` covers the runs and the finite predicted fit times up to ``steps``).
    image, noise : ndarray, shape (H, W)
    regime_image, regime_noise : RegimeVerdict or None
        With ``diagnostics``: whether each run stays within ``tol`` of its linearized
        prediction at ``K(C_0)`` (:func:`ntk_toolkit.linear_regime`).

    Examples
    --------
    >>> from ntk_toolkit import CircularConv2D, TwoLayerGenerator, filters, images
    >>> gen = TwoLayerGenerator(CircularConv2D(filters.bilinear(), (12, 12)), k=64)
    >>> res = fit_image_vs_noise(gen, images.load("camera", 12), steps=5, delta=0.1)
    >>> res.fit_time_noise, res.residual_noise.shape  # the noise is not fitted in 5 steps
    (inf, (6,))
    >>> res.to_dict()["fit_time_noise"]
    'inf'
    """

    shape: tuple
    delta: float
    noise_kind: str
    eta: float
    omega: float
    k: int | None
    steps: int
    fit_time_image: float
    fit_time_noise: float
    predicted_fit_time_image: float
    predicted_fit_time_noise: float
    residual_image: np.ndarray
    residual_noise: np.ndarray
    predicted_residual_image: np.ndarray
    predicted_residual_noise: np.ndarray
    image: np.ndarray
    noise: np.ndarray
    regime_image: object = None
    regime_noise: object = None

    @property
    def ratio(self) -> float:
        """The network's ``fit_time_noise / fit_time_image``."""
        return float(self.fit_time_noise / max(self.fit_time_image, 1))

    @property
    def predicted_ratio(self) -> float:
        """The prediction's ``fit_time_noise / fit_time_image``."""
        return float(self.predicted_fit_time_noise / max(self.predicted_fit_time_image, 1))

    def to_dict(self) -> dict:
        """JSON-ready summary (infinite times as the string ``"inf"``); the images are left out."""
        def num(v):
            return float(v) if math.isfinite(v) else str(float(v))
        return {"shape": list(self.shape), "delta": self.delta, "noise": self.noise_kind, "eta": self.eta,
                "omega": self.omega, "k": self.k, "steps": self.steps,
                "fit_time_image": num(self.fit_time_image), "fit_time_noise": num(self.fit_time_noise),
                "predicted_fit_time_image": num(self.predicted_fit_time_image),
                "predicted_fit_time_noise": num(self.predicted_fit_time_noise),
                "ratio": num(self.ratio), "predicted_ratio": num(self.predicted_ratio),
                "residual_image": self.residual_image.tolist(), "residual_noise": self.residual_noise.tolist(),
                **{f"{key}_{run}": value for run, verdict in (("image", self.regime_image),
                                                               ("noise", self.regime_noise))
                   for key, value in regime_dict(verdict).items()}}


def _fit_run(gen, y, C0, eta, steps, delta, lin, progress=False, diagnostics=False, tol=0.1):
    traj = gradient_descent(gen, y, C0, eta, steps, record=[0], stop_at=delta**2, progress=progress,
                            diagnostics=diagnostics, diagnostics_at=DIAGNOSTICS_AT if diagnostics else None)
    rel = np.sqrt(traj.losses / traj.losses[0])
    hits = np.flatnonzero(rel <= delta)
    return (float(hits[0]) if hits.size else math.inf), rel, float(lin.fit_time(delta)), regime_of(traj, tol)


def fit_image_vs_noise(gen, image, steps: int, *, seed=0, delta: float = 0.1, noise: str = "gaussian",
                       omega: float = DEFAULT_OMEGA, eta: float | None = None, kernel=None,
                       progress: bool = False, diagnostics: bool | str = False,
                       tol: float = 0.1) -> ImageVsNoiseFit:
    """Fit an image and noise of the same norm separately: iterations to a relative residual ``δ``.

    The network fits, from the same mirrored ``C_0``, the image ``x`` and a noise image
    ``z`` with ``‖z‖ = ‖x‖``; each run stops when ``‖y − G(C_τ)‖ <= δ‖y‖`` or after
    ``steps``. The prediction is the same crossing of the linear model
    ``r_τ = (I − ηΣ)^τ r_0`` (``docs/theory.md`` §4.1, eq. (4.5); claim [8]): an image,
    whose energy sits on the leading eigenvectors of ``Σ``, is fitted in far fewer
    iterations than white noise.

    Parameters
    ----------
    gen : TwoLayerGenerator
        Operator: a :class:`~ntk_toolkit.CircularConv2D` on the image grid.
    image : array_like, shape (H, W)
    steps : int
        Cap on the iterations of each run, ``>= 1``.
    seed : int, numpy.random.Generator or None
        Spawns two streams: the noise, then ``C_0``.
    delta : float, default 0.1
        Relative residual that counts as fitted, in ``(0, 1)``.
    noise : {"gaussian", "uniform"}, default "gaussian"
        White Gaussian noise (zero mean, the theory's), or uniform on ``[0, 1)`` as in the
        papers' Fig. 1/4 (its mean puts ~3/4 of its energy on the constant image, fitted at once);
        either is rescaled to ``‖x‖``.
    omega : float, default :data:`DEFAULT_OMEGA`
    eta : float, optional
        Default :func:`ntk_toolkit.max_step_size` ``(gen)``.
    kernel : ndarray (n, n), Spectrum or generator, optional
        Kernel of the prediction; default ``Σ`` of ``gen``.
    progress : bool, default False
        Show a tqdm progress bar over the steps of each of the two runs.
    diagnostics : bool or {"auto", "dense", "matrix-free"}, default False
        Take the regime diagnostics of each run at :data:`DIAGNOSTICS_AT` geometrically
        spaced iterations (``gradient_descent(..., diagnostics=..., diagnostics_at=...)``)
        and judge them with :func:`ntk_toolkit.linear_regime` ``(tol)``: the result's
        ``regime_image`` and ``regime_noise``. Above ``n = 256`` pixels the linearized
        outputs come from a Lanczos decomposition; above ``n = 4096`` the kernel drift
        is a Hutchinson estimate.
    tol : float, default 0.1
        Largest linearization gap of a run in the linear regime (with ``diagnostics``).

    Returns
    -------
    ImageVsNoiseFit

    Notes
    -----
    Cost: at most ``2 · steps`` gradient-descent steps (each run stops at its fit time),
    plus O(n) per predicted ``τ``.

    Examples
    --------
    >>> from ntk_toolkit import CircularConv2D, TwoLayerGenerator, filters, images
    >>> from ntk_toolkit.image_experiments import fit_image_vs_noise
    >>> gen = TwoLayerGenerator(CircularConv2D(filters.bilinear(), (16, 16)), k=128)
    >>> res = fit_image_vs_noise(gen, images.load("camera", 16), steps=600, delta=0.1)
    >>> bool(res.ratio > 5), bool(res.predicted_ratio > 5)
    (True, True)
    >>> bool(abs(res.ratio / res.predicted_ratio - 1) < 0.5)
    True
    """
    x, shape, omega, eta = check_setup(gen, image, omega, eta)
    steps = check_int("steps", steps, minimum=1)
    diagnostics, tol = check_diagnostics(diagnostics, tol)
    delta = check_positive("delta", delta)
    if not delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if noise not in ("gaussian", "uniform"):
        raise ValueError(f"noise must be 'gaussian' or 'uniform', got {noise!r}")
    nx = float(np.linalg.norm(x))
    if not nx > 0:
        raise ValueError("image must not be zero: the noise gets its norm")
    r_noise, r_init = as_rng(seed).spawn(2)
    z = r_noise.standard_normal(x.size) if noise == "gaussian" else r_noise.random(x.size)
    z *= nx / np.linalg.norm(z)
    spec = prediction_spectrum(gen, kernel, x.size)
    C0 = gen.init(seed=r_init, omega=omega, symmetric=True)
    f0 = np.asarray(gen.forward(C0), dtype=float)
    lins = [linearized(spec, y, eta, f0=f0) for y in (x, z)]
    (ti, ri, pi, vi), (tn, rn, pn, vn) = (_fit_run(gen, y, C0, eta, steps, delta, lin, progress, diagnostics, tol)
                                         for y, lin in zip((x, z), lins))
    T = max(ri.size, rn.size) - 1
    T = max([T] + [int(t) for t in (pi, pn) if t <= steps])
    taus = np.arange(T + 1)
    pr = [np.sqrt(lin.loss(taus) / lin.loss(0)) for lin in lins]
    return ImageVsNoiseFit(shape=shape, delta=delta, noise_kind=noise, eta=eta, omega=omega, k=channels(gen),
                           steps=steps, fit_time_image=ti, fit_time_noise=tn, predicted_fit_time_image=pi,
                           predicted_fit_time_noise=pn, residual_image=ri, residual_noise=rn,
                           predicted_residual_image=pr[0], predicted_residual_noise=pr[1],
                           image=x.reshape(shape), noise=z.reshape(shape), regime_image=vi, regime_noise=vn)
