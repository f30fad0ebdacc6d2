"""Group commit for candidates' events: many sockets' events stored in one transaction, then acknowledged.

Each worker runs one writer. A socket hands it an event and waits; the writer takes every event
waiting at that moment (up to ``MAX_BATCH``), locks their attempts in id order (no deadlock
between workers), stores them and commits once; only then does each socket send its ``ack``.
One commit (one fsync on SQLite) per batch instead of per event is what lets one worker carry
thousands of sockets. If a batch fails, its events are retried one by one, so one bad event
cannot refuse the others'.

The integrity rules run after the commit, off the acknowledgement path: the attempts a batch
touched are evaluated together a moment later (new incidents reach proctors within a second).
A worker that dies in between loses nothing: a sitting is re-evaluated whenever it is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import Clock
from exam_service.core.database import transaction
from exam_service.core.group_commit import GroupCommit
from exam_service.delivery import service as delivery_service
from exam_service.delivery.repository import AttemptRepository
from exam_service.models import Attempt
from exam_service.proctoring import integrity, rules
from exam_service.proctoring import service as proctoring_service
from exam_service.proctoring.presence import LIVE
from exam_service.proctoring.schemas import CandidateFrame

logger = logging.getLogger("exam_service.ingest")
MAX_BATCH = 200
EVALUATE_AFTER_SECONDS = 0.05  # lets a burst of events share one evaluation


@dataclass
class Pending:
    attempt_id: uuid.UUID
    candidate_id: uuid.UUID
    frame: CandidateFrame
    detail: dict[str, Any]
    client: str
    check_duplicate: bool


class Ingest(GroupCommit[Pending, int | None]):
    """The event writer (``core.group_commit``): a result is the stored entry's sequence number,
    or ``None`` when the sitting has ended."""

    name = "events"

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        super().__init__(MAX_BATCH)
        self.sessionmaker, self.clock = sessionmaker, clock
        self.dirty: set[uuid.UUID] = set()
        self._evaluate = asyncio.Event()
        self._evaluator_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        super().start()
        self._evaluator_task = asyncio.create_task(self._evaluator())

    async def stop(self) -> None:
        await super().stop()
        if self._evaluator_task is not None:
            self._evaluator_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._evaluator_task

    async def store_alone(self, item: Pending) -> int | BaseException | None:
        item.check_duplicate = True  # the failed batch may have stored it after all
        return await super().store_alone(item)

    async def store(self, batch: Sequence[Pending]) -> list[int | None]:
        touched: set[uuid.UUID] = set()
        async with transaction(self.sessionmaker) as session:
            repo, attempts = AttemptRepository(session), dict[uuid.UUID, Attempt | None]()
            for attempt_id in sorted({p.attempt_id for p in batch}):  # one lock order for every worker
                owner = next(p.candidate_id for p in batch if p.attempt_id == attempt_id)
                attempt = await repo.get(attempt_id, candidate_id=owner)
                if attempt is not None:
                    await delivery_service.enforce_clock(session, attempt, self.clock)
                attempts[attempt_id] = attempt
            results: list[int | None] = []
            for pending in batch:
                attempt = attempts[pending.attempt_id]
                if attempt is None or attempt.state not in LIVE or attempt.candidate_id != pending.candidate_id:
                    results.append(None)
                    continue
                stored = await proctoring_service.record_candidate_event(
                    session,
                    attempt,
                    pending.frame,
                    pending.detail,
                    pending.client,
                    self.clock,
                    evaluate=False,
                    check_duplicate=pending.check_duplicate,
                )
                results.append(stored.seq)
                if pending.frame.kind in rules.RELEVANT:
                    touched.add(attempt.id)
        if touched:
            self.dirty |= touched
            self._evaluate.set()
        return results

    async def _evaluator(self) -> None:
        while True:
            await self._evaluate.wait()
            await asyncio.sleep(EVALUATE_AFTER_SECONDS)
            self._evaluate.clear()
            due, self.dirty = sorted(self.dirty), set()
            for start in range(0, len(due), MAX_BATCH):
                try:
                    await self._evaluate_some(due[start : start + MAX_BATCH])
                except asyncio.CancelledError:
                    raise
                except Exception:  # read paths re-evaluate what is missed here
                    logger.exception("integrity evaluation failed")

    async def _evaluate_some(self, attempt_ids: list[uuid.UUID]) -> None:
        async with transaction(self.sessionmaker) as session:
            await integrity.evaluate_many(session, attempt_ids, self.clock)
