"""Memory budget for paths that allocate more than O(n k).

The budget defaults to 80 % of the memory available when it is first asked
for. It can be set with :func:`set_memory_budget` or the environment variable
``NTK_TOOLKIT_MEMORY_BUDGET`` (bytes, suffixes K/M/G allowed).
"""

from __future__ import annotations

import os

_BUDGET: int | None = None


def _available_bytes() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic OS
        return 8 * 1024**3


def _parse_bytes(text: str) -> int:
    text = text.strip().upper()
    factor = 1
    for suffix, f in (("K", 1024), ("M", 1024**2), ("G", 1024**3)):
        if text.endswith(suffix):
            factor, text = f, text[:-1]
            break
    return int(float(text) * factor)


def memory_budget() -> int:
    """Current memory budget in bytes."""
    global _BUDGET
    if _BUDGET is None:
        env = os.environ.get("NTK_TOOLKIT_MEMORY_BUDGET")
        if env:
            try:
                _BUDGET = _parse_bytes(env)
            except ValueError as exc:
                raise ValueError(
                    f"NTK_TOOLKIT_MEMORY_BUDGET={env!r} is not a byte count (e.g. 4G, 512M)"
                ) from exc
        else:
            _BUDGET = int(0.8 * _available_bytes())
    return _BUDGET


def set_memory_budget(nbytes: int | None) -> None:
    """Set the memory budget in bytes; ``None`` restores the default (80 % of available)."""
    global _BUDGET
    if nbytes is None:
        _BUDGET = None
        return
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes <= 0:
        raise ValueError(f"nbytes must be a positive integer or None, got {nbytes!r}")
    _BUDGET = nbytes


def format_bytes(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(nbytes) < 1024 or unit == "TiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} TiB"  # pragma: no cover


def check_memory(nbytes: int, what: str, alternative: str) -> None:
    """Raise ``MemoryError`` if ``nbytes`` exceeds the budget, naming a cheaper path."""
    budget = memory_budget()
    if nbytes > budget:
        raise MemoryError(
            f"{what} needs about {format_bytes(nbytes)} ({nbytes} bytes), above the memory "
            f"budget of {format_bytes(budget)}; {alternative} "
            "(or raise the budget with ntk_toolkit.set_memory_budget)"
        )
