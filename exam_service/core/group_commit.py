"""Group commit: many callers' writes stored in one transaction, each answered after the commit.

A caller hands an item to the worker's writer and waits on its future. The writer takes every
item waiting at that moment (up to ``max_batch``) and stores them with one commit (one fsync on
SQLite, one round trip of WAL flush on PostgreSQL); only then is each future resolved, so an
answer always means the write is durable. A refusal that belongs to one item (a stale sitting, a
bad value) is that item's result, not the batch's. If the batch itself fails, its items are
retried one by one, so one bad item cannot refuse the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

logger = logging.getLogger("exam_service.group_commit")

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(ABC, Generic[Item, Result]):
    """One writer task per worker; subclasses say how a batch is stored."""

    name = "writes"

    def __init__(self, max_batch: int = 200) -> None:
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Item, asyncio.Future[Result]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def store(self, batch: Sequence[Item]) -> Sequence[Result | BaseException]:
        """Stores the batch in one transaction; a result (or a refusal) per item, in order."""

    async def store_alone(self, item: Item) -> Result | BaseException:
        try:
            (result,) = await self.store([item])
        except Exception as exc:
            return exc
        return result

    def put(self, item: Item) -> asyncio.Future[Result]:
        """Queues ``item``; the future resolves once it is committed (or refused)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)  # a caller that went away leaves no "never retrieved" warning
        self._queue.put_nowait((item, future))
        return future

    async def submit(self, item: Item) -> Result:
        """Queues ``item`` and waits for its commit; the write stands even if the caller goes away."""
        return await asyncio.shield(self.put(item))

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            items = [item for item, _ in batch]
            results: list[Result | BaseException]
            try:
                results = list(await self.store(items))
            except asyncio.CancelledError:
                for _, future in batch:
                    if not future.done():
                        future.cancel()
                raise
            except Exception:
                logger.warning("a batch of %d %s failed; storing them one by one", len(batch), self.name, exc_info=True)
                results = [await self.store_alone(item) for item in items]
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
