"""Webcam snapshots: only real JPEGs are kept, proctors of the sitting see them, old ones are purged."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.core.database import transaction
from exam_service.core.settings import Settings
from exam_service.proctoring import snapshots
from exam_service.proctoring.snapshots import LocalStorage
from tests.delivery.helpers import Sitting, sitting
from tests.factories import bearer, token_for


def frame(kind: str = "JPEG", size: tuple[int, int] = (320, 240)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, kind)
    return buffer.getvalue()


@pytest.fixture
def snapshot_dir(settings: Settings, tmp_path: Path) -> Path:
    settings.snapshot_dir = str(tmp_path / "snapshots")
    return tmp_path / "snapshots"


@pytest.fixture
async def s(
    snapshot_dir: Path, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> Sitting:
    return await sitting(client, sessionmaker, clock, proctored=True, window={"webcam_interval_seconds": 10})


async def upload(s: Sitting, body: bytes, content_type: str = "image/jpeg") -> httpx.Response:
    return await s.client.post(f"{s.url}/snapshots", headers=s.headers | {"Content-Type": content_type}, content=body)


async def test_a_snapshot_is_stored_logged_and_shown_to_the_proctor(s: Sitting, snapshot_dir: Path) -> None:
    image = frame()
    stored = await upload(s, image)
    assert stored.status_code == 201, stored.text
    assert (stored.json()["width"], stored.json()["height"]) == (320, 240)
    listed = (await s.client.get(f"{s.staff_url}/snapshots", headers=s.proctor)).json()
    assert [x["id"] for x in listed] == [stored.json()["id"]]
    fetched = await s.client.get(f"/api/v1/proctoring/snapshots/{stored.json()['id']}", headers=s.proctor)
    assert (fetched.status_code, fetched.headers["content-type"], fetched.content) == (200, "image/jpeg", image)
    assert len(list(snapshot_dir.rglob("*.jpg"))) == 1
    log = (await s.client.get(f"{s.staff_url}/events", headers=s.proctor)).json()
    assert log[-1]["kind"] == "webcam_snapshot"
    # the candidate cannot read snapshots back, and another candidate's attempt is not reachable
    assert (
        await s.client.get(f"/api/v1/proctoring/snapshots/{stored.json()['id']}", headers=s.headers)
    ).status_code == 403


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (frame("PNG"), "image/jpeg", "wrong magic bytes"),
        (frame()[:600], "image/jpeg", "does not decode"),
        (b"\xff\xd8\xff" + b"<script>alert(1)</script>" * 20, "image/jpeg", "decode"),
        (frame(size=(8, 8)), "image/jpeg", "not a webcam frame"),
        (frame(), "text/plain", "image/jpeg"),
    ],
    ids=["png", "truncated", "fake-jpeg", "tiny", "content-type"],
)
async def test_anything_but_a_real_jpeg_is_refused(
    s: Sitting, snapshot_dir: Path, body: bytes, content_type: str, message: str
) -> None:
    refused = await upload(s, body, content_type)
    assert refused.status_code == 422
    assert message in refused.json()["detail"]
    assert not list(snapshot_dir.rglob("*.jpg"))


async def test_old_snapshots_are_purged_with_their_files(
    s: Sitting, snapshot_dir: Path, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    old = (await upload(s, frame())).json()
    clock.advance(days=31)
    storage = LocalStorage(snapshot_dir)
    async with transaction(sessionmaker) as session:
        assert await snapshots.purge(session, storage, 30, clock) == 1
    assert not list(snapshot_dir.rglob("*.jpg"))
    proctor = bearer(await token_for(s.client, s.proctor_user.email))  # a month later: a new sign-in
    gone = await s.client.get(f"/api/v1/proctoring/snapshots/{old['id']}", headers=proctor)
    assert gone.status_code == 404
