"""Track-name matching: vitaldb's rules for ``track_names``, ``exclude`` and
``find_track``, and the globs and near-miss hints of the command line.

Every reader, view and writer that selects tracks by name uses these, so the rule is
written once.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar, cast

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class HasTracks(Protocol[T_co]):
    """Anything holding tracks by ``Device/Track`` key, as ``VitalFile.trks`` does."""

    @property
    def trks(self) -> Mapping[str, T_co]: ...


_GLOB_CHARS = frozenset("*?[")


def split_names(names: Any) -> list[str] | None:
    """vitaldb's parsing of ``track_names``/``exclude`` given as one string.

    It splits on commas unless the first comma is the first character (its
    ``str.find`` test is falsy only at index 0).
    """
    if isinstance(names, str):
        return names.split(",") if names.find(",") else [names]
    return cast("list[str] | None", names)  # a list of names, as given


def matches(dtname: str, dname: str, selectors: Iterable[str]) -> bool:
    """vitaldb's tolerant match: exact, suffix of ``Device/Track``, or ``Device/*``."""
    if dtname in selectors:
        return True
    return any(dtname.endswith(sel) or dname + "/*" == sel for sel in selectors)


def find_track(vf: HasTracks[T], dtname: str) -> T | None:
    """vitaldb's ``find_track``: the track keyed ``dtname``, else the first (in file
    order) whose key ends with it (so ``HR`` may find ``PLETH_HR``), else None."""
    if dtname in vf.trks:
        return vf.trks[dtname]
    for key, trk in vf.trks.items():
        if key.endswith(dtname):
            return trk
    return None


def is_glob(name: str) -> bool:
    """A pattern for ``fnmatch`` (vitaldb's own ``Device/*`` form is not one)."""
    if name.endswith("/*") and not _GLOB_CHARS & set(name[:-2]):
        return False
    return bool(_GLOB_CHARS & set(name))


def name_matches(dtname: str, dname: str, selector: str) -> bool:
    """One selector against one track: vitaldb's rule, or a glob on the full or base name."""
    if is_glob(selector):
        base = dtname.rsplit("/", 1)[-1]
        return fnmatch.fnmatchcase(dtname, selector) or fnmatch.fnmatchcase(base, selector)
    return matches(dtname, dname, (selector,))


def close_names(selector: str, names: Sequence[str], n: int = 4) -> list[str]:
    """Track names that look like ``selector`` (full names and bare track names)."""
    import difflib

    by_base: dict[str, str] = {}
    for name in names:
        by_base.setdefault(name.rsplit("/", 1)[-1], name)
    found = difflib.get_close_matches(selector, list(names), n=n, cutoff=0.6)
    found += [
        by_base[b] for b in difflib.get_close_matches(selector, list(by_base), n=n, cutoff=0.6)
    ]
    return list(dict.fromkeys(found))[:n]
