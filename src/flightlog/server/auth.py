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
import os
import secrets
import time
from urllib.parse import quote

# Paths anyone may reach: load balancers and `flightlog server`'s own start-up probe, and the
# web UI's sign-in page with its stylesheets and scripts (which hold no data).
OPEN_PATHS = frozenset({"/health", "/login"})
OPEN_PREFIXES = ("/ui-static/",)

# The web UI's session: a random cookie the sign-in form hands out and /logout revokes on the
# server (see flightlog.server.ui.login). It authenticates reads; a write also needs the header
# the UI's scripts send, which another site cannot add without a CORS preflight this server
# refuses, and must not come from another origin (Origin / Sec-Fetch-Site): CSRF defence on top
# of the cookie being SameSite=Strict.
SESSION_COOKIE = "flightlog_session"
UI_REQUEST_HEADER = b"x-flightlog-ui"
_SAFE_METHODS = frozenset({"GET", "HEAD"})
SESSION_MAX_AGE_S = 7 * 24 * 3600


class SessionStore:
    """Signed-in browser sessions: random ids, kept as their SHA-256 digests.

    In memory for one process; in `directory` (one file per session, 0600 in a 0700 folder)
    when several worker processes must see the same sessions, so that a sign-out on one worker
    holds on all of them.
    """

    def __init__(self, directory: str | None = None, max_age_s: float = SESSION_MAX_AGE_S):
        self.directory = directory
        self.max_age_s = max_age_s
        self._issued: dict[str, float] = {}
        if directory is not None:
            os.makedirs(directory, mode=0o700, exist_ok=True)

    @staticmethod
    def _digest(session_id: str | bytes) -> str:
        raw = session_id.encode() if isinstance(session_id, str) else session_id
        return hashlib.sha256(raw).hexdigest()

    def create(self) -> str:
        session_id = secrets.token_urlsafe(32)
        digest = self._digest(session_id)
        if self.directory is None:
            self._issued[digest] = time.time()
        else:
            fd = os.open(
                os.path.join(self.directory, digest), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
            )
            os.close(fd)
        return session_id

    def is_valid(self, session_id: str | bytes) -> bool:
        if not session_id:
            return False
        digest = self._digest(session_id)
        if self.directory is None:
            issued = self._issued.get(digest)
        else:
            try:
                issued = os.stat(os.path.join(self.directory, digest)).st_mtime
            except OSError:
                issued = None
        if issued is None:
            return False
        if time.time() - issued > self.max_age_s:
            self.revoke(session_id)
            return False
        return True

    def revoke(self, session_id: str | bytes) -> None:
        digest = self._digest(session_id)
        self._issued.pop(digest, None)
        if self.directory is not None:
            try:
                os.unlink(os.path.join(self.directory, digest))
            except OSError:
                pass


def session_id_from(cookie_header: bytes | str | None) -> bytes | None:
    """The session cookie's value in a Cookie header, if there is one."""
    if not cookie_header:
        return None
    raw = cookie_header.encode("latin-1") if isinstance(cookie_header, str) else cookie_header
    for part in raw.split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == SESSION_COOKIE.encode():
            return value.strip()
    return None


def _same_origin_browser_write(headers: dict[bytes, bytes], scheme: str) -> bool:
    """CSRF check for a cookie-authenticated write: the UI's own header, and nothing saying the
    request came from another origin."""
    if UI_REQUEST_HEADER not in headers:
        return False
    fetch_site = headers.get(b"sec-fetch-site")
    if fetch_site is not None and fetch_site not in (b"same-origin", b"none"):
        return False
    origin = headers.get(b"origin")
    if origin is not None:
        host = headers.get(b"host", b"")
        if origin.lower() != f"{scheme}://".encode() + host.lower():
            return False
    return True


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
    def __init__(self, app, token: str, sessions: SessionStore | None = None):
        self.app = app
        self.token = token.encode()
        self.sessions = sessions if sessions is not None else SessionStore()

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return await self.app(scope, receive, send)
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name == b"authorization" and _credential_matches(value, self.token):
                return await self.app(scope, receive, send)
            headers[name] = value
        wants_html = b"text/html" in headers.get(b"accept", b"")
        method = scope.get("method", "GET")
        session_id = session_id_from(headers.get(b"cookie"))
        if (
            session_id is not None
            and (
                method in _SAFE_METHODS
                or _same_origin_browser_write(headers, scope.get("scheme", "http"))
            )
            and self.sessions.is_valid(session_id)
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
