"""``synth``: one synthetic recording, its ground truth and its rhythm annotation.

The steps, each in its own module: the profile's devices and tracks (``catalogue``),
where episodes and artifacts go (``episodes``), the patient (``physiology``), the waves
(``waves``) with the artifacts made on them, the numerics computed from those waves
(``numerics``), the track records as packets (``records``), and the file (``packets``:
interleaved and compressed; or the package's writer for the packed layout). ``truth``
describes it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from . import catalogue, episodes, packets, records
from . import truth as truth_doc
from .numerics import NUMERICS, Context
from .physiology import Physiology
from .waves import WAVES

#: Default recording start: 2024-03-22 13:59:59.1 UTC (a fraction, as real clocks have).
DEFAULT_START = 1711115999.1
DEFAULT_DGMT = -540  # minutes, UTC+9 (Seoul), as VitalDB recordings carry it


@dataclass
class Synthesis:
    """A generated recording.

    Attributes
    ----------
    data
        The ``.vital`` file's bytes.
    truth
        The ground truth (the ``.truth.json`` document; see ``docs/synth.md``).
    rhythm
        ``(seconds from file start, class)`` rows: each class holds from its time to the
        next row's (the last to the end of the recording); empty without a rhythm option.
    """

    data: bytes
    truth: dict[str, Any]
    rhythm: list[tuple[float, str]] = field(default_factory=list)

    def write(self, path: str | os.PathLike) -> dict[str, str]:
        """Write the file, ``<stem>.truth.json`` beside it and, with a rhythm annotation,
        ``<stem>.rhythm.csv``; returns the paths written by role."""
        return truth_doc.write_files(path, self)


def parse_start(start: float | str | datetime | None) -> float:
    """Unix seconds from a number, an ISO 8601 text (UTC unless it says otherwise) or a
    datetime; None gives ``DEFAULT_START``."""
    if start is None:
        return DEFAULT_START
    if isinstance(start, datetime):
        moment = start
    elif isinstance(start, (int, float, np.integer, np.floating)):
        return float(start)
    else:
        text = str(start).strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"start {start!r} is neither Unix seconds nor an ISO 8601 time"
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def synth(
    path: str | os.PathLike | None = None,
    *,
    profile: str = "or",
    hours: float = 1.0,
    seed: int = 0,
    start: float | str | datetime | None = None,
    hypotension: int | list[tuple[float, float, float]] = 0,
    artifacts: int | list[Any] = 0,
    rhythm: bool | int | list[tuple[str, float, float]] = False,
    redeclare: bool | int = 0,
    outliers: bool = False,
    string_tracks: int = 0,
    tracks: list[str] | None = None,
    oversize: bool = False,
    truncate: bool = False,
    packed: bool = False,
    compresslevel: int = 1,
    dgmt: int = DEFAULT_DGMT,
    progress: Callable[[int, int, str], None] | None = None,
) -> Synthesis:
    """Generate a synthetic ``.vital`` recording with its ground truth.

    Parameters
    ----------
    path
        Where to write it (and ``<stem>.truth.json``, ``<stem>.rhythm.csv`` beside it);
        None only returns it.
    profile
        'or' (VitalDB operating room: SNUADC, SNUADCM, Solar8000, Primus, BIS, Orchestra),
        'icu' (a GE Bx50 bedside monitor) or 'demo' (Vital Recorder's simulator device:
        six 100 Hz waves in long records with short records overlapping them).
    hours
        Length of the recording.
    seed
        Seed of every random draw: the same arguments give the same bytes.
    start
        Recording start: Unix seconds or ISO 8601 text; default 2024-03-22 13:59:59.1 UTC.
    hypotension
        A count of episodes placed from the random seed (MAP below 65 mmHg for 3-10 min), or
        ``(start_s, duration_s, map_level)`` triples.
    artifacts
        A count (kinds in turn on their default tracks), or items ``(kind, start_s,
        duration_s[, track])`` / ``{"kind", "start", "duration", "track"}``; kinds:
        flatline, clipping, spikes, gap, inverted, zeroed.
    rhythm
        True: one span each of AF, PVC, BRADY and BAD (bad signal quality); a count; or
        ``(class, start_s, duration_s)`` triples. Writes the rhythm annotation.
    redeclare
        Track names declared again mid-file under new track ids: True for 34 names (the
        first wave four more times, alternately with a new gain/offset and identical;
        the next wave once with a new gain; the rest once, identical), or a count.
    outliers
        Two records with stray timestamps (hours before and after the recording).
    string_tracks
        Extra string tracks (monitor messages).
    tracks
        Keep only these catalogue tracks (full or short names).
    oversize
        The fastest wave's records over 1 MB (the demo device's long records).
    truncate
        Cut the stream inside a record packet near the end (a copy taken while recording).
    packed
        Write vitaldb's packed layout with the package's writer (one record per wave).
    compresslevel
        gzip level (ISA-L, 0-3; higher levels use zlib); default 1.
    dgmt
        The header's time zone field (minutes; VitalDB's -540 for UTC+9).
    progress
        Called as ``progress(done, total, step)`` after each step (a progress bar).

    Returns
    -------
    Synthesis
        The bytes, the truth document and the rhythm rows.
    """
    if not hours or not float(hours) > 0:
        raise ValueError(f"hours must be positive, not {hours!r}")
    if not isinstance(compresslevel, int) or not 0 <= compresslevel <= 9:
        raise ValueError(f"compresslevel must be an int from 0 to 9, not {compresslevel!r}")
    if packed and (truncate or redeclare or outliers):
        raise ValueError(
            "packed files are written by the package's writer, which has no "
            "re-declared tracks, stray timestamps or cut streams"
        )
    arguments = {
        "profile": profile,
        "hours": hours,
        "seed": seed,
        "start": start,
        "hypotension": hypotension,
        "artifacts": artifacts,
        "rhythm": rhythm,
        "redeclare": redeclare,
        "outliers": outliers,
        "string_tracks": string_tracks,
        "tracks": tracks,
        "oversize": oversize,
        "truncate": truncate,
        "packed": packed,
        "compresslevel": compresslevel,
        "dgmt": dgmt,
    }
    prof = catalogue.profile(profile)
    if tracks:
        prof = prof.select(list(tracks))
    if string_tracks:
        prof = catalogue.with_strings(prof, int(string_tracks))
    duration = float(hours) * 3600.0
    dtstart = parse_start(start)
    rng = np.random.default_rng(seed)

    wave_specs = [t for t in prof.tracks if t.type == catalogue.W]
    plan = records.plan(prof, duration, oversize=oversize)
    wave_keys: dict[str, str] = {}
    for spec in wave_specs:
        wave_keys.setdefault(spec.source, spec.key)
    slots = episodes.Slots(duration, rng)
    hypo = episodes.hypotension_episodes(hypotension, slots)
    if hypo and "art" not in wave_keys:
        raise ValueError("hypotension needs an arterial pressure wave in the profile")
    spans = episodes.rhythm_spans(rhythm, slots)
    if spans and not any(s in wave_keys for s in episodes.NOISY_SOURCES[:3]):
        raise ValueError("a rhythm annotation needs an ECG wave in the profile")
    arts = episodes.artifact_list(artifacts, slots, wave_keys, plan.record_seconds)
    if profile == "demo" and any(a.kind == "gap" for a in arts):
        raise ValueError("the demo device's records are not regular: no 'gap' artifact there")
    arts += episodes.bad_quality(spans, wave_keys, plan.record_seconds)
    arts.sort(key=lambda a: (a.start, a.track))

    steps = len(wave_specs) + 4
    done = 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, steps, label)

    phys = Physiology(
        duration,
        rng,
        "icu" if profile == "icu" else "or",
        tuple(hypo),
        tuple(s for s in spans if s.kind != "BAD"),
    )
    waves: dict[str, np.ndarray] = {}
    drawn: dict[tuple[str, float], np.ndarray] = {}
    for spec in wave_specs:
        n = round(duration * spec.srate)
        model = (spec.source, spec.srate)
        if model not in drawn:
            drawn[model] = WAVES[spec.source](phys, n, spec.srate, rng)
        x = drawn[model]
        if any(a.track == spec.key for a in arts):
            x = x.copy()  # another track may show the same signal without this artifact
        for art in arts:
            if art.track == spec.key:
                episodes.apply(art, x, spec.srate, rng)
        waves[spec.key] = x
        step(spec.key)
    ctx = Context(phys, {s.source: (waves[s.key], s.srate) for s in reversed(wave_specs)}, rng)
    numerics: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for spec in prof.tracks:
        if spec.type != catalogue.N:
            continue
        t = np.arange(1, int(np.floor(duration / spec.interval + 1e-9)) + 1) * spec.interval
        values = NUMERICS[spec.source](ctx, t)
        keep = np.isfinite(values)
        numerics[spec.key] = (t[keep], values[keep])
    strings = records.strings(prof, duration, rng)
    step("numerics")

    built = records.build(
        prof,
        plan,
        dtstart,
        waves,
        numerics,
        strings,
        rng,
        redeclare=redeclare,
        outliers=outliers,
        columns=packed,
    )
    step("records")
    truth = truth_doc.document(
        arguments, prof, dtstart, duration, dgmt, hypo, arts, spans, built, wave_keys
    )
    if packed:
        data = records.packed_bytes(prof, built, dtstart, duration, dgmt, compresslevel)
        truth_doc.count_packed(truth)
    else:
        chunks = built.chunks(dtstart, duration, dgmt)
        if truncate:
            data, cut = records.truncated(chunks, compresslevel, built)
            truth["shapes"]["truncated"] = cut
            truth_doc.count_after_cut(truth, cut)
        else:
            data = packets.gzip_stream(chunks, compresslevel)
    step("compressed")
    synthesis = Synthesis(data, truth, truth_doc.rhythm_rows(spans, duration))
    if path is not None:
        synthesis.write(path)
    step("written")
    return synthesis
