"""Checks of the dynamics family: gradient descent on the network against the
linearized dynamics (:mod:`.descent`) and the role of the initialisation
(:mod:`.initialization`); ``docs/theory.md`` §3–§4."""

from . import descent, initialization  # noqa: F401  (registers the checks, in report order)

#: Position of the family in the report (kernel 10, dynamics 20, denoising 30, cs 40).
REPORT_ORDER = 20
