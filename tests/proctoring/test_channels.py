"""The channels end to end over real sockets: events reach proctors, actions reach candidates."""

from __future__ import annotations

import asyncio

from tests.delivery.helpers import Sitting
from tests.proctoring.live import Channel, Live, candidate_channel, open_channel, proctor_channel, ticket


async def test_a_candidate_event_reaches_the_proctor_and_a_pause_reaches_the_candidate(
    live: Live, proctored: Sitting
) -> None:
    proctor, snapshot = await proctor_channel(live, proctored.proctor)
    (row,) = snapshot["sittings"]
    assert (row["attempt_id"], row["state"], row["risk_score"]) == (proctored.attempt_id, "in_progress", 0)
    candidate = await candidate_channel(live, proctored.attempt_id, proctored.headers)

    await candidate.send({"type": "event", "client_seq": 1, "kind": "visibility_hidden", "detail": {}})
    ack = await candidate.until(lambda f: f["type"] == "ack")
    seen = await proctor.until(lambda f: f["type"] == "event" and f["kind"] == "visibility_hidden")
    assert (seen["seq"], seen["source"]) == (ack["seq"], "candidate")

    await proctor.send(
        {
            "type": "action",
            "request_id": "p1",
            "attempt_id": proctored.attempt_id,
            "action": "pause",
            "reason": "look up",
        }
    )
    assert (await proctor.until(lambda f: f["type"] == "result"))["ok"] is True
    paused = await candidate.until(lambda f: f["type"] == "event" and f["kind"] == "state_changed")
    assert (paused["detail"]["to"], paused["source"]) == ("paused", "proctor")
    await candidate.close()
    await proctor.close()


async def tab_channel(live: Live, s: Sitting, tab: str) -> Channel:
    """A candidate socket opened by the browser tab ``tab`` (its X-Client-Session id)."""
    url = await ticket(live, f"/api/v1/attempts/{s.attempt_id}/channel-ticket", s.headers | {"X-Client-Session": tab})
    channel = await open_channel(live, url)
    await channel.send({"type": "hello", "last_seq": 0})
    assert (await channel.next())["type"] == "welcome"
    return channel


async def test_an_event_resent_after_a_reconnect_is_stored_once(live: Live, proctored: Sitting) -> None:
    first = await tab_channel(live, proctored, "tab1")
    await first.send({"type": "event", "client_seq": 1, "kind": "paste", "detail": {"length": 5, "position": 2}})
    ack = await first.until(lambda f: f["type"] == "ack")
    first.socket.transport.abort()  # the ack was lost with the network: the page sends the event again
    again = await tab_channel(live, proctored, "tab1")
    await again.send({"type": "event", "client_seq": 1, "kind": "paste", "detail": {"length": 5, "position": 2}})
    assert (await again.until(lambda f: f["type"] == "ack"))["seq"] == ack["seq"]
    log = (await live.http.get(f"{proctored.staff_url}/events", headers=proctored.proctor)).json()
    assert [e["kind"] for e in log].count("paste") == 1


async def test_events_from_many_sockets_at_once_are_all_stored_and_acknowledged(live: Live, proctored: Sitting) -> None:
    tabs = [await tab_channel(live, proctored, f"tab{n}") for n in range(6)]

    async def burst(channel: Channel) -> list[int]:
        for n in range(1, 11):
            await channel.send({"type": "event", "client_seq": n, "kind": "copy", "detail": {"length": n}})
        acks = [await channel.until(lambda f: f["type"] == "ack") for _ in range(10)]
        assert [a["client_seq"] for a in acks] == list(range(1, 11))  # in the order sent
        return [a["seq"] for a in acks]

    seqs = [seq for batch in await asyncio.gather(*(burst(t) for t in tabs)) for seq in batch]
    assert len(set(seqs)) == 60  # one number per event, none shared
    log = (await live.http.get(f"{proctored.staff_url}/events", headers=proctored.proctor)).json()
    assert sorted(e["seq"] for e in log if e["kind"] == "copy") == sorted(seqs)
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))


async def test_actions_sent_in_a_burst_are_applied_in_order_and_each_answered(live: Live, proctored: Sitting) -> None:
    proctor, _ = await proctor_channel(live, proctored.proctor)
    candidate = await candidate_channel(live, proctored.attempt_id, proctored.headers)
    burst = ["pause", "resume"] * 5
    for n, action in enumerate(burst):  # none waits for the one before
        await proctor.send(
            {
                "type": "action",
                "request_id": f"r{n}",
                "attempt_id": proctored.attempt_id,
                "action": action,
                "reason": "a check of the desk",
            }
        )
    results = [await proctor.until(lambda f: f["type"] == "result") for _ in burst]
    assert [(r["request_id"], r["ok"]) for r in results] == [(f"r{n}", True) for n in range(len(burst))], results
    changes = [
        (
            await candidate.until(
                lambda f: (
                    f["type"] == "event"
                    and f["kind"] == "state_changed"
                    and f["detail"].get("from") in ("in_progress", "paused")
                )
            )
        )["detail"]["to"]
        for _ in burst
    ]
    assert changes == ["paused", "in_progress"] * 5
    await candidate.close()
    await proctor.close()
