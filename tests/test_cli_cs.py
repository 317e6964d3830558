"""The compressive-sensing commands ``ntk-toolkit cs`` and ``ntk-toolkit cs-curve``
(``ntk_toolkit/cli/cs.py``) at tiny sizes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from ntk_toolkit.cli import main

TINY_CS = ["cs", "--n", "32", "--m", "12", "--k", "64", "--filter", "triangle:4", "--max-steps", "3000",
           "--rtol", "1e-5"]
TINY_CURVE = ["cs-curve", "--filters", "triangle:2,triangle:4", "--n", "32", "--ms", "4,8,16", "--trials", "3"]

CS_KEYS = {
    "filter", "filter_spec", "n", "m", "k", "measurement", "signal", "p", "noise", "omega", "seed", "eta",
    "rtol", "max_steps", "converged", "reason", "steps", "final_loss_ratio", "initial_output_norm",
    "relative_errors", "predicted_relative_rms_error_smoothest", "network_to_smoothest",
    "measurement_residual_network", "seconds", "ms_per_step", "regime", "diagnostics", "tol", "plot",
}
ERROR_KEYS = {"network", "smoothest_interpolant", "min_l2", "l1_dct"}


def run(args, ok=True):
    res = CliRunner().invoke(main, args)
    if ok:
        assert res.exit_code == 0, (res.output, res.exception)
    return res


def run_json(args):
    return json.loads(run(args + ["--json"]).stdout)


@pytest.fixture(scope="module")
def cs_json():
    return run_json(TINY_CS)


# --------------------------------------------------------------------------- cs
def test_cs_json_keys_and_consistency(cs_json):
    d = cs_json
    assert set(d) == CS_KEYS
    assert set(d["relative_errors"]) == ERROR_KEYS
    assert (d["n"], d["m"], d["k"], d["measurement"], d["signal"], d["p"]) == (32, 12, 64, "gaussian", "smooth", 9)
    assert d["filter"] == "triangle(4)" and d["plot"] is None
    assert d["converged"] is True and "rtol" in d["reason"]
    assert 0 < d["steps"] <= 3000 and d["final_loss_ratio"] <= 1e-5
    assert d["initial_output_norm"] < 1e-12  # mirrored initialisation
    assert d["measurement_residual_network"] < 1e-2
    errs = d["relative_errors"]
    assert all(math.isfinite(v) and v >= 0 for v in errs.values())
    # a smooth signal: the smoothest interpolant beats A⁺y (theory.md §5.1)
    assert errs["smoothest_interpolant"] < errs["min_l2"]
    assert d["predicted_relative_rms_error_smoothest"] > 0
    assert 0 <= d["network_to_smoothest"] < 1


def test_cs_is_reproducible(cs_json):
    again = run_json(TINY_CS)
    for key in ("relative_errors", "steps", "network_to_smoothest", "eta", "reason"):
        assert again[key] == cs_json[key]
    other = run_json(TINY_CS + ["--seed", "1"])
    assert other["relative_errors"] != cs_json["relative_errors"]


def test_cs_text_output():
    res = run(TINY_CS + ["--quiet"])
    out = res.stdout
    for words in ("n=32, m=12 gaussian measurements", "converged: yes", "rtol", "network (gradient descent)",
                  "smoothest interpolant", "recovery law", "A⁺y", "l1 in the DCT basis",
                  "network vs smoothest interpolant"):
        assert words in out, words


def test_cs_capped_run_reports_not_converged():
    d = run_json(TINY_CS + ["--max-steps", "5"])
    assert d["converged"] is False and d["steps"] == 5
    assert "max_steps" in d["reason"]
    res = run(TINY_CS + ["--max-steps", "5", "--quiet"])
    assert "converged: NO" in res.stdout and "max_steps" in res.stdout


@pytest.mark.parametrize("measurement,signal", [("mask", "step"), ("dct", "piecewise-smooth")])
def test_cs_other_measurements_and_signals(measurement, signal):
    d = run_json(TINY_CS + ["--measurement", measurement, "--signal", signal, "--noise", "0.01",
                            "--max-steps", "200"])
    assert d["measurement"] == measurement and d["signal"] == signal and d["noise"] == 0.01
    assert d["p"] is None
    assert d["predicted_relative_rms_error_smoothest"] is None  # the law is for Gaussian A
    assert all(math.isfinite(v) for v in d["relative_errors"].values())


def test_cs_plot_is_written_atomically(tmp_path):
    out = tmp_path / "figs" / "cs.png"
    res = run(TINY_CS + ["--max-steps", "50", "--plot", str(out), "--quiet"])
    assert f"figure: {out}" in res.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["cs.png"]
    d = run_json(TINY_CS + ["--max-steps", "50", "--plot", str(tmp_path / "cs.pdf")])
    assert d["plot"] == str(tmp_path / "cs.pdf")
    assert (tmp_path / "cs.pdf").read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cs.pdf", "figs"]


@pytest.mark.parametrize("command", [TINY_CS + ["--max-steps", "5"], TINY_CURVE])
def test_failed_plot_leaves_no_partial_file(tmp_path, monkeypatch, command):
    """A figure that fails half-way through writing leaves nothing behind and a clear error."""
    import matplotlib.figure

    def broken_savefig(self, fname, **kwargs):
        with open(fname, "wb") as fh:
            fh.write(b"\x89PNG partial")
        raise OSError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken_savefig)
    out = tmp_path / "fig.png"
    res = run(command + ["--plot", str(out), "--quiet"], ok=False)
    assert res.exit_code == 1
    assert "--plot" in res.output and "disk full" in res.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [TINY_CS, TINY_CURVE])
def test_unsupported_plot_format_is_rejected_up_front(tmp_path, command):
    res = run(command + ["--plot", str(tmp_path / "fig.notaformat")], ok=False)
    assert res.exit_code == 2
    assert "--plot" in res.output and "fig.notaformat" in res.output and ".png" in res.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--m", "40"], ["--m", "40", "n=32"]),
        (["--m", "0"], ["--m", "0"]),
        (["--k", "63"], ["--k", "63", "even"]),
        (["--k", "0"], ["--k", "0"]),
        (["--n", "1"], ["--n", "1"]),
        (["--filter", "wiggle:3"], ["--filter", "wiggle:3"]),
        (["--filter", "triangle:40"], ["--filter", "triangle:40", "n=32"]),
        (["--noise", "-0.1"], ["--noise", "-0.1"]),
        (["--omega", "0"], ["--omega", "0"]),
        (["--rtol", "2"], ["--rtol", "2"]),
        (["--max-steps", "0"], ["--max-steps", "0"]),
        (["--p", "0"], ["--p", "0"]),
        (["--p", "33"], ["--p", "33"]),
        (["--seed", "-1"], ["--seed", "-1"]),
        (["--measurement", "fourier"], ["--measurement", "fourier"]),
        (["--signal", "noise"], ["--signal", "noise"]),
    ],
)
def test_cs_bad_input_names_the_option(extra, words):
    res = run(TINY_CS + extra, ok=False)
    assert res.exit_code == 2, res.output
    for w in words:
        assert w in res.output, (w, res.output)


def test_cs_help_has_example():
    res = run(["cs", "--help"])
    assert "Example" in res.output and "ntk-toolkit cs --filter" in res.output
    for opt in ("--measurement", "--noise", "--signal", "--omega", "--max-steps", "--rtol", "--plot", "--quiet"):
        assert opt in res.output


# --------------------------------------------------------------------------- cs-curve
@pytest.fixture(scope="module")
def curve_json():
    return run_json(TINY_CURVE)


def test_cs_curve_json(curve_json):
    d = curve_json
    assert set(d) == {"n", "ms", "trials", "signal", "p", "noise", "seed", "measurement", "filters", "min_l2",
                      "seconds", "plot"}
    assert d["ms"] == [4, 8, 16] and d["trials"] == 3 and d["n"] == 32
    assert [f["filter"] for f in d["filters"]] == ["triangle(2)", "triangle(4)"]
    for f in d["filters"]:
        assert set(f) == {"filter", "spec", "simulated_rms", "predicted_rms", "kappa"}
        assert len(f["simulated_rms"]) == len(f["predicted_rms"]) == len(f["kappa"]) == 3
        assert all(0 < v < 1.5 for v in f["simulated_rms"] + f["predicted_rms"])
        # more measurements, smaller predicted error and effective ridge
        assert f["predicted_rms"] == sorted(f["predicted_rms"], reverse=True)
        assert f["kappa"] == sorted(f["kappa"], reverse=True)
    # the smoother filter predicts smaller errors for this smooth signal
    assert all(a > b for a, b in zip(d["filters"][0]["predicted_rms"], d["filters"][1]["predicted_rms"]))
    # A⁺y: Σ = I/2, the law gives √(1 − m/n) without noise
    np.testing.assert_allclose(d["min_l2"]["predicted_rms"], [math.sqrt(1 - m / 32) for m in d["ms"]], rtol=1e-9)
    assert len(d["min_l2"]["simulated_rms"]) == 3


def test_cs_curve_reproducible_and_seeded(curve_json):
    again = run_json(TINY_CURVE)
    assert again["filters"] == curve_json["filters"] and again["min_l2"] == curve_json["min_l2"]
    other = run_json(TINY_CURVE + ["--seed", "3"])
    assert other["filters"][0]["simulated_rms"] != curve_json["filters"][0]["simulated_rms"]


def test_cs_curve_table():
    res = run(TINY_CURVE + ["--quiet"])
    out = res.stdout
    lines = out.splitlines()
    assert "triangle(2)" in out and "triangle(4)" in out and "A⁺y" in out and "sim" in out and "pred" in out
    rows = [ln for ln in lines if ln.split("|")[0].strip().isdigit()]
    assert [int(r.split("|")[0]) for r in rows] == [4, 8, 16]
    assert all(len(r.split("|")) == 4 for r in rows)  # m, two filters, A⁺y


def test_cs_curve_default_ms_custom_filter_and_noise():
    d = run_json(["cs-curve", "--filters", "triangle:3,custom:1,2,1", "--n", "32", "--trials", "1",
                  "--noise", "0.05"])
    assert [f["spec"] for f in d["filters"]] == ["triangle:3", "custom:1,2,1"]
    assert d["ms"] == [2, 4, 6, 8, 12, 16, 24]
    assert d["noise"] == 0.05
    # with noise the A⁺y law adds σ² m²/(n − m) to 1 − m/n
    np.testing.assert_allclose(d["min_l2"]["predicted_rms"],
                               [math.sqrt(1 - m / 32 + 0.05**2 * m * m / (32 - m)) for m in d["ms"]], rtol=1e-9)


def test_cs_curve_plot_is_written_atomically(tmp_path):
    out = tmp_path / "curve.png"
    res = run(TINY_CURVE + ["--plot", str(out), "--quiet"])
    assert f"figure: {out}" in res.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--ms", "0,8"], ["--ms", "m=0"]),
        (["--ms", "8,64"], ["--ms", "m=64", "n=32"]),
        (["--ms", "a,b"], ["--ms", "'a'"]),
        (["--ms", ","], ["--ms"]),
        (["--filters", "triangle:2,bogus"], ["--filters", "bogus"]),
        (["--filters", "gaussian:3", "--n", "16", "--ms", "4"], ["--filters", "gaussian:3", "n=16"]),
        (["--filters", ""], ["--filters"]),
        (["--trials", "0"], ["--trials", "0"]),
        (["--n", "1"], ["--n", "1"]),
        (["--p", "40"], ["--p", "40"]),
        (["--noise", "nan"], ["--noise", "nan"]),
    ],
)
def test_cs_curve_bad_input_names_the_option(extra, words):
    res = run(TINY_CURVE + extra, ok=False)
    assert res.exit_code == 2, res.output
    for w in words:
        assert w in res.output, (w, res.output)


def test_cs_curve_help_has_example():
    res = run(["cs-curve", "--help"])
    assert "Example" in res.output and "ntk-toolkit cs-curve --filters" in res.output


def test_commands_are_registered():
    res = run(["--help"])
    assert " cs " in res.output or "\n  cs" in res.output
    assert "cs-curve" in res.output
