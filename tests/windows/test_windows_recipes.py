"""The three shipped recipes against plain loops (vitaldb's reader for the grids) on
generated recordings with known hypotension episodes and rhythm annotations."""

from __future__ import annotations

import numpy as np
import pytest
from oracle import (
    hypotension_art_oracle,
    hypotension_map_oracle,
    rhythm_oracle,
    vitaldb_read,
)
from recordings import make_case

import vitalproc

RHYTHM = [
    (0.0, "sinus"),
    (200.0, "af"),
    (371.0, "sinus"),
    (455.0, "noise"),
    (470.0, "sinus"),
    (610.0, "af"),
]


@pytest.fixture(scope="module")
def art_cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("art")
    make_case(folder / "a.vital", 900, dips=[(400, 520)], seed=1)
    make_case(
        folder / "b.vital", 1234.5, dips=[(100, 260), (700, 1000)], seed=2, start=1_700_100_000.25
    )
    make_case(folder / "c.vital", 700, dips=[], seed=3)
    return folder


@pytest.fixture(scope="module")
def art_built(art_cases, tmp_path_factory):
    out = tmp_path_factory.mktemp("art_out")
    report = vitalproc.windows.build("hypotension_art", [art_cases], out, jobs=1)
    return report, vitalproc.windows.open(out)


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint32)


def test_hypotension_art_is_the_vitaldb_loop_bit_for_bit(vitaldb, art_cases, art_built):
    report, ws = art_built
    assert not report.failed
    index = ws.index
    for case in ("a", "b", "c"):
        arr, labels, valid, reasons = hypotension_art_oracle(vitaldb, art_cases / f"{case}.vital")
        rows = np.flatnonzero(index.caseid == case)
        assert len(rows) == len(arr) > 0
        assert np.array_equal(_bits(ws.arrays["art"][rows]), _bits(arr))
        assert np.array_equal(index.hypotension.to_numpy()[rows], labels)
        assert np.array_equal(index.valid.to_numpy()[rows], valid)
        assert [r if isinstance(r, str) else None for r in index.reason.iloc[rows]] == reasons
        assert np.array_equal(index.offset.to_numpy()[rows], np.arange(len(arr)) * 10.0)
    # the recordings hold every kind of fault the rules look for, and both labels
    assert {"nan_fraction", "above", "below"} <= set(index.reason.dropna())
    assert index.hypotension.any() and not index.hypotension.all()


def test_hypotension_art_labels_the_known_episodes(art_built):
    _, ws = art_built
    a = ws.index[ws.index.caseid == "a"]
    inside = a.offset.between(320, 380)  # target [offset + 80, offset + 140) in the dip
    apart = (a.offset <= 260) | (a.offset >= 440)  # target clear of the dip
    assert inside.sum() == 7 and a.hypotension[inside].all()
    assert not a.hypotension[apart].any()
    assert not ws.index[ws.index.caseid == "c"].hypotension.any()  # no episode at all


def test_hypotension_art_from_a_converted_dataset_is_the_same(art_cases, art_built, tmp_path):
    _, ws = art_built
    ds = tmp_path / "ds"
    assert vitalproc.convert([art_cases], ds, jobs=1).ok
    report = vitalproc.windows.build("hypotension_art", [ds], tmp_path / "out", jobs=1)
    assert not report.failed
    again = vitalproc.windows.open(tmp_path / "out")
    assert np.array_equal(_bits(again.arrays["art"]), _bits(ws.arrays["art"]))
    cols = ["caseid", "t_start", "hypotension", "valid", "reason", "split"]
    assert again.index[cols].equals(ws.index[cols])
    # the hashes are the conversion's own, of the .vital files
    assert again.info["sources"] == ws.info["sources"]


def test_hypotension_map_is_the_plain_loop(vitaldb, tmp_path):
    paths = [
        make_case(tmp_path / "m1.vital", 2400, dips=[(900, 1100)], seed=4),
        make_case(tmp_path / "m2.vital", 3000, dips=[(300, 340), (1500, 1900)], seed=5),
    ]
    report = vitalproc.windows.build("hypotension_map", [tmp_path], tmp_path / "out", jobs=1)
    assert not report.failed
    ws = vitalproc.windows.open(tmp_path / "out")
    assert ws.arrays["map"].shape[1] == 20
    for path, case in zip(paths, ("m1", "m2")):
        arr, labels, valid = hypotension_map_oracle(vitaldb, path)
        rows = np.flatnonzero(ws.index.caseid == case)
        assert len(rows) == len(arr) > 0
        assert np.array_equal(_bits(ws.arrays["map"][rows]), _bits(arr))
        assert np.array_equal(ws.index.hypotension.to_numpy()[rows], labels)
        assert np.array_equal(ws.index.valid.to_numpy()[rows], valid)
    m2 = ws.index[ws.index.caseid == "m2"]
    # a 40 s dip is too short for an event; the 400 s one is one, seen 2 to 10 min ahead
    assert not m2.hypotension[m2.offset < 200].any()
    assert m2.hypotension[m2.offset.between(1500 - 600 - 120 - 420, 1500 - 600 - 120)].all()


def test_rhythm_windows_classes_and_purity(tmp_path):
    path = make_case(tmp_path / "r1.vital", 900, dips=[], seed=6, ecg=True, rhythm=RHYTHM)
    report = vitalproc.windows.build("rhythm_windows", [path], tmp_path / "out", jobs=1)
    assert not report.failed
    ws = vitalproc.windows.open(tmp_path / "out")
    assert ws.arrays["ecg"].shape == ws.arrays["pleth"].shape == (len(ws), 3000)
    expected = rhythm_oracle(RHYTHM, ws.index.offset.tolist())
    got_valid = ws.index.valid.tolist()
    assert got_valid == [ok for _, ok in expected]
    for (cls, ok), label in zip(expected, ws.index.rhythm):
        if ok:
            assert label == cls
    reasons = set(ws.index.reason.dropna())
    assert reasons == {"mixed_classes", "bad_quality"}
    assert set(ws.index.rhythm[ws.index.valid]) == {"sinus", "af"}


def test_rhythm_windows_arrays_are_the_filtered_wave(vitaldb, tmp_path):
    signal = pytest.importorskip("scipy.signal")
    path = make_case(tmp_path / "r2.vital", 300, dips=[], seed=7, ecg=True, rhythm=[(0, "sinus")])
    vitalproc.windows.build("rhythm_windows", [path], tmp_path / "out", jobs=1)
    ws = vitalproc.windows.open(tmp_path / "out")
    wave = vitaldb_read(vitaldb, path).to_numpy(["SNUADC/ECG_II"], 1 / 500)[:, 0].astype(float)
    taps = signal.firwin(101, 45, fs=500, window="hamming")
    expected = np.convolve(wave, taps, mode="same")[::5]
    for k, offset in enumerate(ws.index.offset):
        i = round(offset * 100)
        np.testing.assert_allclose(ws.arrays["ecg"][k], expected[i : i + 3000], rtol=0, atol=2e-5)
