"""What a candidate sees of an item, and how their answer maps back to authored ids.

Candidates never see authored option ids (an ordering item authored a, b, c would give
itself away): each shown list is labelled A, B, C... (premises 1, 2, 3...) in the
candidate's own order, recorded in the form so scoring maps labels back.
"""

from __future__ import annotations

import string
from typing import Any

from exam_service.bank.answers import numeric_hint
from exam_service.bank.rendering import render_block, render_inline

CANDIDATE_FIELDS = ("type", "stem", "points", "unit", "prefix", "decimals", "estimated_minutes", "answer_files")
LETTERS = string.ascii_uppercase


def labels(list_name: str, count: int) -> list[str]:
    """The labels a candidate sees on one list: premises 1, 2, 3...; everything else A, B, C..."""
    return [str(i + 1) for i in range(count)] if list_name == "premises" else list(LETTERS[:count])


def _shown(payload: dict[str, Any], list_name: str, order: list[str]) -> list[dict[str, str]]:
    by_id = {o["id"]: o["text"] for o in payload[list_name]}
    return [
        {"id": label, "text": by_id[authored], "html": render_inline(by_id[authored])}
        for label, authored in zip(labels(list_name, len(order)), order, strict=True)
    ]


def candidate_view(payload: dict[str, Any], presentation: dict[str, list[str]]) -> dict[str, Any]:
    """The item as a candidate receives it: no key, rationale, references or grader.

    Item text comes raw (``stem``, each entry's ``text``) and rendered from Markdown to sanitised
    HTML (``stem_html``, each entry's ``html``); starter files stay raw, they are code.
    """
    view: dict[str, Any] = {k: payload[k] for k in CANDIDATE_FIELDS if payload.get(k) is not None}
    view["stem_html"] = render_block(payload["stem"])
    for list_name, order in presentation.items():
        view[list_name] = _shown(payload, list_name, order)
    if payload["type"] == "true_false":
        view["options"] = [
            {"id": "true", "text": "True", "html": "True"},
            {"id": "false", "text": "False", "html": "False"},
        ]
    if payload["type"] == "numeric":
        view["accepts"] = numeric_hint(payload)
    if payload["type"] == "short_text" and not payload.get("manual"):
        view["accepts"] = "A word or short phrase; capitals and a final full stop do not matter."
    if payload["type"] == "performance_task":
        view["starter_files"] = payload.get("starter_files", [])
    return view


def to_authored(payload: dict[str, Any], presentation: dict[str, list[str]], response: Any) -> Any:
    """Maps a response in shown labels to authored ids; anything unrecognised maps to None."""
    kind = payload["type"]

    def lookup(list_name: str, label: Any) -> str | None:
        order = presentation.get(list_name, [])
        shown = labels(list_name, len(order))
        return order[shown.index(label)] if isinstance(label, str) and label in shown else None

    if kind == "single_choice":
        return lookup("options", response)
    if kind in ("multiple_response", "ordering"):
        if not isinstance(response, list):
            return None
        mapped = [lookup("options", label) for label in response]
        return None if None in mapped else mapped
    if kind == "matching":
        if not isinstance(response, dict):
            return None
        pairs = {lookup("premises", p): lookup("responses", r) for p, r in response.items()}
        return {p: r for p, r in pairs.items() if p is not None and r is not None}
    if kind == "true_false":
        if isinstance(response, bool):
            return response
        return {"true": True, "false": False}.get(response) if isinstance(response, str) else None
    return response


def to_shown(payload: dict[str, Any], presentation: dict[str, list[str]], authored: Any) -> Any:
    """Maps an answer in authored ids to the labels the candidate saw (the inverse of ``to_authored``)."""

    def label(list_name: str, authored_id: str) -> str:
        order = presentation[list_name]
        return labels(list_name, len(order))[order.index(authored_id)]

    kind = payload["type"]
    if kind == "single_choice":
        return label("options", authored)
    if kind in ("multiple_response", "ordering"):
        return [label("options", a) for a in authored]
    if kind == "matching":
        return {label("premises", p): label("responses", r) for p, r in authored.items()}
    return authored
