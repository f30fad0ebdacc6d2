"""Crash proof: nothing acknowledged is lost when the server dies.

    .venv/bin/python -m benchmarks.crash                          # SQLite (1 worker), then PostgreSQL + Redis (2)
    .venv/bin/python -m benchmarks.crash --only sqlite --candidates 30 --kills 5
    .venv/bin/python -m benchmarks.crash --only postgres --seed 7

For each database: a fresh database (``exam-service demo``), candidates with started, proctored
sittings written through the service layer in this process, a bearer token per candidate minted
as sign-in does (the server gets the same token secret), each form read once over HTTP. Then
``exam-service serve`` runs as its own process group while every candidate autosaves answers
with rising revisions, sends proctoring events with rising ``client_seq`` over its WebSocket and
now and then reloads its form. At random moments the whole group (uvicorn's master and every
worker) is killed with SIGKILL and started again on the same database; the clients reconnect
(new channel tickets; tokens stay valid) and send again whatever was not acknowledged, with the
same revision or ``client_seq``, as the exam page does.

A write counts only once the server acknowledged it: a save answered 200 with ``applied`` true
(or, on a retry, ``applied`` false at the same stored revision: the first try had been stored),
an event answered by its ``ack``. After the last restart the load stops, the server stops
cleanly, and the database itself is read: every acknowledged save must be there (the stored
revision at least the acknowledged one, the same value when equal), every acknowledged event
must be in the sitting's log exactly once, and every sitting's hash chain must hold. The exit
status is 1 if anything was lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from benchmarks.autosave import _value
from benchmarks.proctoring import Issuer, Seeded, _postgres, _seed
from benchmarks.server import EXE, free_port, run_cli

TOKEN_SECRET = "crash-proof-token-secret-7f3a9c2e51d84b6a0e9d"  # the server gets it too (EXAM_TOKEN_SECRET)
CRASH_DB = "exam_crash_bench"
KILL_AFTER = (1.5, 6.0)  # seconds of load before each kill, drawn uniformly
TAIL = 5.0  # seconds of load after the last restart
DRAIN = 20.0  # then at most this long for unacknowledged writes to be answered
EVENT_KINDS = ("window_blur", "window_focus")
HEARTBEAT = 10.0
READY_SECONDS = 120


# ---- the server as one process group ----------------------------------------------------------------


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies do not count)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


class ServerGroup:
    """``exam-service serve`` in a session of its own, so one ``killpg`` reaches the master and its workers."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.env, self.workers, self.log = env, workers, log
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n---- start {self.starts} ----\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                [*EXE, "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_SECONDS
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    tail = self.log.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"the server exited with {self.process.returncode}: {tail}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.base}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the server was not ready within {READY_SECONDS} s")

    def kill(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    async def gone(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 30
        while self.process.poll() is None or _group_alive(self.process.pid):
            if time.monotonic() > deadline:
                raise RuntimeError("the server's processes did not end")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """A clean stop (SIGTERM to the master, which stops its workers); SIGKILL after 30 s."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            for _ in range(300):
                if self.process.poll() is not None:
                    break
                await asyncio.sleep(0.1)
        self.kill()
        await self.gone()

    def abandon(self) -> None:
        """However the run ends, nothing of the group is left behind."""
        if self.process is not None:
            self.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)


# ---- setup ------------------------------------------------------------------------------------------


class TabIssuer(Issuer):
    """Channel tickets carrying each candidate's tab id, as the page's ``X-Client-Session`` header does.

    The server recognises a resent ``client_seq`` per tab, so a reconnecting page must ask for
    its tickets with the same tab id.
    """

    def __init__(self, url: str, seeded: Seeded, tabs: list[str]) -> None:
        super().__init__(url, seeded, lifetime=300)
        self.tabs = tabs

    async def _candidates(self, indexes: list[int]) -> dict[int, str]:
        from exam_service.core.clock import SystemClock
        from exam_service.core.database import transaction
        from exam_service.proctoring import tickets

        clock, issued = SystemClock(), {}
        async with transaction(self.sessions) as session:
            users = await self._users(session, {self.seeded.candidates[i][0] for i in indexes})
            for i in indexes:
                user_id, attempt_id, _w = self.seeded.candidates[i]
                issued[i] = await tickets.issue(
                    session, users[user_id], clock, self.lifetime, attempt_id=attempt_id, client_session=self.tabs[i]
                )
        return issued


async def _mint_tokens(url: str, seeded: Seeded) -> list[str]:
    """An access token per candidate, from a sign-in session opened as ``POST /auth/token`` opens it."""
    from pydantic import SecretStr
    from sqlalchemy import select

    from exam_service.core.clock import SystemClock
    from exam_service.core.database import create_engine, create_sessionmaker, transaction
    from exam_service.core.settings import Settings
    from exam_service.core.tokens import TokenCodec
    from exam_service.identity.service import open_session
    from exam_service.models import User

    settings = Settings(database_url=url, token_secret=SecretStr(TOKEN_SECRET), access_token_minutes=120)
    codec, clock = TokenCodec.from_settings(settings), SystemClock()
    engine = create_engine(url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            ids = {user_id for user_id, _a, _w in seeded.candidates}
            users = {u.id: u for u in (await session.execute(select(User).where(User.id.in_(ids)))).scalars()}
            issued = []
            for user_id, _a, _w in seeded.candidates:
                tokens = await open_session(session, users[user_id], codec=codec, clock=clock, settings=settings)
                issued.append(tokens.access_token)
            return issued
    finally:
        await engine.dispose()


# ---- what the clients saw ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SaveAck:
    attempt_id: str
    position: int
    revision: int
    value: Any
    at: float  # seconds into the load
    kills_before: int
    how: str  # "applied" or "confirmed by a retry"


@dataclasses.dataclass(frozen=True)
class EventAck:
    attempt_id: str
    client_seq: int
    seq: int
    at: float
    kills_before: int
    sends: int
    first_sent_after: int  # kills before its first send


@dataclasses.dataclass
class Stats:
    began: float = dataclasses.field(default_factory=time.monotonic)
    kills: int = 0
    saves: list[SaveAck] = dataclasses.field(default_factory=list)
    saves_sent: int = 0
    saves_retried: int = 0
    saves_superseded: int = 0  # applied false below the stored revision (not expected: one writer per sitting)
    saves_refused: Counter[str] = dataclasses.field(default_factory=Counter)
    saves_unanswered: int = 0  # still unanswered when the drain ended
    saves_in_flight: int = 0
    events: dict[tuple[str, int], EventAck] = dataclasses.field(default_factory=dict)
    events_sent: int = 0
    events_retried: int = 0
    events_refused: Counter[str] = dataclasses.field(default_factory=Counter)
    events_unacked: int = 0
    ack_seq_changed: list[str] = dataclasses.field(default_factory=list)  # a repeated ack naming another seq
    reloads: int = 0
    stale_reloads: list[str] = dataclasses.field(default_factory=list)
    connects: int = 0
    connect_failures: Counter[str] = dataclasses.field(default_factory=Counter)
    drops: Counter[str] = dataclasses.field(default_factory=Counter)  # open sockets that ended, by close code
    kill_wall: list[float] = dataclasses.field(default_factory=list)  # time.time() of each kill
    save_ms: list[float] = dataclasses.field(default_factory=list)  # request to its 200
    event_ms: list[float] = dataclasses.field(default_factory=list)  # latest send to its ack
    kill_log: list[tuple[float, int, int, float]] = dataclasses.field(default_factory=list)  # at, saves, events, down

    def now(self) -> float:
        return time.monotonic() - self.began


def _reason(exc: BaseException) -> str:
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    if isinstance(exc, InvalidStatus):
        return f"http {exc.response.status_code}"
    if isinstance(exc, ConnectionClosed):
        return f"closed {exc.rcvd.code if exc.rcvd else 1006}"
    return type(exc).__name__


class Stop:
    """The end of the load: no new writes once ``event`` is set; unanswered ones are given up at ``deadline``."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.deadline = float("inf")

    def set(self, drain: float) -> None:
        self.deadline = time.monotonic() + drain
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()

    def drained(self) -> bool:
        return time.monotonic() > self.deadline


class Tickets:
    """Channel tickets for reconnecting tabs, issued together a batch at a time (one transaction)."""

    def __init__(self, issuer: TabIssuer) -> None:
        self.issuer = issuer
        self.waiting: list[tuple[int, asyncio.Future[str]]] = []
        self.wake = asyncio.Event()

    async def get(self, index: int) -> str:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.waiting.append((index, future))
        self.wake.set()
        return await future

    async def run(self) -> None:
        while True:
            await self.wake.wait()
            await asyncio.sleep(0.05)  # lets the tabs that lost their socket together share a batch
            self.wake.clear()
            batch, self.waiting = self.waiting, []
            try:
                issued = await asyncio.to_thread(self.issuer.candidates, sorted({i for i, _f in batch}))
            except Exception as exc:
                for _i, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for i, future in batch:
                if not future.done():
                    future.set_result(issued[i])


class Tab:
    """One candidate's exam page: autosave over HTTP, an outbox of events over the candidate channel."""

    def __init__(
        self,
        index: int,
        attempt_id: str,
        tab: str,
        token: str,
        items: list[tuple[int, dict[str, Any]]],
        rng: random.Random,
    ) -> None:
        self.index, self.attempt_id, self.items, self.rng = index, attempt_id, items, rng
        self.headers = {"Authorization": f"Bearer {token}", "X-Client-Session": tab}
        self.revisions = {position: 0 for position, _item in items}
        self.acked_revision = {position: 0 for position, _item in items}
        self.client_seq = 0
        self.outbox: dict[int, str] = {}  # client_seq -> frame, until its ack
        self.sends: Counter[int] = Counter()
        self.sent_at: dict[int, float] = {}  # client_seq -> its latest send
        self.first_sent: dict[int, int] = {}  # client_seq -> kills before its first send
        self.last_seq = 0
        self.ws: Any = None
        self.done = False

    def unacked_sent(self) -> int:
        return sum(1 for client_seq in self.outbox if self.sends[client_seq])

    # ---- autosave --------------------------------------------------------------------------------

    async def saves(self, http: httpx.AsyncClient, st: Stats, interval: float, stopping: Stop) -> None:
        while not stopping.is_set():
            await asyncio.sleep(self.rng.uniform(0, 2 * interval))
            if stopping.is_set():
                return
            if self.rng.random() < 0.1:
                await self._reload(http, st)
            position, item = self.rng.choice(self.items)
            self.revisions[position] += 1
            revision = self.revisions[position]
            await self._save(http, st, position, revision, _value(item, revision), stopping)

    async def _save(
        self, http: httpx.AsyncClient, st: Stats, position: int, revision: int, value: Any, stopping: Stop
    ) -> None:
        """Sends one save until the server answers it, as the page's autosave does (same revision)."""
        url = f"/api/v1/attempts/{self.attempt_id}/responses/{position}"
        tries, pause = 0, 0.2
        while True:
            tries += 1
            st.saves_sent += 1
            st.saves_in_flight += 1
            sent = time.monotonic()
            try:
                response = await http.put(url, headers=self.headers, json={"revision": revision, "value": value})
            except httpx.TransportError:
                response = None
            finally:
                st.saves_in_flight -= 1
            if response is not None and response.status_code == 200:
                body = response.json()
                st.save_ms.append((time.monotonic() - sent) * 1000)
                if body["applied"] or body["stored_revision"] == revision:
                    how = "applied" if body["applied"] else "confirmed by a retry"
                    st.saves.append(SaveAck(self.attempt_id, position, revision, value, st.now(), st.kills, how))
                    self.acked_revision[position] = max(self.acked_revision[position], revision)
                else:
                    st.saves_superseded += 1
                break
            if response is not None and response.status_code < 500:
                st.saves_refused[f"{response.status_code} {response.text[:80]}"] += 1
                break
            if stopping.drained():
                st.saves_unanswered += 1
                break
            await asyncio.sleep(pause * self.rng.uniform(0.5, 1.5))
            pause = min(2.0, pause * 2)
        if tries > 1:
            st.saves_retried += 1

    async def _reload(self, http: httpx.AsyncClient, st: Stats) -> None:
        """Reads the form again; it must hold every revision this page has had acknowledged."""
        try:
            response = await http.get(f"/api/v1/attempts/{self.attempt_id}/form", headers=self.headers)
        except httpx.TransportError:
            return
        if response.status_code != 200:
            return
        st.reloads += 1
        for entry in response.json()["items"]:
            acked = self.acked_revision.get(entry["position"], 0)
            if entry["revision"] < acked:
                st.stale_reloads.append(
                    f"attempt {self.attempt_id} position {entry['position']}: the form showed revision "
                    f"{entry['revision']} at +{st.now():.1f} s, revision {acked} had been acknowledged"
                )

    # ---- the candidate channel ----------------------------------------------------------------------

    async def events(self, st: Stats, interval: float, stopping: Stop) -> None:
        """Queues an event now and then (sent at once if the channel is up), a heartbeat every 10 s."""
        from websockets.exceptions import ConnectionClosed

        next_event = time.monotonic() + self.rng.uniform(0, 2 * interval)
        next_beat = time.monotonic() + self.rng.uniform(0, HEARTBEAT)
        while not stopping.is_set():
            await asyncio.sleep(max(0.0, min(next_event, next_beat) - time.monotonic()))
            if stopping.is_set():
                break
            ws = self.ws
            with contextlib.suppress(ConnectionClosed):
                if time.monotonic() >= next_event:
                    next_event += self.rng.uniform(0, 2 * interval)
                    self.client_seq += 1
                    kind = EVENT_KINDS[self.client_seq % 2]
                    frame = json.dumps({"type": "event", "client_seq": self.client_seq, "kind": kind, "detail": {}})
                    self.outbox[self.client_seq] = frame
                    if ws is not None:
                        self.sends[self.client_seq] += 1
                        self.first_sent.setdefault(self.client_seq, st.kills)
                        self.sent_at[self.client_seq] = time.monotonic()
                        st.events_sent += 1
                        await ws.send(frame)
                if time.monotonic() >= next_beat:
                    next_beat += HEARTBEAT
                    if ws is not None:
                        await ws.send('{"type":"heartbeat"}')
        # the page stays open until its outbox is acknowledged (or the drain ends)
        while True:
            if not self.outbox or stopping.drained():
                break
            await asyncio.sleep(0.1)
        self.done = True
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 5)

    async def channel(self, ws_base: str, tickets: Tickets, st: Stats) -> None:
        """Keeps the socket up: ticket, hello, welcome, resend the outbox, then read acks until it drops."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        pause, ticket = 0.2, ""
        while not self.done:
            opened = False
            try:
                # a ticket the server never saw (connection refused) is still good; any other is spent
                ticket = ticket or await tickets.get(self.index)
            except Exception as exc:  # the page's ticket request failed: it tries again later
                st.connect_failures[f"ticket {type(exc).__name__}"] += 1
                await asyncio.sleep(1)
                continue
            try:
                async with asyncio.timeout(15):
                    try:
                        ws = await connect(
                            f"{ws_base}/ws/candidate?ticket={ticket}",
                            compression=None,
                            ping_interval=None,
                            open_timeout=None,
                            close_timeout=2,
                        )
                    except ConnectionRefusedError:
                        raise
                    except BaseException:
                        ticket = ""
                        raise
                ticket = ""
                try:
                    async with asyncio.timeout(15):
                        await ws.send(json.dumps({"type": "hello", "last_seq": self.last_seq}))
                        while True:
                            frame = json.loads(await ws.recv())
                            if frame.get("type") == "welcome":
                                break
                            self._frame(frame, st)
                        # everything not acknowledged goes again, same client_seq, in order
                        sent_here: set[int] = set()
                        while pending := sorted(set(self.outbox) - sent_here):
                            for client_seq in pending:
                                sent_here.add(client_seq)
                                self.sends[client_seq] += 1
                                self.first_sent.setdefault(client_seq, st.kills)
                                self.sent_at[client_seq] = time.monotonic()
                                st.events_sent += 1
                                await ws.send(self.outbox[client_seq])
                    self.ws = ws  # from here on, new events go straight out
                    opened = True
                    st.connects += 1
                    pause = 0.2
                    async for raw in ws:
                        self._frame(json.loads(raw), st)
                finally:
                    self.ws = None
                    ws.transport.abort()
                    if opened and not self.done:
                        st.drops[str(ws.close_code or 1006)] += 1
            except (OSError, TimeoutError, WebSocketException) as exc:
                if not self.done and not opened:
                    st.connect_failures[_reason(exc)] += 1
            if not self.done:
                await asyncio.sleep(pause * self.rng.uniform(0.5, 1.5))
                pause = min(2.0, pause * 2)

    def _frame(self, frame: dict[str, Any], st: Stats) -> None:
        kind = frame.get("type")
        if kind == "ack":
            client_seq, seq = int(frame["client_seq"]), int(frame["seq"])
            self.last_seq = max(self.last_seq, seq)
            key = (self.attempt_id, client_seq)
            if self.outbox.pop(client_seq, None) is not None:
                st.event_ms.append((time.monotonic() - self.sent_at.get(client_seq, 0.0)) * 1000)
                st.events[key] = EventAck(
                    self.attempt_id,
                    client_seq,
                    seq,
                    st.now(),
                    st.kills,
                    self.sends[client_seq],
                    self.first_sent.get(client_seq, st.kills),
                )
            elif key in st.events and st.events[key].seq != seq:
                st.ack_seq_changed.append(
                    f"attempt {self.attempt_id} client_seq {client_seq}: acknowledged as seq {st.events[key].seq}, "
                    f"then again as seq {seq}"
                )
        elif kind == "error" and frame.get("client_seq") is not None:
            self.outbox.pop(int(frame["client_seq"]), None)
            st.events_refused[f"{frame.get('error')} {str(frame.get('detail'))[:60]}"] += 1
        elif kind == "event":
            self.last_seq = max(self.last_seq, int(frame.get("seq") or 0))


# ---- one database: setup, load with kills, verification ---------------------------------------------


@dataclasses.dataclass
class Target:
    name: str
    url: str
    workers: int
    redis: str | None


async def _forms(base: str, tabs: list[Tab]) -> None:
    """Reads each form once, as the page does on opening: the positions and what can be answered there."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for tab in tabs:
            response = await http.get(f"/api/v1/attempts/{tab.attempt_id}/form", headers=tab.headers)
            response.raise_for_status()
            tab.items = [
                (e["position"], e["item"]) for e in response.json()["items"] if _value(e["item"], 1) is not None
            ]
            if not tab.items:
                raise RuntimeError(f"the form of {tab.attempt_id} has nothing to answer")
            tab.revisions = {p: 0 for p, _i in tab.items}
            tab.acked_revision = dict(tab.revisions)


async def _load(
    server: ServerGroup, tabs: list[Tab], tickets: Tickets, st: Stats, args: argparse.Namespace, rng: random.Random
) -> float:
    """Runs the load, kills and restarts the server ``--kills`` times, drains; returns the load's seconds."""
    await _forms(server.base, tabs)
    stopping = Stop()
    limits = httpx.Limits(max_connections=len(tabs) + 20, max_keepalive_connections=len(tabs) + 20)
    ws_base = server.base.replace("http://", "ws://")
    async with httpx.AsyncClient(base_url=server.base, timeout=httpx.Timeout(15, connect=3), limits=limits) as http:
        issuing = asyncio.create_task(tickets.run())
        st.began = time.monotonic()
        clients = [asyncio.create_task(t.saves(http, st, args.interval, stopping)) for t in tabs]
        clients += [asyncio.create_task(t.events(st, args.interval, stopping)) for t in tabs]
        channels = [asyncio.create_task(t.channel(ws_base, tickets, st)) for t in tabs]
        try:
            for k in range(args.kills):
                await asyncio.sleep(rng.uniform(*KILL_AFTER))
                at, saves, events = st.now(), st.saves_in_flight, sum(t.unacked_sent() for t in tabs)
                server.kill()
                st.kill_wall.append(time.time())
                st.kills = k + 1
                await server.gone()
                server.start()
                await server.ready()
                st.kill_log.append((at, saves, events, st.now() - at))
                print(
                    f"  kill {k + 1} at +{at:.1f} s: {saves} saves and {events} events unanswered; "
                    f"ready again after {st.now() - at:.1f} s",
                    flush=True,
                )
            await asyncio.sleep(TAIL)
            load_seconds = st.now()
            stopping.set(DRAIN)
            await asyncio.wait_for(asyncio.gather(*clients), DRAIN + 20)
            await asyncio.wait_for(asyncio.gather(*channels), 30)
        finally:
            for task in [*clients, *channels, issuing]:
                task.cancel()
            await asyncio.gather(*clients, *channels, issuing, return_exceptions=True)
    st.events_unacked = sum(len(t.outbox) for t in tabs)
    st.events_retried = sum(1 for t in tabs for n in t.sends.values() if n > 1)
    return load_seconds


@dataclasses.dataclass
class Verdict:
    lost_saves: list[str]
    lost_events: list[str]
    duplicated: list[str]
    chains: tuple[int, int]  # intact, checked
    broken: list[str]
    across: int  # acknowledged events first sent before a kill and acknowledged after it
    stored_before_kill: int  # ... of which the kill had cut off the ack: stored before it


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else f"{text[:57]}..."


async def _verify(url: str, st: Stats, attempts: list[str]) -> Verdict:
    """Reads the database itself: the responses table, the sittings' logs and their hash chains."""
    from sqlalchemy import select

    from exam_service.core.database import create_engine, create_sessionmaker
    from exam_service.delivery import events
    from exam_service.models import Attempt, Response, SittingEvent

    ids = [uuid.UUID(a) for a in attempts]
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(Response.attempt_id, Response.position, Response.revision, Response.value).where(
                    Response.attempt_id.in_(ids)
                )
            )
            stored = {(str(a), p): (r, v) for a, p, r, v in rows}
            logged = await session.execute(
                select(SittingEvent.attempt_id, SittingEvent.client_seq, SittingEvent.seq, SittingEvent.at).where(
                    SittingEvent.attempt_id.in_(ids),
                    SittingEvent.source == "candidate",
                    SittingEvent.client_seq.is_not(None),
                )
            )
            seqs: dict[tuple[str, int], list[int]] = {}
            stored_at: dict[tuple[str, int], float] = {}
            for a, client_seq, seq, at in logged:
                if client_seq is not None:
                    seqs.setdefault((str(a), client_seq), []).append(seq)
                    stored_at[(str(a), client_seq)] = at.timestamp()
            intact, broken = 0, []
            for attempt in (await session.execute(select(Attempt).where(Attempt.id.in_(ids)))).scalars():
                report = await events.verify(session, attempt)
                if report.valid:
                    intact += 1
                else:
                    broken.append(f"attempt {attempt.id}: log entry {report.broken_at} {report.problem}")
    finally:
        await engine.dispose()
    lost_saves = []
    for ack in st.saves:
        revision, value = stored.get((ack.attempt_id, ack.position), (None, None))
        if revision is None or revision < ack.revision or (revision == ack.revision and value != ack.value):
            lost_saves.append(
                f"save attempt {ack.attempt_id} position {ack.position} revision {ack.revision} value "
                f"{_show(ack.value)}: answered 200 ({ack.how}) at +{ack.at:.2f} s, after {ack.kills_before} kill(s); "
                f"the database holds revision {revision} value {_show(value)}"
            )
    lost_events, across, stored_before_kill = [], 0, 0
    for got in st.events.values():
        if got.kills_before > got.first_sent_after:
            across += 1
            when = stored_at.get((got.attempt_id, got.client_seq))
            if when is not None and when < st.kill_wall[got.first_sent_after]:
                stored_before_kill += 1
        found = seqs.get((got.attempt_id, got.client_seq), [])
        if not found:
            lost_events.append(
                f"event attempt {got.attempt_id} client_seq {got.client_seq}: ack seq {got.seq} at +{got.at:.2f} s "
                f"(sent {got.sends} time(s), after {got.kills_before} kill(s)); not in the log"
            )
        elif len(found) == 1 and found[0] != got.seq:
            st.ack_seq_changed.append(
                f"attempt {got.attempt_id} client_seq {got.client_seq}: acknowledged as seq {got.seq}, "
                f"stored as seq {found[0]}"
            )
    duplicated = [
        f"event attempt {a} client_seq {c}: stored {len(found)} times (seq {', '.join(map(str, sorted(found)))})"
        + (f", acknowledged as seq {st.events[(a, c)].seq}" if (a, c) in st.events else ", never acknowledged")
        for (a, c), found in sorted(seqs.items())
        if len(found) > 1
    ]
    return Verdict(lost_saves, lost_events, duplicated, (intact, len(ids)), broken, across, stored_before_kill)


def _server_env(target: Target, tmp: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "EXAM_ENVIRONMENT": "development",
        "EXAM_DATABASE_URL": target.url,
        "EXAM_TOKEN_SECRET": TOKEN_SECRET,
        "EXAM_LOG_LEVEL": "WARNING",
        "EXAM_LOG_JSON": "false",
        "EXAM_CHANNEL_TICKET_SECONDS": "300",
        "EXAM_SNAPSHOT_DIR": str(tmp / "snapshots"),
        "EXAM_CREDENTIAL_KEY_FILE": str(tmp / "credential-key.pem"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
    }
    (tmp / "metrics").mkdir(exist_ok=True)
    env.pop("EXAM_REDIS_URL", None)
    if target.redis:
        env["EXAM_REDIS_URL"] = target.redis
    return env


def _run(target: Target, args: argparse.Namespace, tmp: Path, seed: int) -> bool:
    started = time.monotonic()
    rng = random.Random(f"{seed}-{target.name}")
    env = _server_env(target, tmp)
    broker = "Redis" if target.redis else "in-process broker"
    print(
        f"\ncrash proof: {target.name}, {target.workers} worker(s), {broker}; {args.candidates} candidates, "
        f"{args.kills} kills, a save and an event per candidate every {args.interval:g} s on average; seed {seed}",
        flush=True,
    )
    run_cli(["demo"], env)
    seeded = asyncio.run(_seed(target.url, args.candidates, 1, 1, "in_progress"))
    tokens = asyncio.run(_mint_tokens(target.url, seeded))
    tab_ids = [uuid.UUID(int=rng.getrandbits(128), version=4).hex for _ in seeded.candidates]
    tabs = [
        Tab(i, str(attempt), tab_ids[i], tokens[i], [], random.Random(rng.getrandbits(64)))
        for i, (_u, attempt, _w) in enumerate(seeded.candidates)
    ]
    print(f"  setup: {len(tabs)} in_progress sittings and tokens in {time.monotonic() - started:.0f} s", flush=True)
    issuer = TabIssuer(target.url, seeded, tab_ids)
    server = ServerGroup(env, target.workers, tmp / "server.log")
    st = Stats()
    try:
        server.start()
        asyncio.run(server.ready())
        load_seconds = asyncio.run(_load(server, tabs, Tickets(issuer), st, args, rng))
        asyncio.run(server.stop())
    finally:
        server.abandon()
        issuer.close()
    verdict = asyncio.run(_verify(target.url, st, [t.attempt_id for t in tabs]))
    if args.log_dir:
        Path(args.log_dir).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp / "server.log", Path(args.log_dir) / f"{target.name.lower()}-server.log")
    return _report(target, st, verdict, load_seconds, time.monotonic() - started, tmp / "server.log")


def _report(target: Target, st: Stats, v: Verdict, load_seconds: float, elapsed: float, log: Path) -> bool:
    confirmed = sum(1 for s in st.saves if s.how != "applied")
    downs = sorted(down for _at, _s, _e, down in st.kill_log)
    in_flight = sum(s for _at, s, _e, _d in st.kill_log), sum(e for _at, _s, e, _d in st.kill_log)

    def counter(c: Counter[str]) -> str:
        return ", ".join(f"{k} x{n}" for k, n in c.most_common(4)) or "none"

    log_lines = log.read_text(errors="replace").splitlines()
    errors = [line for line in log_lines if "ERROR" in line or "Traceback" in line]
    warnings = [line for line in log_lines if "WARNING" in line]

    def spread(values: list[float]) -> str:
        ordered = sorted(values)
        if not ordered:
            return "-"
        return " / ".join(f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))]:,.0f}" for q in (0.5, 0.99, 1.0))

    rows = [
        ("kills (SIGKILL to the whole process group)", f"{st.kills}"),
        ("  writes unanswered at the kills", f"{in_flight[0]} saves, {in_flight[1]} events"),
        (
            "  kill to ready again, median / max",
            f"{downs[len(downs) // 2]:.1f} s / {downs[-1]:.1f} s" if downs else "-",
        ),
        ("acknowledged saves", f"{len(st.saves):,} ({confirmed} of them confirmed by a retry at the same revision)"),
        ("acknowledged events", f"{len(st.events):,}"),
        (
            "  sent before a kill, acknowledged after it",
            f"{v.across} ({v.stored_before_kill} stored before the kill, acknowledged on the resend)",
        ),
        ("answer ms p50 / p99 / max, saves", spread(st.save_ms)),
        ("ack ms p50 / p99 / max, events (from the latest send)", spread(st.event_ms)),
        ("retried writes", f"{st.saves_retried} saves, {st.events_retried} events (sent again after a failure)"),
        ("requests sent", f"{st.saves_sent:,} saves, {st.events_sent:,} events; {st.connects} sockets opened"),
        (
            "refused writes",
            f"saves: {counter(st.saves_refused)}; events: {counter(st.events_refused)}"
            + (f"; {st.saves_superseded} saves answered below the stored revision" if st.saves_superseded else ""),
        ),
        ("unanswered at the end (not counted)", f"{st.saves_unanswered} saves, {st.events_unacked} events"),
        ("form reloads (showing a lost revision)", f"{st.reloads} ({len(st.stale_reloads)})"),
        ("LOST SAVES", f"{len(v.lost_saves)}"),
        ("LOST EVENTS", f"{len(v.lost_events)}"),
        ("DUPLICATED EVENTS", f"{len(v.duplicated)}"),
        ("acks naming another seq than stored", f"{len(st.ack_seq_changed)}"),
        ("hash chains intact", f"{v.chains[0]} / {v.chains[1]}"),
        ("elapsed", f"{load_seconds:.1f} s of load, {elapsed:.1f} s in all"),
        ("sockets dropped, by close code", counter(st.drops)),
        ("failed handshakes (retried)", counter(st.connect_failures)),
        ("server log error lines", f"{len(errors)}" + (f"; first: {errors[0][:160]}" if errors else "")),
        ("server log warnings", f"{len(warnings)}" + (f"; first: {warnings[0][:160]}" if warnings else "")),
    ]
    width = max(len(label) for label, _t in rows)
    print(f"\n{target.name}, {target.workers} worker(s)")
    for label, text in rows:
        print(f"  {label:<{width}}  {text}")
    findings = [*v.lost_saves, *v.lost_events, *v.duplicated, *st.stale_reloads, *st.ack_seq_changed, *v.broken]
    for line in findings[:20]:
        print(f"  ! {line}")
    if len(findings) > 20:
        print(f"  ! ... and {len(findings) - 20} more")
    ok = not findings and st.kills > 0
    print(f"  {'PASS: nothing acknowledged was lost or duplicated' if ok else 'FAIL'}", flush=True)
    return ok


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="one database (default: both)")
    parser.add_argument("--kills", type=int, default=6, help="SIGKILLs per database (at least 5)")
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--seed", type=int, help="for the random generator (default: from the clock, printed)")
    parser.add_argument(
        "--interval", type=float, default=5.0, help="mean seconds between a candidate's saves (and its events)"
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers on PostgreSQL (SQLite: 1)")
    parser.add_argument(
        "--postgres",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        help=f"PostgreSQL server to create the {CRASH_DB!r} database on",
    )
    parser.add_argument("--redis", default=os.environ.get("EXAM_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--log-dir", metavar="DIR", help="keep the servers' logs here")
    args = parser.parse_args(argv)
    if args.kills < 5:
        parser.error("--kills must be at least 5")
    if args.candidates < 1 or args.interval <= 0 or args.workers < 1:
        parser.error("--candidates and --workers must be at least 1, --interval positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    results = []
    with tempfile.TemporaryDirectory(prefix="crash-proof-") as name:
        tmp = Path(name)
        if args.only in (None, "sqlite"):
            (tmp / "sqlite").mkdir()
            url = f"sqlite+aiosqlite:///{tmp / 'sqlite' / 'crash.db'}"
            results.append(_run(Target("SQLite", url, 1, None), args, tmp / "sqlite", seed))
        if args.only in (None, "postgres"):
            (tmp / "postgres").mkdir()
            url = asyncio.run(_postgres(args.postgres, "create", CRASH_DB))
            try:
                target = Target("PostgreSQL", url, args.workers, args.redis)
                results.append(_run(target, args, tmp / "postgres", seed))
            finally:
                with contextlib.suppress(Exception):
                    asyncio.run(_postgres(args.postgres, "drop", CRASH_DB))
    if not all(results):
        sys.exit(1)


if __name__ == "__main__":
    main()
