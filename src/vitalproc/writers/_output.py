"""Where a writer's bytes go: a file that appears complete or not at all
(``vitalproc._files.atomic_file``), through a thread that does the writes while the next
batch is formatted (``BackgroundWriter``).
"""

from __future__ import annotations

import os
from typing import IO, TYPE_CHECKING, Any

from .._files import atomic_file

if TYPE_CHECKING:
    from ..ops.selection import Plan


class BackgroundWriter:
    """A write-only stream that hands big chunks to a thread doing the actual writes.

    File and pipe writes release the GIL, so formatting the next batch overlaps
    writing the last one. Small writes are gathered into ``CHUNK``-sized pieces; at
    most ``DEPTH`` pieces wait, which bounds the memory held. An error of the thread
    (a closed pipe, a full disk) is raised by the next ``write`` or by ``close``.
    """

    CHUNK = 1 << 18
    DEPTH = 2

    def __init__(self, raw: IO[bytes]):
        import threading  # (the queue module would add ~1 ms to a small export's start)

        self.raw = raw
        self.closed = False
        self.position = 0
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.error: BaseException | None = None
        self.waiting: list[Any] = []  # chunks handed over, not written yet; None: the end
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="vitalproc-writer", daemon=True)
        self.thread.start()

    def _put(self, chunk: Any) -> None:
        with self.changed:
            while len(self.waiting) >= self.DEPTH:
                self.changed.wait()
            self.waiting.append(chunk)
            self.changed.notify()

    def _get(self) -> Any:
        with self.changed:
            while not self.waiting:
                self.changed.wait()
            chunk = self.waiting.pop(0)
            self.changed.notify()
        return chunk

    def _run(self) -> None:
        while True:
            chunk = self._get()
            if chunk is None:
                return
            if self.error is None:
                try:
                    self.raw.write(chunk)
                except BaseException as exc:  # handed to the main thread
                    self.error = exc

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def write(self, data: Any) -> int:
        self._check()
        size = len(data) if not isinstance(data, memoryview) else data.nbytes
        self.position += size
        if size >= self.CHUNK:
            self._flush_pending()
            self._put(data)
        else:
            self.pending.append(bytes(data))
            self.pending_size += size
            if self.pending_size >= self.CHUNK:
                self._flush_pending()
        return size

    # What pyarrow asks of a Python file object it writes to.
    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        self._check()

    def _flush_pending(self) -> None:
        if self.pending:
            self._put(b"".join(self.pending))
            self.pending, self.pending_size = [], 0

    def close(self) -> None:
        """Write what is left, wait for the thread, raise its error if it had one."""
        if self.closed:
            return
        self.closed = True
        try:
            self._flush_pending()
        finally:
            self._put(None)
            self.thread.join()
        self._check()
        self.raw.flush()


def write_to(dest: str | os.PathLike | IO[bytes], body: Any, plan_: Plan, **options: Any) -> None:
    """Run a writer's ``body(plan, out, **options)`` on a path (atomically) or a binary
    file object, through a ``BackgroundWriter``."""
    if isinstance(dest, (str, os.PathLike)):
        with atomic_file(dest, durable=False) as out:
            write_streamed(out, body, plan_, **options)
    else:
        write_streamed(dest, body, plan_, **options)


def write_streamed(out: IO[bytes], body: Any, plan_: Plan, **options: Any) -> None:
    """``body(plan_, stream, **options)`` with the writes done by a background thread."""
    stream = BackgroundWriter(out)
    try:
        body(plan_, stream, **options)
    finally:
        stream.close()
