"""Key corrections rescore every sitting the item version touched and report whose result changed."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.models import Role
from exam_service.scoring.scorer import Scorer
from tests.delivery.helpers import Sitting, sitting
from tests.factories import BANK_DOMAINS, auth_headers
from tests.scoring.helpers import answer, examiner_post, form_rows, score, submit, verify, wrong_answer

Session = async_sessionmaker[AsyncSession]
# every theory item of the pool on every form, so all candidates share each item version
ALL_THEORY = {
    "sections": [
        {
            "id": "theory",
            "minimum_percent": 0,
            "quotas": [{"domain": d, "count": 4} for d in BANK_DOMAINS["foundation"]],
        }
    ]
}


async def test_accepting_an_answer_rescores_and_a_released_change_waits_for_confirmation(
    client: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock
) -> None:
    first = await sitting(client, sessionmaker, clock, rules=ALL_THEORY)
    rows = [(row, version) for row, version in await form_rows(sessionmaker, first.attempt_id)]
    # an item with a wrong answer a key correction can accept
    target_row, target = next((r, v) for r, v in rows if v.payload["type"] == "single_choice")
    others = [r.position for r, v in rows if r.position != target_row.position][:6]
    await answer(first, sessionmaker, wrong=frozenset([target_row.position, *others]))
    await submit(first)
    second = await another_sitting(client, sessionmaker, clock, first)
    await answer(second, sessionmaker)
    await submit(second)

    before = await score(sessionmaker, clock, first.attempt_id)
    assert (before.points, before.max_points, before.passed) == (13.0, 20.0, False)  # 65 % under a cut of 70
    await score(sessionmaker, clock, second.attempt_id)
    _, examiner = await auth_headers(client, sessionmaker, clock, Role.examiner)
    for s in (first, second):
        assert (await examiner_post(client, examiner, f"{s.attempt_id}/release")).status_code == 200
    assert (await first.get("/result")).json()["passed"] is False

    chosen = wrong_answer(target.payload)
    refused = await client.post(
        f"/api/v1/bank/versions/{target.id}/corrections",
        headers=examiner,
        json={"kind": "replace_key", "value": "zz", "reason": "option ids are a to d"},
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "value"
    corrected = await client.post(
        f"/api/v1/bank/versions/{target.id}/corrections",
        headers=examiner,
        json={"kind": "accept_answer", "value": chosen, "reason": "the option is also right since v2 of the tool"},
    )
    assert corrected.status_code == 202, corrected.text
    pending = corrected.json()
    assert (pending["state"], pending["affected"], pending["report"]) == ("rescoring", 2, [])
    # the background scorer rescores each sitting in its own transaction, then writes the report
    assert await Scorer(sessionmaker, clock, interval=0).sweep() == 2
    done = (await client.get(f"/api/v1/corrections/{pending['id']}", headers=examiner)).json()
    assert done["state"] == "done"
    [changed] = done["report"]  # the second candidate answered it right already: unchanged
    assert changed["attempt_id"] == first.attempt_id
    assert (changed["before"]["passed"], changed["after"]["passed"]) == (False, True)
    assert changed["outcome_changed"]
    assert changed["needs_confirmation"]

    # the candidate still sees what was released until an examiner confirms the change
    assert (await first.get("/result")).json()["passed"] is False
    queue = await client.get("/api/v1/results", headers=examiner, params={"change_pending": "true"})
    assert [r["attempt_id"] for r in queue.json()] == [first.attempt_id]
    confirmed = await examiner_post(client, examiner, f"{first.attempt_id}/confirm-change", reason="key corrected")
    assert confirmed.status_code == 200, confirmed.text
    seen = (await first.get("/result")).json()
    assert (seen["passed"], seen["percent"]) == (True, 70.0)
    assert await verify(sessionmaker, clock, first.attempt_id) == []
    assert await verify(sessionmaker, clock, second.attempt_id) == []


async def another_sitting(client: httpx.AsyncClient, sm: Session, clock: FrozenClock, first: Sitting) -> Sitting:
    """A second candidate in the same window (the bank is already seeded)."""
    candidate, headers = await auth_headers(client, sm, clock, Role.candidate)
    registered = await client.post(
        f"/api/v1/windows/{first.window_id}/registrations",
        headers=first.admin,
        json={"candidate_id": str(candidate.id)},
    )
    assert registered.status_code == 201, registered.text
    s = Sitting(
        client,
        clock,
        first.admin,
        first.proctor,
        candidate,
        headers,
        first.proctor_user,
        first.window_id,
        registered.json()["id"],
    )
    assert (await s.post("/check-in")).status_code == 200
    assert (await s.post("/start", json={"accept_rules": True})).status_code == 200
    return s
