"""Compressive-sensing commands of ``ntk-toolkit``: ``cs`` and ``cs-curve``."""

from __future__ import annotations
