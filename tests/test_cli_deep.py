"""``ntk-toolkit deep-spectrum`` at tiny sizes: the JSON is the library result, the options reach it."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from conftest import RTOL, assert_close
from ntk_toolkit.cli import main
from ntk_toolkit.deep import DeepDecoder
from ntk_toolkit.deep.experiments import spectrum_during_training
from ntk_toolkit.images import load

TINY = ["deep-spectrum", "--shape", "16x16", "--channels", "4,8,8", "--r", "5"]


def run(args, ok=True):
    res = CliRunner().invoke(main, args)
    if ok:
        assert res.exit_code == 0, (res.output, res.exception)
    return res


def test_json_is_the_library_result():
    out = json.loads(run(TINY + ["--steps", "10", "--json"]).stdout)
    net = DeepDecoder((16, 16), [4, 8, 8])
    ref = spectrum_during_training(net, load("camera", (16, 16)).ravel(), r=5, steps=10, seed=0)
    assert out["result"]["iterations"] == [0, 10]
    assert_close(np.array(out["result"]["singular_values"]), ref.singular_values, RTOL, "singular values")
    assert out["num_params"] == net.num_params and out["channels"] == [4, 8, 8]


def test_text_output_and_figure(tmp_path):
    plot = tmp_path / "deep.png"
    res = run(["deep-spectrum", "--shape", "32", "--channels", "4,8,8,8", "--r", "6", "--fixed-last",
               "--plot", str(plot), "--quiet"])
    assert "geometric rate" in res.output and "trig overlap" in res.output and plot.stat().st_size > 0


def test_bad_options_name_the_option():
    res = run(["deep-spectrum", "--shape", "30x30", "--channels", "4,4,4,4"], ok=False)
    assert res.exit_code == 2 and "--channels" in res.output and "divisible" in res.output
    res = run(["deep-spectrum", "--channels", "4,x"], ok=False)
    assert res.exit_code == 2 and "--channels" in res.output
    res = run(["deep-spectrum", "--shape", "8x8", "--channels", "2,2", "--r", "100"], ok=False)
    assert res.exit_code == 2 and "--r" in res.output
