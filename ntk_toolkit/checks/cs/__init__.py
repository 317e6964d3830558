"""Checks of the cs (compressive-sensing) family (``docs/theory.md`` §5, §7.1; claims [14]–[19]).

Gradient descent on ``½‖A G(C) − y‖²`` from a mirrored initialisation (``G(C_0) = 0``,
``ω = 1``) with the network's stable step ``η = 1/(‖U‖²‖A‖²)``; ``A`` has i.i.d.
``N(0, 1/m)`` entries. Predictions come from the expected kernel ``Σ``: the limit
``G(C_0) + Σ Aᵀ(A Σ Aᵀ)⁻¹(y − A G(C_0))`` (the smoothest interpolant ``x̂``,
:mod:`.limit`), the deterministic-equivalent recovery law (:mod:`.law`), and the
linear (Landweber) dynamics with early stopping (:mod:`.stopping`).
"""

from . import limit, law, stopping  # noqa: F401, I001  (registers the checks, in report order)

#: Position of the family in the report (kernel 10, dynamics 20, denoising 30, cs 40).
REPORT_ORDER = 40
#: ``--only compressive-sensing`` selects this family too.
ALIASES = ("compressive-sensing",)
