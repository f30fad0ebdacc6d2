from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.broker import Broker
from exam_service.core.clock import FrozenClock
from exam_service.core.settings import Settings
from exam_service.main import create_app
from tests.delivery.helpers import Sitting, sitting
from tests.proctoring.live import Live, serve


@pytest.fixture
async def live(settings: Settings, clock: FrozenClock, broker: Broker) -> AsyncIterator[Live]:
    app = create_app(settings, clock=clock, broker=broker)
    async with serve(app) as running:
        yield running


@pytest.fixture
async def proctored(live: Live, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> Sitting:
    """A proctored sitting, authorised and running, reached over a real socket."""
    return await sitting(live.http, sessionmaker, clock, proctored=True)
