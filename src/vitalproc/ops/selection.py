"""What every export writer shares: which tracks and records to write, and in what batches.

``Selection`` holds the choices of the command line (``--tracks``, ``--start``...);
``plan(vf, selection)`` applies them to a recording and returns a ``Plan``: the selected
tracks in file order, each a ``Part`` whose arrays are views of the model's arrays when
the records selected are contiguous (the usual case). Writers walk ``Part.ranges()``, so
no writer holds more than one batch of formatted output at a time.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .._constants import FMT_DTYPE, KIND_NAMES
from .._f32 import shortest_f32
from .._names import is_glob, name_matches
from ..model._arrays import physical, ranges

if TYPE_CHECKING:
    import numpy as np

    from ..model import Device, Track, VitalFile

#: Samples (waves) or records (numerics, strings) per batch: bounds the memory of a
#: batch's formatted text (a few MB) while keeping per-batch overheads negligible.
BATCH_SAMPLES = 1 << 20
BATCH_RECORDS = 1 << 16

#: Output names of the track types (the Go processor's ``type_name`` values).
TYPE_NAMES = {t: word.upper() for t, word in KIND_NAMES.items()}
KINDS = KIND_NAMES

#: Sections of a document, in output order.
SECTIONS = ("file_info", "devices", "tracks")


class Selection(NamedTuple):
    """What to export: the command line's selection flags, resolved to plain values.

    Parameters
    ----------
    tracks
        Names and patterns; a track is selected when any of them matches it: vitaldb's
        rule (exact ``Device/Track``, a suffix such as ``HR``, or ``Device/*``) or a shell
        glob (``*``, ``?``, ``[...]``; case-sensitive) against the full name or the track
        name alone. None or empty: every track.
    exclude
        Names and patterns to leave out, matched the same way.
    types
        Track types to keep (``TrackType`` values); None: all.
    start, end
        Keep records with ``start <= dt < end`` (Unix seconds); None: unbounded.
    max_tracks
        Keep the first N selected tracks (file order); None: all.
    max_records
        Keep the first N selected records of each track; None: all.
    physical
        Apply gain and offset to integer samples and values (fmt 3..8), giving float64.
    sections
        The document's sections (``SECTIONS``), in output order.
    records
        Write the records (False: metadata and counts only, for listings).
    summary
        Per track, add the first and the last selected record.
    """

    tracks: Sequence[str] | None = None
    exclude: Sequence[str] | None = None
    types: frozenset[int] | None = None
    start: float | None = None
    end: float | None = None
    max_tracks: int | None = None
    max_records: int | None = None
    physical: bool = False
    sections: tuple[str, ...] = SECTIONS
    records: bool = True
    summary: bool = False

    @property
    def filters_tracks(self) -> bool:
        return bool(self.tracks or self.exclude or self.types or self.max_tracks is not None)

    def pushdown(self) -> tuple[list[str] | None, list[str] | None]:
        """The ``tracks``/``exclude`` arguments ``vitalproc.read`` can apply itself
        (vitaldb's rule, no globs), so unselected records are never stored."""

        def plain(names: Sequence[str] | None) -> list[str] | None:
            if not names or any(is_glob(n) for n in names):
                return None
            return list(names)

        return plain(self.tracks), plain(self.exclude)


class Part:
    """One selected track: its metadata (``track``) and the selected records' arrays.

    ``dt`` holds the selected records' times; ``data`` the track's samples (waves),
    values (numerics) or UTF-8 bytes (strings); ``offsets`` the selected records'
    boundaries into ``data`` (``n + 1`` entries, not rebased: a contiguous selection
    is a view of the model's arrays, nothing copied).

    A part of a recording exported a group of tracks at a time (``writers._groups``)
    gets its record times from a survey (``times``) and its ``data``/``offsets`` when
    they are first used (``pending.load``).
    """

    def __init__(
        self,
        name: str,
        track: Track,
        index: Any,
        physical: bool,
        times: np.ndarray | None = None,
        pending: Any = None,
    ):
        self.name = name
        self.track = track
        self.index = index
        self.kind = KINDS.get(track.type, "other")
        self.physical = physical and self.kind in ("wave", "numeric") and track.fmt > 2
        self.dt = (track.dt if times is None else times)[index]
        if self.kind == "other":  # a type vitaldb keeps but never reads records of
            self.dt = self.dt[:0]
        self.pending = pending
        self._data: np.ndarray | None = None
        self._offsets: np.ndarray | None = None
        if pending is None:
            self.take(track)

    def take(self, track: Track) -> None:
        """Set ``data`` and ``offsets`` from ``track``'s arrays (those of this part's
        track, in a read holding them) and this part's record ``index``."""
        import numpy as np

        index = self.index
        data, offsets = track.data, track.offsets
        self.pending = None
        if isinstance(index, slice):
            self._data = data if offsets is not None else data[index]
            self._offsets = offsets[index.start : index.stop + 1] if offsets is not None else None
        elif offsets is None:  # records picked out of order (a time window over
            self._data, self._offsets = data[index], None  # unsorted times): gather
        else:
            starts, ends = offsets[index], offsets[index + 1]
            lengths = ends - starts
            self._offsets = np.zeros(len(index) + 1, np.int64)
            np.cumsum(lengths, out=self._offsets[1:])
            self._data = data[ranges(starts, lengths)]
        if self.kind == "other" and self._offsets is not None:
            self._offsets = self._offsets[:1]

    @property
    def data(self) -> np.ndarray:
        if self.pending is not None:
            self.pending.load(self)
        return self._data  # type: ignore[return-value]

    @data.setter
    def data(self, value: np.ndarray | None) -> None:
        self._data, self.pending = value, None

    @property
    def offsets(self) -> np.ndarray | None:
        if self.pending is not None:
            self.pending.load(self)
        return self._offsets

    @offsets.setter
    def offsets(self, value: np.ndarray | None) -> None:
        self._offsets, self.pending = value, None

    def __len__(self) -> int:
        return len(self.dt)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of what is written: the on-disk dtype, or float64 in physical mode."""
        import numpy as np

        if self.physical:
            return np.dtype(np.float64)
        return np.dtype(FMT_DTYPE.get(self.track.fmt, "<f4")).newbyteorder("=")

    @property
    def dtype_name(self) -> str:
        """``int16``, ``float32``... for waves and numerics, ``string`` for strings."""
        return "string" if self.kind == "string" else self.dtype.name

    def ranges(
        self, samples: int | None = None, records: int | None = None
    ) -> Iterator[tuple[int, int]]:
        """Record ranges ``[a, b)`` of at most ``samples`` samples (at least one record)
        and ``records`` records (default: ``BATCH_SAMPLES``, ``BATCH_RECORDS``).

        ``bisect``, not numpy: the offsets may be numpy arrays or, in a ``RawPart``,
        memoryviews; a few lookups per batch cost nothing either way."""
        samples = samples or BATCH_SAMPLES
        records = records or BATCH_RECORDS
        offsets = self.offsets
        n = len(self.dt)
        if self.kind != "wave" or offsets is None:
            for a in range(0, n, records):
                yield a, min(n, a + records)
            return
        a = 0
        while a < n:
            b = bisect.bisect_right(offsets, offsets[a] + samples) - 1
            b = min(max(b, a + 1), a + records, n)
            yield a, b
            a = b

    def convert(self, raw: np.ndarray) -> np.ndarray:
        """Values as written: raw, or in physical mode float64 ``raw * gain + offset``
        with a wave's gap filler (the format's sentinel) as NaN, as ``Track.to_numpy``."""
        return physical(self.track, raw) if self.physical else raw

    def values(self, a: int, b: int) -> np.ndarray:
        """Numeric values of records ``[a, b)``."""
        return self.convert(self.data[a:b])

    def samples(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Samples of wave records ``[a, b)`` and their offsets, rebased to start at 0."""
        offsets = self.offsets[a : b + 1]
        base = int(offsets[0])
        if base:
            offsets = offsets - base
        return self.convert(self.data[base : int(offsets[-1]) + base]), offsets

    def texts(self, a: int, b: int) -> list[str]:
        """Texts of string records ``[a, b)``, decoded as vitaldb does (bad bytes dropped)."""
        offsets = self.offsets[a : b + 1].tolist()
        raw = self.data[offsets[0] : offsets[-1]].tobytes()
        base = offsets[0]
        return [
            raw[s - base : e - base].decode("utf-8", "ignore") for s, e in zip(offsets, offsets[1:])
        ]

    def metadata(self) -> dict[str, Any]:
        """The export document's track keys (the Go processor's), before ``records_count``,
        in its order."""
        t = self.track
        return {
            "name": self.name,
            "type": t.type,
            "type_name": TYPE_NAMES.get(t.type, "UNKNOWN"),
            "fmt": t.fmt,
            "dtype": self.dtype_name,
            "unit": t.unit,
            "sample_rate": shortest_f32(t.srate),
            "gain": t.gain,
            "offset": t.offset,
            "min_display": shortest_f32(t.mindisp),
            "max_display": shortest_f32(t.maxdisp),
            "color": t.col,
            "monitor_type": t.montype,
            "device_name": t.dname,
            "physical": self.physical,
        }


class Plan:
    """A recording with a ``Selection`` applied: what a writer writes.

    ``unmatched``: the selection's names that match no track; ``source``: the input's
    name; ``release``: drop each track from ``vf`` once written, so that its memory is
    freed as the export goes on (for a recording read only to be exported: the command
    line's).
    """

    def __init__(
        self,
        vf: VitalFile,
        selection: Selection,
        parts: Sequence[Part],
        devices: list[Device],
        unmatched: list[str] | None = None,
        source: str | None = None,
        release: bool = False,
    ):
        self.vf = vf
        self.selection = selection
        self.parts = parts
        self.devices = devices
        self.unmatched = unmatched if unmatched is not None else []
        self.source = source
        self.release = release

    def written(self, part: Part) -> None:
        """A writer is done with ``part``: with ``release``, free its arrays."""
        if self.release:
            import numpy as np

            self.vf.trks.pop(part.name, None)
            trk = part.track
            trk.dt = np.empty(0, np.float64)
            trk.data = np.empty(0, trk.data.dtype)
            if trk.offsets is not None:
                trk.offsets = np.zeros(1, np.int64)
            part.dt = part.data = part.offsets = None  # type: ignore[assignment]

    def file_info(self) -> dict[str, Any]:
        """The export document's ``file_info`` keys (the Go processor's); the counts are
        those of this document."""
        vf = self.vf
        info = {
            "dt_start": vf.dtstart,
            "dt_end": vf.dtend,
            "duration": vf.dtend - vf.dtstart,
            "gmt_offset": vf.dgmt,
            "tracks_count": len(self.parts),
            "devices_count": len(self.devices),
        }
        if self.source is not None:
            info["file"] = self.source
        return info

    def devices_info(self) -> dict[str, dict[str, str]]:
        return {d.name: {"name": d.name, "type_name": d.type, "port": d.port} for d in self.devices}


def listing(plan_: Plan) -> tuple[str, list[dict[str, Any]]]:
    """The one table a tabular format (CSV, Parquet, Arrow) writes when records are not
    asked for: ``("tracks", rows)``, ``("devices", rows)`` or ``("file_info", [row])``.

    Track rows hold the JSON keys and ``records_count``; with ``summary``, also the
    first and last selected record's time (``first_dt``, ``last_dt``).

    Raises
    ------
    ValueError
        The selection asks for more than one section (a table holds one).
    """
    sections = plan_.selection.sections
    kind = "tracks" if plan_.selection.summary else sections[0] if len(sections) == 1 else ""
    if not kind:
        raise ValueError(
            "a table format holds one table: choose one of --info-only, "
            "--list-devices, --list-tracks or --summary"
        )
    if kind == "file_info":
        return kind, [plan_.file_info()]
    if kind == "devices":
        return kind, list(plan_.devices_info().values())
    rows = []
    for part in plan_.parts:
        row = part.metadata()
        row["records_count"] = n = len(part)
        if plan_.selection.summary:
            row["first_dt"] = float(part.dt[0]) if n else None
            row["last_dt"] = float(part.dt[-1]) if n else None
        rows.append(row)
    return "tracks", rows


def plan(vf: VitalFile, selection: Selection | None = None, source: str | None = None) -> Plan:
    """Apply ``selection`` to ``vf``: the tracks, in file order, and their records.

    Parameters
    ----------
    vf
        The recording.
    selection
        What to keep (default: everything).
    source
        The input's name, written in ``file_info`` when given.

    Returns
    -------
    Plan
        ``unmatched`` lists the ``selection.tracks`` entries that match no track.
    """
    sel = selection or Selection()
    chosen, unmatched = choose(vf, sel)
    parts = [Part(name, trk, record_index(trk.dt, sel), sel.physical) for name, trk in chosen]
    return Plan(vf, sel, parts, devices_of(vf, parts, sel), unmatched, source)


def choose(vf: VitalFile, sel: Selection) -> tuple[list[tuple[str, Track]], list[str]]:
    """The tracks ``sel`` selects, in file order, and its names that match none."""
    chosen: list[tuple[str, Track]] = []
    hit: set[str] = set()
    for name, trk in vf.trks.items():
        if sel.tracks:
            found = [s for s in sel.tracks if name_matches(name, trk.dname, s)]
            if not found:
                continue
            hit.update(found)
        if sel.exclude and any(name_matches(name, trk.dname, s) for s in sel.exclude):
            continue
        if sel.types and trk.type not in sel.types:
            continue
        chosen.append((name, trk))
    if sel.max_tracks is not None:
        chosen = chosen[: max(sel.max_tracks, 0)]
    return chosen, [s for s in dict.fromkeys(sel.tracks or ()) if s not in hit]


def record_index(dt: np.ndarray, sel: Selection) -> Any:
    """The records of a track (times ``dt``) ``sel`` keeps: a slice when they are
    contiguous (the usual case: a view, nothing copied), else their positions."""
    import numpy as np

    n = len(dt)
    if sel.start is None and sel.end is None:
        index: Any = slice(0, n)
    else:
        keep = np.ones(n, bool)
        if sel.start is not None:
            keep &= dt >= sel.start
        if sel.end is not None:
            keep &= dt < sel.end
        picked = np.flatnonzero(keep)
        if len(picked) == 0:
            index = slice(0, 0)
        elif picked[-1] - picked[0] + 1 == len(picked):  # sorted times: a range
            index = slice(int(picked[0]), int(picked[-1]) + 1)
        else:
            index = picked
    if sel.max_records is not None:
        limit = max(sel.max_records, 0)
        index = (
            slice(index.start, min(index.stop, index.start + limit))
            if isinstance(index, slice)
            else index[:limit]
        )
    return index


def devices_of(vf: VitalFile, parts: Sequence[Part], sel: Selection) -> list[Device]:
    """The devices a document lists: all, or those owning a selected track."""
    if sel.filters_tracks:
        owners = {p.track.dname for p in parts}
        return [d for d in vf.devs.values() if d.name in owners]
    return list(vf.devs.values())
