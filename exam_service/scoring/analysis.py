"""Item analysis over a blueprint version's scored sittings, with the same statistics the CLI computes.

Each column of the response matrix is one item version (``F-CONT-003 v2``) scored on the item's
maximum; a sitting whose form did not hold it has an empty cell. Only complete, valid results
count (ready, withheld or released; never provisional or invalidated). The matrix exports as the
CSV ``exam-service stats items`` reads, so both give the same figures.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank.presentation import to_authored
from exam_service.models import Attempt, FormItem, ItemVersion, Response, Result, ResultState
from exam_service.scoring import matrix as matrix_csv
from exam_service.scoring import statistics
from exam_service.scoring.repository import ResultRepository

COUNTED = (ResultState.ready, ResultState.withheld, ResultState.released)
CHOICE_TYPES = ("single_choice", "multiple_response", "true_false")


@dataclasses.dataclass(frozen=True)
class Column:
    version_id: str
    item_id: str
    version: int
    type: str
    maximum: float
    options: list[str]
    key: set[str]

    @property
    def name(self) -> str:
        return f"{self.item_id} v{self.version}"


async def _columns(session: AsyncSession, results: list[Result]) -> list[Column]:
    maxima: dict[str, float] = {}
    for result in results:
        for item in result.items:
            maxima[item["version_id"]] = item["maximum"]
    if not maxima:
        return []
    statement = select(ItemVersion).where(ItemVersion.id.in_([uuid.UUID(v) for v in maxima]))
    columns = []
    for version in (await session.execute(statement)).scalars():
        payload = version.payload
        if payload["type"] == "true_false":
            options, key = ["true", "false"], {str(payload["key"]).lower()}
        else:
            options = [o["id"] for o in payload.get("options", [])]
            raw = payload.get("key")
            key = set(raw) if isinstance(raw, list) else {raw} if isinstance(raw, str) else set()
        columns.append(
            Column(
                str(version.id),
                version.item_id,
                version.version,
                payload["type"],
                maxima[str(version.id)],
                options,
                key,
            )
        )
    return sorted(columns, key=lambda c: (c.item_id, c.version))


async def _choices(session: AsyncSession, attempt_ids: list[uuid.UUID], version_ids: list[str]) -> dict[str, list[Any]]:
    """Each choice item version's answers, in authored option ids (true/false as "true"/"false")."""
    found: dict[str, list[Any]] = {v: [] for v in version_ids}
    if not version_ids or not attempt_ids:
        return found
    statement = (
        select(FormItem, Response.value, ItemVersion.payload)
        .join(Attempt, Attempt.form_id == FormItem.form_id)
        .join(Response, (Response.attempt_id == Attempt.id) & (Response.position == FormItem.position))
        .join(ItemVersion, ItemVersion.id == FormItem.item_version_id)
        .where(Attempt.id.in_(attempt_ids), FormItem.item_version_id.in_([uuid.UUID(v) for v in version_ids]))
    )
    for row, value, payload in (await session.execute(statement)).all():
        answer = to_authored(payload, row.presentation, value) if value is not None else None
        if isinstance(answer, bool):
            answer = "true" if answer else "false"
        found[str(row.item_version_id)].append(answer)
    return found


async def matrix_of(
    session: AsyncSession, blueprint_version_id: uuid.UUID
) -> tuple[matrix_csv.Matrix, list[Column], list[Result]]:
    results = [r for r in await ResultRepository(session).of_blueprint(blueprint_version_id, COUNTED) if r.complete]
    columns = await _columns(session, results)
    index = {c.version_id: i for i, c in enumerate(columns)}
    rows: list[list[float | None]] = []
    for result in results:
        row: list[float | None] = [None] * len(columns)
        for item in result.items:
            row[index[item["version_id"]]] = item["awarded"]
        rows.append(row)
    matrix = matrix_csv.Matrix(
        names=[c.name for c in columns],
        maxima=[c.maximum for c in columns],
        candidates=[str(r.attempt_id) for r in results],
        rows=rows,
    )
    return matrix, columns, results


async def analyse(session: AsyncSession, blueprint_version_id: uuid.UUID, bins: int = 10) -> dict[str, Any]:
    matrix, columns, results = await matrix_of(session, blueprint_version_id)
    items = statistics.item_statistics(matrix.rows, matrix.maxima, matrix.names)
    test = statistics.test_statistics(matrix.rows, matrix.maxima, passed=[bool(r.passed) for r in results], bins=bins)
    choice_columns = [c for c in columns if c.type in CHOICE_TYPES]
    answers = await _choices(session, [r.attempt_id for r in results], [c.version_id for c in choice_columns])
    document = statistics.as_document(items, test)
    for column, stats, row in zip(columns, items, document["items"], strict=True):
        row.update(
            version_id=column.version_id,
            item_id=column.item_id,
            version=column.version,
            type=column.type,
            maximum=column.maximum,
            option_rates=None,
        )
        if column.type in CHOICE_TYPES:
            chosen = answers[column.version_id]
            rates = statistics.option_rates(chosen, column.options)
            answered = sum(1 for a in chosen if a not in (None, []))
            unused = statistics.unused_distractors(rates, column.key, responses=answered)
            row["option_rates"], row["unused_distractors"], row["key"] = rates, unused, sorted(column.key)
            if unused:
                row["flags"] = [*stats.flags, statistics.UNUSED_DISTRACTOR]
    return document
