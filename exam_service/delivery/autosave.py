"""The autosave path: candidates' saves stored by group commit, each answered once it is durable.

A save request holds no database session of its own: its caller is known from the signed token
and the worker's cache of sign-ins (``identity.sessions``), and the save goes to this worker's
writer. The writer takes every save waiting, locks their attempts in one statement (in id order,
as the event writer does), applies the clock to each, checks each answer against the pinned
form held in memory (``delivery.forms``), stores each answer with one statement, and commits
once. Only then is each request answered, so an acknowledged save is on disk.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import Clock
from exam_service.core.database import transaction
from exam_service.core.errors import ExamServiceError, NotFound
from exam_service.core.group_commit import GroupCommit
from exam_service.delivery import answers, timing
from exam_service.delivery import service as delivery_service
from exam_service.delivery.forms import PinnedForms
from exam_service.delivery.repository import AttemptRepository


@dataclass(frozen=True)
class SaveCommand:
    attempt_id: uuid.UUID
    candidate_id: uuid.UUID
    position: int
    revision: int
    value: Any
    time_spent_seconds: int | None
    sign_in: str


@dataclass(frozen=True)
class Saved:
    outcome: answers.SaveOutcome
    remaining_seconds: int | None


class SaveWriter(GroupCommit[SaveCommand, Saved]):
    name = "saves"

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        forms: PinnedForms,
        max_batch: int = 200,
    ) -> None:
        super().__init__(max_batch)
        self.sessionmaker, self.clock, self.forms = sessionmaker, clock, forms

    async def store(self, batch: Sequence[SaveCommand]) -> list[Saved | BaseException]:
        async with transaction(self.sessionmaker) as session:
            attempts = await AttemptRepository(session).lock_many(sorted({c.attempt_id for c in batch}))
            for locked in attempts.values():
                await delivery_service.enforce_clock(session, locked, self.clock)
            results: list[Saved | BaseException] = []
            for command in batch:
                attempt = attempts.get(command.attempt_id)
                if attempt is None or attempt.candidate_id != command.candidate_id:
                    results.append(NotFound("no such attempt"))  # someone else's: ids are never confirmed
                    continue
                try:
                    outcome = await answers.save(
                        session,
                        attempt,
                        command.position,
                        revision=command.revision,
                        value=command.value,
                        time_spent_seconds=command.time_spent_seconds,
                        sign_in=command.sign_in,
                        clock=self.clock,
                        forms=self.forms,
                    )
                except ExamServiceError as refused:  # checked before anything of this save is written
                    results.append(refused)
                    continue
                results.append(Saved(outcome, timing.remaining_seconds(attempt, self.clock.now())))
        return results


async def get_save_writer(request: Request) -> SaveWriter:
    writer: SaveWriter = request.app.state.saves
    return writer


SaveWriterDep = Annotated[SaveWriter, Depends(get_save_writer)]
