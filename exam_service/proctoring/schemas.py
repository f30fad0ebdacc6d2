"""What travels over the channels and the proctoring routes (docs/PROCTORING.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Text1000 = Annotated[str, Field(min_length=1, max_length=1000)]
Reason = Annotated[str, Field(min_length=3, max_length=2000)]
IrregularityCategory = Literal["environment", "candidate_behaviour", "technical", "staff", "other"]

CandidateEventKind = Literal[
    "visibility_hidden",
    "visibility_visible",
    "window_blur",
    "window_focus",
    "fullscreen_exit",
    "fullscreen_enter",
    "copy",
    "cut",
    "paste",
    "context_menu",
    "print_attempt",
    "network_offline",
    "network_online",
    "devtools_suspected",
    "second_tab",
    "webcam_unavailable",
    "chat",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoDetail(_Strict):
    pass


class LengthDetail(_Strict):
    length: Annotated[int, Field(ge=0, le=10_000_000)]


class PasteDetail(LengthDetail):
    position: Annotated[int | None, Field(ge=1, le=1000)] = None


class DevtoolsDetail(_Strict):
    width_gap: Annotated[int, Field(ge=-100_000, le=100_000)]
    height_gap: Annotated[int, Field(ge=-100_000, le=100_000)]


class WebcamDetail(_Strict):
    reason: Annotated[str, Field(min_length=1, max_length=100)]


class ChatDetail(_Strict):
    text: Text1000


DETAIL_OF: dict[str, type[BaseModel]] = {
    "copy": LengthDetail,
    "cut": LengthDetail,
    "paste": PasteDetail,
    "devtools_suspected": DevtoolsDetail,
    "webcam_unavailable": WebcamDetail,
    "chat": ChatDetail,
}


class CandidateFrame(_Strict):
    """An event frame from the candidate's page; ``detail`` is checked against the kind."""

    type: Literal["event"]
    client_seq: Annotated[int, Field(ge=1, le=2**31 - 1)]
    kind: CandidateEventKind
    detail: dict[str, Any] = {}


class Hello(_Strict):
    type: Literal["hello"]
    last_seq: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    cursors: Annotated[dict[uuid.UUID, Annotated[int, Field(ge=0, le=2**31 - 1)]], Field(max_length=20_000)] = {}


# ---- staff actions ---------------------------------------------------------------------------


class Authorize(_Strict):
    action: Literal["authorize"] = "authorize"


class Warn(_Strict):
    action: Literal["warn"] = "warn"
    message: Text1000


class Chat(_Strict):
    action: Literal["chat"] = "chat"
    text: Text1000


class WithReason(_Strict):
    action: Literal["pause", "resume", "terminate"]
    reason: Reason


class Extend(_Strict):
    action: Literal["extend"] = "extend"
    minutes: Annotated[int, Field(ge=1, le=240)]
    reason: Reason


class Note(_Strict):
    action: Literal["note"] = "note"
    text: Annotated[str, Field(min_length=1, max_length=4000)]


class Report(_Strict):
    action: Literal["report"] = "report"
    category: IrregularityCategory
    description: Annotated[str, Field(min_length=3, max_length=4000)]


class Resolve(_Strict):
    action: Literal["confirm_incident", "dismiss_incident"]
    incident_id: uuid.UUID
    note: Annotated[str, Field(min_length=3, max_length=2000)]


Action = Annotated[
    Authorize | Warn | Chat | WithReason | Extend | Note | Report | Resolve, Field(discriminator="action")
]


def action_bodies(
    *models: type[BaseModel], path_fields: tuple[str, ...] = (), required: bool = False, description: str
) -> dict[str, Any]:
    """The OpenAPI request body of an action route: the action (and ``path_fields``) come from the path."""
    bodies = []
    for model in models:
        schema = model.model_json_schema()
        actions = schema["properties"]["action"]
        named = actions.get("enum") or [actions["const"]]
        for field in ("action", *path_fields):
            schema["properties"].pop(field, None)
        schema["required"] = [f for f in schema.get("required", []) if f in schema["properties"]]
        schema["title"] = f"the body of {', '.join(named)}"
        bodies.append(schema)
    return {
        "requestBody": {
            "required": required,
            "description": description,
            "content": {"application/json": {"schema": {"anyOf": bodies}}},
        }
    }


class ActionEnvelope(BaseModel):
    """An action frame's addressing; the rest of the frame is the ``Action``."""

    type: Literal["action"]
    request_id: Annotated[str, Field(min_length=1, max_length=64)]
    attempt_id: uuid.UUID


# ---- HTTP ------------------------------------------------------------------------------------


class TicketRequest(_Strict):
    window_id: uuid.UUID | None = None


class TicketRead(BaseModel):
    ticket: str
    url: str
    expires_in: int


class IncidentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    attempt_id: uuid.UUID
    rule: str
    severity: str
    points: int
    event_seq: int
    summary: str
    status: str
    opened_at: datetime
    resolved_by: uuid.UUID | None
    resolved_at: datetime | None
    resolution_note: str | None


class IntegrityRead(BaseModel):
    attempt_id: uuid.UUID
    risk_score: int
    review_required: bool
    threshold: int
    reasons: list[dict[str, Any]]
    incidents: list[IncidentRead]


class ChainRead(BaseModel):
    valid: bool
    entries: int
    broken_at: int | None
    problem: str | None


class SnapshotRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    attempt_id: uuid.UUID
    taken_at: datetime
    size_bytes: int
    width: int
    height: int


class WindowSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    tier: str
    opens_at: datetime
    closes_at: datetime
    proctored: bool
    risk_threshold: int
