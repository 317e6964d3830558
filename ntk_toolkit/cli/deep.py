"""``ntk-toolkit deep-spectrum``: the Jacobian spectrum of a deep decoder, at initialization and after training.

A thin layer over :func:`ntk_toolkit.deep.experiments.spectrum_during_training` (the result) and
:func:`ntk_toolkit.deep.experiments.plot_deep_spectrum` (its figure).
"""

from __future__ import annotations

import sys
import time

import click

from ._options import (
    FiniteFloatRange,
    bad,
    emit_json,
    image_option,
    json_option,
    plot_option,
    quiet_option,
    save_plot,
    seed_option,
)

__all__ = ["deep_spectrum"]


def _channels(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise bad("--channels", f"{text!r} is not a comma-separated list of integers such as 64,64,64,64") from exc
    if len(values) < 2 or min(values) < 1:
        raise bad("--channels", f"give at least two positive channel counts (input and one hidden layer), got {text!r}")
    return values


@click.command("deep-spectrum")
@click.option("--shape", default="64x64", show_default=True, metavar="N|HxW",
              help="Output shape: N for a 1-D signal, HxW for an image.")
@click.option("--channels", default="64,64,64,64", show_default=True,
              help="Channels k_0,…,k_d of the input and of each hidden layer (d hidden layers, d − 1 upsamplings).")
@click.option("--upsample", type=click.Choice(["auto", "linear", "bilinear", "none", "transposed"]), default="auto",
              show_default=True, help="Upsampling: auto = linear (1-D) / bilinear (2-D); transposed = trainable.")
@click.option("--fixed-last", is_flag=True, help="Fix the output layer to (1, −1)/√k (the 1-D Jacobian experiment).")
@click.option("--r", "rank", type=click.IntRange(min=1), default=20, show_default=True,
              help="Number of singular values and vectors.")
@click.option("--steps", type=click.IntRange(min=0), default=0, show_default=True,
              help="Training steps before the second spectrum (0: initialization only).")
@click.option("--optimizer", type=click.Choice(["adam", "gd"]), default="adam", show_default=True)
@click.option("--lr", type=FiniteFloatRange(min=0, min_open=True), default=0.01, show_default=True,
              help="Learning rate.")
@image_option("Target of the training (1-D: its middle row).", default="camera")
@seed_option()
@json_option()
@plot_option("Write a figure: singular values, overlap curves and the leading singular images.")
@quiet_option()
def deep_spectrum(shape, channels, upsample, fixed_last, rank, steps, optimizer, lr, image, seed, as_json, plot,
                  quiet) -> None:
    """Jacobian spectrum of a deep decoder at initialization and after training.

    Builds DeepDecoder(shape, channels), computes the --r leading singular values
    and left singular vectors of J(θ) matrix-free (Lanczos on J Jᵀ through jvp and
    vjp), their geometric decay rate and their overlap with the lowest-frequency
    trigonometric functions (docs/theory.md §2.7, §6); with --steps, fits the
    image (Adam or GD) and repeats, reporting the principal angles between the
    two leading subspaces.

    \b
    Examples:
      ntk-toolkit deep-spectrum --shape 64x64 --channels 64,64,64,64
      ntk-toolkit deep-spectrum --shape 32x32 --channels 32,32,32,32 --steps 200 --plot deep.png
      ntk-toolkit deep-spectrum --shape 256 --channels 64,64,64,64,64 --fixed-last --json --quiet
    """
    import numpy as np

    from ..deep import DeepDecoder
    from ..deep.experiments import plot_deep_spectrum, spectrum_during_training
    from ..dynamics import DivergenceError
    from ..filters2d import parse_shape

    try:
        out_shape = parse_shape(shape)
    except ValueError as exc:
        raise bad("--shape", str(exc)) from exc
    ks = _channels(channels)
    try:
        net = DeepDecoder(out_shape, ks, upsample=None if upsample == "auto" else upsample,
                          last_layer="fixed" if fixed_last else "trainable")
    except (ValueError, MemoryError) as exc:
        raise bad("--shape/--channels", str(exc)) from exc
    if rank >= min(net.n, net.num_params):
        raise bad("--r", f"must be below min(n, num_params) = {min(net.n, net.num_params)}, got {rank}")
    y = None
    if steps:
        from ._options import load_image

        if len(out_shape) == 2:
            y = load_image(image, out_shape).ravel()
        else:
            n = out_shape[0]
            y = load_image(image, (n, n))[n // 2]
    t0 = time.perf_counter()
    try:
        run = spectrum_during_training(net, y, r=rank, steps=steps, optimizer=optimizer, lr=lr, seed=seed,
                                       progress=not (quiet or as_json))
    except DivergenceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    seconds = time.perf_counter() - t0
    if plot:
        save_plot(plot_deep_spectrum(run), plot)
    options = {"shape": list(out_shape), "channels": ks, "upsample": net.upsample, "fixed_last": fixed_last,
               "r": rank, "steps": steps, "optimizer": optimizer, "lr": lr, "image": image if steps else None,
               "seed": seed, "num_params": net.num_params}
    if as_json:
        emit_json({**options, "result": run.to_dict(), "seconds": seconds, "plot": plot})
        return
    click.echo(f"{run.net_repr}: {net.num_params} parameters, n = {net.n} ({seconds:.1f} s)")
    for j, it in enumerate(run.iterations):
        s = run.singular_values[j]
        shown = ", ".join(f"{v:.4g}" for v in s[:min(8, s.size)])
        click.echo(f"  iteration {it}: s_1..s_{min(8, s.size)} = {shown}")
        click.echo(f"    geometric rate {run.rates[j]:.4f} (R² {run.r2[j]:.3f}); trig overlap at j = 1, "
                   f"{s.size // 2}, {s.size}: {run.overlaps[j][0]:.3f}, {run.overlaps[j][s.size // 2 - 1]:.3f}, "
                   f"{run.overlaps[j][-1]:.3f} (random: {s.size / net.n:.3f} at j = {s.size})")
    if run.angles.size:
        click.echo(f"  principal angles init vs end (degrees): median {np.degrees(np.median(run.angles)):.1f}, "
                   f"largest {np.degrees(run.angles.max()):.1f}; final loss {run.losses[-1]:.4g}")
    if plot:
        click.echo(f"  figure: {plot}")
