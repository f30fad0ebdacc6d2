"""Background sweep: submits overdue attempts and expires unstarted ones, every few seconds.

Reading an attempt applies the same rules, so the sweeper only makes it happen on time for
attempts nobody is looking at. Each worker may run one; row locks make the work idempotent.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import Clock
from exam_service.core.database import transaction
from exam_service.delivery import service as delivery_service

logger = logging.getLogger("exam_service.sweeper")


async def sweep_once(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> dict[str, int]:
    async with transaction(sessionmaker) as session:
        return await delivery_service.sweep(session, clock)


async def run_sweeper(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, interval: float) -> None:
    while True:
        try:
            counts = await sweep_once(sessionmaker, clock)
            if any(counts.values()):
                logger.info("sweep", extra=counts)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("sweep failed; retrying at the next interval")
        await asyncio.sleep(interval)
