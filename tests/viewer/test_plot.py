"""The picture: its arrays hold, per pixel column of the plot area, the min and max of
the samples the column covers; the commands write PNG/SVG/PDF/HTML and refuse bad
input with exit code 2."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import vitalproc

pytest.importorskip("matplotlib")


def brute_columns(track, t0, width, ncol):
    phys = track.to_numpy(physical=True)
    cols: dict[int, list[float]] = {}
    period = 1 / track.srate if track.type == 1 else 0.0
    offsets = track.offsets if track.type == 1 else np.arange(len(track.dt) + 1)
    for r, dt in enumerate(track.dt.tolist()):
        for i in range(int(offsets[r]), int(offsets[r + 1])):
            c = math.floor(((dt - t0) + (i - offsets[r]) * period) / width)
            if 0 <= c < ncol and not math.isnan(phys[i]):
                cols.setdefault(c, []).append(phys[i])
    return {c: (min(v), max(v)) for c, v in cols.items()}


def test_picture_columns_hold_each_columns_min_and_max():
    vf = vitalproc.read(vitalproc.SAMPLE)
    picture = vf.plot(width=4, dpi=50)  # a narrow picture: many samples per column
    assert picture.columns == round(4 * 50 * (0.99 - 0.12))
    assert [lp.lane.key for lp in picture.lanes][-3:] == [
        "Intellivue/ECG_II",
        "Intellivue/PLETH",
        "Intellivue/ABP",
    ]
    width = (picture.t1 - picture.t0) / picture.columns
    for lp in picture.lanes:
        track = vf.trks[lp.lane.key]
        s = lp.series
        want = brute_columns(track, picture.t0, width, picture.columns)
        ok = ~np.isnan(s.y)
        col = np.floor((s.x[ok] - picture.t0) / width).astype(int)
        got: dict[int, list[float]] = {}
        for c, v in zip(col.tolist(), s.y[ok].tolist()):
            got.setdefault(c, []).append(v)
        if s.mode == "envelope":
            assert {c: (min(v), max(v)) for c, v in got.items()} == want, lp.lane.key
        else:  # raw: every sample is drawn
            assert {
                c: (min(v), max(v)) for c, v in got.items() if 0 <= c < picture.columns
            } == want, lp.lane.key
    assert any(lp.series.mode == "envelope" for lp in picture.lanes)


def test_plot_writes_each_format(tmp_path):
    vf = vitalproc.read(vitalproc.SAMPLE)
    for suffix, magic in ((".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")):
        path = tmp_path / f"case{suffix}"
        vf.plot(path, tracks="ECG_II,HR", start=5, end=15, theme="light")
        assert path.read_bytes().startswith(magic)
    with pytest.raises(ValueError, match="suffix"):
        vf.plot(tmp_path / "case.jpg")
    with pytest.raises(KeyError, match="NOPE"):
        vf.plot(tracks="NOPE")


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "vitalproc", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_plot_command(tmp_path):
    pytest.importorskip("bokeh")
    png, html = tmp_path / "case.png", tmp_path / "case.html"
    r = run("plot", vitalproc.SAMPLE, "-o", str(png), "--html", str(html), "--dpi", "60")
    assert r.returncode == 0, r.stderr
    assert png.read_bytes().startswith(b"\x89PNG")
    text = html.read_text()
    assert "<script src=" not in text and "vitalproc-overview" in text
    for bad, words in (
        (["-o", str(tmp_path / "a.gif")], "suffix"),
        (["-o", str(tmp_path / "a.png"), "-t", "NOPE"], "matches NOPE"),
        (["-o", str(tmp_path / "a.png"), "--start", "20", "--end", "5"], "nothing to draw"),
        (["-o", str(tmp_path / "no" / "a.png")], "no such folder"),
        ([], "give -o"),
    ):
        r = run("plot", vitalproc.SAMPLE, *bad)
        assert r.returncode == 2 and words in r.stderr, (bad, r.stderr)
    r = run("plot", str(tmp_path / "missing.vital"), "-o", str(png))
    assert r.returncode == 2 and "no such file" in r.stderr
    (tmp_path / "bad.vital").write_bytes(b"not a recording")
    r = run("plot", str(tmp_path / "bad.vital"), "-o", str(png))
    assert r.returncode == 1 and "bad.vital" in r.stderr


def test_view_command_prints_its_url_and_stops_on_ctrl_c():
    pytest.importorskip("bokeh")
    import signal
    import urllib.request

    proc = subprocess.Popen(
        [sys.executable, "-m", "vitalproc", "view", vitalproc.SAMPLE, "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("vitalproc view: http://127.0.0.1:"), line
        url = line.split()[2]
        with urllib.request.urlopen(url + "api/cases") as r:
            assert r.status == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    r = run("view", "/nonexistent/case.vital", "--no-browser")
    assert r.returncode == 2 and "no such file" in r.stderr
