"""Which lanes a recording is drawn in, as Vital Recorder shows a case: one lane per track,
in the recording's order (its track-order command, then file order), grouped by device
(devices in the order their first track comes); waves tall, numerics and strings short.

Times on screen are the recording's local time: ``dgmt`` is UTC minus local time in
minutes, so local = Unix time - 60 * dgmt (KST, dgmt -540: nine hours ahead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from .._constants import TrackType
from .._names import matches, split_names

if TYPE_CHECKING:
    from ..model import Track, VitalFile

#: Lane heights, relative (a wave's lane is three times a numeric's).
HEIGHT = {"wave": 3.0, "numeric": 1.0, "string": 1.0}
KIND: dict[int, str] = {
    TrackType.WAVE: "wave",
    TrackType.NUMERIC: "numeric",
    TrackType.STRING: "string",
}


class Lane(NamedTuple):
    """One lane: the track's key in ``VitalFile.trks``, what it is and how it looks.
    ``lo``/``hi`` are the track's display range (``mindisp``/``maxdisp``) or None when
    the file gives none."""

    key: str
    kind: str
    device: str
    name: str
    unit: str
    color: str
    lo: float | None
    hi: float | None

    @property
    def height(self) -> float:
        return HEIGHT[self.kind]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit else self.name


def tz_offset(vf: VitalFile) -> float:
    """Seconds to add to a Unix time to get the recording's local wall-clock time."""
    return -60.0 * float(vf.dgmt or 0)


def color(col: int | None) -> str:
    """A track's ``col`` (0xAARRGGBB, as Vital Recorder stores it) as ``#rrggbb``."""
    if col is None or col < 0:
        return "#ffffff"
    return f"#{col & 0xFFFFFF:06x}"


def _luminance(hex_color: str) -> float:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def on_light(hex_color: str) -> str:
    """The colour to draw on a light background: very light colours (white is the usual
    default) become near-black, others are kept."""
    return "#202020" if _luminance(hex_color) > 0.75 else hex_color


def on_dark(hex_color: str) -> str:
    """The colour to draw on a dark background: very dark colours (an event track's
    black) become light grey, others are kept."""
    return "#c8c8c8" if _luminance(hex_color) < 0.2 else hex_color


def ordered_keys(vf: VitalFile) -> list[str]:
    """Track keys in display order: the track-order command's, then the rest in file
    order, then grouped by device (devices in order of their first track)."""
    keys = [k for k in vf.order if k in vf.trks]
    seen = set(keys)
    keys += [k for k in vf.trks if k not in seen]
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(vf.trks[key].dname, []).append(key)
    return [key for group in groups.values() for key in group]


def select(vf: VitalFile, tracks: Any = None) -> list[str]:
    """``ordered_keys`` limited to ``tracks`` (names as ``vitalproc.read`` takes them:
    exact, suffix, ``Device/*``; a comma-separated string or a list). A name that
    matches nothing raises ``KeyError``."""
    keys = ordered_keys(vf)
    names = split_names(tracks)
    if not names:
        return keys
    chosen = set()
    for name in names:
        hits = [k for k in keys if matches(k, vf.trks[k].dname, [name])]
        if not hits:
            raise KeyError(f"no track matches {name!r}")
        chosen.update(hits)
    return [k for k in keys if k in chosen]


def lane_of(key: str, track: Track) -> Lane:
    kind = KIND.get(track.type, "string")
    lo, hi = float(track.mindisp), float(track.maxdisp)
    has_range = hi > lo and kind != "string"
    return Lane(
        key,
        kind,
        track.dname,
        track.name,
        track.unit or "",
        color(track.col),
        lo if has_range else None,
        hi if has_range else None,
    )


def layout(vf: VitalFile, tracks: Any = None) -> list[Lane]:
    """The lanes of a recording (or of the ``tracks`` chosen), top to bottom."""
    return [lane_of(k, vf.trks[k]) for k in select(vf, tracks) if vf.trks[k].type in KIND]
