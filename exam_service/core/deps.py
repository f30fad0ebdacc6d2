"""Request-scoped access to what the lifespan built: settings, clock, token codec.

Every dependency is a coroutine: FastAPI runs a plain function in a worker thread, a thread hop
per dependency per request.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request

from exam_service.core.clock import Clock
from exam_service.core.settings import Settings
from exam_service.core.tokens import TokenCodec

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_token_codec(request: Request) -> TokenCodec:
    codec: TokenCodec = request.app.state.token_codec
    return codec


def client_address(request: Request) -> str:
    """The caller's IP address, as the login throttle counts it.

    The TCP peer, unless the peer is one of ``EXAM_TRUSTED_PROXIES``: then ``X-Forwarded-For``
    is read from the right (each proxy appends the address it received from) and the first
    address that is not itself a trusted proxy is the caller. Anything left of it was written by
    the caller and is ignored. A malformed entry in that walk, or a header naming only trusted
    proxies, leaves the peer's own address.
    """
    peer = request.client.host if request.client else "unknown"
    settings: Settings = request.app.state.settings
    proxies = _networks(tuple(settings.trusted_proxies))
    peer_ip = _ip(peer)
    if peer_ip is None:
        return peer
    if not _trusted(peer_ip, proxies):
        return str(peer_ip)
    hops = [hop for header in request.headers.getlist("x-forwarded-for") for hop in header.split(",")]
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:
            break
        if not _trusted(address, proxies):
            return str(address)
    return str(peer_ip)


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """The trusted proxies as networks; an entry that is not an address or a CIDR range is skipped."""
    networks = []
    for entry in entries:
        for part in entry.split(","):
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                continue
    return tuple(networks)


def _ip(text: str) -> IPAddress | None:
    """An address as proxies write it (``1.2.3.4``, ``1.2.3.4:567``, ``[::1]:567``), normalised."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ClockDep = Annotated[Clock, Depends(get_clock)]
TokenCodecDep = Annotated[TokenCodec, Depends(get_token_codec)]


async def caller_address(request: Request) -> str:
    return client_address(request)


ClientAddress = Annotated[str, Depends(caller_address)]
