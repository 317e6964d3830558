"""The ``spectrum`` section: :func:`ntk_toolkit.spectrum` against a full FFT."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._timing import time_call
from ..reference import benchmark_generator, naive_spectrum, rel_diff
from ..report import Row
from . import toolkit

if TYPE_CHECKING:
    from ..suite import Run

def spectrum(state: Run) -> None:
    """:func:`ntk_toolkit.spectrum` of ``Σ`` against a full FFT of its first row and a sort."""
    nt = toolkit()
    cfg = state.cfg
    n = cfg.spectrum_n
    gen = benchmark_generator(n, 2)
    err = rel_diff(nt.spectrum(gen).eigenvalues, naive_spectrum(gen))
    ours = time_call(lambda: nt.spectrum(gen), cfg.spectrum_repeats, budget=cfg.budget)
    ref = time_call(lambda: naive_spectrum(gen), cfg.spectrum_repeats, budget=cfg.budget)
    state.add(Row("spectrum", "spectrum of Σ (circulant)", (n,), ours=ours,
                  reference="full FFT of Σ's first row + sort", ref=ref, ref_status="ok",
                  details={"ref_rel_diff": err}), ("spectrum", "time", (n,)))
