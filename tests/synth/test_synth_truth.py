"""The ground truth holds: what the truth file says about an episode, an artifact or a
rhythm is what the recording's samples and numerics show, found independently here."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pytest

import vitalproc

LEVEL = 65.0
EPISODES = {
    "hypotension": [(600.0, 240.0, LEVEL)],
    "artifacts": [
        ("flatline", 1000, 30),
        ("clipping", 1100, 40),
        ("spikes", 1200, 20),
        ("gap", 1300, 60),
        ("inverted", 1450, 90),
        ("zeroed", 1600, 40),
    ],
    "rhythm": [("AF", 120, 180), ("BRADY", 380, 90), ("PVC", 1680, 80), ("BAD", 1050, 30)],
}


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    path = tmp_path_factory.mktemp("truth") / "case.vital"
    synthesis = vitalproc.synth(path, profile="or", hours=0.5, seed=21, **EPISODES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        vf = vitalproc.read(path)
    truth = json.loads(path.with_name("case.truth.json").read_text())
    return path, synthesis, vf, truth


def samples(vf, key, start, end):
    """Physical samples of a wave with times in [start, end) (seconds from file start)."""
    trk = vf.trks[key]
    counts = np.diff(trk.offsets)
    t = (
        np.repeat(trk.dt, counts)
        + (np.arange(len(trk.samples)) - np.repeat(trk.offsets[:-1], counts)) / trk.srate
    )
    t -= vf.dtstart
    x = (
        trk.samples.astype(np.float64) * trk.gain + trk.offset
        if trk.fmt > 2
        else trk.samples.astype(np.float64)
    )
    pick = (t >= start - 1e-6) & (t < end - 1e-6)
    return t[pick], x[pick], trk.samples[pick]


def numeric(vf, key, start, end):
    trk = vf.trks[key]
    t = trk.dt - vf.dtstart
    pick = (t >= start) & (t < end)
    return t[pick], trk.values[pick].astype(np.float64)


def artifact(truth, kind):
    return next(a for a in truth["artifacts"] if a["kind"] == kind)


def test_sidecar_files(case):
    path, synthesis, _, truth = case
    assert truth["file"] == "case.vital"
    assert truth["schema"] == vitalproc.synth.SCHEMA
    assert {k: v for k, v in truth.items() if k != "file"} == synthesis.truth
    for entry in truth["episodes"] + truth["artifacts"] + truth["rhythm"]:
        assert entry["start"] == pytest.approx(truth["start"] + entry["start_s"])
        assert entry["end"] == pytest.approx(truth["start"] + entry["end_s"])
        assert entry["start_s"] < entry["end_s"]
    with open(path.with_name("case.rhythm.csv"), newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["time", "class"]
    times = [float(r[0]) for r in rows[1:]]
    assert times[0] == 0.0 and times == sorted(times)
    assert [r[1] for r in rows[1:]] == [s["class"] for s in truth["rhythm"]]
    assert [s["start_s"] for s in truth["rhythm"]] == pytest.approx(times, abs=1e-3)


def test_truth_schema(case):
    jsonschema = pytest.importorskip("jsonschema")
    import pathlib

    schema = json.loads(
        (pathlib.Path(__file__).parents[2] / "docs" / "synth-truth.schema.json").read_text()
    )
    jsonschema.validate(case[3], schema)


def test_hypotension(case):
    _, _, vf, truth = case
    (ep,) = truth["episodes"]
    assert ep["track"] == "SNUADC/ART" and ep["numeric"] == "Solar8000/ART_MBP"
    a, b = ep["start_s"], ep["end_s"]
    _, inside = numeric(vf, ep["numeric"], a + 25, b - 5)
    assert len(inside) > 50 and (inside < LEVEL).all()
    _, before = numeric(vf, ep["numeric"], a - 400, a - ep["params"]["ramp_s"] - 10)
    assert (before > LEVEL).all()
    _, after = numeric(vf, ep["numeric"], b + ep["params"]["ramp_s"] + 10, b + 300)
    assert (after > LEVEL).all()
    # the arterial wave itself: its mean follows the trajectory
    _, wave_inside, _ = samples(vf, ep["track"], a + 25, b - 5)
    _, wave_before, _ = samples(vf, ep["track"], a - 400, a - 80)
    assert wave_inside.mean() < LEVEL < wave_before.mean()
    assert wave_inside.mean() == pytest.approx(inside.mean(), abs=2)
    # MAP below the level on the whole run of numerics outside the artifacts: only here
    t, mbp = numeric(vf, ep["numeric"], 0, truth["duration"])
    ranges = [
        (x["start_s"] - 5, x["end_s"] + 5) for x in truth["artifacts"] if x["track"] == "SNUADC/ART"
    ]
    clean = ~np.any([(t >= lo) & (t < hi) for lo, hi in ranges], axis=0)
    low = t[clean & (mbp < LEVEL)]
    assert low.min() >= a and low.max() <= b + 5


def test_flatline(case):
    _, _, vf, truth = case
    art = artifact(truth, "flatline")
    _, _, raw = samples(vf, art["track"], art["start_s"], art["end_s"])
    assert len(raw) == (art["end_s"] - art["start_s"]) * 500
    assert (raw == raw[0]).all()
    _, _, around = samples(vf, art["track"], art["start_s"] - 1, art["start_s"])
    assert len(np.unique(around)) > 10


def test_clipping(case):
    _, _, vf, truth = case
    art = artifact(truth, "clipping")
    gain = vf.trks[art["track"]].gain
    _, x, _ = samples(vf, art["track"], art["start_s"], art["end_s"])
    high, low = art["params"]["high"], art["params"]["low"]
    assert x.max() <= high + gain and x.min() >= low - gain
    assert (x >= high - gain).mean() > 0.01  # R peaks cut flat at the level
    _, free, _ = samples(vf, art["track"], art["start_s"] - 30, art["start_s"])
    assert free.max() > high + 0.3


def test_spikes(case):
    _, _, vf, truth = case
    art = artifact(truth, "spikes")
    _t, x, _ = samples(vf, art["track"], art["start_s"], art["end_s"])
    base = np.median(x)
    for offset in art["params"]["offsets"]:
        i = round(offset * 500)
        assert abs(x[i] - base) > art["params"]["amplitude"] / 3
    assert art["params"]["count"] == len(art["params"]["offsets"])


def test_gap(case):
    _, _, vf, truth = case
    art = artifact(truth, "gap")
    rec_t = vf.trks[art["track"]].dt - vf.dtstart
    assert not ((rec_t >= art["start_s"]) & (rec_t < art["end_s"])).any()
    assert np.isclose(rec_t, art["start_s"] - 0.2).any() and np.isclose(rec_t, art["end_s"]).any()
    # the numerics computed from the pleth are missing too
    t, _ = numeric(vf, "Solar8000/PLETH_SPO2", art["start_s"] + 2, art["end_s"])
    assert len(t) == 0


def _skew(x):
    d = np.diff(x)
    return float(((d - d.mean()) ** 3).mean() / d.std() ** 3)


def test_inverted_pleth(case):
    _, _, vf, truth = case
    art = artifact(truth, "inverted")
    _, x, _ = samples(vf, art["track"], art["start_s"], art["end_s"])
    _, before, _ = samples(vf, art["track"], art["start_s"] - 60, art["start_s"])
    # the pulse rises faster than it falls; inverted, it falls faster than it rises
    assert _skew(before) > 0.3 and _skew(x) < -0.3
    restored = 2 * art["params"]["about"] - x
    assert abs(restored.mean() - before.mean()) < 5


def test_zeroed_transducer(case):
    _, _, vf, truth = case
    art = artifact(truth, "zeroed")
    _, x, _ = samples(vf, art["track"], art["start_s"], art["end_s"])
    assert np.abs(x).max() < 2.0
    _, mbp = numeric(vf, "Solar8000/ART_MBP", art["start_s"] + 5, art["end_s"])
    assert len(mbp) and np.abs(mbp).max() <= 1


def r_peaks(t, x, srate):
    """R peaks found in the ECG: samples over 0.5 mV that are the maximum of +-0.2 s (the
    first of equal samples)."""
    half = int(0.2 * srate)
    padded = np.pad(x, half, constant_values=-np.inf)
    local = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1).max(axis=1)
    found = t[(x > 0.5) & (x == local)]
    keep = np.concatenate([[True], np.diff(found) > 0.25])  # one of two equal maxima
    return found[keep]


def test_heart_rate_matches_the_ecg(case):
    _, _, vf, truth = case
    t, x, _ = samples(vf, "SNUADC/ECG_II", 0, truth["duration"])
    peaks = r_peaks(t, x, 500)
    hr_t, hr = numeric(vf, "Solar8000/HR", 10, truth["duration"])
    noisy = [
        (a["start_s"] - 10, a["end_s"] + 10)
        for a in truth["artifacts"]
        if a["track"] == "SNUADC/ECG_II"
    ]
    keep = ~np.any([(hr_t >= lo) & (hr_t < hi) for lo, hi in noisy], axis=0)
    found = []
    for when in hr_t[keep]:
        inside = peaks[(peaks > when - 8) & (peaks <= when)]
        found.append(60 * (len(inside) - 1) / (inside[-1] - inside[0]))
    diff = np.abs(np.array(found) - hr[keep])
    assert np.mean(diff <= 2.5) > 0.97, np.percentile(diff, [50, 90, 99])


def test_rhythm_classes_show_in_the_ecg(case):
    _, _, vf, truth = case
    t, x, _ = samples(vf, "SNUADC/ECG_II", 0, truth["duration"])
    peaks = r_peaks(t, x, 500)

    def rr_variation(start, end):
        rr = np.diff(peaks[(peaks >= start) & (peaks < end)])
        return rr.std() / rr.mean(), 60 / rr.mean()

    spans = {s["class"]: s for s in truth["rhythm"]}
    af_cv, _ = rr_variation(spans["AF"]["start_s"] + 5, spans["AF"]["end_s"])
    normal_cv, normal_hr = rr_variation(20, spans["AF"]["start_s"])
    assert af_cv > 0.12
    assert normal_cv < 0.06
    _, brady_hr = rr_variation(spans["BRADY"]["start_s"] + 5, spans["BRADY"]["end_s"])
    assert brady_hr < 50 < normal_hr
    pvc_cv, _ = rr_variation(spans["PVC"]["start_s"] + 5, spans["PVC"]["end_s"])
    assert pvc_cv > 0.1
    bad = [a for a in truth["artifacts"] if a["kind"] == "noise"]
    assert {a["track"] for a in bad} == {"SNUADC/ECG_II", "SNUADCM/ECG_V5", "SNUADC/PLETH"}
    _, noisy, _ = samples(vf, "SNUADC/ECG_II", bad[0]["start_s"], bad[0]["end_s"])
    _, quiet, _ = samples(vf, "SNUADC/ECG_II", 20, 50)
    assert np.diff(noisy).std() > 5 * np.diff(quiet).std()


def test_numerics_agree_with_their_waves(case):
    _, _, vf, _truth = case
    # end-tidal CO2 is the capnogram's plateau
    _t, co2, _ = samples(vf, "Primus/CO2", 300, 360)
    _, etco2 = numeric(vf, "Primus/ETCO2", 310, 360)
    assert etco2.mean() == pytest.approx(np.percentile(co2, 99), abs=2)
    assert np.array_equal(
        numeric(vf, "Solar8000/ETCO2", 0, 1800)[1], numeric(vf, "Primus/ETCO2", 0, 1800)[1]
    )
    # systolic / diastolic from the arterial wave's extremes
    _, art, _ = samples(vf, "SNUADC/ART", 200, 260)
    _, sbp = numeric(vf, "Solar8000/ART_SBP", 210, 260)
    _, dbp = numeric(vf, "Solar8000/ART_DBP", 210, 260)
    assert sbp.mean() == pytest.approx(np.percentile(art, 99), abs=5)
    assert dbp.mean() == pytest.approx(np.percentile(art, 1), abs=5)
