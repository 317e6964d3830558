"""The verification suite: the theory's claims as runnable checks.

Each check is a function of ``(profile, seed)`` returning a
:class:`CheckResult` with what the theory predicts, what the network did, the
pass criterion and the verdict. Checks are grouped by family; a family is a
module (or subpackage) of this package — ``kernel``, ``dynamics``,
``denoising``, ``cs`` — found when the registry is first used, and its checks
are named ``<family>.<claim>`` after it.

>>> from ntk_toolkit.checks import all_checks
>>> names = [c.name for c in all_checks()]
"""

from ._base import PROFILES, Check, CheckResult, all_checks, get_check, register, select_checks
from .runner import run_one, verify

__all__ = ["PROFILES", "Check", "CheckResult", "all_checks", "get_check", "register", "select_checks", "run_one",
           "verify"]
