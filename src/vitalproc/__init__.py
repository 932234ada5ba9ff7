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
from .io.reader import read
from . import _open  # noqa: F401  (plugs the readers into VitalFile(path) and read())

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

# Loaded on first use, so that `import vitalproc` stays fast: name -> module holding it
_LAZY = {"convert": "dataset.batch", "open_dataset": "dataset.query"}
__all__ += list(_LAZY)


# -- subpackages loaded on first use (`vitalproc.windows.build(...)`)
_SUBPACKAGES = {"windows"}
# -- end of subpackages


def __getattr__(name: str) -> object:  # PEP 562: `convert`, `open_dataset` on first use
    if name in _SUBPACKAGES:
        from importlib import import_module

        return import_module(f".{name}", __name__)
    if name not in _LAZY:
        raise AttributeError(f"module 'vitalproc' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value
