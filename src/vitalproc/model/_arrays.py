"""Rules on a track's columns that the layers above share: when a wave record ends, the
physical value of a raw one, and the sample positions of a run of records.

numpy is imported when a function runs (the model imports without it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from .._constants import FMT_GAP_SENTINEL, TrackType

if TYPE_CHECKING:
    import numpy as np

    from .vitalfile import Track


def record_ends(trk: Track) -> np.ndarray:
    """Each record's end time as vitaldb's ``crop`` computes it: a wave record lasts
    ``len(samples) / srate``; other records, and waves without a rate, are instants.

    Any nonzero rate counts, as in vitaldb (which divides by zero at 0): a negative rate
    gives ends before the starts, NaN gives NaN. Callers that want positive rates only
    check ``trk.srate > 0`` themselves.
    """
    import numpy as np

    if trk.type == TrackType.WAVE and trk.srate != 0:
        offsets = cast("np.ndarray", trk.offsets)  # a wave always has them
        return trk.dt + np.diff(offsets) / trk.srate
    return trk.dt


def physical(trk: Track, raw: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``raw * gain + offset`` in float64 (each raw value widened to float64 first), and
    in a wave the format's gap sentinel as NaN; into ``out`` if given.

    For the integer formats (fmt 3..8): float formats hold physical values already.
    """
    sentinel = FMT_GAP_SENTINEL[trk.fmt] if trk.type == TrackType.WAVE else None
    return scale(raw, float(trk.gain), float(trk.offset), sentinel, out)


def scale(
    raw: np.ndarray,
    gain: float,
    offset: float,
    sentinel: float | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``raw * gain + offset`` in float64, raw values equal to ``sentinel`` as NaN: the
    rule of ``physical`` for callers that hold a track's scale but not the track."""
    import numpy as np

    out = np.multiply(raw, gain, out=out, dtype=np.float64)
    out += offset
    if sentinel is not None:
        out[raw == sentinel] = np.nan
    return out


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices ``starts[k] .. starts[k] + lengths[k] - 1`` of every ``k``, one run
    after the other (int64): where each of a set of records' samples lies."""
    import numpy as np

    ends = np.cumsum(lengths, dtype=np.int64)
    total = int(ends[-1]) if len(ends) else 0
    index: np.ndarray = np.arange(total, dtype=np.int64)
    index += np.repeat(starts - ends + lengths, lengths)
    return index
