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

import functools
import threading

import numpy as np

#: What labels are made of (the glyphs made ahead of time by ``warm``).
PRINTABLE = "".join(chr(c) for c in range(32, 127)) + "\u2013"


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
        # Where segments cross the column edges: column c takes the line's value just
        # right of its left edge c and just left of its right edge c + 1 (the two differ
        # where several points share an edge's time).
        edges = np.arange(ncol + 1, dtype=np.float64)
        right = _at_edges(x, y, piece, edges, np.searchsorted(x, edges, "right"))
        left = _at_edges(x, y, piece, edges, np.searchsorted(x, edges, "left"))
        lo = np.fmin(lo, np.fmin(right[:-1], left[1:]))
        hi = np.fmax(hi, np.fmax(right[:-1], left[1:]))
    return lo, hi


def _at_edges(
    x: np.ndarray, y: np.ndarray, piece: np.ndarray, edges: np.ndarray, k: np.ndarray
) -> np.ndarray:
    # The segment from point k - 1 to point k at each edge (NaN: none there).
    inside = (k > 0) & (k < len(x))
    k = np.clip(k, 1, len(x) - 1)
    xa, xb, ya, yb = x[k - 1], x[k], y[k - 1], y[k]
    inside &= (xa <= edges) & (edges <= xb) & (piece[k - 1] == piece[k])
    run = np.where(xb > xa, xb - xa, 1.0)
    return np.where(inside, ya + (edges - xa) / run * (yb - ya), np.nan)


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
    band of rows ``row0 .. row1 - 1`` (what lies beyond it is drawn at its edge). ``x``
    in columns (0 at the left edge), ``y`` in rows; ``thickness`` in pixels."""
    ncol = image.shape[1]
    lo, hi = spans(x, y, ncol)
    drawn = lo <= hi
    if not drawn.any():
        return
    half = max(0.0, (thickness - 1.0) / 2)
    cols = np.flatnonzero(drawn)
    top = np.clip(np.floor(lo[cols] - half), row0, row1 - 1).astype(np.int64)
    bottom = np.clip(np.floor(hi[cols] + half), row0, row1 - 1).astype(np.int64)
    # Every pixel of every column's run, as flat indices: (top + k) * ncol + col.
    runs = bottom - top + 1
    k = np.arange(int(runs.sum())) - np.repeat(np.cumsum(runs) - runs, runs)
    flat = np.repeat(top * ncol + cols, runs) + k * ncol
    _pixels32(image)[flat] = _packed(rgba)


def _pixels32(image: np.ndarray) -> np.ndarray:
    # The RGBA image as one uint32 a pixel: a pixel set in one store.
    return image.reshape(-1).view(np.uint32)


def _packed(rgba: tuple[int, int, int, int]) -> np.uint32:
    return np.frombuffer(bytes(rgba), np.uint32)[0]


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


class Glyphs:
    """One font at one size as a set of glyph bitmaps, each made once: a label is laid
    out by placing them along its baseline (no kerning). matplotlib 3.11 draws text
    glyph by glyph from Python, a few milliseconds a label: a case's seventy lane
    labels cost more than its lines."""

    def __init__(self, size: float, dpi: float, bold: bool = False):
        from matplotlib.backends.backend_agg import get_hinting_flag
        from matplotlib.font_manager import FontProperties, findfont, get_font

        self._font = get_font(findfont(FontProperties(size=size, weight="bold" if bold else None)))
        self._size, self._dpi = size, dpi
        self._flags = get_hinting_flag()
        self._glyphs: dict[str, tuple[np.ndarray, int, int, float]] = {}
        font = self._font
        font.clear()
        font.set_size(size, dpi)
        font.set_text("lp", 0.0, flags=self._flags)
        #: Rows from one line's baseline to the next at line spacing 1.
        self.line = font.get_width_height()[1] / 64

    def glyph(self, char: str) -> tuple[np.ndarray, int, int, float]:
        """A character's bitmap (coverage 0-255), its left column and its baseline row
        relative to the pen, and the pen's advance."""
        found = self._glyphs.get(char)
        if found is None:
            font = self._font
            font.clear()
            font.set_size(self._size, self._dpi)
            font.set_text(char, 0.0, flags=self._flags)
            font.draw_glyphs_to_bitmap(antialiased=True)
            bitmap = np.array(font.get_image(), np.uint8)
            left = round(font.get_bitmap_offset()[0] / 64) - 1  # one pixel of margin
            baseline = bitmap.shape[0] - 1 - round(font.get_descent() / 64)
            advance = font.load_char(ord(char), flags=self._flags).linearHoriAdvance / 65536
            found = self._glyphs[char] = (bitmap, left, baseline, advance)
        return found

    def warm(self, chars: str) -> None:
        """Make the bitmaps of ``chars`` now (while something else waits)."""
        for char in chars:
            self.glyph(char)

    def width(self, text: str) -> int:
        return round(sum(self.glyph(c)[3] for c in text))

    def draw(
        self, image: np.ndarray, text: str, col: int, baseline: int, rgb: tuple[int, int, int]
    ) -> None:
        """Draw one line of ``text`` into an RGBA ``image`` from column ``col`` along the
        row ``baseline``; coverage becomes alpha (over what is there)."""
        pen = float(col)
        rows, cols = image.shape[:2]
        for char in text:
            bitmap, left, base, advance = self.glyph(char)
            r0, c0 = baseline - base, round(pen) + left
            r1, c1 = r0 + bitmap.shape[0], c0 + bitmap.shape[1]
            pen += advance
            if r0 < 0 or c0 < 0 or r1 > rows or c1 > cols:
                continue  # outside: left out, as text clipped at the edge
            cover = bitmap > 0
            if not cover.any():
                continue
            patch = image[r0:r1, c0:c1]
            patch[..., :3][cover] = rgb
            patch[..., 3] = np.maximum(patch[..., 3], bitmap)


_GLYPHS_LOCK = threading.Lock()


@functools.lru_cache(maxsize=8)
def _glyphs(size: float, dpi: float, bold: bool) -> Glyphs:
    return Glyphs(size, dpi, bold)


def glyphs(size: float, dpi: float, bold: bool = False) -> Glyphs:
    """The shared ``Glyphs`` of a font size and resolution (made once)."""
    with _GLYPHS_LOCK:
        return _glyphs(size, dpi, bold)
