"""Jinja2 rendering for the UI's pages, with every value HTML-escaped.

Autoescaping is on for every template (names, params and tags are user data), data for the
page's scripts travels in `<script type="application/json">` blocks through `tojson` (which
escapes `<`, `>` and `&`), and every page carries a Content-Security-Policy that allows only
this server's own scripts: even a string that slipped through could not run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

UI_DIR = Path(__file__).resolve().parent
STATIC_DIR = UI_DIR / "static"
TEMPLATE_DIR = UI_DIR / "templates"
STATIC_URL = "/ui-static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@lru_cache(maxsize=1)
def static_version() -> str:
    """Changes whenever a static file does, so browsers never run stale scripts."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _format_time(ms: int | None) -> str:
    if ms is None:
        return ""
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _format_duration(start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return ""
    return format_seconds((end - start) / 1000)


def format_seconds(seconds: float) -> str:
    if seconds < 0:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


@lru_cache(maxsize=1)
def environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,  # every template, whatever its name
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["time"] = _format_time
    env.filters["duration"] = _format_duration
    env.filters["value"] = _format_value
    env.globals["static_url"] = STATIC_URL
    return env


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    from flightlog import __version__

    settings = request.app.state.settings
    page = dict(context)
    page.setdefault("title", "flightlog")
    page["version"] = __version__
    page["static_version"] = static_version()
    page["auth_enabled"] = bool(settings.auth_token)
    page["nav"] = page.get("nav", "")
    html = environment().get_template(template).render(page)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"title": "Not found" if status_code == 404 else "Error", "message": message},
        status_code=status_code,
    )
