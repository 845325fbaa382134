"""Time-resolved grid intensity (issue 14): the grid at the hours a run used, and the profile a planned job's start
is chosen from. Off unless a source is configured (``--intensity-source`` or ``intensity.source`` in
ci-carbon.yaml) and its credentials are in the environment: the default install never sends a request.

:class:`Refiner` is handed to the fold (:mod:`ci_carbon.assemble`): each estimate gains its
:class:`~ci_carbon.core.model.Hourly` figure, or a notice saying why it kept only the yearly one. The arithmetic
is :mod:`ci_carbon.core.hourly`; the APIs are :mod:`.electricitymaps` and :mod:`.watttime`, cached by
:mod:`.cache`.
"""

from __future__ import annotations

from ci_carbon.sources.intensity.refine import SOURCES, Refiner, refiner

__all__ = ["SOURCES", "Refiner", "refiner"]
