"""Typed stub of the compiled packet walk (``_parse.pyx``)."""

from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

# Walk outcomes (reader.Status mirrors them)
END: Final[int]
PACKET: Final[int]
FIRST_REC: Final[int]
STOP: Final[int]
BIG: Final[int]
EMPTY: Final[int]
NOMEM: Final[int]

# What a slot keeps of its records
KEEP_ALL: Final[int]
KEEP_DT: Final[int]
KEEP_NONE: Final[int]

CODES: dict[str, int]
BIG_COLUMNS_MAPPED: bool

class Block:
    """A malloc'd buffer handed to numpy without a copy (the buffer protocol)."""

    def __buffer__(self, flags: int, /) -> memoryview: ...
    def __reduce__(self) -> tuple[type[bytearray], tuple[bytes]]: ...

class Walker:
    dtstart: float
    dtend: float
    maxlen: float
    header_only: bool
    has_maxlen: bool
    first_rec_pending: bool
    stop_offset: int
    rec_consumed: int
    skip_pending: int
    big_limit: int
    n_big: int
    first_big: int
    base: int
    skip_empty: bool
    n_empty: int
    first_empty: int
    n_short: int
    first_short: int
    dtstart_set: bool
    dtend_set: bool

    def __init__(self) -> None: ...
    def add_slot(self, type: int, itemsize: int, srate: float) -> int: ...
    def set_slot(self, slot: int, type: int, itemsize: int, srate: float, clear: bool) -> None: ...
    def clear_slot(self, slot: int) -> None: ...
    def order_records(self, slot: int) -> None: ...
    def take_seq(self, slot: int) -> Block: ...
    def slot_nrec(self, slot: int) -> int: ...
    def slot_counts(self, slot: int) -> tuple[int, int]: ...
    def set_keep(self, slot: int, keep: int) -> None: ...
    def map_tid(self, tid: int, slot: int) -> None: ...
    def set_reclen(self, tid: int, reclen: int) -> None: ...
    def take(self, slot: int) -> tuple[int, Block, Block, Block]: ...
    def walk(
        self, buf: bytes | bytearray | memoryview | NDArray[np.uint8], pos: int, final: bool
    ) -> tuple[int, int, int]: ...
    def release(self) -> None: ...

def track_info(b: bytes, plen: int) -> tuple[Any, ...] | None:
    """A track declaration's fields in the usual layout, or None (reader.py reads it)."""
