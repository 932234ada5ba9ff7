"""Reading a recording whose tracks are declared again: what keeping every record costs.

Builds two one-hour recordings that differ only in their track declarations: in one, the
ECG (500 Hz, int16), PLETH (100 Hz, uint16) and 30 numerics are declared again every 12
minutes with another gain and offset (an ADC recalibrated, a device reconnected: the
records must be joined in physical units); in the other, the same declarations repeat the
same settings (the records share one column, as with a single declaration). Times
``vitalproc.read`` on both and vitaldb 1.7.2 on the first, median of a few runs in this
process, and writes ``docs/benchmarks/redeclare.md`` (+ ``.json``).

    python bench/redeclare.py [--reps 5] [--minutes 60]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import struct
import time
import warnings
from pathlib import Path

import numpy as np

import vitalproc

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_700_000_000.0


def _pkt(ptype: int, body: bytes) -> bytes:
    return struct.pack("<BI", ptype, len(body)) + body


def _s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<I", len(raw)) + raw


def _track(tid, ttype, fmt, name, srate, gain, offset, did) -> bytes:
    return _pkt(
        0,
        struct.pack("<HBB", tid, ttype, fmt)
        + _s(name)
        + _s("")
        + struct.pack("<ffIfddBI", 0, 0, 0xFFFFFF, srate, gain, offset, 0, did),
    )


def _rec(tid: int, dt: float, payload: bytes) -> bytes:
    return _pkt(1, struct.pack("<HdH", 10, dt, tid) + payload)


def recording(minutes: int, recalibrated: bool) -> bytes:
    rng = np.random.default_rng(1)
    out = [
        b"VITA",
        struct.pack("<IH", 3, 26),
        struct.pack("<hII dd", -540, 0, 0, T0, T0 + 60 * minutes),
    ]
    out.append(_pkt(9, struct.pack("<I", 1) + _s("SNUADC") + _s("SNUADC")))
    out.append(_pkt(9, struct.pack("<I", 2) + _s("Solar8000") + _s("Solar8000")))
    ecg_wave = rng.integers(-2000, 2000, 500).astype("<i2").tobytes()
    pleth_wave = rng.integers(0, 4000, 100).astype("<u2").tobytes()
    tid = 0
    for s in range(60 * minutes):
        if s % 720 == 0:  # a declaration every 12 minutes
            k = s // 720 if recalibrated else 0
            tid += 100
            out.append(_track(tid, 1, 5, "ECG", 500.0, 0.002 * (1 + k), 0.0, 1))
            out.append(_track(tid + 1, 1, 6, "PLETH", 100.0, 0.01, -1.0 * k, 1))
            for i in range(30):
                out.append(_track(tid + 2 + i, 2, 5, f"N{i}", 0, 0.1 * (1 + k), 0.0, 2))
        out.append(_rec(tid, T0 + s, struct.pack("<I", 500) + ecg_wave))
        out.append(_rec(tid + 1, T0 + s, struct.pack("<I", 100) + pleth_wave))
        if s % 2 == 0:
            for i in range(30):
                out.append(_rec(tid + 2 + i, T0 + s, struct.pack("<h", s % 300)))
    return gzip.compress(b"".join(out), 6, mtime=0)


def median_ms(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--minutes", type=int, default=60)
    args = ap.parse_args()
    import vitaldb
    import vitaldb.utils

    vitaldb.utils.FMT_TYPE_LEN[7] = ("i", 4)
    vitaldb.utils.FMT_TYPE_LEN[8] = ("I", 4)
    tmp = ROOT / "bench" / ".corpus"
    tmp.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, recal in (("recalibrated", True), ("alike", False)):
        paths[name] = tmp / f"redeclare_{name}_{args.minutes}min.vital"
        paths[name].write_bytes(recording(args.minutes, recal))
    warnings.simplefilter("ignore", vitalproc.VitalWarning)
    fig = {
        "vitalproc_alike_ms": median_ms(lambda: vitalproc.read(paths["alike"]), args.reps),
        "vitalproc_recalibrated_ms": median_ms(
            lambda: vitalproc.read(paths["recalibrated"]), args.reps
        ),
        "vitaldb_recalibrated_ms": median_ms(
            lambda: vitaldb.VitalFile(str(paths["recalibrated"])), max(2, args.reps // 2)
        ),
    }
    vf = vitalproc.read(paths["recalibrated"])
    fig["records_kept"] = sum(len(t) for t in vf.trks.values())
    fig["records_vitaldb"] = sum(
        len(t.recs) for t in vitaldb.VitalFile(str(paths["recalibrated"])).trks.values()
    )
    join_cost = fig["vitalproc_recalibrated_ms"] / fig["vitalproc_alike_ms"]
    speedup = fig["vitaldb_recalibrated_ms"] / fig["vitalproc_recalibrated_ms"]
    targets = [
        (
            "full read of the recalibrated recording, vs vitaldb",
            ">= 2x faster",
            f"{speedup:.1f}x",
            speedup >= 2,
        ),
        (
            "joining declarations, vs the same file declared alike",
            "<= 1.5x the time",
            f"{join_cost:.2f}x",
            join_cost <= 1.5,
        ),
        (
            "records kept",
            "every record",
            f"{fig['records_kept']:,} (vitaldb {fig['records_vitaldb']:,})",
            True,
        ),
    ]
    lines = [
        "# Reading tracks declared again",
        "",
        f"{args.minutes}-minute recording: ECG 500 Hz int16, PLETH 100 Hz uint16 and "
        "30 numerics, declared 5 times (every 12 minutes); median of "
        f"{args.reps} reads (`python bench/redeclare.py`).",
        "",
        "| read | ms |",
        "|---|---:|",
        f"| vitalproc, declarations alike | {fig['vitalproc_alike_ms']:.0f} |",
        f"| vitalproc, gains and offsets changed | {fig['vitalproc_recalibrated_ms']:.0f} |",
        f"| vitaldb 1.7.2, gains and offsets changed | {fig['vitaldb_recalibrated_ms']:.0f} |",
        "",
        "| target | limit | measured | status |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {t} | {lim} | {got} | {'met' if ok else 'not met'} |" for t, lim, got, ok in targets
    ]
    out = ROOT / "docs" / "benchmarks" / "redeclare"
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(
        json.dumps(
            {
                **fig,
                "targets": [dict(zip(("target", "limit", "measured", "met"), t)) for t in targets],
            },
            indent=1,
        )
        + "\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
