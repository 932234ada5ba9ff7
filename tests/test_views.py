"""Time-grid views against vitaldb 1.7.2: to_numpy/to_pandas/get_samples bit for bit.

Every comparison checks dtype, shape, NaN positions and every value's bits (object
arrays: each element's type, floats by their bits, datetimes with their UTC offset).
Where vitaldb fails by accident, the documented result is checked instead, against a
record-by-record oracle of vitaldb's own placement rule.
"""

from __future__ import annotations

import datetime
import doctest
import functools
import math
import warnings

import numpy as np
import pytest

import vitalproc
from conftest import REAL_FILES, reference
from vitalproc.ops import views

from fixtures_catalog import FIXTURES, T0
from vitalbytes import F32, I16, NUM, STR, U8, WAVE, VitalBuilder, gzip_bytes

INTERVALS = [None, 1 / 500, 1 / 300, 1 / 128, 1 / 100, 1 / 62.5, 0.01, 0.1, 1, 2, 7.3, 60]
TIME_OPTIONS = [{}, {"return_timestamp": True}, {"return_datetime": True}]

vitaldb_calls = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)

_type_of = np.frompyfunc(type, 1, 1)
_utcoffset = np.frompyfunc(lambda d: d.utcoffset(), 1, 1)


def assert_same_grid(ref: np.ndarray, ours: np.ndarray) -> None:
    """Same dtype, shape, NaN positions and values, bit for bit."""
    assert (ours.dtype, ours.shape) == (ref.dtype, ref.shape)
    if ref.dtype != object:
        assert np.array_equal(ref, ours, equal_nan=True)
        assert ref.tobytes() == ours.tobytes()
        return
    types = _type_of(ref)
    assert np.array_equal(types, _type_of(ours))
    floats = np.equal(types, float)
    assert ref[floats].astype(np.float64).tobytes() == ours[floats].astype(np.float64).tobytes()
    assert np.all(ref[~floats] == ours[~floats])  # str, datetime
    stamps = np.equal(types, datetime.datetime)
    assert np.array_equal(_utcoffset(ref[stamps]), _utcoffset(ours[stamps]))


def quietly(fn, *args, **kwargs):
    """A vitaldb call (its casts may warn about overflow)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@functools.cache
def vitaldb_file(source, **kwargs):
    return reference(FIXTURES[source]() if source in FIXTURES else source, **kwargs)


def ours(source, compat="vitaldb", **kwargs) -> vitalproc.VitalFile:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vitalproc.VitalWarning)
        return vitalproc.read(
            FIXTURES[source]() if source in FIXTURES else source, compat=compat, **kwargs
        )


def both_grids(ref, vf, names, interval, **options):
    """vitaldb's to_numpy and ours. vitaldb gets its list of keys for None (it raises
    TypeError) and 1 s for an interval of None on a file without rates (it divides by
    zero): what vitalproc's None means in both places."""
    ref_names = list(ref.trks) if names is None else names
    ref_interval = interval
    if interval is None and not any(t.srate > 0 for t in ref.trks.values()):
        ref_interval = 1
    return quietly(ref.to_numpy, ref_names, ref_interval, **options), vf.to_numpy(
        names, interval, **options
    )


def oracle_wave(vf, trk, interval, nan_gaps=False):
    """vitaldb's wave column by its own algorithm, record by record and sample by sample,
    with its slices made safe: every sample goes where the rule puts it, if in the buffer."""
    span = vf.dtend - vf.dtstart
    nret = int(np.ceil(span / interval))
    nsamp = int(np.ceil(span * trk.srate))
    buf = np.full(nsamp, np.nan, np.float32)
    bounds = trk.offsets.tolist()
    for dt, a, b in zip(trk.dt, bounds, bounds[1:], strict=False):
        vals = trk.data[a:b]
        if not math.isfinite(dt):
            continue
        sidx = int(np.ceil((dt - vf.dtstart) * trk.srate))
        for k, v in enumerate(vals):
            if 0 <= sidx + k < nsamp:
                gap = nan_gaps and v == vitalproc._constants.FMT_GAP_SENTINEL[trk.fmt]
                buf[sidx + k] = np.nan if gap else v
    if trk.fmt > 2:
        buf *= trk.gain
        buf += trk.offset
    if trk.srate != int(1 / interval + 0.5):
        buf = np.take(buf, np.linspace(0, nsamp - 1, nret).astype(np.int64))
    buf[np.isinf(buf) | (buf > 4e9)] = np.nan
    return buf


# ---- the real recordings --------------------------------------------------------------


@vitaldb_calls
@pytest.mark.parametrize("options", TIME_OPTIONS, ids=["plain", "timestamp", "datetime"])
@pytest.mark.parametrize("interval", INTERVALS, ids=str)
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.stem)
def test_real_files_all_tracks(path, interval, options):
    ref, vf = vitaldb_file(str(path)), ours(str(path), compat=None)
    assert_same_grid(*both_grids(ref, vf, None, interval, **options))


SELECTIONS = {
    "suffixes": ["HR", "ECG_II", "PLETH"],  # HR is NIBP_HR: the first suffix match
    "device_glob": ["Intellivue/*"],  # not expanded: a NaN column
    "missing": ["Nope", "Intellivue/HR"],
    "duplicates": ["HR", "Intellivue/HR", "HR", "Intellivue/HR"],
    "comma_string": "PLETH,HR,EVENT",
    "leading_comma": ",HR",  # one name, not split
    "numerics": "numerics",
    "waves": "waves",
}


@vitaldb_calls
@pytest.mark.parametrize("interval", [None, 1 / 62.5, 1, 7.3], ids=str)
@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.stem)
def test_real_files_selections(path, selection, interval):
    ref, vf = vitaldb_file(str(path)), ours(str(path), compat=None)
    names = SELECTIONS[selection]
    if names in ("numerics", "waves"):
        wanted = 2 if names == "numerics" else 1
        names = [k for k, t in vf.trks.items() if t.type == wanted]
    options = TIME_OPTIONS[list(SELECTIONS).index(selection) % 3]
    ref_grid, our_grid = both_grids(ref, vf, names, interval, **options)
    assert_same_grid(ref_grid, our_grid)
    if selection in ("numerics", "waves") and not options:
        assert our_grid.dtype == np.float32


@vitaldb_calls
def test_find_track_takes_the_first_suffix_match():
    path = str(REAL_FILES[0])
    ref, vf = vitaldb_file(path), ours(path, compat=None)
    assert vf.find_track("HR") is vf.trks["Intellivue/NIBP_HR"]
    assert ref.find_track("HR").dtname == "Intellivue/NIBP_HR"
    assert vf.find_track("Intellivue/HR") is vf.trks["Intellivue/HR"]
    assert vf.find_track("Nope") is None and ref.find_track("Nope") is None


# ---- the fixture catalog ---------------------------------------------------------------

CATALOG = [
    "wave_all_fmts",
    "numeric_all_fmts",
    "string_values",
    "typical",
    "header_10",
    "header_27_packed",
    "vitaldb_packed_many",
    "vitaldb_repacked_all_fmts",
    "vitaldb_repacked_typical",
    "wave_nsamp_mismatch",
    "packed_record_over_1mb",
    "same_track_two_devices",
    "track_no_device",
    "infolen_variants",
    "redeclared_new_fmt",
    "record_over_1mb",
    "utf8_names",
]


@vitaldb_calls
@pytest.mark.parametrize("interval", INTERVALS, ids=str)
@pytest.mark.parametrize("name", CATALOG)
def test_catalog_in_compat_mode(name, interval):
    ref, vf = vitaldb_file(name), ours(name)
    options = TIME_OPTIONS[INTERVALS.index(interval) % 3]
    assert_same_grid(*both_grids(ref, vf, None, interval, **options))


@vitaldb_calls
@pytest.mark.parametrize("interval", [None, 1 / 500, 0.1, 7.3], ids=str)
@pytest.mark.parametrize(
    "name",
    [
        "wave_all_fmts",
        "typical",
        "header_10",
        "infolen_variants",
        "wave_nsamp_mismatch",
        "packed_record_over_1mb",
        "vitaldb_packed_many",
    ],
)
def test_catalog_default_mode(name, interval):
    """Files that are neither packed with gaps nor recovered read the same by default."""
    ref, vf = vitaldb_file(name), ours(name, compat=None)
    assert_same_grid(*both_grids(ref, vf, None, interval, return_timestamp=True))


@vitaldb_calls
@pytest.mark.parametrize("selection", [["N"], ["W"], None, ["W", "N"]], ids=str)
def test_ten_byte_header_origin_follows_the_selection(selection):
    """With a 10-byte header dtstart comes from the loaded records: the grid's origin
    depends on which tracks were read, in vitaldb and here alike."""
    ref = vitaldb_file("header_10", track_names=selection and tuple(selection))
    vf = ours("header_10", tracks=selection)
    assert vf.dtstart == ref.dtstart
    starts = {vitaldb_file("header_10", track_names=s).dtstart for s in (("N",), ("W",))}
    assert len(starts) == 2
    # ['N'] alone spans 1970 (its dt=0 record) to T0: a grid of at most 10^5 rows.
    for interval in (None, 0.1, 1, (vf.dtend - vf.dtstart) / 1e5):
        if (vf.dtend - vf.dtstart) / views.resolve_interval(vf, interval) <= 1e5:
            assert_same_grid(*both_grids(ref, vf, None, interval, return_timestamp=True))


@vitaldb_calls
@pytest.mark.parametrize("name", ["numeric_all_fmts", "string_values", "same_track_two_devices"])
def test_interval_none_without_rates_is_one_second(name):
    ref, vf = vitaldb_file(name), ours(name)
    with pytest.raises(ZeroDivisionError):
        quietly(ref.to_numpy, list(ref.trks), None)
    assert_same_grid(quietly(ref.to_numpy, list(ref.trks), 1), vf.to_numpy(None, None))


@vitaldb_calls
def test_track_names_none_is_every_track():
    ref, vf = vitaldb_file("typical"), ours("typical")
    with pytest.raises(TypeError):
        quietly(ref.to_numpy, None, 0.1)
    assert_same_grid(quietly(ref.to_numpy, list(ref.trks), 0.1), vf.to_numpy(None, 0.1))
    assert_same_grid(quietly(ref.to_numpy, list(ref.trks), 0.1), vf.to_numpy(interval=0.1))


@vitaldb_calls
def test_stray_timestamps_on_a_daily_grid():
    """Records in 1970 and 2099: vitaldb's wave buffer would hold 4e11 samples (it runs
    out of memory); the numeric matches it, the wave matches the oracle."""
    ref, vf = vitaldb_file("stray_timestamps"), ours("stray_timestamps")
    for interval in (86400, 1e6):
        assert_same_grid(*both_grids(ref, vf, ["N"], interval))
        grid = vf.to_numpy(["W", "N"], interval)
        assert grid.shape == (math.ceil((vf.dtend - vf.dtstart) / interval), 2)
        nsamp = int(np.ceil((vf.dtend - vf.dtstart) * 100))
        picked = np.linspace(0, nsamp - 1, len(grid)).astype(np.int64)  # vitaldb's take
        start = int(np.ceil((T0 + 59 - vf.dtstart) * 100))
        held = (picked >= start) & (picked < start + 100)
        assert np.array_equal(~np.isnan(grid[:, 0]), held)
        assert np.all(grid[held, 0] == 0.0)


# ---- the packed writer's gap filler --------------------------------------------------


@vitaldb_calls
@pytest.mark.parametrize("interval", [None, 1 / 62.5, 0.1], ids=str)
@pytest.mark.parametrize(
    "name", ["vitaldb_repacked_all_fmts", "vitaldb_repacked_typical", "vitaldb_packed_many"]
)
def test_gap_sentinel_is_nan_by_default(name, interval):
    ref = vitaldb_file(name)
    assert ref.packed
    expected = quietly(ref.to_numpy, list(ref.trks), interval).copy()
    assert_same_grid(expected, ours(name).to_numpy(None, interval))  # compat: as vitaldb
    gaps = 0
    for j, trk in enumerate(ref.trks.values()):
        sentinel = vitalproc._constants.FMT_GAP_SENTINEL[trk.fmt]
        if trk.type != 1 or trk.fmt < 3:
            continue
        filler = np.float32(sentinel) * np.float32(trk.gain) + np.float32(trk.offset)
        column = expected[:, j].astype(np.float32)
        hit = column == filler
        gaps += hit.sum()
        expected[hit, j] = np.nan
    default = ours(name, compat=None).to_numpy(None, interval)
    assert_same_grid(expected, default)
    if name == "vitaldb_repacked_all_fmts":  # the others have no gap in an integer wave
        assert gaps > 0


# ---- wave placement ---------------------------------------------------------------------


def wave_file(records, srate=100.0, fmt=F32, gain=1.0, offset=0.0, packed=False, span=10):
    """A 26-byte header over T0 .. T0+span, wave W (fmt, srate) with ``records``
    [(seconds after T0, values)], and a numeric N with one value at each record."""
    b = VitalBuilder().header(dgmt=-540, dtstart=T0, dtend=T0 + span, packed=packed)
    b.track(1, WAVE, fmt, "W", srate=srate, gain=gain, offset=offset)
    b.track(2, NUM, F32, "N")
    for i, (t, values) in enumerate(records):
        b.wave(1, T0 + t, values)
        b.number(2, T0 + t, float(i))
    return gzip_bytes(b.bytes())


PLACEMENTS = {
    "overlap_later_wins": [(0, [1.0] * 150), (1, [2.0] * 150), (2.5, [3.0] * 40)],
    "out_of_order": [(5, [5.0] * 100), (1, [1.0] * 100), (1.5, [9.0] * 20), (3, [3.0] * 100)],
    "inside_an_earlier_record": [(0, [1.0] * 500), (1, [2.0] * 10), (4.99, [3.0] * 3)],
    "same_start": [(2, [1.0] * 100), (2, [2.0] * 50), (2, [])],
    "rounding_overlaps": [(i * 0.1 + 1e-9 * (i % 3 - 1), [float(i)] * 10) for i in range(60)],
    "gaps": [(0, [1.0] * 50), (3, [2.0] * 50), (9.9, [3.0] * 50)],
}


@vitaldb_calls
@pytest.mark.parametrize("interval", [None, 1 / 500, 0.01, 1 / 62.5, 0.3, 2], ids=str)
@pytest.mark.parametrize("case", PLACEMENTS)
def test_wave_placement(case, interval):
    gz = wave_file(PLACEMENTS[case])
    ref, vf = reference(gz), ours(gz)
    ref_grid, our_grid = both_grids(ref, vf, ["W", "N"], interval)
    assert_same_grid(ref_grid, our_grid)
    resolved = views.resolve_interval(vf, interval)
    assert_same_grid(oracle_wave(vf, vf.trks["W"], resolved), our_grid[:, 0])


@vitaldb_calls
@pytest.mark.parametrize(
    "window", [(0.5, 8), (1.004, 9.996), (-1, 4.5), (3, 20), (9.5, 9.9)], ids=str
)
def test_records_before_and_after_the_span(window):
    """dtstart/dtend moved inside the records (as after a crop): records cut at either end.
    vitaldb raises on some of these (a record wholly before dtstart gives a negative slice
    end); the oracle, vitaldb's rule made safe, holds everywhere."""
    gz = wave_file([(0, [1.0] * 100), (1, [2.0] * 100), (4, [3.0] * 300), (9.8, [4.0] * 100)])
    ref, vf = reference(gz), ours(gz)
    for f in (ref, vf):
        f.dtstart, f.dtend = T0 + window[0], T0 + window[1]
    for interval in (1 / 100, 0.05, 1):
        grid = vf.to_numpy(["W"], interval)
        assert_same_grid(oracle_wave(vf, vf.trks["W"], interval), grid[:, 0])
        try:
            ref_grid = quietly(ref.to_numpy, ["W"], interval)
        except ValueError as exc:
            assert "broadcast" in str(exc)
            continue
        assert_same_grid(ref_grid, grid)


@vitaldb_calls
@pytest.mark.parametrize("seed", range(6))
def test_wave_placement_random(seed):
    """Random records (any order, overlapping, around the span) of random rates and
    formats, packed or not: vitaldb where it does not raise, the oracle always."""
    rng = np.random.default_rng(seed)
    for _ in range(8):
        srate = float(rng.choice([1, 10, 62.5, 100, 128, 500]))
        fmt = int(rng.choice([F32, I16, U8]))
        records = []
        for i in range(int(rng.integers(0, 10))):
            t = (
                float(rng.uniform(-1, 11))
                if rng.random() < 0.5
                else i + float(rng.choice([0, 1e-7, -1e-7, 0.3]))
            )
            n = int(rng.integers(0, int(srate * 1.5) + 2))
            values = (
                rng.normal(0, 1, n).tolist() if fmt == F32 else rng.integers(0, 250, n).tolist()
            )
            if n and fmt != F32 and rng.random() < 0.3:
                values[0] = 255 if fmt == U8 else -32768  # the packed writer's gap filler
            records.append((t, values))
        packed = bool(rng.integers(2))
        gz = wave_file(
            records,
            srate,
            fmt,
            gain=float(rng.choice([1, 0.5])),
            offset=float(rng.choice([0, -3])),
            packed=packed,
        )
        ref, vf, default = reference(gz), ours(gz), ours(gz, compat=None)
        for interval in (None, 1 / srate, 1 / 500, 0.01, 0.3, 2):
            grid = vf.to_numpy(["W", "N"], interval)
            resolved = views.resolve_interval(vf, interval)
            column = oracle_wave(vf, vf.trks["W"], resolved)
            if len(column) == len(grid):
                assert_same_grid(column, grid[:, 0])
            assert_same_grid(
                oracle_wave(vf, vf.trks["W"], resolved, nan_gaps=packed),
                default.get_track_samples("W", interval),
            )
            try:
                ref_grid = quietly(ref.to_numpy, ["W", "N"], interval)
            except ValueError:
                continue  # a ragged grid or a record before dtstart: tested above
            assert_same_grid(ref_grid, grid)


@vitaldb_calls
def test_ragged_columns_are_aligned_onto_the_grid():
    """A 1 Hz wave on a 2 s grid: vitaldb keeps its buffer (srate == int(1/2 + 0.5)), so
    alone it has twice the rows, and beside a numeric np.transpose fails. Alone: vitaldb's
    result; beside others: resampled onto the grid like any other rate."""
    gz = wave_file([(0, [1.0, 2.0, 3.0]), (3, [4.0, 5.0, 6.0, 7.0])], srate=1.0)
    ref, vf = reference(gz), ours(gz)
    assert_same_grid(*both_grids(ref, vf, ["W"], 2))
    assert vf.to_numpy(["W"], 2).shape == (10, 1)
    with pytest.raises(ValueError):
        quietly(ref.to_numpy, ["W", "N"], 2)
    grid = vf.to_numpy(["W", "N"], 2, return_timestamp=True)
    buffer = quietly(ref.get_track_samples, "W", 1)
    assert grid.shape == (5, 3)
    assert_same_grid(
        np.take(buffer, np.linspace(0, 9, 5).astype(np.int64)).astype(np.float64), grid[:, 1]
    )
    assert_same_grid(quietly(ref.get_track_samples, "N", 2).astype(np.float64), grid[:, 2])
    columns, names = vf.get_samples(["W", "N"], 2)  # as vitaldb: the columns as they come
    ref_columns, ref_names = quietly(ref.get_samples, ["W", "N"], 2)
    assert names == ref_names and [len(c) for c in columns] == [10, 5]
    for a, b in zip(ref_columns, columns, strict=True):
        assert_same_grid(a, b)


# ---- where vitaldb fails by accident, and bad input --------------------------------------


@vitaldb_calls
def test_tracks_of_other_types_are_nan_columns():
    ref, vf = vitaldb_file("invalid_fmt_and_type"), ours("invalid_fmt_and_type")
    odd = [k for k, t in vf.trks.items() if t.type not in (1, 2, 5)]
    assert odd and quietly(ref.get_track_samples, odd[0], 1) is None
    grid = vf.to_numpy(odd, 1)
    assert grid.dtype == np.float64 and np.isnan(grid).all()
    assert grid.shape == (math.ceil(vf.dtend - vf.dtstart), len(odd))


@vitaldb_calls
def test_waves_without_a_rate_are_nan_columns():
    ref, vf = vitaldb_file("trkinfo_short"), ours("trkinfo_short")
    rateless = [k for k, t in vf.trks.items() if t.type == 1 and not t.srate]
    assert rateless
    with pytest.raises(IndexError):
        quietly(ref.to_numpy, rateless, 1)
    grid = vf.to_numpy(rateless, 1)
    assert grid.dtype == np.float32 and grid.shape == (60, len(rateless))
    assert np.isnan(grid).all()
    # Past 2 s vitaldb keeps the empty buffer (int(1/7.3 + 0.5) == 0 == srate): no rows.
    assert_same_grid(quietly(ref.to_numpy, rateless[:1], 7.3), vf.to_numpy(rateless[:1], 7.3))


@vitaldb_calls
def test_nan_span_gives_no_rows():
    ref, vf = vitaldb_file("nan_inf_dt"), ours("nan_inf_dt")
    assert math.isnan(vf.dtstart)
    with pytest.raises(ValueError):
        quietly(ref.to_numpy, list(ref.trks), 1)
    grid = vf.to_numpy(None, 1, return_timestamp=True)
    assert grid.shape == (0, len(vf.trks) + 1) and grid.dtype == np.float64
    grid = vf.to_numpy(None, 1, return_datetime=True)
    assert grid.shape == (0, len(vf.trks) + 1) and grid.dtype == object
    assert vf.to_polars_grid(None, 1, return_datetime=True).shape == (0, len(vf.trks) + 1)


@vitaldb_calls
@pytest.mark.parametrize("options", TIME_OPTIONS, ids=["plain", "timestamp", "datetime"])
def test_empty_span_and_empty_names(options):
    ref, vf = vitaldb_file("typical"), ours("typical")
    for names in ([], ""):
        assert_same_grid(
            quietly(ref.to_numpy, names, 1, **options), vf.to_numpy(names, 1, **options)
        )
    ref, vf = reference(FIXTURES["typical"]()), ours("typical")
    for f in (ref, vf):
        f.dtend = f.dtstart
    for names in (["HR"], ["HR", "EVENT", "Nope"]):
        assert_same_grid(
            quietly(ref.to_numpy, names, 1, **options), vf.to_numpy(names, 1, **options)
        )


@pytest.mark.parametrize("interval", [0, -1, -0.0, math.nan, math.inf, -math.inf])
def test_bad_interval_raises_value_error(interval):
    vf = ours("typical")
    for call in (vf.to_numpy, vf.to_pandas, vf.get_samples, vf.to_polars_grid):
        with pytest.raises(ValueError, match="interval"):
            call(None, interval)
    with pytest.raises(ValueError, match="interval"):
        vf.get_track_samples("HR", interval)


def test_interval_of_the_wrong_type_raises_type_error():
    with pytest.raises(TypeError, match="interval"):
        ours("typical").to_numpy(None, "1s")


# ---- the other shapes of the grid -------------------------------------------------------


@vitaldb_calls
@pytest.mark.parametrize("interval", [None, 0.01, 1], ids=str)
def test_get_samples_and_get_track_samples(interval):
    ref, vf = vitaldb_file("typical"), ours("typical")
    names = ["HR", "ECG_II", "Nope", "EVENT", "HR", "SNUADC/ART"]
    for options in TIME_OPTIONS:
        ref_columns, ref_names = quietly(ref.get_samples, names, interval or 1 / 500, **options)
        columns, our_names = vf.get_samples(names, interval, **options)
        assert our_names == ref_names
        for a, b in zip(ref_columns, columns, strict=True):
            assert_same_grid(np.asarray(a), b)
    for name in names:
        assert_same_grid(
            quietly(ref.get_track_samples, name, interval or 1 / 500),
            vf.get_track_samples(name, interval),
        )


@vitaldb_calls
@pytest.mark.parametrize("options", TIME_OPTIONS, ids=["plain", "timestamp", "datetime"])
@pytest.mark.parametrize("selection", ["numerics", "all", "missing"])
def test_to_pandas(selection, options):
    import pandas as pd

    path = str(REAL_FILES[1])
    ref, vf = vitaldb_file(path), ours(path, compat=None)
    names = {
        "numerics": [k for k, t in vf.trks.items() if t.type == 2],
        "all": list(vf.trks),
        "missing": ["HR", "Nope"],
    }[selection]
    expected = quietly(ref.to_pandas, names, 1, **options)
    frame = vf.to_pandas(names, 1, **options)
    assert list(frame.dtypes) == list(expected.dtypes)
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert_same_grid(expected.to_numpy(), frame.to_numpy())


@vitaldb_calls
def test_to_pandas_without_names():
    import pandas as pd

    ref, vf = vitaldb_file("typical"), ours("typical")
    with pytest.raises(ValueError):  # vitaldb: no columns for a (0, 1) array
        quietly(ref.to_pandas, [], 1)
    assert vf.to_pandas([], 1).shape == (0, 0)
    pd.testing.assert_frame_equal(
        vf.to_pandas([], 1, return_timestamp=True),
        quietly(ref.to_pandas, [], 1, return_timestamp=True),
    )


@vitaldb_calls
@pytest.mark.parametrize("interval", [None, 1, 7.3], ids=str)
def test_to_polars_grid(interval):
    import polars as pl

    path = str(REAL_FILES[1])
    ref, vf = vitaldb_file(path), ours(path, compat=None)
    names = ["HR", "ECG_II", "Nope", "EVENT", "Intellivue/PLETH"]
    frame = vf.to_polars_grid(names, interval, return_datetime=True)
    expected = quietly(ref.to_numpy, names, interval or 1 / 500, return_datetime=True)
    assert frame.columns == ["Time", *names]
    assert frame.schema["Time"] == pl.Datetime("us", "Etc/GMT-2")  # dgmt -120: UTC+2
    assert frame["Time"].to_list() == list(expected[:, 0])
    for j, name in enumerate(names, start=1):
        column = frame[name]
        if name == "EVENT":
            assert column.dtype == pl.String
            texts = [None if isinstance(v, float) else v for v in expected[:, j]]
            assert column.to_list() == texts
            continue
        assert column.dtype == (pl.Float64 if name == "Nope" else pl.Float32)
        values = column.to_numpy()
        assert_same_grid(expected[:, j].astype(values.dtype), values)
    timestamps = vf.to_polars_grid(names, interval, return_timestamp=True)["Time"].to_numpy()
    assert_same_grid(
        vf.to_numpy(names, interval, return_timestamp=True)[:, 0].astype(np.float64), timestamps
    )


def test_polars_datetimes_in_utc_when_the_offset_is_not_whole_hours():
    import polars as pl

    vf = ours("typical")
    vf.dgmt = -330  # UTC+5:30
    frame = vf.to_polars_grid(["HR"], 1, return_datetime=True)
    assert frame.schema["Time"] == pl.Datetime("us", "UTC")
    expected = vf.to_numpy(["HR"], 1, return_datetime=True)[:, 0]
    assert frame["Time"].to_list() == list(expected)


# ---- the benchmark recordings -------------------------------------------------------------


@pytest.fixture(scope="module")
def icu(corpus):
    path = str(corpus["icu_1h"])
    return reference(path), ours(path, compat=None)


@pytest.mark.corpus
@vitaldb_calls
@pytest.mark.parametrize("interval", INTERVALS, ids=str)
def test_icu_1h_waves_and_numerics(icu, interval):
    ref, vf = icu
    names = [k for k, t in vf.trks.items() if t.type in (1, 2)]
    assert_same_grid(*both_grids(ref, vf, names, interval))


@pytest.mark.corpus
@vitaldb_calls
@pytest.mark.parametrize("options", TIME_OPTIONS, ids=["plain", "timestamp", "datetime"])
@pytest.mark.parametrize("interval", [0.1, 2, 60], ids=str)
def test_icu_1h_all_tracks(icu, interval, options):
    ref, vf = icu
    assert_same_grid(*both_grids(ref, vf, None, interval, **options))


@pytest.mark.corpus
@vitaldb_calls
def test_or_1h(corpus):
    path = str(corpus["or_1h"])
    ref, vf = reference(path), ours(path, compat=None)
    assert_same_grid(*both_grids(ref, vf, None, 1, return_datetime=True))
    selection = [k for k, t in vf.trks.items() if t.type in (1, 2)][::3]
    assert_same_grid(*both_grids(ref, vf, selection, 0.1))


# ---- dtypes, as vitaldb gives them --------------------------------------------------------


def test_column_dtypes():
    vf = vitalproc.read(wave_file([(0, [1.0] * 10)]))
    assert vf.get_track_samples("W", 1).dtype == np.float32
    assert vf.get_track_samples("N", 1).dtype == np.float32
    assert vf.get_track_samples("Nope", 1).dtype == np.float64
    assert vf.to_numpy(["W", "N"], 1).dtype == np.float32
    assert vf.to_numpy(["W", "Nope"], 1).dtype == np.float64
    assert vf.to_numpy(["W"], 1, return_timestamp=True).dtype == np.float64
    assert vf.to_numpy(["W"], 1, return_datetime=True).dtype == object
    b = VitalBuilder().header(dgmt=-540, dtstart=T0, dtend=T0 + 2)
    b.track(1, STR, F32, "EVENT").string(1, T0 + 1, "start")
    vf = vitalproc.read(gzip_bytes(b.bytes()))
    column = vf.get_track_samples("EVENT", 1)
    assert column.dtype == object and column[1] == "start" and math.isnan(column[0])


def test_docstring_examples_run():
    from vitalproc import compat

    for module in (views, compat):
        result = doctest.testmod(module)
        assert result.attempted and not result.failed
