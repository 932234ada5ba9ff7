"""The CSV export's numbers and rows against Arrow's CSV writer, an independent formatter.

The compiled kernel (``writers/_text.pyx``: ``format_double``, ``format_float``,
``csv_rows``) writes the CSV export's text itself; Arrow's CSV writer is the reference
it must match byte for byte. Here both format the same values (the hard ones: powers of
two, numbers on a digit boundary, random bit patterns) and the same recordings, and the
writer's output is compared with a CSV built by Arrow alone.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

import vitalproc
from conftest import REAL_FILES, read_source
from vitalproc.ops import selection as _base
from vitalproc.writers import _raw, _text
from vitalproc.writers import csv as csv_writer

pa = pytest.importorskip("pyarrow")
pcsv = pytest.importorskip("pyarrow.csv")


def arrow_text(values: np.ndarray) -> list[str]:
    return pa.array(values).cast(pa.string()).to_pylist()


def hard_doubles(rng: np.random.Generator) -> np.ndarray:
    times = 1.7e9 + rng.random(20000) * 1e8
    steps = times[:200, None] + np.arange(500)[None, :] / 300.0  # per-sample times
    powers = np.ldexp(1.0, np.arange(-12, 34))
    bits = rng.integers(0, 2**63, 20000, dtype=np.uint64).view(np.float64)
    decimal = np.round(rng.random(5000) * 1e6, 3)  # short decimals
    special = np.array([0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1e-3, 1e10, 9999999999.999998])
    tens = 10.0 ** np.arange(-4, 11)
    return np.concatenate(
        [times, steps.ravel(), powers, -powers, bits, -bits, decimal, special, tens]
    )


def hard_floats(rng: np.random.Generator) -> np.ndarray:
    bits = rng.integers(0, 2**32, 200000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    measured = (rng.random(50000) * 300).astype(np.float32)  # HR, SpO2, pressures...
    tenths = (np.arange(-20000, 20000) / 10).astype(np.float32)
    powers = np.ldexp(np.float32(1), np.arange(-20, 30)).astype(np.float32)
    special = np.array([0, -0.0, np.nan, np.inf, -np.inf, 1e-5, 16777215, 16777216], np.float32)
    return np.concatenate([bits, measured, tenths, powers, -powers, special])


def test_float64_text_is_arrows():
    values = hard_doubles(np.random.default_rng(1))
    ours = [_text.format_double(float(v)) for v in values]
    want = arrow_text(values)
    handled = [i for i, s in enumerate(ours) if s is not None]
    assert [ours[i] for i in handled] == [want[i] for i in handled]
    times = slice(0, 20000 + 200 * 500)
    assert None not in ours[times]  # every time of a recording is the kernel's
    assert _text.format_double(0.0) == "0" and _text.format_double(-np.inf) == "-inf"


def test_float32_text_is_arrows():
    values = hard_floats(np.random.default_rng(2))
    ours = [_text.format_float(float(v)) for v in values]
    want = arrow_text(values)
    handled = [i for i, s in enumerate(ours) if s is not None]
    assert [ours[i] for i in handled] == [want[i] for i in handled]
    small = (np.abs(values) >= 1e-5) & (np.abs(values) < 2**24) | ~np.isfinite(values)
    left = sum(1 for i in np.flatnonzero(small) if ours[i] is None)
    assert left < 0.001 * small.sum()  # ties on a boundary only
    assert _text.format_float(60.1) == "60.1" and _text.format_float(-0.0) == "-0"


def arrow_csv(vf, wave_cells: bool = False, physical: bool = False) -> bytes:
    """The CSV export built by Arrow alone: per-sample times by numpy, every number by
    Arrow's writer, string records by Python's csv module (as the writer does)."""
    import csv

    import orjson

    out = [b"track,dt,value\n"]
    for part in _base.plan(vf, _base.Selection(physical=physical)).parts:
        n = len(part)
        if not n:
            continue
        name = csv_writer.field(part.name).decode()
        if part.kind == "string":
            text = io.StringIO(newline="")
            times = arrow_text(np.asarray(part.dt))
            csv.writer(text, lineterminator="\n").writerows(
                (part.name, t, v) for t, v in zip(times, part.texts(0, n))
            )
            out.append(text.getvalue().encode())
            continue
        if part.kind == "numeric":
            times, values = np.asarray(part.dt), pa.array(part.values(0, n))
        elif wave_cells:
            times = np.asarray(part.dt)
            samples, offsets = part.samples(0, n)
            option = orjson.OPT_SERIALIZE_NUMPY
            values = pa.array(
                [orjson.dumps(samples[a:b], option=option).decode() for a, b in pairs(offsets)]
            )
        else:
            samples, offsets = part.samples(0, n)
            record = np.repeat(np.arange(n), np.diff(offsets))
            times = part.dt[record]
            if part.track.srate > 0:
                times = times + (np.arange(len(samples)) - offsets[record]) / part.track.srate
            values = pa.array(samples)
        table = pa.table({"track": pa.array([name] * len(times)), "dt": times, "value": values})
        sink = pa.BufferOutputStream()
        quoting = "needed" if wave_cells and part.kind == "wave" else "none"
        pcsv.write_csv(table, sink, pcsv.WriteOptions(include_header=False, quoting_style=quoting))
        text = sink.getvalue().to_pybytes()
        if quoting == "needed":  # the name column came out quoted too
            text = text.replace(f'"{name}",'.encode(), f"{name},".encode())
        out.append(text)
    return b"".join(out)


def pairs(offsets: np.ndarray) -> list[tuple[int, int]]:
    bounds = offsets.tolist()
    return list(zip(bounds, bounds[1:]))


def export(vf, plan=None, **options) -> bytes:
    out = io.BytesIO()
    if plan is None:
        vitalproc.export(vf, out, "csv", **options)
    else:
        csv_writer.write_plan(plan, out, **options)
    return out.getvalue()


SOURCES = [p.name for p in REAL_FILES] + ["wave_all_fmts", "numeric_all_fmts", "nan_inf_dt"]


@pytest.mark.parametrize("source", SOURCES)
def test_csv_export_is_arrows(source):
    vf = read_source(source)
    assert export(vf) == arrow_csv(vf)
    assert export(vf, wave_cells=True) == arrow_csv(vf, wave_cells=True)
    assert export(vf, selection=_base.Selection(physical=True)) == arrow_csv(vf, physical=True)
    raw = _raw.raw_plan(read_source(source))
    if raw is not None:  # from the reader's own buffers: the same bytes
        assert export(vf, raw) == arrow_csv(vf)


def test_synthetic_recording_csv_is_arrows():
    made = vitalproc.synth(profile="icu", hours=0.05, seed=3, string_tracks=2)
    vf = vitalproc.read(made.data)
    assert export(vf) == arrow_csv(vf)


def test_numbers_left_to_arrow_give_the_same_bytes():
    """A batch holding a time or value the kernel leaves to Arrow goes through Arrow."""
    vf = read_source(REAL_FILES[0].name)
    for trk in vf.trks.values():
        trk.dt = trk.dt * 1e-15  # times under 10^-3: not the kernel's
    assert _text.format_double(float(next(iter(vf.trks.values())).dt[0])) is None
    assert export(vf) == arrow_csv(vf)
