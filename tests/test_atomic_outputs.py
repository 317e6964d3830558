"""Every file the CLI writes is written atomically; an interrupted ``verify`` leaves the previous report.

design.md §6: results and reports are written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "ntk_toolkit"

#: Calls that write a file directly.
WRITES = re.compile(r"\.write_text\(|\.write_bytes\(|\.savefig\(|\bopen\([^)]*['\"][wa]b?['\"]|np\.save|json\.dump\(")

#: Where direct writes are allowed: the atomic helpers themselves, the verify runner (it writes into a
#: temporary folder that replaces the report folder in one rename), and the benchmark's child process
#: (it writes to /proc, not a file of the user).
ALLOWED = {"_io.py", "checks/runner.py", "bench/_child.py"}


def test_cli_and_library_write_files_only_through_the_atomic_helpers():
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        if rel in ALLOWED:
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if WRITES.search(code) and ">>>" not in line:
                offenders.append(f"{rel}:{i}: {line.strip()}")
    assert not offenders, "direct file writes (use ntk_toolkit._io):\n" + "\n".join(offenders)


def test_pattern_catches_direct_writes():
    assert WRITES.search('Path(p).write_text("x")') and WRITES.search("fig.savefig(p)")
    assert WRITES.search('open(p, "w")') and not WRITES.search('open(p, "r")')


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_during_verify_keeps_the_previous_report(tmp_path):
    out = tmp_path / "rep"
    out.mkdir()
    (out / "report.md").write_text("previous report\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "ntk_toolkit", "verify", "--profile", "quick", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(p.name.startswith(".rep.partial-") for p in tmp_path.iterdir()):
            time.sleep(0.1)  # the run has started writing into its temporary folder
        time.sleep(1.0)
        assert proc.poll() is None, "verify finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert (out / "report.md").read_text() == "previous report\n"
    assert sorted(p.name for p in out.iterdir()) == ["report.md"]
    assert [p.name for p in tmp_path.iterdir()] == ["rep"], "a partial report folder was left behind"
