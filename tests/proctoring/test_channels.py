"""The channels end to end over real sockets: events reach proctors, actions reach candidates."""

from __future__ import annotations

from tests.delivery.helpers import Sitting
from tests.proctoring.live import Live, candidate_channel, proctor_channel


async def test_a_candidate_event_reaches_the_proctor_and_a_pause_reaches_the_candidate(
    live: Live, proctored: Sitting
) -> None:
    proctor, snapshot = await proctor_channel(live, proctored.proctor)
    (row,) = snapshot["sittings"]
    assert (row["attempt_id"], row["state"], row["risk_score"]) == (proctored.attempt_id, "in_progress", 0)
    candidate = await candidate_channel(live, proctored.attempt_id, proctored.headers)

    await candidate.send({"type": "event", "client_seq": 1, "kind": "visibility_hidden", "detail": {}})
    ack = await candidate.until(lambda f: f["type"] == "ack")
    seen = await proctor.until(lambda f: f["type"] == "event" and f["kind"] == "visibility_hidden")
    assert (seen["seq"], seen["source"]) == (ack["seq"], "candidate")

    await proctor.send(
        {
            "type": "action",
            "request_id": "p1",
            "attempt_id": proctored.attempt_id,
            "action": "pause",
            "reason": "look up",
        }
    )
    assert (await proctor.until(lambda f: f["type"] == "result"))["ok"] is True
    paused = await candidate.until(lambda f: f["type"] == "event" and f["kind"] == "state_changed")
    assert (paused["detail"]["to"], paused["source"]) == ("paused", "proctor")
    await candidate.close()
    await proctor.close()
