"""Is a run in the linear regime, and how wide must the network be? (``docs/theory.md`` §9).

* :func:`linear_regime` reads the diagnostics of a trajectory
  (``gradient_descent(..., diagnostics=True)``) and says whether, and from
  which iteration, the network departs from its linearized prediction by
  more than ``tol``.
* :func:`width_needed` runs the same problem at a few widths, fits the law
  ``gap ≈ c k^(−α)`` of the largest gap over the run, and solves for the
  smallest ``k`` with ``gap <= tol``. The exponent is measured (theory:
  ``α = ½``), with its standard error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._memory import check_memory
from ._validation import check_bool, check_int, check_positive

__all__ = ["RegimeVerdict", "WidthEstimate", "linear_regime", "width_needed", "with_width", "regime_summary",
           "width_summary", "regime_line", "DIAGNOSTICS"]


@dataclass(frozen=True, eq=False)
class RegimeVerdict:
    """Result of :func:`linear_regime`.

    Attributes
    ----------
    in_regime : bool
        True when the linearization gap stays at most ``tol`` at every recorded iteration.
    tol : float
    breaks_at : int or None
        First recorded iteration whose gap exceeds ``tol`` (``None`` when in the regime).
    max_gap, final_gap : float
        Largest and last recorded gap.
    weight_change, sign_flips, kernel_drift : float
        The diagnostics at ``breaks_at`` (at the last recorded iteration when in the regime).
    message : str
        The verdict in one sentence, with the numbers.
    diagnostics : dict
        The curves it was read from: ``iterations``, ``weight_change``,
        ``sign_flips``, ``kernel_drift``, ``linearization_gap`` (arrays of the
        same length) and ``method`` (see ``Trajectory.diagnostics_method``).

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, gradient_descent
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 32), k=1024)
    >>> y = np.cos(2 * np.pi * np.arange(32) / 32)
    >>> traj = gradient_descent(gen, y, gen.init(seed=0), 0.5, 200, record=10, diagnostics=True)
    >>> v = linear_regime(traj, tol=0.1)
    >>> v.in_regime, v.breaks_at, bool(v.max_gap < 0.1)
    (True, None, True)
    """

    in_regime: bool
    tol: float
    breaks_at: int | None
    max_gap: float
    final_gap: float
    weight_change: float
    sign_flips: float
    kernel_drift: float
    message: str
    diagnostics: dict = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        """The verdict's numbers and message (JSON-ready; non-finite numbers as ``None``)."""
        return {"in_regime": self.in_regime, "tol": self.tol, "breaks_at": self.breaks_at,
                "max_gap": _num(self.max_gap), "final_gap": _num(self.final_gap),
                "weight_change": _num(self.weight_change), "sign_flips": _num(self.sign_flips),
                "kernel_drift": _num(self.kernel_drift), "message": self.message}

    def diagnostics_dict(self) -> dict:
        """The curves of :attr:`diagnostics` as JSON-ready lists (non-finite numbers as ``None``)."""
        d = self.diagnostics
        out = {"iterations": [int(t) for t in d.get("iterations", ())], "method": d.get("method")}
        for key in DIAGNOSTICS:
            out[key] = [_num(float(x)) for x in d.get(key, ())]
        return out


#: The four diagnostics of a trajectory (``docs/theory.md`` §9.1).
DIAGNOSTICS = ("weight_change", "sign_flips", "kernel_drift", "linearization_gap")


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def linear_regime(trajectory, tol: float = 0.1) -> RegimeVerdict:
    """Whether the network stays within ``tol`` of its linearized prediction, and where it departs.

    Parameters
    ----------
    trajectory : Trajectory
        From ``gradient_descent(..., diagnostics=True)``.
    tol : float, default 0.1
        Largest allowed ``linearization_gap`` (relative to the size of the
        target, see :mod:`ntk_toolkit.diagnostics`).

    Returns
    -------
    RegimeVerdict

    Examples
    --------
    A narrow network with a large initialisation leaves the regime:

    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, gradient_descent
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 32), k=8)
    >>> y = np.random.default_rng(0).standard_normal(32)
    >>> traj = gradient_descent(gen, y, gen.init(seed=0), 0.5, 300, record=20, diagnostics=True)
    >>> v = linear_regime(traj, tol=0.1)
    >>> v.in_regime, v.breaks_at > 0, v.message.startswith("out of the linear regime")
    (False, True, True)
    """
    tol = check_positive("tol", tol)
    gap = getattr(trajectory, "linearization_gap", None)
    if gap is None:
        raise ValueError("trajectory has no regime diagnostics; run gradient_descent(..., diagnostics=True)")
    gap = np.asarray(gap, dtype=float)
    if gap.size == 0:
        raise ValueError("trajectory recorded no iteration; pass record= with at least one iteration")
    taus = getattr(trajectory, "diagnostics_iterations", None)
    taus = np.asarray(trajectory.iterations if taus is None else taus)
    curves = {key: np.asarray(getattr(trajectory, key), dtype=float) for key in DIAGNOSTICS}
    bad = np.flatnonzero(~(gap <= tol))
    i = int(bad[0]) if bad.size else gap.size - 1
    wc, sf, kd = (float(curves[a][i]) for a in ("weight_change", "sign_flips", "kernel_drift"))
    max_gap = float(np.max(gap))
    where = (f"weights moved {wc:.3g} of their initial norm, {100 * sf:.3g} % of the activation signs flipped, "
             f"the kernel drifted {kd:.3g}")
    if bad.size:
        msg = (f"out of the linear regime from iteration {int(taus[i])}: the network is {gap[i]:.3g} away from the "
               f"linearized prediction (tol {tol:g}, largest gap {max_gap:.3g}); there {where}")
    else:
        msg = (f"in the linear regime: the network stays within {max_gap:.3g} of the linearized prediction "
               f"(tol {tol:g}) over {int(taus[-1])} iterations; at the end {where}")
    return RegimeVerdict(in_regime=not bad.size, tol=tol, breaks_at=int(taus[i]) if bad.size else None,
                         max_gap=max_gap, final_gap=float(gap[-1]), weight_change=wc, sign_flips=sf,
                         kernel_drift=kd, message=msg,
                         diagnostics={"iterations": taus.astype(np.int64), **curves,
                                      "method": getattr(trajectory, "diagnostics_method", None)})


def with_width(gen, k: int):
    """The same generator with ``k`` channels: ``gen.with_width(k)`` when it has one, else a new two-layer model.

    Examples
    --------
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator
    >>> from ntk_toolkit.filters import triangle
    >>> with_width(TwoLayerGenerator(CircularConv(triangle(2), 16), k=4), 64).k
    64
    """
    k = check_int("k", k, minimum=2, even=True)
    if hasattr(gen, "with_width"):
        return gen.with_width(k)
    from .generator import TwoLayerGenerator, default_output_weights

    if not isinstance(gen, TwoLayerGenerator):
        raise TypeError(f"gen must be a TwoLayerGenerator or a generator with with_width(k) (to build it at other "
                        f"widths), got {type(gen).__name__}")
    if not np.array_equal(gen.output_weights, default_output_weights(gen.k)):
        raise ValueError("width_needed needs the default output weights ±1/√k (custom output weights have no "
                         "counterpart at another width)")
    return TwoLayerGenerator(gen.operator, k=k, activation=gen.activation, train_output=gen.train_output)


@dataclass(frozen=True, eq=False)
class WidthEstimate:
    """Result of :func:`width_needed`.

    Attributes
    ----------
    k : int or None
        Estimated smallest (even) width with ``max gap <= tol``; ``None``
        when the measured gaps do not fall with ``k`` (fitted exponent not
        above twice its standard error).
    k_range : tuple of float
        Where the one-standard-error band of the fitted line (intercept and
        slope) crosses ``tol``: the estimate's uncertainty.
    exponent, exponent_stderr : float
        Fitted ``α`` of ``max gap ≈ c k^(−α)`` and its standard error (least
        squares on ``log gap`` against ``log k`` over all runs).
    coefficient : float
        Fitted ``c``.
    widths : ndarray of int, shape (W,)
    gaps : ndarray, shape (W, seeds)
        Largest linearization gap of each run.
    tol : float
    message : str

    Examples
    --------
    See :func:`width_needed`.

    >>> est = WidthEstimate(k=64, k_range=(50.0, 80.0), exponent=0.5, exponent_stderr=0.05, coefficient=0.8,
    ...                     widths=np.array([16, 32]), gaps=np.array([[0.2], [0.14]]), tol=0.1, message="")
    >>> est.to_dict()["k"]
    64
    """

    k: int | None
    k_range: tuple
    exponent: float
    exponent_stderr: float
    coefficient: float
    widths: np.ndarray
    gaps: np.ndarray
    tol: float
    message: str = field(default="")

    def to_dict(self) -> dict:
        return {"k": self.k, "k_range": [float(x) for x in self.k_range], "exponent": self.exponent,
                "exponent_stderr": self.exponent_stderr, "coefficient": self.coefficient,
                "widths": self.widths.tolist(), "gaps": self.gaps.tolist(), "tol": self.tol,
                "message": self.message}


def _band_crossings(xm, zm, slope, s, N, sxx, level, xmin, xmax) -> tuple:
    """Widths where the lower and the upper one-standard-error band of the fitted line cross ``level``.

    The band is ``zm + slope (x − xm) ± s √(1/N + (x − xm)²/sxx)`` in ``x = log k``
    (uncertainty of the intercept and of the slope); ``inf`` when a band never reaches ``level``.
    """
    x = np.linspace(xmin - 10.0, xmax + 25.0, 20001)
    line = zm + slope * (x - xm)
    half = s * np.sqrt(1.0 / N + (x - xm) ** 2 / sxx)
    out = []
    for band in (line - half, line + half):
        hit = np.flatnonzero(band <= level)
        out.append(float(np.exp(x[hit[0]])) if hit.size else math.inf)
    return tuple(out)


def _default_widths(k: int) -> list[int]:
    out = sorted({max(4, 2 * round(k * f / 2)) for f in (0.25, 0.5, 1.0, 2.0)})
    return out if len(out) >= 3 else [4, 8, 16, 32]


def width_needed(gen, y, eta: float, steps: int, tol: float = 0.1, omega: float = 1.0, *, A=None,
                 widths=None, seeds: int = 3, record: int = 20, seed: int = 0,
                 symmetric: bool = False) -> WidthEstimate:
    """Estimate the smallest width ``k`` at which the network stays within ``tol`` of its linearized prediction.

    For each width in ``widths`` and ``seeds`` initialisations
    (``N(0, omega²)``), gradient descent runs ``steps`` steps with
    diagnostics; the largest ``linearization_gap`` of each run is fitted by
    ``log gap = log c − α log k`` (least squares over all runs), and
    ``k = (c / tol)^(1/α)`` rounded up to even (``docs/theory.md`` §9.3).
    The theory's ``α = ½`` is not assumed: the fitted value and its standard
    error are reported, and ``k_range`` is where the one-standard-error band
    of the fitted line crosses ``tol``.

    Parameters
    ----------
    gen : Generator
        The model; rebuilt at each width by :func:`with_width`
        (``gen.with_width(k)``, or a two-layer model with the same operator
        and activation).
    y : array_like, shape (n,) or (m,) with ``A``
    eta : float
        Step size (the same at every width).
    steps : int
    tol : float, default 0.1
    omega : float, default 1.0
        Initialisation scale.
    A : measurement operator, optional
    widths : sequence of int, optional
        At least 3 even widths; default ``k/4, k/2, k, 2k`` of ``gen.k``.
    seeds : int, default 3
        Initialisations per width.
    record : int, default 20
        Recorded iterations per run (geometric).
    seed : int, default 0
        First seed (``seed, seed + 1, …``).
    symmetric : bool, default False
        Start from the mirrored initialisation ``gen.init(..., symmetric=True)``
        (``G(C_0) = 0``), as the image experiments and compressive sensing do.

    Returns
    -------
    WidthEstimate

    Notes
    -----
    Cost: ``len(widths) × seeds`` runs with diagnostics. Extrapolating far
    beyond the measured widths trusts the fitted law; ``k_range`` shows how
    much the answer moves with the exponent's uncertainty.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 16), k=16)
    >>> y = np.cos(2 * np.pi * np.arange(16) / 16)
    >>> est = width_needed(gen, y, eta=0.5, steps=100, tol=0.05, widths=[8, 16, 32, 64], seeds=3)
    >>> bool(est.exponent > 2 * est.exponent_stderr), est.k % 2
    (True, 0)
    """
    from .dynamics import gradient_descent

    tol = check_positive("tol", tol)
    omega = check_positive("omega", omega)
    seeds = check_int("seeds", seeds, minimum=1)
    steps = check_int("steps", steps, minimum=1)
    symmetric = check_bool("symmetric", symmetric)
    init = {"symmetric": True} if symmetric else {}
    if widths is None:
        if not isinstance(getattr(gen, "k", None), (int, np.integer)):
            raise TypeError(f"gen must have a width k (or pass widths=), got {type(gen).__name__}")
        widths = _default_widths(int(gen.k))
    elif isinstance(widths, (str, bytes)) or not hasattr(widths, "__iter__") or np.ndim(widths) != 1:
        raise TypeError(f"widths must be a sequence of even integers, got {widths!r}")
    else:
        widths = [check_int("widths[i]", int(w) if isinstance(w, np.integer) else w, minimum=2, even=True)
                  for w in widths]
    check_memory(8 * len(widths) * seeds, f"the gaps of seeds={seeds} runs per width", "use fewer seeds")
    widths = sorted(set(widths))
    if len(widths) < 2 or (seeds == 1 and len(widths) < 3):
        raise ValueError(f"widths must hold at least 3 distinct even widths (2 with seeds >= 2) to fit the law and "
                         f"its uncertainty, got {widths}")
    gaps = np.empty((len(widths), seeds))
    for i, k in enumerate(widths):
        g = with_width(gen, k)
        for s in range(seeds):
            traj = gradient_descent(g, y, g.init(seed=seed + s, omega=omega, **init), eta, steps, A=A,
                                    record=record, diagnostics=True)
            gaps[i, s] = float(np.max(traj.linearization_gap))
    x = np.repeat(np.log(np.asarray(widths, dtype=float)), seeds)
    z = np.log(np.maximum(gaps.ravel(), 1e-300))
    xm, zm = float(x.mean()), float(z.mean())
    sxx = float(np.sum((x - xm) ** 2))
    slope = float(np.sum((x - xm) * (z - zm)) / sxx)
    resid = z - (zm + slope * (x - xm))
    dof = max(x.size - 2, 1)
    stderr = math.sqrt(float(resid @ resid) / dof / sxx)
    alpha = -slope
    coef = math.exp(zm + slope * (0.0 - xm))

    if alpha > 2.0 * stderr:  # the gap falls with the width, significantly
        kk = math.exp(min(xm + (zm - math.log(tol)) / alpha, 700.0))
        k_est = int(2 * math.ceil(kk / 2)) if math.isfinite(kk) else None
        k_range = _band_crossings(xm, zm, slope, math.sqrt(float(resid @ resid) / dof), x.size, sxx,
                                  math.log(tol), float(x.min()), float(x.max()))
        msg = (f"gap ≈ {coef:.3g} k^(−{alpha:.3f} ± {stderr:.3f}) from widths {widths}: the gap stays below {tol:g} "
               f"from k ≈ {k_est:.3g} (between {k_range[0]:.3g} and {k_range[1]:.3g} within one standard error)")
    else:
        k_est, k_range = None, (math.inf, math.inf)
        msg = (f"the largest gap does not fall significantly with the width over {widths} (fitted exponent "
               f"{alpha:.3f} ± {stderr:.3f}, gaps {np.round(gaps.mean(axis=1), 3).tolist()}): no width estimate; "
               "the departure is not a finite-width effect at these sizes (a larger initialisation scale omega, "
               "or a smaller step count, keeps the weights closer to C_0)")
    return WidthEstimate(k=k_est, k_range=k_range, exponent=alpha, exponent_stderr=stderr, coefficient=coef,
                         widths=np.asarray(widths), gaps=gaps, tol=tol, message=msg)


def regime_summary(gen, y, trajectory, eta: float, steps: int, omega: float, tol: float = 0.1,
                   width_estimate: bool = True, *, A=None, seed: int = 0, log=None, symmetric: bool = False,
                   label: str = "") -> tuple[dict, list[str]]:
    """The verdict of a run with diagnostics and, out of the regime, the width estimate: ``(fields, lines)``.

    What ``ntk-toolkit fit`` prints: :func:`linear_regime` of ``trajectory``
    and, when the run leaves the regime and ``width_estimate``,
    :func:`width_needed` from runs at ``k/4``, ``k/2`` and ``k`` (2 seeds each).

    Parameters
    ----------
    gen, y, eta, steps, omega, A
        The run's problem (``trajectory`` from ``gradient_descent(..., diagnostics=True)``).
    tol : float, default 0.1
    width_estimate : bool, default True
    seed : int, default 0
        First seed of the width runs.
    log : callable, optional
        Receives a line before the width runs start.
    symmetric : bool, default False
        The width runs start from the mirrored initialisation (see :func:`width_needed`).
    label : str, default ""
        Names the run in the lines (``"image"`` in ``regime, image (tol 0.1): …``).

    Returns
    -------
    fields : dict
        ``regime`` (:meth:`RegimeVerdict.to_dict`), ``diagnostics`` (the four
        arrays, the iterations and the method) and, when estimated,
        ``width_needed`` (:meth:`WidthEstimate.to_dict`).
    lines : list of str
        The human-readable lines.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, gradient_descent
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 16), k=512)
    >>> y = np.cos(2 * np.pi * np.arange(16) / 16)
    >>> traj = gradient_descent(gen, y, gen.init(seed=0), 0.5, 50, record=10, diagnostics=True)
    >>> fields, lines = regime_summary(gen, y, traj, 0.5, 50, 1.0)
    >>> fields["regime"]["in_regime"], lines[0].startswith("  regime (tol 0.1): in the linear regime")
    (True, True)
    """
    verdict = linear_regime(trajectory, tol=tol)
    fields = {"regime": verdict.to_dict(), "diagnostics": verdict.diagnostics_dict()}
    lines = [regime_line(verdict, label)]
    if verdict.in_regime or not width_estimate:
        return fields, lines
    more, extra = width_summary(gen, y, eta, steps, omega, tol, A=A, seed=seed, log=log, symmetric=symmetric)
    return {**fields, **more}, lines + extra


def width_summary(gen, y, eta: float, steps: int, omega: float, tol: float = 0.1, *, A=None, seed: int = 0,
                  log=None, symmetric: bool = False, label: str = "") -> tuple[dict, list[str]]:
    """:func:`width_needed` from runs at ``k/4``, ``k/2`` and ``k`` (2 seeds each): ``(fields, lines)``.

    What the commands print for a run out of the linear regime (see
    :func:`regime_summary`); ``fields`` is ``{"width_needed": ...}``
    (:meth:`WidthEstimate.to_dict`, with ``"run": label`` when a label names
    the run), empty when ``k`` is too small for three distinct even widths.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 16), k=64)
    >>> y = np.random.default_rng(0).standard_normal(16)
    >>> fields, lines = width_summary(gen, y, 0.5, 200, 1.0, tol=0.05)
    >>> fields["width_needed"]["widths"], lines[0].startswith("  width needed: ")
    ([16, 32, 64], True)
    """
    k = int(gen.k)
    widths = sorted({max(2, 2 * round(k * f / 2)) for f in (0.25, 0.5, 1.0)})
    if len(widths) < 3:
        return {}, []
    if log is not None:
        log(f"estimating the width needed: {2 * len(widths)} runs at k = {widths} ...")
    est = width_needed(gen, y, eta, steps, tol=tol, omega=omega, A=A, widths=widths, seeds=2, seed=seed,
                       symmetric=symmetric)
    fields = est.to_dict() if not label else {**est.to_dict(), "run": label}
    return {"width_needed": fields}, [f"  width needed{f' ({label})' if label else ''}: {est.message}"]


def regime_line(verdict: RegimeVerdict, label: str = "") -> str:
    """The line the commands print for a verdict: ``  regime[, label] (tol …): message``.

    Examples
    --------
    >>> v = RegimeVerdict(True, 0.1, None, 0.01, 0.01, 0.0, 0.0, 0.0, "in the linear regime")
    >>> regime_line(v, "image")
    '  regime, image (tol 0.1): in the linear regime'
    """
    return f"  regime{', ' + label if label else ''} (tol {verdict.tol:g}): {verdict.message}"
