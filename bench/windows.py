"""Speed and memory of the window builder (``vitalproc.windows``), against its targets.

    python bench/windows.py [--reps 3] [--no-24h]

Measures, on the generated ``or_4h`` recording (and ``or_24h`` for memory):

1. ``hypotension_art`` from the ``.vital`` file (``build``, one process) against the plain
   loop over ``vitaldb.VitalFile(path).to_numpy(["SNUADC/ART"], 1/100)`` (the tests'
   oracle) and against a full ``vitalproc.read`` of the file;
2. the same from a converted dataset of that file;
3. windows per second with two workers against one, over 20 cases;
4. the peak RSS of one worker (a child process running ``build``) on the 24-hour file.

Ratios are taken within this run, each time the median of ``--reps`` repetitions.
Writes ``docs/benchmarks/windows.md`` and ``windows.json`` beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO / "src"), str(BENCH), str(REPO / "tests" / "windows")]

import corpus
from cases import golden_vitaldb

RECIPE = "hypotension_art"


def row(**fields) -> dict:
    """One line of the results table."""
    return fields


def timed(call, reps: int, warmup: bool = True) -> float:
    """The median wall time of ``reps`` calls (after one warm-up call)."""
    if warmup:
        call()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def fresh(scratch: Path, name: str) -> Path:
    out = scratch / name
    shutil.rmtree(out, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-24h", action="store_true", help="skip the 24-hour memory case")
    args = ap.parse_args()

    from oracle import hypotension_art_oracle

    import vitalproc

    files = {f.name: f for f in corpus.corpus_files(big=not args.no_24h)}
    or4 = files["or_4h.vital"]
    if not or4.path.exists():  # made once, by the shared generator
        corpus.ensure(or4)
    path = str(or4.path)
    scratch = Path(tempfile.mkdtemp(prefix="vitalproc-windows-bench-"))
    rows: list[dict] = []
    try:

        def build(sources, name, **kw):
            return vitalproc.windows.build(
                RECIPE, sources, fresh(scratch, name), progress=False, **kw
            )

        full = timed(lambda: vitalproc.read(path), args.reps)
        ours = timed(lambda: build([path], "vital", jobs=1), args.reps)
        vitaldb = golden_vitaldb()
        oracle = timed(
            lambda: hypotension_art_oracle(vitaldb, path), max(1, args.reps - 1), warmup=False
        )  # seconds each: its warm-up is not worth it
        windows = vitalproc.windows.open(scratch / "vital")
        n_windows = len(windows)
        rows += [
            row(
                target="oracle loop on vitaldb / hypotension_art from the .vital file",
                measured=oracle / ours,
                goal=">= 8",
                met=oracle / ours >= 8,
                detail=f"{oracle:.2f} s / {ours:.3f} s, {n_windows} windows",
            ),
            row(
                target="hypotension_art from the .vital file / full read of the file",
                measured=ours / full,
                goal="<= 1.5",
                met=ours / full <= 1.5,
                detail=f"{ours:.3f} s / {full:.3f} s",
            ),
        ]

        ds = corpus.cache_dir() / "or_4h_dataset"
        if not (ds / "_manifest.parquet").exists():
            vitalproc.convert([path], ds, jobs=1, progress=False)
        from_ds = timed(lambda: build([str(ds)], "dataset", jobs=1), args.reps)
        rows.append(
            row(
                target="oracle loop on vitaldb / hypotension_art from a converted dataset",
                measured=oracle / from_ds,
                goal=">= 50",
                met=oracle / from_ds >= 50,
                detail=f"{oracle:.2f} s / {from_ds:.3f} s",
            )
        )

        many = scratch / "twenty"
        many.mkdir()
        for i in range(20):
            os.symlink(path, many / f"case{i:02d}.vital")
        t = time.perf_counter()
        one = build([str(many)], "one", jobs=1)
        t1 = time.perf_counter() - t
        t = time.perf_counter()
        two = build([str(many)], "two", jobs=2)
        t2 = time.perf_counter() - t
        assert one.windows == two.windows
        rate1, rate2 = one.windows / t1, two.windows / t2
        rows.append(
            row(
                target="windows/s with two workers / one worker, 20 cases",
                measured=rate2 / rate1,
                goal=">= 1.8",
                met=rate2 / rate1 >= 1.8,
                detail=f"{rate2:.0f} / {rate1:.0f} windows/s "
                f"({two.windows} windows; {t2:.1f} s / {t1:.1f} s)",
            )
        )

        if not args.no_24h:
            or24 = files["or_24h.vital"]
            if not or24.path.exists():
                corpus.ensure(or24)
            # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child of this
            # (by now large) process would report this process's peak.
            code = (
                "import sys, vitalproc\n"
                "r = vitalproc.windows.build(sys.argv[1], [sys.argv[2]], sys.argv[3], "
                "jobs=1, progress=False)\n"
                "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')]\n"
                "print(r.windows, hwm[0].split()[1])\n"
            )
            env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
            t = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", code, RECIPE, str(or24.path), str(fresh(scratch, "day"))],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            )
            wall = time.perf_counter() - t
            n, rss_kb = map(int, done.stdout.split())
            mb = rss_kb * 1024 / 1e6
            rows.append(
                row(
                    target="peak RSS of one worker, 24-hour recording (MB)",
                    measured=mb,
                    goal="< 400",
                    met=mb < 400,
                    detail=f"{n} windows in {wall:.1f} s (process wall time, "
                    "interpreter start included)",
                )
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    write(rows, args.reps)


def write(rows: list[dict], reps: int) -> None:
    out = REPO / "docs" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    intro = (
        "Measured by `python bench/windows.py` on the generated `or_4h` (4 hours, "
        "SNUADC/ART at 500 Hz among 9 waves and 60 numerics) and `or_24h` recordings; "
        f"each time the median of {reps} repetitions after a warm-up, ratios within one "
        "run. The recipe is `hypotension_art`; `or_4h` has no hypotensive episode, which "
        "changes nothing in the work done. The oracle is the plain loop over vitaldb's "
        "`to_numpy` that the tests compare against bit for bit."
    )
    lines = [
        "# Window builder: speed and memory",
        "",
        intro,
        "",
        "| target | measured | goal | met | detail |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['target']} | {r['measured']:.2f} | {r['goal']} | "
            f"{'met' if r['met'] else '**not met**'} | {r['detail']} |"
        )
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines += [
        "",
        (
            f"Run at {when} on {os.cpu_count()} cores (shared with other work: "
            "absolute times vary, the ratios less)."
        ),
        "",
    ]
    (out / "windows.md").write_text("\n".join(lines))
    (out / "windows.json").write_text(json.dumps(rows, indent=1, default=bool) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
