"""``ntk-toolkit fit`` prints the regime verdict, where the regime breaks and the width estimate."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ntk_toolkit.cli import main

BASE = ["fit", "--signal", "noise", "--filter", "triangle:2", "--n", "32", "--steps", "300", "--omega", "1"]


def test_fit_in_the_regime_prints_the_verdict():
    res = CliRunner().invoke(main, BASE + ["--k", "2048", "--quiet"])
    assert res.exit_code == 0, res.output
    assert "regime (tol 0.1): in the linear regime" in res.output
    assert "width needed" not in res.output


def test_fit_out_of_the_regime_prints_where_and_the_width():
    res = CliRunner().invoke(main, BASE + ["--k", "8", "--tol", "0.02", "--quiet"])
    assert res.exit_code == 0, res.output
    assert "out of the linear regime from iteration" in res.output
    assert "% of the activation signs flipped" in res.output
    assert "width needed:" in res.output


def test_fit_json_has_the_verdict_the_diagnostics_and_the_estimate():
    res = CliRunner().invoke(main, BASE + ["--k", "8", "--tol", "0.02", "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload["regime"]["in_regime"] is False and payload["regime"]["breaks_at"] >= 1
    diag = payload["diagnostics"]
    assert len(diag["linearization_gap"]) == len(diag["iterations"]) and diag["iterations"][0] == 0
    est = payload["width_needed"]
    assert est["widths"] == [2, 4, 8] and "exponent" in est and "exponent_stderr" in est


def test_fit_without_diagnostics():
    res = CliRunner().invoke(main, BASE + ["--k", "8", "--no-diagnostics", "--json"])
    assert res.exit_code == 0, res.output
    assert "regime" not in json.loads(res.output)


def test_fit_above_the_limit_prints_a_warning_and_runs():
    res = CliRunner().invoke(main, BASE + ["--k", "8", "--eta", "1.6", "--quiet", "--no-width-estimate"])
    assert res.exit_code == 0, res.output
    assert "warning: eta=1.6 is above the stability limit" in res.output


def test_fit_overflowing_initialisation_is_a_usage_error():
    res = CliRunner().invoke(main, BASE[:-2] + ["--omega", "1e300", "--k", "8", "--quiet"])
    assert res.exit_code == 2 and "initial loss" in res.output and "omega" in res.output


def test_cs_prints_the_verdict_and_reports_it_in_json():
    argv = ["cs", "--filter", "triangle:2", "--n", "32", "--m", "16", "--k", "256", "--quiet"]
    res = CliRunner().invoke(main, argv)
    assert res.exit_code == 0, res.output
    assert "regime (tol 0.1): " in res.output
    payload = json.loads(CliRunner().invoke(main, argv + ["--json"]).output)
    assert set(payload["regime"]) >= {"in_regime", "breaks_at", "max_gap", "message"}
