"""Every operation of the API, called by every role, answers as GET /openapi.json says it does.

Schemathesis generates requests from the published document (valid and invalid ones, with a fixed
seed) and checks each answer: never a 5xx, a documented status, a body that matches the documented
schema, a documented content type. Path parameters take real ids from a seeded database as well as
generated ones, so operations reach real sittings, windows, items and credentials.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from exam_service.core.broker import InProcessBroker
from exam_service.core.clock import FrozenClock
from exam_service.core.settings import Settings
from exam_service.main import create_app
from tests.conftest import app_settings, run_in_thread
from tests.factories import PASSWORD
from tests.openapi_data import Seeded, seed

ROLES = ("anonymous", "candidate", "proctor", "examiner", "admin")
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
EXAMPLES = 12  # generated cases per operation and role, besides the boundary cases
# operations that end a session: the caller's, or the one named by the path
ENDS_SESSION = {("POST", "/api/v1/auth/logout"), ("DELETE", "/api/v1/users/{user_id}/sessions")}
CONFIG = {
    "seed": 20260105,
    "suppress-health-check": ["all"],
    "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
    "operations": [
        {
            # a question's content is a union of ten item types, nested three deep: boundary cases of every field
            # of every variant with the wrong type come to about 1,700 requests per role and operation, all refused
            # by the same request validation; the valid boundary cases, which reach the content rules, stay
            "include-path": ["/api/v1/bank/items", "/api/v1/bank/items/{item_id}/versions"],
            "include-method": "POST",
            "phases": {"coverage": {"generation": {"mode": "positive"}}},
        }
    ],
}


def contract_settings(folder: Path) -> Settings:
    return app_settings(
        f"sqlite+aiosqlite:///{folder / 'exam.db'}",
        snapshot_dir=str(folder / "snapshots"),
        # generated logins fail by the hundred from one address; the throttle itself is tested in tests/identity
        login_slow_after=100_000,
        login_lock_after=100_001,
    )


# The document as the app publishes it, read when the tests are collected (building it touches no database);
# the app under test must serve exactly this one at GET /openapi.json.
DOCUMENT = create_app(contract_settings(Path(tempfile.gettempdir()))).openapi()
schema = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT), config=schemathesis.Config.from_dict(CONFIG))
# path parameter -> ids of seeded rows, filled in once the database is seeded
REAL_IDS: dict[str, list[Any]] = {}


@schema.hook
def before_generate_path_parameters(_context: schemathesis.HookContext, strategy: Any) -> Any:
    """Each path parameter is the generated value or the id of a seeded row, so operations reach real rows."""

    def aim(generated: Any) -> Any:
        if not isinstance(generated, dict):
            return st.just(generated)
        return st.fixed_dictionaries(
            {name: st.sampled_from([*REAL_IDS.get(name, []), value]) for name, value in generated.items()}
        )

    return strategy.flatmap(aim)


@dataclass
class Contract:
    """The app under test with its seeded rows, and a signed-in session per role."""

    app: FastAPI
    seeded: Seeded
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self) -> asgi.ASGIClient:
        """A client on the app's own lifespan, the one the generated cases are sent through as well."""
        return asgi.get_client(cast(asgi.ASGIApp, self.app))

    def sign_in(self, role: str) -> None:
        with self.client() as client:
            response = client.post(
                "http://testserver/api/v1/auth/token",
                data={"username": self.seeded.emails[role], "password": PASSWORD},
            )
        assert response.status_code == 200, response.text
        self.tokens[role] = response.json()["access_token"]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role in self.tokens else {}

    def after(self, case: schemathesis.Case[Any], role: str) -> None:
        """A case that ended a session of ours (logout, an admin ending a user's sessions) is followed by a new one."""
        if (case.method.upper(), case.path) not in ENDS_SESSION:
            return
        ended = {role} if role in self.tokens else set()
        named = str((case.path_parameters or {}).get("user_id", ""))
        ended |= {r for r, user_id in self.seeded.user_ids.items() if user_id == named}
        for each in ended:
            self.sign_in(each)


@pytest.fixture(scope="module")
def contract(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Contract]:
    folder = tmp_path_factory.mktemp("contract")
    shutil.copyfile(sqlite_template, folder / "exam.db")
    config = contract_settings(folder)
    clock = FrozenClock()
    seeded: list[Seeded] = []

    async def seeding() -> None:
        seeded.append(await seed(config, clock))

    run_in_thread(seeding())
    contract = Contract(create_app(config, clock=clock, broker=InProcessBroker()), seeded[0])
    with contract.client() as client:
        served = client.get("http://testserver/openapi.json")
    assert served.status_code == 200
    assert served.json() == DOCUMENT
    for role in ROLES[1:]:
        contract.sign_in(role)
    REAL_IDS.update(contract.seeded.path_values)
    yield contract
    REAL_IDS.clear()
    asgi.shutdown_lifespans()


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
def test_every_operation_answers_as_documented(case: schemathesis.Case[Any], role: str, contract: Contract) -> None:
    try:
        case.call_and_validate(app=contract.app, headers=contract.headers(role), checks=CHECKS)
    finally:
        contract.after(case, role)
