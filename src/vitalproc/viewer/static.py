"""The quick-look picture of a recording (matplotlib): every lane in one axes, waves as
min/max envelopes with one column per pixel of the plot area, numerics as values over
time, strings and events as labelled marks, on the recording's local time.

One axes, not one per lane: a case has tens of tracks, and matplotlib spends most of a
figure's time per axes. Each lane's values are scaled into its own band of the y axis.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .._files import atomic_file
from .envelope import Series
from .lanes import Lane, on_dark, on_light
from .scene import Marks, Scene

if TYPE_CHECKING:
    from ..model import VitalFile

FORMATS = (".png", ".svg", ".pdf")
#: Font sizes (points) of the lane and device labels, the title and the time axis.
LABEL_POINTS, DEVICE_POINTS, TITLE_POINTS, TICK_POINTS = 6.5, 7.5, 9.0, 7.0
#: Inches of figure height per unit of lane height (a numeric lane), and around them.
INCH_PER_UNIT = 0.3
MARGIN_INCHES = 0.9
#: Fraction of the figure's width left and right of the plot area.
LEFT, RIGHT = 0.12, 0.99
THEMES = {
    "dark": {"bg": "#0b0b0b", "fg": "#d8d8d8", "grid": "#2a2a2a", "sep": "#3a3a3a"},
    "light": {"bg": "#ffffff", "fg": "#202020", "grid": "#e4e4e4", "sep": "#b0b0b0"},
}


class LanePicture(NamedTuple):
    """What one lane shows: its ``series`` (waves, numerics) or ``marks`` (strings), the
    values its band spans and the band itself (y from ``base`` to ``base + height``)."""

    lane: Lane
    series: Series | None
    marks: Marks | None
    lo: float
    hi: float
    base: float


class Picture(NamedTuple):
    """A drawn recording: the matplotlib ``figure``, the range drawn (Unix seconds), the
    plot area's width in pixels (``columns``: one envelope column each) and, per lane,
    the arrays behind the image."""

    figure: Any
    t0: float
    t1: float
    columns: int
    lanes: list[LanePicture]

    def save(self, path: str | os.PathLike) -> None:
        """Write the picture; PNG, SVG or PDF by the path's suffix."""
        save(self.figure, path)


def check_path(path: str | os.PathLike) -> str:
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"{os.fspath(path)}: a picture is written as "
            f"{', '.join(FORMATS)} (by its suffix), not {suffix or 'no suffix'!r}"
        )
    return suffix


def save(figure: Any, path: str | os.PathLike) -> None:
    suffix = check_path(path)
    with atomic_file(path, durable=False) as out:  # a picture, drawn again at will
        if suffix == ".png":
            from .png import write

            write(out, figure)
        else:
            figure.savefig(out, format=suffix[1:], facecolor=figure.get_facecolor())


def _figure_class() -> Any:
    # A bare Figure (no pyplot): no GUI backend, no global state, safe in a server.
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plots need matplotlib: pip install 'vitalproc[plot]'") from exc
    return Figure


def render(
    vf: VitalFile,
    tracks: Any = None,
    start: Any = None,
    end: Any = None,
    width: float = 16.0,
    height: float | None = None,
    dpi: float = 100.0,
    theme: str = "dark",
    title: str | None = None,
    raster: bool = False,
) -> Picture:
    """Draw a recording.

    Parameters
    ----------
    vf
        The recording.
    tracks
        Names as ``vitalproc.read`` takes them (exact, suffix, ``Device/*``); None:
        every track.
    start, end
        The range: seconds from the start (from the end when negative) or Unix seconds
        (numbers from 1e9); None: the recording's span.
    width, height
        Inches; the height defaults to what the lanes need.
    dpi
        Pixels per inch: with ``width`` it sets how many envelope columns there are.
    theme
        ``"dark"`` (as Vital Recorder, track colours as recorded) or ``"light"``.
    title
        Above the lanes; default: the file name, local start time and duration.
    raster
        Draw the lanes' lines as one image of the plot area's pixels (what a PNG
        shows, many times faster to draw) instead of a vector line per lane (what an
        SVG or PDF wants: lines that stay sharp when enlarged).

    Returns
    -------
    Picture
    """
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}, not {theme!r}")
    if not (width > 0 and dpi > 0 and (height is None or height > 0)):
        raise ValueError("width, height and dpi must be positive")
    scene = Scene(vf, tracks, start, end, summaries=False)
    if not scene.lanes:
        raise ValueError("no track to draw")
    colors = THEMES[theme]
    units = sum(lane.height for lane in scene.lanes)
    if height is None:
        height = units * INCH_PER_UNIT + MARGIN_INCHES
    figure_cls = _figure_class()
    fig = figure_cls(figsize=(width, height), dpi=dpi, facecolor=colors["bg"])
    bottom = 0.45 / height
    top = 1 - 0.4 / height
    ax = fig.add_axes((LEFT, bottom, RIGHT - LEFT, top - bottom))
    ax.set_autoscale_on(False)  # the limits are known; autoscaling 70 lines costs 0.1 s
    columns = max(1, round(width * dpi * (RIGHT - LEFT)))
    rows = max(1, round((top - bottom) * height * dpi)) if raster else 0
    pictures = _draw_lanes(ax, scene, columns, colors, theme, rows)
    _decorate(ax, fig, scene, units, colors, title, raster)
    return Picture(fig, scene.t0, scene.t1, columns, pictures)


def prepare_fonts(dpi: float = 100.0) -> None:
    """Make the glyphs a PNG's labels are drawn with (at ``dpi``) ahead of time: the
    command line does it while the recording is read."""
    from .raster import PRINTABLE, glyphs

    for size, bold in (
        (LABEL_POINTS, False),
        (DEVICE_POINTS, True),
        (TITLE_POINTS, False),
        (TICK_POINTS, False),
    ):
        glyphs(size, dpi, bold).warm(PRINTABLE)


def _days(scene: Scene, t: np.ndarray | float) -> Any:
    # matplotlib's dates: days since 1970-01-01 (its default epoch), here in local time.
    return (np.asarray(t, np.float64) + scene.tz) / 86400.0


def _all_series(scene: Scene, columns: int) -> dict[str, Series]:
    """Every wave and numeric lane's series, on as many threads as there are cores (the
    envelope walk runs without the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    lanes = [lane for lane in scene.lanes if lane.kind != "string"]
    # The biggest first: the threads finish together.
    lanes.sort(key=lambda lane: -len(scene.vf.trks[lane.key].data))
    with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:
        found = pool.map(lambda lane: scene.series(lane, scene.t0, scene.t1, columns), lanes)
        return {lane.key: series for lane, series in zip(lanes, found)}


def _draw_lanes(
    ax: Any, scene: Scene, columns: int, colors: dict, theme: str, rows: int = 0
) -> list[LanePicture]:
    """Draw every lane; ``rows`` > 0: the lines into one image of ``rows`` x ``columns``
    pixels (the plot area), else a matplotlib line each."""
    pictures = []
    units = sum(lane.height for lane in scene.lanes)
    top = units
    previous_device = None
    all_series = _all_series(scene, columns)
    image = np.zeros((rows, columns, 4), np.uint8) if rows else None
    # The labels left of the lanes, as pixels too.
    strip = np.zeros((rows, round(ax.bbox.x0), 4), np.uint8) if rows else None
    line_px = 0.6 / 72 * ax.figure.dpi  # the vector line's width: 0.6 points
    separators: list[tuple[float, bool]] = []
    for lane in scene.lanes:
        base = top - lane.height
        col = on_dark(lane.color) if theme == "dark" else on_light(lane.color)
        series = marks = None
        pad = 0.08 * lane.height
        label = lane.name
        if lane.kind == "string":
            lo, hi = 0.0, 1.0
            marks = scene.marks(lane, scene.t0, scene.t1)
            x = _days(scene, marks.x)
            if image is not None:
                span = (base + pad, top - pad)
                _marks_into(image, scene, marks, units, span, col, ax.figure.dpi)
            else:
                ax.vlines(x, base + pad, top - pad, colors=col, linewidth=0.8)
            for xi, text in zip(x.tolist() if image is None else [], marks.text):
                ax.text(
                    xi,
                    top - pad,
                    " " + text,
                    color=col,
                    fontsize=6.5,
                    va="top",
                    ha="left",
                    clip_on=True,
                )
        else:
            series = all_series[lane.key]
            lo, hi = scene.display_range(lane, series)
            y = base + pad + (np.clip(series.y, lo, hi) - lo) / (hi - lo) * (lane.height - 2 * pad)
            dots = series.mode == "raw" and lane.kind == "numeric"
            if image is not None:
                _draw_into(image, scene, series.x, y, units, (base, top), col, dots, line_px)
            else:
                ax.plot(
                    _days(scene, series.x),
                    y,
                    color=col,
                    linewidth=0.6,
                    antialiased=lane.kind != "wave",
                    marker="o" if dots else None,
                    markersize=1.5,
                )
            # One text per lane, a second line only for waves: text is most of a
            # figure's drawing time.
            if lane.kind == "wave":
                label += f"\n{lo:g}\u2013{hi:g} {lane.unit}".rstrip()
            elif lane.unit:
                label += f" {lane.unit}"
        if strip is not None:
            _label_into(strip, label, base + lane.height / 2, units, col, ax.figure.dpi)
        else:
            ax.text(
                -0.004,
                base + lane.height / 2,
                label,
                transform=ax.get_yaxis_transform(),
                fontsize=LABEL_POINTS,
                va="center",
                ha="right",
                color=col,
                linespacing=1.1,
            )
        new_device = lane.device != previous_device
        separators.append((top, new_device))
        if new_device and strip is not None:
            _device_into(strip, lane.device or "(no device)", top - 0.1, units, colors["fg"], ax)
        elif new_device:
            ax.text(
                -LEFT + 0.006,
                top - 0.1,
                lane.device or "(no device)",
                transform=ax.get_yaxis_transform(),
                fontsize=DEVICE_POINTS,
                va="top",
                ha="left",
                color=colors["fg"],
                fontweight="bold",
            )
        previous_device = lane.device
        pictures.append(LanePicture(lane, series, marks, lo, hi, base))
        top = base
    # The lines between lanes as one collection (a line each costs a millisecond).
    for device in (False, True):
        ys = [y for y, new in separators if new == device]
        if ys:
            ax.hlines(
                ys,
                0,
                1,
                transform=ax.get_yaxis_transform(),
                colors=colors["fg"] if device else colors["sep"],
                linewidth=0.8 if device else 0.3,
            )
    if image is not None:
        top_px = round(ax.figure.bbox.height - ax.bbox.y1)
        ax.add_artist(_pixels([(image, round(ax.bbox.x0), top_px), (strip, 0, top_px)]))
    return pictures


def _placed(artist: Any, renderer: Any, image: np.ndarray, left: int, top: int) -> None:
    if not image.size:
        return
    gc = renderer.new_gc()
    # The renderer's image rows go up from (x, y), the image's bottom left.
    flipped = np.ascontiguousarray(image[::-1])
    renderer.draw_image(gc, left, round(renderer.height) - top - len(image), flipped)
    gc.restore()


def _pixels_artist() -> Any:
    from matplotlib.artist import Artist

    class Pixels(Artist):
        """Images put on the figure pixel for pixel, each at (left, top) pixels from the
        figure's top left: no resampling (matplotlib's imshow resamples even at one
        pixel per pixel, a tenth of a second for a tall picture)."""

        zorder = 2  # over the grid, as lines are

        def __init__(self, placed: list[tuple[np.ndarray, int, int]]):
            super().__init__()
            self.placed = placed

        def draw(self, renderer: Any) -> None:
            for image, left, top in self.placed:
                _placed(self, renderer, image, left, top)
            self.stale = False

    return Pixels


def _pixels(placed: list[tuple[np.ndarray, int, int]]) -> Any:
    """An artist drawing ``(image, left, top)`` pixel for pixel."""
    return _pixels_artist()(placed)


def _marks_into(
    image: np.ndarray,
    scene: Scene,
    marks: Marks,
    units: float,
    span: tuple[float, float],
    color: str,
    dpi: float,
) -> None:
    """A string lane's marks into the plot area's image: a vertical line each, its text
    to the right of the line's top."""
    from .raster import glyphs, rgba_of

    rows, columns = image.shape[:2]
    per_unit = rows / units
    row0, row1 = round((units - span[1]) * per_unit), round((units - span[0]) * per_unit)
    rgba = rgba_of(color)
    font = glyphs(LABEL_POINTS, dpi)
    for t, text in zip(marks.x.tolist(), marks.text):
        col = int((t - scene.t0) * columns / (scene.t1 - scene.t0))
        if not 0 <= col < columns:
            continue
        image[row0:row1, col] = rgba
        font.draw(image, " " + text, col, round(row0 + 0.8 * font.line), rgba[:3])


def _label_into(
    strip: np.ndarray, label: str, y: float, units: float, color: str, dpi: float
) -> None:
    """A lane's label, right-aligned at the strip's right edge, centred on ``y``."""
    from .raster import glyphs, rgba_of

    font = glyphs(LABEL_POINTS, dpi)
    lines = label.split("\n")
    pitch = 1.1 * font.line
    centre = (units - y) * len(strip) / units
    right = strip.shape[1] - round(0.004 * (RIGHT - LEFT) / LEFT * strip.shape[1])
    rgb = rgba_of(color)[:3]
    for k, line in enumerate(lines):
        # A line's letters are centred about a third of a line above its baseline.
        baseline = round(centre + (k - (len(lines) - 1) / 2) * pitch + 0.35 * font.line)
        font.draw(strip, line, right - font.width(line), baseline, rgb)


def _device_into(strip: np.ndarray, name: str, y: float, units: float, color: str, ax: Any) -> None:
    """A device's name near the strip's left edge, its top at ``y``."""
    from .raster import glyphs, rgba_of

    font = glyphs(DEVICE_POINTS, ax.figure.dpi, bold=True)
    row = (units - y) * len(strip) / units
    left = round(ax.bbox.x0 + (-LEFT + 0.006) * ax.bbox.width)
    font.draw(strip, name, left, round(row + 0.8 * font.line), rgba_of(color)[:3])


def _draw_into(
    image: np.ndarray,
    scene: Scene,
    x: np.ndarray,
    y: np.ndarray,
    units: float,
    band: tuple[float, float],
    color: str,
    dots: bool,
    thickness: float,
) -> None:
    """A lane's line (``x`` Unix seconds, ``y`` in axis units) into the plot area's
    image: pixel columns along the range, rows down from the top lane; ``thickness``
    in pixels."""
    from . import raster

    rows, columns = image.shape[:2]
    per_unit = rows / units
    cx = (x - scene.t0) * (columns / (scene.t1 - scene.t0))
    ry = (units - y) * per_unit
    row0 = max(0, int(np.floor((units - band[1]) * per_unit)))
    row1 = min(rows, int(np.ceil((units - band[0]) * per_unit)))
    rgba = raster.rgba_of(color)
    raster.draw_line(image, cx, ry, rgba, row0, row1, thickness)
    if dots:
        raster.draw_dots(image, cx, ry, rgba)


def _decorate(
    ax: Any,
    fig: Any,
    scene: Scene,
    units: float,
    colors: dict,
    title: str | None,
    raster: bool = False,
) -> None:
    import datetime

    import matplotlib.dates as mdates

    ax.set_facecolor(colors["bg"])
    ax.set_xlim(_days(scene, scene.t0), _days(scene, scene.t1))
    ax.set_ylim(0, units)
    ax.set_yticks([])
    locator = mdates.AutoDateLocator(minticks=5, maxticks=14)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(axis="x", color=colors["grid"], linewidth=0.5)
    ax.tick_params(colors=colors["fg"], labelsize=TICK_POINTS)
    for spine in ax.spines.values():
        spine.set_color(colors["sep"])
    if title is None:
        vf = scene.vf
        name = (
            os.path.basename(os.fspath(vf.ipath))
            if isinstance(vf.ipath, (str, os.PathLike))
            else "recording"
        )
        start = datetime.datetime.fromtimestamp(scene.t0 + scene.tz, datetime.timezone.utc)
        zone = -int(vf.dgmt or 0)
        sign = "+" if zone >= 0 else "-"
        title = (
            f"{name}   {start:%Y-%m-%d %H:%M:%S} (UTC{sign}{abs(zone) // 60:02d}:"
            f"{abs(zone) % 60:02d})   {_duration(scene.t1 - scene.t0)}   "
            f"{len(scene.lanes)} tracks"
        )
    if raster:
        _texts_into_pixels(ax, fig, title, colors["fg"])
        return
    fig.text(
        LEFT,
        1 - 0.12 / fig.get_figheight(),
        title,
        color=colors["fg"],
        fontsize=TITLE_POINTS,
        va="top",
        ha="left",
    )


def _texts_into_pixels(ax: Any, fig: Any, title: str, color: str) -> None:
    """The title and the time axis' labels as pixels (``raster``), laid out as
    matplotlib lays them out: the title's top 0.12 inch below the figure's, tick labels
    centred under their ticks, the date offset under the last."""
    from .raster import glyphs, rgba_of

    dpi = fig.dpi
    width, height = round(fig.bbox.width), round(fig.bbox.height)
    rgb = rgba_of(color)[:3]
    above = np.zeros((max(0, round(height - ax.bbox.y1)), width, 4), np.uint8)
    font = glyphs(TITLE_POINTS, dpi)
    font.draw(above, title, round(LEFT * width), round(0.12 * dpi + 0.8 * font.line), rgb)
    below = np.zeros((max(0, round(ax.bbox.y0)), width, 4), np.uint8)
    font = glyphs(TICK_POINTS, dpi)
    locs = ax.xaxis.get_majorticklocs()
    formatter = ax.xaxis.get_major_formatter()
    labels = formatter.format_ticks(locs)
    x0, x1 = ax.get_xlim()
    # Tick length and pad, 3.5 points each, then the letters' height.
    first = round(7 / 72 * dpi + 0.8 * font.line)
    pitch = 1.2 * font.line
    for loc, label in zip(locs, labels):
        if not x0 <= loc <= x1:
            continue
        x = ax.bbox.x0 + (loc - x0) / (x1 - x0) * ax.bbox.width
        for k, line in enumerate(label.split("\n")):
            font.draw(below, line, round(x - font.width(line) / 2), round(first + k * pitch), rgb)
    offset = formatter.get_offset()
    if offset:
        x = round(ax.bbox.x1 - font.width(offset))
        font.draw(below, offset, x, round(first + 1.5 * pitch), rgb)
    ax.tick_params(labelbottom=False)
    ax.xaxis.offsetText.set_visible(False)
    fig.add_artist(_pixels([(above, 0, 0), (below, 0, height - len(below))]))


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def plot(vf: VitalFile, path: str | os.PathLike | None = None, **options: Any) -> Picture:
    """``render`` the recording and, given a ``path``, save it (PNG, SVG or PDF by its
    suffix). See ``render`` for the options."""
    if path is not None:
        check_path(path)
    if path is not None and "raster" not in options:
        options["raster"] = check_path(path) == ".png"
    picture = render(vf, **options)
    if path is not None:
        picture.save(path)
    return picture
