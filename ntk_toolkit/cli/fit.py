"""``ntk-toolkit fit``: gradient descent on a signal against the linearized prediction; with ``--image``,
an image and noise of the same norm fitted separately
(:func:`ntk_toolkit.image_experiments.fit_image_vs_noise`, figure
:func:`ntk_toolkit.plotting.plot_fit_image_vs_noise`)."""

from __future__ import annotations

import sys
import time
import warnings

import click
import numpy as np

from ._options import (
    FILTER_SPECS,
    FILTER_SPECS_2D,
    IMAGE_FILTER,
    FiniteFloatRange,
    build_generator,
    build_image_generator,
    check_1d_filter,
    check_even_k,
    emit_json,
    given,
    image_json,
    image_option,
    json_option,
    load_image,
    plot_option,
    quiet_option,
    regime_options,
    reject_given,
    save_plot,
    seed_option,
    size_option,
)

__all__ = ["fit"]

SIGNALS = ("smooth", "step", "noise", "piecewise", "piecewise-smooth")
NOISES = ("gaussian", "uniform")

#: ``--omega`` when not given: the 1-D form's, and the image form's (the lazy regime for images in [0, 1]).
OMEGA_1D = 0.01


@click.command()
@click.option("--signal", type=click.Choice(SIGNALS), default="smooth", show_default=True,
              help="Target signal (unit norm).")
@click.option("--filter", "filter_spec", default="triangle:4", show_default=True,
              help=f"Filter: {FILTER_SPECS}; with --image a 2-D filter, {FILTER_SPECS_2D} "
                   f"[default with --image: {IMAGE_FILTER}].")
@click.option("--n", type=click.IntRange(min=2), default=128, show_default=True, help="Signal length.")
@image_option("Fit this image and noise of the same norm instead of a signal (replaces --signal and --n).")
@size_option(None, "Image size with --image: S (S x S) or HxW (center crop, then resize)  [default: 64].")
@click.option("--noise", type=click.Choice(NOISES), default=None,
              help="With --image: white Gaussian noise, or uniform on [0, 1) as in the papers' figures; "
                   "rescaled to the norm of the image  [default: gaussian].")
@click.option("--k", type=click.IntRange(min=2), default=1024, show_default=True, help="Number of channels (even).")
@click.option("--steps", type=click.IntRange(min=0), default=2000, show_default=True, help="Gradient-descent steps.")
@click.option("--eta", type=FiniteFloatRange(min=0, min_open=True), default=None,
              help="Step size [default: max_step_size(gen) = 1/‖U‖²].")
@click.option("--omega", type=FiniteFloatRange(min=0, min_open=True), default=None,
              help=f"Initialisation scale ω  [default: {OMEGA_1D}; with --image 16, the mirrored init in the "
                   "lazy regime].")
@click.option("--delta", type=FiniteFloatRange(min=0, max=1, min_open=True), default=0.1, show_default=True,
              help="Fit time = first iteration with residual ≤ delta × initial residual.")
@seed_option()
@json_option()
@plot_option("Write a PNG/PDF figure (with --image: the image, the noise and both residual curves).")
@quiet_option()
@regime_options
def fit(signal, filter_spec, n, image, size, noise, k, steps, eta, omega, delta, seed, as_json, plot, quiet,
        diagnostics, tol, width_estimate) -> None:
    """Fit a signal with gradient descent and compare with the linearized prediction.

    Runs plain gradient descent on ½‖G(C) − y‖² and overlays the prediction
    r_τ = (I − ηΣ)^τ (y − G(C_0)) of the expected kernel Σ. With the
    diagnostics (default) it says whether the run stays in the linear regime
    (within --tol of the linearized prediction at K(C_0)), from which
    iteration it leaves it, how far the weights, the activation signs and
    the kernel have moved there, and, out of the regime, the width k at
    which it would stay in it (docs/theory.md §9).

    With --image NAME (and --size) it fits the image and, separately, noise of
    the same norm from the same mirrored initialisation (G(C_0) = 0), each run
    stopping when its relative residual reaches --delta or after --steps, and
    prints the fit times of the network and of the prediction and their ratio
    noise/image (docs/theory.md §4.1): an image is fitted far faster than noise.
    The diagnostics then judge each of the two runs, and the width estimate
    is for the run farther from its linearized prediction.

    \b
    Examples:
      ntk-toolkit fit --signal noise --filter triangle:8 --n 128 --k 1024 --steps 5000
      ntk-toolkit fit --image camera --size 64 --filter triangle2d:2 --k 256 --plot fit-image.png
    """
    ctx = click.get_current_context()
    check_even_k(k)
    if image is not None:
        reject_given(ctx, {"signal": "--signal", "n": "--n"},
                     "is for the 1-D form; with --image the target is the image, sized by --size: drop it")
        spec = filter_spec if given(ctx, "filter_spec") else IMAGE_FILTER
        _fit_image(image, size or (64, 64), spec, noise or "gaussian", k, steps, eta, omega, delta, seed, as_json,
                   plot, quiet, (tol, width_estimate) if diagnostics else None)
        return
    reject_given(ctx, {"size": "--size", "noise": "--noise"}, "is for images: give one with --image NAME")
    check_1d_filter(filter_spec)
    omega = OMEGA_1D if omega is None else omega
    _fit_signal(signal, filter_spec, n, k, steps, eta, omega, delta, seed, as_json, plot, quiet,
                (tol, width_estimate) if diagnostics else None)


def _fit_signal(signal, filter_spec, n, k, steps, eta, omega, delta, seed, as_json, plot, quiet,
                regime=None) -> None:
    from .. import signals
    from ..dynamics import DivergenceError, gradient_descent, linearized, max_step_size
    from ..spectrum import spectrum
    from ..stability import StepSizeWarning

    gen = build_generator(filter_spec, n, k)
    y = signals.from_name(signal, n, seed=seed + 1)
    if eta is None:
        eta = max_step_size(gen)
    try:
        C0 = gen.init(seed=seed, omega=omega)
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:  # a step above the limit: say so, then run
            warnings.simplefilter("always", StepSizeWarning)
            traj = gradient_descent(gen, y, C0, eta, steps, record=20 if regime else [0, steps],
                                    progress=not quiet and not as_json, diagnostics=regime is not None)
        for w in caught:
            if issubclass(w.category, StepSizeWarning):
                click.echo(f"warning: {w.message}", err=True)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        elapsed = time.perf_counter() - t0
        f0 = traj.outputs[0]
        lin = linearized(spectrum(gen), y, eta, f0=f0)
        extra, lines = {}, []
        if regime is not None:
            from ..regime import regime_summary

            log = None if quiet or as_json else (lambda msg: click.echo(msg, err=True))
            extra, lines = regime_summary(gen, y, traj, eta, steps, omega, *regime, seed=seed + 1000, log=log)
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
        "seconds": elapsed, "ms_per_step": 1e3 * elapsed / max(steps, 1), **extra,
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
    for line in lines:
        click.echo(line)
    if plot:
        click.echo(f"  figure: {plot}")


def _fit_image(image, size, filter_spec, noise, k, steps, eta, omega, delta, seed, as_json, plot, quiet,
               regime=None) -> None:
    from ..dynamics import DivergenceError
    from ..image_experiments import fit_image_vs_noise
    from ._options import image_regime_report

    gen = build_image_generator(filter_spec, size, k, shape_option="--size")
    x = load_image(image, size)
    extra = {} if omega is None else {"omega": omega}
    t0 = time.perf_counter()
    try:
        res = fit_image_vs_noise(gen, x, steps, seed=seed, delta=delta, noise=noise, eta=eta,
                                 progress=not (quiet or as_json), diagnostics=regime is not None,
                                 tol=regime[0] if regime else 0.1, **extra)
        seconds = time.perf_counter() - t0
        fields, lines = {}, []
        if regime is not None:
            runs = {"image": (res.regime_image, res.image.reshape(-1), min(res.fit_time_image, steps)),
                    "noise": (res.regime_noise, res.noise.reshape(-1), min(res.fit_time_noise, steps))}
            log = None if quiet or as_json else (lambda msg: click.echo(msg, err=True))
            fields, lines = image_regime_report(gen, runs, res.eta, res.omega, *regime, seed=seed + 1000, log=log)
    except DivergenceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    options = {"image": image, "size": list(size), "filter": gen.operator.filter.name, "filter_spec": filter_spec,
               "k": k, "steps": steps, "delta": delta, "noise": noise, "omega": res.omega, "eta": res.eta,
               "seed": seed, "tol": regime[0] if regime else None}
    if plot:
        from ..plotting import plot_fit_image_vs_noise

        save_plot(plot_fit_image_vs_noise(res), plot)
    if as_json:
        emit_json({**image_json(res, options, seconds, plot), **fields})
        return

    def fmt(t):
        return f"{t:g}" if np.isfinite(t) else f"> {steps}"

    H, W = size
    click.echo(f"fitting {image} ({H}x{W}) and {noise} noise of the same norm, seed {seed}")
    click.echo(f"network: {options['filter']}, k={k}, ω={res.omega:g}, mirrored init, η={res.eta:.4g}, "
               f"at most {steps} steps per run ({seconds:.1f} s)")
    click.echo(f"  iterations to a relative residual ‖y − G(C_τ)‖/‖y‖ <= {delta:g}:")
    click.echo(f"    {'':<22}{'network':>10}{'predicted':>12}")
    click.echo(f"    {'image':<22}{fmt(res.fit_time_image):>10}{fmt(res.predicted_fit_time_image):>12}")
    click.echo(f"    {'noise':<22}{fmt(res.fit_time_noise):>10}{fmt(res.predicted_fit_time_noise):>12}")
    ratio = (f"{res.ratio:.3g}" if np.isfinite(res.fit_time_noise) else f"> {res.ratio:.3g}")
    pratio = (f"{res.predicted_ratio:.3g}" if np.isfinite(res.predicted_fit_time_noise) else "inf")
    click.echo(f"    {'ratio noise / image':<22}{ratio:>10}{pratio:>12}")
    if not np.isfinite(res.fit_time_noise):
        click.echo(f"  the noise was not fitted within {steps} steps: the ratio is a lower bound; try more --steps")
    for line in lines:
        click.echo(line)
    if plot:
        click.echo(f"  figure: {plot}")
