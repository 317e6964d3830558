"""Reading a sweep store: one table row per (point, seed), CSV/Parquet export, status summaries and
median/interquartile plots over seeds."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from .store import Store

__all__ = ["load", "records", "export", "status", "aggregate", "plot"]

#: The columns of every row, before the parameters and the metrics.
BASE_COLUMNS = ("key", "measurement", "seed", "status", "wall_time", "host", "toolkit_version", "code_version",
                "spec_hash", "finished", "traceback")

PANDAS_MISSING = ("ntk_toolkit.sweep.load needs pandas, which is not installed: pip install 'ntk_toolkit[sweep]' "
                  "(or pip install pandas); `ntk-toolkit sweep export --csv` works without it")


def _with_store(store, fn):
    if isinstance(store, Store):
        return fn(store)
    if not isinstance(store, (str, os.PathLike)):
        raise TypeError(f"store must be a path (str or os.PathLike) or a Store, got {store!r}")
    if not Path(store).is_file():
        raise FileNotFoundError(f"store {str(store)!r} does not exist")
    with Store(store) as st:
        return fn(st)


def records(store, measurement: str | None = None, status: str | None = None) -> tuple[list[str], list[dict]]:
    """The store's rows flattened: ``(columns, rows)``, parameters and metrics as columns.

    A metric whose name is also a parameter's is prefixed ``metric.``. Columns: the base ones
    (key, measurement, seed, status, wall time, host, versions, spec hash, finish time,
    traceback), then the parameters in first-seen order, then the metrics.

    Examples
    --------
    >>> import tempfile, os
    >>> from ntk_toolkit.sweep import run
    >>> spec = {"sweep": {"measurement": "spectrum_summary", "seeds": 1}, "grid": {"filter": ["delta"], "n": [8]}}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = run(spec, os.path.join(d, "s.db"), scheduler="serial")
    ...     cols, rows = records(os.path.join(d, "s.db"))
    >>> cols[:4], rows[0]["n"], round(rows[0]["lambda_max"], 12)
    (['key', 'measurement', 'seed', 'status'], 8, 0.5)
    """
    raw = _with_store(store, lambda st: st.rows(measurement, status))
    params: dict = {}
    metrics: dict = {}
    for r in raw:
        params.update(dict.fromkeys(r["params"]))
    for r in raw:
        for m in r["metrics"] or {}:
            metrics[m if m not in params and m not in BASE_COLUMNS else f"metric.{m}"] = None
    rows = []
    for r in raw:
        row = {c: r[c] for c in BASE_COLUMNS}
        row.update(r["params"])
        for m, v in (r["metrics"] or {}).items():
            row[m if m not in params and m not in BASE_COLUMNS else f"metric.{m}"] = v
        rows.append(row)
    return [*BASE_COLUMNS, *params, *metrics], rows


def load(store, measurement: str | None = None, status: str | None = None):
    """The store as a pandas ``DataFrame``: one row per (point, seed), parameters and metrics as columns.

    Parameters
    ----------
    store : Store, str or os.PathLike
    measurement : str, optional
        Only this measurement's rows.
    status : {"done", "failed"}, optional
        Only rows of this status.

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`records`. Needs the ``sweep`` extra (pandas).

    Examples
    --------
    >>> import tempfile, os
    >>> from ntk_toolkit.sweep import run
    >>> spec = {"sweep": {"measurement": "spectrum_summary", "seeds": 2}, "grid": {"filter": ["delta"], "n": [8]}}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = run(spec, os.path.join(d, "s.db"), scheduler="serial")
    ...     df = load(os.path.join(d, "s.db"))
    >>> len(df), sorted(df["seed"])
    (2, [0, 1])
    """
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(PANDAS_MISSING) from exc
    cols, rows = records(store, measurement, status)
    return pd.DataFrame(rows, columns=cols)


def export(store, path, fmt: str | None = None) -> int:
    """Write the store's rows to a CSV (no extra needed) or Parquet file (pandas and pyarrow), atomically.

    Parameters
    ----------
    store : Store, str or os.PathLike
    path : str or os.PathLike
    fmt : {"csv", "parquet"}, optional
        Default from the suffix (``.parquet`` or ``.pq``: Parquet, otherwise CSV).

    Returns
    -------
    int
        Rows written.

    Examples
    --------
    >>> import tempfile, os
    >>> from ntk_toolkit.sweep import run
    >>> spec = {"sweep": {"measurement": "spectrum_summary", "seeds": 2}, "grid": {"filter": ["delta"], "n": [8]}}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = run(spec, os.path.join(d, "s.db"), scheduler="serial")
    ...     export(os.path.join(d, "s.db"), os.path.join(d, "out.csv"))
    2
    """
    from .._io import atomic_path, write_text

    path = Path(path)
    fmt = fmt or ("parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    if fmt == "parquet":
        df = load(store)
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise ImportError("Parquet export needs pyarrow: pip install pyarrow (CSV works without it)") from exc
        with atomic_path(path) as tmp:
            df.to_parquet(tmp)
        return len(df)
    cols, rows = records(store)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buf.getvalue())
    return len(rows)


def status(store) -> dict:
    """Per spec recorded in the store: measurement, code version, runs, done, failed, remaining; and totals.

    Examples
    --------
    >>> import tempfile, os
    >>> from ntk_toolkit.sweep import run
    >>> spec = {"sweep": {"measurement": "spectrum_summary", "seeds": 2}, "grid": {"filter": ["delta"], "n": [8]}}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = run(spec, os.path.join(d, "s.db"), scheduler="serial")
    ...     s = status(os.path.join(d, "s.db"))
    >>> s["totals"], s["specs"][0]["remaining"]
    ({'done': 2, 'failed': 0}, 0)
    """
    from .spec import load_spec

    def read(st):
        out = []
        for rec in st.specs():
            entry = {"spec_hash": rec["spec_hash"], "measurement": rec["measurement"],
                     "code_version": rec["code_version"], "name": rec["spec"]["sweep"].get("name", "")}
            try:
                spec = load_spec(rec["spec"])
            except (ValueError, TypeError, KeyError, ImportError) as exc:
                entry["error"] = f"cannot read the spec with this version of the code: {exc}"
            else:
                counts = st.counts(spec)
                entry.update(runs=spec.size, **counts, remaining=spec.size - counts["done"] - counts["failed"])
            out.append(entry)
        return {"store": os.fspath(st.path), "totals": st.counts(), "specs": out}

    return _with_store(store, read)


def aggregate(rows: list[dict], x: str, y: str, group: str | None = None) -> dict:
    """Median and interquartile range of ``y`` over seeds, per value of ``x`` (and of ``group``).

    Parameters
    ----------
    rows : list of dict
        From :func:`records` (``done`` rows).
    x, y : str
        Column names (``x`` numeric or categorical, ``y`` numeric).
    group : str, optional
        One curve per value of this column.

    Returns
    -------
    dict
        ``group value -> {"x": [...], "median": [...], "q25": [...], "q75": [...], "count": [...]}``
        (``x`` sorted; a single group ``None`` without ``group``).

    Examples
    --------
    >>> rows = [{"m": 1, "e": v} for v in (1.0, 2.0, 3.0)] + [{"m": 2, "e": 0.5}]
    >>> a = aggregate(rows, "m", "e")[None]
    >>> a["x"], a["median"], a["q25"]
    ([1, 2], [2.0, 0.5], [1.5, 0.5])
    """
    if not isinstance(rows, (list, tuple)) or not all(isinstance(r, dict) for r in rows):
        raise TypeError(f"rows must be a list of dicts (from records), got {type(rows).__name__}")
    for name, value in (("x", x), ("y", y), ("group", group)):
        if not isinstance(value, str) and not (name == "group" and value is None):
            raise TypeError(f"{name} must be a column name (a string), got {value!r}")
    buckets: dict = {}
    for r in rows:
        if y not in r or r[y] is None or x not in r:
            continue
        g = r.get(group) if group else None
        buckets.setdefault(g, {}).setdefault(r[x], []).append(float(r[y]))
    out = {}
    for g, by_x in buckets.items():
        xs = sorted(by_x, key=lambda v: (isinstance(v, str), v))
        vals = [np.asarray(by_x[v]) for v in xs]
        out[g] = {"x": xs, "median": [float(np.median(v)) for v in vals],
                  "q25": [float(np.percentile(v, 25)) for v in vals],
                  "q75": [float(np.percentile(v, 75)) for v in vals], "count": [int(v.size) for v in vals]}
    return out


#: Default axes of ``sweep plot`` per measurement: (x, y, group).
DEFAULT_AXES = {
    "fit_time": ("k", "fit_time_network", "signal"),
    "recovery_error": ("m", "error_interpolant", "filter"),
    "spectrum_summary": ("n", "lambda_min", "filter"),
    "kernel_error": ("k", "error_spectral", "filter"),
    "linearization_gap": ("k", "gap_max", "filter"),
    "denoising_curve": ("noise", "best_error_network", "filter"),
    "image_fit_time": ("k", "ratio", "filter"),
    "image_denoising": ("sigma", "best_psnr", "filter"),
    "image_inpainting": ("keep", "psnr_network", "filter"),
}


def plot(store, x: str | None = None, y: str | None = None, group: str | None = None, *,
         measurement: str | None = None, log: str = "", ax=None, title: str | None = None):
    """Median over seeds of ``y`` against ``x``, with the interquartile band, one curve per ``group``.

    Parameters
    ----------
    store : Store, str or os.PathLike
    x, y, group : str, optional
        Columns; defaults per measurement (:data:`DEFAULT_AXES`) when the store holds one.
    measurement : str, optional
        Only this measurement's rows (needed when the store holds several).
    log : str
        ``"x"``, ``"y"`` or ``"xy"``: logarithmic axes.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import tempfile, os
    >>> from ntk_toolkit.sweep import run
    >>> spec = {"sweep": {"measurement": "spectrum_summary", "seeds": 1},
    ...         "grid": {"filter": ["triangle:2", "triangle:4"], "n": [16, 32]}}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = run(spec, os.path.join(d, "s.db"), scheduler="serial")
    ...     fig = plot(os.path.join(d, "s.db"))
    >>> [len(line.get_xdata()) for line in fig.axes[0].get_lines()]
    [2, 2]
    """
    from ..plotting import pyplot

    cols, rows = records(store, measurement, "done")
    names = sorted({r["measurement"] for r in rows})
    if not rows:
        raise ValueError("the store holds no finished points to plot")
    if len(names) > 1 and measurement is None:
        raise ValueError(f"the store holds several measurements ({', '.join(names)}); choose one with measurement=")
    dx, dy, dg = DEFAULT_AXES.get(names[0], (None, None, None))
    x, y = x or dx, y or dy
    group = group if group is not None else (dg if dg in cols else None)
    for name, col in (("x", x), ("y", y), ("group", group)):
        if col is not None and col not in cols:
            raise ValueError(f"{name}={col!r} is not a column of the store; columns: {', '.join(cols)}")
    if x is None or y is None:
        raise ValueError(f"give x and y for measurement {names[0]!r}; columns: {', '.join(cols)}")
    plt = pyplot()
    fig = ax.figure if ax is not None else plt.figure(figsize=(6.8, 4.6))
    ax = ax if ax is not None else fig.add_subplot()
    for i, (g, a) in enumerate(sorted(aggregate(rows, x, y, group).items(), key=lambda kv: str(kv[0]))):
        label = f"{group} = {g}" if group else y
        xs = a["x"] if all(isinstance(v, (int, float)) for v in a["x"]) else list(range(len(a["x"])))
        med = np.array(a["median"])
        finite = np.isfinite(med)
        ax.plot(np.asarray(xs)[finite], med[finite], "o-", color=f"C{i}", label=label)
        ax.fill_between(xs, a["q25"], a["q75"], color=f"C{i}", alpha=0.2, lw=0)
        if xs is not a["x"]:
            ax.set_xticks(xs, [str(v) for v in a["x"]])
    if "x" in log:
        ax.set_xscale("log")
    if "y" in log:
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} (median, IQR over seeds)")
    ax.set_title(title or f"{names[0]}: {y} against {x}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig

