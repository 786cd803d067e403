"""Optional bearer-token authentication for every request but the health check.

`flightlog server --auth-token T` (or FLIGHTLOG_SERVER_TOKEN=T) makes every request carry
`Authorization: Bearer T`. Basic auth whose password is the token is accepted too, so MLflow
clients configured with MLFLOW_TRACKING_USERNAME/PASSWORD get in. The comparison is constant-time.
A pure ASGI middleware: it costs one header lookup per request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import quote

# Paths anyone may reach: load balancers and `flightlog server`'s own start-up probe, and the
# web UI's sign-in page with its stylesheets and scripts (which hold no data).
OPEN_PATHS = frozenset({"/health", "/login"})
OPEN_PREFIXES = ("/ui-static/",)

# The web UI's session: a cookie derived from the token (see flightlog.server.ui.login). It
# authenticates reads; a write also needs the header the UI's scripts send, which another site
# cannot add to a cross-site request (CSRF), on top of the cookie being SameSite=Strict.
SESSION_COOKIE = "flightlog_session"
UI_REQUEST_HEADER = b"x-flightlog-ui"
_SAFE_METHODS = frozenset({"GET", "HEAD"})


def session_cookie_value(token: str) -> str:
    return hmac.new(token.encode(), b"flightlog-ui-session", hashlib.sha256).hexdigest()


def _cookie_matches(header: bytes, expected: bytes) -> bool:
    for part in header.split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == SESSION_COOKIE.encode() and hmac.compare_digest(value.strip(), expected):
            return True
    return False


_UNAUTHENTICATED = json.dumps(
    {
        "error_code": "UNAUTHENTICATED",
        "message": "Missing or invalid credentials: send 'Authorization: Bearer <token>' "
        "(set FLIGHTLOG_TRACKING_TOKEN or MLFLOW_TRACKING_TOKEN on the client).",
    }
).encode()


def _credential_matches(header: bytes, token: bytes) -> bool:
    scheme, _, value = header.strip().partition(b" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == b"bearer":
        return hmac.compare_digest(value, token)
    if scheme == b"basic":
        try:
            decoded = base64.b64decode(value, validate=True)
        except ValueError:
            return False
        _user, sep, password = decoded.partition(b":")
        return bool(sep) and hmac.compare_digest(password, token)
    return False


class TokenAuthMiddleware:
    def __init__(self, app, token: str):
        self.app = app
        self.token = token.encode()
        self.session = session_cookie_value(token).encode()

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return await self.app(scope, receive, send)
        cookie, from_ui, wants_html = None, False, False
        for name, value in scope["headers"]:
            if name == b"authorization" and _credential_matches(value, self.token):
                return await self.app(scope, receive, send)
            if name == b"cookie":
                cookie = value
            elif name == UI_REQUEST_HEADER:
                from_ui = True
            elif name == b"accept":
                wants_html = b"text/html" in value
        method = scope.get("method", "GET")
        if (
            cookie is not None
            and (from_ui or method in _SAFE_METHODS)
            and _cookie_matches(cookie, self.session)
        ):
            return await self.app(scope, receive, send)
        if wants_html and method == "GET":
            # A browser opening a page: send it to the sign-in form, then back here.
            target = path + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
            location = "/login?next=" + quote(target, safe="")
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [(b"location", location.encode()), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_UNAUTHENTICATED)).encode()),
                    (b"www-authenticate", b'Bearer realm="flightlog"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _UNAUTHENTICATED})
