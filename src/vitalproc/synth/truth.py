"""The ground truth of a synthetic recording: ``<stem>.truth.json`` and ``<stem>.rhythm.csv``.

Times are given twice: ``start``/``end`` in Unix seconds (as the file's records carry
them) and ``start_s``/``end_s`` in seconds from the recording's start; ``end`` is
exclusive (a sample at time t is inside when start <= t < end). The schema is described
in ``docs/synth.md``; ``SCHEMA`` names its version.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from .._constants import TYPE_NAMES, TrackType
from .._files import atomic_file
from .._version import __version__
from . import catalogue

if TYPE_CHECKING:
    from .catalogue import Profile
    from .episodes import Artifact
    from .generate import Synthesis
    from .physiology import Hypotension, RhythmSpan
    from .records import Built

SCHEMA = "vitalproc-synth-truth/1"


def _times(start_s: float, end_s: float, dtstart: float) -> dict[str, float]:
    return {
        "start": dtstart + start_s,
        "end": dtstart + end_s,
        "start_s": round(start_s, 6),
        "end_s": round(end_s, 6),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def document(
    arguments: dict,
    prof: Profile,
    dtstart: float,
    duration: float,
    dgmt: int,
    hypotension: list[Hypotension],
    artifacts: list[Artifact],
    rhythm: list[RhythmSpan],
    built: Built,
    wave_keys: dict[str, str],
) -> dict[str, Any]:
    numeric_of = {t.source: t.key for t in reversed(prof.tracks) if t.type == catalogue.N}
    tracks = {}
    for spec in prof.tracks:
        entry: dict[str, Any] = {
            "type": TYPE_NAMES[TrackType(spec.type)],
            "unit": spec.unit,
            "records": built.counts.get(spec.key, 0),
        }
        if spec.type == catalogue.W:
            entry.update(fmt=spec.fmt, srate=spec.srate, gain=spec.gain, offset=spec.offset)
        elif spec.type == catalogue.N:
            entry.update(fmt=spec.fmt, interval=spec.interval)
        tracks[spec.key] = entry
    episodes = [
        {
            "kind": "hypotension",
            "track": wave_keys["art"],
            "numeric": numeric_of.get("art_mbp"),
            **_times(h.start, h.end, dtstart),
            "params": {"map_level": h.level, "map_nadir": h.level - h.depth, "ramp_s": h.recovery},
        }
        for h in hypotension
    ]
    arts = [
        {
            "kind": a.kind,
            "track": a.track,
            **_times(a.start, a.end, dtstart),
            "params": dict(a.params),
        }
        for a in artifacts
    ]
    spans = (
        [{"class": cls, **_times(a, b, dtstart)} for a, b, cls in _segments(rhythm, duration)]
        if rhythm
        else []
    )
    shapes: dict[str, Any] = dict(built.shapes)
    redeclared: dict[str, list] = {}
    for decl in built.declarations:
        redeclared.setdefault(decl.key, []).append(decl)
    shapes["redeclared"] = [
        {
            "track": key,
            "declarations": [
                {
                    "tid": d.tid,
                    "since": dtstart + d.since,
                    "since_s": round(d.since, 6),
                    "gain": d.spec.gain,
                    "offset": d.spec.offset,
                    "same_as_previous": d.compatible,
                    "records": d.records,
                }
                for d in decls
            ],
        }
        for key, decls in redeclared.items()
        if len(decls) > 1
    ]
    shapes["packed"] = bool(arguments.get("packed"))
    return _jsonable(
        {
            "schema": SCHEMA,
            "generator": {
                "name": "vitalproc.synth",
                "version": __version__,
                "arguments": arguments,
            },
            "profile": prof.name,
            "start": dtstart,
            "end": dtstart + duration,
            "duration": duration,
            "dgmt": dgmt,
            "tracks": tracks,
            "records": sum(built.counts.values()),
            "episodes": episodes,
            "artifacts": arts,
            "rhythm": spans,
            "shapes": shapes,
        }
    )


def count_after_cut(truth: dict[str, Any], cut: dict[str, Any]) -> None:
    """Records the cut file still holds, per track and in all."""
    for key, lost in cut["lost"].items():
        truth["tracks"][key]["records_readable"] = truth["tracks"][key]["records"] - lost
    truth["records_readable"] = truth["records"] - sum(cut["lost"].values())


def count_packed(truth: dict[str, Any]) -> None:
    """The packed layout holds a wave track's records as one record."""
    for entry in truth["tracks"].values():
        if entry["type"] == "wav" and entry["records"]:
            entry["records_generated"] = entry["records"]
            entry["records"] = 1
    truth["records"] = sum(entry["records"] for entry in truth["tracks"].values())


def _segments(spans: list[RhythmSpan], duration: float) -> list[tuple[float, float, str]]:
    """The whole recording as (start, end, class) segments: 'N' between the spans."""
    out, t = [], 0.0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start > t:
            out.append((t, span.start, "N"))
        out.append((span.start, span.end, span.kind))
        t = span.end
    if t < duration:
        out.append((t, duration, "N"))
    return out


def rhythm_rows(spans: list[RhythmSpan], duration: float) -> list[tuple[float, str]]:
    """``(seconds from start, class)`` where each segment begins; empty without spans."""
    if not spans:
        return []
    return [(round(a, 3), cls) for a, _, cls in _segments(spans, duration)]


def sidecar_paths(path: str | os.PathLike) -> tuple[str, str]:
    """``case.vital`` -> (``case.truth.json``, ``case.rhythm.csv``)."""
    path = os.fspath(path)
    stem = path.removesuffix(".vital")
    return stem + ".truth.json", stem + ".rhythm.csv"


def write_files(path: str | os.PathLike, synthesis: Synthesis) -> dict[str, str]:
    """The file and its sidecars, each appearing complete or not at all."""
    path = os.fspath(path)
    truth_path, rhythm_path = sidecar_paths(path)
    doc = dict(synthesis.truth, file=os.path.basename(path))
    outputs = {
        "vital": (path, synthesis.data),
        "truth": (truth_path, (json.dumps(doc, indent=1) + "\n").encode("utf-8")),
    }
    if synthesis.rhythm:
        text = "time,class\n" + "".join(f"{t:.3f},{cls}\n" for t, cls in synthesis.rhythm)
        outputs["rhythm"] = (rhythm_path, text.encode("utf-8"))
    for target, data in outputs.values():
        with atomic_file(target) as f:
            f.write(data)
    return {role: target for role, (target, _) in outputs.items()}
