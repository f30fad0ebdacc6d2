"""The sitting's log: published only after commit, clock decisions stand, and the hash chain finds edits."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.broker import LIVE_CHANNEL, Broker
from exam_service.core.clock import FrozenClock
from exam_service.core.database import create_engine, create_sessionmaker, transaction
from exam_service.delivery import events
from exam_service.delivery.repository import AttemptRepository
from exam_service.models import Attempt, AttemptState, SittingEvent
from tests.delivery.helpers import TIME_LIMIT_MINUTES, Sitting, sitting


@contextlib.asynccontextmanager
async def listening(broker: Broker) -> AsyncIterator[list[dict[str, Any]]]:
    """Collects every message published on the log's channel while the block runs."""
    received: list[dict[str, Any]] = []

    async def collect() -> None:
        async with broker.subscribe(LIVE_CHANNEL) as messages:
            ready.set()
            async for message in messages:
                received.append(message)

    ready = asyncio.Event()
    task = asyncio.create_task(collect())
    await ready.wait()
    try:
        yield received
    finally:
        await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def s(client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> Sitting:
    return await sitting(client, sessionmaker, clock, proctored=True)


async def stored_state(sm: async_sessionmaker[AsyncSession], attempt_id: str) -> AttemptState:
    async with sm() as session:
        attempt = await session.get(Attempt, uuid.UUID(attempt_id))
        assert attempt is not None
        return attempt.state


async def test_a_refused_request_keeps_the_clock_decision_it_discovered(
    s: Sitting, broker: Broker, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    s.clock.advance(minutes=TIME_LIMIT_MINUTES, seconds=30)  # past the deadline and its grace
    async with listening(broker) as published:
        refused = await s.save(1, 1, None)  # the save is refused: the time is up
        assert refused.status_code == 409
        # the auto-submit the request discovered is in the database although the request failed
        assert await stored_state(sessionmaker, s.attempt_id) is AttemptState.submitted
        assert (await s.save(2, 1, None)).status_code == 409  # a second refused request finds nothing to do
    submits = [m for m in published if m["kind"] == "state_changed" and m["detail"]["to"] == "submitted"]
    assert len(submits) == 1  # announced once, not once per refused request
    assert submits[0]["source"] == "system"


async def test_nothing_is_published_or_stored_from_a_rolled_back_transaction(
    s: Sitting, broker: Broker, database_url: str, clock: FrozenClock
) -> None:
    engine = create_engine(database_url)
    sm = create_sessionmaker(engine, broker)
    try:

        async def fail_after_writing() -> None:
            async with transaction(sm) as session:
                attempt = await AttemptRepository(session).get(uuid.UUID(s.attempt_id))
                assert attempt is not None
                await events.append(session, attempt, "warning", {"message": "x"}, events.SYSTEM, clock.now())
                raise RuntimeError("the request failed after the entry was written")

        async with listening(broker) as published:
            with pytest.raises(RuntimeError):
                await fail_after_writing()
            async with transaction(sm) as session:
                attempt = await AttemptRepository(session).get(uuid.UUID(s.attempt_id))
                assert attempt is not None
                kept = await events.append(session, attempt, "warning", {"message": "y"}, events.SYSTEM, clock.now())
        assert [(m["kind"], m["detail"]) for m in published] == [("warning", {"message": "y"})]
        async with sm() as session:
            stored = (await session.execute(select(SittingEvent.detail).where(SittingEvent.kind == "warning"))).all()
        assert [row[0] for row in stored] == [{"message": "y"}]
        assert kept.seq == published[0]["seq"]
    finally:
        await engine.dispose()


async def test_entries_are_numbered_without_gaps_and_the_chain_verifies(s: Sitting, client: httpx.AsyncClient) -> None:
    for n in range(3):
        assert (await s.staff("warn", message=f"warning {n}")).status_code == 200
    log = (await client.get(f"{s.staff_url}/events", headers=s.proctor)).json()
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
    examiner = s.admin  # admins may verify; proctors may not
    assert (await client.get(f"{s.staff_url}/events/verify", headers=s.proctor)).status_code == 403
    report = (await client.get(f"{s.staff_url}/events/verify", headers=examiner)).json()
    assert report == {"valid": True, "entries": len(log), "broken_at": None, "problem": None}


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("edit", "its content does not match its hash"),
        ("remove", "entry 3 is missing"),
        ("rehash", "does not link to the entry before it"),
    ],
)
async def test_editing_a_stored_entry_is_found_by_verification(
    s: Sitting, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], tamper: str, problem: str
) -> None:
    for n in range(3):
        assert (await s.staff("warn", message=f"warning {n}")).status_code == 200
    attempt_id = uuid.UUID(s.attempt_id)
    async with sessionmaker() as session, session.begin():
        where = (SittingEvent.attempt_id == attempt_id, SittingEvent.seq == 3)
        if tamper == "edit":  # someone softens a warning in the database
            await session.execute(update(SittingEvent).where(*where).values(detail={"message": "nothing happened"}))
        elif tamper == "remove":
            await session.execute(delete(SittingEvent).where(*where))
        else:  # edited and re-hashed to hide it: the next entry's link no longer matches
            row = (await session.execute(select(SittingEvent).where(*where))).scalar_one()
            row.detail = {"message": "nothing happened"}
            row.hash = events.chain_hash(row)
    report = (await client.get(f"{s.staff_url}/events/verify", headers=s.admin)).json()
    assert report["valid"] is False
    assert report["broken_at"] == (4 if tamper == "rehash" else 3)
    assert report["problem"] == problem
