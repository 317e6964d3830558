"""The ``symbolic`` section: kernels of other activations against ReLU's, cached derivations, import time.

* ``expected_kernel_first_row`` and ``spectrum`` of ``Σ`` for smooth activations
  (erf: closed form; tanh, softplus: Gauss–Hermite quadrature, cached per ``(ω, filter)``)
  against the same call for ReLU, at ``n = spectrum_n``;
* the second call of :func:`ntk_toolkit.symbolic.dual` (cached derivation);
* ``import ntk_toolkit`` in a fresh process, and whether it imported sympy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from .._timing import Stats, time_call
from ..reference import FILTER_WIDTH
from ..report import Row
from . import toolkit

if TYPE_CHECKING:
    from ..suite import Run

#: Smooth activations timed against ReLU.
ACTIVATIONS = ("erf", "tanh", "softplus")


def _gen(n: int, activation: str):
    nt = toolkit()
    from ...filters import triangle

    return nt.TwoLayerGenerator(nt.CircularConv(triangle(FILTER_WIDTH), n), 2, activation=activation)


def symbolic_kernels(state: Run) -> None:
    """``expected_kernel_first_row`` and ``spectrum`` of smooth activations against ReLU's, same ``n``."""
    nt = toolkit()
    cfg = state.cfg
    n = cfg.spectrum_n
    relu = _gen(n, "relu")
    ref_row = time_call(lambda: nt.expected_kernel_first_row(relu), cfg.spectrum_repeats, budget=cfg.budget)
    ref_spec = time_call(lambda: nt.spectrum(relu), cfg.spectrum_repeats, budget=cfg.budget)
    for name in ACTIVATIONS:
        gen = _gen(n, name)
        t0 = time.perf_counter()
        nt.expected_kernel_first_row(gen, omega=1.0)  # the first call fills the quadrature cache
        first = time.perf_counter() - t0
        row = time_call(lambda gen=gen: nt.expected_kernel_first_row(gen), cfg.spectrum_repeats, budget=cfg.budget)
        spec = time_call(lambda gen=gen: nt.spectrum(gen), cfg.spectrum_repeats, budget=cfg.budget)
        how = "closed form" if gen.activation.closed_form else "Gauss–Hermite quadrature, cached"
        state.add(Row("symbolic", f"expected_kernel_first_row, {name} ({how})", (n,), ours=row,
                      reference="the same for ReLU", ref=ref_row, ref_status="ok",
                      details={"first_call_s": first}), ("symbolic", f"first_row:{name}", (n,)))
        state.add(Row("symbolic", f"spectrum of Σ, {name} ({how})", (n,), ours=spec,
                      reference="the same for ReLU", ref=ref_spec, ref_status="ok"),
                  ("symbolic", f"spectrum:{name}", (n,)))
    state.notes.append("symbolic: a ratio ≥ 0.5 means a smooth activation costs at most twice ReLU's time; "
                       "first_call_s includes the quadrature that later calls find in the cache")


def symbolic_dual(state: Run) -> None:
    """The second call of ``symbolic.dual`` (cached derivation) and ``import ntk_toolkit`` without sympy."""
    from ... import symbolic as sy

    t0 = time.perf_counter()
    sy.dual("quadratic", derivative=True)  # derived by sympy's integration on the first call
    first = time.perf_counter() - t0
    again = time_call(lambda: sy.dual("quadratic", derivative=True), 20, warmup=0)
    state.add(Row("symbolic", "symbolic.dual, second call (cached)", (), dtype="—", ours=again,
                  details={"first_call_s": first}), ("symbolic", "dual", ()))
    code = ("import json, sys, time; t = time.perf_counter(); import ntk_toolkit; "
            "print(json.dumps([time.perf_counter() - t, 'sympy' in sys.modules]))")
    times, loaded = [], []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
        t, has = json.loads(out.stdout.strip().splitlines()[-1])
        times.append(t)
        loaded.append(has)
    state.add(Row("symbolic", "import ntk_toolkit (fresh process, sympy not loaded)", (), dtype="—",
                  ours=Stats(tuple(times)), status="ok" if not any(loaded) else "imports sympy",
                  details={"sympy_imported": any(loaded)}), ("symbolic", "import", ()))
