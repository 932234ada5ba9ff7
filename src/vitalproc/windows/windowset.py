"""``open(OUT)``: a built window set, as arrays, a table and a map-style dataset.

``WindowSet`` has ``__len__`` and ``__getitem__`` returning a dict of numpy arrays and
numbers, so ``torch.utils.data.DataLoader(ws, batch_size=...)`` takes it as is (its
default collation stacks the arrays into tensors); this module never imports torch.
"""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .store import BUILD, CASES, INDEX


class WindowSet:
    """A built window set.

    Attributes
    ----------
    arrays
        signal name -> read-only memory-mapped float32 array (windows, samples).
    info
        The build record: recipe, recipe hash, signals' rates, source hashes.
    labels
        The recipe's label columns.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        rows: np.ndarray | None = None,
        fields: Sequence[str] | None = None,
    ):
        self.path = os.path.abspath(path)
        build = os.path.join(self.path, BUILD)
        if not os.path.exists(build):
            raise FileNotFoundError(f"not a window set (no {BUILD}): {self.path}")
        with builtins.open(build) as f:
            self.info: dict[str, Any] = json.load(f)
        self.arrays: dict[str, np.ndarray] = {
            name: np.load(os.path.join(self.path, f"{name}.npy"), mmap_mode="r")
            for name in self.info["signals"]
        }
        self.labels: list[str] = list(self.info["labels"])
        self._index: Any = None
        self._rows = rows  # a subset (``subset``): positions into the arrays
        self._fields = list(fields) if fields is not None else None
        self._columns: dict[str, np.ndarray] | None = None

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k} {v.shape[1]}" for k, v in self.arrays.items())
        return f"WindowSet({self.path!r}, {len(self)} windows; samples: {shapes})"

    # -- tables -----------------------------------------------------------------------

    def table(self) -> Any:
        """The index as a pyarrow Table (all windows)."""
        import pyarrow.parquet as pq

        return pq.read_table(os.path.join(self.path, INDEX))

    @property
    def index(self) -> Any:
        """The index as a pandas DataFrame, one row per window (of this subset)."""
        if self._index is None:
            df = self.table().to_pandas()
            self._index = df if self._rows is None else df.iloc[self._rows].reset_index(drop=True)
        return self._index

    def to_polars(self) -> Any:
        """The index as a polars DataFrame (of this subset)."""
        import polars as pl

        df = pl.from_arrow(self.table())
        return df if self._rows is None else df[self._rows.tolist()]

    @property
    def cases(self) -> Any:
        """One row per case (status, reason, windows, tracks read) as a DataFrame."""
        import pyarrow.parquet as pq

        return pq.read_table(os.path.join(self.path, CASES)).to_pandas()

    # -- a map-style dataset --------------------------------------------------------------

    def subset(
        self,
        split: str | None = None,
        valid: bool | None = True,
        fields: Sequence[str] | None = None,
    ) -> WindowSet:
        """The windows of one split (``"train"``, ``"val"``, ``"test"``), only the valid
        ones by default (``valid=None``: all); ``fields``: what ``__getitem__`` gives
        (default: every signal and label)."""
        t = self.table()
        keep = (
            np.ones(t.num_rows, bool)
            if self._rows is None
            else np.isin(np.arange(t.num_rows), self._rows)
        )
        if split is not None:
            keep &= np.asarray(t.column("split").to_pylist(), object) == split
        if valid is not None:
            keep &= np.asarray(t.column("valid").to_numpy(zero_copy_only=False)) == valid
        return WindowSet(
            self.path, np.flatnonzero(keep), fields if fields is not None else self._fields
        )

    def __len__(self) -> int:
        if self._rows is not None:
            return len(self._rows)
        first = next(iter(self.arrays.values()), None)
        return 0 if first is None else len(first)

    def _label_columns(self) -> dict[str, np.ndarray]:
        if self._columns is None:
            t = self.table()
            self._columns = {}
            for name in self.labels + ["valid"]:
                col = t.column(name)
                arr = col.to_numpy(zero_copy_only=False)
                self._columns[name] = arr
        return self._columns

    def __getitem__(self, i: int) -> dict[str, Any]:
        """Window ``i``: each signal's samples (a float32 array) and each label (a
        number, a bool or a class name), and ``valid``."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"window {i} of {n}")
        row = int(self._rows[i]) if self._rows is not None else i % n
        names = (
            self._fields
            if self._fields is not None
            else (list(self.arrays) + self.labels + ["valid"])
        )
        cols = self._label_columns()
        item: dict[str, Any] = {}
        for name in names:
            if name in self.arrays:
                item[name] = np.array(self.arrays[name][row])  # a copy: tensors own it
            else:
                value = cols[name][row]
                item[name] = value.item() if isinstance(value, np.generic) else value
        return item


def open(path: str | os.PathLike) -> WindowSet:
    """Open a window set ``vitalproc.windows.build`` wrote.

    >>> ws = vitalproc.windows.open("out/")          # doctest: +SKIP
    >>> ws.arrays["art"].shape, ws.index.columns      # doctest: +SKIP
    """
    return WindowSet(path)
