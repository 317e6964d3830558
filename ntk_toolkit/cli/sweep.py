"""``ntk-toolkit sweep run|status|export|plot``: parameter sweeps through a resumable store
(:mod:`ntk_toolkit.sweep`)."""

from __future__ import annotations

import sys

import click

from ._options import PlotPath, bad, emit_json, json_option, quiet_option, save_plot

__all__ = ["sweep", "store_option", "scheduler_option", "workers_option", "open_store"]


def store_option(required: bool = True):
    return click.option("--store", "store", type=click.Path(dir_okay=False), required=required,
                        help="The sweep store (an SQLite file; created if missing).")


def scheduler_option():
    return click.option("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler: tcp://HOST:PORT of a running cluster, or 'local' to start a "
                             "LocalCluster (needs pip install 'ntk_toolkit[sweep]'); 'serial' runs the points in "
                             "this process, one at a time [default: a pool of local processes].")


def workers_option():
    return click.option("--workers", type=click.IntRange(min=1), default=None,
                        help="Worker processes (local pool or LocalCluster) [default: one per core].")


def open_store(path: str, must_exist: bool = False):
    """The :class:`~ntk_toolkit.sweep.Store` at ``path``, or a usage error naming ``--store``."""
    from pathlib import Path

    from ..sweep import Store, StoreError

    if must_exist and not Path(path).is_file():
        raise bad("--store", f"{path!r} does not exist")
    try:
        return Store(path)
    except StoreError as exc:
        raise bad("--store", str(exc)) from exc


@click.group()
def sweep() -> None:
    """Run parameter sweeps into a resumable store, and read the results.

    A spec (TOML) names a measurement, a grid of its parameters and the seeds;
    `sweep run` runs every (point, seed) the store does not hold yet, on local
    processes or a Dask cluster, and writes each as it finishes.

    \b
    Examples:
      ntk-toolkit sweep run spec.toml --store runs.db --workers 2
      ntk-toolkit sweep run spec.toml --store runs.db --scheduler tcp://10.0.0.5:8786
      ntk-toolkit sweep status --store runs.db
      ntk-toolkit sweep export --store runs.db --csv runs.csv
      ntk-toolkit sweep plot --store runs.db --out fit.png --x k --y fit_time_network --group signal
    """


@sweep.command("run")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@store_option()
@scheduler_option()
@workers_option()
@click.option("--retry-failed", is_flag=True, help="Rerun the points stored as failed.")
@click.option("--allow-mixed", is_flag=True,
              help="Accept a store holding points of another code version of the measurement.")
@json_option()
@quiet_option()
def run_cmd(spec, store, scheduler, workers, retry_failed, allow_mixed, as_json, quiet) -> None:
    """Run the points of SPEC that the store does not hold yet.

    Finished points are skipped (failed ones too, unless --retry-failed), so a
    killed run resumes where it stopped. Only this process writes the store.
    Exit status 1 if any point of the spec is stored as failed.

    \b
    Spec layout:
      [sweep]
      measurement = "fit_time"     # or "package.module:function"
      seeds = 3                    # or a list of seeds
      [grid]
      filter = ["triangle:2", "triangle:8"]
      n = [64]
      k = [512, 1024]
      signal = ["smooth", "noise"]

    \b
    Examples:
      ntk-toolkit sweep run spec.toml --store runs.db
      ntk-toolkit sweep run spec.toml --store runs.db --scheduler local --workers 2
      ntk-toolkit sweep run spec.toml --store runs.db --retry-failed
    """
    from ..sweep import SpecError, StoreError, load_spec, run

    try:
        sw = load_spec(spec)
    except SpecError as exc:
        raise click.BadParameter(str(exc), param_hint="SPEC") from exc
    st = open_store(store)
    try:
        res = run(sw, st, scheduler=scheduler, workers=workers, retry_failed=retry_failed,
                  progress=not (quiet or as_json), allow_mixed=allow_mixed)
    except ImportError as exc:
        raise bad("--scheduler", str(exc)) from exc
    except StoreError as exc:
        raise bad("--store", str(exc)) from exc
    except ValueError as exc:
        raise bad("--scheduler", str(exc)) from exc
    except KeyboardInterrupt:
        click.echo(f"interrupted: the finished points are in {store}; run the same command again to resume",
                   err=True)
        sys.exit(130)
    finally:
        st.close()
    if as_json:
        emit_json(res.to_dict())
    else:
        click.echo(f"{sw.measurement.name}: {res.total} runs ({len(sw.seeds)} seeds) in {store}: ran {res.ran}, "
                   f"skipped {res.skipped} already stored; done {res.done}, failed {res.failed}, "
                   f"remaining {res.remaining} ({res.seconds:.1f} s)")
        if res.failed:
            click.echo(f"  {res.failed} failed: see their tracebacks with `ntk-toolkit sweep status --store {store} "
                       "--failed`; rerun them with --retry-failed")
    if res.failed:
        sys.exit(1)


@sweep.command("status")
@store_option()
@click.option("--failed", "show_failed", is_flag=True, help="Also print the last line of each failure's traceback.")
@json_option()
def status_cmd(store, show_failed, as_json) -> None:
    """Points done, failed and remaining per spec run into the store.

    \b
    Examples:
      ntk-toolkit sweep status --store runs.db
      ntk-toolkit sweep status --store runs.db --failed --json
    """
    from ..sweep import status

    st = open_store(store, must_exist=True)
    try:
        info = status(st)
        failures = [{"key": r["key"], "params": r["params"], "seed": r["seed"],
                     "error": (r["traceback"] or "").strip().splitlines()[-1:] or [""]}
                    for r in st.rows(status="failed")] if show_failed else []
    finally:
        st.close()
    if as_json:
        emit_json({**info, "failures": failures} if show_failed else info)
        return
    t = info["totals"]
    click.echo(f"{store}: {t['done']} done, {t['failed']} failed")
    for s in info["specs"]:
        name = f" {s['name']!r}" if s["name"] else ""
        if "error" in s:
            click.echo(f"  spec {s['spec_hash'][:12]}{name} ({s['code_version']}): {s['error']}")
            continue
        click.echo(f"  spec {s['spec_hash'][:12]}{name} ({s['code_version']}): {s['runs']} runs, {s['done']} done, "
                   f"{s['failed']} failed, {s['remaining']} remaining")
    for f in failures:
        click.echo(f"  failed: seed {f['seed']} {f['params']}: {f['error'][0]}")


@sweep.command("export")
@store_option()
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None, help="Write a CSV file.")
@click.option("--parquet", "parquet_path", type=click.Path(dir_okay=False), default=None,
              help="Write a Parquet file (needs pandas and pyarrow).")
def export_cmd(store, csv_path, parquet_path) -> None:
    """Write every stored row (parameters and metrics as columns) to CSV or Parquet.

    \b
    Examples:
      ntk-toolkit sweep export --store runs.db --csv runs.csv
      ntk-toolkit sweep export --store runs.db --parquet runs.parquet
    """
    from ..sweep import export

    if not csv_path and not parquet_path:
        raise bad("--csv", "give --csv FILE and/or --parquet FILE")
    st = open_store(store, must_exist=True)
    try:
        for path, fmt in ((csv_path, "csv"), (parquet_path, "parquet")):
            if path:
                try:
                    n = export(st, path, fmt=fmt)
                except ImportError as exc:
                    raise bad(f"--{fmt}", str(exc)) from exc
                click.echo(f"{n} rows written to {path}")
    finally:
        st.close()


@sweep.command("plot")
@store_option()
@click.option("--out", type=PlotPath(), required=True, help="The figure (PNG, PDF or SVG by suffix).")
@click.option("--x", default=None, help="Column on the x axis [default: per measurement].")
@click.option("--y", default=None, help="Metric on the y axis [default: per measurement].")
@click.option("--group", default=None, help="One curve per value of this column [default: per measurement].")
@click.option("--measurement", default=None, help="The measurement to plot when the store holds several.")
@click.option("--log", type=click.Choice(["", "x", "y", "xy"]), default="", help="Logarithmic axes.")
def plot_cmd(store, out, x, y, group, measurement, log) -> None:
    """Median over seeds of a metric against a parameter, with the interquartile band.

    \b
    Examples:
      ntk-toolkit sweep plot --store runs.db --out fit.png
      ntk-toolkit sweep plot --store runs.db --out fit.png --x k --y fit_time_network --group signal --log xy
    """
    from ..sweep import plot

    st = open_store(store, must_exist=True)
    try:
        fig = plot(st, x, y, group, measurement=measurement, log=log)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        st.close()
    save_plot(fig, out)
    click.echo(f"figure: {out}")
