"""The recipes shipped with the package (``recipes/*.toml``), by name."""

from __future__ import annotations

import pathlib

RECIPES = pathlib.Path(__file__).parent / "recipes"


def shipped_names() -> list[str]:
    """The names of the shipped recipes, sorted."""
    return sorted(p.stem for p in RECIPES.glob("*.toml"))


def shipped_path(name: str) -> pathlib.Path | None:
    """The file of the shipped recipe ``name``, or None."""
    path = RECIPES / f"{name}.toml"
    return path if name.isidentifier() and path.is_file() else None


def describe_shipped() -> list[tuple[str, str]]:
    """``(name, description)`` of each shipped recipe."""
    from .recipe import load_recipe

    return [(n, load_recipe(n).description) for n in shipped_names()]
