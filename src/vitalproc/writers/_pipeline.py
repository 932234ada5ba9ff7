"""Batches formatted on two threads, handed back in order (``ordered``).

The compiled formatters release the GIL while they run, so two batches format at once
on two cores; the writer's thread (``_output.BackgroundWriter``) writes meanwhile. A
few batches at most are ahead of the one handed back, which bounds the memory held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: Threads formatting, besides the caller's.
HELPERS = 1
#: Batches handed out and not yet handed back, at most.
AHEAD = 4


class _Slot:
    """One batch: its input, then its result or error once a thread has run it."""

    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item: Any):
        self.item = item
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False


def ordered(func: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    """``(item, func(item))`` for each of ``items``, in order; ``func`` runs on
    ``HELPERS`` threads and on the caller's, up to ``AHEAD`` items ahead. An error of
    ``func`` is raised when its item's turn comes; ``items`` is iterated on the
    caller's thread only."""
    import threading

    changed = threading.Condition()
    todo: list[_Slot] = []  # handed out, not started
    stop = False

    def run(slot: _Slot) -> None:
        try:
            slot.result = func(slot.item)
        except BaseException as exc:  # raised on the caller's thread, in turn
            slot.error = exc
        with changed:
            slot.done = True
            changed.notify_all()

    def helper() -> None:
        while True:
            with changed:
                while not todo and not stop:
                    changed.wait()
                if not todo:
                    return
                slot = todo.pop(0)
            run(slot)

    threads = [threading.Thread(target=helper, daemon=True) for _ in range(HELPERS)]
    for thread in threads:
        thread.start()
    pending: list[_Slot] = []  # in order, not yet handed back
    source = iter(items)
    try:
        while True:
            while len(pending) < AHEAD:
                item = next(source, _END)
                if item is _END:
                    break
                slot = _Slot(item)
                pending.append(slot)
                with changed:
                    todo.append(slot)
                    changed.notify()
            if not pending:
                return
            first = pending.pop(0)
            with changed:  # not started yet: run it here rather than wait for it
                mine = first in todo
                if mine:
                    todo.remove(first)
            if mine:
                run(first)
            with changed:
                while not first.done:
                    changed.wait()
            if first.error is not None:
                raise first.error
            yield first.item, first.result
    finally:
        with changed:
            stop = True
            todo.clear()
            changed.notify_all()


_END = object()
