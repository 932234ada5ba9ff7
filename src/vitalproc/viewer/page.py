"""The viewer's page: a Bokeh document (one figure, every lane in its own band of the y
axis, a track picker) plus ``static/viewer.js``, which places the lanes, fetches envelopes
for the visible range from the server (live page) and shows the values under the cursor.

The same page is the HTML snapshot: the overview's envelopes are in the page (float32,
base64), BokehJS is inlined, and nothing is fetched. Bokeh draws (canvas, zoom/pan tools,
datetime axis, crosshair, widgets); viewer.js does only what Bokeh does not: lane bands, range
queries, the readout.
"""

from __future__ import annotations

import base64
import html
import json
import os
from importlib import resources
from typing import Any

import numpy as np

from .lanes import Lane, on_dark
from .scene import Scene

#: Pixel columns of the envelopes embedded in a page (the live viewer refetches at
#: the plot's real width).
OVERVIEW_COLUMNS = 1600
#: Pixels per unit of lane height (a numeric lane; a wave's is three).
PX_PER_UNIT = 22
#: Fraction of a lane's band left empty above and below its values.
PAD = 0.08
#: BokehJS bundles the page needs (plots, and widgets for the picker).
BOKEH_BUNDLES = ("bokeh", "bokeh-widgets")
BG = "#0b0b0b"
FG = "#d8d8d8"


def bokeh_js_dir() -> str:
    """The folder of the BokehJS files shipped inside the ``bokeh`` package."""
    from bokeh.util.paths import bokehjs_path

    return os.path.join(str(bokehjs_path()), "js")


def _viewer_asset(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text("utf-8")


def lane_config(scene: Scene, lane: Lane, index: int) -> dict[str, Any]:
    lo, hi = scene.display_range(lane)
    return {
        "index": index,
        "key": lane.key,
        "kind": lane.kind,
        "device": lane.device,
        "name": lane.name,
        "unit": lane.unit,
        "color": on_dark(lane.color),
        "lo": lo,
        "hi": hi,
        "height": lane.height,
    }


def _ms(scene: Scene, t: np.ndarray | float) -> Any:
    """Unix seconds -> the x axis: milliseconds of the recording's local wall clock
    (Bokeh's datetime axis prints its numbers as UTC, so they read as local time)."""
    return (np.asarray(t, np.float64) + scene.tz) * 1000.0


def overview(scene: Scene, columns: int = OVERVIEW_COLUMNS, compact: bool = False) -> bytes:
    """Every lane over the scene's whole range, ``columns`` wide, in the server's binary
    reply format (``server.encode``); ``compact``: float32 (the snapshot's size)."""
    from .server import encode, view

    head, arrays = view(scene, scene.t0, scene.t1, columns, list(range(len(scene.lanes))))
    return encode(head, arrays, compact=compact)


def build(
    scene: Scene,
    live: bool,
    title: str,
    api: str = "",
    cases: list[str] | None = None,
    case: str | None = None,
    columns: int = OVERVIEW_COLUMNS,
) -> str:
    """The page's HTML.

    Parameters
    ----------
    scene
        What to show.
    live
        True: served by the viewer (BokehJS from ``/static/``, ranges fetched from
        ``api``); False: the self-contained snapshot (BokehJS inline, no request).
    title
        The page's title (the file or case name).
    api
        Prefix of the server's endpoints (``""``: same origin).
    cases, case
        A dataset's case ids and the one shown (a picker switches between them).
    columns
        Envelope columns of the overview in the page.
    """
    from bokeh.embed import components

    lanes = [lane_config(scene, lane, i) for i, lane in enumerate(scene.lanes)]
    t0, t1 = float(_ms(scene, scene.t0)), float(_ms(scene, scene.t1))
    config = {
        "lanes": lanes,
        "t0": t0,
        "t1": t1,
        "live": live,
        "api": api,
        "case": case,
        "tz": scene.tz,
        "pxPerUnit": PX_PER_UNIT,
        "pad": PAD,
        "name": _name(scene),
        "columns": columns,
    }
    root = _document(scene, lanes, t0, t1, cases, case)
    script, div = components(root)
    if live:
        bokeh = "\n".join(
            f'<script src="/static/js/{name}.min.js"></script>' for name in BOKEH_BUNDLES
        )
    else:
        parts = []
        for name in BOKEH_BUNDLES:
            with open(os.path.join(bokeh_js_dir(), f"{name}.min.js"), encoding="utf-8") as f:
                parts.append(f"<script>{f.read()}</script>")
        bokeh = "\n".join(parts)
    blob = base64.b64encode(overview(scene, columns, compact=not live)).decode()
    return _TEMPLATE.format(
        title=html.escape(title),
        bokeh=bokeh,
        viewer_js=_viewer_asset("viewer.js"),
        css=_viewer_asset("viewer.css"),
        script=script,
        div=div,
        config=json.dumps(config, allow_nan=False).replace("</", "<\\/"),
        blob=blob,
    )


def _document(
    scene: Scene, lanes: list[dict], t0: float, t1: float, cases: list[str] | None, case: str | None
) -> Any:
    """The Bokeh document: the figure with its tools and axes, the picker, the readout.
    The lanes' renderers are made by viewer.js: made here, each would cost Bokeh's
    Python side tens of milliseconds (a case has tens of lanes)."""
    from bokeh.document import Document
    from bokeh.events import DocumentReady, MouseLeave, MouseMove
    from bokeh.layouts import column, row

    # (bokeh.models loads most models lazily: mypy does not see them)
    from bokeh.models import (  # type: ignore[attr-defined]
        BoxZoomTool,
        Button,
        CheckboxGroup,
        ColumnDataSource,
        CrosshairTool,
        CustomJS,
        DatetimeAxis,
        Div,
        LabelSet,
        PanTool,
        Range1d,
        ResetTool,
        Select,
        Span,
        WheelZoomTool,
    )
    from bokeh.plotting import figure

    units = sum(lane["height"] for lane in lanes) or 1.0
    fig = figure(
        x_axis_type="datetime",
        x_range=Range1d(start=t0, end=t1, bounds=(t0, t1), min_interval=5.0),
        y_range=Range1d(start=0, end=units),
        height=int(units * PX_PER_UNIT) + 60,
        sizing_mode="stretch_width",
        tools=[],
        toolbar_location="above",
        background_fill_color=BG,
        border_fill_color=BG,
        outline_line_color="#3a3a3a",
        min_border_left=8,
        min_border_right=8,
        name="lanes",
        output_backend="canvas",
    )
    wheel = WheelZoomTool(dimensions="width", name="zoom")
    crosshair = CrosshairTool(
        overlay=Span(dimension="height", line_color="#ffdd55", line_alpha=0.7, line_width=1)
    )
    fig.add_tools(
        PanTool(dimensions="width"), wheel, BoxZoomTool(dimensions="width"), ResetTool(), crosshair
    )
    fig.toolbar.active_scroll = wheel
    fig.toolbar.logo = None
    fig.yaxis.visible = False
    fig.ygrid.visible = False
    fig.xgrid.grid_line_color = "#262626"
    fig.add_layout(DatetimeAxis(), "above")
    for axis in fig.xaxis:
        axis.major_label_text_color = FG
        axis.axis_line_color = "#3a3a3a"
        axis.major_tick_line_color = "#3a3a3a"
        axis.minor_tick_line_color = None
    # Every string lane's marks in one source (a Bokeh annotation made in the page
    # would be drawn before its view exists).
    marks = ColumnDataSource({"x": [], "y0": [], "y1": [], "text": [], "color": []}, name="marks")
    fig.segment("x", "y0", "x", "y1", source=marks, line_color="color", line_width=1.5)
    fig.add_layout(
        LabelSet(
            x="x",
            y="y1",
            text="text",
            source=marks,
            text_color="color",
            text_font_size="10px",
            text_baseline="top",
            x_offset=3,
        )
    )
    labels = ColumnDataSource({"y": [], "text": [], "color": []}, name="labels")
    fig.add_layout(
        LabelSet(
            x=6,
            x_units="screen",
            y="y",
            text="text",
            source=labels,
            text_color="color",
            text_font_size="11px",
            text_baseline="top",
            background_fill_color=BG,
            background_fill_alpha=0.6,
            name="labelset",
            level="overlay",
        )
    )
    picker = CheckboxGroup(
        labels=[lane["key"] for lane in lanes],
        active=list(range(len(lanes))),
        name="picker",
        stylesheets=[":host { font-size: 12px; }"],
    )
    buttons = {
        name: Button(label=name.capitalize(), width=60, name=name)
        for name in ("all", "none", "waves")
    }
    info = Div(
        text="", name="info", styles={"color": FG, "font-family": "monospace", "font-size": "12px"}
    )
    head = [
        Div(text=f"<b>{html.escape(_name(scene))}</b>", styles={"color": FG, "font-size": "13px"})
    ]
    case_select = None
    if cases:
        case_select = Select(options=cases, value=case, name="case", width=200)
        head.append(case_select)
    side = column(
        *head,
        row(*buttons.values()),
        picker,
        width=240,
        styles={"overflow-y": "auto", "max-height": "92vh"},
        name="side",
    )
    layout = row(
        side,
        column(info, fig, sizing_mode="stretch_width"),
        sizing_mode="stretch_width",
        styles={"background": BG},
    )
    doc = Document()
    doc.js_on_event(
        DocumentReady,
        CustomJS(
            args={"fig": fig, "labels": labels, "marks": marks, "picker": picker, "info": info},
            code="VitalViewer.init({fig, labels, marks, picker, info});",
        ),
    )
    fig.x_range.js_on_change("start", CustomJS(code="VitalViewer.rangeChanged()"))
    fig.x_range.js_on_change("end", CustomJS(code="VitalViewer.rangeChanged()"))
    fig.js_on_event(MouseMove, CustomJS(code="VitalViewer.cursor(cb_obj.x)"))
    fig.js_on_event(MouseLeave, CustomJS(code="VitalViewer.cursor(null)"))
    picker.js_on_change("active", CustomJS(code="VitalViewer.relayout()"))
    for name, button in buttons.items():
        button.js_on_event("button_click", CustomJS(code=f"VitalViewer.pick('{name}')"))
    if case_select is not None:
        case_select.js_on_change("value", CustomJS(code="VitalViewer.openCase(cb_obj.value)"))
    # Last: a document walks all its models again at every change made after this.
    doc.add_root(layout)
    return layout


def _name(scene: Scene) -> str:
    ipath = scene.vf.ipath
    if isinstance(ipath, (str, os.PathLike)):
        return os.path.basename(os.fspath(ipath))
    return "recording"


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>{css}</style>
{bokeh}
<script type="application/json" id="vitalproc-config">{config}</script>
<script type="text/plain" id="vitalproc-overview">{blob}</script>
<script>{viewer_js}</script>
</head>
<body>
{div}
{script}
</body>
</html>
"""
