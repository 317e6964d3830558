"""Rows, targets, the Markdown table and the JSON document of a benchmark run."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._timing import CONTENTION_CORES, Stats, fmt_bytes, fmt_time

__all__ = ["BenchReport", "Row", "format_table", "target_text"]


@dataclass
class Row:
    """One line of the benchmark table: ntk_toolkit against one reference.

    Attributes
    ----------
    section : str
        ``kernel``, ``gd``, ``spectrum``, ``images``, ``symbolic``, ``sweep`` or ``startup``.
    operation : str
    size : tuple of int
        ``(n, k)``, ``(n,)`` or ``()``; for images ``(H, W, k)`` or ``(H, W)``.
    dtype : str
    ours : Stats or None
        ntk_toolkit's time (seconds per call, or per step for gradient descent).
    status : str
        ``ok`` or why ``ours`` is missing (``time-out``, ``out of memory``, ...).
    reference : str or None
        What ntk_toolkit is compared with (in-repo naive code, a peer library,
        a bound).
    ref : Stats or None
        The reference's time, measured in the same run.
    ref_status : str
        ``ok``, ``time-out``, ``out of memory``, ``disagrees``, ``not installed``,
        ``error`` or ``n/a``.
    ratio : float or None
        ``ref.median / ours.median``: how many times faster ntk_toolkit is.
    peak_bytes : int or None
        Peak extra memory of ntk_toolkit's call (peak RSS minus RSS before).
    peak_x_C : float or None
        ``peak_bytes / C.nbytes``.
    target : dict or None
        Any of ``max_s`` (time), ``max_x_C`` (memory), ``min_ratio``.
    met : bool or None
        Whether every part of ``target`` holds (None without a target).
    details : dict
        Agreement with the reference, steps, bytes moved, messages ...

    Examples
    --------
    The rows of a :func:`~ntk_toolkit.bench.run_suite` report (here one
    section at quick sizes; quick mode checks no targets):

    >>> import numpy as np
    >>> from ntk_toolkit.bench import run_suite
    >>> row = run_suite(quick=True, sections=["spectrum"], threads=1).rows[0]
    >>> row.section, row.size, row.status, row.ref_status, row.met
    ('spectrum', (65536,), 'ok', 'ok', None)
    >>> bool(np.isclose(row.ratio, row.ref.median / row.ours.median)), row.details["ref_rel_diff"] < 1e-12
    (True, True)
    >>> sorted(row.to_dict())[:4]
    ['details', 'dtype', 'met', 'ntk_toolkit']
    """

    section: str
    operation: str
    size: tuple = ()
    dtype: str = "float64"
    ours: Stats | None = None
    status: str = "ok"
    reference: str | None = None
    ref: Stats | None = None
    ref_status: str = "n/a"
    ratio: float | None = None
    peak_bytes: int | None = None
    peak_x_C: float | None = None
    target: dict | None = None
    met: bool | None = None
    details: dict = field(default_factory=dict)

    def finish(self, with_target: bool = True) -> Row:
        """Compute ``ratio`` and ``met`` (dropping the target when ``with_target`` is False)."""
        if self.ratio is None and self.ours is not None and self.ref is not None and self.ref_status == "ok":
            self.ratio = self.ref.median / self.ours.median if self.ours.median > 0 else None
        if not with_target:
            self.target = None
        if self.target:
            checks = []
            if "max_s" in self.target:
                checks.append(self.ours is not None and self.ours.median <= self.target["max_s"])
            if "max_x_C" in self.target:
                checks.append(self.peak_x_C is not None and self.peak_x_C <= self.target["max_x_C"])
            if "min_ratio" in self.target:
                checks.append(self.ratio is not None and self.ratio >= self.target["min_ratio"])
            self.met = all(checks)
        return self

    @property
    def other_cores(self) -> float | None:
        vals = [s.other_cores for s in (self.ours, self.ref) if s is not None and s.other_cores is not None]
        return max(vals) if vals else None

    def to_dict(self) -> dict:
        return {
            "section": self.section, "operation": self.operation, "size": list(self.size), "dtype": self.dtype,
            "ntk_toolkit": None if self.ours is None else self.ours.to_dict(), "status": self.status,
            "reference": self.reference, "reference_time": None if self.ref is None else self.ref.to_dict(),
            "reference_status": self.ref_status, "ratio": self.ratio, "peak_bytes": self.peak_bytes,
            "peak_x_C": self.peak_x_C, "target": self.target, "met": self.met, "details": self.details,
        }


def target_text(target: dict | None) -> str:
    """``≤ 10 s, ≤ 3× C, ≥ 200×`` (``—`` without a target).

    Examples
    --------
    >>> from ntk_toolkit.bench.report import target_text
    >>> target_text({"max_s": 10.0, "max_x_C": 3.0}), target_text({"min_ratio": 200.0}), target_text(None)
    ('≤ 10.00 s, ≤ 3× C', '≥ 200×', '—')
    """
    if not target:
        return "—"
    parts = []
    if "max_s" in target:
        parts.append(f"≤ {fmt_time(target['max_s'])}")
    if "max_x_C" in target:
        parts.append(f"≤ {target['max_x_C']:g}× C")
    if "min_ratio" in target:
        parts.append(f"≥ {target['min_ratio']:g}×")
    return ", ".join(parts)


def _size(size) -> str:
    return str(tuple(size)) if size else "—"


def _label(row: Row) -> str:
    text = f"{row.operation} {_size(row.size)} {row.dtype}"
    return text + (f" vs {row.reference}" if row.reference else "")


def _ratio(r: float | None) -> str:
    if r is None:
        return "—"
    return f"{r:.3g}×" if r < 1000 else f"{r:,.0f}×"


def _ref_cell(row: Row) -> str:
    if row.ref_status == "ok" and row.ref is not None:
        return str(row.ref)
    if row.ref_status == "disagrees":
        return f"disagrees ({row.details.get('ref_rel_diff', float('nan')):.1e})"
    return row.ref_status if row.reference else "—"


def _mem_cell(row: Row) -> str:
    if row.peak_bytes is None:
        return "—"
    if row.peak_x_C is None:
        return fmt_bytes(row.peak_bytes)
    return f"{fmt_bytes(row.peak_bytes)} = {row.peak_x_C:.2f}× C"


def format_table(rows: list[Row]) -> str:
    """The rows as a Markdown table.

    Examples
    --------
    A row without a time shows its status in the ntk_toolkit column (the
    header is wrapped here; it is one line):

    >>> from ntk_toolkit.bench import Row, format_table
    >>> print(format_table([Row("startup", "import ntk_toolkit", status="time-out")]))
    | operation | size | dtype | ntk_toolkit median [min–max] | reference | reference median | ratio
      | peak memory | target | met | load |
    |---|---|---|---|---|---|---|---|---|---|---|
    | import ntk_toolkit | — | float64 | time-out | — | — | — | — | — | — | ? |
    """
    head = ("| operation | size | dtype | ntk_toolkit median [min–max] | reference | reference median "
            "| ratio | peak memory | target | met | load |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for row in rows:
        ours = str(row.ours) if row.status == "ok" and row.ours is not None else row.status
        met = {None: "—", True: "yes", False: "**NO**"}[row.met]
        load = row.other_cores
        load_s = "?" if load is None else f"{load:.2f}" + (" ⚠" if load > CONTENTION_CORES else "")
        lines.append(f"| {row.operation} | {_size(row.size)} | {row.dtype} | {ours} | {row.reference or '—'} | "
                     f"{_ref_cell(row)} | {_ratio(row.ratio)} | {_mem_cell(row)} | {target_text(row.target)} | "
                     f"{met} | {load_s} |")
    return "\n".join(lines)


@dataclass
class BenchReport:
    """Everything one benchmark run measured.

    Attributes
    ----------
    mode : str
        ``quick`` or ``full``.
    threads : int
    peers : bool
    environment : dict
        Versions, CPU, memory, thread count, load average before and after.
    bandwidth : dict or None
        Copy bandwidth (see :func:`ntk_toolkit.bench._timing.copy_bandwidth`).
    rows : list of Row
    notes : list of str
    hints : list of str
    wall_s : float

    Examples
    --------
    Returned by :func:`~ntk_toolkit.bench.run_suite`; :meth:`to_dict` is the
    JSON document and :meth:`to_markdown` the report:

    >>> from ntk_toolkit.bench import run_suite
    >>> report = run_suite(quick=True, sections=["spectrum"], threads=1)
    >>> report.mode, report.threads, report.peers, len(report.rows), report.missed
    ('quick', 1, False, 1, [])
    >>> sorted(report.to_dict())
    ['bandwidth', 'environment', 'hints', 'mode', 'notes', 'peers', 'results', 'targets', 'threads', 'wall_s']
    >>> report.to_markdown().splitlines()[0]
    '## ntk_toolkit benchmarks (quick mode, 1 threads)'
    """

    mode: str
    threads: int
    peers: bool
    environment: dict
    bandwidth: dict | None = None
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    hints: list = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def missed(self) -> list[Row]:
        return [r for r in self.rows if r.met is False]

    def to_dict(self) -> dict:
        return {
            "mode": self.mode, "threads": self.threads, "peers": self.peers, "wall_s": self.wall_s,
            "environment": self.environment, "bandwidth": self.bandwidth,
            "results": [r.to_dict() for r in self.rows],
            "targets": {"checked": sum(r.met is not None for r in self.rows),
                        "met": sum(r.met is True for r in self.rows),
                        "missed": [_label(r) for r in self.missed]},
            "notes": self.notes, "hints": self.hints,
        }

    def to_markdown(self) -> str:
        env = self.environment
        out = [f"## ntk_toolkit benchmarks ({self.mode} mode, {self.threads} threads)", ""]
        out.append(f"{env['cpu']}, {env['cpu_count']} CPUs, {self.threads} threads for every library; "
                   f"Python {env['python']}, NumPy {env['numpy']}, SciPy {env['scipy']}, Numba {env['numba']}, "
                   f"torch {env.get('torch') or '—'}, jax {env.get('jax') or '—'}, "
                   f"ntk_toolkit {env['ntk_toolkit']}. Load average before {env.get('load_average')}, "
                   f"after {env.get('load_average_after')}; {self.wall_s:.0f} s in all.")
        out += ["", format_table(self.rows)]
        notes = ["ratio = reference time ÷ ntk_toolkit time (above 1: ntk_toolkit is faster); gradient "
                 "descent is timed per step; peak memory = peak RSS during the call minus RSS before it "
                 "(includes the returned array), also as a multiple of C.nbytes",
                 f"load = average number of cores used by other processes while timing; ⚠ above "
                 f"{CONTENTION_CORES} cores means the times are inflated by contention"]
        notes += self.notes
        contended = list(dict.fromkeys(f"{r.operation} {_size(r.size)} {r.dtype}" for r in self.rows
                                       if (r.other_cores or 0) > CONTENTION_CORES))
        if contended:
            notes.append("other processes were busy during: " + "; ".join(contended)
                         + ". Re-run on an idle machine (or with --wait-idle) before trusting these numbers")
        if self.missed:
            notes.append("targets missed: " + "; ".join(_label(r) for r in self.missed))
        out += ["", "Notes:", *(f"* {s}" for s in notes)]
        if self.hints:
            out += ["", *self.hints]
        return "\n".join(out) + "\n"
