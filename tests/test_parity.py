"""vitalproc against vitaldb 1.7.2 (with the FMT 7/8 fix), field by field, bit for bit.

``compat="vitaldb"``: parity on every file. Default: parity on every file that triggers
none of the cases where vitaldb loses data; on those, vitaldb's result is contained in
ours and the difference is exactly the recovered records (``RECOVERED``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import vitalproc
from conftest import REAL_FILES, reference
from vitalproc._constants import FMT_DTYPE

from fixtures_catalog import FIXTURES, RECOVERY
from parity import differences, same_value

# Reading options that every parity file is read with, as vitaldb's keyword arguments.
OPTIONS = [
    {},
    {"track_names": ["HR", "ECG_II"]},
    {"track_names": "N,AFTER,ECG", "exclude": "BIG"},
    {"track_names": ["Solar8000/*", "SNUADC/ART"]},
    {"exclude": ["HR", "SNUADC/*"]},
    {"track_names": ["NoSuchTrack"]},
    {"header_only": True},
    {"maxlen": 2.5},
    {"track_names": ["HR"], "maxlen": 0.0},
]

#: Fixtures (beyond the catalog's RECOVERY set) where the default read differs from
#: vitaldb's because it keeps more.
RECOVERED_ALSO = {"length_lies_huge"}

#: Default-mode record counts where vitaldb loses data, checked by hand against the
#: fixture builders: (warning code, {track: records kept}), with no options.
RECOVERED = {
    "record_over_1mb": ("big_packet", {"N": 2, "BIG": 1, "AFTER": 1}),
    "header_27_flag_2": ("big_packet", {"N": 2, "BIG": 1, "AFTER": 1}),
    "zero_length_packet": ("malformed_packet", {"N": 2, "AFTER": 1}),
    "redeclared_same_meta": ("redeclared_track", {"Solar8000/HR": 6}),
    "duplicate_device_name": ("redeclared_track", {"Monitor/HR": 4}),
    "reset_events_then_redeclared": ("redeclared_track", {"EVENT": 3}),
    "redeclared_new_fmt": ("redeclared_track", {"SNUADC/ECG": 3, "SNUADC/HR": 3}),
    "redeclared_wave_compatible": ("redeclared_track", {"SNUADC/ECG": 3, "SNUADC/NOTE": 2}),
    "redeclared_gain": ("redeclared_track", {"SNUADC/ECG": 3, "SNUADC/PLETH": 2}),
    "redeclared_offset": ("redeclared_track", {"Primus/CO2": 3, "Primus/AWP": 2}),
    "redeclared_fmt": ("redeclared_track", {"SNUADC/ART": 2, "SNUADC/HR": 3}),
    "redeclared_five_times": ("redeclared_track", {"SNUADC/ECG": 15, "SNUADC/HR": 15}),
    "redeclared_interleaved": ("redeclared_track", {"SNUADC/ECG": 7}),
    "redeclared_new_rate_type": (
        "redeclared_track",
        {"BIS/EEG": 1, "BIS/EEG#1": 2, "BIS/SQI": 1, "BIS/SQI#1": 1},
    ),
    "trkinfo_partial_field": ("malformed_packet", {"HR": 2, "RR": 1}),
    "order_count_overflow": ("malformed_packet", {"A": 2, "B": 1}),
    "length_lies_huge": ("short_packet", {"N": 2}),
}

#: Faults vitalproc reports with a warning in both modes (vitaldb's data kept as is).
WARNED = {
    "gzip_cut_mid_packet": "truncated",
    "gzip_truncated_raw": "truncated",
    "gzip_no_trailer": "truncated",
    "gzip_bad_crc": "corrupt",
    "gzip_trailing_garbage": "trailing",
    "inflated_ends_mid_body": "short_packet",
    "inflated_ends_mid_header": "short_packet",
    "redeclared_new_fmt": "redeclared_track_dropped",
    "redeclared_gain": "redeclared_track_dropped",
    "record_over_1mb": "big_packet",
    "header_27_flag_2": "big_packet",
    "length_lies_huge": "big_packet",
    "zero_length_packet": "malformed_packet",
    "trkinfo_partial_field": "malformed_packet",
    "order_count_overflow": "malformed_packet",
}

#: vitaldb returns an empty recording here; vitalproc raises VitalFormatError.
REJECTED = {"bad_magic", "ends_after_version"}


def ours(source, compat, **vitaldb_kwargs):
    kw = dict(vitaldb_kwargs)
    tracks = kw.pop("track_names", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        return vitalproc.read(source, tracks=tracks, compat=compat, **kw)


#: Fixtures where vitaldb reads records of an old track id with the new declaration's
#: format or gain (vitalproc reads each with its own): only their times are compared.
MISREAD_BY_VITALDB = {"redeclared_new_fmt", "redeclared_interleaved"}


def is_subsequence(small, big, same=same_value) -> bool:
    it = iter(big)
    return all(
        any(same_value(s["dt"], b["dt"]) and same(s["val"], b["val"]) for b in it) for s in small
    )


def physical(trk):
    """``same`` for ``is_subsequence``: a vitaldb record of ``trk`` in physical units
    equals a value of a track held in physical units (declarations that differ)."""

    def scale(val):
        one = vitalproc.Track(trk.name, trk.type, fmt=trk.fmt, gain=trk.gain, offset=trk.offset)
        one.dt = np.zeros(np.size(val))
        one.data = np.atleast_1d(np.asarray(val, FMT_DTYPE[trk.fmt]))
        return one.to_numpy(physical=True)

    return lambda ref, ours: np.array_equal(scale(ref), np.atleast_1d(ours), equal_nan=True)


PARITY_FIXTURES = sorted(set(FIXTURES) - REJECTED)


@pytest.mark.parametrize("name", PARITY_FIXTURES)
@pytest.mark.parametrize("opt", range(len(OPTIONS)))
def test_compat_mode_is_vitaldb(name, opt):
    gz = FIXTURES[name]()
    ref = reference(gz, **OPTIONS[opt])
    assert differences(ref, ours(gz, "vitaldb", **OPTIONS[opt]), exact_times=True) == []


@pytest.mark.parametrize("name", sorted(set(PARITY_FIXTURES) - RECOVERY - RECOVERED_ALSO))
@pytest.mark.parametrize("opt", range(len(OPTIONS)))
def test_default_mode_is_vitaldb_without_data_loss(name, opt):
    gz = FIXTURES[name]()
    ref = reference(gz, **OPTIONS[opt])
    assert differences(ref, ours(gz, None, **OPTIONS[opt])) == []


@pytest.mark.parametrize("name", sorted((RECOVERY | RECOVERED_ALSO) & set(PARITY_FIXTURES)))
def test_default_mode_keeps_what_vitaldb_loses(name):
    gz = FIXTURES[name]()
    ref = reference(gz)
    vf = ours(gz, None)
    # Everything vitaldb returns is there, unchanged, in the same order.
    assert set(ref.devs) <= set(vf.devs)
    assert list(ref.trks) == [t for t in vf.trks if t in ref.trks]
    for tname, t in ref.trks.items():
        mine = vf.trks[tname]
        same = physical(t) if mine.segments is not None else same_value
        if name in MISREAD_BY_VITALDB:
            same = lambda a, b: True
        assert is_subsequence(list(t.recs), list(mine.recs), same), tname
    if name in RECOVERED:
        code, counts = RECOVERED[name]
        assert {k: len(t) for k, t in vf.trks.items()} == counts
        assert code in [w.code for w in vf.warnings]
        assert sum(map(len, vf.trks.values())) > sum(len(t.recs) for t in ref.trks.values())
    else:  # vitalproc reads the same as vitaldb here, and says what happened
        assert differences(ref, vf) == []


@pytest.mark.parametrize("name", sorted(WARNED))
def test_faults_are_reported(name):
    gz = FIXTURES[name]()
    for compat in (None, "vitaldb"):
        with pytest.warns(vitalproc.VitalWarning):
            vf = vitalproc.read(gz, compat=compat)
        codes = [w.code for w in vf.warnings]
        assert WARNED[name] in codes or (
            compat is None and name in RECOVERED and RECOVERED[name][0] in codes
        ), codes


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_files_raise(name):
    with pytest.raises(vitalproc.VitalFormatError) as err:
        vitalproc.read(FIXTURES[name]())
    assert "<bytes>" in str(err.value)


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("opt", range(len(OPTIONS)))
@pytest.mark.parametrize("compat", [None, "vitaldb"])
def test_real_files(path, opt, compat):
    ref = reference(path, **OPTIONS[opt])
    vf = ours(path, compat, **OPTIONS[opt])
    assert differences(ref, vf) == []
    assert vf.warnings == []


REAL_SELECTIONS = [
    {"track_names": ["Intellivue/ECG_II", "HR"]},
    {"track_names": ["Intellivue/*"], "exclude": ["ECG_II"]},
    {"track_names": "PLETH"},
]


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("opt", REAL_SELECTIONS, ids=str)
def test_real_files_selections(path, opt):
    assert differences(reference(path, **opt), ours(path, "vitaldb", **opt)) == []


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["icu_1h", "or_1h"])
@pytest.mark.parametrize("compat", [None, "vitaldb"])
def test_corpus(corpus, name, compat):
    path = corpus[name]
    ref = reference(path)
    vf = ours(path, compat)
    assert differences(ref, vf) == []
    assert vf.warnings == []


@pytest.mark.corpus
@pytest.mark.filterwarnings("ignore::ResourceWarning")  # vitaldb never closes its file
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_corpus_packed_by_vitaldb(corpus, vitaldb, tmp_path):
    """vitaldb's own packed writer, and the early stop on a track selection."""
    src = vitaldb.VitalFile(str(corpus["icu_1h"]))
    packed = tmp_path / "icu_1h_packed.vital"
    src.to_vital(str(packed), packed=True)
    for kw in (
        {},
        {"track_names": ["Bx50/HR", "Bx50/SPO2"]},
        {"track_names": ["Bx50/ECG1"]},
        {"header_only": True},
    ):
        assert differences(reference(packed, **kw), ours(packed, "vitaldb", **kw)) == [], kw
        assert differences(reference(packed, **kw), ours(packed, None, **kw)) == [], kw


def test_unpacked_reclen_skip_only_in_compat_mode():
    """vitaldb skips a declared block length past an unwanted record in any file; in an
    unpacked file with interleaved records that drops records of the wanted track."""
    gz = FIXTURES["unpacked_reclen_interleaved"]()
    ref = reference(gz, track_names=["A"])
    assert differences(ref, ours(gz, "vitaldb", track_names=["A"])) == []
    vf = ours(gz, None, track_names=["A"])
    assert len(ref.trks["A"].recs) == 2 and len(vf.trks["A"]) == 3
    assert is_subsequence(list(ref.trks["A"].recs), list(vf.trks["A"].recs))


def test_the_parity_check_compares_raw_packets_by_bits():
    """``differences`` is the oracle of this file: it must see a changed raw packet and
    must not see a NaN time as a difference (a dict ``!=`` would, NaN != NaN)."""
    import copy
    import math

    vf = vitalproc.read(FIXTURES["raw_packets"]())
    assert vf.packets
    same = copy.deepcopy(vf)
    assert differences(same, vf) == []
    changed = copy.deepcopy(vf)
    changed.packets[0] = {**changed.packets[0], "buf": changed.packets[0]["buf"] + b"x"}
    assert any("raw packets" in d for d in differences(changed, vf))
    for a in (vf, same):
        a.packets[0] = {**a.packets[0], "dt": math.nan}
    assert differences(same, vf) == []
