"""ntk_toolkit.images: the shipped scikit-image pictures, noise and metrics."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import ntk_toolkit
from ntk_toolkit import images
from ntk_toolkit.images import add_noise, available, load, psnr, ssim

#: Resizing 512 -> 64 with anti-aliasing keeps the mean of camera to within this
#: (measured 9e-6); plain subsampling of a textured image moves it by ~3e-3.
MEAN_TOL = 5e-4
#: RMS distance of an anti-aliased 8x downsample to the 8x8 block average
#: (measured 0.016-0.027 on camera/grass/gravel/brick; without anti-aliasing
#: 0.05-0.12).
ANTI_ALIAS_RMS = 0.035


@pytest.fixture(autouse=True)
def _fail_instead_of_skip(monkeypatch):
    """scikit-image turns a failed download into ``pytest.skip`` when it sees
    ``PYTEST_CURRENT_TEST``: remove it, so an image that is not shipped fails."""
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)


def _block_mean(x: np.ndarray, f: int) -> np.ndarray:
    H, W = x.shape
    return x.reshape(H // f, f, W // f, f).mean(axis=(1, 3))


# ---------------------------------------------------------------------------- available / load


def test_available_is_sorted_and_has_the_papers_images():
    names = available()
    assert isinstance(names, tuple) and list(names) == sorted(names) and len(set(names)) == len(names)
    assert {"camera", "astronaut", "shepp_logan_phantom", "coffee", "moon"} <= set(names)


def test_available_names_are_scikit_image_data_functions():
    import skimage.data

    for name in available():
        assert callable(getattr(skimage.data, name)), name


def test_available_lists_the_files_present_in_the_package(tmp_path, monkeypatch):
    """The list comes from the files, not from a list fixed for one version."""
    (tmp_path / "data").mkdir()
    monkeypatch.setattr(images, "_skimage_dir", lambda: tmp_path)
    assert available() == ()
    for fname in ("camera.png", "phantom.png", "eagle.png", "unrelated.png"):
        (tmp_path / "data" / fname).write_bytes(b"")
    assert available() == ("camera", "eagle", "shepp_logan_phantom")


def test_every_available_image_loads_offline(tmp_path):
    """In a fresh interpreter with sockets disabled and an empty download cache,
    every listed image loads: none of them needs the network."""
    code = (
        "import json, socket\n"
        "def _no_network(*a, **k):\n"
        "    raise OSError('network disabled by the test')\n"
        "socket.socket.connect = _no_network\n"
        "socket.create_connection = _no_network\n"
        "import skimage.data\n"
        "from ntk_toolkit.images import available\n"
        "print(json.dumps({n: list(getattr(skimage.data, n)().shape) for n in available()}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["SKIMAGE_DATADIR"] = str(tmp_path)  # pooch's cache, if pooch is installed: empty
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    shapes = json.loads(out.stdout.strip().splitlines()[-1])
    assert sorted(shapes) == list(available())
    assert shapes["camera"] == [512, 512] and shapes["astronaut"] == [512, 512, 3]


def test_import_does_not_import_scikit_image():
    code = ("import sys, ntk_toolkit; ntk_toolkit.images.available(); "
            "print(any(m.startswith('skimage') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False"
    assert "images" in ntk_toolkit.__all__ and ntk_toolkit.images is images


@pytest.mark.parametrize("name", available())
def test_every_image_is_float64_in_unit_interval(name):
    g = load(name)
    assert g.dtype == np.float64 and g.ndim == 2 and g.flags.c_contiguous
    assert g.min() >= 0.0 and g.max() <= 1.0 and g.max() > g.min()
    c = load(name, size=(24, 40), gray=False)
    assert c.dtype == np.float64 and c.shape == (24, 40, 3)
    assert c.min() >= 0.0 and c.max() <= 1.0


def test_native_sizes_and_values_match_scikit_image():
    import skimage.data

    cam = load("camera")
    np.testing.assert_allclose(cam, skimage.data.camera() / 255.0, rtol=0, atol=1e-15)
    ast = load("astronaut", gray=False)
    assert ast.shape == (512, 512, 3)
    np.testing.assert_allclose(ast, skimage.data.astronaut() / 255.0, rtol=0, atol=1e-15)
    assert load("shepp_logan_phantom").shape == (400, 400)


def test_gray_is_the_luminance_of_the_color_image():
    c = load("astronaut", gray=False)
    np.testing.assert_allclose(load("astronaut"), c @ [0.2125, 0.7154, 0.0721], atol=1e-12)


def test_gray_source_as_color_has_three_equal_channels():
    c = load("camera", gray=False)
    assert c.shape == (512, 512, 3)
    for ch in range(3):
        np.testing.assert_array_equal(c[..., ch], load("camera"))


def test_resized_camera_keeps_the_mean_and_is_anti_aliased():
    full = load("camera")
    small = load("camera", size=64)
    assert small.shape == (64, 64)
    assert abs(small.mean() - full.mean()) < MEAN_TOL
    for name in ("camera", "grass"):
        rms = np.sqrt(np.mean((load(name, size=64) - _block_mean(load(name), 8)) ** 2))
        assert rms < ANTI_ALIAS_RMS, (name, rms)


def test_non_square_size_center_crops():
    full = load("camera")  # 512 x 512 -> aspect 1:2 keeps the middle 256 rows
    x = load("camera", size=(32, 64))
    assert x.shape == (32, 64)
    centre = _block_mean(full[128:384], 8)
    top = _block_mean(full[:256], 8)
    assert np.sqrt(np.mean((x - centre) ** 2)) < ANTI_ALIAS_RMS
    assert np.sqrt(np.mean((x - top) ** 2)) > 3 * ANTI_ALIAS_RMS

    coffee = load("coffee")  # 400 x 600 -> a square crop keeps columns 100:500
    np.testing.assert_array_equal(load("coffee", size=400), coffee[:, 100:500])
    np.testing.assert_array_equal(load("coffee", size=[400, 600]), coffee)


def test_upsampling_is_refused_unless_asked():
    with pytest.raises(ValueError, match=r"size=1024 .*camera.*512×512.*upsample=True"):
        load("camera", size=1024)
    with pytest.raises(ValueError, match=r"at most 32×512"):
        load("camera", size=(64, 1024))  # the 1:16 crop has only 32 rows
    big = load("camera", size=1024, upsample=True)
    assert big.shape == (1024, 1024) and big.min() >= 0 and big.max() <= 1
    assert abs(big.mean() - load("camera").mean()) < MEAN_TOL
    assert load("camera", size=(64, 1024), upsample=True).shape == (64, 1024)


def test_unknown_name_lists_the_available_images():
    with pytest.raises(ValueError) as err:
        load("lena")
    msg = str(err.value)
    assert "'lena'" in msg
    for name in available():
        assert name in msg


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"name": 3}, TypeError, "name must be a str"),
        ({"name": "camera", "size": 0}, ValueError, "size must be an integer >= 1"),
        ({"name": "camera", "size": (64, -1)}, ValueError, r"size\[1\] must be an integer >= 1"),
        ({"name": "camera", "size": 2.5}, TypeError, "size must be None, a positive int or a pair"),
        ({"name": "camera", "size": (1, 2, 3)}, TypeError, "size must be None"),
        ({"name": "camera", "gray": "yes"}, TypeError, "gray must be True or False"),
        ({"name": "camera", "upsample": 1}, TypeError, "upsample must be True or False"),
    ],
)
def test_load_rejects_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        load(**kwargs)


# ---------------------------------------------------------------------------- noise


def test_noise_statistics_before_clipping():
    x = load("camera")
    sigma = 25 / 255
    z = add_noise(x, sigma, seed=123, clip=False) - x
    N = z.size
    # 5 standard errors: a false failure is rarer than 1 in 10^6
    assert abs(z.mean()) < 5 * sigma / math.sqrt(N)
    assert abs(z.std() / sigma - 1) < 5 / math.sqrt(2 * N)
    assert abs(np.corrcoef(z.ravel(), x.ravel())[0, 1]) < 5 / math.sqrt(N)  # independent of the image
    assert abs(np.corrcoef(z[:, :-1].ravel(), z[:, 1:].ravel())[0, 1]) < 5 / math.sqrt(N)  # white


def test_color_channels_get_independent_noise():
    x = load("astronaut", gray=False)
    z = add_noise(x, 0.1, seed=4, clip=False) - x
    assert z.shape == x.shape
    assert abs(np.corrcoef(z[..., 0].ravel(), z[..., 1].ravel())[0, 1]) < 5 / math.sqrt(z[..., 0].size)


def test_clipping_keeps_the_unit_interval_and_only_clips():
    x = load("camera", size=128)
    raw = add_noise(x, 40 / 255, seed=7, clip=False)
    y = add_noise(x, 40 / 255, seed=7)
    assert raw.min() < 0 and raw.max() > 1  # the test exercises clipping
    assert y.min() >= 0 and y.max() <= 1 and y.dtype == np.float64
    np.testing.assert_array_equal(y, np.clip(raw, 0, 1))


def test_same_seed_same_noise_any_shape():
    for shape in [(50,), (8, 9), (4, 5, 3)]:
        x = np.full(shape, 0.5)
        a, b = add_noise(x, 0.1, seed=3), add_noise(x, 0.1, seed=3)
        assert a.shape == shape
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, add_noise(x, 0.1, seed=4))
        np.testing.assert_array_equal(
            add_noise(x, 0.1, seed=np.random.default_rng(3)), a)
    np.testing.assert_array_equal(add_noise(np.full(5, 0.5), 0.0, seed=1), np.full(5, 0.5))


def test_add_noise_does_not_modify_its_input():
    x = np.full((4, 4), 0.5)
    add_noise(x, 0.3, seed=0)
    np.testing.assert_array_equal(x, 0.5)


# ---------------------------------------------------------------------------- metrics


def test_psnr_is_ten_log10_of_one_over_mse():
    rng = np.random.default_rng(0)
    ref = rng.random((5, 6))
    x = ref + 0.05 * rng.standard_normal((5, 6))
    mse = sum((a - b) ** 2 for a, b in zip(x.ravel().tolist(), ref.ravel().tolist())) / 30
    assert psnr(x, ref) == pytest.approx(10 * math.log10(1 / mse), rel=1e-12)
    assert psnr(x, ref, data_range=2.0) == pytest.approx(10 * math.log10(4 / mse), rel=1e-12)
    assert psnr(x.ravel(), ref.ravel()) == pytest.approx(psnr(x, ref), rel=1e-14)  # flat signals
    assert psnr(ref, x) == pytest.approx(psnr(x, ref), rel=1e-14)
    assert psnr(ref, ref) == math.inf


def test_psnr_of_the_papers_noise_level():
    """σ = 25/255 without clipping: MSE ≈ σ², PSNR ≈ 20 log10(255/25) = 20.17 dB."""
    x = np.full((512, 512), 0.5)
    assert psnr(add_noise(x, 25 / 255, seed=0, clip=False), x) == pytest.approx(20 * math.log10(255 / 25), abs=0.02)


def test_ssim_is_one_for_equal_images_and_decreases_with_noise():
    clean = load("camera", size=128)
    assert ssim(clean, clean) == pytest.approx(1.0, abs=1e-12)
    values = [ssim(add_noise(clean, s, seed=0), clean) for s in (0.01, 0.05, 0.1, 0.3)]
    assert all(a > b for a, b in zip(values, values[1:])), values
    assert values[0] < 1


def test_ssim_of_flat_signals_needs_the_shape():
    clean = load("camera", size=(32, 48))
    noisy = add_noise(clean, 0.1, seed=1)
    assert ssim(noisy.ravel(), clean.ravel(), shape=(32, 48)) == ssim(noisy, clean)
    with pytest.raises(ValueError, match=r"flat vector of length 1536: pass shape=\(H, W\)"):
        ssim(noisy.ravel(), clean.ravel())
    with pytest.raises(ValueError, match=r"shape=\(32, 40\) has 1280 pixels but x has length 1536"):
        ssim(noisy.ravel(), clean.ravel(), shape=(32, 40))


def test_ssim_of_color_images_averages_the_channels():
    clean = load("astronaut", size=64, gray=False)
    noisy = add_noise(clean, 0.1, seed=2)
    from skimage.metrics import structural_similarity

    per_channel = [structural_similarity(clean[..., c], noisy[..., c], data_range=1.0) for c in range(3)]
    assert ssim(noisy, clean) == pytest.approx(np.mean(per_channel), rel=1e-12)


def test_ssim_rejects_images_smaller_than_its_window():
    with pytest.raises(ValueError, match="at least 7×7"):
        ssim(np.zeros((6, 20)), np.zeros((6, 20)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels_are_rejected(bad):
    x = np.full((8, 8), 0.5)
    x[3, 4] = bad
    ok = np.full((8, 8), 0.5)
    with pytest.raises(ValueError, match="x must be finite"):
        add_noise(x, 0.1)
    with pytest.raises(ValueError, match="x must be finite"):
        psnr(x, ok)
    with pytest.raises(ValueError, match="reference must be finite"):
        psnr(ok, x)
    with pytest.raises(ValueError, match="x must be finite"):
        ssim(x, ok)
    with pytest.raises(ValueError, match="reference must be finite"):
        ssim(ok, x)


def test_metrics_reject_shape_mismatch_and_bad_range():
    with pytest.raises(ValueError, match=r"same shape, got \(3,\) and \(4,\)"):
        psnr(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="data_range must be a finite number > 0"):
        psnr(np.zeros(3), np.zeros(3), data_range=0)
    with pytest.raises(ValueError, match=r"data_range must be a peak value in \(0, 1e\+150\].*got 8e\+153"):
        psnr(np.zeros(3), np.ones(3), data_range=8e153)  # its square would overflow
    with pytest.raises(ValueError, match=r"data_range must be a peak value"):
        ssim(np.zeros((8, 8)), np.ones((8, 8)), data_range=1e200)
    assert psnr(np.zeros(3), np.ones(3), data_range=1e150) == pytest.approx(3000.0)
    with pytest.raises(ValueError, match="sigma must be a finite number >= 0"):
        add_noise(np.zeros(3), -1.0)
