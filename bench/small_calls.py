"""Per-call cases against vitaldb in the same process: the grids and reads where fixed
costs or odd shapes decide, each timed as the median of many single calls (a median is
not moved by the scheduler's preemptions on a shared machine, which a mean of a loop is).

    python bench/small_calls.py [--before SRC] [--calls N]

``--before SRC`` times another vitalproc source tree too (a ``src`` folder with its
compiled modules built in place), in its own child process, beside this one: before
and after figures of one run. Writes ``docs/benchmarks/small_calls.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

# (label, file name, call, interval): the cases of the "never slower" table.
CASES = (
    (
        "`to_numpy(all, 1)`, demo device (overlapping records)",
        "shape_demo_overlap.vital",
        "grid",
        1.0,
    ),
    ("`to_numpy(all, 1/100)`, demo device", "shape_demo_overlap.vital", "grid", 0.01),
    (
        "`to_numpy(all, 1)`, 52 string tracks over 4 h (object grid)",
        "shape_many_tracks.vital",
        "grid",
        1.0,
    ),
    ("`to_numpy(all, 1)`, 10 records and 11 tracks", "shape_tiny.vital", "grid", 1.0),
    (
        "`to_numpy(all, 1/100)`, the sample file (16 tracks, 625 records)",
        "sample.vital",
        "grid",
        0.01,
    ),
    ("`to_numpy(all, 1)`, the sample file", "sample.vital", "grid", 1.0),
    ("full read, demo device (72 records)", "shape_demo_overlap.vital", "read", None),
    ("full read, 10 records and 11 tracks", "shape_tiny.vital", "read", None),
    ("full read, the sample file", "sample.vital", "read", None),
)


def _median_call(fn, calls: int, budget_s: float = 20.0) -> float:
    fn()  # warm-up
    times = []
    stop = time.perf_counter() + budget_s
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t0)
        if time.perf_counter() > stop and len(times) >= 5:
            break
    times.sort()
    return times[len(times) // 2] / 1e9


def child(paths: dict[str, str], calls: int) -> None:
    """Time every case with vitaldb and the vitalproc on sys.path; print JSON."""
    import warnings

    warnings.simplefilter("ignore")
    sys.path.insert(0, str(BENCH))
    import cases

    import vitalproc

    vitaldb = cases.golden_vitaldb()
    out = []
    for label, name, call, interval in CASES:
        path = paths[name]
        if call == "read":
            ref = _median_call(lambda: vitaldb.VitalFile(path), calls)
            ours = _median_call(lambda: vitalproc.read(path), calls)
        else:
            a, b = vitaldb.VitalFile(path), vitalproc.read(path)
            names = a.get_track_names()
            ref = _median_call(lambda: a.to_numpy(names, interval), calls)
            ours = _median_call(lambda: b.to_numpy(names, interval), calls)
        out.append({"case": label, "vitaldb_s": ref, "vitalproc_s": ours})
    print(json.dumps(out))


def run(src: Path, paths: dict[str, str], calls: int) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(src))
    cmd = [sys.executable, __file__, "--child", json.dumps(paths), "--calls", str(calls)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, help="another vitalproc src folder to time")
    ap.add_argument("--calls", type=int, default=400, help="single calls per figure")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks")
    a = ap.parse_args()
    if a.child:
        child(json.loads(a.child), a.calls)
        return
    sys.path.insert(0, str(BENCH))
    import shapes
    from corpus import cache_dir

    made = {p.name: str(p) for p in shapes.make(cache_dir())}
    made["sample.vital"] = str(REPO / "src" / "vitalproc" / "data" / "sample.vital")
    after = run(REPO / "src", made, a.calls)
    before = run(a.before, made, a.calls) if a.before else None
    lines = [
        "# Per-call cases against vitaldb",
        "",
        "Median of single calls (each case up to "
        f"{a.calls} calls), vitaldb 1.7.2 (+ fix) and vitalproc in the same child"
        " process; the ratio is vitaldb's time over vitalproc's (above 1: faster)."
        " The machine is shared and noisy: ratios, not milliseconds, compare.",
        "",
    ]
    head = "| case | vitaldb ms | vitalproc ms | ratio |"
    rule = "|---|---:|---:|---:|"
    if before:
        head += " before: vitaldb ms | before: vitalproc ms | before: ratio |"
        rule += "---:|---:|---:|"
    lines += [head, rule]
    for i, r in enumerate(after):
        row = (
            f"| {r['case']} | {r['vitaldb_s'] * 1e3:.3f} | {r['vitalproc_s'] * 1e3:.3f}"
            f" | {r['vitaldb_s'] / r['vitalproc_s']:.2f} |"
        )
        if before:
            b = before[i]
            row += (
                f" {b['vitaldb_s'] * 1e3:.3f} | {b['vitalproc_s'] * 1e3:.3f} |"
                f" {b['vitaldb_s'] / b['vitalproc_s']:.2f} |"
            )
        lines.append(row)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "small_calls.md").write_text("\n".join(lines) + "\n")
    (a.out / "small_calls.json").write_text(
        json.dumps({"after": after, "before": before}, indent=1) + "\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
