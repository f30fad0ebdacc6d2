"""Item analysis from scored sittings: the examiners' API and the command line give the same figures."""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from exam_service.cli import app as cli
from exam_service.core.clock import FrozenClock
from exam_service.models import Role
from tests.delivery.helpers import sitting
from tests.factories import auth_headers
from tests.scoring.helpers import answer, form_rows, score, submit
from tests.scoring.test_corrections import ALL_THEORY, another_sitting

Session = async_sessionmaker[AsyncSession]
CANDIDATES = 24


async def test_the_api_and_the_command_line_agree_on_the_same_sittings(
    client: httpx.AsyncClient, sessionmaker: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    rng = random.Random(7)
    first = await sitting(client, sessionmaker, clock, rules=ALL_THEORY)
    sittings = [first] + [await another_sitting(client, sessionmaker, clock, first) for _ in range(CANDIDATES - 1)]
    for n, s in enumerate(sittings):
        positions = [row.position for row, _ in await form_rows(sessionmaker, s.attempt_id)]
        # abler candidates miss fewer items, so the items discriminate
        wrong = frozenset(p for p in positions if rng.random() < 0.15 + 0.6 * n / CANDIDATES)
        await answer(s, sessionmaker, wrong=wrong)
        await submit(s)
        await score(sessionmaker, clock, s.attempt_id)

    _, examiner = await auth_headers(client, sessionmaker, clock, Role.examiner)
    [blueprint] = (await client.get("/api/v1/analysis", headers=examiner)).json()
    assert blueprint["sittings"] == CANDIDATES
    url = f"/api/v1/analysis/{blueprint['blueprint_version_id']}"
    api = (await client.get(url, headers=examiner)).json()
    exported = await client.get(f"{url}/responses.csv", headers=examiner)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    path = tmp_path / "responses.csv"
    path.write_text(exported.text)
    ran = CliRunner().invoke(cli, ["stats", "items", str(path), "--json"])
    assert ran.exit_code == 0, ran.output
    offline = json.loads(ran.output)

    assert len(api["items"]) == len(offline["items"]) == 20
    for online, local in zip(api["items"], offline["items"], strict=True):
        assert online["name"] == local["name"]
        for figure in ("responses", "mean", "p_value", "discrimination"):
            assert online[figure] == local[figure], (online["name"], figure)
    for figure in ("candidates", "items", "mean", "sd", "reliability", "method", "sem", "histogram"):
        assert api["test"][figure] == offline["test"][figure], figure
    assert api["test"]["method"] == "KR-20"
    assert 0 < api["test"]["reliability"] < 1
    assert sum(count for _, _, count in api["test"]["histogram"]) == CANDIDATES
    choice = next(i for i in api["items"] if i["type"] == "single_choice")
    assert abs(sum(choice["option_rates"].values()) - 1) < 1e-9
    items_csv = await client.get(f"{url}/items.csv", headers=examiner)
    assert items_csv.text.splitlines()[0] == "item,version,type,responses,p_value,discrimination,flags"
    assert (await client.get(url, headers=first.headers)).status_code == 403
