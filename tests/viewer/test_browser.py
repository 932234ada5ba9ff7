"""The web viewer in a real browser: headless Chromium loads the page from the local
server, the lanes of the sample recording are drawn, a zoom to 2 seconds shows the
file's own samples, and the server outlives a closed tab."""

from __future__ import annotations

import io
import socket
import urllib.request

import numpy as np
import pytest

import vitalproc
from vitalproc.viewer.lanes import layout

LOAD = "window.VitalViewer && VitalViewer.state.ready"


def open_page(browser, url, width=1400):
    page = browser.new_page(viewport={"width": width, "height": 900})
    log = {"console": [], "errors": [], "requests": []}
    page.on("console", lambda m: log["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("request", lambda r: log["requests"].append(r.url))
    page.goto(url)
    page.wait_for_function(LOAD, timeout=30_000)
    return page, log


def idle(page):
    page.evaluate("VitalViewer.whenIdle()")


def test_page_loads_clean_and_draws_every_lane(viewer, browser):
    page, log = open_page(browser, viewer.url)
    try:
        idle(page)
        expected = layout(vitalproc.read(vitalproc.SAMPLE))
        state = page.evaluate("""() => {
            const S = VitalViewer.state;
            return {lanes: S.lanes.map((l) => l.key), visible: [...S.visible],
                    drawn: S.lanes.map((l, i) => l.kind === 'string'
                        ? S.data[i].x.length : S.sources[i].data.x.length),
                    labels: S.labels.data.text.filter((t) => t).length};
        }""")
        assert state["lanes"] == [lane.key for lane in expected]
        assert len(state["lanes"]) == 16
        assert sorted(state["visible"]) == list(range(16))
        assert all(n > 0 for n in state["drawn"]), state["drawn"]
        assert state["labels"] == 16
        shot = page.screenshot()
        assert not log["errors"], log["errors"]
        assert [m for m in log["console"] if m[0] == "error"] == []
        outside = [u for u in log["requests"] if not u.startswith(viewer.url)]
        assert outside == []
    finally:
        page.close()
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int)
    assert img.std() > 10  # not blank
    # The ECG lane's green (0x00ff00) and the ABP lane's red are on screen.
    green = (img[..., 1] > 200) & (img[..., 0] < 80) & (img[..., 2] < 80)
    red = (img[..., 0] > 200) & (img[..., 1] < 80) & (img[..., 2] < 80)
    assert green.sum() > 500 and red.sum() > 500


def test_zoom_to_two_seconds_shows_the_files_samples(viewer, browser):
    vf = vitalproc.read(vitalproc.SAMPLE)
    lanes = layout(vf)
    index = [lane.key for lane in lanes].index("Intellivue/ECG_II")
    track = vf.trks["Intellivue/ECG_II"]
    tz = -60.0 * vf.dgmt
    t0 = float(track.dt[20])
    page, log = open_page(browser, viewer.url)
    try:
        page.evaluate(
            "([a, b]) => VitalViewer.state.fig.x_range.setv({start: a, end: b})",
            [(t0 + tz) * 1000, (t0 + 2 + tz) * 1000],
        )
        page.wait_for_function(
            "VitalViewer.state.fetches > 0 && VitalViewer.state.last"
            f" && VitalViewer.state.last.start === {(t0 + tz) * 1000!r}",
            timeout=30_000,
        )
        idle(page)
        got = page.evaluate(
            """(i) => {
            const d = VitalViewer.state.data[i];
            const m = VitalViewer.state.markers[i];
            return {mode: d.mode, x: Array.from(d.x), v: Array.from(d.v),
                    dots: m !== null && m.visible};
        }""",
            index,
        )
        assert not log["errors"]
    finally:
        page.close()
    assert got["mode"] == "raw"
    x = np.array([np.nan if v is None else v for v in got["x"]], float) / 1000 - tz
    v = np.array([np.nan if a is None else a for a in got["v"]], float)
    inside = (x >= t0) & (x < t0 + 2)
    # The file's samples in those 2 seconds, in physical units.
    times = np.concatenate(
        [
            track.dt[r] + np.arange(track.offsets[r + 1] - track.offsets[r]) / track.srate
            for r in range(len(track.dt))
        ]
    )
    phys = track.to_numpy(physical=True)
    want = (times >= t0) & (times < t0 + 2)
    assert inside.sum() == want.sum() == 1000
    np.testing.assert_allclose(x[inside], times[want], rtol=0, atol=1e-6)
    assert np.array_equal(v[inside], phys[want])
    assert got["dots"] is False  # 1,000 samples in 1,400 pixels: a line, no dots


def test_server_survives_a_closed_tab(viewer, browser):
    page, _ = open_page(browser, viewer.url)
    # Ask for many ranges and close the tab while they are answered.
    page.evaluate("""() => { const r = VitalViewer.state.fig.x_range;
        for (let k = 1; k < 30; k++) { VitalViewer.refresh(); r.setv({start: r.start + k}); } }""")
    page.close()
    # A client that sends half a request and hangs up.
    host, port = viewer.server.server_address[:2]
    with socket.create_connection((host, port)) as s:
        s.sendall(b"GET /api/view?start=1&end=2 HTTP/1.1\r\nHost: x")
    with socket.create_connection((host, port)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(100)  # read a little of the page and drop the rest
    page, log = open_page(browser, viewer.url)
    try:
        idle(page)
        assert not log["errors"]
    finally:
        page.close()
    with urllib.request.urlopen(viewer.url + "api/cases") as r:
        assert r.status == 200
    assert viewer.server.failures == []


def test_snapshot_is_self_contained(tmp_path, browser):
    pytest.importorskip("bokeh")
    from vitalproc.viewer.snapshot import write_html

    path = tmp_path / "case.html"
    write_html(vitalproc.read(vitalproc.SAMPLE), path)
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(path.as_uri())
        page.wait_for_function(LOAD, timeout=30_000)
        drawn = page.evaluate(
            "VitalViewer.state.sources.filter((s) => s && s.data.x.length > 0).length"
        )
        fetches = page.evaluate("VitalViewer.state.fetches")
    finally:
        page.close()
    assert errors == []
    assert drawn == 16  # every lane (the sample has waves and numerics only)
    assert fetches == 0
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []
