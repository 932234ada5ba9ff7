"""Format numbers of the .vital file, each cited to where vitaldb 1.7.2 uses it.

The compiled core sees the same numbers through ``_parse.pxd``; ``tests/test_parse.py``
checks that both agree, so nothing else in the package writes a bare packet or fmt code.
"""

from __future__ import annotations

from enum import IntEnum

MAGIC = b"VITA"

#: Header lengths with a meaning (``load_vital``): 10 bytes hold dgmt only, 26 add
#: dtstart/dtend at offsets 10 and 18, 27 add the packed flag at offset 26.
HEADER_DTSTART_LEN = 26
HEADER_PACKED_LEN = 27

#: ``load_vital`` stops reading an unpacked file at a packet longer than this.
MAX_UNPACKED_PACKET = 1_000_000


class Packet(IntEnum):
    """Packet types (``load_vital``'s ``packet_type`` branches)."""

    TRKINFO = 0
    REC = 1
    CMD = 6
    DEVINFO = 9
    RAW = 10


class Command(IntEnum):
    """Commands carried by a CMD packet."""

    ORDER = 5
    RESET_EVENTS = 6


class TrackType(IntEnum):
    """Track types (``TYPE_WAV``, ``TYPE_NUM``, ``TYPE_STR``)."""

    WAVE = 1
    NUMERIC = 2
    STRING = 5


#: fmt code -> numpy dtype string of a sample on disk. vitaldb's ``FMT_TYPE_LEN`` with the
#: golden-standard fix: upstream maps 7/8 to 'l'/'L', 8 bytes on 64-bit Linux.
#: (Strings, not dtypes: ``import vitalproc`` does not import numpy.)
FMT_DTYPE: dict[int, str] = {
    1: "<f4",
    2: "<f8",
    3: "<i1",
    4: "<u1",
    5: "<i2",
    6: "<u2",
    7: "<i4",
    8: "<u4",
}

FMT_ITEMSIZE: dict[int, int] = {fmt: int(code[2]) for fmt, code in FMT_DTYPE.items()}

#: Formats holding physical values (vitaldb applies gain and offset only for fmt > 2).
FLOAT_FMTS = frozenset((1, 2))

#: Gap filler that vitaldb's packed writer puts between wave records (``FMT_NAN``).
FMT_GAP_SENTINEL: dict[int, float] = {
    1: float("nan"),
    2: float("nan"),
    3: -128,
    4: 255,
    5: -32768,
    6: 65535,
    7: -(2**31),
    8: 2**32 - 1,
}

# -- names of the track types: every table of them derives from these two ------------
#: vitaldb's short names (``Track.type_name``, a dataset's track table, the synth truth).
TYPE_NAMES: dict[int, str] = {
    TrackType.WAVE: "wav",
    TrackType.NUMERIC: "num",
    TrackType.STRING: "str",
}
#: The words (a long table's ``type`` column, ``--track-type``; upper case in the JSON
#: document's ``type_name``).
KIND_NAMES: dict[int, str] = {
    TrackType.WAVE: "wave",
    TrackType.NUMERIC: "numeric",
    TrackType.STRING: "string",
}

#: The key under which vitalproc keeps its own metadata in the footer of the Parquet and
#: Arrow files it writes (a long table's tracks, a dataset case's layout).
METADATA_KEY = b"vitalproc"
