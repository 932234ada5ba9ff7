"""``build``: every case of the sources through the recipe, in parallel, into one output.

Each case is read, cut and written as a part by ``cut_file`` in a worker (a local process
pool, or dask.distributed, with the engines ``vitalproc.convert`` uses); a case that fails
is recorded with its reason and the rest go on. A re-run into the same folder takes back
the parts an earlier run finished. The parent then joins the parts (one at a time), draws
the split and writes the index.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .._version import __version__
from ..dataset.batch import Outcomes
from .annotations import AnnotationError, annotation_path, read_annotations
from .cutter import CaseError, cut_case, needed_tracks, too_short
from .indexing import layout
from .recipe import Recipe, RecipeError, load_recipe
from .sources import Case, file_hash, find_cases, read_case, read_case_list
from .split import assign, subjects_of
from .store import (
    assemble,
    check_folder,
    finished_part,
    write_build,
    write_cases,
    write_failure,
    write_part,
)

ENGINES = ("local", "dask")

#: How a case's failure reason starts when its annotation file did not parse.
ANNOTATION_FAULT = "annotation file: "


@dataclass(frozen=True)
class WindowTask:
    """One case, as a worker gets it (``source``/``caseid``: the engines' names)."""

    source: str
    caseid: str
    case: Case
    recipe: Recipe
    out: str


@dataclass
class CaseResult:
    """What became of one case: ``ok`` (windows written), ``empty`` (no window fits:
    ``reason`` says why), ``failed`` (``reason``), ``resumed`` (an earlier run's part)."""

    caseid: str
    source: str
    status: str
    reason: str | None = None
    windows: int = 0
    valid: int = 0
    tracks: dict[str, str] = field(default_factory=dict)
    hash: str | None = None
    seconds: float = 0.0
    peak_rss: int | None = None


@dataclass
class BuildReport(Outcomes):
    """All the results of one ``build`` call."""

    out: str
    results: list[CaseResult]
    windows: int
    seconds: float

    def summary(self) -> str:
        ok = self.count("ok", "resumed", "empty")
        valid = sum(r.valid for r in self.results if r.status != "failed")
        return (
            f"{self.windows} windows ({valid} valid) from {ok} cases, "
            f"{len(self.failed)} failed, in {self.seconds:.1f} s"
        )


# ---- one case, in a worker ----------------------------------------------------------------


def cut_file(task: WindowTask) -> CaseResult:
    """Read, cut and write one case (``OUT/.parts/<caseid>/``); never raises for the
    case's own faults: those are the result's ``reason``."""
    start = time.perf_counter()
    case, recipe = task.case, task.recipe
    result = CaseResult(case.caseid, case.origin, "failed")
    # The source's hash is taken on a thread while the case is read (both release the GIL).
    hasher = None
    if case.hash is None:
        from concurrent.futures import ThreadPoolExecutor

        hasher = ThreadPoolExecutor(1)
        hashed = hasher.submit(file_hash, case.path)
    try:
        result.hash = case.hash
        intervals = None
        if recipe.annotations is not None:
            path = annotation_path(recipe.annotations, case.origin)
            if not os.path.exists(path) and case.origin != case.path:
                path = annotation_path(recipe.annotations, case.path)
            if os.path.exists(path):
                intervals = read_annotations(path, recipe.annotations)
        vf = read_case(case, needed_tracks(recipe))
        cw = cut_case(recipe, vf, intervals)
        if not len(cw):
            result.reason = too_short(recipe, vf) or "no window fits the recording"
        del vf  # the tracks read: only the windows are needed from here
        if hasher is not None:
            result.hash = hashed.result()
        result.tracks = cw.tracks
        result.windows = len(cw)
        result.valid = int(cw.columns["valid"].sum())
        result.status = "ok" if len(cw) else "empty"
        result.seconds = time.perf_counter() - start
        result.peak_rss = _peak_rss()
        write_part(task.out, case.caseid, cw, asdict(result))
    except Exception as exc:
        expected = isinstance(exc, (CaseError, AnnotationError, OSError, ValueError))
        result.status = "failed"
        result.reason = str(exc) if expected and str(exc) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, AnnotationError):
            result.reason = ANNOTATION_FAULT + result.reason
        if hasher is not None and result.hash is None:
            try:
                result.hash = hashed.result()
            except OSError:
                pass  # the file cannot be read: its failure says so already
        result.seconds = time.perf_counter() - start
        result.peak_rss = _peak_rss()
        write_failure(task.out, case.caseid, asdict(result))
    finally:
        if hasher is not None:
            hasher.shutdown(wait=True)
    return result


def _peak_rss() -> int:
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


# ---- the run ----------------------------------------------------------------------------


def build(
    recipe: str | os.PathLike | dict | Recipe,
    sources: Iterable[str | os.PathLike] | str | os.PathLike,
    out: str | os.PathLike,
    *,
    jobs: int | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    cases: Iterable[str] | str | os.PathLike | None = None,
    clinical: str | None = None,
    progress: bool | None = None,
) -> BuildReport:
    """Cut recordings into labelled windows (see docs/windows.md).

    Parameters
    ----------
    recipe
        A TOML file, a shipped recipe's name (``hypotension_art``...), a dict of the
        TOML's shape or a ``Recipe``.
    sources
        ``.vital`` files, folders (every ``*.vital`` below), converted datasets, or
        converted case files (``.parquet``).
    out
        The output folder (created). Re-running into it with the same recipe reuses the
        cases it finished.
    jobs
        Worker processes (default: the machine's cores); 1 runs in this process.
    engine
        ``"local"`` (a process pool) or ``"dask"`` (dask.distributed; ``scheduler``: its
        address, None: a local cluster of ``jobs`` workers).
    cases
        Only these case ids: a list, or a cohort file (a CSV with a ``caseid`` column, or
        one id a line).
    clinical
        A table (CSV/Parquet) with ``caseid`` and the recipe's subject column: the split
        groups cases by subject. Default: the recipe's ``split.clinical``, else each case
        is its own subject.
    progress
        A progress bar on stderr; None: when stderr is a terminal.

    Returns
    -------
    BuildReport

    Raises
    ------
    RecipeError
        A bad recipe; or, after the run, a signal that no case has, or windows that fit no
        recording (their length, lead and horizon longer than every recording).
    FileNotFoundError
        A source that does not exist.
    ValueError
        A case list naming no case of the sources, an output folder of another recipe.
    """
    t0 = time.perf_counter()
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    rc = load_recipe(recipe)
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    found = find_cases(sources)
    found = _select(found, cases)
    out = os.path.abspath(out)
    check_folder(out, rc.digest())
    results: dict[str, CaseResult] = {}
    todo = []
    for case in found:
        done = finished_part(out, case.caseid)
        if done is not None:
            results[case.caseid] = CaseResult(
                **{**done, "status": "resumed" if done["status"] == "ok" else done["status"]}
            )
        else:
            todo.append(WindowTask(case.path, case.caseid, case, rc, out))
    from ..dataset.batch import Progress

    bar = Progress(
        len(found),
        progress,
        unit="case",
        initial=len(found) - len(todo),
        rate="windows/s",
        scale=1.0,
        digits=0,
    )

    def finished(result: Any) -> None:
        if not isinstance(result, CaseResult):  # a worker died (the engines' FileResult)
            result = CaseResult(result.caseid, result.source, "failed", result.error)
            write_failure(out, result.caseid, asdict(result))
        results[result.caseid] = result
        bar.update(result.windows)

    try:
        if jobs == 1 and engine == "local":
            for task in todo:
                finished(cut_file(task))
        elif todo:
            from ..dataset import batch

            n = jobs or os.cpu_count() or 1
            # The engines take any task with .source and .caseid and hand back what the
            # work returns (or a FileResult when a worker dies: see ``finished``).
            if engine == "dask":
                batch.run_dask(cut_file, todo, scheduler, n, finished)  # type: ignore[arg-type]
            else:
                batch.run_local(cut_file, todo, n, finished)  # type: ignore[arg-type]
    finally:
        bar.close()
    ordered = [results[c.caseid] for c in found]
    total = _finish(rc, out, found, ordered, clinical)
    report = BuildReport(out, ordered, total, time.perf_counter() - t0)
    _check_outcome(rc, ordered)
    return report


def _select(found: list[Case], cases: Iterable[str] | str | os.PathLike | None) -> list[Case]:
    if cases is None:
        return found
    ids = (
        read_case_list(os.fspath(cases))
        if isinstance(cases, (str, os.PathLike))
        else [str(c) for c in cases]
    )
    wanted = set(ids)
    chosen = [c for c in found if c.caseid in wanted]
    if not chosen:
        raise ValueError(f"none of the {len(wanted)} listed cases is in the sources")
    return chosen


def _finish(
    rc: Recipe, out: str, found: list[Case], results: list[CaseResult], clinical: str | None
) -> int:
    """Draw the split, join the parts, write the case table and the build record."""
    with_windows = [r.caseid for r in results if r.status in ("ok", "resumed")]
    subjects = subjects_of([c.caseid for c in found], rc.split, clinical)
    splits = assign([subjects[c] for c in with_windows], rc.split)
    extra = {c: {"subjectid": subjects[c], "split": splits[subjects[c]]} for c in with_windows}
    samples = {s.name: layout(rc.windows, s.rate).length for s in rc.signals}
    total = assemble(out, with_windows, samples, extra)
    rows = []
    for r in results:
        row = asdict(r)
        row["tracks"] = ", ".join(f"{k}={v}" for k, v in r.tracks.items())
        row["subjectid"] = subjects[r.caseid]
        row["split"] = extra.get(r.caseid, {}).get("split")
        rows.append(row)
    write_cases(out, rows)
    write_build(
        out,
        {
            "recipe": rc.to_dict(),
            "recipe_hash": rc.digest(),
            "recipe_file": rc.source,
            "vitalproc_version": __version__,
            "signals": {s.name: {"rate": s.rate, "samples": samples[s.name]} for s in rc.signals},
            "labels": [lb.name for lb in rc.labels],
            "windows": total,
            "sources": {r.caseid: r.hash for r in results if r.hash},
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )
    return total


def _check_outcome(rc: Recipe, results: list[CaseResult]) -> None:
    """A recipe fault that only the recordings reveal: raised once the run is recorded."""
    if not results:
        return
    for i, sig in enumerate(rc.signals):
        prefix = f"no track for signal {sig.name!r}"
        if all(r.status == "failed" and (r.reason or "").startswith(prefix) for r in results):
            raise RecipeError(
                f"signals[{i}].tracks: no case has any of "
                f"{', '.join(sig.tracks)} (signal {sig.name!r}, "
                f"{len(results)} cases)"
            )
    broken = [
        r
        for r in results
        if r.status == "failed" and r.reason and r.reason.startswith(ANNOTATION_FAULT)
    ]
    if broken:
        raise AnnotationError(
            str(broken[0].reason)[len(ANNOTATION_FAULT) :]
            + (f" (and {len(broken) - 1} more annotation files)" if len(broken) > 1 else "")
        )
    if all(r.status == "empty" for r in results) and rc.windows.align == "start":
        w = rc.windows
        key = "windows.lead" if w.lead > w.length else "windows.length"
        raise RecipeError(
            f"{key}: no recording is long enough for one window "
            f"(length {w.length:g} s + lead {w.lead:g} s + horizon "
            f"{w.horizon:g} s); e.g. {results[0].caseid}: {results[0].reason}"
        )
