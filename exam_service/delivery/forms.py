"""The pinned forms a worker has met, held in memory: what a save needs to check an answer.

A form is assembled and pinned when its attempt starts and never changes afterwards; the item
versions it pins are immutable (a key correction is stored beside the version, never in it). So
each worker reads a form once, in one query, and answers every later save from memory. The
cache holds no text a candidate sees, only what ``answers.check_shape`` reads: the version's
payload (shared by every form that pins it) and the length of each option list as shown.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exam_service.bank import service as bank_service


@dataclass(frozen=True)
class Slot:
    """One position of a pinned form."""

    item_version_id: uuid.UUID
    payload: dict[str, Any]
    counts: dict[str, int]  # list name -> how many entries the candidate sees


class PinnedForms:
    """Per-worker cache of pinned forms, least recently used first out."""

    def __init__(self, max_forms: int = 20_000) -> None:
        self.max_forms = max_forms
        self._forms: OrderedDict[uuid.UUID, dict[int, Slot]] = OrderedDict()
        self._slots: dict[tuple[uuid.UUID, tuple[tuple[str, int], ...]], Slot] = {}  # shared between forms
        self.loads = 0

    async def slot(self, session: AsyncSession, form_id: uuid.UUID, position: int) -> Slot | None:
        form = self._forms.get(form_id)
        if form is None:
            form = await self._load(session, form_id)
        else:
            self._forms.move_to_end(form_id)
        return form.get(position)

    async def _load(self, session: AsyncSession, form_id: uuid.UUID) -> dict[int, Slot]:
        form: dict[int, Slot] = {}
        for row, version in await bank_service.form_items(session, form_id):
            counts = counts_of(row.presentation)
            key = (version.id, tuple(sorted(counts.items())))
            shared = self._slots.get(key)
            if shared is None:
                shared = self._slots[key] = Slot(version.id, version.payload, counts)
            form[row.position] = shared
        self.loads += 1
        if form:  # a form is never empty once pinned; an empty answer is not worth keeping
            self._forms[form_id] = form
            while len(self._forms) > self.max_forms:
                self._forms.popitem(last=False)
        return form


def counts_of(presentation: dict[str, list[str]]) -> dict[str, int]:
    return {name: len(order) for name, order in presentation.items()}
