"""A converted dataset: its cases (``case_reader``), its manifest and track tables
(``manifest``), and duckdb views over all of it.

A dataset is a folder written by ``vitalproc.convert``: one ``<caseid>.parquet`` per
recording (vitaldb's v1.7 long schema, see ``writers/vitaldb_parquet``), the manifest
``_manifest.parquet`` (one row per source file) and ``_tracks.parquet`` (one row per track
of every converted recording). Files whose names start with ``_`` or ``.`` are not
recordings (the convention pyarrow and Spark follow).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .._deps import require
from ..model import VitalFile
from . import schema as vp
from .case_reader import read_case
from .manifest import CONVERTED, MANIFEST_NAME, TRACKS_NAME, read_rows

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import pyarrow as pa

# ---- a dataset --------------------------------------------------------------------------


class Dataset:
    """A folder ``vitalproc.convert`` wrote (see ``open_dataset``)."""

    def __init__(self, path: str | os.PathLike):
        vp.require_pyarrow()
        self.path = os.path.abspath(path)
        manifest = os.path.join(self.path, MANIFEST_NAME)
        if not os.path.exists(manifest):
            raise FileNotFoundError(f"not a dataset (no {MANIFEST_NAME}): {self.path}")
        self._rows = read_rows(manifest)
        self._by_case = {r["caseid"]: r for r in self._rows if r["status"] in CONVERTED}
        self._tracks: pa.Table | None = None

    def __repr__(self) -> str:
        return f"Dataset({self.path!r}, {len(self._by_case)} cases)"

    @property
    def recordings(self) -> pa.Table:
        """The manifest: one row per source file, failed ones included."""
        import pyarrow.parquet as pq

        return pq.ParquetFile(os.path.join(self.path, MANIFEST_NAME)).read()

    @property
    def cases(self) -> list[str]:
        """The case ids of the converted recordings, sorted."""
        return sorted(self._by_case)

    @property
    def tracks(self) -> pa.Table:
        """Every track of every converted recording (``tracks_schema``), read from the
        track table alone: no recording is opened."""
        import pyarrow.parquet as pq

        if self._tracks is None:
            self._tracks = pq.ParquetFile(os.path.join(self.path, TRACKS_NAME)).read()
        return self._tracks

    def case_path(self, caseid: str) -> str:
        """The Parquet file of a case.

        Raises
        ------
        KeyError
            No converted recording has that id.
        """
        try:
            return os.path.join(self.path, self._by_case[caseid]["output"])
        except KeyError:
            raise KeyError(f"no converted case {caseid!r} in {self.path}") from None

    def read(
        self, caseid: str, tracks: Any = None, exclude: Any = None, header_only: bool = False
    ) -> VitalFile:
        """One case as a ``VitalFile``, reading only the selected tracks.

        Parameters
        ----------
        caseid
            The case (see ``cases``).
        tracks, exclude, header_only
            As in ``vitalproc.read`` (see ``read_case``).

        Returns
        -------
        VitalFile

        Raises
        ------
        KeyError
            No converted case has that id.
        """
        return read_case(self.case_path(caseid), tracks, exclude, header_only)

    def load(
        self, caseid: str, tracks: Any = None, interval: float | None = None
    ) -> VitalFile | np.ndarray:
        """One case's tracks, as vitaldb's ``load_case`` gives them.

        Parameters
        ----------
        caseid
            The case (see ``cases``).
        tracks
            Names as in ``vitalproc.read``; None: every track.
        interval
            None: return the ``VitalFile``. A step in seconds: return the tracks on
            that time grid, ``VitalFile.to_numpy(tracks, interval)`` (rows x tracks).

        Returns
        -------
        VitalFile or numpy.ndarray

        Raises
        ------
        KeyError
            No converted case has that id.
        """
        vf = self.read(caseid, tracks)
        if interval is None:
            return vf
        return vf.to_numpy(tracks, interval)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A duckdb connection with the views ``recordings`` (the manifest), ``tracks``
        (the track table) and ``samples`` (every row of every case: vitaldb's columns
        plus ``caseid`` and ``dtname``; the span rows left out), and one per table of
        ``tables()`` (``qc``: the quality metrics, once ``vitalproc qc`` has run)."""
        duckdb = require("duckdb", "dataset", "a query")
        con = duckdb.connect()
        con.execute(
            f"CREATE VIEW recordings AS SELECT * FROM "
            f"read_parquet({_sql_str(os.path.join(self.path, MANIFEST_NAME))})"
        )
        con.execute(
            f"CREATE VIEW tracks AS SELECT * FROM "
            f"read_parquet({_sql_str(os.path.join(self.path, TRACKS_NAME))})"
        )
        con.execute(f"CREATE VIEW samples AS {_samples_sql(self)}")
        for name, path in self.tables().items():
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_sql_str(path)})")
        return con

    def tables(self) -> dict[str, str]:
        """Tables other tools wrote into the dataset (``_<name>.parquet``, such as
        ``_qc.parquet`` from ``vitalproc qc``), by the view name ``connect`` gives them."""
        import glob

        found = {}
        for path in sorted(glob.glob(os.path.join(self.path, "_*.parquet"))):
            name = os.path.basename(path)[1 : -len(".parquet")]
            if (
                path.endswith((MANIFEST_NAME, TRACKS_NAME))
                or not name.isidentifier()
                or name in ("recordings", "tracks", "samples")
            ):
                continue
            found[name] = path
        return found

    def query(self, sql: str) -> pa.Table:
        """Run SQL over the views of ``connect``.

        Parameters
        ----------
        sql
            One duckdb statement that returns rows.

        Returns
        -------
        pyarrow.Table

        Raises
        ------
        duckdb.Error
            The statement does not parse, names what does not exist, or fails.
        """
        with self.connect() as con:
            return arrow_table(con.sql(sql))


def arrow_table(relation: Any) -> pa.Table:
    """A duckdb relation's result as an Arrow table (``to_arrow_table`` since duckdb 1.4;
    before, ``arrow()`` returned the table)."""
    to_table = getattr(relation, "to_arrow_table", None)
    return to_table() if to_table is not None else relation.arrow()


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _samples_sql(dataset: Dataset) -> str:
    columns = (
        "dt, dname, tname, CASE WHEN dname = '' THEN tname ELSE dname || '/' || tname "
        "END AS dtname, unit, ivals, fvals, nval, sval, srate, gain, bias"
    )
    files = [dataset.case_path(c) for c in dataset.cases]
    if not files:
        return (
            f"SELECT NULL::VARCHAR AS caseid, {columns} FROM (SELECT NULL::DOUBLE AS dt, "
            "''::VARCHAR AS dname, ''::VARCHAR AS tname, ''::VARCHAR AS unit, "
            "NULL::SMALLINT[] AS ivals, NULL::FLOAT[] AS fvals, NULL::DOUBLE AS nval, "
            "NULL::VARCHAR AS sval, NULL::DOUBLE AS srate, NULL::DOUBLE AS gain, "
            "NULL::DOUBLE AS bias) WHERE false"
        )
    listed = ", ".join(_sql_str(f) for f in files)
    return (
        f"SELECT regexp_extract(filename, '([^/\\\\]+)\\.parquet$', 1) AS caseid, {columns} "
        f"FROM read_parquet([{listed}], filename = true, union_by_name = true) "
        "WHERE NOT (ivals IS NULL AND fvals IS NULL AND nval IS NULL AND sval IS NULL)"
    )


def open_dataset(path: str | os.PathLike) -> Dataset:
    """Open a dataset folder that ``vitalproc.convert`` wrote.

    Parameters
    ----------
    path
        The folder.

    Returns
    -------
    Dataset
        ``.cases`` (converted case ids), ``.tracks`` (every track of every case, without
        opening a recording), ``.recordings`` (the manifest), ``.read(caseid, tracks)``
        and ``.load(caseid, tracks, interval)`` (only the tracks asked for are read),
        ``.query(sql)`` (duckdb over the views ``recordings``, ``tracks``, ``samples``).

    Raises
    ------
    FileNotFoundError
        No ``_manifest.parquet`` in the folder.
    ImportError
        Without pyarrow.

    Examples
    --------
    >>> ds = vitalproc.open_dataset("vitaldb/")                     # doctest: +SKIP
    >>> ds.query("SELECT caseid, avg(nval) FROM samples WHERE tname = 'HR' "
    ...          "GROUP BY caseid")                                 # doctest: +SKIP
    """
    return Dataset(path)
