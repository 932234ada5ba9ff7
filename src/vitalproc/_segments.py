"""A track name declared again with another meaning: its declarations' records joined.

A recording may declare one track name several times (a device reconnects, an ADC is
recalibrated, two devices share a name). The reader collects the records of each
declaration that gives samples another meaning (type, sampling rate, format, or for the
integer formats gain and offset) in a slot of its own, with each record's position in the
stream; ``join`` makes the track from them:

- one declaration holds records: its columns, as read (no copy);
- several, of one type and sampling rate: their records in file order, values in physical
  units (float64, fmt 2, gain 1, offset 0: ``Track.to_numpy(physical=True)`` of each
  declaration's own records), and ``Track.segments`` lists the runs of records by
  declaration;
- a declaration of another type or sampling rate cannot share the track's column: its
  records make a track of their own, named ``Name#k`` (``k``: its first declaration's
  number in the file, from 1).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._constants import TrackType
from .model import Segment, Track

#: (declaration, nrec, dt, ends, data, seq, nval): one slot as the walk handed it over.
Part = tuple[Track, int, Any, Any, Any, Any, int]


def _key(t: Track) -> tuple:
    return (t.type, t.srate if t.type == TrackType.WAVE else None)


def join(track: Track, parts: list[Part]) -> tuple[list[Track], list[int]]:
    """Fill ``track`` (the name's last declaration) from the slots of every declaration.

    Returns the tracks made, ``track`` first, then one per other type or sampling rate,
    and the samples (waves) or text bytes (strings) each holds as walked.
    """
    groups: dict[tuple, list[tuple[int, Part]]] = {}
    for i, part in enumerate(parts):
        groups.setdefault(_key(part[0]), []).append((i, part))
    main = groups.pop(_key(track))
    tracks, nvals = [track], [_fill(track, [p for _, p in main])]
    for members in groups.values():
        first, last = members[0][0], members[-1][1][0]
        extra = Track(f"{last.name}#{first + 1}", last.type, col=last.col,
                      montype=last.montype, dname=last.dname, unit=last.unit, fmt=last.fmt,
                      srate=last.srate, gain=last.gain, offset=last.offset,
                      mindisp=last.mindisp, maxdisp=last.maxdisp)
        tracks.append(extra)
        nvals.append(_fill(extra, [p for _, p in members]))
    return tracks, nvals


def _fill(track: Track, parts: list[Part]) -> int:
    """Give ``track`` the records of ``parts`` (one type and sampling rate)."""
    held = [p for p in parts if p[1]] or parts[-1:]
    if len(held) == 1:  # one meaning: the columns as read, no copy
        decl, nrec, dt, ends, data, _, nval = held[0]
        track.fmt, track.gain, track.offset = decl.fmt, decl.gain, decl.offset
        track._set_columns(nrec, dt, ends, data)
        return nval
    dts, values, lengths, seqs = [], [], [], []
    meanings = [(p[0].fmt, p[0].gain, p[0].offset) for p in held]  # before track changes
    for decl, nrec, dt, ends, data, seq, _ in held:
        one = Track(decl.name, decl.type, fmt=decl.fmt, srate=decl.srate, gain=decl.gain,
                    offset=decl.offset)
        one._set_columns(nrec, dt, ends, data)
        dts.append(one.dt)
        seqs.append(np.frombuffer(seq, np.int64))
        values.append(one.to_numpy(physical=True))
        if one.offsets is not None:
            lengths.append(np.diff(one.offsets))
    # Stable: records a slot held before the names were read apart share one position.
    order = np.argsort(np.concatenate(seqs), kind="stable")
    which = np.repeat(np.arange(len(held)), [len(d) for d in dts])[order]
    track._columns = None
    track._dt = np.concatenate(dts)[order]
    track.fmt, track.gain, track.offset = 2, 1.0, 0.0
    samples = np.concatenate(values)
    if track.type == TrackType.WAVE:
        n = np.concatenate(lengths)
        kept = int(n.sum()) == len(samples)
        start = np.concatenate([[0], np.cumsum(n)[:-1]])[order]
        n = n[order]
        track._offsets = np.concatenate([[0], np.cumsum(n)]).astype(np.int64)
        if kept:  # (a walk keeping times only holds no samples)
            samples = samples[np.repeat(start - track._offsets[:-1], n)
                              + np.arange(track._offsets[-1])]
        else:
            track._offsets = np.zeros(1, np.int64)
        track._data = samples
    else:
        track._data = samples[order] if len(samples) == len(order) else samples
    bounds = np.flatnonzero(np.diff(which)) + 1
    starts, stops = [0, *bounds.tolist()], [*bounds.tolist(), len(which)]
    track.segments = [Segment(a, b, *meanings[which[a]]) for a, b in zip(starts, stops)]
    return sum(p[6] for p in held)
