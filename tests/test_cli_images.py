"""The image commands of ``ntk-toolkit``: ``denoise``, ``fit --image`` and ``cs --image``, at tiny sizes.

Each command's JSON carries the result's ``to_dict()`` under ``"result"``; it is checked against
the library function called directly with the same arguments (the generator, the image and the
seed built as the command builds them).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import ntk_toolkit as nt
from conftest import RTOL
from ntk_toolkit import images
from ntk_toolkit.cli import main
from ntk_toolkit.filters import from_spec
from ntk_toolkit.image_experiments import denoise_image, fit_image_vs_noise, inpaint_image
from ntk_toolkit.measurements import GaussianMeasurement, RandomMask, SubsampledDCT2D

TINY_DENOISE = ["denoise", "--image", "camera", "--size", "16", "--filter", "triangle2d:2", "--k", "32",
                "--steps", "30", "--sigma", "0.1"]
TINY_FIT = ["fit", "--image", "camera", "--size", "16", "--filter", "triangle2d:2", "--k", "32", "--steps", "200"]
TINY_CS = ["cs", "--image", "camera", "--size", "16", "--filter", "bilinear", "--k", "32", "--max-steps", "300"]

IMAGE_KEYS = {"image", "size", "filter", "filter_spec", "k", "omega", "eta", "seed", "result", "seconds", "plot",
              "tol"}
DENOISE_KEYS = IMAGE_KEYS | {"sigma", "steps", "clip"}
FIT_KEYS = IMAGE_KEYS | {"steps", "delta", "noise"}
CS_KEYS = IMAGE_KEYS | {"measurement", "keep", "m", "rtol", "max_steps", "law_psnr", "gaussian_psnr"}


def run(args, ok=True):
    res = CliRunner().invoke(main, args)
    if ok:
        assert res.exit_code == 0, (res.output, res.exception)
    return res


def run_json(args):
    return json.loads(run(args + ["--json"]).stdout)


def gen_and_image(spec, shape, k, name="camera"):
    gen = nt.TwoLayerGenerator(nt.CircularConv2D(from_spec(spec), shape), k)
    return gen, images.load(name, size=shape)


def assert_same(cli, lib, path="result"):
    """The JSON of the command equals the library's ``to_dict()`` (floats to RTOL, NaN equal to NaN)."""
    lib = json.loads(json.dumps(lib))  # the library's dict as JSON would carry it
    if isinstance(lib, dict):
        assert set(cli) == set(lib), (path, set(cli) ^ set(lib))
        for key in lib:
            assert_same(cli[key], lib[key], f"{path}.{key}")
    elif isinstance(lib, list):
        assert len(cli) == len(lib), path
        for i, (a, b) in enumerate(zip(cli, lib)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(lib, float) and not isinstance(cli, str):
        if math.isnan(lib):
            assert math.isnan(cli), path
        else:
            assert cli == pytest.approx(lib, rel=RTOL, abs=0), path
    else:
        assert cli == lib, path


def no_leftovers(folder, *names):
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


# --------------------------------------------------------------------------- denoise
@pytest.fixture(scope="module")
def denoise_json():
    return run_json(TINY_DENOISE + ["--seed", "3"])


def test_denoise_json_is_the_library_result(denoise_json):
    d = denoise_json
    assert set(d) == DENOISE_KEYS
    assert (d["image"], d["size"], d["filter"], d["filter_spec"], d["k"], d["sigma"], d["steps"], d["seed"]) == \
        ("camera", [16, 16], "triangle2d(2)", "triangle2d:2", 32, 0.1, 30, 3)
    assert d["clip"] is False and d["plot"] is None and d["omega"] == 16.0
    gen, x = gen_and_image("triangle2d:2", (16, 16), 32)
    res = denoise_image(gen, x, 0.1, 30, seed=3, diagnostics=True)
    assert_same(d["result"], res.to_dict())
    assert d["eta"] == res.eta
    r = d["result"]
    for key in ("noisy_psnr", "best_psnr", "predicted_best_psnr", "final_psnr", "best_iteration",
                "predicted_best_iteration"):
        assert key in r
    assert r["best_psnr"] > r["noisy_psnr"]  # early stopping denoises


def test_denoise_options_reach_the_library():
    d = run_json(TINY_DENOISE + ["--size", "12x16", "--omega", "4", "--eta", "0.05", "--clip", "--sigma", "0.2",
                                 "--filter", "box2d:3"])
    gen, x = gen_and_image("box2d:3", (12, 16), 32)
    res = denoise_image(gen, x, 0.2, 30, seed=0, omega=4.0, eta=0.05, clip=True, diagnostics=True)
    assert_same(d["result"], res.to_dict())
    assert d["size"] == [12, 16] and d["result"]["shape"] == [12, 16] and d["clip"] is True


def test_denoise_text_output(denoise_json):
    out = run(TINY_DENOISE + ["--seed", "3", "--quiet"]).stdout
    for words in ("denoising camera (16x16)", "σ = 0.1", "triangle2d(2), k=32", "noisy image",
                  "best stopping time, predicted", "best stopping time, network", "after 30 steps"):
        assert words in out, (words, out)
    r = denoise_json["result"]
    assert f"{r['noisy_psnr']:6.2f} dB" in out and f"at τ = {r['predicted_best_iteration']}" in out
    assert "gradient descent" not in out  # no progress bar with --quiet (and none on stdout anyway)


def test_denoise_default_image_and_progress_bar_on_stderr():
    res = run(["denoise", "--size", "12", "--k", "8", "--steps", "5"])
    assert "denoising camera (12x12)" in res.stdout
    assert "gradient descent" in res.stderr
    assert "gradient descent" not in run(["denoise", "--size", "12", "--k", "8", "--steps", "5", "--quiet"]).stderr


# --------------------------------------------------------------------------- fit --image
@pytest.fixture(scope="module")
def fit_json():
    return run_json(TINY_FIT)


def test_fit_image_json_is_the_library_result(fit_json):
    d = fit_json
    assert set(d) == FIT_KEYS
    assert (d["image"], d["size"], d["filter"], d["k"], d["steps"], d["delta"], d["noise"], d["omega"]) == \
        ("camera", [16, 16], "triangle2d(2)", 32, 200, 0.1, "gaussian", 16.0)
    gen, x = gen_and_image("triangle2d:2", (16, 16), 32)
    res = fit_image_vs_noise(gen, x, 200, seed=0, diagnostics=True)
    assert_same(d["result"], res.to_dict())
    r = d["result"]
    assert r["fit_time_image"] < r["fit_time_noise"] and r["ratio"] > 1 and r["predicted_ratio"] > 1


def test_fit_image_options_and_defaults():
    # no --filter: the image default triangle2d:2; --noise, --delta, --omega, --seed reach the library
    d = run_json(["fit", "--image", "shepp_logan_phantom", "--size", "12", "--k", "16", "--steps", "40",
                  "--noise", "uniform", "--delta", "0.3", "--omega", "2", "--seed", "5"])
    assert d["filter_spec"] == "triangle2d:2" and d["noise"] == "uniform"
    gen, x = gen_and_image("triangle2d:2", (12, 12), 16, "shepp_logan_phantom")
    res = fit_image_vs_noise(gen, x, 40, seed=5, delta=0.3, noise="uniform", omega=2.0, diagnostics=True)
    assert_same(d["result"], res.to_dict())


def test_fit_image_text_output(fit_json):
    out = run(TINY_FIT + ["--quiet"]).stdout
    r = fit_json["result"]
    for words in ("fitting camera (16x16) and gaussian noise of the same norm", "network", "predicted",
                  "ratio noise / image", f"{r['ratio']:.3g}", f"{r['predicted_ratio']:.3g}"):
        assert words in out, (words, out)
    capped = run(TINY_FIT[:-1] + ["3", "--quiet"]).stdout  # --steps 3: the noise is not fitted
    assert "> 3" in capped and "lower bound" in capped


def test_fit_signal_form_is_unchanged():
    """Without --image, fit is the 1-D command: its JSON has no image keys and ω defaults to 0.01."""
    d = run_json(["fit", "--n", "16", "--k", "8", "--steps", "5", "--quiet"])
    assert d["omega"] == 0.01 and d["signal"] == "smooth" and "image" not in d and "result" not in d


# --------------------------------------------------------------------------- cs --image
@pytest.fixture(scope="module")
def cs_json():
    return run_json(TINY_CS + ["--keep", "0.4"])


def test_cs_image_mask_json_is_the_library_result(cs_json):
    d = cs_json
    assert set(d) == CS_KEYS
    assert (d["image"], d["size"], d["filter"], d["measurement"], d["keep"], d["m"], d["max_steps"]) == \
        ("camera", [16, 16], "bilinear", "mask", 0.4, None, 300)
    gen, x = gen_and_image("bilinear", (16, 16), 32)
    res = inpaint_image(gen, x, 0.4, seed=0, max_steps=300, diagnostics=True)
    assert_same(d["result"], res.to_dict())
    r = d["result"]
    assert r["measurement"].startswith("RandomMask") and r["psnr_interpolant"] > r["psnr_min_l2"]
    # the law's PSNR: MSE = law_error² ‖x‖² / n
    assert d["law_psnr"] == pytest.approx(10 * math.log10(x.size / (r["law_error"] ** 2 * float(np.sum(x * x)))))
    assert d["gaussian_psnr"] == pytest.approx(
        10 * math.log10(x.size / (r["gaussian_error"] ** 2 * float(np.sum(x * x)))))


@pytest.mark.parametrize("extra, build", [
    (["--measurement", "dct", "--m", "90"], lambda rng, shape: SubsampledDCT2D(90, shape, seed=rng)),
    (["--measurement", "gaussian", "--m", "70"], lambda rng, shape: GaussianMeasurement(70, 256, seed=rng)),
    (["--measurement", "mask", "--m", "100"], lambda rng, shape: RandomMask(256, m=100, seed=rng)),
    (["--measurement", "dct", "--keep", "0.25"], lambda rng, shape: SubsampledDCT2D(64, shape, seed=rng)),
])
def test_cs_image_operators_are_the_library_result(extra, build):
    d = run_json(TINY_CS + extra + ["--seed", "2"])
    gen, x = gen_and_image("bilinear", (16, 16), 32)
    A = build(np.random.default_rng(2).spawn(1)[0], (16, 16))  # the stream inpaint_image draws its mask from
    res = inpaint_image(gen, x, A=A, seed=2, max_steps=300, diagnostics=True)
    assert_same(d["result"], res.to_dict())
    assert d["result"]["m"] == A.shape[0]


def test_cs_image_defaults_and_text_output(cs_json):
    d = run_json(["cs", "--image", "camera", "--size", "12", "--k", "16", "--max-steps", "20"])
    assert (d["measurement"], d["keep"], d["filter_spec"], d["omega"]) == ("mask", 1 / 3, "triangle2d:2", 16.0)
    out = run(TINY_CS + ["--keep", "0.4", "--quiet"]).stdout
    r = cs_json["result"]
    for words in ("recovering camera (16x16, n=256)", f"m={r['m']} pixels kept by a random mask",
                  "smoothest interpolant", "network (gradient descent)", "A⁺y", f"{r['psnr_interpolant']:6.2f} dB",
                  f"{r['psnr_network']:6.2f} dB", f"{r['psnr_min_l2']:6.2f} dB",
                  "recovery law, Gaussian A with m=", "Gaussian-measurement prediction", "converged"):
        assert words in out, (words, out)


def test_cs_signal_form_is_unchanged():
    """Without --image, cs is the 1-D command with its own defaults (m 24, Gaussian A, ω 1, 50000 steps)."""
    d = run_json(["cs", "--n", "32", "--k", "8", "--rtol", "0.5", "--quiet"])
    assert (d["m"], d["measurement"], d["omega"], d["max_steps"]) == (24, "gaussian", 1.0, 50_000)
    assert "image" not in d and "result" not in d


# --------------------------------------------------------------------------- figures
@pytest.mark.parametrize("command", [TINY_DENOISE, TINY_FIT, TINY_CS], ids=["denoise", "fit", "cs"])
def test_plot_png_and_pdf_written_atomically(tmp_path, command):
    png = tmp_path / "figs" / "fig.png"
    res = run(command + ["--plot", str(png), "--quiet"])
    assert f"figure: {png}" in res.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    no_leftovers(png.parent, "fig.png")
    d = run_json(command + ["--plot", str(tmp_path / "fig.pdf")])
    assert d["plot"] == str(tmp_path / "fig.pdf")
    assert (tmp_path / "fig.pdf").read_bytes()[:5] == b"%PDF-"
    no_leftovers(tmp_path, "fig.pdf", "figs")


def test_failed_plot_leaves_no_partial_file(tmp_path, monkeypatch):
    import matplotlib.figure

    def broken_savefig(self, fname, **kwargs):
        with open(fname, "wb") as fh:
            fh.write(b"\x89PNG partial")
        raise OSError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken_savefig)
    res = run(TINY_DENOISE + ["--plot", str(tmp_path / "fig.png"), "--quiet"], ok=False)
    assert res.exit_code == 1 and "--plot" in res.output and "disk full" in res.output
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- usage errors
@pytest.mark.parametrize("args, words", [
    (TINY_DENOISE + ["--image", "no-such-image"], ["--image", "no-such-image", "camera", "shepp_logan_phantom"]),
    (TINY_DENOISE + ["--size", "0"], ["--size", "0"]),
    (TINY_DENOISE + ["--size", "12x"], ["--size", "12x"]),
    (TINY_DENOISE + ["--size", "1000"], ["--size", "larger", "512"]),
    (TINY_DENOISE + ["--sigma", "0"], ["--sigma", "0"]),
    (TINY_DENOISE + ["--sigma", "nan"], ["--sigma", "nan"]),
    (TINY_DENOISE + ["--k", "31"], ["--k", "31", "even"]),
    (TINY_DENOISE + ["--steps", "0"], ["--steps", "0"]),
    (TINY_DENOISE + ["--filter", "triangle:4"], ["--filter", "1-D filter", "triangle2d:P"]),
    (TINY_DENOISE + ["--filter", "wiggle2d:3"], ["--filter", "wiggle2d:3"]),
    (TINY_DENOISE + ["--size", "4", "--filter", "triangle2d:4"], ["--filter", "--size", "4x4"]),
    (TINY_DENOISE + ["--plot", "fig.txt"], ["--plot", "fig.txt", ".png"]),
    (TINY_FIT + ["--signal", "step"], ["--signal", "--image"]),
    (TINY_FIT + ["--n", "32"], ["--n", "--image"]),
    (TINY_FIT + ["--filter", "triangle:4"], ["--filter", "1-D filter"]),
    (TINY_FIT + ["--noise", "pink"], ["--noise", "pink"]),
    (["fit", "--size", "16", "--steps", "1"], ["--size", "--image NAME"]),
    (["fit", "--noise", "uniform", "--steps", "1"], ["--noise", "--image NAME"]),
    (["fit", "--filter", "bilinear", "--steps", "1"], ["--filter", "2-D (image) filter", "--image"]),
    (TINY_CS + ["--n", "32"], ["--n", "--image"]),
    (TINY_CS + ["--signal", "step"], ["--signal", "--image"]),
    (TINY_CS + ["--noise", "0.1"], ["--noise", "--image"]),
    (TINY_CS + ["--p", "3"], ["--p", "--image"]),
    (TINY_CS + ["--filter", "triangle:4"], ["--filter", "1-D filter"]),
    (TINY_CS + ["--keep", "0.5", "--m", "10"], ["--keep", "--m"]),
    (TINY_CS + ["--keep", "0"], ["--keep", "0"]),
    (TINY_CS + ["--keep", "1.5"], ["--keep", "1.5"]),
    (TINY_CS + ["--keep", "1e-9"], ["--keep", "kept no sample"]),
    (TINY_CS + ["--m", "300"], ["--m", "300", "n=256"]),
    (TINY_CS + ["--measurement", "fourier"], ["--measurement", "fourier"]),
    (["cs", "--size", "16"], ["--size", "--image NAME"]),
    (["cs", "--keep", "0.5"], ["--keep", "--image NAME"]),
    (["cs", "--filter", "bilinear"], ["--filter", "2-D (image) filter"]),
])
def test_usage_errors_name_the_option(args, words):
    res = run(args, ok=False)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    for w in words:
        assert w in res.output, (w, res.output)


# --------------------------------------------------------------------------- help
@pytest.mark.parametrize("command, example", [
    ("denoise", "ntk-toolkit denoise --image camera"),
    ("fit", "ntk-toolkit fit --image camera"),
    ("cs", "ntk-toolkit cs --image camera"),
])
def test_help_has_an_image_example(command, example):
    out = run([command, "--help"]).output
    assert "Example" in out and example in out
    for option in ("--image", "--size", "--filter", "--k", "--seed", "--plot", "--json", "--quiet"):
        assert option in out, (command, option)


def test_main_help_lists_denoise():
    out = run(["--help"]).output
    assert "denoise" in out.split("Commands:", 1)[1]
