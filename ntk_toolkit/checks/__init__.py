"""The verification suite: the theory's claims as runnable checks.

Each check is a function of ``(profile, seed)`` returning a
:class:`CheckResult` with what the theory predicts, what the network did, the
pass criterion and the verdict. Checks are grouped by family (``kernel``,
``dynamics``, ``denoising``) in modules of this package and registered by name.

>>> from ntk_toolkit.checks import all_checks
>>> names = [c.name for c in all_checks()]
"""

from ._base import PROFILES, Check, CheckResult, all_checks, get_check, select_checks
from .runner import run_one, verify

__all__ = ["PROFILES", "Check", "CheckResult", "all_checks", "get_check", "select_checks", "run_one", "verify"]
