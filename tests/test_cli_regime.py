"""``ntk-toolkit fit``, ``denoise`` and ``cs`` (1-D and ``--image``) print the regime verdict, where the regime
breaks and the width estimate."""

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
    assert len(payload["diagnostics"]["iterations"]) == len(payload["diagnostics"]["linearization_gap"])
    off = json.loads(CliRunner().invoke(main, argv + ["--json", "--no-diagnostics", "--tol", "0.5"]).output)
    assert "regime" not in off and "diagnostics" not in off and off["tol"] is None


# --------------------------------------------------------------------------- image commands
DENOISE = ["denoise", "--size", "12", "--filter", "bilinear", "--steps", "60", "--quiet"]


def test_denoise_prints_the_verdict_by_default():
    res = CliRunner().invoke(main, DENOISE + ["--k", "512"])
    assert res.exit_code == 0, res.output
    assert "regime (tol 0.1): in the linear regime" in res.output and "width needed" not in res.output


def test_denoise_out_of_the_regime_prints_where_and_the_width_and_json_has_them():
    argv = DENOISE + ["--k", "16", "--omega", "0.1", "--tol", "0.02"]
    res = CliRunner().invoke(main, argv)
    assert res.exit_code == 0, res.output
    assert "regime (tol 0.02): out of the linear regime from iteration" in res.output
    assert "width needed: gap ≈" in res.output
    payload = json.loads(CliRunner().invoke(main, argv + ["--json"]).output)
    result = payload["result"]
    assert result["regime"]["in_regime"] is False and result["regime"]["tol"] == 0.02
    assert result["diagnostics"]["iterations"][0] == 0 and result["diagnostics"]["iterations"][-1] == 60
    assert payload["width_needed"]["widths"] == [4, 8, 16]
    off = json.loads(CliRunner().invoke(main, argv + ["--json", "--no-diagnostics"]).output)
    assert "regime" not in off["result"] and "width_needed" not in off
    quick = CliRunner().invoke(main, argv + ["--no-width-estimate"])
    assert "out of the linear regime" in quick.output and "width needed" not in quick.output


def test_fit_image_judges_both_runs_and_estimates_the_width_of_the_worse():
    argv = ["fit", "--image", "camera", "--size", "12", "--filter", "bilinear", "--k", "16", "--omega", "0.1",
            "--tol", "0.02", "--steps", "400"]
    res = CliRunner().invoke(main, argv + ["--quiet"])
    assert res.exit_code == 0, res.output
    assert "regime, image (tol 0.02): " in res.output and "regime, noise (tol 0.02): " in res.output
    assert "width needed (" in res.output
    payload = json.loads(CliRunner().invoke(main, argv + ["--json"]).output)
    assert {"regime_image", "regime_noise", "diagnostics_image", "diagnostics_noise"} <= set(payload["result"])
    worse = max(("image", "noise"), key=lambda r: payload["result"][f"regime_{r}"]["max_gap"])
    assert payload["width_needed"]["run"] == worse


def test_cs_image_prints_the_verdict():
    argv = ["cs", "--image", "camera", "--size", "12", "--filter", "bilinear", "--k", "256", "--keep", "0.5",
            "--max-steps", "300"]
    res = CliRunner().invoke(main, argv + ["--quiet"])
    assert res.exit_code == 0, res.output
    assert "regime (tol 0.1): " in res.output
    payload = json.loads(CliRunner().invoke(main, argv + ["--json"]).output)
    assert payload["result"]["regime"]["tol"] == 0.1 and payload["tol"] == 0.1
    off = CliRunner().invoke(main, argv + ["--quiet", "--no-diagnostics"])
    assert off.exit_code == 0 and "regime (" not in off.output
