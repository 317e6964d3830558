"""The regime verdict of ``ntk-toolkit fit``: options, the width estimate and the lines it prints."""

from __future__ import annotations

import click

__all__ = ["regime_options", "regime_report"]


def regime_options(func):
    """``--diagnostics/--no-diagnostics``, ``--tol`` and ``--width-estimate/--no-width-estimate``."""
    func = click.option("--width-estimate/--no-width-estimate", "width_estimate", default=True, show_default=True,
                        help="When the run leaves the linear regime, estimate the width k at which it would stay "
                             "within --tol (runs at k/4, k/2 and k, 2 seeds each; ntk_toolkit.width_needed).")(func)
    func = click.option("--tol", type=click.FloatRange(min=0, min_open=True, max=1e6), default=0.1,
                        show_default=True,
                        help="Largest allowed distance of the network from its linearized prediction "
                             "(relative to ‖y‖) for the run to count as in the linear regime.")(func)
    return click.option("--diagnostics/--no-diagnostics", default=True, show_default=True,
                        help="Record the regime diagnostics (weight change, sign flips, kernel drift, "
                             "linearization gap) and print the verdict.")(func)


def regime_report(gen, y, traj, eta: float, steps: int, omega: float, tol: float, width_estimate: bool,
                  seed: int, quiet: bool) -> tuple[dict, list[str]]:
    """``(json_fields, lines)`` of the verdict of :func:`ntk_toolkit.linear_regime` and, out of the regime,
    the width estimate of :func:`ntk_toolkit.width_needed`."""
    from ..regime import linear_regime, width_needed

    verdict = linear_regime(traj, tol=tol)
    info = {"regime": verdict.to_dict(), "diagnostics": {
        "iterations": traj.iterations.tolist(), "method": traj.diagnostics_method,
        **{key: [float(x) for x in getattr(traj, key)]
           for key in ("weight_change", "sign_flips", "kernel_drift", "linearization_gap")}}}
    lines = [f"  regime (tol {tol:g}): {verdict.message}"]
    if verdict.in_regime or not width_estimate:
        return info, lines
    k = int(gen.k)
    widths = sorted({max(2, 2 * round(k * f / 2)) for f in (0.25, 0.5, 1.0)})
    if len(widths) < 3:
        return info, lines
    if not quiet:
        click.echo(f"estimating the width needed: {2 * len(widths)} runs at k = {widths} ...", err=True)
    est = width_needed(gen, y, eta, steps, tol=tol, omega=omega, widths=widths, seeds=2, seed=seed + 1000)
    info["width_needed"] = est.to_dict()
    lines.append(f"  width needed: {est.message}")
    return info, lines
