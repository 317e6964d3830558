"""The Jacobian spectrum of a deep decoder at initialization and after training, in one result.

What ``ntk-toolkit deep-spectrum`` and notebook 07 show (``docs/theory.md`` §2.7, claim 20):
the leading singular values and left singular vectors ("singular images") of ``J(θ)``, their
geometric decay, their overlap with low-frequency trigonometric functions, and how far the
leading subspace moves while the network fits a target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array, check_int
from .spectra import decay_rate, jacobian_spectrum, subspace_drift, trig_overlap
from .training import fit

__all__ = ["DeepSpectrumRun", "plot_deep_spectrum", "spectrum_during_training"]


@dataclass(frozen=True, eq=False)
class DeepSpectrumRun:
    """Result of :func:`spectrum_during_training`.

    Attributes
    ----------
    shape : tuple
        Spatial shape of the output (``(n,)`` or ``(H, W)``).
    iterations : ndarray of int, shape (S,)
        Iterations at which the spectrum was taken (``[0]`` without training, else ``[0, steps]``).
    singular_values : ndarray, shape (S, r)
    vectors : ndarray, shape (S, n, r)
        Leading left singular vectors ("singular images" for 2-D outputs).
    overlaps : ndarray, shape (S, r)
        :func:`~ntk_toolkit.deep.trig_overlap` of each.
    rates, r2 : ndarray, shape (S,)
        Geometric decay rate and ``R²`` of :func:`~ntk_toolkit.deep.decay_rate` (first value left out).
    angles : ndarray, shape (r,) or (0,)
        Principal angles (radians) between the subspaces at the first and the last iteration.
    losses : ndarray
        Training losses (one entry without training).
    target, output : ndarray, shape (n,) or None
        The fitted target and the final output.
    net_repr : str

    Examples
    --------
    >>> from ntk_toolkit.deep import DeepDecoder
    >>> from ntk_toolkit.deep.experiments import spectrum_during_training
    >>> run = spectrum_during_training(DeepDecoder((16,), [4, 8, 8]), r=4)
    >>> run.iterations.tolist(), run.singular_values.shape, run.overlaps.shape
    ([0], (1, 4), (1, 4))
    """

    shape: tuple
    iterations: np.ndarray
    singular_values: np.ndarray
    vectors: np.ndarray
    overlaps: np.ndarray
    rates: np.ndarray
    r2: np.ndarray
    angles: np.ndarray
    losses: np.ndarray
    target: np.ndarray | None
    output: np.ndarray | None
    net_repr: str

    def to_dict(self) -> dict:
        return {"shape": list(self.shape), "iterations": self.iterations.tolist(),
                "singular_values": self.singular_values.tolist(), "trig_overlap": self.overlaps.tolist(),
                "decay_rate": self.rates.tolist(), "decay_r2": self.r2.tolist(),
                "principal_angles_deg": np.degrees(self.angles).tolist(),
                "final_loss": float(self.losses[-1]) if self.losses.size else None, "net": self.net_repr}


def spectrum_during_training(net, y=None, r: int = 20, steps: int = 0, optimizer: str = "adam", lr: float = 0.01,
                             seed: int = 0, scheme: str | None = None, progress: bool = False) -> DeepSpectrumRun:
    """Jacobian spectrum of ``net`` at initialization and, with ``steps > 0``, after fitting ``y``.

    Parameters
    ----------
    net : DeepDecoder
        A deep decoder with one output channel.
    y : array_like, shape (n,), optional
        Target of the training (needed when ``steps > 0``).
    r : int, default 20
        Number of singular values and vectors.
    steps : int, default 0
    optimizer, lr :
        See :func:`~ntk_toolkit.deep.fit`.
    seed : int, default 0
        Initialisation and Lanczos starting vectors.
    scheme : {"pytorch", "xavier"}, optional
        Initialisation (:meth:`DeepDecoder.init`); default ``"xavier"`` for a fixed last layer, else ``"pytorch"``.
    progress : bool, default False

    Returns
    -------
    DeepSpectrumRun

    Notes
    -----
    Cost: two matrix-free spectra (:func:`~ntk_toolkit.deep.jacobian_spectrum`) plus ``steps``
    training steps.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep import DeepDecoder
    >>> from ntk_toolkit.deep.experiments import spectrum_during_training
    >>> net = DeepDecoder((16,), [4, 8, 8])
    >>> y = 0.5 + 0.3 * np.cos(2 * np.pi * np.arange(16) / 16)
    >>> run = spectrum_during_training(net, y, r=4, steps=20)
    >>> run.iterations.tolist(), run.angles.shape
    ([0, 20], (4,))
    """
    if getattr(net, "out_channels", 1) != 1 or not hasattr(net, "out_shape"):
        raise ValueError("spectrum_during_training needs a DeepDecoder with out_channels=1 (its singular vectors "
                         "are images of out_shape)")
    r = check_int("r", r, minimum=1)
    steps = check_int("steps", steps, minimum=0)
    if scheme is None:
        scheme = "xavier" if net.last_layer == "fixed" else "pytorch"
    theta0 = net.init(seed=seed, scheme=scheme)
    target = output = None
    if steps:
        if y is None:
            raise ValueError("y (the target) is needed when steps > 0")
        target = as_float_array("y", y, shape=(net.n,))
        tr = fit(net, target, theta0, optimizer=optimizer, lr=lr, steps=steps, record=[0], jacobian_every=steps,
                 rank=r, seed=seed, progress=progress)
        iterations, S, V, losses = tr.spectrum_iterations, tr.singular_values, tr.singular_vectors, tr.losses
        output = tr.outputs[-1]
    else:
        spec = jacobian_spectrum(net, theta0, r, seed=seed)
        iterations, S, V = np.zeros(1, dtype=np.int64), spec.singular_values[None], spec.vectors[None]
        losses = np.zeros(0)
    overlaps = np.stack([trig_overlap(v, net.out_shape) for v in V])
    fits = [decay_rate(s, skip=1) if s.size >= 3 else None for s in S]
    rates = np.array([f.rate if f else np.nan for f in fits])
    r2 = np.array([f.r2 if f else np.nan for f in fits])
    angles = subspace_drift(V[0], V[-1]) if len(V) > 1 else np.zeros(0)
    return DeepSpectrumRun(tuple(net.out_shape), np.asarray(iterations), np.asarray(S), np.asarray(V), overlaps,
                           rates, r2, angles, np.asarray(losses), target, output, repr(net))


def plot_deep_spectrum(run: DeepSpectrumRun, images: int = 6):
    """Figure of a :class:`DeepSpectrumRun`: singular values, trigonometric overlap and the leading singular vectors.

    Parameters
    ----------
    run : DeepSpectrumRun
    images : int, default 6
        Leading singular vectors shown per recorded iteration.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from ntk_toolkit.deep import DeepDecoder
    >>> from ntk_toolkit.deep.experiments import plot_deep_spectrum, spectrum_during_training
    >>> fig = plot_deep_spectrum(spectrum_during_training(DeepDecoder((8, 8), [4, 4, 4]), r=4), images=2)
    >>> len(fig.axes) >= 4
    True
    """
    from ..plotting import pyplot

    plt = pyplot()
    images = min(check_int("images", images, minimum=1), run.singular_values.shape[1])
    S = len(run.iterations)
    fig = plt.figure(figsize=(12, 4.2 + 2.2 * S))
    grid = fig.add_gridspec(1 + S, max(2 * 1, images), height_ratios=[2.2] + [1] * S)
    half = max(1, images // 2)
    ax1 = fig.add_subplot(grid[0, :half])
    ax2 = fig.add_subplot(grid[0, half:])
    for j, it in enumerate(run.iterations):
        s = run.singular_values[j]
        ax1.semilogy(np.arange(1, s.size + 1), s, "o-", ms=3, label=f"iteration {it} (rate {run.rates[j]:.3f})")
        ax2.plot(np.arange(1, s.size + 1), run.overlaps[j], "o-", ms=3, label=f"iteration {it}")
    n = run.vectors.shape[1]
    ax2.plot(np.arange(1, run.overlaps.shape[1] + 1), np.arange(1, run.overlaps.shape[1] + 1) / n, "k--",
             label="random subspace")
    ax1.set(xlabel="index i", ylabel="singular value", title="Leading singular values of J(θ)")
    ax2.set(xlabel="j", ylabel="overlap", title="Top-j subspace vs j lowest frequencies")
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    for j, it in enumerate(run.iterations):
        for i in range(images):
            ax = fig.add_subplot(grid[1 + j, i])
            v = run.vectors[j][:, i]
            if len(run.shape) == 2:
                vmax = float(np.abs(v).max()) or 1.0
                ax.imshow(v.reshape(run.shape), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
                ax.set_xticks([])
                ax.set_yticks([])
            else:
                ax.plot(v, lw=1)
                ax.set_yticks([])
            ax.set_title(f"τ={it}, u_{i + 1}", fontsize="small")
    fig.tight_layout()
    return fig
