"""Sweep specifications: a measurement, a grid of its parameters, seeds and zip groups.

A spec is a TOML file (or the same structure as a Python dict) with a fixed layout, so
that specs are portable between machines and versions::

    [sweep]
    measurement = "fit_time"      # a registered name or "package.module:function"
    seeds = 3                     # a count (seeds 0, 1, 2) or a list of seeds
    name = "fit-speed"            # optional

    [grid]                        # Cartesian product of the listed values
    filter = ["triangle:2", "triangle:8"]
    n = [64]
    k = [512, 1024]
    signal = ["smooth", "noise"]

    [[zip]]                       # optional: parameters that vary together (equal lengths)
    steps = [2000, 20000]
    delta = [0.1, 0.01]

Every value of ``[grid]`` and of a zip group is a list, even a single one. The points are
the product of the grid axes and the zip groups, in the order the keys are written, each
run with every seed. Validation happens before anything runs and names the offending key.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .registry import Measurement, get_measurement

__all__ = ["SweepSpec", "SpecError", "Point", "load_spec", "canonical_json", "point_key"]

#: The top-level tables of a spec.
TOP_LEVEL = ("sweep", "grid", "zip")
#: The keys of the ``[sweep]`` table.
SWEEP_KEYS = ("measurement", "seeds", "name")


class SpecError(ValueError):
    """A sweep specification that cannot run; the message names the key.

    Examples
    --------
    >>> try:
    ...     load_spec({"sweep": {"measurement": "fit_time", "seeds": 0}})
    ... except SpecError as exc:
    ...     print(exc)
    sweep.seeds must be at least 1 (a count) or a non-empty list, got 0
    """


@dataclass(frozen=True)
class Point:
    """One run of a sweep: a measurement's full parameters (defaults filled in) and a seed.

    Attributes
    ----------
    measurement : str
    params : dict
        Every parameter of the measurement except ``seed``, defaults included.
    seed : int
    key : str
        :func:`point_key` of the three: the store's primary key.

    Examples
    --------
    >>> from ntk_toolkit.sweep import load_spec
    >>> spec = load_spec({"sweep": {"measurement": "spectrum_summary", "seeds": 1},
    ...                   "grid": {"filter": ["triangle:2"], "n": [32]}})
    >>> p = spec.points()[0]
    >>> p.params["n"], p.seed, len(p.key)
    (32, 0, 64)
    """

    measurement: str
    params: dict
    seed: int
    key: str


def canonical_json(obj) -> str:
    """JSON with sorted keys and no whitespace: the text that is hashed.

    Examples
    --------
    >>> canonical_json({"b": 1.0, "a": [1, "x"]})
    '{"a":[1,"x"],"b":1.0}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


def point_key(measurement: str, params: dict, seed: int) -> str:
    """SHA-256 (hex) of the canonical JSON of a point: the store's key of one (point, seed) row.

    The parameters must already be normalised (:meth:`Measurement.normalize`), so that
    ``1`` and ``1.0`` of a float parameter give the same key.

    Examples
    --------
    >>> point_key("fit_time", {"n": 64}, 0) == point_key("fit_time", {"n": 64}, 0)
    True
    >>> point_key("fit_time", {"n": 64}, 0) == point_key("fit_time", {"n": 64}, 1)
    False
    """
    text = canonical_json({"measurement": measurement, "params": params, "seed": int(seed)})
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: measurement, grid axes, zip groups and seeds.

    Build it with :func:`load_spec`. ``points()`` lists the runs in a deterministic order
    (grid axes and zip groups in the order given, the last varying fastest; seeds
    innermost).

    Attributes
    ----------
    measurement : Measurement
        The registered (or imported) measurement.
    grid : dict
        Parameter -> tuple of values (normalised to the parameter's type).
    zips : tuple of dict
        Each a group of parameters -> tuples of equal length.
    seeds : tuple of int
    name : str

    Examples
    --------
    >>> spec = load_spec({"sweep": {"measurement": "spectrum_summary", "seeds": [3, 4]},
    ...                   "grid": {"filter": ["triangle:2", "triangle:4"], "n": [16, 32]}})
    >>> len(spec.points()), spec.size
    (8, 8)
    >>> spec.code_version
    'spectrum_summary/1'
    """

    measurement: Measurement
    grid: dict
    zips: tuple
    seeds: tuple
    name: str = ""
    source: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def code_version(self) -> str:
        """The measurement's code version (a store refuses to mix versions unless told to)."""
        return self.measurement.code_version

    @property
    def size(self) -> int:
        """Number of (point, seed) runs."""
        n = len(self.seeds)
        for values in self.grid.values():
            n *= len(values)
        for group in self.zips:
            n *= len(next(iter(group.values())))
        return n

    def to_dict(self) -> dict:
        """The normalised spec in the TOML layout (lists, defaults not filled in)."""
        out = {"sweep": {"measurement": self.measurement.name, "seeds": list(self.seeds)},
               "grid": {k: list(v) for k, v in self.grid.items()}}
        if self.name:
            out["sweep"]["name"] = self.name
        if self.zips:
            out["zip"] = [{k: list(v) for k, v in g.items()} for g in self.zips]
        return out

    @property
    def spec_hash(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict` plus the code version."""
        text = canonical_json({"spec": self.to_dict(), "code_version": self.code_version})
        return hashlib.sha256(text.encode()).hexdigest()

    def points(self) -> list[Point]:
        """All (point, seed) runs, in order."""
        axes = [[{name: v} for v in values] for name, values in self.grid.items()]
        for group in self.zips:
            names = list(group)
            axes.append([dict(zip(names, vals)) for vals in zip(*(group[k] for k in names))])
        out = []
        name = self.measurement.name
        for combo in itertools.product(*axes):
            given = {}
            for part in combo:
                given.update(part)
            params = self.measurement.with_defaults(given)
            for seed in self.seeds:
                out.append(Point(name, params, seed, point_key(name, params, seed)))
        return out


def _read_toml(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"spec file {str(path)!r} is not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"spec file {str(path)!r} is not a UTF-8 TOML file: {exc}") from exc


#: The most seeds a sweep may ask for (a count beyond it is a typo, not a sweep).
MAX_SEEDS = 100_000


def _seeds(value) -> tuple[int, ...]:
    if isinstance(value, bool) or not isinstance(value, (int, list, tuple)):
        raise SpecError(f"sweep.seeds must be a positive count or a list of non-negative integer seeds, "
                        f"got {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise SpecError(f"sweep.seeds must be at least 1 (a count) or a non-empty list, got {value}")
        if value > MAX_SEEDS:
            raise SpecError(f"sweep.seeds must be a count of at most {MAX_SEEDS}, got {value}")
        return tuple(range(value))
    if not value:
        raise SpecError("sweep.seeds is an empty list: give a count >= 1 or at least one seed")
    for s in value:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise SpecError(f"sweep.seeds: every seed must be a non-negative integer, got {s!r} in {value!r}")
    if len(set(value)) != len(value):
        raise SpecError(f"sweep.seeds lists a seed twice: {value!r}")
    return tuple(value)


def _values(meas: Measurement, where: str, name: str, values) -> tuple:
    if not isinstance(values, (list, tuple)):
        raise SpecError(f"{where}.{name} must be a list of values (write [{values!r}] for a single value), "
                        f"got {values!r}")
    if len(values) == 0:
        raise SpecError(f"{where}.{name} is an empty list: give at least one value")
    out = []
    for v in values:
        try:
            out.append(meas.check_value(name, v))
        except (TypeError, ValueError) as exc:
            raise SpecError(f"{where}.{name}: {exc}") from exc
    if len(set(map(canonical_json, out))) != len(out):
        raise SpecError(f"{where}.{name} lists a value twice: {values!r}")
    return tuple(out)


def _check_name(meas: Measurement, where: str, name: str, seen: set) -> None:
    if name == "seed":
        raise SpecError(f"{where}.seed: seeds are given by sweep.seeds, not as a parameter")
    if name not in meas.params:
        raise SpecError(f"{where}.{name}: unknown parameter of measurement {meas.name!r}; "
                        f"its parameters are {', '.join(meas.params)}")
    if name in seen:
        raise SpecError(f"{where}.{name}: parameter {name!r} is given twice (grid and zip groups must not overlap)")
    seen.add(name)


def load_spec(source) -> SweepSpec:
    """Read and validate a sweep spec from a TOML file, TOML text or a dict.

    Parameters
    ----------
    source : str, os.PathLike or dict
        A path to a ``.toml`` file, TOML text (a string containing ``[sweep]``), or a
        dict with the same layout (tables ``sweep``, ``grid``, optional ``zip``).

    Returns
    -------
    SweepSpec

    Raises
    ------
    SpecError
        (a :class:`ValueError`) naming the key: unknown table or key, unknown measurement
        or parameter, a grid value that is not a non-empty list, a value of the wrong
        type, zip groups of unequal lengths, seeds not a positive count or list, a
        required parameter missing.

    Examples
    --------
    >>> spec = load_spec('''
    ... [sweep]
    ... measurement = "fit_time"
    ... seeds = 2
    ... [grid]
    ... filter = ["triangle:2"]
    ... n = [32]
    ... k = [64, 128]
    ... signal = ["smooth", "noise"]
    ... ''')
    >>> spec.size, spec.points()[0].params["omega"]
    (8, 1.0)
    >>> load_spec({"sweep": {"measurement": "fit_time", "seeds": 1}, "grid": {"width": [2]}})
    Traceback (most recent call last):
    ...
    ntk_toolkit.sweep.spec.SpecError: grid.width: unknown parameter of measurement 'fit_time'; ...
    """
    if isinstance(source, dict):
        raw = source
    elif isinstance(source, str) and "[sweep]" in source:
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib
        try:
            raw = tomllib.loads(source)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"spec text is not valid TOML: {exc}") from exc
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise SpecError(f"spec file {str(path)!r} does not exist (give a .toml file or a dict)")
        raw = _read_toml(path)
    else:
        raise TypeError(f"source must be a path, TOML text or a dict, got {type(source).__name__}")
    for key in raw:
        if key not in TOP_LEVEL:
            raise SpecError(f"{key}: unknown table of a sweep spec; the tables are [sweep], [grid] and [[zip]]")
    sweep = raw.get("sweep")
    if not isinstance(sweep, dict):
        raise SpecError("sweep: a spec needs a [sweep] table with measurement and seeds")
    for key in sweep:
        if key not in SWEEP_KEYS:
            raise SpecError(f"sweep.{key}: unknown key; [sweep] has {', '.join(SWEEP_KEYS)}")
    if "measurement" not in sweep:
        raise SpecError("sweep.measurement is missing: a registered name (ntk_toolkit.sweep.MEASUREMENTS) "
                        "or 'package.module:function'")
    try:
        meas = get_measurement(sweep["measurement"])
    except (KeyError, ValueError, TypeError, ImportError, AttributeError) as exc:
        raise SpecError(f"sweep.measurement: {exc}") from exc
    if "seeds" not in sweep:
        raise SpecError("sweep.seeds is missing: a count (e.g. 3) or a list of seeds")
    seeds = _seeds(sweep["seeds"])
    name = sweep.get("name", "")
    if not isinstance(name, str):
        raise SpecError(f"sweep.name must be a string, got {name!r}")
    grid_raw = raw.get("grid", {})
    if not isinstance(grid_raw, dict):
        raise SpecError(f"grid must be a table of parameter = [values], got {grid_raw!r}")
    seen: set = set()
    grid = {}
    for pname, values in grid_raw.items():
        _check_name(meas, "grid", pname, seen)
        grid[pname] = _values(meas, "grid", pname, values)
    zips_raw = raw.get("zip", [])
    if isinstance(zips_raw, dict):
        zips_raw = [zips_raw]
    if not isinstance(zips_raw, list):
        raise SpecError(f"zip must be a list of tables ([[zip]]), got {zips_raw!r}")
    zips = []
    for i, group in enumerate(zips_raw):
        where = f"zip[{i}]"
        if not isinstance(group, dict) or not group:
            raise SpecError(f"{where} must be a non-empty table of parameter = [values], got {group!r}")
        g = {}
        for pname, values in group.items():
            _check_name(meas, where, pname, seen)
            if not isinstance(values, (list, tuple)):
                raise SpecError(f"{where}.{pname} must be a list of values, got {values!r}")
            g[pname] = tuple(_values(meas, where, pname, [v])[0] for v in values)
            if not g[pname]:
                raise SpecError(f"{where}.{pname} is an empty list: give at least one value")
        lengths = {k: len(v) for k, v in g.items()}
        if len(set(lengths.values())) != 1:
            raise SpecError(f"{where}: the lists of a zip group must have equal lengths, got {lengths}")
        zips.append(g)
    missing = [p for p, par in meas.params.items() if par.required and p not in seen]
    if missing:
        raise SpecError(f"grid.{missing[0]}: measurement {meas.name!r} needs {', '.join(missing)} "
                        f"(no default); add them to [grid]")
    return SweepSpec(meas, grid, tuple(zips), seeds, name, dict(raw))

