"""Time-grid views: vitaldb's ``get_samples``/``to_numpy``/``to_pandas`` on the columns.

Every rule of vitaldb 1.7.2's ``get_track_samples`` and ``get_samples`` is kept, so the
results are identical bit for bit (``docs/analysis.md`` lists the rules); only the work
is done on whole arrays instead of one record at a time. Where vitaldb fails by accident,
these functions return what the rule means; where vitaldb returns the packed writer's gap
filler as a value, they return NaN unless the file was read with ``compat="vitaldb"``.
"""

from __future__ import annotations

import contextlib
import datetime
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np

from .._constants import FMT_GAP_SENTINEL, TrackType
from .._deps import require
from .._names import find_track
from . import _grid

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    from numpy.typing import NDArray

    from ..model import Track, VitalFile

__all__ = [
    "find_track",
    "get_samples",
    "get_track_samples",
    "resolve_interval",
    "to_numpy",
    "to_pandas",
    "to_polars_grid",
]

#: vitaldb's wave rule: after gain/offset, samples above this (and +-inf) become NaN.
WAVE_MAX = 4e9

#: Interval used when no loaded track has a sampling rate (vitaldb divides by zero).
DEFAULT_INTERVAL = 1.0

TIME_COLUMN = "Time"

# Column kinds, each with the dtype vitaldb gives it.
_WAVE, _NUMERIC, _STRING, _MISSING = "wave", "numeric", "string", "missing"
_KIND_DTYPE = {
    _WAVE: np.dtype(np.float32),
    _NUMERIC: np.dtype(np.float32),
    _STRING: np.dtype(object),
    _MISSING: np.dtype(np.float64),
}
_FLOAT32 = np.dtype(np.float32)
_FLOAT32_KINDS = frozenset((_WAVE, _NUMERIC))


# ---- arguments --------------------------------------------------------------------------


def resolve_interval(vf: VitalFile, interval: Any) -> float:
    """The grid step in seconds: ``interval``, or for None ``1 / max(srate)`` over every
    loaded track (vitaldb's rule), or 1 s when no track has a positive, finite rate.

    Raises
    ------
    ValueError
        ``interval`` is zero, negative, NaN or infinite (vitaldb treats 0 as None and
        fails on the others with an AssertionError or an OverflowError).
    TypeError
        ``interval`` is not a number.
    """
    if interval is None:
        srates = [trk.srate for trk in vf.trks.values()]
        top = max(srates) if srates else 0  # Python's max, as vitaldb: NaN-order quirks too
        return 1 / top if top > 0 and math.isfinite(top) else DEFAULT_INTERVAL
    try:
        value = float(interval)
    except (TypeError, ValueError):
        raise TypeError(f"interval must be a number of seconds or None, not {interval!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"interval must be a positive, finite number of seconds, not {interval!r}")
    return value


def split_track_names(vf: VitalFile, track_names: Any) -> list[str]:
    """vitaldb's reading of ``track_names``: a string splits on commas (unless its first
    comma is its first character), duplicates go (first kept), None means every track."""
    if track_names is None:
        return list(vf.trks)
    if len(track_names) == 0:  # before the split: "" asks for nothing, as in vitaldb
        return []
    if isinstance(track_names, str):
        track_names = track_names.split(",") if track_names.find(",") else [track_names]
    return list(dict.fromkeys(track_names))


# ---- the grid and its columns -----------------------------------------------------------


class _Grid:
    """vitaldb's grid: row ``i`` is ``dtstart + i * interval``; ``nret`` rows, or 0 when
    the span is empty or not finite."""

    __slots__ = ("_picks", "dtend", "dtstart", "interval", "nan_gaps", "nret")

    def __init__(
        self, dtstart: float, dtend: float, interval: float, nret: int, nan_gaps: bool
    ) -> None:
        self.dtstart = dtstart
        self.dtend = dtend
        self.interval = interval
        self.nret = nret
        self.nan_gaps = nan_gaps  # the packed writer's gap filler becomes NaN (not compat)
        self._picks: dict[tuple[int, int], np.ndarray] = {}

    def picks(self, nsamp: int, nrows: int) -> np.ndarray:
        """vitaldb's decimation of a wave buffer of ``nsamp`` samples onto ``nrows``
        rows (``np.take`` at ``linspace`` positions); tracks of one rate share it."""
        key = (nsamp, nrows)
        if key not in self._picks:
            picks = _grid.linspace_picks(nsamp, nrows)  # np.linspace's, compiled
            picks.flags.writeable = False  # shared: nobody may change it
            self._picks[key] = picks
        return self._picks[key]

    @classmethod
    def of(cls, vf: VitalFile, interval: float) -> _Grid:
        span = vf.dtend - vf.dtstart
        # vitaldb: `dtend <= dtstart` gives empty columns; a NaN or infinite span makes it
        # raise (int of NaN/inf): here it is empty as well.
        nret = math.ceil(span / interval) if span > 0 and math.isfinite(span) else 0
        nan_gaps = bool(vf.packed) and getattr(vf, "compat", None) != "vitaldb"
        return cls(vf.dtstart, vf.dtend, interval, nret, nan_gaps)


@dataclass(slots=True)
class _Column:
    """One requested name: its track, kind and the length vitaldb gives its column."""

    name: str
    track: Track | None
    kind: str
    length: int
    nsamp: int = 0  # waves: vitaldb's buffer of ceil(span * srate) samples
    resample: bool = False  # waves: decimated by np.take/linspace onto the grid

    @property
    def dtype(self) -> np.dtype:
        return _KIND_DTYPE[self.kind]


_TYPE_KIND = {int(TrackType.NUMERIC): _NUMERIC, int(TrackType.STRING): _STRING}
_WAVE_TYPE = int(TrackType.WAVE)


def _column_for(vf: VitalFile, name: str, grid: _Grid) -> _Column:
    trk = vf.trks.get(name)
    if trk is None:
        trk = find_track(vf, name)
    ttype = None if trk is None else trk.type
    if ttype != _WAVE_TYPE:
        # An unknown name gives vitaldb a float64 NaN column; a track of another type
        # gives it None (and np.transpose then fails): a NaN column here too.
        kind = _MISSING if ttype is None else _TYPE_KIND.get(ttype, _MISSING)
        return _Column(name, None if kind is _MISSING else trk, kind, grid.nret)
    assert trk is not None  # (a wave)
    srate = trk.srate
    nsamp = 0
    if srate > 0 and math.isfinite(srate) and grid.nret:
        nsamp = int(np.ceil((grid.dtend - grid.dtstart) * srate))
    # vitaldb keeps the buffer as is when the rate "is" the grid's (62.5 Hz never is).
    resample = srate != int(1 / grid.interval + 0.5)
    return _Column(name, trk, _WAVE, grid.nret if resample else nsamp, nsamp, resample)


def _last_wins(idx: np.ndarray) -> np.ndarray:
    """Positions in ``idx`` of the last occurrence of each value (file order wins)."""
    n = len(idx)
    if n == 0:
        return np.empty(0, np.int64)
    order = None
    if n > 1 and not bool(np.all(idx[1:] >= idx[:-1])):
        order = np.argsort(idx, kind="stable")  # equal values keep file order
        idx = idx[order]
    last = np.ones(n, bool)
    np.not_equal(idx[1:], idx[:-1], out=last[:-1])
    keep = np.flatnonzero(last)
    return keep if order is None else order[keep]


def _row_indices(trk: Track, grid: _Grid) -> tuple[np.ndarray, np.ndarray]:
    """Numeric and string records: (grid row, record index) of each record that shows.

    vitaldb's row is ``int((dt - dtstart) / interval)`` clamped into the grid, the last
    record in file order winning. Clamping in floating point first keeps huge or
    infinite times in range; a NaN time (vitaldb: ValueError) shows nowhere.
    """
    rows = _grid.record_rows(_float64(trk.dt), grid.dtstart, grid.interval, grid.nret)
    recs = np.arange(len(rows))
    if len(rows) and rows.min() < 0:
        recs = np.flatnonzero(rows >= 0)
        rows = rows[recs]
    win = _last_wins(rows)
    return rows[win], recs[win]


def _float64(a: np.ndarray) -> np.ndarray:
    """``a`` as contiguous native float64 (no copy when it is already)."""
    return np.ascontiguousarray(a, np.float64)


def _wave_runs(
    trk: Track, grid: _Grid, nsamp: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """vitaldb's placement of a wave's records in its buffer of ``nsamp`` samples:
    record ``i`` starts at ``ceil((dt_i - dtstart) * srate)``, cut to the buffer.
    Returns (start position, first sample index, sample count) of every record that
    shows, in file order (a NaN time, vitaldb's ValueError, shows nowhere), and whether
    starts and ends both never decrease (``_grid.wave_runs``)."""
    return _grid.wave_runs(
        _float64(trk.dt),
        np.ascontiguousarray(trk.offsets, np.int64),
        grid.dtstart,
        trk.srate,
        nsamp,
    )


def _wave_lookup(trk: Track, grid: _Grid, nsamp: int, q: np.ndarray | None) -> tuple[Any, Any]:
    """Where vitaldb's wave buffer holds a sample: ``(rows, samples)`` such that
    ``buffer[q[rows]] == data[samples]`` wherever ``samples`` is not negative (elsewhere
    the buffer is NaN). ``q``, sorted: the buffer positions asked for; None: all of them,
    and rows are positions. ``rows``: a slice or row indices; ``samples``: a slice or
    indices into ``data``, or for all positions of records with gaps between them the
    records themselves (``_Runs``: copied one by one, no index per sample).

    Later records overwrite earlier ones, as vitaldb writes them in file order.
    """
    start, first, count, ordered = _wave_runs(trk, grid, nsamp)
    if len(start) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    if not ordered:
        return _lookup_unordered(start, first, count, q)
    end = start + count
    # Starts and ends both non-decreasing in file order: a record owns its samples up to
    # where the next one starts (the next overwrites the rest), so the runs are disjoint.
    count[:-1] = np.minimum(end[:-1], start[1:]) - start[:-1]
    end = start + count
    s0, s1 = int(start[0]), int(end[-1])  # the buffer positions any record reaches
    if q is None:
        rows, positions = slice(s0, s1), None
    else:
        a, b = (int(i) for i in np.searchsorted(q, [s0, s1]))
        rows, positions = slice(a, b), q[a:b]
    if np.all(start[1:] == end[:-1]) and np.all(first[1:] == first[:-1] + count[:-1]):
        # One contiguous run of samples onto one contiguous run of positions.
        f0 = int(first[0])
        if positions is None:
            return rows, slice(f0, f0 + s1 - s0)
        return rows, positions - s0 + f0
    if positions is None:  # every position: the runs themselves, copied, not looked up
        return rows, _Runs(start - s0, first, count)
    return rows, _grid.find_samples(positions, start, first, count)


class _Runs(NamedTuple):
    """A wave's records on its buffer: ``count[r]`` samples from ``data[first[r]]`` on
    go to ``at[r]`` on (from the start of the rows they cover)."""

    at: np.ndarray
    first: np.ndarray
    count: np.ndarray  # type: ignore[assignment]  # (shadows tuple.count)

    def samples(self, nrows: int) -> np.ndarray:
        """The sample each row holds, -1 for none (``_wave_lookup``'s other form); the
        runs may overlap (a later one wins)."""
        return _grid.paint_samples(
            np.arange(nrows, dtype=np.int64), self.at, self.first, self.count
        )


def _lookup_unordered(
    start: np.ndarray, first: np.ndarray, count: np.ndarray, q: np.ndarray | None
) -> tuple[Any, Any]:
    """``_wave_lookup`` for records that overlap out of order (a record starting inside
    an earlier, longer one): the records in file order, each overwriting what it covers,
    as vitaldb writes them. Every position: the records themselves (``_Runs``, copied
    in order); positions ``q``: each record paints the ones it covers (no sort of every
    sample)."""
    s0, s1 = int(start.min()), int((start + count).max())
    if q is None:
        return slice(s0, s1), _Runs(start - s0, first, count)
    a, b = (int(i) for i in np.searchsorted(q, [s0, s1]))
    return slice(a, b), _grid.paint_samples(q[a:b], start, first, count)


def _wave_values(trk: Track, raw: np.ndarray, nan_gaps: bool) -> np.ndarray:
    """vitaldb's sample values: float32, gain/offset for fmt > 2, +-inf and > 4e9 NaN."""
    vals = raw.astype(np.float32)
    if nan_gaps and raw.dtype.kind in "iu" and trk.fmt in FMT_GAP_SENTINEL:
        vals[raw == FMT_GAP_SENTINEL[trk.fmt]] = np.nan
    if trk.fmt > 2:  # 1: float, 2: double hold physical values already
        # In place on float32 with Python floats, as vitaldb does (float32 arithmetic).
        vals *= float(trk.gain)
        vals += float(trk.offset)
    vals[np.isinf(vals) | (vals > WAVE_MAX)] = np.nan
    return vals


def _fill(
    col: _Column, grid: _Grid, out: np.ndarray, blank: Any = np.nan, prefilled: bool = False
) -> None:
    """Write ``col`` onto ``out`` (one row of the result, any dtype), as vitaldb's
    column cast to that dtype would read. ``blank`` fills empty cells of strings;
    ``prefilled``: ``out`` holds NaN already."""
    if not prefilled:
        out[:] = blank if col.kind == _STRING else np.nan
    # Casts to float32 and gain/offset overflow to inf as in vitaldb, without its warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        _fill_quietly(col, grid, out)


def _fill_quietly(col: _Column, grid: _Grid, out: np.ndarray) -> None:
    """``_fill`` of an ``out`` holding its blanks, under ``np.errstate`` already."""
    trk = col.track
    if trk is None or len(out) == 0 or len(trk) == 0:
        return
    if col.kind == _WAVE:
        if col.nsamp == 0:
            return  # no sampling rate: vitaldb fails (take from an empty buffer)
        q = None
        if len(out) != col.nsamp or col.resample:
            q = grid.picks(col.nsamp, len(out))
        data = trk.data
        if (
            q is not None  # (every position: the records are copied whole, below)
            and out.dtype == _FLOAT32
            and out.flags.c_contiguous
            and data.dtype.num in _grid.WAVE_TYPENUMS
            and data.dtype.isnative
            and data.flags.c_contiguous
        ):
            # Rows decimated from the buffer, one compiled pass: records placed, looked
            # up and valued.
            start, first, count, _ = _wave_runs(trk, grid, col.nsamp)
            gap = grid.nan_gaps and data.dtype.kind in "iu" and trk.fmt in FMT_GAP_SENTINEL
            sentinel = int(FMT_GAP_SENTINEL[trk.fmt]) if gap else 0
            scale = trk.fmt > 2
            _grid.put_wave(
                out, q, start, first, count, data, gap, sentinel, scale,
                float(trk.gain) if scale else 1.0, float(trk.offset) if scale else 0.0,
            )  # fmt: skip
            return
        rows, pick = _wave_lookup(trk, grid, col.nsamp, q)
        if isinstance(pick, _Runs):
            if out.dtype != object:
                _copy_runs(trk, pick, out[rows], grid.nan_gaps)
                return
            pick = pick.samples(rows.stop - rows.start)
        # A pick of -1 (a row between records) takes the last sample: not stored.
        raw = trk.data[pick]
        values = _wave_values(trk, raw, grid.nan_gaps)
        held = pick if isinstance(pick, np.ndarray) and len(pick) and pick.min() < 0 else None
        if out.dtype == object:
            _put_objects(out, rows, values, held, raw)
            return
        if held is not None:
            values[held < 0] = np.nan
        out[rows] = values
        return
    if col.kind == _NUMERIC and out.dtype == np.float32 and out.flags.c_contiguous:
        _put_numeric(trk, grid, out)
        return
    if out.dtype == object and out.flags.c_contiguous:
        # Each record at its row in file order (the last one wins), one compiled pass.
        if col.kind == _STRING:
            _grid.put_record_objects(out, trk.dt, trk.texts(), grid.dtstart, grid.interval)
        else:
            _grid.put_record_floats(out, trk.dt, trk.data, grid.dtstart, grid.interval)
        return
    rows, recs = _row_indices(trk, grid)
    if col.kind == _STRING:
        out[rows] = _texts(trk, recs)
        return
    values = trk.data[recs]
    if values.dtype == np.float32:
        # vitaldb's value went through a Python float: a signalling NaN comes back quiet.
        values = values.astype(np.float64)
    if out.dtype == object:
        _put_objects(out, rows, values.astype(np.float32))
    else:
        out[rows] = values.astype(np.float32)


def _texts(trk: Track, recs: np.ndarray) -> np.ndarray:
    """The texts of records ``recs`` of a string track (``Track.texts``' decoding), as
    an object array: only the records that show are decoded."""
    raw = trk.data.tobytes()
    ends = cast(np.ndarray, trk.offsets)  # a string track has its record boundaries
    out = np.empty(len(recs), object)
    out[:] = [
        raw[a:b].decode("utf-8", "ignore")
        for a, b in zip(ends[recs].tolist(), ends[recs + 1].tolist())
    ]
    return out


def _put_numeric(trk: Track, grid: _Grid, out: np.ndarray) -> None:
    """A numeric track onto a float32 row: each record written at its row in file
    order, so the last one wins."""
    _grid.put_records(out, trk.dt, trk.data, grid.dtstart, grid.interval)


def _copy_runs(trk: Track, runs: _Runs, dst: np.ndarray, nan_gaps: bool) -> None:
    """The samples of ``runs`` onto ``dst`` (NaN already), each run one copy."""
    lo = int(runs.first.min())
    hi = int((runs.first + runs.count).max())
    values = _wave_values(trk, trk.data[lo:hi], nan_gaps)
    target = (
        dst
        if dst.dtype == np.float32 and dst.flags.c_contiguous
        else np.full(len(dst), np.nan, np.float32)
    )
    _grid.copy_runs(target, values, runs.at, runs.first - lo, runs.count)
    if target is not dst:
        dst[:] = target


def _put_objects(
    out: np.ndarray,
    rows: Any,
    values: np.ndarray,
    held: np.ndarray | None = None,
    raw: np.ndarray | None = None,
) -> None:
    """``out[rows] = values`` for an object ``out`` by the compiled loop (equal floats,
    shared where a value repeats), leaving the rows where ``held`` is negative alone;
    ``rows``: a slice or row indices; ``raw``: the samples ``values`` were made from.
    ``out`` is contiguous (a row of ``to_numpy``'s block, or a column of its own)."""
    start = 0
    if isinstance(rows, slice):
        start, _, step = rows.indices(len(out))
        assert step == 1, "rows are a contiguous run"
        rows = None
    else:
        rows = np.ascontiguousarray(rows, np.int64)
    keys = None
    if raw is not None and raw.dtype.kind in "iu" and raw.dtype.itemsize <= 2:
        # 8/16-bit samples: the raw value is an exact key (one float per distinct value)
        keys = raw.view(f"u{raw.dtype.itemsize}").astype(np.uint16, copy=False)
    _grid.put_floats(
        out,
        start,
        rows,
        np.ascontiguousarray(values, np.float32),
        held,
        None if keys is None else np.ascontiguousarray(keys),
    )


# ---- the public functions ---------------------------------------------------------------


def get_track_samples(vf: VitalFile, dtname: str, interval: Any = None) -> np.ndarray:
    """One column of the grid, as vitaldb's ``VitalFile.get_track_samples``.

    Parameters
    ----------
    vf
        The recording.
    dtname
        A track name, resolved as ``find_track`` does (exact, then first suffix match).
    interval
        Grid step in seconds; None: ``resolve_interval``'s rule (vitaldb fails on None).

    Returns
    -------
    numpy.ndarray
        float32 for a wave or numeric track, object (``nan`` where empty) for a string
        track, float64 NaN for an unknown name or a track of another type (vitaldb:
        None). An empty float64 array when the file's span is empty (vitaldb: ``[]``).
        A wave whose rate is the grid's keeps its ``ceil(span * srate)`` samples.
    """
    grid = _Grid.of(vf, resolve_interval(vf, interval))
    if grid.nret == 0:
        return np.empty(0, np.float64)
    col = _column_for(vf, dtname, grid)
    out = np.empty(col.length, col.dtype)
    _fill(col, grid, out)
    return out


def get_samples(
    vf: VitalFile,
    track_names: Any = None,
    interval: Any = None,
    return_datetime: bool = False,
    return_timestamp: bool = False,
) -> tuple[list[Any], list[str]]:
    """The grid as a list of columns and their names, as vitaldb's ``get_samples``.

    Parameters are those of ``to_numpy``. Each column is ``get_track_samples``'s; with
    ``return_datetime`` or ``return_timestamp`` a ``"Time"`` column comes first. As in
    vitaldb the columns may differ in length (a wave at the grid's rate whose buffer is
    a sample longer or shorter); ``to_numpy`` aligns them.

    Returns
    -------
    (list, list of str)
    """
    interval = resolve_interval(vf, interval)
    names = split_track_names(vf, track_names)
    if not names:
        return [], [TIME_COLUMN] if return_datetime or return_timestamp else []
    grid = _Grid.of(vf, interval)
    cols = []
    for name in names:
        if grid.nret == 0:
            cols.append(np.empty(0, np.float64))
            continue
        col = _column_for(vf, name, grid)
        cols.append(np.empty(col.length, col.dtype))
        _fill(col, grid, cols[-1])
    time = _time_column(vf, grid, len(cols[0]), return_datetime, return_timestamp)
    if time is not None:
        cols.insert(0, time)
        names.insert(0, TIME_COLUMN)
    return cols, names


def _time_column(
    vf: VitalFile, grid: _Grid, nrows: int, return_datetime: bool, return_timestamp: bool
) -> np.ndarray | None:
    """vitaldb's time column: Unix seconds, or aware datetimes in the file's timezone
    (``dgmt`` minutes behind UTC) stepping by the interval rounded to microseconds."""
    if return_datetime:
        if nrows == 0:  # also when dtstart is NaN, which no datetime can hold
            return np.empty(0, object)
        tz = datetime.timezone(datetime.timedelta(minutes=-vf.dgmt))
        steps: Any = np.arange(nrows)  # times a timedelta: an object array of them
        times: np.ndarray = datetime.datetime.fromtimestamp(
            vf.dtstart, tz
        ) + steps * datetime.timedelta(seconds=grid.interval)
        return times
    if return_timestamp:
        return vf.dtstart + np.arange(nrows) * grid.interval
    return None


def _layout(
    vf: VitalFile, track_names: Any, interval: Any
) -> tuple[_Grid, list[str], list[_Column], int]:
    """The aligned grid: columns and row count.

    The rows are vitaldb's when its columns agree in length (where it does not fail).
    When they do not (vitaldb's np.transpose raises), every column has the grid's
    ``nret`` rows and a wave kept at its own length is resampled like the others.
    """
    grid = _Grid.of(vf, resolve_interval(vf, interval))
    names = split_track_names(vf, track_names)
    cols = []
    if grid.nret:
        trks, nret = vf.trks, grid.nret
        for name in names:
            trk = trks.get(name)
            kind = None if trk is None else _TYPE_KIND.get(trk.type)
            # A numeric or string track by its exact name (the usual case), in line.
            cols.append(
                _column_for(vf, name, grid) if kind is None else _Column(name, trk, kind, nret)
            )
    lengths = {c.length for c in cols}
    nrows = lengths.pop() if len(lengths) == 1 else grid.nret
    return grid, names, cols, nrows


_DTYPES: dict[tuple[frozenset[str], np.dtype | None], np.dtype] = {}


def _grid_dtype(kinds: frozenset[str], time: np.dtype | None) -> np.dtype:
    """numpy's promotion of the columns' dtypes (and the time column's), remembered: the
    call costs more than a small file's whole grid."""
    key = (kinds, time)
    dtype = _DTYPES.get(key)
    if dtype is None:
        dtypes = [_KIND_DTYPE[k] for k in kinds] or [np.dtype(np.float64)]  # empty span
        if time is not None:
            dtypes.append(time)
        dtype = _DTYPES[key] = np.result_type(*dtypes)
    return dtype


def to_numpy(
    vf: VitalFile,
    track_names: Any = None,
    interval: Any = None,
    return_datetime: bool = False,
    return_timestamp: bool = False,
) -> np.ndarray:
    """Tracks resampled onto a time grid, identical to vitaldb's ``VitalFile.to_numpy``.

    Parameters
    ----------
    vf
        The recording.
    track_names
        Names (``"Device/Track"``, or a suffix: the first track in file order whose name
        ends with it), or one comma-separated string; duplicates are dropped. None: every
        track (vitaldb raises TypeError). ``"Device/*"`` is not expanded (a NaN column,
        as in vitaldb).
    interval
        Grid step in seconds. None: ``1 / max(srate)`` over the file's loaded tracks,
        1 s if none has a rate (vitaldb divides by zero).
    return_datetime
        Prepend a ``"Time"`` column of timezone-aware datetimes (the file's ``dgmt``).
    return_timestamp
        Prepend a ``"Time"`` column of Unix seconds (``return_datetime`` wins).

    Returns
    -------
    numpy.ndarray
        Rows x columns, Fortran-ordered as vitaldb's. float32 when every column is a
        wave or numeric track; float64 with an unknown name or ``return_timestamp``;
        object with a string track or ``return_datetime``. An unknown name is a NaN
        column. In a packed file, the writer's gap filler in integer waves is NaN
        (vitaldb returns it as a value; ``compat="vitaldb"`` files keep it).

    Raises
    ------
    ValueError
        ``interval`` is zero, negative or not finite.

    Examples
    --------
    >>> import vitalproc
    >>> vf = vitalproc.read(vitalproc.SAMPLE)
    >>> grid = vf.to_numpy(["ECG_II", "HR"], 1 / 100)
    >>> grid.dtype, grid.shape
    (dtype('float32'), (2625, 2))
    >>> vf.find_track("HR").dtname    # the first name ending in HR, as in vitaldb
    'Intellivue/NIBP_HR'
    """
    grid, names, cols, nrows = _layout(vf, track_names, interval)
    if not names:
        return np.empty(0, np.float64)
    time = _time_column(vf, grid, nrows, return_datetime, return_timestamp)
    kinds = {c.kind for c in cols}
    if time is None and kinds and kinds <= _FLOAT32_KINDS:
        dtype = _FLOAT32  # the common case, without numpy's promotion call
    else:
        dtype = _grid_dtype(frozenset(kinds), None if time is None else time.dtype)
    ncols = len(names) + (time is not None)
    # One pass of NaN over the whole block (page faults and, for objects, references).
    if dtype == object:
        out = _grid.object_block(ncols, nrows, np.nan)
    else:
        out = np.empty((ncols, nrows), dtype)
        out.fill(np.nan)
    if time is not None:
        out[0] = time
    done: dict[int, int] = {}  # one track asked for under two names is computed once
    copies = []
    # Numeric tracks onto a float32 block, or numeric and string tracks onto an object
    # block: one compiled call for all of them.
    objects = dtype == object and nrows > 0
    numeric_rows = dtype == np.float32 and nrows > 0
    rows: list[int] = []
    dts: list[np.ndarray] = []
    values: list[np.ndarray] = []
    ends: list[np.ndarray | None] = []
    # Casts and gain/offset overflow to inf as in vitaldb, without its warnings (numpy's
    # context costs more than a small file's whole grid: only where numpy casts values,
    # i.e. waves, and numerics on a grid that is neither float32 nor object).
    numpy_casts = _WAVE in kinds or (_NUMERIC in kinds and not numeric_rows and not objects)
    quiet = (
        np.errstate(over="ignore", invalid="ignore") if numpy_casts else contextlib.nullcontext()
    )
    with quiet:
        for j, col in enumerate(cols, start=ncols - len(names)):
            trk = col.track
            if trk is None:
                continue  # NaN already
            key = id(trk)
            if key in done:
                copies.append((j, done[key]))
                continue
            done[key] = j
            kind = col.kind
            if (kind is _NUMERIC and (numeric_rows or objects)) or (kind is _STRING and objects):
                rows.append(j)
                dts.append(trk.dt)
                values.append(trk.data)
                ends.append(trk.offsets if kind is _STRING else None)
            else:
                _fill_quietly(col, grid, out[j])
    if rows and objects:
        _grid.put_object_rows(out, rows, dts, values, ends, grid.dtstart, grid.interval)
    elif rows:
        _grid.put_numerics(
            cast("NDArray[np.float32]", out), rows, dts, values, grid.dtstart, grid.interval
        )
    for j, source in copies:
        out[j] = out[source]
    grid_rows: np.ndarray = out.T
    return grid_rows


def to_pandas(
    vf: VitalFile,
    track_names: Any = None,
    interval: Any = None,
    return_datetime: bool = False,
    return_timestamp: bool = False,
) -> pd.DataFrame:
    """``to_numpy`` as a ``pandas.DataFrame`` with the names as columns, built exactly as
    vitaldb's ``to_pandas`` builds it (so pandas infers the same column dtypes).

    With no names and no time column this is an empty frame (vitaldb raises).
    """
    pd = require("pandas", "frames", "to_pandas")
    values = to_numpy(vf, track_names, interval, return_datetime, return_timestamp)
    names = split_track_names(vf, track_names)
    if return_datetime or return_timestamp:
        names.insert(0, TIME_COLUMN)
    if not names:
        return pd.DataFrame()
    return pd.DataFrame(values, columns=names)


def to_polars_grid(
    vf: VitalFile,
    track_names: Any = None,
    interval: Any = None,
    return_datetime: bool = False,
    return_timestamp: bool = False,
) -> pl.DataFrame:
    """The ``to_numpy`` grid as a wide ``polars.DataFrame``, each column in its own dtype.

    Same rows and values as ``to_numpy``, but no common dtype is forced: waves and
    numerics are Float32 (NaN where empty), unknown names Float64 NaN, strings String
    (null where empty). The time column is Float64 Unix seconds or a Datetime in
    microseconds: in the file's timezone when it is a whole number of hours from UTC
    (polars knows no other fixed offsets), else in UTC; the instants are vitaldb's.
    """
    polars = require("polars", "frames", "to_polars_grid")
    grid, names, cols, nrows = _layout(vf, track_names, interval)
    series = []
    if return_datetime:
        series.append(_polars_datetimes(polars, vf, grid, nrows))
    elif return_timestamp:
        series.append(polars.Series(TIME_COLUMN, _time_column(vf, grid, nrows, False, True)))
    for name, col in zip(
        names, cols or [_Column(n, None, _MISSING, 0) for n in names], strict=True
    ):
        if col.kind == _STRING:
            values = np.empty(nrows, object)
            _fill(col, grid, values, blank=None)
            series.append(polars.Series(name, values.tolist(), dtype=polars.String))
        else:
            values = np.empty(nrows, col.dtype)
            _fill(col, grid, values)
            series.append(polars.Series(name, values))
    frame: pl.DataFrame = polars.DataFrame(series)
    return frame


def _polars_datetimes(polars: Any, vf: VitalFile, grid: _Grid, nrows: int) -> pl.Series:
    """vitaldb's datetimes (start rounded to the microsecond, then whole steps of the
    interval rounded to the microsecond) as one int64 computation."""
    us = np.zeros(0, np.int64)
    if nrows:
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        one_us = datetime.timedelta(microseconds=1)
        start = datetime.datetime.fromtimestamp(vf.dtstart, datetime.timezone.utc)
        step = datetime.timedelta(seconds=grid.interval) // one_us
        us = (start - epoch) // one_us + np.arange(nrows, dtype=np.int64) * step
    stamps = polars.Series(TIME_COLUMN, us.astype("datetime64[us]")).dt.replace_time_zone("UTC")
    hours, rest = divmod(-vf.dgmt, 60)
    if rest == 0 and -24 < hours < 24:
        stamps = stamps.dt.convert_time_zone(f"{hours:+03d}:00")
    return cast("pl.Series", stamps)
