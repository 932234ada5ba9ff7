"""The measured cases, and the child process that times one of them.

Each case function does its imports and set-up, then returns the call to time, so that
interpreter start, imports and (for the inflate floor) reading the file stay outside
the figure. The parent runs every measurement in a fresh interpreter:

    python bench/cases.py CASE FILE [--tracks A,B,C] [--reps N] [--warmup N]

which prints one JSON line: the times, their median and the peak RSS of the child,
which is the peak of this one measurement because nothing else ran there.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Setup = Callable[[str, list[str]], Callable[[], Any]]

# name -> set-up function. Registration order is the order of every run: the inflate
# floor first, then each vitaldb case followed by its vitalproc counterpart.
CASES: dict[str, Setup] = {}
# A repetition of a very short call (the real files read in about a millisecond) repeats
# the call until it lasts this long, so clock resolution and jitter do not dominate.
MIN_REP_SECONDS = 0.05
CHILD_TIMEOUT = 1800


def case(setup: Setup) -> Setup:
    """Register a case under its function name."""
    CASES[setup.__name__] = setup
    return setup


def golden_vitaldb() -> Any:
    """vitaldb 1.7.2 with the golden-standard fix (design.md section 3) applied."""
    import vitaldb
    import vitaldb.utils

    # Upstream maps fmt 7/8 to 'l'/'L', 8 bytes on 64-bit Linux: silent partial reads.
    vitaldb.utils.FMT_TYPE_LEN[7] = ("i", 4)
    vitaldb.utils.FMT_TYPE_LEN[8] = ("I", 4)
    return vitaldb


# ---- inflate floor: the whole gzip stream in one call, its bytes already in memory


@case
def inflate_libdeflate(path: str, tracks: list[str]) -> Callable[[], Any]:
    import deflate

    data = Path(path).read_bytes()
    return lambda: deflate.gzip_decompress(data)


@case
def inflate_isal(path: str, tracks: list[str]) -> Callable[[], Any]:
    from isal import isal_zlib

    data = Path(path).read_bytes()
    return lambda: isal_zlib.decompress(data, wbits=31)


@case
def inflate_zlib(path: str, tracks: list[str]) -> Callable[[], Any]:
    import zlib

    data = Path(path).read_bytes()
    return lambda: zlib.decompress(data, wbits=31)


# ---- readers: each reads the file itself (the page cache is warm after the warm-up)


@case
def vitaldb_full(path: str, tracks: list[str]) -> Callable[[], Any]:
    vitaldb = golden_vitaldb()
    return lambda: vitaldb.VitalFile(path)


@case
def vitalproc_full(path: str, tracks: list[str]) -> Callable[[], Any]:
    import vitalproc

    return lambda: vitalproc.read(path)


@case
def vitaldb_tracks(path: str, tracks: list[str]) -> Callable[[], Any]:
    vitaldb = golden_vitaldb()
    return lambda: vitaldb.VitalFile(path, track_names=tracks)


@case
def vitalproc_tracks(path: str, tracks: list[str]) -> Callable[[], Any]:
    import vitalproc

    return lambda: vitalproc.read(path, tracks=tracks)


@case
def vitaldb_header(path: str, tracks: list[str]) -> Callable[[], Any]:
    vitaldb = golden_vitaldb()
    return lambda: vitaldb.VitalFile(path, header_only=True)


@case
def vitalproc_header(path: str, tracks: list[str]) -> Callable[[], Any]:
    import vitalproc

    return lambda: vitalproc.read(path, header_only=True)


# ---- the child: time one case


def peak_rss_bytes() -> int:
    """Peak resident set of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def summarize(result: Any) -> dict[str, int]:
    """A sanity figure: bytes inflated, or tracks read (0 tracks: the read failed)."""
    if isinstance(result, (bytes, bytearray, memoryview)):
        return {"out_bytes": len(result)}
    return {"tracks": len(getattr(result, "trks", ()))}


def measure(call: Callable[[], Any], reps: int, warmup: int) -> dict[str, Any]:
    """Warm up at least once, size a repetition from the last warm-up, time `reps`."""
    base_rss = peak_rss_bytes()  # interpreter, imports and set-up only
    for i in range(max(1, warmup)):
        t0 = time.perf_counter()
        result = call()
        last = time.perf_counter() - t0
        if i == 0:
            summary = summarize(result)
        del result  # two results alive at once would inflate the peak RSS
    inner = max(1, math.ceil(MIN_REP_SECONDS / max(last, 1e-9)))
    times = []
    for _ in range(reps):
        gc.collect()  # the previous repetition's garbage is not this one's cost
        t0 = time.perf_counter()
        for _ in range(inner):
            call()
        times.append((time.perf_counter() - t0) / inner)
    return {
        "median_s": statistics.median(times),
        "times_s": times,
        "calls_per_rep": inner,
        "peak_rss_bytes": peak_rss_bytes(),
        "base_rss_bytes": base_rss,
        **summary,
    }


def child_main() -> None:
    ap = argparse.ArgumentParser(description="time one benchmark case in this process")
    ap.add_argument("case", choices=list(CASES))
    ap.add_argument("file")
    ap.add_argument("--tracks", default="", help="comma-separated track names")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    call = CASES[a.case](a.file, [t for t in a.tracks.split(",") if t])
    print(json.dumps(measure(call, a.reps, a.warmup)))


# ---- the parent's side


def _last_line(text: str, default: str) -> str:
    """The line of a child's stderr that says what went wrong."""
    lines = text.strip().splitlines()
    return lines[-1] if lines else default


def run_case(
    name: str, path: Path, tracks: tuple[str, ...], reps: int, warmup: int
) -> dict[str, Any]:
    """Time one case on one file in a fresh child; a failure returns {'error': ...}."""
    script = str(Path(__file__).resolve())
    cmd = [sys.executable, script, name, str(path), "--tracks", ",".join(tracks)]
    cmd += ["--reps", str(reps), "--warmup", str(warmup)]
    try:
        proc = subprocess.run(
            cmd, check=False, capture_output=True, text=True, timeout=CHILD_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {CHILD_TIMEOUT} s"}
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"error": _last_line(proc.stderr, f"exit status {proc.returncode}")}
    # The JSON is the last line: vitaldb prints its own read errors to stdout.
    return json.loads(proc.stdout.strip().splitlines()[-1])


def startup_time(code: str, runs: int) -> dict[str, Any]:
    """Median wall time of `python -c CODE` in fresh interpreters (case g).

    Modules load from cached bytecode, as from an installed package: this environment
    may set PYTHONDONTWRITEBYTECODE, and an editable install has no __pycache__, so
    every run would compile the sources again. The cache lives outside the source
    tree, and a first, untimed run fills it.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    with tempfile.TemporaryDirectory() as cache:
        env["PYTHONPYCACHEPREFIX"] = cache
        for _ in range(runs + 1):
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", code], env=env, check=False, capture_output=True
            )
            times.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                return {"error": _last_line(proc.stderr.decode(), "failed")}
    return {"median_s": statistics.median(times[1:]), "times_s": times[1:]}


def vitalproc_missing() -> str | None:
    """Why vitalproc cannot be benchmarked yet, or None when its reader imports."""
    proc = subprocess.run(
        [sys.executable, "-c", "import vitalproc; vitalproc.read"],
        check=False,
        capture_output=True,
        text=True,
    )
    return None if proc.returncode == 0 else _last_line(proc.stderr, "import failed")


if __name__ == "__main__":
    child_main()
