"""Key corrections applied to an item version's payload, as pure functions.

``replace_key`` swaps the version's key for a corrected one (validated as the item type's key);
``accept_answer`` gives full marks to one more response, written in the item's authored ids.
Neither edits the version: rescoring applies every correction to the pinned payload.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from exam_service.bank.authoring import Item
from exam_service.core.errors import Unprocessable

CorrectionKind = Literal["replace_key", "accept_answer"]
ITEM = TypeAdapter[Item](Item)
CORRECTABLE = frozenset(
    {"single_choice", "multiple_response", "true_false", "numeric", "ordering", "matching", "short_text"}
)


@dataclass(frozen=True)
class Correction:
    kind: CorrectionKind
    value: Any


def corrected_payload(payload: dict[str, Any], corrections: list[Correction]) -> dict[str, Any]:
    """The payload with the latest ``replace_key`` applied, in the order the corrections were made."""
    result = payload
    for correction in corrections:
        if correction.kind == "replace_key":
            result = _replace_key(result, correction.value)
    return result


def _replace_key(payload: dict[str, Any], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    kind = payload["type"]
    if kind == "ordering":
        ids = [o["id"] for o in payload["options"]]
        if not isinstance(value, list) or sorted(map(str, value)) != sorted(ids):
            raise Unprocessable("value: the corrected order must list every option id once", field="value")
        by_id = {o["id"]: o for o in payload["options"]}
        changed["options"] = [by_id[i] for i in value]
    elif kind == "short_text":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise Unprocessable("value: give the accepted answers as a list of texts", field="value")
        changed["accepted"], changed["patterns"] = value, []
    else:
        changed["key"] = value
    return changed


def check(payload: dict[str, Any], correction: Correction) -> None:
    """Refuses a correction the item cannot take, naming the field at fault.

    An accepted answer must be something the item could have as its key (an option id of a
    single choice, a list of them for multiple response, a number for numeric...), so it is
    checked the same way as a replaced key.
    """
    if payload["type"] not in CORRECTABLE:
        raise Unprocessable(
            "a performance task's points come from its grader; override them per sitting instead", field="item"
        )
    if payload["type"] == "short_text" and correction.kind == "accept_answer":
        if not isinstance(correction.value, str) or not correction.value.strip():
            raise Unprocessable("value: give the answer to accept as a text", field="value")
        return
    value = correction.value
    if payload["type"] == "short_text":
        value = value if isinstance(value, list) else [value]
    try:
        ITEM.validate_python(_replace_key(payload, value))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Unprocessable(f"value: {first['msg']}", field="value") from exc


def accepts(payload: dict[str, Any], corrections: list[Correction], response: Any) -> bool:
    """Whether an ``accept_answer`` correction gives this response full marks."""
    return response is not None and any(
        c.kind == "accept_answer" and _same(payload, c.value, response) for c in corrections
    )


def _same(payload: dict[str, Any], accepted: Any, response: Any) -> bool:
    kind = payload["type"]
    if kind == "multiple_response":
        return isinstance(accepted, list) and isinstance(response, list) and set(accepted) == set(response)
    if kind == "numeric":
        try:
            a, r = float(accepted), float(response)
        except (TypeError, ValueError):
            return False
        return math.isfinite(r) and abs(a - r) <= float(payload.get("tolerance", 0)) + 1e-9
    if kind == "short_text":
        if not (isinstance(accepted, str) and isinstance(response, str)):
            return False
        if payload.get("case_sensitive"):
            return " ".join(accepted.split()) == " ".join(response.split())
        return " ".join(accepted.split()).casefold() == " ".join(response.split()).casefold()
    return bool(accepted == response)
