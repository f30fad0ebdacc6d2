"""Hostile or broken clients on the channels: each is refused or closed with its documented code
(docs/PROCTORING.md, "Close codes"), and none of them disturbs the server or anyone else's socket.

Every test keeps a proctor socket and a well-behaved candidate socket open from before the abuse;
afterwards the server still answers over HTTP, and an event the candidate sends on the good socket
still reaches the proctor.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from exam_service.core.clock import FrozenClock
from exam_service.core.settings import Settings
from exam_service.models import Role
from tests.delivery.helpers import Sitting
from tests.factories import auth_headers
from tests.proctoring.live import Channel, Live, candidate_channel, open_channel, proctor_channel, ticket

CANDIDATE = "/ws/candidate"
PROCTOR = "/ws/proctor"


@dataclass
class Watch:
    """A proctor socket and a good candidate socket, both opened before any abuse."""

    live: Live
    sitting: Sitting
    proctor: Channel
    candidate: Channel
    client_seq: int = 0

    async def still_serving(self) -> None:
        """The server answers HTTP, and a fresh candidate event reaches the already-open proctor socket."""
        health = await self.live.http.get("/healthz")
        assert health.status_code == 200, health.text
        status = await self.live.http.get(self.sitting.url, headers=self.sitting.headers)
        assert status.status_code == 200, status.text
        assert status.json()["state"] == "in_progress"
        self.client_seq += 1
        client_seq = self.client_seq
        await self.candidate.send({"type": "event", "client_seq": client_seq, "kind": "context_menu", "detail": {}})
        ack = await self.candidate.until(lambda f: f["type"] == "ack" and f["client_seq"] == client_seq)
        seen = await self.proctor.until(
            lambda f: f["type"] == "event" and f["attempt_id"] == self.sitting.attempt_id and f["seq"] == ack["seq"]
        )
        assert (seen["kind"], seen["source"]) == ("context_menu", "candidate")

    async def candidate_url(self) -> str:
        return await ticket(
            self.live, f"/api/v1/attempts/{self.sitting.attempt_id}/channel-ticket", self.sitting.headers
        )

    async def proctor_url(self) -> str:
        return await ticket(self.live, "/api/v1/proctoring/channel-ticket", self.sitting.proctor, {"window_id": None})


@pytest.fixture
async def watch(live: Live, proctored: Sitting) -> AsyncIterator[Watch]:
    proctor, snapshot = await proctor_channel(live, proctored.proctor)
    assert [row["attempt_id"] for row in snapshot["sittings"]] == [proctored.attempt_id]
    candidate = await candidate_channel(live, proctored.attempt_id, proctored.headers)
    watching = Watch(live, proctored, proctor, candidate)
    await watching.still_serving()  # the baseline works before anything is abused
    yield watching
    await candidate.close()
    await proctor.close()


async def welcomed(live: Live, url: str, hello: dict[str, Any], **connect: Any) -> dict[str, Any] | int:
    """The first answer to ``hello`` on a new socket, or the close code if the server closes instead."""
    channel = await open_channel(live, url, **connect)
    try:
        await channel.send(hello)
        return await channel.next()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else 1006
    finally:
        await channel.close()


async def refused(live: Live, url: str, **connect: Any) -> int:
    """Connects, says hello, and returns the close code (the handshake itself is accepted, then closed)."""
    outcome = await welcomed(live, url, {"type": "hello", "last_seq": 0}, **connect)
    assert isinstance(outcome, int), f"expected a close, got {outcome}"
    return outcome


async def opened_candidate(watch: Watch) -> Channel:
    """A second, fresh candidate socket on the same sitting, past hello."""
    channel = await open_channel(watch.live, await watch.candidate_url())
    await channel.send({"type": "hello", "last_seq": 0})
    assert (await channel.next())["type"] == "welcome"
    return channel


async def opened_proctor(watch: Watch) -> Channel:
    channel = await open_channel(watch.live, await watch.proctor_url())
    await channel.send({"type": "hello", "cursors": {}})
    assert (await channel.next())["type"] == "snapshot"
    return channel


# ---- tickets -----------------------------------------------------------------------------------


async def test_no_ticket_is_closed_4401(watch: Watch) -> None:
    for path in (CANDIDATE, PROCTOR, f"{CANDIDATE}?ticket=", f"{PROCTOR}?ticket="):
        assert await refused(watch.live, path) == 4401, path
    await watch.still_serving()


async def test_a_made_up_ticket_is_closed_4401(watch: Watch) -> None:
    for path in (CANDIDATE, PROCTOR):
        assert await refused(watch.live, f"{path}?ticket={secrets.token_urlsafe(32)}") == 4401, path
        assert await refused(watch.live, f"{path}?ticket={'x' * 300}") == 4401, path
    await watch.still_serving()


async def test_a_reused_ticket_is_closed_4401_on_the_second_handshake(watch: Watch) -> None:
    url = await watch.candidate_url()
    first = await open_channel(watch.live, url)
    await first.send({"type": "hello", "last_seq": 0})
    assert (await first.next())["type"] == "welcome"
    assert await refused(watch.live, url) == 4401

    proctor_url = await watch.proctor_url()
    assert isinstance(await welcomed(watch.live, proctor_url, {"type": "hello", "cursors": {}}), dict)
    assert await refused(watch.live, proctor_url) == 4401

    # the socket that did redeem the ticket keeps working
    await first.send({"type": "event", "client_seq": 1, "kind": "window_focus", "detail": {}})
    assert (await first.until(lambda f: f["type"] in ("ack", "error")))["type"] == "ack"
    await first.close()
    await watch.still_serving()


async def test_two_simultaneous_handshakes_with_one_ticket_open_one_socket(watch: Watch) -> None:
    url = await watch.candidate_url()
    outcomes = await asyncio.gather(*(welcomed(watch.live, url, {"type": "hello", "last_seq": 0}) for _ in range(2)))
    welcomes = [o for o in outcomes if isinstance(o, dict)]
    assert len(welcomes) == 1, outcomes
    assert welcomes[0]["type"] == "welcome", outcomes
    assert [o for o in outcomes if isinstance(o, int)] == [4401], outcomes
    await watch.still_serving()


async def test_an_expired_ticket_is_closed_4401(watch: Watch, clock: FrozenClock, settings: Settings) -> None:
    candidate_url, proctor_url = await watch.candidate_url(), await watch.proctor_url()
    clock.advance(seconds=settings.channel_ticket_seconds + 1)
    assert await refused(watch.live, candidate_url) == 4401
    assert await refused(watch.live, proctor_url) == 4401
    await watch.still_serving()


async def test_a_candidate_ticket_on_the_proctor_channel_is_closed_4403(watch: Watch) -> None:
    assert await refused(watch.live, (await watch.candidate_url()).replace(CANDIDATE, PROCTOR)) == 4403
    # and the other way round: a proctor's ticket opens no candidate channel
    assert await refused(watch.live, (await watch.proctor_url()).replace(PROCTOR, CANDIDATE)) == 4403
    await watch.still_serving()


async def test_a_candidate_ticket_reaches_only_its_own_sitting(
    watch: Watch, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    live, a = watch.live, watch.sitting
    other, other_headers = await auth_headers(live.http, sessionmaker, clock, Role.candidate)
    registered = await live.http.post(
        f"/api/v1/windows/{a.window_id}/registrations", headers=a.admin, json={"candidate_id": str(other.id)}
    )
    assert registered.status_code == 201, registered.text
    b_attempt = registered.json()["id"]

    # over HTTP, a candidate cannot get a ticket for someone else's attempt (and its id is not confirmed)
    for owner, attempt_id in ((other_headers, a.attempt_id), (a.headers, b_attempt)):
        response = await live.http.post(f"/api/v1/attempts/{attempt_id}/channel-ticket", headers=owner)
        assert response.status_code == 404, response.text

    # a ticket is bound to its sitting: naming another attempt in the URL changes nothing
    url = await watch.candidate_url()
    welcome = await welcomed(live, f"{url}&attempt_id={b_attempt}", {"type": "hello", "last_seq": 0})
    assert isinstance(welcome, dict), welcome
    assert welcome["attempt_id"] == a.attempt_id, welcome
    b_url = await ticket(live, f"/api/v1/attempts/{b_attempt}/channel-ticket", other_headers)
    welcome = await welcomed(live, f"{b_url}&attempt_id={a.attempt_id}", {"type": "hello", "last_seq": 0})
    assert isinstance(welcome, dict), welcome
    assert welcome["attempt_id"] == b_attempt, welcome
    await watch.still_serving()


# ---- Origin ------------------------------------------------------------------------------------


async def test_a_foreign_origin_is_closed_4403(watch: Watch, settings: Settings) -> None:
    evil = "http://evil.example"
    assert await refused(watch.live, await watch.candidate_url(), origin=evil) == 4403
    assert await refused(watch.live, await watch.proctor_url(), origin=evil) == 4403
    assert await refused(watch.live, await watch.candidate_url(), additional_headers={"Origin": evil}) == 4403
    assert await refused(watch.live, await watch.candidate_url(), origin="null") == 4403
    # the public origin is let in (so the refusals above are about the Origin, not the ticket)
    public = urlsplit(settings.public_base_url)
    hello = {"type": "hello", "last_seq": 0}
    same = await welcomed(watch.live, await watch.candidate_url(), hello, origin=f"{public.scheme}://{public.netloc}")
    assert isinstance(same, dict), same
    assert same["type"] == "welcome", same
    await watch.still_serving()


async def test_a_foreign_origin_is_refused_even_when_the_host_header_matches_it(watch: Watch) -> None:
    """What a DNS-rebound page sends: its own Origin, and its own name as Host. Neither is allowed."""
    live = watch.live
    port = urlsplit(live.base).port
    evil = f"evil.example:{port}"
    url = await watch.candidate_url()
    socket = await connect(
        f"ws://{evil}{url}", host="127.0.0.1", port=port, origin=f"http://{evil}", proxy=None, open_timeout=5
    )
    channel = Channel(socket)
    try:
        await channel.send({"type": "hello", "last_seq": 0})
        outcome: dict[str, Any] | int = await channel.next()
    except ConnectionClosed as closed:
        outcome = closed.rcvd.code if closed.rcvd is not None else 1006
    finally:
        await channel.close()
    assert outcome == 4403, f"http://{evil} is neither EXAM_PUBLIC_BASE_URL nor allowed, yet: {outcome}"
    await watch.still_serving()


# ---- frames ------------------------------------------------------------------------------------


def heartbeat_of(size: int, filler: str = "x") -> str:
    """A heartbeat frame of exactly ``size`` bytes (UTF-8), padded with ``filler``."""
    bare = len(json.dumps({"type": "heartbeat", "pad": ""}, ensure_ascii=False).encode())
    width = len(filler.encode())
    assert (size - bare) % width == 0
    frame = json.dumps({"type": "heartbeat", "pad": filler * ((size - bare) // width)}, ensure_ascii=False)
    assert len(frame.encode()) == size
    return frame


async def test_an_oversized_frame_is_closed_1009(watch: Watch, settings: Settings) -> None:
    limit = settings.ws_max_message_bytes
    assert limit == 8192
    channel = await opened_candidate(watch)
    await channel.socket.send(heartbeat_of(limit))  # exactly the limit is fine
    await channel.send({"type": "event", "client_seq": 1, "kind": "window_focus", "detail": {}})
    assert (await channel.until(lambda f: f["type"] in ("ack", "error")))["type"] == "ack"
    await channel.socket.send(heartbeat_of(limit + 1))
    assert await channel.closed_with() == 1009

    # the limit is in bytes, not characters: 2-byte characters reach it at half the length
    channel = await opened_candidate(watch)
    await channel.socket.send(heartbeat_of(limit + 2, filler="é"))
    assert await channel.closed_with() == 1009

    channel = await opened_candidate(watch)
    await channel.send({"type": "heartbeat", "pad": "x" * 30_000})
    assert await channel.closed_with() == 1009
    await watch.still_serving()


async def test_a_binary_frame_is_closed_1003(watch: Watch) -> None:
    channel = await opened_candidate(watch)
    await channel.socket.send(json.dumps({"type": "heartbeat"}).encode())
    assert await channel.closed_with() == 1003
    await watch.still_serving()


async def test_malformed_json_is_closed_1007(watch: Watch) -> None:
    for bad in ('{"type": "heartbeat"', "[1, 2, 3]", '{"no_type": true}', '"hello"'):
        channel = await opened_candidate(watch)
        await channel.socket.send(bad)
        assert await channel.closed_with() == 1007, bad
    await watch.still_serving()


async def test_a_first_frame_that_is_not_hello_is_closed_4409(watch: Watch) -> None:
    for url, first in (
        (await watch.candidate_url(), {"type": "heartbeat"}),
        (await watch.candidate_url(), {"type": "event", "client_seq": 1, "kind": "copy", "detail": {"length": 1}}),
        (await watch.proctor_url(), {"type": "action", "request_id": "r", "attempt_id": watch.sitting.attempt_id}),
    ):
        channel = await open_channel(watch.live, url)
        await channel.send(first)
        assert await channel.closed_with() == 4409, first
    await watch.still_serving()


async def test_a_flood_is_closed_4429(watch: Watch) -> None:
    channel = await opened_candidate(watch)
    frame = json.dumps({"type": "heartbeat"})
    try:
        for _ in range(500):
            await channel.socket.send(frame)
    except ConnectionClosed:
        pass
    assert await channel.closed_with() == 4429
    await watch.still_serving()


async def test_frame_abuse_on_the_proctor_channel_is_closed_with_its_code(watch: Watch) -> None:
    cases: list[tuple[str | bytes, int]] = [
        (json.dumps({"type": "action", "pad": "x" * 9000}), 1009),
        (b"\x00\x01binary", 1003),
        ("{not json", 1007),
        (json.dumps({"type": "event", "client_seq": 1, "kind": "copy", "detail": {"length": 1}}), 1007),
    ]
    for frame, code in cases:
        channel = await opened_proctor(watch)
        await channel.socket.send(frame)
        assert await channel.closed_with() == code, frame[:40]
    # a flood of action frames that are each merely answered (no attempt id: a validation error)
    flooded = await opened_proctor(watch)
    frame = json.dumps({"type": "action", "request_id": "r"})
    try:
        for _ in range(500):
            await flooded.socket.send(frame)
    except ConnectionClosed:
        pass
    assert await flooded.closed_with() == 4429
    await watch.still_serving()


async def test_an_unknown_kind_and_a_bad_detail_are_answered_with_an_error_and_the_socket_stays_open(
    watch: Watch,
) -> None:
    channel = await opened_candidate(watch)
    await channel.send({"type": "event", "client_seq": 1, "kind": "screen_recorder", "detail": {}})
    error = await channel.until(lambda f: f["type"] in ("ack", "error"))
    assert (error["type"], error["error"], error["client_seq"], error["field"]) == (
        "error",
        "validation_error",
        1,
        "kind",
    )

    await channel.send({"type": "event", "client_seq": 2, "kind": "paste", "detail": {"length": -5, "position": 1}})
    error = await channel.until(lambda f: f["type"] in ("ack", "error"))
    assert (error["type"], error["error"], error["client_seq"]) == ("error", "validation_error", 2), error
    assert "length" in (error["field"] or ""), error

    # still open: a good event on the same socket is stored and acknowledged
    await channel.send({"type": "event", "client_seq": 3, "kind": "paste", "detail": {"length": 5, "position": 1}})
    ack = await channel.until(lambda f: f["type"] in ("ack", "error"))
    assert (ack["type"], ack["client_seq"]) == ("ack", 3), ack
    seen = await watch.proctor.until(lambda f: f["type"] == "event" and f["seq"] == ack["seq"])
    assert (seen["kind"], seen["detail"]) == ("paste", {"length": 5, "position": 1})

    # neither refused frame reached the log
    log = await watch.live.http.get(f"{watch.sitting.staff_url}/events", headers=watch.sitting.proctor)
    assert log.status_code == 200, log.text
    kinds = [e["kind"] for e in log.json()]
    assert "screen_recorder" not in kinds, kinds
    assert kinds.count("paste") == 1, kinds
    await channel.close()
    await watch.still_serving()


async def test_a_candidate_sending_a_proctor_action_is_closed_1007_and_nothing_changes(watch: Watch) -> None:
    sitting, http = watch.sitting, watch.live.http
    before = (await http.get(sitting.url, headers=sitting.headers)).json()
    log_before = (await http.get(f"{sitting.staff_url}/events", headers=sitting.proctor)).json()
    channel = await opened_candidate(watch)
    for action in (
        {"action": "extend", "minutes": 240, "reason": "I deserve more time"},
        {"action": "pause", "reason": "a break"},
    ):
        await channel.send({"type": "action", "request_id": "r1", "attempt_id": sitting.attempt_id, **action})
        assert await channel.closed_with() == 1007
        channel = await opened_candidate(watch)
    await channel.close()

    after = (await http.get(sitting.url, headers=sitting.headers)).json()
    assert after["state"] == before["state"] == "in_progress"
    assert after["deadline"] == before["deadline"]
    log_after = (await http.get(f"{sitting.staff_url}/events", headers=sitting.proctor)).json()
    new_kinds = {e["kind"] for e in log_after[len(log_before) :]}
    assert not new_kinds & {"time_extended", "state_changed"}, new_kinds
    await watch.still_serving()
