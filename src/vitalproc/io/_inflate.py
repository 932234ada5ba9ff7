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

#: Compressed bytes given to the inflater per step at most (a file source's chunk): at a
#: member's end it copies the unused rest of its input, so this bounds that copy.
FEED_STEP = 1 << 18

#: Inflated chunks smaller than this are gathered before they are handed on.
MIN_CHUNK = 1 << 16

#: Zero padding between or after members is skipped this many bytes at a time.
PADDING_STEP = 4096

#: Compressed bytes per step when re-reading a corrupt member.
SALVAGE_STEP = 4096

# How a stream ended.
COMPLETE = "complete"  # every member ended with its trailer
TRUNCATED = "truncated"  # the input stopped inside a member
CORRUPT = "corrupt"  # the deflate data or a trailer is invalid
TRAILING = "trailing"  # bytes after the last member are not a gzip member
NOT_GZIP = "not-gzip"  # the first bytes are not a gzip header
TOO_BIG = "too-big"  # more inflated bytes than the caller allows


class Inflater:
    """Iterate to get inflated chunks; afterwards ``state``, ``error`` and ``offset``
    (compressed byte offset of the fault) say how the stream ended.

    ``rewind``, when given, returns the compressed chunks again from the start: on a
    corrupt member the inflater then re-reads it slowly to deliver every byte before the
    fault (a fast inflate step that fails returns nothing of what it did inflate).
    """

    def __init__(
        self,
        chunks: Iterable[bytes],
        rewind: Callable[[], Iterable[bytes]] | None = None,
        limit: int | None = None,
    ):
        self._chunks = chunks
        self._rewind = rewind
        self._limit = limit  # max inflated bytes; None: no limit
        self.inflated = 0
        self.state = COMPLETE
        self.error = ""
        self.offset: int | None = None
        self.members = 0

    def __iter__(self) -> Iterator[bytes]:
        # Small outputs (members of a few bytes each) are gathered into one chunk: each
        # chunk costs the walk a hand-over between threads.
        held: list[bytes] = []
        size = 0
        for out in self._steps():
            if not size and len(out) >= MIN_CHUNK:
                yield out
                continue
            held.append(out)
            size += len(out)
            if size >= MIN_CHUNK:
                yield b"".join(held)
                held, size = [], 0
        if held:
            yield b"".join(held)

    def _steps(self) -> Iterator[bytes]:
        """Inflated pieces as the inflater gives them, member after member."""
        d = None
        fed = 0  # compressed bytes consumed so far
        member_start = 0  # compressed offset of the current member
        member_out = 0  # bytes the current member has given
        pending = b""
        for chunk in self._chunks:
            # A view, advanced by what each step consumed: slicing bytes would copy the
            # rest of the chunk at every member (quadratic in files of many small members).
            data = memoryview(pending + bytes(chunk) if pending else chunk)
            pending = b""
            while data:
                if d is None:
                    if len(data) < 2:  # too short to tell a member header yet
                        pending = bytes(data)
                        break
                    if bytes(data[:2]) != GZIP_MAGIC:
                        if not self.members:
                            self._fail(NOT_GZIP, "not a gzip file", 0)
                            return
                        # Zero padding may follow a member, and another member may follow
                        # it (Python's gzip, so vitaldb, reads on); anything else may not.
                        head = bytes(data[:PADDING_STEP])
                        zeros = len(head) - len(head.lstrip(b"\0"))
                        if not zeros:
                            self._fail(
                                TRAILING,
                                "bytes after the last gzip member are not a gzip member",
                                fed,
                            )
                            return
                        fed += zeros
                        data = data[zeros:]
                        continue
                    if len(data) < MAX_HELD_HEADER and not _header_complete(data):
                        pending = bytes(data)  # ISA-L fails on some headers split in two
                        break
                    d = _stream_zlib.decompressobj(wbits=GZIP_WBITS)
                    self.members += 1
                    member_start, member_out = fed, 0
                piece = data[:FEED_STEP]  # what the inflater copies back is at most this
                try:
                    out = d.decompress(piece, MAX_STEP)
                except (_stream_zlib.error, zlib.error) as exc:
                    yield from self._salvage(member_start, member_out, str(exc), fed)
                    return
                used = len(piece) - len(d.unconsumed_tail) - (len(d.unused_data) if d.eof else 0)
                fed += used
                data = data[used:]
                if out:
                    member_out += len(out)
                    self.inflated += len(out)
                    if self._limit is not None and self.inflated > self._limit:
                        self._fail(
                            TOO_BIG,
                            f"inflates to more than max_inflated_bytes={self._limit} bytes",
                            fed,
                        )
                        return
                    yield out
                if d.eof:
                    d = None
        if pending:
            if bytes(pending[:2]) == GZIP_MAGIC:  # held back above: cut inside its header
                self._fail(
                    TRUNCATED, "gzip stream cut short (inside a member header)", fed + len(pending)
                )
            elif not self.members:
                self._fail(NOT_GZIP, "not a gzip file", 0)
            elif any(pending):
                self._fail(TRAILING, "bytes after the last gzip member are not a gzip member", fed)
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
            view = view[max(0, start - pos) :]
            pos = max(pos, start)
            for i in range(0, len(view), SALVAGE_STEP):
                piece = view[i : i + SALVAGE_STEP]
                saved = d.copy()
                try:
                    out = d.decompress(piece)
                except zlib.error:
                    d = saved  # replay the failing piece byte by byte
                    for k in range(len(piece)):
                        try:
                            out = d.decompress(piece[k : k + 1])
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


#: A member header is held back until complete, up to this size (then handed over as is).
MAX_HELD_HEADER = 1 << 16


def _header_complete(data: bytes | memoryview) -> bool:
    """Whether ``data`` holds the whole gzip member header it starts with (RFC 1952).

    ISA-L's streaming inflate rejects a valid member when a header with a header CRC, or
    with two of the optional name, comment and extra fields, arrives split across two
    calls (python-isal 1.9.1); zlib does not. Plain headers are always accepted.
    """
    if len(data) < 4:
        return False
    flags = data[3]
    if not flags & 0x1E:  # FHCRC, FEXTRA, FNAME, FCOMMENT
        return True
    head = bytes(data[:MAX_HELD_HEADER])
    pos = 10
    if flags & 4:  # FEXTRA: u16 length, then that many bytes
        if len(head) < 12:
            return False
        pos += 2 + int.from_bytes(head[10:12], "little")
    for bit in (8, 16):  # FNAME, FCOMMENT: zero-terminated
        if flags & bit:
            end = head.find(b"\0", pos)
            if end < 0:
                return False
            pos = end + 1
    if flags & 2:  # FHCRC: u16
        pos += 2
    return len(head) >= pos


#: The whole-file path holds the whole inflated stream; recordings inflate 1.5-5x, so a
#: file claiming more (a gzip bomb: zeros inflate 1000x; a lying trailer) streams in
#: bounded steps instead.
WHOLE_MAX_RATIO = 16


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
    if declared > WHOLE_MAX_RATIO * len(data) + 65536 or (limit is not None and declared > limit):
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
