"""The command line's ``--cpuprofile`` and ``--memprofile`` (flags of the Go processor).

A cProfile profile of the run and a tracemalloc snapshot taken at its end are written
also when the run fails (the Go processor lost its profile then). tracemalloc sees what Python
allocates, not the reader's own column buffers, so the process's peak RSS is said too.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

#: Stack frames kept per traced allocation (more: slower runs, bigger snapshots).
MEMPROFILE_FRAMES = 16


def profiled(
    run: Callable[[], int],
    cpuprofile: str | None,
    memprofile: str | None,
    note: Callable[[str], None],
    say: Callable[[str], None],
) -> tuple[int, OSError | None]:
    """``run()``'s exit code, profiled, and the error that kept a profile from being
    written (None when both were). ``note``: what ``--verbose`` shows; ``say``: the
    memory peaks, shown unless ``--quiet``."""
    import cProfile
    import tracemalloc

    started = bool(memprofile) and not tracemalloc.is_tracing()  # else: whoever started it
    if started:
        tracemalloc.start(MEMPROFILE_FRAMES)
    profiler = cProfile.Profile() if cpuprofile else None
    code = 1
    try:
        if profiler is not None:
            profiler.enable()
        code = run()
    finally:
        if profiler is not None:
            profiler.disable()
        error = _write(profiler, cpuprofile, memprofile, started, note, say)
    return code, error


def _write(
    profiler: Any,
    cpuprofile: str | None,
    memprofile: str | None,
    started: bool,
    note: Callable[[str], None],
    say: Callable[[str], None],
) -> OSError | None:
    import tracemalloc

    try:
        if profiler is not None and cpuprofile:
            profiler.dump_stats(cpuprofile)
            note(f"CPU profile written to {cpuprofile}")
        if memprofile:
            try:
                snapshot = tracemalloc.take_snapshot()
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                if started:
                    tracemalloc.stop()
            snapshot.dump(memprofile)
            rss = peak_rss()
            say(
                f"memory: peak {peak / 1e6:.1f} MB allocated through Python (tracemalloc; "
                f"the reader's own buffers are not traced)"
                + (f", peak RSS {rss / 1e6:.1f} MB" if rss else "")
                + f"; snapshot of the end of the run written to {memprofile}"
            )
    except OSError as exc:
        return exc
    return None


def peak_rss() -> int | None:
    """The process's peak resident memory in bytes, where the system tells it."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
