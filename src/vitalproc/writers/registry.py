"""Format names and file suffixes -> writer modules, imported only when used.

Each writer module (``writers/<format>.py``) declares ``FORMAT``, ``SUFFIXES``,
``BINARY``, ``REQUIRES`` (the optional libraries it needs), ``EXTRA`` (the extra that
installs them), ``is_available()``, ``write_plan(plan, stream, **options)`` and
``write(vf, dest, selection, **options)``. The table below repeats the names and
suffixes so that choosing a format imports nothing.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NamedTuple


class Format(NamedTuple):
    """An export format: its name, the suffixes that mean it, its writer module."""

    name: str
    suffixes: tuple[str, ...]
    module: str
    binary: bool

    def load(self) -> ModuleType:
        """The writer module (imports it, not its optional libraries)."""
        return importlib.import_module(self.module)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("json", (".json",), "vitalproc.writers.json", False),
        Format("msgpack", (".msgpack", ".mpk", ".msgp"), "vitalproc.writers.msgpack", True),
        Format("csv", (".csv",), "vitalproc.writers.csv", False),
        Format("parquet", (".parquet", ".pq"), "vitalproc.writers.parquet", True),
        Format("arrow", (".arrow", ".feather", ".ipc"), "vitalproc.writers.arrow", True),
        Format("text", (".txt", ".text"), "vitalproc.writers.text", False),
    )
}

#: ``--format`` values, in the order the help lists them.
NAMES = tuple(FORMATS)


def get(name: str) -> Format:
    """The format called ``name`` (case-insensitive).

    Raises
    ------
    KeyError
        No such format; the message lists the known ones.
    """
    try:
        return FORMATS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown format {name!r} (known: {', '.join(NAMES)})") from None


def for_path(path: str | os.PathLike) -> Format | None:
    """The format a file name's suffix means (``out.parquet`` -> parquet), or None."""
    name = os.fspath(path).lower()
    for fmt in FORMATS.values():
        if name.endswith(fmt.suffixes):
            return fmt
    return None
