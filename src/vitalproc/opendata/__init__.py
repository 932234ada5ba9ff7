"""The VitalDB open dataset: vitaldb's client, with a cache, parallel fetching and mirrors.

The same calls as vitaldb 1.7.2 (``load_case``, ``find_cases``, ``get_track_names``,
``load_clinical_data``, ``load_lab_data``, ``load_trk``, ``load_trks``, and
``VitalFile(caseid)``), the same results (``compat="vitaldb"``: exactly, quirks included;
by default vitaldb's documented intent where it fails by accident: ``docs/opendata.md``).
A case file is downloaded once, verified, and read from the cache afterwards;
``fetch`` gets many cases in parallel.

Settings are module attributes, as vitaldb's ``api_url``: ``api_url``,
``DATASET_VERSION``, ``cache_dir``, ``offline``, ``mirror``, ``timeout``, ``retries``
(``vitalproc.opendata.settings`` documents each)::

    import vitalproc.opendata as od
    od.api_url = "http://127.0.0.1:8000"      # a test server or a copy of the API
    od.load_case(1, ["ART", "HR"], 1 / 100)
"""

from __future__ import annotations

import sys
import types
from typing import Any

from . import settings
from .cases import VitalFile, load_case
from .fetch import CaseResult, FetchReport, fetch, parse_cases
from .queries import find_cases, get_track_names, load_clinical_data, load_lab_data
from .transport import FetchError, NotCachedError
from .trk import load_trk, load_trks

__all__ = [
    "CaseResult",
    "FetchError",
    "FetchReport",
    "NotCachedError",
    "VitalFile",
    "clear_cache",
    "fetch",
    "find_cases",
    "get_track_names",
    "load_case",
    "load_clinical_data",
    "load_lab_data",
    "load_trk",
    "load_trks",
    "parse_cases",
]
__all__ += list(settings.NAMES)


def clear_cache() -> None:
    """Forget the tables parsed in this process (files in the cache folder stay)."""
    from .tables import forget

    forget()


class SettingsModule(types.ModuleType):
    """A module whose settings attributes read and write ``opendata.settings``, so that
    ``module.api_url = url`` works as with vitaldb's ``dataset.api_url``."""

    def __getattr__(self, name: str) -> Any:
        if name in settings.NAMES:
            return getattr(settings, name)
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in settings.NAMES:
            setattr(settings, name, value)
        else:
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = SettingsModule
