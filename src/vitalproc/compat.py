"""Drop-in for vitaldb's reading and open-dataset API: ``import vitalproc.compat as vitaldb``.

``VitalFile``, ``vital_recs``, ``vital_trks`` and ``read_vital`` take vitaldb 1.7.2's
arguments and return its results. By default they read with vitalproc's documented
fixes (records vitaldb silently drops are kept, the packed writer's gap filler is NaN);
pass ``compat="vitaldb"`` for vitaldb's result exactly. Where vitaldb fails by accident
(``track_names=None`` in ``vital_recs``, an interval on a file with no sampling rate),
these do what the argument means instead: every track, a 1 s grid.

Examples
--------
>>> import vitalproc
>>> import vitalproc.compat as vitaldb
>>> vitaldb.vital_trks(vitalproc.SAMPLE)[:2]
['Intellivue/NIBP_SYS', 'Intellivue/NIBP_DIA']
>>> vitaldb.vital_recs(vitalproc.SAMPLE, "HR,ECG_II", 1 / 500).shape
(13121, 2)

The open dataset's functions (``load_case``, ``find_cases``, ``get_track_names``,
``load_clinical_data``, ``load_lab_data``, ``load_trk``, ``load_trks``) and
``VitalFile(caseid)`` are ``vitalproc.opendata``'s, cached; its settings (``api_url``,
``DATASET_VERSION``, ``cache_dir``, ``offline``, ``mirror``) can be set here too.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .opendata import SettingsModule
from .opendata.cases import VitalFile, load_case

# vitaldb's table functions (they import pandas when called)
_OPENDATA = (
    "find_cases",
    "get_track_names",
    "load_clinical_data",
    "load_lab_data",
    "load_trk",
    "load_trks",
)

__all__ = ["VitalFile", "load_case", "read_vital", "vital_recs", "vital_trks"]
__all__ += list(_OPENDATA)


def __dir__() -> list[str]:
    return sorted(__all__)


def __getattr__(name: str) -> Any:
    if name in _OPENDATA:
        from . import opendata

        return getattr(opendata, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def vital_recs(
    ipath: Any,
    track_names: Any = None,
    interval: float | None = None,
    return_timestamp: bool = False,
    return_datetime: bool = False,
    return_pandas: bool = False,
    exclude: Any = None,
    *,
    compat: str | None = None,
) -> Any:
    """Read a recording and return its tracks on a time grid, as vitaldb's ``vital_recs``.

    Parameters
    ----------
    ipath
        Path, URL, bytes or binary file object of a .vital file.
    track_names
        Names to read and return (a string is split on commas); None: every track.
    interval
        Grid step in seconds; None: ``1 / max(srate)`` of the tracks read, else 1 s.
    return_timestamp, return_datetime
        Prepend a ``"Time"`` column (Unix seconds; timezone-aware datetimes).
    return_pandas
        Return a ``pandas.DataFrame`` instead of a ``numpy.ndarray``.
    exclude
        Names to leave out.
    compat
        None: vitalproc's fixes; ``"vitaldb"``: vitaldb's result exactly.

    Returns
    -------
    numpy.ndarray or pandas.DataFrame
        ``VitalFile.to_numpy``'s (or ``to_pandas``'s) grid.
    """
    if isinstance(track_names, str):
        # Here vitaldb tests the comma properly (unlike its VitalFile and get_samples).
        track_names = track_names.split(",") if "," in track_names else [track_names]
    vf = VitalFile(ipath, track_names, exclude=exclude, compat=compat)
    if return_pandas:
        return vf.to_pandas(track_names, interval, return_datetime, return_timestamp)
    return vf.to_numpy(track_names, interval, return_datetime, return_timestamp)


def vital_trks(ipath: Any, *, compat: str | None = None) -> list[str]:
    """The track names of a recording (devices and tracks only, no records), as vitaldb's
    ``vital_trks``."""
    return VitalFile(ipath, header_only=True, compat=compat).get_track_names()


def read_vital(
    ipath: Any,
    track_names: Any = None,
    exclude: Any = None,
    header_only: bool = False,
    maxlen: float | None = None,
    *,
    compat: str | None = None,
) -> VitalFile:
    """Read a .vital file, as vitaldb's ``read_vital``.

    Raises
    ------
    ValueError
        A path or URL (str or path-like) that does not end in ``.vital`` (vitaldb's
        check). Bytes and file objects, which vitaldb does not take, are read as is.
    """
    if isinstance(ipath, (str, os.PathLike)) and os.path.splitext(ipath)[1] != ".vital":
        raise ValueError("Invalid file format")
    return VitalFile(
        ipath,
        track_names=track_names,
        exclude=exclude,
        header_only=header_only,
        maxlen=maxlen,
        compat=compat,
    )


sys.modules[__name__].__class__ = SettingsModule
