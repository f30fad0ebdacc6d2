"""Candidates end to end: sign-in, start, answers, proctoring events and submission on one machine.

    .venv/bin/python -m benchmarks.load --quick                  # 500 candidates, 4 proctors, 60 s steady
    .venv/bin/python -m benchmarks.load                          # 10,000 candidates, 20 proctors, 120 s steady
    .venv/bin/python -m benchmarks.load --seed-cache /tmp/seeds  # SQLite: seed once, reuse
    .venv/bin/python -m benchmarks.load --workers 2 --postgres --redis

Setup (as ``proctoring.py``, whose seeding it uses): a fresh database, ``exam-service demo``, then
proctors, proctored windows and checked-in sittings written through the service layer, one
argon2 hash shared by every account. Signing in costs an argon2 hash by design, so only a sample
(``--sign-ins``, 50) signs in over HTTP (``POST /api/v1/auth/token``) during the run and is
timed; every other candidate gets its bearer token the way sign-in makes one: this process calls
``identity.service.open_session`` with a ``TokenCodec`` built from the fixed secret the server
gets as ``EXAM_TOKEN_SECRET`` (one sign-in session each, written before the server starts).
Proctors get minted tokens the same way. The server runs with ``EXAM_ACCESS_TOKEN_MINUTES``
long enough for the whole run (the page's token refresh is not modelled),
``EXAM_GRADING_DISPATCH=off`` (a submission's grading job waits in the outbox for a grader;
``grading.py`` measures grading) and ``EXAM_TRUSTED_PROXIES=127.0.0.1``: each sign-in names an
address of its own in ``X-Forwarded-For``, as behind a reverse proxy (``--one-address`` signs
everyone in from 127.0.0.1, a test centre behind one NAT address).

Each candidate, at a random instant of the first ``--start-window`` seconds (60):

1. the sample signs in;
2. ``POST /api/v1/attempts/{id}/start`` with ``{"accept_rules": true}``: the sitting (proctored
   window) now waits for a proctor;
3. a proctor authorises it over the console socket (not through the service layer): one
   proctor of the window, chosen by a hash of the attempt id, answers the ``state_changed``
   entry to ``awaiting_authorization`` with ``{"type": "action", "action": "authorize"}``;
   the candidate polls ``GET /api/v1/attempts/{id}`` every ``--poll`` s (3, as the briefing
   page does) until the sitting is in progress;
4. ``GET .../form``, ``POST .../channel-ticket`` (with an ``X-Client-Session`` id), then
   ``/ws/candidate`` with ``hello``;
5. until its submission: a heartbeat every 10 s; a ``window_blur`` event every
   ``--event-interval`` s (60, random phase); an autosave ``PUT .../responses/{position}``
   with a rising revision per question whenever a change comes, and at least every
   ``--save-cap`` s (15): changes arrive at random (exponential gaps, their mean chosen so that
   saves come every ``--save-mean`` s, 12, on average); a form reload ``GET .../form`` at
   exponential gaps of mean ``--reload-interval`` s (300);
6. ``POST .../submit`` at a random instant of the ``--submit-spread`` s (30) after the steady
   phase, then it closes its socket.

A candidate socket the server closes is counted, not reopened; HTTP goes on.

The M proctors (``--proctors``, 20, over ``--windows`` windows) connect first: a ticket over
HTTP (``POST /api/v1/proctoring/channel-ticket``), ``/ws/proctor``, ``hello``, the snapshot.
A console sends one authorisation at a time, the next when the last one's result is in, as a
person clicks (sent back to back, a burst of them kept the channel from reading the pongs, and
uvicorn closed it with 1011); a console the server closes reconnects after
``--reconnect-delay`` s and takes up the waiting sittings its new snapshot shows. Event ->
proctor latency is matched on (attempt_id, client_seq), as in proctoring.py.

Phases: the steady phase starts ``--settle`` s after every candidate is in or has failed (at
the latest ``--start-grace`` s after the start window) and lasts ``--duration`` s. Throughputs
and the save, ack and event -> proctor latencies count the steady phase (by send time);
sign-in, start, admission, form loads (first and reloads) and submissions count every one.

Generator: client processes (``--client-procs``; by default as many as the descriptor limit
needs) of plain asyncio on uvloop. HTTP is a minimal HTTP/1.1 client written here over asyncio
streams: one keep-alive connection per candidate, opened again when the server has closed it
(uvicorn closes a connection idle for 5 s, so most saves 12 s apart open a new one, as a browser
would); a request on a reused connection that fails before any byte of its answer is sent again
once on a new connection. WebSockets use the websockets library's asyncio client, offering
permessage-deflate as Chrome does. Each client process's CPU and its event-loop lag are reported.

Ceilings, in the same run, with the same client code, seeds and rates: HTTP saves go to
``benchmarks.ceiling`` (bare FastAPI + SQLAlchemy async, one upsert a request, same database
kind, same workers) and the sockets to proctoring.py's bare relay. The ceiling run has no
sign-in, start, form, ticket or submission: each candidate opens its socket at the same instant
and saves, beats and sends events at the same rates until the same end.

Printed: one table, service against ceiling, and their ratio. Traffic stays on 127.0.0.1 and
every phase is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import multiprocessing as mp
import os
import queue
import random
import resource
import shutil
import sys
import tempfile
import time
import uuid
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from benchmarks import proctoring as pb
from benchmarks.autosave import PASSWORD, _value
from benchmarks.server import EXE, free_port

SECRET = "load-benchmark-token-secret-7c1e93b05a4d4f8e9b62d0a1f5c3e8b7"  # the server gets it too
TICKET = "/api/v1/proctoring/channel-ticket"
LOAD_DB, CEILING_DB = "exam_load_bench", "exam_load_ceiling"
# an item to answer when the ceiling run has no form of the service run to copy
FALLBACK_ITEMS = [(1, {"type": "single_choice", "options": [{"id": x} for x in "ABCD"]})]


# ---- the plan every client process follows ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Plan:
    """Absolute ``time.monotonic()`` instants and rates; the phases come later through ``Shared``."""

    proctors_at: float
    candidates_at: float
    start_window: float
    heartbeat: float
    event_interval: float
    change_mean: float  # mean gap between changes; a save comes at a change or after save_cap
    save_cap: float
    reload_mean: float
    poll: float
    submit_spread: float
    compression: str
    http_timeout: float
    connect_timeout: float
    admit_timeout: float
    reconnect_delay: float
    one_address: bool
    started: bool  # the sittings were seeded in progress: no start, no admission
    http_port: int
    ws_base: str
    bare: bool  # the ceiling run: no sign-in, start, form, ticket or submission
    items: list[tuple[int, dict[str, Any]]]  # what the ceiling run answers


@dataclasses.dataclass(frozen=True)
class Watcher:
    """A proctor's console."""

    index: int
    windows: tuple[int, ...]
    token: str  # the service: the console asks for its ticket over HTTP with it
    url: str  # the relay's URL in the ceiling run


@dataclasses.dataclass(frozen=True)
class Seat:
    index: int
    attempt_id: str
    window: int
    token: str  # empty: signs in over HTTP
    email: str
    ws_url: str  # the relay's URL in the ceiling run; the service's comes with a ticket


class Shared:
    """Progress counters the driver prints, and the phases it announces."""

    def __init__(self, context: Any) -> None:
        self.started = context.Value("i", 0)
        self.failed = context.Value("i", 0)
        self.saves = context.Value("i", 0)
        self.acked = context.Value("i", 0)
        self.closed = context.Value("i", 0)
        self.submitted = context.Value("i", 0)
        self.phase = context.Array("d", [0.0, 0.0, 0.0, 0.0])  # steady start, steady end, submits end, stop


def _count(counter: Any) -> None:
    with counter.get_lock():
        counter.value += 1


class Failure(Exception):
    """A candidate could not get into the sitting; the message is the kind."""


class Stats:
    def __init__(self) -> None:
        self.started = 0
        self.failed: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.closes: Counter[str] = Counter()
        self.error_frames: Counter[str] = Counter()
        self.to_candidates: Counter[str] = Counter()
        self.proctor_other: Counter[str] = Counter()
        self.proctors_connected = 0
        self.proctor_reconnects = 0
        self.proctors_up: list[int] = []
        self.presence_frames = 0
        self.sign_in_ms: list[float] = []
        self.start_ms: list[float] = []
        self.admit_s: list[float] = []
        self.authorize_ms: list[float] = []
        self.form_ms: list[float] = []
        self.reloads: list[tuple[float, float]] = []  # sent, ms
        self.ticket_ms: list[float] = []
        self.ws_ms: list[float] = []
        self.submit_ms: list[float] = []
        self.saves: list[tuple[float, float, bool]] = []  # sent, ms, acknowledged with 200
        self.heartbeats: list[float] = []  # sent
        self.sent: dict[tuple[str, int], float] = {}
        self.acked: dict[tuple[str, int], tuple[int, float]] = {}  # -> window, ack ms
        self.deliveries: list[tuple[str, int, float, int]] = []  # attempt, client_seq, received, proctor
        self.http_connects = 0
        self.http_requests = 0
        self.http_resent = 0
        self.lag: list[tuple[float, float]] = []  # the client's event loop: when, ms late
        self.unfinished = 0
        self.sample_items: list[tuple[int, dict[str, Any]]] = []

    def export(self) -> dict[str, Any]:
        return dict(self.__dict__)


# ---- a minimal HTTP/1.1 client --------------------------------------------------------------------


class _Unanswered(Exception):
    """The connection ended before any byte of the answer."""


class Http:
    """One keep-alive connection, reopened when the server has closed it; one request at a time."""

    def __init__(self, port: int, stats: Stats, token: str, timeout: float) -> None:
        self.port, self.stats, self.timeout = port, stats, timeout
        self.host = f"Host: 127.0.0.1:{port}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.auth = b""
        self.authorize(token)

    def authorize(self, token: str) -> None:
        self.auth = f"Authorization: Bearer {token}\r\n".encode() if token else b""

    def close(self) -> None:
        if self.writer is not None:
            self.writer.transport.abort()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, body: bytes = b"", kind: bytes = b"application/json", extra: bytes = b""
    ) -> tuple[int, bytes]:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._request(method, path, body, kind, extra)
        except BaseException:
            self.close()  # an answer may still be on its way: never read it as the next one's
            raise

    async def _request(self, method: str, path: str, body: bytes, kind: bytes, extra: bytes) -> tuple[int, bytes]:
        self.stats.http_requests += 1
        for again in (False, True):
            reader, writer = self.reader, self.writer
            reused = reader is not None and writer is not None and not reader.at_eof() and not writer.is_closing()
            if not reused:
                self.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                self.reader, self.writer = reader, writer
                self.stats.http_connects += 1
            assert reader is not None
            assert writer is not None
            head = b"%s %s HTTP/1.1\r\n%s%s%s" % (method.encode(), path.encode(), self.host, self.auth, extra)
            if body or method in ("POST", "PUT"):
                head += b"Content-Type: %s\r\nContent-Length: %d\r\n" % (kind, len(body))
            writer.write(head + b"\r\n" + body)
            try:
                return await self._answer(reader)
            except _Unanswered:
                self.close()
                if reused and not again:  # closed by the server while idle, just before the request
                    self.stats.http_resent += 1
                    continue
                raise ConnectionResetError("the connection closed before an answer") from None
        raise AssertionError("unreachable")

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _Unanswered from None
            raise ConnectionResetError("the answer was cut short") from None
        except ConnectionResetError:
            raise _Unanswered from None
        lines = head.split(b"\r\n")
        status = int(lines[0][9:12])
        length, chunked, close = 0, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if chunked:
            parts = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append(await reader.readexactly(size + 2))
            await reader.readuntil(b"\r\n")
            data = b"".join(p[:-2] for p in parts)
        else:
            data = await reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, data


def _answer_value(item: dict[str, Any], revision: int) -> Any:
    """An answer of the question's shape (autosave.py's, plus short text and matching)."""
    kind = item.get("type")
    if kind == "short_text":
        return f"answer {revision}"
    if kind == "matching":
        premises = [p["id"] for p in item.get("premises", [])]
        responses = [r["id"] for r in item.get("responses", [])]
        return {premises[0]: responses[revision % len(responses)]} if premises and responses else None
    return _value(item, revision)


def _change_mean(save_mean: float, cap: float) -> float:
    """The mean m of exponential gaps such that E[min(gap, cap)] = m (1 - e^(-cap/m)) = save_mean."""
    low, high = save_mean, 1e6
    for _ in range(200):
        m = (low + high) / 2
        if m * (1 - math.exp(-cap / m)) < save_mean:
            low = m
        else:
            high = m
    return (low + high) / 2


# ---- the clients of one process ------------------------------------------------------------------


class Load:
    """One process's candidates, and the proctors if it has them."""

    def __init__(
        self,
        plan: Plan,
        shared: Shared,
        seats: list[Seat],
        proctors: list[Watcher],
        window_of: dict[str, int],
    ) -> None:
        self.plan, self.shared, self.seats, self.proctors, self.window_of = plan, shared, seats, proctors, window_of
        self.stats = Stats()
        self.phase: tuple[float, float, float, float] | None = None
        self.stopping = False
        self.sockets: set[Any] = set()
        self.proctor_sockets: list[Any] = []
        self.kwargs = pb._connect_kwargs(plan.compression)

    async def run(self) -> dict[str, Any]:
        tasks = [asyncio.create_task(self._proctor(p)) for p in self.proctors]
        candidates = [asyncio.create_task(self._candidate(s)) for s in self.seats]
        lag = asyncio.create_task(self._lag())
        while self.phase is None:  # bounded: the driver always announces the phases
            await asyncio.sleep(0.2)
            if self.shared.phase[0] > 0:
                self.phase = (self.shared.phase[0], self.shared.phase[1], self.shared.phase[2], self.shared.phase[3])
        await pb._sleep_until(self.phase[3])
        self.stopping = True
        self.stats.unfinished = sum(1 for task in candidates if not task.done())
        for group in (list(self.sockets), self.proctor_sockets):
            closing = [asyncio.create_task(ws.close()) for ws in group]
            if closing:
                _, late = await asyncio.wait(closing, timeout=30)
                for task in late:
                    task.cancel()
        for task in [*tasks, *candidates, lag]:
            task.cancel()
        await asyncio.gather(*tasks, *candidates, lag, return_exceptions=True)
        return self.stats.export()

    async def _lag(self) -> None:
        while True:
            began = time.monotonic()
            await asyncio.sleep(0.1)
            self.stats.lag.append((began, (time.monotonic() - began - 0.1) * 1000))

    def _steady(self, at: float) -> bool:
        return self.phase is not None and self.phase[0] <= at < self.phase[1]

    # ---- candidates ----------------------------------------------------------------------------

    async def _call(
        self, http: Http, what: str, method: str, path: str, body: bytes = b"", **more: Any
    ) -> tuple[bytes, float]:
        """A request of the way in: its answer and milliseconds, or ``Failure``."""
        began = time.monotonic()
        try:
            status, data = await http.request(method, path, body, **more)
        except Exception as exc:
            self.stats.errors[f"{what}: {pb._reason(exc)}"] += 1
            raise Failure(f"{what}: {pb._reason(exc)}") from None
        if status != 200:
            self.stats.errors[f"{what}: http {status}"] += 1
            raise Failure(f"{what}: http {status}")
        return data, (time.monotonic() - began) * 1000

    async def _enter(self, seat: Seat, http: Http) -> list[tuple[int, dict[str, Any]]]:
        """Sign-in (the sample), start, admission, the form: what a candidate does to begin."""
        plan, st = self.plan, self.stats
        base = f"/api/v1/attempts/{seat.attempt_id}"
        if not seat.token:
            form = urlencode({"username": seat.email, "password": PASSWORD}).encode()
            n = seat.index + 1  # each from an address of its own, as the reverse proxy in front says
            address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
            forwarded = b"" if plan.one_address else f"X-Forwarded-For: {address}\r\n".encode()
            data, ms = await self._call(
                http,
                "sign-in",
                "POST",
                "/api/v1/auth/token",
                form,
                kind=b"application/x-www-form-urlencoded",
                extra=forwarded,
            )
            http.authorize(json.loads(data)["access_token"])
            st.sign_in_ms.append(ms)
        if plan.started:
            state = "in_progress"
        else:
            data, ms = await self._call(http, "start", "POST", f"{base}/start", b'{"accept_rules":true}')
            st.start_ms.append(ms)
            state = json.loads(data)["state"]
        answered = time.monotonic()
        while state == "awaiting_authorization":
            if time.monotonic() - answered > plan.admit_timeout:
                raise Failure(f"not admitted within {plan.admit_timeout:g} s")
            await asyncio.sleep(plan.poll)
            data, _ms = await self._call(http, "poll", "GET", base)
            state = json.loads(data)["state"]
        if state != "in_progress":
            raise Failure(f"start: sitting {state}")
        st.admit_s.append(time.monotonic() - answered)
        data, ms = await self._call(http, "form", "GET", f"{base}/form")
        st.form_ms.append(ms)
        items = [(int(e["position"]), e["item"]) for e in json.loads(data)["items"]]
        if not st.sample_items:
            st.sample_items = items
        return items

    async def _open(self, seat: Seat, http: Http) -> Any:
        """The candidate channel: a ticket over HTTP (not in the ceiling run), handshake, hello, welcome."""
        from websockets.asyncio.client import connect

        plan, st = self.plan, self.stats
        url = seat.ws_url
        if not plan.bare:
            session = f"X-Client-Session: load-{seat.index}-{uuid.uuid4().hex[:12]}\r\n".encode()
            path = f"/api/v1/attempts/{seat.attempt_id}/channel-ticket"
            data, ms = await self._call(http, "ticket", "POST", path, extra=session)
            st.ticket_ms.append(ms)
            url = plan.ws_base + json.loads(data)["url"]
        began = time.monotonic()
        ws = None
        try:
            ws = await asyncio.wait_for(connect(url, **self.kwargs), plan.connect_timeout)
            await ws.send('{"type":"hello","last_seq":0}')
            await self._first(ws, "welcome")
        except Exception as exc:
            if ws is not None:
                ws.transport.abort()
            st.errors[f"socket: {pb._reason(exc)}"] += 1
            raise Failure(f"socket: {pb._reason(exc)}") from None
        st.ws_ms.append((time.monotonic() - began) * 1000)
        return ws

    async def _first(self, ws: Any, wanted: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.plan.connect_timeout
        while True:
            frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
            if frame.get("type") == wanted:
                return frame
            if frame.get("type") == "error":
                self.stats.error_frames[str(frame.get("error"))] += 1

    async def _candidate(self, seat: Seat) -> None:
        plan, st = self.plan, self.stats
        rng = random.Random(seat.index)
        submit_offset = rng.uniform(0, plan.submit_spread)
        await pb._sleep_until(plan.candidates_at + rng.uniform(0, plan.start_window))
        http = Http(plan.http_port, st, seat.token, plan.http_timeout)
        try:
            items = plan.items if plan.bare else await self._enter(seat, http)
            ws = await self._open(seat, http)
        except Failure as failure:
            http.close()
            st.failed[str(failure)] += 1
            _count(self.shared.failed)
            return
        st.started += 1
        _count(self.shared.started)
        self.sockets.add(ws)
        finished = [False]
        waiting: dict[int, float] = {}
        reader = asyncio.create_task(self._reader(ws, seat, waiting, finished))
        writer = asyncio.create_task(self._writer(ws, seat, waiting, rng, submit_offset))
        try:
            if await self._answers(http, seat, items, rng, submit_offset) and not plan.bare:
                began = time.monotonic()
                try:
                    status, _data = await http.request("POST", f"/api/v1/attempts/{seat.attempt_id}/submit")
                except Exception as exc:
                    st.errors[f"submit: {pb._reason(exc)}"] += 1
                else:
                    if status == 200:
                        st.submit_ms.append((time.monotonic() - began) * 1000)
                        _count(self.shared.submitted)
                    else:
                        st.errors[f"submit: http {status}"] += 1
            await writer
        finally:
            finished[0] = True
            writer.cancel()
            http.close()
            if not self.stopping:
                await ws.close()
                self.sockets.discard(ws)
            reader.cancel()

    def _submit_at(self, offset: float) -> float:
        return self.phase[1] + offset if self.phase is not None else math.inf

    async def _answers(
        self, http: Http, seat: Seat, items: list[tuple[int, dict[str, Any]]], rng: random.Random, offset: float
    ) -> bool:
        """Saves and reloads until the candidate's submission time (True), or the end of the run."""
        plan, st = self.plan, self.stats
        revisions: dict[int, int] = {}
        base = f"/api/v1/attempts/{seat.attempt_id}"
        next_save = time.monotonic() + min(rng.expovariate(1 / plan.change_mean), plan.save_cap)
        next_reload = math.inf if plan.bare else time.monotonic() + rng.expovariate(1 / plan.reload_mean)
        while not self.stopping:
            due = min(next_save, next_reload, self._submit_at(offset))
            await pb._sleep_until(due)
            if self.stopping:
                return False
            if time.monotonic() >= self._submit_at(offset):
                return True
            if next_reload <= next_save:
                next_reload += rng.expovariate(1 / plan.reload_mean)
                began = time.monotonic()
                try:
                    status, _data = await http.request("GET", f"{base}/form")
                except Exception as exc:
                    st.errors[f"reload: {pb._reason(exc)}"] += 1
                    continue
                if status == 200:
                    st.reloads.append((began, (time.monotonic() - began) * 1000))
                else:
                    st.errors[f"reload: http {status}"] += 1
                continue
            next_save += min(rng.expovariate(1 / plan.change_mean), plan.save_cap)
            position, item = rng.choice(items)
            revision = revisions[position] = revisions.get(position, 0) + 1
            body = json.dumps({"revision": revision, "value": _answer_value(item, revision)}, separators=(",", ":"))
            sent = time.monotonic()
            try:
                status, _data = await http.request("PUT", f"{base}/responses/{position}", body.encode())
            except Exception as exc:
                st.errors[f"save: {pb._reason(exc)}"] += 1
                st.saves.append((sent, math.nan, False))
                continue
            st.saves.append((sent, (time.monotonic() - sent) * 1000, status == 200))
            if status == 200:
                _count(self.shared.saves)
            else:
                st.errors[f"save: http {status}"] += 1
        return False

    async def _writer(self, ws: Any, seat: Seat, waiting: dict[int, float], rng: random.Random, offset: float) -> None:
        """A heartbeat every ``heartbeat`` s and an event every ``event_interval`` s, random phases."""
        from websockets.exceptions import ConnectionClosed

        plan, st = self.plan, self.stats
        now = time.monotonic()
        beat = now + rng.uniform(0, plan.heartbeat)
        event = now + rng.uniform(0, plan.event_interval)
        client_seq = 0
        while not self.stopping:
            due = min(beat, event)
            if due >= self._submit_at(offset):
                return
            await pb._sleep_until(due)
            if self.stopping:
                return
            try:
                if due == event:
                    client_seq += 1
                    sent = time.monotonic()
                    waiting[client_seq] = sent
                    st.sent[(seat.attempt_id, client_seq)] = sent
                    await ws.send(f'{{"type":"event","client_seq":{client_seq},"kind":"window_blur","detail":{{}}}}')
                    event += plan.event_interval
                else:
                    st.heartbeats.append(time.monotonic())
                    await ws.send('{"type":"heartbeat"}')
                    beat += plan.heartbeat
            except ConnectionClosed:
                return

    async def _reader(self, ws: Any, seat: Seat, waiting: dict[int, float], finished: list[bool]) -> None:
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
                        st.acked[(seat.attempt_id, client_seq)] = (seat.window, (received - sent) * 1000)
                        _count(self.shared.acked)
                elif kind == "error":
                    st.error_frames[str(frame.get("error"))] += 1
                    waiting.pop(int(frame.get("client_seq") or 0), None)
                else:
                    st.to_candidates[f"{kind}:{frame.get('kind', '')}"] += 1
        except ConnectionClosed as closed:
            if not (self.stopping or finished[0]):
                st.closes[f"candidate {pb._close(closed)}"] += 1
                _count(self.shared.closed)

    # ---- proctors ------------------------------------------------------------------------------

    def _decider(self, attempt_id: str) -> int | None:
        """The one connected proctor of the sitting's window who authorises it."""
        window = self.window_of.get(attempt_id)
        up = set(self.stats.proctors_up)
        covering = sorted(p.index for p in self.proctors if p.index in up and window in p.windows)
        return covering[zlib.crc32(attempt_id.encode()) % len(covering)] if covering else None

    async def _console(self, spec: Watcher, http: Http | None) -> tuple[Any, dict[str, Any]]:
        """A proctor socket: a ticket over HTTP (not in the ceiling run), handshake, hello, snapshot."""
        from websockets.asyncio.client import connect

        url = spec.url
        if http is not None:
            data, _ms = await self._call(http, "proctor ticket", "POST", TICKET, b'{"window_id":null}')
            url = self.plan.ws_base + json.loads(data)["url"]
        ws = None
        try:
            ws = await asyncio.wait_for(connect(url, **self.kwargs), self.plan.connect_timeout)
            await ws.send('{"type":"hello","cursors":{}}')
            return ws, await self._first(ws, "snapshot")
        except Exception as exc:
            if ws is not None:
                ws.transport.abort()
            raise Failure(f"proctor socket: {pb._reason(exc)}") from None

    async def _proctor(self, spec: Watcher) -> None:
        """A console: reconnects when the server closes it; authorises its share of the waiting sittings."""
        from websockets.exceptions import ConnectionClosed

        plan, st = self.plan, self.stats
        await pb._sleep_until(plan.proctors_at + spec.index * 0.05)
        http = None if plan.bare else Http(plan.http_port, st, spec.token, plan.http_timeout)
        connected = False
        while not self.stopping:
            if connected:
                await asyncio.sleep(plan.reconnect_delay)
            try:
                ws, snapshot = await self._console(spec, http)
            except Failure as failure:
                if not connected:  # never up: owed nothing, as in proctoring.py
                    st.failed[str(failure)] += 1
                    return
                st.errors[f"reconnect: {failure}"] += 1
                continue
            if connected:
                st.proctor_reconnects += 1
            else:
                connected = True
                st.proctors_connected += 1
                st.proctors_up.append(spec.index)
            self.proctor_sockets.append(ws)
            # the snapshot is what the console shows: its waiting sittings are this connection's work
            todo: asyncio.Queue[str] = asyncio.Queue()
            results: dict[str, asyncio.Future[tuple[bool, str]]] = {}
            for row in snapshot.get("sittings", []):
                if row.get("state") == "awaiting_authorization" and self._decider(row["attempt_id"]) == spec.index:
                    todo.put_nowait(row["attempt_id"])
            sender = asyncio.create_task(self._authorize(ws, todo, results))
            try:
                await self._watch(ws, spec, todo, results)
            except ConnectionClosed as closed:
                if not self.stopping:
                    st.closes[f"proctor {pb._close(closed)}"] += 1
                    _count(self.shared.closed)
            finally:
                sender.cancel()
                self.proctor_sockets.remove(ws)
        if http is not None:
            http.close()

    async def _authorize(
        self, ws: Any, todo: asyncio.Queue[str], results: dict[str, asyncio.Future[tuple[bool, str]]]
    ) -> None:
        """One authorisation at a time, the next once the last one's result is in, as a person clicks."""
        st = self.stats
        while True:
            attempt = await todo.get()
            results[attempt] = asyncio.get_running_loop().create_future()
            began = time.monotonic()
            action = {"type": "action", "request_id": attempt, "attempt_id": attempt, "action": "authorize"}
            await ws.send(json.dumps(action, separators=(",", ":")))
            try:
                ok, error = await asyncio.wait_for(results[attempt], self.plan.connect_timeout)
            except TimeoutError:
                st.errors["authorize: no result in time"] += 1
                continue
            finally:
                results.pop(attempt, None)
            if ok:
                st.authorize_ms.append((time.monotonic() - began) * 1000)
            else:
                st.errors[f"authorize: {error}"] += 1

    async def _watch(
        self,
        ws: Any,
        spec: Watcher,
        todo: asyncio.Queue[str],
        results: dict[str, asyncio.Future[tuple[bool, str]]],
    ) -> None:
        st = self.stats
        while True:
            raw = await ws.recv()
            received = time.monotonic()
            if isinstance(raw, str) and raw.startswith('{"type":"presence"'):
                st.presence_frames += 1
                continue
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "event":
                if frame.get("source") == "candidate" and frame.get("client_seq") is not None:
                    st.deliveries.append((frame["attempt_id"], int(frame["client_seq"]), received, spec.index))
                    continue
                st.proctor_other[f"event:{frame.get('kind')}"] += 1
                attempt = str(frame.get("attempt_id"))
                if (
                    frame.get("kind") == "state_changed"
                    and (frame.get("detail") or {}).get("to") == "awaiting_authorization"
                    and self._decider(attempt) == spec.index
                ):
                    todo.put_nowait(attempt)
            elif kind == "result":
                waiting = results.get(str(frame.get("request_id")))
                if waiting is not None and not waiting.done():
                    waiting.set_result((bool(frame.get("ok")), str(frame.get("error"))))
            else:
                st.proctor_other[str(kind)] += 1


def _client_process(
    plan_box: Any,
    shared: Shared,
    seats: list[Seat],
    proctors: list[Watcher],
    window_of: dict[str, int],
    ready: Any,
    results: Any,
) -> None:
    """A client process: runs its candidates (and proctors) to the plan, sends back what it saw."""
    import uvloop

    pb._raise_nofile()
    ready.put(os.getpid())
    plan: Plan = plan_box.get(timeout=300)
    try:
        stats = uvloop.run(Load(plan, shared, seats, proctors, window_of).run())
    except BaseException as exc:
        results.put({"error": repr(exc)})
        raise
    results.put(stats)


# ---- one run: servers, client processes, figures --------------------------------------------------


@dataclasses.dataclass
class Target:
    name: str
    servers: list[pb.Process]
    seats: list[Seat]
    proctors: list[Watcher]
    http_port: int
    ws_base: str
    health: str | None  # base URL probed with GET /healthz
    gc_log: Path | None
    items: list[tuple[int, dict[str, Any]]]


def _drive(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """Starts the client processes, announces the phases, samples the servers."""
    context = mp.get_context("spawn")
    shared = Shared(context)
    ready, results, plan_box = context.Queue(), context.Queue(), context.Queue()
    shares = pb._split(target.seats, args.client_procs)
    window_of = {s.attempt_id: s.window for s in target.seats}
    workers = [
        context.Process(
            target=_client_process,
            args=(
                plan_box,
                shared,
                shares[k],
                target.proctors if k == 0 else [],
                window_of if k == 0 else {},
                ready,
                results,
            ),
            daemon=True,
        )
        for k in range(args.client_procs)
    ]
    for worker in workers:
        worker.start()
    client_pids = [ready.get(timeout=120) for _ in workers]
    server_pids = [pid for server in target.servers for pid in server.pids]
    n = len(target.seats)
    proctors_at = time.monotonic() + 1
    candidates_at = proctors_at + args.proctor_lead
    start_deadline = candidates_at + args.start_window + args.start_grace
    plan = Plan(
        proctors_at=proctors_at,
        candidates_at=candidates_at,
        start_window=args.start_window,
        heartbeat=args.heartbeat,
        event_interval=args.event_interval,
        change_mean=_change_mean(args.save_mean, args.save_cap),
        save_cap=args.save_cap,
        reload_mean=args.reload_interval,
        poll=args.poll,
        submit_spread=args.submit_spread,
        compression=args.compression,
        http_timeout=args.http_timeout,
        connect_timeout=args.connect_timeout,
        admit_timeout=args.admit_timeout,
        reconnect_delay=args.reconnect_delay,
        one_address=args.one_address,
        started=args.started,
        http_port=target.http_port,
        ws_base=target.ws_base,
        bare=target.name != "service",
        items=target.items,
    )
    for _ in workers:
        plan_box.put(plan)
    print(
        f"  {target.name}: {n:,} candidates start over {args.start_window:g} s (at most "
        f"{start_deadline - proctors_at:.0f} s), then {args.settle:g} s settle, {args.duration:g} s steady, "
        f"{args.submit_spread:g} s of submissions",
        flush=True,
    )
    samples: list[dict[str, Any]] = []
    marks: dict[str, dict[str, Any]] = {}
    collected: list[dict[str, Any]] = []
    phase: tuple[float, float, float, float] | None = None
    last_sample = last_print = 0.0
    printed: dict[str, Any] = {"t": time.monotonic(), "server_cpu": pb._cpu_seconds(server_pids), "client_cpu": 0.0}
    printed["client_cpu"] = pb._cpu_seconds(client_pids)
    probe = pb.Probe(target.health) if target.health else None
    if probe:
        probe.thread.start()
    hard_deadline = start_deadline + args.settle + args.duration + args.submit_spread + args.drain + 240
    while len(collected) < len(workers) and time.monotonic() < hard_deadline:
        with contextlib.suppress(queue.Empty):
            collected.append(results.get(timeout=0.1))
        stamp = time.monotonic()
        if phase is None and (shared.started.value + shared.failed.value >= n or stamp >= start_deadline):
            s0 = stamp + args.settle
            s1 = s0 + args.duration
            phase = (s0, s1, s1 + args.submit_spread, s1 + args.submit_spread + args.drain)
            shared.phase[:] = list(phase)
            if samples:
                marks["started"] = samples[-1]
        if stamp - last_sample >= 0.5:
            last_sample = stamp
            busy, total = pb._machine_busy()
            sample = {
                "t": stamp,
                "rss": pb._rss_mib(server_pids),
                "server_cpu": pb._cpu_seconds(server_pids),
                "client_cpu": pb._cpu_seconds(client_pids),
                "clients": [pb._cpu_seconds([pid]) for pid in client_pids],
                "client_rss": pb._rss_mib(client_pids),
                "busy": busy,
                "total": total,
            }
            samples.append(sample)
            wanted = {"start": proctors_at - 0.5}
            if phase is not None:
                wanted.update({"steady_start": phase[0], "steady_end": phase[1], "end": phase[3]})
            for name, at in wanted.items():
                if name not in marks and stamp >= at:
                    marks[name] = sample
            if stamp - last_print >= 15 and (phase is None or stamp < phase[3]):
                label = "start" if phase is None else "settle" if stamp < phase[0] else "steady"
                if phase is not None and stamp >= phase[1]:
                    label = "submit"
                span = max(1e-9, stamp - printed["t"])
                lag = probe.between(last_print, stamp) if probe else []
                print(
                    f"    t={stamp - proctors_at:4.0f}s {label:6s} in {shared.started.value:6,} "
                    f"failed {shared.failed.value:4,} saves {shared.saves.value:7,} acked {shared.acked.value:6,} "
                    f"closed {shared.closed.value:4,} submitted {shared.submitted.value:6,}"
                    f" | CPU server {100 * (sample['server_cpu'] - printed['server_cpu']) / span:3.0f}% "
                    f"client {100 * (sample['client_cpu'] - printed['client_cpu']) / span:3.0f}%"
                    f" | /healthz max {max(lag, default=math.nan):6.0f} ms | RSS server {sample['rss']:5.0f} MiB",
                    flush=True,
                )
                last_print = stamp
                printed = sample
    if probe:
        probe.stop.set()
        probe.thread.join(35)
    for worker in workers:
        worker.join(10)
        if worker.is_alive():
            worker.kill()
    errors = [c["error"] for c in collected if "error" in c]
    if errors or len(collected) < len(workers) or phase is None:
        raise RuntimeError(f"a client process failed: {errors or 'no result in time'}")
    for name in ("started", "steady_start", "steady_end", "end"):
        marks.setdefault(name, samples[-1])
    figures = _figures(collected, phase, marks, samples, target)
    figures["gc"] = pb._gc_pauses(target.gc_log, proctors_at, (phase[0], phase[1], phase[2]))
    figures["healthz"] = probe.between(phase[0], phase[1]) if probe else []
    return figures


def _in(t: float, phase: tuple[float, ...]) -> bool:
    return phase[0] <= t < phase[1]


def _figures(
    parts: list[dict[str, Any]],
    phase: tuple[float, float, float, float],
    marks: dict[str, dict[str, Any]],
    samples: list[dict[str, Any]],
    target: Target,
) -> dict[str, Any]:
    lists = (
        "sign_in_ms",
        "start_ms",
        "admit_s",
        "authorize_ms",
        "form_ms",
        "reloads",
        "ticket_ms",
        "ws_ms",
        "submit_ms",
        "saves",
        "heartbeats",
        "deliveries",
        "lag",
        "proctors_up",
    )
    counters = ("failed", "errors", "closes", "error_frames", "to_candidates", "proctor_other")
    totals = (
        "started",
        "proctors_connected",
        "proctor_reconnects",
        "presence_frames",
        "http_connects",
        "http_requests",
        "http_resent",
    )
    merged: dict[str, Any] = {k: [] for k in lists} | {k: Counter[str]() for k in counters}
    merged |= dict.fromkeys((*totals, "unfinished"), 0)
    sent: dict[tuple[str, int], float] = {}
    acked: dict[tuple[str, int], tuple[int, float]] = {}
    items: list[tuple[int, dict[str, Any]]] = []
    for part in parts:
        for key in lists:
            merged[key].extend(part[key])
        for key in counters:
            merged[key].update(part[key])
        for key in (*totals, "unfinished"):
            merged[key] += part[key]
        sent.update(part["sent"])
        acked.update(part["acked"])
        items = items or part["sample_items"]
    steady = phase[1] - phase[0]
    saves = [(t, ms, ok) for t, ms, ok in merged["saves"] if _in(t, phase)]
    events = {key for key, t in sent.items() if _in(t, phase)}
    stored = {key for key in events if key in acked} | {
        (a, s) for a, s, _r, _p in merged["deliveries"] if (a, s) in events
    }
    watchers: Counter[int] = Counter()
    for proctor in target.proctors:
        if proctor.index in merged["proctors_up"]:
            for w in proctor.windows:
                watchers[w] += 1
    window_of = {s.attempt_id: s.window for s in target.seats}
    latency = [(r - sent[(a, s)]) * 1000 for a, s, r, _p in merged["deliveries"] if (a, s) in events]
    start, started, s0, s1 = marks["start"], marks["started"], marks["steady_start"], marks["steady_end"]
    span = max(1e-9, s1["t"] - s0["t"])
    server_cpu = s1["server_cpu"] - s0["server_cpu"]
    clients_cpu = [b - a for a, b in zip(s0["clients"], s1["clients"], strict=True)]
    reloads = sum(1 for t, _ms in merged["reloads"] if _in(t, phase))
    operations = sum(1 for _t, _ms, ok in saves if ok) + len(events & set(acked)) + reloads
    return {
        "candidates": len(target.seats),
        "proctors": len(target.proctors),
        "started": merged["started"],
        "failed": merged["failed"],
        "unfinished": merged["unfinished"],
        "proctors_connected": merged["proctors_connected"],
        "proctor_reconnects": merged["proctor_reconnects"],
        "sign_in_ms": merged["sign_in_ms"],
        "start_ms": merged["start_ms"],
        "admit_s": merged["admit_s"],
        "authorize_ms": merged["authorize_ms"],
        "form_ms": merged["form_ms"],
        "reload_ms": [ms for _t, ms in merged["reloads"]],
        "ticket_ms": merged["ticket_ms"],
        "ws_ms": merged["ws_ms"],
        "submit_ms": merged["submit_ms"],
        "saves_sent": len(saves),
        "saves_ok": sum(1 for _t, _ms, ok in saves if ok),
        "save_ms": [ms for _t, ms, ok in saves if ok],
        "events_sent": len(events),
        "events_acked": len(events & set(acked)),
        "events_stored": len(stored),
        "ack_ms": [acked[key][1] for key in events if key in acked],
        "deliveries": len(latency),
        "expected": sum(watchers[window_of[a]] for a, _s in stored),
        "duplicates": sum(v - 1 for v in Counter((a, s, p) for a, s, _r, p in merged["deliveries"]).values()),
        "latency": latency,
        "heartbeats": sum(1 for t in merged["heartbeats"] if _in(t, phase)),
        "steady": steady,
        "http_connects": merged["http_connects"],
        "http_requests": merged["http_requests"],
        "http_resent": merged["http_resent"],
        "errors": merged["errors"],
        "closes": merged["closes"],
        "error_frames": merged["error_frames"],
        "to_candidates": merged["to_candidates"],
        "proctor_other": merged["proctor_other"],
        "presence_frames": merged["presence_frames"],
        "rss_start": start["rss"],
        "rss_peak": max(s["rss"] for s in samples),
        "server_cpu_start": started["server_cpu"] - start["server_cpu"],
        "server_cpu_pct": 100 * server_cpu / span,
        "cpu_per_operation": 1000 * server_cpu / max(1.0, operations),
        "client_cpu_pct": [100 * c / span for c in clients_cpu],
        "client_cpu_start": started["client_cpu"] - start["client_cpu"],
        "client_rss": s1["client_rss"],
        "lag": [ms for t, ms in merged["lag"] if _in(t, phase)],
        "machine_pct": 100 * (s1["busy"] - s0["busy"]) / max(1e-9, s1["total"] - s0["total"]),
        "other_pct": 100 * ((s1["busy"] - s0["busy"]) - server_cpu - sum(clients_cpu)) / span,
        "items": items,
    }


# ---- the table ------------------------------------------------------------------------------------


def _p3(values: list[float], digits: int = 1) -> tuple[str, float]:
    """p50 / p95 / p99 as text, and p99 for the ratio."""
    if not values:
        return "-", math.nan
    p = [pb._pct(values, q) for q in (0.5, 0.95, 0.99)]
    return " / ".join(pb._fmt(v, digits) for v in p) + f" (n={len(values):,})", p[2]


def _rows(r: dict[str, Any]) -> list[tuple[str, str, float | None]]:
    steady = r["steady"]

    def rate(count: int) -> tuple[str, float]:
        return f"{count / steady:,.1f}/s ({count:,})", count / steady

    def p3(label: str, values: list[float], digits: int = 1) -> tuple[str, str, float]:
        text, p99 = _p3(values, digits)
        return label, text, p99

    sign_in = p3("sign-in ms p50/p95/p99", r["sign_in_ms"])
    failed = sum(r["failed"].values())
    clients = r["client_cpu_pct"]
    return [
        ("candidates in the sitting", f"{r['started']:,} / {r['candidates']:,}", r["started"]),
        ("  could not get in", f"{failed:,} ({pb._counter(r['failed'])})" if failed else "none", None),
        (
            "proctors connected (reconnects)",
            f"{r['proctors_connected']} / {r['proctors']} ({r['proctor_reconnects']})",
            r["proctors_connected"],
        ),
        sign_in,
        p3("start ms p50/p95/p99", r["start_ms"]),
        p3("admission wait s (polled) p50/p95/p99", r["admit_s"], 2),
        p3("proctor authorise ms p50/p95/p99", r["authorize_ms"]),
        p3("form load ms p50/p95/p99", r["form_ms"]),
        p3("form reload ms p50/p95/p99", r["reload_ms"]),
        p3("channel ticket ms p50/p95/p99", r["ticket_ms"]),
        p3("socket connect+welcome ms p50/p95/p99", r["ws_ms"]),
        ("saves sent, steady", *rate(r["saves_sent"])),
        ("saves acknowledged (200), steady", *rate(r["saves_ok"])),
        p3("save ms p50/p95/p99, steady", r["save_ms"]),
        ("events sent, steady", *rate(r["events_sent"])),
        ("events acknowledged, steady", *rate(r["events_acked"])),
        p3("ack ms p50/p95/p99, steady", r["ack_ms"]),
        (
            "events received by proctors",
            f"{r['deliveries']:,} of {r['expected']:,} owed (dup {r['duplicates']})",
            r["deliveries"],
        ),
        p3("event->proctor ms p50/p95/p99, steady", r["latency"]),
        ("heartbeats sent, steady", *rate(r["heartbeats"])),
        p3("submit ms p50/p95/p99", r["submit_ms"]),
        (
            "HTTP requests / connections opened",
            f"{r['http_requests']:,} / {r['http_connects']:,} (resent after an idle close: {r['http_resent']:,})",
            r["http_connects"] / max(1, r["http_requests"]),
        ),
        ("HTTP and socket errors", pb._counter(r["errors"]), None),
        ("sockets closed by the server", pb._counter(r["closes"]), None),
        ("error frames", pb._counter(r["error_frames"]), None),
        ("frames to candidates", pb._counter(r["to_candidates"]), None),
        ("other frames to proctors", pb._counter(r["proctor_other"]) + f"; presence x{r['presence_frames']}", None),
        ("candidates unfinished at the end", f"{r['unfinished']:,}", None),
        (
            "GET /healthz ms p50/p99/max, steady",
            pb._spread(r["healthz"]) if r["healthz"] else "-",
            pb._pct([v for v in r["healthz"] if v != math.inf], 0.99),
        ),
        ("server full-GC pauses, steady", pb._pauses(r["gc"]["steady"]), sum(r["gc"]["steady"])),
        ("server RSS MiB at start / peak", f"{pb._fmt(r['rss_start'])} / {pb._fmt(r['rss_peak'])}", r["rss_peak"]),
        ("server CPU s until all were in", pb._fmt(r["server_cpu_start"], 1), r["server_cpu_start"]),
        ("server CPU % of a core, steady", pb._fmt(r["server_cpu_pct"], 1), r["server_cpu_pct"]),
        ("server CPU ms per save/event/reload", pb._fmt(r["cpu_per_operation"], 2), r["cpu_per_operation"]),
        (
            "generator CPU % of a core, steady",
            f"{pb._fmt(sum(clients), 1)} ({' + '.join(pb._fmt(c, 1) for c in clients)} per process)",
            sum(clients),
        ),
        ("generator CPU s until all were in", pb._fmt(r["client_cpu_start"], 1), r["client_cpu_start"]),
        (
            "generator loop lag ms p99 / max, steady",
            f"{pb._fmt(pb._pct(r['lag'], 0.99), 1)} / {pb._fmt(max(r['lag'], default=math.nan), 1)}",
            pb._pct(r["lag"], 0.99),
        ),
        ("generator RSS MiB", pb._fmt(r["client_rss"]), r["client_rss"]),
        ("machine CPU busy % (all cores), steady", pb._fmt(r["machine_pct"], 1), r["machine_pct"]),
        ("other processes CPU % of a core, steady", pb._fmt(r["other_pct"], 1), r["other_pct"]),
    ]


def print_table(title: str, service: dict[str, Any], ceiling: dict[str, Any] | None) -> None:
    left = _rows(service)
    right = _rows(ceiling) if ceiling else None
    width = max(len(label) for label, _t, _v in left)
    col = max(24, *(len(t) for _l, t, _v in left))
    print()
    print(title)
    header = f"{'':{width}}  {'service':<{col}}"
    rcol = 0
    if right:
        rcol = max(16, *(len(t) for _l, t, _v in right))
        header += f"  {'ceiling':<{rcol}}  service/ceiling"
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


# ---- setup -----------------------------------------------------------------------------------------


def _settings(minutes: int) -> Any:
    from pydantic import SecretStr

    from exam_service.core.settings import Settings

    return Settings(environment="development", token_secret=SecretStr(SECRET), access_token_minutes=minutes)


async def _mint(url: str, people: list[uuid.UUID], sample: set[int], minutes: int) -> tuple[list[str], list[str]]:
    """Each person's e-mail, and a token from a sign-in session of their own for those not in the sample."""
    from sqlalchemy import select

    from exam_service.core.clock import SystemClock
    from exam_service.core.database import create_engine, create_sessionmaker, transaction
    from exam_service.core.tokens import TokenCodec
    from exam_service.identity.service import open_session
    from exam_service.models import User

    settings = _settings(minutes)
    codec, clock = TokenCodec.from_settings(settings), SystemClock()
    n = len(people)
    tokens, emails = [""] * n, [""] * n
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    try:
        for first in range(0, n, 500):
            chunk = range(first, min(first + 500, n))
            async with transaction(sessions) as session:
                ids = [people[i] for i in chunk]
                users = {u.id: u for u in (await session.execute(select(User).where(User.id.in_(ids)))).scalars()}
                for i in chunk:
                    user = users[people[i]]
                    emails[i] = user.email
                    if i not in sample:
                        issued = await open_session(session, user, codec=codec, clock=clock, settings=settings)
                        tokens[i] = issued.access_token
    finally:
        await engine.dispose()
    return tokens, emails


def _dummy_token() -> str:
    from exam_service.core.tokens import TokenCodec

    now = datetime.now(UTC)
    token, _claims = TokenCodec.from_settings(_settings(60)).encode(
        subject=str(uuid.uuid4()),
        role="candidate",
        now=now,
        lifetime=timedelta(hours=1),
        session_id=uuid.uuid4().hex,
        authenticated_at=now,
    )
    return token


def _token_minutes(args: argparse.Namespace) -> int:
    seconds = args.start_window + args.start_grace + args.settle + args.duration + args.submit_spread + args.drain
    return int(min(24 * 60, math.ceil(seconds / 60) + 30))


def _service_run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    url = asyncio.run(pb._postgres(args.postgres, "create", LOAD_DB)) if args.postgres else ""
    url = url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    env = pb._service_env(args, tmp, url)
    minutes = _token_minutes(args)
    env |= {
        "EXAM_TOKEN_SECRET": SECRET,
        "EXAM_ACCESS_TOKEN_MINUTES": str(minutes),
        "EXAM_GRADING_DISPATCH": "off",
        "EXAM_TRUSTED_PROXIES": "127.0.0.1",  # sign-ins name their address in X-Forwarded-For
    }
    try:
        seed_args = argparse.Namespace(
            candidates=args.candidates,
            proctors=args.proctors,
            windows=args.windows,
            sitting_state="in_progress" if args.started else "checked_in",
            seed_cache=args.seed_cache,
            postgres=args.postgres,
        )
        seeded = pb._cached_seed(seed_args, url, env, tmp)
        n = len(seeded.candidates)
        sample = set(range(0, n, max(1, n // max(1, args.sign_ins)))[: args.sign_ins]) if args.sign_ins else set()
        began = time.monotonic()
        tokens, emails = asyncio.run(_mint(url, [u for u, _a, _w in seeded.candidates], sample, minutes))
        staff, _emails = asyncio.run(_mint(url, [u for u, _w in seeded.proctors], set(), minutes))
        print(
            f"setup: {n:,} {'started' if args.started else 'checked-in'} sittings in {args.windows} windows, "
            f"{len(seeded.proctors)} proctors "
            f"({seeded.seconds:.0f} s); {n - len(sample):,} tokens minted ({time.monotonic() - began:.0f} s), "
            f"{len(sample)} candidates sign in",
            flush=True,
        )
        port = free_port()
        command = [*EXE, "serve", "--port", str(port), "--workers", str(args.workers)]
        env, gc_log = pb._with_gc_hook(env, tmp, "service")
        with pb.Process(command, env, port, tmp / "service.log") as server:
            ws = f"ws://127.0.0.1:{port}"
            proctors = [Watcher(j, windows, staff[j], "") for j, (_u, windows) in enumerate(seeded.proctors)]
            seats = [
                Seat(i, str(attempt), w, tokens[i], emails[i], "")
                for i, (_u, attempt, w) in enumerate(seeded.candidates)
            ]
            target = Target("service", [server], seats, proctors, port, ws, server.base, gc_log, [])
            result = _drive(target, args)
        log = (tmp / "service.log").read_text(errors="replace").splitlines()
        result["log_errors"] = [line for line in log if "ERROR" in line or "Traceback" in line]
        return result
    finally:
        if args.postgres:
            with contextlib.suppress(Exception):
                asyncio.run(pb._postgres(args.postgres, "drop", LOAD_DB))


def _ceiling_run(args: argparse.Namespace, tmp: Path, items: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    url = asyncio.run(pb._postgres(args.postgres, "create", CEILING_DB)) if args.postgres else ""
    url = url or f"sqlite+aiosqlite:///{tmp / 'ceiling.db'}"
    try:
        relay_port, http_port = free_port(), free_port()
        env, gc_log = pb._with_gc_hook(dict(os.environ), tmp, "ceiling")
        relay_command = [sys.executable, "-m", "benchmarks.proctoring", "--serve-relay", str(relay_port)]
        ceiling_command = [
            *(sys.executable, "-m", "benchmarks.ceiling", "--database-url", url),
            *("--port", str(http_port), "--workers", str(args.workers)),
        ]
        ws = f"ws://127.0.0.1:{relay_port}"
        covers = pb._assignments(args.proctors, args.windows)
        proctors = [
            Watcher(j, cover, "", f"{ws}/ws/proctor?windows={','.join(map(str, cover))}")
            for j, cover in enumerate(covers)
        ]
        token = _dummy_token()  # a bearer header of a real token's size; the ceiling app need not read it
        seats = []
        for i in range(args.candidates):
            attempt, w = str(uuid.uuid4()), i % args.windows
            seats.append(Seat(i, attempt, w, token, "", f"{ws}/ws/candidate?attempt={attempt}&window={w}"))
        with (
            pb.Process(relay_command, env, relay_port, tmp / "relay.log") as relay,
            pb.Process(ceiling_command, env, http_port, tmp / "ceiling.log") as ceiling,
        ):
            target = Target("ceiling", [ceiling, relay], seats, proctors, http_port, ws, relay.base, gc_log, items)
            return _drive(target, args)
    finally:
        if args.postgres:
            with contextlib.suppress(Exception):
                asyncio.run(pb._postgres(args.postgres, "drop", CEILING_DB))


# ---- main -----------------------------------------------------------------------------------------


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--quick", action="store_true", help="500 candidates, 4 proctors, 2 windows, 60 s steady")
    add("--candidates", type=int, help="candidates (default 10000)")
    add("--proctors", type=int, help="proctor consoles (default 20)")
    add("--windows", type=int, help="proctored windows the candidates are spread over (default 4)")
    add("--duration", type=float, help="seconds of steady load measured (default 120)")
    add("--start-window", type=float, default=60.0, help="seconds over which the candidates start")
    add("--start-grace", type=float, default=240.0, help="seconds the starts may overrun the window")
    add("--settle", type=float, default=10.0, help="seconds after the last start before measuring")
    add("--submit-spread", type=float, default=30.0, help="seconds over which the candidates submit")
    add("--drain", type=float, default=5.0, help="seconds after the submissions before closing")
    add("--heartbeat", type=float, default=10.0, help="seconds between a candidate's heartbeats")
    add("--event-interval", type=float, default=60.0, help="seconds between a candidate's events")
    add("--save-mean", type=float, default=12.0, help="mean seconds between a candidate's saves")
    add("--save-cap", type=float, default=15.0, help="a candidate saves at least this often (s)")
    add("--reload-interval", type=float, default=300.0, help="mean seconds between form reloads")
    add("--poll", type=float, default=3.0, help="seconds between polls while waiting for the proctor")
    add("--sign-ins", type=int, default=50, help="candidates who sign in over HTTP (the others get minted tokens)")
    add(
        "--started",
        action="store_true",
        help="seed the sittings in progress (authorised): the steady phase without the start and admission",
    )
    add("--one-address", action="store_true", help="sign in from one address (a test centre's NAT)")
    add("--workers", type=int, default=1, help="uvicorn workers of the service (and of the ceiling app)")
    add("--redis", nargs="?", const="redis://127.0.0.1:6379", help="use Redis as the broker (default URL if bare)")
    add(
        "--postgres",
        nargs="?",
        const="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        help=f"PostgreSQL server to create {LOAD_DB!r} and {CEILING_DB!r} on (default URL if bare)",
    )
    add("--seed-cache", metavar="DIR", help="SQLite: keep the seeded database here and reuse it")
    add("--no-ceiling", action="store_true", help="skip the ceiling run")
    add("--client-procs", type=int, help="client processes (default: as many as the descriptor limit needs)")
    add("--compression", choices=("browser", "small", "none"), default="browser", help="permessage-deflate offer")
    add("--http-timeout", type=float, default=60.0, help="seconds for one HTTP request")
    add("--connect-timeout", type=float, default=60.0, help="seconds for a socket's handshake and first frame")
    add("--admit-timeout", type=float, default=180.0, help="seconds a candidate waits for a proctor")
    add("--reconnect-delay", type=float, default=2.0, help="seconds before a closed console reconnects")
    add("--proctor-lead", type=float, default=3.0, help="seconds proctors connect before the first candidate")
    add("--log-dir", metavar="DIR", help="keep the servers' logs here")
    add("--server-log-level", default="WARNING", help="EXAM_LOG_LEVEL of the service")
    args = parser.parse_args(argv)
    quick = {"candidates": 500, "proctors": 4, "windows": 2, "duration": 60.0}
    full = {"candidates": 10_000, "proctors": 20, "windows": 4, "duration": 120.0}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if min(args.candidates, args.proctors, args.windows, args.workers) < 1:
        parser.error("--candidates, --proctors, --windows and --workers must be at least 1")
    if not 0 < args.duration <= 1800 or args.start_window < 0 or args.submit_spread < 0:
        parser.error("--duration must be in (0, 1800]; --start-window and --submit-spread not negative")
    if not 0 < args.save_mean < args.save_cap:
        parser.error("--save-mean must be positive and below --save-cap")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if args.client_procs is None:  # a socket and an HTTP connection per candidate
        args.client_procs = max(1, math.ceil((2 * args.candidates + args.proctors) / max(1, hard - 500)))
    return args


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    pb._raise_nofile()
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * args.candidates // args.client_procs + args.proctors + 200
    if soft < need:
        raise SystemExit(f"RLIMIT_NOFILE is {soft}; {need} descriptors are needed per client process")
    backend = "PostgreSQL" if args.postgres else "SQLite"
    broker = "Redis" if args.redis else "in-process broker"
    title = (
        f"load: {backend}, {broker}, {args.workers} worker(s); {args.candidates:,} candidates in {args.windows} "
        f"proctored windows, {args.proctors} proctors; start over {args.start_window:g} s, {args.sign_ins} sign in; "
        f"save every {args.save_mean:g} s (at most {args.save_cap:g}), event every {args.event_interval:g} s, "
        f"heartbeat {args.heartbeat:g} s, reload every {args.reload_interval:g} s; steady {args.duration:g} s; "
        f"{args.client_procs} client process(es); {os.cpu_count()} CPUs; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"code {pb._code_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="load-bench-") as name:
        tmp = Path(name)
        try:
            service = _service_run(args, tmp)
            ceiling = None
            if not args.no_ceiling:
                ceiling = _ceiling_run(args, tmp, service["items"] or FALLBACK_ITEMS)
        finally:
            if args.log_dir:
                Path(args.log_dir).mkdir(parents=True, exist_ok=True)
                for log in tmp.glob("*.log"):
                    shutil.copy(log, Path(args.log_dir) / log.name)
    print_table(title, service, ceiling)
    if ceiling:
        print("\nceiling: HTTP saves to benchmarks.ceiling, sockets to the bare relay of benchmarks.proctoring")
    for name, run in (("service", service), ("ceiling", ceiling)):
        if run and (max(run["client_cpu_pct"], default=0) > 80 or pb._pct(run["lag"], 0.99) > 100):
            print(f"\n{name} run: a client process was busy or late (see the generator rows); add --client-procs")
    if service["log_errors"]:
        print(f"\nserver log: {len(service['log_errors'])} error line(s), first: {service['log_errors'][0][:300]}")


if __name__ == "__main__":
    main()
