"""Results end to end: graded in the sandbox, scored by the blueprint's rules, reviewed, released."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.grading.sandbox import Sandbox
from exam_service.models import ResultState, Role
from tests.delivery.helpers import Sitting, sitting
from tests.factories import auth_headers
from tests.scoring.helpers import (
    GOOD_DOCKERFILE,
    ROOT_DOCKERFILE,
    answer,
    examiner_post,
    grade_all,
    score,
    submit,
    verify,
)

Session = async_sessionmaker[AsyncSession]


async def sat(
    client: httpx.AsyncClient,
    sm: Session,
    clock: FrozenClock,
    sandbox: Sandbox,
    *,
    wrong: int = 0,
    dockerfile: str = GOOD_DOCKERFILE,
    **options: object,
) -> Sitting:
    s = await sitting(client, sm, clock, **options)  # type: ignore[arg-type]
    theory = [
        p
        for p, payload in (await answer(s, sm, dockerfile=dockerfile)).items()
        if payload["type"] != "performance_task"
    ]
    if wrong:
        await answer(s, sm, wrong=frozenset(theory[:wrong]), revision=2)
    await submit(s)
    await grade_all(sm, clock, sandbox, s.attempt_id)
    return s


async def test_a_sitting_is_provisional_until_graded_then_ready_and_reproducible(
    client: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock, sandbox: Sandbox
) -> None:
    s = await sitting(client, sessionmaker, clock)
    await answer(s, sessionmaker, dockerfile=GOOD_DOCKERFILE)
    await submit(s)
    early = await score(sessionmaker, clock, s.attempt_id)
    assert (early.state, early.complete, early.passed, early.scaled_score) == (
        ResultState.provisional,
        False,
        None,
        None,
    )
    assert any("awaiting the grader" in p for p in early.pending)

    await grade_all(sessionmaker, clock, sandbox, s.attempt_id)
    result = await score(sessionmaker, clock, s.attempt_id)
    assert (result.state, result.complete, result.passed) == (ResultState.ready, True, True)
    assert (result.points, result.max_points, result.percent, result.scaled_score) == (11.0, 11.0, 100.0, 1000)
    assert {sec["id"]: sec["percent"] for sec in result.sections} == {"theory": 100.0, "performance": 100.0}
    assert await verify(sessionmaker, clock, s.attempt_id) == []
    # scoring again from the same inputs changes nothing
    again = await score(sessionmaker, clock, s.attempt_id)
    assert (again.revision, again.percent) == (result.revision, result.percent)
    # nothing is shown to the candidate before an examiner releases it
    pending = (await s.get("/result")).json()
    assert pending["status"] == "pending"
    assert pending["passed"] is None


async def test_the_cut_and_every_section_minimum_decide_the_outcome(
    client: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock, sandbox: Sandbox
) -> None:
    # 11 points: 10 theory items and a task worth 1; the cut is 70 percent
    three_wrong = await sat(client, sessionmaker, clock, sandbox, wrong=3)
    result = await score(sessionmaker, clock, three_wrong.attempt_id)
    assert (result.points, result.passed) == (8.0, True)
    assert 700 <= result.scaled_score < 1000  # type: ignore[operator]

    four_wrong = await sat(client, sessionmaker, clock, sandbox, wrong=4)
    result = await score(sessionmaker, clock, four_wrong.attempt_id)
    assert (result.points, result.passed) == (7.0, False)
    assert result.scaled_score is not None
    assert result.scaled_score < 700

    # 10 of 11 is 91 percent, but the performance section's minimum of 50 is missed
    task_failed = await sat(client, sessionmaker, clock, sandbox, dockerfile=ROOT_DOCKERFILE)
    result = await score(sessionmaker, clock, task_failed.attempt_id)
    assert result.percent > 90
    assert result.passed is False
    assert [(sec["id"], sec["met"]) for sec in result.sections] == [("theory", True), ("performance", False)]


async def test_blueprint_weights_and_task_points_combine_theory_and_tasks(
    client: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock, sandbox: Sandbox
) -> None:
    sections = [
        {
            "id": "theory",
            "minimum_percent": 0,
            "weight": 60,
            "quotas": [
                {"domain": d, "count": 2}
                for d in ("lifecycle", "containers", "versioning", "data_validation", "serving")
            ],
        },
        {
            "id": "performance",
            "minimum_percent": 0,
            "weight": 40,
            "item_points": 10,
            "quotas": [{"domain": "any", "count": 1}],
        },
    ]
    weighted = await sitting(client, sessionmaker, clock, rules={"sections": sections})
    await answer(weighted, sessionmaker, dockerfile=ROOT_DOCKERFILE)
    await submit(weighted)
    await grade_all(sessionmaker, clock, sandbox, weighted.attempt_id)
    result = await score(sessionmaker, clock, weighted.attempt_id)
    # theory 100 % weighs 60, the failed task (0 of 10 points) weighs 40
    assert (result.percent, result.max_points, result.passed) == (60.0, 20.0, False)
    assert [sec["weight"] for sec in result.sections] == [60.0, 40.0]


async def test_an_examiner_reviews_overrides_with_a_reason_and_releases(
    client: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock, sandbox: Sandbox
) -> None:
    s = await sat(client, sessionmaker, clock, sandbox, dockerfile=ROOT_DOCKERFILE)
    await score(sessionmaker, clock, s.attempt_id)
    examiner_user, examiner = await auth_headers(client, sessionmaker, clock, Role.examiner)

    queue = (await client.get("/api/v1/results", headers=examiner, params={"state": "ready"})).json()
    assert [row["attempt_id"] for row in queue] == [s.attempt_id]
    report = (await client.get(f"/api/v1/results/{s.attempt_id}", headers=examiner)).json()
    task = next(i for i in report["items"] if i["type"] == "performance_task")
    keyed = ("single_choice", "true_false", "numeric", "matching")  # the form is drawn at random: one of these
    theory = next(i for i in report["items"] if i["type"] in keyed)
    assert theory["item"]["key"] == theory["answer"]
    assert theory["awarded"] == theory["maximum"]
    assert (task["awarded"], task["source"], task["answer"]) == (0.0, "grader", {"Dockerfile": ROOT_DOCKERFILE})
    assert report["grading"][0]["checks"][0]["feedback"] == ["the image must switch to a non-root USER"]
    assert [e["kind"] for e in report["timeline"]][-1] == "state_changed"

    for who in (s.headers, s.proctor):
        refused = await examiner_post(
            client, who, f"{s.attempt_id}/items/{task['position']}/override", points=1, reason="regraded"
        )
        assert refused.status_code == 403
    too_many = await examiner_post(
        client, examiner, f"{s.attempt_id}/items/{task['position']}/override", points=5, reason="regraded by hand"
    )
    assert too_many.status_code == 422
    assert too_many.json()["detail"].startswith("points")
    overridden = await examiner_post(
        client,
        examiner,
        f"{s.attempt_id}/items/{task['position']}/override",
        points=1,
        reason="USER set through an ARG the grader cannot follow",
    )
    assert overridden.status_code == 200, overridden.text
    assert overridden.json()["passed"] is True

    released = await examiner_post(client, examiner, f"{s.attempt_id}/release")
    assert released.status_code == 200, released.text
    seen = (await s.get("/result")).json()
    assert (seen["status"], seen["passed"], seen["scaled_score"]) == ("released", True, 1000)
    assert "items" not in seen
    assert "sections" in seen
    report = (await client.get(f"/api/v1/results/{s.attempt_id}", headers=examiner)).json()
    trail = [(d["action"], d["actor_id"], d["reason"]) for d in report["decisions"] if d["actor_id"]]
    assert trail == [
        ("override", str(examiner_user.id), "USER set through an ARG the grader cannot follow"),
        ("release", str(examiner_user.id), "released"),
    ]
    assert await verify(sessionmaker, clock, s.attempt_id) == []


async def test_an_irregularity_withholds_and_invalidation_needs_a_second_examiner(
    client: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock, sandbox: Sandbox
) -> None:
    s = await sitting(client, sessionmaker, clock, proctored=True)
    await answer(s, sessionmaker, dockerfile=GOOD_DOCKERFILE)
    reported = await s.staff("report", category="candidate_behaviour", description="reading from a phone")
    assert reported.status_code == 200, reported.text
    await submit(s)
    await grade_all(sessionmaker, clock, sandbox, s.attempt_id)
    result = await score(sessionmaker, clock, s.attempt_id)
    assert (result.state, result.passed) == (ResultState.withheld, True)
    assert "a proctor reported an irregularity" in result.review_reasons

    first_user, first = await auth_headers(client, sessionmaker, clock, Role.examiner)
    _, second = await auth_headers(client, sessionmaker, clock, Role.examiner)
    assert (await examiner_post(client, first, f"{s.attempt_id}/release")).status_code == 422  # a reason is needed
    asked = await examiner_post(client, first, f"{s.attempt_id}/invalidation", reason="phone seen on camera")
    assert asked.status_code == 200
    assert asked.json()["state"] == "withheld"
    alone = await examiner_post(client, first, f"{s.attempt_id}/invalidation/confirm", reason="agreed")
    assert alone.status_code == 409
    agreed = await examiner_post(client, second, f"{s.attempt_id}/invalidation/confirm", reason="video confirms it")
    assert agreed.status_code == 200
    assert agreed.json()["state"] == "invalidated"
    assert (await s.get("/result")).json()["status"] == "invalidated"
    assert (await examiner_post(client, second, f"{s.attempt_id}/release", reason="x" * 5)).status_code == 409
    del first_user


async def test_a_candidate_reads_only_their_own_released_result(
    client: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock, sandbox: Sandbox
) -> None:
    s = await sat(client, sessionmaker, clock, sandbox)
    await score(sessionmaker, clock, s.attempt_id)
    _, other = await auth_headers(client, sessionmaker, clock, Role.candidate)
    assert (await client.get(f"{s.url}/result", headers=other)).status_code == 404
    for path in ("/api/v1/results", f"/api/v1/results/{s.attempt_id}"):
        assert (await client.get(path, headers=s.headers)).status_code == 403
        assert (await client.get(path, headers=s.proctor)).status_code == 403


async def test_a_terminated_sitting_is_graded_and_withheld_for_review(
    client: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock, sandbox: Sandbox
) -> None:
    s = await sitting(client, sessionmaker, clock, proctored=True)
    await answer(s, sessionmaker, dockerfile=GOOD_DOCKERFILE)
    ended = await s.staff("terminate", reason="a second person answered the questions")
    assert ended.status_code == 200, ended.text
    await grade_all(sessionmaker, clock, sandbox, s.attempt_id)
    result = await score(sessionmaker, clock, s.attempt_id)
    assert (result.state, result.complete, result.passed) == (ResultState.withheld, True, True)
    assert "the sitting was terminated by a proctor: a second person answered the questions" in result.review_reasons
    assert (await s.get("/result")).json()["status"] == "pending"
