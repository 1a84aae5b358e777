"""Every error the API sends is `{"error": "<what went wrong and what to do>"}`.

Handlers here turn our exceptions, FastAPI's validation errors and anything unexpected into that
shape. An unexpected error is logged with a request id, and only that id reaches the client.
"""

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the client can act on; `message` is shown to the client as is."""

    status_code = 400

    def __init__(self, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})


class UnauthenticatedError(ApiError):
    status_code = 401

    def __init__(self, message: str) -> None:
        super().__init__(message, {"WWW-Authenticate": "Bearer"})


class ForbiddenError(ApiError):
    status_code = 403


class NotFoundError(ApiError):
    status_code = 404


class InvalidParametersError(ApiError):
    status_code = 422


class RateLimitedError(ApiError):
    status_code = 429


def error_body(message: str) -> dict[str, str]:
    return {"error": message}


# Plain words for the validation errors clients meet most; pydantic's own message otherwise.
_PLAIN_MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "int_parsing": "must be an integer",
    "int_type": "must be an integer",
    "json_invalid": "is not valid JSON; send a JSON object",
    "model_attributes_type": "must be a JSON object, sent with Content-Type: application/json",
    "dict_type": "must be a JSON object, sent with Content-Type: application/json",
}


# A value outside a closed set (an enum or a Literal): the message lists what is allowed.
_CHOICE_ERRORS = frozenset({"enum", "literal_error"})


def _plain_message(error: Any) -> str:
    kind = error.get("type", "")
    if kind in _CHOICE_ERRORS and "expected" in error.get("ctx", {}):
        return f"must be {error['ctx']['expected']}"
    return str(_PLAIN_MESSAGES.get(kind, error.get("msg", "is invalid")))


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """Names each field and says what it must be (`start_date: is required`); never echoes input."""
    parts = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
        if error.get("type") == "json_invalid":
            location = []  # the location is a character offset, not a field
        field = ".".join(location) or "request body"
        message = _plain_message(error)
        parts.append(f"{field}: {message}")
    return "; ".join(parts) + ". Fix the request and retry; /openapi.json describes it."


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(error_body(exc.message), exc.status_code, headers=exc.headers)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(error_body(describe_validation_errors(exc.errors())), 422)


_HTTP_MESSAGES = {
    404: "No such endpoint: check the path against /openapi.json.",
    405: "This method is not allowed on this path: check /openapi.json.",
}


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's only 400: a body it could not decode. The public API answers bad input with 422.
        message = "request body: could not be parsed; send a UTF-8 JSON object."
        return JSONResponse(error_body(message), 422)
    message = _HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
    return JSONResponse(error_body(message), exc.status_code, headers=exc.headers)


def _log_with_request_id(request: Request, exc: Exception, what: str) -> str:
    """Logs a failure of ours with its trace under a new request id, which the answer quotes."""
    request_id = uuid.uuid4().hex
    log.error(
        what,
        exc_info=exc,
        extra={"request_id": request_id, "path": request.url.path, "method": request.method},
    )
    return request_id


async def _on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    request_id = _log_with_request_id(request, exc, "unhandled error")
    message = (
        f"Internal error on our side (request id {request_id}); retry later, and quote the "
        "request id if it persists."
    )
    return JSONResponse(error_body(message), 500, headers={"X-Request-ID": request_id})


RETRY_AFTER_UNAVAILABLE_SECONDS = 5


async def _on_dependency_down(request: Request, exc: Exception) -> JSONResponse:
    request_id = _log_with_request_id(request, exc, "a dependency is unavailable")
    message = (
        "Temporarily unavailable: the database or the cluster did not answer (request id "
        f"{request_id}); retry in a few seconds."
    )
    headers = {"X-Request-ID": request_id, "Retry-After": str(RETRY_AFTER_UNAVAILABLE_SECONDS)}
    return JSONResponse(error_body(message), 503, headers=headers)


def install_error_handlers(app: FastAPI, unavailable: Sequence[type[Exception]] = ()) -> None:
    """`unavailable`: exceptions meaning a dependency is down (503), not a bug of ours (500)."""
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    for exception in unavailable:
        app.add_exception_handler(exception, _on_dependency_down)
    app.add_exception_handler(Exception, _on_unexpected_error)
