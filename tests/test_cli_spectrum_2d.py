"""``ntk-toolkit spectrum`` for images: ``--filter <2-D filter> --shape HxW``, its output and its errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import ntk_toolkit as nt
import ntk_toolkit.cli.spectrum as spectrum_cli
from ntk_toolkit.cli import main
from ntk_toolkit.filters import from_spec
from ntk_toolkit.operators import CircularConv2D

SPECTRUM_1D_KEYS = {"filter", "n", "method", "U_norm", "lambda_max", "lambda_min", "condition_number", "trace",
                    "seconds", "spectrum"}


@pytest.fixture
def runner():
    return CliRunner()


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _direct_eigenvalue(s_row, f, shape):
    h, w = shape
    d1, d2 = np.divmod(np.arange(h * w), w)
    return float(np.sum(s_row * np.cos(2 * np.pi * (f[0] * d1 / h + f[1] * d2 / w))))


def test_json_has_eigenvalues_frequency_pairs_and_shape(runner):
    data = _json(runner.invoke(main, ["spectrum", "--filter", "triangle2d:2", "--shape", "6x8", "--json"]))
    assert data["shape"] == [6, 8] and data["n"] == 48 and data["filter"] == "triangle2d(2)"
    spec = data["spectrum"]
    assert spec["shape"] == [6, 8]
    lam = np.array(spec["eigenvalues"])
    freqs = np.array(spec["frequencies"])
    assert lam.shape == (48,) and freqs.shape == (48, 2)
    assert np.all(np.diff(lam) <= 0)
    # the same numbers as the dense Σ, and each eigenvalue is λ(f) of its frequency pair
    sigma = nt.expected_kernel(nt.TwoLayerGenerator(CircularConv2D(from_spec("triangle2d:2"), (6, 8)), 2))
    np.testing.assert_allclose(lam, np.linalg.eigvalsh(sigma)[::-1], rtol=0, atol=1e-12 * lam[0])
    for value, f in zip(lam, freqs):
        assert value == pytest.approx(_direct_eigenvalue(sigma[0], f, (6, 8)), rel=1e-10)
    assert data["lambda_max"] == lam[0] and data["lambda_min"] == lam[-1]
    assert data["trace"] == pytest.approx(24.0)  # tr Σ = n ‖u‖² / 2
    assert np.array(spec["eigenvalues_by_frequency"]).shape == (6, 5)


def test_human_readable_lists_frequency_pairs(runner):
    result = runner.invoke(main, ["spectrum", "--filter", "gaussian2d:1", "--shape", "16x16", "--top", "5"])
    assert result.exit_code == 0, result.output
    assert "16x16 images, n=256" in result.output and "gaussian2d(1)" in result.output
    lines = [line.strip() for line in result.output.splitlines() if line.strip().startswith("λ_") and "(f = " in line]
    assert lines[0].endswith("(f = (0, 0), cos)")
    assert [line.split("(f = ")[1] for line in lines[1:5]] == ["(0, 1), cos)", "(0, 1), sin)", "(1, 0), cos)",
                                                             "(1, 0), sin)"]


def test_plot_is_one_figure_with_spectrum_and_eigen_images(runner, tmp_path, monkeypatch):
    drawn = []
    real_save = spectrum_cli.save_plot

    def keep(fig, path):
        drawn.append([ax for ax in fig.axes if ax.get_visible() and ax.axison])
        real_save(fig, path)

    monkeypatch.setattr(spectrum_cli, "save_plot", keep)
    out = tmp_path / "s.png"
    result = runner.invoke(main, ["spectrum", "--filter", "bilinear", "--shape", "12x10", "--top", "6",
                                  "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["s.png"]
    axes = drawn[0]
    images = [ax for ax in axes if ax.get_title().startswith("λ_")]
    assert len(images) == 6  # the --top leading eigen-images; the 2 spare panels of the 2x4 grid are hidden
    assert any(ax.get_title() == "radial profile" for ax in axes)
    assert any(ax.get_title() == "eigenvalues of Σ, 12×10" for ax in axes)
    assert f"figure: {out}" in result.output


def test_plot_pdf_and_at_most_twelve_eigen_images(runner, tmp_path):
    out = tmp_path / "s.pdf"
    result = runner.invoke(main, ["spectrum", "--filter", "box2d:2", "--shape", "8x8", "--top", "20",
                                  "--plot", str(out), "--json"])
    data = _json(result)
    assert data["plot"] == str(out)
    assert out.read_bytes()[:5] == b"%PDF-"


def test_one_dimensional_form_is_unchanged(runner):
    data = _json(runner.invoke(main, ["spectrum", "--filter", "triangle:4", "--n", "32", "--json"]))
    assert set(data) == SPECTRUM_1D_KEYS
    assert data["n"] == 32 and "shape" not in data["spectrum"]
    result = runner.invoke(main, ["spectrum", "--filter", "triangle:4", "--n", "16", "--top", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("expected kernel Σ of triangle(4), n=16 (circulant-fft, ")
    assert result.output.splitlines()[-1].strip().endswith("(f = 1)")


@pytest.mark.parametrize("args, where, what", [
    (["--filter", "triangle2d:3"], "'--shape'", "is a 2-D (image) filter: give the image shape with --shape HxW"),
    (["--filter", "triangle:4", "--shape", "16x16"], "'--shape'", "'triangle:4' is a 1-D filter: give the signal "
                                                                   "length with --n"),
    (["--filter", "triangle2d:3", "--shape", "4x8"], "'--filter' / '--shape'",
     "has 5x5 taps, larger than the image shape (4, 8)"),
    (["--filter", "triangle2d:3", "--shape", "64"], "'--shape'", "an image shape has two sizes HxW"),
    (["--filter", "triangle2d:3", "--shape", "8by8"], "'--shape'", "'8by8' is not recognised"),
    (["--filter", "triangle2d:3", "--shape", "0x8"], "'--shape'", "zero size"),
    (["--filter", "triangle2d:3", "--shape", "16x16", "--n", "256"], "--n", "drop --n"),
    (["--filter", "triangle2d:q", "--shape", "16x16"], "'--filter'", "triangle2d:P"),
    (["--filter", "bilinear", "--shape", "16x16", "--plot", "s.gif"], "'--plot'", "suffix"),
])
def test_mismatches_are_usage_errors_naming_the_option(runner, args, where, what):
    result = runner.invoke(main, ["spectrum", *args])
    assert result.exit_code == 2, result.output
    assert where in result.output and what in result.output, result.output
    assert "Traceback" not in result.output


def test_help_shows_the_image_example(runner):
    result = runner.invoke(main, ["spectrum", "--help"])
    assert result.exit_code == 0
    assert "--shape" in result.output and "ntk-toolkit spectrum --filter triangle2d:3 --shape 256x256" in result.output
