#!/usr/bin/env python
"""Core performance benchmarks of ntk_toolkit: a wrapper of ``ntk-toolkit bench``.

The suite lives in :mod:`ntk_toolkit.bench`; this script takes the same options::

    python benchmarks/bench_core.py --quick              # small sizes, well under a minute
    python benchmarks/bench_core.py --peers --out bench.md
    python benchmarks/bench_core.py --quick --json --out bench.json
"""

import sys

from ntk_toolkit.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]], prog_name="bench_core.py"))
