"""Where the compressed bytes come from: a path, a binary file object, ``bytes`` or a URL.

A source yields compressed chunks; ``whole()`` returns all of them at once for the
small-file fast path. Nothing here knows about gzip or packets.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Protocol, Union

if TYPE_CHECKING:
    import mmap

#: Compressed bytes read per step when streaming.
CHUNK = 1 << 18

#: Files at least this big are mapped rather than read: no copy, no fresh heap pages.
#: Below it, the mapping's system calls cost more than the copy.
MAP_AT_LEAST = 1 << 20


class ReadableBuffer(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


SourceLike = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, ReadableBuffer]


def is_url(text: str) -> bool:
    """vitaldb's test: a scheme and a network location (``load_vital``)."""
    if "://" not in text:  # no network location without it; a path needs no urllib
        return False
    from urllib.parse import urlparse

    parts = urlparse(text)
    return bool(parts.scheme and parts.netloc)


class Source:
    """Compressed input with a name for messages and an optional known size."""

    #: ``whole()`` costs no more than streaming (in memory, or a mapped file); a network
    #: stream is never read whole, so that a read can stop early.
    whole_is_cheap = False

    def __init__(self, name: str, size: int | None = None):
        self.name = name
        self.size = size

    def chunks(self) -> Iterator[bytes]:
        raise NotImplementedError

    def whole(self) -> bytes:
        return b"".join(self.chunks())

    def rewind(self) -> Callable[[], Iterator[bytes]] | None:
        """A way to read the compressed bytes again from the start, if there is one."""
        return None

    def close(self) -> None:
        pass


class BytesSource(Source):
    whole_is_cheap = True

    def __init__(self, data: bytes | bytearray | memoryview, name: str = "<bytes>"):
        self.data = bytes(data) if not isinstance(data, bytes) else data
        super().__init__(name, len(self.data))

    def chunks(self) -> Iterator[bytes]:
        view = memoryview(self.data)
        for start in range(0, len(view), CHUNK):
            yield view[start : start + CHUNK]

    def whole(self) -> bytes:
        return self.data

    def rewind(self) -> Callable[[], Iterator[bytes]]:
        return self.chunks


class StreamSource(Source):
    """A binary file object or an HTTP response, read in chunks; closed by us if we opened it."""

    def __init__(
        self,
        stream: IO[bytes] | ReadableBuffer,
        name: str,
        size: int | None = None,
        owned: bool = False,
    ):
        super().__init__(name, size)
        self.stream = stream
        self.owned = owned

    def chunks(self) -> Iterator[bytes]:
        read = self.stream.read
        while True:
            chunk = read(CHUNK)
            if not chunk:
                return
            yield chunk

    def whole(self) -> bytes:
        return self.stream.read()

    def close(self) -> None:
        if self.owned:
            self.stream.close()


class FileSource(StreamSource):
    """A local file: mapped whole (no copy into the heap) or read into one reused buffer."""

    whole_is_cheap = True

    def __init__(self, f: IO[bytes], name: str, size: int):
        super().__init__(f, name, size, owned=True)
        self._map: mmap.mmap | None = None

    def whole(self) -> bytes:
        if not self.size or self.size < MAP_AT_LEAST:
            return self.stream.read()
        import mmap

        self._map = mmap.mmap(self.stream.fileno(), 0, access=mmap.ACCESS_READ)
        return self._map  # type: ignore[return-value]  # a read-only buffer

    def rewind(self) -> Callable[[], Iterator[bytes]]:
        def again() -> Iterator[bytes]:
            with open(self.name, "rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk

        return again

    def chunks(self) -> Iterator[bytes]:
        # One buffer, refilled: the inflater copies what it does not consume at once.
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        readinto = self.stream.readinto
        while True:
            n = readinto(buf)
            if not n:
                return
            yield view[:n]

    def close(self) -> None:
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # an inflater still holds a view; the GC unmaps it
                pass
        super().close()


def open_source(source: SourceLike) -> Source:
    """Wrap what the caller gave us; raises the usual OSErrors for missing paths."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return BytesSource(source)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if is_url(path):
            return _open_url(path)
        f = open(path, "rb")  # FileNotFoundError / IsADirectoryError pass through
        return FileSource(f, path, os.fstat(f.fileno()).st_size)
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        return StreamSource(source, name if isinstance(name, str) else "<stream>")
    raise TypeError(
        f"cannot read a .vital recording from {type(source).__name__}: give a path, "
        "a URL, bytes or a binary file object"
    )


def _open_url(url: str) -> StreamSource:
    from urllib.request import urlopen

    response = urlopen(url)  # streamed: reading stops as soon as the walk does
    length = response.headers.get("Content-Length")
    size = int(length) if length and length.isdigit() else None
    return StreamSource(response, url, size, owned=True)
