"""The viewer's fixtures: a running viewer on the sample recording, a headless Chromium
(Debian's, driven by Playwright; the browser tests are skipped, with the reason, only
when either is missing)."""

from __future__ import annotations

import os
import shutil

import pytest

import vitalproc

CHROMIUM = next(
    (
        p
        for p in (
            os.environ.get("VITALPROC_CHROMIUM"),
            "/usr/bin/chromium",
            shutil.which("chromium"),
            shutil.which("chromium-browser"),
        )
        if p and os.path.exists(p)
    ),
    None,
)


@pytest.fixture(scope="module")
def viewer():
    pytest.importorskip("bokeh", reason="the viewer's page needs bokeh (extra 'plot')")
    from vitalproc.viewer.server import Viewer

    with Viewer(vitalproc.SAMPLE) as v:
        yield v
    assert v.server.failures == []


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no chromium (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="no playwright (pip install playwright)"
    )
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield b
        b.close()
