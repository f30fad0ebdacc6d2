"""The results API as attackers and careless users try it: who may call what, hostile input, decisions in the
wrong order or at the same moment. Every refusal must be a 4xx naming what is at fault and leave the stored
result, its decisions and its credential as they were."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.bank import service as bank_service
from exam_service.bank.authoring import Blueprint
from exam_service.bank.service import Authorship, item_from_payload
from exam_service.core.clock import FrozenClock
from exam_service.models import Role
from exam_service.scoring import endpoints as scoring_endpoints
from tests.delivery.helpers import Sitting, open_window, sitting
from tests.factories import auth_headers, item_payload
from tests.scoring.helpers import answer, form_rows, score, submit
from tests.scoring.test_corrections import ALL_THEORY, another_sitting

Session = async_sessionmaker[AsyncSession]
Json = dict[str, Any]
# every key a candidate's own result may carry, at any depth: no items, keys, answers, risk or review notes
CANDIDATE_KEYS = {"status", "message", "passed", "scaled_score", "percent", "sections", "released_at"}
CANDIDATE_SECTION_KEYS = {"id", "percent", "minimum_percent", "met"}
REASON = "checked against the recording"


@pytest.fixture
async def api(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The app as a browser meets it: an unexpected error is a 500 response, not an exception in the test."""
    app = client.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        http.app = app  # type: ignore[attr-defined]
        yield http


async def raw(api: httpx.AsyncClient, path: str, headers: dict[str, str], body: object) -> httpx.Response:
    """POSTs ``body`` as written (a str is sent verbatim): NaN, Infinity, lone surrogates, deep nesting."""
    text = body if isinstance(body, str) else json.dumps(body)
    return await api.post(path, headers={**headers, "Content-Type": "application/json"}, content=text.encode())


def refused(response: httpx.Response, status: int, field: str) -> None:
    """The error shape every client relies on: a status, ``error``, ``detail`` and the field at fault."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]
    assert body["detail"]
    named = {body.get("field")} | {f["field"] for f in body.get("fields", [])}
    assert field in named, body


def keys_of(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


async def ended(api: httpx.AsyncClient, sm: Session, clock: FrozenClock, **rules: Any) -> Sitting:
    """A submitted, scored theory-only sitting, every answer right (a pass); no sandbox needed."""
    s = await sitting(api, sm, clock, rules=rules or ALL_THEORY)
    await answer(s, sm)
    await submit(s)
    await score(sm, clock, s.attempt_id)
    return s


async def stored(api: httpx.AsyncClient, examiner: dict[str, str], s: Sitting) -> Json:
    """Everything a refused request could have changed: the report (items, marks, decisions, state), credentials."""
    report = await api.get(f"/api/v1/results/{s.attempt_id}", headers=examiner)
    assert report.status_code == 200, report.text
    params = {"candidate_id": str(s.candidate.id)}
    credentials = await api.get("/api/v1/credentials", headers=examiner, params=params)
    return {"report": report.json(), "credentials": credentials.json()}


async def decide(api: httpx.AsyncClient, who: dict[str, str], s: Sitting, action: str, **body: Any) -> httpx.Response:
    return await api.post(f"/api/v1/results/{s.attempt_id}/{action}", headers=who, json=body)


async def task_position(sm: Session, s: Sitting) -> int:
    return next(r.position for r, v in await form_rows(sm, s.attempt_id) if v.payload["type"] == "performance_task")


# ---- who may call what ------------------------------------------------------------------------------------

OWN = frozenset({"/api/v1/attempts/{attempt_id}/result"})  # the candidate's own; every other route is examiners'


def scoring_routes() -> set[tuple[str, str]]:
    return {(m, r.path) for r in scoring_endpoints.router.routes if isinstance(r, APIRoute) for m in r.methods or ()}


async def test_every_examiner_route_refuses_anonymous_candidates_and_proctors(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a candidate (or a proctor, or nobody) who finds the examiner API in the page's scripts and calls
    every route of it, on their own sitting and on someone else's; and checks no route was left out of the list."""
    s = await ended(api, sessionmaker, clock)
    _, other_headers = await auth_headers(api, sessionmaker, clock, Role.candidate)
    _, examiner = await auth_headers(api, sessionmaker, clock, Role.examiner)
    _, admin = await auth_headers(api, sessionmaker, clock, Role.admin)
    rows = await form_rows(sessionmaker, s.attempt_id)
    row, version = next((r, v) for r, v in rows if v.payload["type"] == "single_choice")
    same_key = {"kind": "replace_key", "value": version.payload["key"], "reason": REASON}
    made = await api.post(f"/api/v1/bank/versions/{version.id}/corrections", headers=examiner, json=same_key)
    assert made.status_code == 202, made.text
    assert (await decide(api, examiner, s, "release")).status_code == 200
    [blueprint] = (await api.get("/api/v1/analysis", headers=examiner)).json()
    ids = {
        "attempt_id": s.attempt_id,
        "position": row.position,
        "version_id": version.id,
        "correction_id": made.json()["id"],
        "blueprint_version_id": blueprint["blueprint_version_id"],
    }
    bodies = {
        "/api/v1/results/{attempt_id}/items/{position}/override": {"points": 1, "reason": REASON},
        "/api/v1/results/release": {"window_id": s.window_id},
        "/api/v1/bank/versions/{version_id}/corrections": same_key,
    }
    routes = scoring_routes()
    assert len(routes) == 18  # a new route must be added to this check, with who may call it

    for method, path in sorted(routes):
        url = path.format(**ids)
        body = bodies.get(path, {"reason": REASON}) if method == "POST" else None
        calls = {"nobody": {}, "owner": s.headers, "other": other_headers, "proctor": s.proctor}
        got = {who: (await api.request(method, url, headers=h, json=body)).status_code for who, h in calls.items()}
        if path in OWN:
            assert got == {"nobody": 401, "owner": 200, "other": 404, "proctor": 403}, (method, path)
        else:
            assert got == {"nobody": 401, "owner": 403, "other": 403, "proctor": 403}, (method, path)
    for method, path in sorted(routes):  # only now, so that no refusal above met a state a decision had changed
        url = path.format(**ids)
        body = bodies.get(path, {"reason": REASON}) if method == "POST" else None
        for staff in (examiner, admin):
            status = (await api.request(method, url, headers=staff, json=body)).status_code
            if path in OWN:
                assert status == 403, (method, path)  # staff read results through /results/{attempt_id}
            elif method == "GET":
                assert status == 200, (method, path)
            else:
                assert status not in (401, 403), (method, path, status)
                assert status < 500, (method, path, status)


async def test_a_candidate_sees_only_a_status_until_release_and_never_review_data(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a candidate polling their result through every state, reading the raw JSON for anything the page
    does not show: items, keys, answers, risk, review reasons, pending marks, or a hint that they are under review."""
    provisional = await sitting(api, sessionmaker, clock)  # a performance task nobody graded: provisional
    await answer(provisional, sessionmaker)
    await submit(provisional)
    terminated = await another_sitting(api, sessionmaker, clock, provisional)
    await answer(terminated, sessionmaker)
    assert (await terminated.staff("terminate", reason="a second person in the room")).status_code == 200
    _, first = await auth_headers(api, sessionmaker, clock, Role.examiner)
    _, second = await auth_headers(api, sessionmaker, clock, Role.examiner)

    async def seen(s: Sitting, state: str) -> Json:
        assert (await score(sessionmaker, clock, s.attempt_id)).state.value == state
        response = await s.get("/result")
        assert response.status_code == 200, response.text
        body: Json = response.json()
        assert keys_of(body) <= CANDIDATE_KEYS | CANDIDATE_SECTION_KEYS, body
        assert all(set(section) <= CANDIDATE_SECTION_KEYS for section in body["sections"])
        return body

    waiting = await seen(provisional, "provisional")
    assert (waiting["status"], waiting["passed"], waiting["scaled_score"], waiting["sections"]) == (
        "pending",
        None,
        None,
        [],
    )
    assert await seen(terminated, "withheld") == waiting  # a review looks exactly like any other wait
    task = await task_position(sessionmaker, provisional)
    assert (await decide(api, first, provisional, f"items/{task}/override", points=1, reason=REASON)).status_code == 200
    assert await seen(provisional, "ready") == waiting
    assert (await decide(api, first, provisional, "release")).status_code == 200
    released = await seen(provisional, "released")
    assert (released["status"], released["passed"]) == ("released", True)
    # a later mark waits for confirmation, an invalidation request for a second examiner: neither shows
    theory = next(r.position for r, v in await form_rows(sessionmaker, provisional.attempt_id) if r.position != task)
    marked = await decide(api, first, provisional, f"items/{theory}/override", points=0, reason=REASON)
    assert marked.json()["change_pending"] is True
    assert (await decide(api, first, provisional, "invalidation", reason=REASON)).status_code == 200
    assert await seen(provisional, "released") == released
    assert (await decide(api, second, provisional, "invalidation/confirm", reason=REASON)).status_code == 200
    invalidated = await seen(provisional, "invalidated")
    assert (invalidated["status"], invalidated["passed"], invalidated["scaled_score"]) == ("invalidated", None, None)


@contextmanager
def statements(api: httpx.AsyncClient) -> Iterator[list[str]]:
    """The SQL the app runs meanwhile: the same statements mean the same work, so the same time."""
    engine = api.app.state.engine.sync_engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_another_candidates_attempt_looks_exactly_like_a_missing_one(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a candidate enumerating attempt ids to learn which exist (whose results are out): the answer for
    someone else's attempt must match a missing one in status, body and the work done (so in timing too)."""
    s = await ended(api, sessionmaker, clock)
    _, snoop = await auth_headers(api, sessionmaker, clock, Role.candidate)
    for path in ("/api/v1/attempts/{}/result", "/api/v1/results/{}"):
        with statements(api) as theirs:
            someone_elses = await api.get(path.format(s.attempt_id), headers=snoop)
        with statements(api) as nobodys:
            missing = await api.get(path.format(uuid.uuid4()), headers=snoop)
        assert someone_elses.status_code == missing.status_code
        assert someone_elses.status_code in (403, 404)
        assert someone_elses.json() == missing.json()
        assert theirs == nobodys


# ---- hostile input ----------------------------------------------------------------------------------------


async def test_override_refuses_hostile_points_and_positions_and_changes_nothing(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a careless or malicious examiner's client sending non-numbers, infinities, huge or negative marks,
    positions off the form, and bodies of the wrong shape to the override route."""
    s = await ended(api, sessionmaker, clock)
    _, examiner = await auth_headers(api, sessionmaker, clock, Role.examiner)
    before = await stored(api, examiner, s)
    url = f"/api/v1/results/{s.attempt_id}/items/1/override"
    for points in ("NaN", "Infinity", "-Infinity", "-1", "-0.000001", "1e308", "1e400", "9" * 400, '"abc"', "null"):
        refused(await raw(api, url, examiner, f'{{"points": {points}, "reason": "{REASON}"}}'), 422, "points")
    refused(await raw(api, url, examiner, {"points": [1], "reason": REASON}), 422, "points")
    refused(await raw(api, url, examiner, {"points": {"$gt": 0}, "reason": REASON}), 422, "points")
    refused(await raw(api, url, examiner, {"reason": REASON}), 422, "points")
    refused(await raw(api, url, examiner, {"points": 50, "reason": REASON}), 422, "points")  # over the item's worth
    for body in ("[]", '"points"', "", "{", '{"points": 1, "reason": "' + REASON + '"'):
        refused(await raw(api, url, examiner, body), 422, "body")
    for position in ("999",):  # a position no form has
        path = f"/api/v1/results/{s.attempt_id}/items/{position}/override"
        refused(await raw(api, path, examiner, {"points": 1, "reason": REASON}), 404, "position")
    for position in ("0", "-1", str(10**12), str(10**30), "abc", "1.5", "1e3", "%00"):
        path = f"/api/v1/results/{s.attempt_id}/items/{position}/override"
        refused(await raw(api, path, examiner, {"points": 1, "reason": REASON}), 422, "position")
    assert await stored(api, examiner, s) == before


@pytest.mark.parametrize("points", ["true", '"0.5"'], ids=["boolean", "numeric-string"])
async def test_override_refuses_points_that_are_not_a_json_number(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock, points: str
) -> None:
    """Models a client whose form sends the checkbox state or the text field's string as the mark."""
    s = await ended(api, sessionmaker, clock)
    _, examiner = await auth_headers(api, sessionmaker, clock, Role.examiner)
    before = await stored(api, examiner, s)
    url = f"/api/v1/results/{s.attempt_id}/items/1/override"
    refused(await raw(api, url, examiner, f'{{"points": {points}, "reason": "{REASON}"}}'), 422, "points")
    assert await stored(api, examiner, s) == before


BAD_REASONS = ["", "a", "ab", "x" * 2001, "x" * 100_000, "lone \ud800 surrogate", 42, None, ["why"], {"why": "x"}]


async def test_every_decision_refuses_a_hostile_reason_and_changes_nothing(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models an examiner's client sending no reason, a one-letter one, a pasted 100k-character log, broken
    Unicode or a reason of the wrong type, to every decision that records one."""
    s = await ended(api, sessionmaker, clock)
    _, examiner = await auth_headers(api, sessionmaker, clock, Role.examiner)
    before = await stored(api, examiner, s)
    for action in ("items/1/override", "release", "confirm-change", "invalidation", "invalidation/confirm"):
        for reason in BAD_REASONS:
            if action == "release" and reason is None:
                continue  # release takes no reason unless the result was withheld
            body: Json = {"reason": reason} | ({"points": 1} if "override" in action else {})
            refused(await raw(api, f"/api/v1/results/{s.attempt_id}/{action}", examiner, body), 422, "reason")
    assert await stored(api, examiner, s) == before


@pytest.mark.parametrize("reason", ["   ", "seen\x00on camera"], ids=["whitespace", "nul"])
async def test_a_decision_refuses_a_blank_reason_or_one_with_nul(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock, reason: str
) -> None:
    """Models an examiner typing spaces to get past the required field, and a client pasting binary text."""
    s = await ended(api, sessionmaker, clock)
    _, examiner = await auth_headers(api, sessionmaker, clock, Role.examiner)
    before = await stored(api, examiner, s)
    refused(await raw(api, f"/api/v1/results/{s.attempt_id}/invalidation", examiner, {"reason": reason}), 422, "reason")
    assert await stored(api, examiner, s) == before


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def test_key_corrections_refuse_values_of_the_wrong_kind_and_record_nothing(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models an examiner's client sending an unknown kind, a key of the wrong type for the item, deeply nested
    JSON or a megabyte of text as a correction; none may be recorded or start a rescoring."""
    s = await ended(api, sessionmaker, clock)
    _, examiner = await auth_headers(api, sessionmaker, clock, Role.examiner)
    before = await stored(api, examiner, s)
    versions = {v.payload["type"]: v for _, v in await form_rows(sessionmaker, s.attempt_id)}
    wrong = {  # per item type, values that are not a key of that type
        "single_choice": ["1", "null", "[]", "{}", '"zz"', "NaN", nested(500)],
        "multiple_response": ['"a"', "[1]", "[]", '["zz"]', "{}", nested(500)],
        "true_false": ["null", '"maybe"', "[]", "{}", "2", "NaN"],
        "numeric": ['"abc"', "null", "[]", "{}", "[1]", "9" * 400, nested(500)],
        "ordering": ['"a"', "[]", '["a"]', "{}", nested(500)],
        "matching": ['"a"', "[]", "{}", '{"zz": "zz"}', nested(500)],
        "short_text": ["1", "null", '""', '"   "', "{}"],
    }
    assert set(wrong) <= set(versions), sorted(versions)
    for kind, values in wrong.items():
        url = f"/api/v1/bank/versions/{versions[kind].id}/corrections"
        for value in values:
            for correction in ("replace_key", "accept_answer"):
                body = f'{{"kind": "{correction}", "value": {value}, "reason": "{REASON}"}}'
                refused(await raw(api, url, examiner, body), 422, "value")
    url = f"/api/v1/bank/versions/{versions['single_choice'].id}/corrections"
    for unknown in ("delete_key", "", None, 1, "REPLACE_KEY"):
        refused(await raw(api, url, examiner, {"kind": unknown, "value": "a", "reason": REASON}), 422, "kind")
    refused(await raw(api, url, examiner, {"value": "a", "reason": REASON}), 422, "kind")
    megabyte = {"kind": "accept_answer", "value": "x" * 1_000_000, "reason": REASON}
    refused(await raw(api, url, examiner, megabyte), 413, "body")
    text_url = f"/api/v1/bank/versions/{versions['short_text'].id}/corrections"
    refused(
        await raw(api, text_url, examiner, {"kind": "accept_answer", "value": "ok", "reason": "x" * 100_000}),
        422,
        "reason",
    )
    for kind, version in versions.items():
        listed = await api.get(f"/api/v1/bank/versions/{version.id}/corrections", headers=examiner)
        assert listed.json() == [], kind
    assert await stored(api, examiner, s) == before


@pytest.mark.parametrize(
    ("item_type", "value"),
    [("numeric", "NaN"), ("numeric", "Infinity"), ("numeric", '"5"'), ("true_false", '"yes"'), ("true_false", "1")],
    ids=["nan", "infinity", "numeric-string", "yes", "one"],
)
async def test_a_correction_refuses_a_key_the_item_would_only_accept_after_coercion(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock, item_type: str, value: str
) -> None:
    """Models a client serialising a failed calculation (NaN) or a form's text as the corrected key."""
    s = await ended(api, sessionmaker, clock)
    _, examiner = await auth_headers(api, sessionmaker, clock, Role.examiner)
    version = next(v for _, v in await form_rows(sessionmaker, s.attempt_id) if v.payload["type"] == item_type)
    url = f"/api/v1/bank/versions/{version.id}/corrections"
    body = f'{{"kind": "accept_answer", "value": {value}, "reason": "{REASON}"}}'
    refused(await raw(api, url, examiner, body), 422, "value")
    assert (await api.get(url, headers=examiner)).json() == []


async def test_a_correction_nested_five_thousand_deep_is_refused_naming_the_body(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a client probing the JSON parser with a value nested 5000 levels deep."""
    s = await ended(api, sessionmaker, clock)
    _, examiner = await auth_headers(api, sessionmaker, clock, Role.examiner)
    version = next(v for _, v in await form_rows(sessionmaker, s.attempt_id) if v.payload["type"] == "single_choice")
    url = f"/api/v1/bank/versions/{version.id}/corrections"
    response = await raw(
        api, url, examiner, f'{{"kind": "replace_key", "value": {nested(5000)}, "reason": "{REASON}"}}'
    )
    assert 400 <= response.status_code < 500  # holds today
    refused(response, response.status_code, "body")


async def test_malformed_ids_in_every_path_are_refused_naming_the_parameter(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a script feeding every route ids that are not UUIDs (injection attempts, truncations, numbers)."""
    s = await ended(api, sessionmaker, clock)
    _, examiner = await auth_headers(api, sessionmaker, clock, Role.examiner)
    good = {
        "attempt_id": s.attempt_id,
        "position": "1",
        "version_id": str(uuid.uuid4()),
        "correction_id": str(uuid.uuid4()),
        "blueprint_version_id": str(uuid.uuid4()),
    }
    for method, path in sorted(scoring_routes()):
        who = s.headers if path in OWN else examiner
        for name in good:
            if "{" + name + "}" not in path or name == "position":
                continue
            for bad in ("not-a-uuid", "123", s.attempt_id[:-1], s.attempt_id + "0", "%27%20OR%201%3D1--", "%00"):
                url = path.format(**(good | {name: bad}))
                response = await api.request(
                    method, url, headers=who, json={"reason": REASON} if method == "POST" else None
                )
                refused(response, 422, name)


async def test_the_queue_refuses_out_of_range_paging_and_filters(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a client asking for a billion rows, negative pages or filters the queue does not know."""
    await ended(api, sessionmaker, clock)
    _, examiner = await auth_headers(api, sessionmaker, clock, Role.examiner)
    bad: list[tuple[str, Any]] = [
        ("limit", 0),
        ("limit", -1),
        ("limit", 501),
        ("limit", 10**12),
        ("limit", "all"),
        ("offset", -1),
        ("offset", 1_000_001),
        ("offset", 10**30),
        ("min_risk", -1),
        ("min_risk", "high"),
        ("tier", "expert"),
        ("tier", "foundation' OR '1'='1"),
        ("state", "deleted"),
        ("window_id", "x"),
        ("change_pending", "maybe"),
    ]
    for name, value in bad:
        refused(await api.get("/api/v1/results", headers=examiner, params={name: value}), 422, name)
    assert len((await api.get("/api/v1/results", headers=examiner, params={"limit": 500})).json()) == 1


# ---- decisions out of order and at the same moment --------------------------------------------------------


async def test_decisions_in_the_wrong_state_are_refused_and_change_nothing(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models examiners clicking buttons a stale page still shows: releasing before grading, releasing twice,
    confirming what is not pending, confirming their own invalidation, deciding on an invalidated result."""
    s = await sitting(api, sessionmaker, clock)  # with a performance task nobody graded
    await answer(s, sessionmaker)
    await submit(s)
    await score(sessionmaker, clock, s.attempt_id)
    _, first = await auth_headers(api, sessionmaker, clock, Role.examiner)
    _, second = await auth_headers(api, sessionmaker, clock, Role.examiner)

    async def conflict(who: dict[str, str], action: str, **body: Any) -> None:
        before = await stored(api, first, s)
        response = await decide(api, who, s, action, **body)
        assert response.status_code == 409, (action, response.text)
        assert response.json()["error"] in ("conflict", "illegal_action")
        assert await stored(api, first, s) == before

    assert (await score(sessionmaker, clock, s.attempt_id)).state.value == "provisional"
    await conflict(first, "release")
    await conflict(first, "release", reason=REASON)
    await conflict(first, "confirm-change", reason=REASON)
    await conflict(second, "invalidation/confirm", reason=REASON)
    await conflict(first, "invalidation/withdraw", reason=REASON)
    window = await api.post("/api/v1/results/release", headers=first, json={"window_id": s.window_id})
    assert window.json() == {"released": 0, "attempt_ids": []}

    task = await task_position(sessionmaker, s)
    assert (await decide(api, first, s, f"items/{task}/override", points=1, reason=REASON)).json()["state"] == "ready"
    await conflict(first, "confirm-change", reason=REASON)
    assert (await decide(api, first, s, "release")).status_code == 200
    await conflict(first, "release")
    await conflict(second, "release", reason=REASON)
    await conflict(first, "confirm-change", reason=REASON)  # released, but nothing changed since
    assert (await decide(api, first, s, "invalidation", reason=REASON)).status_code == 200
    await conflict(second, "invalidation", reason=REASON)  # one request at a time
    await conflict(first, "invalidation/confirm", reason=REASON)  # not by the examiner who asked
    assert (await decide(api, second, s, "invalidation/confirm", reason=REASON)).status_code == 200
    for action in ("release", "confirm-change", "invalidation", "invalidation/confirm", "invalidation/withdraw"):
        await conflict(second, action, reason=REASON)
    await conflict(second, f"items/{task}/override", points=0, reason=REASON)
    rescored = await api.post(f"/api/v1/results/{s.attempt_id}/score", headers=first)
    assert rescored.json()["state"] == "invalidated"  # scoring never undoes an examiner's decision


async def credentials_of(api: httpx.AsyncClient, examiner: dict[str, str], s: Sitting) -> list[Json]:
    listed = await api.get("/api/v1/credentials", headers=examiner, params={"candidate_id": str(s.candidate.id)})
    assert listed.status_code == 200, listed.text
    rows: list[Json] = listed.json()
    return rows


async def test_simultaneous_releases_issue_exactly_one_credential(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models two examiners clicking release on the same result at the same moment, and a third releasing the
    whole window meanwhile: one release wins, the others are told, and the candidate holds one credential."""
    s = await ended(api, sessionmaker, clock)
    late = await another_sitting(api, sessionmaker, clock, s)
    await answer(late, sessionmaker)
    await submit(late)
    await score(sessionmaker, clock, late.attempt_id)
    _, first = await auth_headers(api, sessionmaker, clock, Role.examiner)
    _, second = await auth_headers(api, sessionmaker, clock, Role.examiner)

    both = await asyncio.gather(decide(api, first, s, "release"), decide(api, second, s, "release"))
    assert sorted(r.status_code for r in both) == [200, 409]
    assert len(await credentials_of(api, first, s)) == 1

    single, window = await asyncio.gather(
        decide(api, first, late, "release"),
        api.post("/api/v1/results/release", headers=second, json={"window_id": late.window_id}),
    )
    assert window.status_code == 200, window.text
    by_window = late.attempt_id in window.json()["attempt_ids"]
    assert single.status_code == (409 if by_window else 200)
    assert len(await credentials_of(api, first, late)) == 1
    report = (await api.get(f"/api/v1/results/{late.attempt_id}", headers=first)).json()
    assert [d["action"] for d in report["decisions"]].count("release") == 1


async def test_simultaneous_invalidation_confirmations_revoke_once(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models two examiners agreeing to the same invalidation at once: one confirmation stands, with its reason."""
    s = await ended(api, sessionmaker, clock)
    _, asker = await auth_headers(api, sessionmaker, clock, Role.examiner)
    _, second = await auth_headers(api, sessionmaker, clock, Role.examiner)
    _, third = await auth_headers(api, sessionmaker, clock, Role.admin)
    assert (await decide(api, asker, s, "release")).status_code == 200
    assert (await decide(api, asker, s, "invalidation", reason=REASON)).status_code == 200
    both = await asyncio.gather(
        decide(api, second, s, "invalidation/confirm", reason="second agrees"),
        decide(api, third, s, "invalidation/confirm", reason="third agrees"),
    )
    assert sorted(r.status_code for r in both) == [200, 409]
    winner = "second agrees" if both[0].status_code == 200 else "third agrees"
    [credential] = await credentials_of(api, asker, s)
    assert credential["status"] == "revoked"
    assert credential["revocation_reason"] == f"result invalidated: {winner}"


# ---- invalidation takes the credential with it ------------------------------------------------------------


async def professional_windows(
    api: httpx.AsyncClient, sm: Session, clock: FrozenClock, admin: dict[str, str]
) -> list[str]:
    """Two open windows of a professional blueprint that needs the foundation credential."""
    async with sm() as session, session.begin():
        payloads = [item_payload(f"P-CICD-{n:03d}", "cicd", tier="professional") for n in (1, 2)]
        await bank_service.import_content(
            session, [item_from_payload(p) for p in payloads], [], Authorship("seed", "seed"), clock
        )
        blueprint = {
            "id": "mlocp-professional",
            "tier": "professional",
            "title": "Professional",
            "time_limit_minutes": 60,
            "cut_score_percent": 70,
            "prerequisite": "foundation",
            "sections": [{"id": "theory", "quotas": [{"domain": "cicd", "count": 2}]}],
        }
        await bank_service.publish_blueprint(
            session, Blueprint.model_validate(blueprint), Authorship("seed", "seed"), clock
        )
    return [await open_window(api, admin, clock, blueprint="mlocp-professional") for _ in range(2)]


async def test_invalidating_a_released_pass_revokes_its_credential_and_closes_the_next_tier(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a candidate who passed by cheating, was found out after release, and tries to keep the credential
    working: showing it to an employer, and booking the next tier with it."""
    s = await ended(api, sessionmaker, clock)
    _, first = await auth_headers(api, sessionmaker, clock, Role.examiner)
    _, second = await auth_headers(api, sessionmaker, clock, Role.examiner)
    assert (await decide(api, first, s, "release")).status_code == 200
    [issued] = await credentials_of(api, first, s)
    assert issued["status"] == "valid"
    token = (await api.get(f"/api/v1/credentials/{issued['id']}/download", headers=s.headers)).text
    booked_before, booked_after = await professional_windows(api, sessionmaker, clock, s.admin)
    assert (await api.post(f"/api/v1/windows/{booked_before}/bookings", headers=s.headers)).status_code == 201

    assert (await decide(api, first, s, "invalidation", reason="answers dictated")).status_code == 200
    clock.advance(hours=1)
    assert (await decide(api, second, s, "invalidation/confirm", reason="audio confirms it")).status_code == 200

    [revoked] = await credentials_of(api, first, s)
    assert (revoked["id"], revoked["status"]) == (issued["id"], "revoked")
    by_id = (await api.get(f"/api/v1/credentials/{issued['id']}/verification")).json()
    by_token = (await api.post("/api/v1/credentials/verify", json={"credential": token})).json()
    for verification in (by_id, by_token):
        assert (verification["valid"], verification["status"]) == (False, "revoked")
        assert "result invalidated: audio confirms it" in verification["reason"]
    assert [c["status"] for c in (await api.get("/api/v1/me/credentials", headers=s.headers)).json()] == ["revoked"]
    assert (await s.get("/result")).json()["status"] == "invalidated"

    booking = await api.post(f"/api/v1/windows/{booked_after}/bookings", headers=s.headers)
    assert (booking.status_code, booking.json()["prerequisite"]) == (409, "foundation")
    registration = await api.post(
        f"/api/v1/windows/{booked_after}/registrations", headers=s.admin, json={"candidate_id": str(s.candidate.id)}
    )
    assert (registration.status_code, registration.json()["prerequisite"]) == (409, "foundation")


async def test_a_next_tier_seat_booked_before_the_revocation_cannot_be_taken(
    api: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    """Models a candidate who books the next tier the minute their result is released, before the review
    that invalidates it, and then sits it on the strength of the revoked credential."""
    s = await ended(api, sessionmaker, clock)
    _, first = await auth_headers(api, sessionmaker, clock, Role.examiner)
    _, second = await auth_headers(api, sessionmaker, clock, Role.examiner)
    assert (await decide(api, first, s, "release")).status_code == 200
    window, _ = await professional_windows(api, sessionmaker, clock, s.admin)
    seat = await api.post(f"/api/v1/windows/{window}/bookings", headers=s.headers)
    assert seat.status_code == 201
    assert (await decide(api, first, s, "invalidation", reason="answers dictated")).status_code == 200
    assert (await decide(api, second, s, "invalidation/confirm", reason="audio confirms it")).status_code == 200
    check_in = await api.post(f"/api/v1/attempts/{seat.json()['id']}/check-in", headers=s.headers)
    assert check_in.status_code == 409, check_in.text
