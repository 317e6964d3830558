"""The ntk-toolkit command line (click): JSON output, figures, errors, ``python -m``."""

from __future__ import annotations

import json
import subprocess
import sys

import naive
import numpy as np
import pytest
from click.testing import CliRunner

from conftest import RTOL
from ntk_toolkit.cli import main

FIT_KEYS = {
    "signal", "filter", "n", "k", "steps", "eta", "omega", "seed", "delta", "initial_output_norm",
    "final_relative_residual", "predicted_final_relative_residual", "fit_time_actual", "fit_time_predicted",
    "max_gap_relative_residual", "seconds", "ms_per_step",
}


@pytest.fixture
def runner():
    return CliRunner()


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_spectrum_json(runner):
    data = _json(runner.invoke(main, ["spectrum", "--filter", "triangle:4", "--n", "64", "--json"]))
    lam = np.array(data["spectrum"]["eigenvalues"])
    assert lam.shape == (64,)
    assert np.all(np.diff(lam) <= 0), "eigenvalues not decreasing"
    assert data["n"] == 64 and data["filter"] == "triangle(4)"
    assert data["lambda_max"] == lam[0] and data["lambda_min"] == lam[-1]
    # the numbers are the spectrum of Σ (naive double loop + eigvalsh)
    from ntk_toolkit.filters import triangle

    U = naive.conv_matrix(triangle(4).taps, 64)
    ref = naive.eigvals_desc(naive.expected_kernel(U, naive.default_v(2)))
    assert float(np.max(np.abs(lam - ref))) <= RTOL * ref[0]
    assert abs(data["trace"] - 32.0) <= RTOL * 32.0  # tr Σ = n ‖u‖² / 2


def test_spectrum_human_readable(runner):
    result = runner.invoke(main, ["spectrum", "--filter", "gaussian:2", "--n", "32", "--top", "3"])
    assert result.exit_code == 0, result.output
    assert "λ_max" in result.output and "gaussian(2)" in result.output
    assert result.output.count("(f = ") == 3


def test_fit_json(runner):
    data = _json(runner.invoke(main, ["fit", "--n", "32", "--k", "64", "--steps", "50", "--json", "--quiet"]))
    assert FIT_KEYS <= set(data), FIT_KEYS - set(data)
    assert data["n"] == 32 and data["k"] == 64 and data["steps"] == 50
    assert 0 <= data["final_relative_residual"] < 1
    assert 0 <= data["predicted_final_relative_residual"] < 1
    # default step: max_step_size(gen) = 1 / ‖U‖² (‖v‖ = 1)
    from ntk_toolkit.filters import triangle

    U = naive.conv_matrix(triangle(4).taps, 32)
    assert abs(data["eta"] - 1.0 / np.linalg.norm(U, 2) ** 2) <= RTOL * data["eta"]


def test_fit_is_reproducible(runner):
    args = ["fit", "--n", "16", "--k", "8", "--steps", "20", "--json", "--quiet", "--seed", "3"]
    a, b = _json(runner.invoke(main, args)), _json(runner.invoke(main, args))
    for key in ("final_relative_residual", "initial_output_norm", "fit_time_actual",
                "predicted_final_relative_residual"):
        assert a[key] == b[key]


@pytest.mark.parametrize("cmd", [
    ["spectrum", "--filter", "triangle:4", "--n", "64"],
    ["fit", "--n", "16", "--k", "8", "--steps", "10", "--quiet"],
])
def test_plot_writes_png_atomically(runner, tmp_path, cmd):
    out = tmp_path / "figs" / "fig.png"
    result = runner.invoke(main, cmd + ["--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    leftovers = [p.name for p in out.parent.iterdir() if p.name != "fig.png"]
    assert leftovers == [], f"stray partial files: {leftovers}"


@pytest.mark.parametrize("args, where, what", [
    (["spectrum", "--filter", "foo:3"], "--filter", "not recognised"),
    (["spectrum", "--filter", "triangle:x"], "--filter", "triangle:P"),
    (["spectrum", "--filter", "triangle:40", "--n", "16"], "--filter", "longer than the signal length n=16"),
    (["fit", "--filter", "box:0", "--steps", "1"], "--filter", "width"),
    (["fit", "--k", "3", "--n", "16", "--steps", "1"], "--k", "k must be even, got 3"),
])
def test_bad_arguments_exit_nonzero_with_helpful_message(runner, args, where, what):
    result = runner.invoke(main, args)
    assert result.exit_code != 0
    assert where in result.output and what in result.output, result.output
    assert "Traceback" not in result.output


def test_help_has_examples(runner):
    for cmd in (["--help"], ["spectrum", "--help"], ["fit", "--help"]):
        result = runner.invoke(main, cmd)
        assert result.exit_code == 0
        assert "Example" in result.output


def test_python_dash_m_help():
    out = subprocess.run([sys.executable, "-m", "ntk_toolkit", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "spectrum" in out.stdout and "fit" in out.stdout
    assert "ntk-toolkit" in out.stdout
