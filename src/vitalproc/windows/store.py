"""The output folder: per-case parts while building, one array per signal and one index
table once done.

```
OUT/
  <signal>.npy      float32 (windows, samples): np.load(..., mmap_mode="r") reads no byte
  index.parquet     one row per window: caseid, subjectid, t_start, offset, labels...,
                    valid, reason, split
  cases.parquet     one row per case: status, reason, windows, tracks read, source hash
  build.json        the recipe, its hash, the signals' rates and sample counts
  .parts/           each finished case's windows (what makes a re-run resume)
```
Every file is written under a temporary name and renamed, so a killed build leaves the
finished parts and no half file.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import numpy as np

from .._files import atomic_file
from .cutter import CaseWindows

PARTS = ".parts"
INDEX = "index.parquet"
CASES = "cases.parquet"
BUILD = "build.json"
FAILED_SUFFIX = ".failed.json"
DONE = "case.json"


def part_dir(out: str, caseid: str) -> str:
    return os.path.join(out, PARTS, caseid)


def write_part(out: str, caseid: str, cw: CaseWindows, info: dict[str, Any]) -> None:
    """Write one case's windows to ``OUT/.parts/<caseid>/`` (all or nothing)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    final = part_dir(out, caseid)
    tmp = os.path.join(out, PARTS, f".tmp-{caseid}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for name, arr in cw.arrays.items():
        save_rows(os.path.join(tmp, f"{name}.npy"), arr)
    cols = {}
    for name, col in cw.columns.items():
        if isinstance(col, np.ndarray) and col.dtype == object:
            cols[name] = pa.array(list(col), pa.string())
        else:
            cols[name] = pa.array(col)
    pq.write_table(pa.table(cols), os.path.join(tmp, INDEX), compression="zstd")
    with open(os.path.join(tmp, DONE), "w") as f:
        json.dump(info, f)
    _remove(final + FAILED_SUFFIX)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)


#: Bytes of window rows made contiguous and written at a time.
WRITE_BLOCK = 1 << 22


def save_rows(path: str, arr: np.ndarray) -> None:
    """``np.save(path, arr)`` for a 2-D (possibly strided) array, a block of rows at a
    time: no contiguous copy of the whole array is ever made."""
    step = max(1, WRITE_BLOCK // max(1, arr.shape[1] * arr.itemsize))
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f,
            {
                "descr": np.lib.format.dtype_to_descr(arr.dtype),
                "fortran_order": False,
                "shape": arr.shape,
            },
        )
        f.writelines(np.ascontiguousarray(arr[a : a + step]).data for a in range(0, len(arr), step))


def _rows_offset(f: Any) -> tuple[tuple[int, ...], int]:
    """The shape of the .npy file ``f`` and where its data starts."""
    version = np.lib.format.read_magic(f)
    read = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    shape, _, _ = read(f)
    return shape, f.tell()


def write_failure(out: str, caseid: str, info: dict[str, Any]) -> None:
    path = os.path.join(out, PARTS, caseid + FAILED_SUFFIX)
    with atomic_file(path) as f:
        f.write(json.dumps(info).encode())


def finished_part(out: str, caseid: str) -> dict[str, Any] | None:
    """The record of a case an earlier run finished, or None."""
    try:
        with open(os.path.join(part_dir(out, caseid), DONE)) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def check_folder(out: str, digest: str) -> None:
    """Create ``out`` or make sure it was built by the same recipe (so its parts can be
    reused).

    Raises
    ------
    ValueError
        The folder holds the output of another recipe.
    """
    os.makedirs(os.path.join(out, PARTS), exist_ok=True)
    stamp = os.path.join(out, PARTS, "recipe.sha256")
    if os.path.exists(stamp):
        with open(stamp) as f:
            old = f.read().strip()
        if old != digest:
            raise ValueError(
                f"{out} holds windows of another recipe ({old}); "
                "write to another folder or remove it"
            )
    else:
        with open(stamp, "w") as f:
            f.write(digest)
    for name in os.listdir(os.path.join(out, PARTS)):
        if name.startswith(".tmp-"):  # what a killed run was writing
            shutil.rmtree(os.path.join(out, PARTS, name), ignore_errors=True)


def assemble(
    out: str, caseids: list[str], signals: dict[str, int], extra: dict[str, dict[str, Any]]
) -> int:
    """Join the parts of ``caseids`` (in that order) into ``<signal>.npy`` and
    ``index.parquet``; ``extra[caseid]`` adds per-case columns (subjectid, split).
    ``signals`` maps each signal to its samples per window. Returns the window count.
    One part at a time is in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for c in caseids:
        t = pq.read_table(os.path.join(part_dir(out, c), INDEX))
        n = t.num_rows
        front = {"caseid": pa.array([c] * n, pa.string())}
        for key, value in extra[c].items():
            front[key] = pa.array([value] * n, pa.string())
        cols = dict(front)
        for name in t.column_names:
            cols[name] = t.column(name)
        order = ["caseid", "subjectid", "t_start", "offset"]
        names = order + [k for k in cols if k not in order and k != "split"] + ["split"]
        tables.append(pa.table({k: cols[k] for k in names if k in cols}))
    total = sum(t.num_rows for t in tables)
    for name, samples in signals.items():
        path = os.path.join(out, f"{name}.npy")
        tmp = os.path.join(out, f".{name}.npy.tmp")
        _remove(tmp)
        if len(caseids) == 1 and _linked(
            os.path.join(part_dir(out, caseids[0]), f"{name}.npy"), tmp
        ):
            os.replace(tmp, path)  # one case: its part is the array (a second name)
            continue
        # the parts' bytes one after the other, behind one header: a plain file copy
        with open(tmp, "wb") as dst:
            np.lib.format.write_array_header_1_0(
                dst,
                {
                    "descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
                    "fortran_order": False,
                    "shape": (total, samples),
                },
            )
            for c in caseids:
                with open(os.path.join(part_dir(out, c), f"{name}.npy"), "rb") as src:
                    shape, _ = _rows_offset(src)
                    if shape[1:] != (samples,):
                        raise ValueError(f"{src.name}: {shape[1:]} samples, not {samples}")
                    shutil.copyfileobj(src, dst, WRITE_BLOCK)
        os.replace(tmp, path)
    if tables:
        index = pa.concat_tables(tables, promote_options="default")
    else:
        index = pa.table({"caseid": pa.array([], pa.string())})
    _write_table(index, os.path.join(out, INDEX))
    return total


def _linked(src: str, dst: str) -> bool:
    try:
        os.link(src, dst)
        return True
    except OSError:  # a file system without hard links: copy
        return False


def write_cases(out: str, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa

    _write_table(pa.Table.from_pylist(rows), os.path.join(out, CASES))


def write_build(out: str, info: dict[str, Any]) -> None:
    with atomic_file(os.path.join(out, BUILD)) as f:
        f.write(json.dumps(info, indent=1, default=list).encode())


def _write_table(table: Any, path: str) -> None:
    import pyarrow.parquet as pq

    with atomic_file(path) as f:
        pq.write_table(table, f, compression="zstd")
