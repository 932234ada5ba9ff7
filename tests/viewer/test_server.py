"""The viewer's server without a browser: range queries answer what the scene holds,
bad parameters get a 400 with a message, a dataset's cases are served."""

from __future__ import annotations

import json
import pathlib
import urllib.error
import urllib.request

import numpy as np
import pytest

import vitalproc


def get(url):
    try:
        with urllib.request.urlopen(url) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), exc.read()


def decode(body: bytes) -> dict:
    n = int.from_bytes(body[:4], "little")
    head = json.loads(body[4 : 4 + n])
    at = (4 + n + 7) // 8 * 8
    for e in head["lanes"]:
        e["x"] = np.frombuffer(body, "<f8", e["n"], at + e["xo"])
        if e["mode"] != "marks":
            e["v"] = np.frombuffer(body, "<f8", e["n"], at + e["vo"])
    return head


def span(viewer):
    status, _, body = get(viewer.url + "api/tracks")
    assert status == 200
    return json.loads(body)


def test_tracks_and_view_binary_equals_json(viewer):
    info = span(viewer)
    assert len(info["lanes"]) == 16
    start, end = info["start"], info["end"]
    q = f"api/view?start={start}&end={end}&px=300&lanes=13,0,15"
    status, ctype, body = get(viewer.url + q)
    assert status == 200 and ctype == "application/octet-stream"
    binary = decode(body)
    status, _, body = get(viewer.url + q + "&format=json")
    as_json = json.loads(body)
    assert [e["lane"] for e in binary["lanes"]] == [13, 0, 15]
    for b, j in zip(binary["lanes"], as_json["lanes"]):
        assert b["mode"] == j["mode"]
        for key in ("x", "v"):
            got = np.array([np.nan if a is None else a for a in j[key]])
            np.testing.assert_array_equal(b[key], got)
    # The ECG lane (13) over the whole case at 300 columns is an envelope whose values
    # are samples of the track.
    ecg = binary["lanes"][0]
    assert ecg["mode"] == "envelope"
    vf = vitalproc.read(vitalproc.SAMPLE)
    phys = set(vf.trks["Intellivue/ECG_II"].to_numpy(physical=True).tolist())
    assert set(ecg["v"][~np.isnan(ecg["v"])].tolist()) <= phys


@pytest.mark.parametrize(
    "query, words",
    [
        ("start=abc&end=2", "'start' must be a number"),
        ("start=1&end=nan", "'end' must be finite"),
        ("start=5&end=2", "must be after"),
        ("end=2", "'start' is missing"),
        ("start=1&end=2&px=0", "'px' must be from 1"),
        ("start=1&end=2&px=9999999", "'px' must be from 1"),
        ("start=1&end=2&px=1.5", "'px' must be a whole number"),
        ("start=1&end=2&lanes=99", "no lane 99"),
        ("start=1&end=2&lanes=a,b", "'lanes' must be lane numbers"),
        ("start=1&end=2&case=x", "no cases"),
        ("start=1&end=2&format=xml", "'format' must be"),
        ("start=1&start=2&end=3", "given 2 times"),
    ],
)
def test_bad_parameters_are_a_400(viewer, query, words):
    status, ctype, body = get(viewer.url + "api/view?" + query)
    assert status == 400 and ctype == "application/json"
    assert words in json.loads(body)["error"]


def test_unknown_paths_and_files(viewer):
    for path in ("nothing", "static/js/../../server.py", "static/js/bokeh-api.min.js"):
        status, _, body = get(viewer.url + path)
        assert status == 404, path
        assert json.loads(body)["error"]
    status, ctype, body = get(viewer.url + "static/js/bokeh.min.js")
    assert status == 200 and ctype.startswith("text/javascript") and len(body) > 100_000
    # Still answering after all that.
    assert get(viewer.url + "api/cases")[0] == 200


def test_dataset_cases(tmp_path):
    pytest.importorskip("bokeh")
    pytest.importorskip("pyarrow")
    from vitalproc.viewer.server import Viewer

    src = tmp_path / "src"
    src.mkdir()
    sample = pathlib.Path(vitalproc.SAMPLE).read_bytes()
    for name in ("a", "b"):
        (src / f"{name}.vital").write_bytes(sample)
    report = vitalproc.convert([str(src)], str(tmp_path / "ds"), jobs=1, progress=False)
    assert not report.failed
    with Viewer(tmp_path / "ds") as v:
        status, _, body = get(v.url + "api/cases")
        assert json.loads(body)["cases"] == ["a", "b"]
        status, _, body = get(v.url + "?case=b")
        assert status == 200 and b'"case": "b"' in body
        assert get(v.url + "?case=zz")[0] == 400
        info = json.loads(get(v.url + "api/tracks?case=b")[2])
        q = f"api/view?case=b&start={info['start']}&end={info['end']}&px=200"
        status, _, body = get(v.url + q)
        assert status == 200 and len(decode(body)["lanes"]) == 16
