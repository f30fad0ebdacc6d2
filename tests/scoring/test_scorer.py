"""The background scorer: a sitting that ends is scored without anyone asking, even if the message is lost."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.broker import Broker
from exam_service.core.clock import FrozenClock
from exam_service.models import Result, ResultState
from exam_service.scoring.scorer import Scorer
from tests.delivery.helpers import Sitting, sitting
from tests.scoring.helpers import answer, submit
from tests.scoring.test_corrections import ALL_THEORY, another_sitting

Session = async_sessionmaker[AsyncSession]


@contextlib.asynccontextmanager
async def running(scorer: Scorer, broker: Broker) -> AsyncIterator[None]:
    task = asyncio.create_task(scorer.run(broker))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def result_of(sm: Session, s: Sitting, timeout: float = 10) -> Result:
    async with asyncio.timeout(timeout):
        while True:
            async with sm() as session:
                result = await session.get(Result, uuid.UUID(s.attempt_id))
            if result is not None:
                return result
            await asyncio.sleep(0.05)


async def test_sittings_are_scored_on_their_message_and_by_the_sweep(
    client: httpx.AsyncClient, clock: FrozenClock, broker: Broker
) -> None:
    sm: Session = client.app.state.sessionmaker  # type: ignore[attr-defined]
    # ended while no scorer ran: its message is gone, the first sweep finds it
    missed = await sitting(client, sm, clock, rules=ALL_THEORY)
    await answer(missed, sm)
    await submit(missed)
    prompt = await another_sitting(client, sm, clock, missed)
    await answer(prompt, sm)

    async with running(Scorer(sm, clock, interval=3600), broker):
        swept = await result_of(sm, missed)
        assert (swept.state, swept.passed, swept.percent) == (ResultState.ready, True, 100.0)
        # the next sweep is an hour away: only the submit's message can score this one now
        await submit(prompt)
        heard = await result_of(sm, prompt)
        assert (heard.state, heard.complete) == (ResultState.ready, True)


async def test_an_irregularity_reported_after_the_sitting_ended_sends_a_ready_result_to_review(
    client: httpx.AsyncClient, clock: FrozenClock, broker: Broker
) -> None:
    sm: Session = client.app.state.sessionmaker  # type: ignore[attr-defined]
    s = await sitting(client, sm, clock, proctored=True, rules=ALL_THEORY)
    await answer(s, sm)
    await submit(s)
    scorer = Scorer(sm, clock, interval=3600)
    assert await scorer.sweep() == 1
    assert (await result_of(sm, s)).state is ResultState.ready
    assert await scorer.sweep() == 0  # nothing changed: nothing to score
    clock.advance(minutes=1)
    reported = await s.staff("report", category="candidate_behaviour", description="notes found after the exam")
    assert reported.status_code == 200, reported.text
    assert await scorer.sweep() == 1
    withheld = await result_of(sm, s)
    assert withheld.state is ResultState.withheld
    assert "a proctor reported an irregularity" in withheld.review_reasons
