"""Parameter sweeps: a spec (TOML or dict) over a registered measurement, a resumable SQLite store,
local processes by default and Dask for clusters, and the papers' figures as shipped specs.

* :func:`load_spec` — read and validate a spec (:mod:`ntk_toolkit.sweep.spec`).
* :data:`MEASUREMENTS`, :func:`register_measurement` — the measurements a spec can name
  (:mod:`~ntk_toolkit.sweep.measurements`, :mod:`~ntk_toolkit.sweep.image_measurements`), or any
  ``"package.module:function"``.
* :class:`Store` — one SQLite file, one row per (point, seed).
* :func:`run` — the pending points on a local process pool, a Dask cluster or any executor.
* :func:`load`, :func:`export`, :func:`status`, :func:`plot` — the results.
* :mod:`ntk_toolkit.sweep.reproduce` — the papers' figures (``ntk-toolkit reproduce``).

See the guide page ``docs/guide/sweeps.md``.
"""

from __future__ import annotations

from .execution import SweepResult, run, run_point
from .registry import MEASUREMENTS, Measurement, Param, get_measurement, register_measurement
from .results import aggregate, export, load, plot, records, status
from .spec import Point, SpecError, SweepSpec, load_spec
from .store import Store, StoreError

__all__ = ["MEASUREMENTS", "Measurement", "Param", "Point", "SpecError", "Store", "StoreError", "SweepResult",
           "SweepSpec", "aggregate", "export", "get_measurement", "load", "load_spec", "plot", "records",
           "register_measurement", "run", "run_point", "status"]
