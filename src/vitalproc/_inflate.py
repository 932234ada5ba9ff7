"""Compressed chunks in, inflated chunks out: gzip members, truncation and faults noted.

Two ways through, same bytes out:

* ``inflate_whole`` — libdeflate on a whole in-memory file, the fastest single-core
  inflate; used for small files, accepted only when the gzip trailer (CRC-32 and size)
  proves it covered the whole member and the file holds no other member.
* ``Inflater`` — a streaming ISA-L (or zlib) inflate in bounded steps, for big files,
  URLs and anything the fast path refuses: several members, a stream cut short, a
  corrupt block (everything before the fault is delivered), trailing bytes.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable, Iterator

try:
    from isal import isal_zlib as _stream_zlib
except ImportError:  # pragma: no cover - isal is a dependency, zlib the fallback
    _stream_zlib = zlib  # type: ignore[assignment]

try:
    import deflate as _libdeflate
except ImportError:  # pragma: no cover
    _libdeflate = None

GZIP_MAGIC = b"\x1f\x8b"
GZIP_WBITS = 31

#: Inflated bytes produced per step at most: bounds memory on a gzip bomb.
MAX_STEP = 8 << 20

#: Compressed bytes per step when re-reading a corrupt member.
SALVAGE_STEP = 4096

# How a stream ended.
COMPLETE = "complete"          # every member ended with its trailer
TRUNCATED = "truncated"        # the input stopped inside a member
CORRUPT = "corrupt"            # the deflate data or a trailer is invalid
TRAILING = "trailing"          # bytes after the last member are not a gzip member
NOT_GZIP = "not-gzip"          # the first bytes are not a gzip header
TOO_BIG = "too-big"            # more inflated bytes than the caller allows


class Inflater:
    """Iterate to get inflated chunks; afterwards ``state``, ``error`` and ``offset``
    (compressed byte offset of the fault) say how the stream ended.

    ``rewind``, when given, returns the compressed chunks again from the start: on a
    corrupt member the inflater then re-reads it slowly to deliver every byte before the
    fault (a fast inflate step that fails returns nothing of what it did inflate).
    """

    def __init__(self, chunks: Iterable[bytes],
                 rewind: Callable[[], Iterable[bytes]] | None = None,
                 limit: int | None = None):
        self._chunks = chunks
        self._rewind = rewind
        self._limit = limit          # max inflated bytes; None: no limit
        self.inflated = 0
        self.state = COMPLETE
        self.error = ""
        self.offset: int | None = None
        self.members = 0

    def __iter__(self) -> Iterator[bytes]:
        d = None
        fed = 0              # compressed bytes consumed so far
        member_start = 0     # compressed offset of the current member
        member_out = 0       # bytes the current member has given
        pending = b""
        for chunk in self._chunks:
            data = pending + bytes(chunk) if pending else chunk
            pending = b""
            while data:
                if d is None:
                    if len(data) < 2:       # too short to tell a member header yet
                        pending = bytes(data)
                        break
                    if bytes(data[:2]) != GZIP_MAGIC:
                        if not self.members:
                            self._fail(NOT_GZIP, "not a gzip file", 0)
                        elif any(data):  # gzip allows zero padding after a member, no more
                            self._fail(TRAILING, "bytes after the last gzip member are not "
                                       "a gzip member", fed)
                        else:
                            fed += len(data)
                            data = b""
                            continue
                        return
                    d = _stream_zlib.decompressobj(wbits=GZIP_WBITS)
                    self.members += 1
                    member_start, member_out = fed, 0
                try:
                    out = d.decompress(data, MAX_STEP)
                except (_stream_zlib.error, zlib.error) as exc:
                    yield from self._salvage(member_start, member_out, str(exc), fed)
                    return
                tail = d.unconsumed_tail
                fed += len(data) - len(tail) - (len(d.unused_data) if d.eof else 0)
                if out:
                    member_out += len(out)
                    self.inflated += len(out)
                    if self._limit is not None and self.inflated > self._limit:
                        self._fail(TOO_BIG, f"inflates to more than max_inflated_bytes="
                                   f"{self._limit} bytes", fed)
                        return
                    yield out
                if d.eof:
                    data = d.unused_data
                    d = None
                else:
                    data = tail
        if pending:
            if not self.members:
                self._fail(NOT_GZIP, "not a gzip file", 0)
            elif any(pending):
                self._fail(TRAILING, "bytes after the last gzip member are not a gzip member",
                           fed)
        elif d is not None:
            self._fail(TRUNCATED, "gzip stream cut short (no end-of-stream trailer)", fed)
        elif not self.members:
            self._fail(NOT_GZIP, "empty file", 0)

    def _salvage(self, start: int, given: int, error: str, fed: int) -> Iterator[bytes]:
        """Re-inflate the corrupt member from ``start`` in small steps (zlib, which can copy
        its state) and yield what lies past the ``given`` bytes, up to the exact fault."""
        self._fail(CORRUPT, f"corrupt gzip data ({error})", fed)
        if self._rewind is None:
            return
        d = zlib.decompressobj(wbits=GZIP_WBITS)
        pos = 0
        skip = given
        for chunk in self._rewind():
            view = memoryview(chunk)
            if pos + len(view) <= start:
                pos += len(view)
                continue
            view = view[max(0, start - pos):]
            pos = max(pos, start)
            for i in range(0, len(view), SALVAGE_STEP):
                piece = view[i:i + SALVAGE_STEP]
                saved = d.copy()
                try:
                    out = d.decompress(piece)
                except zlib.error:
                    d = saved  # replay the failing piece byte by byte
                    for k in range(len(piece)):
                        try:
                            out = d.decompress(piece[k:k + 1])
                        except zlib.error:
                            self.offset = pos + i + k
                            return
                        out, skip = out[skip:], max(0, skip - len(out))
                        if out:
                            yield out
                    return
                out, skip = out[skip:], max(0, skip - len(out))
                if out:
                    yield out
                if d.eof:
                    return
            pos += len(view)

    def _fail(self, state: str, error: str, offset: int) -> None:
        self.state, self.error, self.offset = state, error, offset


#: Deflate cannot expand data more than about 1032 times; a trailer claiming more is a lie.
MAX_RATIO = 1032


def inflate_whole(data: bytes, limit: int | None = None) -> bytes | None:
    """Inflate a whole single-member gzip file with libdeflate, or None to stream instead.

    libdeflate stops at the end of the first member, so the output is only taken when its
    CRC-32 and length are the ones the file's last 8 bytes declare: a file of several
    members (unless all of them hold the very same bytes), a cut or a corrupt file fails
    that check and goes the streaming way.
    """
    if _libdeflate is None or len(data) < 18 or data[:2] != GZIP_MAGIC:
        return None
    # libdeflate allocates the trailer's size up front: never trust it beyond what the
    # compressed size can hold (or the caller's limit); the streaming way is bounded.
    (declared,) = struct.unpack_from("<I", data, len(data) - 4)
    if declared > MAX_RATIO * len(data) + 65536 or (limit is not None and declared > limit):
        return None
    try:
        out = _libdeflate.gzip_decompress(data)
    except Exception:  # libdeflate's own error type differs by version; stream instead
        return None
    crc, size = struct.unpack_from("<II", data, len(data) - 8)
    # An empty result proves nothing: zero padding after a member reads as a trailer of
    # size 0 and CRC 0, and libdeflate then "succeeds" with no output.
    if not out or len(out) & 0xFFFFFFFF != size or _libdeflate.crc32(out) != crc:
        return None
    return out
