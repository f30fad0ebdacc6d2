"""A database with one of everything the API's paths name: a finished and a live sitting, windows,
items, a credential, a key correction, an incident, a webcam snapshot, and an account per role."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from PIL import Image

from exam_service.core.broker import InProcessBroker
from exam_service.core.clock import FrozenClock
from exam_service.core.settings import Settings
from exam_service.credentials import service as credentials_service
from exam_service.main import create_app
from exam_service.models import Role, User
from tests.delivery.helpers import open_window, seed_bank, value_for
from tests.factories import bearer, make_user, token_for


@dataclass
class Seeded:
    emails: dict[str, str]  # role -> the account the run signs in with
    user_ids: dict[str, str]
    path_values: dict[str, list[Any]]  # path parameter -> real values to try besides generated ones


def jpeg_frame() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def seed(settings: Settings, clock: FrozenClock) -> Seeded:
    app = create_app(settings, clock=clock, broker=InProcessBroker())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
            return await _seed(app, api, settings, clock)


async def _seed(app: Any, api: httpx.AsyncClient, settings: Settings, clock: FrozenClock) -> Seeded:
    sm = app.state.sessionmaker
    await seed_bank(sm, clock)
    users = {
        role.value: await make_user(sm, clock, role)
        for role in (Role.candidate, Role.proctor, Role.examiner, Role.admin)
    }
    spare_proctor = await make_user(sm, clock, Role.proctor)
    bystander = await make_user(sm, clock, Role.candidate)
    h = {role: bearer(await token_for(api, user.email)) for role, user in users.items()}
    candidate, admin, examiner, proctor = h["candidate"], h["admin"], h["examiner"], h["proctor"]

    # a finished sitting, scored, with a credential
    finished_window = await open_window(api, admin, clock)
    finished = await _staff_and_seat(api, admin, finished_window, spare_proctor, users["candidate"])
    await _sit(api, candidate, finished, answered=3)
    await _ok(await api.post(f"/api/v1/attempts/{finished}/submit", headers=candidate))
    await _ok(await api.post(f"/api/v1/results/{finished}/score", headers=examiner))
    async with sm() as session, session.begin():
        credential = await credentials_service.issue(
            session,
            app.state.credential_signer,
            attempt_id=uuid.UUID(finished),
            candidate=users["candidate"],
            tier="foundation",
            validity_years=3,
            now=clock.now(),
        )

    # a key correction on a single-choice item
    [listed, *_] = await _ok(await api.get("/api/v1/bank/items", headers=examiner, params={"type": "single_choice"}))
    item = await _ok(await api.get(f"/api/v1/bank/items/{listed['item_id']}", headers=examiner))
    other_option = next(o["id"] for o in item["content"]["options"] if o["id"] != item["content"]["key"])
    correction = await _ok(
        await api.post(
            f"/api/v1/bank/versions/{item['id']}/corrections",
            headers=examiner,
            json={"kind": "accept_answer", "value": other_option, "reason": "the second option is right as well"},
        ),
        202,
    )

    # a live proctored sitting with a snapshot and an incident
    live_window = await open_window(api, admin, clock, proctored=True, webcam_interval_seconds=10)
    live = await _staff_and_seat(api, admin, live_window, users["proctor"], users["candidate"])
    await _ok(await api.post(f"/api/v1/attempts/{live}/check-in", headers=candidate))
    await _ok(await api.post(f"/api/v1/attempts/{live}/start", headers=candidate, json={"accept_rules": True}))
    await _ok(await api.post(f"/api/v1/proctoring/attempts/{live}/authorize", headers=proctor))
    await _sit(api, candidate, live, answered=2, start=False)
    snapshot = await _ok(
        await api.post(
            f"/api/v1/attempts/{live}/snapshots",
            headers=candidate | {"Content-Type": "image/jpeg"},
            content=jpeg_frame(),
        ),
        201,
    )
    report = {"category": "environment", "description": "someone spoke off camera"}
    await _ok(await api.post(f"/api/v1/proctoring/attempts/{live}/report", headers=proctor, json=report))
    integrity = await _ok(await api.get(f"/api/v1/proctoring/attempts/{live}/integrity", headers=proctor))
    windows = await _ok(await api.get("/api/v1/windows", headers=admin))

    return Seeded(
        emails={role: user.email for role, user in users.items()},
        user_ids={role: str(user.id) for role, user in users.items()},
        path_values={
            "attempt_id": [live, finished],
            "window_id": [live_window, finished_window],
            "user_id": [str(bystander.id)],
            "proctor_id": [str(spare_proctor.id)],
            "item_id": [listed["item_id"]],
            "version": [1],
            "key": ["mlocp-foundation"],
            "version_id": [item["id"]],
            "blueprint_version_id": [windows[0]["blueprint_version_id"]],
            "credential_id": [str(credential.id)],
            "correction_id": [correction["id"]],
            "incident_id": [i["id"] for i in integrity["incidents"]],
            "snapshot_id": [snapshot["id"]],
            "position": [1, 2],
        },
    )


async def _staff_and_seat(
    api: httpx.AsyncClient, admin: dict[str, str], window: str, proctor: User, candidate: User
) -> str:
    """Assigns the proctor to the window and registers the candidate: the attempt's id."""
    await _ok(
        await api.post(f"/api/v1/windows/{window}/proctors", headers=admin, json={"proctor_id": str(proctor.id)}), 201
    )
    registered = await api.post(
        f"/api/v1/windows/{window}/registrations", headers=admin, json={"candidate_id": str(candidate.id)}
    )
    attempt_id: str = (await _ok(registered, 201))["id"]
    return attempt_id


async def _sit(
    api: httpx.AsyncClient, candidate: dict[str, str], attempt: str, *, answered: int, start: bool = True
) -> None:
    if start:
        await _ok(await api.post(f"/api/v1/attempts/{attempt}/check-in", headers=candidate))
        await _ok(await api.post(f"/api/v1/attempts/{attempt}/start", headers=candidate, json={"accept_rules": True}))
    form = await _ok(await api.get(f"/api/v1/attempts/{attempt}/form", headers=candidate))
    for entry in form["items"][:answered]:
        saved = await api.put(
            f"/api/v1/attempts/{attempt}/responses/{entry['position']}",
            headers=candidate,
            json={"revision": 1, "value": value_for(entry["item"], 1)},
        )
        await _ok(saved)
