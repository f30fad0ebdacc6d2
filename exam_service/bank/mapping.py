"""Points per response value, scored the way QTI's ``map_response`` scores a ``qti-mapping``.

A ``ValueMap`` gives response values their points: option ids (multiple response), ``"premise
response"`` pairs (matching) or answer texts (short text). A response earns the sum of the points
of its distinct values, each looked up once; a value the map does not list earns ``default``; the
sum is then held within ``lower_bound`` and ``upper_bound``. The item's ``points`` are what the
best response is worth (QTI's MAXSCORE): the share earned is that total divided by the item's
points, held within 0..1. The bank never scores an item below 0, so a map that could total below
0 is refused unless its ``lower_bound`` is 0 or more.

An answer text matches an entry that is ``case_sensitive`` when both are equal once trimmed, and
any other entry when both are equal under the bank's short text normalisation
(``exam_service.bank.answers.normalise_text``: case, spacing, outer quotes, trailing punctuation).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exam_service.bank.answers import normalise_text

if TYPE_CHECKING:
    from exam_service.bank.authoring import Matching, MultipleResponse, ShortText

Points = Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]


def _fail(field: str, message: str) -> ValueError:
    """The authoring format's ``[field] message`` error, so that it is reported on that field."""
    return ValueError(f"[{field}] {message}")


class MapEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Annotated[str, Field(min_length=1, max_length=2000)]
    points: Points
    case_sensitive: bool = False  # answer texts only; ids and pairs are always compared exactly


def _same(a: MapEntry, b: MapEntry) -> bool:
    """Whether one response could take both entries' points: they are equal as an answer is compared."""
    exact = a.case_sensitive and b.case_sensitive
    return normalise_text(a.value, exact) == normalise_text(b.value, exact)


class ValueMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    entries: Annotated[list[MapEntry], Field(min_length=1, max_length=500)]
    default: Points = 0.0
    lower_bound: Points | None = None
    upper_bound: Points | None = None

    @model_validator(mode="after")
    def _carried(self) -> ValueMap:
        if self.lower_bound is not None and self.upper_bound is not None and self.lower_bound > self.upper_bound:
            raise _fail("upper_bound", f"upper_bound {self.upper_bound:g} is below lower_bound {self.lower_bound:g}")
        if self.upper_bound is not None and self.upper_bound <= 0:
            raise _fail("upper_bound", f"upper_bound {self.upper_bound:g} leaves no response any points")
        seen: list[MapEntry] = []
        for entry in self.entries:
            if not normalise_text(entry.value):
                raise _fail("entries", f"value {entry.value!r} is empty once spaces and punctuation go")
            twice = next((other for other in seen if _same(other, entry)), None)
            if twice is not None:
                raise _fail("entries", f"value {entry.value!r} is mapped twice (as {twice.value!r})")
            seen.append(entry)
        negative = self.default < 0 or any(e.points < 0 for e in self.entries)
        if negative and (self.lower_bound is None or self.lower_bound < 0):
            raise _fail(
                "lower_bound",
                "negative points or default could total below 0, and an item never scores below 0: "
                "set lower_bound to 0 or more",
            )
        return self

    def points_of(self, value: str) -> float:
        """The points of one response value: its entry's, else the default."""
        for entry in self.entries:
            if entry.case_sensitive:
                same = value.strip() == entry.value.strip()
            else:
                same = normalise_text(value) == normalise_text(entry.value)
            if same:
                return entry.points
        return self.default

    def bounded(self, total: float) -> float:
        low = total if self.lower_bound is None else max(self.lower_bound, total)
        return low if self.upper_bound is None else min(self.upper_bound, low)


def mapped_total(mapping: ValueMap, values: Iterable[str]) -> float:
    """QTI ``mapResponse``: each distinct value counted once, unlisted values at the default, then the bounds."""
    return mapping.bounded(sum(mapping.points_of(value) for value in dict.fromkeys(values)))


def mapped_fraction(mapping: ValueMap, values: Iterable[str], points: float) -> float:
    """The share of ``points`` (the item's MAXSCORE) the values earn, 0..1."""
    return max(0.0, min(1.0, mapped_total(mapping, values) / points))


def response_values(item: MultipleResponse | Matching | ShortText, response: Any) -> list[str] | None:
    """The values a response gives the map (none for an empty answer), or None for a response of the wrong shape."""
    if item.type == "short_text":
        return ([response] if response.strip() else []) if isinstance(response, str) else None
    if item.type == "multiple_response":
        ids = {o.id for o in item.options}
        if not isinstance(response, list) or not all(isinstance(r, str) and r in ids for r in response):
            return None
        return list(response)
    premises, responses = {p.id for p in item.premises}, {r.id for r in item.responses}
    if not isinstance(response, dict) or not all(p in premises and r in responses for p, r in response.items()):
        return None
    return [f"{p} {r}" for p, r in response.items()]


def item_fraction(item: MultipleResponse | Matching | ShortText, mapping: ValueMap, response: Any) -> float:
    """The share of the item's points a response earns under the item's map.

    An empty response earns 0 whatever the lower bound (QTI's map_response template scores a
    NULL response 0), as does a response of the wrong shape.
    """
    values = response_values(item, response)
    return mapped_fraction(mapping, values, item.points) if values else 0.0


def check_values(mapping: ValueMap | None, allowed: Collection[str], what: str) -> None:
    """Every mapped value is one the item offers (an option id, a premise and response pair)."""
    unknown = [e.value for e in mapping.entries if e.value not in allowed] if mapping else []
    if unknown:
        raise _fail("mapping", f"mapping value {unknown[0]!r} is not {what}")


def check_choice_mapping(
    mapping: ValueMap | None, option_ids: Collection[str], scoring: str | None, penalty: float
) -> None:
    check_values(mapping, option_ids, "an option id")
    if mapping is not None and (scoring is not None or penalty):
        raise _fail("mapping", "a mapping decides the score itself: leave scoring and penalty unset")


def check_pair_mapping(mapping: ValueMap | None, premise_ids: Collection[str], response_ids: Collection[str]) -> None:
    pairs = {f"{p} {r}" for p in premise_ids for r in response_ids}
    check_values(mapping, pairs, "a 'premise response' pair of this item's ids")


def check_text_mapping(
    mapping: ValueMap | None, accepted: list[str], patterns: list[str], manual: bool, case_sensitive: bool
) -> None:
    if mapping is None:
        return
    if manual or patterns:
        raise _fail("mapping", "a mapping scores the answers itself: it cannot be combined with patterns or manual")
    if case_sensitive:
        raise _fail("case_sensitive", "with a mapping, each entry states its own case_sensitive")
    if len(accepted) != 1:
        raise _fail("accepted", "with a mapping, accepted holds the one correct answer shown as the key")
