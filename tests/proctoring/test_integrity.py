"""Events become incidents and a risk score; over the window's threshold the sitting goes to review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from exam_service.proctoring import rules
from tests.delivery.helpers import Sitting
from tests.proctoring.live import Channel, Live, candidate_channel, proctor_channel

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def entry(seq: int, kind: str, seconds: float, source: str = "candidate", **detail: Any) -> SimpleNamespace:
    return SimpleNamespace(seq=seq, kind=kind, source=source, detail=detail, at=T0 + timedelta(seconds=seconds))


def test_rules_count_focus_losses_time_away_and_cap_repeats() -> None:
    log = [
        entry(1, "visibility_hidden", 0),
        entry(2, "window_blur", 1),  # the same absence, not a second one
        entry(3, "visibility_visible", 45),  # away 45 s: longer than 30 s
        *(entry(4 + i, k, 50 + i) for i, k in enumerate(["window_blur", "window_focus"] * 3)),  # losses 2, 3, 4
        *(entry(20 + i, "paste", 100 + i, length=10, position=2) for i in range(7)),
    ]
    findings = rules.evaluate(log, rules.Policy(webcam_required=False))
    by_rule: dict[str, list[rules.Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    assert [f.seq for f in by_rule["focus_lost_long"]] == [1]
    assert [f.seq for f in by_rule["focus_lost_repeatedly"]] == [8]  # the fourth loss
    assert len(by_rule["paste"]) == rules.REPEAT_CAP
    assert by_rule["paste"][0].summary == "pasted 10 characters into question 2"
    assert rules.risk_score(f.points for f in findings) == 10 + 15 + 50
    # evaluating the same log again finds the same incidents (stable keys)
    assert [f.key for f in rules.evaluate(log, rules.Policy(False))] == [f.key for f in findings]


def test_webcam_rule_applies_only_where_the_window_uses_the_camera() -> None:
    log = [entry(1, "webcam_unavailable", 0, reason="NotAllowedError")]
    assert rules.evaluate(log, rules.Policy(webcam_required=False)) == []
    (finding,) = rules.evaluate(log, rules.Policy(webcam_required=True))
    assert (finding.rule, finding.points) == ("webcam_missing", 25)


async def send(channel: Channel, seq: int, kind: str, **detail: Any) -> None:
    await channel.send({"type": "event", "client_seq": seq, "kind": kind, "detail": detail})
    ack = await channel.until(lambda f: f["type"] in ("ack", "error"))
    assert ack["type"] == "ack", ack


async def test_risk_crosses_the_threshold_and_proctor_decisions_move_it(live: Live, proctored: Sitting) -> None:
    candidate = await candidate_channel(live, proctored.attempt_id, proctored.headers)
    for n in range(4):
        await send(candidate, 2 * n + 1, "window_blur")
        await send(candidate, 2 * n + 2, "window_focus")
    await send(candidate, 9, "paste", length=240, position=3)
    url = f"{proctored.staff_url}/integrity"
    standing = (await live.http.get(url, headers=proctored.proctor)).json()
    assert (standing["risk_score"], standing["review_required"]) == (25, False)
    assert sorted(i["rule"] for i in standing["incidents"]) == ["focus_lost_repeatedly", "paste"]

    await send(candidate, 10, "second_tab")
    standing = (await live.http.get(url, headers=proctored.proctor)).json()
    assert (standing["risk_score"], standing["review_required"]) == (60, True)  # threshold 50

    second = next(i for i in standing["incidents"] if i["rule"] == "second_device")
    dismissed = await live.http.post(
        f"/api/v1/proctoring/incidents/{second['id']}/dismiss",
        headers=proctored.proctor,
        json={"note": "the candidate's own phone timer, checked on camera"},
    )
    assert dismissed.json()["status"] == "dismissed"
    standing = (await live.http.get(url, headers=proctored.proctor)).json()
    assert (standing["risk_score"], standing["review_required"]) == (25, False)

    reported = await proctored.staff("report", category="environment", description="someone spoke off camera")
    assert reported.status_code == 200
    standing = (await live.http.get(url, headers=proctored.proctor)).json()
    assert (standing["risk_score"], standing["review_required"]) == (65, True)  # a report always needs review
    log = (await live.http.get(f"{proctored.staff_url}/events", headers=proctored.proctor)).json()
    resolved = next(e for e in log if e["kind"] == "incident_resolved")
    assert (resolved["source"], resolved["detail"]["status"]) == ("proctor", "dismissed")
    assert resolved["actor_id"] == str(proctored.proctor_user.id)  # who, when and why, in the log


async def test_an_incident_is_pushed_to_the_proctor_as_it_opens(live: Live, proctored: Sitting) -> None:
    proctor, _ = await proctor_channel(live, proctored.proctor)
    candidate = await candidate_channel(live, proctored.attempt_id, proctored.headers)
    await send(candidate, 1, "second_tab")
    opened = await proctor.until(lambda f: f["type"] == "event" and f["kind"] == "incident_opened")
    assert (opened["detail"]["rule"], opened["detail"]["risk_score"]) == ("second_device", 35)
