"""Named recordings in the shapes real files come in, one per shape: for tests and the
benchmark's shape corpus.

``SHAPES[name]`` is a ``Shape``: what it holds and the ``synth`` arguments that make it;
``make(name, path=None, seed=0)`` generates it (and writes it with its truth file when
given a path)::

    from vitalproc.synth import shapes
    for name in shapes.names():
        shapes.make(name, f"corpus/{name}.vital")
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .generate import Synthesis, synth

_OR_NUMERICS = [
    "Solar8000/HR",
    "Solar8000/ART_SBP",
    "Solar8000/ART_DBP",
    "Solar8000/ART_MBP",
    "Solar8000/CVP",
    "Solar8000/PLETH_SPO2",
    "Solar8000/PLETH_HR",
    "Solar8000/ETCO2",
    "Solar8000/RR_CO2",
    "Solar8000/BT",
    "Solar8000/NIBP_SBP",
    "Solar8000/NIBP_DBP",
    "Solar8000/NIBP_MBP",
    "Primus/ETCO2",
    "Primus/INCO2",
    "Primus/RR_CO2",
    "Primus/MAC",
    "Primus/PIP_MBAR",
    "Primus/PEEP_MBAR",
    "BIS/BIS",
    "BIS/SQI",
    "BIS/SEF",
    "BIS/TOTPOW",
    "Orchestra/PPF20_RATE",
    "Orchestra/PPF20_CE",
    "Orchestra/RFTN20_RATE",
    "Orchestra/RFTN20_CE",
]


@dataclass(frozen=True)
class Shape:
    """A shape: what the file holds, and the ``synth`` arguments that make it."""

    description: str
    arguments: dict[str, Any]


SHAPES: dict[str, Shape] = {
    "demo_overlap": Shape(
        "Vital Recorder's simulator device: six 100 Hz float waves over 38 minutes, per "
        "track one record of 116,372 samples and 11 of 10-23 samples, 4 of them starting "
        "inside the long one (72 records)",
        {"profile": "demo", "hours": 38 / 60},
    ),
    "redeclared": Shape(
        "34 track names declared again under new track ids; SNUADC/ECG_II five times "
        "(twice with a new gain or offset, twice identical), SNUADC/ART once with a new gain",
        {"profile": "or", "hours": 0.25, "redeclare": True},
    ),
    "outlier_span": Shape(
        "a 20-minute operating-room case whose two stray timestamps stretch the file to 13 hours",
        {"profile": "or", "hours": 1 / 3, "outliers": True},
    ),
    "many_tracks": Shape(
        "80 tracks over 4 hours: 27 numerics, the EVENT track and 52 string tracks",
        {"profile": "or", "hours": 4.0, "string_tracks": 52, "tracks": _OR_NUMERICS + ["EVENT"]},
    ),
    "tiny": Shape(
        "under 1 KB: 11 tracks, 12 records over 2 seconds",
        {
            "profile": "icu",
            "hours": 2 / 3600,
            "tracks": [
                "HR",
                "ST1",
                "ART1_SBP",
                "ART1_DBP",
                "ART1_MBP",
                "SPO2",
                "PR",
                "RR",
                "TEMP",
                "NIBP_SBP",
                "EVENT",
            ],
        },
    ),
    "oversize": Shape(
        "the simulator device with records of 1.2 MB (over vitaldb's 1,000,000-byte limit)",
        {"profile": "demo", "hours": 1.0, "oversize": True},
    ),
    "truncated": Shape(
        "an ICU recording whose stream ends inside a record packet (copied while recording)",
        {"profile": "icu", "hours": 0.25, "truncate": True},
    ),
    "packed": Shape(
        "an ICU recording in vitaldb's packed layout (one record per wave track)",
        {"profile": "icu", "hours": 0.25, "packed": True},
    ),
}


def names() -> list[str]:
    return list(SHAPES)


def make(
    name: str, path: str | os.PathLike | None = None, seed: int = 0, **overrides: Any
) -> Synthesis:
    """The recording of shape ``name`` (written to ``path`` with its truth file when
    given); ``overrides`` change its ``synth`` arguments."""
    try:
        shape = SHAPES[name]
    except KeyError:
        raise ValueError(f"unknown shape {name!r}; choose one of {', '.join(SHAPES)}") from None
    return synth(path, seed=seed, **{**shape.arguments, **overrides})
