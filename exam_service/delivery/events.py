"""A sitting's event log: numbered per sitting under the attempt's lock, hash-chained, published after commit.

Every entry is written before anyone is told about it: ``append`` stores the entry in the
request's transaction and stages the broker message, which leaves only once that transaction
commits. The attempt row carries the last sequence number and hash, so numbering needs no
read of the log and two writers cannot take the same number (they hold the row lock).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.core.broker import LIVE_CHANNEL
from exam_service.core.database import publish_after_commit
from exam_service.models import Attempt, SittingEvent

# what the candidate's page is sent: the proctor's messages and what changes their clock
TO_CANDIDATE = frozenset({"warning", "chat", "state_changed", "time_extended", "authorized", "concurrent_session"})


@dataclass(frozen=True)
class Origin:
    """Who caused an entry: a role (``candidate``, ``proctor``...) or ``system``, and the account."""

    source: str
    actor_id: uuid.UUID | None = None
    client_session: str | None = None
    client_seq: int | None = None


SYSTEM = Origin("system")


def chain_hash(event: SittingEvent) -> str:
    entry = {
        "attempt": str(event.attempt_id),
        "seq": event.seq,
        "kind": event.kind,
        "source": event.source,
        "actor": str(event.actor_id) if event.actor_id else None,
        "client_session": event.client_session,
        "client_seq": event.client_seq,
        "detail": event.detail,
        "at": event.at.isoformat(),
        "prev": event.prev_hash,
    }
    return hashlib.sha256(json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def message_of(event: SittingEvent, window_id: uuid.UUID) -> dict[str, Any]:
    """The event as it travels on the broker and the sockets."""
    return {
        "type": "event",
        "attempt_id": str(event.attempt_id),
        "window_id": str(window_id),
        "seq": event.seq,
        "kind": event.kind,
        "source": event.source,
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "client_seq": event.client_seq,
        "detail": event.detail,
        "at": event.at.isoformat(),
    }


async def append(
    session: AsyncSession, attempt: Attempt, kind: str, detail: dict[str, Any], origin: Origin, at: datetime
) -> SittingEvent:
    """Appends an entry; ``attempt`` must be locked by the caller (every attempt dependency does)."""
    event = SittingEvent(
        attempt_id=attempt.id,
        seq=attempt.event_seq + 1,
        kind=kind,
        source=origin.source,
        actor_id=origin.actor_id,
        client_session=origin.client_session,
        client_seq=origin.client_seq,
        detail=detail,
        at=at,
        prev_hash=attempt.event_hash,
    )
    event.hash = chain_hash(event)
    attempt.event_seq, attempt.event_hash = event.seq, event.hash
    session.add(event)
    await session.flush()
    publish_after_commit(session, LIVE_CHANNEL, message_of(event, attempt.window_id))
    return event


async def find_client_event(
    session: AsyncSession, attempt_id: uuid.UUID, client_session: str, client_seq: int
) -> SittingEvent | None:
    """The entry a client already delivered under this number, so a resend is acknowledged, not stored twice."""
    statement = select(SittingEvent).where(
        SittingEvent.attempt_id == attempt_id,
        SittingEvent.client_session == client_session,
        SittingEvent.client_seq == client_seq,
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def of_attempts(
    session: AsyncSession, attempt_ids: list[uuid.UUID], kinds: frozenset[str]
) -> dict[uuid.UUID, list[SittingEvent]]:
    """The entries of several sittings, of the given kinds, each sitting's in order."""
    found: dict[uuid.UUID, list[SittingEvent]] = {a: [] for a in attempt_ids}
    statement = (
        select(SittingEvent)
        .where(SittingEvent.attempt_id.in_(attempt_ids), SittingEvent.kind.in_(kinds))
        .order_by(SittingEvent.attempt_id, SittingEvent.seq)
    )
    for event in (await session.execute(statement)).scalars():
        found[event.attempt_id].append(event)
    return found


async def highest_client_seq(session: AsyncSession, attempt_id: uuid.UUID, client_session: str) -> int:
    """The highest event number this browser tab has stored for the sitting (0 if none)."""
    statement = select(func.max(SittingEvent.client_seq)).where(
        SittingEvent.attempt_id == attempt_id, SittingEvent.client_session == client_session
    )
    return int((await session.execute(statement)).scalar_one() or 0)


async def since(
    session: AsyncSession,
    attempt_id: uuid.UUID,
    after: int,
    *,
    up_to: int | None = None,
    kinds: frozenset[str] | None = None,
    limit: int = 5000,
) -> list[SittingEvent]:
    statement = select(SittingEvent).where(SittingEvent.attempt_id == attempt_id, SittingEvent.seq > after)
    if up_to is not None:
        statement = statement.where(SittingEvent.seq <= up_to)
    if kinds is not None:
        statement = statement.where(SittingEvent.kind.in_(kinds))
    return list((await session.execute(statement.order_by(SittingEvent.seq).limit(limit))).scalars())


@dataclass(frozen=True)
class ChainReport:
    valid: bool
    entries: int
    broken_at: int | None
    problem: str | None


async def verify(session: AsyncSession, attempt: Attempt) -> ChainReport:
    """Recomputes every link: an edited, removed or inserted entry shows as the first bad sequence number."""
    entries = await since(session, attempt.id, 0, limit=1_000_000)
    prev, expected_seq = "", 1
    for event in entries:
        if event.seq != expected_seq:
            return ChainReport(False, len(entries), expected_seq, f"entry {expected_seq} is missing")
        if event.prev_hash != prev:
            return ChainReport(False, len(entries), event.seq, "does not link to the entry before it")
        if chain_hash(event) != event.hash:
            return ChainReport(False, len(entries), event.seq, "its content does not match its hash")
        prev, expected_seq = event.hash, expected_seq + 1
    if attempt.event_seq != len(entries) or attempt.event_hash != prev:
        return ChainReport(False, len(entries), len(entries) + 1, "the log ends before the sitting's last entry")
    return ChainReport(True, len(entries), None, None)


async def last_of(session: AsyncSession, attempt_id: uuid.UUID, kinds: tuple[str, ...]) -> SittingEvent | None:
    """The most recent entry of one of ``kinds``."""
    statement = (
        select(SittingEvent)
        .where(SittingEvent.attempt_id == attempt_id, SittingEvent.kind.in_(kinds))
        .order_by(SittingEvent.seq.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()
