"""Inpainting and compressive sensing of an image: the network run to convergence, the smoothest
interpolant and the recovery law (``docs/theory.md`` §5; claims [14]–[16]). Set-up:
:mod:`ntk_toolkit.image_experiments`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import as_rng, check_bool, check_positive
from ..dynamics import max_step_size, run_to_convergence
from ..measurements import GaussianMeasurement, RandomMask, SubsampledDCT, SubsampledDCT2D, as_measurement
from ..prediction import linearized
from ..recovery import min_l2_interpolant, recovery_law, smoothest_interpolant
from ._setup import (
    DEFAULT_OMEGA,
    DIAGNOSTICS_AT,
    channels,
    check_diagnostics,
    check_setup,
    prediction_spectrum,
    psnr_rows,
    regime_dict,
    regime_of,
)

__all__ = ["ImageInpainting", "inpaint_image"]


# --------------------------------------------------------------------------- inpainting
@dataclass(frozen=True, eq=False)
class ImageInpainting:
    """Result of :func:`inpaint_image`: recovery of an image from ``m`` measurements.

    Errors are relative, ``‖x̃ − x‖/‖x‖``; PSNR in dB against the clean image.

    Attributes
    ----------
    shape : tuple (H, W)
    m : int
        Number of measurements.
    measurement : str
        ``repr`` of the measurement operator.
    eta, omega : float
    k : int or None
    steps : int
        Steps run; ``converged`` says whether the loss reached ``rtol`` × its initial value.
    converged : bool
    rtol : float
    iterations : ndarray of int, shape (R,)
    psnr, predicted_psnr : ndarray, shape (R,)
        PSNR of the network and of the linear model (``docs/theory.md`` eq. (5.1)) at the
        recorded iterations.
    losses : ndarray, shape (steps + 1,)
    psnr_network, psnr_predicted, psnr_interpolant, psnr_min_l2 : float
        Final network output, the linear model after the same ``steps``, the smoothest
        interpolant ``x̂`` (its limit) and the minimum-l2 interpolant ``A⁺y`` (zero filling for a mask).
    error_network, error_predicted, error_interpolant, error_min_l2 : float
    distance_to_interpolant, distance_to_prediction : float
        ``‖G(C_T) − x̂‖/‖x‖`` and ``‖G(C_T) − f_T‖/‖x‖``.
    law_error : float
        Recovery law (``docs/theory.md`` eq. (5.6)): ``√E‖x̂ − x‖² / ‖x‖`` for a **Gaussian**
        ``A`` with the same ``m`` — the law is derived for Gaussian measurements only.
    law_kappa : float
        Its effective ridge ``κ`` (eq. (5.5)).
    gaussian_error : float
        ``‖x̂_G − x‖/‖x‖`` of the smoothest interpolant from one Gaussian ``A`` with the same
        ``m`` (the law's setting), NaN when not computed.
    clean, observed, interpolant, network : ndarray, shape (H, W)
        ``x``, ``A⁺y``, ``x̂`` and the final ``G(C_T)``.
    regime : RegimeVerdict or None
        With ``diagnostics``: whether the run stays within ``tol`` of its linearized
        prediction at ``K(C_0)`` (the measured iteration ``A K(C_0) Aᵀ``;
        :func:`ntk_toolkit.linear_regime`).

    Examples
    --------
    >>> from ntk_toolkit import CircularConv2D, TwoLayerGenerator, filters, images
    >>> gen = TwoLayerGenerator(CircularConv2D(filters.bilinear(), (12, 12)), k=64)
    >>> res = inpaint_image(gen, images.load("camera", 12), keep=0.5, max_steps=20, gaussian_reference=False)
    >>> res.steps, res.network.shape, res.measurement.startswith("RandomMask")
    (20, (12, 12), True)
    >>> res.to_dict()["gaussian_error"]
    'nan'
    """

    shape: tuple
    m: int
    measurement: str
    eta: float
    omega: float
    k: int | None
    steps: int
    converged: bool
    rtol: float
    iterations: np.ndarray
    psnr: np.ndarray
    predicted_psnr: np.ndarray
    losses: np.ndarray
    psnr_network: float
    psnr_predicted: float
    psnr_interpolant: float
    psnr_min_l2: float
    error_network: float
    error_predicted: float
    error_interpolant: float
    error_min_l2: float
    distance_to_interpolant: float
    distance_to_prediction: float
    law_error: float
    law_kappa: float
    gaussian_error: float
    clean: np.ndarray
    observed: np.ndarray
    interpolant: np.ndarray
    network: np.ndarray
    regime: object = None

    def to_dict(self) -> dict:
        """JSON-ready summary (NaN as ``"nan"``); the images are left out."""
        out = {"shape": list(self.shape), "m": self.m, "measurement": self.measurement, "eta": self.eta,
               "omega": self.omega, "k": self.k, "steps": self.steps, "converged": self.converged,
               "rtol": self.rtol, "iterations": self.iterations.tolist(), "psnr": self.psnr.tolist(),
               "predicted_psnr": self.predicted_psnr.tolist()}
        for key in ("psnr_network", "psnr_predicted", "psnr_interpolant", "psnr_min_l2", "error_network",
                    "error_predicted", "error_interpolant", "error_min_l2", "distance_to_interpolant",
                    "distance_to_prediction", "law_error", "law_kappa", "gaussian_error"):
            v = float(getattr(self, key))
            out[key] = v if math.isfinite(v) else str(v)
        return {**out, **regime_dict(self.regime)}


def _orthonormal_rows(A) -> bool:
    """``A Aᵀ = I`` is known for these operators, so ``A⁺ = Aᵀ``."""
    return isinstance(A, (RandomMask, SubsampledDCT, SubsampledDCT2D))


def inpaint_image(gen, image, keep: float | None = None, *, A=None, seed=0, omega: float = DEFAULT_OMEGA,
                  eta: float | None = None, max_steps: int = 5000, rtol: float = 1e-6, record=50,
                  kernel=None, pinv: bool = True, gaussian_reference: bool = True,
                  progress: bool = False, diagnostics: bool | str = False, tol: float = 0.1) -> ImageInpainting:
    """Recover an image from a random pixel mask (or any ``A``): the network run to convergence vs the
    smoothest interpolant and the recovery law.

    ``y = A x`` (noise-free); gradient descent on ``½‖A G(C) − y‖²`` from the mirrored
    ``C_0`` until the loss falls to ``rtol`` × its initial value
    (:func:`~ntk_toolkit.run_to_convergence`); its limit in the linear regime is the
    smoothest interpolant ``x̂ = Σ Aᵀ (A Σ Aᵀ)⁻¹ y = argmin_{Ax = y} xᵀΣ⁻¹x``
    (``docs/theory.md`` §5.1, eqs. (5.1)–(5.3); claim [14]). Next to it: the linear model
    after the same number of steps, ``A⁺y`` (claim [15]), and the recovery law of §5.2
    (eq. (5.6), claim [16]) — derived for Gaussian ``A``, so for a mask it is the
    Gaussian-measurement prediction with the same ``m``, labelled so; with
    ``gaussian_reference`` one Gaussian ``A`` is drawn to show the law's own setting.

    Parameters
    ----------
    gen : TwoLayerGenerator
        Operator: a :class:`~ntk_toolkit.CircularConv2D` on the image grid.
    image : array_like, shape (H, W)
    keep : float, optional
        Keep each pixel with this probability (:class:`~ntk_toolkit.measurements.RandomMask`;
        P2's Fig. 1 keeps 1/3). Give exactly one of ``keep`` and ``A``.
    A : measurement operator or ndarray (m, n), optional
        E.g. :class:`~ntk_toolkit.measurements.GaussianMeasurement`,
        :class:`~ntk_toolkit.measurements.SubsampledDCT2D` (random 2-D DCT coefficients of the image) or
        :class:`~ntk_toolkit.measurements.SubsampledDCT` (1-D DCT of the flattened image).
    seed : int, numpy.random.Generator or None
        Spawns three streams: the mask, ``C_0``, the Gaussian reference.
    omega : float, default :data:`DEFAULT_OMEGA`
    eta : float, optional
        Default :func:`ntk_toolkit.max_step_size` ``(gen, A)``.
    max_steps : int, default 5000
        Step cap.
    rtol : float, default 1e-6
        Stop when the loss is at most ``rtol`` × the initial loss.
    record : int or sequence of int, default 50
        Iterations at which the network's output is kept (the final one always is).
    kernel : ndarray (n, n), Spectrum or generator, optional
        Kernel of the predictions (interpolant, linear model, law); default ``Σ`` of ``gen``.
    pinv : bool, default True
        Pseudo-inverse of ``A Σ Aᵀ`` in the interpolant (see :func:`~ntk_toolkit.smoothest_interpolant`).
    gaussian_reference : bool, default True
        Also compute the smoothest interpolant from one Gaussian ``A`` with the same ``m``.
    progress : bool, default False
        Show a tqdm progress bar over the gradient-descent steps.
    diagnostics : bool or {"auto", "dense", "matrix-free"}, default False
        Take the regime diagnostics of the run at :data:`DIAGNOSTICS_AT` geometrically
        spaced iterations up to ``max_steps`` (and the last) and judge them with
        :func:`ntk_toolkit.linear_regime` ``(tol)``: the result's ``regime``. The gap is
        relative to ``max(‖y‖/‖A‖, ‖G(C_0)‖)``.
    tol : float, default 0.1
        Largest linearization gap of a run in the linear regime (with ``diagnostics``).

    Returns
    -------
    ImageInpainting

    Notes
    -----
    Cost: the interpolant and the linear model each take ``Σ Aᵀ`` by FFT (O(n m log n)),
    the dense ``(m, n)`` ``A`` and an ``eigh`` of the ``m x m`` matrix ``A Σ Aᵀ`` (O(m³)):
    measured about 0.3 s at 32×32 (m ≈ 340) and 1 s at 64×64 (m ≈ 1350, 45 MB per
    ``(n, m)`` array) on 2 cores, for each of the two (three with ``gaussian_reference``).
    Scaled from there: 128×128 (m ≈ 5460) needs about 3 GB (three ``(n, m)`` arrays of
    0.7 GB) and half a minute per ``eigh``; 256×256 (m ≈ 21850) is out of reach.
    ``A⁺y`` is ``Aᵀy`` for a mask or a subsampled (1-D or 2-D) DCT (orthonormal rows), a least-squares
    solve (O(m² n)) otherwise. Plus up to ``max_steps`` gradient-descent steps.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv2D, TwoLayerGenerator, filters, images
    >>> from ntk_toolkit.image_experiments import inpaint_image
    >>> gen = TwoLayerGenerator(CircularConv2D(filters.gaussian2d(1.0), (16, 16)), k=128)
    >>> res = inpaint_image(gen, images.load("camera", 16), keep=1 / 3, seed=0)
    >>> res.converged, bool(res.psnr_interpolant > res.psnr_min_l2 + 5)
    (True, True)
    >>> bool(res.distance_to_interpolant < 0.1), bool(abs(res.gaussian_error / res.law_error - 1) < 0.3)
    (True, True)
    """
    x, shape, omega, _ = check_setup(gen, image, omega, 1.0)
    diagnostics, tol = check_diagnostics(diagnostics, tol)
    n = x.size
    r_mask, r_init, r_gauss = as_rng(seed).spawn(3)
    if (keep is None) == (A is None):
        raise ValueError(f"give exactly one of keep (a probability for a random pixel mask) and A "
                         f"(a measurement operator), got keep={keep!r} and A={'None' if A is None else 'given'}")
    A = RandomMask(n, keep=keep, seed=r_mask) if A is None else as_measurement(A, n)
    eta = max_step_size(gen, A) if eta is None else check_positive("eta", eta)
    gaussian_reference = check_bool("gaussian_reference", gaussian_reference)
    m = int(A.shape[0])
    y = A.apply(x)
    spec = prediction_spectrum(gen, kernel, x.size)
    x_hat = smoothest_interpolant(spec, A, y, pinv=pinv)
    observed = A.apply_T(y) if _orthonormal_rows(A) else min_l2_interpolant(A, y)
    C0 = gen.init(seed=r_init, omega=omega, symmetric=True)
    conv = run_to_convergence(gen, y, C0, eta=eta, A=A, rtol=rtol, max_steps=max_steps, record=record,
                              progress=progress, diagnostics=diagnostics,
                              diagnostics_at=DIAGNOSTICS_AT if diagnostics else None)
    traj = conv.trajectory
    lin = linearized(spec, y, eta, f0=traj.outputs[0], A=A)
    predicted = lin.output(traj.iterations)
    law = recovery_law(spec, x, m)
    gauss = math.nan
    if gaussian_reference:
        G = GaussianMeasurement(m, n, seed=r_gauss)
        gauss = float(np.linalg.norm(smoothest_interpolant(spec, G, G.apply(x), pinv=pinv) - x))
    nx = float(np.linalg.norm(x))

    def err(v):
        return float(np.linalg.norm(v - x)) / nx

    final, f_T = conv.output, predicted[-1]
    return ImageInpainting(
        shape=shape, m=m, measurement=repr(A), eta=eta, omega=omega, k=channels(gen), steps=conv.steps,
        converged=conv.converged, rtol=float(rtol), iterations=traj.iterations,
        psnr=psnr_rows(traj.outputs, x), predicted_psnr=psnr_rows(predicted, x), losses=conv.losses,
        psnr_network=float(psnr_rows(final, x)[0]), psnr_predicted=float(psnr_rows(f_T, x)[0]),
        psnr_interpolant=float(psnr_rows(x_hat, x)[0]), psnr_min_l2=float(psnr_rows(observed, x)[0]),
        error_network=err(final), error_predicted=err(f_T), error_interpolant=err(x_hat),
        error_min_l2=err(observed), distance_to_interpolant=float(np.linalg.norm(final - x_hat)) / nx,
        distance_to_prediction=float(np.linalg.norm(final - f_T)) / nx,
        law_error=math.sqrt(law.total) / nx, law_kappa=float(law.kappa), gaussian_error=gauss / nx,
        clean=x.reshape(shape), observed=observed.reshape(shape), interpolant=x_hat.reshape(shape),
        network=final.reshape(shape), regime=regime_of(traj, tol),
    )
