"""Live proctoring under load: thousands of candidate sockets and a few proctor consoles on a real server.

    .venv/bin/python -m benchmarks.proctoring --quick              # 500 candidates, 4 proctors, 30 s
    .venv/bin/python -m benchmarks.proctoring                      # 10,000 candidates, 20 proctors, 120 s
    .venv/bin/python -m benchmarks.proctoring --workers 2 --redis --postgres
    .venv/bin/python -m benchmarks.proctoring --setup-only --seed-cache /tmp/seeds   # seed once, reuse

Setup: a fresh database (``exam-service demo``, then proctors, proctored windows, candidates and
their registrations written through the service layer in this process: no HTTP, one argon2 hash
shared by every account), then ``exam-service serve`` in a subprocess. Channel tickets are
issued straight into the database by this process, a batch at a time, as the client processes
reach the candidates that need them (a ticket lives at most 300 s).

Load: proctor sockets first (each covers its assigned windows), then candidate sockets at
``--ramp-rate`` per second at most (``--max-pending`` handshakes in flight). A candidate sends
``hello``, a heartbeat every ``--heartbeat`` s from then on, and during the measured phase a
``window_blur`` event every ``--event-interval`` s at a random phase. The measured phase
(``--duration``) starts ``--settle`` s after the last socket is up (or after ``--ramp-grace``).

Then the same client code drives a bare WebSocket relay (Starlette on uvicorn, the service's own
stack, in a subprocess) that acknowledges each event and forwards it to the proctors of the
candidate's window: the ceiling of this machine for the same sockets and rates.

Printed at the end: one table, service against relay. Traffic stays on 127.0.0.1 and every
phase is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import json
import math
import multiprocessing as mp
import os
import queue
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.server import EXE, free_port, run_cli

TICKS = os.sysconf("SC_CLK_TCK")
STATES = ("registered", "checked_in", "awaiting_authorization", "in_progress")
# put on the servers' PYTHONPATH: logs every full (generation 2) garbage collection and its pause
GC_HOOK = """
import gc, os, time
_path, _began = os.environ.get("BENCH_GC_LOG"), []
def _gc(phase, info):
    if info.get("generation") != 2:
        return
    if phase == "start":
        _began[:] = [time.perf_counter()]
    elif _began:
        with open(f"{_path}.{os.getpid()}", "a") as log:
            log.write(f"{time.monotonic():.3f} {(time.perf_counter() - _began.pop()) * 1000:.1f}\\n")
if _path:
    gc.callbacks.append(_gc)
"""
BENCH_DB = "exam_proctoring_bench"


# ---- the plan every client process follows ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Plan:
    """Absolute ``time.monotonic()`` instants (CLOCK_MONOTONIC is the same in every process).

    The steady phase is not in the plan: the driver announces it (``Shared.phase``) once every
    candidate has connected or failed, ``settle`` seconds ahead, so a slow ramp is not measured.
    """

    proctors_at: float
    candidates_at: float
    ramp_rate: float
    heartbeat: float
    event_interval: float
    compression: str
    max_pending: int
    connect_timeout: float
    ticket_batch: int


@dataclasses.dataclass(frozen=True)
class CandidateSpec:
    index: int  # global, for the ramp schedule
    url: str  # ends with "ticket=" when a ticket must be fetched first
    attempt_id: str
    window: int


@dataclasses.dataclass(frozen=True)
class ProctorSpec:
    index: int
    url: str
    windows: tuple[int, ...]


def _connect_kwargs(compression: str) -> dict[str, Any]:
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

    common: dict[str, Any] = {"ping_interval": None, "open_timeout": None, "close_timeout": 5, "max_size": 2**22}
    if compression == "browser":  # what Chrome offers: permessage-deflate; client_max_window_bits
        return {**common, "compression": None, "extensions": [ClientPerMessageDeflateFactory()]}
    if compression == "small":  # the websockets library's own default (12-bit windows, memLevel 5)
        return {**common, "compression": "deflate"}
    return {**common, "compression": None}


class Stats:
    def __init__(self) -> None:
        self.connected = 0
        self.proctors_connected = 0
        self.proctors_up: list[int] = []
        self.failed: Counter[str] = Counter()
        self.connect_ms: list[float] = []
        self.proctor_ms: list[float] = []  # handshake to snapshot
        self.connected_at: list[float] = []
        self.closes: Counter[str] = Counter()  # closes by the server before the end of the run
        self.error_frames: Counter[str] = Counter()
        self.sent: dict[tuple[str, int], float] = {}
        self.events_sent = 0
        self.heartbeats_sent = 0
        self.ack_ms: list[float] = []
        self.acked: dict[tuple[str, int], int] = {}  # key -> window (for the expected deliveries)
        self.to_candidates: Counter[str] = Counter()
        self.deliveries: list[tuple[str, int, float, int]] = []  # attempt, client_seq, received, proctor
        self.proctor_other: Counter[str] = Counter()
        self.presence_frames = 0
        self.close_seconds = 0.0
        self.close_log: list[tuple[float, float]] = []  # a server close: when, age of the oldest unacked event
        self.unclosed = 0

    def export(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def _sleep_until(at: float) -> None:
    delay = at - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


def _reason(exc: BaseException) -> str:
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    if isinstance(exc, InvalidStatus):
        return f"http {exc.response.status_code}"
    if isinstance(exc, ConnectionClosed):
        return f"closed {exc.rcvd.code if exc.rcvd else 1006}"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, OSError) and exc.errno:
        import errno

        return errno.errorcode.get(exc.errno, str(exc.errno))
    return type(exc).__name__


def _close(closed: Any) -> str:
    """A close as ``code (reason)``; 1006 when the connection dropped without a close frame."""
    if closed.rcvd is None:
        return "1006"
    return f"{closed.rcvd.code} ({closed.rcvd.reason[:40]})" if closed.rcvd.reason else str(closed.rcvd.code)


class Shared:
    """What the driver and the client processes share: progress counters, the phase, ticket mail."""

    def __init__(self, context: Any, workers: int) -> None:
        self.connected = context.Value("i", 0)
        self.failed = context.Value("i", 0)
        self.acked = context.Value("i", 0)
        self.closed = context.Value("i", 0)  # sockets the server closed before the end
        self.phase = context.Array("d", [0.0, 0.0, 0.0])  # steady start, steady end, stop (0: not yet)
        self.requests = context.Queue()
        self.replies = [context.Queue() for _ in range(workers)]


class Tickets:
    """A process's candidate tickets, asked of the driver in batches just before they are needed."""

    def __init__(self, shared: Shared, worker: int, order: list[int], batch: int) -> None:
        self.shared, self.worker, self.order, self.batch = shared, worker, order, batch
        self.position = {index: n for n, index in enumerate(order)}
        self.have: dict[int, str] = {}
        self.lock = asyncio.Lock()

    async def get(self, index: int) -> str:
        if index not in self.have:
            async with self.lock:
                if index not in self.have:
                    first = self.position[index]
                    wanted = [i for i in self.order[first : first + self.batch] if i not in self.have]
                    self.shared.requests.put((self.worker, wanted))
                    loop = asyncio.get_running_loop()
                    self.have.update(await loop.run_in_executor(None, self.shared.replies[self.worker].get, True, 120))
        return self.have.pop(index)


class Clients:
    """One process's sockets: its share of the candidates, and the proctors if it has them."""

    def __init__(
        self,
        plan: Plan,
        shared: Shared,
        worker: int,
        candidates: list[CandidateSpec],
        proctors: list[ProctorSpec],
    ) -> None:
        self.plan, self.shared, self.candidates, self.proctors = plan, shared, candidates, proctors
        self.tickets = Tickets(shared, worker, [c.index for c in candidates], plan.ticket_batch)
        self.stats = Stats()
        self.sockets: list[Any] = []
        self.proctor_sockets: list[Any] = []
        self.stopping = False
        self.steady: tuple[float, float, float] | None = None
        self.kwargs = _connect_kwargs(plan.compression)

    async def run(self) -> dict[str, Any]:
        pending = asyncio.Semaphore(self.plan.max_pending)
        tasks = [asyncio.create_task(self._proctor(p)) for p in self.proctors]
        tasks += [asyncio.create_task(self._candidate(c, pending)) for c in self.candidates]
        while self.steady is None:  # bounded: the driver always announces the phase
            await asyncio.sleep(0.2)
            if self.shared.phase[0] > 0:
                self.steady = (self.shared.phase[0], self.shared.phase[1], self.shared.phase[2])
        await _sleep_until(self.steady[2])
        self.stopping = True
        started = time.monotonic()
        # candidates first, then proctors; every close is bounded by close_timeout
        for group in (self.sockets, self.proctor_sockets):
            closing = [asyncio.create_task(ws.close()) for ws in group]
            if closing:
                _, late = await asyncio.wait(closing, timeout=60)
                self.stats.unclosed += len(late)
                for task in late:
                    task.cancel()
        self.stats.close_seconds = time.monotonic() - started
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return self.stats.export()

    async def _open(self, url: str) -> Any:
        from websockets.asyncio.client import connect

        return await asyncio.wait_for(connect(url, **self.kwargs), self.plan.connect_timeout)

    async def _first(self, ws: Any, wanted: str) -> None:
        deadline = time.monotonic() + self.plan.connect_timeout
        while True:
            raw = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
            frame = json.loads(raw)
            if frame.get("type") == wanted:
                return
            if frame.get("type") == "error":
                self.stats.error_frames[str(frame.get("error"))] += 1

    def _count(self, counter: Any) -> None:
        with counter.get_lock():
            counter.value += 1

    # ---- candidates ----------------------------------------------------------------------------

    async def _candidate(self, spec: CandidateSpec, pending: asyncio.Semaphore) -> None:
        plan, st = self.plan, self.stats
        await _sleep_until(plan.candidates_at + spec.index / plan.ramp_rate)
        async with pending:
            if self.steady is not None:
                st.failed["not tried before the steady phase"] += 1
                self._count(self.shared.failed)
                return
            ws = None
            try:
                url = spec.url + await self.tickets.get(spec.index) if spec.url.endswith("ticket=") else spec.url
                began = time.monotonic()
                ws = await self._open(url)
                await ws.send('{"type":"hello","last_seq":0}')
                await self._first(ws, "welcome")
            except Exception as exc:
                st.failed[_reason(exc)] += 1
                self._count(self.shared.failed)
                if ws is not None:
                    ws.transport.abort()
                return
        now = time.monotonic()
        st.connected += 1
        self._count(self.shared.connected)
        st.connect_ms.append((now - began) * 1000)
        st.connected_at.append(now)
        self.sockets.append(ws)
        waiting: dict[int, float] = {}
        reader = asyncio.create_task(self._candidate_reader(ws, spec, waiting))
        try:
            await self._candidate_writer(ws, spec, waiting, now)
            await reader
        finally:
            reader.cancel()

    async def _candidate_writer(self, ws: Any, spec: CandidateSpec, waiting: dict[int, float], since: float) -> None:
        """Heartbeats from connect to the end; events during the steady phase, at a random phase."""
        from websockets.exceptions import ConnectionClosed

        plan, st = self.plan, self.stats
        rng = random.Random(spec.index)
        beat = since + rng.uniform(0, plan.heartbeat)
        offset = rng.uniform(0, plan.event_interval)
        event = math.inf
        client_seq = 0
        while not self.stopping:
            steady_end, stop_at = (self.steady[1], self.steady[2]) if self.steady else (math.inf, math.inf)
            if self.steady and event == math.inf:
                event = self.steady[0] + offset
                late = time.monotonic() - event
                if late > 0:  # connected after the phase began: the next slot in this socket's rhythm
                    event += math.ceil(late / plan.event_interval) * plan.event_interval
            due = min(beat, event if event < steady_end else math.inf)
            if due >= stop_at:
                return
            await _sleep_until(due)
            if self.stopping:
                return
            try:
                if due == event:
                    client_seq += 1
                    sent = time.monotonic()
                    waiting[client_seq] = sent
                    st.sent[(spec.attempt_id, client_seq)] = sent
                    st.events_sent += 1
                    await ws.send(f'{{"type":"event","client_seq":{client_seq},"kind":"window_blur","detail":{{}}}}')
                    event += plan.event_interval
                else:
                    await ws.send('{"type":"heartbeat"}')
                    st.heartbeats_sent += 1
                    beat += plan.heartbeat
            except ConnectionClosed:
                return

    async def _candidate_reader(self, ws: Any, spec: CandidateSpec, waiting: dict[int, float]) -> None:
        from websockets.exceptions import ConnectionClosed

        st = self.stats
        try:
            while True:
                raw = await ws.recv()
                received = time.monotonic()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "ack":
                    client_seq = int(frame.get("client_seq") or 0)
                    sent = waiting.pop(client_seq, None)
                    if sent is not None:
                        st.ack_ms.append((received - sent) * 1000)
                        st.acked[(spec.attempt_id, client_seq)] = spec.window
                        self._count(self.shared.acked)
                elif kind == "error":
                    st.error_frames[str(frame.get("error"))] += 1
                    waiting.pop(int(frame.get("client_seq") or 0), None)
                else:
                    st.to_candidates[f"{kind}:{frame.get('kind', '')}"] += 1
        except ConnectionClosed as closed:
            if not self.stopping:
                st.closes[f"candidate {_close(closed)}"] += 1
                self._count(self.shared.closed)
                now = time.monotonic()
                st.close_log.append((now, now - min(waiting.values()) if waiting else -1.0))

    # ---- proctors ------------------------------------------------------------------------------

    async def _proctor(self, spec: ProctorSpec) -> None:
        from websockets.exceptions import ConnectionClosed

        st = self.stats
        await _sleep_until(self.plan.proctors_at + spec.index * 0.05)
        ws = None
        began = time.monotonic()
        try:
            ws = await self._open(spec.url)
            await ws.send('{"type":"hello","cursors":{}}')
            await self._first(ws, "snapshot")
            st.proctor_ms.append((time.monotonic() - began) * 1000)
        except Exception as exc:
            st.failed[f"proctor {_reason(exc)}"] += 1
            if ws is not None:
                ws.transport.abort()
            return
        st.proctors_connected += 1
        st.proctors_up.append(spec.index)
        self.proctor_sockets.append(ws)
        try:
            while True:
                raw = await ws.recv()
                received = time.monotonic()
                if raw.startswith('{"type":"presence"'):
                    st.presence_frames += 1
                    continue
                frame = json.loads(raw)
                if frame.get("type") == "event":
                    if frame.get("source") == "candidate" and frame.get("client_seq") is not None:
                        st.deliveries.append((frame["attempt_id"], int(frame["client_seq"]), received, spec.index))
                    else:
                        st.proctor_other[f"event:{frame.get('kind')}"] += 1
                else:
                    st.proctor_other[str(frame.get("type"))] += 1
        except ConnectionClosed as closed:
            if not self.stopping:
                st.closes[f"proctor {_close(closed)}"] += 1
                self._count(self.shared.closed)


def _client_process(
    plan_box: Any,
    shared: Shared,
    worker: int,
    candidates: list[CandidateSpec],
    proctors: list[ProctorSpec],
    ready: Any,
    results: Any,
) -> None:
    """A client process: runs its sockets to the plan, sends back what it saw."""
    import uvloop

    _raise_nofile()
    ready.put(os.getpid())
    plan: Plan = plan_box.get(timeout=300)
    try:
        stats = uvloop.run(Clients(plan, shared, worker, candidates, proctors).run())
    except BaseException as exc:
        results.put({"error": repr(exc)})
        raise
    results.put(stats)


# ---- the bare relay -----------------------------------------------------------------------------


def serve_relay(port: int) -> None:
    """Acknowledges candidate events and forwards each to the proctor sockets of the same window."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    watchers: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)

    async def candidate(ws: WebSocket) -> None:
        await ws.accept()
        attempt, window = ws.query_params["attempt"], ws.query_params["window"]
        seq = 0
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                frame = json.loads(await ws.receive_text())
                kind = frame.get("type")
                if kind == "event":
                    seq += 1
                    message = {
                        "type": "event",
                        "attempt_id": attempt,
                        "window_id": window,
                        "seq": seq,
                        "kind": frame.get("kind"),
                        "source": "candidate",
                        "client_seq": frame.get("client_seq"),
                        "detail": frame.get("detail", {}),
                        "at": datetime.now(UTC).isoformat(),
                    }
                    text = json.dumps(message, separators=(",", ":"))
                    for queue in list(watchers.get(window, ())):
                        with contextlib.suppress(asyncio.QueueFull):
                            queue.put_nowait(text)
                    ack = {"type": "ack", "client_seq": frame.get("client_seq"), "seq": seq}
                    await ws.send_text(json.dumps(ack, separators=(",", ":")))
                elif kind == "hello":
                    welcome = {"type": "welcome", "attempt_id": attempt, "state": "in_progress", "last_seq": seq}
                    await ws.send_text(json.dumps(welcome, separators=(",", ":")))

    async def proctor(ws: WebSocket) -> None:
        await ws.accept()
        windows = ws.query_params["windows"].split(",")
        queue: asyncio.Queue[str] = asyncio.Queue(2000)

        async def pump() -> None:
            while True:
                await ws.send_text(await queue.get())

        sender = None
        try:
            await ws.receive_text()  # hello
            await ws.send_text('{"type":"snapshot","windows":[],"sittings":[]}')
            for window in windows:
                watchers[window].add(queue)
            sender = asyncio.create_task(pump())
            while True:
                await ws.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            for window in windows:
                watchers[window].discard(queue)
            if sender is not None:
                sender.cancel()

    async def ready(_request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[
            Route("/readyz", ready),
            Route("/healthz", ready),
            WebSocketRoute("/ws/candidate", candidate),
            WebSocketRoute("/ws/proctor", proctor),
        ]
    )
    # the service's uvicorn settings (cli.py serve): same protocol classes, same frame limit
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, log_level="warning", ws_max_size=64 * 1024)


# ---- processes: start, watch, stop --------------------------------------------------------------


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _tree(root: int) -> list[int]:
    """``root`` and every process below it (uvicorn's workers)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def _machine_busy() -> tuple[float, float]:
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / TICKS, sum(fields) / TICKS


class Process:
    """A server subprocess (the service or the relay) that is stopped however the run ends."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.command, self.env, self.port, self.log = command, env, port, log
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Process:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("the server did not start")

    @property
    def pids(self) -> list[int]:
        return _tree(self.process.pid) if self.process else []

    def __exit__(self, *_exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            for pid in reversed(self.pids):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
            self.process.wait(10)


# ---- setup through the service layer -------------------------------------------------------------


@dataclasses.dataclass
class Seeded:
    candidates: list[tuple[uuid.UUID, uuid.UUID, int]]  # user id, attempt id, window index
    proctors: list[tuple[uuid.UUID, tuple[int, ...]]]  # user id, window indexes
    seconds: float


def _assignments(proctors: int, windows: int) -> list[tuple[int, ...]]:
    """Proctor j watches window j % W; with more windows than proctors, they are dealt round."""
    covered: list[set[int]] = [{j % windows} for j in range(proctors)]
    for w in range(windows):
        covered[w % proctors].add(w)
    return [tuple(sorted(c)) for c in covered]


async def _seed(url: str, candidates: int, proctors: int, windows: int, state: str) -> Seeded:
    from exam_service.core.clock import SystemClock
    from exam_service.core.database import create_engine, create_sessionmaker, transaction
    from exam_service.delivery import service as delivery_service
    from exam_service.identity.passwords import hash_password
    from exam_service.identity.repository import UserRepository
    from exam_service.models import Role, User
    from exam_service.scheduling import service as scheduling_service
    from exam_service.scheduling.schemas import WindowCreate

    started = time.monotonic()
    clock = SystemClock()
    password_hash = hash_password("benchmark password 123")  # one argon2 hash shared by every account
    stamp = uuid.uuid4().hex[:8]
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    covers = _assignments(proctors, windows)
    try:
        async with transaction(sessions) as session:
            admin = await UserRepository(session).get_by_email("admin@example.org")
            assert admin is not None, "run exam-service demo first"
            now = clock.now()
            staff = [
                User(
                    email=f"bench-{stamp}-proctor-{j}@example.org",
                    full_name=f"Bench Proctor {j}",
                    role=Role.proctor,
                    password_hash=password_hash,
                    created_at=now,
                )
                for j in range(proctors)
            ]
            session.add_all(staff)
            await session.flush()
            rooms = []
            for w in range(windows):
                data = WindowCreate(
                    title=f"Proctoring benchmark {stamp} #{w}",
                    blueprint="mlocp-foundation",
                    opens_at=now - timedelta(hours=1),
                    closes_at=now + timedelta(days=1),
                    proctored=True,
                )
                rooms.append(await scheduling_service.create_window(session, admin, data, clock))
            for j, cover in enumerate(covers):
                for w in cover:
                    await scheduling_service.assign_proctor(session, rooms[w], staff[j].id, admin, clock)
            window_ids = [r.id for r in rooms]
            first_proctor = {w: staff[next(j for j, c in enumerate(covers) if w in c)].id for w in range(windows)}
        target = STATES.index(state)
        seated: list[tuple[uuid.UUID, uuid.UUID, int]] = []
        batch = 250
        for first in range(0, candidates, batch):
            async with transaction(sessions) as session:
                admin = await UserRepository(session).get_by_email("admin@example.org")
                assert admin is not None
                rooms = [await scheduling_service.get_window(session, w) for w in window_ids]
                deciders = {w: await UserRepository(session).get(first_proctor[w]) for w in range(windows)}
                people = [
                    User(
                        email=f"bench-{stamp}-candidate-{n}@example.org",
                        full_name=f"Bench Candidate {n}",
                        role=Role.candidate,
                        password_hash=password_hash,
                        created_at=clock.now(),
                    )
                    for n in range(first, min(first + batch, candidates))
                ]
                session.add_all(people)
                await session.flush()
                for n, person in zip(range(first, first + len(people)), people, strict=True):
                    w = n % windows
                    attempt = await delivery_service.register(session, rooms[w], person, admin, clock)
                    if target >= 1:
                        await delivery_service.check_in(session, attempt, person, clock)
                    if target >= 2:
                        await delivery_service.start(session, attempt, person, clock)
                    if target >= 3:
                        decider = deciders[w]
                        assert decider is not None
                        await delivery_service.authorize(session, attempt, decider, clock)
                    seated.append((person.id, attempt.id, w))
            if (first // batch) % 8 == 7:
                print(f"  seeded {len(seated)}/{candidates} sittings", flush=True)
        return Seeded(seated, [(staff[j].id, covers[j]) for j in range(proctors)], time.monotonic() - started)
    finally:
        await engine.dispose()


class Issuer:
    """Issues channel tickets in the driver process, as the HTTP endpoints would: one transaction a batch."""

    def __init__(self, url: str, seeded: Seeded, lifetime: int) -> None:
        from exam_service.core.database import create_engine, create_sessionmaker

        self.seeded, self.lifetime = seeded, lifetime
        self.loop = asyncio.new_event_loop()
        self.engine = create_engine(url)
        self.sessions = create_sessionmaker(self.engine)

    def candidates(self, indexes: list[int]) -> dict[int, str]:
        return self.loop.run_until_complete(self._candidates(indexes))

    def proctors(self) -> list[str]:
        return self.loop.run_until_complete(self._proctors())

    def close(self) -> None:
        self.loop.run_until_complete(self.engine.dispose())
        self.loop.close()

    async def _users(self, session: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
        from sqlalchemy import select

        from exam_service.models import User

        return {u.id: u for u in (await session.execute(select(User).where(User.id.in_(ids)))).scalars()}

    async def _candidates(self, indexes: list[int]) -> dict[int, str]:
        from exam_service.core.clock import SystemClock
        from exam_service.core.database import transaction
        from exam_service.proctoring import tickets

        clock, issued = SystemClock(), {}
        async with transaction(self.sessions) as session:
            users = await self._users(session, {self.seeded.candidates[i][0] for i in indexes})
            for i in indexes:
                user_id, attempt_id, _w = self.seeded.candidates[i]
                issued[i] = await tickets.issue(session, users[user_id], clock, self.lifetime, attempt_id=attempt_id)
        return issued

    async def _proctors(self) -> list[str]:
        from exam_service.core.clock import SystemClock
        from exam_service.core.database import transaction
        from exam_service.proctoring import tickets

        clock = SystemClock()
        async with transaction(self.sessions) as session:
            users = await self._users(session, {user_id for user_id, _w in self.seeded.proctors})
            return [await tickets.issue(session, users[u], clock, self.lifetime) for u, _w in self.seeded.proctors]


def _cached_seed(args: argparse.Namespace, url: str, env: dict[str, str], tmp: Path) -> Seeded:
    """``exam-service demo`` and the seeding, or (SQLite, ``--seed-cache``) a copy of an earlier seeding."""
    schema = hashlib.sha256(b"".join(f.read_bytes() for f in sorted(Path("migrations").rglob("*.py")))).hexdigest()
    key = f"{args.candidates}c-{args.proctors}p-{args.windows}w-{args.sitting_state}-{schema[:10]}"
    cache = Path(args.seed_cache) if args.seed_cache and not args.postgres else None
    files = ("bench.db", "bench.db-wal", "bench.db-shm")
    if cache is not None and (cache / key / "seeded.json").exists():
        meta = json.loads((cache / key / "seeded.json").read_text())
        if time.time() - meta["created"] < 12 * 3600:  # the windows close a day after seeding
            for name in files:
                if (cache / key / name).exists():
                    shutil.copy(cache / key / name, tmp / name)
            print(f"setup: reused the seeded database in {cache / key}", flush=True)
            return Seeded(
                [(uuid.UUID(u), uuid.UUID(a), w) for u, a, w in meta["candidates"]],
                [(uuid.UUID(u), tuple(ws)) for u, ws in meta["proctors"]],
                0.0,
            )
    print(f"setup: exam-service demo on {url.split('://', 1)[0]}", flush=True)
    run_cli(["demo"], env)
    seeded = asyncio.run(_seed(url, args.candidates, args.proctors, args.windows, args.sitting_state))
    if cache is not None:
        (cache / key).mkdir(parents=True, exist_ok=True)
        for name in files:
            if (tmp / name).exists():
                shutil.copy(tmp / name, cache / key / name)
        meta = {
            "created": time.time(),
            "candidates": [(str(u), str(a), w) for u, a, w in seeded.candidates],
            "proctors": [(str(u), list(ws)) for u, ws in seeded.proctors],
        }
        (cache / key / "seeded.json").write_text(json.dumps(meta))
    return seeded


async def _postgres(admin_url: str, action: str, name: str = BENCH_DB) -> str:
    """Creates (or drops) a benchmark's own database ``name`` next to the one named; returns its URL."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(plain)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if action == "create":
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return url.set(database=name).render_as_string(hide_password=False)


# ---- one run: a server, the client processes, the figures ----------------------------------------


class Probe:
    """GET /healthz once a second from a thread: how long the server's event loop takes to answer."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.samples: list[tuple[float, float]] = []  # (monotonic, ms; inf for a failure)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as http:
            while not self.stop.is_set():
                began = time.monotonic()
                try:
                    ok = http.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.samples.append((began, (time.monotonic() - began) * 1000 if ok else math.inf))
                self.stop.wait(max(0.0, 1 - (time.monotonic() - began)))

    def between(self, start: float, end: float) -> list[float]:
        return [ms for t, ms in self.samples if start <= t < end]


@dataclasses.dataclass
class Target:
    name: str
    server: Process
    candidates: list[CandidateSpec]
    proctors: list[ProctorSpec]
    issue: Any = None  # list of candidate indexes -> {index: ticket}, for the service
    gc_log: Path | None = None


def _with_gc_hook(env: dict[str, str], tmp: Path, name: str) -> tuple[dict[str, str], Path]:
    """The server's environment with the GC hook on its path; where its log goes."""
    site = tmp / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(GC_HOOK)
    log = tmp / f"gc-{name}"
    path = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH", "")) if p)
    return {**env, "PYTHONPATH": path, "BENCH_GC_LOG": str(log)}, log


def _gc_pauses(log: Path | None, start: float, phase: tuple[float, float, float]) -> dict[str, list[float]]:
    """Full-collection pauses (ms) of every server process, in the ramp and in the steady phase."""
    pauses: dict[str, list[float]] = {"ramp": [], "steady": []}
    if log is None:
        return pauses
    for file in log.parent.glob(f"{log.name}.*"):
        for line in file.read_text().splitlines():
            at, ms = (float(v) for v in line.split())
            if start <= at < phase[0]:
                pauses["ramp"].append(ms)
            elif phase[0] <= at < phase[1]:
                pauses["steady"].append(ms)
    return pauses


def _split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[k::parts] for k in range(parts)]


def _drive(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """Starts the client processes, hands out tickets, decides the phases, samples the server."""
    context = mp.get_context("spawn")
    shared = Shared(context, args.client_procs)
    ready, results, plan_box = context.Queue(), context.Queue(), context.Queue()
    shares = _split(target.candidates, args.client_procs)
    workers = [
        context.Process(
            target=_client_process,
            args=(plan_box, shared, k, shares[k], target.proctors if k == 0 else [], ready, results),
            daemon=True,
        )
        for k in range(args.client_procs)
    ]
    for worker in workers:
        worker.start()
    client_pids = [ready.get(timeout=120) for _ in workers]
    server_pids = target.server.pids
    n = len(target.candidates)
    proctors_at = time.monotonic() + 1
    candidates_at = proctors_at + args.proctor_lead
    ramp_end = candidates_at + n / args.ramp_rate
    ramp_deadline = ramp_end + args.connect_timeout + args.ramp_grace  # the steady phase starts by then anyway
    plan = Plan(
        proctors_at=proctors_at,
        candidates_at=candidates_at,
        ramp_rate=args.ramp_rate,
        heartbeat=args.heartbeat,
        event_interval=args.event_interval,
        compression=args.compression,
        max_pending=args.max_pending,
        connect_timeout=args.connect_timeout,
        ticket_batch=args.ticket_batch,
    )
    for _ in workers:
        plan_box.put(plan)
    print(
        f"  {target.name}: ramp {n:,} sockets at {args.ramp_rate:g}/s (planned {n / args.ramp_rate:.0f} s, "
        f"at most {ramp_deadline - proctors_at:.0f} s), then {args.settle:g} s settle, {args.duration:g} s steady",
        flush=True,
    )
    samples: list[dict[str, float]] = []
    marks: dict[str, dict[str, float]] = {}
    collected: list[dict[str, Any]] = []
    phase: tuple[float, float, float] | None = None
    tickets_issued, ticket_seconds = 0, 0.0
    last_sample = last_print = 0.0
    printed = {"t": time.monotonic(), "server_cpu": _cpu_seconds(server_pids), "client_cpu": _cpu_seconds(client_pids)}
    probe = Probe(target.server.base)
    probe.thread.start()
    hard_deadline = ramp_deadline + args.settle + args.duration + args.drain + 240
    while len(collected) < len(workers) and time.monotonic() < hard_deadline:
        with contextlib.suppress(queue.Empty):
            worker_id, wanted = shared.requests.get(timeout=0.05)
            began = time.monotonic()
            shared.replies[worker_id].put(target.issue(wanted))
            tickets_issued += len(wanted)
            ticket_seconds += time.monotonic() - began
        stamp = time.monotonic()
        if phase is None and (shared.connected.value + shared.failed.value >= n or stamp >= ramp_deadline):
            steady_start = stamp + args.settle
            phase = (steady_start, steady_start + args.duration, steady_start + args.duration + args.drain)
            shared.phase[:] = list(phase)
            if samples:
                marks["ramp_done"] = samples[-1]
        if stamp - last_sample >= 0.5:
            last_sample = stamp
            busy, total = _machine_busy()
            sample = {
                "t": stamp,
                "rss": _rss_mib(server_pids),
                "server_cpu": _cpu_seconds(server_pids),
                "client_cpu": _cpu_seconds(client_pids),
                "client_rss": _rss_mib(client_pids),
                "busy": busy,
                "total": total,
            }
            samples.append(sample)
            wanted_marks = {"start": proctors_at - 0.5}
            if phase is not None:
                wanted_marks.update({"steady_start": phase[0], "steady_end": phase[1]})
            for name, at in wanted_marks.items():
                if name not in marks and stamp >= at:
                    marks[name] = sample
            if stamp - last_print >= 15 and (phase is None or stamp < phase[2]):
                label = "ramp" if phase is None else "settle" if stamp < phase[0] else "steady"
                if phase is not None and stamp >= phase[1]:
                    label = "drain"
                span = max(1e-9, stamp - printed["t"])
                lag = probe.between(last_print, stamp)
                print(
                    f"    t={stamp - proctors_at:4.0f}s {label:6s} up {shared.connected.value:6,} "
                    f"failed {shared.failed.value:4,} closed {shared.closed.value:5,} acked {shared.acked.value:6,}"
                    f" | CPU server {100 * (sample['server_cpu'] - printed['server_cpu']) / span:3.0f}% "
                    f"client {100 * (sample['client_cpu'] - printed['client_cpu']) / span:3.0f}%"
                    f" | /healthz max {max(lag, default=math.nan):7.0f} ms"
                    f" | RSS server {sample['rss']:5.0f} client {sample['client_rss']:5.0f} MiB",
                    flush=True,
                )
                last_print = stamp
                printed = sample
        with contextlib.suppress(queue.Empty):
            collected.append(results.get_nowait())
    probe.stop.set()
    probe.thread.join(35)
    for worker in workers:
        worker.join(10)
        if worker.is_alive():
            worker.kill()
    errors = [c["error"] for c in collected if "error" in c]
    if errors or len(collected) < len(workers) or phase is None:
        raise RuntimeError(f"a client process failed: {errors or 'no result in time'}")
    marks.setdefault("steady_start", samples[-1])
    marks.setdefault("steady_end", samples[-1])
    result = _merge(collected, plan, phase, marks, samples, target)
    result["tickets"] = (tickets_issued, ticket_seconds)
    result["gc"] = _gc_pauses(target.gc_log, proctors_at, phase)
    result["healthz_ramp"] = probe.between(proctors_at, phase[0])
    result["healthz_steady"] = probe.between(phase[0], phase[1])
    return result


def _close_when(log: list[tuple[float, float]], phase: tuple[float, float, float]) -> str:
    """When the server closed candidate sockets, and whether they had an event waiting for its ack."""
    if not log:
        return "none"
    times = sorted(t for t, _age in log)

    def at(t: float) -> str:
        return f"{t - phase[0]:+.0f}"

    waiting = [age for _t, age in log if age >= 0]
    text = f"{len(log)} at {at(times[0])}..{at(times[-1])} s from the steady start (median {at(_pct(times, 0.5))})"
    if waiting:
        text += f"; {len(waiting)} had an unacked event, oldest median {_pct(waiting, 0.5):.0f} s"
    return text


def _pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _merge(
    parts: list[dict[str, Any]],
    plan: Plan,
    phase: tuple[float, float, float],
    marks: dict[str, dict[str, float]],
    samples: list[dict[str, float]],
    target: Target,
) -> dict[str, Any]:
    sent: dict[tuple[str, int], float] = {}
    acked: dict[tuple[str, int], int] = {}
    deliveries: list[tuple[str, int, float, int]] = []
    counters = {k: Counter[str]() for k in ("failed", "closes", "error_frames", "to_candidates", "proctor_other")}
    totals = Counter[str]()
    lists: dict[str, list[float]] = {
        "connect_ms": [],
        "ack_ms": [],
        "connected_at": [],
        "proctors_up": [],
        "proctor_ms": [],
    }
    for part in parts:
        sent.update(part["sent"])
        acked.update(part["acked"])
        deliveries.extend(part["deliveries"])
        for key, counter in counters.items():
            counter.update(part[key])
        for key in lists:
            lists[key].extend(part[key])
        for key in ("connected", "proctors_connected", "events_sent", "heartbeats_sent", "presence_frames", "unclosed"):
            totals[key] += part[key]
    close_seconds = max(part["close_seconds"] for part in parts)
    close_log = [entry for part in parts for entry in part["close_log"]]
    watchers: Counter[int] = Counter()
    for proctor in target.proctors:
        if proctor.index in lists["proctors_up"]:  # one that failed to connect is owed nothing
            for w in proctor.windows:
                watchers[w] += 1
    # stored: acknowledged, or seen by a proctor (stored, but its ack never reached a closed socket)
    window_of = {c.attempt_id: c.window for c in target.candidates}
    stored = set(acked) | {(a, s) for a, s, _r, _p in deliveries}
    expected = sum(watchers[window_of[a]] for a, _s in stored)
    latency = [(received - sent[(a, s)]) * 1000 for a, s, received, _p in deliveries if (a, s) in sent]
    seen = Counter((a, s, p) for a, s, _r, p in deliveries)
    steady = phase[1] - phase[0]
    connected_by_steady = sum(1 for t in lists["connected_at"] if t <= phase[0])
    first_connect = min(lists["connected_at"], default=plan.candidates_at)
    last_connect = max(lists["connected_at"], default=plan.candidates_at)
    start, s0, s1 = marks["start"], marks["steady_start"], marks["steady_end"]
    ramp = marks.get("ramp_done", s0)
    ramp_cpu = ramp["server_cpu"] - start["server_cpu"]
    window_sec = max(1e-9, s1["t"] - s0["t"])
    return {
        "candidates": len(target.candidates),
        "proctors": len(target.proctors),
        "connected": totals["connected"],
        "proctors_connected": totals["proctors_connected"],
        "failed": counters["failed"],
        "connected_by_steady": connected_by_steady,
        "ramp_rate": totals["connected"] / max(1e-9, last_connect - plan.candidates_at) if totals["connected"] else 0.0,
        "ramp_seconds": last_connect - first_connect,
        "connect_ms": lists["connect_ms"],
        "events_sent": totals["events_sent"],
        "events_acked": len(acked),
        "events_stored": len(stored),
        "proctor_ms": lists["proctor_ms"],
        "heartbeats_sent": totals["heartbeats_sent"],
        "deliveries": len(latency),
        "duplicates": sum(v - 1 for v in seen.values()),
        "expected": expected,
        "events_per_second": len(acked) / steady,
        "deliveries_per_second": len(latency) / steady,
        "latency": latency,
        "ack_ms": lists["ack_ms"],
        "closes": counters["closes"],
        "error_frames": counters["error_frames"],
        "to_candidates": counters["to_candidates"],
        "proctor_other": counters["proctor_other"],
        "presence_frames": totals["presence_frames"],
        "rss_start": start["rss"],
        "rss_steady": s0["rss"],
        "rss_end": s1["rss"],
        "rss_peak": max(s["rss"] for s in samples),
        "client_rss": s0["client_rss"],
        "ramp_cpu": ramp_cpu,
        "server_cpu_pct": 100 * (s1["server_cpu"] - s0["server_cpu"]) / window_sec,
        "client_cpu_pct": 100 * (s1["client_cpu"] - s0["client_cpu"]) / window_sec,
        "client_ramp_cpu": ramp["client_cpu"] - start["client_cpu"],
        "cpu_per_event": 1000 * (s1["server_cpu"] - s0["server_cpu"]) / max(1, len(stored)),
        "machine_pct": 100 * (s1["busy"] - s0["busy"]) / max(1e-9, s1["total"] - s0["total"]),
        # CPU used by everything else on the machine (other jobs), in % of one core
        "other_pct": 100
        * ((s1["busy"] - s0["busy"]) - (s1["server_cpu"] - s0["server_cpu"]) - (s1["client_cpu"] - s0["client_cpu"]))
        / window_sec,
        "close_seconds": close_seconds,
        "close_when": _close_when(close_log, phase),
        "unclosed": totals["unclosed"],
        "server_cpu_close": samples[-1]["server_cpu"] - s1["server_cpu"],
    }


# ---- the table ------------------------------------------------------------------------------------


def _fmt(value: float, digits: int = 0) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"


def _pauses(values: list[float]) -> str:
    if not values:
        return "none"
    return f"{len(values)}, max {max(values):,.0f} ms, total {sum(values) / 1000:.1f} s"


def _spread(values: list[float]) -> str:
    failed = sum(1 for v in values if v == math.inf)
    ok = [v for v in values if v != math.inf]
    text = f"{_fmt(_pct(ok, 0.5), 1)} / {_fmt(_pct(ok, 0.99), 1)} / {_fmt(max(ok, default=math.nan), 1)}"
    return text + (f" ({failed} failed)" if failed else "")


def _counter(counter: Counter[str]) -> str:
    return ", ".join(f"{k} x{v}" for k, v in counter.most_common()) or "none"


def _rows(r: dict[str, Any]) -> list[tuple[str, str, float | None]]:
    """(label, text, number for the ratio column)."""
    sockets = max(1, r["connected"] + r["proctors_connected"])
    per_socket = (r["rss_steady"] - r["rss_start"]) * 1024 / sockets
    lat, ack, con = r["latency"], r["ack_ms"], r["connect_ms"]
    return [
        ("candidate sockets connected", f"{r['connected']:,} / {r['candidates']:,}", r["connected"]),
        ("  of which by the steady phase", f"{r['connected_by_steady']:,}", r["connected_by_steady"]),
        ("proctor sockets connected", f"{r['proctors_connected']} / {r['proctors']}", r["proctors_connected"]),
        (
            "proctor connect+snapshot ms p50 / max",
            f"{_fmt(_pct(r['proctor_ms'], 0.5), 1)} / {_fmt(max(r['proctor_ms'], default=math.nan), 1)}",
            max(r["proctor_ms"], default=math.nan),
        ),
        ("sockets failed", f"{sum(r['failed'].values()):,} ({_counter(r['failed'])})", None),
        ("connect rate achieved (/s)", _fmt(r["ramp_rate"], 1), r["ramp_rate"]),
        ("ramp: first to last connect (s)", _fmt(r["ramp_seconds"], 1), r["ramp_seconds"]),
        ("connect+welcome ms p50 / p99", f"{_fmt(_pct(con, 0.5), 1)} / {_fmt(_pct(con, 0.99), 1)}", _pct(con, 0.99)),
        ("heartbeats sent", f"{r['heartbeats_sent']:,}", r["heartbeats_sent"]),
        ("events sent", f"{r['events_sent']:,}", r["events_sent"]),
        ("events acknowledged", f"{r['events_acked']:,}", r["events_acked"]),
        ("events stored (acked or seen by a proctor)", f"{r['events_stored']:,}", r["events_stored"]),
        (
            "events received by proctors",
            f"{r['deliveries']:,} of {r['expected']:,} owed for the stored (dup {r['duplicates']})",
            r["deliveries"],
        ),
        ("events acknowledged per second", _fmt(r["events_per_second"], 1), r["events_per_second"]),
        ("proctor deliveries per second", _fmt(r["deliveries_per_second"], 1), r["deliveries_per_second"]),
        ("event->proctor ms p50", _fmt(_pct(lat, 0.5), 1), _pct(lat, 0.5)),
        ("event->proctor ms p95", _fmt(_pct(lat, 0.95), 1), _pct(lat, 0.95)),
        ("event->proctor ms p99", _fmt(_pct(lat, 0.99), 1), _pct(lat, 0.99)),
        ("event->proctor ms max", _fmt(max(lat, default=math.nan), 1), max(lat, default=math.nan)),
        ("ack ms p50", _fmt(_pct(ack, 0.5), 1), _pct(ack, 0.5)),
        ("ack ms p99", _fmt(_pct(ack, 0.99), 1), _pct(ack, 0.99)),
        (
            "GET /healthz ms p50/p99/max, ramp",
            _spread(r["healthz_ramp"]),
            _pct([v for v in r["healthz_ramp"] if v != math.inf], 0.99),
        ),
        (
            "GET /healthz ms p50/p99/max, steady",
            _spread(r["healthz_steady"]),
            _pct([v for v in r["healthz_steady"] if v != math.inf], 0.99),
        ),
        ("close codes seen (by the server)", _counter(r["closes"]), None),
        ("  when", r["close_when"], None),
        ("server full-GC pauses, ramp", _pauses(r["gc"]["ramp"]), sum(r["gc"]["ramp"])),
        ("server full-GC pauses, steady", _pauses(r["gc"]["steady"]), sum(r["gc"]["steady"])),
        ("error frames", _counter(r["error_frames"]), None),
        ("other frames to proctors", _counter(r["proctor_other"]) + f"; presence x{r['presence_frames']}", None),
        ("frames to candidates", _counter(r["to_candidates"]), None),
        ("server RSS MiB at start", _fmt(r["rss_start"]), r["rss_start"]),
        ("server RSS MiB all connected", _fmt(r["rss_steady"]), r["rss_steady"]),
        ("server RSS MiB at end / peak", f"{_fmt(r['rss_end'])} / {_fmt(r['rss_peak'])}", r["rss_end"]),
        ("server KiB per socket", _fmt(per_socket, 1), per_socket),
        (
            "server CPU s in ramp (ms/socket)",
            f"{_fmt(r['ramp_cpu'], 1)} ({_fmt(1000 * r['ramp_cpu'] / sockets, 2)})",
            r["ramp_cpu"],
        ),
        ("server CPU % of a core, steady", _fmt(r["server_cpu_pct"], 1), r["server_cpu_pct"]),
        ("steady server CPU ms / stored event", _fmt(r["cpu_per_event"], 2), r["cpu_per_event"]),
        ("client CPU % of a core, steady", _fmt(r["client_cpu_pct"], 1), r["client_cpu_pct"]),
        ("client CPU s in ramp", _fmt(r["client_ramp_cpu"], 1), r["client_ramp_cpu"]),
        ("client RSS MiB", _fmt(r["client_rss"]), r["client_rss"]),
        ("machine CPU busy % (all cores), steady", _fmt(r["machine_pct"], 1), r["machine_pct"]),
        ("other processes CPU % of a core, steady", _fmt(r["other_pct"], 1), r["other_pct"]),
        (
            "closing all sockets s (server CPU s)",
            f"{_fmt(r['close_seconds'], 1)} ({_fmt(r['server_cpu_close'], 1)})"
            + (f", {r['unclosed']} unclosed" if r["unclosed"] else ""),
            r["close_seconds"],
        ),
    ]


def print_table(title: str, service: dict[str, Any], relay: dict[str, Any] | None) -> None:
    left = _rows(service)
    right = _rows(relay) if relay else None
    width = max(len(label) for label, _t, _v in left)
    col = max(24, *(len(t) for _l, t, _v in left))
    print()
    print(title)
    header = f"{'':{width}}  {'service':<{col}}"
    if right:
        rcol = max(16, *(len(t) for _l, t, _v in right))
        header += f"  {'bare relay':<{rcol}}  service/relay"
    print(header)
    print("-" * len(header))
    for i, (label, text, value) in enumerate(left):
        line = f"{label:<{width}}  {text:<{col}}"
        if right:
            _l, rtext, rvalue = right[i]
            ratio = ""
            if value is not None and rvalue and not math.isnan(rvalue) and not math.isnan(value):
                ratio = f"{value / rvalue:.2f}"
            line += f"  {rtext:<{rcol}}  {ratio}"
        print(line.rstrip())


# ---- main -----------------------------------------------------------------------------------------


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="500 candidates, 4 proctors, 2 windows, 30 s")
    parser.add_argument("--candidates", type=int, help="candidate sockets (default 10000)")
    parser.add_argument("--proctors", type=int, help="proctor sockets (default 20)")
    parser.add_argument("--windows", type=int, help="proctored windows the candidates are spread over (default 4)")
    parser.add_argument("--duration", type=float, help="measured seconds of steady load (default 120)")
    parser.add_argument("--ramp-rate", type=float, help="new candidate connections per second (default 200)")
    parser.add_argument("--heartbeat", type=float, default=10.0, help="seconds between a candidate's heartbeats")
    parser.add_argument("--event-interval", type=float, default=60.0, help="mean seconds between a candidate's events")
    parser.add_argument(
        "--sitting-state",
        choices=STATES,
        default="checked_in",
        help="where the seeded attempts are left (in_progress costs ~4x the setup time: a form per candidate)",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of the service")
    parser.add_argument(
        "--redis", nargs="?", const="redis://127.0.0.1:6379", help="use Redis as the broker (default URL if bare)"
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        help=f"PostgreSQL server to create a fresh {BENCH_DB!r} database on (default URL if bare)",
    )
    parser.add_argument("--client-procs", type=int, default=1, help="client processes (proctors ride in the first)")
    parser.add_argument(
        "--compression",
        choices=("browser", "small", "none"),
        default="browser",
        help="permessage-deflate offer: as Chrome (default), websockets' small windows, or none",
    )
    parser.add_argument("--no-relay", action="store_true", help="skip the bare relay run")
    parser.add_argument("--relay-only", action="store_true", help="only the bare relay run (no database)")
    parser.add_argument("--proctor-lead", type=float, default=3.0, help="seconds proctors connect before candidates")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds after the last connection before measuring")
    parser.add_argument("--drain", type=float, default=5.0, help="seconds after the last event before closing")
    parser.add_argument("--max-pending", type=int, default=200, help="handshakes in flight at most")
    parser.add_argument("--connect-timeout", type=float, default=60.0, help="seconds for handshake and welcome")
    parser.add_argument(
        "--ramp-grace", type=float, default=240.0, help="extra seconds the ramp may take beyond its plan"
    )
    parser.add_argument("--setup-only", action="store_true", help="seed --seed-cache and stop")
    parser.add_argument("--log-dir", metavar="DIR", help="keep the servers' logs here")
    parser.add_argument("--server-log-level", default="WARNING", help="EXAM_LOG_LEVEL of the service")
    parser.add_argument("--ticket-batch", type=int, default=200, help="tickets issued per database transaction")
    parser.add_argument("--seed-cache", metavar="DIR", help="SQLite: keep the seeded database here and reuse it")
    parser.add_argument("--serve-relay", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = {"candidates": 500, "proctors": 4, "windows": 2, "duration": 30.0, "ramp_rate": 100.0}
    full = {"candidates": 10_000, "proctors": 20, "windows": 4, "duration": 120.0, "ramp_rate": 200.0}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.candidates < 1 or args.proctors < 1 or args.windows < 1 or args.client_procs < 1:
        parser.error("--candidates, --proctors, --windows and --client-procs must be at least 1")
    if args.duration <= 0 or args.duration > 1800 or args.ramp_rate <= 0:
        parser.error("--duration must be in (0, 1800] and --ramp-rate positive")
    return args


def _service_env(args: argparse.Namespace, tmp: Path, url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "EXAM_ENVIRONMENT": "development",
        "EXAM_DATABASE_URL": url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        "EXAM_LOG_LEVEL": args.server_log_level,
        "EXAM_LOG_JSON": "false",
        "EXAM_CHANNEL_TICKET_SECONDS": "300",  # the largest allowed; tickets are issued just in time anyway
        "EXAM_SNAPSHOT_DIR": str(tmp / "snapshots"),
    }
    env.pop("EXAM_REDIS_URL", None)
    if args.redis:
        env["EXAM_REDIS_URL"] = args.redis
    return env


def _service_run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    if args.postgres:
        url = asyncio.run(_postgres(args.postgres, "create"))
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    env = _service_env(args, tmp, url)
    try:
        seeded = _cached_seed(args, url, env, tmp)
        print(
            f"setup: {len(seeded.candidates):,} {args.sitting_state} sittings in {args.windows} windows, "
            f"{len(seeded.proctors)} proctors ({seeded.seconds:.0f} s)",
            flush=True,
        )
        port = free_port()
        command = [*EXE, "serve", "--port", str(port), "--workers", str(args.workers)]
        env, gc_log = _with_gc_hook(env, tmp, "service")
        with Process(command, env, port, tmp / "service.log") as server:
            issuer = Issuer(url, seeded, lifetime=300)
            try:
                ws = f"ws://127.0.0.1:{port}"
                candidates = [
                    CandidateSpec(i, f"{ws}/ws/candidate?ticket=", str(attempt), w)
                    for i, (_u, attempt, w) in enumerate(seeded.candidates)
                ]
                proctors = [
                    ProctorSpec(j, f"{ws}/ws/proctor?ticket={t}", windows)
                    for j, (t, (_u, windows)) in enumerate(zip(issuer.proctors(), seeded.proctors, strict=True))
                ]
                target = Target("service", server, candidates, proctors, issuer.candidates, gc_log)
                result = _drive(target, args)
            finally:
                issuer.close()
        log = (tmp / "service.log").read_text(errors="replace").splitlines()
        result["log_errors"] = [line for line in log if "ERROR" in line or "Traceback" in line]
        result["url"] = url
        return result
    finally:
        if args.postgres:
            with contextlib.suppress(Exception):
                asyncio.run(_postgres(args.postgres, "drop"))


def _relay_run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.proctoring", "--serve-relay", str(port)]
    covers = _assignments(args.proctors, args.windows)
    ws = f"ws://127.0.0.1:{port}"
    attempts = [str(uuid.uuid4()) for _ in range(args.candidates)]
    candidates = [
        CandidateSpec(i, f"{ws}/ws/candidate?attempt={a}&window={i % args.windows}", a, i % args.windows)
        for i, a in enumerate(attempts)
    ]
    proctors = [
        ProctorSpec(j, f"{ws}/ws/proctor?windows={','.join(map(str, cover))}", cover) for j, cover in enumerate(covers)
    ]
    env, gc_log = _with_gc_hook(dict(os.environ), tmp, "relay")
    with Process(command, env, port, tmp / "relay.log") as server:
        return _drive(Target("bare relay", server, candidates, proctors, gc_log=gc_log), args)


def _code_version() -> str:
    """The commit the server runs, and whether exam_service/ differs from it (read-only git)."""
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        head = subprocess.run([git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        # --no-optional-locks: status must not even refresh the index
        status = [git, "--no-optional-locks", "status", "--porcelain", "--", "exam_service"]
        dirty = subprocess.run(status, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    changed = len(dirty.stdout.splitlines())
    return head.stdout.strip() + (f" + {changed} uncommitted file(s) in exam_service/" if changed else "")


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    if args.serve_relay:
        serve_relay(args.serve_relay)
        return
    _raise_nofile()  # the server subprocesses and the client processes inherit it
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.candidates // (1 if args.workers == 1 else 2) + args.proctors + 200
    if soft < need:
        raise SystemExit(f"RLIMIT_NOFILE is {soft}; {need} descriptors are needed per process")
    backend = "PostgreSQL" if args.postgres else "SQLite"
    broker = "Redis" if args.redis else "in-process broker"
    server = "bare relay only" if args.relay_only else f"{backend}, {broker}, {args.workers} worker(s)"
    title = (
        f"proctoring: {server}; {args.candidates:,} candidates "
        f"({args.sitting_state}) in {args.windows} windows, {args.proctors} proctors; heartbeat "
        f"{args.heartbeat:g} s, 1 event / {args.event_interval:g} s; steady {args.duration:g} s; "
        f"ramp {args.ramp_rate:g}/s; {args.client_procs} client process(es), compression {args.compression}; "
        f"{os.cpu_count()} CPUs; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code {_code_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="proctoring-bench-") as name:
        tmp = Path(name)
        if args.setup_only:
            if not args.seed_cache or args.postgres:
                raise SystemExit("--setup-only fills --seed-cache (SQLite)")
            _cached_seed(args, f"sqlite+aiosqlite:///{tmp / 'bench.db'}", _service_env(args, tmp, ""), tmp)
            return
        try:
            service = None if args.relay_only else _service_run(args, tmp)
            relay = None if args.no_relay else _relay_run(args, tmp)
        finally:
            if args.log_dir:
                Path(args.log_dir).mkdir(parents=True, exist_ok=True)
                for log in tmp.glob("*.log"):
                    shutil.copy(log, Path(args.log_dir) / log.name)
    print_table(title, service or relay, relay if service else None)  # type: ignore[arg-type]
    if service:
        issued, seconds = service["tickets"]
        print(f"\ntickets issued during the ramp: {issued:,} in {seconds:.1f} s of the driver's time")
    if service and service["log_errors"]:
        print(f"\nserver log: {len(service['log_errors'])} error line(s), first: {service['log_errors'][0][:300]}")


if __name__ == "__main__":
    main()
