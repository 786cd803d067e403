"""Every failure leaves the server as MLflow's error JSON with the matching HTTP status.

`{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}`: flightlog's exceptions carry both
fields; request validation errors become 400 INVALID_PARAMETER_VALUE; anything unexpected is a
500 INTERNAL_ERROR whose traceback goes to the server log, never to the client.
"""

from __future__ import annotations

import errno
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from flightlog.exceptions import FlightlogError

log = logging.getLogger("flightlog.server")

# Statuses Starlette raises itself (routing, methods, our size limit), in MLflow's vocabulary.
_CODE_FOR_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    405: "BAD_REQUEST",
    413: "BAD_REQUEST",
    415: "BAD_REQUEST",
    422: "INVALID_PARAMETER_VALUE",
    429: "REQUEST_LIMIT_EXCEEDED",
    503: "TEMPORARILY_UNAVAILABLE",
}


# `scheme://user:password@` in a URI: the password part is replaced before a message leaves the
# server (a store or artifact URI may be echoed in an error).
_URI_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]*):(?P<secret>[^\s@/]*)@")


def redact_uri_passwords(text: str) -> str:
    """'postgresql://me:s3cret@db/x' -> 'postgresql://me:***@db/x', wherever it appears."""
    if "@" not in text:
        return text
    return _URI_PASSWORD.sub(lambda m: f"{m.group('head')}:***@", text)


def error_response(
    status: int, error_code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error_code": error_code, "message": redact_uri_passwords(message)},
        status_code=status,
        headers=headers,
    )


def _describe_validation(errors: list[dict[str, Any]]) -> str:
    """One readable sentence per problem, naming the parameter as MLflow does."""
    parts = []
    for err in errors[:5]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        name = ".".join(loc) or "request body"
        kind = err.get("type", "")
        if kind == "missing" or ("input" in err and err["input"] is None):
            # null where a value is required counts as missing (proto3 JSON has no null)
            parts.append(f"Missing value for required parameter '{name}'.")
        elif kind == "json_invalid":
            parts.append(f"Malformed JSON in the request body: {err.get('msg', '')}.")
        elif kind == "value_error" and not loc:
            # a whole-body check (e.g. run_id or run_uuid required) words its own message
            parts.append(str(err.get("msg", "")).removeprefix("Value error, "))
        else:
            # MLflow's wording, value as JSON ("Invalid value 31 for parameter 'run_id'
            # supplied: ..."): clients and MLflow's own tests match on it.
            shown = _as_json(err.get("input"))
            if len(shown) > 80:
                shown = shown[:77] + "..."
            parts.append(
                f"Invalid value {shown} for parameter '{name}' supplied: {err.get('msg', '')}."
            )
    if len(errors) > 5:
        parts.append(f"({len(errors) - 5} more problems not shown)")
    return " ".join(parts)


def _as_json(value: Any) -> str:
    import json

    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return repr(value)


async def _flightlog_error(_request: Request, exc: FlightlogError) -> JSONResponse:
    status = int(getattr(exc, "http_status", 500) or 500)
    if status >= 500:
        log.error("%s: %s", exc.error_code, exc.message)
    return error_response(status, exc.error_code, exc.message)


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    return error_response(400, "INVALID_PARAMETER_VALUE", _describe_validation(exc.errors()))


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    code = _CODE_FOR_STATUS.get(status, "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if status == 404 and message == "Not Found":
        message = "This API endpoint does not exist."
    return error_response(status, code, message, getattr(exc, "headers", None))


async def _not_implemented(_request: Request, exc: NotImplementedError) -> JSONResponse:
    return error_response(501, "NOT_IMPLEMENTED", str(exc) or "Not implemented by this server.")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    status, code, message = _describe_unexpected(exc)
    if status >= 500:
        log.error("Unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(status, code, message)


_TOO_DEEP = (
    "The request is nested too deeply to process (JSON nesting or filter parentheses): flatten it."
)


_NAME_TOO_LONG = (
    "A path in the request has a file or folder name longer than the file system allows "
    "(255 bytes on most)."
)
_NUL = "A value in the request contains a NUL character (\\x00), which cannot be stored."


def _describe_unexpected(exc: BaseException) -> tuple[int, str, str]:
    """(status, error_code, message) for an exception no handler claimed."""
    if isinstance(exc, RecursionError):
        return 400, "INVALID_PARAMETER_VALUE", _TOO_DEEP
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return 400, "INVALID_PARAMETER_VALUE", _NAME_TOO_LONG
    if isinstance(exc, ValueError) and "NUL" in str(exc):
        # psycopg2 refuses a string holding U+0000 before sending it (PostgreSQL text cannot).
        return 400, "INVALID_PARAMETER_VALUE", _NUL
    return 500, "INTERNAL_ERROR", "Internal server error; the server log has the details."


class UnhandledErrorMiddleware:
    """Turn an exception no handler claimed into the error JSON *without* re-raising it.

    Starlette's own last-resort handler sends the 500 and then re-raises, and uvicorn closes the
    connection after an exception: a client's next pooled request on that connection then fails
    with a reset. Here the response is sent and the request ends normally, so keep-alive holds.
    Added innermost, around the routes.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            status, code, message = _describe_unexpected(exc)
            if status >= 500:
                log.error(
                    "Unhandled error in %s %s", scope.get("method"), scope.get("path"), exc_info=exc
                )
            if started:
                raise  # half a response is out: only closing the connection can end it
            response = error_response(status, code, message)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FlightlogError, _flightlog_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(NotImplementedError, _not_implemented)
    app.add_exception_handler(Exception, _unexpected)
