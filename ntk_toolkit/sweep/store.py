"""The sweep store: one SQLite file (WAL mode), one row per (point, seed).

Each row is keyed by :func:`~ntk_toolkit.sweep.spec.point_key` (a SHA-256 of the measurement, its
full parameters and the seed) and holds the parameters, the metrics, the status (``done`` or
``failed`` with the traceback), the wall time, the host, the toolkit version, the measurement's
code version and the hash of the spec that produced it. Every write is its own transaction, so a
killed run loses at most the points in flight, never a finished one; several processes may
write one store at once (SQLite's locking; writers wait up to ``timeout`` seconds).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

__all__ = ["Store", "StoreError", "STATUSES"]

#: The ``format`` recorded in a store's ``meta`` table; a file without it is not a sweep store.
FORMAT = "ntk_toolkit.sweep"
#: Version of the table layout.
SCHEMA_VERSION = "1"
#: The statuses of a row.
STATUSES = ("done", "failed")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE specs (spec_hash TEXT PRIMARY KEY, measurement TEXT NOT NULL, code_version TEXT NOT NULL,
                    spec TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE points (key TEXT PRIMARY KEY, measurement TEXT NOT NULL, code_version TEXT NOT NULL,
                     params TEXT NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL, metrics TEXT,
                     traceback TEXT, wall_time REAL, host TEXT, toolkit_version TEXT, spec_hash TEXT,
                     finished REAL);
CREATE INDEX points_measurement ON points (measurement, status);
"""


class StoreError(ValueError):
    """A file that is not a sweep store, or a write the store refuses (mixed code versions).

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with open(os.path.join(d, "notes.txt"), "w") as fh:
    ...         _ = fh.write("some notes " * 100)
    ...     try:
    ...         Store(os.path.join(d, "notes.txt"))
    ...     except StoreError as exc:
    ...         print("not a sweep store" in str(exc))
    True
    """


class Store:
    """A sweep store in one SQLite file.

    Parameters
    ----------
    path : str or os.PathLike
        The file; created (with its directory) if missing. An existing file must be a sweep
        store.
    timeout : float, default 60
        Seconds a writer waits for another process's transaction.

    Raises
    ------
    StoreError
        (a :class:`ValueError`) if the file exists and is not a sweep store.

    Notes
    -----
    Only the process driving a sweep writes; workers return plain dicts
    (:func:`ntk_toolkit.sweep.run`). WAL journal with ``synchronous=NORMAL``: a committed row
    survives the death of the process. Cost per written row: one transaction (well under a
    millisecond on a local disk; measured in ``docs/benchmarks.md``).

    Examples
    --------
    >>> import tempfile, os
    >>> from ntk_toolkit.sweep import Store, load_spec
    >>> spec = load_spec({"sweep": {"measurement": "spectrum_summary", "seeds": 1},
    ...                   "grid": {"filter": ["delta"], "n": [8]}})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with Store(os.path.join(d, "s.db")) as store:
    ...         store.register_spec(spec)
    ...         p = spec.points()[0]
    ...         store.write(p, {"status": "done", "metrics": {"x": 1.0}}, spec)
    ...         store.counts()
    {'done': 1, 'failed': 0}
    """

    def __init__(self, path, timeout: float = 60.0):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path, got {type(path).__name__}")
        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(f"store {str(self.path)!r} is a directory, not a sweep store file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(f"{str(self.path)!r} is not a sweep store ({exc}); give a new file name or a "
                             "store written by ntk_toolkit.sweep") from exc
        except StoreError:
            self._conn.close()
            raise

    def _open(self) -> None:
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        c.execute(statement)
                c.executemany("INSERT INTO meta VALUES (?, ?)",
                              [("format", FORMAT), ("schema_version", SCHEMA_VERSION)])
            else:
                row = None
                if "meta" in tables:
                    row = c.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
                if row is None or row[0] != FORMAT:
                    raise StoreError(f"{str(self.path)!r} is an SQLite file but not a sweep store "
                                     f"(tables: {', '.join(sorted(tables))}); give a new file name")
                version = c.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if version is None or version[0] != SCHEMA_VERSION:
                    raise StoreError(f"{str(self.path)!r} has store layout {version and version[0]!r}; this "
                                     f"version of ntk_toolkit reads layout {SCHEMA_VERSION!r}")
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("PRAGMA journal_mode = WAL")
        c.execute("PRAGMA synchronous = NORMAL")

    # ------------------------------------------------------------------ context
    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # ------------------------------------------------------------------ writing
    def register_spec(self, spec, allow_mixed: bool = False) -> None:
        """Record ``spec``; refuse it if the store holds rows of its measurement from another code version.

        Parameters
        ----------
        spec : SweepSpec
        allow_mixed : bool, default False
            Accept rows of other code versions of the same measurement (they then count as
            done for this spec's points that they share).

        Raises
        ------
        StoreError
            Naming the versions found and how to proceed.
        """
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            other = [r[0] for r in c.execute(
                "SELECT DISTINCT code_version FROM points WHERE measurement = ? AND code_version != ?",
                (spec.measurement.name, spec.code_version))]
            if other and not allow_mixed:
                raise StoreError(
                    f"store {str(self.path)!r} holds {spec.measurement.name!r} points from code version(s) "
                    f"{', '.join(other)}, but this spec runs {spec.code_version}; use a new store, or pass "
                    "allow_mixed=True (--allow-mixed) to mix them")
            c.execute("INSERT OR IGNORE INTO specs VALUES (?, ?, ?, ?, ?)",
                      (spec.spec_hash, spec.measurement.name, spec.code_version,
                       json.dumps(spec.to_dict(), sort_keys=True), time.time()))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def write(self, point, result: dict, spec) -> None:
        """Write one finished (point, seed), replacing an earlier row of the same key, in one transaction.

        Parameters
        ----------
        point : Point
        result : dict
            ``status`` (``done``/``failed``) and optionally ``metrics`` (dict), ``traceback``,
            ``wall_time``, ``host``, ``toolkit_version``.
        spec : SweepSpec
            Gives the code version and the spec hash.
        """
        status = result.get("status")
        if status not in STATUSES:
            raise ValueError(f"result status must be one of {STATUSES}, got {status!r}")
        metrics = result.get("metrics")
        row = (point.key, point.measurement, spec.code_version, json.dumps(point.params, sort_keys=True),
               int(point.seed), status, None if metrics is None else json.dumps(metrics, sort_keys=True),
               result.get("traceback"), result.get("wall_time"), result.get("host"),
               result.get("toolkit_version"), spec.spec_hash, time.time())
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute("INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ reading
    def statuses(self, measurement: str | None = None) -> dict[str, str]:
        """``key -> status`` of every row (of one measurement)."""
        if measurement is None:
            cur = self._conn.execute("SELECT key, status FROM points")
        else:
            cur = self._conn.execute("SELECT key, status FROM points WHERE measurement = ?", (measurement,))
        return dict(cur.fetchall())

    def counts(self, spec=None) -> dict[str, int]:
        """Rows per status: of the whole store, or of the points of ``spec``."""
        out = dict.fromkeys(STATUSES, 0)
        if spec is None:
            for status, n in self._conn.execute("SELECT status, COUNT(*) FROM points GROUP BY status"):
                out[status] = n
            return out
        st = self.statuses(spec.measurement.name)
        for p in spec.points():
            if p.key in st:
                out[st[p.key]] += 1
        return out

    def specs(self) -> list[dict]:
        """The specs recorded in the store: hash, measurement, code version, spec (dict), time."""
        cur = self._conn.execute("SELECT spec_hash, measurement, code_version, spec, created FROM specs "
                                 "ORDER BY created")
        return [{"spec_hash": h, "measurement": m, "code_version": v, "spec": json.loads(s), "created": t}
                for h, m, v, s, t in cur]

    def rows(self, measurement: str | None = None, status: str | None = None) -> list[dict]:
        """All rows (optionally of one measurement and status) as dicts, ordered by key.

        ``params`` and ``metrics`` are decoded dicts (``metrics`` is ``None`` for failed rows).
        """
        sql, args, where = "SELECT * FROM points", [], []
        if measurement is not None:
            where.append("measurement = ?")
            args.append(measurement)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if where:
            sql += " WHERE " + " AND ".join(where)
        cur = self._conn.execute(sql + " ORDER BY key", args)
        names = [d[0] for d in cur.description]
        out = []
        for r in cur:
            row = dict(zip(names, r))
            row["params"] = json.loads(row["params"])
            row["metrics"] = None if row["metrics"] is None else json.loads(row["metrics"])
            out.append(row)
        return out
