"""Guard: no module of the package grows past the size at which it should be split by concept
(about 600 lines)."""

from __future__ import annotations

from pathlib import Path

import pytest

import ntk_toolkit

MAX_LINES = 650
ROOT = Path(ntk_toolkit.__file__).parent
MODULES = sorted(ROOT.rglob("*.py"))


def test_the_package_has_modules():
    assert len(MODULES) > 30


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_small_enough(path):
    with path.open(encoding="utf-8") as fh:
        lines = sum(1 for _ in fh)
    assert lines < MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (limit {MAX_LINES}): split it by concept"
