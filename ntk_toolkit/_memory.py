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
    """Current memory budget in bytes.

    Paths that would allocate more than ``O(n k)`` — dense matrices, the
    Jacobian, eigenvector matrices — check their size against it first and
    raise ``MemoryError`` naming a cheaper path instead of allocating.

    Returns
    -------
    int
        The budget set by :func:`set_memory_budget`, else the environment
        variable ``NTK_TOOLKIT_MEMORY_BUDGET``, else 80 % of the memory
        available when it is first asked for.

    Examples
    --------
    >>> import ntk_toolkit as nt
    >>> from ntk_toolkit.measurements import Identity
    >>> nt.memory_budget() > 0
    True
    >>> nt.set_memory_budget(16 * 1024)      # 16 KiB
    >>> try:
    ...     Identity(64).todense()             # 64 x 64 float64 = 32 KiB
    ... except MemoryError as exc:
    ...     print(exc)
    ... finally:
    ...     nt.set_memory_budget(None)         # back to the default
    the dense (64, 64) measurement matrix needs about 32.0 KiB (32768 bytes), above the
    memory budget of 16.0 KiB; apply the operator with apply()/apply_T() instead of
    forming it (or raise the budget with ntk_toolkit.set_memory_budget)
    """
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
    """Set the memory budget in bytes; ``None`` restores the default (80 % of available).

    Parameters
    ----------
    nbytes : int or None
        The budget, a positive number of bytes; ``None`` restores the default
        (``NTK_TOOLKIT_MEMORY_BUDGET`` if set, else 80 % of the memory available
        when the budget is next asked for).

    Examples
    --------
    >>> import ntk_toolkit as nt
    >>> nt.set_memory_budget(2 * 1024**3)    # 2 GiB
    >>> nt.memory_budget()
    2147483648
    >>> nt.set_memory_budget(None)
    """
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
