"""The kernel family of the verification suite at profile ``tiny``: each check passes with its
key numbers in range, fails for each injected fault, and draws its figures."""

from __future__ import annotations

import numpy as np
import pytest

from ntk_toolkit.checks import get_check

KERNEL_CHECKS = ("kernel.closed-form", "kernel.trig-basis", "kernel.spectrum-vs-width", "kernel.finite-width-rate")


@pytest.fixture(scope="module")
def tiny():
    """One correct run per check at profile tiny, seed 0 (shared by the tests below)."""
    return {name: get_check(name).run(profile="tiny", seed=0) for name in KERNEL_CHECKS}


def test_closed_form(tiny):
    r = tiny["kernel.closed-form"]
    assert r.passed, r.measured
    assert -0.75 <= r.measured["mc_slope"] <= -0.3
    assert np.all(np.asarray(r.measured["error_at_R_max"]) <= r.criterion["max_err"])


def test_trig_basis(tiny):
    r = tiny["kernel.trig-basis"]
    assert r.passed, r.measured
    assert r.measured["cases"] == 10 and r.measured["ns"] == [15, 16]  # an odd and an even n, five filters
    for key in ("max_off_diagonal_rel", "max_diagonal_vs_fft_rel", "max_cos_sin_pair_diff_rel"):
        assert r.measured[key] <= 1e-13, key  # rounding only; the criterion is 1e-12


def test_spectrum_vs_width(tiny):
    r = tiny["kernel.spectrum-vs-width"]
    m = r.measured
    assert r.passed, m
    assert m["delta_max_abs_dev_from_half"] <= 1e-12
    for fam in ("triangle", "gaussian"):
        for q in ("min", "ratio_f0", "bandwidth"):
            assert np.all(np.diff(m[f"{fam}_{q}"]) < 0), (fam, q, m[f"{fam}_{q}"])
    # Σ/3 of the δ filter is I/6 (the authors' plotted scale)
    assert m["sigma3_min"][0] == pytest.approx(1 / 6, rel=1e-12)
    assert m["sigma3_max"][0] == pytest.approx(1 / 6, rel=1e-12)


def test_finite_width_rate(tiny):
    r = tiny["kernel.finite-width-rate"]
    assert r.passed, r.measured
    assert -0.65 <= r.measured["slope"] <= -0.35
    err = np.asarray(r.measured["mean_error"])
    assert err[-1] < err[0] / 4  # 64× more channels: ~8× smaller error


#: Why each fault must fail: a predicate on the faulty run's ``measured`` numbers.
FAULT_REASONS = {
    ("kernel.closed-form", "filter-swapped"): lambda m: np.max(m["error_at_R_max"]) > 0.12,
    ("kernel.trig-basis", "shifted-frequency"):
        lambda m: m["max_diagonal_vs_fft_rel"] > 0.1 and m["max_off_diagonal_rel"] <= 1e-13,
    ("kernel.spectrum-vs-width", "filter-swapped"): lambda m: m["delta_max_abs_dev_from_half"] > 0.1,
    # the error plateaus at the distance between the two kernels
    ("kernel.finite-width-rate", "filter-swapped"): lambda m: abs(m["slope"]) < 0.2,
}


def test_every_fault_is_covered():
    assert set(FAULT_REASONS) == {(name, f) for name in KERNEL_CHECKS for f in get_check(name).faults}


@pytest.mark.parametrize(("name", "fault"), sorted(FAULT_REASONS))
def test_fault_fails(name, fault):
    res = get_check(name).run(profile="tiny", seed=0, fault=fault)
    assert not res.passed, res.measured
    assert FAULT_REASONS[name, fault](res.measured), res.measured


def test_plots(tiny):
    from ntk_toolkit.plotting import pyplot

    plt = pyplot()
    for name in KERNEL_CHECKS:
        figs = get_check(name).plot(tiny[name])
        assert figs, name
        for stem, fig in figs:
            assert isinstance(stem, str)
            assert all(ax.get_xlabel() and ax.get_ylabel() and ax.get_title() for ax in fig.axes
                       if ax.get_label() != "<colorbar>")
            plt.close(fig)
