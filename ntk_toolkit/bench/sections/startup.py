"""The ``startup`` section: import time and first calls in fresh processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._child import FIRST_CALL_ROUTINES
from .._timing import Stats
from ..report import Row

if TYPE_CHECKING:
    from ..suite import Run

def startup(state: Run) -> None:
    """``import ntk_toolkit`` and the first call of each routine, in fresh processes (warm Numba cache)."""
    n, k = state.cfg.first_call_size
    routines = list(FIRST_CALL_ROUTINES)
    warm = state.child({"task": "first_call", "routines": routines, "n": n, "k": k})
    if not warm.ok:
        state.add(Row("startup", "warm the Numba cache", (n, k), status=warm.status,
                      details={"message": warm.message}))
        return
    imports = [warm.result["import"]]
    groups = [[r] for r in routines] if state.cfg.first_call_isolated else [routines]
    firsts: dict = {}
    for group in groups:
        res = state.child({"task": "first_call", "routines": group, "n": n, "k": k})
        for name in group:
            if res.ok:
                firsts[name] = Stats((res.result["first_call"][name],), res.other_cores)
            else:
                firsts[name] = res
        if res.ok:
            imports.append(res.result["import"])
    state.add(Row("startup", "import ntk_toolkit (fresh process)", (), dtype="—", ours=Stats(tuple(imports)),
                  details={"processes": len(imports)}), ("startup", "import", ()))
    for name, st in firsts.items():
        if isinstance(st, Stats):
            state.add(Row("startup", f"first call: {name}", (n, k), ours=st))
        else:
            state.add(Row("startup", f"first call: {name}", (n, k), status=st.status,
                          details={"message": st.message}))
    how = ("each routine in its own fresh process" if state.cfg.first_call_isolated else
           "all routines one after the other in one fresh process, so a routine may find kernels "
           "already loaded by an earlier one")
    state.notes.append(f"first call = time of the first call of a routine after `import ntk_toolkit` in a fresh "
                       f"process with a warm Numba cache, at {(n, k)}; {how}. It is the cost of loading compiled "
                       "kernels and lazily imported modules")
