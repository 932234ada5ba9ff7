"""The dataset's three tables (tracks, clinical data, lab results) as pandas DataFrames.

From the web API (``{api_url}/trks``, ``/cases``, ``/labs``: the bytes are kept in the
cache folder, so a later process and offline mode read them with no network) or from a
mirror (``track_names.csv``, ``clinical_data.csv``, ``lab_data.csv``). Each table is
parsed once per process and source, as vitaldb keeps them in module globals.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from .._files import atomic_file
from . import settings
from .transport import NotCachedError, get_bytes

#: Endpoint -> file name in a mirror of the public release.
MIRROR_FILES = {"trks": "track_names.csv", "cases": "clinical_data.csv", "labs": "lab_data.csv"}

_frames: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def source() -> str:
    """What the tables and cases are read from now: the mirror folder or the API."""
    return (
        f"mirror:{os.path.abspath(settings.mirror)}"
        if settings.mirror
        else settings.api_url.rstrip("/")
    )


def table(name: str) -> Any:
    """The table ``name`` (``"trks"``, ``"cases"`` or ``"labs"``) as a DataFrame."""
    key = (name, source())
    with _lock:
        frame = _frames.get(key)
        if frame is None:
            frame = _frames[key] = _load(name)
        return frame


def loaded(name: str) -> bool:
    """Whether this process has read the table from the current source yet."""
    return (name, source()) in _frames


def forget() -> None:
    """Drop the parsed tables (the next call reads them again from the cache or mirror)."""
    with _lock:
        _frames.clear()


def _load(name: str) -> Any:
    import pandas as pd

    if settings.mirror:
        path = os.path.join(settings.mirror, MIRROR_FILES[name])
        if name == "trks":
            return _mirror_trks(path)
        return pd.read_csv(path)
    return pd.read_csv(cached_table(name))


def cached_table(name: str) -> str:
    """The path of the cached CSV of an API table, downloaded if missing."""
    return cached_csv(name, "", "the table")


def cached_csv(name: str, subfolder: str, what: str) -> str:
    """The path of the cached CSV ``{api_url}/{name}`` (in ``subfolder`` of the API's cache
    folder), downloaded if missing and written whole or not at all; ``what`` names it in
    the offline error."""
    base = settings.api_url.rstrip("/")
    folder = os.path.join(settings.cache_root(), settings.source_key(base))
    if subfolder:
        folder = os.path.join(folder, subfolder)
    path = os.path.join(folder, f"{name}.csv")
    if os.path.exists(path):
        return path
    url = f"{base}/{name}"
    if settings.offline:
        raise NotCachedError(url, f"offline, and {what} is not cached in {folder}")
    data = get_bytes(url)
    os.makedirs(folder, exist_ok=True)
    with atomic_file(path) as f:
        f.write(data)
    return path


def _mirror_trks(path: str) -> Any:
    """The mirror's track table in the API's columns (``caseid``, ``tname``, ``tid``).

    A ``track_names.csv`` with ``caseid`` and ``tname`` columns is used as it is; else
    the table is made from the case files' track declarations (``tid`` left empty).
    """
    import pandas as pd

    if os.path.exists(path):
        frame = pd.read_csv(path)
        if {"caseid", "tname"} <= set(frame.columns):
            return frame
    from ..io.reader import read
    from .mirror import case_paths

    rows = []
    for caseid, vital in case_paths(settings.mirror):
        vf = read(vital, header_only=True)
        rows += [(caseid, name, "") for name in vf.trks]
    return pd.DataFrame(rows, columns=["caseid", "tname", "tid"])
