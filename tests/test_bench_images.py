"""The ``images`` section of the benchmark suite: rows, arithmetic, references, 2-D peers, child tasks."""

from __future__ import annotations

import statistics

import naive
import numpy as np
import pytest

import ntk_toolkit as nt
from conftest import RTOL, assert_close
from ntk_toolkit.bench import FULL, QUICK, _child, run_suite, suite
from ntk_toolkit.bench._timing import Stats
from ntk_toolkit.bench.config import IMAGE_GD_PEER_NAMES, IMAGE_PEER_VARIANTS, TARGETS
from ntk_toolkit.bench.reference import (
    image_generator,
    image_problem,
    naive_gradient_descent,
    naive_spectrum,
    rel_diff,
    sparse_conv2d_matrix,
)
from ntk_toolkit.bench.sections import gd as gd_section
from ntk_toolkit.filters import Filter2D, triangle2d

GD_OP = "gradient_descent per step"


# --------------------------------------------------------------------------- the section in quick mode
@pytest.fixture(scope="module")
def report():
    return run_suite(quick=True, sections=["images"], threads=1)


def _rows(report, operation, dtype="float64"):
    return [r for r in report.rows if r.operation.startswith(operation) and r.dtype == dtype]


def test_section_is_selectable():
    assert "images" in suite.SECTIONS
    with pytest.raises(ValueError, match="images"):
        run_suite(quick=True, sections=["image"])


def test_quick_rows(report):
    rows = report.rows
    assert {r.section for r in rows} == {"images"}
    assert all(r.status == "ok" and r.ours.median > 0 for r in rows), [(r.operation, r.status) for r in rows]
    assert all(r.target is None and r.met is None for r in rows)  # quick mode checks nothing
    H, W, k = QUICK.images_gd
    spectra = _rows(report, "spectrum of Σ")
    assert [r.size for r in spectra] == list(QUICK.images_spectrum)
    for r in spectra:
        assert r.ref_status == "ok" and r.details["ref_rel_diff"] <= RTOL
        assert r.ratio == pytest.approx(r.ref.median / r.ours.median)
        assert r.peak_bytes is not None and r.peak_bytes < r.details["n_by_n_bytes"] and r.peak_x_C is None
    naive_row, bound64 = _rows(report, GD_OP)[:2]
    assert naive_row.size == (H, W, k) and naive_row.reference.startswith("sparse-U NumPy loop")
    assert naive_row.details["ref_rel_diff"] <= RTOL
    assert bound64.reference.startswith("memory-bandwidth bound") and bound64.ours is naive_row.ours
    memory = _rows(report, "gradient_descent per step, one")
    assert len(memory) == 1 and memory[0].size == (H, W, k)
    m = memory[0]
    assert m.details["C_nbytes"] == 8 * H * W * k and m.peak_x_C == pytest.approx(m.peak_bytes / m.details["C_nbytes"])
    assert m.peak_bytes >= m.details["out_nbytes"] == m.details["C_nbytes"]  # at least the returned C
    (top,) = _rows(report, "top_eigenpairs")
    assert top.size == QUICK.images_top and top.details["method"] == "lanczos"
    assert top.details["max_residual_over_lambda1"] < 1e-8
    (kern,) = _rows(report, "empirical_kernel")
    assert kern.size == QUICK.images_kernel
    assert report.bandwidth["section"] == "images"  # the only section that measured it


def test_bound_and_float32_rows_from_the_interleaved_runs(report):
    """Both ratios are medians of per-repeat ratios of runs taken back to back."""
    H, W, k = QUICK.images_gd
    bound64, bound32 = (r for r in report.rows if r.reference and r.reference.startswith("memory-bandwidth"))
    (f32,) = [r for r in report.rows if r.reference == "ntk_toolkit float64"]
    f64 = bound64.ours
    bws = bound64.details["bandwidth_bytes_per_s"]
    assert len(bws) == len(f64.times) == len(f32.ours.times) and f32.ref is f64
    for row, itemsize in ((bound64, 8), (bound32, 4)):
        nbytes = (2 * itemsize + 2) * H * W * k
        assert row.details["bytes_per_step"] == nbytes
        assert row.ref.times == pytest.approx(tuple(nbytes / bw for bw in bws))
        over = [t / (nbytes / bw) for t, bw in zip(row.ours.times, bws)]
        assert row.ratio == pytest.approx(1 / statistics.median(over))
    assert f32.ratio == pytest.approx(statistics.median(a / b for a, b in zip(f64.times, f32.ours.times)))
    assert f32.details["rel_diff_vs_float64_after_10_steps"] < 1e-4


def _full_run(**gd_runs):
    run = suite.Run(FULL, quick=False, peers=False, threads=1, time_limit=60.0, log=lambda m: None)
    run.gd_runs.update(gd_runs)
    return run


def test_bound_and_float32_arithmetic_and_targets():
    """Synthetic interleaved runs: bytes, bounds, per-repeat ratios and the full-mode targets."""
    size = FULL.images_gd
    H, W, k = size
    bws = [10e9, 20e9, 10e9]
    t64 = (0.020, 0.015, 0.030)  # seconds per step
    t32 = (0.010, 0.012, 0.010)
    runs = gd_section.GdRuns(size, H * W * k, 50, {"float64": Stats(t64), "float32": Stats(t32)}, bws, 1e-7)
    run = _full_run(images=runs)
    gd_section.gd_bound(run, "images", "float64")
    gd_section.gd_float32(run, "images")
    bound64, f32, bound32 = run.rows
    nbytes = 18 * H * W * k
    assert bound64.ref.times == pytest.approx(tuple(nbytes / bw for bw in bws))
    over = sorted(t / (nbytes / bw) for t, bw in zip(t64, bws))
    assert bound64.ratio == pytest.approx(1 / over[1])
    assert bound64.target == TARGETS["images", "bound", size] == {"min_ratio": 0.5}
    assert bound64.met is (1 / over[1] >= 0.5)
    assert f32.ratio == pytest.approx(statistics.median([2.0, 1.25, 3.0])) and f32.met is True  # ≥ 1.5×
    assert bound32.details["bytes_per_step"] == 10 * H * W * k and bound32.target is None
    assert all(r.section == "images" and r.size == size for r in run.rows)


def test_float32_row_without_runs_is_reported():
    run = _full_run()
    gd_section.gd_float32(run, "images")
    (row,) = run.rows
    assert row.status == "not available" and row.size == FULL.images_gd and "images" in row.details["message"]


def test_targets_match_full_sizes():
    cfg = FULL
    sizes = {"spectrum": set(cfg.images_spectrum), "torch": {cfg.images_gd}, "jax": {cfg.images_gd},
             "bound": {cfg.images_gd}, "float32": {cfg.images_gd}, "memory": {cfg.images_gd},
             "top_eigenpairs": {cfg.images_top}, "kernel": {cfg.images_kernel}}
    keys = [key for key in TARGETS if key[0] == "images"]
    assert {op for _, op, _ in keys} == set(sizes)
    assert all(size in sizes[op] for _, op, size in keys)
    assert TARGETS["images", "spectrum", (512, 512)] == {"max_s": 0.25}
    assert TARGETS["images", "spectrum", (2048, 2048)] == {"max_s": 3.0}
    assert TARGETS["images", "memory", (128, 128, 256)] == {"max_x_C": 3.0}
    assert cfg.images_gd == (128, 128, 256) and cfg.images_top == (128, 128, 256) and cfg.images_top_r == 20
    assert cfg.images_kernel == (64, 64, 1024)


def test_plan_lists_the_peers_only_with_peers():
    run = suite.Run(QUICK, quick=True, peers=False, threads=1, time_limit=60.0, log=lambda m: None)
    names = [name for name, _ in run.plan(["images"])]
    assert names and all(name.startswith("images") for name in names)
    run.peers = True
    with_peers = [name for name, _ in run.plan(["images"])]
    assert len(with_peers) == len(names) + len(IMAGE_PEER_VARIANTS)


# --------------------------------------------------------------------------- references
FILTERS = [triangle2d(2), triangle2d(3), Filter2D(np.arange(1.0, 13.0).reshape(3, 4) - 6.5)]


@pytest.mark.parametrize("filt", FILTERS, ids=lambda f: f.name)
@pytest.mark.parametrize("shape", [(5, 6), (7, 5), (8, 9)])
def test_sparse_conv2d_matrix_is_the_oracle(filt, shape):
    op = nt.CircularConv2D(filt, shape)
    U = sparse_conv2d_matrix(op.taps, op.center, shape)
    assert_close(U.toarray(), naive.conv2d_matrix(filt.taps, *shape), what="sparse U")


def test_image_references_agree_with_ntk_toolkit_and_the_oracle():
    H, W, k = 6, 5, 8
    gen, C0, y, eta = image_problem(H, W, k)
    assert np.array_equal(C0, gen.init(0)) and y.shape == (H * W,)
    op = gen.operator
    Ud = naive.conv2d_matrix(op.taps, H, W)
    v = naive.default_v(k)
    C_oracle = naive.gradient_descent(Ud, v, y, C0, eta, 7)[2]
    C_ref = naive_gradient_descent(sparse_conv2d_matrix(op.taps, op.center, (H, W)), v, y, C0, eta, 7)
    assert_close(C_ref, C_oracle, what="sparse-U loop vs oracle")
    assert_close(nt.gradient_descent(gen, y, C0, eta, 7, record=[7]).C, C_ref, what="gradient_descent")
    spec_gen = image_generator((H, W), 2, p=3)
    lam = naive.eigvals_desc(naive.expected_kernel(naive.conv2d_matrix(spec_gen.operator.taps, H, W),
                                                   spec_gen.output_weights))
    assert_close(naive_spectrum(spec_gen), lam, what="2-D spectrum reference")


# --------------------------------------------------------------------------- peers (tiny, optional)
@pytest.fixture(params=[(6, 5, triangle2d(2)), (5, 7, FILTERS[2])], ids=["triangle2d(2)", "3x4 asymmetric"])
def tiny2d(request):
    H, W, filt = request.param
    gen = nt.TwoLayerGenerator(nt.CircularConv2D(filt, (H, W)), 6)
    C0 = gen.init(0)
    y = np.random.default_rng(1).standard_normal(H * W)
    eta = nt.max_step_size(gen)
    op = gen.operator
    U = naive.conv2d_matrix(filt.taps, H, W)
    return (op.taps, op.center, (H, W), gen.output_weights), y, C0, eta, naive_gradient_descent(
        U, gen.output_weights, y, C0, eta, 5)


@pytest.mark.parametrize("peer", ["torch", "jax"])
def test_2d_peer_agrees(tiny2d, peer):
    pytest.importorskip(peer)
    from ntk_toolkit.bench import peers_jax, peers_torch

    mod = {"torch": peers_torch, "jax": peers_jax}[peer]
    args, y, C0, eta, C_ref = tiny2d
    run = mod.make_gradient_descent_2d(*args, y, C0, eta)
    C = run(5)
    assert C.shape == C0.shape and rel_diff(C, C_ref) <= RTOL
    assert rel_diff(run(5), C) == 0.0  # every run starts from C0
    G = mod.generator_2d(*args)
    H, W = args[2]
    Z = naive.conv2d_matrix(args[0], H, W) @ C0
    W0 = np.ascontiguousarray(C0.T).reshape(-1, H, W)  # channels as a batch of images
    if peer == "torch":
        import torch

        W0 = torch.tensor(W0)
    assert rel_diff(np.asarray(G(W0)), np.maximum(Z, 0) @ args[3]) <= RTOL


def test_2d_peer_child_checks_then_times():
    pytest.importorskip("torch")
    res = _child.run_child({"task": "peer_gd", "peer": "torch", "shape": [8, 6], "k": 4, "steps": 3, "repeats": 2},
                           threads=1, time_limit=120)
    assert res.ok, res.message
    assert res.result["rel_diff"] <= _child.PEER_RTOL and len(res.result["times"]) == 2
    assert [e.get("event") for e in res.events][:2] == ["started", "checked"]
    assert set(IMAGE_GD_PEER_NAMES) == set(IMAGE_PEER_VARIANTS)


# --------------------------------------------------------------------------- the child task
def test_image_child_task():
    res = _child.run_child({"task": "image", "op": "gradient_descent", "shape": [16, 12], "k": 8, "steps": 3,
                            "repeats": 2}, threads=1, time_limit=120)
    assert res.ok, res.message
    r = res.result
    assert r["C_nbytes"] == r["out_nbytes"] == 8 * 16 * 12 * 8 and r["steps"] == 3
    assert len(r["times"]) == 2 and r["extra_bytes"] >= 0
    res = _child.run_child({"task": "image", "op": "spectrum", "shape": [16, 12]}, threads=1, time_limit=120)
    assert res.ok and res.result["out_nbytes"] > 0 and "C_nbytes" not in res.result
    bad = _child.run_child({"task": "image", "op": "svd", "shape": [8, 8]}, threads=1, time_limit=120)
    assert bad.status == "error" and "spectrum" in bad.message
