"""Single-use, short-lived tickets for WebSocket handshakes, so no bearer token travels in a URL.

Only a hash of the ticket is stored; redeeming marks it used in the same statement that finds
it, so a ticket opens one socket at most, across every worker.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.core.clock import Clock
from exam_service.identity.repository import UserRepository
from exam_service.models import ChannelTicket, User
from exam_service.proctoring.repository import TicketRepository


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


async def issue(
    session: AsyncSession,
    user: User,
    clock: Clock,
    lifetime_seconds: int,
    *,
    attempt_id: uuid.UUID | None = None,
    window_id: uuid.UUID | None = None,
    client_session: str | None = None,
) -> str:
    ticket = secrets.token_urlsafe(32)
    repo = TicketRepository(session)
    await repo.purge_before(clock.now() - timedelta(minutes=5))  # cheap: expires_at is indexed
    await repo.add(
        ChannelTicket(
            ticket_hash=_digest(ticket),
            user_id=user.id,
            attempt_id=attempt_id,
            window_id=window_id,
            client_session=client_session,
            expires_at=clock.now() + timedelta(seconds=lifetime_seconds),
        )
    )
    return ticket


@dataclass(frozen=True)
class Pass:
    user: User
    attempt_id: uuid.UUID | None
    window_id: uuid.UUID | None
    client_session: str | None


async def redeem(session: AsyncSession, ticket: str, clock: Clock) -> Pass | None:
    """The ticket's holder if it is known, unused, unexpired and the account still active; else ``None``."""
    if not ticket or len(ticket) > 100:
        return None
    row = await TicketRepository(session).redeem(_digest(ticket), clock.now())
    if row is None:
        return None
    user = await UserRepository(session).get(row.user_id)
    if user is None or not user.is_active:
        return None
    return Pass(user, row.attempt_id, row.window_id, row.client_session)
