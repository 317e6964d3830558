"""The ``dynamics`` section: the cost of the regime diagnostics and of the stability estimate.

* ``gradient_descent(..., diagnostics=True)`` recorded at 20 iterations
  against the same run without diagnostics (target: at most 10 % slower, a
  ratio of at least ``1/1.1``), on a 1-D signal and on an image (the run of
  ``ntk-toolkit denoise``: a 64 x 64 image, ``triangle2d(2)``, ``k = 256``,
  mirrored initialisation with ``ω = 16``, 1000 steps as for the signal);
* :func:`ntk_toolkit.step_limit` (power iteration on the matrix-free kernel,
  the estimate behind the step-size guard) at ``(n, k) = (4096, 16384)``
  (target: at most 1 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._timing import LoadMonitor, Stats, time_call
from ..reference import benchmark_problem
from ..report import Row
from . import toolkit

if TYPE_CHECKING:
    from ..suite import Run

#: ``((n, k), steps)`` of the diagnostics run, by mode.
DIAGNOSTICS = {"quick": ((128, 512), 500), "full": ((512, 2048), 1000)}
#: ``(n, k)`` of the stability estimate, by mode.
STABILITY = {"quick": (1024, 4096), "full": (4096, 16384)}
#: ``((H, W, k), steps)`` of the image diagnostics run, by mode.
DIAGNOSTICS_2D = {"quick": ((32, 32, 128), 300), "full": ((64, 64, 256), 1000)}
#: Recorded iterations of the diagnostics run.
RECORDED = 20


def _image_problem(H: int, W: int, k: int):
    """The denoising run of an ``H x W`` camera image: ``(gen, C0, y, eta)`` (mirrored init, ``ω = 16``)."""
    nt = toolkit()
    from ntk_toolkit import images
    from ntk_toolkit.filters import from_spec

    gen = nt.TwoLayerGenerator(nt.CircularConv2D(from_spec("triangle2d:2"), (H, W)), k)
    x = images.load("camera", (H, W)).reshape(-1)
    y = images.add_noise(x, 0.1, seed=1)
    return gen, gen.init(seed=0, omega=16.0, symmetric=True), y, nt.max_step_size(gen)


def diagnostics_overhead(state: Run, image: bool = False) -> None:
    """A run with diagnostics against the same run without, both recorded at :data:`RECORDED` iterations."""
    nt = toolkit()
    mode = "quick" if state.quick else "full"
    if image:
        (H, W, k), steps = DIAGNOSTICS_2D[mode]
        gen, C0, y, eta = _image_problem(H, W, k)
        size, key, what = (H, W, k), ("dynamics", "diagnostics-2d", (H, W, k)), f"{H}x{W} image, "
    else:
        (n, k), steps = DIAGNOSTICS[mode]
        gen, C0, y, eta = benchmark_problem(n, k)
        size, key, what = (n, k), ("dynamics", "diagnostics", (n, k)), ""
    repeats = state.cfg.gd_repeats
    with LoadMonitor() as mon:
        traj = nt.gradient_descent(gen, y, C0, eta, steps, record=RECORDED, diagnostics=True)  # warm-up
        plain = time_call(lambda: nt.gradient_descent(gen, y, C0, eta, steps, record=RECORDED), repeats,
                          budget=state.cfg.budget)
        diag = time_call(lambda: nt.gradient_descent(gen, y, C0, eta, steps, record=RECORDED, diagnostics=True),
                         repeats, budget=state.cfg.budget)
    plain, diag = (Stats(s.times, mon.other_cores) for s in (plain, diag))
    row = Row("dynamics", f"gradient descent, {what}{steps} steps, with diagnostics at {RECORDED} iterations", size,
              ours=diag, reference="the same run without diagnostics", ref=plain, ref_status="ok",
              details={"steps": steps, "recorded": RECORDED, "method": traj.diagnostics_method,
                       "overhead": diag.median / plain.median - 1.0})
    state.add(row, key)
    state.notes.append(f"regime diagnostics at {RECORDED} recorded iterations of a {steps}-step run, {what}"
                       f"size {size} ({traj.diagnostics_method}): "
                       f"{100 * row.details['overhead']:+.1f} % of the run's time")


def stability_estimate(state: Run) -> None:
    """:func:`ntk_toolkit.step_limit` at the mode's size (one forward pass for the pattern, then power iteration)."""
    nt = toolkit()
    n, k = STABILITY["quick" if state.quick else "full"]
    gen, C0, _, _ = benchmark_problem(n, k)
    with LoadMonitor() as mon:
        lim = nt.step_limit(gen, C0)
        ours = time_call(lambda: nt.step_limit(gen, C0), 3, budget=state.cfg.budget)
    ours = Stats(ours.times, mon.other_cores)
    state.add(Row("dynamics", "stability estimate 2/λ_max(K(C0)) (power iteration)", (n, k), ours=ours,
                  details={"iterations": lim.iterations, "lam_max": lim.lam_max, "change": lim.change,
                           "network_bound_ratio": lim.limit / nt.max_step_size(gen)}),
              ("dynamics", "stability", (n, k)))
