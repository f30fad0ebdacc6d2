"""Builds a sitting through the real API: bank, window, registration, check-in, start."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.bank import service as bank_service
from exam_service.bank.authoring import Blueprint
from exam_service.bank.service import Authorship, item_from_payload
from exam_service.core.clock import FrozenClock
from exam_service.models import Role, User
from tests.factories import auth_headers, blueprint_payload, synthetic_bank

TIME_LIMIT_MINUTES = 60


async def seed_bank(
    sm: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    tasks: list[dict[str, Any]] | None = None,
    **blueprint: Any,
) -> None:
    """The synthetic bank; ``tasks`` replaces its performance tasks."""
    payloads = synthetic_bank(4, 2) if tasks is None else [*synthetic_bank(4, 0), *tasks]
    async with sm() as session, session.begin():
        await bank_service.import_content(
            session,
            [item_from_payload(p) for p in payloads],
            [
                Blueprint.model_validate(
                    blueprint_payload(per_domain=2, tasks=1, time_limit_minutes=TIME_LIMIT_MINUTES, **blueprint)
                )
            ],
            Authorship("seed", "seed"),
            clock,
        )


@dataclass
class Sitting:
    client: httpx.AsyncClient
    clock: FrozenClock
    admin: dict[str, str]
    proctor: dict[str, str]
    candidate: User
    headers: dict[str, str]
    proctor_user: User
    window_id: str
    attempt_id: str

    @property
    def url(self) -> str:
        return f"/api/v1/attempts/{self.attempt_id}"

    @property
    def staff_url(self) -> str:
        return f"/api/v1/proctoring/attempts/{self.attempt_id}"

    async def post(self, path: str = "", **kwargs: Any) -> httpx.Response:
        return await self.client.post(self.url + path, headers=self.headers, **kwargs)

    async def get(self, path: str = "") -> httpx.Response:
        return await self.client.get(self.url + path, headers=self.headers)

    async def save(self, position: int, revision: int, value: Any, **extra: Any) -> httpx.Response:
        return await self.client.put(
            f"{self.url}/responses/{position}",
            headers=self.headers | extra.pop("hdrs", {}),
            json={"revision": revision, "value": value, **extra},
        )

    async def staff(self, action: str, **body: Any) -> httpx.Response:
        return await self.client.post(f"{self.staff_url}/{action}", headers=self.proctor, json=body or None)

    async def form(self) -> dict[str, Any]:
        response = await self.get("/form")
        assert response.status_code == 200, response.text
        form: dict[str, Any] = response.json()
        return form


async def open_window(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    clock: FrozenClock,
    *,
    proctored: bool = False,
    blueprint: str = "mlocp-foundation",
    opens_in: float = 0,
    hours: float = 4,
    capacity: int | None = None,
    **policy: Any,
) -> str:
    opens = clock.now() + timedelta(minutes=opens_in)
    response = await client.post(
        "/api/v1/windows",
        headers=admin,
        json={
            "title": "Foundation sitting",
            "blueprint": blueprint,
            "opens_at": opens.isoformat(),
            "closes_at": (opens + timedelta(hours=hours)).isoformat(),
            "proctored": proctored,
            "capacity": capacity,
            **policy,
        },
    )
    assert response.status_code == 201, response.text
    window_id: str = response.json()["id"]
    return window_id


async def sitting(
    client: httpx.AsyncClient,
    sm: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    *,
    proctored: bool = False,
    started: bool = True,
    window: dict[str, Any] | None = None,
    tasks: list[dict[str, Any]] | None = None,
    rules: dict[str, Any] | None = None,
    **accommodations: float,
) -> Sitting:
    """``rules`` overrides fields of the blueprint (sections, cut score...)."""
    await seed_bank(sm, clock, tasks, **(rules or {}))
    _, admin = await auth_headers(client, sm, clock, Role.admin)
    proctor_user, proctor = await auth_headers(client, sm, clock, Role.proctor)
    candidate, headers = await auth_headers(client, sm, clock, Role.candidate, **accommodations)
    window_id = await open_window(client, admin, clock, proctored=proctored, **(window or {}))
    assigned = await client.post(
        f"/api/v1/windows/{window_id}/proctors", headers=admin, json={"proctor_id": str(proctor_user.id)}
    )
    assert assigned.status_code == 201, assigned.text
    registered = await client.post(
        f"/api/v1/windows/{window_id}/registrations", headers=admin, json={"candidate_id": str(candidate.id)}
    )
    assert registered.status_code == 201, registered.text
    result = Sitting(
        client, clock, admin, proctor, candidate, headers, proctor_user, window_id, registered.json()["id"]
    )
    if started:
        assert (await result.post("/check-in")).status_code == 200
        started_response = await result.post("/start", json={"accept_rules": True})
        assert started_response.status_code == 200, started_response.text
        if proctored:
            assert (await result.staff("authorize")).status_code == 200
    return result


def new_session_id() -> str:
    return uuid.uuid4().hex


def value_for(item: dict[str, Any], revision: int) -> Any:
    """A valid answer to any shown item that differs from one revision to the next."""
    kind = item["type"]
    labels = [o["id"] for o in item.get("options", [])]
    if kind == "single_choice":
        return labels[revision % len(labels)]
    if kind == "multiple_response":
        return [labels[revision % len(labels)]]
    if kind == "ordering":
        shift = revision % len(labels)
        return labels[shift:] + labels[:shift]
    if kind == "true_false":
        return "true" if revision % 2 else "false"
    if kind == "matching":
        responses = [r["id"] for r in item["responses"]]
        return {"1": responses[revision % len(responses)]}
    if kind == "numeric":
        return revision
    if kind == "short_text":
        return f"answer {revision}"
    return {item["answer_files"][0]: f"# revision {revision}\n"}
