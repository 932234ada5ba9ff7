"""Editing a recording the way vitaldb 1.7.2's ``VitalFile`` methods do, on the columns.

Each function mirrors the vitaldb method of the same name branch by branch: which
``devs``/``trks`` keys move to the end of their dict, when a track's ``dtname`` and its
key disagree, which occurrence in ``order`` changes, which records ``crop`` keeps. Only
records are handled differently: as masks and slices over the track's arrays, never a
Python loop over records. Where vitaldb fails by accident or silently ignores bad input
(a crop window outside the file, ``add_track`` data of the wrong shape), these raise
``ValueError`` naming the argument; each docstring says where.
"""

from __future__ import annotations

import datetime
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._constants import FMT_DTYPE, TrackType
from .._names import find_track
from ..model import Device, Track, VitalFile
from ..model._arrays import record_ends

if TYPE_CHECKING:
    import numpy as np

#: ``crop`` reads a time before 2000-01-01 00:00:00 UTC as seconds from the file's start.
RELATIVE_TIME_LIMIT = 946684800

#: vitaldb's ``Track.find_color``: display colours (ARGB) by track name.
_COLORS = (
    (
        0xFF00FF00,
        {
            "I",
            "II",
            "III",
            "V",
            "V1",
            "V2",
            "V3",
            "V4",
            "V5",
            "V6",
            "aVR",
            "aVL",
            "aVF",
            "MLII",
            "DeltaQTc",
            "HR",
            "PVC",
            "QT",
            "QT-HR",
            "QTc",
            "ST-I",
            "ST-II",
            "ST-III",
            "ST-V",
            "PULSE",
        },
    ),
    (0xFFFF0000, {"ABPSys", "ABPDias", "ABPMean", "PAPSys", "PAPDias", "PAPMean"}),
    (0xFF87CEFA, {"Pleth", "SpO2", "Pulse (SpO2)"}),
    (0xFFFFA500, {"CVP"}),
    (0xFFFFC0CB, {"CO", "CI", "SV", "SVI"}),
    (0xFFFFFF00, {"Resp", "RR", "RESP"}),
)
DEFAULT_COLOR = 0xFFFFFF

#: vitaldb's ``add_track`` declares every new track as fmt 1 (float32).
ADDED_FMT = 1


def find_color(name: str) -> int:
    """The display colour vitaldb gives a new track called ``name`` (white if unknown)."""
    for color, names in _COLORS:
        if name in names:
            return color
    return DEFAULT_COLOR


# ---- crop -----------------------------------------------------------------------------


def _window_edge(t: Any, default: float, vf: VitalFile, name: str) -> float:
    """vitaldb's reading of a crop bound: None is the file's edge, a negative time
    counts back from the end, a time before 2000 counts from the start."""
    if t is None:
        return default
    if not isinstance(t, numbers.Real) or not math.isfinite(t):
        raise ValueError(f"{name} must be a finite number of seconds, not {t!r}")
    if t < 0:
        return vf.dtend + t
    if t < RELATIVE_TIME_LIMIT:
        return vf.dtstart + t
    return t


def keep_records(trk: Track, keep: np.ndarray) -> None:
    """Keep the records of ``trk`` where the boolean mask ``keep`` is true.

    A contiguous run of records is kept as views of the arrays (no copy).
    """
    import numpy as np

    index = np.flatnonzero(keep)
    n = len(trk)
    if index.size == n:
        return
    if trk.segments is not None:
        from ..model._segments import segments_of

        trk.segments = segments_of(trk.segments, index)
    dt, data, offsets = trk.dt, trk.data, trk.offsets
    if index.size == 0 or index[-1] - index[0] + 1 == index.size:
        lo, hi = (int(index[0]), int(index[-1]) + 1) if index.size else (0, 0)
        trk.dt = dt[lo:hi]
        if offsets is None:
            trk.data = data[lo:hi]
        else:
            start, stop = offsets[lo], offsets[hi]
            trk.data = data[start:stop]
            trk.offsets = offsets[lo : hi + 1] - start
        return
    trk.dt = dt[index]
    if offsets is None:
        trk.data = data[index]
        return
    lengths = np.diff(offsets)
    trk.data = data[np.repeat(keep, lengths)]
    new_offsets = np.zeros(index.size + 1, np.int64)
    np.cumsum(lengths[index], out=new_offsets[1:])
    trk.offsets = new_offsets


def crop(vf: VitalFile, dtfrom: float | None = None, dtend: float | None = None) -> VitalFile:
    """Keep the records in a time window, as vitaldb's ``crop``; in place.

    Parameters
    ----------
    vf
        The recording.
    dtfrom, dtend
        Window edges: Unix times; negative values count back from ``vf.dtend``; values
        before 2000-01-01 count from ``vf.dtstart``; None means the file's own edge.

    Returns
    -------
    VitalFile
        ``vf`` itself, with ``dtstart``/``dtend`` set to the window. A record is kept
        when its start or its end lies in the window, edges included (so a wave record
        that begins before the window and ends after it is dropped, as in vitaldb).
        Devices, tracks, ``order`` and raw packets are kept.

    Raises
    ------
    ValueError
        An edge that is not a finite number, a window that ends before it starts
        (vitaldb returns None and changes nothing), or a window entirely outside
        ``vf.dtstart .. vf.dtend`` (vitaldb empties every track).
    """
    start = _window_edge(dtfrom, vf.dtstart, vf, "dtfrom")
    end = _window_edge(dtend, vf.dtend, vf, "dtend")
    if end < start:
        raise ValueError(
            f"crop window ends (dtend -> {end!r}) before it starts (dtfrom -> {start!r})"
        )
    if end < vf.dtstart or start > vf.dtend:
        raise ValueError(
            f"crop window dtfrom..dtend ({start!r} .. {end!r}) lies outside "
            f"the recording ({vf.dtstart!r} .. {vf.dtend!r})"
        )
    for trk in vf.trks.values():
        dt = trk.dt
        ends = record_ends(trk)
        keep = ((start <= dt) & (dt <= end)) | ((start <= ends) & (ends <= end))
        keep_records(trk, keep)
    vf.dtstart = start
    vf.dtend = end
    return vf


# ---- renaming and removing --------------------------------------------------------------


def _replace_first(items: list[str], old: str, new: str) -> None:
    """vitaldb's ``order[order.index(old)] = new``: the first occurrence only."""
    if old in items:
        items[items.index(old)] = new


def rename_device(vf: VitalFile, oldname: str, newname: str) -> None:
    """Rename a device and every track whose ``dname`` is ``oldname``, as vitaldb does.

    The device and the renamed tracks move to the end of ``devs``/``trks`` (an existing
    entry named like the target is replaced where it stands); the first occurrence of
    each renamed track in ``order`` is renamed. Tracks are renamed even when no device
    ``oldname`` exists (``oldname=''`` renames every track without a device).

    Raises
    ------
    ValueError
        ``newname`` contains ``/`` or equals ``oldname``.
    """
    if "/" in newname:
        raise ValueError(f"newname must not contain '/': {newname!r}")
    if newname == oldname:
        raise ValueError(f"newname is the same as oldname: {newname!r}")
    if oldname in vf.devs:
        device = vf.devs.pop(oldname)
        device.name = newname
        vf.devs[newname] = device
    renamed = {}
    for key, trk in vf.trks.items():
        if trk.dname == oldname:
            trk.dname = newname
            trk.dtname = f"{newname}/{trk.name}"
            renamed[key] = trk.dtname
            _replace_first(vf.order, key, trk.dtname)
    for old, new in renamed.items():
        vf.trks[new] = vf.trks.pop(old)


def rename_devices(vf: VitalFile, mapping: Mapping[str, str]) -> None:
    """``rename_device`` for each ``{oldname: newname}`` in turn.

    Raises
    ------
    TypeError
        ``mapping`` is not a dict (as vitaldb).
    """
    _each(vf, mapping, rename_device)


def rename_track(vf: VitalFile, dtname: str, target: str) -> Track | None:
    """Rename the track ``find_track`` finds for ``dtname`` to ``target``, as vitaldb.

    The new key is ``dname + '/' + target``, also for a track without a device
    (``'/' + target``, as vitaldb does). The entry keyed by the track's old ``dtname``
    moves to the end of ``trks``; its first occurrence in ``order`` is renamed.

    Returns
    -------
    Track or None
        The renamed track; None when no track matches.

    Raises
    ------
    ValueError
        ``target`` contains ``/``.
    """
    if "/" in target:
        raise ValueError(f"target must not contain '/' (the device name stays): {target!r}")
    trk = find_track(vf, dtname)
    if trk is None:
        return None
    old, new = trk.dtname, f"{trk.dname}/{target}"
    trk.dtname = new
    trk.name = target
    if old in vf.trks:
        vf.trks[new] = vf.trks.pop(old)
    _replace_first(vf.order, old, new)
    return trk


def rename_tracks(vf: VitalFile, mapping: Mapping[str, str]) -> None:
    """``rename_track`` for each ``{dtname: target}`` in turn.

    Raises
    ------
    TypeError
        ``mapping`` is not a dict (as vitaldb).
    """
    _each(vf, mapping, rename_track)


def _each(vf: VitalFile, mapping: Mapping[str, str], rename: Callable[..., Any]) -> None:
    """``rename(vf, key, value)`` for each item of the dict ``mapping``, in order."""
    if not isinstance(mapping, dict):
        raise TypeError("mapping must be a dict")
    for key, value in mapping.items():
        rename(vf, key, value)


def _remove_first(items: list[str], name: str) -> None:
    if name in items:
        items.remove(name)


def remove_device(vf: VitalFile, dname: str) -> None:
    """Remove a device and every track whose ``dname`` is ``dname``, as vitaldb does
    (also when no such device exists; ``''`` removes every track without a device).
    Each removed track's first occurrence in ``order`` goes too."""
    vf.devs.pop(dname, None)
    for key in [k for k, trk in vf.trks.items() if trk.dname == dname]:
        del vf.trks[key]
        _remove_first(vf.order, key)


def _name_list(names: str | Iterable[str]) -> Iterable[str]:
    """vitaldb's ``remove_*s`` argument: one name (not split on commas) or several."""
    return [names] if isinstance(names, str) else names


def remove_devices(vf: VitalFile, dnames: str | Iterable[str]) -> None:
    """``remove_device`` for each name (a single string is one name)."""
    for dname in _name_list(dnames):
        remove_device(vf, dname)


def remove_track(vf: VitalFile, dtname: str) -> Track | None:
    """Remove the track ``find_track`` finds for ``dtname``, as vitaldb does.

    vitaldb deletes the entry keyed by the track's ``dtname``, which for a track of a
    device with an empty name (key ``'/HR'``, ``dtname`` ``'HR'``) is not its key.

    Returns
    -------
    Track or None
        The track found; None when no track matches.
    """
    trk = find_track(vf, dtname)
    if trk is None:
        return None
    vf.trks.pop(trk.dtname, None)
    _remove_first(vf.order, trk.dtname)
    return trk


def remove_tracks(vf: VitalFile, dtnames: str | Iterable[str]) -> None:
    """``remove_track`` for each name (a single string is one name)."""
    for dtname in _name_list(dtnames):
        remove_track(vf, dtname)


# ---- adding ----------------------------------------------------------------------------


def add_device(vf: VitalFile, dname: str, typename: str = "", port: str = "") -> None:
    """Add (or replace, in place) the device ``dname``."""
    vf.devs[dname] = Device(dname, typename, port)


def _times(dt: Any, argument: str) -> np.ndarray:
    import numpy as np

    try:
        times = np.asarray(dt)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{argument}: record times must be numbers ({exc})") from None
    if times.ndim != 1 or times.dtype.kind not in "iuf":
        raise ValueError(
            f"{argument} must be a 1-D array of times in seconds, got "
            f"shape {times.shape} and dtype {times.dtype}"
        )
    return times.astype(np.float64)


def _numbers(values: Any, argument: str) -> np.ndarray:
    """``values`` as the declared fmt's dtype; only a real-number array converts."""
    import numpy as np

    try:
        arr = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{argument}: values must be numbers ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{argument} must hold real numbers, got dtype {arr.dtype}")
    with np.errstate(over="ignore"):
        out = arr.astype(FMT_DTYPE[ADDED_FMT])
    if arr.dtype.kind == "f" and (np.isfinite(arr) != np.isfinite(out)).any():
        raise ValueError(f"{argument}: values beyond the float32 range of fmt 1")
    return out


def _text_column(texts: Sequence[Any], argument: str) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes and int64 offsets of a sequence of str."""
    import numpy as np

    if not all(isinstance(t, str) for t in texts):
        raise ValueError(f"{argument}: every value of a string track must be a str")
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), np.uint8).copy(), offsets


def _from_records(
    recs: Any, srate: float
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray | None] | None:
    """vitaldb's ``recs`` (``[{'dt': t, 'val': v}, ...]``) as (type, dt, data, offsets);
    None when vitaldb adds nothing (no records)."""
    import numpy as np

    if len(recs) == 0:
        return None
    try:
        dts = [r["dt"] for r in recs]
        vals = [r["val"] for r in recs]
    except (KeyError, TypeError, IndexError):
        raise ValueError("recs must be a list of {'dt': time, 'val': value} dicts") from None
    dt = _times(dts, "recs")
    if srate > 0:  # vitaldb: a positive rate makes a wave track
        parts = []
        for i, v in enumerate(vals):
            part = _numbers(v, f"recs[{i}]['val']")
            if part.ndim != 1:
                raise ValueError(
                    f"recs[{i}]['val'] of a wave track must be a 1-D array "
                    f"of samples, got shape {part.shape}"
                )
            parts.append(part)
        offsets = np.zeros(len(parts) + 1, np.int64)
        np.cumsum([len(p) for p in parts], out=offsets[1:])
        return TrackType.WAVE, dt, np.concatenate(parts), offsets
    if isinstance(vals[0], str):  # vitaldb looks at the first value only
        data, offsets = _text_column(vals, "recs")
        return TrackType.STRING, dt, data, offsets
    values = _numbers(vals, "recs")
    if values.ndim != 1:
        raise ValueError("recs: each 'val' of a numeric track must be one number")
    return TrackType.NUMERIC, dt, values, None


def _looks_like_texts(values: Any) -> bool:
    """A string track's values: str elements (vitaldb looks at the first record)."""
    kind = getattr(getattr(values, "dtype", None), "kind", None)
    if kind is not None:
        return kind == "U" or (kind == "O" and values.size > 0 and isinstance(values.flat[0], str))
    return isinstance(values, Sequence) and len(values) > 0 and isinstance(values[0], str)


def _from_columns(
    dt: Any, values: Any, samples: Any, offsets: Any, srate: float
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray | None] | None:
    """The columnar form as (type, dt, data, offsets); None when there are no records."""
    import numpy as np

    times = _times(dt, "dt")
    n = len(times)
    if srate > 0:
        if values is not None or samples is None:
            raise ValueError("a wave track (srate > 0) takes its data as samples=, not values=")
        data = _numbers(samples, "samples")
        if offsets is None:
            if data.ndim != 2 or data.shape[0] != n:
                raise ValueError(
                    f"samples must have shape (len(dt), samples per record) "
                    f"= ({n}, k), or be 1-D with offsets=; got {data.shape}"
                )
            bounds = np.arange(n + 1, dtype=np.int64) * data.shape[1]
            data = data.reshape(-1)
        else:
            bounds = np.asarray(offsets)
            if (
                data.ndim != 1
                or bounds.ndim != 1
                or bounds.dtype.kind not in "iu"
                or len(bounds) != n + 1
            ):
                raise ValueError(
                    f"offsets must be {n + 1} integer record boundaries into "
                    f"1-D samples; got samples {data.shape}, offsets "
                    f"{bounds.shape} {bounds.dtype}"
                )
            if n and (bounds[0] != 0 or bounds[-1] != len(data) or (np.diff(bounds) < 0).any()):
                raise ValueError("offsets must rise from 0 to len(samples)")
            bounds = bounds.astype(np.int64)
        return (TrackType.WAVE, times, data, bounds) if n else None
    if samples is not None or offsets is not None or values is None:
        raise ValueError(
            "a numeric or string track (srate 0) takes values=; samples= "
            "and offsets= need srate > 0"
        )
    if _looks_like_texts(values):
        texts = list(values)
        if len(texts) != n:
            raise ValueError(f"values has {len(texts)} texts for {n} times in dt")
        data, bounds = _text_column(texts, "values")
        return (TrackType.STRING, times, data, bounds) if n else None
    data = _numbers(values, "values")
    if data.shape != (n,):
        raise ValueError(f"values must have shape ({n},) like dt, got {data.shape}")
    return (TrackType.NUMERIC, times, data, None) if n else None


def add_track(
    vf: VitalFile,
    dtname: str,
    recs: Any = None,
    srate: float = 0,
    unit: str = "",
    mindisp: float = 0,
    maxdisp: float = 0,
    after: str | None = None,
    col: int | None = None,
    *,
    dt: Any = None,
    values: Any = None,
    samples: Any = None,
    offsets: Any = None,
) -> Track | None:
    """Add a track, as vitaldb's ``add_track``; records as vitaldb's ``recs`` or as columns.

    The track is declared as vitaldb declares it: fmt 1 (values stored as float32),
    gain 1, offset 0; a wave if ``srate > 0``, else a string track if the (first) value
    is a ``str``, else numeric. ``dtname`` ``"Dev/Name"`` adds device ``Dev`` if missing
    (``"Name"`` adds a device named ``''``, as vitaldb does). An existing track of that
    key is replaced where it stands; else the track goes last.

    Parameters
    ----------
    vf
        The recording, changed in place.
    dtname
        ``"Device/Track"`` or ``"Track"``.
    recs
        vitaldb's form: ``[{'dt': time, 'val': value}, ...]``; a wave's ``val`` is an
        array of samples.
    srate, unit, mindisp, maxdisp, col
        Track metadata; ``col`` None picks vitaldb's colour for the name.
    after
        Put the track after this one in ``order`` (an empty ``order`` is first filled
        with every track name).
    dt, values, samples, offsets
        The columnar form instead of ``recs``: record times ``dt`` (n,), and either
        ``values`` (n,) numbers or str, or for a wave ``samples`` of shape (n, k), or
        1-D ``samples`` with ``offsets`` (n + 1 record boundaries).

    Returns
    -------
    Track or None
        The new track; None when there are no records (vitaldb then adds nothing).

    Raises
    ------
    ValueError
        Data of the wrong shape or dtype (vitaldb stores anything and fails later, or
        silently adds nothing when the first record lacks ``dt``/``val``), both or
        neither of the two forms, ``dtname`` with more than one ``/``, or ``after`` not
        in ``order``.
    """
    srate = float(srate)
    unit = str(unit)
    mindisp = float(mindisp)
    maxdisp = float(maxdisp)
    if (recs is None) == (dt is None):
        raise ValueError(
            "give the records either as recs=[{'dt': .., 'val': ..}, ...] or "
            "as dt= with values= (or samples=)"
        )
    if recs is not None:
        if values is not None or samples is not None or offsets is not None:
            raise ValueError("values=, samples= and offsets= go with dt=, not with recs=")
        columns = _from_records(recs, srate)
    else:
        columns = _from_columns(dt, values, samples, offsets, srate)
    if columns is None:
        return None
    ttype, times, data, bounds = columns
    if dtname.count("/") > 1:
        raise ValueError(f"dtname must be 'Device/Track' or 'Track': {dtname!r}")
    dname, _, tname = dtname.rpartition("/")
    if dname not in vf.devs:
        vf.devs[dname] = Device(dname)
    trk = Track(
        tname,
        int(ttype),
        fmt=ADDED_FMT,
        srate=srate,
        unit=unit,
        mindisp=mindisp,
        maxdisp=maxdisp,
        dname=dname,
        col=find_color(tname) if col is None else col,
        dt=times,
        data=data,
        offsets=bounds,
    )
    vf.trks[dtname] = trk
    if after is not None:
        if not vf.order:
            vf.order = vf.get_track_names()
        _remove_first(vf.order, dtname)
        if after not in vf.order:
            raise ValueError(f"after: {after!r} is not in the track order")
        vf.order.insert(vf.order.index(after) + 1, dtname)
    return trk


# ---- anonymize -------------------------------------------------------------------------


def _copy_track(trk: Track, dt: np.ndarray) -> Track:
    """A new track with ``trk``'s metadata, the times ``dt`` and copies of its arrays."""
    import numpy as np

    new = Track(
        **trk.metadata(),
        dt=dt,
        data=np.array(trk.data),
        offsets=None if trk.offsets is None else np.array(trk.offsets),
    )
    new.dtname = trk.dtname  # may differ from dname/name (a device named '')
    new.segments, new.apart_from = trk.segments, trk.apart_from
    return new


def anonymize(
    vf: VitalFile, dt: datetime.datetime | float = datetime.datetime(2100, 1, 1)
) -> VitalFile:
    """A copy of the recording moved to start at ``dt``, as vitaldb's ``anonymize``.

    Every record time moves by ``dt - vf.dtstart``; ``dtstart`` becomes ``dt``,
    ``dtend`` moves alike, ``dgmt`` becomes 0. ``vf`` is left unchanged; the copy's
    arrays are its own.

    Parameters
    ----------
    vf
        The recording.
    dt
        The new start: a Unix time, or a ``datetime`` whose time zone is replaced by
        UTC.

    Returns
    -------
    VitalFile
        The copy. Unlike vitaldb's, it holds no raw device packets (``packets``): they
        carry the original clock and may carry patient identifiers.
    """
    if isinstance(dt, datetime.datetime):
        dt = dt.replace(tzinfo=datetime.timezone.utc).timestamp()
    shift = dt - vf.dtstart
    out = VitalFile.blank(vf.ipath)
    out.devs = {name: Device(d.name, d.type, d.port) for name, d in vf.devs.items()}
    out.trks = {key: _copy_track(trk, trk.dt + shift) for key, trk in vf.trks.items()}
    out.dtstart = dt
    out.dtend = vf.dtend + shift
    out.dgmt = 0
    out.packed = vf.packed
    out.compat = vf.compat
    out.order = list(vf.order)
    out.warnings = list(vf.warnings)
    return out
