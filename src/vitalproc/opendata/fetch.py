"""Many cases at once: parallel downloads into the cache, copies in an output folder.

``fetch(caseids, tracks, output, jobs)`` runs one thread per job (downloads wait on the
network, and inflating for verification releases the GIL). Each case is retried as
``CaseStore`` retries; a case that still fails is listed with its reason, and the others
go on. With ``tracks``, only the bytes up to the last wanted block of each packed file
are fetched, and the output file holds the wanted tracks only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, NamedTuple

from .._files import atomic_file
from . import settings
from .cache import CaseStore
from .mirror import case_path
from .packed import CorruptStream, Inflater, PrefixWalk
from .transport import FetchError


class CaseResult(NamedTuple):
    """One case: ``status`` is ``"fetched"`` (bytes came over the network), ``"cached"``
    (none did) or ``"failed"`` (``reason`` says why); ``path`` the file written or
    cached; ``nbytes`` the bytes received for it."""

    caseid: int
    status: str
    path: str | None = None
    reason: str | None = None
    nbytes: int = 0


class FetchReport(NamedTuple):
    results: list[CaseResult]
    nbytes: int
    seconds: float
    dataset: str | None = None

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> str:
        """One line of counts and rates, then one line per failed case."""
        count = {
            s: sum(r.status == s for r in self.results) for s in ("fetched", "cached", "failed")
        }
        secs = max(self.seconds, 1e-9)
        head = (
            f"{len(self.results)} cases in {self.seconds:.1f} s "
            f"({len(self.results) / secs:.1f} cases/s, {self.nbytes / 1e6 / secs:.1f} "
            f"MB/s): {count['fetched']} fetched, {count['cached']} from the cache, "
            f"{count['failed']} failed"
        )
        lines = [head]
        lines += [f"  case {r.caseid}: {r.reason}" for r in self.failed]
        return "\n".join(lines)


def parse_cases(text: str) -> list[int]:
    """``"1-500,812"`` -> [1, ..., 500, 812] (in order, without repeats).

    Raises
    ------
    ValueError
        A part that is not a positive integer or a range ``a-b`` with ``a <= b``.
    """
    out: dict[int, None] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        first, dash, last = part.partition("-")
        try:
            a = int(first)
            b = int(last) if dash else a
        except ValueError:
            raise ValueError(f"not a case id or range: {part!r}") from None
        if a < 1 or b < a:
            raise ValueError(f"not a case id or range: {part!r} (ids start at 1; a-b needs a <= b)")
        out.update(dict.fromkeys(range(a, b + 1)))
    if not out:
        raise ValueError("no case ids given")
    return list(out)


class _Counter:
    def __init__(self) -> None:
        self.total = 0
        self._local = threading.local()
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self.total += n
        self._local.n = getattr(self._local, "n", 0) + n

    def take_thread(self) -> int:
        n = getattr(self._local, "n", 0)
        self._local.n = 0
        return n


def fetch(
    caseids: Iterable[int],
    tracks: Any = None,
    output: str | os.PathLike | None = None,
    *,
    jobs: int = 8,
    convert: str | os.PathLike | None = None,
    progress: bool | None = None,
    exclude: Any = None,
    sleep: Callable[[float], None] | None = None,
) -> FetchReport:
    """Fetch cases of the open dataset into the cache (and ``output``), in parallel.

    Parameters
    ----------
    caseids
        The case ids.
    tracks
        Names as in ``load_case`` (list or comma-separated string): fetch only the bytes
        vitaldb's selective read needs, and write files holding those tracks only.
        None: whole files.
    output
        A folder for ``{caseid}.vital`` (a hard link to the cached file when it can be,
        else a copy); None: the cache only.
    jobs
        Parallel downloads.
    convert
        A dataset folder: the fetched cases are converted into it (``vitalproc.convert``),
        with the clinical and lab tables of these cases beside them
        (``_clinical_data.parquet``, ``_lab_data.parquet``).
    progress
        A progress bar on stderr (cases/s, MB/s); None: when stderr is a terminal.

    Returns
    -------
    FetchReport
        Never raises for one case: a failed case is a result with its reason.
    """
    ids = list(caseids)
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    if tracks and output is None:
        raise ValueError(
            "a fetch of some tracks writes files of those tracks: give an output folder"
        )
    if output is not None:
        os.makedirs(output, exist_ok=True)
    counter = _Counter()
    store = None if settings.mirror else CaseStore(on_bytes=counter.add, sleep=sleep)
    start = time.perf_counter()
    from ..dataset.batch import Progress

    bar = Progress(len(ids), progress, unit="case", desc="fetch")
    counted = 0
    results: list[CaseResult] = []

    def one(caseid: int) -> CaseResult:
        counter.take_thread()
        try:
            path = _fetch_one(store, caseid, tracks, exclude, output)
        except (FetchError, OSError, CorruptStream) as exc:
            reason = exc.reason if isinstance(exc, FetchError) else str(exc)
            return CaseResult(caseid, "failed", None, reason, counter.take_thread())
        n = counter.take_thread()
        return CaseResult(caseid, "fetched" if n else "cached", path, None, n)

    with ThreadPoolExecutor(max_workers=min(jobs, max(1, len(ids)))) as pool:
        futures = [pool.submit(one, c) for c in ids]
        for future in as_completed(futures):
            results.append(future.result())
            bar.update(counter.total - counted)  # (bytes of every thread so far)
            counted = counter.total
    bar.close()
    order = {c: i for i, c in enumerate(ids)}
    results.sort(key=lambda r: order[r.caseid])
    report = FetchReport(results, counter.total, time.perf_counter() - start)
    if convert is not None:
        report = report._replace(dataset=_convert(report, convert, jobs, progress))
    return report


def _fetch_one(
    store: CaseStore | None,
    caseid: int,
    tracks: Any,
    exclude: Any,
    output: str | os.PathLike | None,
) -> str:
    """Fetch one case; returns the file that holds it (in ``output`` if given)."""
    if store is None:  # a mirror: its file, or the wanted tracks of it
        path = case_path(settings.mirror, caseid)  # type: ignore[arg-type]
        if tracks:
            small = subset_of_file(path, tracks, exclude)
            if small is not None:
                return _write(output, caseid, small)
        return _place(output, caseid, path)
    if tracks:
        small = store.prefix(caseid, tracks, exclude)
        if small is None:  # the whole file was needed (and is now cached)
            small = subset_of_file(store.ensure(caseid), tracks, exclude)
        if small is not None:
            return _write(output, caseid, small)
    return _place(output, caseid, store.ensure(caseid))


def subset_of_file(path: str, tracks: Any, exclude: Any = None) -> bytes | None:
    """The small .vital file of the wanted tracks of a local packed file (reading only
    up to its last wanted block); None when a selective read needs the whole file."""
    walk = PrefixWalk(tracks, exclude)
    inflater = Inflater()
    with open(path, "rb") as f:
        while not walk.settled:
            chunk = f.read(1 << 18)
            if not chunk:
                walk.finish()
                break
            walk.feed(inflater.feed(chunk))
    return walk.subset() if walk.done else None


def _write(output: Any, caseid: int, data: bytes) -> str:
    """Write the file of the wanted tracks into ``output``."""
    path = os.path.join(output, f"{caseid}.vital")
    with atomic_file(path) as f:
        f.write(data)
    return path


def _place(output: str | os.PathLike | None, caseid: int, cached: str) -> str:
    """Put a cached file into ``output``: a hard link when it can be, else a copy."""
    if output is None:
        return cached
    path = os.path.join(output, f"{caseid}.vital")
    with contextlib.suppress(OSError):
        if os.path.samefile(path, cached):
            return path
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        os.link(cached, tmp)
    except OSError:
        shutil.copyfile(cached, tmp)
    os.replace(tmp, path)
    return path


def _convert(
    report: FetchReport, dataset: str | os.PathLike, jobs: int, progress: bool | None
) -> str:
    """The fetched cases into a Parquet dataset, the clinical and lab tables beside."""
    from ..dataset.batch import convert
    from .queries import load_clinical_data, load_lab_data

    done = [r for r in report.results if r.path]
    if done:
        convert([r.path for r in done], dataset, jobs=jobs, progress=progress)
    else:
        os.makedirs(dataset, exist_ok=True)
    ids = [r.caseid for r in done]
    for name, frame in (
        ("_clinical_data.parquet", load_clinical_data(ids)),
        ("_lab_data.parquet", load_lab_data(ids)),
    ):
        with atomic_file(os.path.join(dataset, name)) as f:
            frame.reset_index(drop=True).to_parquet(f, index=False)
    return os.fspath(dataset)
