"""Text for people: the file's span, its devices, then each track and its records.

Layout (``docs/formats.md`` has an example)::

    === File ===
    start      2024-03-22 23:00:00.106+09:00  (1711115999.1057465)
    ...
    === Tracks ===
    - Bx50/HR: NUMERIC float32, unit /min, 1 Hz, gain 1, offset 0, 1800 records
        2024-03-22 23:00:01.106  72
    - Bx50/ECG1: WAVE int16, unit mV, 300 Hz, gain 0.001, offset 0, 3600 records
        2024-03-22 23:00:00.106  [14 7 1 -2 -5 -8 -11 -15 ... 300 samples]

Times are the file's local time (its ``gmt_offset``); a wave record shows its first
``WAVE_PREVIEW`` samples and its length. Values are written as the JSON format writes
them (shortest round trip of the track's dtype; ``null`` for NaN and infinities).
"""

from __future__ import annotations

import datetime
from typing import IO, TYPE_CHECKING

from .._deps import available, require
from ..ops.selection import Part, Plan

if TYPE_CHECKING:
    import numpy as np


FORMAT = "text"
SUFFIXES = (".txt", ".text")
BINARY = False
REQUIRES = ("orjson",)
EXTRA = "formats"

#: Samples shown per wave record.
WAVE_PREVIEW = 8


def is_available() -> bool:
    return available("orjson")


def _zone(dgmt: int) -> datetime.timezone:
    return datetime.timezone(datetime.timedelta(minutes=-dgmt))


def local_time(t: float, dgmt: int) -> str:
    """``2024-03-22 23:00:00.106+09:00`` (the file's zone), or the number if out of range."""
    try:
        when = datetime.datetime.fromtimestamp(t, _zone(dgmt))
    except (OverflowError, OSError, ValueError):
        return repr(t)
    return when.isoformat(" ", "milliseconds")


def record_times(dt: np.ndarray, dgmt: int) -> list[str]:
    """Local wall-clock times, to the millisecond, vectorised (``NaT`` for NaN)."""
    import numpy as np

    local_ms = np.round((dt - dgmt * 60.0) * 1000.0)
    finite = np.isfinite(local_ms) & (np.abs(local_ms) < 2**62)
    stamps = np.where(finite, local_ms, 0).astype("int64").astype("datetime64[ms]")
    text = np.datetime_as_string(stamps, unit="ms")
    return [s.replace("T", " ") if ok else "NaT" for s, ok in zip(text.tolist(), finite.tolist())]


def _values(part: Part, a: int, b: int) -> list[str]:
    """Each record's value as shown: a number, a quoted text, or a wave preview."""
    from .json import record_values

    orjson = require("orjson", EXTRA)
    option = orjson.OPT_SERIALIZE_NUMPY
    values = record_values(part, a, b)
    if part.kind != "wave":
        return [orjson.dumps(v, option=option).decode() for v in values]
    shown = []
    for row in values:
        head = orjson.dumps(row[:WAVE_PREVIEW], option=option).decode()[1:-1]
        more = f" ... {len(row)} samples" if len(row) > WAVE_PREVIEW else ""
        shown.append(f"[{head.replace(',', ' ')}{more}]")
    return shown


def _number(x: float) -> str:
    return f"{x:.10g}"


def _track_line(part: Part) -> str:
    t = part.track
    meta = part.metadata()
    rate = f", {_number(meta['sample_rate'])} Hz" if t.srate else ""
    scale = " (physical)" if part.physical else ""
    return (
        f"- {part.name}: {meta['type_name']} {part.dtype_name}{scale}, unit "
        f"{t.unit or '-'}{rate}, gain {_number(t.gain)}, offset {_number(t.offset)}, "
        f"{len(part)} records\n"
    )


def write_plan(plan_: Plan, out: IO[bytes]) -> None:
    """Write ``plan_`` as text (UTF-8) to the binary stream ``out``."""
    vf, sel = plan_.vf, plan_.selection
    blocks = []
    if "file_info" in sel.sections:
        info = plan_.file_info()
        zone = _zone(vf.dgmt).tzname(None)
        lines = ["=== File ==="]
        if plan_.source is not None:
            lines.append(f"file       {plan_.source}")
        lines += [
            f"start      {local_time(vf.dtstart, vf.dgmt)}  ({vf.dtstart!r})",
            f"end        {local_time(vf.dtend, vf.dgmt)}  ({vf.dtend!r})",
            f"duration   {info['duration']:.3f} s",
            f"timezone   {zone} (gmt_offset {vf.dgmt} min)",
            f"tracks     {info['tracks_count']}",
            f"devices    {info['devices_count']}",
        ]
        blocks.append("\n".join(lines) + "\n")
    if "devices" in sel.sections:
        lines = ["=== Devices ==="] + [
            f"- {d.name}: type {d.type or '-'}, port {d.port or '-'}" for d in plan_.devices
        ]
        blocks.append("\n".join(lines) + "\n")
    out.write("\n".join(blocks).encode())
    if "tracks" not in sel.sections:
        return
    out.write(("\n" if blocks else "").encode() + b"=== Tracks ===\n")
    for part in plan_.parts:
        out.write(_track_line(part).encode())
        if sel.summary:
            for label, i in (("first", 0), ("last", len(part) - 1)):
                if len(part):
                    time = record_times(part.dt[i : i + 1], vf.dgmt)[0]
                    out.write(f"    {label:5}  {time}  {_values(part, i, i + 1)[0]}\n".encode())
        elif sel.records:
            for a, b in part.ranges():
                lines = [
                    f"    {t}  {v}\n"
                    for t, v in zip(record_times(part.dt[a:b], vf.dgmt), _values(part, a, b))
                ]
                out.write("".join(lines).encode())
        plan_.written(part)
