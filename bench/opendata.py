"""Benchmark of the open-dataset client against vitaldb 1.7.2, over a local HTTP server.

Targets:
- 50 cases of about 5 MB, served with 50 ms latency per request: ``fetch`` with 8 jobs at
  least 5x faster than vitaldb's ``load_case`` loop over the same cases;
- a second fetch, served from the cache: at least 50x faster than vitaldb's loop;
- ``--tracks`` with three numeric tracks of a packed case: at most 15 % of its bytes sent.

Writes ``docs/benchmarks/opendata.md`` and ``.json``. Only 127.0.0.1 is contacted.

    PYTHONPATH=src python bench/opendata.py [--cases 50] [--reps 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the test server and its case generator

import vitalproc.opendata as od
from opendata_server import DatasetServer, make_case, tables_for, track_names_of
from vitalproc.opendata import settings

NUMERICS = ["Solar8000/HR", "Solar8000/ART_MBP", "BIS/BIS"]


def golden_vitaldb():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import vitaldb
        import vitaldb.utils
    vitaldb.utils.FMT_TYPE_LEN[7] = ("i", 4)
    vitaldb.utils.FMT_TYPE_LEN[8] = ("I", 4)
    return vitaldb


def one_case(target_mb: float) -> bytes:
    """A packed case of about ``target_mb`` MB: 500 Hz waves, noisy enough not to shrink."""
    seconds = 1200
    data = make_case(1, seconds=seconds, wave_rate=500, noise=2.0)
    seconds = int(seconds * target_mb * 1e6 / len(data))
    return make_case(1, seconds=seconds, wave_rate=500, noise=2.0)


def _serve(cases: dict, tables: dict, latency: float, queue) -> None:
    """The server in its own process: its CPU is not the client's (nor its GIL)."""
    srv = DatasetServer(cases, tables, latency=latency)
    srv._thread.start()
    queue.put(srv.url)
    srv._stop.wait()


class ServerProcess:
    def __init__(self, cases: dict, tables: dict, latency: float):
        queue = multiprocessing.get_context("fork").Queue()
        self.proc = multiprocessing.get_context("fork").Process(
            target=_serve, args=(cases, tables, latency, queue), daemon=True
        )
        self.proc.start()
        self.url = queue.get(timeout=60)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.join()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=50)
    ap.add_argument("--mb", type=float, default=5.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks"))
    args = ap.parse_args()

    t0 = time.perf_counter()
    data = one_case(args.mb)
    names = track_names_of(data)
    cases = dict.fromkeys(range(1, args.cases + 1), data)  # one generated case, copied
    print(
        f"case: {len(data) / 1e6:.2f} MB, {len(names)} tracks, made in "
        f"{time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    work = Path(tempfile.mkdtemp(prefix="vitalproc-opendata-bench-"))
    results: dict = {
        "case_mb": len(data) / 1e6,
        "cases": args.cases,
        "jobs": 8,
        "latency_s": args.latency,
        "reps": args.reps,
    }
    vitaldb = golden_vitaldb()
    try:
        with ServerProcess(cases, tables_for({1: data}), args.latency) as srv:
            settings.api_url = srv.url
            vitaldb.dataset.api_url = srv.url
            ids = list(cases)

            def vitaldb_loop():
                with contextlib.redirect_stdout(io.StringIO()):
                    for c in ids:
                        vitaldb.load_case(c, names, 1)

            vit = [timed(vitaldb_loop) for _ in range(max(1, args.reps - 1))]
            print(f"vitaldb load_case loop: {vit}", file=sys.stderr)

            cold, warm = [], []
            for rep in range(args.reps):
                cache = work / f"cache{rep}"
                settings.cache_dir = str(cache)
                out = work / f"out{rep}"
                report = None

                def run():
                    nonlocal report
                    report = od.fetch(ids, output=out, jobs=8, progress=False)

                cold.append(timed(run))
                assert not report.failed, report.summary()
                for _ in range(3):
                    warm.append(timed(run))
                    assert {r.status for r in report.results} == {"cached"}
                shutil.rmtree(cache)
                shutil.rmtree(out)
            # the arrays as well: fetch, then load_case of every case from the cache
            settings.cache_dir = str(work / "cache-arrays")

            def fetch_and_load():
                od.fetch(ids, jobs=8, progress=False)
                for c in ids:
                    od.load_case(c, names, 1)

            arrays = timed(fetch_and_load)
            arrays_warm = timed(lambda: [od.load_case(c, names, 1) for c in ids])

            # selective fetch of three numerics of one packed case
            # (ranged requests: the server sends exactly the bytes the client receives)
            settings.cache_dir = str(work / "cache-tracks")
            sent = od.fetch([1], NUMERICS, work / "tracks", jobs=1, progress=False).nbytes
    finally:
        shutil.rmtree(work, ignore_errors=True)

    v, c, w = statistics.median(vit), statistics.median(cold), statistics.median(warm)
    frac = sent / len(data)
    results.update(
        {
            "vitaldb_loop_s": vit,
            "fetch_cold_s": cold,
            "fetch_cached_s": warm,
            "fetch_and_load_cases_s": arrays,
            "load_cases_from_cache_s": arrays_warm,
            "tracks_bytes_sent": sent,
            "file_bytes": len(data),
            "targets": {
                "cold_speedup": {"value": v / c, "limit": 5, "met": v / c >= 5},
                "cached_speedup": {"value": v / w, "limit": 50, "met": v / w >= 50},
                "tracks_fraction": {"value": frac, "limit": 0.15, "met": frac <= 0.15},
            },
        }
    )
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "opendata.json"), "w") as f:
        json.dump(results, f, indent=2)
    met = lambda ok: "met" if ok else "**not met**"
    t = results["targets"]
    md = f"""# Open dataset client

`bench/opendata.py`: {args.cases} cases of {len(data) / 1e6:.1f} MB (one generated packed
case served under {args.cases} ids) from a local HTTP server (its own process) on
127.0.0.1 adding
{args.latency * 1000:.0f} ms of latency to every request; medians of {len(vit)} run(s) of
vitaldb's loop, {len(cold)} cold and {len(warm)} cached runs of ours.

| run | seconds |
|---|---|
| vitaldb 1.7.2: `for c in cases: load_case(c, every track, 1)` | {v:.2f} |
| `fetch(cases, output=DIR, jobs=8)`, empty cache | {c:.2f} |
| the same `fetch` again, from the cache | {w:.3f} |
| `fetch` then `load_case(c, every track, 1)` of each case (arrays as vitaldb's loop) | {arrays:.2f} |
| `load_case` of each case, from the cache | {arrays_warm:.2f} |

| target | measured | limit | status |
|---|---|---|---|
| fetch with 8 jobs vs vitaldb's loop | {v / c:.1f}x | >= 5x | {met(t["cold_speedup"]["met"])} |
| second fetch (cache) vs vitaldb's loop | {v / w:.0f}x | >= 50x | {met(t["cached_speedup"]["met"])} |
| `--tracks` of three numerics: bytes sent / file size | {frac * 100:.1f} % ({sent:,} of {len(data):,} bytes) | <= 15 % | {met(t["tracks_fraction"]["met"])} |

The cached run checks each case's verification stamp (size and mtime) and hard-links the
file into the output folder: no byte is read or sent.
"""
    with open(os.path.join(args.out, "opendata.md"), "w") as f:
        f.write(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
