"""Synthetic .vital recordings with ground truth: ``vitalproc.synth(...)``.

>>> import vitalproc
>>> rec = vitalproc.synth(profile="icu", hours=0.1, seed=1, hypotension=1)  # doctest: +SKIP
>>> rec.truth["episodes"][0]["kind"]                                       # doctest: +SKIP
'hypotension'

The module itself is callable (``vitalproc.synth(...)`` is ``generate.synth``), so
``vitalproc.synth.shapes`` and the call live under one name. See ``docs/synth.md``.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from . import shapes
from .generate import Synthesis, parse_start, synth
from .truth import SCHEMA, sidecar_paths

__all__ = ["SCHEMA", "Synthesis", "parse_start", "shapes", "sidecar_paths", "synth"]


class _CallableModule(types.ModuleType):
    """``vitalproc.synth(...)`` calls ``synth``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Synthesis:
        return synth(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
