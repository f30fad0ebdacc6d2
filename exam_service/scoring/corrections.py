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

    The value must already be what the item type's key is (no "5" for 5, no 1 for true, no NaN):
    it is stored as given and compared with candidates' answers as given. An accepted answer must
    be something the item could have as its key.
    """
    if payload["type"] not in CORRECTABLE:
        raise Unprocessable(
            "a performance task's points come from its grader; override them per sitting instead", field="item"
        )
    if payload.get("mapping"):
        raise Unprocessable(
            "this item is scored by per-value points (an imported qti-mapping); publish a corrected version "
            "of the item, or override the points per sitting",
            field="item",
        )
    problem = _misfit(payload, correction)
    if problem is not None:
        raise Unprocessable(f"value: {problem}", field="value")
    if correction.kind == "replace_key":
        try:
            ITEM.validate_python(_replace_key(payload, correction.value))
        except ValidationError as exc:
            raise Unprocessable(f"value: {exc.errors()[0]['msg']}", field="value") from exc


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond any float
        return False


def _ids(payload: dict[str, Any], list_name: str) -> list[str]:
    return [o["id"] for o in payload.get(list_name, [])]


def _misfit(payload: dict[str, Any], correction: Correction) -> str | None:
    kind, value = payload["type"], correction.value
    options = _ids(payload, "options")
    if kind == "single_choice":
        return None if isinstance(value, str) and value in options else f"one of the option ids {options}"
    if kind == "multiple_response":
        fits = isinstance(value, list) and value and all(isinstance(v, str) and v in options for v in value)
        return None if fits and len(set(value)) == len(value) else f"a list of distinct option ids from {options}"
    if kind == "true_false":
        return None if isinstance(value, bool) else "true or false"
    if kind == "numeric":
        return None if _finite(value) else "a finite number"
    if kind == "ordering":
        fits = isinstance(value, list) and all(isinstance(v, str) for v in value) and sorted(value) == sorted(options)
        return None if fits else f"every option id once, in the right order: {options}"
    if kind == "matching":
        premises, responses = _ids(payload, "premises"), _ids(payload, "responses")
        fits = isinstance(value, dict) and sorted(value) == sorted(premises)
        fits = fits and all(isinstance(r, str) and r in responses for r in value.values())
        return None if fits else f"a response id from {responses} for each premise {premises}"
    if correction.kind == "accept_answer":  # short text
        return None if isinstance(value, str) and value.strip() else "the answer to accept, as a text"
    fits = isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value)
    return None if fits else "the accepted answers, as a list of texts"


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
        except (TypeError, ValueError, OverflowError):
            return False
        return math.isfinite(r) and abs(a - r) <= float(payload.get("tolerance", 0)) + 1e-9
    if kind == "short_text":
        if not (isinstance(accepted, str) and isinstance(response, str)):
            return False
        if payload.get("case_sensitive"):
            return " ".join(accepted.split()) == " ".join(response.split())
        return " ".join(accepted.split()).casefold() == " ".join(response.split()).casefold()
    return bool(accepted == response)
