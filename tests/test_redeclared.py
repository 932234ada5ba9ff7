"""A track declared again with other settings: every record kept, each with the meaning its
own declaration gives it, through the grids, ``to_vital`` (read back by vitaldb and by
vitalproc) and edits."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import vitalproc
from conftest import reference
from packet_count import count_records
from vitalproc.model import Segment

from fixtures_catalog import FIXTURES, T0

REDECLARED = [
    "redeclared_gain",
    "redeclared_offset",
    "redeclared_fmt",
    "redeclared_new_fmt",
    "redeclared_five_times",
    "redeclared_interleaved",
    "redeclared_new_rate_type",
    "redeclared_wave_compatible",
    "redeclared_same_meta",
]


def read(source, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        return vitalproc.read(source, **kw)


def physical_records(trk) -> list[tuple[float, np.ndarray]]:
    """(dt, float64 physical values) of every record, by the track's declaration."""
    values = trk.to_numpy(physical=True)
    if trk.type == 2:
        return [(d, np.array([v])) for d, v in zip(trk.dt.tolist(), values)]
    ends = trk.offsets.tolist()
    return [(d, values[a:b]) for d, a, b in zip(trk.dt.tolist(), ends, ends[1:])]


def test_each_record_keeps_its_own_declarations_meaning():
    vf = read(FIXTURES["redeclared_gain"]())
    ecg = vf.trks["SNUADC/ECG"]
    assert (ecg.fmt, ecg.gain, ecg.offset, ecg.data.dtype) == (2, 1.0, 0.0, np.float64)
    assert ecg.segments == [Segment(0, 2, 5, 0.01, 0.0), Segment(2, 3, 5, 0.02, 0.0)]
    got = [v.tolist() for _, v in physical_records(ecg)]
    # -32768 is I16's gap sentinel: NaN in physical units, as Track.to_numpy says
    assert got[0][:3] == [100 * 0.01, -100 * 0.01, 32767 * 0.01] and np.isnan(got[0][3])
    assert got[1:] == [[7 * 0.01, 8 * 0.01], [100 * 0.02, -100 * 0.02]]
    pleth = vf.trks["SNUADC/PLETH"]
    assert [v.tolist()[:2] for _, v in physical_records(pleth)] == [
        [0 * 0.1 - 10, 100 * 0.1 - 10],
        [200 * 0.05 - 10, 400 * 0.05 - 10],
    ]


def test_interleaved_records_stay_in_file_order():
    vf = read(FIXTURES["redeclared_interleaved"]())
    ecg = vf.trks["SNUADC/ECG"]
    assert ecg.dt.tolist() == [T0, T0 + 1, T0 + 1.5, T0 + 2, T0 + 2.5, T0 + 3, T0 + 3.5]
    assert [s.gain for s in ecg.segments] == [0.01, 0.02] * 3 + [0.01]
    assert [v.tolist() for _, v in physical_records(ecg)][:3] == [
        [1.0, 2.0],
        [0.02, -0.02, 1.0],
        [0.1],
    ]


def test_one_meaning_stays_raw_and_unsegmented():
    vf = read(FIXTURES["redeclared_wave_compatible"]())
    ecg = vf.trks["SNUADC/ECG"]
    assert (ecg.fmt, ecg.gain, ecg.segments, ecg.data.dtype) == (5, 0.01, None, np.int16)
    assert ecg.data.tolist() == [1, 2, 3, 4, 5, 6]


def test_another_type_or_rate_is_kept_apart():
    vf = read(FIXTURES["redeclared_new_rate_type"]())
    assert list(vf.trks) == ["BIS/EEG", "BIS/EEG#1", "BIS/SQI", "BIS/SQI#1"]
    assert vf.trks["BIS/EEG#1"].srate == 128.0 and vf.trks["BIS/EEG"].srate == 256.0
    assert vf.trks["BIS/EEG#1"].apart_from == "BIS/EEG"
    assert vf.trks["BIS/SQI"].texts() == ["good"] and vf.trks["BIS/SQI#1"].data.tolist() == [90]


def test_the_warning_names_track_declarations_and_records():
    with pytest.warns(vitalproc.VitalWarning) as w:
        vf = vitalproc.read(FIXTURES["redeclared_five_times"]())
    assert any("'SNUADC/ECG' is declared 5 times" in str(x.message) for x in w)
    notes = {i.track: i for i in vf.warnings}
    assert notes["SNUADC/ECG"].code == "redeclared_track" and notes["SNUADC/ECG"].count == 15
    assert "all 15 records" in notes["SNUADC/ECG"].message
    assert "4 segments" in notes["SNUADC/ECG"].message
    assert len(w) == 2  # one per track, not one per declaration
    with pytest.warns(vitalproc.VitalWarning):
        compat = vitalproc.read(FIXTURES["redeclared_five_times"](), compat="vitaldb")
    assert {i.code for i in compat.warnings} == {"redeclared_track_dropped"}


@pytest.mark.parametrize("name", REDECLARED)
def test_grid_holds_each_records_physical_values(name):
    """to_numpy at the fastest rate puts every sample of a track whose declarations differ
    (physical float64 now) at its place, as float32: vitaldb's grid of each declaration's
    records, joined (a later record wins a shared cell, as in vitaldb)."""
    vf = read(FIXTURES[name]())
    for dtname, trk in vf.trks.items():
        if trk.type != 1 or trk.segments is None:
            continue
        grid = vf.to_numpy([dtname], 1 / trk.srate)[:, 0]
        want = np.full(len(grid), np.nan, np.float32)
        for dt, values in physical_records(trk):
            start = int(np.ceil((dt - vf.dtstart) * trk.srate))
            want[start : start + len(values)] = values.astype(np.float32)
        np.testing.assert_array_equal(grid, want)


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # vitaldb never closes its file
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("name", REDECLARED)
def test_to_vital_reads_back_the_same_physical_values(tmp_path, name, packed):
    vf = read(FIXTURES[name]())
    path = tmp_path / "out.vital"
    vf.to_vital(str(path), packed=packed)
    back = read(path)
    assert sorted(back.trks) == sorted(vf.trks)  # (packed: numerics first, as vitaldb)
    ref = reference(path)  # vitaldb
    for dtname, trk in vf.trks.items():
        if trk.type == 5:
            assert back.trks[dtname].texts() == trk.texts()
            assert [r["val"] for r in ref.trks[dtname].recs] == trk.texts()
            continue
        mine = physical_records(trk)
        for other in (back.trks[dtname], ref.trks[dtname]):
            got = (
                physical_records(other)
                if other is back.trks[dtname]
                else [(r["dt"], _vitaldb_physical(other, r["val"])) for r in other.recs]
            )
            if packed and trk.type == 1:  # packed: one record of the whole span
                got_all = np.concatenate([v for _, v in got]) if got else np.empty(0)
                want_all = np.concatenate([v for _, v in mine]) if mine else np.empty(0)
                finite = got_all[~np.isnan(got_all)]
                np.testing.assert_allclose(finite, want_all[~np.isnan(want_all)], rtol=1e-6)
                continue
            assert [d for d, _ in got] == [d for d, _ in mine], dtname
            for (_, a), (_, b) in zip(got, mine):
                np.testing.assert_array_equal(a, b)


def _vitaldb_physical(trk, val) -> np.ndarray:
    one = vitalproc.Track(trk.name, trk.type, fmt=trk.fmt, gain=trk.gain, offset=trk.offset)
    one.dt = np.zeros(np.size(val))
    one.data = np.atleast_1d(np.asarray(val))
    return one.to_numpy(physical=True)


def test_crop_keeps_segments_true():
    vf = read(FIXTURES["redeclared_five_times"]())
    vf.crop(T0 + 11, T0 + 31)
    ecg = vf.trks["SNUADC/ECG"]
    # declarations 2 and 4 (gain 0.01, as the first) hold T0+10.., T0+30..; 3 (0.02) T0+20..
    assert ecg.dt.tolist() == [T0 + 11, T0 + 20, T0 + 21, T0 + 22, T0 + 30, T0 + 31]
    assert [(s.start, s.stop, s.gain) for s in ecg.segments] == [
        (0, 1, 0.01),
        (1, 4, 0.02),
        (4, 6, 0.01),
    ]


def test_empty_recording_times():
    gz = FIXTURES["empty_recording"]()
    default, compat = read(gz), read(gz, compat="vitaldb")
    ref = reference(gz)
    assert (type(ref.dtstart), type(ref.dtend)) == (int, int)
    assert (compat.dtstart, compat.dtend) == (0, 0)
    assert (type(compat.dtstart), type(compat.dtend)) == (int, int)
    assert (default.dtstart, default.dtend) == (0.0, 0.0)
    assert (type(default.dtstart), type(default.dtend)) == (float, float)


def test_the_independent_count_sees_what_vitaldb_loses():
    """The count is not the reader's: it finds the records vitaldb's reader drops."""
    gz = FIXTURES["redeclared_five_times"]()
    assert count_records(gz) == {"SNUADC/ECG": 15, "SNUADC/HR": 15}
    assert {n: len(t) for n, t in read(gz, compat="vitaldb").trks.items()} == {
        "SNUADC/ECG": 5,
        "SNUADC/HR": 5,
    }
