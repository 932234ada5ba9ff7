"""``import vitalproc.compat as vitaldb``: the same calls give vitaldb 1.7.2's results."""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest

import vitalproc
from conftest import REAL_FILES
from test_views import assert_same_grid
from vitalproc import compat

from fixtures_catalog import FIXTURES, _vitaldb
from parity import differences

vitaldb_calls = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)


def upstream(name, *args, **kwargs):
    """vitaldb's module-level function ``name`` (it prints failed loads: silenced)."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return getattr(_vitaldb(), name)(*args, **kwargs)


def test_module_offers_vitaldbs_names():
    assert sorted(dir(compat)) == [
        "VitalFile",
        "find_cases",
        "get_track_names",
        "load_case",
        "load_clinical_data",
        "load_lab_data",
        "load_trk",
        "load_trks",
        "read_vital",
        "vital_recs",
        "vital_trks",
    ]
    # vitalproc's VitalFile, which also takes a case id of the open dataset
    assert issubclass(compat.VitalFile, vitalproc.VitalFile)


CALLS = [
    {"track_names": ["Intellivue/ECG_II", "Intellivue/HR"], "interval": 1 / 500},
    {"track_names": "PLETH,HR,EVENT", "interval": 1, "return_timestamp": True},
    {"track_names": ["HR", "Nope"], "interval": None, "return_datetime": True},
    {"track_names": "Intellivue/PLETH", "interval": 0.1},
    {"track_names": ["ECG_II", "PLETH_SAT_O2"], "interval": 1 / 62.5, "return_pandas": True},
    {"track_names": ["HR", "EVENT"], "interval": 2, "return_pandas": True, "return_datetime": True},
    {"track_names": "ECG_II,ABP,RESP,HR", "interval": 7.3, "exclude": "ABP"},
]


@vitaldb_calls
@pytest.mark.parametrize("call", CALLS, ids=range(len(CALLS)))
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.stem)
def test_vital_recs(path, call):
    expected = upstream("vital_recs", str(path), **call)
    got = compat.vital_recs(str(path), **call)
    if call.get("return_pandas"):
        assert list(got.dtypes) == list(expected.dtypes)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        expected, got = expected.to_numpy(), got.to_numpy()
    assert_same_grid(expected, got)


@vitaldb_calls
def test_vital_recs_without_names_reads_every_track():
    path = str(REAL_FILES[0])
    with pytest.raises(TypeError):  # vitaldb: len(None)
        upstream("vital_recs", path, interval=1)
    every = upstream("vital_trks", path)
    assert_same_grid(
        upstream("vital_recs", path, every, 1, return_timestamp=True),
        compat.vital_recs(path, interval=1, return_timestamp=True),
    )


@vitaldb_calls
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.stem)
def test_vital_trks(path):
    assert compat.vital_trks(str(path)) == upstream("vital_trks", str(path))


@vitaldb_calls
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"track_names": "HR,ECG_II"},
        {"exclude": ["PLETH"]},
        {"header_only": True},
        {"maxlen": 5.0},
    ],
    ids=str,
)
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.stem)
def test_read_vital(path, kwargs):
    ref = upstream("read_vital", str(path), **kwargs)
    vf = compat.read_vital(str(path), **kwargs)
    assert differences(ref, vf) == []
    names = list(ref.trks)
    if names and not kwargs.get("header_only"):
        assert_same_grid(ref.to_numpy(names, 1), vf.to_numpy(names, 1))


def test_read_vital_checks_the_suffix(tmp_path):
    path = tmp_path / "case.csv"
    path.write_bytes(FIXTURES["typical"]())
    with pytest.raises(ValueError, match="Invalid file format"):
        upstream("read_vital", str(path))
    with pytest.raises(ValueError, match="Invalid file format"):
        compat.read_vital(str(path))
    with pytest.raises(ValueError, match="Invalid file format"):
        compat.read_vital(path)
    assert list(compat.read_vital(FIXTURES["typical"]()).trks)  # bytes: read as they are


@vitaldb_calls
def test_compat_mode_is_vitaldb_exactly(tmp_path):
    """A recording vitaldb cuts short (a 1 MB record in an unpacked file): compat="vitaldb"
    gives its result, the default keeps the rest and says so."""
    path = tmp_path / "big.vital"
    path.write_bytes(FIXTURES["record_over_1mb"]())
    ref = upstream("read_vital", str(path))
    with pytest.warns(vitalproc.VitalWarning, match="vitaldb stops reading"):
        assert differences(ref, compat.read_vital(str(path), compat="vitaldb")) == []
    names = list(ref.trks)
    with pytest.warns(vitalproc.VitalWarning, match="vitaldb stops reading"):
        grid = compat.vital_recs(str(path), names, 1, compat="vitaldb")
    assert_same_grid(upstream("vital_recs", str(path), names, 1), grid)
    with pytest.warns(vitalproc.VitalWarning, match="over 1,000,000 bytes"):
        fuller = compat.read_vital(str(path))
    assert len(fuller.trks) > len(ref.trks)
    assert sum(len(t) for t in fuller.trks.values()) > sum(len(t.recs) for t in ref.trks.values())


@vitaldb_calls
def test_packed_gap_filler_by_default_and_in_compat_mode(tmp_path):
    path = tmp_path / "packed.vital"
    path.write_bytes(FIXTURES["vitaldb_repacked_all_fmts"]())
    names = upstream("vital_trks", str(path))
    expected = upstream("vital_recs", str(path), names, 0.01)
    assert_same_grid(expected, compat.vital_recs(str(path), names, 0.01, compat="vitaldb"))
    default = compat.vital_recs(str(path), names, 0.01)
    differ = ~(np.isnan(expected) == np.isnan(default))
    assert differ.any() and np.isnan(default[differ]).all()  # only NaN where vitaldb has values


@vitaldb_calls
def test_vitalfile_as_a_drop_in():
    """Code written against vitaldb runs unchanged on the compat module's VitalFile."""
    path = str(REAL_FILES[2])
    ref = upstream("VitalFile", path, ["ECG_II", "HR"])
    vf = compat.VitalFile(path, ["ECG_II", "HR"])
    assert vf.get_track_names() == ref.get_track_names()
    assert vf.find_track("HR").dtname == ref.find_track("HR").dtname
    assert_same_grid(
        ref.to_numpy(["ECG_II", "HR"], None, return_timestamp=True),
        vf.to_numpy(["ECG_II", "HR"], None, return_timestamp=True),
    )
    assert_same_grid(ref.get_track_samples("ECG_II", 0.01), vf.get_track_samples("ECG_II", 0.01))
    columns, names = ref.get_samples(["HR"], 1)
    ours, our_names = vf.get_samples(["HR"], 1)
    assert our_names == names
    assert_same_grid(columns[0], ours[0])
