"""The columnar model: a recording's devices, tracks as arrays, and span. No I/O.

``vitalfile`` holds ``VitalFile``, ``Track``, ``Device`` and ``ReadIssue``; ``_recs`` the
lazy vitaldb-style ``recs`` view of a track.
"""

from __future__ import annotations

from .vitalfile import Device, ReadIssue, Segment, Track, VitalFile

__all__ = ["Device", "ReadIssue", "Segment", "Track", "VitalFile"]
