"""The papers' figures as sweeps shipped with the package (``ntk-toolkit reproduce``).

Each target is a TOML file in ``ntk_toolkit/sweep/targets/``: a sweep spec (``[sweep]``, ``[grid]``)
plus ``[reproduce]`` (title, paper reference, figure kind, description, optional ``scale`` of the
compared metrics), ``[profiles.quick]`` and ``[profiles.full]`` (``seeds`` and ``grid`` entries that
override the common ones) and ``[[paper]]`` entries: a number the paper or the authors' code
prints, the grid values it corresponds to (``match``), the metric it is compared with, an optional
``transform`` and a ``note`` when the paper's experiment is an analogue rather than the same one.
:func:`reproduce` runs the target through a store (so it resumes), draws the figure and writes the
table of the paper's numbers beside ours with the relative difference.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from .execution import SweepResult, run
from .results import records
from .spec import SweepSpec, load_spec

__all__ = ["Target", "Reproduction", "targets", "get_target", "reproduce", "comparison_table", "PROFILES"]

PROFILES = ("quick", "full")
#: Transforms of a metric before it is compared with a paper's number.
TRANSFORMS = {"none": lambda v: v, "mse_from_psnr": lambda v: 10.0 ** (-v / 10.0)}


@dataclass(frozen=True)
class Target:
    """A reproduce target: the sweep of one figure of the papers and the numbers they print.

    Examples
    --------
    >>> t = get_target("p1-fig6-spectrum")
    >>> t.figure, len(t.paper_numbers), t.spec("quick").size
    ('spectra', 12, 6)
    """

    name: str
    title: str
    paper: str
    figure: str
    description: str
    raw: dict = field(repr=False)
    paper_numbers: tuple = field(repr=False, default=())
    scale: float = 1.0

    def spec_dict(self, profile: str = "quick") -> dict:
        """The sweep spec (dict) of ``profile``: the common grid with the profile's entries over it."""
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
        prof = self.raw.get("profiles", {}).get(profile, {})
        sweep = copy.deepcopy(self.raw["sweep"])
        sweep.setdefault("name", f"{self.name} ({profile})")
        if "seeds" in prof:
            sweep["seeds"] = prof["seeds"]
        grid = {**copy.deepcopy(self.raw.get("grid", {})), **copy.deepcopy(prof.get("grid", {}))}
        return {"sweep": sweep, "grid": grid}

    def spec(self, profile: str = "quick") -> SweepSpec:
        """The validated :class:`SweepSpec` of ``profile``."""
        return load_spec(self.spec_dict(profile))


def _parse(name: str, raw: dict) -> Target:
    meta = raw.get("reproduce", {})
    return Target(name, meta.get("title", name), meta.get("paper", ""), meta.get("figure", ""),
                  " ".join(meta.get("description", "").split()), raw, tuple(raw.get("paper", ())),
                  float(meta.get("scale", 1.0)))


def targets() -> dict[str, Target]:
    """All shipped targets by name (file name without ``.toml``), sorted.

    Examples
    --------
    >>> {"p1-fig6-spectrum", "p1-fig4-fitting-speed", "p2-fig1-recovery"} <= set(targets())
    True
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    out = {}
    for entry in sorted(resources.files("ntk_toolkit.sweep").joinpath("targets").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            name = entry.name[: -len(".toml")]
            out[name] = _parse(name, tomllib.loads(entry.read_text(encoding="utf-8")))
    return out


def get_target(name: str) -> Target:
    """The target ``name``, or a ValueError listing the targets.

    Examples
    --------
    >>> get_target("p2-fig1-recovery").spec("quick").measurement.name
    'recovery_error'
    """
    all_targets = targets()
    if name not in all_targets:
        raise ValueError(f"unknown reproduce target {name!r}; targets: {', '.join(all_targets)}")
    return all_targets[name]


def _matches(row: dict, match: dict) -> bool:
    for key, want in match.items():
        have = row.get(key)
        if isinstance(want, float) and isinstance(have, (int, float)):
            if not math.isclose(have, want, rel_tol=1e-12, abs_tol=1e-15):
                return False
        elif have != want:
            return False
    return True


def comparison_table(target: Target, rows: list[dict]) -> list[dict]:
    """The paper's printed numbers beside ours: median over the matching rows, relative difference.

    Parameters
    ----------
    target : Target
    rows : list of dict
        ``done`` rows of the target's points (:func:`~ntk_toolkit.sweep.records`).

    Returns
    -------
    list of dict
        ``label``, ``paper``, ``ours`` (``metric × scale``, transformed; median over seeds;
        NaN without matching rows), ``relative_difference`` (``ours/paper − 1``), ``seeds``,
        ``note``.

    Examples
    --------
    >>> t = get_target("p1-fig6-spectrum")
    >>> rows = [{"filter": "triangle:1", "lambda_min": 0.5, "lambda_max": 0.5}]
    >>> tab = comparison_table(t, rows)
    >>> round(tab[0]["ours"], 6), f"{tab[0]['relative_difference']:.1e}", tab[2]["seeds"]
    (0.166667, '1.4e-06', 0)
    """
    out = []
    for entry in target.paper_numbers:
        transform = TRANSFORMS[entry.get("transform", "none")]
        vals = [transform(float(r[entry["metric"]]) * target.scale) for r in rows
                if _matches(r, entry.get("match", {})) and r.get(entry["metric"]) is not None]
        ours = float(np.median(vals)) if vals else math.nan
        paper = float(entry["value"])
        out.append({"label": entry["label"], "paper": paper, "ours": ours,
                    "relative_difference": ours / paper - 1.0 if paper != 0 else math.nan,
                    "seeds": len(vals), "note": entry.get("note", "same quantity, same setting")})
    return out


def _markdown_table(table: list[dict]) -> str:
    if not table:
        return "The paper and the authors' code print no number this figure measures (see the description).\n"
    lines = ["| quantity | paper | ours | relative difference | runs | note |", "|---|---|---|---|---|---|"]
    for r in table:
        rel = "—" if not math.isfinite(r["relative_difference"]) else f"{r['relative_difference']:+.2e}"
        lines.append(f"| {r['label']} | {r['paper']:.6g} | {r['ours']:.6g} | {rel} | {r['seeds']} | {r['note']} |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Reproduction:
    """Result of :func:`reproduce`: the sweep, the comparison table and the files written.

    Attributes
    ----------
    name, profile : str
    sweep : SweepResult
    table : list of dict
        :func:`comparison_table`.
    figure, report, table_csv, store : str
        Paths of the PNG figure, the Markdown report, the CSV table and the store.
    seconds : float

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     res = reproduce("p1-fig6-spectrum", d, scheduler="serial")
    ...     sorted(res.to_dict())[:3], res.figure.endswith("p1-fig6-spectrum.png")
    (['figure', 'name', 'profile'], True)
    """

    name: str
    profile: str
    sweep: SweepResult
    table: list
    figure: str
    report: str
    table_csv: str
    store: str
    seconds: float

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {"name": self.name, "profile": self.profile, "sweep": self.sweep.to_dict(), "table": self.table,
                "figure": self.figure, "report": self.report, "table_csv": self.table_csv, "store": self.store,
                "seconds": self.seconds}


def reproduce(name: str, out, profile: str = "quick", scheduler: str | None = None, workers: int | None = None,
              store=None, progress: bool = False, executor=None) -> Reproduction:
    """Run a target through a store, draw its figure and write the comparison table and a report.

    Parameters
    ----------
    name : str
        A target of :func:`targets`.
    out : str or os.PathLike
        Directory for ``NAME.png``, ``NAME.md`` (report), ``NAME.csv`` (table) and, by default,
        the store ``NAME.db``.
    profile : {"quick", "full"}, default "quick"
    scheduler, workers, executor
        As :func:`~ntk_toolkit.sweep.run`.
    store : path, optional
        Default ``out/NAME.db``; reruns resume from it.
    progress : bool, default False

    Returns
    -------
    Reproduction

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     res = reproduce("p1-fig6-spectrum", d, scheduler="serial")
    >>> res.sweep.done, max(abs(r["relative_difference"]) for r in res.table) < 1e-3
    (6, True)
    """
    import csv
    import io

    from .._io import save_figure, write_text
    from .reproduce_figures import draw

    t0 = time.perf_counter()
    target = get_target(name)
    spec = target.spec(profile)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    store_path = Path(store) if store is not None else out / f"{name}.db"
    result = run(spec, store_path, scheduler=scheduler, workers=workers, executor=executor, progress=progress)
    keys = {p.key for p in spec.points()}
    rows = [r for r in records(store_path, spec.measurement.name, "done")[1] if r["key"] in keys]
    table = comparison_table(target, rows)
    fig = draw(target, rows)
    figure = out / f"{name}.png"
    save_figure(fig, figure, dpi=130)
    from ..plotting import pyplot

    pyplot().close(fig)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["label", "paper", "ours", "relative_difference", "seeds", "note"],
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    table_csv = out / f"{name}.csv"
    write_text(table_csv, buf.getvalue())
    seconds = time.perf_counter() - t0
    report = out / f"{name}.md"
    write_text(report, "\n".join([
        f"# {target.title}", "", f"Paper: {target.paper}", "", target.description, "",
        f"Profile `{profile}`: {spec.size} runs ({len(spec.seeds)} seeds) of `{spec.measurement.name}` "
        f"({spec.code_version}); done {result.done}, failed {result.failed}, ran now {result.ran} "
        f"in {seconds:.1f} s.", "", f"![{name}]({figure.name})", "", "## The paper's numbers beside ours", "",
        _markdown_table(table), "## Grid", "", "```", _grid_text(target.spec_dict(profile)), "```", ""]))
    return Reproduction(name, profile, result, table, str(figure), str(report), str(table_csv), str(store_path),
                        seconds)


def _grid_text(spec: dict) -> str:
    lines = [f"measurement = {spec['sweep']['measurement']!r}", f"seeds = {spec['sweep']['seeds']!r}"]
    lines += [f"{k} = {v!r}" for k, v in spec["grid"].items()]
    return "\n".join(lines)
