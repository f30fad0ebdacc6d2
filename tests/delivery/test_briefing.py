"""Before the clock: the briefing and the accepted rules; after it: the receipt; and one live attempt per tier."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.delivery.briefing import RULES_DIGEST
from exam_service.models import Attempt, AttemptState, Role
from tests.delivery.helpers import TIME_LIMIT_MINUTES, open_window, sitting, value_for
from tests.factories import auth_headers


async def test_the_briefing_says_what_the_sitting_holds_and_starting_needs_the_rules_accepted(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    window = {"webcam_interval_seconds": 30}
    s = await sitting(client, sessionmaker, clock, proctored=True, started=False, window=window, extra_time_minutes=15)
    told = (await s.get("/briefing")).json()
    assert (told["time_limit_minutes"], told["your_time_limit_minutes"]) == (
        TIME_LIMIT_MINUTES,
        TIME_LIMIT_MINUTES + 15,
    )
    assert told["accommodations"] == ["Extra time: 15 more minutes."]
    # the synthetic blueprint: two theory items in each of five domains, one task
    assert [(x["id"], x["title"], x["items"]) for x in told["sections"]] == [
        ("theory", "Theory questions", 10),
        ("performance", "Performance tasks", 1),
    ]
    assert told["total_items"] == 11
    assert any("one browser tab" in rule for rule in told["rules"])
    recorded = " ".join(told["recorded"])
    assert "A proctor admits you" in recorded
    assert "a still picture every 30 seconds" in recorded
    assert told["rules_accepted_at"] is None

    assert (await s.post("/check-in")).status_code == 200
    for body in (None, {}, {"accept_rules": False}):
        refused = await s.post("/start", json=body)
        assert refused.status_code == 422, body
        assert "accept_rules" in refused.text
    assert (await s.get()).json()["state"] == "checked_in"  # nothing started, no form drawn

    started = await s.post("/start", json={"accept_rules": True})
    assert started.json()["state"] == "awaiting_authorization"
    again = (await s.get("/briefing")).json()
    assert again["rules_accepted_at"] is not None
    # the acceptance is in the sitting's log, with which rules were accepted
    events = (await client.get(f"{s.staff_url}/events", headers=s.proctor)).json()
    accepted = [e for e in events if e["kind"] == "rules_accepted"]
    assert [(e["source"], e["detail"]) for e in accepted] == [("candidate", {"rules": RULES_DIGEST})]


async def test_another_candidate_cannot_read_the_briefing_or_the_receipt(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    assert (await s.post("/submit")).status_code == 200
    other = await sitting(client, sessionmaker, clock)
    for path in ("briefing", "receipt"):
        assert (await client.get(f"{s.url}/{path}", headers=other.headers)).status_code == 404
        assert (await client.get(f"{s.url}/{path}", headers=s.proctor)).status_code == 403


async def test_the_receipt_is_the_same_on_every_retry_and_names_the_log_entry(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    assert (await s.get("/receipt")).status_code == 409  # nothing submitted yet
    form = await s.form()
    answered = form["items"][0]
    assert (await s.save(answered["position"], 1, value_for(answered["item"], 1))).status_code == 200
    clock.advance(minutes=12)
    first = await s.post("/submit")
    assert first.status_code == 200
    receipt = first.json()["receipt"]
    assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", receipt["reference"])
    assert (receipt["answered"], receipt["total"], receipt["submitted_by"]) == (1, 11, "candidate")
    assert receipt["submitted_at"].startswith(clock.now().isoformat()[:16])
    assert receipt["next_steps"]
    # the reference is the hash of the log entry that recorded the submission
    events = (await client.get(f"{s.staff_url}/events", headers=s.proctor)).json()
    submitted = next(e for e in events if e["kind"] == "state_changed" and e["detail"]["to"] == "submitted")
    assert receipt["reference"].replace("-", "") == submitted["hash"][:12].upper()
    for _ in range(3):
        clock.advance(seconds=20)
        retry = await s.post("/submit")
        assert (retry.status_code, retry.json()["receipt"]) == (200, receipt)
    assert (await s.get("/receipt")).json() == receipt
    transitions = (await client.get(f"{s.staff_url}/transitions", headers=s.proctor)).json()
    assert [t["to_state"] for t in transitions].count("submitted") == 1


async def test_a_sitting_the_clock_submitted_has_a_receipt_and_a_terminated_one_has_none(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    clock.advance(minutes=TIME_LIMIT_MINUTES + 1)
    late = await s.post("/submit")
    assert late.status_code == 200
    assert late.json()["receipt"]["submitted_by"] == "time limit"
    ended = await sitting(client, sessionmaker, clock, proctored=True)
    assert (await ended.staff("terminate", reason="a second person in the room")).status_code == 200
    for response in (await ended.post("/submit"), await ended.get("/receipt")):
        assert (response.status_code, response.json()["state"]) == (409, "terminated")


async def test_one_live_attempt_per_candidate_per_tier(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock, started=False)
    second = await open_window(client, s.admin, clock)
    # booked but not yet sat: a second booking in the tier is refused, naming the first
    booking = await client.post(f"/api/v1/windows/{second}/bookings", headers=s.headers)
    assert booking.status_code == 409
    assert "one foundation attempt at a time" in booking.json()["detail"]
    assert booking.json()["attempt_id"] == s.attempt_id
    registration = await client.post(
        f"/api/v1/windows/{second}/registrations", headers=s.admin, json={"candidate_id": str(s.candidate.id)}
    )
    assert registration.status_code == 409

    # started: still refused; submitted: the candidate may book the next one
    assert (await s.post("/check-in")).status_code == 200
    assert (await s.post("/start", json={"accept_rules": True})).status_code == 200
    assert (await client.post(f"/api/v1/windows/{second}/bookings", headers=s.headers)).status_code == 409
    assert (await s.post("/submit")).status_code == 200
    rebooked = await client.post(f"/api/v1/windows/{second}/bookings", headers=s.headers)
    assert rebooked.status_code == 201, rebooked.text


async def test_two_seats_held_in_one_tier_cannot_both_be_under_way(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Seats held from before the rule (or written around it) are checked again at start."""
    s = await sitting(client, sessionmaker, clock, started=False)
    later = await open_window(client, s.admin, clock)
    async with sessionmaker() as session, session.begin():
        held = Attempt(
            window_id=uuid.UUID(later),
            candidate_id=s.candidate.id,
            state=AttemptState.checked_in,
            created_at=clock.now(),
        )
        session.add(held)
    assert (await s.post("/check-in")).status_code == 200
    assert (await s.post("/start", json={"accept_rules": True})).status_code == 200
    refused = await client.post(f"/api/v1/attempts/{held.id}/start", headers=s.headers, json={"accept_rules": True})
    assert refused.status_code == 409
    assert "already under way" in refused.json()["detail"]
    assert refused.json()["attempt_id"] == s.attempt_id
    assert (await s.post("/submit")).status_code == 200
    started = await client.post(f"/api/v1/attempts/{held.id}/start", headers=s.headers, json={"accept_rules": True})
    assert started.status_code == 200, started.text


async def test_a_booking_whose_window_closed_unstarted_does_not_block_the_next(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock, started=False, window={"hours": 1})
    later = await open_window(client, s.admin, clock, hours=6)
    clock.advance(minutes=61)
    booked = await client.post(f"/api/v1/windows/{later}/bookings", headers=s.headers)
    assert booked.status_code == 201, booked.text
    mine = {a["id"]: a["state"] for a in (await client.get("/api/v1/me/attempts", headers=s.headers)).json()}
    assert mine[s.attempt_id] == "expired"


async def test_two_bookings_sent_at_once_in_one_tier_give_one_seat(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock, started=False)
    assert (await s.post("/submit")).status_code == 409  # nothing to submit yet: the sitting is only booked
    first, second = [await open_window(client, s.admin, clock) for _ in range(2)]
    _, fresh = await auth_headers(client, sessionmaker, clock, Role.candidate)  # holds no seat yet
    bookings = await asyncio.gather(
        *(client.post(f"/api/v1/windows/{w}/bookings", headers=fresh) for w in (first, second))
    )
    assert sorted(b.status_code for b in bookings) == [201, 409]
