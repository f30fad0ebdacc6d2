"""Heartbeats keep presence in memory; missing ones become connection_lost, and a window may pause the clock."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.core.settings import Settings
from tests.delivery.helpers import sitting
from tests.proctoring.live import Live, candidate_channel, proctor_channel


@pytest.fixture
def quick_presence(settings: Settings) -> Settings:
    settings.heartbeat_timeout_seconds = 0.6
    settings.presence_interval_seconds = 0.2
    return settings


async def kinds(live: Live, url: str, headers: dict[str, str]) -> list[str]:
    return [e["kind"] for e in (await live.http.get(url, headers=headers)).json()]


async def test_silence_is_reported_once_and_the_return_too(
    quick_presence: Settings, live: Live, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(live.http, sessionmaker, clock, proctored=True)
    proctor, snapshot = await proctor_channel(live, s.proctor)
    assert snapshot["sittings"][0]["connected"] is False  # nobody has connected yet
    candidate = await candidate_channel(live, s.attempt_id, s.headers)
    await candidate.send({"type": "heartbeat"})
    presence = await proctor.until(lambda f: f["type"] == "presence" and f["sittings"][s.attempt_id]["connected"])
    assert presence["sittings"][s.attempt_id]["last_heartbeat"] is not None

    lost = await proctor.until(lambda f: f.get("kind") == "connection_lost", timeout=3)  # no heartbeat for 0.6 s
    assert lost["source"] == "system"
    await asyncio.sleep(1.5)  # still silent: reported once, not once per timeout
    await candidate.send({"type": "heartbeat"})
    await proctor.until(lambda f: f.get("kind") == "connection_restored", timeout=3)
    log = await kinds(live, f"{s.staff_url}/events", s.proctor)
    assert log.count("connection_lost") == 1
    assert log.count("connection_restored") == 1


async def test_a_window_that_pauses_on_disconnect_stops_and_restarts_the_clock(
    quick_presence: Settings, live: Live, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(live.http, sessionmaker, clock, proctored=True, window={"pause_on_disconnect": True})
    candidate = await candidate_channel(live, s.attempt_id, s.headers)
    await candidate.send({"type": "heartbeat"})
    await candidate.socket.close()  # the laptop's lid closes
    for _ in range(40):
        if (await s.get()).json()["state"] == "paused":
            break
        await asyncio.sleep(0.1)
    assert (await s.get()).json()["state"] == "paused"
    candidate = await candidate_channel(live, s.attempt_id, s.headers)  # back: the clock runs again
    assert (await s.get()).json()["state"] == "in_progress"
    transitions = (await live.http.get(f"{s.staff_url}/transitions", headers=s.proctor)).json()
    assert [(t["to_state"], t["actor_role"], t["reason"]) for t in transitions[-2:]] == [
        ("paused", "system", "connection lost"),
        ("in_progress", "system", "connection restored"),
    ]
    await candidate.close()


async def test_without_the_policy_a_disconnect_does_not_pause(
    quick_presence: Settings, live: Live, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(live.http, sessionmaker, clock, proctored=True)
    candidate = await candidate_channel(live, s.attempt_id, s.headers)
    await candidate.socket.close()
    for _ in range(40):
        if "connection_lost" in await kinds(live, f"{s.staff_url}/events", s.proctor):
            break
        await asyncio.sleep(0.1)
    assert "connection_lost" in await kinds(live, f"{s.staff_url}/events", s.proctor)
    assert (await s.get()).json()["state"] == "in_progress"
