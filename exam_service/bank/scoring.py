"""Scores one theory response against one item version, in the item's authored ids.

Responses use the authored option ids (delivery maps a candidate's shown labels back first):
``single_choice`` an id; ``multiple_response`` a list of ids; ``true_false`` a bool;
``numeric`` a number; ``ordering`` the ids in order; ``matching`` ``{premise: response}``;
``short_text`` a string. A response of the wrong shape scores 0, never raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from exam_service.bank.answers import normalise_text, numeric_matches, pattern_matches
from exam_service.bank.authoring import (
    Item,
    Matching,
    MultipleResponse,
    Numeric,
    Ordering,
    PerformanceTask,
    ShortText,
    SingleChoice,
    TrueFalse,
)
from exam_service.bank.mapping import item_fraction


@dataclass(frozen=True)
class Score:
    awarded: float
    maximum: float
    needs_review: bool = False  # a manually marked item, or a task awaiting its grader

    @property
    def fraction(self) -> float:
        return self.awarded / self.maximum if self.maximum else 0.0


MultipleResponsePolicy = Literal["all_or_nothing", "partial"]


def fraction_correct(item: Item, response: Any, mr_policy: MultipleResponsePolicy = "all_or_nothing") -> float | None:
    """The share of the item's points a response earns, 0..1; ``None`` when a person must mark it.

    ``mr_policy`` is the blueprint's rule for multiple response items that state none.
    """
    if isinstance(item, MultipleResponse | Matching | ShortText) and item.mapping is not None:
        return item_fraction(item, item.mapping, response)
    match item:
        case SingleChoice():
            return 1.0 if response == item.key else 0.0
        case TrueFalse():
            return 1.0 if response is item.key else 0.0
        case MultipleResponse():
            return _multiple_response(item, response, item.scoring or mr_policy)
        case Numeric():
            return _numeric(item, response)
        case Ordering():
            return 1.0 if response == [o.id for o in item.options] else 0.0
        case Matching():
            if not isinstance(response, dict):
                return 0.0
            right = sum(1 for premise, answer in item.key.items() if response.get(premise) == answer)
            return right / len(item.key)
        case ShortText():
            return _short_text(item, response)
        case PerformanceTask():
            return None
    raise TypeError(f"unknown item type {type(item).__name__}")


def score(item: Item, response: Any, mr_policy: MultipleResponsePolicy = "all_or_nothing") -> Score:
    fraction = fraction_correct(item, response, mr_policy) if response is not None else 0.0
    if fraction is None:
        return Score(0.0, item.points, needs_review=True)
    return Score(round(fraction * item.points, 6), item.points)


def _multiple_response(item: MultipleResponse, response: Any, policy: MultipleResponsePolicy) -> float:
    if not isinstance(response, list) or not all(isinstance(r, str) for r in response):
        return 0.0
    chosen, key = set(response), set(item.key)
    if policy == "all_or_nothing":
        return 1.0 if chosen == key else 0.0
    right = len(chosen & key) / len(key)
    return max(0.0, min(1.0, right - len(chosen - key) * partial_deduction(item)))


def partial_deduction(item: MultipleResponse) -> float:
    """What each wrong choice costs under partial scoring: the item's penalty, but at least one
    distractor's share, so that choosing every option earns nothing."""
    distractors = len(item.options) - len(item.key)
    return max(item.penalty, 1 / distractors) if distractors else item.penalty


_NUMERIC_RULE = {"key", "tolerance", "unit", "unit_aliases", "prefix", "decimals"}


def _numeric(item: Numeric, response: Any) -> float:
    return 1.0 if numeric_matches(item.model_dump(include=_NUMERIC_RULE), response) else 0.0


def _short_text(item: ShortText, response: Any) -> float | None:
    if item.manual:
        return None
    if not isinstance(response, str):
        return 0.0
    answer = normalise_text(response, item.case_sensitive)
    if not answer:
        return 0.0
    if any(answer == normalise_text(accepted, item.case_sensitive) for accepted in item.accepted):
        return 1.0
    matches = [pattern_matches(pattern, answer, item.case_sensitive) for pattern in item.patterns]
    if any(matches):
        return 1.0
    return None if None in matches else 0.0  # a pattern out of time: a person marks the answer
