"""Two server processes share one PostgreSQL and one Redis: what happens on one reaches proctors on the other."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.proctoring.live import Live, candidate_channel, proctor_channel
from tests.servers import Server, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CANDIDATE = ("candidate2@example.org", "demo-candidate2-password")
PROCTOR = ("proctor@example.org", "demo-proctor-password")


@pytest.fixture
def pair(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    env = {
        **os.environ,
        "EXAM_DATABASE_URL": database_url,
        "EXAM_REDIS_URL": redis_url,
        "EXAM_LOG_JSON": "false",
        "EXAM_SNAPSHOT_DIR": str(tmp_path / "snapshots"),
    }
    demo = run_cli(["demo"], env)
    assert demo.returncode == 0, demo.stderr
    servers = (Server(env, tmp_path / "a.log"), Server(env, tmp_path / "b.log"))
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


async def sign_in(http: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await http.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_events_cross_workers_in_order_and_actions_come_back(pair: tuple[Server, Server]) -> None:
    a, b = pair
    async with httpx.AsyncClient(base_url=a.base) as on_a, httpx.AsyncClient(base_url=b.base) as on_b:
        worker_a, worker_b = Live(None, a.base, on_a), Live(None, b.base, on_b)
        candidate = await sign_in(on_a, *CANDIDATE)
        proctor = await sign_in(on_b, *PROCTOR)
        (mine,) = (await on_a.get("/api/v1/me/attempts", headers=candidate)).json()
        attempt = mine["id"]
        assert (await on_a.post(f"/api/v1/attempts/{attempt}/check-in", headers=candidate)).status_code == 200
        assert (
            await on_a.post(f"/api/v1/attempts/{attempt}/start", headers=candidate, json={"accept_rules": True})
        ).status_code == 200

        watcher, snapshot = await proctor_channel(worker_b, proctor)  # the proctor is on worker B
        assert attempt in {row["attempt_id"] for row in snapshot["sittings"]}
        sitter = await candidate_channel(worker_a, attempt, candidate)  # the candidate on worker A
        authorised = await on_b.post(f"/api/v1/proctoring/attempts/{attempt}/authorize", headers=proctor)
        assert authorised.status_code == 200
        started = await sitter.until(lambda f: f.get("kind") == "state_changed" and f["detail"]["to"] == "in_progress")
        assert started["source"] == "proctor"

        total = 40
        for n in range(1, total + 1):
            await sitter.send({"type": "event", "client_seq": n, "kind": "copy", "detail": {"length": n}})
            await asyncio.sleep(0.06)
        seen: list[dict[str, object]] = []
        while len([f for f in seen if f["kind"] == "copy"]) < total:
            frame = await watcher.next(10)
            if frame["type"] == "event" and frame["attempt_id"] == attempt:
                seen.append(frame)
        seqs = [int(str(f["seq"])) for f in seen]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # in order, none missing, none twice
        assert [f["client_seq"] for f in seen if f["kind"] == "copy"] == list(range(1, total + 1))

        await watcher.send(
            {"type": "action", "request_id": "w", "attempt_id": attempt, "action": "warn", "message": "Eyes front"}
        )
        assert (await watcher.until(lambda f: f["type"] == "result"))["ok"] is True
        warned = await sitter.until(lambda f: f.get("kind") == "warning")
        assert warned["detail"] == {"message": "Eyes front"}
        await sitter.close()
        await watcher.close()
