"""Autosave: revisions, idempotent retries, out-of-order arrivals, shapes, flags, time per item."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.models import Role
from tests.delivery.helpers import Sitting, new_session_id, sitting, value_for
from tests.factories import auth_headers, bearer, login


@pytest.fixture
async def s(client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> Sitting:
    return await sitting(client, sessionmaker, clock)


def _by_type(form: dict[str, object], kind: str) -> dict[str, object]:
    return next(i for i in form["items"] if i["item"]["type"] == kind)  # type: ignore[index,union-attr,attr-defined]


async def test_latest_revision_wins_and_retries_change_nothing(s: Sitting) -> None:
    item = (await s.form())["items"][0]
    position = item["position"]

    def value(revision: int) -> object:
        return value_for(item["item"], revision)

    first = await s.save(position, 2, value(2))
    assert first.json() | {"remaining_seconds": None} == {
        "position": position,
        "applied": True,
        "stored_revision": 2,
        "remaining_seconds": None,
        "warnings": [],
    }
    retry = await s.save(position, 2, value(2))
    assert (retry.json()["applied"], retry.json()["stored_revision"]) == (False, 2)
    stale = await s.save(position, 1, value(1))
    assert (stale.status_code, stale.json()["applied"], stale.json()["stored_revision"]) == (200, False, 2)
    newer = await s.save(position, 3, value(3))
    assert newer.json()["applied"] is True
    resumed = (await s.form())["items"][0]
    assert (resumed["answer"], resumed["revision"]) == (value(3), 3)


async def test_answers_of_the_wrong_shape_name_the_field(s: Sitting) -> None:
    form = await s.form()
    tested = 0
    cases = {
        "single_choice": "Z",
        "multiple_response": ["A", "A"],
        "ordering": ["A", "B"],
        "true_false": "maybe",
        "numeric": {"x": 1},
        "matching": {"9": "A"},
    }
    for kind, bad in cases.items():
        entry = next((i for i in form["items"] if i["item"]["type"] == kind), None)
        if entry is None:
            continue
        response = await s.save(entry["position"], 1, bad)
        assert response.status_code == 422, (kind, response.text)
        assert response.json()["field"] == "value"
        tested += 1
    assert tested >= 3  # ten theory items cover at least three of the types
    nowhere = await s.save(999, 1, "A")
    assert (nowhere.status_code, nowhere.json()["field"]) == (404, "position")
    no_revision = await s.client.put(f"{s.url}/responses/1", headers=s.headers, json={"value": "A"})
    assert no_revision.json()["fields"][0]["field"] == "revision"


async def test_performance_task_files_are_limited_by_name_and_size(s: Sitting) -> None:
    task = _by_type(await s.form(), "performance_task")
    position = task["position"]
    assert "grader" not in task["item"]
    assert task["item"]["answer_files"] == ["Dockerfile"]
    ok = await s.save(position, 1, {"Dockerfile": "FROM python:3.11-slim\nUSER app\n"})
    assert ok.json()["applied"] is True
    for bad, message in [
        ({"../etc/passwd": "x"}, "is not one of"),
        ({"notes.txt": "x"}, "is not one of"),
        ({"Dockerfile": "x" * 70_000}, "the limit is"),
        ("FROM scratch", "must map file names"),
    ]:
        response = await s.save(position, 2, bad)
        assert response.status_code == 422
        assert message in response.json()["detail"]
    kept = _by_type(await s.form(), "performance_task")
    assert kept["answer"] == {"Dockerfile": "FROM python:3.11-slim\nUSER app\n"}


async def test_flags_and_time_per_item_are_kept_for_examiners(
    s: Sitting, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    assert (await client.put(f"{s.url}/flags/2", headers=s.headers, json={"flagged": True})).status_code == 200
    clock.advance(seconds=60)
    await s.save(2, 1, None, time_spent_seconds=40)
    await s.save(2, 2, None, time_spent_seconds=25)  # an older running total never lowers it
    await s.save(3, 1, None, time_spent_seconds=12)
    _, examiner = await auth_headers(client, sessionmaker, clock, Role.examiner)
    timing = (await client.get(f"{s.staff_url}/timing", headers=examiner)).json()
    assert (timing[1]["position"], timing[1]["time_spent_seconds"], timing[1]["flagged"]) == (2, 40, True)
    assert timing[2]["time_spent_seconds"] == 12
    assert (await client.get(f"{s.staff_url}/timing", headers=s.proctor)).status_code == 403
    assert (await s.form())["items"][1]["flagged"] is True


async def test_parallel_retried_out_of_order_saves_keep_the_highest_revision(s: Sitting) -> None:
    form = await s.form()
    rng = random.Random(7)
    deliveries = []
    expected = {}
    for entry in form["items"]:
        expected[entry["position"]] = (15, value_for(entry["item"], 15))
        for revision in range(1, 16):
            copies = 1 + rng.randrange(3)  # retries send the same save again
            deliveries += [(entry["position"], revision, value_for(entry["item"], revision))] * copies
    rng.shuffle(deliveries)  # arrivals out of order

    async def client_worker(batch: list[tuple[int, int, object]]) -> None:
        for position, revision, value in batch:
            response = await s.save(position, revision, value)
            assert response.status_code == 200, response.text

    workers = 8
    await asyncio.gather(*(client_worker(deliveries[i::workers]) for i in range(workers)))
    stored = {i["position"]: (i["revision"], i["answer"]) for i in (await s.form())["items"]}
    assert stored == expected


async def test_time_on_an_item_is_bounded_by_the_sittings_own_clock(
    s: Sitting, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    clock.advance(seconds=19)
    assert (await s.save(2, 1, None, time_spent_seconds=86_400)).status_code == 200
    # a pause does not count as time on an item
    assert (await s.staff("pause", reason="candidate asked")).status_code == 200
    clock.advance(minutes=10)
    assert (await s.staff("resume", reason="back")).status_code == 200
    clock.advance(seconds=11)
    assert (await s.save(3, 1, None, time_spent_seconds=3_600)).status_code == 200
    _, examiner = await auth_headers(client, sessionmaker, clock, Role.examiner)
    timing = {
        t["position"]: t["time_spent_seconds"]
        for t in (await client.get(f"{s.staff_url}/timing", headers=examiner)).json()
    }
    assert timing[2] == 19
    assert timing[3] == 30


async def test_a_second_browser_is_detected_by_its_own_sign_in(s: Sitting, client: httpx.AsyncClient) -> None:
    first = await client.get(f"{s.url}/form", headers=s.headers)
    assert first.json()["attempt"]["warnings"] == []
    # what the browser claims about itself no longer matters: the same sign-in is the same browser
    spoofed = await s.save(1, 1, None, hdrs={"X-Client-Session": new_session_id()})
    assert spoofed.json()["warnings"] == []
    # a second sign-in (another browser, another device) is seen at once
    signed_in = (await login(client, s.candidate.email)).json()
    tablet = bearer(signed_in["access_token"])
    second = await client.put(f"{s.url}/responses/1", headers=tablet, json={"revision": 2, "value": None})
    assert "another browser" in second.json()["warnings"][0]
    events = (await client.get(f"{s.staff_url}/events", headers=s.proctor)).json()
    assert [e["kind"] for e in events if e["kind"] not in ("state_changed", "rules_accepted")] == ["concurrent_session"]
    # the same sign-in after a refresh of its token is not a second browser
    s.clock.advance(seconds=30)
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": signed_in["refresh_token"]})
    tablet = bearer(refreshed.json()["access_token"])
    same = await client.put(f"{s.url}/responses/1", headers=tablet, json={"revision": 3, "value": None})
    assert same.json()["warnings"] == []
