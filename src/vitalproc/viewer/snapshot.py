"""The HTML snapshot: the viewer's page with the overview in it and BokehJS inlined, no
server, no request: a file to mail or attach to a report. It zooms and pans within the
envelopes it holds (one per pixel column of a wide screen)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .._files import atomic_file
from . import page
from .scene import Scene

if TYPE_CHECKING:
    from ..model import VitalFile


def snapshot_html(
    vf: VitalFile,
    tracks: Any = None,
    start: Any = None,
    end: Any = None,
    columns: int = page.OVERVIEW_COLUMNS,
    title: str | None = None,
) -> str:
    """The snapshot's HTML (see ``write_html``)."""
    scene = Scene(vf, tracks, start, end, summaries=False)
    if not scene.lanes:
        raise ValueError("no track to draw")
    return page.build(scene, live=False, title=title or page._name(scene), columns=columns)


def write_html(
    vf: VitalFile,
    path: str | os.PathLike,
    tracks: Any = None,
    start: Any = None,
    end: Any = None,
    columns: int = page.OVERVIEW_COLUMNS,
    title: str | None = None,
) -> int:
    """Write a self-contained HTML snapshot of a recording; returns its size in bytes.

    Parameters
    ----------
    vf
        The recording.
    path
        The ``.html`` file to write.
    tracks, start, end
        As in ``vitalproc.viewer.static.render``.
    columns
        Envelope columns (the screen width it is made for).
    title
        The page's title; default: the file name.
    """
    text = snapshot_html(vf, tracks, start, end, columns, title).encode("utf-8")
    with atomic_file(path) as f:  # a reader never sees half a file
        f.write(text)
    return len(text)
