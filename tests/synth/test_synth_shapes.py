"""The generator's files: deterministic, read by vitaldb exactly as by vitalproc's
compatibility mode, and each shape really in the bytes (an independent packet walk)."""

from __future__ import annotations

import itertools
import statistics
import warnings

import pytest
import synth_packetwalk as pw

import vitalproc
from conftest import reference
from vitalproc.synth import shapes

from parity import differences


@pytest.fixture(scope="module")
def made():
    """Every shape, generated once."""
    return {name: shapes.make(name, seed=5) for name in shapes.names()}


def quiet_read(data, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        return vitalproc.read(data, **kwargs)


@pytest.mark.parametrize("profile", ["or", "icu", "demo"])
def test_same_arguments_same_bytes(profile):
    kwargs = {
        "profile": profile,
        "hours": 0.05,
        "seed": 3,
        "artifacts": 2 if profile != "demo" else 0,
    }
    first = vitalproc.synth(**kwargs)
    again = vitalproc.synth(**kwargs)
    assert first.data == again.data
    assert first.truth == again.truth
    assert vitalproc.synth(**{**kwargs, "seed": 4}).data != first.data


def test_shapes_are_deterministic(made):
    for name in ("redeclared", "truncated", "packed", "tiny"):
        assert shapes.make(name, seed=5).data == made[name].data, name


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("name", shapes.names())
def test_vitaldb_reads_every_shape(made, name):
    """vitaldb 1.7.2 reads the file; vitalproc's compatibility mode gives the same."""
    data = made[name].data
    ref = reference(data)
    assert len(ref.trks) == len(made[name].truth["tracks"])
    assert differences(ref, quiet_read(data, compat="vitaldb")) == []


@pytest.mark.parametrize("name", [n for n in shapes.names() if n != "packed"])
def test_records_in_the_file_are_the_truths(made, name):
    synthesis = made[name]
    walk = pw.walk(synthesis.data)
    truth = synthesis.truth
    expected = truth.get("records_readable", truth["records"])
    assert sum(walk.records.values()) == expected
    per_track = {k: t.get("records_readable", t["records"]) for k, t in truth["tracks"].items()}
    assert walk.records_by_name() == {k: n for k, n in per_track.items() if n}
    # and the default read keeps every one of them
    vf = quiet_read(synthesis.data)
    assert {k: len(t) for k, t in vf.trks.items() if len(t)} == {
        k: n for k, n in per_track.items() if n
    }


def test_demo_device_overlapping_records(made):
    synthesis = made["demo_overlap"]
    walk = pw.walk(synthesis.data)
    assert sum(walk.records.values()) == 72
    assert {d["key"] for d in walk.declarations} == {
        "Demo/ECG",
        "Demo/ART",
        "Demo/PLETH",
        "Demo/CVP",
        "Demo/CO2",
        "Demo/EEG",
    }
    vf = quiet_read(synthesis.data)
    for key, trk in vf.trks.items():
        assert trk.srate == 100
        counts = (trk.offsets[1:] - trk.offsets[:-1]).tolist()
        assert max(counts) == 116_372
        assert sorted(counts)[:-1] == sorted(c for c in counts if 10 <= c <= 23)
        long_start = trk.dt[counts.index(max(counts))]
        inside = [
            t
            for t, c in zip(trk.dt, counts)
            if c < 100 and long_start < t < long_start + 116_372 / 100
        ]
        assert len(inside) == 4, key
        assert synthesis.truth["shapes"]["overlapping"][key]["overlapping"] >= 4


def test_redeclared_tracks(made):
    synthesis = made["redeclared"]
    walk = pw.walk(synthesis.data)
    by_name: dict[str, list] = {}
    for decl in walk.declarations:
        by_name.setdefault(decl["key"], []).append(decl)
    again = {k: v for k, v in by_name.items() if len(v) > 1}
    assert len(again) == 34
    ecg = by_name["SNUADC/ECG_II"]
    assert len(ecg) == 5
    assert len({d["tid"] for d in ecg}) == 5
    scales = [(d["gain"], d["offset"]) for d in ecg]
    changed = [a != b for a, b in itertools.pairwise(scales)]
    assert changed == [True, False, True, False]  # incompatible, identical, ...
    assert (
        next((d["gain"], d["offset"]) for d in by_name["SNUADC/ART"])
        != [(d["gain"], d["offset"]) for d in by_name["SNUADC/ART"]][1]
    )
    assert all(walk.records.get(d["tid"], 0) > 0 for d in ecg)
    # every declaration's samples mean the same physical signal: the ECG stays in mV
    vf = quiet_read(synthesis.data, compat="vitaldb")  # the last declaration's records
    trk = vf.trks["SNUADC/ECG_II"]
    values = trk.samples * trk.gain + trk.offset
    assert float(values.min()) > -1.5 and float(values.max()) < 2.5
    truth = {e["track"]: e for e in synthesis.truth["shapes"]["redeclared"]}
    assert [d["tid"] for d in truth["SNUADC/ECG_II"]["declarations"]] == [d["tid"] for d in ecg]


def test_outlier_timestamps(made):
    vf = quiet_read(made["outlier_span"].data)
    assert vf.dtend - vf.dtstart == pytest.approx(13 * 3600, abs=60)
    spans = [float(t.dt[-1] - t.dt[0]) for t in vf.trks.values() if len(t) > 1]
    assert statistics.median(spans) == pytest.approx(20 * 60, abs=30)
    assert len(made["outlier_span"].truth["shapes"]["outliers"]) == 2


def test_many_tracks(made):
    vf = quiet_read(made["many_tracks"].data)
    assert len(vf.trks) == 80
    assert sum(t.type == 5 for t in vf.trks.values()) == 53  # 52 + EVENT
    assert vf.dtend - vf.dtstart == pytest.approx(4 * 3600, abs=5)
    assert all(len(t) for t in vf.trks.values() if t.type == 5)


def test_tiny_file(made):
    data = made["tiny"].data
    assert len(data) < 1024
    walk = pw.walk(data)
    assert len(walk.declarations) == 11
    assert 8 <= sum(walk.records.values()) <= 14


def test_oversize_records(made):
    synthesis = made["oversize"]
    walk = pw.walk(synthesis.data)
    assert walk.largest_record > 1_000_000
    assert synthesis.truth["shapes"]["oversize"]["record_bytes"] == walk.largest_record
    vf = quiet_read(synthesis.data)
    assert sum(len(t) for t in vf.trks.values()) == synthesis.truth["records"]
    assert [w.code for w in vf.warnings] == ["big_packet"]


def test_truncated_stream(made):
    synthesis = made["truncated"]
    walk = pw.walk(synthesis.data)
    cut = synthesis.truth["shapes"]["truncated"]
    assert not walk.complete and walk.cut_inside_packet
    assert walk.inflated == cut["inflated_bytes"]
    vf = quiet_read(synthesis.data)
    assert "truncated" in [w.code for w in vf.warnings]
    assert sum(len(t) for t in vf.trks.values()) == synthesis.truth["records_readable"]
    assert synthesis.truth["records_readable"] < synthesis.truth["records"]


def test_packed_layout(made):
    synthesis = made["packed"]
    vf = quiet_read(synthesis.data)
    assert vf.packed
    for key, trk in vf.trks.items():
        if trk.type == 1:
            assert len(trk) == 1, key
        assert len(trk) == synthesis.truth["tracks"][key]["records"], key


def test_vitalproc_synth_is_the_module_and_the_call():
    import vitalproc.synth as module

    assert vitalproc.synth is module
    assert callable(vitalproc.synth)
    assert vitalproc.synth.shapes is shapes
    assert isinstance(vitalproc.synth(profile="icu", hours=0.01), module.Synthesis)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"profile": "ward"}, "unknown profile"),
        ({"hours": 0}, "hours must be positive"),
        ({"tracks": ["HR"], "hypotension": 1}, "arterial pressure wave"),
        ({"artifacts": [("smudge", 10, 10)]}, "unknown artifact kind"),
        ({"artifacts": [("flatline", 3000, 10)], "hours": 0.1}, "not inside the recording"),
        ({"rhythm": [("XYZ", 10, 10)]}, "class"),
        ({"tracks": ["NOPE"]}, "no track"),
        ({"packed": True, "truncate": True}, "packed"),
        ({"start": "yesterday"}, "ISO 8601"),
        ({"hours": 0.01, "hypotension": 3}, "cannot place every episode"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        vitalproc.synth(**{"hours": 0.05, **kwargs})
