"""A local copy of the open dataset's public file release.

Layout: ``vital_files/NNNN.vital`` (the case id, four digits at least), and beside it
``clinical_data.csv``, ``lab_data.csv`` and ``track_names.csv``. Case files are read in
place: no cache, no network.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from .transport import FetchError

_CASE_FILE = re.compile(r"^(\d+)\.vital$")


def case_path(root: str, caseid: int) -> str:
    """The file of a case in a mirror (``vital_files/0001.vital``; an unpadded name too).

    Raises
    ------
    FetchError
        No such case in the mirror.
    """
    folder = os.path.join(root, "vital_files")
    for name in (f"{int(caseid):04d}.vital", f"{int(caseid)}.vital"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise FetchError(os.path.join(folder, f"{int(caseid):04d}.vital"), "no such case in the mirror")


def case_paths(root: str) -> Iterator[tuple[int, str]]:
    """Every case of a mirror, by case id."""
    folder = os.path.join(root, "vital_files")
    found = []
    for name in os.listdir(folder):
        m = _CASE_FILE.match(name)
        if m:
            found.append((int(m.group(1)), os.path.join(folder, name)))
    yield from sorted(found)
