"""Sweep specs: validation naming the key, grid/zip/seed expansion, canonical keys, custom measurements."""

from __future__ import annotations

import pytest

from ntk_toolkit.sweep import SpecError, get_measurement, load_spec
from ntk_toolkit.sweep.spec import point_key

BASE = {"sweep": {"measurement": "fit_time", "seeds": 2},
        "grid": {"filter": ["triangle:2"], "n": [16], "k": [8, 16], "signal": ["smooth", "noise"]}}


def spec_with(**changes):
    out = {"sweep": dict(BASE["sweep"]), "grid": dict(BASE["grid"])}
    for path, value in changes.items():
        table, key = path.split("__")
        if value is None:
            out[table].pop(key)
        else:
            out[table][key] = value
    return out


@pytest.mark.parametrize("changes, match", [
    ({"sweep__measurement": "fit_speed"}, r"sweep.measurement: .*unknown measurement 'fit_speed'"),
    ({"sweep__measurement": "no_such_module_xyz:f"}, r"sweep.measurement: .*no_such_module_xyz"),
    ({"grid__width": [2]}, r"grid.width: unknown parameter of measurement 'fit_time'"),
    ({"grid__k": 16}, r"grid.k must be a list of values"),
    ({"grid__k": []}, r"grid.k is an empty list"),
    ({"grid__k": ["16"]}, r"grid.k: k must be an integer"),
    ({"grid__k": [16.0]}, r"grid.k: k must be an integer"),
    ({"grid__omega": ["big"]}, r"grid.omega: omega must be a number"),
    ({"grid__signal": ["sine"]}, r"grid.signal: signal must be one of"),
    ({"grid__k": [8, 8]}, r"grid.k lists a value twice"),
    ({"grid__n": None}, r"grid.n: measurement 'fit_time' needs n"),
    ({"grid__seed": [1]}, r"grid.seed: seeds are given by sweep.seeds"),
    ({"sweep__seeds": 0}, r"sweep.seeds must be at least 1"),
    ({"sweep__seeds": []}, r"sweep.seeds is an empty list"),
    ({"sweep__seeds": [1, -2]}, r"sweep.seeds: every seed must be a non-negative integer"),
    ({"sweep__seeds": [1, 1]}, r"sweep.seeds lists a seed twice"),
    ({"sweep__seeds": True}, r"sweep.seeds must be a positive count"),
    ({"sweep__seeds": None}, r"sweep.seeds is missing"),
    ({"sweep__measurement": None}, r"sweep.measurement is missing"),
    ({"sweep__steps": 3}, r"sweep.steps: unknown key"),
])
def test_bad_specs_name_the_key(changes, match):
    with pytest.raises(SpecError, match=match):
        load_spec(spec_with(**changes))


def test_unknown_table_and_bad_zip():
    with pytest.raises(SpecError, match=r"params: unknown table"):
        load_spec({**BASE, "params": {"k": [8]}})
    with pytest.raises(SpecError, match=r"zip\[0\]: the lists of a zip group must have equal lengths"):
        load_spec({**BASE, "zip": [{"steps": [10, 20], "delta": [0.1]}]})
    with pytest.raises(SpecError, match=r"zip\[0\].k: parameter 'k' is given twice"):
        load_spec({**BASE, "zip": [{"k": [10, 20]}]})
    with pytest.raises(SpecError, match=r"is not valid TOML"):
        load_spec("[sweep]\nmeasurement = ")


def test_toml_file_and_dict_give_the_same_spec(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[sweep]\nmeasurement = "fit_time"\nseeds = 2\n[grid]\nfilter = ["triangle:2"]\nn = [16]\n'
                    'k = [8, 16]\nsignal = ["smooth", "noise"]\n')
    a, b = load_spec(path), load_spec(BASE)
    assert a.spec_hash == b.spec_hash
    assert [p.key for p in a.points()] == [p.key for p in b.points()]
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "missing.toml")


def test_points_are_the_product_in_order_with_seeds_innermost():
    spec = load_spec({**BASE, "zip": [{"steps": [10, 20], "delta": [0.1, 0.01]}]})
    pts = spec.points()
    assert spec.size == len(pts) == 2 * 2 * 2 * 2
    got = [(p.params["k"], p.params["signal"], p.params["steps"], p.params["delta"], p.seed) for p in pts]
    assert got[:4] == [(8, "smooth", 10, 0.1, 0), (8, "smooth", 10, 0.1, 1), (8, "smooth", 20, 0.01, 0),
                       (8, "smooth", 20, 0.01, 1)]
    assert got[-1] == (16, "noise", 20, 0.01, 1)
    assert len({p.key for p in pts}) == len(pts)
    # defaults are filled in, so a point's key does not depend on whether a default was written
    assert pts[0].params["omega"] == 1.0 and pts[0].params["init"] == "mirrored"


def test_keys_are_canonical():
    written = load_spec(spec_with(grid__omega=[1]))  # an int for a float parameter, and the default written out
    default = load_spec(BASE)
    assert [p.key for p in written.points()] == [p.key for p in default.points()]
    assert point_key("fit_time", {"a": 1, "b": 2}, 0) == point_key("fit_time", {"b": 2, "a": 1}, 0)
    assert load_spec(spec_with(sweep__seeds=[5, 7])).seeds == (5, 7)


def test_custom_measurement_by_path():
    m = get_measurement("sweep_helpers:noisy_square")
    assert list(m.params) == ["x", "fail_above", "pause"] and m.params["x"].required
    assert m.code_version.startswith("sweep_helpers:noisy_square/")
    spec = load_spec({"sweep": {"measurement": "sweep_helpers:noisy_square", "seeds": 1}, "grid": {"x": [2, 3]}})
    assert spec.points()[1].params == {"x": 3.0, "fail_above": 1e9, "pause": 0.0}
    assert m(spec.points()[1].params, 0)["square"] == 9.0
    with pytest.raises(TypeError, match="must return a dict of numbers"):
        get_measurement("sweep_helpers:not_a_dict")({"x": 1.0}, 0)
