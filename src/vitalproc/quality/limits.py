"""The table of physiological limits and quality thresholds per signal kind.

The package ships ``limits.csv`` (one row per kind: track name patterns, unit, plausible
range, flatline duration, spike threshold); a user's table of the same columns comes
first and replaces the packaged rows of the kinds it names. A track's kind is the first
row one of whose patterns matches its name (the device left out), case-insensitively.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import math
import os
from dataclasses import dataclass
from importlib import resources

from .errors import QualityInputError

COLUMNS = ("kind", "tracks", "unit", "min", "max", "flat_s", "spike")

#: The kind whose waves get a polarity (upright or inverted).
PLETH_KIND = "plethysmogram"


@dataclass(frozen=True)
class Limit:
    """One row of the limits table (``min``/``max`` -inf/inf where unbounded;
    ``flat_s``/``spike`` None where the table leaves them blank)."""

    kind: str
    patterns: tuple[str, ...]
    unit: str
    min: float
    max: float
    flat_s: float | None
    spike: float | None
    where: str  # "file, line N": where the row was read

    @property
    def has_range(self) -> bool:
        return math.isfinite(self.min) or math.isfinite(self.max)

    def matches(self, name: str) -> bool:
        name = name.upper()
        return any(fnmatch.fnmatchcase(name, p) for p in self.patterns)


class Limits:
    """An ordered table of ``Limit`` rows; ``kind_of(track_name)`` finds a track's row."""

    def __init__(self, rows: list[Limit]):
        self.rows = rows
        self._cache: dict[str, Limit | None] = {}

    def kind_of(self, name: str) -> Limit | None:
        """The first row matching a track name (``"Dev/Name"`` or ``"Name"``), or None."""
        short = name.rsplit("/", 1)[-1]
        if short not in self._cache:
            self._cache[short] = next((r for r in self.rows if r.matches(short)), None)
        return self._cache[short]

    def __getitem__(self, kind: str) -> Limit:
        for row in self.rows:
            if row.kind == kind:
                return row
        raise KeyError(kind)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def fingerprint(self) -> str:
        """A text that changes whenever a row does (results depend on it)."""
        return repr([(r.kind, r.patterns, r.min, r.max, r.flat_s, r.spike) for r in self.rows])


def _number(text: str, column: str, where: str, default: float | None) -> float | None:
    text = text.strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise QualityInputError(f"{where}: {column} {text!r} is not a number") from None
    if math.isnan(value):
        raise QualityInputError(f"{where}: {column} is NaN")
    return value


def parse_limits(text: str, name: str) -> list[Limit]:
    """The rows of a limits table in CSV (lines starting with ``#`` are comments).

    Raises
    ------
    QualityInputError
        A missing column, an empty kind or pattern list, a kind listed twice, a value
        that is no number, a threshold not above 0, or a ``min`` above ``max``; the
        message names the file and line.
    """
    lines = [
        (n, line)
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise QualityInputError(f"{name}: no header line (expected {', '.join(COLUMNS)})")
    reader = csv.reader(io.StringIO("\n".join(line for _, line in lines)))
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise QualityInputError(
            f"{name}, line {lines[0][0]}: missing column(s) "
            f"{', '.join(missing)} (expected {', '.join(COLUMNS)})"
        )
    rows: list[Limit] = []
    seen: set[str] = set()
    for (number, _), cells in zip(lines[1:], reader):
        where = f"{name}, line {number}"
        if len(cells) != len(header):
            raise QualityInputError(f"{where}: {len(cells)} fields, the header has {len(header)}")
        cell = dict(zip(header, cells))
        kind = cell["kind"].strip()
        if not kind:
            raise QualityInputError(f"{where}: empty kind")
        if kind in seen:
            raise QualityInputError(f"{where}: kind {kind!r} is listed twice")
        seen.add(kind)
        patterns = tuple(p.upper() for p in cell["tracks"].split())
        if not patterns:
            raise QualityInputError(f"{where}: kind {kind!r} names no tracks")
        lo = _number(cell["min"], "min", where, -math.inf)
        hi = _number(cell["max"], "max", where, math.inf)
        assert lo is not None and hi is not None
        if lo > hi:
            raise QualityInputError(f"{where}: kind {kind!r} has min {lo:g} above max {hi:g}")
        flat = _number(cell["flat_s"], "flat_s", where, None)
        spike = _number(cell["spike"], "spike", where, None)
        for column, value in (("flat_s", flat), ("spike", spike)):
            if value is not None and not value > 0:
                raise QualityInputError(f"{where}: {column} must be above 0, not {value:g}")
        rows.append(Limit(kind, patterns, cell["unit"].strip(), lo, hi, flat, spike, where))
    return rows


def packaged_limits() -> list[Limit]:
    """The rows of the table shipped with the package."""
    text = resources.files(__package__).joinpath("limits.csv").read_text("utf-8")
    return parse_limits(text, "limits.csv")


def load_limits(path: str | os.PathLike | None = None) -> Limits:
    """The limits in force: a user's table (if given) first, then the packaged rows of
    the kinds it does not name.

    Parameters
    ----------
    path
        A CSV file with the columns ``kind, tracks, unit, min, max, flat_s, spike``.

    Raises
    ------
    QualityInputError
        The table is malformed (see ``parse_limits``); the message names the line.
    FileNotFoundError
        No such file.
    """
    rows = packaged_limits()
    if path is None:
        return Limits(rows)
    with open(path, encoding="utf-8") as f:
        own = parse_limits(f.read(), os.fspath(path))
    named = {r.kind for r in own}
    return Limits(own + [r for r in rows if r.kind not in named])
