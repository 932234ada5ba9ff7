"""``read()``: source -> inflate -> packet walk -> ``VitalFile``, with vitaldb's every rule.

The compiled walk (``_parse.Walker``) handles records; this module handles everything that
happens once per file, each branch mirroring one of vitaldb 1.7.2's ``load_vital``: the
header, device and track declarations, commands, raw device data, track selection, the
early stop of packed files. It also owns the recovery policy: by default vitalproc reads
what vitaldb silently drops and says so in ``VitalFile.warnings``; ``compat="vitaldb"``
reproduces vitaldb exactly.
"""

from __future__ import annotations

import os
import struct
import sys
import warnings
from collections.abc import Callable, Collection, Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple, Union

from .._constants import (
    FLOAT_FMTS,
    FMT_ITEMSIZE,
    HEADER_DTSTART_LEN,
    HEADER_PACKED_LEN,
    MAGIC,
    MAX_UNPACKED_PACKET,
    Command,
    Packet,
    TrackType,
)
from .._names import matches, split_names
from ..errors import VitalFormatError, VitalWarning
from ..model import Device, ReadIssue, Track, VitalFile
from . import _inflate
from ._parse import KEEP_ALL, KEEP_DT, KEEP_NONE, Walker
from ._parse import track_info as _track_info
from ._source import SourceLike, open_source

if TYPE_CHECKING:
    import numpy as np

if sys.byteorder != "little":  # pragma: no cover - the walk reads fields in host order
    raise ImportError("vitalproc supports little-endian hosts only")

#: Files smaller than this (compressed) are inflated whole with libdeflate, then walked;
#: bigger ones stream through ISA-L while the walk runs on the other core.
WHOLE_FILE_LIMIT = 16 << 20

COMPAT_MODES = (None, "vitaldb")

#: Malformed packets listed one by one in ``warnings``; past this, only counted.
MAX_MALFORMED_NOTES = 10


class Status(IntEnum):
    """Outcomes of ``Walker.walk`` (the ``cpdef enum`` of ``_parse.pyx``)."""

    END = 0
    PACKET = 1
    FIRST_REC = 2
    STOP = 3
    BIG = 4
    EMPTY = 5
    NOMEM = 6


_END, _PACKET, _FIRST_REC, _STOP, _BIG, _EMPTY = (int(s) for s in list(Status)[:6])


class _Malformed(Exception):
    """A packet vitaldb's reader would raise on (it then stops reading the file)."""


# Plain ints in the per-packet code: attribute access on an enum class costs more.
_WAVE, _NUMERIC = int(TrackType.WAVE), int(TrackType.NUMERIC)
_ORDER, _RESET = int(Command.ORDER), int(Command.RESET_EVENTS)

_u8 = struct.Struct("<B").unpack_from
_u16 = struct.Struct("<H").unpack_from
_i16 = struct.Struct("<h").unpack_from
_u32 = struct.Struct("<I").unpack_from
_f32 = struct.Struct("<f").unpack_from
_f64 = struct.Struct("<d").unpack_from
_trk_head = struct.Struct("<HBB").unpack_from


def _str(buf: bytes, pos: int) -> tuple[str, int]:
    """vitaldb's ``_unpack_str``: u32 length + UTF-8, bad bytes dropped, slice clamped."""
    (n,) = _u32(buf, pos)
    pos += 4
    return buf[pos : pos + n].decode("utf-8", "ignore"), pos + n


#: Track-info fields after the unit (unpacker, size) with vitaldb's defaults when absent:
#: mindisp, maxdisp, col, srate, gain, offset, montype, did, reclen (then, optional, the
#: track's start and end).
_OPTIONAL_FIELDS = (
    (_f32, 4, 0.0),
    (_f32, 4, 0.0),
    (_u32, 4, 0),
    (_f32, 4, 0.0),
    (_f64, 8, 0.0),
    (_f64, 8, 0.0),
    (_u8, 1, 0),
    (_u32, 4, 0),
    (_u32, 4, 0),
)


def _optional_track_fields(b: bytes, pos: int, plen: int) -> tuple[Any, ...]:
    """mindisp .. reclen, each read only while the declared length says there is more
    (vitaldb's ``packet_len > pos`` tests; once one fails, so do the rest), then ``pos``."""
    values = []
    for unpack, size, default in _OPTIONAL_FIELDS:
        if plen > pos:
            values.append(unpack(b, pos)[0])
            pos += size
        else:
            values.append(default)
    return (*values, pos)


def _track_fields(b: bytes, plen: int) -> tuple[Any, ...]:
    """A track declaration's fields read one by one, as vitaldb does: ``_parse.track_info``'s
    tuple for any layout (fields absent, or cut off: then struct.error)."""
    unit = ""
    tid, trktype, fmt = _trk_head(b, 0)
    if (trktype == _WAVE or trktype == _NUMERIC) and fmt not in FMT_ITEMSIZE:
        return (tid, trktype, fmt, "", "", 0, 0, 0, 0, 0, 0, 0, 0, 0)  # (ignored)
    tname, pos = _str(b, 4)
    # Optional fields, each read while the declared length says there is more.
    if plen > pos:
        unit, pos = _str(b, pos)
    mindisp, maxdisp, col, srate, gain, offset, montype, did, reclen, pos = _optional_track_fields(
        b, pos, plen
    )
    if plen > pos:  # the track's own span: read (and length-checked) but not kept
        _f64(b, pos)
        pos += 8
    if plen > pos:
        _f64(b, pos)
    return (
        tid,
        trktype,
        fmt,
        tname,
        unit,
        mindisp,
        maxdisp,
        col,
        srate,
        gain,
        offset,
        montype,
        did,
        reclen,
    )


def same_meaning(old: Track, new: Track) -> bool:
    """Whether the records of two declarations of a track can share one column: the same
    type (and sampling rate, for waves), and for waves and numerics the same on-disk
    format and, for the integer formats, the same gain and offset (float formats hold
    physical values: vitaldb applies gain and offset only for fmt > 2)."""
    if old.type != new.type:
        return False
    if old.type == _WAVE and old.srate != new.srate:
        return False
    if old.type != _WAVE and old.type != _NUMERIC:
        return True
    return old.fmt == new.fmt and (
        old.fmt in FLOAT_FMTS or (old.gain == new.gain and old.offset == new.offset)
    )


#: Track names as ``read`` takes them: a list, or one string split on commas.
TrackNames = Union[Sequence[str], str, None]


def read(
    source: SourceLike,
    tracks: TrackNames = None,
    exclude: TrackNames = None,
    header_only: bool = False,
    maxlen: float | None = None,
    compat: str | None = None,
    strict: bool = False,
    max_inflated_bytes: int | None = None,
) -> VitalFile:
    """Read a .vital recording.

    Parameters
    ----------
    source
        A path, an http(s) URL (streamed; reading stops once the wanted tracks of a
        packed file are read), ``bytes``, or a binary file object.
    tracks
        Track names to read, as vitaldb's ``track_names``: ``"Device/Track"`` exactly, a
        suffix such as ``"HR"`` (so ``HR`` also matches ``PLETH_HR``), or ``"Device/*"``.
        A string is split on commas. None or empty: every track.
    exclude
        Names to leave out, matched the same way.
    header_only
        Read devices, tracks and the file span, but no records.
    maxlen
        Skip records later than ``maxlen`` seconds after the (running) start time.
    compat
        None (default): read everything vitaldb would drop (records over 1 MB in an
        unpacked file, records of a track declared again under a new id, packets after a
        malformed one) and list each recovery in ``VitalFile.warnings``.
        ``"vitaldb"``: return exactly what vitaldb 1.7.2 returns.
    strict
        Raise ``VitalFormatError`` at the first fault or recovery instead of warning.
    max_inflated_bytes
        Stop with ``VitalFormatError`` once the stream inflates to more than this (a
        guard against gzip bombs); None: no limit.

    Returns
    -------
    VitalFile

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        As ``open`` raises them.
    VitalFormatError
        Not gzip, not a .vital stream, or cut inside its header. A fault after the header
        is not raised: the data before it is returned with a warning.

    Examples
    --------
    >>> import vitalproc
    >>> vf = vitalproc.read(vitalproc.SAMPLE)
    >>> sorted(vf.devs)[:1]
    ['Intellivue']
    """
    vf = VitalFile.blank(source if isinstance(source, (str, os.PathLike)) else None)
    load_into(vf, source, tracks, exclude, header_only, maxlen, compat, strict, max_inflated_bytes)
    return vf


#: Readers of sources that are no .vital stream, tried first, in order, for a path:
#: ``(accepts(path) -> bool, load(vf, path, tracks, exclude, header_only, maxlen))``.
#: ``vitalproc._open`` registers the dataset's case reader here when the package is
#: imported, so this layer reads a ``.parquet`` case without importing the dataset layer.
SOURCE_READERS: list[tuple[Callable[[str], bool], Callable[..., None]]] = []


def load_into(
    vf: VitalFile,
    source: SourceLike,
    tracks: Any,
    exclude: Any,
    header_only: bool,
    maxlen: float | None,
    compat: str | None,
    strict: bool = False,
    max_inflated_bytes: int | None = None,
) -> None:
    _check(compat, max_inflated_bytes)
    vf.compat = compat  # the views follow the same policy (views.py)
    # Another kind of source (a dataset case, .parquet): its reader, registered by a
    # higher layer (``vitalproc._open``), for read() and VitalFile() alike
    if isinstance(source, (str, os.PathLike)):
        for accepts, load in SOURCE_READERS:
            if accepts(os.fspath(source)):
                load(vf, source, tracks, exclude, header_only, maxlen)
                return
    _Loader(vf, tracks, exclude, header_only, maxlen, compat, strict, max_inflated_bytes).load(
        source
    )


def _check(compat: str | None, max_inflated_bytes: int | None = None) -> None:
    if compat not in COMPAT_MODES:
        raise ValueError(f"compat must be None or 'vitaldb', not {compat!r}")
    if max_inflated_bytes is not None and max_inflated_bytes < 0:
        raise ValueError("max_inflated_bytes must be >= 0")


class Survey(NamedTuple):
    """What a full read of a recording would hold, learnt without holding it.

    ``vf`` has the devices, tracks (metadata, no records), span and warnings that
    ``read`` returns with the same arguments; ``dt`` each track's record times and
    ``nval`` its samples (waves) or text bytes (strings).
    """

    vf: VitalFile
    dt: dict[str, np.ndarray]
    nval: dict[str, int]

    def nbytes(self, dtname: str) -> int:
        """Memory a full read gives the track's arrays (times, values, boundaries)."""
        trk = self.vf.trks[dtname]
        n = len(self.dt[dtname])
        if trk.type == _WAVE:
            return 16 * n + self.nval[dtname] * FMT_ITEMSIZE.get(trk.fmt, 4)
        if trk.type == _NUMERIC:
            return n * (8 + FMT_ITEMSIZE.get(trk.fmt, 4))
        return 16 * n + self.nval[dtname]


def survey(
    source: SourceLike,
    tracks: TrackNames = None,
    exclude: TrackNames = None,
    compat: str | None = None,
) -> Survey:
    """Walk a recording as ``read`` does, keeping only each track's record times.

    One pass over the stream, memory of 8 bytes per record: what an export needs to
    plan reading a recording too big to hold a group of tracks at a time.
    """
    import numpy as np

    loader = _load_keeping(source, tracks, exclude, compat, lambda name: KEEP_DT)
    kept = loader.kept
    return Survey(
        loader.vf,
        {k: np.frombuffer(dt, np.float64) for k, (dt, _, _) in kept.items()},
        {k: nval for k, (_, _, nval) in kept.items()},
    )


def read_only(
    source: SourceLike,
    names: Collection[str],
    tracks: TrackNames = None,
    exclude: TrackNames = None,
    compat: str | None = None,
) -> VitalFile:
    """``read(source, tracks, exclude, compat=compat)`` holding the records of the tracks
    named in ``names`` only (full names); the other tracks are walked, checked and
    counted alike, so what is held equals a full read's, whatever the file's quirks."""
    # A track kept apart for a declaration of another type or sampling rate ("Name#k",
    # model/_segments.py) is read with its name's records: those walk keeps them all.
    joined = {name.rpartition("#")[0] for name in names if "#" in name}
    return _load_keeping(
        source,
        tracks,
        exclude,
        compat,
        lambda name: KEEP_ALL if name in names else KEEP_NONE,
        lambda name: KEEP_ALL if name in names or name in joined else KEEP_NONE,
    ).vf


def _load_keeping(
    source: SourceLike,
    tracks: Any,
    exclude: Any,
    compat: str | None,
    keep: Callable[[str], int],
    keep_walked: Callable[[str], int] | None = None,
) -> _Loader:
    """A full walk of ``source`` whose tracks keep what ``keep(dtname)`` says
    (``keep_walked``: what the walk keeps of a name's records until then)."""
    _check(compat)
    vf = VitalFile.blank(source if isinstance(source, (str, os.PathLike)) else None)
    vf.compat = compat
    loader = _Loader(vf, tracks, exclude, False, None, compat, keep=keep, keep_walked=keep_walked)
    loader.load(source)
    return loader


class _Loader:
    """One read: the state vitaldb keeps in ``load_vital``'s locals, and the walk."""

    def __init__(
        self,
        vf: VitalFile,
        tracks: Any,
        exclude: Any,
        header_only: bool,
        maxlen: float | None,
        compat: str | None,
        strict: bool = False,
        limit: int | None = None,
        keep: Callable[[str], int] | None = None,
        keep_walked: Callable[[str], int] | None = None,
    ):
        self.vf = vf
        self.keep = keep  # what to keep of each track's records (None: everything)
        self.keep_walked = keep_walked or keep  # what the walk keeps, by track name
        self.kept: dict[str, tuple[Any, int, int]] = {}  # the others: (dt, nrec, nval)
        self.recover = compat is None
        self.track_names = split_names(tracks)
        excl = split_names(exclude)
        self.exclude = set(excl) if excl is not None else None
        self.name = "<source>"
        self.walker = w = Walker()
        w.header_only = bool(header_only)
        w.skip_empty = self.recover
        if maxlen is not None:
            w.has_maxlen = True
            w.maxlen = float(maxlen)
        self.tid_dtnames: dict[int, str] = {}
        self.did_dnames: dict[int, str] = {}
        self.tid_reclens: dict[int, int] = {}
        self.trk_order_tids: list[int] = []
        self.slot_of: dict[str, int] = {}
        # Default mode: each track name's declarations that need a slot of their own
        # (their records cannot share one column): [(slot, declaration)], first slot first.
        self.decl_slots: dict[str, list[tuple[int, Track]]] = {}
        # Default mode: names declared again while holding records: [track ids, offset]
        self.redeclared: dict[str, list[Any]] = {}
        self.header_times = False  # the header holds dtstart/dtend
        self.raw_fields: dict[str, Any] = {}  # vitaldb's locals that outlive a RAW packet
        self.pos = 0  # walk position in the current buffer
        self.base = 0  # stream offset of the current buffer's first byte
        self.carry: list[bytes] = []  # the start of a packet the last chunk ended inside
        self.carry_len = 0
        self.need = 0  # bytes that packet needs in all
        self.header_done = False
        self.done = False
        self.n_malformed = 0
        self.strict = strict  # raise at the first fault instead of warning
        self.limit = limit  # max inflated bytes (None: no limit)
        self.packet_offset = 0  # stream offset of the packet being handled

    # -- the driver ---------------------------------------------------------------------

    def load(self, source: SourceLike) -> None:
        src = open_source(source)
        self.name = src.name
        try:
            # compat="vitaldb" streams: vitaldb stops at the first packet it cannot take
            # (one over 1 MB in an unpacked file), and so does this walk, inflating no
            # further.
            small = self.recover and src.size is not None and src.size <= WHOLE_FILE_LIMIT
            whole = src.whole() if small and src.whole_is_cheap else None
            inflated = _inflate.inflate_whole(whole, self.limit) if whole is not None else None
            if inflated is not None:
                self._feed(inflated)
                self._end(_inflate.COMPLETE, "", None)
            else:
                inflater = _inflate.Inflater(
                    (whole,) if whole is not None else src.chunks(), src.rewind(), self.limit
                )
                self._walk_stream(inflater)
        finally:
            src.close()
        self._finish()

    def _walk_stream(self, inflater: _inflate.Inflater) -> None:
        """Walk each chunk as it inflates: memory stays at a chunk plus the longest packet.

        (Walking on a second thread while the next chunk inflates was measured slower: ISA-L
        holds the GIL, so every chunk paid two thread hand-overs for a walk of ~0.2 ms.)
        """
        for chunk in inflater:
            self._feed(chunk)
            if self.done:
                return
        if inflater.state in (_inflate.NOT_GZIP, _inflate.TOO_BIG):
            raise VitalFormatError(inflater.error, self.name, inflater.offset, "compressed")
        self._end(inflater.state, inflater.error, inflater.offset)

    def _feed(self, chunk: bytes) -> None:
        """Walk one inflated chunk, first completing the packet the last one ended inside.

        Only that one packet is copied (``carry``), never the chunk.
        """
        off = 0
        while self.carry and not self.done:
            room = self.need - self.carry_len
            if room > len(chunk) - off:
                self.carry.append(chunk[off:])
                self.carry_len += len(chunk) - off
                return
            small = b"".join([*self.carry, chunk[off : off + room]])
            off += room
            base = self.base
            self.carry, self.carry_len = [], 0
            self._walk_buffer(small, 0, base, final=False)
        if not self.done:
            self._walk_buffer(chunk, off, self.base, final=False)

    def _walk_buffer(self, buf: bytes, pos: int, base: int, final: bool) -> None:
        """Walk ``buf`` from ``pos`` (stream offset ``base``); keep an unfinished packet."""
        self.base = base - pos
        self.walker.base = self.base
        self.pos = pos
        if not self.header_done:
            if not self._header(buf, final):
                self._keep(buf, pos, 10 if len(buf) - pos < 10 else 10 + _u16(buf, pos + 8)[0])
                return
        self.need = self._advance(buf, final)
        if self.pos < len(buf) and not final:
            self._keep(buf, self.pos, self.need)
        else:
            self.base += len(buf)

    def _keep(self, buf: bytes, pos: int, need: int) -> None:
        self.carry = [bytes(buf[pos:])]
        self.carry_len = len(buf) - pos
        self.need = need
        self.base += pos

    def _end(self, state: str, error: str, offset: int | None) -> None:
        """The stream is over: read the rest as vitaldb would, say what was lost."""
        if self.done:
            return
        tail = b"".join(self.carry)
        self.carry, self.carry_len = [], 0
        if state == _inflate.COMPLETE:
            start = self.base
            self._walk_buffer(tail, 0, start, final=True)
            if self.header_done and not self.done and self.pos != len(tail):
                self._note(
                    "short_packet",
                    "the stream ends inside a packet (gzip itself is "
                    "complete); its available bytes were read as vitaldb reads them",
                    offset=start,
                )
            return
        if not self.header_done:
            raise VitalFormatError(
                f"{error}, inside the file header", self.name, offset, "compressed"
            )
        # vitaldb's reader raises inside read() here: a partial last packet is lost.
        self._note(
            state,
            f"{error} at compressed byte {offset}; every complete packet "
            "before it was read"
            + (f", {len(tail)} inflated bytes of a partial packet dropped" if tail else ""),
            offset=offset,
            where="compressed",
        )

    def _advance(self, buf: bytes, final: bool) -> int:
        """Walk ``buf``; returns how many bytes the next packet needs from ``self.pos``."""
        walk = self.walker.walk
        while not self.done:
            status, self.pos, need = walk(buf, self.pos, final)
            if status == _END:
                return need
            if status == _PACKET:
                self._packet(buf, self.pos, need)
            elif status == _FIRST_REC:
                self._first_rec()
            elif status == _STOP:
                self.done = True
            elif status == _BIG:
                self._stop(
                    "big_packet",
                    "a packet over 1,000,000 bytes in an unpacked file: "
                    "vitaldb stops reading the file here",
                    self.base + self.pos,
                )
            elif status == _EMPTY:  # compat mode only: the default walk steps over them
                self._malformed(self.pos, "a packet of length 0")
            else:
                raise MemoryError(f"out of memory while reading {self.name!r}")
        return 0

    # -- the header -----------------------------------------------------------------------

    def _header(self, buf: bytes, final: bool = False) -> bool:
        """Parse the file header; False when more bytes are needed."""
        if len(buf) < 4:
            if final or (len(buf) and not MAGIC.startswith(bytes(buf[:4]))):
                raise VitalFormatError("not a .vital file (no VITA signature)", self.name, 0)
            return False
        if bytes(buf[:4]) != MAGIC:
            raise VitalFormatError("not a .vital file (no VITA signature)", self.name, 0)
        if len(buf) < 10:
            if final:
                raise VitalFormatError(
                    "the stream ends inside the file header", self.name, len(buf)
                )
            return False
        (hlen,) = _u16(buf, 8)
        if len(buf) < 10 + hlen:
            if final:
                raise VitalFormatError(
                    f"the stream ends inside the {hlen}-byte file header", self.name, len(buf)
                )
            return False
        header = bytes(buf[10 : 10 + hlen])
        vf, w = self.vf, self.walker
        if hlen >= 2:
            vf.dgmt = _i16(header, 0)[0]
        else:
            self._note(
                "short_header", f"file header of {hlen} bytes has no time zone; dgmt is 0", offset=8
            )
        if hlen >= HEADER_DTSTART_LEN:
            w.dtstart = _f64(header, 10)[0]
            w.dtend = _f64(header, 18)[0]
            self.header_times = True
        vf.packed = hlen >= HEADER_PACKED_LEN and header[26] == 1
        if not self.recover and not vf.packed:
            w.big_limit = MAX_UNPACKED_PACKET
        self.header_done = True
        self.pos = 10 + hlen
        return True

    # -- packets other than records ----------------------------------------------------

    def _packet(self, buf: bytes, pos: int, plen: int) -> None:
        ptype = buf[pos]
        body = bytes(buf[pos + 5 : pos + 5 + plen])
        handler = self._HANDLERS.get(ptype)
        self.pos = pos + 5 + plen
        if handler is None:
            return  # unknown packet types are skipped, as vitaldb skips them
        self.packet_offset = self.base + pos  # for the notes a handler makes
        try:
            handler(self, body, plen)
        except VitalFormatError:  # strict=True: a handler's note, not a malformed packet
            raise
        except (struct.error, IndexError, TypeError, ValueError, _Malformed) as exc:
            self.pos = pos
            self._malformed(pos, f"a malformed packet of type {ptype} ({exc})")
            self.pos = pos + 5 + plen

    def _devinfo(self, b: bytes, plen: int) -> None:
        (did,) = _u32(b, 0)
        devtype, pos = _str(b, 4)
        name, pos = _str(b, pos)
        port = ""
        if len(b) > pos + 4:  # the port is optional
            port, pos = _str(b, pos)
        if not name:
            name = devtype
        self.vf.devs[name] = Device(name, devtype, port)
        self.did_dnames[did] = name

    def _trkinfo(self, b: bytes, plen: int) -> None:
        fields = _track_info(b, plen) or _track_fields(b, plen)
        (
            tid,
            trktype,
            fmt,
            tname,
            unit,
            mindisp,
            maxdisp,
            col,
            srate,
            gain,
            offset,
            montype,
            did,
            reclen,
        ) = fields
        if (trktype == _WAVE or trktype == _NUMERIC) and fmt not in FMT_ITEMSIZE:
            return  # vitaldb ignores the declaration; its records are then skipped

        dname = ""
        dtname = tname
        if did and did in self.did_dnames:  # even an empty device name gives "/" + name
            dname = self.did_dnames[did]
            dtname = f"{dname}/{tname}"
        matched = not self.track_names or matches(dtname, dname, self.track_names)
        if self.exclude and matched and matches(dtname, dname, self.exclude):
            matched = False
        self.tid_reclens[tid] = reclen
        if not matched and self.recover and tid in self.tid_dtnames:
            # The id now names an unwanted track: vitaldb keeps it mapped and files the
            # new track's records under the old one (wrong type, wrong values).
            del self.tid_dtnames[tid]
            self.walker.map_tid(tid, -1)
        if self.vf.packed or not self.recover:
            # vitaldb skips the declared block length past a record of an unwanted track
            # in any file; only packed files keep a track's records together, so by
            # default an unpacked file is walked packet by packet.
            self.walker.set_reclen(tid, reclen)
        self.trk_order_tids.append(tid)
        if not matched:
            return
        self.tid_dtnames[tid] = dtname
        track = Track(
            tname,
            trktype,
            fmt=fmt,
            unit=unit,
            srate=srate,
            mindisp=mindisp,
            maxdisp=maxdisp,
            col=col,
            montype=montype,
            gain=gain,
            offset=offset,
            dname=dname,
        )
        itemsize = FMT_ITEMSIZE[fmt] if trktype == _WAVE or trktype == _NUMERIC else 0
        slot = self.slot_of.get(dtname)
        if slot is None:
            slot = self.slot_of[dtname] = self._new_slot(dtname, track, itemsize)
        elif self.recover:
            slot = self._redeclare(dtname, slot, track, tid, itemsize)
        else:
            self._redeclare_as_vitaldb(dtname, slot, track, tid, itemsize)
        self.vf.trks[dtname] = track  # an existing key keeps its place, as in vitaldb
        self.walker.map_tid(tid, slot)

    def _new_slot(self, dtname: str, track: Track, itemsize: int) -> int:
        slot = self.walker.add_slot(track.type, itemsize, track.srate)
        if self.keep_walked is not None:
            self.walker.set_keep(slot, self.keep_walked(dtname))
        return slot

    def _redeclare(self, dtname: str, slot: int, new: Track, tid: int, itemsize: int) -> int:
        """A track declared again (a device reconnected, or two devices of one name):
        every record is kept. A declaration giving its records the meaning of one already
        read shares that one's slot; another gets a slot of its own (its track id keeps
        reading its records as its own declaration says), and the slots are joined in
        file order when the read is done (``_segments.join``).

        Returns the slot the new track id maps to.
        """
        w = self.walker
        decls = self.decl_slots.get(dtname) or [(slot, self.vf.trks[dtname])]
        held = sum(w.slot_nrec(s) for s, _ in decls)
        note = self.redeclared.get(dtname)
        if note is not None:
            note[0].append(tid)
        elif held:
            self.redeclared[dtname] = [[tid], self.packet_offset]
        for s, decl in decls:
            if same_meaning(decl, new):
                return s
        new_slot = self._new_slot(dtname, new, itemsize)
        decls.append((new_slot, new))
        self.decl_slots[dtname] = decls
        for s, _ in decls:  # records of slots sharing a name are joined by stream position
            w.order_records(s)
        return new_slot

    def _redeclare_as_vitaldb(
        self, dtname: str, slot: int, new: Track, tid: int, itemsize: int
    ) -> None:
        """compat="vitaldb": the track starts afresh, and its old track ids now read
        their records with the new declaration."""
        held = self.walker.slot_nrec(slot)
        self.walker.set_slot(slot, new.type, itemsize, new.srate, True)
        if held:
            self._note(
                "redeclared_track_dropped",
                f"{dtname!r} is declared again (track id {tid}); the {held} records "
                "read before were dropped as vitaldb does",
                offset=self.packet_offset,
                track=dtname,
                count=held,
            )

    def _command(self, b: bytes, plen: int) -> None:
        cmd = b[0]
        if cmd == _RESET:
            if "EVENT" in self.slot_of:  # vitaldb looks for a track named exactly EVENT
                for slot, _ in self.decl_slots.get("EVENT", [(self.slot_of["EVENT"], None)]):
                    self.walker.clear_slot(slot)
        elif cmd == _ORDER:
            (cnt,) = _u16(b, 1)
            if len(b) < 3 + 2 * cnt:
                raise _Malformed(f"order command lists {cnt} tracks past its end")
            tids = struct.unpack_from(f"<{cnt}H", b, 3)
            self.vf.order = [self.tid_dtnames[t] for t in tids if t in self.tid_dtnames]

    def _raw(self, b: bytes, plen: int) -> None:
        # vitaldb keeps sport/bsent/buflen in function locals, so a short RAW packet
        # reuses the previous packet's values; a first one without them raises there.
        f = self.raw_fields
        (dt,) = _f64(b, 0)
        pos = 8
        if plen > pos:
            f["sport"], pos = _str(b, pos)
        if plen > pos:
            f["bsent"] = _u8(b, pos)[0]
            pos += 1
        if plen > pos:
            f["buflen"] = _u32(b, pos)[0]
            pos += 4
        if "buflen" not in f or "sport" not in f or "bsent" not in f:
            raise _Malformed("raw packet without port or length")
        if plen >= pos + f["buflen"]:
            self.vf.packets.append(
                {
                    "dt": dt,
                    "sport": f["sport"],
                    "bsent": f["bsent"],
                    "buf": b[pos : pos + f["buflen"]],
                }
            )

    def _join(self, dtname: str) -> list[Track]:
        """A name declared with different meanings: its slots joined, in file order, into
        its track (``_segments.join``). Returns the tracks made for declarations of
        another type or sampling rate, which its column cannot hold."""
        from ..model._segments import join

        w = self.walker
        parts = []
        for slot, decl in self.decl_slots[dtname]:
            nval = w.slot_counts(slot)[1]
            parts.append((decl, *w.take(slot), w.take_seq(slot), nval))
        tracks, counts = join(self.vf.trks[dtname], parts)
        for t, (nrec, nval) in zip(tracks, counts):
            if self.keep is not None and self.keep(t.dtname) != KEEP_ALL:
                self.kept[t.dtname] = (t.dt.tobytes(), nrec, nval)
                t._set_columns(0, b"", bytes(8), b"")  # no records, as other tracks
        return tracks[1:]

    def _note_redeclared(
        self, dtname: str, tids: list[int], offset: int, siblings: list[Track]
    ) -> None:
        trk = self.vf.trks[dtname]
        kept = sum(
            self.kept[t.dtname][1] if t.dtname in self.kept else len(t) for t in (trk, *siblings)
        )
        msg = (
            f"{dtname!r} is declared {len(tids) + 1} times (last as track id "
            f"{tids[-1]}); all {kept} records of its declarations are kept, in file order "
            "(vitaldb keeps only what its last declaration reads)"
        )
        if trk.segments is not None:
            msg += (
                "; the declarations give samples different meanings (format, gain or "
                f"offset), so its values, in {len(trk.segments)} segments, are held in "
                "physical units (float64, fmt 2, gain 1, offset 0)"
            )
        for t in siblings:
            msg += (
                f"; {self.kept[t.dtname][1] if t.dtname in self.kept else len(t)} "
                "records of a declaration of another type or sampling rate are kept as "
                f"the track {t.dtname!r}"
            )
        self._note("redeclared_track", msg, offset=offset, track=dtname, count=kept)

    _HANDLERS = {
        int(Packet.DEVINFO): _devinfo,
        int(Packet.TRKINFO): _trkinfo,
        int(Packet.CMD): _command,
        int(Packet.RAW): _raw,
    }

    def _first_rec(self) -> None:
        """vitaldb's early stop: in a packed file, each track's records form one block of
        its declared length, so reading can end after the last wanted block."""
        w = self.walker
        w.first_rec_pending = False
        if not (self.vf.packed and self.track_names):
            return
        order = self.trk_order_tids
        wanted = [i for i, t in enumerate(order) if t in self.tid_dtnames]
        if wanted and all(self.tid_reclens.get(t, 0) > 0 for t in order):
            w.stop_offset = sum(self.tid_reclens[t] for t in order[: wanted[-1] + 1])

    # -- policy -----------------------------------------------------------------------

    def _malformed(self, pos: int, what: str) -> None:
        if self.recover:
            self.n_malformed += 1
            if self.n_malformed <= MAX_MALFORMED_NOTES:  # garbage can hold millions
                self._note(
                    "malformed_packet",
                    f"{what}: skipped; vitaldb stops reading the file here",
                    offset=self.base + pos,
                )
        else:
            self._stop(
                "malformed_packet", f"{what}: vitaldb stops reading the file here", self.base + pos
            )

    def _stop(self, code: str, message: str, offset: int) -> None:
        self._note(code, message + " (compat='vitaldb')", offset=offset)
        self.done = True

    def _note(
        self,
        code: str,
        message: str,
        offset: int | None = None,
        where: str = "inflated",
        track: str | None = None,
        count: int | None = None,
    ) -> None:
        if self.strict:
            raise VitalFormatError(message, self.name, offset, where)
        issue = ReadIssue(code, message, offset, where, track, count)
        self.vf.warnings.append(issue)
        place = f" (byte {offset} of the {where} stream)" if offset is not None else ""
        warnings.warn(f"{self.name}: {message}{place}", VitalWarning, stacklevel=5)

    def _finish(self) -> None:
        vf, w = self.vf, self.walker
        if self.n_malformed > MAX_MALFORMED_NOTES:
            self._note(
                "malformed_packet",
                f"{self.n_malformed - MAX_MALFORMED_NOTES} more malformed packets skipped",
                count=self.n_malformed - MAX_MALFORMED_NOTES,
            )
        if w.n_short:
            self._note(
                "short_record",
                f"{w.n_short} records of wanted tracks hold fewer "
                "bytes than they declare (sample count, value or text length) and were "
                "skipped, as vitaldb skips them",
                offset=w.first_short,
                count=w.n_short,
            )
        if w.n_empty:
            self._note(
                "malformed_packet",
                f"{w.n_empty} packets of length 0 skipped; vitaldb "
                "stops reading the file at the first",
                offset=w.first_empty,
                count=w.n_empty,
            )
        if w.n_big and not vf.packed and self.recover:
            self._note(
                "big_packet",
                f"{w.n_big} packets over 1,000,000 bytes in an unpacked "
                "file were read; vitaldb stops reading the file at the first",
                offset=w.first_big,
                count=w.n_big,
            )
        siblings: dict[str, list[Track]] = {}
        for dtname, slot in self.slot_of.items():
            if dtname in self.decl_slots:
                siblings[dtname] = self._join(dtname)
                continue
            t = vf.trks[dtname]
            nrec, dt, ends, data = w.take(slot)
            if self.keep is not None and self.keep(dtname) != KEEP_ALL:
                self.kept[dtname] = (dt, *w.slot_counts(slot))
                t._set_columns(0, b"", ends, data)  # no records (ends is [0], data empty)
            else:
                t._set_columns(nrec, dt, ends, data)
        if any(siblings.values()):
            trks = {}
            for dtname, t in vf.trks.items():
                trks[dtname] = t
                for extra in siblings.get(dtname, ()):
                    trks[extra.dtname] = extra
            vf.trks = trks
        for dtname, (tids, offset) in self.redeclared.items():
            self._note_redeclared(dtname, tids, offset, siblings.get(dtname, []))
        vf.dtstart = w.dtstart
        vf.dtend = w.dtend
        if not self.recover and not self.header_times:
            # vitaldb's times start as the int 0; a header or a record makes them floats
            if not w.dtstart_set:
                vf.dtstart = 0
            if not w.dtend_set:
                vf.dtend = 0
        vf.packets.sort(key=lambda x: (x.get("sport", ""), x.get("dt", 0)))
