"""How much of a case file a read of some tracks needs, learnt while it downloads.

vitaldb's packed files (its ``to_vital(packed=True)``, the open dataset's 1.0.1 release)
keep each track's records in one block whose length the track's declaration states,
numerics and strings first, waves last. vitaldb's reader stops after the last wanted block
(``load_vital``'s early stop); ``PrefixWalk`` replays that rule over the inflated bytes as
they arrive, packet header by packet header, so a download can stop at the same byte, and
``PrefixWalk.subset`` turns what was read into a small, complete .vital file holding only
the wanted tracks (read with or without a selection, it gives what vitaldb's selective
read of the whole file gives).

``Inflater`` checks a gzip stream as it arrives: every member's CRC-32 and length.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

try:  # ISA-L inflates 1.5x faster than zlib, and checks the same CRC-32 and size
    from isal import isal_zlib as _zlib
except ImportError:  # pragma: no cover - isal is a dependency; zlib does the same job
    _zlib = zlib  # type: ignore[assignment]

from .._names import matches, split_names

_u8 = struct.Struct("<B").unpack_from
_u16 = struct.Struct("<H").unpack_from
_u32 = struct.Struct("<I").unpack_from
_f64 = struct.Struct("<d").unpack_from

#: Formats vitaldb reads for waves and numerics (with the golden fix for 7 and 8).
_KNOWN_FMTS = frozenset(range(1, 9))
_REC, _TRKINFO, _DEVINFO = 1, 0, 9


class CorruptStream(ValueError):
    """The bytes are not a valid gzip stream (bad header, deflate data, CRC or length)."""


class Inflater:
    """Incremental gzip inflation over any number of members, checking each trailer.

    ``feed`` returns the inflated bytes of a chunk; ``complete`` is True when the input
    so far ends exactly at the end of a member (CRC-32 and size checked by zlib). Bytes
    after the last member that do not start another one are counted in ``trailing``.
    """

    def __init__(self, keep_output: bool = True):
        self.keep_output = keep_output
        self._d: Any = _zlib.decompressobj(31)
        self.members = 0
        self.inflated = 0
        self.trailing = 0
        self._pending = b""  # the start of a member, too short to tell it is one

    @property
    def complete(self) -> bool:
        return self.members > 0 and self._d is None and not self._pending

    def feed(self, chunk: bytes | memoryview) -> bytes:
        out = []
        data = chunk if isinstance(chunk, bytes) else bytes(chunk)
        while data:
            if self.trailing:
                self.trailing += len(data)
                break
            if self._d is None:  # between members
                data = self._pending + data
                self._pending = b""
                if len(data) < 2:
                    self._pending = data
                    break
                if data[:2] != b"\x1f\x8b":
                    if not self.members:
                        raise CorruptStream("not a gzip stream")
                    self.trailing += len(data)
                    break
                self._d = _zlib.decompressobj(31)
            try:
                piece = self._d.decompress(data)
            except (zlib.error, _zlib.error) as exc:
                raise CorruptStream(f"invalid gzip data ({exc})") from None
            self.inflated += len(piece)
            if self.keep_output and piece:
                out.append(piece)
            if self._d.eof:
                self.members += 1
                data = self._d.unused_data
                self._d = None
            else:
                data = b""
        return b"".join(out)


class PrefixWalk:
    """vitaldb's selective read of a packed file, replayed on packet headers only.

    Feed it the inflated stream (``feed``); ``done`` turns True at the inflated offset
    where vitaldb's ``load_vital`` stops reading (``end``), ``whole`` when it would read
    to the end of the file (not packed, no selection, a block length missing, or a
    stream it cannot follow).
    """

    def __init__(self, track_names: Any, exclude: Any = None):
        names = split_names(track_names)
        excl = split_names(exclude)
        self.track_names = list(names) if names else []
        self.exclude = set(excl) if excl else set()
        self.done = False
        self.whole = not self.track_names  # no selection: vitaldb reads everything
        self.end: int | None = None
        self.packed = False
        self._buf = bytearray()
        self._base = 0  # stream offset of _buf[0]
        self._header_len: int | None = None
        self._skip_to = 0  # a skipped block ends here (vitaldb's f.seek)
        self.did_dnames: dict[int, str] = {}
        self.tid_dtnames: dict[int, str] = {}
        self.tid_reclens: dict[int, int] = {}
        self.order: list[int] = []
        self.stop_offset: int | None = None
        self.first_rec: int | None = None  # inflated offset of the first record
        self.rec_consumed = 0
        # What the subset file keeps: the header, then (packet type, tid, bytes).
        self.head = b""
        self.kept: list[tuple[int, int | None, bytes]] = []

    @property
    def settled(self) -> bool:
        return self.done or self.whole

    def feed(self, data: bytes) -> None:
        if self.settled or not data:
            return
        self._buf += data
        try:
            self._walk()
        except (struct.error, IndexError, UnicodeError):
            self.whole = True  # a stream vitaldb would stop on: read it all
        if self.settled:
            self._buf = bytearray()

    def _walk(self) -> None:
        buf = self._buf
        pos = 0
        if self._header_len is None:
            if len(buf) < 10:
                return
            if bytes(buf[:4]) != b"VITA":
                self.whole = True
                return
            hlen = _u16(buf, 8)[0]
            if len(buf) < 10 + hlen:
                return
            self._header_len = 10 + hlen
            self.packed = hlen >= 27 and buf[10 + 26] == 1
            self.head = bytes(buf[: 10 + hlen])
            pos = 10 + hlen
        while not self.settled:
            absolute = self._base + pos
            if absolute < self._skip_to:  # inside a skipped block
                step = min(self._skip_to - absolute, len(buf) - pos)
                pos += step
                if self._base + pos < self._skip_to:
                    break
                if self._check_stop(self._base + pos):
                    break
                continue
            if len(buf) < pos + 5:
                break
            ptype = buf[pos]
            plen = _u32(buf, pos + 1)[0]
            if len(buf) < pos + 5 + plen:
                break
            body = bytes(buf[pos + 5 : pos + 5 + plen])
            packet = bytes(buf[pos : pos + 5 + plen])
            pos += 5 + plen
            self._packet(ptype, plen, body, packet, self._base + pos)
            if not self.settled and self._skip_to <= self._base + pos:
                self._check_stop(self._base + pos)
        del buf[:pos]
        self._base += pos

    def _check_stop(self, offset: int) -> bool:
        if (
            self.stop_offset is not None
            and self.stop_offset > 0
            and self.rec_consumed >= self.stop_offset
        ):
            self.done, self.end = True, offset
        return self.done

    def _packet(self, ptype: int, plen: int, body: bytes, packet: bytes, after: int) -> None:
        if ptype == _DEVINFO:
            did = _u32(body, 0)[0]
            pos = 4
            n = _u32(body, pos)[0]
            devtype = body[pos + 4 : pos + 4 + n].decode("utf-8", "ignore")
            pos += 4 + n
            n = _u32(body, pos)[0]
            name = body[pos + 4 : pos + 4 + n].decode("utf-8", "ignore")
            self.did_dnames[did] = name or devtype
            self.kept.append((ptype, None, packet))
        elif ptype == _TRKINFO:
            self._trkinfo(body, plen, packet)
        elif ptype == _REC:
            self._rec(body, plen, packet, after)
        else:
            self.kept.append((ptype, None, packet))

    def _trkinfo(self, b: bytes, plen: int, packet: bytes) -> None:
        tid = _u16(b, 0)[0]
        trktype, fmt = b[2], b[3]
        if trktype in (1, 2) and fmt not in _KNOWN_FMTS:
            return
        n = _u32(b, 4)[0]
        tname = b[8 : 8 + n].decode("utf-8", "ignore")
        pos = 8 + n
        if plen > pos:  # unit
            pos += 4 + _u32(b, pos)[0]
        did = reclen = 0
        # mindisp, maxdisp, col, srate, gain, offset, montype: 4+4+4+4+8+8+1 bytes
        for size in (4, 4, 4, 4, 8, 8, 1):
            if plen > pos:
                if len(b) < pos + size:
                    raise struct.error("short track info")
                pos += size
        if plen > pos:
            did = _u32(b, pos)[0]
            pos += 4
        if plen > pos:
            reclen = _u32(b, pos)[0]
        dname = self.did_dnames.get(did, "") if did else ""
        dtname = f"{dname}/{tname}" if did and did in self.did_dnames else tname
        matched = matches(dtname, dname, self.track_names)
        if matched and self.exclude and matches(dtname, dname, self.exclude):
            matched = False
        self.tid_reclens[tid] = reclen
        self.order.append(tid)
        if matched:
            self.tid_dtnames[tid] = dtname
            self.kept.append((_TRKINFO, tid, packet))

    def _rec(self, b: bytes, plen: int, packet: bytes, after: int) -> None:
        if self.stop_offset is None:
            self.first_rec = after - 5 - plen
            self.stop_offset = -1
            if self.packed:
                wanted = [i for i, t in enumerate(self.order) if t in self.tid_dtnames]
                if wanted and all(self.tid_reclens.get(t, 0) > 0 for t in self.order):
                    self.stop_offset = sum(
                        self.tid_reclens[t] for t in self.order[: wanted[-1] + 1]
                    )
            if self.stop_offset <= 0:
                self.whole = True
                return
        self.rec_consumed += 5 + plen
        if len(b) < 12:
            return
        tid = _u16(b, 10)[0]
        if tid not in self.tid_dtnames:
            reclen = self.tid_reclens.get(tid, 0)
            if reclen > 5 + plen:
                self._skip_to = after + reclen - (5 + plen)
                self.rec_consumed += reclen - (5 + plen)
            return
        self.kept.append((_REC, tid, packet))

    def finish(self) -> None:
        """The stream ended: what was read is what vitaldb reads."""
        if not self.settled:
            self.whole = True

    def subset(self, level: int = 6) -> bytes:
        """A complete gzip .vital file: the header, the devices, the wanted tracks'
        declarations and records up to the stop, and every other packet before it."""
        if not self.done:
            raise ValueError("the walk has not reached vitaldb's stop")
        wanted = set(self.tid_dtnames)
        parts = [self.head]
        parts += [p for ptype, tid, p in self.kept if tid is None or tid in wanted]
        comp = zlib.compressobj(level, zlib.DEFLATED, 31)
        return b"".join([comp.compress(b"".join(parts)), comp.flush()])
