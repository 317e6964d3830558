"""Compressive-sensing commands of ``ntk-toolkit``: ``cs`` and ``cs-curve``.

Recovery of a signal ``x`` of length ``n`` from ``m < n`` linear measurements
``y = A x (+ e)`` with an un-trained two-layer convolutional generator
(``docs/theory.md`` §5). In the linearized regime gradient descent on
``½‖A G(C) − y‖²`` from ``G(C_0) = 0`` converges to the *smoothest
interpolant* ``x̂ = Σ Aᵀ (A Σ Aᵀ)⁻¹ y``, whose expected error over Gaussian
``A`` is predicted by the recovery law of §5.2.

Commands
--------
cs
    One recovery: the network trained to convergence against the smoothest
    interpolant, the minimum-l2 interpolant ``A⁺y`` and l1 recovery in the
    DCT basis; relative errors, steps to converge, distance of the network
    to the smoothest interpolant. With ``--image NAME`` the same for an image
    (:func:`ntk_toolkit.image_experiments.inpaint_image`): a random pixel mask,
    Gaussian measurements or random 2-D DCT coefficients, PSNR of the smoothest
    interpolant, the network and ``A⁺y``, and the recovery law's prediction for
    Gaussian measurements with the same ``m``.
cs-curve
    Error against the number of measurements ``m`` for several filters
    (:func:`ntk_toolkit.recovery_curve`): Monte-Carlo RMS error of the
    smoothest interpolant over Gaussian ``A`` against the recovery law, with
    the ``A⁺y`` baseline.

Notes
-----
Both commands print a human-readable summary, or JSON with ``--json``; with
``--plot FILE`` they write a figure (format from the suffix, PNG or PDF)
atomically. Randomness comes from one ``--seed``: the signal, the measurement
operators, the noise and the initial weights use independent streams spawned
from it, so changing e.g. ``--k`` does not change ``A``.

Examples
--------
Shell::

    ntk-toolkit cs --filter triangle:4 --n 64 --m 24 --k 1024
    ntk-toolkit cs --measurement mask --signal step --noise 0.01 --json
    ntk-toolkit cs --image camera --size 32 --measurement mask --keep 0.33 --filter bilinear
    ntk-toolkit cs-curve --filters triangle:2,triangle:6,gaussian:3 --n 128 --ms 8,16,32,64 --trials 20
"""

from __future__ import annotations

import math
import sys
import time
import unicodedata

import click
import numpy as np

from ._options import (
    FILTER_SPECS,
    FILTER_SPECS_2D,
    IMAGE_FILTER,
    FiniteFloatRange,
    bad,
    build_image_generator,
    check_1d_filter,
    check_at_most,
    check_even_k,
    diagnostics_options,
    emit_json,
    given,
    image_json,
    image_option,
    json_option,
    load_image,
    make_operator,
    plot_option,
    quiet_option,
    reject_given,
    save_plot,
    seed_option,
    size_option,
)

__all__ = ["cs", "cs_curve"]

SIGNALS = ("smooth", "step", "piecewise-smooth")
MEASUREMENTS = ("gaussian", "mask", "dct")

_P_HELP = "Smooth signal: random combination of the p lowest-frequency trigonometric functions."

#: Defaults of ``cs`` that differ between the 1-D form and the image form (``--image``).
CS_DEFAULTS_1D = {"m": 24, "measurement": "gaussian", "omega": 1.0, "max_steps": 50_000}
CS_DEFAULTS_IMAGE = {"size": (32, 32), "measurement": "mask", "keep": 1 / 3, "max_steps": 5000}


# --------------------------------------------------------------------------- helpers
def _split_filters(text: str) -> list[str]:
    """Split ``triangle:2,gaussian:3,custom:1,2,1`` into filter specs.

    A comma-separated piece that does not start with a letter continues the
    previous spec (the taps of ``custom:T0,T1,...``).
    """
    specs: list[str] = []
    for piece in (p.strip() for p in text.split(",")):
        if not piece:
            continue
        if piece[0].isalpha() or not specs:
            specs.append(piece)
        else:
            specs[-1] += "," + piece
    return specs


def _parse_ms(text: str | None, n: int) -> list[int]:
    """The sorted distinct numbers of measurements of ``--ms`` (default: fractions of n), each in [1, n]."""
    if text is None:
        fractions = (1 / 16, 1 / 8, 3 / 16, 1 / 4, 3 / 8, 1 / 2, 3 / 4)
        return sorted({min(n, max(1, round(f * n))) for f in fractions})
    ms = []
    for piece in text.split(","):
        piece = piece.strip()
        if not piece:
            continue
        try:
            m = int(piece)
        except ValueError:
            raise bad("--ms", f"ms must be comma-separated integers, got {piece!r} in {text!r}") from None
        if not 1 <= m <= n:
            raise bad("--ms", f"every m must satisfy 1 <= m <= n={n}, got m={m}")
        ms.append(m)
    if not ms:
        raise bad("--ms", f"give at least one number of measurements, got {text!r}")
    return sorted(set(ms))


def _rngs(seed: int, count: int) -> list[np.random.Generator]:
    """Independent generators spawned from one seed (signal, A, noise, weights, ...)."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(count)]


def _signal(name: str, n: int, p: int, rng) -> np.ndarray:
    from .. import signals

    if name == "smooth":
        return signals.smooth(n, p=p, seed=rng)
    if name == "step":
        return signals.step(n)
    return signals.piecewise_smooth(n, seed=rng)


def _measurement(kind: str, m: int, n: int, rng):
    from ..measurements import GaussianMeasurement, RandomMask, SubsampledDCT

    if kind == "gaussian":
        return GaussianMeasurement(m, n, seed=rng)
    if kind == "mask":
        return RandomMask(n, m=m, seed=rng)
    return SubsampledDCT(m, n, seed=rng)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    nb = float(np.linalg.norm(b))
    return float(np.linalg.norm(a - b)) / nb if nb > 0 else float(np.linalg.norm(a - b))


# --------------------------------------------------------------------------- cs
@click.command("cs")
@click.option("--filter", "filter_spec", default="triangle:4", show_default=True,
              help=f"Filter: {FILTER_SPECS}; with --image a 2-D filter, {FILTER_SPECS_2D} "
                   f"[default with --image: {IMAGE_FILTER}].")
@click.option("--n", type=click.IntRange(min=2), default=64, show_default=True, help="Signal length.")
@image_option("Recover this image (inpainting) instead of a signal; replaces --n, --signal, --p, --noise.")
@size_option(None, "Image size with --image: S (S x S) or HxW (center crop, then resize)  [default: 32].")
@click.option("--m", type=click.IntRange(min=1), default=None,
              help="Number of measurements, 1 <= m <= n  [default: 24; with --image see --keep].")
@click.option("--keep", type=FiniteFloatRange(min=0, max=1, min_open=True), default=None,
              help="With --image: a mask keeps each pixel with this probability; gaussian and dct take "
                   "m = round(keep·n) measurements. Give --keep or --m  [default: 1/3].")
@click.option("--k", type=click.IntRange(min=2), default=1024, show_default=True, help="Number of channels (even).")
@click.option("--measurement", type=click.Choice(MEASUREMENTS), default=None,
              help="A: i.i.d. N(0, 1/m) entries, a random sample mask, or random rows of the orthonormal DCT "
                   "(with --image: random coefficients of the 2-D DCT of the image)  "
                   "[default: gaussian; with --image mask].")
@click.option("--noise", type=FiniteFloatRange(min=0, max=1e6), default=0.0, show_default=True,
              help="Standard deviation σ of the noise e ~ N(0, σ² I_m) added to y = A x (the truth has unit "
                   "norm).")
@click.option("--signal", type=click.Choice(SIGNALS), default="smooth", show_default=True,
              help="Truth x (unit norm).")
@click.option("--p", type=click.IntRange(min=1), default=9, show_default=True, help=_P_HELP)
@click.option("--omega", type=FiniteFloatRange(min=0, min_open=True), default=None,
              help="Initialisation scale ω (mirrored init, so G(C_0) = 0 for every ω; larger ω is lazier)  "
                   "[default: 1; with --image 16].")
@click.option("--max-steps", type=click.IntRange(min=1), default=None,
              help="Step cap of gradient descent  [default: 50000; with --image 5000].")
@click.option("--rtol", type=FiniteFloatRange(min=0, max=1, min_open=True, max_open=True), default=1e-6,
              show_default=True, help="Converged when the loss falls below rtol × the initial loss.")
@seed_option()
@json_option()
@plot_option("Write a figure (PNG/PDF by suffix): truth, network, smoothest interpolant and A⁺y "
             "(with --image: those images and the PSNR against the iteration).")
@quiet_option()
@diagnostics_options
def cs(filter_spec, n, image, size, m, keep, k, measurement, noise, signal, p, omega, max_steps, rtol, seed, as_json,
       plot, quiet, diagnostics, tol) -> None:
    """Recover a signal from m < n measurements with an un-trained network.

    Draws a unit-norm truth x and y = A x (+ noise), trains G(C) = relu(U C) v
    with plain gradient descent on ½‖A G(C) − y‖² from a mirrored
    initialisation (G(C_0) = 0) until the loss falls below rtol × its initial
    value, and compares it with the smoothest interpolant Σ Aᵀ (A Σ Aᵀ)⁻¹ y
    (its limit, docs/theory.md §5.1), the minimum-l2 interpolant A⁺y and l1
    recovery in the DCT basis. For Gaussian A the recovery law's prediction
    of the smoothest interpolant's RMS error is printed too (§5.2).

    With --image NAME (and --size) the truth is the image (noise-free
    measurements): the PSNR of the smoothest interpolant, of the network after
    gradient descent, of the linear model after as many steps and of A⁺y (the
    observed pixels, zeros elsewhere, for a mask), and the recovery law's
    prediction, which is for Gaussian A with the same m whatever --measurement
    (next to the interpolant from one Gaussian A). The measurement operator is
    drawn from the stream that inpaint_image draws its mask from.

    With the diagnostics (default) it says whether the run stays in the linear
    regime: within --tol of its linearized prediction at K(C_0) (docs/theory.md
    §9), the diagnostics taken at 20 geometrically spaced iterations for an
    image, at the 50 recorded ones for a signal.

    \b
    Examples:
      ntk-toolkit cs --filter triangle:4 --n 64 --m 24 --k 1024
      ntk-toolkit cs --measurement mask --signal step --noise 0.01 --plot cs.png
      ntk-toolkit cs --n 128 --m 40 --json --quiet
      ntk-toolkit cs --image camera --size 32 --measurement mask --keep 0.33 --filter bilinear
      ntk-toolkit cs --image shepp_logan_phantom --size 32 --measurement dct --m 400 --plot cs-image.png
    """
    ctx = click.get_current_context()
    check_even_k(k)
    if image is not None:
        reject_given(ctx, {"n": "--n", "signal": "--signal", "p": "--p", "noise": "--noise"},
                     "is for the 1-D form; with --image the truth is the image (noise-free), sized by --size: drop it")
        if keep is not None and m is not None:
            raise click.UsageError("give one of --keep (a fraction) and --m (a number of measurements), not both")
        d = CS_DEFAULTS_IMAGE
        keep = None if m is not None else (d["keep"] if keep is None else keep)
        spec = filter_spec if given(ctx, "filter_spec") else IMAGE_FILTER
        _cs_image(image, size or d["size"], spec, m, keep, k, measurement or d["measurement"], omega,
                  max_steps or d["max_steps"], rtol, seed, as_json, plot, quiet, tol if diagnostics else None)
        return
    reject_given(ctx, {"size": "--size", "keep": "--keep"}, "is for images: give one with --image NAME")
    check_1d_filter(filter_spec)
    d = CS_DEFAULTS_1D
    m, measurement = d["m"] if m is None else m, measurement or d["measurement"]
    omega, max_steps = d["omega"] if omega is None else omega, max_steps or d["max_steps"]
    _cs_signal(filter_spec, n, m, k, measurement, noise, signal, p, omega, max_steps, rtol, seed, as_json, plot,
               quiet, tol if diagnostics else None)


def _cs_signal(filter_spec, n, m, k, measurement, noise, signal, p, omega, max_steps, rtol, seed, as_json, plot,
               quiet, tol=0.1) -> None:
    from ..dynamics import DivergenceError, run_to_convergence
    from ..generator import TwoLayerGenerator
    from ..recovery import l1_recovery, min_l2_interpolant, recovery_law, smoothest_interpolant
    from ..spectrum import spectrum

    check_at_most("--m", m, n, "n")
    check_at_most("--p", p, n, "n")
    op = make_operator(filter_spec, n)

    r_signal, r_A, r_noise, r_init = _rngs(seed, 4)
    x = _signal(signal, n, p, r_signal)
    A = _measurement(measurement, m, n, r_A)
    y = A.apply(x) + (noise * r_noise.standard_normal(m) if noise > 0 else 0.0)
    try:
        gen = TwoLayerGenerator(op, k)
    except MemoryError as exc:
        raise bad("--k", str(exc)) from exc
    C0 = gen.init(seed=r_init, omega=omega, symmetric=True)
    spec = spectrum(gen)

    t0 = time.perf_counter()
    try:
        conv = run_to_convergence(gen, y, C0, A=A, rtol=rtol, max_steps=max_steps, x_true=x,
                                  progress=not (quiet or as_json), diagnostics=tol is not None)
    except DivergenceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    seconds = time.perf_counter() - t0
    from ..regime import linear_regime, regime_line

    verdict = None if tol is None else linear_regime(conv.trajectory, tol=tol)
    net = conv.output
    smooth = smoothest_interpolant(spec, A, y, pinv=True)
    pinv = min_l2_interpolant(A, y)
    l1 = l1_recovery(A, y)
    predicted = None
    if measurement == "gaussian":
        predicted = math.sqrt(recovery_law(spec, x, m, noise_std=noise).total) / float(np.linalg.norm(x))

    info = {
        "filter": op.filter.name, "filter_spec": filter_spec, "n": n, "m": m, "k": k,
        "measurement": measurement, "signal": signal, "p": p if signal == "smooth" else None,
        "noise": noise, "omega": omega, "seed": seed, "eta": conv.trajectory.eta,
        "rtol": rtol, "max_steps": max_steps, "tol": tol,
        "converged": bool(conv.converged), "reason": conv.reason, "steps": int(conv.steps),
        "final_loss_ratio": float(conv.losses[-1] / conv.losses[0]) if conv.losses[0] > 0 else 0.0,
        "initial_output_norm": float(np.linalg.norm(conv.trajectory.outputs[0])),
        "relative_errors": {
            "network": _rel(net, x),
            "smoothest_interpolant": _rel(smooth, x),
            "min_l2": _rel(pinv, x),
            "l1_dct": _rel(l1, x),
        },
        "predicted_relative_rms_error_smoothest": predicted,
        "network_to_smoothest": _rel(net, smooth),
        "measurement_residual_network": _rel(A.apply(net), y),
        "seconds": seconds,
        "ms_per_step": 1e3 * seconds / max(conv.steps, 1),
        "plot": None,
    }
    if verdict is not None:
        info.update(regime=verdict.to_dict(), diagnostics=verdict.diagnostics_dict())

    if plot:
        from ..plotting import pyplot

        fig, ax = pyplot().subplots(figsize=(7.5, 4.2))
        t = np.arange(n)
        ax.plot(t, x, color="black", lw=2.5, label="truth x")
        ax.plot(t, net, lw=1.8, label=f"network (k={k}), err {info['relative_errors']['network']:.3g}")
        ax.plot(t, smooth, "--", lw=1.8,
                label=f"smoothest interpolant, err {info['relative_errors']['smoothest_interpolant']:.3g}")
        ax.plot(t, pinv, ":", lw=1.5, label=f"A⁺y, err {info['relative_errors']['min_l2']:.3g}")
        if measurement == "mask":
            ax.plot(A.indices, y, "o", ms=3.5, color="grey", label="measured samples")
        ax.set_xlabel("sample")
        ax.set_title(f"{signal}, {op.filter.name}, n={n}, m={m} ({measurement}), σ={noise:g}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
        save_plot(fig, plot)
        info["plot"] = plot

    if as_json:
        emit_json(info)
        return
    err = info["relative_errors"]
    click.echo(f"compressive sensing: {signal} signal" + (f" (p={p})" if signal == "smooth" else "")
               + f", n={n}, m={m} {measurement} measurements, noise σ={noise:g}, seed {seed}")
    click.echo(f"network: {op.filter.name}, k={k}, ω={omega:g}, mirrored init (‖G(C_0)‖ = "
               f"{info['initial_output_norm']:.2g}), η={info['eta']:.4g}")
    click.echo(f"  converged: {'yes' if conv.converged else 'NO'} — {conv.reason} "
               f"({seconds:.1f} s, {info['ms_per_step']:.2f} ms/step)")
    if verdict is not None:
        click.echo(regime_line(verdict))
    click.echo("  relative error ‖x̂ − x‖/‖x‖:")
    click.echo(f"    network (gradient descent)   {err['network']:.4g}")
    line = f"    smoothest interpolant        {err['smoothest_interpolant']:.4g}"
    if predicted is not None:
        line += f"   (recovery law, RMS over Gaussian A: {predicted:.4g})"
    click.echo(line)
    click.echo(f"    min-l2 interpolant A⁺y       {err['min_l2']:.4g}")
    click.echo(f"    l1 in the DCT basis          {err['l1_dct']:.4g}")
    click.echo(f"  network vs smoothest interpolant: ‖G(C) − x̂‖/‖x̂‖ = {info['network_to_smoothest']:.4g}")
    if plot:
        click.echo(f"  figure: {plot}")


# --------------------------------------------------------------------------- cs --image
def _image_measurement(kind: str, m: int, shape: tuple[int, int], seed: int):
    """The operator ``A`` of ``cs --image`` with ``m`` rows, drawn from the first stream spawned from ``seed``
    (the one :func:`~ntk_toolkit.image_experiments.inpaint_image` draws its mask from)."""
    from ..measurements import GaussianMeasurement, RandomMask, SubsampledDCT2D

    rng = np.random.default_rng(seed).spawn(1)[0]
    n = shape[0] * shape[1]
    if kind == "gaussian":
        return GaussianMeasurement(m, n, seed=rng)
    if kind == "mask":
        return RandomMask(n, m=m, seed=rng)
    return SubsampledDCT2D(m, shape, seed=rng)


def _psnr_of_relative_error(rel: float, x: np.ndarray) -> float:
    """PSNR (peak 1) of an estimate whose relative error against ``x`` is ``rel``: MSE = rel² ‖x‖² / n."""
    mse = rel * rel * float(np.sum(x * x)) / x.size
    return 10.0 * math.log10(1.0 / mse) if mse > 0 else math.inf


def _cs_image(image, size, filter_spec, m, keep, k, measurement, omega, max_steps, rtol, seed, as_json, plot,
              quiet, tol=0.1) -> None:
    from ..dynamics import DivergenceError
    from ..image_experiments import inpaint_image
    from ..regime import regime_line

    gen = build_image_generator(filter_spec, size, k, shape_option="--size")
    x = load_image(image, size)
    n = x.size
    if m is not None:
        check_at_most("--m", m, n, f"the pixels of the {size[0]}x{size[1]} image, n")
    operator = None
    if measurement != "mask" or m is not None:
        operator = _image_measurement(measurement, max(1, round(keep * n)) if m is None else m, size, seed)
    extra = {} if omega is None else {"omega": omega}
    t0 = time.perf_counter()
    try:
        res = inpaint_image(gen, x, keep if operator is None else None, A=operator, seed=seed, max_steps=max_steps,
                            rtol=rtol, progress=not (quiet or as_json), diagnostics=tol is not None,
                            tol=0.1 if tol is None else tol, **extra)
    except DivergenceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except ValueError as exc:
        if operator is None and "kept no sample" in str(exc):
            raise bad("--keep", str(exc).replace("m=", "--m")) from exc
        raise
    seconds = time.perf_counter() - t0
    options = {"image": image, "size": list(size), "filter": gen.operator.filter.name, "filter_spec": filter_spec,
               "k": k, "measurement": measurement, "keep": keep, "m": m, "omega": res.omega, "eta": res.eta,
               "rtol": rtol, "max_steps": max_steps, "seed": seed, "tol": tol}
    law_psnr = _psnr_of_relative_error(res.law_error, x)
    gauss_psnr = _psnr_of_relative_error(res.gaussian_error, x) if math.isfinite(res.gaussian_error) else math.nan
    if plot:
        from ..plotting import plot_inpainting

        save_plot(plot_inpainting(res), plot)
    if as_json:
        emit_json({**image_json(res, options, seconds, plot), "law_psnr": law_psnr, "gaussian_psnr": gauss_psnr})
        return
    H, W = size
    how = {"mask": "pixels kept by a random mask", "gaussian": "Gaussian measurements",
           "dct": "random 2-D DCT coefficients"}[measurement]
    click.echo(f"recovering {image} ({H}x{W}, n={n}) from m={res.m} {how} ({100 * res.m / n:.1f} %"
               + (f", keep {keep:.3g}" if keep is not None else "") + f"), noise-free, seed {seed}")
    click.echo(f"network: {options['filter']}, k={k}, ω={res.omega:g}, mirrored init, η={res.eta:.4g}")
    click.echo(f"  converged: {'yes' if res.converged else 'NO'} — {res.steps} steps, loss "
               + ("<=" if res.converged else ">") + f" rtol={rtol:g} × initial ({seconds:.1f} s)")
    click.echo(f"  {'against the clean image:':<42} {'PSNR':>6}     relative error")
    rows = (("smoothest interpolant x̂ = ΣAᵀ(AΣAᵀ)⁻¹y", res.psnr_interpolant, res.error_interpolant),
            ("network (gradient descent)", res.psnr_network, res.error_network),
            ("linear model after as many steps", res.psnr_predicted, res.error_predicted),
            ("A⁺y" + (" (zero filling)" if measurement == "mask" else ""), res.psnr_min_l2, res.error_min_l2),
            (f"recovery law, Gaussian A with m={res.m}", law_psnr, res.law_error))
    if math.isfinite(res.gaussian_error):
        rows += (("x̂ from one Gaussian A (same m)", gauss_psnr, res.gaussian_error),)
    for label, value, err in rows:
        pad = 40 + sum(1 for c in label if unicodedata.combining(c))  # x̂: two code points, one column
        click.echo(f"    {label:<{pad}} {value:6.2f} dB  {err:.4g}")
    if measurement != "gaussian":
        click.echo(f"  (the recovery law is the Gaussian-measurement prediction; A here: {how})")
    click.echo(f"  network vs smoothest interpolant: ‖G(C) − x̂‖/‖x‖ = {res.distance_to_interpolant:.4g}")
    if res.regime is not None:
        click.echo(regime_line(res.regime))
    if plot:
        click.echo(f"  figure: {plot}")


# --------------------------------------------------------------------------- cs-curve
@click.command("cs-curve")
@click.option("--filters", "filters_text", default="triangle:2,triangle:6,gaussian:3", show_default=True,
              help=f"Comma-separated filter specs ({FILTER_SPECS}).")
@click.option("--n", type=click.IntRange(min=2), default=128, show_default=True, help="Signal length.")
@click.option("--ms", "ms_text", default=None,
              help="Comma-separated numbers of measurements [default: n/16, n/8, 3n/16, n/4, 3n/8, n/2, 3n/4].")
@click.option("--trials", type=click.IntRange(min=1), default=20, show_default=True, help="Gaussian A's per m.")
@click.option("--p", type=click.IntRange(min=1), default=9, show_default=True, help=_P_HELP)
@click.option("--signal", type=click.Choice(SIGNALS), default="smooth", show_default=True,
              help="Truth x (unit norm).")
@click.option("--noise", type=FiniteFloatRange(min=0), default=0.0, show_default=True,
              help="Noise standard deviation σ.")
@seed_option()
@json_option()
@plot_option("Write a figure (PNG/PDF by suffix) of RMS error against m.")
@quiet_option()
def cs_curve(filters_text, n, ms_text, trials, p, signal, noise, seed, as_json, plot, quiet) -> None:
    """Recovery error against the number of measurements m, simulated and predicted.

    For each m, draws `trials` Gaussian A (N(0, 1/m) entries, the same A's for
    every filter) and reports the RMS relative error of the smoothest
    interpolant Σ Aᵀ (A Σ Aᵀ)⁻¹ y of each filter's expected kernel Σ against
    the recovery law's prediction (docs/theory.md §5.2), and the same for the
    minimum-l2 interpolant A⁺y (Σ = I/2, predicted error √(1 − m/n)).

    \b
    Examples:
      ntk-toolkit cs-curve --filters triangle:2,triangle:6,gaussian:3 --n 128 --ms 8,16,32,64 --trials 20
      ntk-toolkit cs-curve --n 256 --trials 50 --plot curve.png
      ntk-toolkit cs-curve --filters triangle:4 --n 64 --noise 0.01 --json
    """
    from ..experiments import recovery_curve
    from ..generator import TwoLayerGenerator
    from ..spectrum import spectrum

    check_at_most("--p", p, n, "n")
    ms = _parse_ms(ms_text, n)
    specs = _split_filters(filters_text)
    if not specs:
        raise bad("--filters", f"give at least one filter, got {filters_text!r}")
    ops = [make_operator(s, n, "--filters") for s in specs]
    spectra = [spectrum(TwoLayerGenerator(op, 2)) for op in ops]

    r_signal, r_trials = _rngs(seed, 2)
    x = _signal(signal, n, p, r_signal)
    t0 = time.perf_counter()
    curve = recovery_curve(spectra, x, ms, trials=trials, noise_std=noise, seed=r_trials,
                           labels=[op.filter.name for op in ops], progress=not (quiet or as_json))
    seconds = time.perf_counter() - t0
    result = curve.to_dict()
    info = {
        "n": n, "ms": result["ms"], "trials": trials, "signal": signal, "p": p if signal == "smooth" else None,
        "noise": noise, "seed": seed, "measurement": result["measurement"],
        "filters": [{"filter": f["filter"], "spec": s, "simulated_rms": f["simulated_rms"],
                     "predicted_rms": f["predicted_rms"], "kappa": f["kappa"]}
                    for s, f in zip(specs, result["filters"])],
        "min_l2": result["min_l2"],
        "seconds": seconds, "plot": None,
    }

    if plot:
        from ..plotting import plot_recovery_curve

        fig = plot_recovery_curve(curve, title=f"smoothest interpolant, {signal} signal, n={n}, σ={noise:g}")
        save_plot(fig, plot)
        info["plot"] = plot

    if as_json:
        emit_json(info)
        return
    click.echo(f"RMS relative error ‖x̂ − x‖/‖x‖ against m: {signal} signal"
               + (f" (p={p})" if signal == "smooth" else "")
               + f", n={n}, {trials} Gaussian A per m, noise σ={noise:g}, seed {seed} ({seconds:.1f} s)")
    click.echo("smoothest interpolant: simulated / predicted by the recovery law; A⁺y baseline last")
    width = 19
    header = (f"{'m':>5} | " + " | ".join(f"{label:^{width}}" for label in curve.labels)
              + f" | {'A⁺y':^{width}}")
    sub = f"{'':>5} | " + " | ".join(f"{'sim':>9} {'pred':>9}" for _ in range(len(curve.labels) + 1))
    click.echo(header)
    click.echo(sub)
    click.echo("-" * len(header))
    for j, m in enumerate(curve.ms):
        cells = [f"{curve.simulated_rms[i, j]:>9.3g} {curve.predicted_rms[i, j]:>9.3g}"
                 for i in range(len(curve.labels))]
        cells.append(f"{curve.simulated_rms_min_l2[j]:>9.3g} {curve.predicted_rms_min_l2[j]:>9.3g}")
        click.echo(f"{m:>5} | " + " | ".join(cells))
    if plot:
        click.echo(f"figure: {plot}")
