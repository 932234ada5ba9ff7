"""MessagePack: the JSON document's keys and layout, with typed binary values, streamed.

- A wave record's ``val`` is ``bin``: its samples' little-endian bytes in the track's
  ``dtype`` (``numpy.frombuffer(val, "<" + dtype)`` reads it back; no per-sample objects).
- A numeric record's ``val`` uses the msgpack type of its dtype (float 32, float 64,
  int 8/16/32, uint 8/16/32), fixed width, so a float32 reads back as exactly that float32.
- ``dt`` is float 64; strings are ``str``; metadata as in the JSON document.

Equal-length wave records and numeric records are laid out with numpy structured arrays
(one copy of the samples, no Python object per record); a batch at a time, so memory
stays bounded.
"""
from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from ._base import Part, Plan, Selection, available, plan, require
from ._output import write_to

if TYPE_CHECKING:
    import numpy as np

    from ..model import VitalFile

FORMAT = "msgpack"
SUFFIXES = (".msgpack", ".mpk", ".msgp")
BINARY = True
REQUIRES = ("msgpack",)
EXTRA = "formats"

#: msgpack type byte and big-endian numpy dtype of each value dtype (fixed width).
_TYPED = {
    "float32": (0xCA, ">f4"), "float64": (0xCB, ">f8"),
    "int8": (0xD0, "i1"), "int16": (0xD1, ">i2"), "int32": (0xD2, ">i4"),
    "uint8": (0xCC, "u1"), "uint16": (0xCD, ">u2"), "uint32": (0xCE, ">u4"),
}
_FIXMAP2, _F64 = 0x82, 0xCB
_KEY_DT, _KEY_VAL = b"\xa2dt", b"\xa3val"


def is_available() -> bool:
    return available("msgpack")


def _packer() -> Any:
    msgpack = require("msgpack", EXTRA)
    return msgpack.Packer(use_bin_type=True, autoreset=True)


def _bin_header(nbytes: int) -> tuple[str, int]:
    """The smallest bin family holding ``nbytes``: (dtype of its length field, type byte)."""
    if nbytes < 1 << 8:
        return "u1", 0xC4
    if nbytes < 1 << 16:
        return ">u2", 0xC5
    return ">u4", 0xC6


def _record_head(n: int, value_fields: list[tuple[str, str]]) -> np.ndarray:
    """``n`` records' fixed part: ``{"dt": <f64>, "val": <value_fields...>}``."""
    import numpy as np

    layout = np.dtype([("map", "u1"), ("kdt", "S3"), ("tdt", "u1"), ("dt", ">f8"),
                       ("kval", "S4"), *value_fields])
    rec = np.empty(n, layout)
    rec["map"], rec["kdt"], rec["tdt"], rec["kval"] = _FIXMAP2, _KEY_DT, _F64, _KEY_VAL
    return rec


def records_bytes(part: Part, a: int, b: int, packer: Any) -> bytes | memoryview:
    """Records ``[a, b)`` of ``part``, each a msgpack map ``{"dt", "val"}``, concatenated."""
    import numpy as np

    n = b - a
    dt = part.dt[a:b]
    if part.kind == "numeric":
        values = part.values(a, b)
        code, big = _TYPED[values.dtype.name]
        rec = _record_head(n, [("tval", "u1"), ("val", big)])
        rec["dt"], rec["tval"], rec["val"] = dt, code, values
        return memoryview(rec).cast("B")
    if part.kind == "wave":
        samples, offsets = part.samples(a, b)
        lengths = offsets[1:] - offsets[:-1]
        size = samples.dtype.itemsize
        if n and (lengths == lengths[0]).all():
            width = int(lengths[0]) * size
            len_dtype, code = _bin_header(width)
            fields = [("tbin", "u1"), ("len", len_dtype)]
            rec = _record_head(n, fields + [("val", f"V{width}")] if width else fields)
            rec["dt"], rec["tbin"], rec["len"] = dt, code, width
            if width:
                rec["val"] = np.ascontiguousarray(samples, samples.dtype.newbyteorder("<")) \
                    .view(f"V{width}")
            return memoryview(rec).cast("B")
        raw = np.ascontiguousarray(samples, samples.dtype.newbyteorder("<")).tobytes()
        bounds = (offsets * size).tolist()
        return b"".join(packer.pack({"dt": float(t), "val": raw[s:e]})
                        for t, s, e in zip(dt.tolist(), bounds, bounds[1:]))
    if part.kind == "string":
        return b"".join(packer.pack({"dt": t, "val": s})
                        for t, s in zip(dt.tolist(), part.texts(a, b)))
    return b"".join(packer.pack({"dt": t, "val": None}) for t in dt.tolist())


def _single(part: Part, i: int, packer: Any) -> bytes:
    return bytes(records_bytes(part, i, i + 1, packer))


def write_plan(plan_: Plan, out: IO[bytes]) -> None:
    """Write ``plan_`` as one msgpack map to the binary stream ``out``."""
    packer = _packer()
    sel = plan_.selection
    out.write(packer.pack_map_header(len(sel.sections)))
    for section in sel.sections:
        out.write(packer.pack(section))
        if section == "file_info":
            out.write(packer.pack(plan_.file_info()))
        elif section == "devices":
            out.write(packer.pack(plan_.devices_info()))
        else:
            out.write(packer.pack_map_header(len(plan_.parts)))
            for part in plan_.parts:
                _track(part, sel, out, packer)
                plan_.written(part)


def _track(part: Part, sel: Selection, out: IO[bytes], packer: Any) -> None:
    meta = part.metadata()
    meta["records_count"] = n = len(part)
    extra = 2 if sel.summary else 1 if sel.records else 0
    out.write(packer.pack(part.name))
    out.write(packer.pack_map_header(len(meta) + extra))
    for key, value in meta.items():
        out.write(packer.pack(key) + packer.pack(value))
    if sel.summary:
        nil = packer.pack(None)
        out.write(packer.pack("first_record") + (_single(part, 0, packer) if n else nil))
        out.write(packer.pack("last_record") + (_single(part, n - 1, packer) if n else nil))
    elif sel.records:
        out.write(packer.pack("records") + packer.pack_array_header(n))
        for a, b in part.ranges():
            out.write(records_bytes(part, a, b, packer))


def write(vf: VitalFile, dest: Any, selection: Selection | None = None) -> None:
    """Write a recording as MessagePack.

    Parameters
    ----------
    vf
        The recording.
    dest
        A path (written under a temporary name, then renamed) or a binary file object.
    selection
        Tracks, records and sections to write (default: everything).

    Raises
    ------
    ImportError
        msgpack is not installed (``pip install 'vitalproc[formats]'``).
    """
    _packer()
    write_to(dest, write_plan, plan(vf, selection))
