"""The benchmark suite (``ntk-toolkit bench``): command line, table, JSON, references, child processes, peers."""

from __future__ import annotations

import json
import sys
import time

import naive
import numpy as np
import pytest
from click.testing import CliRunner

import ntk_toolkit as nt
from conftest import RTOL, assert_close
from ntk_toolkit.bench import BenchReport, Row, _child, format_table, run_suite, suite
from ntk_toolkit.bench._timing import Stats, copy_bandwidth, fmt_time, time_call
from ntk_toolkit.bench.reference import (
    benchmark_generator,
    benchmark_problem,
    init_weights,
    jacobian_kernel,
    naive_gradient_descent,
    naive_spectrum,
    rel_diff,
)
from ntk_toolkit.bench.sections import gd as gd_section
from ntk_toolkit.bench.sections import kernel as kernel_section
from ntk_toolkit.cli import main

ENV_KEYS = {"python", "numpy", "scipy", "numba", "torch", "jax", "cpu", "cpu_count", "threads", "load_average",
            "load_average_after", "memory_available"}
ROW_KEYS = {"section", "operation", "size", "dtype", "ntk_toolkit", "status", "reference", "reference_time",
            "reference_status", "ratio", "peak_bytes", "peak_x_C", "target", "met", "details"}

#: float32 gradient descent against float64 after 10 steps: float32 rounding (6e-8) grown by the steps.
FLOAT32_GD_TOL = 1e-5


# --------------------------------------------------------------------------- command line
def test_cli_quick_json_out(tmp_path):
    """The CI smoke test: ``bench --quick --json --out FILE`` runs every section and writes valid JSON."""
    out = tmp_path / "sub" / "bench.json"
    t0 = time.perf_counter()
    result = CliRunner().invoke(main, ["bench", "--quick", "--json", "--out", str(out), "--quiet"])
    elapsed = time.perf_counter() - t0
    assert result.exit_code == 0, result.output
    assert "| operation | size | dtype |" in result.stdout  # the table goes to the terminal
    data = json.loads(out.read_text())
    assert not list(out.parent.glob(".*part*")), "temporary file left behind"
    assert data["mode"] == "quick" and data["peers"] is False and data["threads"] >= 1
    assert ENV_KEYS <= set(data["environment"]), ENV_KEYS - set(data["environment"])
    assert data["bandwidth"]["best"] > 0
    rows = data["results"]
    assert {r["section"] for r in rows} == {"kernel", "gd", "spectrum", "images", "deep", "symbolic", "dynamics",
                                            "sweep", "startup"}
    for r in rows:
        assert ROW_KEYS <= set(r), ROW_KEYS - set(r)
        assert r["target"] is None and r["met"] is None  # quick mode checks no targets
        if r["status"] == "ok":
            assert r["ntk_toolkit"]["median"] > 0
    failed = [r for r in rows if r["status"] != "ok"]
    assert all(r["dtype"] == "float32" and r["status"] == "not available" for r in failed), failed  # nothing else
    compared = [r for r in rows if r["reference_status"] == "ok"]
    assert {r["section"] for r in compared} == {"kernel", "gd", "spectrum", "images", "symbolic", "dynamics", "sweep"}
    assert all(r["ratio"] > 0 for r in compared)
    for r in compared:
        if "ref_rel_diff" in r["details"] and r["dtype"] == "float64":
            assert r["details"]["ref_rel_diff"] <= 1e-12, r
    memory = [r for r in rows if r["peak_bytes"] is not None]
    assert memory and all(r["peak_bytes"] >= 0 for r in memory)
    # as a multiple of C wherever there is a C (the spectrum of Σ has none)
    assert all(r["peak_x_C"] >= 0 for r in memory if not r["operation"].startswith("spectrum"))
    names = {r["operation"] for r in rows}
    assert "import ntk_toolkit (fresh process)" in names
    assert {f"first call: {name}" for name in _child.FIRST_CALL_ROUTINES} <= names
    assert elapsed < 120  # "well under a minute" on an idle machine; generous for a loaded one


def test_cli_json_stdout_one_section():
    result = CliRunner().invoke(main, ["bench", "--quick", "--json", "--only", "spectrum", "--threads", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["threads"] == 1 and data["environment"]["threads"] == 1
    assert [r["section"] for r in data["results"]] == ["spectrum"]


def test_cli_table_to_file(tmp_path):
    out = tmp_path / "bench.md"
    result = CliRunner().invoke(main, ["bench", "--quick", "--only", "spectrum", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("## ntk_toolkit benchmarks (quick mode")
    assert "spectrum of Σ" in text and text in result.stdout


@pytest.mark.parametrize("args, hint", [
    (["--threads", "0"], "--threads"),
    (["--threads", "100000"], "--threads"),
    (["--only", "kernel,nope"], "--only"),
    (["--only", ","], "--only"),
    (["--time-limit", "0"], "--time-limit"),
    (["--wait-idle", "-1"], "--wait-idle"),
])
def test_cli_bad_options(args, hint):
    result = CliRunner().invoke(main, ["bench", "--quick", *args])
    assert result.exit_code == 2, result.output
    assert hint in result.output


def test_cli_out_is_a_directory(tmp_path):
    result = CliRunner().invoke(main, ["bench", "--quick", "--only", "spectrum", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--out" in result.output


def test_cli_help_has_example():
    result = CliRunner().invoke(main, ["bench", "--help"])
    assert result.exit_code == 0 and "ntk-toolkit bench --quick" in result.output


@pytest.mark.parametrize("kwargs", [
    {"threads": 0}, {"threads": 1.5}, {"threads": True}, {"sections": ["kernel", "nope"]}, {"sections": []},
    {"time_limit": 0}, {"time_limit": float("nan")}, {"quick": "yes"},
])
def test_run_suite_bad_arguments(kwargs):
    with pytest.raises((ValueError, TypeError)):
        run_suite(**kwargs)


# --------------------------------------------------------------------------- table, JSON, targets
def _row(**kw):
    base = dict(section="kernel", operation="empirical_kernel", size=(256, 1024), ours=Stats((0.01, 0.012, 0.011)),
                reference="explicit J Jᵀ", ref=Stats((2.0, 2.2)), ref_status="ok")
    base.update(kw)
    return Row(**base)


def test_stats():
    st = Stats.from_times([3.0, 1.0, 2.0], other_cores=0.5, per=2)
    assert (st.median, st.min, st.max) == (1.0, 0.5, 1.5)
    assert st.to_dict()["repeats"] == 3 and st.to_dict()["other_cores"] == 0.5
    assert str(Stats((0.5,))) == fmt_time(0.5) == "500.0 ms"
    assert str(st) == "1.00 s [500.0 ms–1.50 s]"
    with pytest.raises(ValueError):
        Stats(())
    with pytest.raises(ValueError):
        Stats.from_times([1.0], per=0)


def test_time_call_warmup_and_budget():
    calls = []
    st = time_call(lambda: calls.append(time.sleep(0.02)), repeats=50, warmup=2, budget=0.05)
    assert 2 + 1 <= len(calls) <= 2 + 4 and len(st.times) == len(calls) - 2
    assert st.min >= 0.02
    with pytest.raises(ValueError):
        time_call(lambda: None, repeats=0)


def test_row_ratio_and_targets():
    row = _row(target={"min_ratio": 200.0}).finish()
    assert row.ratio == pytest.approx(2.1 / 0.011) and row.met is False
    assert _row(target={"min_ratio": 100.0, "max_s": 0.02}).finish().met is True
    assert _row(target={"max_s": 0.005}).finish().met is False
    mem = _row(peak_bytes=300, peak_x_C=1.5, target={"max_x_C": 3.0}).finish()
    assert mem.met is True
    quick = _row(target={"min_ratio": 1.0}).finish(with_target=False)
    assert quick.target is None and quick.met is None
    # a reference that did not run gives no ratio and misses a ratio target
    oom = _row(ref=None, ref_status="out of memory", target={"min_ratio": 1.0}).finish()
    assert oom.ratio is None and oom.met is False


def test_format_table():
    rows = [
        _row(target={"min_ratio": 200.0}).finish(),
        _row(ref=None, ref_status="time-out").finish(),
        _row(ref=None, ref_status="disagrees", details={"ref_rel_diff": 3e-4}).finish(),
        _row(ref=None, ref_status="not installed").finish(),
        Row("kernel", "empirical_kernel", (4096, 16384), ours=Stats((4.0,)), peak_bytes=3 * 2**29,
            peak_x_C=3.0, target={"max_s": 10.0, "max_x_C": 3.0}).finish(),
        Row("kernel", "empirical_kernel", (8192, 131072), status="out of memory"),
        Row("spectrum", "spectrum of Σ (circulant)", (2**20,), ours=Stats((0.1,), other_cores=1.0)).finish(),
    ]
    text = format_table(rows)
    lines = text.splitlines()
    assert len(lines) == 2 + len(rows)
    assert all(line.count("|") == 12 for line in lines)
    assert "| 191× | — | ≥ 200× | **NO** |" in lines[2]
    assert "time-out" in lines[3] and "disagrees (3.0e-04)" in lines[4] and "not installed" in lines[5]
    assert "1.50 GiB = 3.00× C" in lines[6] and "≤ 10.00 s, ≤ 3× C" in lines[6] and "| yes |" in lines[6]
    assert "| out of memory |" in lines[7]
    assert "(1048576,)" in lines[8] and "1.00 ⚠" in lines[8]


def test_report_dict_and_markdown():
    env = {"cpu": "CPU", "cpu_count": 2, "python": "3", "numpy": "2", "scipy": "1", "numba": "0", "torch": None,
           "jax": None, "ntk_toolkit": nt.__version__, "load_average": [0.1, 0.2, 0.3],
           "load_average_after": [0.1, 0.2, 0.3]}
    rows = [_row(target={"min_ratio": 500.0}).finish(), _row().finish()]
    rep = BenchReport("full", 2, True, env, rows=rows, notes=["a note"], hints=['pip install "ntk_toolkit[peers]"'])
    d = rep.to_dict()
    json.dumps(d)
    assert d["targets"] == {"checked": 1, "met": 0, "missed": ["empirical_kernel (256, 1024) float64 vs explicit J Jᵀ"]}
    assert [r["operation"] for r in d["results"]] == ["empirical_kernel"] * 2
    md = rep.to_markdown()
    assert "full mode, 2 threads" in md and "* a note" in md and "targets missed" in md
    assert md.rstrip().endswith('pip install "ntk_toolkit[peers]"')


# --------------------------------------------------------------------------- references
@pytest.mark.parametrize("n, k", [(8, 4), (16, 8), (33, 6)])
def test_references_agree_with_ntk_toolkit_and_the_oracle(n, k):
    gen, C0, y, eta = benchmark_problem(n, k)
    assert np.array_equal(C0, gen.init(0))
    assert np.array_equal(init_weights(gen, 3), gen.init(3))
    U = naive.conv_matrix(gen.operator.filter.taps, n)
    v = naive.default_v(k)
    C_ref = naive_gradient_descent(U, v, y, C0, eta, 7)
    assert_close(C_ref, naive.gradient_descent(U, v, y, C0, eta, 7)[2], what="naive loop vs oracle")
    assert_close(nt.gradient_descent(gen, y, C0, eta, 7, record=[7]).C, C_ref, what="gradient_descent")
    C32 = naive_gradient_descent(U, v, y, C0, eta, 7, dtype=np.float32)
    assert C32.dtype == np.float32 and rel_diff(C32, C_ref) < FLOAT32_GD_TOL
    assert_close(jacobian_kernel(gen, C0), naive.empirical_kernel(U, C0, v), what="J Jᵀ")
    assert_close(nt.empirical_kernel(gen, C0), jacobian_kernel(gen, C0), what="empirical_kernel")
    lam = naive.eigvals_desc(naive.expected_kernel(U, v))
    assert_close(naive_spectrum(gen), lam, what="spectrum reference")
    assert_close(nt.spectrum(gen).eigenvalues, naive_spectrum(gen), what="spectrum")


def test_benchmark_generator_convention():
    gen = benchmark_generator(16, 4)
    assert gen.operator.filter.name == "triangle(4)"
    assert np.allclose(gen.output_weights, [0.5, 0.5, -0.5, -0.5])


def test_rel_diff():
    assert rel_diff([1.0, 2.0], [1.0, 4.0]) == 0.5
    assert rel_diff([0.0], [0.0]) == 0.0
    with pytest.raises(ValueError):
        rel_diff([1.0], [1.0, 2.0])


def test_copy_bandwidth():
    bw = copy_bandwidth(2**20, repeats=2, threads=2)
    assert bw["bytes"] == 2**20 and bw["single_thread"] > 0 and bw["threaded"] > 0
    assert bw["best"] == max(bw["single_thread"], bw["threaded"])
    with pytest.raises(ValueError):
        copy_bandwidth(1000)


def test_float32_gradient_descent_if_available():
    if not suite.has_dtype_argument():
        pytest.skip("gradient_descent has no dtype argument")
    gen, C0, y, eta = benchmark_problem(32, 16)
    C32 = nt.gradient_descent(gen, y, C0, eta, 10, record=[10], dtype=np.float32).C
    U = naive.conv_matrix(gen.operator.filter.taps, 32)
    C64 = naive_gradient_descent(U, gen.output_weights, y, C0, eta, 10)
    assert rel_diff(C32, C64) < FLOAT32_GD_TOL


# --------------------------------------------------------------------------- child processes
def test_child_env_sets_threads():
    env = _child.child_env(3, base={"XLA_FLAGS": "--xla_dump_to=/tmp/x intra_op_parallelism_threads=8"})
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == env["NUMBA_NUM_THREADS"] == "3"
    assert env["NTK_BENCH_THREADS"] == "3"
    flags = env["XLA_FLAGS"].split()
    assert "--xla_dump_to=/tmp/x" in flags and "intra_op_parallelism_threads=3" in flags
    assert "intra_op_parallelism_threads=8" not in flags


def test_run_child_time_out():
    t0 = time.perf_counter()
    res = _child.run_child({"task": "sleep", "seconds": 60}, threads=1, time_limit=3.0)
    assert res.status == "time-out" and not res.ok
    assert "3 s" in res.message
    assert time.perf_counter() - t0 < 30


def test_run_child_killed_is_out_of_memory():
    code = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    res = _child.run_child({}, threads=1, time_limit=30, argv=[sys.executable, "-c", code])
    assert res.status == "out of memory" and "SIGKILL" in res.message


def test_run_child_crash_without_report():
    code = "import sys; sys.stderr.write('boom\\n'); sys.exit(3)"
    res = _child.run_child({}, threads=1, time_limit=30, argv=[sys.executable, "-c", code])
    assert res.status == "error" and "exit status 3" in res.message and "boom" in res.message


def test_classify_exit():
    assert _child.classify_exit(-9, "")[0] == "out of memory"
    assert _child.classify_exit(1, "Traceback ...\nMemoryError: Unable to allocate 8 GiB")[0] == "out of memory"
    assert _child.classify_exit(1, "RuntimeError: [enforce fail] DefaultCPUAllocator: can't allocate memory")[0] \
        == "out of memory"
    assert _child.classify_exit(1, "ValueError: bad") == ("error", "exit status 1: ValueError: bad")


def test_peer_memory_estimate_reports_out_of_memory():
    """A peer whose Jacobian would not fit is reported, not started (before torch/jax are imported)."""
    res = _child.run_child({"task": "peer_kernel", "peer": "torch", "n": 256, "k": 1024, "memory_limit": 2**20},
                           threads=1, time_limit=60)
    assert res.status == "out of memory" and "estimated" in res.message


def test_child_peak_memory_is_its_own():
    """A child's peak RSS is that of its own address space, not the peak its parent had when it was started."""
    big = np.ones(2**25)  # 256 MiB held by this (the parent) process while the child runs
    res = _child.run_child({"task": "kernel", "n": 64, "k": 256, "repeats": 1}, threads=1, time_limit=120)
    assert res.ok, res.message
    assert res.result["extra_bytes"] < big.nbytes / 4, res.result
    assert res.result["peak_rss"] < res.result["rss_before"] + big.nbytes / 4


def test_run_child_bad_task():
    res = _child.run_child({"task": "nope"}, threads=1, time_limit=60)
    assert res.status == "error" and "tasks:" in res.message
    with pytest.raises(ValueError):
        _child.run_child({"task": "sleep", "seconds": 0}, threads=1, time_limit=0)


def _run(**kw):
    return suite.Run(suite.QUICK, quick=True, peers=True, threads=1, time_limit=60.0, log=lambda m: None, **kw)


def test_missing_peer_is_skipped_with_a_hint(monkeypatch):
    monkeypatch.setattr(suite, "peer_available", lambda peer: False)
    run = _run()
    run.kernel_ours = Stats((0.001,))
    run.gd_runs["gd"] = gd_section.GdRuns((128, 512), 128 * 512, 50, {"float64": Stats((0.001,))}, [1e10])
    for peer, form in suite.PEER_VARIANTS:
        kernel_section.kernel_peer(run, peer, form)
        gd_section.gd_peer(run, peer, form)
    for peer, form in suite.IMAGE_PEER_VARIANTS:  # images: no float64 runs measured, still a row each
        gd_section.gd_peer(run, peer, form, "images")
    n_rows = 2 * len(suite.PEER_VARIANTS) + len(suite.IMAGE_PEER_VARIANTS)
    assert [r.ref_status for r in run.rows] == ["not installed"] * n_rows
    assert all(r.ratio is None for r in run.rows)
    assert [r.status for r in run.rows if r.section == "images"] == ["not measured"] * len(suite.IMAGE_PEER_VARIANTS)
    assert len(run.hints) == 2 and all('pip install "ntk_toolkit[peers]"' in h for h in run.hints)


@pytest.mark.parametrize("status, result, shown", [
    ("time-out", {}, "time-out"),
    ("out of memory", {}, "out of memory"),
    ("disagrees", {"rel_diff": 2e-3}, "disagrees (2.0e-03)"),
    ("error", {}, "error"),
])
def test_peer_failures_are_reported_not_timed(status, result, shown):
    run = _run()
    row = Row("gd", "gradient_descent per step", (128, 512), ours=Stats((0.001,)), reference="peer")
    run.add(run.peer_row(row, _child.ChildResult(status, result, message="detail")), ("gd", "torch", (128, 512)))
    assert row.ref is None and row.ratio is None and row.ref_status == status
    assert shown in format_table([row])
    assert (status == "disagrees") == any("disagrees" in note for note in run.notes)


def test_peer_success_row():
    run = _run()
    row = Row("gd", "gradient_descent per step", (128, 512), ours=Stats((0.001,)), reference="peer")
    res = _child.ChildResult("ok", {"times": [0.2, 0.3], "rel_diff": 1e-16, "version": "1"}, other_cores=0.0)
    run.add(run.peer_row(row, res, per=100))
    assert row.ref.median == pytest.approx(0.0025) and row.ratio == pytest.approx(2.5)


# --------------------------------------------------------------------------- peers (tiny, optional)
@pytest.fixture
def tiny():
    gen, C0, y, eta = benchmark_problem(16, 8)
    op = gen.operator
    return gen, C0, y, eta, (op.taps, op.center, gen.output_weights)


def test_torch_peer_agrees(tiny):
    pytest.importorskip("torch")
    from ntk_toolkit.bench import peers_torch

    gen, C0, y, eta, args = tiny
    U = naive.conv_matrix(gen.operator.filter.taps, gen.n)
    assert rel_diff(peers_torch.kernel(*args, C0), naive.empirical_kernel(U, C0, gen.output_weights)) <= RTOL
    run = peers_torch.make_gradient_descent(*args, y, C0, eta)
    assert rel_diff(run(5), naive_gradient_descent(U, gen.output_weights, y, C0, eta, 5)) <= RTOL
    assert rel_diff(run(5), run(5)) == 0.0  # every run starts from C0


@pytest.mark.parametrize("form", ["roll", "conv"])
def test_jax_peer_agrees(tiny, form):
    pytest.importorskip("jax")
    from ntk_toolkit.bench import peers_jax

    gen, C0, y, eta, args = tiny
    U = naive.conv_matrix(gen.operator.filter.taps, gen.n)
    K = peers_jax.kernel(*args, C0, form=form)
    assert rel_diff(K, naive.empirical_kernel(U, C0, gen.output_weights)) <= RTOL
    run = peers_jax.make_gradient_descent(*args, y, C0, eta, form=form)
    C = run(5)
    assert C.shape == C0.shape
    assert rel_diff(C, naive_gradient_descent(U, gen.output_weights, y, C0, eta, 5)) <= RTOL
    with pytest.raises(ValueError, match="form"):
        peers_jax.generator(*args, form="fft")


def test_peer_child_checks_then_times():
    pytest.importorskip("torch")
    res = _child.run_child({"task": "peer_gd", "peer": "torch", "n": 16, "k": 8, "steps": 3, "repeats": 2},
                           threads=1, time_limit=120)
    assert res.ok, res.message
    assert res.result["rel_diff"] <= _child.PEER_RTOL and len(res.result["times"]) == 2
    assert [e.get("event") for e in res.events][:2] == ["started", "checked"]


def test_gd_section_interleaves_float64_float32_and_bandwidth():
    """Bound and float32 ratios are medians of per-repeat ratios of runs taken back to back."""
    import statistics

    report = run_suite(quick=True, sections=["gd"])
    rows = {(r.dtype, r.reference.split(" (")[0]): r for r in report.rows}
    f64 = rows["float64", "dense-U NumPy loop"].ours
    bound = rows["float64", "memory-bandwidth bound"]
    f32 = rows["float32", "ntk_toolkit float64"]
    repeats = len(f64.times)
    assert repeats >= 1 and len(report.bandwidth["samples"]) == repeats
    assert bound.ours is f64 and len(bound.ref.times) == repeats
    over = [t / b for t, b in zip(f64.times, bound.ref.times)]
    assert bound.details["ours_over_bound"] == pytest.approx(over)
    assert bound.ratio == pytest.approx(1 / statistics.median(over))
    nbytes = (2 * 8 + 2) * 128 * 512
    assert bound.ref.times == pytest.approx(tuple(nbytes / bw for bw in report.bandwidth["samples"]))
    assert len(f32.ours.times) == repeats and f32.ref is f64
    assert f32.ratio == pytest.approx(statistics.median(a / b for a, b in zip(f64.times, f32.ours.times)))
    assert report.bandwidth["best"] == max(report.bandwidth["samples"])
