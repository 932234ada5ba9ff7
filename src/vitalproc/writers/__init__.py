"""Export writers: one module per output format, behind one entry point, ``export``.

Each format module (``json``, ``msgpack``, ``csv``, ``parquet``, ``arrow``, ``text``)
declares ``FORMAT``, ``SUFFIXES``, ``REQUIRES`` (the optional libraries it needs),
``EXTRA`` (the extra that installs them), ``is_available()`` and ``write_plan(plan,
stream, **options)``; ``registry`` maps format names and file suffixes to them. Each
imports its format library inside its functions, so importing this package (or
``vitalproc``) loads no optional library.
"""

from __future__ import annotations

import os
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..model import VitalFile
    from ..ops.selection import Selection

__all__ = ["export"]


def export(
    vf: VitalFile,
    dest: str | os.PathLike[str] | IO[bytes],
    format: str = "auto",
    selection: Selection | None = None,
    **options: Any,
) -> None:
    """Write a recording in one of the export formats.

    Parameters
    ----------
    vf
        The recording.
    dest
        A path (written under a temporary name, then renamed into place, so that no
        reader sees half a file) or a binary file object.
    format
        ``"json"``, ``"msgpack"``, ``"csv"``, ``"parquet"``, ``"arrow"`` or ``"text"``
        (case-insensitive); ``"auto"``: from the suffix of ``dest`` (``.json``,
        ``.msgpack``, ``.csv``, ``.parquet``, ``.arrow``, ``.txt``...).
    selection
        Tracks, records and sections to write (``vitalproc.ops.selection.Selection``;
        default: everything).
    **options
        The format's own options: ``compact=True`` (JSON on one line),
        ``wave_cells=True`` (CSV: one row per wave record).

    Raises
    ------
    ValueError
        ``format="auto"`` and ``dest`` has no known suffix (or is a file object).
    KeyError
        An unknown format name.
    ImportError
        The format's library is missing; the message names the extra to install.
    TypeError
        An option the format does not take.

    Examples
    --------
    >>> import io, vitalproc
    >>> vf = vitalproc.read(vitalproc.SAMPLE)
    >>> out = io.BytesIO()
    >>> vitalproc.export(vf, out, "msgpack")
    >>> out.getvalue()[:1] != b""
    True
    """
    from .._deps import require
    from ..ops.selection import plan
    from . import registry
    from ._output import write_to

    if format.lower() == "auto":
        fmt = registry.for_path(dest) if isinstance(dest, (str, os.PathLike)) else None
        if fmt is None:
            raise ValueError(
                f"cannot tell the format of {dest!r}: give format= one of "
                f"{', '.join(registry.NAMES)}"
            )
    else:
        fmt = registry.get(format)
    module = fmt.load()
    for library in module.REQUIRES:
        require(library, module.EXTRA)
    write_to(dest, module.write_plan, plan(vf, selection), **options)
