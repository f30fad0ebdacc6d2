"""Request-scoped access to what the lifespan built: settings, clock, token codec."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from exam_service.core.clock import Clock
from exam_service.core.settings import Settings
from exam_service.core.tokens import TokenCodec


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_token_codec(request: Request) -> TokenCodec:
    codec: TokenCodec = request.app.state.token_codec
    return codec


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ClockDep = Annotated[Clock, Depends(get_clock)]
TokenCodecDep = Annotated[TokenCodec, Depends(get_token_codec)]
ClientAddress = Annotated[str, Depends(client_address)]
