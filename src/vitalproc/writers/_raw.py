"""A ``Plan`` over the reader's own buffers, for writers that need no numpy (msgpack).

Importing numpy takes about 50 ms, a third of the whole run of ``vitalproc export -f
msgpack`` on an hour-long recording. A recording just read holds each track's records as
the buffers the compiled reader filled (``Track.raw_columns``); a ``RawPart`` hands a
writer typed ``memoryview``s of them in place of numpy arrays. That covers a selection
of tracks and of each track's first N records; a time window and physical units need
numpy, and go through ``_base.plan``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._constants import FMT_DTYPE, TrackType
from ..ops.selection import KINDS, Part, Plan, Selection, choose, devices_of

if TYPE_CHECKING:
    from ..model import Track, VitalFile

#: numpy dtype string -> (``memoryview.cast`` code, numpy dtype name).
_TYPES = {
    "<f4": ("f", "float32"),
    "<f8": ("d", "float64"),
    "<i1": ("b", "int8"),
    "<u1": ("B", "uint8"),
    "<i2": ("h", "int16"),
    "<u2": ("H", "uint16"),
    "<i4": ("i", "int32"),
    "<u4": ("I", "uint32"),
}


class RawPart(Part):
    """A ``Part`` whose ``dt``, ``data`` and ``offsets`` are typed memoryviews of the
    reader's buffers: every record of the track, or its first ``limit``.

    ``Part.__init__`` makes numpy arrays, so it is not called; ``dtype_name``, which
    needs numpy there, is done here without it. Never physical.
    """

    def __init__(self, name: str, track: Track, limit: int | None):
        dt, ends, data = track.raw_columns()  # type: ignore[misc]
        self.name = name
        self.track = track
        self.kind = KINDS.get(track.type, "other")
        self.physical = False
        self.pending = None
        n = 0 if self.kind == "other" else len(track)
        if limit is not None:
            n = min(n, max(limit, 0))
        self.index = slice(0, n)
        code = _TYPES[self._disk_dtype()][0] if self.kind in ("wave", "numeric") else "B"
        values = memoryview(data).cast(code)
        self.dt = memoryview(dt).cast("d")[:n]
        if track.type in (TrackType.WAVE, TrackType.STRING):
            self.data, self.offsets = values, memoryview(ends).cast("q")[: n + 1]
        else:
            self.data, self.offsets = values[:n], None

    def _disk_dtype(self) -> str:
        return FMT_DTYPE.get(self.track.fmt, "<f4")

    @property
    def dtype_name(self) -> str:
        return "string" if self.kind == "string" else _TYPES[self._disk_dtype()][1]


class RawPlan(Plan):
    """A ``Plan`` of ``RawPart``s; ``release`` drops the reader's buffers, not arrays."""

    def written(self, part: Part) -> None:
        if self.release:
            self.vf.trks.pop(part.name, None)
            part.track.clear_raw_columns()
            part.dt = part.data = part.offsets = None  # type: ignore[assignment]


def raw_plan(
    vf: VitalFile, selection: Selection | None = None, source: str | None = None
) -> Plan | None:
    """``_base.plan(vf, selection, source)`` without numpy, or None when that needs it:
    a time window, physical units, or a selected track already held as numpy arrays."""
    sel = selection or Selection()
    if sel.start is not None or sel.end is not None or sel.physical:
        return None
    chosen, unmatched = choose(vf, sel)
    if any(trk.raw_columns() is None for _, trk in chosen):
        return None
    parts = [RawPart(name, trk, sel.max_records) for name, trk in chosen]
    return RawPlan(vf, sel, parts, devices_of(vf, parts, sel), unmatched, source)
