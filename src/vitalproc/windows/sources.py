"""Sources -> cases, and one case -> the tracks a recipe needs.

A source is a ``.vital`` file, a folder (every ``*.vital`` below it), a converted dataset
(a folder with the manifest ``vitalproc convert`` writes: its cases) or one converted
case (``.parquet``). Only the recipe's tracks are held: a ``.vital`` file is walked once
keeping their records (the other tracks are counted, so the span, and so vitaldb's grid,
is a full read's); a converted case reads their row groups, and takes the span the
conversion stored.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from .._names import matches
from ..model import Track, VitalFile

MANIFEST_NAME = "_manifest.parquet"  # what makes a folder a converted dataset

#: Bytes read at a time to hash a source.
HASH_BUFFER = 1 << 20


@dataclass(frozen=True)
class Case:
    """One recording to cut into windows."""

    caseid: str
    path: str  # the .vital or .parquet file read
    origin: str  # the recording's own path (a dataset case: its .vital source)
    hash: str | None = None  # known already (a dataset's manifest), else computed
    dtstart: float | None = None  # a converted case's stored span (a full read's)
    dtend: float | None = None


def find_cases(sources: Iterable[str | os.PathLike]) -> list[Case]:
    """Every case the sources name, in the order of their ids.

    Raises
    ------
    FileNotFoundError
        A source that is no file or folder.
    ValueError
        Two recordings with the same case id (file name without ``.vital``).
    """
    cases: dict[str, Case] = {}

    def add(case: Case) -> None:
        if case.caseid in cases and cases[case.caseid].path != case.path:
            raise ValueError(
                f"two recordings have the case id {case.caseid!r}: "
                f"{cases[case.caseid].path} and {case.path}"
            )
        cases[case.caseid] = case

    for item in map(os.fspath, sources):
        if os.path.isdir(item) and os.path.exists(os.path.join(item, MANIFEST_NAME)):
            for case in dataset_cases(item):
                add(case)
        elif os.path.isdir(item):
            for root, dirs, files in os.walk(item):
                dirs.sort()
                for name in sorted(files):
                    if name.lower().endswith(".vital"):
                        path = os.path.abspath(os.path.join(root, name))
                        add(Case(_stem(name), path, path))
        elif os.path.isfile(item):
            path = os.path.abspath(item)
            add(Case(_stem(os.path.basename(item)), path, path))
        else:
            raise FileNotFoundError(f"no such file or folder: {item!r}")
    return [cases[k] for k in sorted(cases)]


def dataset_cases(folder: str) -> list[Case]:
    """The converted cases of a dataset, from its manifest."""
    from ..dataset.query import open_dataset

    ds = open_dataset(folder)
    out = []
    for row in ds.recordings.to_pylist():
        if row["caseid"] in ds.cases:
            out.append(
                Case(
                    row["caseid"],
                    ds.case_path(row["caseid"]),
                    row["source"] or ds.case_path(row["caseid"]),
                    row["hash"],
                    row["dtstart"],
                    row["dtend"],
                )
            )
    return out


def _stem(name: str) -> str:
    for ext in (".vital", ".parquet"):
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return name


def read_case_list(path: str) -> list[str]:
    """Case ids from a cohort file: a CSV with a ``caseid`` column, or one id a line.

    Raises
    ------
    ValueError
        An empty file, naming it.
    """
    with open(path, newline="", encoding="utf-8") as f:
        lines = [ln.strip() for ln in f.read().splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise ValueError(f"{path}: no case ids")
    header = next(csv.reader([lines[0]]))
    if len(header) > 1 or header[0].strip().lower() == "caseid":
        cols = [h.strip().lower() for h in header]
        if "caseid" not in cols:
            raise ValueError(
                f"{path}:1: a CSV case list needs a 'caseid' column (header: {', '.join(header)})"
            )
        i = cols.index("caseid")
        ids = []
        for row in csv.reader(lines[1:]):
            if len(row) > i and row[i].strip():
                ids.append(_stem(row[i].strip()))
        return ids
    return [_stem(ln) for ln in lines]


class _Wanted:
    """The tracks a read holds: those any of the names match, as vitaldb matches a name
    (exactly, or as the end of ``Device/Track``)."""

    def __init__(self, names: Sequence[str]):
        self.names = tuple(names)

    def __iter__(self) -> Iterator[str]:  # a Collection: the names asked for
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, dtname: object) -> bool:
        return isinstance(dtname, str) and matches(dtname, dtname.partition("/")[0], self.names)


def read_case(case: Case, names: Sequence[str]) -> VitalFile:
    """The case with the records of the tracks ``names`` match, and a full read's span."""
    if case.path.lower().endswith(".parquet"):
        from ..io.reader import read

        vf = read(case.path, tracks=list(names))
        if case.dtstart is not None and case.dtend is not None:
            vf.dtstart, vf.dtend = case.dtstart, case.dtend
        else:
            whole = read(case.path, header_only=True)
            vf.dtstart, vf.dtend = whole.dtstart, whole.dtend
        return vf
    from ..io.reader import read_only

    return read_only(case.path, _Wanted(names))  # type: ignore[arg-type]


def pick_track(vf: VitalFile, fallbacks: Sequence[str]) -> Track | None:
    """The first fallback the recording has (with records): exact name first, then the
    first track in file order whose name ends with it."""
    for name in fallbacks:
        trk = vf.trks.get(name)
        if trk is not None and len(trk):
            return trk
        for key, trk in vf.trks.items():
            if key.endswith(name) and len(trk):
                return trk
    return None


def file_hash(path: str) -> str:
    """``sha256:`` of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(HASH_BUFFER):
            h.update(chunk)
    return "sha256:" + h.hexdigest()
