"""Autosave under load: many candidates saving at once against a real server.

    .venv/bin/python -m benchmarks.autosave                       # SQLite, 1 worker
    .venv/bin/python -m benchmarks.autosave --candidates 50 --seconds 20
    .venv/bin/python -m benchmarks.autosave --database-url postgresql+asyncpg://postgres@127.0.0.1/bench --workers 2

Prints saves per second and latency percentiles of acknowledged saves. Traffic stays on
127.0.0.1 and the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.server import BenchServer, run_cli

PASSWORD = "benchmark password 123"


async def _token(http: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await http.post("/api/v1/auth/token", data={"username": email, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _value(item: dict[str, Any], revision: int) -> Any:
    labels = [o["id"] for o in item.get("options", [])]
    kind = item["type"]
    if kind in ("single_choice",):
        return labels[revision % len(labels)]
    if kind == "multiple_response":
        return [labels[revision % len(labels)]]
    if kind == "ordering":
        return labels[::-1] if revision % 2 else labels
    if kind == "true_false":
        return "true" if revision % 2 else "false"
    if kind == "numeric":
        return revision
    if kind == "performance_task":
        return {item["answer_files"][0]: f"# revision {revision}\n" * 20}
    return None


async def _prepare(base: str, candidates: int) -> list[tuple[dict[str, str], str, list[dict[str, Any]]]]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        admin = await _token(http, "admin@example.org", "demo-admin-password")
        now = datetime.now(UTC)
        window = (
            await http.post(
                "/api/v1/windows",
                headers=admin,
                json={
                    "title": f"Benchmark {now.isoformat()}",
                    "blueprint": "mlocp-foundation",
                    "proctored": False,
                    "opens_at": (now - timedelta(minutes=1)).isoformat(),
                    "closes_at": (now + timedelta(hours=3)).isoformat(),
                },
            )
        ).json()
        sittings = []
        stamp = int(time.time())
        for n in range(candidates):
            email = f"bench{stamp}-{n}@example.org"
            created = await http.post(
                "/api/v1/users",
                headers=admin,
                json={"email": email, "full_name": f"Bench {n}", "role": "candidate", "password": PASSWORD},
            )
            created.raise_for_status()
            headers = await _token(http, email, PASSWORD)
            attempt = (await http.post(f"/api/v1/windows/{window['id']}/bookings", headers=headers)).json()["id"]
            (await http.post(f"/api/v1/attempts/{attempt}/check-in", headers=headers)).raise_for_status()
            started = await http.post(f"/api/v1/attempts/{attempt}/start", headers=headers, json={"accept_rules": True})
            started.raise_for_status()
            form = (await http.get(f"/api/v1/attempts/{attempt}/form", headers=headers)).json()
            sittings.append((headers, attempt, form["items"]))
        return sittings


async def _candidate(
    base: str,
    sitting: tuple[dict[str, str], str, list[dict[str, Any]]],
    until: float,
    warm_until: float,
    latencies: list[float],
    errors: list[int],
    think: float,
) -> None:
    headers, attempt, items = sitting
    rng = random.Random(attempt)
    revisions: dict[int, int] = {}
    if think:  # candidates do not all press a key in the same millisecond
        await asyncio.sleep(rng.uniform(0, 2 * think))
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        while time.monotonic() < until:
            entry = rng.choice(items)
            position = entry["position"]
            revisions[position] = revisions.get(position, 0) + 1
            started = time.perf_counter()
            response = await http.put(
                f"/api/v1/attempts/{attempt}/responses/{position}",
                json={"revision": revisions[position], "value": _value(entry["item"], revisions[position])},
            )
            if response.status_code != 200:
                errors.append(response.status_code)
            elif time.monotonic() >= warm_until:  # new connections and first requests are not counted
                latencies.append(time.perf_counter() - started)
            if think:
                await asyncio.sleep(rng.uniform(0, 2 * think))


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else values[0]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between a candidate's saves (s)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds at the start not measured")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        env = {**os.environ, "EXAM_DATABASE_URL": url, "EXAM_LOG_LEVEL": "WARNING", "EXAM_LOG_JSON": "false"}
        run_cli(["demo"], env)
        with BenchServer(env, workers=args.workers) as server:
            sittings = await _prepare(server.base, args.candidates)
            latencies: list[float] = []
            errors: list[int] = []
            started = time.monotonic()
            warm_until = started + args.warmup
            until = warm_until + args.seconds
            await asyncio.gather(
                *(_candidate(server.base, s, until, warm_until, latencies, errors, args.think) for s in sittings)
            )
            elapsed = time.monotonic() - warm_until
    backend = url.split(":", 1)[0]
    print(f"autosave: {backend}, {args.workers} worker(s), {args.candidates} candidates, {elapsed:.1f} s")
    print(f"  acknowledged saves: {len(latencies)} ({len(latencies) / elapsed:.0f}/s), errors: {len(errors)}")
    if latencies:
        ms = [v * 1000 for v in latencies]
        print(
            f"  latency ms: p50 {_percentile(ms, 0.5):.1f}  p95 {_percentile(ms, 0.95):.1f}  "
            f"p99 {_percentile(ms, 0.99):.1f}  max {max(ms):.1f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
