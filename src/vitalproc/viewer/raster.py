"""Lines drawn straight into pixels: the picture's lanes as one RGBA image instead of
a matplotlib line per lane.

A lane's line (times and values, NaN breaks it) becomes, per pixel column, the span of
rows the polyline covers there: the points inside the column and where its segments
cross the column's edges. That is what an unantialiased line one pixel wide shows, for
envelopes (two points a column) and raw samples (segments over many columns) alike,
and it costs a few array operations per lane where matplotlib's path drawing costs
milliseconds per thousand points.
"""

from __future__ import annotations

import numpy as np


def spans(x: np.ndarray, y: np.ndarray, ncol: int) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest ``y`` the polyline through ``(x, y)`` reaches in each of
    ``ncol`` columns ``[c, c + 1)`` of ``x`` (columns it does not reach: +inf, -inf).

    ``x`` is non-decreasing apart from NaN; a NaN in ``x`` or ``y`` breaks the line.
    """
    lo = np.full(ncol, np.inf)
    hi = np.full(ncol, -np.inf)
    ok = ~(np.isnan(x) | np.isnan(y))
    piece = np.cumsum(~ok)[ok]  # points of one unbroken stretch share a number
    x, y = x[ok], y[ok]
    if not len(x):
        return lo, hi
    col = np.floor(x).astype(np.int64)
    inside = (col >= 0) & (col < ncol)
    np.minimum.at(lo, col[inside], y[inside])
    np.maximum.at(hi, col[inside], y[inside])
    if len(x) > 1:
        # Where each column edge is crossed by a segment of the line.
        edges = np.arange(ncol + 1, dtype=np.float64)
        k = np.clip(np.searchsorted(x, edges, "right"), 1, len(x) - 1)
        xa, xb, ya, yb = x[k - 1], x[k], y[k - 1], y[k]
        crossed = (xa <= edges) & (edges <= xb) & (piece[k - 1] == piece[k])
        run = np.where(xb > xa, xb - xa, 1.0)
        at = np.where(crossed, ya + (edges - xa) / run * (yb - ya), np.nan)
        lo = np.fmin(lo, np.fmin(at[:-1], at[1:]))
        hi = np.fmax(hi, np.fmax(at[:-1], at[1:]))
    return lo, hi


def draw_line(
    image: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    rgba: tuple[int, int, int, int],
    row0: int,
    row1: int,
    thickness: float = 1.0,
) -> None:
    """Draw a polyline into ``image`` (rows x columns x 4, row 0 at the top) within the
    band of rows ``row0 .. row1 - 1``. ``x`` in columns (0 at the left edge), ``y`` in
    rows; ``thickness`` in pixels."""
    ncol = image.shape[1]
    lo, hi = spans(x, y, ncol)
    drawn = lo <= hi
    if not drawn.any():
        return
    half = max(0.0, (thickness - 1.0) / 2)
    top = np.where(drawn, np.floor(lo - half), np.inf)
    bottom = np.where(drawn, np.floor(hi + half), -np.inf)
    rows = np.arange(row0, row1, dtype=np.float64)[:, None]
    mask = (rows >= top) & (rows <= bottom)
    image[row0:row1][mask] = rgba


def draw_dots(
    image: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    rgba: tuple[int, int, int, int],
    radius: int = 1,
) -> None:
    """A small square at each point (single samples seen as such)."""
    ok = ~(np.isnan(x) | np.isnan(y))
    cols = np.floor(x[ok]).astype(np.int64)
    rows = np.floor(y[ok]).astype(np.int64)
    for dr in range(-radius, radius + 1):
        for dc in range(-radius, radius + 1):
            r, c = rows + dr, cols + dc
            keep = (r >= 0) & (r < image.shape[0]) & (c >= 0) & (c < image.shape[1])
            image[r[keep], c[keep]] = rgba


def rgba_of(hex_color: str) -> tuple[int, int, int, int]:
    """``#rrggbb`` as an opaque RGBA tuple."""
    return (int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16), 255)
