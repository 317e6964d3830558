"""Draw the figure of the README and of the documentation's front page.

Left: the spectrum of the expected kernel Σ for several filters (``docs/theory.md`` §2.5).
Right: gradient descent on the network against the linearised prediction
``r_τ = (I − ηΣ)^τ r_0`` for a smooth signal and for white noise of the same norm
(``docs/theory.md`` §4.1).

Usage::

    python docs/scripts/make_readme_figure.py [OUTPUT]

``OUTPUT`` defaults to ``docs/_static/readme_figure.png``. Everything is seeded, so the
figure is the same on every run (about a minute on 2 cores).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import ntk_toolkit as nt  # noqa: E402
from ntk_toolkit.filters import delta, gaussian, triangle  # noqa: E402
from ntk_toolkit.operators import CircularConv  # noqa: E402

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "_static" / "readme_figure.png"

N_SPEC = 256                      # spectra: any n is cheap (O(n log n))
N_FIT, K_FIT = 128, 2048          # gradient descent on the network
FIT_FILTER = triangle(8)
RMS = 1 / 32                      # target scale ‖y‖ = √n · RMS: the network stays close to its linearisation
SEED = 0


def spectra_panel(ax) -> None:
    filters = {"delta (no smoothing)": delta(), "triangle(2)": triangle(2), "triangle(8)": triangle(8),
               "gaussian(6)": gaussian(6)}
    for label, filt in filters.items():
        spec = nt.spectrum(nt.TwoLayerGenerator(CircularConv(filt, N_SPEC), k=2))
        lam = spec.eigenvalues_by_frequency
        ax.semilogy(np.arange(lam.size), lam, lw=2, label=label)
    ax.set_xlabel(r"frequency $f$")
    ax.set_ylabel(r"eigenvalue $\lambda_f$ of $\Sigma$")
    ax.set_title(rf"Spectrum of the expected kernel $\Sigma$ ($n$ = {N_SPEC})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")


def fitting_panel(ax) -> None:
    gen = nt.TwoLayerGenerator(CircularConv(FIT_FILTER, N_FIT), K_FIT)
    spec = nt.spectrum(gen)
    eta = nt.max_step_size(gen)
    C0 = gen.init(seed=SEED, omega=1.0, symmetric=True)  # G(C0) = 0
    scale = np.sqrt(N_FIT) * RMS
    targets = {"smooth signal": nt.signals.smooth(N_FIT, p=8, seed=SEED + 1, norm=scale),
               "white noise": nt.signals.white_noise(N_FIT, seed=SEED + 2, norm=scale)}
    lin = {name: nt.linearized(spec, y, eta) for name, y in targets.items()}
    for (name, y), color in zip(targets.items(), ("C0", "C3")):
        steps = int(1.2 * lin[name].fit_time(1e-2)) + 1
        taus = np.arange(steps + 1)
        traj = nt.gradient_descent(gen, y, C0, eta, steps, record=[0])
        ax.loglog(taus + 1, np.sqrt(traj.losses / traj.losses[0]), color=color, lw=2,
                  label=f"{name}: network")
        ax.loglog(taus + 1, np.sqrt(lin[name].loss(taus) / lin[name].loss(0)), "--", color="k", lw=1.2,
                  label=f"{name}: linearised" if name == "white noise" else "linearised prediction")
    ax.set_xlabel(r"gradient-descent step $\tau + 1$")
    ax.set_ylabel(r"relative residual $\Vert y - G(C_\tau)\Vert \,/\, \Vert y\Vert$")
    ax.set_title(f"Fitting structure vs noise ({FIT_FILTER.name}, $n$ = {N_FIT}, $k$ = {K_FIT})")
    ax.set_ylim(1e-2, 1.5)
    ax.grid(True, which="both", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    keep = [i for i, lab in enumerate(labels) if "white noise: linearised" not in lab]
    ax.legend([handles[i] for i in keep], [labels[i] for i in keep], fontsize="small")


def main(output: Path = DEFAULT_OUTPUT) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    spectra_panel(axes[0])
    fitting_panel(axes[1])
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".partial.png")
    fig.savefig(tmp, dpi=110, metadata={"Software": None})
    tmp.replace(output)
    plt.close(fig)
    return output


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT))
