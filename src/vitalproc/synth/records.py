"""From physical signals to records: record lengths, integer encoding, track ids and the
file's shapes (tracks declared again, stray timestamps, overlapping and oversize records,
a cut stream, the packed layout).

``plan`` fixes each wave's record length; ``build`` turns waves, numerics and texts into
packet groups (``packets.Packets``) and counts what it wrote, per track and per
declaration, for the ground truth.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._constants import FMT_DTYPE, FMT_ITEMSIZE
from . import _tile as _kernels
from . import catalogue, packets
from .catalogue import Profile, TrackSpec

OVERSIZE_BYTES = 1_200_000  # an oversize record's samples (over vitaldb's 1 MB limit)
DEMO_CYCLE_SECONDS = 2280.0  # the demo file: one long record per track per 38 minutes
DEMO_SHORT_INSIDE, DEMO_SHORT_AFTER = 4, 7
REDECLARED_NAMES = 34
OUTLIER_SPAN_HOURS = 13.0


@dataclass
class Plan:
    """Record length (seconds) of every wave track; the demo device's long record."""

    record_seconds: dict[str, float]
    demo_long: int = 0
    oversize_track: str | None = None


def plan(prof: Profile, duration: float, oversize: bool = False) -> Plan:
    seconds = {t.key: t.record_seconds for t in prof.tracks if t.type == catalogue.W}
    out = Plan(seconds)
    if prof.name == "demo":
        out.demo_long = catalogue.DEMO_LONG_RECORD
        if oversize:
            spec = next(t for t in prof.tracks if t.type == catalogue.W)
            out.demo_long = math.ceil(OVERSIZE_BYTES / FMT_ITEMSIZE[spec.fmt])
            out.oversize_track = spec.key
        return out
    if oversize:
        waves = [t for t in prof.tracks if t.type == catalogue.W]
        if not waves:
            raise ValueError("oversize records need a wave track")
        spec = max(waves, key=lambda t: t.srate * FMT_ITEMSIZE[t.fmt])
        length = (
            math.ceil(OVERSIZE_BYTES / (spec.srate * FMT_ITEMSIZE[spec.fmt]) / spec.record_seconds)
            * spec.record_seconds
        )
        if length > duration:
            raise ValueError(
                f"an oversize record of {spec.key} lasts {length:g} s; make the "
                "recording at least that long"
            )
        seconds[spec.key] = length
        out.oversize_track = spec.key
    return out


# ---- string tracks ---------------------------------------------------------------------

MESSAGES = (
    "ALARM: HR HIGH",
    "ALARM: SPO2 LOW",
    "ALARM: ART LOW",
    "LEADS OFF",
    "CHECK PROBE",
    "NIBP CUFF",
    "ZERO ART",
    "SILENCE",
    "APNEA",
    "SETTING CHANGED",
)


def strings(prof: Profile, duration: float, rng: np.random.Generator) -> dict[str, list]:
    """``(seconds from start, text)`` per string track: the EVENT track's case events,
    monitor messages on the extra tracks every 2-20 minutes."""
    out: dict[str, list] = {}
    for spec in prof.tracks:
        if spec.type != catalogue.S:
            continue
        if spec.source == "event":
            names = (
                (
                    ("Case started", 0.01),
                    ("Intubation", 0.04),
                    ("Surgery started", 0.1),
                    ("Surgery finished", 0.88),
                    ("Extubation", 0.95),
                    ("Case finished", 0.99),
                )
                if prof.name != "icu"
                else (("Monitoring started", 0.01), ("Position change", 0.5), ("Suction", 0.8))
            )
            out[spec.key] = [(round(duration * f, 3), text) for text, f in names]
        else:
            count = max(1, int(duration / rng.uniform(120.0, 1200.0)))
            times = np.sort(rng.uniform(0.0, duration, count)).round(3)
            texts = rng.choice(len(MESSAGES), count)
            out[spec.key] = [(float(t), MESSAGES[i]) for t, i in zip(times, texts)]
    return out


# ---- encoding ----------------------------------------------------------------------------


def encode(x: np.ndarray, fmt: int, gain: float, offset: float) -> np.ndarray:
    """Physical samples as stored: float32 as they are; integers ``round((x - offset) /
    gain)``, clipped to the format's range. NaN (no record) becomes 0."""
    dtype = np.dtype(FMT_DTYPE[fmt])
    if dtype.kind == "f":
        return x.astype(dtype)
    info = np.iinfo(dtype)
    out = np.empty(len(x), dtype)
    _kernels.quantise(
        np.ascontiguousarray(x, np.float32), out, gain, offset, float(info.min), float(info.max)
    )
    return out


def physical(raw: np.ndarray, fmt: int, gain: float, offset: float) -> np.ndarray:
    """What a reader computes from stored samples (the inverse of ``encode``)."""
    return raw.astype(np.float64) if fmt <= 2 else raw * gain + offset


# ---- declarations ------------------------------------------------------------------------


@dataclass
class Declaration:
    """A track declaration: its id, device id, scale, and from when it is used (seconds
    from start; 0 for the declarations in the file's head)."""

    key: str
    spec: TrackSpec
    tid: int
    did: int
    since: float = 0.0
    compatible: bool = True
    records: int = 0

    def packet(self) -> bytes:
        s = self.spec
        return packets.track_info(
            self.tid,
            s.type,
            s.fmt,
            s.name,
            s.unit,
            s.mindisp,
            s.maxdisp,
            s.col,
            s.srate,
            s.gain,
            s.offset,
            self.did,
        )


def _redeclarations(
    prof: Profile, count: int, duration: float, next_tid: int, dids: dict[str, int]
) -> list[Declaration]:
    """Later declarations: the first wave four more times (new gain, identical, new
    offset, identical), the second wave once with a new gain, then other tracks once,
    identical (a device reconnecting)."""
    names = [t for t in prof.tracks if t.type != catalogue.S][:count]
    waves = [t for t in names if t.type == catalogue.W]
    out: list[Declaration] = []
    for i, spec in enumerate(names):
        if waves and spec is waves[0]:
            changes = [("gain", 0.5), None, ("offset", -1.0), None]
        elif len(waves) > 1 and spec is waves[1]:
            changes = [("gain", 0.5)]
        else:
            changes = [None]
        current = spec
        for j, change in enumerate(changes):
            since = duration * (0.15 + 0.7 * (j + 1) / (len(changes) + 1)) + 0.37 * i
            if change is not None:
                what, factor = change
                if what == "gain":
                    current = _replace(current, gain=current.gain * factor)
                else:
                    current = _replace(current, offset=current.offset + factor * 8 * current.gain)
            out.append(
                Declaration(
                    spec.key, current, next_tid, dids.get(spec.device, 0), since, change is None
                )
            )
            next_tid += 1
    return out


def _replace(spec: TrackSpec, **changes: Any) -> TrackSpec:
    from dataclasses import replace

    return replace(spec, **changes)


# ---- building ----------------------------------------------------------------------------


@dataclass
class Built:
    """Everything the file holds, ready to stream."""

    prof: Profile
    devices: list[tuple[int, str, str]]
    declarations: list[Declaration]
    groups: list[packets.Packets] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    shapes: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, list] = field(default_factory=dict)
    header_len: int = 0

    def head(self, dtstart: float, duration: float, dgmt: int) -> bytes:
        parts = [packets.header(dgmt, dtstart, dtstart + duration)]
        parts += [packets.device(did, typename, name) for did, name, typename in self.devices]
        parts += [d.packet() for d in self.declarations if d.since == 0.0]
        return b"".join(parts)

    def chunks(self, dtstart: float, duration: float, dgmt: int) -> Iterator[Any]:
        yield self.head(dtstart, duration, dgmt)
        yield from packets.stream(self.groups)
        yield packets.order([d.tid for d in self.declarations if d.since == 0.0])


def build(
    prof: Profile,
    plan_: Plan,
    dtstart: float,
    waves: dict[str, np.ndarray],
    numerics: dict[str, tuple[np.ndarray, np.ndarray]],
    texts: dict[str, list],
    rng: np.random.Generator,
    redeclare: bool | int = 0,
    outliers: bool = False,
    columns: bool = False,
) -> Built:
    dids = {name: i for i, name in enumerate(prof.devices, start=1)}
    devices = [(did, name, prof.devices[name]) for name, did in dids.items()]
    first = [
        Declaration(t.key, t, tid, dids.get(t.device, 0))
        for tid, t in enumerate(prof.tracks, start=1)
    ]
    duration = max(
        (len(x) / s.srate for s in prof.tracks if s.type == catalogue.W for x in [waves[s.key]]),
        default=0.0,
    )
    duration = max([duration] + [float(t[-1]) for t, _ in numerics.values() if len(t)])
    count = REDECLARED_NAMES if redeclare is True else int(redeclare)
    later = _redeclarations(prof, count, duration, len(first) + 1, dids) if count else []
    built = Built(prof, devices, first + later)
    if columns:
        built.columns = {t.key: [] for t in prof.tracks}
    for decl in built.declarations:
        if decl.since:
            built.groups.append(packets.single(decl.packet(), dtstart + decl.since, -1))
    by_key: dict[str, list[Declaration]] = {}
    for decl in built.declarations:
        by_key.setdefault(decl.key, []).append(decl)
    positions = None
    if plan_.demo_long:
        first_wave = next(t for t in prof.tracks if t.type == catalogue.W)
        positions = demo_positions(
            len(waves[first_wave.key]), first_wave.srate, plan_.demo_long, rng
        )
    for rank, spec in enumerate(prof.tracks):
        decls = by_key[spec.key]
        if spec.type == catalogue.W:
            if positions is not None:
                _demo_wave(built, spec, decls[0], waves[spec.key], dtstart, positions, rank)
            else:
                _wave(
                    built,
                    spec,
                    decls,
                    waves[spec.key],
                    dtstart,
                    plan_.record_seconds[spec.key],
                    rank,
                )
        elif spec.type == catalogue.N:
            t, values = numerics[spec.key]
            _numeric(built, spec, decls, t, values, dtstart, rank)
        else:
            _strings(built, spec, decls[0], texts[spec.key], dtstart, rank)
    for decl in built.declarations:
        built.counts[decl.key] = built.counts.get(decl.key, 0) + decl.records
    if plan_.oversize_track:
        built.shapes["oversize"] = {
            "track": plan_.oversize_track,
            "record_bytes": _largest(built, plan_.oversize_track),
        }
    if outliers:
        _outliers(built, prof, numerics, dtstart, duration)
    return built


def _segments(decls: list[Declaration], times: np.ndarray) -> list[tuple[Declaration, np.ndarray]]:
    """Which declaration each record (by time, seconds from start) is written under."""
    since = np.array([d.since for d in decls])
    which = np.searchsorted(since, times, "right") - 1
    return [(d, np.flatnonzero(which == i)) for i, d in enumerate(decls)]


def _wave(
    built: Built,
    spec: TrackSpec,
    decls: list[Declaration],
    x: np.ndarray,
    dtstart: float,
    seconds: float,
    rank: int,
) -> None:
    per = round(seconds * spec.srate)
    n = len(x)
    nrec = -(-n // per)
    times = np.arange(nrec) * (per / spec.srate)
    present: np.ndarray = np.ones(nrec, bool)
    nan = np.isnan(x)
    if nan.any():
        pad = np.zeros(nrec * per, bool)
        pad[:n] = nan
        present = np.logical_not(pad.reshape(nrec, per).any(axis=1))
    for decl, idx in _segments(decls, times):
        idx = idx[present[idx]]
        if not len(idx):
            continue
        s = decl.spec
        full = idx[(idx + 1) * per <= n]
        if len(full):
            # a run of whole records: encode only their samples
            raw = encode(x[full[0] * per : (full[-1] + 1) * per], s.fmt, s.gain, s.offset)
            rows = raw.reshape(-1, per)[full - full[0]]
            built.groups.append(
                packets.records(decl.tid, dtstart + times[full], packets.wave_payload(rows), rank)
            )
            _keep(built, spec.key, dtstart + times[full], rows)
        for k in idx[(idx + 1) * per > n]:  # the last, shorter record
            raw = encode(x[k * per :], s.fmt, s.gain, s.offset)[None, :]
            built.groups.append(
                packets.records(
                    decl.tid, dtstart + times[k : k + 1], packets.wave_payload(raw), rank
                )
            )
            _keep(built, spec.key, dtstart + times[k : k + 1], raw)
        decl.records += len(idx)


def demo_positions(
    n: int, srate: float, long: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The simulator device's records (start sample, length), shared by its tracks (it
    writes them together): per cycle a long record, short records of 10-23 samples
    starting inside it and after it; sorted by start."""
    cycle = max(DEMO_CYCLE_SECONDS, 2 * long / srate)
    starts, lengths = [], []
    for c in range(math.ceil(n / (cycle * srate))):
        a = round(c * cycle * srate) + 37
        if a >= n:
            break
        long_end = min(a + long, n)
        starts.append(a)
        lengths.append(long_end - a)
        inside = rng.integers(a + 1, max(a + 2, long_end - 30), DEMO_SHORT_INSIDE)
        stop = min(round((c + 1) * cycle * srate), n) - 30
        after = (
            rng.integers(long_end, stop, DEMO_SHORT_AFTER)
            if stop > long_end
            else np.array([], np.int64)
        )
        for s0 in np.sort(np.concatenate([inside, after])).tolist():
            m = int(rng.integers(10, 24))
            if s0 + m <= n:
                starts.append(s0)
                lengths.append(m)
    order = np.argsort(np.array(starts), kind="stable")
    return np.array(starts, np.int64)[order], np.array(lengths, np.int64)[order]


def _demo_wave(
    built: Built,
    spec: TrackSpec,
    decl: Declaration,
    x: np.ndarray,
    dtstart: float,
    positions: tuple[np.ndarray, np.ndarray],
    rank: int,
) -> None:
    starts, lens = positions
    srate = spec.srate
    by_size: dict[int, list[int]] = {}
    for i, m in enumerate(lens.tolist()):
        by_size.setdefault(m, []).append(i)
    s = decl.spec
    for m, picks in by_size.items():
        idx = np.array(picks)
        rows = np.stack([encode(x[a : a + m], s.fmt, s.gain, s.offset) for a in starts[idx]])
        dt = dtstart + starts[idx] / srate
        built.groups.append(packets.records(decl.tid, dt, packets.wave_payload(rows), rank))
    if built.columns:
        for a, m in zip(starts.tolist(), lens.tolist()):
            _keep(
                built,
                spec.key,
                np.array([dtstart + a / srate]),
                encode(x[a : a + m], s.fmt, s.gain, s.offset)[None, :],
            )
    reach = np.maximum.accumulate(starts + lens)
    overlapping = int((starts[1:] < reach[:-1]).sum())
    built.shapes.setdefault("overlapping", {})[spec.key] = {
        "records": len(starts),
        "overlapping": overlapping,
        "longest": int(lens.max()),
    }
    decl.records += len(starts)


def _numeric(
    built: Built,
    spec: TrackSpec,
    decls: list[Declaration],
    t: np.ndarray,
    values: np.ndarray,
    dtstart: float,
    rank: int,
) -> None:
    for decl, idx in _segments(decls, t):
        if not len(idx):
            continue
        vals = values[idx].astype("<f4")
        built.groups.append(
            packets.records(decl.tid, dtstart + t[idx], vals.view(np.uint8).reshape(-1, 4), rank)
        )
        _keep(built, spec.key, dtstart + t[idx], vals)
        decl.records += len(idx)


def _strings(
    built: Built, spec: TrackSpec, decl: Declaration, items: list, dtstart: float, rank: int
) -> None:
    by_size: dict[int, list] = {}
    for t, text in items:
        payload = packets.string_payload(text)
        by_size.setdefault(payload.shape[1], []).append((t, payload))
    for rows in by_size.values():
        dt = dtstart + np.array([t for t, _ in rows])
        built.groups.append(
            packets.records(decl.tid, dt, np.concatenate([p for _, p in rows]), rank)
        )
    if built.columns:
        built.columns[spec.key].append(
            (dtstart + np.array([t for t, _ in items]), [text for _, text in items])
        )
    decl.records += len(items)


def _keep(built: Built, key: str, dt: np.ndarray, rows: np.ndarray) -> None:
    if built.columns:
        built.columns[key].append((np.asarray(dt, np.float64), rows))


def _largest(built: Built, key: str) -> int:
    tids = {d.tid for d in built.declarations if d.key == key}
    sizes = [
        g.rows.shape[1] - 5
        for g in built.groups
        if len(g) and int(g.rows[0, 15] | (g.rows[0, 16] << 8)) in tids
    ]
    return max(sizes, default=0)


def _outliers(built: Built, prof: Profile, numerics: dict, dtstart: float, duration: float) -> None:
    """A record hours before the recording on one numeric track and one hours after on
    another, written among their neighbours (a clock glitch): the file spans 13 hours."""
    keys = [t for t in prof.tracks if t.type == catalogue.N and len(numerics[t.key][0])]
    if len(keys) < 2:
        raise ValueError("stray timestamps need two numeric tracks with records")
    early = 5.5 * 3600.0
    late = max(3600.0, OUTLIER_SPAN_HOURS * 3600.0 - early - duration)
    found = []
    for spec, offset, place in ((keys[0], -early, 0.3), (keys[-1], duration + late, 0.6)):
        decl = next(d for d in built.declarations if d.key == spec.key and d.since == 0.0)
        value = np.array([numerics[spec.key][1][0]], "<f4")
        built.groups.append(
            packets.records(
                decl.tid,
                np.array([dtstart + offset]),
                value.view(np.uint8).reshape(1, 4),
                prof.tracks.index(spec),
                sort_dt=np.array([dtstart + duration * place]),
            )
        )
        _keep(built, spec.key, np.array([dtstart + offset]), value)
        decl.records += 1
        built.counts[spec.key] += 1
        found.append({"track": spec.key, "time": dtstart + offset, "time_s": offset})
    built.shapes["outliers"] = found


# ---- other file layouts ------------------------------------------------------------------


def truncated(chunks: Iterator[Any], level: int, built: Built) -> tuple[bytes, dict]:
    """The stream cut in the middle of a record packet at about 90 % of its bytes: the
    deflate data ends exactly there (a sync flush, no gzip trailer), as in a file copied
    while it was being written."""
    data = b"".join(bytes(c) for c in chunks)
    starts = packets.packet_starts(data, packets.HEADER_BYTES)
    target = int(len(data) * 0.9)
    i = int(np.searchsorted(starts, target))
    while data[starts[i]] != 1:  # a record packet
        i += 1
    pos = starts[i]
    length = int.from_bytes(data[pos + 1 : pos + 5], "little")
    cut = pos + 5 + length // 2
    tid = int.from_bytes(data[pos + 15 : pos + 17], "little")
    key = next(d.key for d in built.declarations if d.tid == tid)
    out = packets.gzip_cut(data[:cut], level)
    later = [p for p in starts if p > pos]
    return out, {
        "inflated_bytes": cut,
        "full_bytes": len(data),
        "packet_offset": pos,
        "track": key,
        "packets_complete": i,
        "packets_lost": 1 + len(later),
        "lost": _lost(data, later + [pos], built),
    }


def _lost(data: bytes, positions: list[int], built: Built) -> dict[str, int]:
    """Record packets per track from ``positions`` on (those the cut loses)."""
    names = {d.tid: d.key for d in built.declarations}
    out: dict[str, int] = {}
    for p in positions:
        if data[p] == 1:
            key = names[int.from_bytes(data[p + 15 : p + 17], "little")]
            out[key] = out.get(key, 0) + 1
    return out


def packed_bytes(
    prof: Profile, built: Built, dtstart: float, duration: float, dgmt: int, level: int
) -> bytes:
    """The recording through the package's writer, in vitaldb's packed layout."""
    import io

    from ..io.vital_writer import write
    from ..model import Device, Track, VitalFile

    vf = VitalFile.blank()
    vf.dtstart, vf.dtend, vf.dgmt = dtstart, dtstart + duration, dgmt
    for _, name, typename in built.devices:
        vf.devs[name] = Device(name, typename)
    for spec in prof.tracks:
        pieces = built.columns[spec.key]
        dt = np.concatenate([p[0] for p in pieces]) if pieces else np.empty(0)
        data: np.ndarray
        if spec.type == catalogue.S:
            texts = [t for p in pieces for t in p[1]]
            encoded = [t.encode("utf-8") for t in texts]
            data = np.frombuffer(b"".join(encoded), np.uint8)
            offsets = np.concatenate([[0], np.cumsum([len(e) for e in encoded])]).astype(np.int64)
        elif spec.type == catalogue.W:
            rows = [r for p in pieces for r in p[1]]
            data = np.concatenate([r.reshape(-1) for r in rows]) if rows else np.empty(0)
            offsets = np.concatenate([[0], np.cumsum([r.size for r in rows])]).astype(np.int64)
        else:
            data = np.concatenate([p[1] for p in pieces]) if pieces else np.empty(0, "<f4")
            offsets = None
        vf.trks[spec.key] = Track(
            spec.name,
            spec.type,
            spec.col,
            0,
            spec.device,
            spec.unit,
            spec.fmt,
            spec.srate,
            spec.gain,
            spec.offset,
            spec.mindisp,
            spec.maxdisp,
            dt=dt,
            data=data,
            offsets=offsets,
        )
    vf.order = list(vf.trks)
    out = io.BytesIO()
    write(vf, out, compresslevel=min(level, 9), packed=True)
    return out.getvalue()
