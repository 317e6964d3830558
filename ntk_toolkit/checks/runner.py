"""Run checks and write the report directory (``report.md``, ``report.json``, PNG figures).

The report is written into a temporary folder beside ``out`` and renamed to
``out`` only when complete: an interrupted run leaves nothing under the final
name.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

from ._base import Check, CheckResult


def _fmt(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v == 0 or (1e-3 <= abs(v) < 1e5):
            return f"{v:.4g}"
        return f"{v:.3e}"
    if isinstance(value, (list, tuple, np.ndarray)):
        seq = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)
        shown = ", ".join(_fmt(x) for x in seq[:8])
        return "[" + shown + (", …" if len(seq) > 8 else "") + "]"
    return str(value)


def _fmt_dict(d: dict) -> str:
    return "; ".join(f"{k} = {_fmt(v)}" for k, v in d.items())


def run_one(check: Check, profile: str, seed: int, fault: str | None = None) -> CheckResult:
    """Run a check; an exception inside it becomes a FAIL carrying the traceback.

    Parameters
    ----------
    check : Check
    profile : {"tiny", "quick", "full"}
    seed : int
    fault : str, optional
        One of ``check.faults``, to inject a deliberate error.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> from ntk_toolkit.checks import Check, get_check, run_one
    >>> run_one(get_check("kernel.trig-basis"), profile="tiny", seed=0).verdict
    'PASS'
    >>> def broken(profile, seed, fault=None):
    ...     return 1 / 0
    >>> res = run_one(Check(name="example.broken", family="example", claim="c", reference="r", func=broken),
    ...               profile="tiny", seed=0)
    >>> res.verdict, res.measured["error"], "traceback" in res.data
    ('FAIL', 'ZeroDivisionError: division by zero', True)
    """
    t0 = time.perf_counter()
    try:
        return check.run(profile=profile, seed=seed, fault=fault)
    except Exception as exc:  # a broken check must not hide the others
        return CheckResult(
            name=check.name, claim=check.claim, reference=check.reference, predicted={},
            measured={"error": f"{type(exc).__name__}: {exc}"},
            criterion={"text": "the check ran to completion"}, passed=False,
            data={"traceback": traceback.format_exc()}, elapsed=time.perf_counter() - t0,
            profile=profile, seed=seed, fault=fault,
        )


def save_figures(check: Check, result: CheckResult, folder: Path) -> None:
    """Draw the check's figures and save them as PNG (and PDF if asked) in ``folder``."""
    if check.plot is None or not result.data or "traceback" in result.data:
        return
    from ..plotting import pyplot

    plt = pyplot()
    for stem, fig in check.plot(result):
        fname = f"{check.name}{'-' + stem if stem else ''}.png"
        fig.savefig(folder / fname, dpi=110, bbox_inches="tight")
        plt.close(fig)
        result.figures.append(fname)


def verify(checks: list[Check], profile: str = "quick", seed: int = 0, out="verify-report",
           progress: bool = True, figures: bool = True, on_result=None) -> list[CheckResult]:
    """Run ``checks`` and write a complete report to ``out`` (atomically).

    Parameters
    ----------
    checks : list of Check
    profile : {"tiny", "quick", "full"}
    seed : int
    out : path or None
        Report folder; ``None`` writes nothing.
    progress : bool
        Show a tqdm bar advancing per check.
    figures : bool
        Draw and save figures.
    on_result : callable, optional
        Called with each result as it completes.

    Returns
    -------
    list of CheckResult

    Examples
    --------
    One fast check at the ``tiny`` profile, the report written to a
    temporary folder (``out=None`` writes nothing):

    >>> import tempfile
    >>> from pathlib import Path
    >>> from ntk_toolkit.checks import select_checks, verify
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = Path(tmp) / "report"
    ...     results = verify(select_checks("kernel.trig-basis"), profile="tiny", out=out,
    ...                      progress=False, figures=False)
    ...     files = sorted(p.name for p in out.iterdir())
    >>> [(r.name, r.verdict) for r in results], files
    ([('kernel.trig-basis', 'PASS')], ['report.json', 'report.md'])
    """
    out_path = Path(out) if out is not None else None
    tmp = None
    if out_path is not None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_path.name}.partial-", dir=out_path.parent))
    results: list[CheckResult] = []
    t_start = time.perf_counter()
    try:
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(checks), desc="verify", unit="check", leave=False)
        try:
            for check in checks:
                if bar is not None:
                    bar.set_postfix_str(check.name)
                res = run_one(check, profile, seed)
                if tmp is not None and figures:
                    save_figures(check, res, tmp)
                results.append(res)
                if on_result is not None:
                    on_result(res)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        total = time.perf_counter() - t_start
        if tmp is not None:
            _write_report(tmp, results, profile, seed, total)
            _swap_into_place(tmp, out_path)
            tmp = None
        return results
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _swap_into_place(tmp: Path, out: Path) -> None:
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def environment() -> dict:
    import numba
    import scipy

    from .. import __version__

    return {"ntk_toolkit": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "numba": numba.__version__, "machine": platform.machine(),
            "processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "numba_threads": numba.get_num_threads()}


def report_dict(results: list[CheckResult], profile: str, seed: int, total: float) -> dict:
    return {
        "profile": profile, "seed": seed, "elapsed": total,
        "passed": sum(r.passed for r in results), "failed": sum(not r.passed for r in results),
        "all_passed": all(r.passed for r in results), "environment": environment(),
        "checks": [r.to_dict() for r in results],
    }


def _write_report(folder: Path, results, profile, seed, total) -> None:
    payload = report_dict(results, profile, seed, total)
    (folder / "report.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    (folder / "report.md").write_text(render_markdown(results, profile, seed, total), encoding="utf-8")


def render_markdown(results: list[CheckResult], profile: str, seed: int, total: float) -> str:
    n_pass = sum(r.passed for r in results)
    lines = [
        "# ntk_toolkit verification report", "",
        f"Profile `{profile}`, seed {seed}: **{n_pass} of {len(results)} checks passed** "
        f"in {total:.1f} s.", "",
        "| check | verdict | time (s) | claim |", "|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| [{r.name}](#{r.name.replace('.', '')}) | **{r.verdict}** | {r.elapsed:.1f} | {r.claim} |")
    lines.append("")
    for r in results:
        lines += [
            f"## {r.name}", "",
            f"**{r.verdict}** — {r.claim}", "",
            f"*Reference:* {r.reference}", "",
            "| | |", "|---|---|",
            f"| predicted | {_fmt_dict(r.predicted) or '—'} |",
            f"| measured | {_fmt_dict(r.measured) or '—'} |",
            f"| criterion | {r.criterion.get('text', '')} |",
        ]
        extra = {k: v for k, v in r.criterion.items() if k != "text"}
        if extra:
            lines.append(f"| thresholds | {_fmt_dict(extra)} |")
        lines.append(f"| verdict | **{r.verdict}** ({r.elapsed:.1f} s) |")
        lines.append("")
        for fig in r.figures:
            lines += [f"![{r.name}]({fig})", ""]
        if "traceback" in r.data:
            lines += ["```", str(r.data["traceback"]).rstrip(), "```", ""]
    return "\n".join(lines) + "\n"
