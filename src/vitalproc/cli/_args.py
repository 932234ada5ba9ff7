"""Argument types of the ``vitalproc`` command: times, track types, counts, intervals.

Each is parsed before any file is read (a bad value is a usage error, exit 2); times
are resolved per file (``TimeSpec.resolve``), since they may count from its start.
"""

from __future__ import annotations

import argparse
import math
import re
from typing import Any, NamedTuple, cast

from .._constants import KIND_NAMES, TYPE_NAMES

#: ``--track-type`` words: the types' words and vitaldb's short names.
TRACK_TYPES = {name: int(t) for names in (KIND_NAMES, TYPE_NAMES) for t, name in names.items()}
#: A bare number of seconds at least this big is a Unix time, not an offset (2001-09-09).
ABSOLUTE_FROM = 1e9
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
#: A number and an optional unit (compiled by ``re`` when first used, not at start-up).
_NUMBER = r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([smhd]?)$"


class TimeSpec(NamedTuple):  # (a NamedTuple: a dataclass would cost 0.7 ms of start-up)
    """A ``--start``/``--end`` value: ``relative`` seconds from the file's start (from its
    end when negative), ``absolute`` Unix seconds, or a ``local`` naive datetime in the
    file's own timezone."""

    kind: str
    value: Any
    text: str

    def resolve(self, vf: Any) -> float:
        if self.kind == "absolute":
            return self.value
        if self.kind == "local":
            import datetime

            zone = datetime.timezone(datetime.timedelta(minutes=-vf.dgmt))
            return self.value.replace(tzinfo=zone).timestamp()
        return (vf.dtend if self.value < 0 else vf.dtstart) + self.value


def parse_time(text: str, absolute: bool = False) -> TimeSpec | None:
    """Parse a time argument (see ``TimeSpec``); None for the Go processor's "off" (``<= 0``).

    ``absolute``: the Go processor's ``-start-time``/``-end-time``, where a number is always
    Unix seconds and 0 or less means no bound.
    """
    text = text.strip()
    match = re.match(_NUMBER, text)
    if match:
        number, unit = float(match.group(1)), match.group(2)
        if not math.isfinite(number):
            raise argparse.ArgumentTypeError(f"invalid time {text!r}")
        if absolute:
            return TimeSpec("absolute", number, text) if number > 0 else None
        if unit or abs(number) < ABSOLUTE_FROM:
            return TimeSpec("relative", number * _UNITS.get(unit, 1.0), text)
        return TimeSpec("absolute", number, text)
    unix = re.match(_NUMBER, text[1:]) if text.startswith("@") else None
    if unix and not unix.group(2):
        return TimeSpec("absolute", float(unix.group(1)), text)
    import datetime

    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid time {text!r}: give seconds from the start (90, 5m, 2h; negative: "
            f"from the end), a Unix time (@1700000000) or an ISO 8601 time"
        ) from None
    if when.tzinfo is None:
        return TimeSpec("local", when, text)
    return TimeSpec("absolute", when.timestamp(), text)


def time_arg(text: str) -> TimeSpec:
    """``--start``/``--end``."""
    return cast(TimeSpec, parse_time(text))  # None only in the Go processor's absolute form


def go_time_arg(text: str) -> TimeSpec | None:
    """``-start-time``/``-end-time``: Unix seconds, 0 or less for no bound."""
    return parse_time(text, absolute=True)


def track_types(text: str) -> frozenset[int]:
    """``--track-type wave,numeric``: the track type codes."""
    try:
        return frozenset(TRACK_TYPES[t.strip().lower()] for t in text.split(",") if t.strip())
    except KeyError as exc:
        raise argparse.ArgumentTypeError(
            f"unknown track type {exc.args[0]!r} (wave, numeric, string)"
        ) from None


def count(text: str) -> int | None:
    """A limit: a whole number; 0 or less means no limit (the Go processor's convention)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    return value if value > 0 else None


def interval(text: str) -> float:
    """``--interval``: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(
            f"interval must be a positive number of seconds, not {text!r}"
        )
    return value
