"""Files that appear complete or not at all.

A file is written under a hidden temporary name in its folder, synced to disk, then
renamed over its path in one step: a reader sees the old file or the new one, never half
of one, and an error leaves the old one in place.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from typing import BinaryIO

#: Suffix of the temporary names (a dataset's stale temporaries are found by it).
TMP_SUFFIX = ".tmp"

#: Write buffer of the file object (exports write many small pieces).
BUFFER = 1 << 20


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, *, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` complete, or not at all.

    The file is written as ``.<name>.<random>.tmp`` in the same folder, synced to disk
    when ``durable`` (so that a crash after the rename cannot leave an empty file), then
    renamed over ``path`` (``os.replace``: the old file, if any, is replaced in one step).
    Exports pass ``durable=False``: they are made again from their recording, and syncing
    hundreds of megabytes of text would cost more than writing it. A file that
    replaces another keeps its permission bits; a new one gets the usual mode of a new
    file (``0o666`` less the umask). On an error, or an interrupt, inside the block the
    temporary file is removed and ``path`` is left as it was.

    A ``path`` that exists but is no regular file (``/dev/null``, a FIFO) is written to
    directly: a rename would replace the device itself.
    """
    path = os.fspath(path)
    try:
        mode: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(path, "wb") as direct:
            yield direct
        return
    folder, name = os.path.split(os.path.abspath(path))
    fd, tmp = _create_beside(folder, name)
    try:
        if mode is not None:  # else the umask, applied when it was created
            os.fchmod(fd, mode & 0o7777)
        with open(fd, "wb", buffering=BUFFER) as f:
            yield f
            f.flush()
            if durable:
                os.fsync(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _create_beside(folder: str, name: str) -> tuple[int, str]:
    """A new file ``.<name>.<random>.tmp`` in ``folder``, opened for writing, created
    with mode ``0o666`` so that the umask gives a new file's usual bits."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}{TMP_SUFFIX}")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # another writer drew the same name
            continue
