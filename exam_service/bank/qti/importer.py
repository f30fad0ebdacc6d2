"""Turning one parsed ``qti-assessment-item`` into a bank item, or saying why it cannot be."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from pydantic import TypeAdapter, ValidationError

from exam_service.bank.authoring import ITEM_ID, Item
from exam_service.bank.qti.common import PLACEHOLDER_RATIONALE, SUPPORTED_INTERACTIONS, Reject, kid, kids, local
from exam_service.bank.qti.processing import ScoreMap, equal_shares, read_mapping, read_processing, to_float

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


def _choice(
    inter: ET.Element, card: str, correct: list[str], rule: str | float, m: ScoreMap | None, exact: bool
) -> dict[str, Any]:
    ids, options = _options(inter, "qti-simple-choice", exact, "choice")
    key = [_known(v, ids, "choice") for v in correct]
    texts = [o["text"].strip().casefold() for o in options]
    if card == "single" and rule == "match_correct" and len(key) == 1:
        if "true-false" in (inter.get("class") or "").split() and set(ids) == {"true", "false"}:
            return {"type": "true_false", "key": key[0] == "true"}
        if sorted(texts) == ["false", "true"]:  # another tool's two-choice true/false item
            return {"type": "true_false", "key": texts[[o["id"] for o in options].index(key[0])] == "true"}
        return {"type": "single_choice", "options": options, "key": key[0]}
    if card != "multiple" or not key:
        raise Reject(f"a choice interaction with cardinality {card!r} scored by {rule!r} is not supported")
    if rule == "match_correct":
        return {"type": "multiple_response", "options": options, "key": key, "scoring": "all_or_nothing"}
    if rule != "map_response" or m is None:
        raise Reject("a multiple-response item needs match_correct, or map_response with a qti-mapping")
    values = {_known(k, ids, "choice", "the mapping"): v for k, v, _ in m.entries}
    if {k for k, v in values.items() if v > 0} != set(key):
        raise Reject("the mapping's positive entries are not the correct response")
    equal_shares(m, values, key, "choice")
    penalties = {-values.get(o["id"], m.default) for o in options if o["id"] not in key}
    penalty = penalties.pop() if len(penalties) == 1 else 0.0 if not penalties else -1.0
    if not 0 <= penalty <= 1 or (penalty > 0 and m.lower != 0):
        raise Reject("distractors need one penalty between 0 and 1 and a mapping lower-bound of 0")
    return {"type": "multiple_response", "options": options, "key": key, "scoring": "partial", "penalty": penalty}


def _order(inter: ET.Element, card: str, correct: list[str], rule: str | float, exact: bool) -> dict[str, Any]:
    ids, options = _options(inter, "qti-simple-choice", exact, "choice")
    order = [_known(v, ids, "choice") for v in correct]
    if card != "ordered" or rule != "match_correct":
        raise Reject("an order interaction needs cardinality ordered and match_correct")
    if sorted(order) != sorted(ids.values()):
        raise Reject("the correct order must list every choice exactly once")
    by_id = {o["id"]: o for o in options}
    return {"type": "ordering", "options": [by_id[i] for i in order]}


def _match(inter: ET.Element, correct: list[str], rule: str | float, m: ScoreMap | None, exact: bool) -> dict[str, Any]:
    sets = kids(inter, "qti-simple-match-set")
    if len(sets) != 2:
        raise Reject(f"a match interaction needs two qti-simple-match-set, found {len(sets)}")
    tag = "qti-simple-associable-choice"
    premise_ids, premises = _options(sets[0], tag, exact, "premise")
    response_ids, responses = _options(sets[1], tag, exact, "response")

    def pair(value: str, where: str = "the correct response") -> tuple[str, str]:
        parts = value.split()
        if len(parts) != 2:
            raise Reject(f"{where} holds {value!r}, not a directed pair")
        return _known(parts[0], premise_ids, "premise", where), _known(parts[1], response_ids, "response", where)

    key: dict[str, str] = {}
    for premise, response in map(pair, correct):
        if premise in key:
            raise Reject(f"premise {premise!r} is matched twice in the correct response")
        key[premise] = response
    if rule != "map_response" or m is None:
        raise Reject("matching must be scored per premise (map_response with a qti-mapping)")
    values = {" ".join(pair(k, "the mapping")): v for k, v, _ in m.entries if v}
    pairs = [f"{p} {r}" for p, r in key.items()]
    if set(values) != set(pairs):
        raise Reject("the mapping's scored pairs are not the correct response")
    equal_shares(m, values, pairs, "pair")
    return {"type": "matching", "premises": premises, "responses": responses, "key": key}


def _text_entry(
    body: ET.Element, base: str, correct: list[str], rule: str | float, m: ScoreMap | None, exact: bool
) -> dict[str, Any]:
    if base in ("float", "integer"):
        key = to_float(correct[0]) if len(correct) == 1 else None
        if key is None or not math.isfinite(key):
            raise Reject("a numeric item needs one number as its correct response")
        if isinstance(rule, str) and rule != "match_correct":
            raise Reject(f"numeric items scored by {rule} are not supported")
        units = _classed(body, "unit")
        unit = _text(units[0], exact) if units else None
        return {"type": "numeric", "key": key, "tolerance": 0.0 if isinstance(rule, str) else rule, "unit": unit}
    if base != "string":
        raise Reject(f"a text entry with base-type {base!r} is not supported")
    if rule == "match_correct" and len(correct) == 1:
        return {"type": "short_text", "accepted": correct, "case_sensitive": True}
    if rule != "map_response" or m is None or not m.entries:
        raise Reject("short text needs match_correct or map_response with qti-map-entry answers")
    if m.default != 0 or any(v != 1 for _, v, _ in m.entries):
        raise Reject("short text mapping gives partial credit; only whole answers (1) are supported")
    if len({cs for _, _, cs in m.entries}) != 1:
        raise Reject("short text mapping mixes case-sensitive and case-insensitive answers")
    return {"type": "short_text", "accepted": [k for k, _, _ in m.entries], "case_sensitive": m.entries[0][2]}


def import_item(name: str, root: ET.Element, meta: dict[str, Any]) -> Item:
    ident = root.get("identifier", "")
    if not re.fullmatch(ITEM_ID, ident):
        raise Reject(f"item identifier {ident!r} is not a bank id like F-CONT-004; rename it first")
    body = kid(root, "qti-item-body")
    if body is None:
        raise Reject("no qti-item-body")
    interactions = [e for e in body.iter() if local(e).endswith("-interaction")]
    if len(interactions) != 1:
        found = ", ".join(local(e) for e in interactions) or "none"
        raise Reject(f"exactly one interaction is supported, found {found}")
    inter, kind = interactions[0], local(interactions[0])
    if kind not in SUPPORTED_INTERACTIONS:
        raise Reject(f"{kind} is not supported (supported: {', '.join(SUPPORTED_INTERACTIONS)})")
    decls = [d for d in kids(root, "qti-response-declaration") if d.get("identifier") == "RESPONSE"]
    if inter.get("response-identifier") != "RESPONSE" or not decls:
        raise Reject("the interaction must answer a qti-response-declaration identified RESPONSE")
    card, base = decls[0].get("cardinality", ""), decls[0].get("base-type", "")
    right = kid(decls[0], "qti-correct-response")
    values = [v.text or "" for v in kids(right, "qti-value")] if right is not None else []
    correct = values if base == "string" else [v.strip() for v in values]
    if not correct:
        raise Reject("no qti-correct-response")
    rule, mapping = read_processing(root), read_mapping(decls[0])
    stem, exact = _stem(body)
    payload: dict[str, Any]
    if kind == "qti-choice-interaction":
        payload = _choice(inter, card, correct, rule, mapping, exact)
    elif kind == "qti-order-interaction":
        payload = _order(inter, card, correct, rule, exact)
    elif kind == "qti-match-interaction":
        payload = _match(inter, correct, rule, mapping, exact)
    else:
        payload = _text_entry(body, base, correct, rule, mapping, exact)
    if not isinstance(rule, str) and payload["type"] != "numeric":
        raise Reject("the numeric tolerance rule only applies to numeric text entry")
    scorer = [r for r in body.iter() if local(r) == "qti-rubric-block" and "scorer" in r.get("view", "")]
    rationale = [_text(e, exact) for r in scorer for e in _classed(r, "rationale")]
    references = [_text(e, exact) for r in scorer for e in _classed(r, "reference")]
    points = [
        to_float(v.text)
        for d in kids(root, "qti-outcome-declaration")
        if d.get("identifier") == "MAXSCORE"
        for v in d.iter()
        if local(v) == "qti-value"
    ]
    payload |= meta | {
        "id": ident,
        "stem": stem,
        "rationale": rationale[0] if rationale else PLACEHOLDER_RATIONALE,
        "references": references or [f"QTI import: {PurePosixPath(name).name}"],
        "points": points[0] if points else 1.0,
    }
    try:
        return _ITEM.validate_python(payload)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'item'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise Reject("invalid item: " + "; ".join(problems)) from None
