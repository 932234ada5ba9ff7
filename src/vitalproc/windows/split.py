"""Train / validation / test by subject: every window of a subject goes to one split.

Subjects come from a clinical table (CSV or Parquet with ``caseid`` and the recipe's
subject column); a case the table does not list, or every case without a table, is its
own subject. The subjects, sorted, are shuffled by ``numpy.random.default_rng(seed)``
and cut in that order: the first ``round(train * n)`` go to ``train``, the next
``round(val * n)`` to ``val``, the rest to ``test``. Same subjects and seed, same split.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .recipe import Split

SPLITS = ("train", "val", "test")


def subjects_of(cases: list[str], split: Split, clinical: str | None = None) -> dict[str, str]:
    """caseid -> subject id (as text)."""
    path = clinical or split.clinical
    if path is None:
        return {c: c for c in cases}
    table = read_clinical(path)
    if "caseid" not in table or split.subject not in table:
        missing = "caseid" if "caseid" not in table else split.subject
        raise ValueError(
            f"{path}: the clinical table has no column {missing!r} "
            f"(split.subject names the subject column)"
        )
    known = {
        str(c): str(s)
        for c, s in zip(table["caseid"], table[split.subject])
        if s is not None and not (isinstance(s, float) and math.isnan(s))
    }
    return {c: known.get(c, c) for c in cases}


def read_clinical(path: str) -> dict[str, list]:
    """A clinical table's columns (Parquet, else CSV)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no clinical table {path!r}")
    if path.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pydict()
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cols = rows[0].keys() if rows else []
    return {c: [r[c] for r in rows] for c in cols}


def assign(subjects: list[str], split: Split) -> dict[str, str]:
    """subject -> ``train`` / ``val`` / ``test``."""
    ordered = sorted(set(subjects))
    rng = np.random.default_rng(split.seed)
    shuffled = [ordered[i] for i in rng.permutation(len(ordered))]
    n = len(shuffled)
    n_train = round(split.train * n)
    n_val = min(n - n_train, round(split.val * n))
    out = {}
    for i, s in enumerate(shuffled):
        out[s] = "train" if i < n_train else "val" if i < n_train + n_val else "test"
    return out
