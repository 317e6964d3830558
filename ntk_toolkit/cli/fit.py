"""``ntk-toolkit fit``: gradient descent on a signal against the linearized prediction."""

from __future__ import annotations

import sys
import time

import click
import numpy as np

from ._options import (
    FiniteFloatRange,
    build_generator,
    check_even_k,
    emit_json,
    filter_option,
    json_option,
    plot_option,
    quiet_option,
    save_plot,
    seed_option,
)

__all__ = ["fit"]

SIGNALS = ("smooth", "step", "noise", "piecewise", "piecewise-smooth")


@click.command()
@click.option("--signal", type=click.Choice(SIGNALS), default="smooth", show_default=True,
              help="Target signal (unit norm).")
@filter_option()
@click.option("--n", type=click.IntRange(min=2), default=128, show_default=True, help="Signal length.")
@click.option("--k", type=click.IntRange(min=2), default=1024, show_default=True, help="Number of channels (even).")
@click.option("--steps", type=click.IntRange(min=0), default=2000, show_default=True, help="Gradient-descent steps.")
@click.option("--eta", type=FiniteFloatRange(min=0, min_open=True), default=None,
              help="Step size [default: max_step_size(gen) = 1/‖U‖²].")
@click.option("--omega", type=FiniteFloatRange(min=0, min_open=True), default=0.01, show_default=True,
              help="Initialisation scale ω.")
@click.option("--delta", type=FiniteFloatRange(min=0, max=1, min_open=True), default=0.1, show_default=True,
              help="Fit time = first iteration with residual ≤ delta × initial residual.")
@seed_option()
@json_option()
@plot_option("Write a PNG/PDF figure.")
@quiet_option()
def fit(signal, filter_spec, n, k, steps, eta, omega, delta, seed, as_json, plot, quiet) -> None:
    """Fit a signal with gradient descent and compare with the linearized prediction.

    Runs plain gradient descent on ½‖G(C) − y‖² and overlays the prediction
    r_τ = (I − ηΣ)^τ (y − G(C_0)) of the expected kernel Σ.

    \b
    Example:
      ntk-toolkit fit --signal noise --filter triangle:8 --n 128 --k 1024 --steps 5000
    """
    from .. import signals
    from ..dynamics import DivergenceError, gradient_descent, linearized, max_step_size
    from ..spectrum import spectrum

    check_even_k(k)
    gen = build_generator(filter_spec, n, k)
    y = signals.from_name(signal, n, seed=seed + 1)
    if eta is None:
        eta = max_step_size(gen)
    try:
        C0 = gen.init(seed=seed, omega=omega)
        t0 = time.perf_counter()
        traj = gradient_descent(gen, y, C0, eta, steps, record=[0, steps], progress=not quiet and not as_json)
        elapsed = time.perf_counter() - t0
        f0 = traj.outputs[0]
        lin = linearized(spectrum(gen), y, eta, f0=f0)
    except (ValueError, TypeError) as exc:
        raise click.UsageError(str(exc)) from exc
    except DivergenceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    r0 = float(np.sqrt(2 * traj.losses[0]))
    rel_actual = np.sqrt(2 * traj.losses) / r0
    taus = np.arange(steps + 1)
    rel_pred = np.sqrt(2 * lin.loss(taus)) / r0
    hit = np.flatnonzero(rel_actual <= delta)
    fit_actual = int(hit[0]) if hit.size else None
    fit_pred = lin.fit_time(delta)
    fit_pred = None if fit_pred == float("inf") else int(fit_pred)
    gap = float(np.max(np.abs(rel_actual - rel_pred)))
    info = {
        "signal": signal, "filter": gen.operator.filter.name, "n": n, "k": k, "steps": steps,
        "eta": eta, "omega": omega, "seed": seed, "delta": delta,
        "initial_output_norm": float(np.linalg.norm(f0)),
        "final_relative_residual": float(rel_actual[-1]),
        "predicted_final_relative_residual": float(rel_pred[-1]),
        "fit_time_actual": fit_actual, "fit_time_predicted": fit_pred,
        "max_gap_relative_residual": gap,
        "seconds": elapsed, "ms_per_step": 1e3 * elapsed / max(steps, 1),
    }
    if plot:
        from ..plotting import plot_fit

        fig = plot_fit(taus, rel_actual, rel_pred,
                       title=f"{signal}, {gen.operator.filter.name}, n={n}, k={k}, η={eta:.3g}")
        fig.axes[0].axhline(delta, color="grey", lw=0.8, ls=":")
        save_plot(fig, plot)
        info["plot"] = plot
    if as_json:
        emit_json(info)
        return

    def fmt(x):
        return "not reached" if x is None else f"{x} iterations"

    click.echo(f"gradient descent on {signal} signal, {info['filter']}, n={n}, k={k}, "
               f"η={eta:.4g}, ω={omega:g}, {steps} steps ({info['ms_per_step']:.2f} ms/step)")
    click.echo(f"  ‖G(C_0)‖ = {info['initial_output_norm']:.4g}")
    click.echo(f"  relative residual after {steps} steps: network {rel_actual[-1]:.4g}, "
               f"linearized {rel_pred[-1]:.4g}")
    click.echo(f"  fit time to {delta:g} of the initial residual: network {fmt(fit_actual)}, "
               f"predicted {fmt(fit_pred)}")
    click.echo(f"  max |network − linearized| relative residual over all steps: {gap:.3g}")
    if plot:
        click.echo(f"  figure: {plot}")
