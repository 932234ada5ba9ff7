"""Batches formatted on two threads, handed back in order (``ordered``).

The compiled formatters release the GIL while they run, so two batches format at once
on two cores; the writer's thread (``_output.BackgroundWriter``) writes meanwhile. A
few batches at most are ahead of the one handed back, which bounds the memory held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: Threads formatting.
THREADS = 2
#: Batches submitted and not yet handed back, at most.
AHEAD = 4


def ordered(func: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    """``(item, func(item))`` for each of ``items``, in order; ``func`` runs on
    ``THREADS`` threads, up to ``AHEAD`` items ahead. An error of ``func`` is raised when
    its item's turn comes; ``items`` is iterated on the caller's thread only. Closing the
    iterator early cancels the batches not started."""
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    pool = ThreadPoolExecutor(THREADS, thread_name_prefix="vitalproc-format")
    pending: deque[tuple[Any, Future]] = deque()
    try:
        for item in items:
            pending.append((item, pool.submit(func, item)))
            if len(pending) >= AHEAD:
                first, future = pending.popleft()
                yield first, future.result()
        while pending:
            first, future = pending.popleft()
            yield first, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
