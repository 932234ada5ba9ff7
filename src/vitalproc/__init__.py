"""vitalproc: read VitalDB .vital recordings into arrays, bit-identical to vitaldb, fast.

>>> import vitalproc
>>> vf = vitalproc.read(vitalproc.SAMPLE)
>>> vf.trks["Intellivue/HR"].values[:3]          # doctest: +SKIP
"""
from __future__ import annotations

import os as _os

from ._version import __version__
from .errors import VitalError, VitalFormatError, VitalWarning
from .model import Device, ReadIssue, Track, VitalFile
from .reader import read

#: A small real recording shipped with the package (Philips Intellivue, MIT licence:
#: see ``data/LICENSE-sample.txt``).
SAMPLE = _os.path.join(_os.path.dirname(__file__), "data", "sample.vital")

__all__ = [
    "Device",
    "ReadIssue",
    "SAMPLE",
    "Track",
    "VitalError",
    "VitalFile",
    "VitalFormatError",
    "VitalWarning",
    "__version__",
    "read",
]
