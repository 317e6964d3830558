"""``ntk-toolkit denoise``: denoising an image by early-stopped gradient descent, against the prediction.

A thin layer over :func:`ntk_toolkit.image_experiments.denoise_image` (the experiment and its
result) and :func:`ntk_toolkit.plotting.plot_denoising` (its figure).
"""

from __future__ import annotations

import sys
import time

import click

from ._options import (
    FILTER_SPECS_2D,
    IMAGE_FILTER,
    FiniteFloatRange,
    build_image_generator,
    check_even_k,
    emit_json,
    image_json,
    image_option,
    json_option,
    load_image,
    plot_option,
    quiet_option,
    regime_options,
    save_plot,
    seed_option,
    size_option,
)

__all__ = ["denoise"]


@click.command()
@image_option("The clean image.", default="camera")
@size_option(64)
@click.option("--sigma", type=FiniteFloatRange(min=0, min_open=True), default=0.1, show_default=True,
              help="Standard deviation of the Gaussian noise on the [0, 1] scale (25/255 ≈ 0.098).")
@click.option("--filter", "filter_spec", default=IMAGE_FILTER, show_default=True,
              help=f"2-D filter: {FILTER_SPECS_2D}.")
@click.option("--k", type=click.IntRange(min=2), default=256, show_default=True, help="Number of channels (even).")
@click.option("--steps", type=click.IntRange(min=1), default=300, show_default=True, help="Gradient-descent steps.")
@click.option("--omega", type=FiniteFloatRange(min=0, min_open=True), default=None,
              help="Initialisation scale ω of the mirrored init [default: 16, the lazy regime for images in [0, 1]].")
@click.option("--eta", type=FiniteFloatRange(min=0, min_open=True), default=None,
              help="Step size [default: max_step_size(gen) = 1/‖U‖²].")
@click.option("--clip", is_flag=True,
              help="Clip the noisy image to [0, 1] (as the papers do; the theory is unclipped).")
@seed_option()
@json_option()
@plot_option("Write a figure (PNG/PDF by suffix): clean, noisy, early-stopped and final images, PSNR curves.")
@quiet_option()
@regime_options
def denoise(image, size, sigma, filter_spec, k, steps, omega, eta, clip, seed, as_json, plot, quiet, diagnostics, tol,
            width_estimate) -> None:
    """Denoise an image by early stopping and compare with the linearized prediction.

    Adds Gaussian noise of standard deviation --sigma to the image, runs gradient
    descent on ½‖G(C) − y‖² from the mirrored initialisation (G(C_0) = 0) and
    reports the PSNR against the clean image: of the noisy image (what running to
    convergence returns), at the best stopping time of the network and of the
    linearized prediction f_τ = y − (I − ηΣ)^τ y (docs/theory.md §4.1–§4.2), and
    after --steps steps. --seed draws the noise and the initial weights.

    With the diagnostics (default) it also says whether the run stays in the
    linear regime (within --tol of its linearized prediction at K(C_0), the
    diagnostics taken at 20 geometrically spaced iterations), where it leaves
    it and, out of the regime, the width k at which it would stay in it
    (docs/theory.md §9).

    \b
    Examples:
      ntk-toolkit denoise --image camera --size 128 --sigma 0.1 --filter triangle2d:2 --k 256
      ntk-toolkit denoise --image shepp_logan_phantom --size 64 --steps 500 --plot denoise.png
      ntk-toolkit denoise --size 32x48 --sigma 0.2 --json --quiet
    """
    from ..dynamics import DivergenceError
    from ..image_experiments import denoise_image
    from ._options import image_regime_report

    check_even_k(k)
    try:
        gen = build_image_generator(filter_spec, size, k, shape_option="--size")
    except MemoryError as exc:
        raise click.UsageError(str(exc)) from exc
    clean = load_image(image, size)
    extra = {} if omega is None else {"omega": omega}
    t0 = time.perf_counter()
    try:
        res = denoise_image(gen, clean, sigma, steps, seed=seed, eta=eta, clip=clip,
                            progress=not (quiet or as_json), diagnostics=diagnostics, tol=tol, **extra)
        seconds = time.perf_counter() - t0
        fields, lines = {}, []
        if diagnostics:
            log = None if quiet or as_json else (lambda msg: click.echo(msg, err=True))
            fields, lines = image_regime_report(gen, {"": (res.regime, res.noisy.reshape(-1), steps)}, res.eta,
                                                res.omega, tol, width_estimate, seed=seed + 1000, log=log)
    except DivergenceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except (ValueError, TypeError, MemoryError) as exc:  # the library's message names the option's argument
        raise click.UsageError(str(exc)) from exc
    options = {"image": image, "size": list(size), "filter": gen.operator.filter.name, "filter_spec": filter_spec,
               "k": k, "sigma": sigma, "steps": steps, "omega": res.omega, "eta": res.eta, "clip": clip,
               "seed": seed, "tol": tol if diagnostics else None}
    if plot:
        from ..plotting import plot_denoising

        save_plot(plot_denoising(res), plot)
    if as_json:
        emit_json({**image_json(res, options, seconds, plot), **fields})
        return
    H, W = size
    click.echo(f"denoising {image} ({H}x{W}), Gaussian noise σ = {sigma:g} ({sigma * 255:.3g}/255)"
               + (", clipped to [0, 1]" if clip else "") + f", seed {seed}")
    click.echo(f"network: {options['filter']}, k={k}, ω={res.omega:g}, mirrored init, η={res.eta:.4g}, "
               f"{steps} steps ({seconds:.1f} s)")
    rows = (("noisy image (the limit of a long run)", res.noisy_psnr, ""),
            ("best stopping time, predicted (Σ)", res.predicted_best_psnr, f"at τ = {res.predicted_best_iteration}"),
            ("best stopping time, network", res.best_psnr, f"at τ = {res.best_iteration}"),
            ("network at the predicted τ", res.psnr_at_predicted_best, ""),
            (f"after {steps} steps", res.final_psnr, ""))
    click.echo("  PSNR against the clean image:")
    for label, value, where in rows:
        click.echo(f"    {label:<38} {value:6.2f} dB {where}".rstrip())
    if res.best_iteration >= steps:
        click.echo("  the network's PSNR was still rising at the last step: try more --steps")
    for line in lines:
        click.echo(line)
    if plot:
        click.echo(f"  figure: {plot}")
