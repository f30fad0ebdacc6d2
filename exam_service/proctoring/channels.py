"""The two WebSocket channels (protocol: docs/PROCTORING.md).

A connection is: ticket and Origin checked, ``hello`` received, subscribed to the hub, the
missed entries sent from the log, then two loops (frames in, queued frames out).
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from exam_service.proctoring.candidate_channel import CandidateChannel
from exam_service.proctoring.handshake import Context
from exam_service.proctoring.proctor_channel import ProctorChannel

router = APIRouter()


@router.websocket("/ws/candidate")
async def candidate_channel(websocket: WebSocket) -> None:
    await CandidateChannel(websocket, Context(websocket)).serve()


@router.websocket("/ws/proctor")
async def proctor_channel(websocket: WebSocket) -> None:
    await ProctorChannel(websocket, Context(websocket)).serve()
