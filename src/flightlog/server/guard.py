"""What a browser may ask of this server: Host allow-list, cross-origin writes, JSON content type.

Three doors a web page on another site could otherwise use, closed in one pure ASGI middleware
that runs before anything else (authentication included):

- DNS rebinding. A page on `http://evil.test:5000` whose name the attacker re-points at
  127.0.0.1 is, to the browser, same-origin with this server: it may read every answer. The
  browser still sends `Host: evil.test:5000`, so a Host that is not one of this server's own
  names is refused (403). Allowed by default: `localhost` (and `*.localhost`, which browsers
  resolve to loopback themselves), any IP literal (an address cannot be re-pointed: a page
  whose origin is an address is served by that address), the address the server is bound to,
  and this machine's host names when bound to every interface. `--allowed-hosts` adds names
  (fnmatch patterns; `*` turns the check off).
- Cross-origin writes. Browsers send `Origin` on every POST/PUT/PATCH/DELETE, `no-cors` ones
  included. A write whose Origin is neither this server's own origin nor one configured with
  `--cors-allowed-origins` is refused (403) before it reaches a handler. CORS is off unless
  configured: no `Access-Control-Allow-*` header is ever sent otherwise, so other pages cannot
  read answers either.
- Simple requests. A page may POST `text/plain` (or a form) anywhere without a preflight. JSON
  endpoints therefore require `Content-Type: application/json` on a request with a body (415
  otherwise); MLflow's and flightlog's clients send it.

Non-browser clients (MLflow's client, curl) send no Origin and the Host they connected to, so
they pass untouched.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import socket
from collections.abc import Iterable

# Probes stay reachable whatever Host a load balancer uses.
_UNGUARDED_PATHS = frozenset({"/health", "/version"})
# Endpoints whose bodies are JSON (artifact uploads under /api/2.0/mlflow-artifacts/ are not).
JSON_PATH_PREFIXES = (
    "/api/2.0/mlflow/",
    "/ajax-api/2.0/mlflow/",
    "/api/3.0/mlflow/",
    "/ajax-api/3.0/mlflow/",
    "/ui-api/",
)
_WRITE_METHODS = frozenset({b"POST", b"PUT", b"PATCH", b"DELETE"})
_WRITE_METHOD_NAMES = frozenset(m.decode() for m in _WRITE_METHODS)
_WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})
LOCAL_NAMES = ("localhost",)

INVALID_HOST_MESSAGE = (
    "Invalid Host header {host!r}: this server answers only to its own names (a possible DNS "
    "rebinding attack). Start it with --allowed-hosts to accept this name."
)
CROSS_ORIGIN_MESSAGE = (
    "Cross-origin request blocked: {origin!r} may not change data on this server. Start it "
    "with --cors-allowed-origins to allow that origin."
)
CONTENT_TYPE_MESSAGE = (
    "This endpoint takes a JSON body: send 'Content-Type: application/json' (got {got})."
)


def default_allowed_hosts(bind_host: str | None) -> tuple[str, ...]:
    """The server's own names: localhost, the bound address and, bound to every interface,
    this machine's names. IP literals are accepted separately (see `HostAllowList`)."""
    names = list(LOCAL_NAMES)
    if bind_host is not None:
        bind = bind_host.strip().strip("[]").lower()
        if bind in _WILDCARD_BINDS:
            for name in (socket.gethostname(), socket.getfqdn()):
                if name:
                    names.append(name.lower())
        else:
            names.append(bind)
    return tuple(dict.fromkeys(names))


def _split_host(value: str) -> str:
    """The name part of a Host header: no port, no IPv6 brackets, no trailing dot, lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else value
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostAllowList:
    def __init__(self, names: Iterable[str]):
        self.any = False
        self.exact: set[str] = set()
        self.patterns: list[str] = []
        for raw in names:
            name = raw.strip().lower()
            if not name:
                continue
            if name == "*":
                self.any = True
            elif any(ch in name for ch in "*?["):
                self.patterns.append(_split_host(name) if ":" in name else name)
            else:
                self.exact.add(_split_host(name))

    def allows(self, host_header: str) -> bool:
        if self.any:
            return True
        name = _split_host(host_header)
        if not name:
            return False
        if name in self.exact or _is_ip_literal(name) or name.endswith(".localhost"):
            return True
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.patterns)


def _origin_matches(origin: str, patterns: Iterable[str]) -> bool:
    for allowed in patterns:
        if allowed == "*" or allowed == origin:
            return True
        if "*" in allowed and fnmatch.fnmatchcase(origin, allowed):
            return True
    return False


def _is_json_content_type(value: bytes) -> bool:
    media = value.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


# A refused request's body is read (and dropped) up to this much so that the connection stays
# usable for the client's next request; past it the connection is closed instead.
MAX_DRAIN_BYTES = 1024 * 1024


async def _refuse(receive, send, status: int, code: str, message: str) -> None:
    keep_alive = await _drain(receive)
    body = json.dumps({"error_code": code, "message": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if not keep_alive:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drain(receive) -> bool:
    """Read the rest of the request body; False if it was too long to bother."""
    read = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return False
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return True
        if read > MAX_DRAIN_BYTES:
            return False


class RequestGuardMiddleware:
    def __init__(
        self,
        app,
        allowed_hosts: Iterable[str],
        cors_allowed_origins: Iterable[str] = (),
    ):
        self.app = app
        self.hosts = HostAllowList(allowed_hosts)
        self.cors_origins = tuple(o.strip().rstrip("/") for o in cors_allowed_origins if o.strip())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        host = origin = content_type = None
        has_body = False
        for name, value in scope["headers"]:
            if name == b"host":
                host = value.decode("latin-1")
            elif name == b"origin":
                origin = value.decode("latin-1").strip()
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                has_body = value.strip() not in (b"0", b"")
            elif name == b"transfer-encoding":
                has_body = True
        if path in _UNGUARDED_PATHS:
            return await self.app(scope, receive, send)
        # HTTP/1.0 without Host is not a browser; everything a browser sends has one.
        if host is not None and not self.hosts.allows(host):
            return await _refuse(
                receive, send, 403, "PERMISSION_DENIED", INVALID_HOST_MESSAGE.format(host=host)
            )
        method = scope.get("method", "GET")
        cors_origin = None
        if origin is not None and not _same_origin(origin, scope, host):
            if self.cors_origins and _origin_matches(origin, self.cors_origins):
                cors_origin = origin
            elif method in _WRITE_METHOD_NAMES or method == "OPTIONS":
                return await _refuse(
                    receive,
                    send,
                    403,
                    "PERMISSION_DENIED",
                    CROSS_ORIGIN_MESSAGE.format(origin=origin),
                )
        if cors_origin is not None and method == "OPTIONS":
            return await _preflight(send, cors_origin)
        if (
            method in _WRITE_METHOD_NAMES
            and path.startswith(JSON_PATH_PREFIXES)
            and (content_type is not None or has_body)
            and not (content_type is not None and _is_json_content_type(content_type))
        ):
            got = repr(content_type.decode("latin-1")) if content_type is not None else "none"
            return await _refuse(
                receive, send, 415, "BAD_REQUEST", CONTENT_TYPE_MESSAGE.format(got=got)
            )
        if cors_origin is None:
            return await self.app(scope, receive, send)

        async def send_with_cors(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"access-control-allow-origin", cors_origin.encode("latin-1")))
                headers.append((b"vary", b"Origin"))
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_cors)


def _same_origin(origin: str, scope, host: str | None) -> bool:
    """Whether `Origin` is this server as the browser addressed it (scheme and Host)."""
    if host is None:
        return False
    scheme = scope.get("scheme", "http")
    return origin.lower() == f"{scheme}://{host.strip().lower()}"


async def _preflight(send, origin: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", b"GET, HEAD, POST, PUT, PATCH, DELETE"),
                (b"access-control-allow-headers", b"Authorization, Content-Type"),
                (b"access-control-max-age", b"600"),
                (b"vary", b"Origin"),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
