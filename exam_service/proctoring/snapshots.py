"""Webcam snapshots: checked (JPEG magic bytes, decodes, sane size), stored behind ``SnapshotStorage``, purged.

The storage interface is small so a deployment can put snapshots in object storage; the
default keeps them in a local folder (``EXAM_SNAPSHOT_DIR``), one file per snapshot.
"""

from __future__ import annotations

import io
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from PIL import Image, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from exam_service.core.clock import Clock
from exam_service.core.errors import Conflict, NotFound, Unprocessable
from exam_service.delivery import events
from exam_service.models import Attempt, AttemptState, WebcamSnapshot
from exam_service.proctoring.repository import SnapshotRepository

JPEG_MAGIC = b"\xff\xd8\xff"
MAX_PIXELS = 4096 * 4096
ACCEPTS = frozenset({AttemptState.awaiting_authorization, AttemptState.in_progress, AttemptState.paused})


class SnapshotStorage(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...
    async def get(self, key: str) -> bytes: ...
    async def delete(self, key: str) -> None: ...


class LocalStorage:
    """One file per snapshot under ``root``, written to a temporary name, synced, then renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("a storage key stays inside the storage folder")
        return path

    async def put(self, key: str, data: bytes) -> None:
        await run_in_threadpool(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await run_in_threadpool(path.read_bytes)
        except FileNotFoundError as exc:
            raise NotFound("the snapshot is no longer stored") from exc

    async def delete(self, key: str) -> None:
        await run_in_threadpool(lambda: self._path(key).unlink(missing_ok=True))


def inspect_jpeg(data: bytes, max_bytes: int) -> tuple[int, int]:
    """Width and height of a real JPEG; anything else is refused with the reason."""
    if len(data) > max_bytes:
        raise Unprocessable(f"body: a snapshot is at most {max_bytes} bytes", field="body")
    if not data.startswith(JPEG_MAGIC):
        raise Unprocessable("body: not a JPEG image (wrong magic bytes)", field="body")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "JPEG":
                raise Unprocessable("body: not a JPEG image", field="body")
            width, height = image.size
            if not (16 <= width <= 4096 and 16 <= height <= 4096) or width * height > MAX_PIXELS:
                raise Unprocessable(f"body: a {width}x{height} image is not a webcam frame", field="body")
            image.load()  # decodes every byte: a truncated or corrupt file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise Unprocessable("body: the image does not decode", field="body") from exc
    return width, height


async def store(
    session: AsyncSession, storage: SnapshotStorage, attempt: Attempt, data: bytes, max_bytes: int, clock: Clock
) -> WebcamSnapshot:
    if attempt.state not in ACCEPTS:
        raise Conflict(f"snapshots are not taken while the attempt is {attempt.state.value}", state=attempt.state.value)
    width, height = await run_in_threadpool(inspect_jpeg, data, max_bytes)
    now = clock.now()
    snapshot_id = uuid.uuid4()
    key = f"{attempt.id}/{now.strftime('%Y%m%dT%H%M%S')}-{snapshot_id.hex}.jpg"
    await storage.put(key, data)
    snapshot = WebcamSnapshot(
        id=snapshot_id,
        attempt_id=attempt.id,
        taken_at=now,
        storage_key=key,
        size_bytes=len(data),
        width=width,
        height=height,
    )
    await SnapshotRepository(session).add(snapshot)
    detail = {"snapshot_id": str(snapshot_id), "width": width, "height": height, "bytes": len(data)}
    await events.append(session, attempt, "webcam_snapshot", detail, events.SYSTEM, now)
    return snapshot


async def purge(session: AsyncSession, storage: SnapshotStorage, retention_days: int, clock: Clock) -> int:
    """Removes snapshots older than the retention period, files first; returns how many."""
    old = await SnapshotRepository(session).older_than(clock.now() - timedelta(days=retention_days))
    for snapshot in old:
        await storage.delete(snapshot.storage_key)
    await SnapshotRepository(session).remove([s.id for s in old])
    return len(old)
