"""Episodes and artifacts: where they go (given, or placed from the random seed) and what they
do to the waves; each becomes one ground-truth entry.

Placement: hypotension episodes, artifacts and rhythm spans that the caller gives as a
count are laid out in turn, each in its own slot of the recording away from the first and
last 5 %, none overlapping another, in a fixed order of draws from the random seed. Artifact
bounds are snapped to the track's record boundaries, so "the samples with start <= t <
end" and "the records inside" are the same set: a disconnection removes exactly those
records, a flatline holds exactly those samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .physiology import RHYTHMS, Hypotension, RhythmSpan

#: Artifact kinds, the wave (catalogue ``source``) each goes on by default, and the
#: duration range (s) used when placing them from the random seed.
ARTIFACTS: dict[str, tuple[str, tuple[float, float]]] = {
    "flatline": ("art", (20.0, 60.0)),
    "clipping": ("ecg_ii", (30.0, 90.0)),
    "spikes": ("art", (10.0, 30.0)),
    "gap": ("pleth", (30.0, 120.0)),
    "inverted": ("pleth", (60.0, 180.0)),
    "zeroed": ("art", (30.0, 90.0)),
}
#: Bad-quality intervals (rhythm class 'BAD') put noise of this SD on these waves.
BAD_NOISE_SD = {"ecg_ii": 0.35, "ecg_v5": 0.35, "ecg_iii": 0.35, "pleth": 12.0}
NOISY_SOURCES = tuple(BAD_NOISE_SD)
HYPOTENSION_SECONDS = (180.0, 600.0)
RHYTHM_SECONDS = (120.0, 480.0)
DEFAULT_MAP_LEVEL = 65.0


@dataclass
class Artifact:
    """An artifact on one wave track: kind, the track's full name, bounds in seconds
    from file start (end exclusive) and the parameters it was made with."""

    kind: str
    track: str
    start: float
    end: float
    params: dict[str, Any] = field(default_factory=dict)


class Slots:
    """Free time of the recording; ``take`` places an interval where nothing else is."""

    def __init__(self, duration: float, rng: np.random.Generator):
        self.duration = duration
        self.rng = rng
        self.taken: list[tuple[float, float]] = []
        #: placed episodes are shorter in recordings under 2 hours
        self.scale = min(1.0, duration / 7200.0)

    def length(self, bounds: tuple[float, float]) -> float:
        """A duration drawn from ``bounds`` (seconds), scaled to the recording."""
        return float(max(10.0, np.round(self.rng.uniform(*bounds) * self.scale)))

    def claim(self, start: float, end: float) -> None:
        self.taken.append((start, end))

    def take(self, length: float, guard: float = 20.0) -> float:
        """A start time for ``length`` seconds clear of every taken interval by ``guard``
        seconds (the hypotension ramps, the numerics' averaging windows)."""
        lo, hi = 0.05 * self.duration, 0.95 * self.duration - length
        if hi <= lo:
            raise ValueError(
                f"a {length:.0f} s episode does not fit a {self.duration:.0f} s "
                "recording; give fewer episodes or more hours"
            )
        for _ in range(200):
            start = float(self.rng.uniform(lo, hi))
            if all(start + length + guard <= a or start >= b + guard for a, b in self.taken):
                self.claim(start, start + length)
                return start
        raise ValueError(
            "cannot place every episode without overlap; give fewer episodes or more hours"
        )


def hypotension_episodes(spec: int | Sequence[Sequence[float]], slots: Slots) -> list[Hypotension]:
    """``spec``: a count (placed from the random seed, level 65 mmHg) or ``(start_s, duration_s,
    map_level)`` triples."""
    if isinstance(spec, (int, np.integer)):
        out = []
        for _ in range(int(spec)):
            length = slots.length(HYPOTENSION_SECONDS)
            ramp = min(60.0, length)
            out.append(
                Hypotension(
                    slots.take(length + 2 * ramp) + ramp, length, DEFAULT_MAP_LEVEL, recovery=ramp
                )
            )
        return sorted(out, key=lambda h: h.start)
    out = []
    for item in spec:
        if len(item) != 3:
            raise ValueError(f"hypotension {item!r}: give (start_s, duration_s, map_level)")
        start, length, level = (float(v) for v in item)
        if length <= 0 or start < 0 or start + length > slots.duration:
            raise ValueError(
                f"hypotension {item!r} is not inside the recording (0 .. {slots.duration:g} s)"
            )
        slots.claim(start - 60.0, start + length + 60.0)
        out.append(Hypotension(start, length, level))
    return sorted(out, key=lambda h: h.start)


def rhythm_spans(spec: bool | int | Sequence[Sequence[Any]], slots: Slots) -> list[RhythmSpan]:
    """``spec``: True (one span of each class: AF, PVC, BRADY, BAD), a count of spans
    (classes in turn), or ``(class, start_s, duration_s)`` triples."""
    classes = [c for c in RHYTHMS if c != "N"] + ["BAD"]
    if spec is True or (isinstance(spec, (int, np.integer)) and not isinstance(spec, bool)):
        count = len(classes) if spec is True else int(spec)
        out = []
        for i in range(count):
            length = slots.length(RHYTHM_SECONDS)
            start = slots.take(length)
            out.append(RhythmSpan(classes[i % len(classes)], start, start + length))
        return sorted(out, key=lambda r: r.start)
    if not spec or isinstance(spec, bool):
        return []
    out = []
    for item in spec:
        if len(item) != 3 or item[0] not in classes:
            raise ValueError(
                f"rhythm {item!r}: give (class, start_s, duration_s) with class "
                f"one of {', '.join(classes)}"
            )
        kind, start, length = item[0], float(item[1]), float(item[2])
        slots.claim(start, start + length)
        out.append(RhythmSpan(kind, start, start + length))
    return sorted(out, key=lambda r: r.start)


def artifact_list(
    spec: int | Sequence[Any],
    slots: Slots,
    wave_keys: dict[str, str],
    record_seconds: dict[str, float],
) -> list[Artifact]:
    """``spec``: a count (kinds in turn, on their default tracks) or items each a dict
    ``{"kind", "start", "duration"[, "track"]}`` or a tuple ``(kind, start_s,
    duration_s[, track])``. ``wave_keys`` maps wave sources to track names;
    ``record_seconds`` gives each track's record length (bounds snap to it)."""
    items: list[tuple[str, float | None, float | None, str | None]] = []
    if isinstance(spec, (int, np.integer)):
        kinds = [k for k in ARTIFACTS if ARTIFACTS[k][0] in wave_keys]
        if spec and not kinds:
            raise ValueError("this profile has none of the waves artifacts go on")
        items = [(kinds[i % len(kinds)], None, None, None) for i in range(int(spec))]
    else:
        for item in spec:
            if isinstance(item, dict):
                unknown = set(item) - {"kind", "start", "duration", "track"}
                if unknown or "kind" not in item:
                    raise ValueError(f"artifact {item!r}: keys are kind, start, duration, track")
                items.append(
                    (item["kind"], item.get("start"), item.get("duration"), item.get("track"))
                )
            else:
                if not 1 <= len(item) <= 4:
                    raise ValueError(
                        f"artifact {item!r}: give (kind, start_s, duration_s[, track])"
                    )
                padded = list(item) + [None] * (4 - len(item))
                items.append(tuple(padded))  # type: ignore[arg-type]
    out = []
    for kind, start, length, track in items:
        if kind not in ARTIFACTS:
            raise ValueError(f"unknown artifact kind {kind!r}; choose from {', '.join(ARTIFACTS)}")
        source, lengths = ARTIFACTS[kind]
        if track is None:
            if source not in wave_keys:
                raise ValueError(
                    f"artifact {kind!r}: this profile has no {source!r} wave; name a track"
                )
            track = wave_keys[source]
        elif track not in record_seconds:
            matches = [k for k in record_seconds if k.split("/")[-1] == track]
            if len(matches) != 1:
                raise ValueError(
                    f"artifact {kind!r}: no wave track {track!r} "
                    f"(waves: {', '.join(record_seconds)})"
                )
            track = matches[0]
        if length is None:
            length = slots.length(lengths)
        if start is None:
            start = slots.take(float(length))
        else:
            start = float(start)
            if start < 0 or start + float(length) > slots.duration or float(length) <= 0:
                raise ValueError(
                    f"artifact {kind!r} at {start:g} s for {length:g} s is not "
                    f"inside the recording (0 .. {slots.duration:g} s)"
                )
            slots.claim(start, start + float(length))
        out.append(
            Artifact(kind, track, *snap(start, start + float(length), record_seconds[track]))
        )
    return sorted(out, key=lambda a: (a.start, a.track))


def snap(start: float, end: float, step: float) -> tuple[float, float]:
    """``[start, end)`` moved inward to record boundaries (multiples of ``step``), at
    least one record long."""
    a = np.ceil(start / step - 1e-9) * step
    b = max(a + step, np.floor(end / step + 1e-9) * step)
    return float(round(a, 9)), float(round(b, 9))


def bad_quality(
    spans: list[RhythmSpan], wave_keys: dict[str, str], record_seconds: dict[str, float]
) -> list[Artifact]:
    """A 'noise' artifact on each ECG and plethysmograph wave for every 'BAD' span."""
    out = []
    for span in spans:
        if span.kind != "BAD":
            continue
        for source, key in wave_keys.items():
            if source in BAD_NOISE_SD:
                out.append(
                    Artifact(
                        "noise",
                        key,
                        *snap(span.start, span.end, record_seconds[key]),
                        {"sd": BAD_NOISE_SD[source], "rhythm": "BAD"},
                    )
                )
    return out


def apply(art: Artifact, x: np.ndarray, srate: float, rng: np.random.Generator) -> None:
    """Make ``art`` on the physical samples ``x`` (in place) and fill in its parameters."""
    i0 = round(art.start * srate)
    i1 = min(round(art.end * srate), len(x))
    seg = x[i0:i1]
    if art.kind == "flatline":
        value = float(x[i0 - 1]) if i0 > 0 else float(x[0])
        seg[:] = value
        art.params = {"value": value}
    elif art.kind == "clipping":
        mid = float(np.median(seg))
        high = float(mid + 0.35 * (float(seg.max()) - mid))
        low = float(mid - 0.35 * (mid - float(seg.min())))
        np.clip(seg, low, high, out=seg)
        art.params = {"low": low, "high": high}
    elif art.kind == "spikes":
        count = max(3, int((i1 - i0) / srate / 2))
        where = np.sort(rng.choice(i1 - i0, count, replace=False))
        span = float(seg.max() - seg.min()) or 1.0
        amplitude = 3.0 * span
        sign = np.where(rng.uniform(size=count) < 0.5, -1.0, 1.0)
        seg[where] += (amplitude * sign).astype(seg.dtype)
        art.params = {
            "amplitude": amplitude,
            "count": count,
            "offsets": [round(float(i) / srate, 6) for i in where],
        }
    elif art.kind == "gap":
        seg[:] = np.nan
        art.params = {}
    elif art.kind == "inverted":
        about = float((seg.max() + seg.min()) / 2)
        np.subtract(np.float32(2 * about), seg, out=seg)
        art.params = {"about": about}
    elif art.kind == "zeroed":
        seg[:] = rng.normal(0.0, 0.3, len(seg)).astype(seg.dtype)
        art.params = {"level": 0.0, "noise_sd": 0.3}
    elif art.kind == "noise":
        sd = art.params.get("sd", 1.0)
        t = np.arange(i0, i1) / srate
        motion = 2.0 * sd * np.sin(2 * np.pi * 1.3 * t + rng.uniform(0, 2 * np.pi))
        seg += (rng.normal(0.0, sd, len(seg)) + motion).astype(seg.dtype)
    else:  # pragma: no cover - kinds are checked when the list is made
        raise ValueError(art.kind)
