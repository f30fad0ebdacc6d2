"""Small helpers that build test data through the real services and API."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import Clock
from exam_service.identity import service as identity_service
from exam_service.identity.schemas import UserCreate
from exam_service.models import Role, User

TEST_SECRET = "test-secret-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


async def make_user(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    role: Role = Role.candidate,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    **extra: float,
) -> User:
    email = email or f"{role.value}{next(_counter)}@example.org"
    async with sessionmaker() as session, session.begin():
        return await identity_service.create_user(
            session,
            UserCreate(email=email, full_name=f"Test {role.value}", role=role, password=password, **extra),
            clock,
        )


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/token", data={"username": email, "password": password})


async def token_for(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await login(client, email, password)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


# a real check: the Dockerfile, parsed in the sandbox, must end on a non-root USER
NON_ROOT_CHECK: dict[str, Any] = {
    "id": "user",
    "file": "Dockerfile",
    "kind": "document",
    "format": "dockerfile",
    "message": "the image runs as a non-root user",
    "judge": (
        "def judge(data):\n"
        "    users = [i.get('value') for i in data.get('instructions') or [] if i.get('instruction') == 'USER']\n"
        "    return [(bool(users) and users[-1] not in ('root', '0'), 'the image must switch to a non-root USER')]\n"
    ),
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def auth_headers(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    role: Role,
    **extra: float,
) -> tuple[User, dict[str, str]]:
    user = await make_user(sessionmaker, clock, role, **extra)
    return user, bearer(await token_for(client, user.email))


# ---- question bank ---------------------------------------------------------------------------

BANK_DOMAINS = {
    "foundation": ("lifecycle", "containers", "versioning", "data_validation", "serving"),
}
_ABBREV = {
    "lifecycle": "LIFE",
    "containers": "CONT",
    "versioning": "VERS",
    "data_validation": "DATA",
    "serving": "SERV",
}


def item_payload(
    item_id: str, domain: str = "containers", kind: str = "single_choice", **override: Any
) -> dict[str, Any]:
    """A valid foundation item of any type, in the authoring format."""
    base: dict[str, Any] = {
        "id": item_id,
        "type": kind,
        "tier": "foundation",
        "domain": domain,
        "tracks": ["DevOps"],
        "difficulty": "medium",
        "stem": f"Question {item_id}: which statement about {domain} holds?",
        "rationale": "Because the documented behaviour says so, and the others contradict it.",
        "references": ["Project documentation"],
    }
    options = [{"id": i, "text": f"Option {i.upper()} of {item_id}"} for i in ("a", "b", "c", "d")]
    specifics: dict[str, dict[str, Any]] = {
        "single_choice": {"options": options, "key": "b"},
        "multiple_response": {"options": options, "key": ["a", "c"], "scoring": "partial", "penalty": 0.5},
        "true_false": {"key": True},
        "numeric": {"key": 0.25, "tolerance": 0.01},
        "ordering": {"options": options},
        "matching": {
            "premises": [{"id": "p1", "text": "Dockerfile"}, {"id": "p2", "text": "dvc.yaml"}],
            "responses": [{"id": "r1", "text": "image"}, {"id": "r2", "text": "pipeline"}, {"id": "r3", "text": "x"}],
            "key": {"p1": "r1", "p2": "r2"},
        },
        "short_text": {"accepted": ["HEALTHCHECK"]},
        "performance_task": {
            "estimated_minutes": 20,
            "answer_files": ["Dockerfile"],
            "grader": {"checks": [NON_ROOT_CHECK]},
        },
    }
    return {**base, **specifics[kind], **override}


def synthetic_bank(per_domain: int = 6, tasks: int = 3) -> list[dict[str, Any]]:
    """A foundation pool with ``per_domain`` theory items per domain and some tasks."""
    kinds = ["single_choice", "multiple_response", "true_false", "ordering", "matching", "numeric", "short_text"]
    payloads = []
    for offset, domain in enumerate(BANK_DOMAINS["foundation"]):
        for n in range(1, per_domain + 1):
            kind = kinds[(n - 1 + offset) % len(kinds)]
            payloads.append(item_payload(f"F-{_ABBREV[domain]}-{n:03d}", domain, kind))
    for n in range(1, tasks + 1):
        payloads.append(item_payload(f"F-TASK-{n:03d}", "serving", "performance_task"))
    return payloads


def blueprint_payload(per_domain: int = 2, tasks: int = 1, **override: Any) -> dict[str, Any]:
    return {
        "id": "mlocp-foundation",
        "tier": "foundation",
        "title": "Foundation",
        "time_limit_minutes": 60,
        "cut_score_percent": 70,
        "prerequisite": None,
        "sections": [
            {
                "id": "theory",
                "minimum_percent": 60,
                "quotas": [{"domain": d, "count": per_domain} for d in BANK_DOMAINS["foundation"]],
            },
            {"id": "performance", "minimum_percent": 50, "quotas": [{"domain": "any", "count": tasks}]},
        ],
        **override,
    }
