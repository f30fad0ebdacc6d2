"""Reconnecting clients resume by sequence number: every entry exactly once, in order, whenever they drop."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from tests.delivery.helpers import Sitting
from tests.proctoring.live import Channel, Live, candidate_channel, open_channel, proctor_channel, ticket


async def drop(channel: Channel, rng: random.Random) -> None:
    """Half the time a clean close, half the time the network just goes away."""
    if rng.random() < 0.5:
        channel.socket.transport.abort()
    else:
        await channel.close()


async def log_length(live: Live, s: Sitting) -> list[dict[str, Any]]:
    response = await live.http.get(f"{s.staff_url}/events", headers=s.proctor)
    entries: list[dict[str, Any]] = response.json()
    return entries


async def test_a_proctor_dropped_at_random_points_sees_every_entry_once_in_order(
    live: Live, proctored: Sitting
) -> None:
    rng = random.Random(20261130)
    total = 80
    candidate = await candidate_channel(live, proctored.attempt_id, proctored.headers)
    acked: set[int] = set()

    async def produce() -> None:
        for n in range(1, total + 1):
            await candidate.send({"type": "event", "client_seq": n, "kind": "copy", "detail": {"length": n}})
            await asyncio.sleep(0.055)  # within the per-socket rate limit
        while len(acked) < total:
            frame = await candidate.next(10)
            if frame["type"] == "ack":
                acked.add(frame["client_seq"])

    producer = asyncio.create_task(produce())
    seen: list[int] = []
    reconnects = 0
    while True:
        proctor, _ = await proctor_channel(live, proctored.proctor, {proctored.attempt_id: seen[-1] if seen else 0})
        budget = rng.randint(1, 25)
        try:
            while budget > 0:
                frame = await proctor.next(3)
                if frame["type"] == "event":
                    seen.append(frame["seq"])
                    budget -= 1
        except TimeoutError:
            if producer.done():
                await proctor.close()
                break
        await drop(proctor, rng)
        reconnects += 1
    await producer
    log = await log_length(live, proctored)
    assert reconnects >= 5
    assert seen == [e["seq"] for e in log]  # every entry, once, in order
    assert len([e for e in log if e["kind"] == "copy"]) == total


async def test_a_candidate_dropped_at_random_points_gets_every_proctor_message_once(
    live: Live, proctored: Sitting
) -> None:
    rng = random.Random(7)
    total = 60

    async def produce() -> None:
        for n in range(total):
            response = await live.http.post(
                f"{proctored.staff_url}/warn", headers=proctored.proctor, json={"message": f"warning {n}"}
            )
            assert response.status_code == 200
            await asyncio.sleep(0.01)

    producer = asyncio.create_task(produce())
    received: list[dict[str, Any]] = []
    last_seq = 0
    while True:
        url = await ticket(live, f"/api/v1/attempts/{proctored.attempt_id}/channel-ticket", proctored.headers)
        channel = await open_channel(live, url)
        await channel.send({"type": "hello", "last_seq": last_seq})
        assert (await channel.next())["type"] == "welcome"
        budget = rng.randint(1, 12)
        try:
            while budget > 0:
                frame = await channel.next(2)
                if frame["type"] == "event":
                    received.append(frame)
                    last_seq = frame["seq"]
                    budget -= 1
        except TimeoutError:
            if producer.done():
                await channel.close()
                break
        await drop(channel, rng)
    await producer
    warnings = [e for e in await log_length(live, proctored) if e["kind"] == "warning"]
    assert [f["seq"] for f in received if f["kind"] == "warning"] == [e["seq"] for e in warnings]
    assert [f["detail"]["message"] for f in received if f["kind"] == "warning"] == [
        f"warning {n}" for n in range(total)
    ]
    assert "candidate" not in {f["source"] for f in received}  # never the candidate's own entries
