"""Set-ups shared by the checks of the cs family."""

from __future__ import annotations

import numpy as np

from ...recovery import run_to_convergence
from ...spectrum import Spectrum, spectrum
from .._common import make_gen


def spectrum_of(filt: str, n: int) -> Spectrum:
    """Spectrum of ``Σ`` for the filter spec ``filt`` at length ``n`` (O(n log n); ``k`` does not enter ``Σ``)."""
    return spectrum(make_gen(filt, n, 2))


def top_p(spec: Spectrum, p: int, draw: np.random.Generator) -> np.ndarray:
    """Unit-norm ``x = Σ_{i<p} ±w_i``: equal energy in each of the top-``p`` eigenvectors, random signs.

    Raises
    ------
    ValueError
        If ``p`` splits a cos/sin pair (the top-``p`` eigenspace would not be unique).
    """
    if spec.frequencies is not None and p < spec.n and spec.frequencies[p - 1] == spec.frequencies[p]:
        raise ValueError(f"p={p} splits the cos/sin pair of frequency {spec.frequencies[p]}")
    c = np.zeros(spec.n)
    c[:p] = draw.choice([-1.0, 1.0], p)
    x = spec.synthesize(c)
    return x / np.linalg.norm(x)


def net_run(gen, A, y, draw, **kw):
    """Mirrored initialisation (``G(C_0) = 0``) and ``run_to_convergence``; returns ``(C_0, Convergence)``."""
    C0 = gen.init(seed=draw, omega=1.0, symmetric=True)
    return C0, run_to_convergence(gen, y, C0, A=A, **kw)
