"""The dynamics checks at profile ``tiny``: they pass, report sensible numbers,
fail for every injected fault, and draw their figures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ntk_toolkit.checks import get_check

GAP = "dynamics.linearization-gap"
DECAY = "dynamics.per-component-decay"
FIT = "dynamics.structure-vs-noise"

_cache: dict = {}


def run(name, fault=None):
    """Each (check, fault) runs once per session: the tests below share the results."""
    if (name, fault) not in _cache:
        _cache[name, fault] = get_check(name).run(profile="tiny", seed=0, fault=fault)
    return _cache[name, fault]


def test_linearization_gap_passes():
    r = run(GAP)
    assert r.passed, r.measured
    m = r.measured
    assert -0.75 <= m["gap_slope"] <= -0.3
    assert m["sqrt_k_gap_spread"] <= 2.0
    gaps = np.asarray(m["gap_mean"])
    # measurable (far above rounding) and shrinking from the smallest to the largest width
    assert np.all(gaps > 1e-3) and np.all(gaps < 0.3)
    assert gaps[-1] < 0.5 * gaps[0]
    assert r.criterion["slope_range"] == [-0.75, -0.3]


def test_per_component_decay_passes():
    r = run(DECAY)
    assert r.passed, r.measured
    m = r.measured
    assert m["median_rel_err"] <= 0.10 and m["max_rel_err"] <= 0.25
    assert min(m["frequencies_selected"]) >= m["frequencies_total"] / 2
    d = r.data
    sel = np.isfinite(d["measured_rates"])
    assert np.all(d["measured_rates"][sel] > 0)
    # the prediction really is -log(1 - ηλ_f): largest at f = 0, spanning more than a decade
    pred = np.asarray(d["predicted_rates"])
    assert pred[0] == pred.max() and pred.max() / pred[sel].min() > 10


def test_structure_vs_noise_passes():
    r = run(FIT)
    assert r.passed, r.measured
    m, p = r.measured, r.predicted
    ratio = np.asarray(m["ratio_noise_to_smooth"])
    assert abs(ratio[0] - 1.0) <= 0.25  # δ filter: noise as fast as structure
    assert np.all(np.diff(ratio) > 0) and ratio[-1] > 10
    assert m["max_rel_dev_of_ratio"] <= 0.25
    # the interpolated predicted crossing rounds up to LinearizedPrediction.fit_time(0.1)
    ceil = np.asarray(p["fit_time_ceil_seed0"])  # (target, filter)
    frac = np.stack([p["fit_time_smooth"], p["fit_time_noise"]])
    assert np.array_equal(np.ceil(frac).astype(int), ceil)


@pytest.mark.parametrize("name", [GAP, DECAY, FIT])
def test_faults_fail(name):
    check = get_check(name)
    assert check.faults
    for fault in check.faults:
        r = run(name, fault)
        assert not r.passed, (fault, r.measured)


def test_fault_numbers():
    assert run(GAP, "eta-doubled").measured["gap_slope"] > -0.1  # the gap does not shrink
    assert run(DECAY, "eta-doubled").measured["median_rel_err"] > 0.3
    assert run(FIT, "filter-swapped").measured["max_rel_dev_of_ratio"] > 0.5


def test_results_are_json_serialisable():
    import json

    for name in (GAP, DECAY, FIT):
        d = run(name).to_dict()
        json.dumps(d)
        assert d["verdict"] == "PASS" and not any(isinstance(v, float) and math.isnan(v)
                                                  for v in d["measured"].values())


def test_plots_return_figures():
    from ntk_toolkit.plotting import pyplot

    plt = pyplot()
    for name in (GAP, DECAY, FIT):
        figs = get_check(name).plot(run(name))
        assert figs
        for stem, fig in figs:
            assert isinstance(stem, str)
            ax = fig.axes[0]
            assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
            assert ax.get_legend() is not None
            plt.close(fig)
