"""Field-by-field builder of VitalDB ``.vital`` byte streams, for tests.

A test spells out every packet with one call whose arguments are the wire
fields, so a reviewer reads what a fixture holds instead of trusting a blob::

    b = VitalBuilder().header(dgmt=-540, dtstart=T0, dtend=T0 + 10)
    b.device(1, 'Solar8000M', 'Solar')                  # did, typename, name
    b.track(1, NUM, F32, 'HR', unit='/min', did=1)       # tid, type, fmt, name
    b.number(1, T0, 72.0)                                # tid, dt, value
    gz = gzip_bytes(b.bytes())

Layout (all little-endian)::

    file    = gzip( b'VITA' u32 version u16 headerlen header packet* )
    header  = i16 dgmt, u32 instance id, u32 program version
              [f64 dtstart, f64 dtend [u8 packed]]          (10, 26 or 27 bytes)
    packet  = u8 type, u32 body length, body
    str     = u32 byte length, bytes (UTF-8)

Nothing is validated: every length, count and flag can be overridden so that a
test can write the malformed files that readers must survive (a body length
that lies, ``nsamp`` past the packet, a string running off its packet, an
``infolen`` other than 10, raw invalid UTF-8 ...).
"""

import itertools
import struct
import zlib

# Packet types.
TRKINFO = 0
REC = 1
CMD = 6
DEVINFO = 9
RAWDATA = 10

# Track types.
WAVE = 1
NUM = 2
STR = 5

# Sample formats 1..8 and their little-endian struct codes.
F32, F64, I8, U8, I16, U16, I32, U32 = range(1, 9)
FMT_CODE = {F32: "f", F64: "d", I8: "b", U8: "B", I16: "h", U16: "H", I32: "i", U32: "I"}
FMT_SIZE = {fmt: struct.calcsize("<" + code) for fmt, code in FMT_CODE.items()}

# Command codes carried by a CMD packet.
CMD_ORDER = 5
CMD_RESET_EVENTS = 6

# Optional track-info fields, in wire order; track(upto=...) stops after one.
TRACK_FIELDS = (
    "unit",
    "mindisp",
    "maxdisp",
    "col",
    "srate",
    "gain",
    "offset",
    "montype",
    "did",
    "reclen",
    "trk_dtstart",
    "trk_dtend",
)


def u8(v):
    return struct.pack("<B", v)


def i16(v):
    return struct.pack("<h", v)


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def f32(v):
    return struct.pack("<f", v)


def f64(v):
    return struct.pack("<d", v)


def vstr(s, length=None):
    """A .vital string: u32 byte length + bytes. ``s`` may be raw bytes (e.g.
    invalid UTF-8); ``length`` overrides the prefix, e.g. to run past the packet."""
    data = s if isinstance(s, bytes) else s.encode("utf-8")
    return u32(len(data) if length is None else length) + data


def samples(fmt, values):
    """Encode ``values`` in ``fmt``'s dtype; bytes pass through untouched (NaN
    payloads, odd lengths). struct refuses out-of-range values instead of wrapping."""
    if isinstance(values, bytes):
        return values
    return struct.pack(f"<{len(values)}{FMT_CODE[fmt]}", *values)


class VitalBuilder:
    """Accumulates the inflated bytes of one .vital file, one packet per call.

    Every packet method returns the builder, and ``len(builder)`` is the
    inflated size so far, so a test can note where a packet starts before
    cutting the stream there.
    """

    def __init__(self, magic=b"VITA", version=3):
        self._magic = magic
        self._version = version
        self._header = None
        self._headerlen = None
        self._packets = bytearray()
        self._fmts = {}  # tid -> fmt of its latest track(), to encode its records

    def __len__(self):
        return len(self._prefix()) + len(self._packets)

    # ---- header -----------------------------------------------------------

    def header(
        self, dgmt=-540, instance_id=0, prog_version=0, dtstart=None, dtend=None, packed=None
    ):
        """10-byte header without times, 26 with dtstart/dtend, 27 with the
        packed flag too (``packed`` True/False or a raw byte value)."""
        h = i16(dgmt) + u32(instance_id) + u32(prog_version)
        if (dtstart is None) != (dtend is None):
            raise ValueError("dtstart and dtend come together")
        if dtstart is not None:
            h += f64(dtstart) + f64(dtend)
        if packed is not None:
            if dtstart is None:
                raise ValueError("the packed flag is byte 26: give dtstart/dtend")
            h += u8(int(packed))
        return self.raw_header(h)

    def raw_header(self, data, headerlen=None):
        """Arbitrary header bytes; ``headerlen`` overrides the u16 before them."""
        self._header = data
        self._headerlen = headerlen
        return self

    # ---- packets ----------------------------------------------------------

    def packet(self, ptype, body, length=None):
        """u8 type + u32 body length (``length`` lies if given) + body."""
        self._packets += u8(ptype) + u32(len(body) if length is None else length) + body
        return self

    def device(self, did, typename, name="", port=None, length=None):
        """DEVINFO: u32 did, str typename, str name, [str port] (None: omitted)."""
        body = u32(did) + vstr(typename) + vstr(name)
        if port is not None:
            body += vstr(port)
        return self.packet(DEVINFO, body, length)

    def track(
        self,
        tid,
        ttype,
        fmt,
        name,
        *,
        unit="",
        mindisp=0.0,
        maxdisp=0.0,
        col=0xFFFFFFFF,
        srate=0.0,
        gain=1.0,
        offset=0.0,
        montype=0,
        did=0,
        reclen=0,
        trk_dtstart=0.0,
        trk_dtend=0.0,
        upto="trk_dtend",
        extra=b"",
        length=None,
    ):
        """TRKINFO: u16 tid, u8 type, u8 fmt, str name, then the optional
        TRACK_FIELDS in order up to and including ``upto`` ('name': none of
        them), then ``extra`` bytes no reader knows about."""
        fields = {
            "unit": vstr(unit),
            "mindisp": f32(mindisp),
            "maxdisp": f32(maxdisp),
            "col": u32(col),
            "srate": f32(srate),
            "gain": f64(gain),
            "offset": f64(offset),
            "montype": u8(montype),
            "did": u32(did),
            "reclen": u32(reclen),
            "trk_dtstart": f64(trk_dtstart),
            "trk_dtend": f64(trk_dtend),
        }
        keep = 0 if upto == "name" else TRACK_FIELDS.index(upto) + 1
        body = u16(tid) + u8(ttype) + u8(fmt) + vstr(name)
        body += b"".join(fields[f] for f in TRACK_FIELDS[:keep]) + extra
        self._fmts[tid] = fmt
        return self.packet(TRKINFO, body, length)

    def record(self, tid, dt, payload, *, infolen=10, info_pad=None, length=None):
        """REC: u16 infolen, f64 dt, u16 tid, then the payload. Readers take the
        payload at offset 2 + infolen, so for infolen > 10 the gap is filled
        with ``info_pad`` (zeros by default); infolen < 10 makes them read it
        from inside dt/tid."""
        pad = bytes(max(0, infolen - 10)) if info_pad is None else info_pad
        return self.packet(REC, u16(infolen) + f64(dt) + u16(tid) + pad + payload, length)

    def wave(self, tid, dt, values, *, fmt=None, nsamp=None, **rec):
        """Wave REC payload: u32 nsamp + samples. ``fmt`` defaults to the
        track's declared one; ``nsamp`` may claim more samples than are there."""
        fmt = self._fmt(tid, fmt)
        data = samples(fmt, values)
        if nsamp is None:
            nsamp, rest = divmod(len(data), FMT_SIZE[fmt])
            if rest:
                raise ValueError("raw samples are not a whole number of values: give nsamp")
        return self.record(tid, dt, u32(nsamp) + data, **rec)

    def number(self, tid, dt, value, *, fmt=None, **rec):
        """Numeric REC payload: one value of the track's fmt (bytes: raw, e.g.
        too short)."""
        if not isinstance(value, bytes):
            value = samples(self._fmt(tid, fmt), [value])
        return self.record(tid, dt, value, **rec)

    def string(self, tid, dt, text, *, reserved=0, strlen=None, **rec):
        """String REC payload: u32 reserved (0), str (``strlen`` may lie)."""
        return self.record(tid, dt, u32(reserved) + vstr(text, strlen), **rec)

    def command(self, cmd, payload=b"", length=None):
        """CMD: u8 command code + its payload."""
        return self.packet(CMD, u8(cmd) + payload, length)

    def order(self, tids, count=None, length=None):
        """CMD 5, track display order: u16 count (may lie) + count x u16 tid."""
        payload = u16(len(tids) if count is None else count) + b"".join(u16(t) for t in tids)
        return self.command(CMD_ORDER, payload, length)

    def reset_events(self):
        """CMD 6: clear the records of the device-less track 'EVENT'."""
        return self.command(CMD_RESET_EVENTS)

    def raw(self, dt, sport, data, *, bsent=0, buflen=None, length=None):
        """RAWDATA: f64 dt, str sport, u8 bsent, u32 buflen (may lie), bytes."""
        body = f64(dt) + vstr(sport) + u8(bsent)
        body += u32(len(data) if buflen is None else buflen) + data
        return self.packet(RAWDATA, body, length)

    # ---- output -----------------------------------------------------------

    def bytes(self):
        """The inflated file: magic, version, header, packets."""
        return self._prefix() + bytes(self._packets)

    def _prefix(self):
        if self._header is None:
            raise ValueError("call header() or raw_header() first")
        headerlen = len(self._header) if self._headerlen is None else self._headerlen
        return self._magic + u32(self._version) + u16(headerlen) + self._header

    def _fmt(self, tid, fmt):
        if fmt is not None:
            return fmt
        if tid not in self._fmts:
            raise ValueError(f"tid {tid} was never declared: give fmt=")
        return self._fmts[tid]


# ---- gzip -------------------------------------------------------------------

FHCRC, FEXTRA, FNAME, FCOMMENT = 2, 4, 8, 16  # RFC 1952 header flag bits


def gzip_member(
    data,
    level=6,
    *,
    mtime=0,
    fname=None,
    comment=None,
    extra=None,
    header_crc=False,
    finish=True,
    crc=None,
    isize=None,
):
    """One RFC 1952 gzip member holding ``data``.

    Optional header fields (FEXTRA, FNAME, FCOMMENT, FHCRC) exercise header
    parsing. ``finish=False`` stops after a sync flush: no final deflate block
    and no trailer, as a recorder killed after flushing leaves it; the stream
    then inflates to exactly ``data``. ``crc``/``isize`` corrupt the trailer.
    mtime defaults to 0 so the bytes are reproducible.
    """
    flags = (
        (FEXTRA if extra is not None else 0)
        | (FNAME if fname is not None else 0)
        | (FCOMMENT if comment is not None else 0)
        | (FHCRC if header_crc else 0)
    )
    head = b"\x1f\x8b\x08" + u8(flags) + u32(mtime) + b"\x00\xff"  # XFL 0, OS unknown
    if extra is not None:
        head += u16(len(extra)) + extra
    if fname is not None:
        head += fname + b"\x00"
    if comment is not None:
        head += comment + b"\x00"
    if header_crc:
        head += u16(zlib.crc32(head) & 0xFFFF)
    deflate = zlib.compressobj(level, zlib.DEFLATED, -15)  # raw deflate, no zlib wrapper
    body = deflate.compress(data)
    if not finish:
        return head + body + deflate.flush(zlib.Z_SYNC_FLUSH)
    body += deflate.flush()
    trailer = u32(zlib.crc32(data) if crc is None else crc)
    trailer += u32(len(data) & 0xFFFFFFFF if isize is None else isize)
    return head + body + trailer


def gzip_bytes(data, members=1, level=6):
    """gzip ``data`` as ``members`` concatenated members of near-equal inflated
    size; the splits land wherever they fall, mid-packet included."""
    cuts = [len(data) * i // members for i in range(members + 1)]
    return b"".join(gzip_member(data[a:b], level) for a, b in itertools.pairwise(cuts))


def truncate(gz, n):
    """The first ``n`` bytes of a compressed file (negative: drop -n from the end)."""
    return gz[:n]
