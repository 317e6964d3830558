"""``plotting.pyplot`` keeps notebook backends and only replaces a GUI backend without a display."""

import sys

import matplotlib
import pytest

from ntk_toolkit import plotting


@pytest.mark.parametrize("backend,switched", [
    ("inline", False),
    ("module://matplotlib_inline.backend_inline", False),
    ("agg", False),
    ("widget", False),
    ("TkAgg", True),
    ("QtAgg", True),
])
def test_backend_switch(monkeypatch, backend, switched):
    calls = []
    monkeypatch.setattr(matplotlib, "get_backend", lambda: backend)
    monkeypatch.setattr(matplotlib, "use", lambda name, *a, **k: calls.append(name))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    plotting.pyplot()
    assert calls == (["Agg"] if switched else [])


def test_gui_backend_kept_with_a_display(monkeypatch):
    calls = []
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "TkAgg")
    monkeypatch.setattr(matplotlib, "use", lambda name, *a, **k: calls.append(name))
    monkeypatch.setenv("DISPLAY", ":0")
    plotting.pyplot()
    assert calls == []
