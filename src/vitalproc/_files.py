"""Files that appear complete or not at all.

A file is written under a hidden temporary name in its folder, then renamed over its
path; a reader never sees half a file, and an error leaves the old one in place.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

#: Suffix of the temporary names (a dataset's stale temporaries are found by it).
TMP_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_file(path: str) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` complete, or not at all.

    It is written under a hidden temporary name in the same folder, synced to disk, then
    renamed over ``path``; on an error the temporary file is removed.
    """
    folder, name = os.path.split(path)
    fd, tmp = tempfile.mkstemp(dir=folder or ".", prefix=f".{name}.", suffix=TMP_SUFFIX)
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the dataset from its readers
        with open(fd, "wb", closefd=False) as f:
            yield f
        os.fsync(fd)
        os.replace(tmp, path)
        tmp = None
    finally:
        os.close(fd)
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
