"""Scores sittings by themselves: when a sitting ends, when a grading job finishes, and on a timer.

Messages make scoring prompt; the timer makes it certain (a message lost with a restart or a
Redis outage is found by ``ResultRepository.due``). Every web process runs one; two scoring the
same sitting queue on its row lock, and the second stores nothing new.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.broker import Broker
from exam_service.core.clock import Clock
from exam_service.core.database import transaction
from exam_service.grading.service import GRADING_CHANNEL
from exam_service.scoring import key_corrections, service
from exam_service.scoring.repository import ResultRepository

log = logging.getLogger(__name__)
BATCH = 200


class Scorer:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, interval: float) -> None:
        self.sessionmaker, self.clock, self.interval = sessionmaker, clock, interval
        self.waiting: asyncio.Queue[uuid.UUID | None] = asyncio.Queue()

    async def score(self, attempt_id: uuid.UUID) -> None:
        try:
            async with transaction(self.sessionmaker) as session:
                await service.score_by_id(session, attempt_id, self.clock)
        except Exception:
            log.exception("scoring sitting %s failed; the next sweep tries again", attempt_id)

    async def sweep(self) -> int:
        """Scores what is due, then reports the key corrections whose sittings are all rescored."""
        async with transaction(self.sessionmaker) as session:
            due = await ResultRepository(session).due(BATCH)
        for attempt_id in due:
            await self.score(attempt_id)
        async with transaction(self.sessionmaker) as session:
            await key_corrections.settle(session, self.clock.now())
        return len(due)

    async def run(self, broker: Broker) -> None:
        async with broker.subscribe(GRADING_CHANNEL) as messages:
            listener = asyncio.create_task(self._listen(messages))
            try:
                while True:
                    swept = 0
                    try:
                        swept = await self.sweep()
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("the scoring sweep failed; trying again shortly")
                    if swept < BATCH:  # a full batch means more is due: sweep again at once
                        await self._drain()
            finally:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _drain(self) -> None:
        """Scores what messages name until the next sweep is due, or a key correction asks for one now."""
        loop = asyncio.get_running_loop()
        until = loop.time() + self.interval
        while (left := until - loop.time()) > 0:
            try:
                attempt_id = await asyncio.wait_for(self.waiting.get(), left)
            except TimeoutError:
                return
            if attempt_id is None:
                return
            await self.score(attempt_id)

    async def _listen(self, messages: AsyncIterator[dict[str, Any]]) -> None:
        async for message in messages:
            if "rescore" in message:
                self.waiting.put_nowait(None)  # a sweep at once: it finds the sittings to rescore
                continue
            with contextlib.suppress(KeyError, ValueError, TypeError):
                self.waiting.put_nowait(uuid.UUID(str(message["attempt_id"])))


@contextlib.asynccontextmanager
async def scoring(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, broker: Broker, interval: float
) -> AsyncIterator[Scorer | None]:
    """Runs a scorer for the lifespan; an interval of 0 turns it off (tests score by hand)."""
    if interval <= 0:
        yield None
        return
    scorer = Scorer(sessionmaker, clock, interval)
    task = asyncio.create_task(scorer.run(broker))
    try:
        yield scorer
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
