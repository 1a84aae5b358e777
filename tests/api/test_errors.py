import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from export_api.errors import (
    NotFoundError,
    RateLimitedError,
    UnauthenticatedError,
    describe_validation_errors,
    install_error_handlers,
)

pytestmark = pytest.mark.unit


class Body(BaseModel):
    start_date: str


def error_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/unauthenticated")
    async def unauthenticated() -> None:
        raise UnauthenticatedError("Unauthenticated: send a key.")

    @app.get("/limited")
    async def limited() -> None:
        raise RateLimitedError("Too many requests.", {"Retry-After": "3"})

    @app.get("/missing")
    async def missing() -> None:
        raise NotFoundError("Export not found in your space.")

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    @app.post("/body")
    async def body(payload: Body) -> None:
        return None

    return app


class InProcess:
    """Calls the app in this process (no server needed for handlers without I/O)."""

    def __init__(self, app: FastAPI) -> None:
        self.transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url="http://api") as http:
                return await http.request(method, path, **options)

        return asyncio.run(call())

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)


@pytest.fixture
def http() -> InProcess:
    return InProcess(error_app())


def test_our_errors_keep_their_code_message_and_headers(http: InProcess) -> None:
    response = http.get("/unauthenticated")
    assert (response.status_code, response.json()) == (
        401,
        {"error": "Unauthenticated: send a key."},
    )
    assert response.headers["WWW-Authenticate"] == "Bearer"
    limited = http.get("/limited")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    assert http.get("/missing").json() == {"error": "Export not found in your space."}


def test_an_unexpected_error_shows_only_a_request_id(http: InProcess) -> None:
    response = http.get("/bug")
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"error"}
    assert response.headers["X-Request-ID"] in body["error"]
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


def test_framework_errors_use_the_same_shape(http: InProcess) -> None:
    assert http.get("/nowhere").json()["error"].startswith("No such endpoint")
    assert (
        http.request("DELETE", "/missing").json()["error"].startswith("This method is not allowed")
    )
    headers = {"Content-Type": "application/json"}
    bad = http.request("POST", "/body", content=b"\xff\xfe", headers=headers)
    assert bad.status_code == 422
    assert set(bad.json()) == {"error"}


def test_validation_errors_name_each_field_and_never_echo_input() -> None:
    errors = [
        {"type": "missing", "loc": ("body", "start_date"), "msg": "Field required", "input": {}},
        {"type": "string_type", "loc": ("body", "end_date"), "msg": "x", "input": "SECRET"},
        {"type": "less_than_equal", "loc": ("query", "per_page"), "msg": "Input should be <= 5"},
    ]
    message = describe_validation_errors(errors)
    assert message == (
        "start_date: is required; end_date: must be a string; per_page: Input should be <= 5. "
        "Fix the request and retry; /openapi.json describes it."
    )
    assert "SECRET" not in message


def test_a_value_outside_a_closed_set_names_the_allowed_values() -> None:
    error = {
        "type": "enum",
        "loc": ("body", "date_field"),
        "msg": "Input should be 'created_at' or 'updated_at'",
        "input": "SECRET",
        "ctx": {"expected": "'created_at' or 'updated_at'"},
    }
    message = describe_validation_errors([error])
    assert message == (
        "date_field: must be 'created_at' or 'updated_at'. "
        "Fix the request and retry; /openapi.json describes it."
    )


def test_invalid_json_is_blamed_on_the_body_not_an_offset() -> None:
    message = describe_validation_errors([{"type": "json_invalid", "loc": ("body", 7)}])
    assert message.startswith("request body: is not valid JSON")
