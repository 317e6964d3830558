"""The compressive-sensing family of the verification suite at profile ``tiny``: each check passes
with its key numbers in range, fails for each injected fault (for the stated reason), and draws
its figures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ntk_toolkit.checks import get_check

CS_CHECKS = ("cs.gd-limit", "cs.smoothest-beats-min-l2", "cs.recovery-law", "cs.rank-p-exact",
             "cs.noise-amplification", "cs.discrepancy-principle")


@pytest.fixture(scope="module")
def tiny():
    """One correct run per check at profile tiny, seed 0 (shared by the tests below)."""
    return {name: get_check(name).run(profile="tiny", seed=0) for name in CS_CHECKS}


def test_registered_in_family():
    for name in CS_CHECKS:
        check = get_check(name)
        assert check.family == "cs"
        assert check.faults and check.plot is not None
        assert "Pass" in check.doc and "Fault" in check.doc


def test_gd_limit(tiny):
    r = tiny["cs.gd-limit"]
    m = r.measured
    assert r.passed, m
    assert m["slope"] <= -0.3  # theory −½
    dist = np.asarray(m["distance_sigma"])
    assert dist[-1] <= 0.05 and dist[-1] < dist[0] / 3  # 16× more channels: ~4× closer
    # the network converges to its own linearization much more closely than to Σ's
    assert np.all(np.asarray(m["distance_empirical"]) < dist / 5)
    assert m["rate_rel_err_at_max_k"] <= 0.10
    assert np.allclose(m["residual_factor_fit"][-1], r.predicted["residual_factor_sigma"][-1], rtol=2e-3)


def test_smoothest_beats_min_l2(tiny):
    r = tiny["cs.smoothest-beats-min-l2"]
    m, p = r.measured, r.predicted
    assert r.passed, m
    assert m["pinv_over_xhat"] >= 2.5 and m["pinv_over_network"] >= 2.5
    assert m["network_error"] == pytest.approx(p["xhat_error"], rel=0.15)  # the network reaches x̂
    assert p["xhat_delta_minus_pinv_rel"] <= 1e-10
    assert m["network_delta_over_pinv"] == pytest.approx(1.0, abs=0.05)
    assert p["oracle_error"] <= 1e-10  # x lies in the oracle's subspace and m ≥ p


def test_recovery_law(tiny):
    r = tiny["cs.recovery-law"]
    m = r.measured
    assert r.passed, m
    assert m["max_rel_dev_m_ge_4p"] <= 0.15
    tri, gau = (np.asarray(m[f"rms_error_{f}"]) for f in ("triangle:4", "gaussian:3"))
    assert np.all(np.diff(tri) < 0) and np.all(np.diff(gau) < 0) and np.all(gau < tri)
    assert m["rms_tap_width"][1] > m["rms_tap_width"][0]  # the Gaussian is the wider filter


def test_rank_p_exact(tiny):
    r = tiny["cs.rank-p-exact"]
    m = r.measured
    assert r.passed, m
    assert m["max_error_m_ge_p"] <= 1e-8
    assert m["min_rms_error_m_lt_p"] >= 0.1
    ms, law = np.asarray(m["m"]), np.asarray(r.predicted["law_rms_error"])
    assert np.all(law[ms >= 5] == 0.0) and np.all(law[ms < 5] > 0.0)  # p = 5 at tiny


def test_noise_amplification(tiny):
    r = tiny["cs.noise-amplification"]
    m = r.measured
    assert r.passed, m
    assert m["peak_m"] == r.predicted["peak_m"] == 32  # m = n = df₂
    assert m["rises_then_falls"]
    assert m["max_rel_dev_compared"] <= 0.25
    var = np.asarray(m["variance"])
    assert var.max() > 10 * var[0]  # noise is strongly amplified at the threshold


def test_discrepancy_principle(tiny):
    r = tiny["cs.discrepancy-principle"]
    m, p = r.measured, r.predicted
    assert r.passed, m
    assert m["err_min"] <= m["err_dp"] <= 2.0 * m["err_min"]
    assert m["err_dp"] < m["err_convergence"]
    assert m["tau_dp"] < m["tau_star"]  # the rule stops before the oracle time
    assert abs(m["tau_dp"] - p["tau_dp_linear"]) <= 2
    assert m["err_convergence"] == pytest.approx(p["err_convergence_sigma"], rel=0.05)


#: Why each fault must fail: a predicate on the faulty run's ``measured`` / ``predicted`` numbers.
FAULT_REASONS = {
    # the prediction is the limit for another filter: the distance plateaus
    ("cs.gd-limit", "filter-swapped"):
        lambda m, p: abs(m["slope"]) < 0.1 and m["distance_sigma"][-1] > 0.1 and m["rate_rel_err_at_max_k"] > 0.1,
    ("cs.smoothest-beats-min-l2", "filter-swapped"): lambda m, p: p["xhat_delta_minus_pinv_rel"] > 0.1,
    ("cs.recovery-law", "filter-swapped"): lambda m, p: m["max_rel_dev_m_ge_4p"] > 0.5,
    ("cs.rank-p-exact", "range-misses-x"): lambda m, p: m["max_error_m_ge_p"] > 0.1 and not m["law_zero_for_m_ge_p"],
    ("cs.noise-amplification", "noise-doubled"): lambda m, p: m["max_rel_dev_compared"] > 0.6,  # ratio ≈ 1/4
    ("cs.discrepancy-principle", "noise-overestimated"): lambda m, p: p["tau_dp_linear"] < m["tau_dp"] - 2,
    ("cs.discrepancy-principle", "noise-underestimated"): lambda m, p: p["tau_dp_linear"] > m["tau_dp"] + 2,
}


def test_every_fault_is_covered():
    assert set(FAULT_REASONS) == {(name, f) for name in CS_CHECKS for f in get_check(name).faults}


@pytest.mark.parametrize(("name", "fault"), sorted(FAULT_REASONS))
def test_fault_fails(name, fault):
    res = get_check(name).run(profile="tiny", seed=0, fault=fault)
    assert not res.passed, res.measured
    assert FAULT_REASONS[name, fault](res.measured, res.predicted), (res.measured, res.predicted)


def test_plots(tiny):
    from ntk_toolkit.plotting import pyplot

    plt = pyplot()
    for name in CS_CHECKS:
        figs = get_check(name).plot(tiny[name])
        assert figs, name
        for stem, fig in figs:
            assert isinstance(stem, str)
            for ax in fig.axes:
                assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title(), name
                assert ax.get_legend() is not None, name
            plt.close(fig)


def test_results_are_json_ready(tiny):
    import json

    for name, r in tiny.items():
        d = r.to_dict()
        json.dumps(d)
        assert d["verdict"] == "PASS" and math.isfinite(d["elapsed"]), name
