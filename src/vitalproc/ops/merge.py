"""A list of paths read as one recording, by vitaldb 1.7.2's rules (``VitalFile([p1, p2])``).

vitaldb reads each path in full (it ignores ``track_names``, ``exclude``, ``maxlen`` and
``header_only`` for a list) and merges in list order: the first file with a start time
gives the devices, tracks, span and time zone; a later file more than 7 days from the
running start is skipped; the others widen the span, add the devices and tracks not
seen yet (at the end), append their records to the tracks already there, and append
to ``order`` the names not in it yet (so the first file's order is not used). Raw
device packets are not merged and ``packed`` stays False, as in vitaldb.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from typing import Any

from ..errors import VitalError, VitalWarning
from ..model import ReadIssue, Track, VitalFile

#: vitaldb skips a file whose start is more than this far from the merged start.
MAX_START_DISTANCE = 7 * 24 * 3600


def merge_paths(
    vf: VitalFile,
    paths: Iterable[Any],
    compat: str | None = None,
    strict: bool = False,
    max_inflated_bytes: int | None = None,
) -> None:
    """Read every path and merge them into ``vf`` (blank) as vitaldb does.

    Parameters
    ----------
    vf
        A blank recording to fill.
    paths
        The recordings, in the order their records are concatenated.
    compat, strict, max_inflated_bytes
        Passed to ``vitalproc.read`` for each file. With ``strict``, a file skipped by
        the 7-day rule or a track whose records cannot join also raise.

    Raises
    ------
    VitalError
        With ``strict`` only: a skipped file or records that could not be merged.
    """
    from ..io.reader import read

    later: dict[str, list[Track]] = {}  # key -> the same track in later files, in order
    for path in paths:
        part = read(path, compat=compat, strict=strict, max_inflated_bytes=max_inflated_bytes)
        vf.warnings.extend(part.warnings)
        if vf.dtstart == 0:  # vitaldb: "open the first file", again while the start is 0
            vf.devs, vf.trks = part.devs, part.trks
            vf.dtstart, vf.dtend, vf.dgmt = part.dtstart, part.dtend, part.dgmt
            later = {}
            continue
        if abs(vf.dtstart - part.dtstart) > MAX_START_DISTANCE:
            _note(
                vf,
                strict,
                "merge_skipped",
                f"{_name(path)} starts more than 7 days "
                "from the recording it would join; skipped, as vitaldb skips it",
            )
            continue
        vf.dtstart = min(vf.dtstart, part.dtstart)
        vf.dtend = max(vf.dtend, part.dtend)
        for name, device in part.devs.items():
            if name not in vf.devs:
                vf.devs[name] = device
        for key, trk in part.trks.items():
            if key in vf.trks:
                later.setdefault(key, []).append(trk)
            else:
                vf.trks[key] = trk
        for name in part.order:
            if name not in vf.order:
                vf.order.append(name)
    for key, tracks in later.items():
        _append_records(vf, strict, key, vf.trks[key], tracks)


def _name(path: Any) -> str:
    return repr(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else "a source"


def _note(
    vf: VitalFile,
    strict: bool,
    code: str,
    message: str,
    track: str | None = None,
    count: int | None = None,
) -> None:
    if strict:
        raise VitalError(message)
    vf.warnings.append(ReadIssue(code, message, track=track, count=count))
    warnings.warn(message, VitalWarning, stacklevel=4)


def _append_records(
    vf: VitalFile, strict: bool, key: str, base: Track, tracks: list[Track]
) -> None:
    """Concatenate the records of ``tracks`` after those of ``base`` (one copy in all).

    vitaldb appends record dicts whatever their format; a column holds one dtype, so
    records of another track type are dropped and values of another format are cast
    to the first file's, each with a warning.
    """
    import numpy as np

    joining = []
    for trk in tracks:
        if trk.type != base.type:
            _note(
                vf,
                strict,
                "merge_type_mismatch",
                f"{key!r} is a track of type {trk.type} in a later file but of type "
                f"{base.type} in the first: its {len(trk)} records there were dropped",
                track=key,
                count=len(trk),
            )
            continue
        if trk.data.dtype != base.data.dtype:
            _note(
                vf,
                strict,
                "merge_format_mismatch",
                f"{key!r} has fmt {trk.fmt} in a later file but fmt {base.fmt} in the "
                f"first: its {len(trk)} records there were converted to fmt {base.fmt}",
                track=key,
                count=len(trk),
            )
        joining.append(trk)
    if not joining:
        return
    everything = [base, *joining]
    dt = np.concatenate([t.dt for t in everything])
    data = np.concatenate([t.data for t in everything]).astype(base.data.dtype, copy=False)
    offsets = None
    if base.offsets is not None:
        bases = np.cumsum([0] + [len(t.data) for t in everything[:-1]])
        offsets = np.concatenate(
            [everything[0].offsets[:1]]
            + [t.offsets[1:] + b for t, b in zip(everything, bases, strict=True)]
        )
    base.dt, base.data, base.offsets = dt, data, offsets
