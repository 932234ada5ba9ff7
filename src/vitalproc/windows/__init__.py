"""Recordings -> fixed-length, labelled, checked windows, declared by a recipe.

>>> import vitalproc
>>> report = vitalproc.windows.build("hypotension_art", ["cases/"], "out/")  # doctest: +SKIP
>>> ws = vitalproc.windows.open("out/")                                      # doctest: +SKIP
>>> ws.arrays["art"].shape, ws.index.head()                                   # doctest: +SKIP

See docs/windows.md for the recipe reference and the output layout.
"""

from __future__ import annotations

from .annotations import AnnotationError
from .recipe import Recipe, RecipeError, load_recipe, parse_recipe
from .runner import BuildReport, CaseResult, build
from .shipped import shipped_names
from .windowset import WindowSet, open

__all__ = [
    "AnnotationError",
    "BuildReport",
    "CaseResult",
    "Recipe",
    "RecipeError",
    "WindowSet",
    "build",
    "load_recipe",
    "open",
    "parse_recipe",
    "shipped_names",
]
