"""Import hygiene: lazy Numba kernels and matplotlib; Numba options only in ntk_toolkit/_jit.py."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import ntk_toolkit

PKG = Path(ntk_toolkit.__file__).resolve().parent


def test_import_does_not_load_kernels_or_matplotlib():
    code = "import json, sys, ntk_toolkit; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    mods = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "ntk_toolkit" in mods
    for forbidden in ("ntk_toolkit._kernels.gd", "ntk_toolkit._kernels.conv", "matplotlib", "matplotlib.pyplot"):
        assert forbidden not in mods, f"import ntk_toolkit imported {forbidden}"


def test_kernels_load_on_first_use_only():
    """The lazy import is real: the kernels module appears once a direct convolution is applied."""
    code = (
        "import json, sys, numpy as np, ntk_toolkit as nt\n"
        "from ntk_toolkit.filters import triangle\n"
        "from ntk_toolkit.operators import CircularConv\n"
        "before = 'ntk_toolkit._kernels.conv' in sys.modules\n"
        "CircularConv(triangle(2), 8, method='direct').apply(np.ones(8))\n"
        "print(json.dumps([before, 'ntk_toolkit._kernels.conv' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, True]


#: Numba decorators outside the central options module (design.md §3, _jit.py).
FORBIDDEN = [
    re.compile(r"@\s*njit\b"),
    re.compile(r"\bnumba\s*\.\s*n?jit\b"),
    re.compile(r"@\s*jit\s*\((?!contract=)"),  # ntk_toolkit._jit.jit takes only contract=
    re.compile(r"from\s+numba\s+import\s+[^\n]*\b(n?jit|vectorize|guvectorize|cfunc)\b"),
]


def _violations(text: str) -> list[str]:
    return [m.group(0) for pat in FORBIDDEN for m in pat.finditer(text)]


def test_grep_patterns_catch_bare_numba_decorators():
    """The patterns themselves work (so the scan below cannot pass vacuously)."""
    assert _violations("@njit\ndef f(): pass")
    assert _violations("@numba.njit(cache=True)\ndef f(): pass")
    assert _violations("@jit(nopython=True)\ndef f(): pass")
    assert _violations("from numba import njit, prange")
    assert _violations("numba.jit(f)")
    assert not _violations("from .._jit import pjit\n@pjit\ndef f(): pass\nfrom numba import prange")
    assert not _violations("from .._jit import jit\n@jit(contract=True)\ndef f(): pass")


def test_no_bare_numba_jit_outside_jit_module():
    files = sorted(p for p in PKG.rglob("*.py") if p.name != "_jit.py" or p.parent != PKG)
    assert any(p.parent.name == "_kernels" for p in files)
    bad = {str(p.relative_to(PKG)): v for p in files if (v := _violations(p.read_text(encoding="utf-8")))}
    assert not bad, f"bare Numba decorators outside ntk_toolkit/_jit.py: {bad}"


def test_public_api_all():
    for name in ntk_toolkit.__all__:
        assert hasattr(ntk_toolkit, name), name
