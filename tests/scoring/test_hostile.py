"""probe"""

from __future__ import annotations

import json
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.models import Role
from tests.delivery.helpers import sitting
from tests.factories import auth_headers
from tests.scoring.helpers import answer, form_rows, score, submit
from tests.scoring.test_corrections import ALL_THEORY

Session = async_sessionmaker[AsyncSession]


async def raw(client, method, path, headers, text):
    return await client.request(method, path, headers={**headers, "Content-Type": "application/json"}, content=text.encode("utf-8", "surrogatepass"))


async def test_probe(client: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock, backend: str) -> None:
    transport = httpx.ASGITransport(app=client.app, client=("203.0.113.7", 50000), raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")  # noqa
    s = await sitting(client, sessionmaker, clock, rules=ALL_THEORY)
    await answer(s, sessionmaker)
    await submit(s)
    await score(sessionmaker, clock, s.attempt_id)
    _, ex = await auth_headers(client, sessionmaker, clock, Role.examiner)
    rows = await form_rows(sessionmaker, s.attempt_id)
    out = []
    base = f"/api/v1/results/{s.attempt_id}"
    for body in ['{"points": NaN, "reason": "abcd"}', '{"points": Infinity, "reason": "abcd"}', '{"points": 1e400, "reason": "abcd"}',
                 '{"points": ' + "9" * 400 + ', "reason": "abcd"}', '{"points": true, "reason": "abcd"}', '{"points": "0.5", "reason": "abcd"}',
                 '{"points": 0.5, "reason": "   "}', '{"points": 0.5, "reason": "ab\\u0000cd"}', '{"points": 0.5, "reason": "ab\\ud800cd"}',
                 '{"points": 0.5}', '[]', '"x"', '{"points": 0.5, "reason": "abcd", "extra": 1}',
                 '{"points": ' + "[" * 5000 + "]" * 5000 + ', "reason": "abcd"}']:
        for pos in ("1", "0", "-1", str(10**12), str(10**30), "abc"):
            r = await raw(client, "POST", f"{base}/items/{pos}/override", ex, body)
            out.append(("override", pos, body[:60], r.status_code, r.text[:200]))
    for body in ['{"reason": "ab\\u0000cd"}', '{"reason": "   "}', '{"reason": "ab\\ud800cd"}', '{"reason": ""}']:
        r = await raw(client, "POST", f"{base}/invalidation", ex, body)
        out.append(("invalidation", body, r.status_code, r.text[:200]))
    for t, v in [(t, v) for t in ("numeric", "true_false", "single_choice", "short_text", "matching", "multiple_response", "ordering") for v in ['NaN', 'Infinity', '"5"', '"yes"', '1', '"ab\\u0000"', '[]', '{}', 'null', '"' + "x" * 300000 + '"', "[" * 900 + "]" * 900, "[" * 5000 + "]" * 5000]]:
        version = next((v2 for r2, v2 in rows if v2.payload["type"] == t), None)
        if version is None:
            out.append(("corr", t, "absent"))
            continue
        for kind in ("replace_key", "accept_answer"):
            r = await raw(client, "POST", f"/api/v1/bank/versions/{version.id}/corrections", ex, '{"kind": "%s", "value": %s, "reason": "abcd"}' % (kind, v))
            out.append(("corr", t, kind, v[:30], r.status_code, r.text[:200]))
    r = await raw(client, "POST", f"/api/v1/bank/versions/{rows[0][1].id}/corrections", ex, '{"kind": "nope", "value": 1, "reason": "abcd"}')
    out.append(("corr kind", r.status_code, r.text[:300]))
    for q in ({"limit": 0}, {"limit": 10**12}, {"offset": -1}, {"offset": 10**30}, {"min_risk": -1}, {"tier": "x"}, {"state": "x"}, {"window_id": "x"}, {"change_pending": "maybe"}):
        r = await client.get("/api/v1/results", headers=ex, params=q)
        out.append(("queue", q, r.status_code, r.text[:200]))
    for bad in ("not-a-uuid", "123", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", "%27%20OR%201%3D1"):
        r = await client.get(f"/api/v1/results/{bad}", headers=ex)
        out.append(("uuid", bad, r.status_code, r.text[:200]))
        r = await client.get(f"/api/v1/attempts/{bad}/result", headers=s.headers)
        out.append(("uuid-cand", bad, r.status_code, r.text[:200]))
    r = await client.post(f"{base}/release", headers=ex, content=b"x" * 1_000_000)
    out.append(("big", r.status_code, r.text[:200]))
    with open(f"/tmp/probe/scoring-{backend}.txt", "w") as f:
        for o in out:
            f.write(repr(o) + "\n")
