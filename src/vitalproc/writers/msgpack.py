"""MessagePack: the JSON document's keys and layout, with typed binary values, streamed.

- A wave record's ``val`` is ``bin``: its samples' little-endian bytes in the track's
  ``dtype`` (``numpy.frombuffer(val, "<" + dtype)`` reads it back; no per-sample objects).
- A numeric record's ``val`` uses the msgpack type of its dtype (float 32, float 64,
  int 8/16/32, uint 8/16/32), fixed width, so a float32 reads back as exactly that float32.
- ``dt`` is float 64; strings are ``str``; metadata as in the JSON document.

Records are laid out from the parts' buffers with the standard library, not numpy, so
that a plan of the reader's own buffers (``_raw.raw_plan``) is written without importing
numpy at all. Records of one size (numerics; waves of equal-length records) are a
template repeated or joined between the samples, then each byte of their big-endian
``dt`` and value written into its column by one strided copy; other wave records are
their heads packed by ``struct`` and their samples, joined. A batch at a time, so memory
stays bounded.
"""

from __future__ import annotations

import struct
from itertools import chain, repeat
from operator import itemgetter, mul, sub
from typing import IO, Any

from ..ops.selection import Part, Plan, Selection

FORMAT = "msgpack"
SUFFIXES = (".msgpack", ".mpk", ".msgp")
BINARY = True
REQUIRES = ()  # written with the standard library; read back with msgpack
EXTRA = "formats"
#: ``write_plan`` takes a ``_raw.raw_plan`` (it needs no numpy).
TAKES_RAW_PLAN = True

#: msgpack type byte and width of each value dtype (fixed width, big-endian).
_TYPED = {
    "float32": (0xCA, 4),
    "float64": (0xCB, 8),
    "int8": (0xD0, 1),
    "int16": (0xD1, 2),
    "int32": (0xD2, 4),
    "uint8": (0xCC, 1),
    "uint16": (0xCD, 2),
    "uint32": (0xCE, 4),
}
#: ``{"dt": <float 64>, "val": ...}`` up to the dt value, and the val key.
_MAP_DT = b"\x82\xa2dt\xcb"
_KEY_VAL = b"\xa3val"
_HEAD = struct.Struct(f">{len(_MAP_DT)}sd")


def is_available() -> bool:
    return True


# -- the document's other values: the MessagePack spec, in the smallest encoding of each
# value (msgpack-python's own choices, with use_bin_type), so no library is needed

_F64 = struct.Struct(">Bd")


def _sized(n: int, codes: tuple[int, int, int], fix: tuple[int, int] | None = None) -> bytes:
    """The header of ``n`` items (or bytes): ``fix = (type, limit)``'s one byte below
    ``limit``, else the first of ``codes``' 8, 16 and 32-bit length types that holds
    ``n`` (0: no such type)."""
    if fix is not None and n < fix[1]:
        return bytes((fix[0] | n,))
    for code, width in zip(codes, (1, 2, 4)):
        if code and n < 1 << (8 * width):
            return bytes((code,)) + n.to_bytes(width, "big")
    raise ValueError(f"{n} items are more than MessagePack holds")


def _map_header(n: int) -> bytes:
    return _sized(n, (0, 0xDE, 0xDF), (0x80, 16))


def _array_header(n: int) -> bytes:
    return _sized(n, (0, 0xDC, 0xDD), (0x90, 16))


def _int(v: int) -> bytes:
    if -32 <= v < 128:
        return (v & 0xFF).to_bytes(1, "big")
    for width, (unsigned, signed) in zip(
        (1, 2, 4, 8), ((0xCC, 0xD0), (0xCD, 0xD1), (0xCE, 0xD2), (0xCF, 0xD3))
    ):
        if 0 <= v < 1 << (8 * width):
            return bytes((unsigned,)) + v.to_bytes(width, "big")
        if v < 0 and v >= -(1 << (8 * width - 1)):
            return bytes((signed,)) + v.to_bytes(width, "big", signed=True)
    raise ValueError(f"{v} is out of MessagePack's integer range")


def _pack(value: Any) -> bytes:
    """``value`` (None, bool, int, float, str, bytes, dict, list) as MessagePack."""
    if value is None:
        return b"\xc0"
    if value is True or value is False:
        return b"\xc3" if value else b"\xc2"
    if isinstance(value, int):
        return _int(value)
    if isinstance(value, float):
        return _F64.pack(0xCB, value)
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _sized(len(raw), (0xD9, 0xDA, 0xDB), (0xA0, 32)) + raw
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        return _sized(len(raw), (0xC4, 0xC5, 0xC6)) + raw
    if isinstance(value, dict):
        return _map_header(len(value)) + b"".join(_pack(k) + _pack(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return _array_header(len(value)) + b"".join(map(_pack, value))
    raise TypeError(f"cannot write {type(value).__name__} as MessagePack")


def _bin_header(nbytes: int) -> bytes:
    """The smallest bin family holding ``nbytes``: its type byte and length."""
    return _sized(nbytes, (0xC4, 0xC5, 0xC6))


def _bytes_of(values: Any) -> tuple[memoryview, int]:
    """A numpy array or a memoryview as a view of its bytes (little-endian: the only
    hosts vitalproc runs on), and the size of an item."""
    view = memoryview(values)
    size = view.itemsize
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    return view.cast("B"), size


def _put_dt(out: bytearray, dt: memoryview, size: int) -> bytearray:
    """Write each record's dt (little-endian ``dt`` bytes) big-endian into its place in
    ``out``, records of ``size`` bytes: one strided copy per byte."""
    for j in range(8):
        out[len(_MAP_DT) + j :: size] = dt[7 - j :: 8]
    return out


def _numeric_records(dt: memoryview, values: memoryview, code: int, width: int) -> bytearray:
    """Fixed-size records ``{"dt", "val"}``: a template repeated, then the big-endian dt
    and value bytes written into their columns."""
    n = len(dt) // 8
    head = _MAP_DT + bytes(8) + _KEY_VAL + bytes((code,))
    size = len(head) + width
    out = bytearray(head + bytes(width)) * n
    for j in range(width):
        out[len(head) + j :: size] = values[width - 1 - j :: width]
    return _put_dt(out, dt, size)


def _wave_records(dt: memoryview, samples: memoryview, bounds: list[int]) -> bytes | bytearray:
    """Records ``{"dt", "val": bin}`` of the samples' bytes (``bounds``: byte offsets,
    from 0, one more than records)."""
    n = len(bounds) - 1
    lengths = list(map(sub, bounds[1:], bounds[:-1]))
    width = lengths[0]
    if lengths.count(width) == n:  # the usual case: records of one length
        head = _MAP_DT + bytes(8) + _KEY_VAL + _bin_header(width)
        rows = (
            map(itemgetter(0), struct.iter_unpack(f"{width}s", samples))
            if width
            else repeat(b"", n)
        )
        out = bytearray(head).join(chain((b"",), rows))  # heads between the records
        return _put_dt(out, dt, len(head) + width)
    value_heads = {w: _KEY_VAL + _bin_header(w) for w in set(lengths)}
    heads = map(_HEAD.pack, repeat(_MAP_DT), dt.cast("d").tolist())
    slices = map(samples.__getitem__, map(slice, bounds[:-1], bounds[1:]))
    return b"".join(chain.from_iterable(zip(heads, map(value_heads.__getitem__, lengths), slices)))


def records_bytes(part: Part, a: int, b: int) -> bytes | bytearray:
    """Records ``[a, b)`` of ``part``, each a msgpack map ``{"dt", "val"}``, concatenated."""
    dt = _bytes_of(part.dt[a:b])[0]
    if part.kind == "numeric":
        code, width = _TYPED[part.dtype_name]
        return _numeric_records(dt, _bytes_of(part.values(a, b))[0], code, width)
    if part.kind == "wave":
        offsets = part.offsets[a : b + 1].tolist()
        base = offsets[0]
        samples, size = _bytes_of(part.convert(part.data[base : offsets[-1]]))
        bounds = list(map(mul, map(sub, offsets, repeat(base)), repeat(size)))
        return _wave_records(dt, samples, bounds)
    times = dt.cast("d").tolist()
    values = part.texts(a, b) if part.kind == "string" else repeat(None)
    return b"".join(_pack({"dt": t, "val": v}) for t, v in zip(times, values))


def write_plan(plan_: Plan, out: IO[bytes]) -> None:
    """Write ``plan_`` as one msgpack map to the binary stream ``out``."""
    sel = plan_.selection
    out.write(_map_header(len(sel.sections)))
    for section in sel.sections:
        out.write(_pack(section))
        if section == "file_info":
            out.write(_pack(plan_.file_info()))
        elif section == "devices":
            out.write(_pack(plan_.devices_info()))
        else:
            out.write(_map_header(len(plan_.parts)))
            for part in plan_.parts:
                _track(part, sel, out)
                plan_.written(part)


def _track(part: Part, sel: Selection, out: IO[bytes]) -> None:
    meta = part.metadata()
    meta["records_count"] = n = len(part)
    extra = 2 if sel.summary else 1 if sel.records else 0
    out.write(
        _pack(part.name)
        + _map_header(len(meta) + extra)
        + b"".join(_pack(k) + _pack(v) for k, v in meta.items())
    )
    if sel.summary:
        for key, i in (("first_record", 0), ("last_record", n - 1)):
            out.write(_pack(key) + (bytes(records_bytes(part, i, i + 1)) if n else b"\xc0"))
    elif sel.records:
        out.write(_pack("records") + _array_header(n))
        for a, b in part.ranges():
            out.write(records_bytes(part, a, b))
