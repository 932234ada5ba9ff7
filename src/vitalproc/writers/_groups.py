"""Exporting a recording too big to hold: one group of tracks at a time.

A 24-hour operating-room recording holds ~700 MB of samples. Instead of reading it into
one ``VitalFile``, the export first surveys the file (``reader.survey``: one pass keeping
only record times, 8 bytes a record), then cuts the selected tracks, in file order, into
groups of at most ``budget`` bytes and reads the file once per group, holding only that
group's records (``reader.read_only``). Writers see an ordinary ``Plan``: its parts know
their record times and counts from the start, and their samples arrive when first used.
The output is the same, byte for byte, as from a single read; only the time differs (one
more pass over the file per group).
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from ..errors import VitalWarning
from ..io.reader import read_only, survey
from ..ops.selection import Part, Plan, Selection, choose, devices_of, record_index

if TYPE_CHECKING:
    from ..io.reader import Survey

#: Default budget for the track data an export holds at once: a recording whose estimated
#: size is past it is exported a group of tracks at a time.
DEFAULT_BUDGET = 160 << 20

#: Inflated bytes per compressed byte assumed when the gzip trailer cannot tell (a file of
#: several gzip members records only the last member's size). Recordings inflate 1.4-2x.
RATIO_GUESS = 2


def estimated_size(path: str) -> int | None:
    """An estimate of the memory a full read of ``path`` takes (the inflated size), or
    None when ``path`` is not a local gzip file (a URL, a converted ``.parquet`` case:
    those are read whole)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            if f.read(2) != b"\x1f\x8b":
                return None
            if size < 18:
                return size
            f.seek(-4, os.SEEK_END)
            (isize,) = struct.unpack("<I", f.read(4))  # the inflated size mod 2**32
    except OSError:
        return None
    return max(isize, RATIO_GUESS * size)


def needs_groups(path: str, budget: int | None) -> bool:
    """Whether ``path`` is to be exported a group of tracks at a time."""
    if not budget:
        return False
    size = estimated_size(path)
    return size is not None and size > budget


class GroupedParts(Sequence[Part]):
    """The parts of a plan over a survey; a part's group is read when its arrays are
    first used, and the group read before is let go."""

    def __init__(
        self,
        path: str,
        found: Survey,
        chosen: Sequence[str],
        sel: Selection,
        budget: int,
        read_args: dict[str, Any],
    ):
        self.path = path
        self.read_args = read_args
        self.parts = [
            Part(
                name,
                found.vf.trks[name],
                record_index(found.dt[name], sel),
                sel.physical,
                times=found.dt[name],
                pending=self,
            )
            for name in chosen
        ]
        self.group_of: dict[int, list[Part]] = {}
        group: list[Part] = []
        size = 0
        for part in self.parts:  # consecutive tracks, so that output stays in file order
            nbytes = found.nbytes(part.name)
            if group and size + nbytes > budget:
                group, size = [], 0
            group.append(part)
            size += nbytes
            self.group_of[id(part)] = group
        self.reads = 0  # reads of the file so far (at most one per group)

    def load(self, part: Part) -> None:
        """Read ``part``'s group and hand each of its parts its arrays."""
        group = self.group_of[id(part)]
        with warnings.catch_warnings():  # the survey has reported them once
            warnings.simplefilter("ignore", VitalWarning)
            vf = read_only(self.path, {p.name for p in group}, **self.read_args)
        self.reads += 1
        for p in group:
            if p.pending is self:
                p.take(vf.trks[p.name])

    @property
    def groups(self) -> int:
        return len({id(g) for g in self.group_of.values()})

    def __len__(self) -> int:
        return len(self.parts)

    @overload
    def __getitem__(self, i: int) -> Part: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[Part]: ...

    def __getitem__(self, i: Any) -> Any:
        return self.parts[i]

    def __iter__(self) -> Iterator[Part]:
        return iter(self.parts)


def grouped_plan(
    path: str,
    sel: Selection,
    budget: int = DEFAULT_BUDGET,
    tracks: Any = None,
    exclude: Any = None,
    compat: str | None = None,
    found: Survey | None = None,
) -> Plan:
    """``plan(read(path, tracks, exclude, compat=compat), sel)`` holding at most about
    ``budget`` bytes of track data at a time (a single track bigger than that is read on
    its own). ``found``: the file's survey, when the caller has made it already."""
    found = found if found is not None else survey(path, tracks, exclude, compat)
    chosen, unmatched = choose(found.vf, sel)
    parts = GroupedParts(
        path,
        found,
        [name for name, _ in chosen],
        sel,
        budget,
        {"tracks": tracks, "exclude": exclude, "compat": compat},
    )
    return Plan(
        found.vf, sel, parts, devices_of(found.vf, parts, sel), unmatched, path, release=True
    )
