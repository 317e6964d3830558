"""The ``ntk-toolkit`` command (also ``python -m ntk_toolkit``)."""

from __future__ import annotations

import json
import sys
import time

import click
import numpy as np

from . import __version__


def _filter_option(default="triangle:4"):
    return click.option("--filter", "filter_spec", default=default, show_default=True,
                        help="Filter: triangle:P, gaussian:STD[:TRUNCATE|none], box:W, delta, custom:T0,T1,...")


def _build(filter_spec: str, n: int, k: int):
    from .filters import from_spec
    from .generator import TwoLayerGenerator
    from .operators import CircularConv

    try:
        filt = from_spec(filter_spec)
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(str(exc), param_hint="--filter") from exc
    try:
        op = CircularConv(filt, n)
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(str(exc), param_hint="'--filter' / '--n'") from exc
    try:
        return TwoLayerGenerator(op, k)
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(str(exc), param_hint="--k") from exc


def _emit_json(payload: dict) -> None:
    click.echo(json.dumps(payload, indent=2, allow_nan=True))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ntk-toolkit")
def main() -> None:
    """Kernels, spectra and gradient-descent dynamics of two-layer convolutional
    generators G(C) = relu(U C) v with fixed interpolating filters.

    \b
    Examples:
      ntk-toolkit spectrum --filter triangle:4 --n 256
      ntk-toolkit fit --signal smooth --filter triangle:4 --n 128 --k 1024
    """


@main.command()
@_filter_option()
@click.option("--n", type=click.IntRange(min=1), default=256, show_default=True, help="Signal length.")
@click.option("--top", type=click.IntRange(min=1), default=8, show_default=True,
              help="How many leading eigenvalues to print.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Write a PNG/PDF figure of the spectrum.")
def spectrum(filter_spec: str, n: int, top: int, as_json: bool, plot: str | None) -> None:
    """Spectrum of the expected kernel Σ of a filter (O(n log n)).

    \b
    Example:
      ntk-toolkit spectrum --filter gaussian:3 --n 1024 --plot spectrum.png
    """
    from .spectrum import spectrum as _spectrum

    gen = _build(filter_spec, n, 2)
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
        from ._io import save_figure
        from .plotting import pyplot, plot_spectra

        fig = plot_spectra({gen.operator.filter.name: s})
        fig.axes[0].set_title(f"spectrum of Σ, n={n}")
        save_figure(fig, plot, dpi=120, bbox_inches="tight")
        pyplot().close(fig)
        info["plot"] = plot
    if as_json:
        info["spectrum"] = s.to_dict()
        _emit_json(info)
        return
    click.echo(f"expected kernel Σ of {info['filter']}, n={n} ({s.method}, {elapsed * 1e3:.1f} ms)")
    click.echo(f"  ‖U‖ = {info['U_norm']:.6g}   trace Σ = {info['trace']:.6g}")
    click.echo(f"  λ_max = {info['lambda_max']:.6g}   λ_min = {info['lambda_min']:.6g}   "
               f"condition = {info['condition_number']:.4g}")
    click.echo("  leading eigenvalues (frequency):")
    for i in range(min(top, s.n)):
        click.echo(f"    λ_{i:<3d} = {lam[i]:.6g}  (f = {int(s.frequencies[i])})")
    if plot:
        click.echo(f"  figure: {plot}")


@main.command()
@click.option("--signal", type=click.Choice(["smooth", "step", "noise", "piecewise", "piecewise-smooth"]),
              default="smooth", show_default=True, help="Target signal (unit norm).")
@_filter_option()
@click.option("--n", type=click.IntRange(min=2), default=128, show_default=True, help="Signal length.")
@click.option("--k", type=click.IntRange(min=2), default=1024, show_default=True, help="Number of channels (even).")
@click.option("--steps", type=click.IntRange(min=0), default=2000, show_default=True, help="Gradient-descent steps.")
@click.option("--eta", type=float, default=None, help="Step size [default: max_step_size(gen) = 1/‖U‖²].")
@click.option("--omega", type=float, default=0.01, show_default=True, help="Initialisation scale ω.")
@click.option("--delta", type=float, default=0.1, show_default=True,
              help="Fit time = first iteration with residual ≤ delta × initial residual.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Write a PNG/PDF figure.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def fit(signal, filter_spec, n, k, steps, eta, omega, delta, seed, as_json, plot, quiet) -> None:
    """Fit a signal with gradient descent and compare with the linearized prediction.

    Runs plain gradient descent on ½‖G(C) − y‖² and overlays the prediction
    r_τ = (I − ηΣ)^τ (y − G(C_0)) of the expected kernel Σ.

    \b
    Example:
      ntk-toolkit fit --signal noise --filter triangle:8 --n 128 --k 1024 --steps 5000
    """
    from . import signals
    from .dynamics import DivergenceError, gradient_descent, linearized, max_step_size
    from .spectrum import spectrum as _spectrum

    if k % 2:
        raise click.BadParameter(f"k must be even, got {k}", param_hint="--k")
    gen = _build(filter_spec, n, k)
    y = signals.from_name(signal, n, seed=seed + 1)
    if eta is None:
        eta = max_step_size(gen)
    try:
        C0 = gen.init(seed=seed, omega=omega)
        t0 = time.perf_counter()
        traj = gradient_descent(gen, y, C0, eta, steps, record=[0, steps], progress=not quiet and not as_json)
        elapsed = time.perf_counter() - t0
        f0 = traj.outputs[0]
        lin = linearized(_spectrum(gen), y, eta, f0=f0)
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
        from ._io import save_figure
        from .plotting import pyplot, plot_fit

        fig = plot_fit(taus, rel_actual, rel_pred,
                       title=f"{signal}, {gen.operator.filter.name}, n={n}, k={k}, η={eta:.3g}")
        ax = fig.axes[0]
        ax.axhline(delta, color="grey", lw=0.8, ls=":")
        save_figure(fig, plot, dpi=120, bbox_inches="tight")
        pyplot().close(fig)
        info["plot"] = plot
    if as_json:
        _emit_json(info)
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


@main.command()
@click.option("--profile", type=click.Choice(["quick", "full"]), default="quick", show_default=True,
              help="quick: small sizes, a few minutes; full: the papers' scale.")
@click.option("--only", "pattern", default=None, help="Run only checks whose name matches (glob or substring; "
              "comma-separated).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default="verify-report", show_default=True,
              help="Report folder (report.md, report.json, figures); written atomically.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def verify(profile, pattern, seed, out, as_json, quiet) -> None:
    """Verify the theory's claims: predicted vs actual, with verdicts, figures and a report.

    Exit status 0 exactly when every selected check passes.

    \b
    Examples:
      ntk-toolkit verify
      ntk-toolkit verify --only 'kernel.*' --out kernel-report
      ntk-toolkit verify --profile full --seed 1
    """
    from .checks import select_checks
    from .checks import verify as _verify
    from .checks.runner import report_dict

    try:
        checks = select_checks(pattern)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--only") from exc
    t0 = time.perf_counter()
    results = _verify(checks, profile=profile, seed=seed, out=out, progress=not (quiet or as_json))
    total = time.perf_counter() - t0
    if as_json:
        payload = report_dict(results, profile, seed, total)
        payload["report_dir"] = out
        _emit_json(payload)
    else:
        width = max(len(r.name) for r in results)
        click.echo(f"{'check':<{width}}  verdict  time(s)  key numbers")
        for r in results:
            key = "; ".join(f"{k}={_short(v)}" for k, v in list(r.measured.items())[:2])
            click.echo(f"{r.name:<{width}}  {r.verdict:<7}  {r.elapsed:7.1f}  {key}")
        n_pass = sum(r.passed for r in results)
        click.echo(f"{n_pass}/{len(results)} checks passed in {total:.1f} s (profile {profile}, seed {seed}); "
                   f"report: {out}/report.md")
    sys.exit(0 if all(r.passed for r in results) else 1)


def _short(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple, np.ndarray)):
        arr = np.asarray(v).ravel()
        if arr.dtype.kind in "fc":
            return "[" + ", ".join(f"{x:.3g}" for x in arr[:4]) + (", …" if arr.size > 4 else "") + "]"
    text = str(v)
    return text if len(text) < 40 else text[:37] + "..."


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def checks(as_json) -> None:
    """List the verification checks with their claims.

    \b
    Example:
      ntk-toolkit checks
    """
    from .checks import all_checks

    items = all_checks()
    if as_json:
        _emit_json({"checks": [{"name": c.name, "family": c.family, "claim": c.claim, "reference": c.reference,
                                "criterion": c.doc} for c in items]})
        return
    for c in items:
        click.echo(f"{c.name}  [{c.family}]")
        click.echo(f"    {c.claim}")
        click.echo(f"    ({c.reference})")


@main.command()
@click.option("--quick", is_flag=True, help="Small sizes: well under a minute on 2 cores; targets are not checked.")
@click.option("--peers", is_flag=True,
              help='Also time PyTorch and JAX implementations (pip install "ntk_toolkit[peers]"; CPU build of torch).')
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the table (the JSON with --json) to FILE, atomically; the table is still printed.")
@click.option("--only", default=None, help="Comma-separated sections: kernel, gd, spectrum, startup [default: all].")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads for every library (Numba, BLAS, PyTorch, XLA) [default: all cores].")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=120.0, show_default=True,
              help="Seconds allowed for each measurement run in a child process; over it: time-out.")
@click.option("--wait-idle", type=click.FloatRange(min=0), default=0.0, metavar="SECONDS",
              help="Before each measurement wait up to SECONDS for other processes to go quiet.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def bench(quick, peers, as_json, out, only, threads, time_limit, wait_idle, quiet) -> None:
    """Benchmark ntk_toolkit against naive references and (with --peers) PyTorch and JAX.

    Prints a table: operation, size, dtype, ntk_toolkit median [min–max],
    the reference measured in the same run, the ratio (reference time ÷
    ntk_toolkit time), peak memory, and the target with whether it is met
    (full mode). Sections: the empirical kernel against the explicit J Jᵀ,
    jax.jacrev and torch.func, its memory and the largest (n, 16n) kernel
    within 60 s; gradient descent per step against a dense NumPy loop,
    the memory-bandwidth bound, float32 and the PyTorch and JAX loops; the
    spectrum; import time and first calls in a fresh process. The full run
    takes several minutes; peers that are not installed are skipped.

    \b
    Examples:
      ntk-toolkit bench --quick
      ntk-toolkit bench --peers --out bench.md
      ntk-toolkit bench --quick --json --out bench.json
      ntk-toolkit bench --only gd,spectrum --threads 1
    """
    from .bench import SECTIONS, run_suite

    sections = None
    if only is not None:
        sections = [s.strip() for s in only.split(",") if s.strip()]
        bad = [s for s in sections if s not in SECTIONS]
        if bad or not sections:
            raise click.BadParameter(f"unknown section(s) {bad or [only]}; valid: {', '.join(SECTIONS)}",
                                     param_hint="--only")
    try:
        report = run_suite(quick=quick, peers=peers, threads=threads, sections=sections, time_limit=time_limit,
                           wait_idle=wait_idle, progress=not (quiet or as_json),
                           log=lambda msg: click.echo(msg, err=True))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--threads") from exc
    table = report.to_markdown()
    payload = json.dumps(report.to_dict(), indent=2, allow_nan=True)
    if out:
        from ._io import write_text

        write_text(out, payload + "\n" if as_json else table)
    if as_json and not out:
        click.echo(payload)
        for hint in report.hints:
            click.echo(hint, err=True)
    else:
        click.echo(table, nl=False)
    if out:
        click.echo(f"written: {out}", err=True)


# compressive-sensing commands (`cs`, `cs-curve`) live in their own module
from . import cli_cs  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    main()
