"""Stable step sizes of gradient descent (``docs/theory.md`` §1.3 and §9).

Three step sizes are "the" stable step, for three different questions:

* ``kind="network"`` — :math:`1/(β‖A‖²)` with ``β = ‖v‖²‖U‖²`` bounding
  ``J(C) J(C)ᵀ`` for *every* weight ``C``: every direction of the
  linearization at any weights contracts monotonically (eq. (1.11)). Safe and
  cheap, and at most a quarter of what is stable at infinite width
  (``λ_max(Σ) <= β/2``, eq. (2.6)).
* ``kind="linearized"`` — ``2/λ_max(A Σ Aᵀ)`` for the expected
  (infinite-width) kernel ``Σ``: the limit of the linearized iteration of
  an infinitely wide network (eq. (1.12)).
* ``kind="empirical"`` — ``2/λ_max(A K(C_0) Aᵀ)`` for the empirical kernel
  ``K(C_0) = J(C_0) J(C_0)ᵀ`` at the given weights: the stability limit of
  the linearized iteration that gradient descent starts with. Estimated by
  power iteration on the matrix-free kernel (:func:`step_limit`), O(n k L)
  per iteration.

:func:`step_limit` is the estimate behind the step-size guard of
:func:`ntk_toolkit.gradient_descent`: steps up to the estimated limit
``2/λ̂`` are accepted (``λ̂ <= λ_max``, so every step below the actual limit
is), steps up to :data:`HARD_FACTOR` times it draw a
:class:`StepSizeWarning`, larger steps are refused; messages recommend
``2/((1 + δ) λ̂)`` (``δ`` = :data:`SAFETY_MARGIN`), below the actual limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array, as_rng, check_int, check_positive, renamed_argument
from .generator import is_generator
from .measurements import as_measurement
from .prediction import residual_system

__all__ = ["StepLimit", "StepSizeWarning", "step_limit", "max_step_size", "SAFETY_MARGIN", "HARD_FACTOR"]

#: Safety margin ``δ`` of the estimate: ``λ̂ <= λ_max <= (1 + δ) λ̂``. The lower
#: bound always holds (a Rayleigh quotient); the upper one is measured: power
#: iteration stopped at a relative change below ``rtol = 1e-3`` was at most
#: 1.9 % below ``eigvalsh`` on the test grid (``tests/test_regime.py``). So an
#: accepted step (``η <= 2/λ̂``) exceeds the actual limit by at most ``δ``, and
#: the step the messages recommend, ``2/((1 + δ) λ̂)``, is below it
#: (``docs/theory.md`` §9.2).
SAFETY_MARGIN = 0.02

#: Steps between the accepted range and ``HARD_FACTOR × 2/λ̂`` draw a
#: :class:`StepSizeWarning`; above it, ``|1 − ηλ_max| >= 3``: the top
#: component of the linearized residual triples at every step, and the guard
#: refuses the step.
HARD_FACTOR = 2.0


class StepSizeWarning(RuntimeWarning):
    """The step size is above the stability limit of the linearized iteration at ``C_0``, below the hard bound.

    The network need not diverge there (its loss can spike and recover as
    units die), but the linearized prediction no longer describes the run.

    Examples
    --------
    >>> issubclass(StepSizeWarning, RuntimeWarning)
    True
    """


@dataclass(frozen=True, eq=False)
class StepLimit:
    """Stability limit of the linearized iteration at ``C_0``, from :func:`step_limit`.

    Attributes
    ----------
    lam_max : float
        Estimate ``λ̂`` of ``λ_max(A K(C_0) Aᵀ)`` (a Rayleigh quotient, so
        ``λ̂ <= λ_max``).
    limit : float
        ``2/λ̂``, the estimated stability limit (at least the actual one).
    accept : float
        Steps up to this are accepted silently: ``limit``.
    safe : float
        ``limit / (1 + SAFETY_MARGIN)``: below the actual limit, the step
        the messages recommend.
    hard : float
        ``HARD_FACTOR × limit``: steps above it are refused.
    iterations : int
        Power iterations run (kernel products).
    change : float
        Relative change of ``λ̂`` in the last iteration.
    seconds : float
        Wall time of the estimate.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, empirical_kernel
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 32), k=64)
    >>> C0 = gen.init(seed=0)
    >>> lim = step_limit(gen, C0)
    >>> lam = np.linalg.eigvalsh(empirical_kernel(gen, C0))[-1]
    >>> bool(0.98 * lam <= lim.lam_max <= lam), bool(lim.safe < 2 / lam <= lim.accept == lim.limit < lim.hard)
    (True, True)
    """

    lam_max: float
    limit: float
    accept: float
    safe: float
    hard: float
    iterations: int
    change: float
    seconds: float

    def to_dict(self) -> dict:
        return {"lam_max": self.lam_max, "limit": self.limit, "accept": self.accept, "safe": self.safe,
                "hard": self.hard,
                "iterations": self.iterations, "change": self.change, "seconds": self.seconds}


def _start_vector(gen, n: int, rng) -> np.ndarray:
    """Top eigenvector of the expected kernel when it is a known Fourier mode (1-D circulant ReLU), plus noise."""
    x = 0.01 * rng.standard_normal(n)
    op = getattr(gen, "operator", None)
    try:
        if (op is not None and getattr(gen, "activation", None) == "relu" and op.basis is not None
                and len(op.grid_shape) == 1):
            from .kernels import expected_kernel_first_row

            lam = np.fft.rfft(expected_kernel_first_row(gen)).real
            f = int(np.argmax(lam))
            t = 2.0 * np.pi * f * np.arange(n) / n
            return x + np.cos(t) + np.sin(t)
    except (ValueError, TypeError):  # no closed form for this generator: a random start
        pass
    return x + 1.0 / math.sqrt(n)


def step_limit(gen, C0, A=None, *, rtol: float = 1e-3, max_iterations: int = 100, seed=0) -> StepLimit:
    """Estimate the stability limit ``2/λ_max(A K(C_0) Aᵀ)`` of the linearized iteration at ``C_0``.

    Power iteration ``x ← M x / ‖M x‖`` on ``M = A K(C_0) Aᵀ`` (``K r = J(Jᵀ r)``
    matrix-free, :func:`ntk_toolkit.kernel_operator`), with the Rayleigh
    quotient ``λ̂ = xᵀ M x`` as the estimate (``docs/theory.md`` §9.2).

    Parameters
    ----------
    gen : Generator
        Any generator of the protocol (the products are its ``vjp``/``jvp``;
        the two-layer model has fused O(n k L) products).
    C0 : array_like
        Weights at which the kernel is taken.
    A : measurement operator or ndarray (m, n), optional
    rtol : float, default 1e-3
        Stop when ``λ̂`` changes by less than ``rtol × λ̂`` in one iteration.
    max_iterations : int, default 100
    seed : int or numpy.random.Generator, default 0
        Noise added to the start vector (deterministic by default).

    Returns
    -------
    StepLimit

    Notes
    -----
    For PSD ``M`` the Rayleigh quotients increase and never exceed
    ``λ_max``, so ``2/λ̂`` is at least the true limit and the guard, which
    accepts steps up to it, never refuses or warns about a stable step;
    ``2/((1 + δ) λ̂)`` with ``δ`` = :data:`SAFETY_MARGIN` is below the true
    limit (measured; eq. (9.3) bounds the error). The start vector is the
    top eigenvector of ``Σ`` when it is known in closed form (a 1-D circulant
    ReLU model: the Fourier mode at the peak of the spectrum), so that a few
    iterations suffice at large width; otherwise a fixed random vector. Cost:
    one forward pass for the activation pattern, then per iteration one
    kernel product, ``2 n k L`` multiply-adds for a convolution by direct
    taps. Measured (2 shared cores, under load): about 80 ms per product at
    ``(n, k, L) = (4096, 16384, 3)``.

    Examples
    --------
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, max_step_size
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 64), k=256)
    >>> lim = step_limit(gen, gen.init(seed=0))
    >>> bool(lim.limit > 2 * max_step_size(gen))  # the network bound is conservative
    True
    """
    from .matfree import kernel_operator

    rtol = check_positive("rtol", rtol)
    max_iterations = check_int("max_iterations", max_iterations, minimum=1)
    if not is_generator(gen):
        raise TypeError(f"gen must be a generator, got {type(gen).__name__}")
    A = as_measurement(A, gen.n)
    C0 = gen.check_weights(C0, "C0") if hasattr(gen, "check_weights") else as_float_array("C0", C0)
    t0 = time.perf_counter()
    K = kernel_operator(gen, C0)
    n = int(gen.n)
    rng = as_rng(seed)
    x = _start_vector(gen, n, rng)
    if A is not None:
        x = A.apply(x)

    def prod(z):
        if A is None:
            return K.matvec(z)
        return A.apply(K.matvec(A.apply_T(z)))

    lam, change, iterations = 0.0, math.inf, 0
    x = x / np.linalg.norm(x)
    while iterations < max_iterations:
        iterations += 1
        y = prod(x)
        new = float(x @ y)
        norm = float(np.linalg.norm(y))
        if not (norm > 0 and math.isfinite(norm)):
            raise ValueError("the kernel A K(C0) Aᵀ is zero on the start vector: the network's output cannot "
                             "change (every unit inactive, or a zero filter / output weights)")
        change = abs(new - lam) / new if new > 0 else math.inf
        lam = max(lam, new)
        x = y / norm
        if change <= rtol:
            break
    limit = 2.0 / lam
    return StepLimit(lam_max=lam, limit=limit, accept=limit, safe=limit / (1.0 + SAFETY_MARGIN),
                     hard=HARD_FACTOR * limit,
                     iterations=iterations, change=change, seconds=time.perf_counter() - t0)


_KINDS = ("network", "linearized", "empirical")


@renamed_argument("gen_or_kernel", "kernel")
def max_step_size(kernel, A=None, kind: str | None = None, C=None) -> float:
    """Stable step size: for every weight (``"network"``), for the infinite-width or for the empirical linearization.

    Parameters
    ----------
    kernel : generator, ndarray (n, n) or Spectrum
        A network (a generator) or a linear model (a kernel matrix or its Spectrum).
    A : measurement operator or ndarray (m, n), optional
    kind : {"network", "linearized", "empirical"}, optional
        Default ``"network"`` for a generator, ``"linearized"`` for a kernel.

        * ``"network"`` (generators): ``1 / (β ‖A‖²)`` with ``β`` from
          ``gen.kernel_norm_bound()`` (``‖v‖² ‖U‖²`` for the two-layer model).
          Since ``J(C) J(C)ᵀ ⪯ β I`` for every ``C``, every direction of the
          linearized iteration contracts monotonically (``0 <= 1 − ηλ < 1``)
          whatever the weights (``docs/theory.md`` §1.3, eq. (1.11)).
        * ``"linearized"``: ``2 / λ_max(A K Aᵀ)`` for the given kernel, or for a
          generator its expected kernel ``Σ`` (two-layer ReLU model; O(n log n)
          for a circulant ``U``): the bound above which some component of
          ``(I − ηAKAᵀ)^τ`` grows (eq. (1.12)), at infinite width.
        * ``"empirical"`` (generators, needs ``C``): ``2 / λ_max(A K(C) Aᵀ)``
          for the empirical kernel at ``C``, estimated by power iteration
          (:func:`step_limit`, ``λ̂ <= λ_max`` so this is an upper estimate of the limit).
    C : array_like, optional
        Weights, for ``kind="empirical"``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import TwoLayerGenerator
    >>> from ntk_toolkit.filters import delta, triangle
    >>> from ntk_toolkit.operators import CircularConv
    >>> max_step_size(TwoLayerGenerator(CircularConv(delta(), 8), k=4))
    1.0
    >>> max_step_size(np.diag([4.0, 1.0]))
    0.5
    >>> gen = TwoLayerGenerator(CircularConv(delta(), 8), k=64)  # Σ = I/2
    >>> max_step_size(gen, kind="linearized")
    4.0
    >>> eta = max_step_size(gen, kind="empirical", C=gen.init(seed=0))
    >>> bool(2.0 <= eta)  # each diagonal entry of K(C) is the share of active units, at most 1
    True
    """
    if kind is not None and (not isinstance(kind, str) or kind not in _KINDS):
        raise ValueError(f"kind must be one of {', '.join(map(repr, _KINDS))} or None, got {kind!r}")
    if not is_generator(kernel):
        if kind not in (None, "linearized"):
            raise ValueError(f"kind={kind!r} needs a generator; for a kernel matrix or Spectrum the step size is "
                             "kind='linearized' (2/λ_max(A K Aᵀ))")
        return _linear_limit(kernel, A)
    gen = kernel
    kind = kind or "network"
    if kind != "empirical" and C is not None:
        raise ValueError(f"C is used by kind='empirical' only, got kind={kind!r} and C")
    A = as_measurement(A, gen.n)
    if kind == "network":
        if not hasattr(gen, "kernel_norm_bound"):
            raise TypeError(
                f"{type(gen).__name__} has no kernel_norm_bound(): no step size is known to be stable for every "
                "weight; use max_step_size(gen, kind='empirical', C=C0)"
            )
        a = 1.0 if A is None else A.norm()
        denom = float(gen.kernel_norm_bound()) * a**2
        if math.isinf(denom):
            raise ValueError(f"{gen!r} has no step size that is stable for every weight (a trained output layer or "
                             "an unbounded φ'); pass eta explicitly, use max_step_size(gen, kind='empirical', C=C0), "
                             "or max_step_size(spectrum(gen)) for the linearized model")
        if not denom > 0:
            raise ValueError(f"‖v‖²‖U‖²‖A‖² = {denom:g}: the operator U, the output weights v or A is zero, "
                             "so the network's output cannot change and no step size is defined")
        return 1.0 / denom
    if kind == "linearized":
        from .spectrum import spectrum

        return _linear_limit(spectrum(gen), A)
    if C is None:
        raise ValueError("kind='empirical' needs the weights C at which the kernel K(C) is taken, got C=None")
    return step_limit(gen, C, A).limit


def _linear_limit(kernel, A) -> float:
    system = residual_system(kernel, A)
    lam_max = float(np.max(system[0]))
    if not lam_max > 0:
        raise ValueError("the kernel has no positive eigenvalue: every step size is stable and nothing is fitted")
    return 2.0 / lam_max
