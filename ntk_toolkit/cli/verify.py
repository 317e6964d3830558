"""``ntk-toolkit verify`` and ``ntk-toolkit checks``: the verification suite."""

from __future__ import annotations

import sys
import time

import click
import numpy as np

from ._options import bad, emit_json, json_option, quiet_option, seed_option

__all__ = ["verify", "checks"]


@click.command()
@click.option("--profile", type=click.Choice(["quick", "full"]), default="quick", show_default=True,
              help="quick: small sizes, a few minutes; full: the papers' scale.")
@click.option("--only", "pattern", default=None, help="Run only checks whose name matches (glob or substring; "
              "comma-separated).")
@seed_option()
@click.option("--out", type=click.Path(file_okay=False), default="verify-report", show_default=True,
              help="Report folder (report.md, report.json, figures); written atomically.")
@json_option("Print the report as JSON.")
@quiet_option()
def verify(profile, pattern, seed, out, as_json, quiet) -> None:
    """Verify the theory's claims: predicted vs actual, with verdicts, figures and a report.

    Exit status 0 exactly when every selected check passes.

    \b
    Examples:
      ntk-toolkit verify
      ntk-toolkit verify --only 'kernel.*' --out kernel-report
      ntk-toolkit verify --profile full --seed 1
    """
    from ..checks import select_checks
    from ..checks import verify as _verify
    from ..checks.runner import report_dict

    try:
        selected = select_checks(pattern)
    except ValueError as exc:
        raise bad("--only", str(exc)) from exc
    t0 = time.perf_counter()
    results = _verify(selected, profile=profile, seed=seed, out=out, progress=not (quiet or as_json))
    total = time.perf_counter() - t0
    if as_json:
        payload = report_dict(results, profile, seed, total)
        payload["report_dir"] = out
        emit_json(payload)
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
    """A measured value in a few characters for the summary table."""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple, np.ndarray)):
        arr = np.asarray(v).ravel()
        if arr.dtype.kind in "fc":
            return "[" + ", ".join(f"{x:.3g}" for x in arr[:4]) + (", …" if arr.size > 4 else "") + "]"
    text = str(v)
    return text if len(text) < 40 else text[:37] + "..."


@click.command()
@json_option()
def checks(as_json) -> None:
    """List the verification checks with their claims.

    \b
    Example:
      ntk-toolkit checks
    """
    from ..checks import all_checks

    items = all_checks()
    if as_json:
        emit_json({"checks": [{"name": c.name, "family": c.family, "claim": c.claim, "reference": c.reference,
                               "criterion": c.doc} for c in items]})
        return
    for c in items:
        click.echo(f"{c.name}  [{c.family}]")
        click.echo(f"    {c.claim}")
        click.echo(f"    ({c.reference})")
