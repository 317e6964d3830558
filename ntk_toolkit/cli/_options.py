"""What the commands of ``ntk-toolkit`` share: options, parameter types, JSON output,
figure saving and building the generator from a filter specification.

Every check of an option's value is a click parameter type (so that errors name the
option, show the value and exit with status 2) or, where the rule involves another
option (``m <= n``, ``p <= n``, ``k`` even), a :class:`click.BadParameter` raised
through :func:`bad`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

#: Figure formats accepted by ``--plot`` (taken from the suffix of the path).
PLOT_FORMATS = ("png", "pdf", "svg")

#: The forms of a filter specification (:func:`ntk_toolkit.filters.from_spec`).
FILTER_SPECS = "triangle:P, gaussian:STD[:TRUNCATE|none], box:W, delta, custom:T0,T1,..."

#: The forms of a 2-D (image) filter specification, used with ``--shape HxW``.
FILTER_SPECS_2D = "triangle2d:P, gaussian2d:STD[:TRUNCATE], box2d:W, bilinear"

#: The filter of the image commands when ``--filter`` is not given.
IMAGE_FILTER = "triangle2d:2"


# --------------------------------------------------------------------------- parameter types
class FiniteFloatRange(click.FloatRange):
    """:class:`click.FloatRange` that also rejects NaN and ±inf."""

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value} is not a finite number.", param, ctx)
        return rv


class PlotPath(click.Path):
    """Path of a figure whose suffix names a supported format; checked before any work is done."""

    def __init__(self):
        super().__init__(dir_okay=False)

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        suffix = Path(rv).suffix.lstrip(".").lower()
        if suffix not in PLOT_FORMATS:
            self.fail(f"the figure format is taken from the suffix, which must be one of "
                      f"{', '.join('.' + f for f in PLOT_FORMATS)}; got {str(rv)!r}", param, ctx)
        return rv


class ImageShape(click.ParamType):
    """An image shape ``HxW`` (:func:`ntk_toolkit.filters.parse_shape`), two positive sizes."""

    name = "HxW"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        from ..filters2d import parse_shape

        try:
            shape = parse_shape(value)
        except (ValueError, TypeError) as exc:
            self.fail(str(exc), param, ctx)
        if len(shape) != 2:
            self.fail(f"an image shape has two sizes HxW (e.g. 64x64), got {value!r}", param, ctx)
        return shape


class ImageSize(ImageShape):
    """The size of an image: ``S`` (an ``S x S`` image) or ``HxW``."""

    name = "S|HxW"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip().isdigit():
            side = int(value)
            if side < 1:
                self.fail(f"an image size must be >= 1, got {value!r}", param, ctx)
            return side, side
        return super().convert(value, param, ctx)


class ImageName(click.ParamType):
    """The name of an image shipped with scikit-image (:func:`ntk_toolkit.images.available`),
    checked when the command runs, so that ``--help`` does not need scikit-image."""

    name = "NAME"

    def convert(self, value, param, ctx):
        from ..images import available

        try:
            names = available()
        except ImportError as exc:
            self.fail(str(exc), param, ctx)
        if value not in names:
            self.fail(f"{value!r} is not one of the images shipped with scikit-image: {', '.join(names)}",
                      param, ctx)
        return value


# --------------------------------------------------------------------------- shared options
def filter_option(default: str = "triangle:4"):
    return click.option("--filter", "filter_spec", default=default, show_default=True, help=f"Filter: {FILTER_SPECS}")


def json_option(help: str = "Machine-readable output."):
    return click.option("--json", "as_json", is_flag=True, help=help)


def plot_option(help: str = "Write a figure (PNG/PDF by suffix)."):
    return click.option("--plot", type=PlotPath(), default=None, help=help)


def quiet_option():
    return click.option("--quiet", is_flag=True, help="No progress bar.")


def image_option(help: str, default: str | None = None):
    return click.option("--image", type=ImageName(), default=default, show_default=default is not None,
                        help=f"{help} One of ntk_toolkit.images.available(), e.g. camera, astronaut, "
                             "shepp_logan_phantom.")


def size_option(default: int | None, help: str = "Image size: S (S x S) or HxW (center crop, then resize)."):
    return click.option("--size", type=ImageSize(), default=None if default is None else str(default),
                        show_default=default is not None, metavar="S|HxW", help=help)


def seed_option():
    return click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                        help="Seed of every random draw.")


# --------------------------------------------------------------------------- errors and checks
def bad(option: str, message: str) -> click.BadParameter:
    """A usage error (exit status 2) naming ``option``, e.g. ``bad("--k", "k must be even, got 3")``."""
    return click.BadParameter(message, param_hint=f"'{option}'")


def check_at_most(option: str, value: int, limit: int, limit_name: str) -> int:
    """``value <= limit`` for a bound that is another option (``--m`` at most ``--n``)."""
    if value > limit:
        name = option.lstrip("-")
        raise bad(option, f"{name} must be <= {limit_name}={limit}, got {value}")
    return value


def check_even_k(k: int) -> int:
    if k % 2:
        raise bad("--k", f"k must be even, got {k} (half the channels have output weight +1/√k, half −1/√k); "
                         f"use {k + 1} or {k - 1}")
    return k


# --------------------------------------------------------------------------- building the model
def make_operator(spec: str, n: int, option: str = "--filter"):
    """The circular convolution of length ``n`` with the filter ``spec``, or a usage error naming ``option``."""
    from ..filters import from_spec
    from ..operators import CircularConv

    try:
        filt = from_spec(spec)
    except (ValueError, TypeError) as exc:
        raise bad(option, str(exc)) from exc
    try:
        return CircularConv(filt, n)
    except (ValueError, TypeError, MemoryError) as exc:
        raise click.BadParameter(f"{spec!r} does not fit n={n}: {exc}", param_hint=[option, "--n"]) from exc


def build_generator(spec: str, n: int, k: int, option: str = "--filter"):
    """``TwoLayerGenerator`` of the filter ``spec``, length ``n`` and ``k`` channels; usage errors name the option."""
    from ..generator import TwoLayerGenerator

    op = make_operator(spec, n, option)
    try:
        return TwoLayerGenerator(op, k)
    except (ValueError, TypeError, MemoryError) as exc:
        raise bad("--k", str(exc)) from exc


def parse_filter(spec: str, option: str = "--filter"):
    """The 1-D or 2-D filter of the specification ``spec``, or a usage error naming ``option``."""
    from ..filters import from_spec

    try:
        return from_spec(spec)
    except (ValueError, TypeError) as exc:
        raise bad(option, str(exc)) from exc


def build_image_generator(spec: str, shape: tuple[int, int], k: int, option: str = "--filter",
                          shape_option: str = "--shape"):
    """``TwoLayerGenerator`` of the 2-D filter ``spec`` on ``H x W`` images (``shape_option``, e.g. ``--shape``
    or ``--size``) with ``k`` channels; usage errors name the options."""
    from ..convolution2d import CircularConv2D
    from ..generator import TwoLayerGenerator

    filt = parse_filter(spec, option)
    if getattr(filt, "ndim", 1) != 2:
        if shape_option == "--shape":
            raise bad("--shape", f"--shape HxW is for 2-D filters ({FILTER_SPECS_2D}); {option} {spec!r} is a "
                                 "1-D filter: give the signal length with --n instead")
        raise bad(option, f"{spec!r} is a 1-D filter; images need a 2-D filter: {FILTER_SPECS_2D}")
    try:
        op = CircularConv2D(filt, shape)
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(f"{spec!r} does not fit {shape_option} {shape[0]}x{shape[1]}: {exc}",
                                 param_hint=[option, shape_option]) from exc
    try:
        return TwoLayerGenerator(op, k)
    except (ValueError, TypeError) as exc:
        raise bad("--k", str(exc)) from exc


def check_1d_filter(spec: str, option: str = "--filter") -> None:
    """A usage error if ``spec`` is a 2-D (image) filter in the 1-D form of a command (no ``--image``)."""
    if getattr(parse_filter(spec, option), "ndim", 1) == 2:
        raise bad(option, f"{spec!r} is a 2-D (image) filter: give an image with --image NAME "
                          f"(and --size), or a 1-D filter ({FILTER_SPECS})")


def given(ctx: click.Context, name: str) -> bool:
    """Whether the parameter ``name`` was given on the command line (or by the environment), not defaulted."""
    from click.core import ParameterSource

    return ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def reject_given(ctx: click.Context, options: dict[str, str], reason: str) -> None:
    """A usage error naming the first of ``options`` (parameter name -> ``--option``) given on the command line."""
    for name, option in options.items():
        if given(ctx, name):
            raise bad(option, f"{option} {reason}")


def load_image(name: str, shape: tuple[int, int]):
    """:func:`ntk_toolkit.images.load` ``(name, size=shape)`` as a gray image, or a usage error naming ``--size``."""
    from ..images import load

    try:
        return load(name, size=shape)
    except ValueError as exc:  # a size larger than the image (the command line does not upsample)
        raise bad("--size", str(exc).replace(" or upsample=True", "")) from exc


def image_json(result, options: dict, seconds: float, plot: str | None) -> dict:
    """The JSON of an image command: the options, the result's ``to_dict()``, run time and figure path."""
    return {**options, "result": result.to_dict(), "seconds": seconds, "plot": plot}


# --------------------------------------------------------------------------- output
def emit_json(payload: dict) -> None:
    """Print ``payload`` as indented JSON (NaN and inf as JavaScript literals)."""
    click.echo(json.dumps(payload, indent=2, allow_nan=True))


def save_plot(fig, path: str) -> None:
    """Write the figure atomically (temporary name, then rename) and close it in any case."""
    from .._io import save_figure
    from ..plotting import pyplot

    try:
        save_figure(fig, path, dpi=120, bbox_inches="tight")
    except (OSError, ValueError, RuntimeError) as exc:
        raise click.ClickException(f"could not write the figure --plot {path!r}: {exc}") from exc
    finally:
        pyplot().close(fig)


# --------------------------------------------------------------------------- regime diagnostics
def diagnostics_options(func):
    """``--diagnostics/--no-diagnostics`` and ``--tol``: the regime verdict of a command's run(s)."""
    func = click.option("--tol", type=FiniteFloatRange(min=0, min_open=True, max=1e6), default=0.1,
                        show_default=True,
                        help="Largest allowed distance of the network from its linearized prediction "
                             "(relative to ‖y‖) for the run to count as in the linear regime.")(func)
    return click.option("--diagnostics/--no-diagnostics", default=True, show_default=True,
                        help="Record the regime diagnostics (weight change, sign flips, kernel drift, "
                             "linearization gap) and print the verdict.")(func)


def regime_options(func):
    """:func:`diagnostics_options` and ``--width-estimate/--no-width-estimate`` (``fit``, ``denoise``)."""
    func = click.option("--width-estimate/--no-width-estimate", "width_estimate", default=True, show_default=True,
                        help="When the run leaves the linear regime, estimate the width k at which it would stay "
                             "within --tol (runs at k/4, k/2 and k, 2 seeds each; ntk_toolkit.width_needed).")(func)
    return diagnostics_options(func)


def image_regime_report(gen, runs, eta: float, omega: float, tol: float, width_estimate: bool, *, seed: int,
                        A=None, log=None) -> tuple[dict, list[str]]:
    """The regime lines of an image command and the width estimate of its worst run: ``(fields, lines)``.

    ``runs`` maps a label (``""`` for a single run) to ``(verdict, y, steps)``:
    the :class:`~ntk_toolkit.regime.RegimeVerdict` of the run, its target and
    its number of steps. When a run is out of the regime and
    ``width_estimate``, :func:`ntk_toolkit.regime.width_summary` estimates the
    width for the run with the largest gap (mirrored initialisation, as the
    image experiments start from).
    """
    from ..regime import regime_line, width_summary

    lines = [regime_line(v, label) for label, (v, _, _) in runs.items()]
    out = [(v.max_gap, label, y, steps) for label, (v, y, steps) in runs.items() if not v.in_regime]
    if not (out and width_estimate):
        return {}, lines
    _, label, y, steps = max(out, key=lambda row: row[0])
    fields, more = width_summary(gen, y, eta, max(int(steps), 1), omega, tol, A=A, seed=seed, log=log,
                                 symmetric=True, label=label)
    return fields, lines + more
