"""The attempt lifecycle driven through the API with a clock the tests move."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.bank import service as bank_service
from exam_service.bank.authoring import Blueprint
from exam_service.bank.service import Authorship, item_from_payload
from exam_service.core.clock import FrozenClock
from exam_service.delivery.sweeper import sweep_once
from exam_service.models import Credential, Role
from tests.delivery.helpers import TIME_LIMIT_MINUTES, open_window, seed_bank, sitting
from tests.factories import auth_headers, item_payload

LIMIT = TIME_LIMIT_MINUTES * 60


async def test_unproctored_sitting_from_registration_to_submission(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock, started=False)
    mine = (await client.get("/api/v1/me/attempts", headers=s.headers)).json()
    assert [(a["id"], a["state"], a["remaining_seconds"]) for a in mine] == [(s.attempt_id, "registered", None)]
    refused = await s.post("/start", json={"accept_rules": True})
    assert refused.status_code == 409
    assert (refused.json()["error"], refused.json()["state"]) == ("illegal_transition", "registered")
    assert (await s.post("/check-in")).json()["state"] == "checked_in"
    started = (await s.post("/start", json={"accept_rules": True})).json()
    assert (started["state"], started["remaining_seconds"]) == ("in_progress", LIMIT)
    form = await s.form()
    assert len(form["items"]) == 11
    assert form["attempt"]["remaining_seconds"] == LIMIT
    clock.advance(minutes=10)
    saved = await s.save(1, 1, None)
    assert saved.json()["remaining_seconds"] == LIMIT - 600
    submitted = await s.post("/submit")
    assert submitted.status_code == 200
    assert submitted.json()["unanswered"] == 11
    assert submitted.json()["attempt"]["state"] == "submitted"
    receipt = submitted.json()["receipt"]
    assert (receipt["answered"], receipt["total"], receipt["submitted_by"]) == (0, 11, "candidate")
    # a retry whose first answer was lost on the way gets the same receipt, not an error
    clock.advance(seconds=30)
    again = await s.post("/submit")
    assert (again.status_code, again.json()["receipt"]) == (200, receipt)
    assert (await s.get("/receipt")).json() == receipt
    history = (await client.get(f"{s.staff_url}/transitions", headers=s.proctor)).json()
    assert [(t["from_state"], t["to_state"], t["actor_role"]) for t in history] == [
        ("new", "registered", "admin"),
        ("registered", "checked_in", "candidate"),
        ("checked_in", "in_progress", "candidate"),
        ("in_progress", "submitted", "candidate"),
    ]
    assert history[-1]["actor_id"] == str(s.candidate.id)


async def test_proctored_sitting_waits_for_authorisation_and_the_clock_starts_then(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock, proctored=True, started=False)
    await s.post("/check-in")
    waiting = (await s.post("/start", json={"accept_rules": True})).json()
    assert (waiting["state"], waiting["remaining_seconds"]) == ("awaiting_authorization", None)
    assert (await s.save(1, 1, None)).status_code == 409
    assert (await s.get("/form")).status_code == 409
    clock.advance(minutes=5)
    refused = await client.post(f"{s.staff_url}/authorize", headers=s.headers)
    assert refused.status_code == 403  # a candidate cannot authorise
    authorised = (await s.staff("authorize")).json()
    assert (authorised["state"], authorised["remaining_seconds"]) == ("in_progress", LIMIT)


async def test_pause_freezes_the_clock_and_extensions_and_accommodations_add_time(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock, proctored=True, extra_time_multiplier=1.5, extra_time_minutes=10)
    limit = int(LIMIT * 1.5) + 600
    assert (await s.get()).json()["remaining_seconds"] == limit
    clock.advance(minutes=20)
    paused = (await s.staff("pause", reason="candidate left the camera view")).json()
    assert (paused["state"], paused["remaining_seconds"]) == ("paused", limit - 1200)
    clock.advance(minutes=30)
    assert (await s.get()).json()["remaining_seconds"] == limit - 1200
    assert (await s.save(1, 1, None)).status_code == 409
    assert (await s.post("/submit")).status_code == 409
    resumed = (await s.staff("resume", reason="back in view")).json()
    assert (resumed["state"], resumed["remaining_seconds"]) == ("in_progress", limit - 1200)
    extended = (await s.staff("extend", minutes=15, reason="technical issue")).json()
    assert extended["remaining_seconds"] == limit - 1200 + 900
    events = (await client.get(f"{s.staff_url}/events", headers=s.proctor)).json()
    # the log holds every change of state and the extension, in order, with who did it
    assert [(e["kind"], e["detail"].get("to"), e["source"]) for e in events[-3:]] == [
        ("state_changed", "paused", "proctor"),
        ("state_changed", "in_progress", "proctor"),
        ("time_extended", None, "proctor"),
    ]
    assert events[-1]["detail"]["minutes"] == 15
    illegal = await s.staff("resume", reason="again")
    assert (illegal.status_code, illegal.json()["state"]) == (409, "in_progress")


async def test_an_attempt_read_after_its_deadline_is_submitted_at_the_deadline(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    started = (await s.get()).json()
    clock.advance(seconds=LIMIT + 10)  # past the deadline, within the grace period
    late_but_in_grace = await s.save(1, 1, None)
    assert late_but_in_grace.status_code == 200
    assert late_but_in_grace.json()["remaining_seconds"] == 0
    clock.advance(seconds=10)  # now past the grace period
    refused = await s.save(1, 2, None)
    assert refused.status_code == 409
    assert refused.json()["state"] == "submitted"
    status = (await s.get()).json()
    assert status["state"] == "submitted"
    assert status["submitted_at"] == started["deadline"]
    history = (await client.get(f"{s.staff_url}/transitions", headers=s.proctor)).json()
    assert (history[-1]["actor_role"], history[-1]["reason"]) == ("system", "time limit reached")


async def test_the_sweeper_submits_overdue_attempts_nobody_reads(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    assert await sweep_once(sessionmaker, clock) == {"submitted": 0, "expired": 0}
    clock.advance(seconds=LIMIT + 16)
    assert await sweep_once(sessionmaker, clock) == {"submitted": 1, "expired": 0}
    assert await sweep_once(sessionmaker, clock) == {"submitted": 0, "expired": 0}
    assert (await client.get(s.staff_url, headers=s.proctor)).json()["state"] == "submitted"


async def test_unstarted_attempts_expire_when_the_window_closes(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock, started=False)
    await s.post("/check-in")
    clock.advance(hours=5)
    assert await sweep_once(sessionmaker, clock) == {"submitted": 0, "expired": 1}
    status = (await s.get()).json()
    assert status["state"] == "expired"
    assert (await s.post("/start", json={"accept_rules": True})).status_code == 409


async def test_check_in_waits_for_the_window_to_open(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await seed_bank(sessionmaker, clock)
    _, admin = await auth_headers(client, sessionmaker, clock, Role.admin)
    _candidate, headers = await auth_headers(client, sessionmaker, clock, Role.candidate)
    window = await open_window(client, admin, clock, opens_in=60, capacity=1)
    booked = await client.post(f"/api/v1/windows/{window}/bookings", headers=headers)
    assert booked.status_code == 201
    twice = await client.post(f"/api/v1/windows/{window}/bookings", headers=headers)
    assert twice.status_code == 409
    _, other = await auth_headers(client, sessionmaker, clock, Role.candidate)
    full = await client.post(f"/api/v1/windows/{window}/bookings", headers=other)
    assert (full.status_code, full.json()["detail"]) == (409, "the window is full")
    early = await client.post(f"/api/v1/attempts/{booked.json()['id']}/check-in", headers=headers)
    assert early.status_code == 409
    assert "opens at" in early.json()["detail"]
    clock.advance(minutes=60)
    assert (await client.post(f"/api/v1/attempts/{booked.json()['id']}/check-in", headers=headers)).status_code == 200


@pytest.mark.parametrize("proof", ["none", "waiver", "credential", "expired_credential"])
async def test_a_later_tier_needs_the_previous_credential_or_a_waiver(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, proof: str
) -> None:
    await seed_bank(sessionmaker, clock)
    # a professional blueprint over the same pool stands in for the professional tier's exam
    await _professional_blueprint(sessionmaker, clock)
    _, admin = await auth_headers(client, sessionmaker, clock, Role.admin)
    _, examiner = await auth_headers(client, sessionmaker, clock, Role.examiner)
    candidate, headers = await auth_headers(client, sessionmaker, clock, Role.candidate)
    window = await open_window(client, admin, clock, blueprint="mlocp-professional")
    if proof == "waiver":
        granted = await client.post(
            "/api/v1/waivers",
            headers=examiner,
            json={
                "candidate_id": str(candidate.id),
                "tier": "professional",
                "reason": "ten years running ML platforms",
            },
        )
        assert granted.status_code == 201
    if proof in ("credential", "expired_credential"):
        expires = clock.now() + (timedelta(days=-1) if proof == "expired_credential" else timedelta(days=365))
        async with sessionmaker() as session, session.begin():
            session.add(
                Credential(candidate_id=candidate.id, tier="foundation", issued_at=clock.now(), expires_at=expires)
            )
    booked = await client.post(f"/api/v1/windows/{window}/bookings", headers=headers)
    if proof in ("waiver", "credential"):
        assert booked.status_code == 201, booked.text
    else:
        assert booked.status_code == 409
        assert booked.json()["prerequisite"] == "foundation"


async def _professional_blueprint(sm: async_sessionmaker[AsyncSession], clock: FrozenClock) -> None:
    async with sm() as session, session.begin():
        items = [item_from_payload(item_payload(f"P-CICD-{n:03d}", "cicd", tier="professional")) for n in range(1, 3)]
        await bank_service.import_content(session, items, [], Authorship("seed", "seed"), clock)
        blueprint = Blueprint.model_validate(
            {
                "id": "mlocp-professional",
                "tier": "professional",
                "title": "Professional",
                "time_limit_minutes": 60,
                "cut_score_percent": 70,
                "prerequisite": "foundation",
                "sections": [{"id": "theory", "quotas": [{"domain": "cicd", "count": 2}]}],
            }
        )
        await bank_service.publish_blueprint(session, blueprint, Authorship("seed", "seed"), clock)


async def test_a_window_pins_a_blueprint_version_the_pool_can_fill(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await seed_bank(sessionmaker, clock)
    _, admin = await auth_headers(client, sessionmaker, clock, Role.admin)
    _, examiner = await auth_headers(client, sessionmaker, clock, Role.examiner)
    body = {
        "title": "Pinned",
        "blueprint": "mlocp-foundation",
        "blueprint_version": 1,
        "proctored": False,
        "opens_at": clock.now().isoformat(),
        "closes_at": (clock.now() + timedelta(hours=2)).isoformat(),
    }
    assert (await client.post("/api/v1/windows", headers=admin, json=body)).status_code == 201
    missing = await client.post("/api/v1/windows", headers=admin, json=body | {"blueprint_version": 9})
    assert (missing.status_code, missing.json()["field"]) == (404, "blueprint_version")
    # retire enough lifecycle items that two can no longer be drawn
    for n in (1, 2, 3):
        retired = await client.post(
            f"/api/v1/bank/items/F-LIFE-00{n}/versions/1/retire", headers=examiner, json={"reason": "outdated"}
        )
        assert retired.status_code == 200
    refused = await client.post("/api/v1/windows", headers=admin, json=body)
    assert refused.status_code == 422
    assert refused.json()["domain"] == "lifecycle"
    assert "needs 2 items, the pool has 1" in refused.json()["detail"]
    past = await client.post(
        "/api/v1/windows",
        headers=admin,
        json=body
        | {
            "closes_at": (clock.now() - timedelta(minutes=1)).isoformat(),
            "opens_at": (clock.now() - timedelta(hours=1)).isoformat(),
        },
    )
    assert (past.status_code, past.json()["field"]) == (409, "closes_at")


async def test_parallel_bookings_never_overfill_a_window(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    await seed_bank(sessionmaker, clock)
    _, admin = await auth_headers(client, sessionmaker, clock, Role.admin)
    window = await open_window(client, admin, clock, capacity=3)
    candidates = [(await auth_headers(client, sessionmaker, clock, Role.candidate))[1] for _ in range(8)]
    booked = await asyncio.gather(
        *(client.post(f"/api/v1/windows/{window}/bookings", headers=h) for h in candidates + candidates[:2])
    )
    codes = sorted(r.status_code for r in booked)
    assert codes == [201] * 3 + [409] * 7
    listed = (await client.get(f"/api/v1/proctoring/windows/{window}/attempts", headers=admin)).json()
    assert len(listed) == 3


async def test_reading_lists_after_the_deadline_submits_once(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    clock.advance(seconds=LIMIT + 60)
    await asyncio.gather(
        *(client.get("/api/v1/me/attempts", headers=s.headers) for _ in range(5)),
        client.get(f"/api/v1/proctoring/windows/{s.window_id}/attempts", headers=s.proctor),
        client.get(s.url, headers=s.headers),
    )
    history = (await client.get(f"{s.staff_url}/transitions", headers=s.proctor)).json()
    assert [t["to_state"] for t in history].count("submitted") == 1
