"""Autosave against its bare ceiling: the service's save endpoint and ``benchmarks.ceiling``, driven by wrk.

    .venv/bin/python -m benchmarks.saves                                  # SQLite 1 worker, PostgreSQL 2 workers
    .venv/bin/python -m benchmarks.saves --only sqlite --seconds 10 --candidates 200
    .venv/bin/python -m benchmarks.saves --only postgres --skip-ceiling

For each configuration (SQLite with 1 worker; PostgreSQL with 2 workers and Redis as the broker):

1. The service on a fresh database (``exam-service demo``; PostgreSQL: its own database,
   ``exam_saves_bench``, created and dropped here). N candidates with started sittings of an
   unproctored window are written through the service layer in this process, and each gets a
   bearer token minted as sign-in does (``identity.service.open_session``, same secret as the
   server). Each candidate's form is read once over HTTP; every position whose item type has a
   valid value in ``benchmarks.autosave._value`` becomes an entry (token, attempt, position, value).
2. wrk (``/usr/bin/wrk -t2 -c64``) saves those entries: each wrk thread cycles through its own
   disjoint slice with a rising revision per entry, so every request is an autosave that is
   applied. A short warm-up run comes first and is not counted; the measured run starts at a
   higher revision. The Lua script counts non-200 answers; wrk counts socket errors.
3. The same against the ceiling (its own fresh database, same worker count, same entries, so the
   bodies have the same sizes).

Printed: one table (requests/s, ratio to the ceiling, latency, errors, the server's peak RSS
summed over its process tree, wrk's own CPU seconds), then how many answers the service stored
for the seeded sittings and the highest revision among them. Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.autosave import _value
from benchmarks.proctoring import Process, _cpu_seconds, _postgres, _rss_mib
from benchmarks.server import EXE, free_port, run_cli

WRK = "/usr/bin/wrk"
BENCH_DB = "exam_saves_bench"
WARM_BASE, MEASURED_BASE = 0, 1_000_000  # revisions start above these: the measured run never sends a stale one

LUA = r"""
-- every thread saves its own slice of the entries, each with a rising revision
local threads, count = {}, 0

function setup(thread)
  thread:set("id", count)
  table.insert(threads, thread)
  count = count + 1
end

function init(args)
  local nthreads, base = tonumber(os.getenv("SAVES_THREADS")), tonumber(os.getenv("SAVES_BASE"))
  paths, headers, values, revisions = {}, {}, {}, {}
  local i = 0
  for line in io.lines(os.getenv("SAVES_ENTRIES")) do
    if i % nthreads == id then
      local token, path, value = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      table.insert(paths, path)
      table.insert(headers, {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"})
      table.insert(values, value)
      table.insert(revisions, base)
    end
    i = i + 1
  end
  n, cursor, non200, codes, top = #paths, 0, 0, {}, base
end

function request()
  cursor = cursor % n + 1
  local revision = revisions[cursor] + 1
  revisions[cursor] = revision
  if revision > top then top = revision end
  local body = '{"revision":' .. revision .. ',"value":' .. values[cursor] .. ',"time_spent_seconds":null}'
  return wrk.format("PUT", paths[cursor], headers[cursor], body)
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    local key = tostring(status)
    codes[key] = (codes[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local non, highest, merged, parts = 0, 0, {}, {}
  for _, thread in ipairs(threads) do
    non = non + thread:get("non200")
    highest = math.max(highest, thread:get("top"))
    for status, n in pairs(thread:get("codes")) do merged[status] = (merged[status] or 0) + n end
  end
  for status, n in pairs(merged) do table.insert(parts, string.format('"%s":%d', status, n)) end
  local e = summary.errors
  io.write(string.format(
    'SAVES-RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"non200":%d,"top_revision":%d,"codes":{%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    non, highest, table.concat(parts, ",")))
end
"""


@dataclasses.dataclass
class Config:
    name: str  # "sqlite" or "postgres"
    label: str
    workers: int


@dataclasses.dataclass
class Entry:
    token: str
    attempt_id: uuid.UUID
    position: int
    value: str  # JSON

    def line(self) -> str:
        return f"{self.token}\t/api/v1/attempts/{self.attempt_id}/responses/{self.position}\t{self.value}\n"


@dataclasses.dataclass
class Load:
    """One measured wrk run against one server."""

    result: dict[str, Any]
    wrk_cpu: float
    server_cpu: float
    peak_rss: float

    @property
    def rate(self) -> float:
        return float(self.result["requests"]) / (float(self.result["duration_us"]) / 1e6)

    @property
    def errors(self) -> int:
        r = self.result
        return int(r["non200"] + r["connect"] + r["read"] + r["write"] + r["timeout"])

    def latency(self) -> str:
        return f"{_ms(self.result['p50'])} / {_ms(self.result['p99'])}"


def _ms(us: float) -> str:
    return f"{us / 1000:.1f} ms" if us < 100_000 else f"{us / 1e6:.2f} s"


# ---- databases -----------------------------------------------------------------------------------


def _fresh_database(config: Config, args: argparse.Namespace, path: Path) -> Any:
    if config.name == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url = asyncio.run(_postgres(args.postgres, "create", BENCH_DB))
    try:
        yield url
    finally:
        with contextlib.suppress(Exception):
            asyncio.run(_postgres(args.postgres, "drop", BENCH_DB))


# ---- the service: seeding, tokens, entries -------------------------------------------------------


def _settings(url: str, secret: str) -> Any:
    from pydantic import SecretStr

    from exam_service.core.settings import Settings

    return Settings(database_url=url, token_secret=SecretStr(secret), access_token_minutes=180)


async def _seed(url: str, candidates: int, secret: str) -> list[tuple[str, uuid.UUID]]:
    """Started sittings of one unproctored window, and a bearer token for each candidate."""
    from exam_service.core.clock import SystemClock
    from exam_service.core.database import create_engine, create_sessionmaker, transaction
    from exam_service.core.tokens import TokenCodec
    from exam_service.delivery import service as delivery_service
    from exam_service.identity import service as identity_service
    from exam_service.identity.passwords import hash_password
    from exam_service.identity.repository import UserRepository
    from exam_service.models import Role, User
    from exam_service.scheduling import service as scheduling_service
    from exam_service.scheduling.schemas import WindowCreate

    settings = _settings(url, secret)
    codec, clock = TokenCodec.from_settings(settings), SystemClock()
    password_hash = hash_password("benchmark password 123")  # one argon2 hash shared by every account
    stamp = uuid.uuid4().hex[:8]
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    seated: list[tuple[str, uuid.UUID]] = []
    try:
        async with transaction(sessions) as session:
            admin = await UserRepository(session).get_by_email("admin@example.org")
            assert admin is not None, "run exam-service demo first"
            now = clock.now()
            data = WindowCreate(
                title=f"Autosave benchmark {stamp}",
                blueprint="mlocp-foundation",
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=1),
                proctored=False,
            )
            window_id = (await scheduling_service.create_window(session, admin, data, clock)).id
        batch = 100
        for first in range(0, candidates, batch):
            async with transaction(sessions) as session:
                admin = await UserRepository(session).get_by_email("admin@example.org")
                assert admin is not None
                window = await scheduling_service.get_window(session, window_id)
                people = [
                    User(
                        email=f"saves-{stamp}-{n}@example.org",
                        full_name=f"Saves Candidate {n}",
                        role=Role.candidate,
                        password_hash=password_hash,
                        created_at=clock.now(),
                    )
                    for n in range(first, min(first + batch, candidates))
                ]
                session.add_all(people)
                await session.flush()
                for person in people:
                    attempt = await delivery_service.register(session, window, person, admin, clock)
                    await delivery_service.check_in(session, attempt, person, clock)
                    await delivery_service.start(session, attempt, person, clock)
                    issued = await identity_service.open_session(
                        session, person, codec=codec, clock=clock, settings=settings
                    )
                    seated.append((issued.access_token, attempt.id))
            print(f"  seeded {len(seated)}/{candidates} started sittings", flush=True)
        return seated
    finally:
        await engine.dispose()


async def _entries(base: str, seated: list[tuple[str, uuid.UUID]]) -> list[Entry]:
    """Reads each form once; entries go round the candidates, so neighbouring requests hit different sittings."""
    gate = asyncio.Semaphore(8)

    async def form(http: httpx.AsyncClient, token: str, attempt_id: uuid.UUID) -> list[Entry]:
        async with gate:
            response = await http.get(
                f"/api/v1/attempts/{attempt_id}/form", headers={"Authorization": f"Bearer {token}"}
            )
        response.raise_for_status()
        found = []
        for item in response.json()["items"]:
            value = _value(item["item"], 1)
            if value is not None:
                found.append(Entry(token, attempt_id, item["position"], json.dumps(value, separators=(",", ":"))))
        return found

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        forms = await asyncio.gather(*(form(http, token, attempt) for token, attempt in seated))
    return [f[k] for k in range(max(map(len, forms), default=0)) for f in forms if k < len(f)]


def _synthetic(candidates: int) -> list[Entry]:
    """For the ceiling alone: 40 single-choice answers a candidate (the service run reads real forms)."""
    attempts = [uuid.uuid4() for _ in range(candidates)]
    return [Entry("x" * 200, a, p, '"C"') for p in range(1, 41) for a in attempts]


async def _stored(url: str, attempts: list[uuid.UUID]) -> tuple[int, int]:
    """Answers with a revision the seeding did not write, and the highest revision, over the seeded sittings."""
    from sqlalchemy import func, select

    from exam_service.core.database import create_engine
    from exam_service.models import Response

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            query = select(func.count(), func.max(Response.revision)).where(
                Response.attempt_id.in_(attempts), Response.revision > 0
            )
            count, highest = (await connection.execute(query)).one()
            return int(count), int(highest or 0)
    finally:
        await engine.dispose()


# ---- wrk -----------------------------------------------------------------------------------------


class Sampler:
    """Polls the server's process tree for its summed RSS while wrk runs."""

    def __init__(self, server: Process) -> None:
        self.server, self.peak = server, 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, _rss_mib(self.server.pids))
            self.stop.wait(0.25)

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _wrk(base: str, tmp: Path, entries: Path, revision: int, seconds: float, args: argparse.Namespace) -> Load:
    """One wrk run; its resource usage is read from its own exit (``wait4``)."""
    script = tmp / "saves.lua"
    script.write_text(LUA)
    env = {**os.environ, "SAVES_ENTRIES": str(entries), "SAVES_THREADS": str(args.threads), "SAVES_BASE": str(revision)}
    command = [WRK, f"-t{args.threads}", f"-c{args.connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    command += ["--latency", "-s", str(script), f"{base}/api/v1/attempts"]
    out = tmp / "wrk.out"
    with out.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    text = out.read_text(errors="replace")
    lines = [line for line in text.splitlines() if line.startswith("SAVES-RESULT ")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({process.returncode}): {text[-2000:]}")
    result = json.loads(lines[-1].split(" ", 1)[1])
    return Load(result, usage.ru_utime + usage.ru_stime, 0.0, 0.0)


def _drive(server: Process, tmp: Path, entries: Path, args: argparse.Namespace) -> Load:
    """Warm-up (not counted), then the measured run, with the server's peak RSS and CPU."""
    with Sampler(server) as sampler:
        if args.warmup > 0:
            _wrk(server.base, tmp, entries, WARM_BASE, args.warmup, args)
        cpu = _cpu_seconds(server.pids)
        load = _wrk(server.base, tmp, entries, MEASURED_BASE, args.seconds, args)
        load.server_cpu = _cpu_seconds(server.pids) - cpu
    load.peak_rss = sampler.peak
    return load


# ---- one configuration ---------------------------------------------------------------------------


def _log_errors(log: Path) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if "ERROR" in line or "Traceback" in line]


def _service(config: Config, args: argparse.Namespace, tmp: Path, secret: str) -> tuple[Load, list[Entry], str]:
    with _fresh_database(config, args, tmp / "service.db") as url:
        env = {
            **os.environ,
            "EXAM_ENVIRONMENT": "development",
            "EXAM_DATABASE_URL": url,
            "EXAM_LOG_LEVEL": "WARNING",
            "EXAM_LOG_JSON": "false",
            "EXAM_TOKEN_SECRET": secret,
            "EXAM_ACCESS_TOKEN_MINUTES": "180",
            "EXAM_SNAPSHOT_DIR": str(tmp / "snapshots"),
            "EXAM_CREDENTIAL_KEY_FILE": str(tmp / "credential-key.pem"),
        }
        env.pop("EXAM_REDIS_URL", None)
        if config.name == "postgres":
            env["EXAM_REDIS_URL"] = args.redis
        print(f"{config.label}: exam-service demo, then {args.candidates} started sittings", flush=True)
        run_cli(["demo"], env)
        started = time.monotonic()
        seated = asyncio.run(_seed(url, args.candidates, secret))
        print(f"  seeded in {time.monotonic() - started:.0f} s", flush=True)
        port = free_port()
        command = [*EXE, "serve", "--port", str(port), "--workers", str(config.workers)]
        log = tmp / f"service-{config.name}.log"
        with Process(command, env, port, log) as server:
            entries = asyncio.run(_entries(server.base, seated))
            path = tmp / "entries.tsv"
            path.write_text("".join(e.line() for e in entries))
            print(f"  {len(entries):,} entries; wrk against the service for {args.seconds:g} s", flush=True)
            load = _drive(server, tmp, path, args)
        count, highest = asyncio.run(_stored(url, [attempt for _t, attempt in seated]))
        errors = _log_errors(log)
        note = (
            f"{config.label}: the service stored {count:,} answers (revision > 0) over {len(seated)} sittings; "
            f"highest revision {highest:,} (highest sent {load.result['top_revision']:,})"
        )
        if count == 0 or highest <= MEASURED_BASE:
            note += "  << the measured run's saves are NOT in the database"
        if errors:
            note += f"; server log: {len(errors)} error line(s), first: {errors[0][:200]}"
        return load, entries, note


def _ceiling(config: Config, args: argparse.Namespace, tmp: Path, entries: list[Entry]) -> Load:
    with _fresh_database(config, args, tmp / "ceiling.db") as url:
        path = tmp / "entries.tsv"
        path.write_text("".join(e.line() for e in entries))
        port = free_port()
        command = [sys.executable, "-m", "benchmarks.ceiling", "--database-url", url, "--port", str(port)]
        command += ["--workers", str(config.workers)]
        env = {**os.environ, "EXAM_LOG_LEVEL": "WARNING"}
        print(f"{config.label}: wrk against the ceiling for {args.seconds:g} s", flush=True)
        with Process(command, env, port, tmp / f"ceiling-{config.name}.log") as server:
            return _drive(server, tmp, path, args)


def _row(config: Config, service: Load | None, ceiling: Load | None) -> str:
    def both(get: Any) -> str:
        return " / ".join(get(x) if x else "-" for x in (service, ceiling))

    ratio = f"{service.rate / ceiling.rate:.2f}" if service and ceiling else "-"
    cells = [
        f"{config.label}, {config.workers}",
        f"{service.rate:,.0f}" if service else "-",
        f"{ceiling.rate:,.0f}" if ceiling else "-",
        ratio,
        service.latency() if service else "-",
        ceiling.latency() if ceiling else "-",
        both(lambda x: f"{x.errors:,}"),
        both(lambda x: f"{x.peak_rss:,.0f} MiB"),
        both(lambda x: f"{x.wrk_cpu:.1f} s"),
    ]
    return "| " + " | ".join(cells) + " |"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--seconds", type=float, default=30, help="measured wrk run (default 30)")
    parser.add_argument("--warmup", type=float, default=5, help="wrk run before it, not counted (default 5)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--skip-ceiling", action="store_true")
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test", help="admin URL")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="broker of the PostgreSQL configuration")
    parser.add_argument("--log-dir", help="keep the servers' logs here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    if not Path(WRK).exists():
        raise SystemExit(f"{WRK} is missing (Debian: apt-get install wrk)")
    configs = [Config("sqlite", "SQLite", 1), Config("postgres", "PostgreSQL + Redis", 2)]
    configs = [c for c in configs if args.only in (None, c.name)]
    secret = secrets.token_urlsafe(36)  # 48 characters, for the server and the tokens minted here
    rows, notes = [], []
    with tempfile.TemporaryDirectory(prefix="saves-bench-") as name:
        tmp = Path(name)
        try:
            for config in configs:
                service = ceiling = None
                entries = _synthetic(args.candidates)
                if not args.skip_service:
                    service, entries, note = _service(config, args, tmp, secret)
                    notes.append(note)
                if not args.skip_ceiling:
                    ceiling = _ceiling(config, args, tmp, entries)
                for label, load in (("service", service), ("ceiling", ceiling)):
                    if load is not None:
                        r = load.result
                        codes = f" {json.dumps(r['codes'])}" if r["codes"] else ""
                        notes.append(
                            f"{config.label}, {label}: {r['requests']:,} requests, p90 {_ms(r['p90'])}, max "
                            f"{_ms(r['max'])}, non-200 {r['non200']}{codes}, socket errors "
                            f"connect {r['connect']} read {r['read']} write {r['write']} timeout {r['timeout']}; "
                            f"server CPU {load.server_cpu:.1f} s ({load.server_cpu / max(1, r['requests']) * 1e3:.2f} "
                            f"ms a save)"
                        )
                rows.append(_row(config, service, ceiling))
        finally:
            if args.log_dir:
                Path(args.log_dir).mkdir(parents=True, exist_ok=True)
                for log in tmp.glob("*.log"):
                    shutil.copy(log, Path(args.log_dir) / log.name)
    print(
        f"\nautosave against its bare ceiling: wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s "
        f"(warm-up {args.warmup:g} s), {args.candidates} candidates; {os.cpu_count()} CPUs; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print(
        "| database, workers | autosave req/s | ceiling req/s | ratio | autosave p50/p99 | ceiling p50/p99 "
        "| errors (autosave / ceiling) | server peak RSS | wrk CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print()
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
