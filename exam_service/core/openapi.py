"""The OpenAPI document as the service answers: its error shapes, and per operation the errors it can return.

Most error statuses follow from the route itself: a bearer-token dependency can answer 401, a dependency
registered with ``raises`` (a role check: 403) adds its statuses, a path parameter selects a row (404),
parameters or a body can fail validation (422), a body can be malformed (400) or too large (413). What only
a service knows (a 409 when the state forbids the action, a 404 for a row named in the body) is declared on
the route with ``responses=errors(...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeVar

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.routing import BaseRoute

F = TypeVar("F", bound=Callable[..., Any])
REF = "#/components/schemas/"

DESCRIPTIONS = {
    400: "The request cannot be read: a body that does not parse, or a value the operation refuses.",
    401: "No valid bearer token: missing, malformed, expired, or its session has ended.",
    403: "The caller's role may not do this.",
    404: "No such resource, or not one the caller may see.",
    409: "The current state does not allow this (the response names the state where it applies).",
    413: "The request body is larger than the service accepts.",
    422: "A parameter or the body is invalid; ``fields`` names each field at fault.",
    429: "Too many failed logins: wait ``retry_after`` seconds (also sent as ``Retry-After``).",
}
HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "``Bearer``", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait before the next try", "schema": {"type": "integer"}}},
}


class ErrorResponse(BaseModel):
    """Every error the service answers with, except validation errors (``ValidationErrorResponse``)."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(
        description="a stable code: bad_request, not_authenticated, forbidden, not_found, conflict, "
        "illegal_transition, illegal_action, payload_too_large, too_many_requests, ...",
        examples=["conflict"],
    )
    detail: str = Field(description="what went wrong, for people", examples=["the window has closed"])
    field: SkipJsonSchema[None] | str = Field(default=None, description="the request field at fault, when one is")
    state: SkipJsonSchema[None] | str = Field(default=None, description="the current state that refused the action")
    retry_after: SkipJsonSchema[None] | int = Field(default=None, description="seconds to wait (429)")


class FieldError(BaseModel):
    field: str = Field(description="dotted path of the field within its part of the request", examples=["closes_at"])
    message: str = Field(examples=["Input should be a valid datetime"])
    type: str = Field(description="the kind of failure", examples=["datetime_parsing"])


class ValidationErrorResponse(BaseModel):
    """A request that does not validate: every field at fault, the first one also in ``detail``."""

    model_config = ConfigDict(extra="allow")

    error: Literal["validation_error"]
    detail: str = Field(examples=["closes_at: Input should be a valid datetime"])
    field: str = Field(description="the first field at fault", examples=["closes_at"])
    fields: list[FieldError] = Field(min_length=1)


_RAISES: dict[Callable[..., Any], frozenset[int]] = {}


def raises(*statuses: int) -> Callable[[F], F]:
    """Declares the error statuses a dependency can answer with, for every operation that uses it."""

    def register(dependency: F) -> F:
        _RAISES[dependency] = _RAISES.get(dependency, frozenset()) | frozenset(statuses)
        return dependency

    return register


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    model = ValidationErrorResponse if status == 422 else ErrorResponse
    response: dict[str, Any] = {
        "description": description or DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": {"$ref": f"{REF}{model.__name__}"}}},
    }
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


def errors(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the error statuses only its service knows it can answer with.

    ``described`` gives a status its own description, keyed ``e409=...``.
    """
    declared: dict[int | str, dict[str, Any]] = {status: error_response(status) for status in statuses}
    for key, description in described.items():
        status = int(key.removeprefix("e"))
        declared[status] = error_response(status, description)
    return declared


def media(description: str, schemas: dict[str, dict[str, Any]], status: int = 200) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that answers with other media types than JSON (CSV, images, signed documents)."""
    return {status: {"description": description, "content": {kind: {"schema": s} for kind, s in schemas.items()}}}


BINARY: dict[str, Any] = {"type": "string", "format": "binary"}
TEXT: dict[str, Any] = {"type": "string"}


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route as the app serves it (prefixes applied); FastAPI 0.12x lists them flat, later ones nest."""
    contexts: Callable[[list[BaseRoute]], Iterator[Any]] | None = getattr(routing, "iter_route_contexts", None)
    for route in contexts(app.routes) if contexts is not None else app.routes:
        if isinstance(getattr(route, "original_route", route), APIRoute) and getattr(route, "include_in_schema", True):
            yield route


def derived_statuses(route: Any, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer with, read from its dependencies and parameters."""
    statuses: set[int] = set()
    parameters = False
    for dependant in _dependants(route.dependant):
        if isinstance(dependant.call, SecurityBase):
            statuses.add(401)
        if dependant.call is not None:
            statuses |= _RAISES.get(dependant.call, frozenset())
        if dependant.path_params:
            statuses.add(404)
        if dependant.path_params or dependant.query_params or dependant.header_params or dependant.cookie_params:
            parameters = True
    if route.body_field is not None:
        statuses |= {400, 422}
    if parameters:
        statuses.add(422)
    if "requestBody" in operation:
        statuses.add(413)
    return statuses


def build_openapi(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )
    for route in api_routes(app):
        for method in route.methods:
            operation = document["paths"][route.path_format][method.lower()]
            declared_body = (getattr(route, "openapi_extra", None) or {}).get("requestBody")
            if declared_body is not None:  # a route that checks its body itself states it whole, not merged
                operation["requestBody"] = declared_body
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for status in derived_statuses(route, operation):
                responses.setdefault(str(status), error_response(status))
            if "422" in responses:
                responses["422"] = error_response(422, responses["422"].get("description"))
                if responses["422"]["description"] == "Validation Error":
                    responses["422"]["description"] = DESCRIPTIONS[422]
            operation["responses"] = dict(sorted(responses.items()))
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    for model in (ErrorResponse, ValidationErrorResponse):
        definition = model.model_json_schema(ref_template=REF + "{model}")
        schemas.update(definition.pop("$defs", {}))
        schemas[model.__name__] = definition
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document


def install_openapi(app: FastAPI) -> None:
    """Serves ``build_openapi`` at the app's ``openapi_url``, built once on first request."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
