"""``ntk-toolkit bench``: performance benchmarks against naive references and peers."""

from __future__ import annotations

import json

import click

from ._options import FiniteFloatRange, bad, json_option, quiet_option

__all__ = ["bench"]


@click.command()
@click.option("--quick", is_flag=True, help="Small sizes: well under a minute on 2 cores; targets are not checked.")
@click.option("--peers", is_flag=True,
              help='Also time PyTorch and JAX implementations (pip install "ntk_toolkit[peers]"; CPU build of torch).')
@json_option()
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the table (the JSON with --json) to FILE, atomically; the table is still printed.")
@click.option("--only", default=None,
              help="Comma-separated sections: kernel, gd, spectrum, images, deep, symbolic, dynamics, sweep, "
                   "startup [default: all].")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads for every library (Numba, BLAS, PyTorch, XLA) [default: all cores].")
@click.option("--time-limit", type=FiniteFloatRange(min=0, min_open=True), default=120.0, show_default=True,
              help="Seconds allowed for each measurement run in a child process; over it: time-out.")
@click.option("--wait-idle", type=FiniteFloatRange(min=0), default=0.0, metavar="SECONDS",
              help="Before each measurement wait up to SECONDS for other processes to go quiet.")
@quiet_option()
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
    from ..bench import SECTIONS, run_suite

    sections = None
    if only is not None:
        sections = [s.strip() for s in only.split(",") if s.strip()]
        unknown = [s for s in sections if s not in SECTIONS]
        if unknown or not sections:
            raise bad("--only", f"unknown section(s) {unknown or [only]}; valid: {', '.join(SECTIONS)}")
    try:
        report = run_suite(quick=quick, peers=peers, threads=threads, sections=sections, time_limit=time_limit,
                           wait_idle=wait_idle, progress=not (quiet or as_json),
                           log=lambda msg: click.echo(msg, err=True))
    except ValueError as exc:
        raise bad("--threads", str(exc)) from exc
    table = report.to_markdown()
    payload = json.dumps(report.to_dict(), indent=2, allow_nan=True)
    if out:
        from .._io import write_text

        write_text(out, payload + "\n" if as_json else table)
    if as_json and not out:
        click.echo(payload)
        for hint in report.hints:
            click.echo(hint, err=True)
    else:
        click.echo(table, nl=False)
    if out:
        click.echo(f"written: {out}", err=True)
