"""A window recipe: what to cut out of each recording, how to label it and which windows
to flag. Parsed from TOML (or a dict of the same shape) with errors that name the key.

The recipe is plain data (dataclasses); the rules that apply it live in ``resample.py``,
``indexing.py``, ``labels.py``, ``rules.py`` and ``split.py``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import tomllib

#: How a signal reaches its output rate. ``grid``: vitaldb's time-grid rule (``to_numpy``
#: at ``1/rate``); ``decimate``: the wave at its own rate, low-pass filtered, every k-th
#: sample; the rest are numeric aggregations over each output step.
WAVE_METHODS = ("grid", "decimate")
NUMERIC_METHODS = ("last", "first", "mean", "median", "min", "max", "hold")
METHODS = WAVE_METHODS + NUMERIC_METHODS

LABEL_KINDS = ("event", "aggregate", "regression", "annotation")
AGGREGATES = ("mean", "median", "min", "max", "first", "last")
COMPARISONS = ("<", "<=", ">", ">=")
RULE_KINDS = ("nan_fraction", "above", "below", "peak_to_peak", "max_jump", "flatline")
PARTS = ("input", "target")


class RecipeError(ValueError):
    """A recipe that cannot be used; the message names the file and key (or line)."""


@dataclass(frozen=True)
class Signal:
    """One output array: the first of ``tracks`` a recording has, at ``rate`` Hz."""

    name: str
    tracks: tuple[str, ...]
    rate: float
    method: str = "grid"
    max_gap: float | None = None  # hold: a value older than this (s) is not held
    upsample: bool = False  # allow a numeric track on a grid finer than 1 s
    interval: float | None = None  # the step (s) when given as such (exact: 30, not 1/30)

    @property
    def step(self) -> float:
        """Seconds between samples."""
        return self.interval if self.interval is not None else 1 / self.rate


@dataclass(frozen=True)
class Windows:
    """Where windows start and how long they are (all in seconds).

    ``length`` is the input; a target of ``horizon`` seconds starts ``lead`` seconds after
    the input ends. ``align``: ``"start"`` (every ``stride`` from the recording's start)
    or ``"events"`` (one window per event time, ``offset`` seconds from it; events are the
    records of the track ``events``, or the annotation file's rows when ``events`` is
    ``"annotations"``). ``end``: ``"inclusive"`` keeps a window whose target ends exactly
    at the recording's last sample, ``"exclusive"`` needs one sample more.
    """

    length: float
    stride: float = 0.0
    lead: float = 0.0
    horizon: float = 0.0
    align: str = "start"
    events: str | None = None
    offset: float = 0.0
    end: str = "inclusive"


@dataclass(frozen=True)
class Label:
    """One label column; ``kind`` says which fields count (see docs/windows.md)."""

    name: str
    kind: str
    signal: str | None = None
    over: str = "target"
    op: str = "<"
    threshold: float | None = None
    min_duration: float = 0.0  # event: the shortest run that counts (s)
    aggregate: str = "mean"
    moving_average: float | None = None  # aggregate: window of the running mean (s)
    purity: float = 1.0  # annotation: the share of the window its class must cover


@dataclass(frozen=True)
class Rule:
    """One validity rule, checked on each of ``signals`` and ``on`` parts in order."""

    rule: str
    value: float
    signals: tuple[str, ...] = ()  # empty: every signal
    on: tuple[str, ...] = ()  # empty: input, and target when there is one
    low: float | None = None  # nan_fraction: also count values outside [low, high]
    high: float | None = None
    name: str | None = None  # the name a failed window records; default: ``rule``

    @property
    def label(self) -> str:
        return self.name or self.rule


@dataclass(frozen=True)
class Split:
    """Train / validation / test fractions by subject, drawn from ``seed``."""

    train: float = 0.7
    val: float = 0.15
    test: float = 0.15
    seed: int = 0
    clinical: str | None = None  # a CSV/Parquet table with caseid and the subject column
    subject: str = "subjectid"


@dataclass(frozen=True)
class Annotations:
    """Annotation files beside each recording: ``pattern`` with ``{stem}`` for the
    recording's file name without ``.vital``; each row starts a class at ``time``
    (seconds from the recording's start) that lasts until the next row."""

    pattern: str = "{stem}.rhythm.csv"
    time: str = "time"
    label: str = "class"
    bad: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipe:
    name: str
    signals: tuple[Signal, ...]
    windows: Windows
    labels: tuple[Label, ...] = ()
    rules: tuple[Rule, ...] = ()
    split: Split = field(default_factory=Split)
    annotations: Annotations | None = None
    description: str = ""
    source: str | None = None  # the file it was read from, if any

    def signal(self, name: str) -> Signal:
        return next(s for s in self.signals if s.name == name)

    @property
    def has_target(self) -> bool:
        return self.windows.horizon > 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("source")
        return d

    def digest(self) -> str:
        """``sha256:`` of the recipe's content (not of its file's spelling)."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=list)
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# ---- parsing -----------------------------------------------------------------------------


class _Table:
    """A TOML table being read: takes keys one by one and names the path of a bad one."""

    def __init__(self, data: Any, where: str, origin: str):
        if not isinstance(data, dict):
            raise RecipeError(
                f"{origin}: {where or 'recipe'}: must be a table, not {type(data).__name__}"
            )
        self.data, self.where, self.origin = dict(data), where, origin

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def fail(self, name: str, message: str) -> RecipeError:
        return RecipeError(f"{self.origin}: {self.key(name)}: {message}")

    def take(
        self,
        name: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
        choices: tuple | None = None,
    ) -> Any:
        if name not in self.data:
            if default is ...:
                raise self.fail(name, "missing")
            return default
        value = self.data.pop(name)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            names = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise self.fail(name, f"must be {names}, not {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(name, f"{value!r} is not one of {', '.join(map(str, choices))}")
        return value

    def number(
        self, name: str, default: Any = ..., positive: bool = False, nonnegative: bool = False
    ) -> Any:
        present = name in self.data
        value = self.take(name, float, default)
        if not present:
            return value
        if not math.isfinite(value):
            raise self.fail(name, f"must be finite, not {value}")
        if positive and not value > 0:
            raise self.fail(name, f"must be > 0, not {value:g}")
        if nonnegative and value < 0:
            raise self.fail(name, f"must be >= 0, not {value:g}")
        return value

    def names(self, name: str, default: Any = ()) -> tuple[str, ...]:
        value = self.take(name, (str, list), default)
        if value is None:
            return None  # type: ignore[return-value]
        if isinstance(value, str):
            return (value,)
        if not all(isinstance(v, str) for v in value):
            raise self.fail(name, "must be a string or a list of strings")
        return tuple(value)

    def done(self) -> None:
        if self.data:
            unknown = min(self.data)
            raise self.fail(unknown, "unknown key")


def load_recipe(recipe: str | os.PathLike | dict[str, Any] | Recipe) -> Recipe:
    """A recipe from a TOML file, a shipped recipe's name, a dict or a ``Recipe``.

    Raises
    ------
    RecipeError
        A TOML syntax error (with its line and column), an unknown key, a value of the
        wrong type or out of range, a reference to a signal the recipe does not define.
    """
    if isinstance(recipe, Recipe):
        return recipe
    if isinstance(recipe, dict):
        return parse_recipe(recipe, "recipe")
    from .shipped import shipped_path

    path = os.fspath(recipe)
    if not os.path.exists(path) and shipped_path(path) is not None:
        path = str(shipped_path(path))
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        from .shipped import shipped_names

        raise RecipeError(
            f"no recipe file or shipped recipe named {path!r} (shipped: "
            f"{', '.join(shipped_names())})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"{path}: {exc}") from None
    return parse_recipe(data, path)


def parse_recipe(data: dict[str, Any], origin: str = "recipe") -> Recipe:
    """A ``Recipe`` from the parsed TOML; ``origin`` names it in errors and anchors the
    relative paths it holds (the clinical table)."""
    top = _Table(data, "", origin)
    name = top.take("name", str, os.path.splitext(os.path.basename(origin))[0])
    description = top.take("description", str, "")
    raw_signals = top.take("signals", list)
    if not raw_signals:
        raise top.fail("signals", "needs at least one signal")
    signals = tuple(_signal(s, f"signals[{i}]", origin) for i, s in enumerate(raw_signals))
    seen: set[str] = set()
    for i, s in enumerate(signals):
        if s.name in seen:
            raise RecipeError(f"{origin}: signals[{i}].name: {s.name!r} is defined twice")
        seen.add(s.name)
    windows = _windows(top.take("windows", dict), origin)
    annotations = None
    if "annotations" in top.data:
        annotations = _annotations(top.take("annotations", dict), origin)
    labels = tuple(
        _label(x, f"labels[{i}]", origin, seen, windows, annotations)
        for i, x in enumerate(top.take("labels", list, []))
    )
    if len({lb.name for lb in labels}) != len(labels):
        raise top.fail("labels", "two labels have the same name")
    rules = tuple(
        _rule(x, f"rules[{i}]", origin, seen, windows)
        for i, x in enumerate(top.take("rules", list, []))
    )
    split = _split(top.take("split", dict, {}), origin)
    top.done()
    if windows.align == "events" and windows.events == "annotations" and annotations is None:
        raise RecipeError(f"{origin}: windows.events: 'annotations' needs an [annotations] table")
    return Recipe(
        name,
        signals,
        windows,
        labels,
        rules,
        split,
        annotations,
        description,
        origin if origin != "recipe" else None,
    )


def _signal(data: Any, where: str, origin: str) -> Signal:
    t = _Table(data, where, origin)
    name = t.take("name", str)
    if not name.isidentifier():
        raise t.fail("name", f"{name!r} must be a plain name (letters, digits, _)")
    tracks = t.names("tracks", None) or t.names("track", None)
    if not tracks:
        raise t.fail("tracks", "missing (a track name or a list of fallbacks)")
    if "interval" in t.data and "rate" in t.data:
        raise t.fail("interval", "give either rate (Hz) or interval (s), not both")
    interval = t.number("interval", None, positive=True)
    rate = 1 / interval if interval is not None else t.number("rate", positive=True)
    method = t.take("method", str, "grid", METHODS)
    max_gap = t.number("max_gap", None, positive=True)
    if max_gap is not None and method != "hold":
        raise t.fail("max_gap", "only a 'hold' signal has a maximum gap")
    upsample = t.take("upsample", bool, False)
    t.done()
    return Signal(name, tracks, rate, method, max_gap, upsample, interval)


def _windows(data: Any, origin: str) -> Windows:
    t = _Table(data, "windows", origin)
    length = t.number("length", positive=True)
    align = t.take("align", str, "start", ("start", "events"))
    stride = t.number("stride", 0.0 if align == "events" else ..., nonnegative=True)
    if align == "start" and not stride > 0:
        raise t.fail("stride", f"must be > 0, not {stride:g}")
    lead = t.number("lead", 0.0, nonnegative=True)
    horizon = t.number("horizon", 0.0, nonnegative=True)
    if lead and not horizon:
        raise t.fail("lead", "a lead needs a horizon (the target it leads to)")
    events = t.take("events", str, None)
    if align == "events" and not events:
        raise t.fail("events", "align = 'events' needs the events' track name or 'annotations'")
    offset = t.number("offset", 0.0)
    end = t.take("end", str, "inclusive", ("inclusive", "exclusive"))
    t.done()
    return Windows(length, stride, lead, horizon, align, events, offset, end)


def _label(
    data: Any,
    where: str,
    origin: str,
    signals: set[str],
    windows: Windows,
    annotations: Annotations | None,
) -> Label:
    t = _Table(data, where, origin)
    name = t.take("name", str)
    kind = t.take("kind", str, choices=LABEL_KINDS)
    over = t.take("over", str, "target" if windows.horizon else "input", PARTS)
    if over == "target" and not windows.horizon:
        raise t.fail("over", "'target' needs windows.horizon > 0")
    if kind == "annotation":
        if annotations is None:
            raise t.fail("kind", "an annotation label needs an [annotations] table")
        purity = t.number("purity", 1.0, positive=True)
        if purity > 1:
            raise t.fail("purity", f"must be at most 1, not {purity:g}")
        t.done()
        return Label(name, kind, over=over, purity=purity)
    signal = t.take("signal", str)
    if signal not in signals:
        raise t.fail(
            "signal",
            f"{signal!r} is not one of the recipe's signals ({', '.join(sorted(signals))})",
        )
    if kind == "regression":
        agg = t.take("aggregate", str, "mean", AGGREGATES)
        t.done()
        return Label(name, kind, signal, over, aggregate=agg)
    op = t.take("op", str, "<", COMPARISONS)
    threshold = t.number("threshold")
    if kind == "event":
        duration = t.number("min_duration", 0.0, nonnegative=True)
        t.done()
        return Label(name, kind, signal, over, op, threshold, min_duration=duration)
    agg = t.take("aggregate", str, "mean", AGGREGATES)
    mavg = t.number("moving_average", None, positive=True)
    t.done()
    return Label(name, kind, signal, over, op, threshold, aggregate=agg, moving_average=mavg)


def _rule(data: Any, where: str, origin: str, signals: set[str], windows: Windows) -> Rule:
    t = _Table(data, where, origin)
    kind = t.take("rule", str, choices=RULE_KINDS)
    value = t.number("value", nonnegative=kind != "above" and kind != "below")
    if kind == "nan_fraction" and value > 1:
        raise t.fail("value", f"a fraction is at most 1, not {value:g}")
    names = t.names("signals", ())
    for s in names:
        if s not in signals:
            raise t.fail("signals", f"{s!r} is not one of the recipe's signals")
    on = t.names("on", ())
    for p in on:
        if p not in PARTS:
            raise t.fail("on", f"{p!r} is not 'input' or 'target'")
        if p == "target" and not windows.horizon:
            raise t.fail("on", "'target' needs windows.horizon > 0")
    low = t.number("low", None) if kind == "nan_fraction" else None
    high = t.number("high", None) if kind == "nan_fraction" else None
    label = t.take("name", str, None)
    t.done()
    return Rule(kind, value, names, on, low, high, label)


def _split(data: Any, origin: str) -> Split:
    t = _Table(data, "split", origin)
    train = t.number("train", 0.7, nonnegative=True)
    val = t.number("val", 0.15, nonnegative=True)
    test = t.number("test", 0.15, nonnegative=True)
    if abs(train + val + test - 1) > 1e-9:
        raise t.fail("train", f"train + val + test must be 1, not {train + val + test:g}")
    seed = t.take("seed", int, 0)
    clinical = t.take("clinical", str, None)
    if clinical is not None and not os.path.isabs(clinical) and origin != "recipe":
        clinical = os.path.join(os.path.dirname(os.path.abspath(origin)), clinical)
    subject = t.take("subject", str, "subjectid")
    t.done()
    return Split(train, val, test, seed, clinical, subject)


def _annotations(data: Any, origin: str) -> Annotations:
    t = _Table(data, "annotations", origin)
    pattern = t.take("pattern", str, "{stem}.rhythm.csv")
    if "{stem}" not in pattern:
        raise t.fail("pattern", "must contain {stem} (the recording's name)")
    a = Annotations(
        pattern, t.take("time", str, "time"), t.take("class", str, "class"), t.names("bad", ())
    )
    t.done()
    return a
