"""Optional bearer-token authentication for every request but the health check.

`flightlog server --auth-token T` (or FLIGHTLOG_SERVER_TOKEN=T) makes every request carry
`Authorization: Bearer T`. Basic auth whose password is the token is accepted too, so MLflow
clients configured with MLFLOW_TRACKING_USERNAME/PASSWORD get in. The comparison is constant-time.
A pure ASGI middleware: it costs one header lookup per request.
"""

from __future__ import annotations

import base64
import hmac
import json

# Paths anyone may reach: load balancers and `flightlog server`'s own start-up probe.
OPEN_PATHS = frozenset({"/health"})

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

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        for name, value in scope["headers"]:
            if name == b"authorization" and _credential_matches(value, self.token):
                return await self.app(scope, receive, send)
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
