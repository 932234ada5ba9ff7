"""A track name declared again with another meaning: its declarations' records joined.

A recording may declare one track name several times (a device reconnects, an ADC is
recalibrated, two devices share a name). The reader collects the records of each
declaration that gives samples another meaning (type, sampling rate, format, or for the
integer formats gain and offset) in a slot of its own, with each record's position in the
stream; ``join`` makes the track from them:

- one meaning: the columns as read (no copy);
- several, of one type and sampling rate: their records in file order, values in physical
  units (float64, fmt 2, gain 1, offset 0: ``Track.to_numpy(physical=True)`` of each
  declaration's own records), and ``Track.segments`` lists the runs of records by
  declaration;
- a declaration of another type or sampling rate cannot share the track's column: its
  records make a track of their own, named ``Name#k`` (``k``: its first declaration's
  number in the file, from 1).
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .._constants import TrackType
from ._arrays import ranges
from .vitalfile import Segment, Track

#: (declaration, nrec, dt, ends, data, seq, nval): one slot as the walk handed it over.
Part = tuple[Track, int, Any, Any, Any, Any, int]


def _key(t: Track) -> tuple[Any, ...]:
    return (t.type, t.srate if t.type == TrackType.WAVE else None)


def join(track: Track, parts: list[Part]) -> tuple[list[Track], list[tuple[int, int]]]:
    """Fill ``track`` (the name's last declaration) from the slots of every declaration.

    Returns the tracks made, ``track`` first, then one per other type or sampling rate,
    and for each the records and samples (waves) or text bytes (strings) walked.
    """
    groups: dict[tuple[Any, ...], list[tuple[int, Part]]] = {}
    for i, part in enumerate(parts):
        groups.setdefault(_key(part[0]), []).append((i, part))
    main = groups.pop(_key(track))
    tracks, counts = [track], [_fill(track, [p for _, p in main])]
    for members in groups.values():
        first, last = members[0][0], members[-1][1][0]
        extra = Track(
            f"{last.name}#{first + 1}",
            last.type,
            col=last.col,
            montype=last.montype,
            dname=last.dname,
            unit=last.unit,
            fmt=last.fmt,
            srate=last.srate,
            gain=last.gain,
            offset=last.offset,
            mindisp=last.mindisp,
            maxdisp=last.maxdisp,
        )
        extra.apart_from = track.dtname
        tracks.append(extra)
        counts.append(_fill(extra, [p for _, p in members]))
    return tracks, counts


def _fill(track: Track, parts: list[Part]) -> tuple[int, int]:
    """Give ``track`` the records of ``parts`` (one type and sampling rate)."""
    # Decided by the declarations, not by which of them hold records: a read of the
    # header only, or of a time window, gives the track the same format.
    held = parts
    if len(held) == 1:  # one meaning: the columns as read, no copy
        decl, nrec, dt, ends, data, _, nval = held[0]
        track.fmt, track.gain, track.offset = decl.fmt, decl.gain, decl.offset
        track._set_columns(nrec, dt, ends, data)
        return nrec, nval
    ones, seqs = [], []
    meanings = [(p[0].fmt, p[0].gain, p[0].offset) for p in held]  # before track changes
    for decl, nrec, dt, ends, data, seq, _ in held:
        one = Track(
            decl.name, decl.type, fmt=decl.fmt, srate=decl.srate, gain=decl.gain, offset=decl.offset
        )
        one._set_columns(nrec, dt, ends, data)
        ones.append(one)
        seqs.append(np.frombuffer(seq, np.int64))
    # Each declaration's values in physical units, straight into one array.
    samples = np.empty(sum(len(one.data) for one in ones), np.float64)
    at = 0
    for one in ones:
        one._physical_into(samples[at : at + len(one.data)])
        at += len(one.data)
    seq = np.concatenate(seqs)
    which = np.repeat(np.arange(len(ones)), [len(one.dt) for one in ones])
    dt = np.concatenate([one.dt for one in ones])
    wave = track.type == TrackType.WAVE
    n: Any = (
        np.concatenate([np.diff(cast(np.ndarray, one.offsets)) for one in ones]) if wave else None
    )
    if len(seq) > 1 and (seq[1:] < seq[:-1]).any():  # records interleave: file order
        # Stable: records a slot held before the name was read apart share one position.
        order = np.argsort(seq, kind="stable")
        which, dt = which[order], dt[order]
        if not wave:
            samples = samples[order] if len(samples) == len(order) else samples
        elif len(n) == len(order):  # (a walk keeping times only holds no samples)
            start = np.concatenate([[0], np.cumsum(n)[:-1]])[order]
            n = n[order]
            samples = samples[ranges(start, n)]
    track.fmt, track.gain, track.offset = 2, 1.0, 0.0
    ends = np.zeros(1, np.int64)
    if wave and len(n) == len(dt):
        ends = np.concatenate([[0], np.cumsum(n)]).astype(np.int64)
    # Handed over as the reader's buffers are (numpy arrays are buffers too), so that
    # what reads those (writers/_raw.py) reads this track alike.
    track._dt = track._data = track._offsets = None
    track._set_columns(len(dt), *(a.view(np.uint8) for a in (dt, ends, samples)))
    track.segments = _runs(which, meanings)
    return sum(p[1] for p in held), sum(p[6] for p in held)


def segments_of(segments: list[Segment], index: np.ndarray) -> list[Segment]:
    """The runs of records by declaration once only the records ``index`` (ascending)
    of a track are kept (``edit.keep_records``)."""
    which = np.repeat(np.arange(len(segments)), [s.stop - s.start for s in segments])[index]
    return _runs(which, [s[2:] for s in segments])


def _runs(which: np.ndarray, meanings: list[tuple[Any, ...]]) -> list[Segment]:
    """Segments of the runs of equal ``which`` (each record's declaration), with that
    declaration's (fmt, gain, offset)."""
    if not len(which):  # (a walk that keeps no times)
        return []
    bounds = np.flatnonzero(np.diff(which)).tolist()
    starts, stops = [0, *(b + 1 for b in bounds)], [*(b + 1 for b in bounds), len(which)]
    return [Segment(a, b, *meanings[which[a]]) for a, b in zip(starts, stops)]
