"""``ntk-toolkit spectrum``: the spectrum of the expected kernel Σ of a filter, for signals or images."""

from __future__ import annotations

import time

import click
from click.core import ParameterSource

from ._options import (
    FILTER_SPECS,
    FILTER_SPECS_2D,
    ImageShape,
    bad,
    build_generator,
    build_image_generator,
    emit_json,
    json_option,
    parse_filter,
    plot_option,
    save_plot,
)

__all__ = ["spectrum"]

#: At most this many eigen-images in the figure of an image spectrum.
MAX_EIGEN_IMAGES = 12


@click.command()
@click.option("--filter", "filter_spec", default="triangle:4", show_default=True,
              help=f"Filter: {FILTER_SPECS}; for images (with --shape) {FILTER_SPECS_2D}.")
@click.option("--n", type=click.IntRange(min=1), default=256, show_default=True, help="Signal length (1-D filters).")
@click.option("--shape", type=ImageShape(), default=None, metavar="HxW",
              help="Image shape HxW, e.g. 64x64; required with a 2-D filter, which replaces --n (n = H·W).")
@click.option("--top", type=click.IntRange(min=1), default=8, show_default=True,
              help="How many leading eigenvalues to print (and, for images, eigen-images to draw, at most 12).")
@json_option()
@plot_option("Write a PNG/PDF figure of the spectrum; for images one figure with the eigenvalues over the "
             "frequency plane, their radial profile and the leading eigen-images.")
def spectrum(filter_spec: str, n: int, shape: tuple[int, int] | None, top: int, as_json: bool,
             plot: str | None) -> None:
    """Spectrum of the expected kernel Σ of a filter (O(n log n)).

    For a 1-D filter the signal length is --n; for a 2-D filter (triangle2d:P,
    gaussian2d:STD, box2d:W, bilinear) give the image shape with --shape HxW.
    The eigenvalues of an image kernel belong to frequency pairs (f1, f2)
    (f1 along the height, f2 along the width); a cos/sin pair shares one.

    \b
    Examples:
      ntk-toolkit spectrum --filter gaussian:3 --n 1024 --plot spectrum.png
      ntk-toolkit spectrum --filter triangle2d:3 --shape 256x256 --plot spectrum2d.png
    """
    filt = parse_filter(filter_spec)
    if getattr(filt, "ndim", 1) == 2:
        if shape is None:
            raise bad("--shape", f"--filter {filter_spec!r} is a 2-D (image) filter: give the image shape with "
                                 "--shape HxW, e.g. --shape 64x64")
        if click.get_current_context().get_parameter_source("n") is not ParameterSource.DEFAULT:
            raise click.UsageError(f"--n is the length of a 1-D signal; with the 2-D filter {filter_spec!r} the "
                                   "size is --shape HxW (n = H·W): drop --n")
        _image_spectrum(filter_spec, shape, top, as_json, plot)
        return
    if shape is not None:
        raise bad("--shape", f"--shape HxW is for 2-D filters ({FILTER_SPECS_2D}); --filter {filter_spec!r} is "
                             "a 1-D filter: give the signal length with --n instead")
    _signal_spectrum(filter_spec, n, top, as_json, plot)


def _summary(gen, s, elapsed: float) -> dict:
    lam = s.eigenvalues
    return {
        "filter": gen.operator.filter.name, "method": s.method,
        "U_norm": gen.operator.norm(), "lambda_max": float(lam[0]), "lambda_min": float(lam[-1]),
        "condition_number": float(lam[0] / lam[-1]) if lam[-1] > 0 else float("inf"),
        "trace": float(lam.sum()), "seconds": elapsed,
    }


def _signal_spectrum(filter_spec: str, n: int, top: int, as_json: bool, plot: str | None) -> None:
    from ..spectrum import spectrum as _spectrum

    gen = build_generator(filter_spec, n, 2)
    t0 = time.perf_counter()
    s = _spectrum(gen)
    elapsed = time.perf_counter() - t0
    lam = s.eigenvalues
    summary = _summary(gen, s, elapsed)
    info = {"filter": summary.pop("filter"), "n": n, **summary}
    if plot:
        from ..plotting import plot_spectra

        fig = plot_spectra({gen.operator.filter.name: s})
        fig.axes[0].set_title(f"spectrum of Σ, n={n}")
        save_plot(fig, plot)
        info["plot"] = plot
    if as_json:
        info["spectrum"] = s.to_dict()
        emit_json(info)
        return
    click.echo(f"expected kernel Σ of {info['filter']}, n={n} ({s.method}, {elapsed * 1e3:.1f} ms)")
    _echo_summary(info)
    click.echo("  leading eigenvalues (frequency):")
    for i in range(min(top, s.n)):
        click.echo(f"    λ_{i:<3d} = {lam[i]:.6g}  (f = {', '.join(str(int(f)) for f in s.frequencies[i])})")
    if plot:
        click.echo(f"  figure: {plot}")


def _image_spectrum(filter_spec: str, shape: tuple[int, int], top: int, as_json: bool, plot: str | None) -> None:
    from ..spectrum import spectrum as _spectrum

    H, W = shape
    gen = build_image_generator(filter_spec, shape, 2)
    t0 = time.perf_counter()
    s = _spectrum(gen)
    elapsed = time.perf_counter() - t0
    lam = s.eigenvalues
    summary = _summary(gen, s, elapsed)
    info = {"filter": summary.pop("filter"), "shape": [H, W], "n": s.n, **summary}
    if plot:
        save_plot(_image_figure(s, info["filter"], min(top, MAX_EIGEN_IMAGES, s.n)), plot)
        info["plot"] = plot
    if as_json:
        info["spectrum"] = {"shape": [H, W], **s.to_dict()}
        emit_json(info)
        return
    click.echo(f"expected kernel Σ of {info['filter']}, {H}x{W} images, n={s.n} ({s.method}, "
               f"{elapsed * 1e3:.1f} ms)")
    _echo_summary(info)
    click.echo("  leading eigenvalues (frequency pair f = (f1, f2), cos/sin):")
    for i in range(min(top, s.n)):
        f1, f2 = (int(f) for f in s.frequencies[i])
        click.echo(f"    λ_{i:<3d} = {lam[i]:.6g}  (f = ({f1}, {f2}), {'sin' if s.kinds[i] else 'cos'})")
    if plot:
        click.echo(f"  figure: {plot}")


def _echo_summary(info: dict) -> None:
    click.echo(f"  ‖U‖ = {info['U_norm']:.6g}   trace Σ = {info['trace']:.6g}")
    click.echo(f"  λ_max = {info['lambda_max']:.6g}   λ_min = {info['lambda_min']:.6g}   "
               f"condition = {info['condition_number']:.4g}")


def _image_figure(s, name: str, count: int):
    """One figure: eigenvalues over the frequency plane and radial profile on top, ``count`` eigen-images below."""
    from ..plotting import plot_eigen_images, plot_spectrum_2d, pyplot

    ncols = 4
    rows = -(-count // ncols)
    fig = pyplot().figure(figsize=(11.0, 4.6 + 2.6 * rows), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.8, rows])
    plot_spectrum_2d(s, ax=top.subplots(1, 2))
    plot_eigen_images(s, count, axes=bottom.subplots(rows, ncols, squeeze=False))
    H, W = s.basis.shape
    fig.suptitle(f"spectrum of Σ: {name}, {H}×{W} images; the {count} leading eigen-images")
    return fig
