"""The open-dataset client against a real HTTP server on 127.0.0.1, vitaldb 1.7.2 as the
oracle: same values, types and shapes; the cache, resume and fault handling."""

from __future__ import annotations

import gc
import math
import os
import warnings

import numpy as np
import pandas as pd
import pytest

import vitalproc
import vitalproc.opendata as od
from opendata_server import VERSION, DatasetServer, make_case, tables_for
from vitalproc import compat
from vitalproc.opendata import settings, tables
from vitalproc.opendata.cache import CaseStore, verify_file

CASEIDS = (1, 2, 3, 7)


@pytest.fixture(scope="module")
def cases():
    # case 2 is bigger (500 Hz waves), so that a selective read can be a small part of it
    return {c: make_case(c, seconds=90, wave_rate=500 if c == 2 else 100) for c in CASEIDS}


@pytest.fixture(scope="module")
def table_files(cases):
    return tables_for(cases)


@pytest.fixture
def server(cases, table_files, tmp_path, monkeypatch):
    with DatasetServer(cases, table_files, stall=1.5) as srv:
        monkeypatch.setattr(settings, "api_url", srv.url)
        monkeypatch.setattr(settings, "cache_dir", str(tmp_path / "cache"))
        monkeypatch.setattr(settings, "timeout", 0.5)
        monkeypatch.setattr(settings, "retries", 3)
        monkeypatch.setattr(settings, "backoff", 0.01)
        monkeypatch.setattr(settings, "offline", False)
        monkeypatch.setattr(settings, "mirror", None)
        tables.forget()
        yield srv
        tables.forget()


@pytest.fixture
def vitaldb(server):
    import fixtures_catalog

    vitaldb = fixtures_catalog._vitaldb()
    ds = vitaldb.dataset

    old = ds.api_url
    ds.api_url = server.url
    ds.dftrks = ds.dfci = ds.dflabs = None
    yield vitaldb
    ds.api_url = old
    ds.dftrks = ds.dfci = ds.dflabs = None


def quiet(fn, *args, **kwargs):
    """vitaldb's calls warn (DeprecationWarning) and print; the values are the point."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return fn(*args, **kwargs)


def same_array(a, b):
    assert type(a) is type(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    if a.dtype != object:
        np.testing.assert_array_equal(a, b)
        return
    for x, y in zip(a.ravel().tolist(), b.ravel().tolist()):
        assert type(x) is type(y)
        assert x == y or (math.isnan(x) and math.isnan(y))


def cache_is_clean(server):
    """Every complete file in the cache is verified and equal to the server's."""
    store = CaseStore()
    if not os.path.isdir(store.folder):
        return
    for name in os.listdir(store.folder):
        if name.endswith(".vital"):
            path = os.path.join(store.folder, name)
            assert verify_file(path)
            with open(path, "rb") as f:
                assert f.read() == server.files[f"/{VERSION}/{name}"]


# -- load_case and VitalFile(caseid) against vitaldb ---------------------------------------

SELECTIONS = [
    (["Solar8000/HR", "BIS/BIS"], 1),
    ("HR,ART_MBP", 1),
    (["SNUADC/ART"], 1 / 100),
    (["ECG_II", "HR"], 0.5),
    ("SNUADC/*", 1 / 100),
    (["EVENT", "HR"], 1),
    (["NOPE"], 1),
]


@pytest.mark.parametrize("mode", [None, "vitaldb"])
@pytest.mark.parametrize("names,interval", SELECTIONS)
def test_load_case_as_vitaldb(vitaldb, names, interval, mode):
    for caseid in (1, 3):
        ours = od.load_case(caseid, names, interval, compat=mode)
        theirs = quiet(vitaldb.load_case, caseid, names, interval)
        same_array(ours, theirs)
    assert compat.load_case(0, "HR") is None and vitaldb.load_case(0, "HR") is None


def test_load_case_selective_fetch_and_cache(server):
    size = len(server.files[server.case_path(2)])
    before = len(server.requests)
    od.load_case(2, ["HR", "ART_MBP", "BIS"])
    assert server.sent[server.case_path(2)] < 0.15 * size  # numerics come first
    store = CaseStore()
    assert store.cached(2) is None and os.path.exists(store.path(2) + ".part")
    # the prefix serves the same selection again: no request
    n = len(server.requests)
    od.load_case(2, ["HR", "BIS"])
    assert len(server.requests) == n
    # every track: the download resumes from the prefix with a Range request
    part = os.path.getsize(store.path(2) + ".part")
    full = od.load_case(2, None, 1)
    assert full.shape[1] == 7
    ranges = [r for p, r in server.requests[n:] if p == server.case_path(2)]
    assert ranges and ranges[0] == f"bytes={part}-"
    assert store.cached(2) is not None and before < n
    # from the cache now: no request at all
    n = len(server.requests)
    od.load_case(2, ["ECG_II"], 0.01)
    od.VitalFile(2)
    assert len(server.requests) == n
    cache_is_clean(server)


@pytest.mark.parametrize("mode", [None, "vitaldb"])
def test_vitalfile_caseid_as_vitaldb(vitaldb, mode):
    for caseid, names in ((np.int64(1), None), (3, "HR,ART"), (7, ["BIS", "EVENT"])):
        ours = compat.VitalFile(caseid, names, compat=mode)
        theirs = quiet(vitaldb.VitalFile, caseid, names)
        assert ours.ipath == theirs.ipath == caseid
        assert ours.get_track_names() == theirs.get_track_names()
        assert (ours.dtstart, ours.dtend, ours.dgmt) == (theirs.dtstart, theirs.dtend, theirs.dgmt)
        for name, trk in theirs.trks.items():
            mine = ours.trks[name]
            assert [r["dt"] for r in mine.recs] == [r["dt"] for r in trk.recs]
            for a, b in zip(mine.recs, trk.recs):
                if isinstance(b["val"], np.ndarray):
                    same_array(a["val"], b["val"])
                else:
                    assert type(a["val"]) is type(b["val"]) and a["val"] == b["val"]
        same_array(
            ours.to_numpy(ours.get_track_names(), 1), theirs.to_numpy(theirs.get_track_names(), 1)
        )
    with pytest.raises(ValueError, match="greater than zero"):
        compat.VitalFile(0, compat=mode)
    with pytest.raises(ValueError, match="greater than zero"):
        vitaldb.VitalFile(0)


def test_vitalfile_caseid_header_only(vitaldb):
    with pytest.raises(NotImplementedError):
        vitaldb.VitalFile(1, header_only=True)
    with pytest.raises(NotImplementedError):
        compat.VitalFile(1, header_only=True, compat="vitaldb")
    vf = compat.VitalFile(1, header_only=True)
    assert vf.get_track_names() == quiet(vitaldb.VitalFile, 1).get_track_names()
    assert all(len(t) == 0 for t in vf.trks.values())
    # maxlen: honoured by default, ignored by vitaldb's case-id path
    short = compat.VitalFile(1, "HR", maxlen=10)
    assert len(short.trks["Solar8000/HR"]) == 6
    assert (
        len(compat.VitalFile(1, "HR", maxlen=10, compat="vitaldb").trks["Solar8000/HR"])
        == len(quiet(vitaldb.VitalFile, 1, "HR", maxlen=10).trks["Solar8000/HR"].recs)
        == 45
    )


# -- the tables --------------------------------------------------------------------------


def test_find_cases_and_track_names(vitaldb, server):
    for names in ("HR", "ART_MBP,ECG_II", ["SNUADC/ART", "BIS"], "NOPE", ",HR"):
        theirs = quiet(vitaldb.find_cases, names)
        with pytest.warns(DeprecationWarning, match="find_cases"):  # as vitaldb
            ours = compat.find_cases(names, compat="vitaldb")
        assert ours == theirs and all(type(c) is int for c in ours)
    assert od.find_cases("ART_MBP,ECG_II") == sorted(CASEIDS)
    assert od.find_cases(",HR") == sorted(CASEIDS)  # vitaldb: [] (",HR" unsplit)
    assert od.find_cases([]) == []
    with pytest.raises(TypeError):
        quiet(vitaldb.find_cases, [])
    for ids in ([1, 3], [2], [99]):
        pd.testing.assert_frame_equal(
            quiet(compat.get_track_names, ids, compat="vitaldb"),
            quiet(vitaldb.get_track_names, ids),
        )
        pd.testing.assert_frame_equal(od.get_track_names(ids), quiet(vitaldb.get_track_names, ids))
    assert len(quiet(vitaldb.get_track_names)) == 0  # vitaldb: no ids -> nothing
    every = od.get_track_names()
    assert every["caseid"].tolist() == sorted(CASEIDS)
    assert every["tnames"][0][:2] == ["Solar8000/HR", "Solar8000/ART_MBP"]


def test_clinical_and_lab_data(vitaldb, server):
    with pytest.raises(AttributeError):
        vitaldb.load_lab_data([1], ["caseid", "result"])
    with pytest.raises(AttributeError):
        compat.load_lab_data([1], ["caseid", "result"], compat="vitaldb")
    for ids, params in (
        ([1, 3], []),
        ([2], ["age", "sex", "nope"]),
        ([], []),
        ([7, 1], ["caseid", "param03"]),
    ):
        theirs = vitaldb.load_clinical_data(ids, params)
        pd.testing.assert_frame_equal(
            compat.load_clinical_data(ids, params, compat="vitaldb"), theirs
        )
    for ids, params in (([1, 3], []), ([2], ["caseid", "result"]), ([], [])):
        theirs = vitaldb.load_lab_data(ids, params)
        pd.testing.assert_frame_equal(compat.load_lab_data(ids, params, compat="vitaldb"), theirs)
    # a clinical column asked of the lab table: vitaldb keeps it, and pandas fails
    with pytest.raises(KeyError):
        vitaldb.load_lab_data([2], ["caseid", "age"])
    with pytest.raises(KeyError):
        compat.load_lab_data([2], ["caseid", "age"], compat="vitaldb")
    assert od.load_lab_data([2], ["caseid", "age", "result"]).columns.tolist() == [
        "caseid",
        "result",
    ]
    clinical = od.load_clinical_data()
    assert clinical.shape == (len(CASEIDS), 74)
    assert list(clinical.columns[:4]) == ["caseid", "subjectid", "casestart", "caseend"]
    assert od.load_lab_data([], ["name", "result"]).shape == (4 * len(CASEIDS), 2)
    pd.testing.assert_frame_equal(
        od.load_clinical_data([2], ["age"]), vitaldb.load_clinical_data([2], ["age"])
    )


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_load_trk_as_vitaldb(vitaldb, server, table_files):
    trks = pd.read_csv(server.url + "/trks")
    tids = {row.tname: row.tid for row in trks[trks.caseid == 3].itertuples()}
    picks = [tids["Solar8000/HR"], tids["SNUADC/ART"], tids["EVENT"]]
    for interval in (1, 2, 1 / 100, 1 / 300):
        for tid in picks:
            theirs = quiet(vitaldb.dataset.load_trk, tid, interval)
            for mode in (None, "vitaldb"):
                same_array(quiet(od.load_trk, tid, interval, compat=mode), theirs)
        both = [picks[0], "", picks[1]]
        theirs = quiet(vitaldb.dataset.load_trks, both, interval)
        for mode in (None, "vitaldb"):
            same_array(quiet(od.load_trks, both, interval, compat=mode), theirs)
    same_array(
        quiet(od.load_trk, "0" * 40, compat="vitaldb"), quiet(vitaldb.dataset.load_trk, "0" * 40)
    )
    with pytest.raises(od.FetchError) as err:
        quiet(od.load_trk, "0" * 40)
    assert err.value.status == 404
    gc.collect()  # vitaldb leaves the 404 reply's socket open: its warning stays here


# -- faults, cache, offline, resume ------------------------------------------------------


@pytest.mark.parametrize(
    "faults",
    [
        ("500", "500"),
        ("stall",),
        ("stall_body",),
        ("close", "close"),
        ("long_length",),
        ("short_length",),
        ("corrupt",),
        ("close", "corrupt", "500"),
    ],
)
def test_faults_are_retried(server, cases, faults):
    path = server.case_path(3)
    server.fault(path, *faults)
    vf = od.VitalFile(3)
    assert server.faults[path] == []  # every fault was met
    expected = od.VitalFile(3, compat="vitaldb").to_numpy(["ART", "HR"], 0.01)
    same_array(vf.to_numpy(["ART", "HR"], 0.01), expected)
    # one request per fault and a last good one (more if the loaded machine stalls)
    assert len([p for p, _ in server.requests if p == path]) >= len(faults) + 1
    cache_is_clean(server)


def test_selective_fetch_with_faults(server):
    path = server.case_path(7)
    server.fault(path, "close", "500", "corrupt")
    got = od.load_case(7, ["HR", "BIS"])
    truth = vitalproc.read(server.files[path], ["HR", "BIS"]).to_numpy(["HR", "BIS"], 1)
    same_array(got, truth)
    assert CaseStore().cached(7) is None  # a prefix is no complete file
    cache_is_clean(server)


def test_failures_say_why(server):
    with pytest.raises(od.FetchError) as err:
        od.load_case(99, ["HR"])
    assert err.value.status == 404 and "404" in str(err.value)
    server.fault(server.case_path(1), *["500"] * 5)
    with pytest.raises(od.FetchError) as err:
        od.VitalFile(1)
    assert err.value.status == 500 and err.value.attempts == 4
    server.faults.clear()
    cache_is_clean(server)


def test_offline_and_corrupt_cache(server, monkeypatch):
    od.VitalFile(1)  # cached now
    monkeypatch.setattr(settings, "offline", True)
    n = len(server.requests)
    assert od.load_case(1, ["HR"]).shape == (90, 1)
    with pytest.raises(od.NotCachedError, match="offline"):
        od.load_case(2, ["HR"])
    with pytest.raises(od.NotCachedError):
        od.load_clinical_data([1])
    assert len(server.requests) == n
    monkeypatch.setattr(settings, "offline", False)
    # a cached file damaged on disk is found and fetched again
    store = CaseStore()
    path = store.path(1)
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0x55]))
    assert CaseStore().cached(1) is None  # its stamp no longer matches: checked, dropped
    good = od.load_case(1, ["ART"], 0.01, compat="vitaldb")
    assert len(server.requests) > n  # fetched again (the bytes ART needs)
    truth = vitalproc.read(server.files[server.case_path(1)], ["ART"], compat="vitaldb")
    same_array(good, truth.to_numpy(["ART"], 0.01))
    od.VitalFile(1)
    cache_is_clean(server)
    same_array(good, od.load_case(1, ["ART"], 0.01))


# -- the mirror ----------------------------------------------------------------------------


def test_mirror_gives_the_same_arrays(server, vitaldb, tmp_path, monkeypatch, table_files):
    root = tmp_path / "mirror"
    (root / "vital_files").mkdir(parents=True)
    for caseid in CASEIDS:
        (root / "vital_files" / f"{caseid:04d}.vital").write_bytes(
            server.files[server.case_path(caseid)]
        )
    (root / "clinical_data.csv").write_bytes(table_files["cases"])
    (root / "lab_data.csv").write_bytes(table_files["labs"])
    from_api = {c: od.load_case(c, "ART,HR", 0.01) for c in CASEIDS}
    found = od.find_cases("ECG_II")
    clinical = od.load_clinical_data([1, 2])
    monkeypatch.setattr(settings, "mirror", str(root))
    n = len(server.requests)
    for c in CASEIDS:
        same_array(compat.load_case(c, "ART,HR", 0.01), from_api[c])
    assert od.find_cases("ECG_II") == found  # trks made from the files' declarations
    (root / "track_names.csv").write_bytes(table_files["trks"])
    tables.forget()
    assert od.find_cases("ECG_II") == found
    pd.testing.assert_frame_equal(od.load_clinical_data([1, 2]), clinical)
    assert od.VitalFile(2, "HR").ipath == 2
    with pytest.raises(od.FetchError, match="no such case"):
        od.load_case(99, "HR")
    assert len(server.requests) == n
