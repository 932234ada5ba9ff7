"""The .vital writer: vitaldb 1.7.2's layout, what the model declares, compressed as it goes.

The layout is vitaldb's ``to_vital``: a 27-byte header (packed flag in its last byte), a
device packet per device, a track-info packet per track (with the byte length and time
span of its records), each track's records as one block, then the track order command.
``packed=True`` sorts each track's records by time, merges a wave track's records into
one record whose gaps hold the format's sentinel (``FMT_GAP_SENTINEL``, vitaldb's
``_pack_wav_recs``), and puts numeric and string tracks before the waves, so a reader
after a few numerics can stop early. The inflated bytes are vitaldb's (with the FMT 7/8
fix), except where vitaldb's writer loses or garbles data; there this writes:

- samples in the dtype the track declares (vitaldb writes the bytes of whatever array a
  record holds: in an unpacked file, a float64 array of a fmt-1 track added with
  ``add_track`` becomes 8-byte samples under a 4-byte declaration);
- float32 numeric values with their bits (vitaldb's ``struct`` round trip sets the quiet
  bit of signalling NaNs);
- a device named ``''`` when a track belongs to it (key ``'/HR'``); vitaldb drops that
  device, so the track reads back as ``'HR'``;
- the raw device packets (``vf.packets``) after the order command; vitaldb drops them;
- a track block longer than 4 GiB with its length declared as 0 (unknown), where
  vitaldb's writer raises.

A packed wave with a non-finite record time, a non-finite rate, or longer than one
record can hold raises ValueError before anything is written (vitaldb raises midway).

The stream is cut into gzip members of ``MEMBER_BYTES`` inflated bytes, compressed on
worker threads (libdeflate, or zlib; both release the GIL) while the next is built, so
memory stays at the model plus a few members; any gzip reader, vitaldb's included, reads
the members as one stream. A path is written under a temporary name in its folder and
renamed once complete.
"""

from __future__ import annotations

import math
import os
import struct
from collections import deque
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

from .._constants import (
    FMT_DTYPE,
    FMT_GAP_SENTINEL,
    HEADER_PACKED_LEN,
    MAGIC,
    Command,
    Packet,
    TrackType,
)
from .._files import atomic_file
from ..model._arrays import ranges, record_ends

if TYPE_CHECKING:
    import numpy as np

    from ..model import Track, VitalFile

VERSION = 3  # what vitaldb writes
INFOLEN = 10  # a record's info after its infolen field: dt (8) + tid (2)
U32_MAX = 0xFFFFFFFF
MEMBER_BYTES = 4 << 20  # inflated bytes per gzip member
PACK_BLOCK = 1 << 19  # samples per block when a packed wave has gaps or overlaps
MAX_WORKERS = 4  # compressing threads (at most the CPU count)
COMPRESS_LEVELS = range(10)

_head = struct.Struct("<4sIHhIIddB")  # magic, version, header length, header
_packet = struct.Struct("<BI")  # packet type, body length
_u8, _u16, _u32 = struct.Struct("<B"), struct.Struct("<H"), struct.Struct("<I")
_trk_head = struct.Struct("<HBB")  # tid, type, fmt
_trk_tail = struct.Struct("<ffIfddBIIdd")  # mindisp .. montype, did, reclen, span
_rec_head = struct.Struct("<BIHdH")  # packet type, length, infolen, dt, tid
_raw_head = struct.Struct("<d")

#: Leading fields of every record packet, as numpy structure fields (the record dtypes
#: add the payload's own).
_REC_FIELDS = [("type", "u1"), ("length", "<u4"), ("infolen", "<u2"), ("dt", "<f8"), ("tid", "<u2")]


def write(
    vf: VitalFile, dest: str | os.PathLike | IO[bytes], compresslevel: int = 9, packed: bool = True
) -> None:
    """Write ``vf`` as a .vital file.

    Parameters
    ----------
    vf
        The recording.
    dest
        A path (written under a temporary name in the same folder, then renamed), or a
        binary file object.
    compresslevel
        gzip level, 0 (stored) to 9 (smallest), as vitaldb's; default 9.
    packed
        vitaldb's packed layout (see the module docstring); False writes every record
        as it is, in the model's order.

    Raises
    ------
    ValueError
        ``compresslevel`` outside 0..9; a wave or numeric track whose fmt is not 1..8;
        a packed wave that cannot be one record (non-finite time or rate, over 4 GiB);
        metadata that does not fit its field (``dgmt`` outside int16, ``col`` outside
        uint32, more than 65,535 tracks).
    OSError
        As opening, writing or renaming raises it; a path is then left as it was.
    """
    if not isinstance(compresslevel, int) or compresslevel not in COMPRESS_LEVELS:
        raise ValueError(f"compresslevel must be an int from 0 to 9, not {compresslevel!r}")
    layout = _Layout(vf, bool(packed))  # every check runs before a byte is written
    if isinstance(dest, (str, os.PathLike)):
        with atomic_file(dest) as f:
            _write_stream(layout, f, compresslevel)
    else:
        _write_stream(layout, dest, compresslevel)


def _write_stream(layout: _Layout, out: IO[bytes], level: int) -> None:
    members = _GzipMembers(out, level)
    try:
        for chunk in layout.chunks():
            members.write(chunk)
    except BaseException:
        members.abort()
        raise
    members.close()


# ---- output: gzip members -------------------------------------------


def _compressor(level: int) -> Callable[[Any], bytes]:
    """One complete gzip member from a buffer: libdeflate, or zlib without it."""
    try:
        import deflate
    except ImportError:
        import zlib

        def compress(data: Any) -> bytes:
            z = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip wrapper
            return z.compress(data) + z.flush()

        return compress
    return lambda data: deflate.gzip_compress(data, level)


class _GzipMembers:
    """Bytes in, gzip members of ``MEMBER_BYTES`` inflated bytes out, in order.

    Full members are compressed on a thread pool while the caller builds the next
    bytes, at most ``workers + 1`` at a time; the last one on the calling thread. A
    buffer given to ``write`` must not change until ``close`` (the model's arrays do
    not; chunks are built fresh).
    """

    def __init__(self, out: IO[bytes], level: int):
        self._out = out
        self._compress = _compressor(level)
        self._workers = max(1, min(MAX_WORKERS, os.cpu_count() or 1))
        self._pool: Any = None  # started with the first full member: small files need none
        self._jobs: deque = deque()
        self._buf = bytearray()

    def write(self, data: Any) -> None:
        view = memoryview(data).cast("B")
        if self._buf or len(view) < MEMBER_BYTES:
            room = MEMBER_BYTES - len(self._buf)
            self._buf += view[:room]
            if len(self._buf) < MEMBER_BYTES:
                return
            self._submit(self._buf)
            self._buf = bytearray()
            view = view[room:]
        while len(view) >= MEMBER_BYTES:  # big arrays go out as slices, not copied
            self._submit(view[:MEMBER_BYTES])
            view = view[MEMBER_BYTES:]
        self._buf += view

    def _submit(self, data: Any) -> None:
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="vitalproc-gzip")
        if len(self._jobs) > self._workers:
            self._out.write(self._jobs.popleft().result())
        self._jobs.append(self._pool.submit(self._compress, data))

    def close(self) -> None:
        try:
            while self._jobs:
                self._out.write(self._jobs.popleft().result())
            if self._buf:  # the last, short member
                self._out.write(self._compress(self._buf))
                self._buf = bytearray()
        finally:
            self.abort()

    def abort(self) -> None:
        for job in self._jobs:
            job.cancel()
        self._jobs.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)


# ---- the stream -------------------------------------------------------------------------


def _vstr(text: str) -> bytes:
    """A .vital string: u32 byte length, then UTF-8."""
    data = text.encode("utf-8")
    return _u32.pack(len(data)) + data


def _packet_bytes(ptype: int, body: bytes) -> bytes:
    return _packet.pack(ptype, len(body)) + body


def _device_ids(vf: VitalFile) -> dict[str, int]:
    """Device ids in ``devs`` order. vitaldb skips a device named ''; it is kept here
    when a track belongs to it (a key ``'/' + name``), or that track would lose it."""
    blank_used = any(t.dname == "" and key == "/" + t.name for key, t in vf.trks.items())
    ids: dict[str, int] = {}
    for name in vf.devs:
        if name or blank_used:
            ids[name] = len(ids) + 1
    return ids


def _track_device(key: str, trk: Track, ids: dict[str, int]) -> int:
    if trk.dname:
        return ids.get(trk.dname, 0)  # vitaldb: 0 (no device) for a name not in devs
    return ids.get("", 0) if key == "/" + trk.name else 0


class _Layout:
    """Everything to write, checked and measured: track blocks in write order."""

    def __init__(self, vf: VitalFile, packed: bool):
        self.vf, self.packed = vf, packed
        keys = list(vf.trks)
        if packed:  # numerics and strings first, waves last (vitaldb)
            keys = [k for k in keys if vf.trks[k].type != TrackType.WAVE] + [
                k for k in keys if vf.trks[k].type == TrackType.WAVE
            ]
        if len(keys) > 0xFFFF:
            raise ValueError(f"{len(keys)} tracks: a .vital file holds at most 65,535")
        self.dids = _device_ids(vf)
        self.tids = {key: tid for tid, key in enumerate(keys, start=1)}
        self.blocks = [_block(key, vf.trks[key], self.tids[key], packed) for key in keys]
        self.head = self._head()
        self.tail = self._tail()

    def _head(self) -> bytes:
        vf = self.vf
        try:
            parts = [
                _head.pack(
                    MAGIC,
                    VERSION,
                    HEADER_PACKED_LEN,
                    vf.dgmt,
                    0,
                    0,
                    vf.dtstart,
                    vf.dtend,
                    1 if self.packed else 0,
                )
            ]
        except (struct.error, OverflowError) as exc:
            raise ValueError(f"dgmt/dtstart/dtend do not fit the file header: {exc}") from None
        for name, did in self.dids.items():
            dev = vf.devs[name]
            body = _u32.pack(did) + _vstr(dev.type) + _vstr(dev.name) + _vstr(dev.port)
            parts.append(_packet_bytes(Packet.DEVINFO, body))
        for block in self.blocks:
            trk = block.trk
            try:
                body = (
                    _trk_head.pack(block.tid, trk.type, trk.fmt)
                    + _vstr(trk.name)
                    + _vstr(trk.unit)
                    + _trk_tail.pack(
                        trk.mindisp,
                        trk.maxdisp,
                        trk.col,
                        trk.srate,
                        trk.gain,
                        trk.offset,
                        trk.montype,
                        _track_device(block.key, trk, self.dids),
                        block.reclen if block.reclen <= U32_MAX else 0,
                        block.dtstart,
                        block.dtend,
                    )
                )
            except (struct.error, OverflowError) as exc:
                raise ValueError(
                    f"track {block.key!r}: metadata does not fit the track info ({exc})"
                ) from None
            parts.append(_packet_bytes(Packet.TRKINFO, body))
        return b"".join(parts)

    def _tail(self) -> bytes:
        vf = self.vf
        parts = []
        names = vf.order or (list(vf.trks) if self.packed else [])
        if names:  # vitaldb sends the command even when no name is a track
            tids = [self.tids[n] for n in names if n in self.tids]
            if len(tids) > 0xFFFF:
                raise ValueError(f"order lists {len(tids)} tracks; a file holds 65,535")
            body = (
                _u8.pack(Command.ORDER)
                + _u16.pack(len(tids))
                + struct.pack(f"<{len(tids)}H", *tids)
            )
            parts.append(_packet_bytes(Packet.CMD, body))
        for p in vf.packets:
            buf = bytes(p["buf"])
            body = (
                _raw_head.pack(p["dt"])
                + _vstr(p["sport"])
                + _u8.pack(p["bsent"])
                + _u32.pack(len(buf))
                + buf
            )
            parts.append(_packet_bytes(Packet.RAW, body))
        return b"".join(parts)

    def chunks(self) -> Iterator[Any]:
        yield self.head
        for block in self.blocks:
            yield from block.chunks()
        yield self.tail


# ---- one track's records ----------------------------------------------------------------


class _Block:
    """A track's records as written: their byte length, span and bytes."""

    def __init__(
        self,
        key: str,
        trk: Track,
        tid: int,
        reclen: int,
        dtstart: float,
        dtend: float,
        chunks: Callable[[], Iterator[Any]],
    ):
        self.key, self.trk, self.tid = key, trk, tid
        self.reclen, self.dtstart, self.dtend = reclen, dtstart, dtend
        self.chunks = chunks


def _declared_dtype(key: str, trk: Track) -> Any:
    import numpy as np

    if trk.fmt not in FMT_DTYPE:
        raise ValueError(f"track {key!r}: fmt {trk.fmt} is not a sample format (1..8)")
    return np.dtype(FMT_DTYPE[trk.fmt])


def _time_order(dt: np.ndarray) -> np.ndarray | None:
    """vitaldb's ``sorted(recs, key=dt)`` as indices; None when that is the file order.

    A stable sort; with NaN times Python's own sort is used, because NaN compares false
    and the order then depends on the algorithm's comparisons.
    """
    import numpy as np

    if len(dt) < 2 or bool((dt[1:] >= dt[:-1]).all()):
        return None
    if np.isnan(dt).any():
        keys = dt.tolist()
        return np.array(sorted(range(len(keys)), key=keys.__getitem__), np.int64)
    return np.argsort(dt, kind="stable")


def _span(
    dt: np.ndarray, order: np.ndarray | None, sizes: np.ndarray | None, srate: float
) -> tuple[float, float]:
    """vitaldb's track span: the first record's time, the last's (plus its duration for
    a wave with a positive rate), in write order."""
    if len(dt) == 0:
        return 0.0, 0.0
    first, last = (0, len(dt) - 1) if order is None else (int(order[0]), int(order[-1]))
    end = float(dt[last])
    if sizes is not None and srate > 0:
        end += int(sizes[last]) / srate
    return float(dt[first]), end


def _block(key: str, trk: Track, tid: int, packed: bool) -> _Block:
    import numpy as np

    dt = np.ascontiguousarray(trk.dt, np.float64)
    if trk.type == TrackType.WAVE:
        dtype = _declared_dtype(key, trk)
        if packed and trk.srate > 0 and len(dt):
            return _packed_wave(key, trk, tid, dt, dtype)
        if packed and math.isnan(trk.srate) and len(dt):
            raise ValueError(
                f"track {key!r}: a wave with sampling rate NaN cannot be "
                "packed; write it with packed=False"
            )
        samples = np.ascontiguousarray(trk.data, dtype)  # the declared dtype, always
        counts = np.diff(trk.offsets)
        return _variable_block(
            key,
            trk,
            tid,
            dt,
            None,
            samples.view(np.uint8),
            trk.offsets * dtype.itemsize,
            counts,
            [("nsamp", "<u4")],
        )
    order = _time_order(dt) if packed else None
    if trk.type == TrackType.STRING:
        payload, bounds = _utf8_column(trk)
        return _variable_block(
            key,
            trk,
            tid,
            dt,
            order,
            payload,
            bounds,
            None,
            [("reserved", "<u4"), ("strlen", "<u4")],
        )
    values = None
    if trk.type == TrackType.NUMERIC:
        values = np.ascontiguousarray(trk.data, _declared_dtype(key, trk))
    return _fixed_block(key, trk, tid, dt, order, values)


def _fixed_block(
    key: str,
    trk: Track,
    tid: int,
    dt: np.ndarray,
    order: np.ndarray | None,
    values: np.ndarray | None,
) -> _Block:
    """Records of one size: numerics (a value each) and tracks of other types (none)."""
    import numpy as np

    fields = list(_REC_FIELDS) + ([("val", values.dtype)] if values is not None else [])
    rec = np.dtype(fields)
    n = len(dt)
    step = max(1, MEMBER_BYTES // rec.itemsize)

    def chunks() -> Iterator[Any]:
        for a in range(0, n, step):
            pick = slice(a, min(n, a + step)) if order is None else order[a : a + step]
            out = np.empty(len(dt[pick]), rec)
            out["type"] = Packet.REC
            out["length"] = rec.itemsize - 5
            out["infolen"] = INFOLEN
            out["dt"] = dt[pick]
            out["tid"] = tid
            if values is not None:
                out["val"] = values[pick]  # same dtype: the bits are copied as they are
            yield out.view(np.uint8)

    return _Block(key, trk, tid, n * rec.itemsize, *_span(dt, order, None, trk.srate), chunks)


def _utf8_column(trk: Track) -> tuple[np.ndarray, np.ndarray]:
    """A string track's bytes as vitaldb writes them: each text decoded (bad bytes
    dropped) and encoded again. Valid UTF-8 cut at character boundaries, the usual
    case, is checked at once and written as it is."""
    import numpy as np

    data, offsets = np.ascontiguousarray(trk.data, np.uint8), trk.offsets
    inner = offsets[1:-1]
    inner = inner[inner < len(data)]
    try:
        data.tobytes().decode("utf-8")
        whole = not ((data[inner] & 0xC0) == 0x80).any()  # no cut inside a character
    except UnicodeDecodeError:
        whole = False
    if whole:
        return data, offsets
    encoded = [t.encode("utf-8") for t in trk.texts()]
    bounds = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(e) for e in encoded], out=bounds[1:])
    return np.frombuffer(b"".join(encoded), np.uint8), bounds


def _variable_block(
    key: str,
    trk: Track,
    tid: int,
    dt: np.ndarray,
    order: np.ndarray | None,
    payload: np.ndarray,
    bounds: np.ndarray,
    counts: np.ndarray | None,
    extra: list[tuple[str, str]],
) -> _Block:
    """Records of their own sizes: waves (u32 count + samples) and strings (u32 0, u32
    length, UTF-8). ``bounds`` are byte offsets into ``payload``; ``counts`` the wave
    sample counts (None: a string's byte length goes in its last header field)."""
    import numpy as np

    head = np.dtype(list(_REC_FIELDS) + extra)
    sizes = np.diff(bounds)
    n = len(dt)
    if order is not None:
        sizes = sizes[order]
    per_record = head.itemsize + sizes
    ends = np.cumsum(per_record)
    reclen = int(ends[-1]) if n else 0

    def chunks() -> Iterator[Any]:
        a = 0
        while a < n:
            b = max(
                a + 1, int(np.searchsorted(ends, ends[a] - per_record[a] + MEMBER_BYTES, "right"))
            )
            pick = slice(a, b) if order is None else order[a:b]
            heads = np.empty(b - a, head)
            heads["type"] = Packet.REC
            heads["infolen"] = INFOLEN
            heads["dt"] = dt[pick]
            heads["tid"] = tid
            lens = sizes[a:b]
            heads["length"] = head.itemsize - 5 + lens
            if counts is None:
                heads["reserved"] = 0
                heads["strlen"] = lens
            else:
                heads["nsamp"] = counts[pick]
            if order is None:
                body = payload[bounds[a] : bounds[b]]
            else:
                body = payload[ranges(bounds[:-1][pick], lens)]
            yield _interleave(heads.view(np.uint8).reshape(b - a, head.itemsize), body, lens)
            a = b

    span = _span(dt, order, counts, trk.srate if trk.type == TrackType.WAVE else 0)
    return _Block(key, trk, tid, reclen, *span, chunks)


def _interleave(heads: np.ndarray, body: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Header k, then ``lens[k]`` bytes of ``body``, for every k, as one uint8 array."""
    import numpy as np

    m, h = heads.shape
    if (lens == lens[0]).all():  # equal records (the usual wave): a 2-D copy
        out = np.empty((m, h + int(lens[0])), np.uint8)
        out[:, :h] = heads
        out[:, h:] = body.reshape(m, -1)
        return out.reshape(-1)
    sizes = np.empty(2 * m, np.int64)
    sizes[0::2] = h
    sizes[1::2] = lens
    is_head = np.repeat(np.tile(np.array([True, False]), m), sizes)
    out = np.empty(len(is_head), np.uint8)
    out[is_head] = heads.reshape(-1)
    out[~is_head] = body
    return out


def _packed_wave(key: str, trk: Track, tid: int, dt: np.ndarray, dtype: Any) -> _Block:
    """vitaldb's ``_pack_wav_recs``: the records, sorted by time, placed on one sample
    grid from the first record's time (``round((dt - t0) * srate)``, later records
    overwriting earlier ones, samples past the end dropped) and the gaps filled with the
    format's sentinel; written as one record."""
    import numpy as np

    srate = float(trk.srate)
    if not np.isfinite(dt).all():
        raise ValueError(
            f"track {key!r}: a wave record with a non-finite time cannot be "
            "packed; write it with packed=False"
        )
    samples = np.ascontiguousarray(trk.data, dtype)
    offsets = trk.offsets
    counts = np.diff(offsets)
    order = _time_order(dt)
    src = offsets[:-1] if order is None else offsets[:-1][order]
    times = dt if order is None else dt[order]
    counts = counts if order is None else counts[order]
    t0 = float(times[0])
    t_end = float(record_ends(trk).max())  # (the order does not change the latest)
    total = (t_end - t0) * srate
    if not total < (U32_MAX - 16) / dtype.itemsize:
        raise ValueError(
            f"track {key!r}: its records span {t_end - t0!r} s, more samples "
            "than one record holds; write it with packed=False"
        )
    n = int(round(total))
    start = np.rint((times - t0) * srate).astype(np.int64)
    stop = np.minimum(start + counts, n)
    head = _rec_head.pack(Packet.REC, 12 + 4 + n * dtype.itemsize, INFOLEN, t0, tid)
    head += _u32.pack(n)
    whole = order is None and n == len(samples) and bool((start == src)[counts > 0].all())

    def chunks() -> Iterator[Any]:
        yield head
        if whole:  # records back to back on the grid: the samples as they are
            yield samples.view(np.uint8)
            return
        yield from _fill_gaps(samples, src, start, stop, n, dtype, FMT_GAP_SENTINEL[trk.fmt])

    return _Block(key, trk, tid, 5 + 12 + 4 + n * dtype.itemsize, t0, t0 + n / srate, chunks)


def _fill_gaps(
    samples: np.ndarray,
    src: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    n: int,
    dtype: Any,
    sentinel: float,
) -> Iterator[Any]:
    """The packed grid in blocks of ``PACK_BLOCK`` samples: the sentinel, overwritten by
    each record's samples in order (the last record wins where records overlap)."""
    import numpy as np

    keep = stop > start
    src, start, stop = src[keep], start[keep], stop[keep]
    reach = np.maximum.accumulate(stop) if len(stop) else stop
    overlaps = bool((start[1:] < reach[:-1]).any())
    for c0 in range(0, n, PACK_BLOCK):
        c1 = min(n, c0 + PACK_BLOCK)
        block = np.full(c1 - c0, sentinel, dtype)
        lo = int(np.searchsorted(reach, c0, "right"))
        hi = int(np.searchsorted(start, c1, "left"))
        if hi > lo:
            a = np.maximum(start[lo:hi], c0)
            b = np.minimum(stop[lo:hi], c1)
            first = src[lo:hi] + (a - start[lo:hi])
            inside = b > a
            a, b, first = a[inside], b[inside], first[inside]
            target = ranges(a - c0, b - a)
            source = ranges(first, b - a)
            if overlaps:  # fancy assignment has no order: keep each target's last write
                _, last = np.unique(target[::-1], return_index=True)
                pick = len(target) - 1 - last
                target, source = target[pick], source[pick]
            block[target] = samples[source]
        yield block.view(np.uint8)
