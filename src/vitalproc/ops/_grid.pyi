"""Typed stub of the compiled cell loops of a time grid (``_grid.pyx``)."""

from typing import Any

import numpy as np
from numpy.typing import NDArray

PARALLEL_CELLS: int

def object_block(nrows: int, ncols: int, fill: object) -> NDArray[np.object_]: ...
def put_floats(
    out: NDArray[np.object_],
    start: int,
    rows: NDArray[np.int64] | None,
    values: NDArray[np.float32],
    held: NDArray[np.int64] | None = None,
    keys: NDArray[np.uint16] | None = None,
) -> None: ...
def find_samples(
    positions: NDArray[np.int64],
    start: NDArray[np.int64],
    first: NDArray[np.int64],
    count: NDArray[np.int64],
) -> NDArray[np.int64]: ...
def copy_runs(
    dst: NDArray[np.float32],
    src: NDArray[np.float32],
    at: NDArray[np.int64],
    first: NDArray[np.int64],
    count: NDArray[np.int64],
) -> None: ...
def _fill_part(block: NDArray[np.object_], lo: int, hi: int, fill: Any) -> None: ...
def paint_samples(
    positions: NDArray[np.int64],
    start: NDArray[np.int64],
    first: NDArray[np.int64],
    count: NDArray[np.int64],
) -> NDArray[np.int64]: ...
def record_rows(
    dt: NDArray[np.float64], dtstart: float, interval: float, nret: int
) -> NDArray[np.int64]: ...
def put_records(
    out: NDArray[np.float32],
    dt: NDArray[np.float64],
    values: NDArray[Any],
    dtstart: float,
    interval: float,
) -> None: ...
def put_numerics(
    block: NDArray[np.float32],
    rows: list[int],
    dts: list[NDArray[np.float64]],
    values: list[NDArray[Any]],
    dtstart: float,
    interval: float,
) -> None: ...
def wave_runs(
    dt: NDArray[np.float64], offsets: NDArray[np.int64], dtstart: float, srate: float, nsamp: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], bool]: ...
def put_record_floats(
    out: NDArray[np.object_],
    dt: NDArray[np.float64],
    values: NDArray[Any],
    dtstart: float,
    interval: float,
) -> None: ...
def put_object_rows(
    block: NDArray[np.object_],
    rows: list[int],
    dts: list[NDArray[np.float64]],
    values: list[NDArray[Any]],
    ends: list[NDArray[np.int64] | None],
    dtstart: float,
    interval: float,
) -> None: ...
def put_record_objects(
    out: NDArray[np.object_],
    dt: NDArray[np.float64],
    values: list[Any],
    dtstart: float,
    interval: float,
) -> None: ...
def linspace_picks(nsamp: int, nrows: int) -> NDArray[np.int64]: ...

WAVE_TYPENUMS: frozenset[int]

def put_wave(
    out: NDArray[np.float32],
    positions: NDArray[np.int64] | None,
    start: NDArray[np.int64],
    first: NDArray[np.int64],
    count: NDArray[np.int64],
    data: NDArray[Any],
    gap: bool,
    sentinel: int,
    scale: bool,
    gain: float,
    offset: float,
) -> None: ...
