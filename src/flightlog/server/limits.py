"""Request body size limits: a large one for artifact uploads, a small one for JSON APIs.

A declared Content-Length over the limit is refused before the body is read; a chunked body is
counted as it streams and cut off when it passes the limit (413 in MLflow's error format).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException

ARTIFACT_PATH_PREFIXES = ("/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/")


class BodyTooLargeError(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"Request body is larger than this server's limit of {limit} bytes.")


class BodySizeLimitMiddleware:
    def __init__(self, app, max_json_bytes: int, max_artifact_bytes: int):
        self.app = app
        self.max_json_bytes = max_json_bytes
        self.max_artifact_bytes = max_artifact_bytes

    def _limit_for(self, path: str) -> int:
        if path.startswith(ARTIFACT_PATH_PREFIXES):
            return self.max_artifact_bytes
        return self.max_json_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = self._limit_for(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit or declared < 0:
                    return await _reject(send, limit, declared < 0)
                break

        received = 0

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, counting_receive, send)


async def _reject(send, limit: int, malformed: bool) -> None:
    import json

    if malformed:
        status, code, message = 400, "BAD_REQUEST", "Malformed Content-Length header."
    else:
        status, code = 413, "BAD_REQUEST"
        message = f"Request body is larger than this server's limit of {limit} bytes."
    body = json.dumps({"error_code": code, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
