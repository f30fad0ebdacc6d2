"""Who sees which sitting: a proctor reaches only the windows they are assigned to, over HTTP and
over the proctor channel; an admin reaches every window; a candidate never reaches proctor data.

Two windows A and B, each built by ``sitting()`` with its own admin, proctor and candidate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.exceptions import ConnectionClosed

from exam_service.core.clock import FrozenClock
from tests.delivery.helpers import Sitting, sitting
from tests.proctoring.live import Channel, Live, candidate_channel, proctor_channel

PROCTOR_ONLY = {"note", "incident_opened", "incident_resolved", "irregularity_reported", "paste", "context_menu"}


@dataclass
class Pair:
    live: Live
    a: Sitting
    b: Sitting

    @property
    def http(self) -> httpx.AsyncClient:
        return self.live.http


@pytest.fixture
async def pair(live: Live, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> Pair:
    a = await sitting(live.http, sessionmaker, clock, proctored=True)
    b = await sitting(live.http, sessionmaker, clock, proctored=True)
    assert a.window_id != b.window_id
    assert a.proctor_user.id != b.proctor_user.id
    return Pair(live, a, b)


def staff_reads(target: Sitting) -> list[str]:
    base = target.staff_url
    return [
        base,
        f"{base}/events",
        f"{base}/transitions",
        f"{base}/integrity",
        f"{base}/snapshots",
        f"/api/v1/proctoring/windows/{target.window_id}/attempts",
        f"/api/v1/proctoring/windows/{target.window_id}/sittings",
    ]


STAFF_ACTIONS: list[tuple[str, dict[str, Any] | None]] = [
    ("authorize", None),
    ("pause", {"reason": "look at the camera"}),
    ("warn", {"message": "Eyes on your own screen, please."}),
    ("extend", {"minutes": 30, "reason": "a generous proctor"}),
    ("terminate", {"reason": "not your sitting"}),
]


async def state_of(http: httpx.AsyncClient, target: Sitting) -> tuple[str, Any, int]:
    """B's state, deadline and log length as its own proctor sees them."""
    status = await http.get(target.staff_url, headers=target.proctor)
    assert status.status_code == 200, status.text
    log = await http.get(f"{target.staff_url}/events", headers=target.proctor)
    assert log.status_code == 200, log.text
    return status.json()["state"], status.json()["deadline"], len(log.json())


async def assert_no_staff_access(http: httpx.AsyncClient, headers: dict[str, str], target: Sitting, code: int) -> None:
    for path in staff_reads(target):
        response = await http.get(path, headers=headers)
        assert response.status_code == code, (path, response.status_code, response.text)
    for action, body in STAFF_ACTIONS:
        response = await http.post(f"{target.staff_url}/{action}", headers=headers, json=body)
        assert response.status_code == code, (action, response.status_code, response.text)
    response = await http.post(
        "/api/v1/proctoring/channel-ticket", headers=headers, json={"window_id": target.window_id}
    )
    assert response.status_code == code, ("channel-ticket", response.status_code, response.text)


async def assert_staff_access(http: httpx.AsyncClient, headers: dict[str, str], target: Sitting) -> None:
    for path in staff_reads(target):
        response = await http.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code, response.text)
    response = await http.post(
        "/api/v1/proctoring/channel-ticket", headers=headers, json={"window_id": target.window_id}
    )
    assert response.status_code == 200, response.text


def mentions(frames: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    return [f for f in frames if text in json.dumps(f)]


async def candidate_event(channel: Channel, client_seq: int, kind: str = "context_menu", **detail: Any) -> int:
    await channel.send({"type": "event", "client_seq": client_seq, "kind": kind, "detail": detail})
    ack = await channel.until(lambda f: f["type"] in ("ack", "error") and f.get("client_seq") == client_seq)
    assert ack["type"] == "ack", ack
    seq: int = ack["seq"]
    return seq


async def sees(proctor: Channel, target: Sitting, seq: int, timeout: float = 5) -> dict[str, Any]:
    return await proctor.until(
        lambda f: f["type"] == "event" and f["attempt_id"] == target.attempt_id and f["seq"] == seq, timeout
    )


# ---- HTTP ----------------------------------------------------------------------------------------


async def test_a_proctor_gets_404_on_every_staff_route_of_another_windows_sitting(pair: Pair) -> None:
    http, a, b = pair.http, pair.a, pair.b
    await assert_staff_access(http, a.proctor, a)  # their own sitting, as a control
    await assert_staff_access(http, b.proctor, b)
    before = await state_of(http, b)

    await assert_no_staff_access(http, a.proctor, b, 404)

    assert await state_of(http, b) == before == ("in_progress", before[1], before[2])
    listed = await http.get("/api/v1/proctoring/windows", headers=a.proctor)
    assert [w["id"] for w in listed.json()] == [a.window_id]


async def test_an_incident_of_another_window_cannot_be_resolved(pair: Pair) -> None:
    http, a, b = pair.http, pair.a, pair.b
    candidate = await candidate_channel(pair.live, b.attempt_id, b.headers)
    await candidate_event(candidate, 1, "paste", length=200, position=1)
    await candidate.close()
    integrity = await http.get(f"{b.staff_url}/integrity", headers=b.proctor)
    (incident,) = integrity.json()["incidents"]
    assert incident["status"] == "open"
    for decision in ("confirm", "dismiss"):
        response = await http.post(
            f"/api/v1/proctoring/incidents/{incident['id']}/{decision}", headers=a.proctor, json={"note": "not mine"}
        )
        assert response.status_code == 404, (decision, response.text)
    integrity = await http.get(f"{b.staff_url}/integrity", headers=b.proctor)
    assert [i["status"] for i in integrity.json()["incidents"]] == ["open"]


async def test_an_admin_sees_both_windows(pair: Pair) -> None:
    http, a, b = pair.http, pair.a, pair.b
    for admin in (a.admin, b.admin):
        await assert_staff_access(http, admin, a)
        await assert_staff_access(http, admin, b)

    proctor, snapshot = await proctor_channel(pair.live, a.admin)
    assert {row["attempt_id"] for row in snapshot["sittings"]} == {a.attempt_id, b.attempt_id}
    assert {w["id"] for w in snapshot["windows"]} >= {a.window_id, b.window_id}
    candidate_b = await candidate_channel(pair.live, b.attempt_id, b.headers)
    await sees(proctor, b, await candidate_event(candidate_b, 1))
    await candidate_b.close()
    await proctor.close()


async def test_unassigning_a_proctor_makes_the_sitting_404_for_them(pair: Pair) -> None:
    http, a, b = pair.http, pair.a, pair.b
    await assert_staff_access(http, a.proctor, a)
    before = await state_of(http, a)
    removed = await http.delete(f"/api/v1/windows/{a.window_id}/proctors/{a.proctor_user.id}", headers=a.admin)
    assert removed.status_code == 204, removed.text

    await assert_no_staff_access(http, a.proctor, a, 404)
    a_admin_view = await http.get(a.staff_url, headers=a.admin)
    assert (a_admin_view.json()["state"], a_admin_view.json()["deadline"]) == before[:2]  # nothing changed
    _, snapshot = await proctor_channel(pair.live, a.proctor)
    assert (snapshot["windows"], snapshot["sittings"]) == ([], [])
    await assert_staff_access(http, b.proctor, b)  # B's proctor is unaffected


async def test_an_open_proctor_socket_loses_the_window_once_unassigned(pair: Pair) -> None:
    """The socket was opened while assigned; after the unassignment it must carry nothing more of A."""
    http, a = pair.http, pair.a
    proctor, _ = await proctor_channel(pair.live, a.proctor)
    candidate = await candidate_channel(pair.live, a.attempt_id, a.headers)
    await sees(proctor, a, await candidate_event(candidate, 1))

    removed = await http.delete(f"/api/v1/windows/{a.window_id}/proctors/{a.proctor_user.id}", headers=a.admin)
    assert removed.status_code == 204, removed.text

    # the console open on A either closes at once as 'no longer yours' (4403) or refuses and carries nothing
    leaked: dict[str, Any] | None = None
    closed_with: int | None = None
    try:
        await proctor.send(
            {"type": "action", "request_id": "after", "attempt_id": a.attempt_id, "action": "warn", "message": "x"}
        )
        result = await proctor.until(lambda f: f["type"] == "result", timeout=5)
        assert (result["ok"], result.get("error")) == (False, "not_found"), result
        # a fresh event of A's candidate, with a chat text only A's proctors may read
        seq = await candidate_event(candidate, 2, "chat", text="my answer to question 3 is B")
        leaked = await sees(proctor, a, seq, timeout=2)
    except TimeoutError:
        pass
    except ConnectionClosed as closed:
        closed_with = closed.rcvd.code if closed.rcvd is not None else 1006
    await candidate.close()
    await proctor.close()
    assert leaked is None, f"an unassigned proctor's open socket still received A's entry: {leaked}"
    assert closed_with in (None, 4403), closed_with


# ---- the proctor channel -------------------------------------------------------------------------


async def test_a_proctor_channel_carries_only_its_own_windows(pair: Pair) -> None:
    live, a, b = pair.live, pair.a, pair.b
    proctor_a, snapshot = await proctor_channel(live, a.proctor)
    assert [w["id"] for w in snapshot["windows"]] == [a.window_id]
    assert [row["attempt_id"] for row in snapshot["sittings"]] == [a.attempt_id]
    assert not mentions([snapshot], b.attempt_id)
    assert not mentions([snapshot], b.window_id)
    proctor_b, snapshot_b = await proctor_channel(live, b.proctor)
    assert [row["attempt_id"] for row in snapshot_b["sittings"]] == [b.attempt_id]

    # cursors for B's sitting in the hello do not bring B's backlog
    sneaky, snapshot = await proctor_channel(live, a.proctor, cursors={b.attempt_id: 0})
    assert [row["attempt_id"] for row in snapshot["sittings"]] == [a.attempt_id]

    candidate_a = await candidate_channel(live, a.attempt_id, a.headers)
    candidate_b = await candidate_channel(live, b.attempt_id, b.headers)
    # B's event is published first (B's proctor sees it), then A's: A's proctor gets A's and never B's
    await sees(proctor_b, b, await candidate_event(candidate_b, 1, "chat", text="secret of B"))
    seq_a = await candidate_event(candidate_a, 1)
    await sees(proctor_a, a, seq_a)
    await sees(sneaky, a, seq_a)
    assert not mentions(proctor_a.frames, b.attempt_id), mentions(proctor_a.frames, b.attempt_id)
    assert not mentions(sneaky.frames, b.attempt_id), mentions(sneaky.frames, b.attempt_id)
    assert not mentions(proctor_a.frames, "secret of B")

    for channel in (candidate_a, candidate_b, proctor_a, proctor_b, sneaky):
        await channel.close()


async def test_an_action_frame_on_another_windows_sitting_is_not_found_and_changes_nothing(pair: Pair) -> None:
    live, http, a, b = pair.live, pair.http, pair.a, pair.b
    before = await state_of(http, b)
    proctor_a, _ = await proctor_channel(live, a.proctor)
    proctor_b, _ = await proctor_channel(live, b.proctor)
    candidate_b = await candidate_channel(live, b.attempt_id, b.headers, last_seq=before[2])  # no backlog

    actions: list[dict[str, Any]] = [
        {"action": "warn", "message": "Eyes on your own screen, please."},
        {"action": "chat", "text": "hello from another window"},
        {"action": "pause", "reason": "look at the camera"},
        {"action": "extend", "minutes": 30, "reason": "a generous proctor"},
        {"action": "note", "text": "for the record"},
        {"action": "report", "category": "other", "description": "made up"},
        {"action": "terminate", "reason": "not your sitting"},
    ]
    for n, action in enumerate(actions):
        request_id = f"x{n}"
        await proctor_a.send({"type": "action", "request_id": request_id, "attempt_id": b.attempt_id, **action})
        result = await proctor_a.until(lambda f, r=request_id: f["type"] == "result" and f["request_id"] == r)
        assert (result["ok"], result["error"]) == (False, "not_found"), (action, result)

    assert await state_of(http, b) == before == ("in_progress", before[1], before[2])
    # nothing reached B's candidate or B's proctor either: the next entry each sees is B's own event
    seq = await candidate_event(candidate_b, 1)
    assert seq == before[2] + 1
    await sees(proctor_b, b, seq)
    assert not [f for f in proctor_b.frames if f["type"] == "event" and f["seq"] < seq]
    assert not [f for f in candidate_b.frames if f["type"] == "event"], candidate_b.frames
    for channel in (candidate_b, proctor_a, proctor_b):
        await channel.close()


# ---- candidates ----------------------------------------------------------------------------------


async def test_a_candidate_gets_403_on_every_proctoring_route(pair: Pair) -> None:
    http, a = pair.http, pair.a
    await assert_no_staff_access(http, a.headers, a, 403)
    for path in ("/api/v1/proctoring/windows", f"{a.staff_url}/events/verify", f"{a.staff_url}/timing"):
        response = await http.get(path, headers=a.headers)
        assert response.status_code == 403, (path, response.text)
    response = await http.post("/api/v1/proctoring/channel-ticket", headers=a.headers, json={"window_id": None})
    assert response.status_code == 403, response.text
    status = await http.get(a.staff_url, headers=a.proctor)
    assert status.json()["state"] == "in_progress"


async def test_a_candidate_socket_never_carries_proctor_only_entries(pair: Pair) -> None:
    live, http, a = pair.live, pair.http, pair.a
    proctor, _ = await proctor_channel(live, a.proctor)
    candidate = await candidate_channel(live, a.attempt_id, a.headers)
    await candidate_event(candidate, 1, "paste", length=200, position=1)  # opens an incident
    await proctor.until(lambda f: f["type"] == "event" and f["kind"] == "incident_opened")
    for n, action in enumerate(
        [
            {"action": "note", "text": "candidate looks nervous"},
            {"action": "report", "category": "candidate_behaviour", "description": "talking to someone"},
            {"action": "warn", "message": "Please stay quiet."},
        ]
    ):
        await proctor.send({"type": "action", "request_id": f"r{n}", "attempt_id": a.attempt_id, **action})
        result = await proctor.until(lambda f, r=f"r{n}": f["type"] == "result" and f["request_id"] == r)
        assert result["ok"] is True, result
    await candidate.until(lambda f: f["type"] == "event" and f["kind"] == "warning")

    # on reconnect, the backlog from 0 is filtered the same way
    again = await candidate_channel(live, a.attempt_id, a.headers, last_seq=0)
    await again.until(lambda f: f["type"] == "event" and f["kind"] == "warning")
    for channel in (candidate, again):
        kinds = {f["kind"] for f in channel.frames if f["type"] == "event"}
        assert not kinds & PROCTOR_ONLY, kinds
        assert not mentions(channel.frames, "risk_score")
        assert not mentions(channel.frames, "nervous")
        assert not mentions(channel.frames, "talking to someone")
    log = await http.get(f"{a.staff_url}/events", headers=a.proctor)
    assert {"note", "incident_opened", "irregularity_reported"} <= {e["kind"] for e in log.json()}

    status = await http.get(a.url, headers=a.headers)
    assert not {"risk_score", "incidents", "reasons", "review_required"} & set(status.json())
    for channel in (candidate, again, proctor):
        await channel.close()
