"""Signal quality and cohorts: per-track metrics from native records, inclusion rules
and the exclusion flow (``docs/quality.md``).

>>> report = vitalproc.qc("vitaldb_ds/", "qc.parquet")                  # doctest: +SKIP
>>> flow = vitalproc.cohort("rules.toml", "cohort/")                     # doctest: +SKIP
"""

from __future__ import annotations

from .errors import QualityInputError
from .limits import Limit, Limits, load_limits
from .metrics import Event, Thresholds, find_events, track_metrics

__all__ = [
    "Event",
    "Limit",
    "Limits",
    "QualityInputError",
    "Thresholds",
    "cohort",
    "find_events",
    "load_limits",
    "qc",
    "track_metrics",
]


def __getattr__(name: str) -> object:  # the runners import pyarrow: on first use only
    if name == "qc":
        from .runner import qc

        return qc
    if name == "cohort":
        from .cohort import cohort

        return cohort
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
