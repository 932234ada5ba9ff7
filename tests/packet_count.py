"""An independent count of the records in a .vital stream, for tests.

Written from the file layout alone (``tests/vitalbytes.py`` spells it out), sharing no
code with the reader: gzip members are inflated with ``zlib``, packets walked with
``struct``. A record counts under the track name its track id was last declared as
(``Device/Track``) when its payload holds what that declaration says it holds (the
sample count, the value, the text length field); a reset-events command empties the
count of the track named ``EVENT``. What a stream cut inside its last packet leaves:
if gzip itself is complete, the packet's available bytes; if gzip is cut short or
corrupt, nothing of that packet.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter

FMT_SIZE = {1: 4, 2: 8, 3: 1, 4: 1, 5: 2, 6: 2, 7: 4, 8: 4}
WAVE, NUMERIC, STRING = 1, 2, 5


def _member_start(gz: bytes) -> int:
    """The length of a gzip member's header (RFC 1952)."""
    flags = gz[3]
    pos = 10
    if flags & 4:  # FEXTRA
        pos += 2 + struct.unpack_from("<H", gz, pos)[0]
    for bit in (8, 16):  # FNAME, FCOMMENT: zero-terminated
        if flags & bit:
            pos = gz.index(b"\0", pos) + 1
    if flags & 2:  # FHCRC
        pos += 2
    return pos


def _raw_inflate(gz: bytes, out: list) -> tuple[int, bool]:
    """Inflate one member's deflate data into ``out``; returns the bytes it used and
    whether it ended cleanly (its CRC and length checked here, not by zlib, so that a
    bad trailer still leaves every inflated byte)."""
    d = zlib.decompressobj(-zlib.MAX_WBITS)
    pos, step, crc, size = 0, 1 << 16, 0, 0
    while pos < len(gz) and not d.eof:
        before = d.copy()
        try:
            piece = d.decompress(gz[pos : pos + step])
        except zlib.error:
            if step == 1:
                return pos, False
            d, step = before, 1  # again byte by byte: keep what precedes the fault
            continue
        out.append(piece)
        crc, size = zlib.crc32(piece, crc), size + len(piece)
        pos = min(pos + step, len(gz))
    used = pos - len(d.unused_data) if d.eof else pos
    if not d.eof or len(gz) < used + 8:
        return len(gz), False
    return used + 8, struct.unpack_from("<II", gz, used) == (crc, size & 0xFFFFFFFF)


def inflate(gz: bytes) -> tuple[bytes, bool]:
    """Every gzip member's inflated bytes, and whether the stream ended cleanly."""
    out: list = []
    pos = 0
    while pos < len(gz):
        if gz[pos : pos + 2] != b"\x1f\x8b":  # trailing bytes that are not a member
            return b"".join(out), False
        start = pos + _member_start(gz[pos:])
        used, clean = _raw_inflate(gz[start:], out)
        if not clean:
            return b"".join(out), False
        pos = start + used
    return b"".join(out), True


def _text(b: bytes, pos: int) -> tuple[str, int]:
    (n,) = struct.unpack_from("<I", b, pos)
    return b[pos + 4 : pos + 4 + n].decode("utf-8", "ignore"), pos + 4 + n


def count_records(gz: bytes) -> Counter:
    """Records per track name (``Device/Track``) in a gzip-compressed .vital stream."""
    data, clean = inflate(gz)
    assert data[:4] == b"VITA", "not a .vital stream"
    (hlen,) = struct.unpack_from("<H", data, 8)
    pos = 10 + hlen
    devices: dict[int, str] = {}
    tracks: dict[int, tuple[str, int, int]] = {}  # tid -> (name, type, fmt)
    counts: Counter = Counter()
    while pos + 5 <= len(data):
        ptype, plen = struct.unpack_from("<BI", data, pos)
        body = data[pos + 5 : pos + 5 + plen]
        pos += 5 + plen
        if len(body) < plen and not clean:
            break  # the packet gzip was cut inside
        try:
            if ptype == 9:  # device: did, type name, name
                (did,) = struct.unpack_from("<I", body, 0)
                typename, p = _text(body, 4)
                name, _ = _text(body, p)
                devices[did] = name or typename
            elif ptype == 0:  # track: tid, type, fmt, name, ... device id
                tid, ttype, fmt = struct.unpack_from("<HBB", body, 0)
                if ttype in (WAVE, NUMERIC) and fmt not in FMT_SIZE:
                    continue  # a declaration no reader can use
                name, p = _text(body, 4)
                did = 0
                if len(body) > p:  # optional fields, while the packet has more
                    p = _text(body, p)[1] + 4 + 4 + 4 + 4 + 8 + 8 + 1  # unit .. montype
                    if len(body) > p:
                        (did,) = struct.unpack_from("<I", body, p)
                if did and did in devices:
                    name = f"{devices[did]}/{name}"
                tracks[tid] = (name, ttype, fmt)
            elif ptype == 6 and body[:1] == b"\x06":
                counts.pop("EVENT", None)
            elif ptype == 1 and len(body) >= 12 and struct.unpack_from("<H", body, 10)[0] in tracks:
                name, ttype, fmt = tracks[struct.unpack_from("<H", body, 10)[0]]
                p = 2 + struct.unpack_from("<H", body, 0)[0]
                if ttype == WAVE:
                    ok = (
                        len(body) >= p + 4
                        and len(body)
                        >= p + 4 + struct.unpack_from("<I", body, p)[0] * FMT_SIZE[fmt]
                    )
                elif ttype == NUMERIC:
                    ok = len(body) >= p + FMT_SIZE[fmt]
                else:
                    ok = ttype == STRING and len(body) >= p + 8
                if ok:
                    counts[name] += 1
        except (struct.error, UnicodeError):
            continue  # a malformed packet: its own fields only
    return counts
