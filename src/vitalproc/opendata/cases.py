"""Reading one case of the open dataset: from the mirror, the cache, or the web API.

A case read with a track selection fetches only the bytes up to the last wanted block
of its packed file (``CaseStore.prefix``), as vitaldb's streamed read does; without one
(or when that read would need the whole file), the whole file is downloaded once into
the cache and read from there on every later call.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

from .._names import split_names
from ..model import VitalFile as _VitalFile
from . import settings
from .cache import CaseStore
from .mirror import case_path

#: Warnings of a read that mean the cached bytes went bad after they were verified.
_ROT = frozenset({"corrupt", "truncated"})


def is_caseid(value: Any) -> bool:
    """An int or numpy integer (vitaldb's test for a case id of the open dataset)."""
    return isinstance(value, numbers.Integral)


def read_case(
    vf: _VitalFile,
    caseid: Any,
    track_names: Any = None,
    exclude: Any = None,
    header_only: bool = False,
    maxlen: float | None = None,
    compat: str | None = None,
    store: CaseStore | None = None,
) -> None:
    """Fill ``vf`` with a case, as ``VitalFile(path, ...)`` fills it from a file."""
    if settings.mirror:
        _VitalFile.__init__(
            vf,
            case_path(settings.mirror, caseid),
            track_names,
            header_only=header_only,
            exclude=exclude,
            maxlen=maxlen,
            compat=compat,
        )
        vf.ipath = caseid
        return
    store = store or CaseStore()
    names = split_names(track_names)
    if names and not header_only and maxlen is None:
        small = store.prefix(caseid, names, exclude)
        if small is not None:
            _VitalFile.__init__(vf, small, names, exclude=exclude, compat=compat)
            vf.ipath = caseid
            return
    for attempt in (1, 2):
        path = store.ensure(caseid)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _VitalFile.__init__(
                vf,
                path,
                names,
                header_only=header_only,
                exclude=exclude,
                maxlen=maxlen,
                compat=compat,
            )
        if attempt == 1 and _ROT & {w.code for w in vf.warnings}:
            store.invalidate(caseid)  # went bad on disk since it was verified: fetch again
            continue
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        break
    vf.ipath = caseid


class VitalFile(_VitalFile):
    """``vitalproc.VitalFile`` that also takes a case id of the open dataset, as vitaldb's.

    ``VitalFile(caseid, track_names)`` reads ``{api_url}/{DATASET_VERSION}/{caseid}.vital``
    through the cache (or the mirror's file). Everything else is ``vitalproc.VitalFile``.

    By default ``header_only`` and ``maxlen`` work with a case id too; with
    ``compat="vitaldb"``, ``header_only`` raises ``NotImplementedError`` and ``maxlen``
    is ignored, as vitaldb does.
    """

    def _read(self, ipath: Any, names: Any, exclude: Any, header_only: bool, *more: Any) -> None:
        """A case id through ``read_case`` (``strict`` and ``max_inflated_bytes`` are not
        passed on), anything else as ``vitalproc.VitalFile`` reads it."""
        maxlen, compat = more[0], more[1]
        if not is_caseid(ipath) or (isinstance(ipath, bool) and compat is None):
            super()._read(ipath, names, exclude, header_only, *more)
            return
        if compat is not None:
            if header_only:
                raise NotImplementedError
            maxlen = None  # vitaldb's load_opendata does not pass it on
        if not ipath:
            raise ValueError("caseid should be greater than zero")
        read_case(self, ipath, names, exclude, header_only, maxlen, compat)


def load_case(
    caseid: Any, track_names: Any = None, interval: float = 1, *, compat: str | None = None
) -> Any:
    """A case's tracks on a time grid, as vitaldb's ``load_case``.

    Parameters
    ----------
    caseid
        The case id (1 to 6388 in the public dataset).
    track_names
        A list of names, or one string of comma-separated names (exact ``Device/Track``
        or a suffix such as ``HR``). vitaldb requires it; here None means every track
        (vitaldb fails on None).
    interval
        Grid step in seconds.
    compat
        None: vitalproc's reading fixes; ``"vitaldb"``: vitaldb's result exactly.

    Returns
    -------
    numpy.ndarray or None
        float32 for numerics and waves stored as float32, else what vitaldb's
        ``to_numpy`` gives: one column per name, one row per ``interval``; None for a
        case id of 0 (as vitaldb).
    """
    if not caseid:
        return None
    if isinstance(track_names, str):
        track_names = track_names.split(",") if "," in track_names else [track_names]
    vf = VitalFile(caseid, track_names, compat=compat)
    if track_names is None and compat is None:
        track_names = vf.get_track_names()
    return vf.to_numpy(track_names, interval)
