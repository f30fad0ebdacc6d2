"""A candidate reaches only their own attempt; keys and others' data never reach them."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.models import Role
from tests.delivery.helpers import TIME_LIMIT_MINUTES, sitting
from tests.factories import auth_headers


async def test_another_candidates_attempt_is_a_404_for_every_route(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    alice = await sitting(client, sessionmaker, clock)
    _, mallory = await auth_headers(client, sessionmaker, clock, Role.candidate)
    url = alice.url
    attempts = [
        await client.get(url, headers=mallory),
        await client.get(f"{url}/form", headers=mallory),
        await client.put(f"{url}/responses/1", headers=mallory, json={"revision": 99, "value": None}),
        await client.put(f"{url}/flags/1", headers=mallory, json={"flagged": True}),
        await client.post(f"{url}/submit", headers=mallory),
        await client.post(f"{url}/check-in", headers=mallory),
        await client.get(f"{url}/result", headers=mallory),
    ]
    unknown = await client.get(f"/api/v1/attempts/{uuid.uuid4()}", headers=mallory)
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    assert all(r.json() == unknown.json() for r in attempts)  # indistinguishable from a missing id
    assert (await client.get("/api/v1/me/attempts", headers=mallory)).json() == []
    assert (await alice.get()).json()["state"] == "in_progress"  # untouched


async def test_candidates_cannot_use_staff_routes(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    for action in ("pause", "resume", "terminate"):
        response = await client.post(f"{s.staff_url}/{action}", headers=s.headers, json={"reason": "me"})
        assert response.status_code == 403
    extend = await client.post(f"{s.staff_url}/extend", headers=s.headers, json={"minutes": 60, "reason": "me"})
    assert extend.status_code == 403
    assert (await client.get(f"{s.staff_url}/transitions", headers=s.headers)).status_code == 403
    window = await client.post(
        "/api/v1/windows",
        headers=s.headers,
        json={
            "title": "Mine",
            "blueprint": "mlocp-foundation",
            "opens_at": s.clock.now().isoformat(),
            "closes_at": (s.clock.now() + timedelta(hours=1)).isoformat(),
        },
    )
    assert window.status_code == 403
    registration = await client.post(
        f"/api/v1/windows/{s.window_id}/registrations", headers=s.headers, json={"candidate_id": str(s.candidate.id)}
    )
    assert registration.status_code == 403
    waiver = await client.post(
        "/api/v1/waivers",
        headers=s.headers,
        json={"candidate_id": str(s.candidate.id), "tier": "professional", "reason": "I would like one please"},
    )
    assert waiver.status_code == 403


async def test_the_form_never_carries_keys_rationales_or_graders(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    raw = (await s.get("/form")).text
    form = json.loads(raw)
    for entry in form["items"]:
        assert not {"key", "rationale", "references", "grader", "accepted", "patterns", "tolerance"} & set(
            entry["item"]
        )
    assert "Because the documented behaviour says so" not in raw  # the rationale text
    assert "^USER " not in raw  # the grader's pattern


async def test_no_saves_after_submission_or_expiry(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    assert (await s.save(1, 1, None)).status_code == 200
    await s.post("/submit")
    after_submit = await s.save(1, 2, None)
    assert (after_submit.status_code, after_submit.json()["state"]) == (409, "submitted")
    assert (await client.put(f"{s.url}/flags/1", headers=s.headers, json={"flagged": True})).status_code == 409

    late = await sitting(client, sessionmaker, clock)
    clock.advance(minutes=TIME_LIMIT_MINUTES + 1)
    expired = await late.save(1, 1, None)
    assert (expired.status_code, expired.json()["state"]) == (409, "submitted")
