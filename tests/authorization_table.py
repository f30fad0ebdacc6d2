"""Who may call each route of the service, and the exact status each kind of caller gets.

One entry per (method, path template) the app serves, WebSocket channels included (method
``WS``); ``tests/test_authorization_matrix.py`` holds the app's route table to this list in both
directions and plays every cell against seeded data.

The callers, in column order: nobody signed in; the candidate whose resource the path names;
another candidate; a proctor assigned to the sitting's window; a proctor assigned to another
window only; an examiner; an administrator.

Request bodies are JSON (``json``) or form fields (``form``) whose strings may name values with
``$name``: any path parameter, ``owner_id``, ``caller_email``, ``caller_password``,
``caller_refresh_token`` (a sign-in of the caller's own), ``credential_token``,
``empty_window_id`` and ``n`` (a number new to each request).
"""

from __future__ import annotations

import enum
from dataclasses import astuple, dataclass, fields
from typing import Any

from exam_service.web.api_docs import VERSION as SWAGGER_UI
from tests.factories import item_payload


class Caller(enum.Enum):
    anonymous = "anonymous"
    owner = "candidate (owner)"
    other = "candidate (another)"
    proctor = "proctor of the window"
    proctor_elsewhere = "proctor of another window"
    examiner = "examiner"
    admin = "admin"


SUCCESS = frozenset({200, 201, 202, 204, 303})
OPENS = 101  # a channel: the socket is accepted and answers the first frame (other cells: its close code)


@dataclass(frozen=True)
class Expect:
    """The status each caller gets, in ``Caller`` order."""

    anonymous: int
    owner: int
    other: int
    proctor: int
    proctor_elsewhere: int
    examiner: int
    admin: int

    def of(self, caller: Caller) -> int:
        status: int = getattr(self, caller.name)
        return status

    def ok(self, status: int) -> Expect:
        """The same callers allowed, answered with ``status``."""
        return Expect(*(status if s in SUCCESS else s for s in astuple(self)))


assert [f.name for f in fields(Expect)] == [c.name for c in Caller]

PUBLIC = Expect(200, 200, 200, 200, 200, 200, 200)
ANY_SIGNED_IN = Expect(401, 200, 200, 200, 200, 200, 200)
CANDIDATES = Expect(401, 200, 200, 403, 403, 403, 403)  # any candidate, for themselves
CANDIDATE_OWNER = Expect(401, 200, 404, 403, 403, 403, 403)  # another candidate's is "not found"
HOLDER_OR_EXAMINERS = Expect(401, 200, 404, 403, 403, 200, 200)
STAFF = Expect(401, 403, 403, 200, 200, 200, 200)
WINDOW_STAFF = Expect(401, 403, 403, 200, 404, 200, 200)  # proctors of other windows do not learn it exists
WINDOW_PROCTORS = Expect(401, 403, 403, 200, 404, 403, 200)  # proctoring actions examiners may not take
WINDOW_EXAMINERS = Expect(401, 403, 403, 403, 404, 200, 200)  # examiners' view of a sitting
EXAMINERS = Expect(401, 403, 403, 403, 403, 200, 200)
ADMIN_ONLY = Expect(401, 403, 403, 403, 403, 403, 200)
SCRAPER_ONLY = Expect(404, 404, 404, 404, 404, 404, 404)  # only the bearer of EXAM_METRICS_TOKEN: "nothing here"

CANDIDATE_CHANNEL = Expect(4401, OPENS, OPENS, 4403, 4403, 4403, 4403)  # each presents the ticket they can get
PROCTOR_CHANNEL = Expect(4401, 4403, 4403, OPENS, OPENS, OPENS, OPENS)


class On(enum.Enum):
    """What the path parameters point at; the ``fresh_`` ones are built anew for each allowed cell."""

    live_sitting = "the owner's sitting, under way in the window"
    finished_sitting = "the owner's submitted sitting, released as a pass with its credential"
    fresh_registration = "a new candidate's seat in the window"
    fresh_checked_in = "a new candidate's checked-in sitting"
    fresh_started = "a new candidate's sitting, under way"
    fresh_submitted = "a new candidate's submitted sitting"
    fresh_changed_result = "a released result whose score changed since"
    fresh_invalidation_requested = "a result another examiner asked to invalidate"
    fresh_item = "a new bank item"
    fresh_credential = "a new candidate's credential"
    fresh_candidate = "a new candidate account"
    fresh_candidates = "two new candidates, each booking for themselves"
    spare_proctor_assigned = "a third proctor assigned to the window"
    open_incident = "an open incident of the owner's sitting"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    expect: Expect
    on: On = On.live_sitting
    json: Any = None
    form: dict[str, str] | None = None
    jpeg: bool = False  # the body is a webcam frame
    query: str = ""
    at: dict[str, str] | None = None  # path parameters this route names in its own way
    own_session: bool = False  # the route ends or trades the session: each signed-in cell signs in anew
    lists_windows: bool = False  # the route lists every open window, so a window's id is no secret

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def fresh(self) -> bool:
        return self.on.name.startswith("fresh_") or self.on is On.spare_proctor_assigned


REASON = {"reason": "checked against the evidence"}
NEW_ITEM = {"content": item_payload("F-N$n-001"), "change_note": "written for the authorization matrix"}
NEW_VERSION = {
    "content": item_payload("$item_id", stem="Question $n: which statement about containers holds?"),
    "change_note": "a clearer stem",
}
WINDOW = {
    "title": "Another foundation sitting",
    "blueprint": "mlocp-foundation",
    "opens_at": "2031-01-01T09:00:00+00:00",
    "closes_at": "2031-01-01T13:00:00+00:00",
}

API = "/api/v1"
ATTEMPT = f"{API}/attempts/{{attempt_id}}"
STAFF_ATTEMPT = f"{API}/proctoring/attempts/{{attempt_id}}"
RESULT = f"{API}/results/{{attempt_id}}"
ITEM = f"{API}/bank/items/{{item_id}}"

ROUTES: tuple[Route, ...] = (
    # ---- documentation and operations
    Route("GET", "/openapi.json", PUBLIC),
    Route("GET", "/docs", PUBLIC),
    Route("GET", "/static/swagger-ui/{version}/{name}", PUBLIC, at={"version": SWAGGER_UI, "name": "swagger-ui.css"}),
    Route("GET", "/healthz", PUBLIC),
    Route("GET", "/readyz", PUBLIC),
    Route("GET", "/metrics", SCRAPER_ONLY),
    # ---- identity
    Route("POST", f"{API}/auth/token", PUBLIC, form={"username": "$caller_email", "password": "$caller_password"}),
    Route("POST", f"{API}/auth/refresh", ANY_SIGNED_IN, json={"refresh_token": "$caller_refresh_token"}),
    Route("POST", f"{API}/auth/logout", ANY_SIGNED_IN.ok(204), own_session=True),
    Route("GET", f"{API}/users/me", ANY_SIGNED_IN),
    Route("GET", f"{API}/users", EXAMINERS),
    Route(
        "POST",
        f"{API}/users",
        ADMIN_ONLY.ok(201),
        json={"email": "new$n@example.org", "full_name": "New", "role": "candidate", "password": "a" * 16},
    ),
    Route("DELETE", f"{API}/users/{{user_id}}/sessions", ADMIN_ONLY, on=On.fresh_candidate),
    Route(
        "PUT",
        f"{API}/users/{{user_id}}/accommodations",
        ADMIN_ONLY,
        json={"extra_time_multiplier": 1.0, "extra_time_minutes": 0},
    ),
    # ---- bank
    Route("GET", f"{API}/bank/items", EXAMINERS),
    Route("POST", f"{API}/bank/items", EXAMINERS.ok(201), json=NEW_ITEM),
    Route("GET", ITEM, EXAMINERS),
    Route("GET", f"{ITEM}/versions", EXAMINERS),
    Route("GET", f"{ITEM}/versions/{{version}}", EXAMINERS),
    Route("POST", f"{ITEM}/versions", EXAMINERS, on=On.fresh_item, json=NEW_VERSION),
    Route("POST", f"{ITEM}/versions/{{version}}/retire", EXAMINERS, on=On.fresh_item, json=REASON),
    Route("GET", f"{ITEM}/diff", EXAMINERS, query="from=1&to=1"),
    Route("GET", f"{API}/bank/blueprints", EXAMINERS),
    Route("GET", f"{API}/bank/blueprints/{{key}}", EXAMINERS),
    Route("POST", f"{API}/bank/blueprints/{{key}}/preview", EXAMINERS, json={}),
    # ---- scheduling
    Route("POST", f"{API}/windows", ADMIN_ONLY.ok(201), json=WINDOW),
    Route("GET", f"{API}/windows", ANY_SIGNED_IN, lists_windows=True),
    Route("GET", f"{API}/windows/{{window_id}}/proctors", ADMIN_ONLY),
    Route("POST", f"{API}/windows/{{window_id}}/proctors", ADMIN_ONLY.ok(201), json={"proctor_id": "$proctor_id"}),
    Route(
        "DELETE",
        f"{API}/windows/{{window_id}}/proctors/{{proctor_id}}",
        ADMIN_ONLY.ok(204),
        on=On.spare_proctor_assigned,
    ),
    Route(
        "POST",
        f"{API}/waivers",
        EXAMINERS.ok(201),
        on=On.fresh_candidate,
        json={"candidate_id": "$owner_id", "tier": "professional", "reason": "passed the vendor's own exam"},
    ),
    # ---- delivery
    Route(
        "POST",
        f"{API}/windows/{{window_id}}/registrations",
        ADMIN_ONLY.ok(201),
        on=On.fresh_candidate,
        json={"candidate_id": "$owner_id"},
    ),
    Route("POST", f"{API}/windows/{{window_id}}/bookings", CANDIDATES.ok(201), on=On.fresh_candidates),
    Route("GET", f"{API}/me/attempts", CANDIDATES),
    Route("GET", ATTEMPT, CANDIDATE_OWNER),
    Route("POST", f"{ATTEMPT}/check-in", CANDIDATE_OWNER, on=On.fresh_registration),
    Route("GET", f"{ATTEMPT}/briefing", CANDIDATE_OWNER),
    Route("POST", f"{ATTEMPT}/start", CANDIDATE_OWNER, on=On.fresh_checked_in, json={"accept_rules": True}),
    Route("GET", f"{ATTEMPT}/form", CANDIDATE_OWNER),
    Route("PUT", f"{ATTEMPT}/responses/{{position}}", CANDIDATE_OWNER, json={"revision": "$n", "value": None}),
    Route("PUT", f"{ATTEMPT}/flags/{{position}}", CANDIDATE_OWNER, json={"flagged": True}),
    Route("POST", f"{ATTEMPT}/submit", CANDIDATE_OWNER, on=On.fresh_started),
    Route("GET", f"{ATTEMPT}/receipt", CANDIDATE_OWNER, on=On.finished_sitting),
    # ---- grading and results
    Route("GET", f"{ATTEMPT}/grading", EXAMINERS, on=On.finished_sitting),
    Route("GET", f"{API}/results", EXAMINERS),
    Route("GET", RESULT, EXAMINERS, on=On.finished_sitting),
    Route("POST", f"{RESULT}/score", EXAMINERS, on=On.finished_sitting),
    Route(
        "POST",
        f"{RESULT}/items/{{position}}/override",
        EXAMINERS,
        on=On.fresh_submitted,
        json={"points": 0.0, **REASON},
    ),
    Route("POST", f"{RESULT}/release", EXAMINERS, on=On.fresh_submitted, json={}),
    Route("POST", f"{API}/results/release", EXAMINERS, json={"window_id": "$empty_window_id"}),
    Route("POST", f"{RESULT}/confirm-change", EXAMINERS, on=On.fresh_changed_result, json=REASON),
    Route("POST", f"{RESULT}/invalidation", EXAMINERS, on=On.fresh_submitted, json=REASON),
    Route("POST", f"{RESULT}/invalidation/confirm", EXAMINERS, on=On.fresh_invalidation_requested, json=REASON),
    Route("POST", f"{RESULT}/invalidation/withdraw", EXAMINERS, on=On.fresh_invalidation_requested, json=REASON),
    Route(
        "POST",
        f"{API}/bank/versions/{{version_id}}/corrections",
        EXAMINERS.ok(202),
        on=On.fresh_item,
        json={"kind": "accept_answer", "value": "c", **REASON},
    ),
    Route("GET", f"{API}/corrections/{{correction_id}}", EXAMINERS),
    Route("GET", f"{API}/bank/versions/{{version_id}}/corrections", EXAMINERS),
    Route("GET", f"{ATTEMPT}/result", CANDIDATE_OWNER, on=On.finished_sitting),
    Route("GET", f"{API}/analysis", EXAMINERS),
    Route("GET", f"{API}/analysis/{{blueprint_version_id}}", EXAMINERS),
    Route("GET", f"{API}/analysis/{{blueprint_version_id}}/responses.csv", EXAMINERS),
    Route("GET", f"{API}/analysis/{{blueprint_version_id}}/items.csv", EXAMINERS),
    # ---- proctoring
    Route("POST", f"{ATTEMPT}/channel-ticket", CANDIDATE_OWNER),
    Route("POST", f"{ATTEMPT}/snapshots", CANDIDATE_OWNER.ok(201), jpeg=True),
    Route("POST", f"{API}/proctoring/channel-ticket", WINDOW_STAFF, json={"window_id": "$window_id"}),
    Route("GET", f"{API}/proctoring/windows", STAFF),
    Route("GET", f"{API}/proctoring/windows/{{window_id}}/attempts", WINDOW_STAFF),
    Route("GET", f"{API}/proctoring/windows/{{window_id}}/sittings", WINDOW_STAFF),
    Route("GET", STAFF_ATTEMPT, WINDOW_STAFF),
    Route("POST", f"{STAFF_ATTEMPT}/{{action}}", WINDOW_PROCTORS, json={"message": "eyes on your own screen"}),
    Route(
        "POST",
        f"{API}/proctoring/incidents/{{incident_id}}/{{decision}}",
        WINDOW_STAFF,
        on=On.open_incident,
        json={"note": "seen on the recording: nothing wrong"},
    ),
    Route("GET", f"{STAFF_ATTEMPT}/transitions", WINDOW_STAFF),
    Route("GET", f"{STAFF_ATTEMPT}/events", WINDOW_STAFF),
    Route("GET", f"{STAFF_ATTEMPT}/events/verify", WINDOW_EXAMINERS),
    Route("GET", f"{STAFF_ATTEMPT}/integrity", WINDOW_STAFF),
    Route("GET", f"{STAFF_ATTEMPT}/timing", WINDOW_EXAMINERS),
    Route("GET", f"{STAFF_ATTEMPT}/snapshots", WINDOW_STAFF),
    Route("GET", f"{API}/proctoring/snapshots/{{snapshot_id}}", WINDOW_STAFF),
    Route("WS", "/ws/candidate", CANDIDATE_CHANNEL),
    Route("WS", "/ws/proctor", PROCTOR_CHANNEL),
    # ---- credentials
    Route("GET", f"{API}/credentials/{{credential_id}}/verification", PUBLIC),
    Route("POST", f"{API}/credentials/verify", PUBLIC, json={"credential": "$credential_token"}),
    Route("GET", f"{API}/me/credentials", CANDIDATES),
    Route("GET", f"{API}/credentials/{{credential_id}}/download", HOLDER_OR_EXAMINERS),
    Route("GET", f"{API}/credentials", EXAMINERS),
    Route("POST", f"{API}/credentials/{{credential_id}}/revoke", EXAMINERS, on=On.fresh_credential, json=REASON),
    Route("GET", "/.well-known/jwks.json", PUBLIC),
    Route("GET", "/issuer", PUBLIC),
    Route("GET", "/credentials/{credential_id}", PUBLIC),
    Route("GET", "/credentials/{credential_id}/certificate", PUBLIC),
    # ---- pages: shells whose data comes from the API above, so anyone may load them
    Route("GET", "/", PUBLIC.ok(303)),
    Route("GET", "/login", PUBLIC),
    Route("GET", "/exams", PUBLIC),
    Route("GET", "/exams/{attempt_id}", PUBLIC),
    Route("GET", "/exams/{attempt_id}/briefing", PUBLIC),
    Route("GET", "/exams/{attempt_id}/receipt", PUBLIC),
    Route("GET", "/proctor", PUBLIC),
    Route("GET", "/examiner", PUBLIC),
    Route("GET", "/examiner/results/{attempt_id}", PUBLIC),
    Route("GET", "/examiner/analysis", PUBLIC),
)
