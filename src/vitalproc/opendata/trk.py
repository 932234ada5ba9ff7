"""vitaldb's deprecated per-track CSV API: ``load_trk`` and ``load_trks``.

``{api_url}/{tid}`` is a CSV with a header ``Time,DEV/TRK``: one row per value of a
numeric track, and for a wave one row per sample where only some rows carry a time.
The CSV of a track id never changes, so it is cached like the case files.

Difference by default: vitaldb returns an empty array when anything goes wrong,
the network included (a bare ``except``); here a failed download raises ``FetchError``
(``compat="vitaldb"``: an empty array, as vitaldb). A track with no rows is an empty
array in both.
"""

from __future__ import annotations

import warnings
from typing import Any

from . import settings
from .tables import cached_csv
from .transport import FetchError

_DEPRECATED = (
    "{}()/the per-track CSV API is deprecated; use "
    "vitaldb.load_case(caseid, track_names) or VitalFile, which read the "
    "packed .vital file. The CSV track endpoints may be removed in a "
    "future release."
)


def track_csv(tid: Any) -> str:
    """The cached CSV of a track id, downloaded if missing."""
    return cached_csv(str(tid), "trk", "the track")


def _values(tid: Any, interval: float, compat: str | None) -> Any:
    import numpy as np
    import pandas as pd

    try:
        path = track_csv(tid)
    except FetchError:
        if compat is None:
            raise
        return np.empty(0)
    try:
        dtvals = pd.read_csv(path, na_values="-nan(ind)", dtype=np.float32).values
    except Exception:
        return np.empty(0)
    if len(dtvals) == 0:
        return np.empty(0)
    dtvals[:, 0] /= interval  # time -> row
    nsamp = int(np.nanmax(dtvals[:, 0])) + 1
    if np.isnan(dtvals[:, 0]).any():  # a wave: rows are samples, a few carry a time
        if nsamp != len(dtvals):  # resampled by picking evenly spaced samples
            return np.take(dtvals[:, 1], np.linspace(0, len(dtvals) - 1, nsamp).astype(np.int64))
        return dtvals[:, 1]
    ret = np.full(nsamp, np.nan)
    rows = dtvals[:, 0].astype(np.int64)  # int() of each, as vitaldb's loop
    ret[rows] = dtvals[:, 1]  # a later value of the same row wins, as in its loop
    return ret


def load_trk(tid: Any, interval: float = 1, *, compat: str | None = None) -> Any:
    """One track of the CSV API on a grid of ``interval`` seconds (float64; a wave whose
    rows already fill the grid comes back as its float32 column, as vitaldb). A list,
    set or tuple of ids is ``load_trks``."""
    warnings.warn(_DEPRECATED.format("load_trk"), DeprecationWarning, stacklevel=2)
    if isinstance(tid, (list, set, tuple)):
        return _load_trks(tid, interval, compat)
    return _values(tid, interval, compat)


def load_trks(tids: Any, interval: float = 1, *, compat: str | None = None) -> Any:
    """Several tracks of the CSV API as the columns of one float64 array (NaN where a
    track is shorter; an empty id gives a column of NaN). Downloads run in parallel."""
    warnings.warn(_DEPRECATED.format("load_trks"), DeprecationWarning, stacklevel=2)
    return _load_trks(tids, interval, compat)


def _load_trks(tids: Any, interval: float, compat: str | None) -> Any:
    import numpy as np

    tids = list(tids)
    wanted = [t for t in tids if t]
    if compat is None and len(wanted) > 1 and not settings.offline:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(8, len(wanted))) as pool:
            list(pool.map(track_csv, wanted))  # fill the cache; errors raise below
    trks = [_values(t, interval, compat) if t else None for t in tids]
    maxlen = max([len(t) for t in trks if t is not None], default=0)
    if maxlen == 0:
        return np.empty(0)
    ret = np.full((maxlen, len(tids)), np.nan)
    for i, trk in enumerate(trks):
        if trk is not None:
            ret[: len(trk), i] = trk
    return ret
