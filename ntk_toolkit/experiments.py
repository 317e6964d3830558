"""Experiments as library functions: each returns a result object from which commands,
checks and notebooks draw their tables and figures.

* :func:`recovery_curve` — the recovery error of the smoothest interpolant
  against the number of Gaussian measurements, simulated (Monte Carlo) next to
  the recovery law (``docs/theory.md`` §5.2); the ``cs-curve`` command and the
  ``cs.recovery-law`` check run it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._memory import check_memory
from ._validation import as_float_array, as_rng, check_int, check_positive
from .generator import is_generator
from .measurements import GaussianMeasurement
from .recovery import min_l2_interpolant, recovery_law, smoothest_interpolant
from .spectrum import Spectrum, as_spectrum, circulant_spectrum

__all__ = ["RecoveryCurve", "recovery_curve"]


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


#: Largest ``noise_std`` of :func:`recovery_curve` (its squared errors are summed).
MAX_NOISE_STD = 1e100


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
    single = isinstance(kernels, Spectrum) or is_generator(kernels)
    if single or (isinstance(kernels, np.ndarray) and kernels.ndim == 2):
        kernels = [kernels]
    if not isinstance(kernels, (list, tuple)) or not kernels:
        raise TypeError(f"kernels must be a non-empty list of kernels (matrices, Spectrum or generators), "
                        f"got {type(kernels).__name__}{' (empty)' if isinstance(kernels, (list, tuple)) else ''}")
    spectra = []
    for i, kernel in enumerate(kernels):
        try:
            spectra.append(as_spectrum(kernel))
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"kernels[{i}]: {exc}") from exc
    n = spectra[0].n
    for i, spec in enumerate(spectra):
        if spec.n != n:
            raise ValueError(f"all kernels must have the same size n; kernels[0] has n={n}, kernels[{i}] n={spec.n}")
    if labels is None:
        labels = [_kernel_label(kernel, i) for i, kernel in enumerate(kernels)]
    if (isinstance(labels, (str, bytes)) or not hasattr(labels, "__iter__")
            or (isinstance(labels, np.ndarray) and labels.ndim != 1)):
        raise TypeError(f"labels must be a sequence of strings (one per kernel), got {labels!r}")
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
    check_memory(8 * (len(spectra) + 1) * len(ms) * trials, f"the squared errors of trials={trials} per m",
                 "use fewer trials")
    noise_std = check_positive("noise_std", noise_std, allow_zero=True)
    if noise_std > MAX_NOISE_STD:
        raise ValueError(f"noise_std must be in [0, {MAX_NOISE_STD:g}] (the squared errors would overflow), "
                         f"got {noise_std!r}")
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
