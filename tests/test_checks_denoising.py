"""The denoising checks (claims [9]–[11]) at profile ``tiny``: they pass, their key
numbers make sense, every injected fault makes them fail, and they draw figures."""

from __future__ import annotations

import numpy as np
import pytest

from ntk_toolkit.checks import get_check

NAMES = ("denoising.early-stopping-curve", "denoising.oracle", "denoising.three-term-bound")


@pytest.fixture(scope="module")
def results():
    """Each check run once at ``tiny`` (seed 0), shared by the tests below."""
    return {name: get_check(name).run(profile="tiny", seed=0) for name in NAMES}


def test_registered_in_family():
    for name in NAMES:
        check = get_check(name)
        assert check.family == "denoising"
        assert check.faults and check.plot is not None
        assert "Pass" in check.doc


def test_early_stopping_curve(results):
    res = results["denoising.early-stopping-curve"]
    assert res.passed, res.to_dict()
    m, p = res.measured, res.predicted
    assert abs(m["tau_star"] - p["tau_star_realised"]) <= 2
    assert abs(m["min_error"] / p["min_error_realised"] - 1) <= 0.10
    # early stopping denoises: the best error is well below ‖z‖, and the curve comes back up to ‖z‖
    assert m["min_error"] < 0.75 * m["noise_norm"]
    assert abs(m["final_error"] / m["noise_norm"] - 1) < 0.05
    assert m["G0_norm"] < 1e-10  # mirrored initialisation
    assert 0 < m["tau_star"] < m["horizon_T"]


def test_oracle(results):
    res = results["denoising.oracle"]
    assert res.passed, res.to_dict()
    m, p = res.measured, res.predicted
    assert m["best_error_wide"] <= 1.5 * p["oracle_error"]
    assert m["best_error_wide"] <= 0.5 * m["noise_norm"]
    assert abs(p["best_error_wide"] / m["best_error_wide"] - 1) <= 0.15
    assert abs(m["best_error_delta"] / p["best_error_delta_shrinkage"] - 1) <= 0.05
    # the δ filter gives no gain beyond scalar shrinkage, far worse than the wide filter
    assert m["best_error_delta"] >= 0.9 * p["shrinkage_closed_form"]
    assert m["best_error_delta"] > 2 * m["best_error_wide"]


def test_three_term_bound(results):
    res = results["denoising.three-term-bound"]
    assert res.passed, res.to_dict()
    m, c = res.measured, res.criterion
    assert c["a_passed"] and c["b_passed"] and c["c_passed"]
    assert c["slope_range"][0] <= m["max_E_slope"] <= c["slope_range"][1]
    assert m["max_E_over_y"][-1] < m["max_E_over_y"][0]
    assert np.all(np.asarray(m["violation_without_E"]) <= np.asarray(m["max_E_over_y"]) + 1e-12)
    assert m["full_bound_excess"] <= 1e-9
    assert m["G0_norm_max"] < 1e-10


@pytest.mark.parametrize("name,fault", [(n, f) for n in NAMES for f in get_check(n).faults])
def test_fault_makes_check_fail(name, fault):
    res = get_check(name).run(profile="tiny", seed=0, fault=fault)
    assert not res.passed, res.to_dict()
    m, p = res.measured, res.predicted
    if name == "denoising.early-stopping-curve":  # 2η halves the predicted stopping time
        assert p["tau_star_realised"] < m["tau_star"] - 2
    elif name == "denoising.oracle":  # the δ kernel predicts no denoising beyond shrinkage
        assert p["best_error_wide"] > 1.15 * m["best_error_wide"]
    else:  # the violation does not shrink with k
        assert min(m["violation_without_E"]) > 0.05


def test_plots_return_figures(results):
    from ntk_toolkit.plotting import pyplot

    plt = pyplot()
    for name in NAMES:
        figs = get_check(name).plot(results[name])
        assert figs
        for stem, fig in figs:
            assert isinstance(stem, str)
            assert all(ax.get_xlabel() and ax.get_ylabel() and ax.get_title() for ax in fig.axes)
            assert all(ax.get_legend() is not None for ax in fig.axes)
            plt.close(fig)
