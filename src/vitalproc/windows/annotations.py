"""Annotation files: a CSV of ``time,class`` rows (time in seconds from the recording's
start), each row starting a class that lasts until the next row's time (the last until
the recording ends). Rows may come in any order; a header names the two columns.
"""

from __future__ import annotations

import csv
import math
import os
from typing import NamedTuple

import numpy as np

from .recipe import Annotations


class AnnotationError(ValueError):
    """An annotation file that does not parse; the message names the file and line."""


class Intervals(NamedTuple):
    """Classes over time: ``classes[i]`` holds from ``start[i]`` to ``end[i]`` (s)."""

    start: np.ndarray
    end: np.ndarray
    classes: list[str]


def annotation_path(spec: Annotations, recording: str) -> str:
    """The annotation file beside ``recording`` (``{stem}``: its name without
    ``.vital``/``.parquet``)."""
    folder, name = os.path.split(recording)
    stem = name
    for ext in (".vital", ".parquet"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
    return os.path.join(folder, spec.pattern.format(stem=stem))


def read_annotations(path: str, spec: Annotations) -> Intervals:
    """Parse ``path``.

    Raises
    ------
    AnnotationError
        No header with the two columns, a time that is no finite number or a missing
        class, naming the line.
    """
    times: list[float] = []
    classes: list[str] = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise AnnotationError(
                f"{path}: empty file (needs a header with {spec.time!r} and {spec.label!r})"
            )
        header = [h.strip() for h in header]
        for col in (spec.time, spec.label):
            if col not in header:
                raise AnnotationError(
                    f"{path}:1: no column {col!r} in the header ({', '.join(header)})"
                )
        ti, ci = header.index(spec.time), header.index(spec.label)
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) <= max(ti, ci):
                raise AnnotationError(
                    f"{path}:{line}: {len(row)} fields, the header has {len(header)}"
                )
            try:
                t = float(row[ti])
            except ValueError:
                raise AnnotationError(f"{path}:{line}: time {row[ti]!r} is not a number") from None
            if not math.isfinite(t):
                raise AnnotationError(f"{path}:{line}: time {row[ti]!r} is not finite")
            label = row[ci].strip()
            if not label:
                raise AnnotationError(f"{path}:{line}: no class")
            times.append(t)
            classes.append(label)
    order = np.argsort(np.asarray(times, np.float64), kind="stable")
    start = np.asarray(times, np.float64)[order]
    end = np.r_[start[1:], np.inf]
    return Intervals(start, end, [classes[i] for i in order])


def window_classes(
    iv: Intervals, offsets: np.ndarray, length: float, bad: tuple[str, ...]
) -> tuple[list[str | None], np.ndarray, np.ndarray]:
    """For windows ``[offset, offset + length)``: the class covering most of each, the
    share of the window it covers, and whether a ``bad`` class touches it."""
    names = sorted(set(iv.classes))
    code = np.array([names.index(c) for c in iv.classes], np.int64)
    is_bad = np.array([c in bad for c in names], bool)
    a = offsets[:, None]
    overlap = np.clip(
        np.minimum(iv.end[None, :], a + length) - np.maximum(iv.start[None, :], a), 0, None
    )  # (windows, rows)
    cover = np.zeros((len(offsets), len(names)))
    for j in range(len(names)):
        cover[:, j] = overlap[:, code == j].sum(axis=1)
    best = cover.argmax(axis=1) if names else np.zeros(len(offsets), np.int64)
    share = (cover.max(axis=1) / length) if names else np.zeros(len(offsets))
    touched = (cover[:, is_bad] > 0).any(axis=1) if names else np.zeros(len(offsets), bool)
    labels = [names[b] if s > 0 else None for b, s in zip(best, share)]
    return labels, share, touched
