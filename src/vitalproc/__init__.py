"""vitalproc: read VitalDB .vital recordings into arrays, bit-identical to vitaldb, fast.

>>> import vitalproc
>>> vf = vitalproc.read(vitalproc.SAMPLE)
>>> vf.trks["Intellivue/HR"].values[:3]          # doctest: +SKIP
"""

from __future__ import annotations

import os as _os

from . import _open  # noqa: F401  (plugs the readers into VitalFile(path) and read())
from ._version import __version__
from .errors import VitalError, VitalFormatError, VitalWarning
from .io.reader import read
from .model import Device, ReadIssue, Track, VitalFile

#: A small real recording shipped with the package (Philips Intellivue, MIT licence:
#: see ``data/LICENSE-sample.txt``).
SAMPLE = _os.path.join(_os.path.dirname(__file__), "data", "sample.vital")

__all__ = [
    "SAMPLE",
    "Device",
    "ReadIssue",
    "Track",
    "VitalError",
    "VitalFile",
    "VitalFormatError",
    "VitalWarning",
    "__version__",
    "read",
]

# Loaded on first use, so that `import vitalproc` stays fast: name -> (the module holding
# it, the attribute; None: the module itself, as for the callable ``vitalproc.synth``)
_LAZY: dict[str, tuple[str, str | None]] = {
    "convert": ("dataset.batch", "convert"),
    "export": ("writers", "export"),
    "open_dataset": ("dataset.query", "open_dataset"),
    "synth": ("synth", None),
    "qc": ("quality.runner", "qc"),
    "cohort": ("quality.cohort", "cohort"),
    "windows": ("windows", None),
    "opendata": ("opendata", None),
}
__all__ += list(_LAZY)


def __getattr__(name: str) -> object:  # PEP 562: the names of _LAZY on first use
    if name not in _LAZY:
        raise AttributeError(f"module 'vitalproc' has no attribute {name!r}")
    from importlib import import_module

    module, attribute = _LAZY[name]
    value: object = import_module(f".{module}", __name__)
    if attribute is not None:
        value = getattr(value, attribute)
    globals()[name] = value
    return value
