"""A clinical table: one row per case (age, weight, operation, anaesthesia times ...),
read from CSV or Parquet (or given as a pyarrow Table or pandas DataFrame), its case ids
as text so that ``1`` in a CSV matches the case ``1`` of a dataset."""

from __future__ import annotations

import os
from typing import Any

from .errors import QualityInputError


class Clinical:
    """The table's columns by name, and its case ids (text) in row order."""

    def __init__(self, table: Any, caseid_column: str, name: str):
        import pyarrow as pa

        self.name = name
        self.table = table
        self.columns = list(table.column_names)
        if caseid_column not in self.columns:
            raise QualityInputError(
                f"{name}: no case id column {caseid_column!r} (columns: "
                f"{', '.join(self.columns) or 'none'})"
            )
        ids = table.column(caseid_column)
        if pa.types.is_floating(ids.type):  # 1.0 from a CSV column with a blank
            ids = [
                None if v is None else (str(int(v)) if float(v).is_integer() else str(v))
                for v in ids.to_pylist()
            ]
        else:
            ids = [None if v is None else str(v) for v in ids.to_pylist()]
        self.caseids: list[str | None] = ids
        self.caseid_column = caseid_column
        seen: set[str] = set()
        for i, c in enumerate(ids):
            if c in seen:
                raise QualityInputError(
                    f"{name}: case id {c!r} is on more than one row (row {i + 1})"
                )
            if c is not None:
                seen.add(c)

    def values(self, column: str) -> list[Any]:
        """A column's values as Python objects, in row order."""
        return self.table.column(column).to_pylist()

    def numbers(self, column: str) -> list[float]:
        """A column as floats; blanks and text that is no number are NaN."""
        out = []
        for v in self.values(column):
            try:
                out.append(float(v) if v is not None and not isinstance(v, bool) else float("nan"))
            except (TypeError, ValueError):
                out.append(float("nan"))
        return out

    def is_numeric(self, column: str) -> bool:
        import pyarrow as pa

        t = self.table.column(column).type
        return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def read_clinical(source: Any, caseid_column: str = "caseid") -> Clinical:
    """Read a clinical table.

    Parameters
    ----------
    source
        A ``.csv`` or ``.parquet`` path, a pyarrow Table, or a pandas DataFrame.
    caseid_column
        The column holding case ids (as the dataset names its cases).

    Raises
    ------
    QualityInputError
        The file cannot be read as a table, has no ``caseid_column``, or lists a case
        twice.
    FileNotFoundError
        No such file.
    """
    import pyarrow as pa

    if isinstance(source, pa.Table):
        return Clinical(source, caseid_column, "the clinical table")
    if hasattr(source, "columns") and hasattr(source, "to_dict"):  # pandas
        return Clinical(
            pa.Table.from_pandas(source, preserve_index=False), caseid_column, "the clinical table"
        )
    path = os.fspath(source)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such clinical table: {path!r}")
    try:
        if path.lower().endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            import pyarrow.csv as pcsv

            # case ids stay text as written ("0001" is not 1)
            table = pcsv.read_csv(
                path, convert_options=pcsv.ConvertOptions(column_types={caseid_column: pa.string()})
            )
    except (pa.ArrowInvalid, OSError) as exc:
        raise QualityInputError(f"{path}: not a readable CSV or Parquet table ({exc})") from None
    return Clinical(table, caseid_column, path)
