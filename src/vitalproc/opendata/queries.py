"""vitaldb's table functions: ``find_cases``, ``get_track_names``, ``load_clinical_data``,
``load_lab_data``.

Each has vitaldb's arguments and results. Where vitaldb fails by accident these do what
its docstring says by default; ``compat="vitaldb"`` gives vitaldb's result exactly:

- an empty ``caseids`` (the default) means every case, as documented (vitaldb returns an
  empty table: its ``if not caseids`` branch is overwritten by the next line);
- ``load_lab_data``'s ``params`` are lab columns (vitaldb checks them against the
  clinical table's columns, and raises ``AttributeError`` if that table was not loaded);
- ``find_cases`` splits a string on commas always (vitaldb's ``str.find`` test leaves a
  string that starts with a comma whole), returns the case ids sorted (vitaldb: a set's
  order) and an empty list for no names (vitaldb raises ``TypeError``).
"""

from __future__ import annotations

import warnings
from typing import Any

from ..io.reader import _check as _check_compat
from . import tables


def _check(compat: str | None) -> None:
    _check_compat(compat)


def load_clinical_data(caseids: Any = (), params: Any = (), *, compat: str | None = None) -> Any:
    """Clinical information of the cases (rows) in the parameters (columns).

    Parameters
    ----------
    caseids
        Case ids; empty: every case (``compat="vitaldb"``: none, as vitaldb).
    params
        Columns to keep (names not in the table are left out); empty: every column.

    Returns
    -------
    pandas.DataFrame
        The rows of the ``cases`` table (their index kept, as vitaldb's slice).
    """
    _check(compat)
    dfci = tables.table("cases")
    return _select(dfci, caseids, params, dfci.columns, compat)


def load_lab_data(caseids: Any = (), params: Any = (), *, compat: str | None = None) -> Any:
    """Lab results of the cases (``caseid``, ``dt``, ``name``, ``result`` rows).

    Parameters
    ----------
    caseids
        Case ids; empty: every case (``compat="vitaldb"``: none, as vitaldb).
    params
        Columns to keep; by default lab columns. With ``compat="vitaldb"``, the names kept
        are those that are columns of the clinical table (vitaldb's slip), and the call
        raises ``AttributeError`` when the clinical table was not loaded before.
    """
    _check(compat)
    dflabs = tables.table("labs")
    if compat is not None and params:
        if not tables.loaded("cases"):
            raise AttributeError("'NoneType' object has no attribute 'columns'")
        columns = tables.table("cases").columns
    else:
        columns = dflabs.columns
    return _select(dflabs, caseids, params, columns, compat)


def _select(frame: Any, caseids: Any, params: Any, columns: Any, compat: str | None) -> Any:
    if not caseids and compat is None:
        res = frame
    else:
        res = frame[frame["caseid"].isin(caseids)]
    if params:
        res = res[[p for p in params if p in columns]]
    return res


def get_track_names(caseids: Any = (), *, compat: str | None = None) -> Any:
    """The track names of the cases: a DataFrame with ``caseid`` and ``tnames`` (a list
    per case, in the table's order); empty ``caseids``: every case (``compat="vitaldb"``:
    none)."""
    _check(compat)
    if compat is not None:
        _deprecated(
            "get_track_names() relies on the per-track 'trks' index, which is "
            "deprecated. Track names are available from the .vital file via "
            "VitalFile(caseid).get_track_names(). The trks index may be removed "
            "in a future release."
        )
    dftrks = tables.table("trks")
    sel = dftrks if not caseids and compat is None else dftrks[dftrks["caseid"].isin(caseids)]
    return sel.groupby("caseid")["tname"].apply(list).reset_index(name="tnames")


def find_cases(track_names: Any, *, compat: str | None = None) -> list[int]:
    """The case ids holding every one of the tracks (a name matches a track name ending
    with it: ``HR`` also matches ``PLETH_HR``).

    Parameters
    ----------
    track_names
        A list of names or one string of comma-separated names.

    Returns
    -------
    list of int
        Sorted (``compat="vitaldb"``: the order of vitaldb's set).
    """
    _check(compat)
    if compat is not None:
        _deprecated(
            "find_cases() relies on the per-track 'trks' index, which is "
            "deprecated and may be removed in a future release."
        )
    dftrks = tables.table("trks")
    if isinstance(track_names, str):
        if compat is not None:
            track_names = track_names.split(",") if track_names.find(",") else [track_names]
        else:
            track_names = [t for t in track_names.split(",") if t]
    if compat is not None:
        return list(
            set.intersection(
                *[
                    set(dftrks.loc[dftrks["tname"].str.endswith(dtname), "caseid"])
                    for dtname in track_names
                ]
            )
        )
    if not track_names:
        return []
    tname = dftrks["tname"].astype(str)
    found = None
    for name in track_names:
        ids = set(dftrks.loc[tname.str.endswith(name), "caseid"].tolist())
        found = ids if found is None else found & ids
    return sorted(int(c) for c in found or ())


def _deprecated(message: str) -> None:
    warnings.warn(message, DeprecationWarning, stacklevel=3)
