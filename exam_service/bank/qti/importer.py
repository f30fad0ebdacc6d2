"""Turning one parsed ``qti-assessment-item`` into a bank item, or saying why it cannot be.

Scoring follows QTI: ``match_correct`` earns the item's points for the correct response, and
``map_response`` earns the mapped total, of which MAXSCORE (declared, else the highest total a
response can reach) is the item's points. A mapping the bank's own item types express (equal
shares of the correct options, pairs or answers) imports as that type; any other becomes the
item's ``mapping``.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from pydantic import TypeAdapter, ValidationError

from exam_service.bank.authoring import Item
from exam_service.bank.qti.common import (
    PLACEHOLDER_RATIONALE,
    POINT_INTERACTIONS,
    SUPPORTED_INTERACTIONS,
    Reject,
    kid,
    kids,
    local,
)
from exam_service.bank.qti.processing import (
    MAP_RESPONSE_NAME,
    MATCH_CORRECT_NAME,
    Rule,
    ScoreMap,
    read_mapping,
    read_processing,
    template_name,
    to_float,
)

_ITEM = TypeAdapter(Item)
_NOT_STEM = {
    "qti-rubric-block",
    "qti-modal-feedback",
    "qti-feedback-block",
    "qti-feedback-inline",
    "qti-template-block",
    "qti-template-inline",
    "qti-simple-choice",
    "qti-simple-match-set",
}
_SLACK = 1e-9
_TAGGED = re.compile(r"^\[(?P<field>[a-z_]+)\] (?P<message>.*)$", re.S)


@dataclass(frozen=True)
class Origin:
    """Who the item is in the bank and where it came from."""

    item_id: str
    source: dict[str, str] | None = None  # another tool's identifier (and name) for the item
    ours: bool = False  # listed with our manifest's bank metadata
    mapped: bool = False  # our export of an item the bank scores by its own mapping


@dataclass(frozen=True)
class Scoring:
    rule: Rule
    mapping: ScoreMap | None
    maxscore: float | None  # MAXSCORE as declared
    ours: bool
    mapped: bool

    def points(self, best: float) -> float:
        """The item's points: MAXSCORE, else the highest total a response can reach."""
        if self.maxscore is not None:
            return self.maxscore
        if best <= 0:
            raise Reject("the qti-mapping gives no response any points")
        return best

    def scales(self, points: float) -> tuple[float, ...]:
        """What equal shares of the correct answers add up to; our older exports gave shares of 1."""
        return (points, 1.0) if self.ours else (points,)


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= _SLACK * max(1.0, abs(b))


def _text(element: ET.Element, exact: bool) -> str:
    if exact and len(element) == 0:
        return element.text or ""
    return " ".join("".join(element.itertext()).split())


def _classed(element: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in element.iter() if name in (e.get("class") or "").split()]


def _inline(element: ET.Element) -> str:
    name = local(element)
    if name in _NOT_STEM:
        inner = " "
    elif name == "qti-text-entry-interaction":
        inner = " ____ "
    else:
        inner = (element.text or "") + "".join(_inline(child) for child in element)
    return inner + (element.tail or "")


def _stem(body: ET.Element) -> tuple[str, bool]:
    """The stem and whether the file is ours (exact text) rather than another tool's markup."""
    ours = [d for d in _classed(body, "stem") if local(d) == "div" and len(d) == 0]
    if ours:
        return ours[0].text or "", True
    paragraphs = [body.text or "", *(_inline(child) for child in body)]
    return "\n\n".join(p for p in (" ".join(p.split()) for p in paragraphs) if p), False


def _normalise_ids(raw: Sequence[str], what: str) -> dict[str, str]:
    """Maps other tools' identifiers onto our option id pattern; identity for our own."""
    mapping: dict[str, str] = {}
    for ident in raw:
        norm = re.sub(r"[^a-z0-9_]", "_", ident.lower())[:16] or "_"
        clash = next((other for other, n in mapping.items() if n == norm), None)
        if clash is not None:
            raise Reject(f"{what} identifiers {clash!r} and {ident!r} both normalise to {norm!r}")
        mapping[ident] = norm
    return mapping


def _options(parent: ET.Element, tag: str, exact: bool, what: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    elements = kids(parent, tag)
    ids = _normalise_ids([e.get("identifier", "") for e in elements], what)
    return ids, [{"id": ids[e.get("identifier", "")], "text": _text(e, exact)} for e in elements]


def _known(value: str, ids: dict[str, str], what: str, where: str = "the correct response") -> str:
    if value not in ids:
        raise Reject(f"{where} names {what} {value!r}, which does not exist ({', '.join(ids)})")
    return ids[value]


def _value_map(m: ScoreMap) -> dict[str, Any]:
    """The bank's ``mapping`` (ids and pairs compare exactly whatever their case sensitivity)."""
    entries = [{"value": k, "points": v, "case_sensitive": cs} for k, v, cs in m.entries]
    return {"entries": entries, "default": m.default, "lower_bound": m.lower, "upper_bound": m.upper}


def _single_choice(options: list[dict[str, str]], key: str, s: Scoring, m: ScoreMap | None) -> dict[str, Any]:
    """A single-cardinality choice; a mapping must award all or nothing, as match_correct does."""
    payload: dict[str, Any] = {"type": "single_choice", "options": options, "key": key}
    if s.rule == MATCH_CORRECT_NAME:
        return payload
    if m is None:
        raise Reject("a single choice scored by map_response needs a qti-mapping")
    earned = {o["id"]: m.bounded(m.value(o["id"])) for o in options}
    points = s.points(earned[key])
    if not _same(earned[key], points) or any(v != 0 for i, v in earned.items() if i != key):
        raise Reject("a single choice whose mapping gives partial credit is not supported")
    return payload | {"points": points}


def _choice(inter: ET.Element, card: str, correct: list[str], s: Scoring, exact: bool) -> dict[str, Any]:
    ids, options = _options(inter, "qti-simple-choice", exact, "choice")
    m = s.mapping.renamed(lambda k: _known(k, ids, "choice", "the mapping")) if s.mapping else None
    key = [_known(v, ids, "choice") for v in correct]
    if not key and m is not None:
        key = [k for k, v, _ in m.entries if v > 0]  # without a correct response, the options worth points
    if not key:
        raise Reject("no qti-correct-response")
    texts = [o["text"].strip().casefold() for o in options]
    if card == "single" and len(key) == 1 and s.rule == MATCH_CORRECT_NAME:
        if "true-false" in (inter.get("class") or "").split() and set(ids) == {"true", "false"}:
            return {"type": "true_false", "key": key[0] == "true"}
        if sorted(texts) == ["false", "true"]:  # another tool's two-choice true/false item
            return {"type": "true_false", "key": texts[[o["id"] for o in options].index(key[0])] == "true"}
    if card == "single" and len(key) == 1:
        return _single_choice(options, key[0], s, m)
    if card != "multiple":
        raise Reject(f"a choice interaction with cardinality {card!r} and {len(key)} correct values is not supported")
    if s.rule == MATCH_CORRECT_NAME:
        return {"type": "multiple_response", "options": options, "key": key, "scoring": "all_or_nothing"}
    if m is None:
        raise Reject("a multiple-response item scored by map_response needs a qti-mapping")
    points = s.points(m.best([[o] for o in ids.values()]))
    payload = {"type": "multiple_response", "options": options, "key": key, "points": points}
    native = None if s.mapped else _equal_choice_shares(m, list(ids.values()), key, s.scales(points))
    return payload | (native if native is not None else {"mapping": _value_map(m)})


def _equal_choice_shares(m: ScoreMap, ids: list[str], key: list[str], scales: Sequence[float]) -> dict[str, Any] | None:
    """``partial`` scoring with a penalty, when the mapping is exactly that."""
    if m.default != 0 or {k for k, v, _ in m.entries if v > 0} != set(key):
        return None
    for scale in scales:
        if not all(_same(m.value(k), scale / len(key)) for k in key) or (m.upper is not None and m.upper < scale):
            continue
        penalties = {0.0 - m.value(o) / scale for o in ids if o not in key}  # 0.0, never -0.0
        penalty = penalties.pop() if len(penalties) == 1 else 0.0 if not penalties else -1.0
        distractors = len(ids) - len(key)
        # the bank's partial scoring deducts at least one distractor's share per wrong choice; a
        # smaller penalty stays a mapping, so the item scores as its author meant
        floor = 1 / distractors if distractors else 0.0
        lower_ok = m.lower == 0 if penalty > 0 else m.lower is None or m.lower <= 0
        if 0 <= penalty <= 1 and penalty >= floor - 1e-9 and lower_ok:
            return {"scoring": "partial", "penalty": penalty}
    return None


def _order(inter: ET.Element, card: str, correct: list[str], s: Scoring, exact: bool) -> dict[str, Any]:
    ids, options = _options(inter, "qti-simple-choice", exact, "choice")
    if card != "ordered" or s.rule != MATCH_CORRECT_NAME:
        raise Reject("an order interaction needs cardinality ordered and match_correct")
    order = [_known(v, ids, "choice") for v in correct]
    if sorted(order) != sorted(ids.values()):
        raise Reject("the correct order must list every choice exactly once")
    by_id = {o["id"]: o for o in options}
    return {"type": "ordering", "options": [by_id[i] for i in order]}


def _match(inter: ET.Element, correct: list[str], s: Scoring, exact: bool) -> dict[str, Any]:
    sets = kids(inter, "qti-simple-match-set")
    if len(sets) != 2:
        raise Reject(f"a match interaction needs two qti-simple-match-set, found {len(sets)}")
    tag = "qti-simple-associable-choice"
    premise_ids, premises = _options(sets[0], tag, exact, "premise")
    response_ids, responses = _options(sets[1], tag, exact, "response")

    def pair(value: str, where: str = "the correct response") -> str:
        parts = value.split()
        if len(parts) != 2:
            raise Reject(f"{where} holds {value!r}, not a directed pair")
        return f"{_known(parts[0], premise_ids, 'premise', where)} {_known(parts[1], response_ids, 'response', where)}"

    if s.rule != MAP_RESPONSE_NAME or s.mapping is None:
        raise Reject("a match interaction scored all or nothing is not supported: score it per pair (map_response)")
    m = s.mapping.renamed(lambda k: pair(k, "the mapping"))
    groups = [[f"{p} {r}" for r in response_ids.values()] for p in premise_ids.values()]
    points = s.points(m.best(groups))
    key = _pair_key([pair(v) for v in correct] if correct else _best_pairs(m, groups))
    payload = {"type": "matching", "premises": premises, "responses": responses, "key": key, "points": points}
    native = None if s.mapped else _equal_pair_shares(m, key, s.scales(points))
    return payload | (native if native is not None else {"mapping": _value_map(m)})


def _pair_key(pairs: list[str]) -> dict[str, str]:
    key: dict[str, str] = {}
    for premise, response in (p.split() for p in pairs):
        if premise in key:
            raise Reject(f"premise {premise!r} is matched twice in the correct response")
        key[premise] = response
    return key


def _best_pairs(m: ScoreMap, groups: list[list[str]]) -> list[str]:
    """Without a correct response: each premise's best-paid pair, if it is worth anything."""
    best = [max(group, key=m.value) for group in groups]
    return [p for p in best if m.value(p) > 0]


def _equal_pair_shares(m: ScoreMap, key: dict[str, str], scales: Sequence[float]) -> dict[str, Any] | None:
    """Plain matching (each right pair an equal share), when the mapping is exactly that."""
    right = [f"{p} {r}" for p, r in key.items()]
    if m.default != 0 or {k for k, v, _ in m.entries if v} != set(right) or (m.lower is not None and m.lower > 0):
        return None
    for scale in scales:
        if all(_same(m.value(p), scale / len(right)) for p in right) and (m.upper is None or m.upper >= scale):
            return {}
    return None


def _text_entry(body: ET.Element, base: str, correct: list[str], s: Scoring, exact: bool) -> dict[str, Any]:
    if base in ("float", "integer"):
        key = to_float(correct[0]) if len(correct) == 1 else None
        if key is None or not math.isfinite(key):
            raise Reject("a numeric item needs one number as its correct response")
        if isinstance(s.rule, str) and s.rule != MATCH_CORRECT_NAME:
            raise Reject(f"numeric items scored by {s.rule} are not supported")
        units = _classed(body, "unit")
        unit = _text(units[0], exact) if units else None
        return {"type": "numeric", "key": key, "tolerance": 0.0 if isinstance(s.rule, str) else s.rule, "unit": unit}
    if base != "string":
        raise Reject(f"a text entry with base-type {base!r} is not supported")
    if s.rule == MATCH_CORRECT_NAME:
        if len(correct) != 1:
            raise Reject("a text entry scored by match_correct needs one correct response")
        return {"type": "short_text", "accepted": correct, "case_sensitive": True}
    m = s.mapping
    if m is None:
        raise Reject("a text entry scored by map_response needs a qti-mapping")
    points = s.points(m.best_text())
    native = None if s.mapped else _whole_answers(m, s.scales(points))
    if native is not None:
        return native | {"points": points}
    top = max(m.entries, key=lambda e: e[1])[0]  # without a correct response, the best-paid answer is the key
    shown = correct[:1] or [top]
    return {"type": "short_text", "accepted": shown, "points": points, "mapping": _value_map(m)}


def _whole_answers(m: ScoreMap, scales: Sequence[float]) -> dict[str, Any] | None:
    """Plain accepted answers (each worth the whole item), when the mapping is exactly that."""
    cases = {cs for _, _, cs in m.entries}
    if m.default != 0 or len(cases) != 1 or (m.lower is not None and m.lower > 0):
        return None
    for scale in scales:
        if all(_same(v, scale) for _, v, _ in m.entries) and (m.upper is None or m.upper >= scale):
            return {"type": "short_text", "accepted": [k for k, _, _ in m.entries], "case_sensitive": cases.pop()}
    return None


def _interaction(body: ET.Element, processing: str | None) -> ET.Element:
    interactions = [e for e in body.iter() if local(e).endswith("-interaction")]
    if len(interactions) != 1:
        found = ", ".join(local(e) for e in interactions) or "none"
        raise Reject(f"an item needs exactly one interaction, found {found}")
    kind = local(interactions[0])
    if kind in POINT_INTERACTIONS:
        how = " (scored by map_response_point)" if processing == "map_response_point" else ""
        raise Reject(f"{kind} is not supported: the bank cannot deliver point interactions{how}")
    if kind not in SUPPORTED_INTERACTIONS:
        raise Reject(f"{kind} is not supported (supported: {', '.join(SUPPORTED_INTERACTIONS)})")
    return interactions[0]


def _maxscore(root: ET.Element) -> float | None:
    declared = [
        v.text
        for d in kids(root, "qti-outcome-declaration")
        if d.get("identifier") == "MAXSCORE"
        for v in d.iter()
        if local(v) == "qti-value"
    ]
    if not declared:
        return None
    value = to_float(declared[0])
    if value is None or not math.isfinite(value):
        raise Reject(f"MAXSCORE {declared[0]!r} is not a number")
    return value


def _validated(payload: dict[str, Any]) -> Item:
    try:
        return _ITEM.validate_python(payload)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = [str(p) for p in error["loc"][1:]]  # after the item type
            message = error["msg"].removeprefix("Value error, ")
            tagged = _TAGGED.match(message)  # a rule's "[field] message": report it on that field
            if tagged:
                where, message = [*where, tagged["field"]], tagged["message"]
            problems.append(f"{'.'.join(where) or 'item'}: {message}")
        raise Reject("invalid item: " + "; ".join(problems)) from None


def import_item(name: str, root: ET.Element, meta: dict[str, Any], origin: Origin) -> Item:
    body = kid(root, "qti-item-body")
    if body is None:
        raise Reject("no qti-item-body")
    processing = kid(root, "qti-response-processing")
    inter = _interaction(body, template_name(processing) if processing is not None else None)
    kind = local(inter)
    decls = [d for d in kids(root, "qti-response-declaration") if d.get("identifier") == "RESPONSE"]
    if inter.get("response-identifier") != "RESPONSE" or not decls:
        raise Reject("the interaction must answer a qti-response-declaration identified RESPONSE")
    card, base = decls[0].get("cardinality", ""), decls[0].get("base-type", "")
    right = kid(decls[0], "qti-correct-response")
    values = [v.text or "" for v in kids(right, "qti-value")] if right is not None else []
    correct = values if base == "string" else [v.strip() for v in values]
    rule = read_processing(root, kind)
    if not isinstance(rule, str) and not (kind == "qti-text-entry-interaction" and base in ("float", "integer")):
        raise Reject("the numeric tolerance rule only applies to numeric text entry")
    scoring = Scoring(rule, read_mapping(decls[0]), _maxscore(root), origin.ours, origin.mapped)
    if not correct and (rule != MAP_RESPONSE_NAME or scoring.mapping is None):
        raise Reject("no qti-correct-response")
    stem, exact = _stem(body)
    payload: dict[str, Any]
    if kind == "qti-choice-interaction":
        payload = _choice(inter, card, correct, scoring, exact)
    elif kind == "qti-order-interaction":
        payload = _order(inter, card, correct, scoring, exact)
    elif kind == "qti-match-interaction":
        payload = _match(inter, correct, scoring, exact)
    else:
        payload = _text_entry(body, base, correct, scoring, exact)
    scorer = [r for r in body.iter() if local(r) == "qti-rubric-block" and "scorer" in r.get("view", "")]
    rationale = [_text(e, exact) for r in scorer for e in _classed(r, "rationale")]
    references = [_text(e, exact) for r in scorer for e in _classed(r, "reference")]
    payload = {"points": scoring.maxscore if scoring.maxscore is not None else 1.0} | payload
    payload |= meta | {
        "id": origin.item_id,
        "stem": stem,
        "rationale": rationale[0] if rationale else PLACEHOLDER_RATIONALE,
        "references": references or [f"QTI import: {PurePosixPath(name).name}"],
    }
    if origin.source is not None:
        payload["source"] = origin.source
    return _validated(payload)
