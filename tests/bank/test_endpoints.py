"""The bank API for examiners: search, history, diff, new versions, retire, form preview."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.bank import service as bank_service
from exam_service.bank.authoring import Blueprint
from exam_service.bank.service import Authorship, item_from_payload
from exam_service.core.clock import FrozenClock
from exam_service.models import Role
from tests.factories import auth_headers, blueprint_payload, item_payload, synthetic_bank


@pytest.fixture
async def bank(sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> None:
    async with sessionmaker() as session, session.begin():
        await bank_service.import_content(
            session,
            [item_from_payload(p) for p in synthetic_bank(4, 2)],
            [Blueprint.model_validate(blueprint_payload(per_domain=2, tasks=1))],
            Authorship("seed", "seed"),
            clock,
        )


@pytest.fixture
async def examiner(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> dict[str, str]:
    return (await auth_headers(client, sessionmaker, clock, Role.examiner))[1]


@pytest.mark.usefixtures("bank")
async def test_search_filters_by_tier_domain_tag_type_and_text(
    client: httpx.AsyncClient, examiner: dict[str, str]
) -> None:
    everything = (await client.get("/api/v1/bank/items", headers=examiner)).json()
    assert len(everything) == 22
    containers = (await client.get("/api/v1/bank/items", params={"domain": "containers"}, headers=examiner)).json()
    assert {i["item_id"] for i in containers} == {f"F-CONT-00{n}" for n in range(1, 5)}
    tagged = (
        await client.get("/api/v1/bank/items", params={"tag": "DevOps", "tier": "foundation"}, headers=examiner)
    ).json()
    assert len(tagged) == 22
    assert (await client.get("/api/v1/bank/items", params={"tag": "FinOps"}, headers=examiner)).json() == []
    tasks = (await client.get("/api/v1/bank/items", params={"type": "performance_task"}, headers=examiner)).json()
    assert [t["item_id"] for t in tasks] == ["F-TASK-001", "F-TASK-002"]
    found = (await client.get("/api/v1/bank/items", params={"q": "f-serv-003"}, headers=examiner)).json()
    assert [i["item_id"] for i in found] == ["F-SERV-003"]


@pytest.mark.usefixtures("bank")
async def test_new_version_history_diff_and_retire(client: httpx.AsyncClient, examiner: dict[str, str]) -> None:
    changed = item_payload("F-CONT-001", "containers", "ordering", stem="Put these image build steps in order.")
    url = "/api/v1/bank/items/F-CONT-001/versions"
    published = await client.post(url, json={"content": changed, "change_note": "clearer stem"}, headers=examiner)
    assert published.status_code == 200, published.text
    assert published.json()["outcome"] == "new_version"
    assert published.json()["version"]["version"] == 2
    same = await client.post(url, json={"content": changed, "change_note": "again"}, headers=examiner)
    assert same.json()["outcome"] == "unchanged"
    history = (await client.get(url, headers=examiner)).json()
    assert [(v["version"], v["change_note"]) for v in history] == [(1, "seed"), (2, "clearer stem")]
    assert history[1]["author"].startswith("examiner")
    diff = (
        await client.get("/api/v1/bank/items/F-CONT-001/diff", params={"from": 1, "to": 2}, headers=examiner)
    ).json()["diff"]
    assert "+stem: Put these image build steps in order." in diff
    retired = await client.post(f"{url}/2/retire", json={"reason": "exposed online"}, headers=examiner)
    assert retired.json()["status"] == "retired"
    assert "exposed online" in retired.json()["retired_by"]
    still_there = await client.get(f"{url}/2", headers=examiner)
    assert still_there.status_code == 200
    active = (
        await client.get("/api/v1/bank/items", params={"status": "published", "domain": "containers"}, headers=examiner)
    ).json()
    assert "F-CONT-001" not in {i["item_id"] for i in active}


@pytest.mark.usefixtures("bank")
async def test_bad_new_versions_name_the_field(client: httpx.AsyncClient, examiner: dict[str, str]) -> None:
    url = "/api/v1/bank/items/F-CONT-001/versions"
    wrong_key = item_payload("F-CONT-001", key="z")
    response = await client.post(url, json={"content": wrong_key, "change_note": "typo"}, headers=examiner)
    assert response.status_code == 422
    assert "key 'z' is not among the options" in response.json()["detail"]
    other_id = await client.post(
        url, json={"content": item_payload("F-CONT-002"), "change_note": "x y"}, headers=examiner
    )
    assert (other_id.status_code, other_id.json()["field"]) == (400, "content.id")
    unknown = await client.post(
        "/api/v1/bank/items/F-CONT-099/versions",
        json={"content": item_payload("F-CONT-099"), "change_note": "new"},
        headers=examiner,
    )
    assert unknown.status_code == 404
    created = await client.post(
        "/api/v1/bank/items", json={"content": item_payload("F-CONT-099"), "change_note": "new"}, headers=examiner
    )
    assert created.status_code == 201


@pytest.mark.usefixtures("bank")
async def test_preview_shows_the_candidate_view_without_keys(
    client: httpx.AsyncClient, examiner: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/bank/blueprints/mlocp-foundation/preview", json={"seed": 42}, headers=examiner
    )
    assert response.status_code == 200
    preview = response.json()
    assert preview["seed"] == 42
    assert len(preview["items"]) == 11
    for entry in preview["items"]:
        view = entry["candidate_view"]
        assert not {"key", "rationale", "references", "grader", "accepted", "patterns"} & set(view)
    again = (
        await client.post("/api/v1/bank/blueprints/mlocp-foundation/preview", json={"seed": 42}, headers=examiner)
    ).json()
    assert again == preview


@pytest.mark.usefixtures("bank")
async def test_candidates_and_proctors_cannot_read_the_bank(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    for role in (Role.candidate, Role.proctor):
        _, headers = await auth_headers(client, sessionmaker, clock, role)
        for url in ("/api/v1/bank/items", "/api/v1/bank/items/F-CONT-001", "/api/v1/bank/blueprints"):
            assert (await client.get(url, headers=headers)).status_code == 403
        preview = await client.post("/api/v1/bank/blueprints/mlocp-foundation/preview", json={}, headers=headers)
        assert preview.status_code == 403
