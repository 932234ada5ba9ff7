"""A drawn figure written as PNG: 8-bit RGBA rows, no filter, deflated by ISA-L.

A recording's picture is thousands of pixels tall and mostly background: Pillow's
adaptive filtering and zlib spend a fifth of a second on it, ISA-L's fastest level a
few hundredths for a file about as big.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

import numpy as np

try:
    from isal import isal_zlib as _deflate

    _LEVEL = 1
except ImportError:  # pragma: no cover - isal is a dependency, zlib the fallback
    _deflate = zlib  # type: ignore[assignment]
    _LEVEL = 1

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode(pixels: np.ndarray, dpi: float | None = None) -> bytes:
    """A PNG of an image: rows x columns x 3 (RGB) or 4 (RGBA, as Agg draws: kept, a
    strided copy to RGB would cost more than the deflate), uint8. ``dpi`` is recorded
    as the pixel density."""
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4) or pixels.dtype != np.uint8:
        raise ValueError("a PNG is made of rows x columns x 3 (or 4) uint8 pixels")
    height, width, channels = pixels.shape
    rows = np.empty((height, 1 + channels * width), np.uint8)
    rows[:, 0] = 0  # filter: none
    rows[:, 1:] = pixels.reshape(height, channels * width)
    kind = 6 if channels == 4 else 2  # RGBA, RGB
    out = [
        _SIGNATURE,
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, kind, 0, 0, 0)),
    ]
    if dpi:
        per_metre = round(dpi / 0.0254)
        out.append(_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)))
    out.append(_chunk(b"IDAT", _deflate.compress(memoryview(rows).cast("B"), _LEVEL)))
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)


def write(out: BinaryIO, figure: object) -> None:
    """Draw a matplotlib figure with Agg and write it as PNG to the binary stream ``out``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)  # type: ignore[arg-type]
    canvas.draw()
    out.write(encode(np.asarray(canvas.buffer_rgba()), figure.get_dpi()))  # type: ignore[attr-defined]
