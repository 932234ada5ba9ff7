"""Take the viewer's documentation screenshot: serve a recording, open it in headless
Chromium, zoom to a few seconds, hover, and save a PNG.

    python tools/viewer_screenshot.py demo.vital docs/images/viewer.png [--at 890 --span 20]
"""

from __future__ import annotations

import argparse

import vitalproc
from vitalproc.viewer.server import Viewer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("recording")
    ap.add_argument("out")
    ap.add_argument("--at", type=float, default=890.0, help="seconds from the start")
    ap.add_argument("--span", type=float, default=20.0, help="seconds shown")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    vf = vitalproc.read(args.recording, header_only=True)
    tz = -60.0 * vf.dgmt
    a = (vf.dtstart + args.at + tz) * 1000
    with Viewer(args.recording) as v, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        page.goto(v.url)
        page.wait_for_function("window.VitalViewer && VitalViewer.state.ready")
        page.evaluate(
            "([a, b]) => VitalViewer.state.fig.x_range.setv({start: a, end: b})",
            [a, a + args.span * 1000],
        )
        page.wait_for_function("VitalViewer.state.fetches > 0")
        page.evaluate("VitalViewer.whenIdle()")
        box = page.locator("canvas").first.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.62, box["y"] + box["height"] * 0.5)
        page.wait_for_timeout(300)
        page.screenshot(path=args.out)
        browser.close()


if __name__ == "__main__":
    main()
