"""How a source is opened: the readers of the layers above the model, plugged in.

The model does no I/O and the ``.vital`` reader knows nothing of datasets; this module,
imported by ``vitalproc/__init__.py``, connects them:

- ``VitalFile(path, ...)`` reads ``path`` with the ``.vital`` reader, and a list of
  paths is one recording merged from them, as vitaldb does (``ops.merge``);
- a ``.parquet`` path (a case of a dataset made by ``vitalproc convert``, or a file from
  vitaldb's ``to_parquet``) is read by the dataset's case reader, for ``read()`` and
  ``VitalFile()`` alike.
"""

from __future__ import annotations

import os
from typing import Any

from .io import reader
from .model import VitalFile, vitalfile


def _is_case(path: str) -> bool:
    """A dataset case: a local ``.parquet`` file (a URL is always a .vital stream)."""
    return path.endswith(".parquet") and "://" not in path


def _load_case(
    vf: VitalFile,
    path: str | os.PathLike[str],
    tracks: Any,
    exclude: Any,
    header_only: bool,
    maxlen: float | None,
) -> None:
    from .dataset.case_reader import load_case_into

    load_case_into(vf, path, tracks, exclude, header_only, maxlen)


def _open(
    vf: VitalFile,
    ipath: Any,
    track_names: Any,
    exclude: Any,
    header_only: bool,
    maxlen: float | None,
    compat: str | None,
    strict: bool,
    max_inflated_bytes: int | None,
) -> None:
    """Fill ``vf`` as ``VitalFile(ipath, ...)`` does."""
    # A list of paths is one recording (ops.merge); vitaldb ignores the selection
    # arguments then, and so does this.
    if isinstance(ipath, list):
        from .ops.merge import merge_paths

        merge_paths(vf, ipath, compat, strict, max_inflated_bytes)
        vf.compat = compat  # the views follow it
        return
    reader.load_into(
        vf, ipath, track_names, exclude, header_only, maxlen, compat, strict, max_inflated_bytes
    )


reader.SOURCE_READERS.append((_is_case, _load_case))
vitalfile.set_opener(_open)
