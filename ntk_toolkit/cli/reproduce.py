"""``ntk-toolkit reproduce``: the papers' figures as sweeps shipped with the package
(:mod:`ntk_toolkit.sweep.reproduce`)."""

from __future__ import annotations

import click

from ._options import bad, emit_json, json_option, quiet_option

__all__ = ["reproduce"]


@click.command()
@click.argument("name", required=False)
@click.option("--list", "list_targets", is_flag=True, help="List the figures that can be reproduced.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Directory for the figure, the report, the table and the store [default: reproduce-NAME].")
@click.option("--profile", type=click.Choice(["quick", "full"]), default="quick", show_default=True,
              help="quick: minutes on 2 cores; full: the figures' sizes (see docs/guide/sweeps.md for times).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler tcp://HOST:PORT, or 'local' (needs pip install 'ntk_toolkit[sweep]') "
                   "[default: local processes].")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes [default: one per core].")
@click.option("--store", type=click.Path(dir_okay=False), default=None,
              help="The sweep store [default: OUT/NAME.db]; a rerun resumes from it.")
@json_option()
@quiet_option()
def reproduce(name, list_targets, out, profile, scheduler, workers, store, as_json, quiet) -> None:
    """Reproduce a figure of the papers: run its sweep, draw it, and put the
    papers' printed numbers beside ours.

    Writes NAME.png, NAME.md (report) and NAME.csv (the paper's numbers,
    ours and the relative difference, where the paper or the authors' code
    prints them) into --out, and keeps the points in a store so that an
    interrupted run resumes.

    \b
    Examples:
      ntk-toolkit reproduce --list
      ntk-toolkit reproduce p1-fig6-spectrum --out figures
      ntk-toolkit reproduce p1-fig4-fitting-speed --profile full --scheduler tcp://10.0.0.5:8786
    """
    from ..sweep import StoreError
    from ..sweep.reproduce import get_target, targets
    from ..sweep.reproduce import reproduce as run_target

    if list_targets:
        all_targets = targets()
        if as_json:
            emit_json({n: {"title": t.title, "paper": t.paper, "quick_runs": t.spec("quick").size,
                           "full_runs": t.spec("full").size, "paper_numbers": len(t.paper_numbers)}
                       for n, t in all_targets.items()})
            return
        for n, t in all_targets.items():
            click.echo(f"{n:<26} {t.title}")
            click.echo(f"{'':<26} {t.paper}; runs: quick {t.spec('quick').size}, full {t.spec('full').size}; "
                       f"printed numbers compared: {len(t.paper_numbers)}")
        return
    if name is None:
        raise click.UsageError("give a target NAME (see `ntk-toolkit reproduce --list`)")
    try:
        get_target(name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from exc
    try:
        res = run_target(name, out or f"reproduce-{name}", profile=profile, scheduler=scheduler, workers=workers,
                         store=store, progress=not (quiet or as_json))
    except ImportError as exc:
        raise bad("--scheduler", str(exc)) from exc
    except StoreError as exc:
        raise bad("--store", str(exc)) from exc
    if as_json:
        emit_json(res.to_dict())
        return
    s = res.sweep
    click.echo(f"{name} ({profile}): {s.total} runs, ran {s.ran}, done {s.done}, failed {s.failed} "
               f"({res.seconds:.1f} s)")
    for r in res.table:
        click.echo(f"  {r['label']}: paper {r['paper']:.6g}, ours {r['ours']:.6g} "
                   f"({r['relative_difference']:+.2e})")
    click.echo(f"  figure: {res.figure}\n  report: {res.report}\n  table: {res.table_csv}")
