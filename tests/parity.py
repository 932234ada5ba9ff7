"""Field-by-field comparison of a vitalproc ``VitalFile`` with vitaldb's, bit for bit.

``differences(ref, ours)`` lists every difference as a readable string; an empty list is
parity. Floats are compared by their bits, so NaN payloads and signed zeros count.
"""

from __future__ import annotations

import struct

import numpy as np

TRACK_META = (
    "name",
    "type",
    "col",
    "montype",
    "dname",
    "unit",
    "fmt",
    "srate",
    "gain",
    "offset",
    "mindisp",
    "maxdisp",
    "dtname",
)
FILE_FIELDS = ("dtstart", "dtend", "dgmt", "order", "packed")


def same_value(a, b) -> bool:
    """Equal type and value; floats equal bit for bit."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    return a == b


def same_number(a, b) -> bool:
    """Equal as numbers (vitaldb keeps an int 0 where we keep 0.0), floats by bits."""
    if isinstance(a, (list, tuple)):
        return list(a) == list(b)
    fa, fb = float(a), float(b)
    return struct.pack("<d", fa) == struct.pack("<d", fb)


def record_differences(name, ref_recs, our_recs, limit=3):
    out = []
    if len(ref_recs) != len(our_recs):
        out.append(f"{name}: {len(ref_recs)} records in vitaldb, {len(our_recs)} here")
    for i, (r, o) in enumerate(zip(ref_recs, our_recs)):
        if not same_value(r["dt"], o["dt"]):
            out.append(f"{name}[{i}].dt: {r['dt']!r} != {o['dt']!r}")
        elif not same_value(r["val"], o["val"]):
            out.append(f"{name}[{i}].val: {r['val']!r} != {o['val']!r}")
        if len(out) >= limit:
            break
    return out


def differences(ref, ours, records=True, exact_times=False) -> list[str]:
    """``exact_times``: ``dtstart``/``dtend`` of the same type too (vitaldb keeps an int 0
    where no header or record set them; compat mode matches it, the default gives 0.0)."""
    out = []
    for f in FILE_FIELDS:
        a, b = getattr(ref, f), getattr(ours, f)
        if f == "order" or f == "packed":
            if a != b:
                out.append(f"{f}: {a!r} != {b!r}")
        elif not same_number(a, b) or (exact_times and type(a) is not type(b)):
            out.append(f"{f}: {a!r} != {b!r}")
    if list(ref.devs) != list(ours.devs):
        out.append(f"devices: {list(ref.devs)} != {list(ours.devs)}")
    for name, d in ref.devs.items():
        o = ours.devs.get(name)
        if o is None or (d.name, d.type, d.port) != (o.name, o.type, o.port):
            out.append(f"device {name!r} differs")
    if list(ref.trks) != list(ours.trks):
        out.append(f"tracks: {list(ref.trks)} != {list(ours.trks)}")
    for name, t in ref.trks.items():
        o = ours.trks.get(name)
        if o is None:
            continue
        for f in TRACK_META:
            if not same_value(getattr(t, f), getattr(o, f)):
                out.append(f"{name}.{f}: {getattr(t, f)!r} != {getattr(o, f)!r}")
        if records:
            out += record_differences(name, t.recs, list(o.recs))
    ref_packets, our_packets = getattr(ref, "packets", []), ours.packets
    if len(ref_packets) != len(our_packets) or any(
        a.keys() != b.keys() or not all(same_value(a[k], b[k]) for k in a)
        for a, b in zip(ref_packets, our_packets)
    ):  # by bits: a NaN time is equal
        out.append(f"raw packets: {len(ref_packets)} != {len(our_packets)}")
    return out
