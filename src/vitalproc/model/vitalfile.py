"""The columnar recording: devices, tracks as arrays, file span. No I/O, no parsing.

Attribute names and value types follow vitaldb (``devs``, ``trks``, ``dtstart``,
``dtend``, ``dgmt``, ``order``, ``packed``; a track's ``type``, ``fmt``, ``srate``,
``gain``...), so code written against vitaldb reads the same fields.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from .._constants import FMT_DTYPE, FMT_GAP_SENTINEL, TYPE_NAMES, TrackType
from ._arrays import physical
from ._recs import Records

if TYPE_CHECKING:
    import numpy as np


class Device:
    """A device: ``name`` (key in ``VitalFile.devs``), ``type`` and ``port``."""

    __slots__ = ("name", "port", "type")

    def __init__(self, name: str, typename: str = "", port: str = ""):
        self.name = name
        self.type = typename or name  # vitaldb's rule: no type name means the device name
        self.port = port

    def __repr__(self) -> str:
        return f"Device({self.name!r}, type={self.type!r}, port={self.port!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device) and (self.name, self.type, self.port) == (
            other.name,
            other.type,
            other.port,
        )


class Track:
    """One track: vitaldb's metadata plus its records as arrays.

    Arrays (see ``docs/model.md``):

    ``dt``
        float64[n], each record's time (Unix seconds), in file order.
    ``data``
        waves: every sample of the track concatenated, on-disk dtype (``samples``);
        numerics: one value per record, on-disk dtype (``values``);
        strings: the UTF-8 bytes of all texts concatenated (uint8).
    ``offsets``
        int64[n+1] record boundaries into ``data`` for waves and strings; None for numerics.

    ``recs`` is a lazy, vitaldb-shaped view (``[{'dt': float, 'val': ...}, ...]``).
    """

    def __init__(
        self,
        name: str,
        type: int = 2,
        col: int | None = None,
        montype: int = 0,
        dname: str = "",
        unit: str = "",
        fmt: int = 1,
        srate: float = 0,
        gain: float = 1.0,
        offset: float = 0.0,
        mindisp: float = 0,
        maxdisp: float = 0,
        dt: np.ndarray | None = None,
        data: np.ndarray | None = None,
        offsets: np.ndarray | None = None,
    ):
        self.type = type
        self.fmt = fmt
        self.name = name
        self.srate = srate
        self.unit = unit
        self.mindisp = mindisp
        self.maxdisp = maxdisp
        self.gain = gain
        self.offset = offset
        self.col = 0xFFFFFF if col is None else col
        self.montype = montype
        self.dname = dname
        self.dtname = f"{dname}/{name}" if dname else name
        self._dt, self._data, self._offsets = dt, data, offsets
        # None: every record means what this declaration says. A track declared again
        # with another format, gain or offset: its runs of records by declaration
        # (``Segment``s), its values held in physical units (``model/_segments.py``).
        self.segments: list[Segment] | None = None
        # The name this track was kept apart from: a declaration of it with another
        # type or sampling rate (named "Name#k"); None for every other track.
        self.apart_from: str | None = None
        # The reader hands over raw column buffers; numpy views of them are made on
        # first use, so listing a file's tracks never imports numpy.
        self._columns: tuple[int, Any, Any, Any] | None = None

    def _set_columns(self, nrec: int, dt: Any, ends: Any, data: Any) -> None:
        self._columns = (nrec, dt, ends, data)

    # -- the reader's buffers, for an export that needs no numpy (writers/_raw.py) ------

    def raw_columns(self) -> tuple[Any, Any, Any] | None:
        """``(dt, ends, data)`` as the reader handed them over (buffers of float64 times,
        int64 record boundaries and on-disk values), or None once arrays were made."""
        return None if self._columns is None else self._columns[1:]

    def clear_raw_columns(self) -> None:
        """Drop records still held as the reader's buffers (an export is done with them)."""
        if self._columns is not None:
            self._columns = (0, b"", bytes(8), b"")

    # -- end of the reader's buffers

    def _arrays(self) -> None:
        import numpy as np

        cols, self._columns = self._columns, None
        value_dtype = (
            FMT_DTYPE.get(self.fmt, "<f4")
            if self.type in (TrackType.WAVE, TrackType.NUMERIC)
            else np.uint8
        )
        if cols is not None:
            _, dt, ends, data = cols
            self._dt = np.frombuffer(dt, np.float64)
            self._data = np.frombuffer(data, value_dtype)
            self._offsets = (
                np.frombuffer(ends, np.int64)
                if self.type in (TrackType.WAVE, TrackType.STRING)
                else None
            )
            return
        if self._dt is None:
            self._dt = np.empty(0, np.float64)
        if self._data is None:
            self._data = np.empty(0, value_dtype)
        if self._offsets is None and self.type in (TrackType.WAVE, TrackType.STRING):
            self._offsets = np.zeros(len(self._dt) + 1, np.int64)

    # -- arrays ---------------------------------------------------------------------

    @property
    def dt(self) -> np.ndarray:
        """float64[n]: each record's time (Unix seconds), in file order."""
        if self._columns is not None or self._dt is None:
            self._arrays()
        dt: np.ndarray = self._dt  # type: ignore[assignment]  # _arrays() set it
        return dt

    @dt.setter
    def dt(self, value: np.ndarray) -> None:
        self._arrays()
        self._dt = value

    @property
    def data(self) -> np.ndarray:
        """Samples (waves), values (numerics) or UTF-8 bytes (strings), as on disk."""
        if self._columns is not None or self._data is None:
            self._arrays()
        data: np.ndarray = self._data  # type: ignore[assignment]  # _arrays() set it
        return data

    @data.setter
    def data(self, value: np.ndarray) -> None:
        self._arrays()
        self._data = value

    @property
    def offsets(self) -> np.ndarray | None:
        """int64[n+1] record boundaries into ``data`` (waves, strings); None for numerics."""
        if self._columns is not None or (self._dt is None and self.type != TrackType.NUMERIC):
            self._arrays()
        return self._offsets

    @offsets.setter
    def offsets(self, value: np.ndarray | None) -> None:
        self._arrays()
        self._offsets = value

    def __len__(self) -> int:
        if self._columns is not None:
            nrec: int = self._columns[0]
            return nrec
        return 0 if self._dt is None else len(self._dt)

    @property
    def samples(self) -> np.ndarray:
        """Every sample of a wave track, concatenated, in its on-disk dtype."""
        return self.data

    @property
    def values(self) -> np.ndarray:
        """Numeric values (on-disk dtype); texts of a string track as an object array."""
        if self.type == TrackType.STRING:
            import numpy as np

            texts = self.texts()
            out = np.empty(len(texts), dtype=object)
            out[:] = texts
            return out
        return self.data

    def texts(self) -> list[str]:
        """A string track's texts, decoded as vitaldb does (UTF-8, bad bytes dropped)."""
        raw = self.data.tobytes()
        ends = cast("np.ndarray", self.offsets).tolist()  # strings have boundaries
        return [raw[a:b].decode("utf-8", "ignore") for a, b in zip(ends, ends[1:])]

    @property
    def recs(self) -> Records:
        return Records(self)

    @property
    def type_name(self) -> str:
        return TYPE_NAMES.get(self.type, str(self.type))

    def metadata(self) -> dict[str, Any]:
        """vitaldb's track fields as a dict."""
        return {k: getattr(self, k) for k in TRACK_FIELDS}

    # -- editing (edit.py) and writing (writers/vital.py) ---------------------------------

    def to_numpy(self, physical: bool = False) -> np.ndarray:
        """The track's values as one array, record after record.

        Parameters
        ----------
        physical
            False: the raw column, no copy: every sample of a wave concatenated (cut at
            ``offsets``), or one value per record of a numeric track, in the on-disk
            dtype. True: float64 in physical units: for the integer formats (fmt 3..8)
            ``raw * gain + offset``, and in waves the format's gap sentinel (-128, 255,
            -32768, 65535, -2**31, 2**32-1: what packed files put between records)
            becomes NaN, also where a device sent that value. Float formats (fmt 1, 2)
            hold physical values already: vitaldb's ``to_numpy`` applies gain and offset
            only for fmt > 2, and so does this.

        Returns
        -------
        numpy.ndarray
            For a string track, the texts as an object array in both cases.
        """
        if self.type == TrackType.STRING:
            return self.values
        if not physical:
            return self.data
        import numpy as np

        out = np.empty(len(self.data), np.float64)
        self._physical_into(out)
        return out

    def _physical_into(self, out: np.ndarray) -> None:
        """Store ``to_numpy(physical=True)`` into ``out`` (float64, one per value)."""
        raw = self.data
        if self.fmt in FMT_GAP_SENTINEL and raw.dtype.kind in "iu":
            physical(self, raw, out)
        else:
            out[:] = raw

    # -- end of editing and writing -------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"Track({self.dtname!r}, type={self.type_name}, fmt={self.fmt}, "
            f"srate={self.srate}, records={len(self)})"
        )


class Segment(NamedTuple):
    """A run of a track's records that one declaration of it gives their meaning:
    records ``start:stop`` were stored as ``fmt`` with that ``gain`` and ``offset``."""

    start: int
    stop: int
    fmt: int
    gain: float
    offset: float


#: vitaldb's ``Track`` fields, in the order its constructor lists them.
TRACK_FIELDS = (
    "name",
    "type",
    "col",
    "montype",
    "dname",
    "unit",
    "fmt",
    "srate",
    "gain",
    "offset",
    "mindisp",
    "maxdisp",
)


class ReadIssue(NamedTuple):
    """What a read recovered or skipped: ``code`` is a stable key, ``offset`` a byte offset
    (``where`` says in which stream), ``count`` how many records it concerns.

    (A NamedTuple, not a dataclass: the dataclasses module costs every command 5 ms.)"""

    code: str
    message: str
    offset: int | None = None
    where: str = "inflated"
    track: str | None = None
    count: int | None = None  # type: ignore[assignment]  # (shadows tuple.count)


#: What ``VitalFile(path, ...)`` calls to fill the new recording from ``path`` (a list of
#: paths: one recording merged from them), with the constructor's arguments:
#: ``opener(vf, ipath, track_names, exclude, header_only, maxlen, compat, strict,
#: max_inflated_bytes)``. The readers live in a higher layer; ``vitalproc._open``
#: registers it (``set_opener``) when the package is imported.
_opener: Callable[..., None] | None = None


def set_opener(opener: Callable[..., None]) -> None:
    """Register what ``VitalFile(path, ...)`` reads ``path`` with (see ``_opener``)."""
    global _opener
    _opener = opener


class VitalFile:
    """A recording. ``VitalFile(path, track_names, ...)`` reads it as vitaldb's does.

    Parameters mirror ``vitaldb.VitalFile``; ``compat="vitaldb"`` reproduces vitaldb's
    result exactly, including where it silently loses data (see ``vitalproc.read``).
    """

    def __init__(
        self,
        ipath: Any = None,
        track_names: Any = None,
        header_only: bool = False,
        skip_records: bool | None = None,
        exclude: Any = None,
        maxlen: float | None = None,
        interval: float | None = None,
        compat: str | None = None,
        strict: bool = False,
        max_inflated_bytes: int | None = None,
    ):
        self._clear(ipath)
        if skip_records is not None:
            header_only = skip_records
        if ipath is None:
            self._start_now()
            return
        self._read(
            ipath, track_names, exclude, header_only, maxlen, compat, strict, max_inflated_bytes
        )

    def _read(
        self,
        ipath: Any,
        track_names: Any,
        exclude: Any,
        header_only: bool,
        maxlen: float | None,
        compat: str | None,
        strict: bool,
        max_inflated_bytes: int | None,
    ) -> None:
        """Fill this recording from ``ipath`` (a subclass reads more kinds of source:
        the open dataset's case ids)."""
        if _opener is None:  # pragma: no cover - set when the package is imported
            raise RuntimeError("no reader is registered: import vitalproc")
        # the model itself never parses bytes: the readers fill it (vitalproc._open)
        _opener(
            self,
            ipath,
            track_names,
            exclude,
            header_only,
            maxlen,
            compat,
            strict,
            max_inflated_bytes,
        )

    @classmethod
    def blank(cls, ipath: Any = None) -> VitalFile:
        """A recording with nothing in it and a start time of 0 (what a reader fills)."""
        vf = cls.__new__(cls)
        vf._clear(ipath)
        return vf

    def _clear(self, ipath: Any) -> None:
        self.devs: dict[str, Device] = {}
        self.trks: dict[str, Track] = {}
        self.dtstart: float = 0
        self.dtend: float = 0
        self.dgmt = 0
        self.packed = False
        self.order: list[str] = []
        self.ipath = ipath
        self.packets: list[dict[str, Any]] = []
        self.warnings: list[ReadIssue] = []
        # How it was read (None or "vitaldb"); the views follow it (views.py).
        self.compat: str | None = None

    def _start_now(self) -> None:
        """An empty recording starting now, in the local timezone (vitaldb's ``ipath=None``)."""
        import datetime

        now = datetime.datetime.now()
        self.dtstart = now.timestamp()
        as_utc = now.replace(tzinfo=datetime.timezone.utc).timestamp()
        self.dgmt = -int((as_utc - self.dtstart) / 60)

    def get_track_names(self) -> list[str]:
        return list(self.trks.keys())

    # -- editing (edit.py) and writing (writers/vital.py) ---------------------------------
    # Thin hand-offs; the docstrings of ``vitalproc.ops.edit`` and ``vitalproc.io.vital_writer``
    # say what each does and how it differs from vitaldb.

    def crop(self, dtfrom: float | None = None, dtend: float | None = None) -> VitalFile:
        """Keep the records in a time window, in place (``vitalproc.ops.edit.crop``)."""
        from ..ops.edit import crop

        return crop(self, dtfrom, dtend)

    def rename_device(self, oldname: str, newname: str) -> None:
        """Rename a device and its tracks (``vitalproc.ops.edit.rename_device``)."""
        from ..ops.edit import rename_device

        rename_device(self, oldname, newname)

    def rename_devices(self, mapping: dict[str, str]) -> None:
        """Rename devices, ``{oldname: newname}`` (``vitalproc.ops.edit.rename_devices``)."""
        from ..ops.edit import rename_devices

        rename_devices(self, mapping)

    def rename_track(self, dtname: str, target: str) -> Track | None:
        """Rename a track within its device (``vitalproc.ops.edit.rename_track``)."""
        from ..ops.edit import rename_track

        return rename_track(self, dtname, target)

    def rename_tracks(self, mapping: dict[str, str]) -> None:
        """Rename tracks, ``{dtname: target}`` (``vitalproc.ops.edit.rename_tracks``)."""
        from ..ops.edit import rename_tracks

        rename_tracks(self, mapping)

    def remove_device(self, dname: str) -> None:
        """Remove a device and its tracks (``vitalproc.ops.edit.remove_device``)."""
        from ..ops.edit import remove_device

        remove_device(self, dname)

    def remove_devices(self, dnames: Any) -> None:
        """Remove devices and their tracks (``vitalproc.ops.edit.remove_devices``)."""
        from ..ops.edit import remove_devices

        remove_devices(self, dnames)

    def remove_track(self, dtname: str) -> Track | None:
        """Remove a track (``vitalproc.ops.edit.remove_track``)."""
        from ..ops.edit import remove_track

        return remove_track(self, dtname)

    def remove_tracks(self, dtnames: Any) -> None:
        """Remove tracks (``vitalproc.ops.edit.remove_tracks``)."""
        from ..ops.edit import remove_tracks

        remove_tracks(self, dtnames)

    # vitaldb's other names for the removals.
    del_device, del_devices = remove_device, remove_devices
    del_track, del_tracks = remove_track, remove_tracks

    def add_device(self, dname: str, typename: str = "", port: str = "") -> None:
        """Add or replace a device (``vitalproc.ops.edit.add_device``)."""
        from ..ops.edit import add_device

        add_device(self, dname, typename, port)

    def add_track(
        self,
        dtname: str,
        recs: Any = None,
        srate: float = 0,
        unit: str = "",
        mindisp: float = 0,
        maxdisp: float = 0,
        after: str | None = None,
        col: int | None = None,
        **columns: Any,
    ) -> Track | None:
        """Add a track from vitaldb's ``recs`` or from columns ``dt=``, ``values=``,
        ``samples=``, ``offsets=`` (``vitalproc.ops.edit.add_track``)."""
        from ..ops.edit import add_track

        return add_track(self, dtname, recs, srate, unit, mindisp, maxdisp, after, col, **columns)

    def anonymize(self, dt: Any = None) -> VitalFile:
        """A copy moved to start at ``dt`` (default 2100-01-01), dgmt 0
        (``vitalproc.ops.edit.anonymize``)."""
        from ..ops.edit import anonymize

        return anonymize(self) if dt is None else anonymize(self, dt)

    def to_vital(self, opath: Any, compresslevel: int = 9, packed: bool = True) -> None:
        """Write a .vital file (``vitalproc.io.vital_writer.write``)."""
        from ..io.vital_writer import write

        write(self, opath, compresslevel=compresslevel, packed=packed)

    # -- end of editing and writing -------------------------------------------------------

    # -- time-grid views (views.py) -------------------------------------------------------
    # Thin hand-offs with vitaldb's signatures; ``vitalproc.ops.views`` documents each rule.

    def find_track(self, dtname: str) -> Track | None:
        """The track keyed ``dtname``, else the first whose key ends with it, else None."""
        from .._names import find_track

        return find_track(self, dtname)

    def get_track_samples(self, dtname: str, interval: float | None = None) -> np.ndarray:
        """One track on the time grid (``vitalproc.ops.views.get_track_samples``)."""
        from ..ops.views import get_track_samples

        return get_track_samples(self, dtname, interval)

    def get_samples(
        self,
        track_names: Any = None,
        interval: float | None = None,
        return_datetime: bool = False,
        return_timestamp: bool = False,
    ) -> tuple[list[Any], list[str]]:
        """Columns of the time grid and their names (``vitalproc.ops.views.get_samples``)."""
        from ..ops.views import get_samples

        return get_samples(self, track_names, interval, return_datetime, return_timestamp)

    def to_numpy(
        self,
        track_names: Any = None,
        interval: float | None = None,
        return_datetime: bool = False,
        return_timestamp: bool = False,
    ) -> np.ndarray:
        """Tracks on a time grid, as vitaldb's ``to_numpy`` (``vitalproc.ops.views.to_numpy``)."""
        from ..ops.views import to_numpy

        return to_numpy(self, track_names, interval, return_datetime, return_timestamp)

    def to_pandas(
        self,
        track_names: Any = None,
        interval: float | None = None,
        return_datetime: bool = False,
        return_timestamp: bool = False,
    ) -> Any:
        """``to_numpy`` as a pandas DataFrame, as vitaldb's (``vitalproc.ops.views.to_pandas``)."""
        from ..ops.views import to_pandas

        return to_pandas(self, track_names, interval, return_datetime, return_timestamp)

    def to_polars_grid(
        self,
        track_names: Any = None,
        interval: float | None = None,
        return_datetime: bool = False,
        return_timestamp: bool = False,
    ) -> Any:
        """The same grid as a wide polars DataFrame (``vitalproc.ops.views.to_polars_grid``)."""
        from ..ops.views import to_polars_grid

        return to_polars_grid(self, track_names, interval, return_datetime, return_timestamp)

    # -- end of time-grid views -----------------------------------------------------------

    # -- long frames (frames.py) ------------------------------------------------------------

    def to_arrow(self, track_names: Any = None, *, physical: bool = False) -> Any:
        """One row per record as a pyarrow Table (``vitalproc.ops.frames.to_arrow``)."""
        from ..ops.frames import to_arrow

        return to_arrow(self, track_names, physical=physical)

    def to_polars(self, track_names: Any = None, *, physical: bool = False) -> Any:
        """One row per record as a polars DataFrame (``vitalproc.ops.frames.to_polars``)."""
        from ..ops.frames import to_polars

        return to_polars(self, track_names, physical=physical)

    # -- end of long frames -----------------------------------------------------------------

    # -- pictures (viewer/) -----------------------------------------------------------------

    def plot(self, path: Any = None, **options: Any) -> Any:
        """Draw the recording: one lane per track, waves as min/max envelopes per pixel
        column, numerics over time, strings as marks; saved to ``path`` (PNG, SVG or
        PDF by its suffix) when given (``vitalproc.viewer.static.plot``; options
        ``tracks``, ``start``, ``end``, ``width``, ``height``, ``dpi``, ``theme``).
        Returns a ``Picture`` (the figure and the arrays behind it)."""
        from ..viewer.static import plot

        return plot(self, path, **options)

    # -- end of pictures --------------------------------------------------------------------

    def __repr__(self) -> str:
        name = os.fspath(self.ipath) if isinstance(self.ipath, (str, os.PathLike)) else None
        return f"VitalFile({name!r}, {len(self.trks)} tracks, {self.dtend - self.dtstart:.1f} s)"
