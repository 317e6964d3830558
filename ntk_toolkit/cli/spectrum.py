"""``ntk-toolkit spectrum``: the spectrum of the expected kernel Σ of a filter."""

from __future__ import annotations

import time

import click

from ._options import build_generator, emit_json, filter_option, json_option, plot_option, save_plot

__all__ = ["spectrum"]


@click.command()
@filter_option()
@click.option("--n", type=click.IntRange(min=1), default=256, show_default=True, help="Signal length.")
@click.option("--top", type=click.IntRange(min=1), default=8, show_default=True,
              help="How many leading eigenvalues to print.")
@json_option()
@plot_option("Write a PNG/PDF figure of the spectrum.")
def spectrum(filter_spec: str, n: int, top: int, as_json: bool, plot: str | None) -> None:
    """Spectrum of the expected kernel Σ of a filter (O(n log n)).

    \b
    Example:
      ntk-toolkit spectrum --filter gaussian:3 --n 1024 --plot spectrum.png
    """
    from ..spectrum import spectrum as _spectrum

    gen = build_generator(filter_spec, n, 2)
    t0 = time.perf_counter()
    s = _spectrum(gen)
    elapsed = time.perf_counter() - t0
    lam = s.eigenvalues
    info = {
        "filter": gen.operator.filter.name, "n": n, "method": s.method,
        "U_norm": gen.operator.norm(), "lambda_max": float(lam[0]), "lambda_min": float(lam[-1]),
        "condition_number": float(lam[0] / lam[-1]) if lam[-1] > 0 else float("inf"),
        "trace": float(lam.sum()), "seconds": elapsed,
    }
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
    click.echo(f"  ‖U‖ = {info['U_norm']:.6g}   trace Σ = {info['trace']:.6g}")
    click.echo(f"  λ_max = {info['lambda_max']:.6g}   λ_min = {info['lambda_min']:.6g}   "
               f"condition = {info['condition_number']:.4g}")
    click.echo("  leading eigenvalues (frequency):")
    for i in range(min(top, s.n)):
        click.echo(f"    λ_{i:<3d} = {lam[i]:.6g}  (f = {', '.join(str(int(f)) for f in s.frequencies[i])})")
    if plot:
        click.echo(f"  figure: {plot}")
