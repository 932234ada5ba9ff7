"""The shipped recipes on recordings from the synthetic generator, whose ground truth
(``<stem>.truth.json``, ``<stem>.rhythm.csv``) says where each episode and rhythm is."""

from __future__ import annotations

import json

import numpy as np
import pytest
from oracle import hypotension_art_oracle

import vitalproc

TRACKS = ["SNUADC/ART", "Solar8000/ART_MBP", "SNUADC/ECG_II", "SNUADC/PLETH"]


@pytest.fixture(scope="module")
def synth_case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth")
    path = folder / "s1.vital"
    vitalproc.synth(
        path,
        profile="or",
        hours=0.75,
        seed=3,
        tracks=TRACKS,
        hypotension=[(900, 420, 65)],
        rhythm=[("AF", 300, 240), ("BAD", 1500, 120)],
    )
    truth = json.loads((folder / "s1.truth.json").read_text())
    return path, truth


def _build(recipe, path, out):
    report = vitalproc.windows.build(recipe, [path], out, jobs=1)
    assert not report.failed
    return vitalproc.windows.open(out)


def test_hypotension_art_on_a_generated_case_is_the_vitaldb_loop(vitaldb, synth_case, tmp_path):
    path, truth = synth_case
    ws = _build("hypotension_art", path, tmp_path / "o")
    arr, labels, valid, reasons = hypotension_art_oracle(vitaldb, path)
    assert len(ws) == len(arr) > 200
    assert np.array_equal(np.asarray(ws.arrays["art"]).view(np.uint32), arr.view(np.uint32))
    assert np.array_equal(ws.index.hypotension.to_numpy(), labels)
    assert np.array_equal(ws.index.valid.to_numpy(), valid)
    assert [r if isinstance(r, str) else None for r in ws.index.reason] == reasons
    # the episode where the truth file puts it: a target inside it (past the first 20 s,
    # where the pressure crosses the level) is hypotensive; one clear of it and of its
    # 60 s ramps is not
    (episode,) = truth["episodes"]
    start, end = episode["start_s"], episode["end_s"]
    target = ws.index.offset + 80
    inside = (target >= start + 20) & (target + 60 <= end)
    clear = (target + 60 <= start - 60) | (target >= end + 60)
    assert inside.sum() >= 30 and ws.index.hypotension[inside].all()
    assert clear.sum() >= 150 and not ws.index.hypotension[clear].any()


def test_hypotension_map_finds_the_episode(synth_case, tmp_path):
    path, truth = synth_case
    ws = _build("hypotension_map", path, tmp_path / "o")
    (episode,) = truth["episodes"]
    start, end = episode["start_s"], episode["end_s"]
    lo, hi = ws.index.offset + 720, ws.index.offset + 1200  # the prediction window
    overlap = np.minimum(hi, end) - np.maximum(lo, start)
    assert (overlap >= 120).sum() >= 10 and ws.index.hypotension[overlap >= 120].all()
    # ART_MBP follows the wave with a lag: a prediction window starting 2 minutes after
    # the episode, or ending a minute before it, sees none of it
    clear = (lo >= end + 120) | (hi <= start - 60)
    assert clear.sum() >= 10 and not ws.index.hypotension[clear].any()
    assert ws.index.valid.all()


def test_rhythm_windows_follow_the_annotation(synth_case, tmp_path):
    path, truth = synth_case
    ws = _build("rhythm_windows", path, tmp_path / "o")
    spans = [(r["start_s"], r["end_s"], r["class"]) for r in truth["rhythm"]]
    assert {c for _, _, c in spans} == {"N", "AF", "BAD"}
    for offset, label, valid, reason in zip(
        ws.index.offset, ws.index.rhythm, ws.index.valid, ws.index.reason
    ):
        touching = {c for s, e, c in spans if s < offset + 30 and e > offset}
        if "BAD" in touching:
            assert not valid and reason == "bad_quality"
        elif len(touching) > 1:
            assert not valid and reason == "mixed_classes"
        else:
            assert valid and label == touching.pop()
    assert (ws.index.rhythm[ws.index.valid] == "AF").sum() == 15  # 240 s of AF: 15 windows
    assert ws.arrays["ecg"].shape == (len(ws), 3000)
    assert not np.isnan(ws.arrays["ecg"][ws.index.valid.to_numpy()]).any()
