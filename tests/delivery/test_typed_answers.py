"""A number the service cannot read is refused when it is saved, and the answer saved before stays."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from tests.delivery.helpers import sitting
from tests.factories import blueprint_payload


async def test_an_unreadable_number_is_refused_at_save_and_the_saved_answer_stays(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    every_item = {"sections": blueprint_payload(per_domain=4)["sections"]}
    s = await sitting(client, sessionmaker, clock, rules=every_item)
    form = await s.form()
    entry = next(e for e in form["items"] if e["item"]["type"] == "numeric")
    assert "digits" in entry["item"]["accepts"]
    url = f"{s.url}/responses/{entry['position']}"
    saved = await client.put(url, json={"revision": 1, "value": "1,500"}, headers=s.headers)
    assert saved.status_code == 200, saved.text
    for typed in ("four", "about four GB", "3,5"):
        refused = await client.put(url, json={"revision": 2, "value": typed}, headers=s.headers)
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "value"
        assert "value:" in refused.json()["detail"]
    after = next(e for e in (await s.form())["items"] if e["position"] == entry["position"])
    assert (after["answer"], after["revision"]) == ("1,500", 1)
