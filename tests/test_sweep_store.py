"""The sweep store: refuses files that are not stores, refuses mixed code versions, survives
concurrent writers, keeps one row per (point, seed)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from sweep_helpers import subprocess_env

from ntk_toolkit.sweep import Store, StoreError, load_spec, records, run
from ntk_toolkit.sweep.registry import Measurement


def square_spec(xs, seeds=2, name=""):
    return load_spec({"sweep": {"measurement": "sweep_helpers:noisy_square", "seeds": seeds, "name": name},
                      "grid": {"x": list(xs)}})


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    text = tmp_path / "spec.toml"
    text.write_text("[sweep]\nmeasurement = 'fit_time'\n" * 50)
    with pytest.raises(StoreError, match="is not a sweep store"):
        Store(text)
    assert text.read_text().startswith("[sweep]")  # left untouched
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE t (a)")
    with pytest.raises(StoreError, match="is an SQLite file but not a sweep store"):
        Store(other)
    with pytest.raises(StoreError, match="is a directory"):
        Store(tmp_path)


def test_new_store_is_wal_and_reopens(tmp_path):
    path = tmp_path / "sub" / "s.db"
    with Store(path) as st:
        assert st.counts() == {"done": 0, "failed": 0}
    with Store(path) as st:
        assert st._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_one_row_per_point_and_seed_and_replacement(tmp_path):
    spec = square_spec([1, 2], seeds=3)
    with Store(tmp_path / "s.db") as st:
        st.register_spec(spec)
        p = spec.points()[0]
        st.write(p, {"status": "failed", "traceback": "boom"}, spec)
        st.write(p, {"status": "done", "metrics": {"square": 1.0}}, spec)
        rows = st.rows()
        assert len(rows) == 1 and rows[0]["status"] == "done" and rows[0]["metrics"] == {"square": 1.0}
        assert rows[0]["params"] == p.params and rows[0]["seed"] == p.seed and rows[0]["spec_hash"] == spec.spec_hash
        with pytest.raises(ValueError, match="status must be one of"):
            st.write(p, {"status": "maybe"}, spec)


def test_mixing_code_versions_is_refused_unless_allowed(tmp_path):
    spec = square_spec([1, 2])
    run(spec, tmp_path / "s.db", scheduler="serial")
    m = spec.measurement
    changed = type(spec)(Measurement(m.name, m.func, m.params, m.name + "/other"), spec.grid, spec.zips, spec.seeds)
    with pytest.raises(StoreError, match=r"code version\(s\) sweep_helpers:noisy_square/.*allow_mixed"):
        run(changed, tmp_path / "s.db", scheduler="serial")
    res = run(changed, tmp_path / "s.db", scheduler="serial", allow_mixed=True)
    assert res.skipped == 4 and res.ran == 0  # the rows of the other version count as done when mixing


def test_concurrent_writers_do_not_corrupt_the_store(tmp_path):
    """Two processes run different specs into one store at the same time."""
    store = tmp_path / "shared.db"
    specs = []
    for i, xs in enumerate(([float(x) for x in range(40)], [float(x) + 0.5 for x in range(40)])):
        path = tmp_path / f"spec{i}.toml"
        path.write_text(f'[sweep]\nmeasurement = "sweep_helpers:noisy_square"\nseeds = 2\n[grid]\nx = {xs}\n')
        specs.append(path)
    code = ("import sys; from ntk_toolkit.sweep import run; "
            "r = run(sys.argv[1], sys.argv[2], scheduler='serial'); print(r.done, r.failed)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(s), str(store)], env=subprocess_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in specs]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [o[0].split() for o in outs] == [["80", "0"], ["80", "0"]]
    with sqlite3.connect(store) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    cols, rows = records(store)
    assert len(rows) == 160 and len({r["key"] for r in rows}) == 160
    assert all(r["status"] == "done" and r["square"] == r["x"] ** 2 for r in rows)
    with Store(store) as st:
        assert len(st.specs()) == 2
