"""Quality metrics on recordings from the synthetic generator: every metric equals the
numpy reference, and every fault the generator injected (its truth sidecar says which,
where) is found there."""

from __future__ import annotations

import json

import pytest

import vitalproc
from quality_reference import reference
from test_quality_metrics import assert_matches
from vitalproc.quality import Thresholds, find_events, load_limits, track_metrics

LIMITS = load_limits()
ARTIFACTS = [
    ("flatline", 100, 30, "SNUADC/ART"),
    ("spikes", 300, 20, "SNUADC/ART"),
    ("gap", 400, 40, "SNUADC/PLETH"),
    ("inverted", 600, 60, "SNUADC/PLETH"),
    ("clipping", 200, 30, "SNUADC/ECG_II"),
]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    path = tmp_path_factory.mktemp("synth") / "case.vital"
    vitalproc.synth(
        path,
        profile="or",
        hours=0.25,
        seed=3,
        artifacts=ARTIFACTS,
        tracks=["SNUADC/ART", "SNUADC/ECG_II", "SNUADC/PLETH", "Solar8000/HR", "Solar8000/ART_MBP"],
    )
    truth = json.loads(path.with_name("case.truth.json").read_text())
    return vitalproc.read(path), truth


def test_every_metric_equals_the_reference_on_a_generated_recording(synthetic):
    vf, _ = synthetic
    windows = {"w": (vf.dtstart + 60, vf.dtstart + 500)}
    measured = 0
    for name, trk in vf.trks.items():
        if trk.type in (1, 2):
            assert_matches(
                track_metrics(trk, LIMITS, Thresholds(), windows),
                reference(trk, LIMITS.kind_of(name), Thresholds(), windows),
            )
            measured += 1
    assert measured == 5


def _events(vf, track):
    return find_events(vf.trks[track], LIMITS)


def test_injected_faults_are_found_where_the_truth_says(synthetic):
    vf, truth = synthetic
    h = 1.5 / 500  # a sample of the 500 Hz waves (and float rounding of Unix times)
    found = 0
    for art in truth["artifacts"]:
        events = [
            e
            for e in _events(vf, art["track"])
            if e.kind == {"spikes": "spike"}.get(art["kind"], art["kind"])
        ]
        if art["kind"] == "flatline":
            (e,) = events  # the held value starts one sample before: it is that value
            assert abs(e.start - art["start"]) <= h and abs(e.end - art["end"]) <= h
        elif art["kind"] == "spikes":
            times = [art["start"] + o for o in art["params"]["offsets"]]
            assert len(events) == art["params"]["count"] == len(times)
            assert all(abs(e.start - t) <= h for e, t in zip(events, times))
        elif art["kind"] == "gap":
            (e,) = events
            assert abs(e.start - art["start"]) <= h and abs(e.end - art["end"]) <= h
        elif art["kind"] == "inverted":
            (e,) = events  # judged per 10-second block: the blocks inside the span
            assert art["start"] - 10 <= e.start <= art["start"] + 10
            assert art["end"] - 10 <= e.end <= art["end"] + 10
        else:
            continue  # clipping: see below
        found += 1
    assert found == 4
    pleth = track_metrics(vf.trks["SNUADC/PLETH"], LIMITS)
    assert pleth["inverted"] is False and pleth["gaps"] == 1  # upright but for a minute
    art = track_metrics(vf.trks["SNUADC/ART"], LIMITS)
    assert art["spikes"] == 10 and art["flatline"] == pytest.approx(30 / 900, abs=1e-3)


def test_generated_clipping_is_found_when_it_reaches_the_tracks_extreme(tmp_path):
    """``clipping`` counts runs at the track's own minimum or maximum. The generator
    clips the ECG below the R peaks of the rest of the recording; a recording that is
    clipped throughout has its extremes at the clip levels, and is found so."""
    path = tmp_path / "clipped.vital"
    vitalproc.synth(
        path,
        profile="or",
        hours=0.05,
        seed=5,
        tracks=["SNUADC/ECG_II"],
        artifacts=[("clipping", 0, 180, "SNUADC/ECG_II")],
    )
    truth = json.loads(path.with_name("clipped.truth.json").read_text())
    (art,) = truth["artifacts"]
    trk = vitalproc.read(path).trks["SNUADC/ECG_II"]
    row = track_metrics(trk, LIMITS)
    events = [e for e in find_events(trk, LIMITS) if e.kind == "clipping"]
    assert row["clipping"] > 0.01 and len(events) > 20
    assert all(art["start"] <= e.start and e.end <= art["end"] + 1 / 500 for e in events)
    assert row["max"] == pytest.approx(art["params"]["high"], abs=trk.gain)
