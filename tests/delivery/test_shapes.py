"""Every answer shape a client can send is either stored or refused with 422, never a 500."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exam_service.core.clock import FrozenClock
from exam_service.core.errors import Unprocessable
from exam_service.delivery.answers import check_shape
from exam_service.delivery.forms import counts_of
from tests.delivery.helpers import Sitting, sitting
from tests.factories import item_payload

PRESENTATION = {
    "options": ["c", "a", "d", "b"],
    "premises": ["p2", "p1"],
    "responses": ["r3", "r1", "r2"],
}

VALID: dict[str, list[Any]] = {
    "single_choice": ["A", "D"],
    "multiple_response": [["A"], ["B", "D"]],
    "ordering": [["D", "C", "B", "A"]],
    "true_false": [True, "false"],
    "matching": [{"1": "A"}, {"1": "C", "2": "B"}],
    "numeric": [3, 0.25, "0.25", "-1e3"],
    "short_text": ["HEALTHCHECK", ""],
    "performance_task": [{"Dockerfile": "FROM python:3.12-slim\n"}],
}
INVALID: dict[str, list[Any]] = {
    "single_choice": ["E", "a", 1, ["A"]],
    "multiple_response": [["A", "A"], [["A"]], [{"a": 1}], "A", ["Z"]],
    "ordering": [["A", "B"], [1, "A", "B", "C"], ["A", "B", "C", "C"], "ABCD"],
    "true_false": [1, 0, 1.0, "yes"],
    "matching": [{"3": "A"}, {"1": "Z"}, ["1", "A"], {"1": ["A"]}],
    "numeric": [math.nan, math.inf, -math.inf, True, [1], {"v": 1}, "9" * 41],
    "short_text": [5, ["x"], "x" * 2001],
    "performance_task": ["FROM x", {"../x": "y"}, {"Dockerfile": 5}],
}


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, values in VALID.items() for v in values])
def test_valid_answers_are_accepted(kind: str, value: Any) -> None:
    check_shape(item_payload("F-CONT-001", kind=kind), counts_of(PRESENTATION), value)


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, values in INVALID.items() for v in values])
def test_invalid_answers_name_the_value_field(kind: str, value: Any) -> None:
    with pytest.raises(Unprocessable) as raised:
        check_shape(item_payload("F-CONT-001", kind=kind), counts_of(PRESENTATION), value)
    assert raised.value.extra == {"field": "value"}


@pytest.fixture
async def s(client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> Sitting:
    return await sitting(client, sessionmaker, clock)


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "1e999", '[["A"]]', '[1, "A", "B"]', '{"1": ["A"]}'])
async def test_hostile_json_is_refused_on_every_question(s: Sitting, raw: str) -> None:
    form = await s.form()
    for entry in form["items"]:
        body = f'{{"revision": 1, "value": {raw}}}'.encode()
        response = await s.client.put(
            f"{s.url}/responses/{entry['position']}",
            content=body,
            headers=s.headers | {"content-type": "application/json"},
        )
        assert response.status_code == 422, (entry["item"]["type"], raw, response.text)
    assert all(i["revision"] == 0 for i in (await s.form())["items"])
