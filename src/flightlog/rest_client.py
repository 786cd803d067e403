"""The HTTP layer shared by the REST store and the HTTP artifact repository.

One `requests.Session` per client per process (connection pooling; rebuilt after fork so a child
never reuses the parent's sockets), bounded retries with exponential backoff on connection errors,
429 and 5xx, authentication from the environment, and MLflow's error JSON turned back into
flightlog's exception classes.

Environment:
- FLIGHTLOG_TRACKING_TOKEN (else MLFLOW_TRACKING_TOKEN): sent as `Authorization: Bearer <token>`;
- FLIGHTLOG_TRACKING_USERNAME/PASSWORD (else MLFLOW_TRACKING_USERNAME/PASSWORD): basic auth, used
  only when no token is set;
- FLIGHTLOG_TRACKING_INSECURE_TLS (else MLFLOW_TRACKING_INSECURE_TLS): skip TLS verification;
- FLIGHTLOG_TRACKING_SERVER_CERT_PATH (else MLFLOW_TRACKING_SERVER_CERT_PATH): CA bundle;
- FLIGHTLOG_HTTP_REQUEST_TIMEOUT (seconds, default 120), FLIGHTLOG_HTTP_REQUEST_MAX_RETRIES
  (default 5), FLIGHTLOG_HTTP_REQUEST_BACKOFF_FACTOR (seconds, default 0.5; the wait doubles per
  attempt, capped by FLIGHTLOG_HTTP_REQUEST_BACKOFF_MAX, default 4).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from flightlog import __version__ as _version
from flightlog.exceptions import FlightlogError, StoreUnavailableError, error_from_code

# Statuses worth another try: the server is overloaded, restarting, behind a failing proxy, or
# its own store is in trouble (a full disk answers 500 or 507). Every 5xx is retried (see
# is_retry_status); only a 4xx refuses the request itself.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Of those, the ones that do not say whether the server acted on the request (a proxy in front
# of it gave up, or it crashed mid-request); 503 and 429 say it did not.
AMBIGUOUS_STATUSES = frozenset({500, 502, 504})


def is_retry_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def _is_ambiguous(status: int) -> bool:
    return status not in (429, 503)


CONNECT_TIMEOUT_S = 10.0

Body = bytes | os.PathLike | None


def _split_userinfo(url: str) -> tuple[str, str, str | None, str] | None:
    """(scheme://, user, password or None, rest) of a URL with user info, else None."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    netloc, slash, path = rest.partition("/")
    userinfo, at, host = netloc.rpartition("@")
    if not at:
        return None
    user, colon, password = userinfo.partition(":")
    return scheme + "://", user, password if colon else None, host + slash + path


def redact_url(url: str) -> str:
    """The URL with its password, if any, replaced by *** (for messages and logs)."""
    parts = _split_userinfo(url)
    if parts is None or parts[2] is None:
        return url
    return f"{parts[0]}{parts[1]}:***@{parts[3]}"


def strip_password(url: str) -> str:
    """The URL without its password (user name kept): what may be written to disk."""
    parts = _split_userinfo(url)
    if parts is None or parts[2] is None:
        return url
    return f"{parts[0]}{parts[1]}@{parts[3]}"


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name) or os.environ.get(name.replace("FLIGHTLOG_", "MLFLOW_", 1))
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


def auth_header() -> str | None:
    """The Authorization header value the environment asks for, if any."""
    token = _env("FLIGHTLOG_TRACKING_TOKEN", "MLFLOW_TRACKING_TOKEN")
    if token:
        return f"Bearer {token}"
    user = _env("FLIGHTLOG_TRACKING_USERNAME", "MLFLOW_TRACKING_USERNAME")
    password = _env("FLIGHTLOG_TRACKING_PASSWORD", "MLFLOW_TRACKING_PASSWORD")
    if user and password:
        raw = f"{user}:{password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")
    return None


def _tls_verify() -> bool | str:
    insecure = _env("FLIGHTLOG_TRACKING_INSECURE_TLS", "MLFLOW_TRACKING_INSECURE_TLS")
    if insecure and insecure.strip().lower() in ("1", "true", "yes"):
        return False
    return _env("FLIGHTLOG_TRACKING_SERVER_CERT_PATH", "MLFLOW_TRACKING_SERVER_CERT_PATH") or True


class RestClient:
    """HTTP calls to one server (`base_url`, e.g. http://127.0.0.1:5000), with retries."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff_factor: float | None = None,
        backoff_max: float | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.shown_url = redact_url(self.base_url)  # for messages: never the password
        self.timeout = timeout or _env_number("FLIGHTLOG_HTTP_REQUEST_TIMEOUT", 120.0)
        self.max_retries = int(
            max_retries
            if max_retries is not None
            else _env_number("FLIGHTLOG_HTTP_REQUEST_MAX_RETRIES", 5)
        )
        self.backoff_factor = (
            backoff_factor
            if backoff_factor is not None
            else _env_number("FLIGHTLOG_HTTP_REQUEST_BACKOFF_FACTOR", 0.5)
        )
        self.backoff_max = (
            backoff_max
            if backoff_max is not None
            else _env_number("FLIGHTLOG_HTTP_REQUEST_BACKOFF_MAX", 4.0)
        )
        self._session: Any = None
        self._session_pid: int | None = None
        self._lock = threading.Lock()
        self._local = threading.local()  # per-thread overrides (see single_attempt)

    @property
    def retries(self) -> int:
        """Retries for a request made now, in this thread (0 inside `single_attempt`)."""
        return getattr(self._local, "retries", self.max_retries)

    @contextlib.contextmanager
    def single_attempt(self) -> Iterator[None]:
        """Requests made in this block, in this thread, get one attempt and no backoff: the
        logging queue probes a server it knows is down without paying the whole retry cycle
        (about 11 s with the defaults) on every probe."""
        saved = getattr(self._local, "retries", None)
        self._local.retries = 0
        try:
            yield
        finally:
            if saved is None:
                del self._local.retries
            else:
                self._local.retries = saved

    # --- session -------------------------------------------------------------------------
    def _get_session(self) -> Any:
        session = self._session
        if session is not None and self._session_pid == os.getpid():
            return session
        with self._lock:
            if self._session is None or self._session_pid != os.getpid():
                self._session = self._new_session()
                self._session_pid = os.getpid()
            return self._session

    @staticmethod
    def _new_session() -> Any:
        import requests
        from requests.adapters import HTTPAdapter

        session = requests.Session()
        # Retries are ours (they must end in StoreUnavailableError), so urllib3 retries nothing.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = f"flightlog/{_version}"
        return session

    def close(self) -> None:
        with self._lock:
            if self._session is not None and self._session_pid == os.getpid():
                self._session.close()
            self._session = None

    def reset_after_fork(self) -> None:
        # The inherited sockets belong to the parent; forget them without closing.
        self._session = None
        self._session_pid = None

    # --- requests ------------------------------------------------------------------------
    def _backoff(self, attempt: int, last_error: Any = None) -> float:
        headers = getattr(last_error, "headers", None)
        if headers is not None and not isinstance(last_error, BaseException):
            retry_after = headers.get("Retry-After")
            if retry_after and retry_after.strip().isdigit():
                return min(float(retry_after), self.backoff_max * 4)
        delay = min(self.backoff_factor * (2**attempt), self.backoff_max)
        return delay * (0.75 + random.random() / 2)  # jitter, so restarted clients spread out

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        timeout: float | None = None,
        retry_ambiguous: bool = True,
    ) -> Any:
        """Send one request, retrying transient failures; return the final `requests.Response`.

        `data` is bytes, or the path of a file to stream (reopened for each attempt). Raises
        StoreUnavailableError when no attempt got an answer. A failure after the request may
        have reached the server (connection dropped mid-request, read timeout, 502/504) is
        retried too, unless `retry_ambiguous` is False: then AmbiguousRequestError is raised at
        once, for callers that must find out whether the first attempt took effect.
        """
        import requests

        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        send_headers = dict(headers or {})
        auth = auth_header()
        if auth:
            send_headers["Authorization"] = auth
        verify = _tls_verify()
        last_error: BaseException | str | None = None
        retries = self.retries
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(self._backoff(attempt - 1, last_error))
            body = open(data, "rb") if isinstance(data, os.PathLike) else data  # noqa: SIM115
            try:
                response = self._get_session().request(
                    method,
                    url,
                    params=params,
                    data=body,
                    headers=send_headers,
                    stream=stream,
                    timeout=(CONNECT_TIMEOUT_S, timeout or self.timeout),
                    verify=verify,
                )
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                if not retry_ambiguous and not _never_sent(exc):
                    raise AmbiguousRequestError(
                        f"{method} {path}: the connection failed after the request was sent "
                        f"({exc}); it may or may not have taken effect"
                    ) from exc
                last_error = exc
                continue
            finally:
                if hasattr(body, "close"):
                    body.close()
            status = response.status_code
            if is_retry_status(status):
                if not retry_ambiguous and _is_ambiguous(status):
                    response.close()
                    raise AmbiguousRequestError(
                        f"{method} {path}: HTTP {status} from {self.shown_url}; the request may "
                        "or may not have taken effect"
                    )
                if attempt < retries:
                    last_error = response
                    response.close()
                    continue
            return response
        raise StoreUnavailableError(
            f"Could not reach {self.shown_url} ({method} {path}) after "
            f"{retries + 1} attempt(s): {_describe(last_error)}"
        )

    def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | bytes | None = None,
        params: Mapping[str, Any] | None = None,
        retry_ambiguous: bool = True,
        extra_headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """A JSON API call: returns the response JSON, or raises the error it describes."""
        data = None
        headers = dict(extra_headers) if extra_headers else None
        if body is not None:
            data = body if isinstance(body, bytes) else encode_json(body)
            headers = {**(headers or {}), "Content-Type": "application/json"}
        response = self.request(
            method, path, params=params, data=data, headers=headers, retry_ambiguous=retry_ambiguous
        )
        if response.status_code == 200:
            if not response.content:
                return {}
            try:
                return response.json()
            except ValueError as exc:
                raise FlightlogError(
                    f"{method} {path} answered 200 with a body that is not JSON: "
                    f"{response.text[:200]!r}"
                ) from exc
        raise error_from_response(response, f"{method} {path}")


class AmbiguousRequestError(StoreUnavailableError):
    """The request may have reached the server before the connection failed: a retry could
    apply it twice. Retryable like any StoreUnavailableError once the caller has checked."""


def _never_sent(exc: BaseException) -> bool:
    """True when the failure happened before the request could reach the server."""
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, NewConnectionError | ConnectionRefusedError):
            return True
        stack.extend([getattr(err, "reason", None), err.__cause__, err.__context__])
        stack.extend(a for a in getattr(err, "args", ()) if isinstance(a, BaseException))
    return False


def _describe(last: Any) -> str:
    if isinstance(last, BaseException):
        return str(last)
    status = getattr(last, "status_code", None)
    return f"HTTP {status}" if status is not None else "no answer"


def error_from_response(response: Any, what: str) -> FlightlogError:
    """Turn an error response into the matching exception (MLflow's error JSON when present)."""
    status = response.status_code
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict) and "error_code" in payload:
        message = str(payload.get("message", ""))
        error = error_from_code(str(payload["error_code"]), message)
    else:
        text = response.text[:500] if response.text else ""
        message = f"{what} failed with HTTP {status}: {text}"
        if is_retry_status(status):
            error = StoreUnavailableError(message)
        elif status == 401:
            error = error_from_code("UNAUTHENTICATED", message)
        elif status == 403:
            error = error_from_code("PERMISSION_DENIED", message)
        elif status == 404:
            error = error_from_code("ENDPOINT_NOT_FOUND", message)
            error.http_status = 404
        else:
            error = error_from_code("BAD_REQUEST", message)
    if is_retry_status(status) and not isinstance(error, StoreUnavailableError):
        # Whatever the body says (a server whose own store is full answers 500 INTERNAL_ERROR
        # with error JSON), the queue should keep the data and try again later: only a 4xx is
        # a refusal of the request itself.
        error = StoreUnavailableError(f"HTTP {status} from the server: {error.message}")
    return error


def encode_json(body: Mapping[str, Any]) -> bytes:
    # NaN/inf are encoded by the caller as proto3 JSON strings; allow_nan=False catches misses.
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")
