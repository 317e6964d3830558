"""Training a deep generator by gradient descent or Adam, with the Jacobian's spectrum along the way.

``docs/theory.md`` §1.2 (losses, the authors' optimizers and their
learning-rate scaling), §2.7 (the Jacobian during training).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import numpy as np

from .. import _blas
from .._memory import check_memory
from .._validation import as_float_array, check_int, check_positive
from ..dynamics import DivergenceError, geometric_iterations
from ..measurements import as_measurement
from ..trajectory import stop_reason
from .spectra import jacobian_spectrum

__all__ = ["FitTrajectory", "fit"]

#: Multiply-adds per forward pass below which :func:`fit` keeps OpenBLAS on one thread.
SMALL_WORK = 1 << 26


@dataclass(frozen=True, eq=False)
class FitTrajectory:
    """Result of :func:`fit`.

    Attributes
    ----------
    iterations : ndarray of int, shape (R,)
        Iterations at which outputs were recorded.
    outputs : ndarray, shape (R, n)
        ``G(θ_τ)`` at those iterations.
    losses : ndarray, shape (steps + 1,)
        ``½‖A G(θ_τ) − y‖²`` for ``τ = 0 … steps``.
    theta : ndarray, shape (num_params,)
        Final parameters.
    optimizer : str
    lr : float
    steps : int
        Steps run (fewer than asked when ``stop_at`` was reached).
    converged : bool
        The loss reached ``stop_at`` times its initial value.
    reason : str
    spectrum_iterations : ndarray of int, shape (S,)
        Iterations at which the Jacobian spectrum was computed (empty without ``jacobian_every``).
    singular_values : ndarray, shape (S, r)
    singular_vectors : ndarray, shape (S, n, r)
        Left singular vectors at those iterations.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep import DeepDecoder, fit
    >>> net = DeepDecoder((16,), [4, 8, 8])
    >>> y = 0.5 + 0.3 * np.cos(2 * np.pi * np.arange(16) / 16)
    >>> traj = fit(net, y, net.init(seed=0), optimizer="adam", lr=0.01, steps=200, record=[0, 200])
    >>> bool(traj.losses[-1] < 0.05 * traj.losses[0])
    True
    """

    iterations: np.ndarray
    outputs: np.ndarray
    losses: np.ndarray
    theta: np.ndarray
    optimizer: str
    lr: float
    steps: int
    converged: bool
    reason: str
    spectrum_iterations: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    singular_values: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    singular_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))

    def steps_to(self, fraction: float) -> int | None:
        """First iteration whose loss is at most ``fraction`` × the initial loss, or ``None``.

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit.deep import DeepDecoder, fit
        >>> net = DeepDecoder((16,), [4, 8, 8])
        >>> y = 0.5 + 0.3 * np.cos(2 * np.pi * np.arange(16) / 16)
        >>> traj = fit(net, y, net.init(seed=0), optimizer="adam", lr=0.01, steps=300, stop_at=0.1)
        >>> traj.steps_to(0.1) == traj.steps
        True
        """
        fraction = check_positive("fraction", fraction)
        hits = np.flatnonzero(self.losses <= fraction * self.losses[0])
        return int(hits[0]) if hits.size else None

    def to_dict(self) -> dict:
        return {"iterations": self.iterations.tolist(), "losses": self.losses.tolist(), "optimizer": self.optimizer,
                "lr": self.lr, "steps": self.steps, "converged": self.converged, "reason": self.reason,
                "spectrum_iterations": self.spectrum_iterations.tolist(),
                "singular_values": self.singular_values.tolist()}


def _record(record, steps: int) -> np.ndarray:
    if record is None:
        return geometric_iterations(steps, 20)
    if isinstance(record, (int, np.integer)) and not isinstance(record, bool):
        return geometric_iterations(steps, check_int("record", record, minimum=2))
    arr = np.asarray(record)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"record must be None, an int or a sequence of iteration numbers, got {record!r}")
    if arr.size and (arr.min() < 0 or arr.max() > steps):
        raise ValueError(f"record must contain iterations in [0, steps={steps}], got {arr.tolist()}")
    return np.unique(arr.astype(np.int64))


class _Adam:
    """``torch.optim.Adam`` without weight decay: bias-corrected first and second moments."""

    def __init__(self, size: int, lr: float, betas: tuple, eps: float):
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.m, self.v, self.t = np.zeros(size), np.zeros(size), 0

    def __call__(self, theta: np.ndarray, g: np.ndarray) -> None:
        self.t += 1
        self.m *= self.b1
        self.m += (1.0 - self.b1) * g
        self.v *= self.b2
        self.v += (1.0 - self.b2) * g * g
        c1, c2 = 1.0 - self.b1 ** self.t, 1.0 - self.b2 ** self.t
        denom = np.sqrt(self.v) / math.sqrt(c2) + self.eps
        theta -= (self.lr / c1) * self.m / denom


def fit(net, y, theta0, optimizer: str = "adam", lr: float = 0.01, steps: int = 1000, A=None, record=None,
        jacobian_every: int | None = None, *, rank: int = 10, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
        stop_at: float | None = None, divergence_factor: float = 1e6, seed=0, progress: bool = False) -> FitTrajectory:
    """Fit ``net`` to ``y`` by minimising ``½‖A G(θ) − y‖²`` with plain gradient descent or Adam.

    * ``"gd"``: ``θ ← θ − lr · J(θ)ᵀ Aᵀ(A G(θ) − y)`` (``docs/theory.md`` §1.3);
    * ``"adam"``: ``torch.optim.Adam``'s update (bias-corrected moments,
      ``betas``, ``eps``, no weight decay), the authors' default optimizer.
      Adam's step hardly depends on the scale of the gradient, so the
      authors' learning rates (for ``MSELoss``, a mean) carry over as they
      are (``docs/theory.md`` §1.2).

    Each step costs one forward pass and one ``vjp`` (``forward_pattern`` /
    ``backward`` when the generator has them). Below ``SMALL_WORK``
    multiply-adds per pass (``net.work``, 2²⁶) OpenBLAS runs on one thread:
    its threads cost more than they bring on matrices this small (on 2 busy
    cores: 1.5 s against 25 s for 300 Adam steps of a 32×32 decoder with 32
    channels; 34 ms against 190 ms per step at 64×64 with 64 channels). It
    also does for a generator whose ``parallel_kernels`` attribute is true
    (:class:`~ntk_toolkit.deep.DeepDecoder`): its fixed stages run parallel
    Numba kernels on the same cores, and OpenBLAS' own threads, spinning after
    each product, would take the cores from them (on 2 busy cores, 135 ms
    against 575 ms per Adam step at 128×128 with 128 channels).

    Parameters
    ----------
    net : generator
        :class:`~ntk_toolkit.deep.DeepDecoder`, :class:`~ntk_toolkit.deep.MultiLayerConvGenerator`
        or another generator on a flat parameter vector.
    y : array_like, shape (n,) (or (m,) with ``A``)
    theta0 : array_like, shape (num_params,)
        Initial parameters (not modified).
    optimizer : {"adam", "gd"}, default "adam"
    lr : float, default 0.01
    steps : int, default 1000
    A : measurement operator or ndarray (m, n), optional
    record : None, int or sequence of int
        Iterations at which to keep ``G(θ_τ)`` (default 20 geometrically spaced ones).
    jacobian_every : int, optional
        Also compute :func:`~ntk_toolkit.deep.jacobian_spectrum` (``rank`` values and
        left vectors) at iterations ``0, jacobian_every, 2·jacobian_every, …`` and at the last one.
    rank : int, default 10
    betas, eps : Adam's parameters (torch's defaults).
    stop_at : float, optional
        Stop once the loss is at most ``stop_at`` × the initial loss.
    divergence_factor : float, default 1e6
        Stop with :class:`~ntk_toolkit.DivergenceError` when the loss is not
        finite or exceeds this factor times ``max(loss_0, ½‖y‖²)``.
    seed : int, default 0
        Starting vectors of the Lanczos iterations.
    progress : bool, default False

    Returns
    -------
    FitTrajectory

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep import DeepDecoder, fit
    >>> net = DeepDecoder((16,), [4, 8, 8], output="linear")
    >>> y = np.cos(2 * np.pi * np.arange(16) / 16)
    >>> traj = fit(net, y, net.init(seed=0), optimizer="gd", lr=1e-3, steps=40, jacobian_every=20, rank=3)
    >>> traj.spectrum_iterations.tolist(), traj.singular_values.shape, bool(traj.losses[-1] < traj.losses[0])
    ([0, 20, 40], (3, 3), True)
    """
    for attr in ("n", "num_params", "forward", "vjp"):
        if not hasattr(net, attr):
            raise TypeError(f"net must be a generator (n, num_params, forward, jvp, vjp), got {type(net).__name__}")
    if not isinstance(optimizer, str) or optimizer not in ("adam", "gd"):
        raise ValueError(f"optimizer must be 'adam' or 'gd', got {optimizer!r}")
    A = as_measurement(A, net.n)
    m = net.n if A is None else A.shape[0]
    y = as_float_array("y", y, shape=(m,))
    theta = net.check_weights(theta0, "theta0") if hasattr(net, "check_weights") else as_float_array("theta0", theta0)
    theta = np.array(theta, dtype=np.float64, copy=True)
    lr = check_positive("lr", lr)
    steps = check_int("steps", steps, minimum=0)
    check_memory(8 * (steps + 1), f"the loss history of steps={steps}", "use fewer steps")
    divergence_factor = check_positive("divergence_factor", divergence_factor)
    if stop_at is not None:
        stop_at = check_positive("stop_at", stop_at)
    if jacobian_every is not None:
        jacobian_every = check_int("jacobian_every", jacobian_every, minimum=1)
        rank = check_int("rank", rank, minimum=1)
    if not (len(betas) == 2 and all(0 <= b < 1 for b in betas)):
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
    eps = check_positive("eps", eps)
    rec = _record(record, steps)
    fast = all(hasattr(net, a) for a in ("forward_pattern", "backward"))
    adam = _Adam(theta.size, lr, tuple(float(b) for b in betas), eps) if optimizer == "adam" else None
    outputs, its, losses = [], [], np.empty(steps + 1)
    spec_its, spec_s, spec_v = [], [], []
    ref = max(0.5 * float(y @ y), np.finfo(float).tiny)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=f"fit ({optimizer})", unit="step", leave=False)
    converged, last = False, steps
    small = contextlib.ExitStack()
    if int(getattr(net, "work", 0)) < SMALL_WORK or getattr(net, "parallel_kernels", False):
        small.enter_context(_blas.single_thread())
    try:
        for tau in range(steps + 1):
            if fast:
                g, cache = net.forward_pattern(theta)
            else:
                g = np.asarray(net.forward(theta), dtype=np.float64)
            with np.errstate(over="ignore", invalid="ignore"):
                rm = g - y if A is None else A.apply(g) - y
                loss = 0.5 * float(rm @ rm)
            losses[tau] = loss
            if tau == 0:
                ref = max(ref, loss)
            if not math.isfinite(loss) or loss > divergence_factor * ref:
                raise DivergenceError(f"{optimizer} diverged at iteration {tau}: loss {loss:.6g} (initial "
                                      f"{losses[0]:.6g}) with lr={lr:.6g}; lower lr")
            if stop_at is not None and loss <= stop_at * losses[0]:
                converged, last = True, tau
            final = tau == steps or converged
            if tau in rec or final:
                its.append(tau)
                outputs.append(g)
            if jacobian_every is not None and (tau % jacobian_every == 0 or final):
                spec = jacobian_spectrum(net, theta, rank, seed=seed)
                spec_its.append(tau)
                spec_s.append(spec.singular_values)
                spec_v.append(spec.vectors)
            if final:
                break
            r = rm if A is None else np.ascontiguousarray(A.apply_T(rm), dtype=np.float64)
            grad = net.backward(cache, r) if fast else net.vjp(theta, r)
            if adam is None:
                theta -= lr * grad
            else:
                adam(theta, grad)
            if bar is not None:
                bar.update(1)
    finally:
        small.close()
        if bar is not None:
            bar.close()
    reason = stop_reason(converged, stop_at, last, steps, losses)
    n = int(net.n)
    return FitTrajectory(
        iterations=np.asarray(its, dtype=np.int64), outputs=np.asarray(outputs).reshape(len(its), n),
        losses=losses[:last + 1].copy(), theta=theta, optimizer=optimizer, lr=lr, steps=last, converged=converged,
        reason=reason, spectrum_iterations=np.asarray(spec_its, dtype=np.int64),
        singular_values=np.asarray(spec_s).reshape(len(spec_its), -1) if spec_its else np.zeros((0, 0)),
        singular_vectors=np.asarray(spec_v) if spec_its else np.zeros((0, 0, 0)))
