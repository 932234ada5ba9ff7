"""Editing operations and lists of paths against vitaldb 1.7.2, and their bad input.

Each case applies the same call to vitaldb's ``VitalFile`` and to vitalproc's (read with
``compat="vitaldb"`` from the same bytes) and compares the results field by field, bit
for bit (``parity.differences``), plus what the call returned.
"""

from __future__ import annotations

import datetime
import warnings

import numpy as np
import pytest

import vitalproc
from conftest import REAL_FILES, reference
from vitalproc._constants import FMT_DTYPE, TrackType
from vitalproc.ops import edit

from fixtures_catalog import FIXTURES
from parity import differences
from vitalbytes import F32, I16, NUM, STR, WAVE, VitalBuilder, gzip_bytes

T0 = 1_700_000_000.0
vitaldb_call = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def quiet_read(source, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        return vitalproc.read(source, **kw)


def check_columns(vf):
    """The arrays of every track agree with each other and with its declaration."""
    for key, trk in vf.trks.items():
        n = len(trk.dt)
        assert trk.dt.dtype == np.float64, key
        if trk.type in (TrackType.WAVE, TrackType.STRING):
            off = trk.offsets
            assert off.dtype == np.int64 and len(off) == n + 1, key
            assert off[0] == 0 and off[-1] == len(trk.data) and (np.diff(off) >= 0).all(), key
        elif trk.type == TrackType.NUMERIC:
            assert trk.offsets is None and len(trk.data) == n, key
        if trk.type in (TrackType.WAVE, TrackType.NUMERIC):
            assert trk.data.dtype == np.dtype(FMT_DTYPE[trk.fmt]), key


def summary(result):
    """What an editing call returned, comparable across the two libraries."""
    if result is None:
        return None
    if hasattr(result, "dtname"):
        return ("track", result.dtname, result.name, result.dname)
    return type(result).__name__


def recs(kind):
    """Fresh vitaldb-style records (float32-exact values: vitaldb keeps what it is
    given, vitalproc stores the declared fmt 1)."""
    if kind == "num":
        return [{"dt": T0 + 4.5, "val": 1.5}, {"dt": T0 + 1, "val": -2.25}]
    if kind == "str":
        return [{"dt": T0 + 1, "val": "start"}, {"dt": T0 + 3, "val": "사건"}]
    return [{"dt": T0 + s, "val": np.arange(s, s + 1, 0.25, dtype=np.float32)} for s in (0, 2)]


# (fixture, call): the call is made on both libraries' VitalFile.
EDITS = {
    "crop_all": ("typical", lambda vf: vf.crop()),
    "crop_absolute": ("typical", lambda vf: vf.crop(T0 + 2, T0 + 5)),
    "crop_relative": ("typical", lambda vf: vf.crop(2, 5)),
    "crop_from_end": ("typical", lambda vf: vf.crop(-3)),
    "crop_to_end_relative": ("typical", lambda vf: vf.crop(None, -4.5)),
    "crop_inside_one_wave_record": ("typical", lambda vf: vf.crop(T0 + 2.2, T0 + 2.4)),
    "crop_record_edges": ("typical", lambda vf: vf.crop(T0 + 2, T0 + 3)),
    "crop_unsorted": ("header_26", lambda vf: vf.crop(T0 + 1, T0 + 30)),
    "crop_instant": ("typical", lambda vf: vf.crop(T0 + 5, T0 + 5)),
    "rename_device": ("typical", lambda vf: vf.rename_device("SNUADC", "ADC")),
    "rename_device_onto_existing": ("typical", lambda vf: vf.rename_device("SNUADC", "Solar8000")),
    "rename_device_blank": ("typical", lambda vf: vf.rename_device("", "NODEV")),
    "rename_device_missing": ("typical", lambda vf: vf.rename_device("Missing", "X")),
    "rename_devices": ("typical", lambda vf: vf.rename_devices({"SNUADC": "A", "Solar8000": "B"})),
    "rename_device_of_blank_name": ("device_empty_name", lambda vf: vf.rename_device("", "X")),
    "rename_track_suffix": ("typical", lambda vf: vf.rename_track("HR", "PULSE")),
    "rename_track_no_device": ("typical", lambda vf: vf.rename_track("EVENT", "EV")),
    "rename_track_missing": ("typical", lambda vf: vf.rename_track("NoSuch", "X")),
    "rename_track_blank_device": ("device_empty_name", lambda vf: vf.rename_track("/HR", "PULSE")),
    "rename_track_repeated_in_order": ("track_order", lambda vf: vf.rename_track("A", "Z")),
    "rename_tracks": ("typical", lambda vf: vf.rename_tracks({"HR": "PULSE", "ART": "ABP"})),
    "remove_device": ("typical", lambda vf: vf.remove_device("SNUADC")),
    "remove_device_blank": ("typical", lambda vf: vf.remove_device("")),
    "remove_device_missing": ("typical", lambda vf: vf.remove_device("Missing")),
    "remove_devices": ("typical", lambda vf: vf.remove_devices(["SNUADC", "Solar8000"])),
    "remove_devices_one_string": ("typical", lambda vf: vf.remove_devices("Solar8000")),
    "del_device": ("typical", lambda vf: vf.del_device("Solar8000")),
    "remove_track": ("typical", lambda vf: vf.remove_track("ART")),
    "remove_track_full_name": ("typical", lambda vf: vf.remove_track("Solar8000/HR")),
    "remove_track_missing": ("typical", lambda vf: vf.remove_track("Nope")),
    "remove_track_blank_device": ("device_empty_name", lambda vf: vf.remove_track("/HR")),
    "remove_track_repeated_in_order": ("track_order", lambda vf: vf.remove_track("A")),
    "remove_tracks": ("typical", lambda vf: vf.remove_tracks(["ART", "EVENT"])),
    "remove_tracks_one_string": ("typical", lambda vf: vf.remove_tracks("HR")),
    "del_tracks": ("typical", lambda vf: vf.del_tracks(["ECG_II"])),
    "add_device": ("typical", lambda vf: vf.add_device("Vent", "Servo-U", "COM9")),
    "add_device_replaces": ("typical", lambda vf: vf.add_device("SNUADC", "ADC")),
    "add_track_numeric": (
        "typical",
        lambda vf: vf.add_track("Vent/PEEP", recs("num"), unit="cmH2O", maxdisp=20),
    ),
    "add_track_string": ("typical", lambda vf: vf.add_track("NOTE", recs("str"))),
    "add_track_wave": (
        "typical",
        lambda vf: vf.add_track("SNUADC/CVP", recs("wave"), srate=4, mindisp=-1),
    ),
    "add_track_known_colour": ("typical", lambda vf: vf.add_track("Vent/RR", recs("num"))),
    "add_track_given_colour": (
        "typical",
        lambda vf: vf.add_track("Vent/X", recs("num"), col=0x123456),
    ),
    "add_track_replaces": ("typical", lambda vf: vf.add_track("Solar8000/HR", recs("num"))),
    "add_track_after": (
        "typical",
        lambda vf: vf.add_track("Solar8000/RR", recs("num"), after="SNUADC/ART"),
    ),
    "add_track_after_without_order": (
        "track_no_device",
        lambda vf: vf.add_track("Vent/RR", recs("num"), after="HR"),
    ),
    "add_track_after_moves_it": (
        "typical",
        lambda vf: vf.add_track("EVENT", recs("str"), after="Solar8000/HR"),
    ),
    "add_track_empty": ("typical", lambda vf: vf.add_track("Vent/X", [])),
    "anonymize": ("typical", lambda vf: vf.anonymize()),
    "anonymize_datetime": (
        "typical",
        lambda vf: vf.anonymize(datetime.datetime(2020, 5, 5, 12, 30)),
    ),
    "anonymize_timestamp": ("typical", lambda vf: vf.anonymize(1_600_000_000.5)),
    "anonymize_blank_device": ("device_empty_name", lambda vf: vf.anonymize()),
}


@pytest.mark.parametrize("case", sorted(EDITS))
@pytest.mark.usefixtures("vitaldb")
def test_edit_matches_vitaldb(case):
    name, call = EDITS[case]
    gz = FIXTURES[name]()
    ref, ours = reference(gz), quiet_read(gz, compat="vitaldb")
    ref_result, our_result = call(ref), call(ours)
    assert summary(ref_result) == summary(our_result)
    ref_after = ref_result if hasattr(ref_result, "trks") else ref
    our_after = our_result if hasattr(our_result, "trks") else ours
    assert differences(ref_after, our_after) == []
    check_columns(our_after)


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize(
    "call",
    [
        lambda vf: vf.crop(10, -10),
        lambda vf: vf.rename_device("Intellivue", "IV"),
        lambda vf: vf.remove_tracks(["HR", "Intellivue/ABP"]),
        lambda vf: vf.rename_track("ECG_II", "II"),
        lambda vf: vf.anonymize(),
    ],
    ids=["crop", "rename_device", "remove_tracks", "rename_track", "anonymize"],
)
@pytest.mark.usefixtures("vitaldb")
def test_edit_real_files_match_vitaldb(path, call):
    ref, ours = reference(path), quiet_read(path, compat="vitaldb")
    ref_result, our_result = call(ref), call(ours)
    ref_after = ref_result if hasattr(ref_result, "trks") else ref
    our_after = our_result if hasattr(our_result, "trks") else ours
    assert differences(ref_after, our_after) == []
    check_columns(our_after)


@pytest.mark.parametrize(
    "call",
    [
        lambda vf: vf.rename_device("SNUADC", "A/B"),
        lambda vf: vf.rename_device("SNUADC", "SNUADC"),
        lambda vf: vf.rename_track("HR", "Dev/HR"),
        lambda vf: vf.add_track("A/B/C", recs("num")),
        lambda vf: vf.add_track("Vent/X", recs("num"), after="NoSuchTrack"),
    ],
    ids=["device_slash", "device_same", "track_slash", "two_slashes", "after_unknown"],
)
@pytest.mark.usefixtures("vitaldb")
def test_value_errors_as_vitaldb(call):
    gz = FIXTURES["typical"]()
    ref, ours = reference(gz), quiet_read(gz, compat="vitaldb")
    with pytest.raises(ValueError):
        call(ref)
    with pytest.raises(ValueError):
        call(ours)
    assert differences(ref, ours) == []  # both left in the same state


@pytest.mark.usefixtures("vitaldb")
def test_mapping_must_be_a_dict():
    for vf in (reference(FIXTURES["typical"]()), quiet_read(FIXTURES["typical"]())):
        with pytest.raises(TypeError):
            vf.rename_devices([("SNUADC", "A")])
        with pytest.raises(TypeError):
            vf.rename_tracks([("HR", "A")])


# ---- crop -------------------------------------------------------------------------------


def test_crop_keeps_views_of_a_contiguous_run():
    vf = quiet_read(FIXTURES["typical"]())
    ecg = vf.trks["SNUADC/ECG_II"]
    base = ecg.data
    assert vf.crop(T0 + 2, T0 + 5) is vf
    assert np.shares_memory(ecg.data, base) and len(ecg) == 5
    assert ecg.offsets.tolist() == [0, 500, 1000, 1500, 2000, 2500]
    assert (ecg.dt == T0 + np.arange(1, 6)).all()  # T0+1 ends at T0+2, T0+5 starts at T0+5
    assert (vf.dtstart, vf.dtend) == (T0 + 2, T0 + 5)


def test_crop_of_scattered_records():
    """Unsorted times keep a scattered subset: copied, offsets rebuilt."""
    vf = vitalproc.VitalFile()
    vf.dtstart, vf.dtend = T0, T0 + 10
    vf.add_track(
        "D/W",
        dt=[T0 + 1, T0 + 8, T0 + 2, T0 + 9],
        samples=np.arange(6, dtype=float),
        offsets=[0, 1, 3, 4, 6],
        srate=1,
    )
    vf.add_track("D/S", dt=[T0 + 2, T0 + 9, T0 + 3], values=["a", "bb", "ccc"])
    vf.crop(T0, T0 + 5)
    w, s = vf.trks["D/W"], vf.trks["D/S"]
    assert w.dt.tolist() == [T0 + 1, T0 + 2] and w.samples.tolist() == [0.0, 3.0]
    assert w.offsets.tolist() == [0, 1, 2]
    assert s.texts() == ["a", "ccc"]
    check_columns(vf)


def test_crop_wave_without_rate_has_instant_records():
    """vitaldb divides by the rate (ZeroDivisionError); a wave without one is kept by its
    start times alone."""
    vf = vitalproc.VitalFile()
    vf.dtstart, vf.dtend = T0, T0 + 10
    trk = vf.add_track("D/W", dt=[T0, T0 + 5], samples=np.ones((2, 3)), srate=4)
    trk.srate = 0.0
    vf.crop(T0 + 1, T0 + 6)
    assert trk.dt.tolist() == [T0 + 5]


@pytest.mark.parametrize(
    "window, argument",
    [
        ((T0 - 100, T0 - 50), "dtfrom..dtend"),
        ((T0 + 61, T0 + 70), "dtfrom..dtend"),
        ((T0 + 5, T0 + 2), "dtend"),
        ((float("nan"), None), "dtfrom"),
        ((None, float("inf")), "dtend"),
        (("2023-01-01", None), "dtfrom"),
    ],
)
def test_crop_rejects_a_window_outside_the_file(window, argument):
    vf = quiet_read(FIXTURES["typical"]())  # T0 .. T0+10
    vf.dtend = T0 + 60
    before = [len(t) for t in vf.trks.values()]
    with pytest.raises(ValueError, match=argument.replace(".", r"\.")):
        vf.crop(*window)
    assert [len(t) for t in vf.trks.values()] == before and vf.dtstart == T0


# ---- add_track: the columnar form, bad input --------------------------------------------


def test_columnar_add_track_equals_records():
    a, b = vitalproc.VitalFile(), vitalproc.VitalFile()
    rows = recs("wave")
    a.add_track("SNUADC/CVP", rows, srate=4)
    b.add_track(
        "SNUADC/CVP",
        dt=[r["dt"] for r in rows],
        samples=np.stack([r["val"] for r in rows]),
        srate=4,
    )
    a.add_track("Vent/PEEP", recs("num"))
    b.add_track("Vent/PEEP", dt=np.array([T0 + 4.5, T0 + 1]), values=[1.5, -2.25])
    a.add_track("NOTE", recs("str"))
    b.add_track("NOTE", dt=[T0 + 1, T0 + 3], values=np.array(["start", "사건"]))
    a.dtstart = b.dtstart
    assert differences(a, b) == []
    cvp = b.trks["SNUADC/CVP"]
    assert cvp.type == TrackType.WAVE and cvp.fmt == 1 and cvp.samples.dtype == np.float32
    assert cvp.offsets.tolist() == [0, 4, 8]
    assert b.trks["NOTE"].type == TrackType.STRING and b.devs[""].name == ""
    check_columns(b)


def test_add_track_stores_the_declared_float32():
    vf = vitalproc.VitalFile()
    trk = vf.add_track("D/N", [{"dt": T0, "val": 0.1}, {"dt": T0 + 1, "val": 7}])
    assert trk.values.dtype == np.float32 and trk.values.tolist() == [np.float32(0.1), 7.0]
    wave = vf.add_track("D/W", dt=[T0], samples=np.array([[1, 2, 3]], np.int16), srate=3)
    assert wave.samples.dtype == np.float32 and wave.samples.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"recs": [{"t": T0, "val": 1.0}]}, "recs"),
        ({"recs": [{"dt": T0, "val": None}]}, "recs"),
        ({"recs": [{"dt": "noon", "val": 1.0}]}, "recs"),
        ({"recs": [{"dt": T0, "val": np.ones(3)}]}, "recs"),
        ({"recs": [{"dt": T0, "val": 1.0}], "srate": 100}, r"recs\[0\]"),
        ({"recs": [{"dt": T0, "val": np.ones((2, 2))}], "srate": 100}, r"recs\[0\]"),
        ({"recs": [{"dt": T0, "val": "a"}, {"dt": T0, "val": 2}]}, "recs"),
        ({"recs": [{"dt": T0, "val": 1e300}]}, "recs"),
        ({"dt": [[T0]], "values": [1.0]}, "dt"),
        ({"dt": ["x"], "values": [1.0]}, "dt"),
        ({"dt": [T0, T0 + 1], "values": [1.0]}, "values"),
        ({"dt": [T0], "values": [[1.0]]}, "values"),
        ({"dt": [T0], "values": np.array([1 + 2j])}, "values"),
        ({"dt": [T0], "values": [b"x"]}, "values"),
        ({"dt": [T0], "values": ["a", "b"]}, "values"),
        ({"dt": [T0], "samples": np.ones((1, 4))}, "samples"),
        ({"dt": [T0], "values": [1.0], "srate": 100}, "samples"),
        ({"dt": [T0, T0 + 1], "samples": np.ones((3, 4)), "srate": 100}, "samples"),
        ({"dt": [T0], "samples": np.ones(4), "offsets": [0, 3], "srate": 100}, "offsets"),
        ({"dt": [T0], "samples": np.ones(4), "offsets": [0.0, 4.0], "srate": 100}, "offsets"),
        ({"dt": [T0, T0], "samples": np.ones(4), "offsets": [0, 3, 2], "srate": 100}, "offsets"),
        ({"dt": [T0], "samples": np.array(["a"]), "srate": 100}, "samples"),
        ({"recs": [{"dt": T0, "val": 1.0}], "dt": [T0], "values": [1.0]}, "recs"),
        ({}, "recs"),
    ],
)
def test_add_track_rejects_bad_data(kwargs, argument):
    vf = quiet_read(FIXTURES["typical"]())
    tracks = list(vf.trks)
    with pytest.raises(ValueError, match=argument):
        vf.add_track("Vent/X", **kwargs)
    assert list(vf.trks) == tracks and "Vent" not in vf.devs


# ---- anonymize, find_track ----------------------------------------------------------------


def test_anonymize_copies_and_drops_raw_packets():
    vf = quiet_read(FIXTURES["raw_packets"]())
    assert vf.packets
    anon = vf.anonymize(0)
    assert anon is not vf and anon.packets == [] and vf.packets
    assert anon.dtstart == 0 and anon.dgmt == 0
    for key, trk in vf.trks.items():
        other = anon.trks[key]
        assert (other.dt == trk.dt - vf.dtstart).all()
        assert not np.shares_memory(other.data, trk.data)


def test_find_track_takes_the_first_suffix_match():
    vf = vitalproc.VitalFile()
    for name in ("Dev/PLETH_HR", "Dev/HR", "HR2"):
        vf.add_track(name, [{"dt": T0, "val": 1.0}])
    assert edit.find_track(vf, "HR").dtname == "Dev/PLETH_HR"
    assert edit.find_track(vf, "Dev/HR").dtname == "Dev/HR"
    assert edit.find_track(vf, "X") is None


# ---- lists of paths -----------------------------------------------------------------------


def part_file(start, devices, tracks, order=None, seconds=3):
    """A file starting at ``start``: ``tracks`` = [(tid, type, fmt, name, did), ...], one
    record per track per second for ``seconds`` s."""
    b = VitalBuilder().header(dgmt=-540, dtstart=start, dtend=start + 3)
    for did, name in devices:
        b.device(did, name, name)
    for tid, ttype, fmt, name, did in tracks:
        b.track(tid, ttype, fmt, name, srate=10.0 if ttype == WAVE else 0.0, did=did)
    if order:
        b.order(order)
    for s in range(seconds):
        for tid, ttype, fmt, _, _ in tracks:
            if ttype == WAVE:
                b.wave(tid, start + s, list(range(s, s + 10)), fmt=fmt)
            elif ttype == NUM:
                b.number(tid, start + s, 60 + s if fmt == I16 else 60.0 + s, fmt=fmt)
            else:
                b.string(tid, start + s, f"at {s}")
    return gzip_bytes(b.bytes())


PARTS = {
    "first": part_file(
        T0,
        [(1, "SNUADC"), (2, "Solar8000")],
        [(1, WAVE, I16, "ECG", 1), (2, NUM, F32, "HR", 2), (3, STR, F32, "EVENT", 0)],
        order=[2, 1],
    ),
    "second": part_file(
        T0 + 10,
        [(5, "Solar8000"), (6, "BIS")],
        [(1, NUM, F32, "BIS", 6), (2, NUM, F32, "HR", 5), (3, WAVE, I16, "ECG", 0)],
        order=[1, 2, 3],
    ),
    "earlier": part_file(T0 - 20, [(1, "SNUADC")], [(1, WAVE, I16, "ECG", 1)], order=[1]),
    "eight_days_later": part_file(T0 + 8 * 86400, [(1, "SNUADC")], [(1, WAVE, I16, "ECG", 1)]),
    "no_start": part_file(0.0, [(1, "Other")], [(1, NUM, F32, "X", 1)], seconds=0),
}


def write_parts(tmp_path, names):
    paths = []
    for i, name in enumerate(names):
        path = tmp_path / f"{i}_{name}.vital"
        path.write_bytes(PARTS[name])
        paths.append(str(path))
    return paths


@pytest.mark.parametrize(
    "names",
    [
        ["first", "second"],
        ["second", "first", "earlier"],
        ["no_start", "first", "second"],
        ["first", "no_start"],
        ["first"],
        [],
    ],
    ids=lambda names: "+".join(names) or "none",
)
@pytest.mark.usefixtures("vitaldb")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_list_of_paths_matches_vitaldb(tmp_path, vitaldb, names):
    paths = write_parts(tmp_path, names)
    ref = vitaldb.VitalFile(paths)
    with warnings.catch_warnings():  # a skipped file is warned of: see the next test
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        ours = vitalproc.VitalFile(paths)
    assert differences(ref, ours) == []
    assert ours.ipath == paths
    check_columns(ours)


@pytest.mark.usefixtures("vitaldb")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_list_of_paths_skips_a_file_7_days_away(tmp_path, vitaldb):
    paths = write_parts(tmp_path, ["first", "eight_days_later", "second"])
    ref = vitaldb.VitalFile(paths)
    with pytest.warns(vitalproc.VitalWarning, match="7 days"):
        ours = vitalproc.VitalFile(paths)
    assert differences(ref, ours) == []
    assert [w.code for w in ours.warnings] == ["merge_skipped"]
    assert ours.trks["SNUADC/ECG"].dt.tolist() == [T0, T0 + 1, T0 + 2]


@pytest.mark.usefixtures("vitaldb")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_list_of_paths_ignores_the_selection_as_vitaldb(tmp_path, vitaldb):
    paths = write_parts(tmp_path, ["first", "second"])
    ref = vitaldb.VitalFile(paths, track_names=["HR"], header_only=True, maxlen=1)
    ours = vitalproc.VitalFile(paths, track_names=["HR"], header_only=True, maxlen=1)
    assert differences(ref, ours) == [] and len(ours.trks) == 5


def test_list_of_paths_concatenates_in_file_order(tmp_path):
    vf = vitalproc.VitalFile(write_parts(tmp_path, ["second", "first", "earlier"]))
    hr = vf.trks["Solar8000/HR"]
    assert hr.dt.tolist() == [T0 + 10, T0 + 11, T0 + 12, T0, T0 + 1, T0 + 2]
    ecg = vf.trks["SNUADC/ECG"]  # from "first", then "earlier"
    assert ecg.dt.tolist() == [T0, T0 + 1, T0 + 2, T0 - 20, T0 - 19, T0 - 18]
    assert ecg.samples[:12].tolist() == list(range(10)) + [1, 2]
    assert ecg.offsets.tolist() == list(range(0, 70, 10))
    assert (vf.dtstart, vf.dtend) == (T0 - 20, T0 + 13)
    assert vf.order == ["Solar8000/HR", "SNUADC/ECG"]  # not the first file's order
    assert vf.packed is False and vf.packets == []


def test_list_of_paths_with_other_track_types_or_formats(tmp_path):
    """vitaldb appends whatever records come; a column holds one type and one dtype."""
    other = part_file(
        T0 + 10, [(1, "Solar8000")], [(1, STR, F32, "HR", 1), (2, NUM, I16, "SPO2", 1)]
    )
    first = part_file(T0, [(1, "Solar8000")], [(1, NUM, F32, "HR", 1), (2, NUM, F32, "SPO2", 1)])
    paths = []
    for i, gz in enumerate((first, other)):
        paths.append(tmp_path / f"{i}.vital")
        paths[-1].write_bytes(gz)
    with pytest.warns(vitalproc.VitalWarning) as caught:
        vf = vitalproc.VitalFile([str(p) for p in paths])
    assert len(caught) == 2
    assert sorted(w.code for w in vf.warnings) == ["merge_format_mismatch", "merge_type_mismatch"]
    assert len(vf.trks["Solar8000/HR"]) == 3  # the string records could not join
    spo2 = vf.trks["Solar8000/SPO2"]
    assert spo2.values.dtype == np.float32 and spo2.values.tolist() == [60, 61, 62] * 2
    with pytest.raises(vitalproc.VitalError, match="type"):
        vitalproc.VitalFile([str(p) for p in paths], strict=True)


# ---- Track.to_numpy -------------------------------------------------------------------------


def test_track_to_numpy():
    b = VitalBuilder().header(dgmt=-540, dtstart=T0, dtend=T0 + 10, packed=1)
    b.track(1, WAVE, I16, "ART", srate=4.0, gain=0.5, offset=-10.0)
    b.track(2, NUM, I16, "N", gain=2.0, offset=1.0)
    b.track(3, WAVE, F32, "F", srate=4.0, gain=3.0, offset=1.0)
    b.track(4, STR, F32, "S")
    b.wave(1, T0, [2, -32768, 40]).number(2, T0, -32768).wave(3, T0, [1.5, float("nan")])
    b.string(4, T0, "x")
    vf = vitalproc.read(gzip_bytes(b.bytes()))
    art, num, flt, txt = (vf.trks[k] for k in ("ART", "N", "F", "S"))
    assert art.to_numpy() is art.samples and art.to_numpy().dtype == np.int16
    phys = art.to_numpy(physical=True)
    assert phys.dtype == np.float64 and phys[0] == -9.0 and np.isnan(phys[1]) and phys[2] == 10
    assert num.to_numpy(physical=True).tolist() == [-65535.0]  # numerics have no gaps
    assert flt.to_numpy(physical=True)[0] == 1.5  # float formats are physical already
    assert list(txt.to_numpy()) == ["x"] and list(txt.to_numpy(physical=True)) == ["x"]
