"""The failure contract as an oracle: read one input every way and check what comes back.

``check(data, kind, flags)`` reads ``data`` with ``vitalproc.read`` several ways and raises
``Breach`` when the contract of ``docs/robustness.md`` does not hold:

* only ``VitalFormatError`` may escape (``OSError`` too, but bytes never raise it);
* every returned model is well formed (array lengths, dtypes, record boundaries) and every
  warning names the byte offset of its fault, inside the stream it names;
* ``strict=True`` raises exactly when the default read warns, at the first warning's
  offset, and otherwise returns the same model;
* the streaming (ISA-L, small chunks) and whole-file (libdeflate) paths return the same
  model and the same warnings;
* a track selection returns the selected tracks exactly as the full read does (no
  warning-free data loss), ``header_only`` the same declarations without records;
* ``compat="vitaldb"`` and ``max_inflated_bytes`` also obey the first two rules.

The atheris harness (``fuzz/__main__.py``) and the hypothesis test (``tests/test_fuzz.py``)
share this oracle, so a finding of one is a failing case of the other.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import math
import struct
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

import vitalproc
import vitalproc.io._source
import vitalproc.io.reader
from vitalproc import VitalFile, VitalFormatError
from vitalproc._constants import FMT_DTYPE, TrackType

#: Inflated bytes a gzip input may produce in the harness: bombs stop here, quickly.
GZIP_LIMIT = 32 << 20

#: Compressed chunk sizes the streaming read is tried with (packets straddle chunks).
CHUNKS = (4096, 97, 7, 1)

INFLATED, GZIP = "inflated", "gzip"

#: Warning codes that record a fault or a recovery; each must carry an offset.
FAULT_CODES = {
    "truncated",
    "corrupt",
    "trailing",
    "short_packet",
    "malformed_packet",
    "big_packet",
    "short_header",
    "short_record",
    "redeclared_track",
    "redeclared_track_dropped",
}


class Breach(AssertionError):
    """The reader broke its failure contract on this input."""


def as_file(data: bytes, kind: str) -> bytes:
    """The bytes ``read`` is given: inflated inputs are wrapped in stored deflate blocks
    (no compression, so a mutation of the input is a mutation of the stream)."""
    return gzip.compress(data, compresslevel=0, mtime=0) if kind == INFLATED else data


@contextlib.contextmanager
def streaming(chunk: int) -> Iterator[None]:
    """Force the streaming inflate path with ``chunk``-byte compressed chunks."""
    saved = vitalproc.io.reader.WHOLE_FILE_LIMIT, vitalproc.io._source.CHUNK
    vitalproc.io.reader.WHOLE_FILE_LIMIT, vitalproc.io._source.CHUNK = -1, chunk
    try:
        yield
    finally:
        vitalproc.io.reader.WHOLE_FILE_LIMIT, vitalproc.io._source.CHUNK = saved


def attempt(source: bytes, **options: Any) -> VitalFile | VitalFormatError:
    """One read: the model, or the ``VitalFormatError`` it raised; anything else breaches."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        try:
            return vitalproc.read(source, **options)
        except VitalFormatError as exc:
            return exc
        except Exception as exc:
            raise Breach(f"{type(exc).__name__} escaped read({options}): {exc}") from exc


# -- the model ------------------------------------------------------------------------


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def well_formed(vf: VitalFile, stream_sizes: dict[str, int]) -> None:
    """Every array has the shape and dtype its track type says; every warning an offset."""
    for name, t in vf.trks.items():
        n = len(t)
        dt = t.dt
        if dt.dtype != "float64" or dt.shape != (n,):
            raise Breach(f"{name}: dt is {dt.dtype}{dt.shape} for {n} records")
        data, offsets = t.data, t.offsets
        if t.type in (TrackType.WAVE, TrackType.NUMERIC):
            if data.dtype != np.dtype(FMT_DTYPE[t.fmt]):
                raise Breach(f"{name}: data dtype {data.dtype.str} for fmt {t.fmt}")
        elif data.dtype != "uint8":
            raise Breach(f"{name}: a type {t.type} track holds {data.dtype}")
        if t.type == TrackType.NUMERIC:
            if offsets is not None or len(data) != n:
                raise Breach(f"{name}: {len(data)} values for {n} records")
        elif t.type in (TrackType.WAVE, TrackType.STRING):
            ends = offsets.tolist()
            if (
                len(ends) != n + 1
                or ends[0] != 0
                or ends[-1] != len(data)
                or any(b < a for a, b in itertools.pairwise(ends))
            ):
                raise Breach(f"{name}: record boundaries {ends[:5]}... for {len(data)} items")
        recs = list(t.recs)
        if len(recs) != n or (n and _bits(recs[-1]["dt"]) != _bits(float(dt[-1]))):
            raise Breach(f"{name}: the recs view disagrees with the arrays")
    for issue in vf.warnings:
        size = stream_sizes.get(issue.where, -1)  # -1: the stream's size is not known
        if issue.code in FAULT_CODES and issue.offset is None and issue.count is None:
            raise Breach(f"warning {issue.code!r} names no offset: {issue.message}")
        if issue.offset is not None and (issue.offset < 0 or 0 <= size < issue.offset):
            raise Breach(
                f"warning {issue.code!r} at {issue.where} offset {issue.offset} "
                f"outside the {size}-byte stream"
            )


def model_differences(a: VitalFile, b: VitalFile) -> list[str]:
    """Where two reads differ: declarations, every array bit for bit, the file fields."""
    out = []
    for f in ("dtstart", "dtend"):
        if _bits(float(getattr(a, f))) != _bits(float(getattr(b, f))):
            out.append(f"{f}: {getattr(a, f)!r} != {getattr(b, f)!r}")
    for f in ("dgmt", "order", "packed"):
        if getattr(a, f) != getattr(b, f):
            out.append(f"{f}: {getattr(a, f)!r} != {getattr(b, f)!r}")
    if [(d.name, d.type, d.port) for d in a.devs.values()] != [
        (d.name, d.type, d.port) for d in b.devs.values()
    ]:
        out.append("devices differ")
    if list(a.trks) != list(b.trks):
        out.append(f"tracks: {list(a.trks)} != {list(b.trks)}")
    for name in set(a.trks) & set(b.trks):
        out += track_differences(name, a.trks[name], b.trks[name])
    if _packet_keys(a) != _packet_keys(b):
        out.append(f"raw packets: {len(a.packets)} != {len(b.packets)}")
    return out


def _packet_keys(vf: VitalFile) -> list[tuple]:
    """Raw device packets, times by their bits (a NaN time equals itself)."""
    return [(_bits(p["dt"]), p["sport"], p["bsent"], p["buf"]) for p in vf.packets]


def track_differences(name: str, s: vitalproc.Track, t: vitalproc.Track) -> list[str]:
    out = [
        f"{name}.{k}: {v!r} != {t.metadata()[k]!r}"
        for k, v in s.metadata().items()
        if not (
            v == t.metadata()[k]
            or (isinstance(v, float) and math.isnan(v) and math.isnan(t.metadata()[k]))
        )
    ]
    if len(s) != len(t):
        out.append(f"{name}: {len(s)} records != {len(t)}")
    elif (
        s.dt.tobytes() != t.dt.tobytes()
        or s.data.tobytes() != t.data.tobytes()
        or (s.offsets is not None and s.offsets.tobytes() != t.offsets.tobytes())
    ):
        out.append(f"{name}: records differ")
    return out


def _corrupt(result: VitalFile | VitalFormatError) -> bool:
    """Whether the gzip data was found corrupt (not cut short, not trailing bytes)."""
    if isinstance(result, VitalFormatError):
        return str(result).startswith("corrupt gzip data")
    return any(w.code == "corrupt" for w in result.warnings)


def _issues(vf: VitalFile) -> list[tuple]:
    return [(w.code, w.offset, w.where, w.count) for w in vf.warnings]


# -- the oracle -------------------------------------------------------------------------


def check(data: bytes, kind: str, flags: int = 0) -> VitalFile | VitalFormatError:
    """Read ``data`` (inflated .vital bytes, or a whole file) every way; raise ``Breach``.

    ``flags`` picks the variations (so a fuzzer explores them): bits 0-1 the streaming
    chunk size, bit 2 a selection read (bits 6-7 pick the track), bit 3 ``header_only``,
    bit 4 ``maxlen`` (bits 6-7 seconds), bit 5 a ``max_inflated_bytes`` of half the
    inflated (or the compressed) size.
    """
    source = as_file(data, kind)
    limit = GZIP_LIMIT if kind == GZIP else None
    sizes = {"compressed": len(source), "inflated": len(data) if kind == INFLATED else -1}
    full = attempt(source, max_inflated_bytes=limit)
    if isinstance(full, VitalFile):
        well_formed(full, sizes)

    strict = attempt(source, strict=True, max_inflated_bytes=limit)
    if isinstance(full, VitalFormatError) or full.warnings:
        if not isinstance(strict, VitalFormatError):
            raise Breach(
                f"strict=True returned where the default read gave {full!r}"
                if isinstance(full, VitalFormatError)
                else f"strict=True returned despite {_issues(full)}"
            )
        first = full.warnings[0] if isinstance(full, VitalFile) else None
        if first is not None and (
            strict.offset != first.offset or not str(strict).startswith(first.message)
        ):
            raise Breach(f"strict=True raised {strict}; the first warning is {first}")
    elif isinstance(strict, VitalFormatError):
        raise Breach(f"strict=True raised ({strict}) on a read without warnings")
    elif diff := model_differences(full, strict):
        raise Breach(f"strict=True read differently: {diff[:3]}")

    with streaming(CHUNKS[flags & 3]):
        streamed = attempt(source, max_inflated_bytes=limit)
    if _corrupt(full) or _corrupt(streamed):
        # ISA-L (streaming) may inflate a few bytes of a corrupt block that zlib rejects
        # as a whole: past the fault the two paths may differ; each obeys the contract.
        if isinstance(streamed, VitalFile):
            well_formed(streamed, sizes)
    else:
        _same_outcome(full, streamed)

    compat = attempt(source, compat="vitaldb", max_inflated_bytes=limit)
    if isinstance(compat, VitalFile):
        well_formed(compat, sizes)
    if not isinstance(full, VitalFile):
        return full
    if flags & 4 and full.trks:
        _check_selection(source, full, limit, flags)
    if flags & 8:
        _check_header_only(source, full, limit)
    if flags & 16:
        vf = attempt(source, maxlen=float(flags >> 6), max_inflated_bytes=limit)
        if isinstance(vf, VitalFile):
            well_formed(vf, sizes)
    if flags & 32:
        vf = attempt(source, max_inflated_bytes=len(data) // 2 if kind == INFLATED else len(data))
        if isinstance(vf, VitalFile):
            well_formed(vf, sizes)
    return full


def records(t: vitalproc.Track) -> list[bytes]:
    """Each record as bytes: its time, then its value(s)."""
    dt, data, ends = t.dt, t.data, t.offsets
    if ends is None:
        return [dt[i].tobytes() + data[i : i + 1].tobytes() for i in range(len(t))]
    return [dt[i].tobytes() + data[ends[i] : ends[i + 1]].tobytes() for i in range(len(t))]


def _is_subsequence(part: list[bytes], whole: list[bytes]) -> bool:
    rest = iter(whole)
    return all(any(p == w for w in rest) for p in part)


def _same_outcome(
    full: VitalFile | VitalFormatError, streamed: VitalFile | VitalFormatError
) -> None:
    """The whole-file and the streaming read agree: model and warnings, or error."""
    if type(streamed) is not type(full):
        raise Breach(f"streaming read gave {streamed!r}, whole-file read {full!r}")
    if isinstance(full, VitalFile):
        if diff := model_differences(full, streamed):
            raise Breach(f"streaming and whole-file reads differ: {diff[:3]}")
        if _issues(full) != _issues(streamed):
            raise Breach(f"warnings differ: whole {_issues(full)}, streamed {_issues(streamed)}")
    elif str(full) != str(streamed):
        raise Breach(f"errors differ: whole {full}, streamed {streamed}")


def _check_selection(source: bytes, full: VitalFile, limit: int | None, flags: int) -> None:
    """Reading one track by its full name gives it exactly as the full read has it.

    In a packed file the selection trusts each track's declared block length (vitaldb's
    seek past unwanted blocks and early stop): a lying length loses records without a
    warning (``docs/robustness.md``, "Gaps"), and a seek can jump over a fault that ended
    the full read, and find more. There the selected records need only be a subsequence
    of the full read's, or contain them when the full read reported a fault.
    """
    names = list(full.trks)
    wanted = names[(flags >> 6) % len(names)]
    # A `Name#k` track (declarations of another type or rate) is in no declaration of the
    # file: it is selected through the name it was declared under (docs/model.md).
    declared = full.trks[wanted].apart_from or wanted
    part = attempt(source, tracks=[declared], max_inflated_bytes=limit)
    if not isinstance(part, VitalFile):
        raise Breach(f"selecting {wanted!r} raised {part!r}; the full read did not")
    if wanted not in part.trks:
        raise Breach(f"selecting {wanted!r} lost it")
    for name, t in part.trks.items():
        if name not in full.trks:
            raise Breach(f"selecting {wanted!r} gave {name!r}, absent from the full read")
        diff = track_differences(name, full.trks[name], t)
        if diff and full.packed and all("records" in d for d in diff):
            mine, theirs = records(t), records(full.trks[name])
            if _is_subsequence(mine, theirs) or (full.warnings and _is_subsequence(theirs, mine)):
                continue
        if diff:
            raise Breach(f"selecting {wanted!r}: {diff[:3]}")


def _check_header_only(source: bytes, full: VitalFile, limit: int | None) -> None:
    head = attempt(source, header_only=True, max_inflated_bytes=limit)
    if not isinstance(head, VitalFile):
        raise Breach(f"header_only=True raised {head!r}; the full read did not")
    if list(head.trks) != list(full.trks) or any(len(t) for t in head.trks.values()):
        raise Breach("header_only=True declares other tracks, or holds records")
