"""Every query of proctoring: tickets, incidents, integrity, snapshots, and the console's sitting rows."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.models import (
    Attempt,
    ChannelTicket,
    Incident,
    IncidentStatus,
    SittingIntegrity,
    User,
    WebcamSnapshot,
)


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, ticket: ChannelTicket) -> None:
        self.session.add(ticket)
        await self.session.flush()

    async def redeem(self, ticket_hash: str, now: datetime) -> ChannelTicket | None:
        """Marks the ticket used and returns it, atomically: of two handshakes with one ticket, one wins."""
        statement = (
            update(ChannelTicket)
            .where(
                ChannelTicket.ticket_hash == ticket_hash,
                ChannelTicket.used_at.is_(None),
                ChannelTicket.expires_at > now,
            )
            .values(used_at=now)
            .returning(ChannelTicket)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def purge_before(self, moment: datetime) -> None:
        await self.session.execute(delete(ChannelTicket).where(ChannelTicket.expires_at < moment))


class IncidentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_attempt(self, attempt_id: uuid.UUID) -> list[Incident]:
        statement = select(Incident).where(Incident.attempt_id == attempt_id).order_by(Incident.event_seq)
        return list((await self.session.execute(statement)).scalars())

    async def for_attempts(self, attempt_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Incident]]:
        found: dict[uuid.UUID, list[Incident]] = {a: [] for a in attempt_ids}
        statement = select(Incident).where(Incident.attempt_id.in_(attempt_ids)).order_by(Incident.event_seq)
        for incident in (await self.session.execute(statement)).scalars():
            found[incident.attempt_id].append(incident)
        return found

    async def open_for(self, attempt_ids: list[uuid.UUID]) -> list[Incident]:
        statement = (
            select(Incident)
            .where(Incident.attempt_id.in_(attempt_ids), Incident.status == IncidentStatus.open)
            .order_by(Incident.event_seq)
        )
        return list((await self.session.execute(statement)).scalars())

    async def get(self, incident_id: uuid.UUID) -> Incident | None:
        return await self.session.get(Incident, incident_id)

    async def add(self, incident: Incident) -> None:
        self.session.add(incident)
        await self.session.flush()


class IntegrityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, attempt_id: uuid.UUID) -> SittingIntegrity | None:
        return await self.session.get(SittingIntegrity, attempt_id)

    async def for_attempts(self, attempt_ids: list[uuid.UUID]) -> dict[uuid.UUID, SittingIntegrity]:
        statement = select(SittingIntegrity).where(SittingIntegrity.attempt_id.in_(attempt_ids))
        return {row.attempt_id: row for row in (await self.session.execute(statement)).scalars()}

    async def save(self, row: SittingIntegrity) -> None:
        self.session.add(row)
        await self.session.flush()


class SnapshotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, snapshot: WebcamSnapshot) -> None:
        self.session.add(snapshot)
        await self.session.flush()

    async def get(self, snapshot_id: uuid.UUID) -> WebcamSnapshot | None:
        return await self.session.get(WebcamSnapshot, snapshot_id)

    async def of_attempt(self, attempt_id: uuid.UUID, limit: int = 500) -> list[WebcamSnapshot]:
        statement = (
            select(WebcamSnapshot)
            .where(WebcamSnapshot.attempt_id == attempt_id)
            .order_by(WebcamSnapshot.taken_at.desc())
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())

    async def latest_for(self, attempt_ids: list[uuid.UUID]) -> dict[uuid.UUID, WebcamSnapshot]:
        newest = (
            select(WebcamSnapshot.attempt_id, func.max(WebcamSnapshot.taken_at).label("taken_at"))
            .where(WebcamSnapshot.attempt_id.in_(attempt_ids))
            .group_by(WebcamSnapshot.attempt_id)
            .subquery()
        )
        statement = select(WebcamSnapshot).join(
            newest,
            and_(WebcamSnapshot.attempt_id == newest.c.attempt_id, WebcamSnapshot.taken_at == newest.c.taken_at),
        )
        return {row.attempt_id: row for row in (await self.session.execute(statement)).scalars()}

    async def older_than(self, moment: datetime) -> list[WebcamSnapshot]:
        statement = select(WebcamSnapshot).where(WebcamSnapshot.taken_at < moment)
        return list((await self.session.execute(statement)).scalars())

    async def remove(self, snapshot_ids: list[uuid.UUID]) -> None:
        await self.session.execute(delete(WebcamSnapshot).where(WebcamSnapshot.id.in_(snapshot_ids)))


class SittingRepository:
    """The console's rows: the attempts of some windows with their candidates."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def in_windows(self, window_ids: list[uuid.UUID]) -> list[tuple[Attempt, User]]:
        statement = (
            select(Attempt, User)
            .join(User, User.id == Attempt.candidate_id)
            .where(Attempt.window_id.in_(window_ids))
            .order_by(Attempt.created_at)
        )
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]
