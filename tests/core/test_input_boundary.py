"""Text no database can store is refused at the boundary with 422 naming the field, and nothing saved is lost."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.boundary import InputBoundaryMiddleware
from exam_service.core.clock import FrozenClock
from exam_service.models import LoginThrottle, Role
from tests.delivery.helpers import sitting, value_for
from tests.factories import auth_headers, login, make_user

NUL = "\x00"
LONE_HIGH = "\ud800"
LONE_LOW = "\udc80"


def raw_json(payload: Any) -> bytes:
    """JSON as a client may send it: lone surrogates written as ``\\uXXXX`` escapes."""
    return json.dumps(payload, ensure_ascii=True).encode()


def refused(response: httpx.Response, field: str) -> str:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["field"] == field
    assert body["fields"][0]["field"] == field
    message: str = body["detail"]
    return message


async def test_a_nul_in_the_login_form_is_refused_and_guesses_still_count(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    user = await make_user(sessionmaker, clock)
    for _ in range(12):
        response = await login(client, user.email + NUL, "wrong password 123")
        assert "NUL" in refused(response, "username")
    assert "NUL" in refused(await login(client, user.email, "pass" + NUL + "word123"), "password")
    # real guesses are counted and slowed down as usual
    codes = [(await login(client, user.email, f"wrong password {n}")).status_code for n in range(7)]
    assert codes[:5] == [401] * 5
    assert 429 in codes[5:]
    async with sessionmaker() as session:
        failures = {
            row.key.split(":")[0]: row.failures for row in (await session.execute(select(LoginThrottle))).scalars()
        }
    assert failures["account"] >= 5


async def test_a_lone_surrogate_in_an_answer_is_refused_and_the_saved_answer_stays(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    form = await s.form()
    entry = form["items"][0]
    position, kept = entry["position"], value_for(entry["item"], 1)
    assert (await s.save(position, 1, kept)).status_code == 200
    for bad in (LONE_HIGH, "ok" + LONE_LOW, NUL):
        response = await client.put(
            f"{s.url}/responses/{position}",
            headers=s.headers | {"content-type": "application/json"},
            content=raw_json({"revision": 2, "value": bad}),
        )
        refused(response, "value")
    # the form still loads, with the answer saved before
    reloaded = await s.form()
    saved = next(e for e in reloaded["items"] if e["position"] == position)
    assert saved["answer"] == kept
    assert saved["revision"] == 1


async def test_a_lone_surrogate_in_a_task_file_is_refused_and_the_saved_files_stay(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    form = await s.form()
    entry = next(e for e in form["items"] if "answer_files" in e["item"])
    task, position = entry["item"], entry["position"]
    name = task["answer_files"][0]
    assert (await s.save(position, 1, value_for(task, 1))).status_code == 200
    response = await client.put(
        f"{s.url}/responses/{position}",
        headers=s.headers | {"content-type": "application/json"},
        content=raw_json({"revision": 2, "value": {name: "print('x')" + LONE_LOW}}),
    )
    assert "surrogate" in refused(response, f"value.{name}")
    reloaded = await s.form()
    saved = next(e for e in reloaded["items"] if e["position"] == position)
    assert saved["answer"] == value_for(task, 1)


async def test_staff_text_with_nul_or_surrogates_is_refused_naming_the_field(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    # a user's name and email
    created = await client.post(
        "/api/v1/users",
        headers=s.admin,
        json={"email": "new@example.org", "full_name": "Ada" + NUL, "role": "candidate", "password": "p" * 16},
    )
    refused(created, "full_name")
    key = await client.post(
        "/api/v1/users",
        headers=s.admin | {"content-type": "application/json"},
        content=raw_json({"email": "new@example.org", "full_name": "Ada", "role": "candidate", LONE_HIGH: 1}),
    )
    assert "key" in refused(key, "\\ud800")
    # bank search and a blueprint key in the path
    _, examiner = await auth_headers(client, sessionmaker, clock, Role.examiner)
    refused(await client.get("/api/v1/bank/items", params={"q": "drift" + NUL}, headers=examiner), "q")
    refused(await client.get("/api/v1/bank/blueprints/mlocp%00foundation", headers=examiner), "key")
    # a proctor's reason
    pause = await client.post(f"{s.staff_url}/pause", headers=s.proctor, json={"reason": "noise" + NUL})
    refused(pause, "reason")
    status = await client.get(s.staff_url, headers=s.proctor)
    assert status.json()["state"] == "in_progress"


async def test_integers_beyond_what_the_database_holds_are_refused(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    s = await sitting(client, sessionmaker, clock)
    _, examiner = await auth_headers(client, sessionmaker, clock, Role.examiner)
    huge = str(2**70)
    assert (await client.get(f"/api/v1/users?offset={huge}", headers=s.admin)).status_code == 422
    assert (await client.get(f"/api/v1/bank/items?offset={huge}", headers=examiner)).status_code == 422
    version = await client.get(f"/api/v1/bank/items/F-LC-001/versions/{huge}", headers=examiner)
    assert version.status_code == 422
    assert version.json()["field"] == "version"
    diff = await client.get("/api/v1/bank/items/F-LC-001/diff", params={"from": 1, "to": huge}, headers=examiner)
    assert diff.json()["field"] == "to"
    events = await client.get(f"{s.staff_url}/events", params={"after": huge}, headers=s.proctor)
    assert events.json()["field"] == "after"
    form = await s.form()
    # the boundary refuses the number before any item's rules see it
    position = form["items"][0]["position"]
    saved = await client.put(
        f"{s.url}/responses/{position}",
        headers=s.headers | {"content-type": "application/json"},
        content=b'{"revision": 1, "value": 1' + b"0" * 5000 + b"}",
    )
    assert "integer between" in refused(saved, "value")


@pytest.mark.parametrize(
    "email",
    [
        "ada\x01@example.org",
        "ada@example.org\x7f",
        "ada\n@example.org",
        "ada@localhost",
        "@example.org",
        "a b@example.org",
    ],
)
async def test_emails_must_be_real_addresses(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, email: str
) -> None:
    _, admin = await auth_headers(client, sessionmaker, clock, Role.admin)
    response = await client.post(
        "/api/v1/users",
        headers=admin,
        json={"email": email, "full_name": "Ada", "role": "candidate", "password": "p" * 16},
    )
    refused(response, "email")


async def test_emails_are_stored_lower_case(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    _, admin = await auth_headers(client, sessionmaker, clock, Role.admin)
    payload = {"email": " Ada.Lovelace@Example.ORG ", "full_name": "Ada", "role": "candidate", "password": "p" * 16}
    created = await client.post("/api/v1/users", headers=admin, json=payload)
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "ada.lovelace@example.org"


@pytest.mark.parametrize(
    ("opens", "closes", "field"),
    [
        ("0112-01-01T09:00:00Z", "7316-01-01T09:00:00Z", "opens_at"),
        ("2030-01-01T09:00:00Z", "7316-01-01T09:00:00Z", "closes_at"),
        ("2030-01-01T09:00:00Z", "2030-01-01T09:00:00Z", "closes_at"),
        ("2030-01-01T09:00:00Z", "2029-12-31T09:00:00Z", "closes_at"),
    ],
)
async def test_window_times_must_be_plausible_and_in_order(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    opens: str,
    closes: str,
    field: str,
) -> None:
    _, admin = await auth_headers(client, sessionmaker, clock, Role.admin)
    payload = {"title": "Sitting", "blueprint": "mlocp-foundation", "opens_at": opens, "closes_at": closes}
    refused(await client.post("/api/v1/windows", headers=admin, json=payload), field)


async def test_a_websocket_with_unstorable_text_is_closed_as_a_policy_violation() -> None:
    reached: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    boundary = InputBoundaryMiddleware(app)
    scope = {"type": "websocket", "path": "/ws/proctor", "query_string": b"ticket=abc%00def", "headers": []}
    await boundary(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "unstorable text in the request"}]
    await boundary({**scope, "query_string": b"ticket=abcdef"}, receive, send)
    assert reached == ["/ws/proctor"]
