"""Default reads lose no record: every file's records, counted by an independent walk of
its packets (``packet_count.py``), are all in ``vitalproc.read``'s tracks."""

from __future__ import annotations

import re
import warnings
from collections import Counter

import numpy as np
import pytest

import vitalproc
from conftest import REAL_FILES
from packet_count import count_records
from test_parity import REJECTED
from vitalproc.synth import shapes

from fixtures_catalog import FIXTURES


def held(vf: vitalproc.VitalFile) -> Counter:
    """Records per track name; a track kept apart for a declaration of another type or
    sampling rate (``Name#k``) counts under its name."""
    out: Counter = Counter()
    for name, trk in vf.trks.items():
        base = re.sub(r"#\d+$", "", name)
        out[base if base != name and base in vf.trks else name] += len(trk)
    return out


def check(gz: bytes) -> None:
    expected = count_records(gz)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        vf = vitalproc.read(gz)
    assert +held(vf) == +expected


@pytest.mark.parametrize("name", sorted(set(FIXTURES) - REJECTED))
def test_fixtures(name):
    check(FIXTURES[name]())


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_real_files(path):
    check(path.read_bytes())


# ---- recordings shaped as real ones ------------------------------------------------------


def _reconnecting_or(minutes: int = 10):
    """An operating-room recording whose ADC is recalibrated: ECG (500 Hz, I16) declared
    five times with other gains and offsets, PLETH (U16) twice, 34 numerics re-declared
    under new ids (every other one with a new format), a string track, an overlapping
    simulator wave (one long record, short ones inside it)."""
    from fixtures_catalog import T0, _builder
    from vitalbytes import F32, I16, NUM, STR, U8, U16, WAVE, gzip_bytes

    rng = np.random.default_rng(7)
    b = _builder().device(1, "SNUADC", "SNUADC").device(2, "SNUADCM", "SNUADCM")
    b.device(3, "Solar8000", "Solar8000").device(4, "Demo", "Demo")
    tid = iter(range(1, 10_000))
    ecg, pleth = next(tid), next(tid)
    b.track(ecg, WAVE, I16, "ECG", srate=500.0, gain=0.002, did=1)
    b.track(pleth, WAVE, U16, "PLETH", srate=100.0, gain=0.01, did=2)
    nums = {f"N{i}": next(tid) for i in range(34)}
    for name, t in nums.items():
        b.track(t, NUM, F32, name, did=3)
    note, demo = next(tid), next(tid)
    b.track(note, STR, 0, "NOTE", did=3).track(demo, WAVE, F32, "WAV", srate=100.0, did=4)
    b.wave(demo, T0, rng.normal(size=60 * 100).astype(np.float32).tolist())
    recal = {minutes * 60 * k // 5 for k in range(1, 5)}
    for s in range(minutes * 60):
        t = T0 + s
        if s in recal:  # the ADC recalibrated: a new declaration under a new id
            ecg = next(tid)
            b.track(
                ecg,
                WAVE,
                I16,
                "ECG",
                srate=500.0,
                gain=0.002 * (1 + s % 7),
                offset=float(s % 3),
                did=1,
            )
            if s == min(recal):
                pleth = next(tid)
                b.track(pleth, WAVE, U16, "PLETH", srate=100.0, gain=0.02, did=2)
            for i, name in enumerate(nums):
                nums[name] = next(tid)
                b.track(nums[name], NUM, U8 if i % 2 else F32, name, gain=0.5, did=3)
        b.wave(ecg, t, rng.integers(-2000, 2000, 500).tolist())
        b.wave(pleth, t, rng.integers(0, 4000, 100).tolist())
        if s % 10 == 0:
            for t_ in nums.values():
                b.number(t_, t, int(rng.integers(0, 200)))
            b.string(note, t, f"note {s}")
        if s < 60 and s % 7 == 0:
            b.wave(demo, t + 0.5, [1.0] * 15)  # inside the long record
    return gzip_bytes(b.bytes())


@pytest.fixture(scope="module")
def reconnecting_or():
    return _reconnecting_or()


def test_a_recording_recalibrated_mid_case(reconnecting_or):
    check(reconnecting_or)
    counts = count_records(reconnecting_or)
    assert counts["SNUADC/ECG"] == 600 and counts["SNUADCM/PLETH"] == 600
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        compat = vitalproc.read(reconnecting_or, compat="vitaldb")
    assert len(compat.trks["SNUADC/ECG"]) < 600  # vitaldb loses the earlier records
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        vf = vitalproc.read(reconnecting_or)
    ecg = vf.trks["SNUADC/ECG"]
    assert [(s.stop - s.start, s.fmt) for s in ecg.segments] == [(120, 5)] * 5
    # the last declaration's records, in physical units, as vitaldb reads them
    last = compat.trks["SNUADC/ECG"]
    np.testing.assert_allclose(
        ecg.data[-len(last.data) :], last.data * last.gain + last.offset, rtol=1e-12
    )


def test_its_packed_copy_and_a_cut_stream(reconnecting_or, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        vf = vitalproc.read(reconnecting_or)
    path = tmp_path / "packed.vital"
    vf.to_vital(str(path), packed=True)
    check(path.read_bytes())
    for cut in (len(reconnecting_or) // 3, len(reconnecting_or) - 100):
        check(reconnecting_or[:cut])


# ---- the generator's shapes ---------------------------------------------------------------


@pytest.mark.parametrize("name", shapes.names())
def test_generated_shapes(name):
    check(shapes.make(name, seed=5).data)


def test_the_generated_redeclared_shape_keeps_every_record_in_physical_units():
    data = shapes.make("redeclared", seed=5).data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        vf = vitalproc.read(data)
        compat = vitalproc.read(data, compat="vitaldb")
    ecg = vf.trks["SNUADC/ECG_II"]
    assert ecg.segments is not None and len(ecg) > len(compat.trks["SNUADC/ECG_II"])
    values = ecg.to_numpy(physical=True)
    # every declaration's samples are the same ECG in mV, whatever its gain and offset
    assert np.nanmin(values) > -1.5 and np.nanmax(values) < 2.5
    redeclared = {i.track for i in vf.warnings if i.code == "redeclared_track"}
    assert len(redeclared) == 34
