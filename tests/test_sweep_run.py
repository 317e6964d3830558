"""Running sweeps: resume after SIGKILL, failures and --retry-failed, local pool vs Dask LocalCluster,
user executors, bounded batches, determinism."""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from sweep_helpers import ROOT, subprocess_env

from ntk_toolkit.sweep import Store, load_spec, records, run

FIT = {"sweep": {"measurement": "fit_time", "seeds": 2},
       "grid": {"filter": ["triangle:1", "triangle:2", "triangle:3"], "n": [16], "k": [8, 16],
                "signal": ["smooth", "noise"], "steps": [300]}}

#: What must match between two stores (wall time, host and finish time may differ).
COMPARED = ("key", "status", "seed", "params", "metrics", "code_version", "spec_hash")


def table(store):
    with Store(store) as st:
        return sorted(tuple(str(r[c]) for c in COMPARED) for r in st.rows())


def test_resume_after_sigkill_midway(tmp_path):
    """SIGKILL to the process group of a running sweep, then resume: every point once, metrics as uninterrupted."""
    spec_file = tmp_path / "slow.toml"
    spec_file.write_text('[sweep]\nmeasurement = "sweep_helpers:noisy_square"\nseeds = 3\n'
                         f'[grid]\nx = {[float(x) for x in range(20)]}\npause = [0.05]\n')
    store = tmp_path / "killed.db"
    proc = subprocess.Popen([sys.executable, "-m", "ntk_toolkit", "sweep", "run", str(spec_file), "--store", str(store),
                             "--workers", "2", "--quiet"], env=subprocess_env(), cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if store.exists():
            try:
                with sqlite3.connect(store, timeout=5) as c:
                    done = c.execute("SELECT COUNT(*) FROM points").fetchone()[0]
            except sqlite3.OperationalError:  # the schema is being created
                continue
            if done >= 5:
                break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert 5 <= done < 60, f"the kill did not land midway ({done} of 60 points stored)"
    kept = {r["key"] for r in records(store)[1]}
    assert 0 < len(kept) < 60
    res = run(spec_file, store, workers=2)
    assert res.skipped == len(kept) and res.ran == 60 - len(kept) and res.done == 60
    reference = tmp_path / "reference.db"
    run(spec_file, reference, scheduler="serial")
    assert table(store) == table(reference)


def test_failing_points_and_retry_failed(tmp_path):
    spec = load_spec({"sweep": {"measurement": "fit_time", "seeds": 2},
                      "grid": {"filter": ["triangle:2", "triangle:12"], "n": [16], "k": [8], "steps": [50]}})
    store = tmp_path / "s.db"
    res = run(spec, store, scheduler="serial")
    assert (res.done, res.failed) == (2, 2)
    with Store(store) as st:
        failed = st.rows(status="failed")
        done_before = {r["key"]: r["finished"] for r in st.rows(status="done")}
    assert {r["params"]["filter"] for r in failed} == {"triangle:12"}
    assert all("longer than the signal length n=16" in r["traceback"] and r["metrics"] is None for r in failed)
    again = run(spec, store, scheduler="serial")
    assert again.ran == 0 and again.failed == 2
    retried = run(spec, store, scheduler="serial", retry_failed=True)
    assert retried.ran == 2 and (retried.done, retried.failed) == (2, 2)
    with Store(store) as st:
        assert {r["key"]: r["finished"] for r in st.rows(status="done")} == done_before  # done points not rerun


def test_process_pool_matches_serial_and_user_executor(tmp_path):
    run(FIT, tmp_path / "pool.db", workers=2)
    run(FIT, tmp_path / "serial.db", scheduler="serial")
    with cf.ThreadPoolExecutor(2) as ex:
        res = run(FIT, tmp_path / "threads.db", executor=ex, batch=3)
        assert ex.submit(lambda: 7).result() == 7  # run() does not shut down an executor it did not start
    assert res.done == 24
    assert table(tmp_path / "pool.db") == table(tmp_path / "serial.db") == table(tmp_path / "threads.db")
    assert {r["host"] for r in records(tmp_path / "pool.db")[1]} and all(
        r["wall_time"] > 0 for r in records(tmp_path / "pool.db")[1])


class CountingExecutor(cf.Executor):
    """Runs tasks on a thread pool and records the largest number outstanding."""

    def __init__(self):
        self.pool, self.outstanding, self.peak = cf.ThreadPoolExecutor(2), 0, 0

    def submit(self, fn, /, *args, **kwargs):
        self.outstanding += 1
        self.peak = max(self.peak, self.outstanding)
        fut = self.pool.submit(fn, *args, **kwargs)
        fut.add_done_callback(lambda f: setattr(self, "outstanding", self.outstanding - 1))
        return fut


def test_tasks_in_flight_are_bounded(tmp_path):
    ex = CountingExecutor()
    spec = {"sweep": {"measurement": "sweep_helpers:noisy_square", "seeds": 4},
            "grid": {"x": [float(x) for x in range(10)], "pause": [0.01]}}
    res = run(spec, tmp_path / "s.db", executor=ex, batch=3)
    ex.pool.shutdown()
    assert res.done == 40 and 1 <= ex.peak <= 3


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        run(FIT, tmp_path / "s.db", workers=0)
    with pytest.raises(ValueError, match="scheduler must be None"):
        run(FIT, tmp_path / "s.db", scheduler="8786")
    with cf.ThreadPoolExecutor(1) as ex, pytest.raises(ValueError, match="either executor or scheduler"):
        run(FIT, tmp_path / "s.db", scheduler="local", executor=ex)


def test_local_pool_and_dask_local_cluster_give_identical_stores(tmp_path):
    """The same spec on the local pool, on a LocalCluster started here (127.0.0.1) through
    --scheduler tcp://..., and with --scheduler local: identical stores up to wall time and host."""
    distributed = pytest.importorskip("distributed")
    spec_file = tmp_path / "fit.toml"
    spec_file.write_text('[sweep]\nmeasurement = "fit_time"\nseeds = 2\n[grid]\n'
                         'filter = ["triangle:1", "triangle:2", "triangle:3"]\nn = [16]\nk = [8, 16]\n'
                         'signal = ["smooth", "noise"]\nsteps = [300]\n')
    cmd = [sys.executable, "-m", "ntk_toolkit", "sweep", "run", str(spec_file), "--quiet", "--store"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        runs = (("pool.db", ["--workers", "2"]), ("tcp.db", ["--scheduler", address]),
                ("local.db", ["--scheduler", "local", "--workers", "2"]))
        for name, extra in runs:
            out = subprocess.run(cmd + [str(tmp_path / name)] + extra, env=subprocess_env(), cwd=ROOT,
                                 capture_output=True, text=True, timeout=300)
            assert out.returncode == 0, out.stderr[-2000:]
        res = run(spec_file, tmp_path / "executor.db", executor=client.get_executor())
        assert res.done == 24
        assert client.submit(sum, [1, 2]).result() == 3  # the cluster the sweeps used is still up
    assert len(table(tmp_path / "pool.db")) == 24
    assert table(tmp_path / "pool.db") == table(tmp_path / "tcp.db") == table(tmp_path / "local.db")
    assert table(tmp_path / "pool.db") == table(tmp_path / "executor.db")


def test_workers_run_with_capped_numba_and_blas_threads(tmp_path):
    import numba

    spec = {"sweep": {"measurement": "sweep_helpers:thread_counts", "seeds": 2}, "grid": {"x": [0.0, 1.0]}}
    run(spec, tmp_path / "one.db", workers=2, threads=1)
    run(spec, tmp_path / "default.db", workers=2)
    run(spec, tmp_path / "single.db", workers=1)
    cpus, most = os.cpu_count() or 1, numba.config.NUMBA_NUM_THREADS
    # threads per task: 1, cores // 2, cores; Numba's count is also capped by NUMBA_NUM_THREADS
    for name, per in (("one.db", 1), ("default.db", max(1, cpus // 2)), ("single.db", cpus)):
        rows = records(tmp_path / name)[1]
        assert len(rows) == 4 and all(r["numba"] == min(per, most) for r in rows), (name, rows)
        assert all(r["blas"] in (0, per) for r in rows), (name, rows)  # 0: no OpenBLAS found
