"""Write the guide page of the symbolic kernels from the derivations of ``ntk_toolkit.symbolic``.

Usage::

    python docs/scripts/make_symbolic_guide.py [OUTPUT]

``OUTPUT`` defaults to ``docs/guide/symbolic_kernels.md``. The page is
``ntk_toolkit.symbolic.guide_markdown()``; ``tests/test_symbolic.py`` checks that the
committed file is current.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ntk_toolkit.symbolic import guide_markdown


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / "guide" / "symbolic_kernels.md"
    out.write_text(guide_markdown(), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv)
