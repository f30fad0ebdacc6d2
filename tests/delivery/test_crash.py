"""Every acknowledged save survives a SIGKILL of the server in the middle of saving."""

from __future__ import annotations

import asyncio
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.delivery.helpers import value_for
from tests.servers import Server, run_cli

pytestmark = pytest.mark.slow


def _token(base: str, email: str, password: str) -> dict[str, str]:
    response = httpx.post(f"{base}/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _start_sitting(base: str) -> tuple[str, dict[str, str], list[dict[str, Any]]]:
    admin = _token(base, "admin@example.org", "demo-admin-password")
    now = datetime.now(UTC)
    window = httpx.post(
        f"{base}/api/v1/windows",
        headers=admin,
        json={
            "title": "Crash test",
            "blueprint": "mlocp-foundation",
            "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "closes_at": (now + timedelta(hours=3)).isoformat(),
            "proctored": False,
        },
    ).json()
    candidate = _token(base, "candidate3@example.org", "demo-candidate3-password")  # sat already: free to book
    attempt = httpx.post(f"{base}/api/v1/windows/{window['id']}/bookings", headers=candidate).json()["id"]
    for step in ("check-in", "start"):
        body = {"accept_rules": True} if step == "start" else None
        assert httpx.post(f"{base}/api/v1/attempts/{attempt}/{step}", headers=candidate, json=body).status_code == 200
    form = httpx.get(f"{base}/api/v1/attempts/{attempt}/form", headers=candidate).json()
    return attempt, candidate, form["items"]


def _saver(
    base: str,
    attempt: str,
    headers: dict[str, str],
    items: list[dict[str, Any]],
    acknowledged: dict[int, int],
    stop: threading.Event,
) -> None:
    revision = 0
    with httpx.Client(base_url=base, headers=headers, timeout=5) as http:
        while not stop.is_set():
            revision += 1
            for entry in items:
                position = entry["position"]
                try:
                    response = http.put(
                        f"/api/v1/attempts/{attempt}/responses/{position}",
                        json={"revision": revision, "value": value_for(entry["item"], revision)},
                    )
                except httpx.TransportError:
                    return  # the server is gone
                if response.status_code == 200:
                    acknowledged[position] = revision


async def test_acknowledged_saves_survive_sigkill(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "EXAM_DATABASE_URL": database_url, "EXAM_LOG_JSON": "false"}
    demo = await asyncio.to_thread(run_cli, ["demo"], env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    server = Server(env, tmp_path / "server.log")
    try:
        await asyncio.to_thread(server.start)
        attempt, headers, items = await asyncio.to_thread(_start_sitting, server.base)
        acknowledged: dict[int, int] = {}
        stop = threading.Event()
        workers = [
            threading.Thread(target=_saver, args=(server.base, attempt, headers, items[i::4], acknowledged, stop))
            for i in range(4)
        ]
        for worker in workers:
            worker.start()
        await asyncio.sleep(2.0)
        server.kill()  # mid-flight: some saves are in progress, some acknowledged
        stop.set()
        for worker in workers:
            await asyncio.to_thread(worker.join, 10)
        assert sum(acknowledged.values()) > len(items), "too few saves were acknowledged to prove anything"

        await asyncio.to_thread(server.start)
        headers = _token(server.base, "candidate3@example.org", "demo-candidate3-password")
        form = httpx.get(f"{server.base}/api/v1/attempts/{attempt}/form", headers=headers).json()
        stored = {i["position"]: (i["revision"], i["answer"], i["item"]) for i in form["items"]}
        for position, revision in acknowledged.items():
            kept_revision, answer, item = stored[position]
            # a save may have committed after its acknowledgement was lost, never the reverse
            assert kept_revision >= revision, (position, kept_revision, revision)
            assert answer == value_for(item, kept_revision)
    finally:
        server.stop()
