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

from .envelope import Series
from .lanes import Lane, on_dark, on_light
from .scene import Marks, Scene

if TYPE_CHECKING:
    from ..model import VitalFile

FORMATS = (".png", ".svg", ".pdf")
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
    options = {"pil_kwargs": {"compress_level": 1}} if check_path(path) == ".png" else {}
    # zlib level 1: a tall case's PNG encodes in a fifth of the time, a third bigger.
    figure.savefig(os.fspath(path), facecolor=figure.get_facecolor(), **options)


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
    pictures = _draw_lanes(ax, scene, columns, colors, theme)
    _decorate(ax, fig, scene, units, colors, title)
    return Picture(fig, scene.t0, scene.t1, columns, pictures)


def _days(scene: Scene, t: np.ndarray | float) -> Any:
    # matplotlib's dates: days since 1970-01-01 (its default epoch), here in local time.
    return (np.asarray(t, np.float64) + scene.tz) / 86400.0


def _draw_lanes(ax: Any, scene: Scene, columns: int, colors: dict, theme: str) -> list[LanePicture]:
    pictures = []
    units = sum(lane.height for lane in scene.lanes)
    top = units
    previous_device = None
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
            ax.vlines(x, base + pad, top - pad, colors=col, linewidth=0.8)
            for xi, text in zip(x.tolist(), marks.text):
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
            series = scene.series(lane, scene.t0, scene.t1, columns)
            lo, hi = scene.display_range(lane, series)
            y = base + pad + (np.clip(series.y, lo, hi) - lo) / (hi - lo) * (lane.height - 2 * pad)
            ax.plot(
                _days(scene, series.x),
                y,
                color=col,
                linewidth=0.6,
                antialiased=lane.kind != "wave",
                marker="o" if series.mode == "raw" and lane.kind == "numeric" else None,
                markersize=1.5,
            )
            # One text per lane, a second line only for waves: text is most of a
            # figure's drawing time.
            if lane.kind == "wave":
                label += f"\n{lo:g}\u2013{hi:g} {lane.unit}".rstrip()
            elif lane.unit:
                label += f" {lane.unit}"
        ax.text(
            -0.004,
            base + lane.height / 2,
            label,
            transform=ax.get_yaxis_transform(),
            fontsize=6.5,
            va="center",
            ha="right",
            color=col,
            linespacing=1.1,
        )
        new_device = lane.device != previous_device
        ax.axhline(
            top,
            color=colors["fg"] if new_device else colors["sep"],
            linewidth=0.8 if new_device else 0.3,
        )
        if new_device:
            ax.text(
                -LEFT + 0.006,
                top - 0.1,
                lane.device or "(no device)",
                transform=ax.get_yaxis_transform(),
                fontsize=7.5,
                va="top",
                ha="left",
                color=colors["fg"],
                fontweight="bold",
            )
        previous_device = lane.device
        pictures.append(LanePicture(lane, series, marks, lo, hi, base))
        top = base
    return pictures


def _decorate(
    ax: Any, fig: Any, scene: Scene, units: float, colors: dict, title: str | None
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
    ax.tick_params(colors=colors["fg"], labelsize=7)
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
    fig.text(
        LEFT,
        1 - 0.12 / fig.get_figheight(),
        title,
        color=colors["fg"],
        fontsize=9,
        va="top",
        ha="left",
    )


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
    picture = render(vf, **options)
    if path is not None:
        picture.save(path)
    return picture
