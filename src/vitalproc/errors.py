"""The exception and warning family of vitalproc."""

from __future__ import annotations

import os


class VitalError(Exception):
    """Base class of every error vitalproc raises on purpose."""


class VitalFormatError(VitalError, ValueError):
    """The bytes are not a readable .vital recording.

    Carries the file (``path``) and, where it applies, the byte ``offset`` of the
    fault: in the inflated stream for packet faults, in the compressed file for
    gzip faults (``where`` says which).
    """

    def __init__(
        self,
        message: str,
        path: str | os.PathLike[str] | None = None,
        offset: int | None = None,
        where: str = "inflated",
    ):
        self.path = None if path is None else os.fspath(path)
        self.offset = offset
        self.where = where
        parts = [message]
        if offset is not None:
            parts.append(f"at {where} byte offset {offset}")
        if self.path is not None:
            parts.append(f"in {self.path!r}")
        super().__init__(" ".join(parts))


class VitalWarning(UserWarning):
    """Data was recovered or skipped while reading; see ``VitalFile.warnings``."""
