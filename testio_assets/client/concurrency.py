"""Running coroutines together, cancelling the rest when one fails."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
from collections.abc import Awaitable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


async def gather_or_cancel(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Like ``asyncio.gather`` but the first failure cancels the others and is re-raised as is
    (no ExceptionGroup), so callers can catch typed client errors."""
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from synchronous code (an asset body), even under a running loop.

    The cyclic garbage collector is paused meanwhile: with a full listing in memory each full
    collection stalled the event loop for 0.2-0.4 s, so responses waited unread and the
    listing of a large customer took a fifth longer. What a fetch allocates (decoded JSON,
    requests) is freed by reference counting; cycles wait for the collector until the end.
    """
    with collector_paused():
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coro)
        # A loop already runs in this thread (a notebook): run ours in a worker thread.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, coro).result()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (usable as a decorator). For code that allocates
    many acyclic objects while a large heap is alive: a full collection then costs tenths of
    a second and reclaims nothing that reference counting would not."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
