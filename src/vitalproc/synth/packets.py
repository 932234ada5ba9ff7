"""Packet assembly for synthetic files: packets put in time order, as a recorder writes them.

``VitalFile.to_vital`` writes each track's records as one block; a recorder interleaves
every track's records in time order, declares tracks again when a device reconnects and
may be cut off mid-packet. This module writes those streams. The byte layouts are the
writer's (``io/vital_writer.py``: header, strings, track info, record head) and the
numbers are the package's format constants.

Records come in ``Packets`` groups: packets of one byte size, each with its time and a tie
rank (the track's declaration order). ``stream`` merges every group in (time, rank)
order, a window of time at a time: one sort, then every packet copied into its place.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._constants import MAGIC, Command, Packet
from ..io.vital_writer import _REC_FIELDS, INFOLEN, VERSION, _packet_bytes, _vstr
from . import _tile as _kernels

#: The 26-byte header (dgmt, instance id, program version, dtstart, dtend) that
#: Vital Recorder writes, after the magic, format version and header length.
_HEAD = struct.Struct("<4sIHhIIdd")
#: Track info after the unit, up to the device id: recorders write no block length or
#: span (those belong to packed files), and readers skip by a declared length.
_TRK_HEAD = struct.Struct("<HBB")
_TRK_TAIL = struct.Struct("<ffIfddBI")
HEADER_BYTES = _HEAD.size  # the first packet starts here
WINDOW_SECONDS = 600.0


def header(dgmt: int, dtstart: float, dtend: float) -> bytes:
    """Magic, format version and the 26-byte header."""
    return _HEAD.pack(MAGIC, VERSION, _HEAD.size - 10, dgmt, 0, 0, dtstart, dtend)


def device(did: int, typename: str, name: str, port: str = "") -> bytes:
    return _packet_bytes(
        Packet.DEVINFO, struct.pack("<I", did) + _vstr(typename) + _vstr(name) + _vstr(port)
    )


def track_info(
    tid: int,
    ttype: int,
    fmt: int,
    name: str,
    unit: str,
    mindisp: float,
    maxdisp: float,
    col: int,
    srate: float,
    gain: float,
    offset: float,
    did: int,
    montype: int = 0,
) -> bytes:
    body = (
        _TRK_HEAD.pack(tid, ttype, fmt)
        + _vstr(name)
        + _vstr(unit)
        + _TRK_TAIL.pack(mindisp, maxdisp, col, srate, gain, offset, montype, did)
    )
    return _packet_bytes(Packet.TRKINFO, body)


def order(tids: list[int]) -> bytes:
    return _packet_bytes(
        Packet.CMD, struct.pack(f"<BH{len(tids)}H", Command.ORDER, len(tids), *tids)
    )


@dataclass
class Packets:
    """Packets of one byte size: ``rows[k]`` is packet k, written at time ``dt[k]``
    (sorted), ties broken by ``rank``."""

    dt: np.ndarray
    rows: np.ndarray
    rank: int

    def __len__(self) -> int:
        return len(self.dt)


def records(
    tid: np.ndarray | int,
    dt: np.ndarray,
    payload: np.ndarray,
    rank: int,
    sort_dt: np.ndarray | None = None,
) -> Packets:
    """Record packets: the record head (type, length, infolen, ``dt``, ``tid``), then
    ``payload`` (uint8 rows: a wave's u32 count and samples, a numeric's value, a
    string's u32 0, u32 length and text). ``sort_dt`` places them in the stream when it
    differs from the time they carry (a stray timestamp written among its neighbours)."""
    m, size = payload.shape
    head = np.empty(m, np.dtype(list(_REC_FIELDS)))
    head["type"] = Packet.REC
    head["length"] = head.dtype.itemsize - 5 + size
    head["infolen"] = INFOLEN
    head["dt"] = dt
    head["tid"] = tid
    rows = np.empty((m, head.dtype.itemsize + size), np.uint8)
    rows[:, : head.dtype.itemsize] = head.view(np.uint8).reshape(m, -1)
    rows[:, head.dtype.itemsize :] = payload
    at = np.asarray(dt if sort_dt is None else sort_dt, np.float64)
    return Packets(at, rows, rank)


def wave_payload(samples: np.ndarray) -> np.ndarray:
    """Rows of ``u32 count`` + samples for records of equal length (``samples``: 2-D)."""
    m, count = samples.shape
    out = np.empty((m, 4 + count * samples.itemsize), np.uint8)
    out[:, :4] = np.frombuffer(struct.pack("<I", count), np.uint8)
    out[:, 4:] = np.ascontiguousarray(samples).view(np.uint8).reshape(m, -1)
    return out


def string_payload(text: str) -> np.ndarray:
    data = text.encode("utf-8")
    return np.frombuffer(struct.pack("<II", 0, len(data)) + data, np.uint8)[None, :]


def single(data: bytes, dt: float, rank: int) -> Packets:
    """One ready-made packet (a track declared again mid-file) at time ``dt``."""
    return Packets(np.array([dt]), np.frombuffer(data, np.uint8)[None, :].copy(), rank)


def stream(groups: Iterable[Packets], window: float = WINDOW_SECONDS) -> Iterator[np.ndarray]:
    """Every group's packets in (time, rank) order, as uint8 chunks of about ``window``
    seconds of recording each."""
    groups = [g for g in groups if len(g)]
    if not groups:
        return
    t0 = min(float(g.dt[0]) for g in groups)
    t1 = max(float(g.dt[-1]) for g in groups)
    edges = np.arange(t0, t1 + window, window)
    edges[-1] = np.inf
    lows = [0] * len(groups)
    for w in range(len(edges) - 1):
        parts = []
        for gi, g in enumerate(groups):
            hi = int(np.searchsorted(g.dt, edges[w + 1], "left"))
            if hi > lows[gi]:
                parts.append((gi, lows[gi], hi))
                lows[gi] = hi
        if parts:
            yield _merge([(groups[gi], lo, hi) for gi, lo, hi in parts])


def _merge(parts: list[tuple[Packets, int, int]]) -> np.ndarray:
    dt = np.concatenate([g.dt[lo:hi] for g, lo, hi in parts])
    rank = np.concatenate([np.full(hi - lo, g.rank, np.int64) for g, lo, hi in parts])
    size = np.concatenate([np.full(hi - lo, g.rows.shape[1], np.int64) for g, lo, hi in parts])
    which = np.lexsort((rank, dt))
    where = np.empty(len(dt), np.int64)
    where[which] = np.arange(len(dt))
    ends = np.cumsum(size[which])
    start_of = (ends - size[which])[where]  # byte offset of each row, in input order
    out = np.empty(int(ends[-1]), np.uint8)
    a = 0
    for g, lo, hi in parts:
        rows = g.rows[lo:hi]
        pos = start_of[a : a + (hi - lo)]
        a += hi - lo
        _kernels.scatter_rows(out, np.ascontiguousarray(rows), np.ascontiguousarray(pos))
    return out


def packet_starts(data: bytes, first: int) -> list[int]:
    """Offsets of every packet from ``first`` (the end of the header) to the end."""
    view = memoryview(data)
    out, pos = [], first
    while pos + 5 <= len(view):
        out.append(pos)
        pos += 5 + struct.unpack_from("<I", view, pos + 1)[0]
    return out


# ---- compression -----------------------------------------------------------------------


def compressor(level: int) -> Any:
    """A gzip compressor with no file name and mtime 0: ISA-L at levels 0-3, zlib above
    (both give the same bytes for the same input every time)."""
    if level <= 3:
        from isal import isal_zlib

        return isal_zlib.compressobj(level, isal_zlib.DEFLATED, 31)
    import zlib

    return zlib.compressobj(level, zlib.DEFLATED, 31)


def gzip_stream(chunks: Iterable[Any], level: int) -> bytes:
    """The chunks as one gzip member."""
    comp = compressor(level)
    parts = [comp.compress(chunk) for chunk in chunks]
    parts.append(comp.flush())
    return b"".join(parts)


def gzip_cut(data: bytes, level: int) -> bytes:
    """``data`` compressed and flushed to a byte boundary with no end of stream: what a
    reader sees of a file copied while it was being written."""
    import zlib

    comp = compressor(level)
    return comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)
