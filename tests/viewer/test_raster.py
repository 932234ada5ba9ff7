"""The PNG's lanes drawn as pixels: each column of a line covers the rows the polyline
reaches there (checked segment by segment), labels come out as ink, the PNG decodes to
the pixels drawn, and a raster picture holds the same arrays as the vector one."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

import vitalproc
from vitalproc.viewer import png, raster

pytest.importorskip("matplotlib")


def brute_spans(x, y, ncol):
    """Per column, the lowest and highest y of every piece of the line inside it: a
    lone point is itself, a segment is linear, so its ends within the column bound it."""
    lo, hi = [math.inf] * ncol, [-math.inf] * ncol

    def put(c, v):
        if 0 <= c < ncol:
            lo[c], hi[c] = min(lo[c], v), max(hi[c], v)

    pts = list(zip(x.tolist(), y.tolist()))
    for k, (xa, ya) in enumerate(pts):
        if math.isnan(xa) or math.isnan(ya):
            continue
        put(math.floor(xa), ya)
        if k + 1 == len(pts):
            continue
        xb, yb = pts[k + 1]
        if math.isnan(xb) or math.isnan(yb):
            continue
        for c in range(max(0, math.floor(xa)), min(ncol - 1, math.floor(xb)) + 1):
            a, b = max(xa, c), min(xb, c + 1)
            if a > b:
                continue
            for xe in (a, b):
                v = ya if xb == xa else ya + (xe - xa) / (xb - xa) * (yb - ya)
                put(c, v)  # an end on the edge c + 1 is reached from column c too
    return np.array(lo), np.array(hi)


@pytest.mark.parametrize("seed", range(6))
def test_spans_cover_what_the_polyline_reaches(seed):
    rng = np.random.default_rng(seed)
    n, ncol = int(rng.integers(2, 60)), int(rng.integers(1, 40))
    x = np.sort(rng.uniform(-3, ncol + 3, n))
    if seed % 2:
        x = np.round(x)  # points on column edges and shared columns
    y = rng.normal(0, 10, n)
    y[rng.random(n) < 0.1] = np.nan  # breaks
    lo, hi = raster.spans(x, y, ncol)
    want_lo, want_hi = brute_spans(x, y, ncol)
    np.testing.assert_allclose(lo, want_lo, rtol=0, atol=1e-9)
    np.testing.assert_allclose(hi, want_hi, rtol=0, atol=1e-9)


def test_draw_line_fills_each_columns_run_inside_its_band():
    image = np.zeros((20, 5, 4), np.uint8)
    x = np.array([0.5, 1.5, 2.5, 3.5, 4.5])
    y = np.array([2.0, 8.0, 8.0, np.nan, 30.0])
    raster.draw_line(image, x, y, (1, 2, 3, 255), 0, 10)
    ink = image[..., 3] > 0
    assert ink[2:6, 0].all() and not ink[6:, 0].any()  # 2.0 up to the edge at 5.0
    assert ink[5:9, 1].all()
    assert ink[8, 2].all() and not ink[9:, 2].any()
    assert not ink[:, 3].any()  # the break
    assert np.flatnonzero(ink[:, 4]).tolist() == [9]  # 30 is outside: at the band's edge
    assert (image[ink][:, :3] == (1, 2, 3)).all()


def test_glyphs_draw_ink_of_the_texts_width():
    font = raster.glyphs(7.0, 100.0)
    image = np.zeros((20, 120, 4), np.uint8)
    font.draw(image, "HR 72", 5, 14, (255, 255, 255))
    cols = np.flatnonzero(image[..., 3].any(axis=0))
    assert len(cols) and cols[0] >= 4 and cols[-1] <= 5 + font.width("HR 72") + 1
    font.draw(image, "clipped at the edge", 100, 14, (255, 255, 255))  # no error


@pytest.mark.parametrize("channels", [3, 4])
def test_png_decodes_to_the_pixels(channels):
    from PIL import Image

    pixels = np.random.default_rng(1).integers(0, 256, (17, 23, channels), dtype=np.uint8)
    data = png.encode(pixels, dpi=100)
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (23, 17)
        assert np.array_equal(np.asarray(im), pixels)
    with pytest.raises(ValueError, match="uint8"):
        png.encode(pixels.astype(np.float32))


def test_raster_picture_holds_the_vector_pictures_arrays(tmp_path):
    from PIL import Image

    vf = vitalproc.read(vitalproc.SAMPLE)
    vector = vf.plot(width=6, dpi=60, theme="light", raster=False)
    pixels = vf.plot(tmp_path / "case.png", width=6, dpi=60, theme="light")
    assert pixels.columns == vector.columns
    for a, b in zip(vector.lanes, pixels.lanes):
        assert a.lane == b.lane and (a.lo, a.hi, a.base) == (b.lo, b.hi, b.base)
        np.testing.assert_array_equal(a.series.x, b.series.x)
        np.testing.assert_array_equal(a.series.y, b.series.y)
    with Image.open(tmp_path / "case.png") as im:
        img = np.asarray(im.convert("RGB")).astype(int)
    assert img.shape[:2] == (round(pixels.figure.get_figheight() * 60), 360)
    # The ECG lane's green (0x00ff00) is drawn, and text (dark on light) is there.
    green = (img[..., 1] > 200) & (img[..., 0] < 80) & (img[..., 2] < 80)
    assert green.sum() > 100
    assert (img.sum(axis=2) < 150).sum() > 100
