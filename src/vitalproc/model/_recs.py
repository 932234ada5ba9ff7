"""vitaldb's ``trk.recs`` shape, built lazily from a track's arrays.

Code that migrates from vitaldb iterates ``[{'dt': float, 'val': ...}]``; this view gives
exactly those values (wave samples as numpy views in the on-disk dtype, numbers as Python
``float``/``int`` as ``struct.unpack`` returns them, texts decoded with UTF-8 ignoring bad
bytes) without materialising a dict per record until one is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast, overload

from .._constants import TrackType

if TYPE_CHECKING:
    import numpy as np

    from .vitalfile import Track


class Records(Sequence[dict[str, Any]]):
    __slots__ = ("_track",)

    def __init__(self, track: Track):
        self._track = track

    def __len__(self) -> int:
        return len(self._track.dt)

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("record index out of range")
        t = self._track
        offsets = cast("np.ndarray", t.offsets)  # waves and strings have boundaries
        if t.type == TrackType.WAVE:
            val: Any = t.data[offsets[i] : offsets[i + 1]]
        elif t.type == TrackType.STRING:
            val = t.data[offsets[i] : offsets[i + 1]].tobytes().decode("utf-8", "ignore")
        else:
            val = t.data[i].item()
        return {"dt": float(t.dt[i]), "val": val}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        t = self._track
        dts = t.dt.tolist()
        if t.type == TrackType.WAVE:
            ends = cast("np.ndarray", t.offsets).tolist()
            data = t.data
            vals: Any = (data[a:b] for a, b in zip(ends, ends[1:]))
        elif t.type == TrackType.STRING:
            vals = iter(t.texts())
        else:
            vals = iter(t.data.tolist())
        for dt, val in zip(dts, vals):
            yield {"dt": dt, "val": val}

    def __repr__(self) -> str:
        return f"<{len(self)} records of {self._track.dtname!r}>"
