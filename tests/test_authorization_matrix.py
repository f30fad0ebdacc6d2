"""Every route of the app, played by every kind of caller, against ``tests/authorization_table.py``.

One database and one running server per module hold two candidates with sittings under way in a
proctored window, a proctor of that window and one of another window, examiners, an administrator,
the bank, and a sitting submitted, released as a pass and credentialed. Routes that change or use
up what they act on get a resource of their own for each caller allowed to act; the refused
callers share one, which they cannot change.

Each cell checks the exact status, the service's error shape for refusals, that no response shows a
candidate another candidate's id, e-mail or sitting (nor a proctor another window's sittings), and
that another candidate's sitting or credential is "not found" exactly as a missing one is.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import re
import string
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from PIL import Image
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import BaseRoute, Mount, WebSocketRoute
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from exam_service.core.broker import InProcessBroker
from exam_service.core.clock import FrozenClock
from exam_service.core.database import create_engine, create_sessionmaker
from exam_service.core.settings import Settings
from exam_service.credentials import service as credentials_service
from exam_service.identity import service as identity_service
from exam_service.main import create_app
from exam_service.models import Role, User
from tests.authorization_table import OPENS, ROUTES, SUCCESS, Caller, On, Route
from tests.conftest import BACKENDS, app_settings, fresh_database
from tests.delivery.helpers import open_window, seed_bank
from tests.factories import BANK_DOMAINS, PASSWORD, auth_headers, bearer, item_payload, login
from tests.proctoring.live import Live, serve
from tests.scoring.helpers import form_rows, right_answer, shown

API = "/api/v1"
METRICS_TOKEN = "metrics-scrape-token-0123456789abcdef"
THEORY_ONLY = [
    {"id": "theory", "minimum_percent": 60, "quotas": [{"domain": d, "count": 2} for d in BANK_DOMAINS["foundation"]]}
]
UNKNOWN_REFRESH_TOKEN = "A" * 43
# accounts made here store a light Argon2id hash: sign-in verifies it as it verifies any, a hundred times faster
LIGHT_HASH = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
HTTP_ROUTES = [r for r in ROUTES if r.method != "WS"]
CHANNELS = [r for r in ROUTES if r.method == "WS"]
# a route whose table entry the service does not meet yet: its id and what goes wrong
HOLES: dict[str, str] = {}


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


FRAME = _jpeg()


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route, ``WS`` for channels; mounts (static files) are left out."""
    contexts: Iterator[Any] = (
        fastapi_routing.iter_route_contexts(app.routes)
        if hasattr(fastapi_routing, "iter_route_contexts")
        else iter(app.routes)
    )
    found: set[tuple[str, str]] = set()
    for context in contexts:
        route: BaseRoute = getattr(context, "original_route", context)
        if isinstance(route, Mount):
            continue
        path = str(context.path)
        if isinstance(route, fastapi_routing.APIWebSocketRoute | WebSocketRoute):
            found.add(("WS", path))
            continue
        methods = set(context.methods or ())
        if "GET" in methods:
            methods.discard("HEAD")  # Starlette answers HEAD wherever it answers GET
        found |= {(method, path) for method in methods}
    return found


def matrix_settings(database_url: str, folder: Path) -> Settings:
    return app_settings(
        database_url,
        credential_key_file=str(folder / "credential-key.pem"),
        snapshot_dir=str(folder / "snapshots"),
        metrics_token=METRICS_TOKEN,
    )


def test_the_table_names_every_route_the_app_serves(tmp_path: Path) -> None:
    app = create_app(matrix_settings(f"sqlite+aiosqlite:///{tmp_path}/unused.db", tmp_path))
    listed = [(r.method, r.path) for r in ROUTES]
    assert len(listed) == len(set(listed)), "a route is listed twice"
    served = served_routes(app)
    missing = sorted(served - set(listed))
    stale = sorted(set(listed) - served)
    assert not missing, "routes served without an authorization entry: " + ", ".join(f"{m} {p}" for m, p in missing)
    assert not stale, "entries for routes the app does not serve: " + ", ".join(f"{m} {p}" for m, p in stale)


# ---- the seeded world ------------------------------------------------------------------------


@dataclass
class Person:
    id: str
    email: str
    headers: dict[str, str]
    attempts: set[str] = field(default_factory=set)

    @property
    def secrets(self) -> set[str]:
        """What another candidate must never be shown."""
        return {self.id, uuid.UUID(self.id).hex, self.email, *self.attempts}


@dataclass(frozen=True)
class Target:
    params: dict[str, str]
    owner: Person
    other: Person


@dataclass
class Cell:
    request: httpx.Request
    person: Person | None


class World:
    def __init__(self, app: FastAPI, live: Live, sm: async_sessionmaker[AsyncSession], clock: FrozenClock) -> None:
        self.app, self.live, self.http, self.sm, self.clock = app, live, live.http, sm, clock
        self.people: dict[Caller, Person] = {}
        self.params: dict[str, str] = {}
        self.attempts: set[str] = set()
        self.counter = itertools.count(1)

    # ---- building blocks, all through the API except the bank import and the credential of a seat

    async def call(self, method: str, path: str, person: Person, expect: int = 200, **kwargs: Any) -> httpx.Response:
        headers = {**person.headers, **kwargs.pop("headers", {})}
        response = await self.http.request(method, path, headers=headers, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response

    async def person(self, role: Role) -> Person:
        user, headers = await auth_headers(self.http, self.sm, self.clock, role)
        return Person(str(user.id), user.email, headers)

    async def sign_in(self, person: Person) -> dict[str, Any]:
        response = await login(self.http, person.email)
        assert response.status_code == 200, response.text
        granted: dict[str, Any] = response.json()
        return granted

    async def register(self, candidate: Person, window_id: str) -> str:
        response = await self.call(
            "POST",
            f"{API}/windows/{window_id}/registrations",
            self.admin,
            201,
            json={"candidate_id": candidate.id},
        )
        attempt_id: str = response.json()["id"]
        candidate.attempts.add(attempt_id)
        self.attempts.add(attempt_id)
        return attempt_id

    async def check_in(self, candidate: Person, attempt_id: str) -> None:
        await self.call("POST", f"{API}/attempts/{attempt_id}/check-in", candidate)

    async def start(self, candidate: Person, attempt_id: str, *, proctored: bool = True) -> None:
        await self.call("POST", f"{API}/attempts/{attempt_id}/start", candidate, json={"accept_rules": True})
        if proctored:
            await self.call("POST", f"{API}/proctoring/attempts/{attempt_id}/authorize", self.people[Caller.proctor])

    async def submit(self, candidate: Person, attempt_id: str) -> None:
        await self.call("POST", f"{API}/attempts/{attempt_id}/submit", candidate)

    async def new_item(self) -> dict[str, Any]:
        item_id = f"F-M{next(self.counter)}-001"
        body = {"content": item_payload(item_id), "change_note": "written for the authorization matrix"}
        response = await self.call("POST", f"{API}/bank/items", self.examiner, 201, json=body)
        version: dict[str, Any] = response.json()["version"]
        return version

    @property
    def admin(self) -> Person:
        return self.people[Caller.admin]

    @property
    def examiner(self) -> Person:
        return self.people[Caller.examiner]

    # ---- the world every route starts from

    async def seed(self) -> None:
        await seed_bank(self.sm, self.clock, sections=THEORY_ONLY)
        for caller, role in (
            (Caller.admin, Role.admin),
            (Caller.examiner, Role.examiner),
            (Caller.proctor, Role.proctor),
            (Caller.proctor_elsewhere, Role.proctor),
            (Caller.owner, Role.candidate),
            (Caller.other, Role.candidate),
        ):
            self.people[caller] = await self.person(role)
        self.second_examiner = await self.person(Role.examiner)
        self.spare_proctor = await self.person(Role.proctor)
        owner, other, proctor = self.people[Caller.owner], self.people[Caller.other], self.people[Caller.proctor]

        admin = self.admin.headers
        self.window_id = await open_window(self.http, admin, self.clock, proctored=True)
        finished_window = await open_window(self.http, admin, self.clock)
        elsewhere_window = await open_window(self.http, admin, self.clock, proctored=True)
        self.empty_window_id = await open_window(self.http, admin, self.clock)
        for window_id, staff in (
            (self.window_id, proctor),
            (finished_window, proctor),
            (elsewhere_window, self.people[Caller.proctor_elsewhere]),
        ):
            await self.call(
                "POST", f"{API}/windows/{window_id}/proctors", self.admin, 201, json={"proctor_id": staff.id}
            )
        self.windows = {self.window_id, finished_window}

        # the owner's finished sitting: answered right, submitted, released, credentialed
        self.finished_id = await self.register(owner, finished_window)
        await self.check_in(owner, self.finished_id)
        await self.start(owner, self.finished_id, proctored=False)
        for row, version in await form_rows(self.sm, self.finished_id):
            value = shown(version.payload, row.presentation, right_answer(version.payload))
            await self.call(
                "PUT",
                f"{API}/attempts/{self.finished_id}/responses/{row.position}",
                owner,
                json={"revision": 1, "value": value},
            )
        await self.submit(owner, self.finished_id)
        released = await self.call("POST", f"{API}/results/{self.finished_id}/release", self.second_examiner, json={})
        assert released.json()["passed"] is True, released.text
        (credential,) = (await self.call("GET", f"{API}/me/credentials", owner)).json()
        self.credential_token = (await self.call("GET", f"{API}/credentials/{credential['id']}/download", owner)).text

        # both candidates' sittings under way in the proctored window
        self.live_ids: dict[str, str] = {}
        for candidate in (owner, other):
            attempt_id = await self.register(candidate, self.window_id)
            await self.check_in(candidate, attempt_id)
            await self.start(candidate, attempt_id)
            self.live_ids[candidate.id] = attempt_id
        live_id = self.live_ids[owner.id]
        snapshot = await self.call(
            "POST",
            f"{API}/attempts/{live_id}/snapshots",
            owner,
            201,
            content=FRAME,
            headers={"Content-Type": "image/jpeg"},
        )
        corrected = await self.new_item()
        correction = await self.call(
            "POST",
            f"{API}/bank/versions/{corrected['id']}/corrections",
            self.examiner,
            202,
            json={"kind": "accept_answer", "value": "c", "reason": "option C is right as well"},
        )
        blueprint = await self.call("GET", f"{API}/bank/blueprints/mlocp-foundation", self.examiner)
        self.params = {
            "attempt_id": live_id,
            "window_id": self.window_id,
            "user_id": owner.id,
            "proctor_id": self.spare_proctor.id,
            "item_id": "F-CONT-001",
            "version": "1",
            "key": "mlocp-foundation",
            "position": "1",
            "version_id": corrected["id"],
            "correction_id": correction.json()["id"],
            "blueprint_version_id": blueprint.json()["id"],
            "credential_id": credential["id"],
            "snapshot_id": snapshot.json()["id"],
            "action": "warn",
            "decision": "dismiss",
        }

    # ---- what a route acts on

    async def build(self, on: On) -> Target:
        owner, other = self.people[Caller.owner], self.people[Caller.other]
        if on is On.live_sitting:
            return Target({}, owner, other)
        if on is On.finished_sitting:
            return Target({"attempt_id": self.finished_id}, owner, other)
        if on is On.fresh_candidate:
            fresh = await self.person(Role.candidate)
            return Target({"user_id": fresh.id}, fresh, other)
        if on is On.fresh_candidates:
            return Target({}, await self.person(Role.candidate), await self.person(Role.candidate))
        if on is On.fresh_item:
            version = await self.new_item()
            return Target({"item_id": version["item_id"], "version": "1", "version_id": version["id"]}, owner, other)
        if on is On.spare_proctor_assigned:
            await self.call(
                "POST",
                f"{API}/windows/{self.window_id}/proctors",
                self.admin,
                201,
                json={"proctor_id": self.spare_proctor.id},
            )
            return Target({}, owner, other)
        if on is On.open_incident:
            return Target({"incident_id": await self.open_incident()}, owner, other)
        return await self.sitting(on)

    async def sitting(self, on: On) -> Target:
        """A new candidate's sitting in the window, taken as far as ``on`` says."""
        fresh = await self.person(Role.candidate)
        attempt_id = await self.register(fresh, self.window_id)
        target = Target({"attempt_id": attempt_id}, fresh, self.people[Caller.other])
        if on is On.fresh_credential:
            async with self.sm() as session, session.begin():
                candidate = await session.get(User, uuid.UUID(fresh.id))
                assert candidate is not None
                credential = await credentials_service.issue(
                    session,
                    self.app.state.credential_signer,
                    attempt_id=uuid.UUID(attempt_id),
                    candidate=candidate,
                    tier="foundation",
                    validity_years=3,
                    now=self.clock.now(),
                )
            return Target({"credential_id": str(credential.id)}, fresh, self.people[Caller.other])
        steps = [On.fresh_registration, On.fresh_checked_in, On.fresh_started, On.fresh_submitted]
        reached = steps.index(on) if on in steps else len(steps)
        if reached >= 1:
            await self.check_in(fresh, attempt_id)
        if reached >= 2:
            await self.start(fresh, attempt_id)
        if reached >= 3:
            await self.submit(fresh, attempt_id)
        result = f"{API}/results/{attempt_id}"
        reason = {"reason": "as the second examiner saw it"}
        if on is On.fresh_changed_result:  # released unanswered, then one item marked up
            await self.call("POST", f"{result}/release", self.second_examiner, json={})
            await self.call("POST", f"{result}/items/1/override", self.second_examiner, json={"points": 1.0, **reason})
        if on is On.fresh_invalidation_requested:
            await self.call("POST", f"{result}/invalidation", self.second_examiner, json=reason)
        return target

    async def open_incident(self) -> str:
        attempt = f"{API}/proctoring/attempts/{self.params['attempt_id']}"
        proctor = self.people[Caller.proctor]
        report = {"category": "environment", "description": "a second person walked past"}
        await self.call("POST", f"{attempt}/report", proctor, json=report)
        incidents = (await self.call("GET", f"{attempt}/integrity", proctor)).json()["incidents"]
        newest = max((i for i in incidents if i["status"] == "open"), key=lambda i: i["event_seq"])
        incident_id: str = newest["id"]
        return incident_id

    # ---- one cell

    def caller_person(self, caller: Caller, target: Target) -> Person | None:
        if caller is Caller.anonymous:
            return None
        if caller is Caller.owner:
            return target.owner
        if caller is Caller.other:
            return target.other
        return self.people[caller]

    async def cell(self, route: Route, caller: Caller, target: Target, **override: str) -> Cell:
        person = self.caller_person(caller, target)
        params = {**self.params, **target.params, **(route.at or {}), **override}
        url = route.path.format(**params) + (f"?{route.query}" if route.query else "")
        headers = dict(person.headers) if person else {}
        if route.own_session and person is not None:
            headers = bearer((await self.sign_in(person))["access_token"])
        values = await self.values(route, person, target, params)
        kwargs: dict[str, Any] = {}
        if route.json is not None:
            kwargs["json"] = substitute(route.json, values)
        if route.form is not None:
            kwargs["data"] = substitute(route.form, values)
        if route.jpeg:
            kwargs["content"] = FRAME
            headers["Content-Type"] = "image/jpeg"
        return Cell(self.http.build_request(route.method, url, headers=headers, **kwargs), person)

    async def values(
        self, route: Route, person: Person | None, target: Target, params: dict[str, str]
    ) -> dict[str, Any]:
        named = {name for text in strings(route.json, route.form) for name in string.Template(text).get_identifiers()}
        values: dict[str, Any] = {**params, "owner_id": target.owner.id, "empty_window_id": self.empty_window_id}
        values |= {"caller_email": (person or target.owner).email, "caller_password": PASSWORD}
        values |= {"credential_token": self.credential_token, "n": next(self.counter)}
        if "caller_refresh_token" in named:
            values["caller_refresh_token"] = (
                (await self.sign_in(person))["refresh_token"] if person else UNKNOWN_REFRESH_TOKEN
            )
        return values

    def secrets(self, route: Route, caller: Caller, target: Target) -> set[str]:
        """What this caller must not be shown."""
        if caller is Caller.owner:
            return target.other.secrets
        if caller is Caller.other:
            return target.owner.secrets
        if caller is Caller.anonymous:
            return target.owner.secrets | target.other.secrets
        if caller is Caller.proctor_elsewhere:
            return self.attempts | (set() if route.lists_windows else self.windows)
        return set()

    async def play(self, route: Route) -> list[str]:
        failures: list[str] = []
        shared: Target | None = None
        for caller in Caller:
            expected = route.expect.of(caller)
            if route.fresh and expected in SUCCESS:
                target = await self.build(route.on)
            else:
                shared = shared or await self.build(route.on)
                target = shared
            cell = await self.cell(route, caller, target)
            response = await self.http.send(cell.request)
            failures += [f"{caller.value}: {p}" for p in await self.judge(route, caller, target, cell, response)]
        return failures

    async def judge(
        self, route: Route, caller: Caller, target: Target, cell: Cell, response: httpx.Response
    ) -> list[str]:
        problems = []
        expected = route.expect.of(caller)
        if response.status_code != expected:
            problems.append(f"expected {expected}, got {response.status_code}: {response.text[:300]}")
        if 400 <= response.status_code < 500 and not is_error_shape(response):
            problems.append(f"the refusal is not the service's error shape: {response.text[:200]}")
        sent = unquote(str(cell.request.url)) + unquote(cell.request.content.decode(errors="replace"))
        shown_ = sorted(s for s in self.secrets(route, caller, target) if s not in sent and s in response.text)
        if shown_:
            problems.append(f"the response shows what is not theirs: {shown_}")
        owned = next((p for p in ("attempt_id", "credential_id") if f"{{{p}}}" in route.path), None)
        if caller is Caller.other and expected == 404 and owned:
            probe = await self.cell(route, caller, target, **{owned: str(uuid.uuid4())})
            missing = await self.http.send(probe.request)
            if outline(missing) != outline(response):
                problems.append(
                    f"another candidate's {owned} answers {outline(response)}, a missing one {outline(missing)}"
                )
        return problems


def strings(*values: Any) -> Iterator[str]:
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            yield from strings(*value.values())
        elif isinstance(value, list):
            yield from strings(*value)


WHOLE = re.compile(r"\$(\w+)")


def substitute(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: substitute(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, values) for v in value]
    if isinstance(value, str):
        whole = WHOLE.fullmatch(value)
        return values[whole.group(1)] if whole else string.Template(value).substitute(values)
    return value


def is_error_shape(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and {"error", "detail"} <= body.keys()


def outline(response: httpx.Response) -> tuple[int, Any, Any]:
    body = response.json() if is_error_shape(response) else {}
    return response.status_code, body.get("error"), body.get("detail")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BACKENDS)
async def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    folder = tmp_path_factory.mktemp("authorization")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(identity_service, "hash_password", LIGHT_HASH.hash)
        async with fresh_database(request.param, request, folder) as url:
            clock = FrozenClock()
            app = create_app(matrix_settings(url, folder), clock=clock, broker=InProcessBroker())
            engine = create_engine(url)
            try:
                async with serve(app) as live:
                    seeded = World(app, live, create_sessionmaker(engine), clock)
                    await seeded.seed()
                    yield seeded
            finally:
                await engine.dispose()


def _params(routes: list[Route]) -> list[Any]:
    return [
        pytest.param(r, id=r.id, marks=[pytest.mark.xfail(strict=True, reason=HOLES[r.id])] if r.id in HOLES else [])
        for r in routes
    ]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("route", _params(HTTP_ROUTES))
async def test_each_caller_gets_the_status_the_table_gives(world: World, route: Route) -> None:
    failures = await world.play(route)
    assert not failures, f"{route.id}\n" + "\n".join(failures)


@pytest.mark.asyncio(loop_scope="module")
async def test_metrics_answer_the_bearer_of_the_scrape_token(world: World) -> None:
    response = await world.http.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert response.status_code == 200, response.text
    assert "exam_http_requests_total" in response.text


# ---- the channels ----------------------------------------------------------------------------


async def channel_ticket(world: World, caller: Caller) -> str:
    """The ticket this caller can get: a candidate's for their own sitting, a proctor ticket for staff."""
    person = world.people[caller]
    if caller in (Caller.owner, Caller.other):
        path, body = f"{API}/attempts/{world.live_ids[person.id]}/channel-ticket", None
    else:
        path = f"{API}/proctoring/channel-ticket"
        body = None if caller is Caller.proctor_elsewhere else {"window_id": world.window_id}
    response = await world.call("POST", path, person, json=body)
    ticket: str = response.json()["url"].split("ticket=", 1)[1]
    return ticket


async def knock(world: World, path: str, ticket: str | None) -> tuple[int, str]:
    """Opens the channel and says hello: ``OPENS`` and the first frame, or the close code."""
    url = world.live.ws_base + path + (f"?ticket={ticket}" if ticket is not None else "")
    hello = {"type": "hello", "last_seq": 0} if path == "/ws/candidate" else {"type": "hello", "cursors": {}}
    async with connect(url, open_timeout=5) as socket:
        try:
            await socket.send(json.dumps(hello))
            frame = await asyncio.wait_for(socket.recv(), 5)
        except ConnectionClosed as closed:
            return (closed.rcvd.code if closed.rcvd is not None else 1006), ""
    return OPENS, str(frame)


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("route", _params(CHANNELS))
async def test_each_caller_opens_only_the_channel_its_ticket_is_for(world: World, route: Route) -> None:
    target = await world.build(On.live_sitting)
    failures = []
    for caller in Caller:
        expected = route.expect.of(caller)
        tickets = (
            [None, "forged-" + uuid.uuid4().hex]
            if caller is Caller.anonymous
            else [await channel_ticket(world, caller)]
        )
        for ticket in tickets:
            outcome, frame = await knock(world, route.path, ticket)
            if outcome != expected:
                failures.append(f"{caller.value} (ticket {ticket and ticket[:12]}): expected {expected}, got {outcome}")
            shown_ = sorted(s for s in world.secrets(route, caller, target) if s in frame)
            if shown_:
                failures.append(f"{caller.value}: the first frame shows what is not theirs: {shown_}")
            if outcome == OPENS and caller in (Caller.owner, Caller.other):
                welcome = json.loads(frame)
                own = world.live_ids[world.people[caller].id]
                if (welcome.get("type"), welcome.get("attempt_id")) != ("welcome", own):
                    failures.append(f"{caller.value}: the ticket opened something else than their sitting: {frame}")
            staff = caller not in (Caller.owner, Caller.other)
            if outcome == OPENS and staff and json.loads(frame).get("type") != "snapshot":
                failures.append(f"{caller.value}: the console did not get its snapshot: {frame[:200]}")
    assert not failures, f"{route.id}\n" + "\n".join(failures)
