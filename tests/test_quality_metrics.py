"""Quality metrics: the compiled pass against a plain numpy reference, injected faults
found where they were put, edge cases with their documented values, the limits table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quality_reference import reference
from quality_signals import (
    FAULTS,
    SECONDS,
    SRATE,
    T0,
    faulty_recording,
    numeric_track,
    pulse,
    wave_track,
)
from vitalproc import Track
from vitalproc.quality import (
    QualityInputError,
    Thresholds,
    find_events,
    load_limits,
    track_metrics,
)
from vitalproc.quality.limits import parse_limits

LIMITS = load_limits()
WINDOWS = {"w": (T0 + 50, T0 + 475.5), "outside": (T0 - 100, T0 - 50)}


def assert_matches(got, ref):
    for key, want in ref.items():
        have = got[key]
        if want is None or isinstance(want, bool):
            assert have == want, key
        elif isinstance(want, float) and math.isnan(want):
            assert have is not None and math.isnan(have), (key, have)
        else:
            assert have == pytest.approx(want, rel=1e-9, abs=1e-9), key


@pytest.mark.parametrize("inverted", [False, True])
def test_every_metric_equals_the_reference(inverted):
    vf = faulty_recording(inverted)
    for name, trk in vf.trks.items():
        got = track_metrics(trk, LIMITS, Thresholds(), WINDOWS)
        assert_matches(got, reference(trk, LIMITS.kind_of(name), Thresholds(), WINDOWS))


def _shuffled_wave(seed):
    """Records out of order, overlapping, duplicated, with NaN samples and NaN times."""
    rng = np.random.default_rng(seed)
    n = 300
    per = rng.integers(1, 40, n)
    starts = np.cumsum(per / SRATE + rng.choice([0, 0, 0, 0.05, 3.0, -0.1], n))
    values = np.round(rng.normal(80, 30, int(per.sum())) / 4) * 4  # repeats happen
    values[rng.random(len(values)) < 0.01] = np.nan
    values[100:180] = values[100]  # a flat stretch
    offsets = np.concatenate([[0], np.cumsum(per)]).astype(np.int64)
    dt = T0 + starts
    dt[rng.integers(0, n, 3)] = np.nan
    perm = rng.permutation(n)
    perm[:250] = np.sort(perm[:250])  # mostly in order
    data = np.concatenate([values[offsets[i] : offsets[i + 1]] for i in perm])
    offs = np.concatenate([[0], np.cumsum(per[perm])]).astype(np.int64)
    dt = dt[perm]
    dt[5] = dt[4]  # a duplicate time
    return Track("ART", 1, dname="X", fmt=2, srate=SRATE, dt=dt, data=data, offsets=offs)


@pytest.mark.parametrize("seed", range(4))
def test_reference_on_disordered_records(seed):
    trk = _shuffled_wave(seed)
    for th in (Thresholds(), Thresholds(gap_s=0.5, clip_s=0.01, flat_s=0.2)):
        got = track_metrics(trk, LIMITS, th, WINDOWS)
        assert_matches(got, reference(trk, LIMITS.kind_of("ART"), th, WINDOWS))
    assert got["out_of_order"] > 0 and got["duplicates"] > 0 and got["bad_times"] == 3


def test_reference_on_an_integer_pleth_with_gap_sentinels():
    t = np.arange(int(120 * SRATE)) / SRATE
    trk = wave_track("PLETH", "D", 120, 50 * pulse(t), fmt=5, gain=0.5, offset=10.0)
    trk.data[1000:1050] = -32768  # what a packed file puts in a gap
    got = track_metrics(trk, LIMITS, Thresholds(), WINDOWS)
    assert_matches(got, reference(trk, LIMITS.kind_of("PLETH"), Thresholds(), WINDOWS))
    assert got["samples"] == len(trk.data) - 50 and got["inverted"] is False


def _near(a, b, tol=1.5 / SRATE):
    return abs(a - b) <= tol


def test_injected_faults_are_found_where_they_were_put():
    vf = faulty_recording()
    art = find_events(vf.trks["SNUADC/ART"], LIMITS)
    by_kind = {}
    for e in art:
        by_kind.setdefault(e.kind, []).append((e.start - T0, e.end - T0))
    (flat,) = by_kind["flatline"]
    a, b = FAULTS[("flatline", "SNUADC/ART")]
    assert _near(flat[0], a) and _near(flat[1], b)
    spikes = by_kind["spike"]
    assert [round(s, 2) for s, _ in spikes] == [s for s, _ in FAULTS[("spike", "SNUADC/ART")]]
    assert by_kind["gap"] == [FAULTS[("gap", "SNUADC/ART")]]
    a, b = FAULTS[("clipping", "SNUADC/ART")]
    clips = by_kind["clipping"]
    assert len(clips) > 20 and all(a <= s and e <= b for s, e in clips)
    hr = find_events(vf.trks["Solar8000/HR"], LIMITS)
    assert [(e.kind, e.start - T0, e.end - T0) for e in hr] == [
        ("gap", *FAULTS[("gap", "Solar8000/HR")])
    ]
    row = track_metrics(vf.trks["SNUADC/ART"], LIMITS)
    assert row["spikes"] == 2 and row["gaps"] == 1 and row["max_gap_s"] == 30.0
    assert row["flatline"] == pytest.approx(2001 / row["samples"])
    assert row["coverage"] == pytest.approx(1 - 30 / SECONDS)
    assert track_metrics(vf.trks["SNUADC/PLETH"], LIMITS)["inverted"] is False
    upside_down = faulty_recording(inverted_pleth=True).trks["SNUADC/PLETH"]
    assert track_metrics(upside_down, LIMITS)["inverted"] is True
    clean = track_metrics(vf.trks["SNUADC/ECG_II"], LIMITS)
    assert clean["flatline"] == 0 and clean["spikes"] == 0 and clean["gaps"] == 0


def test_numeric_cadence_and_window_coverage():
    times = np.arange(0, 100, 2.0)
    trk = numeric_track("HR", "D", times, np.full(len(times), 70.0))
    row = track_metrics(trk, LIMITS, windows={"a": (T0 + 50, T0 + 150), "b": (T0, T0 + 10)})
    assert row["cadence_s"] == 2.0 and row["coverage"] == 1.0 and row["span_s"] == 100.0
    assert row["coverage_a"] == 0.5 and row["coverage_b"] == 1.0
    assert row["flatline"] == 1.0 and row["clipping"] == 0.0  # constant: flat, not clipped


def _empty(kind):
    if kind == "wave":
        return Track(
            "ART",
            1,
            fmt=1,
            srate=100.0,
            dt=np.empty(0),
            data=np.empty(0, "<f4"),
            offsets=np.zeros(1, np.int64),
        )
    return Track("HR", 2, fmt=1, dt=np.empty(0), data=np.empty(0, "<f4"))


@pytest.mark.parametrize("kind", ["wave", "numeric"])
def test_edge_cases_have_their_documented_values(kind):
    windows = {"w": (T0, T0 + 10)}
    empty = track_metrics(_empty(kind), LIMITS, windows=windows)
    assert empty["records"] == 0 and empty["samples"] == 0
    assert empty["coverage"] == 0.0 and empty["coverage_w"] == 0.0
    assert empty["longest_run_s"] == 0.0 and empty["max_gap_s"] == 0.0 and empty["gaps"] == 0
    for key in ("in_range", "flatline", "clipping", "start", "end", "min", "max"):
        assert math.isnan(empty[key]), key
    assert empty["spikes"] == 0 and empty["inverted"] is None
    if kind == "wave":
        one = Track(
            "ART",
            1,
            fmt=1,
            srate=100.0,
            dt=np.array([T0]),
            data=np.full(50, 80, "<f4"),
            offsets=np.array([0, 50]),
        )
        nan = Track(
            "ART",
            1,
            fmt=1,
            srate=100.0,
            dt=np.array([T0, T0 + 1]),
            data=np.full(200, np.nan, "<f4"),
            offsets=np.array([0, 100, 200]),
        )
    else:
        one = Track("HR", 2, fmt=1, dt=np.array([T0]), data=np.array([80], "<f4"))
        nan = Track(
            "HR", 2, fmt=1, dt=np.array([T0, T0 + 2]), data=np.array([np.nan, np.nan], "<f4")
        )
    single = track_metrics(one, LIMITS, windows=windows)
    assert single["records"] == 1 and single["in_range"] == 1.0 and single["gaps"] == 0
    if kind == "wave":
        assert single["coverage"] == 1.0 and single["span_s"] == 0.5
        assert single["coverage_w"] == pytest.approx(0.05)
    else:  # one record: no cadence, no span
        assert math.isnan(single["cadence_s"]) and single["span_s"] == 0.0
        assert single["coverage"] == 0.0 and single["coverage_w"] == 0.0
    blank = track_metrics(nan, LIMITS, windows=windows)
    assert blank["samples"] == 0 and blank["coverage"] == 0.0 and blank["coverage_w"] == 0.0
    assert math.isnan(blank["in_range"]) and math.isnan(blank["flatline"])
    assert blank["records"] == 2 and blank["span_s"] > 0
    for trk in (_empty(kind), one, nan):
        assert_matches(
            track_metrics(trk, LIMITS, windows=windows),
            reference(trk, LIMITS.kind_of(trk.name), Thresholds(), windows),
        )


def test_limits_table_is_packaged_and_matches_kinds():
    assert LIMITS.kind_of("SNUADC/ART").kind == "arterial_pressure"
    assert LIMITS.kind_of("Solar8000/ART1_SBP").kind == "arterial_pressure"
    assert LIMITS.kind_of("Intellivue/PLETH_HR").kind == "heart_rate"
    assert LIMITS.kind_of("Intellivue/PLETH_SAT_O2").kind == "spo2"
    assert LIMITS.kind_of("SNUADC/PLETH").kind == "plethysmogram"
    assert LIMITS.kind_of("BIS/BIS").kind == "bis"
    assert LIMITS.kind_of("Solar8000/NUM07") is None
    for row in LIMITS:
        assert row.min <= row.max


def test_a_limits_table_with_min_above_max_names_its_line(tmp_path):
    text = (
        "# my limits\nkind,tracks,unit,min,max,flat_s,spike\n"
        "arterial_pressure,ART,mmHg,20,300,2,40\n"
        "heart_rate,HR,/min,250,20,,\n"
    )
    with pytest.raises(QualityInputError, match=r"mine.csv, line 4: .*min 250 above max 20"):
        parse_limits(text, "mine.csv")
    path = tmp_path / "own.csv"
    path.write_text("kind,tracks,unit,min,max,flat_s,spike\nheart_rate,HR,/min,30,200,10,\n")
    own = load_limits(path)
    assert own.kind_of("HR").min == 30 and own.rows[0].where.endswith("line 2")
    assert own.kind_of("ART").kind == "arterial_pressure"  # the packaged rows stay
    with pytest.raises(QualityInputError, match="line 2: min 'x' is not a number"):
        parse_limits("kind,tracks,unit,min,max,flat_s,spike\nk,A,,x,1,,\n", "t")
    with pytest.raises(QualityInputError, match="missing column"):
        parse_limits("kind,tracks,min,max\n", "t")
