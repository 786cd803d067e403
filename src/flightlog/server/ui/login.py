"""Signing in to a server that requires a token.

The browser cannot add `Authorization: Bearer` to a page load, so the login form trades the
token for a session cookie (a random id the server remembers, HttpOnly, SameSite=Strict) that
the auth middleware accepts (see flightlog.server.auth); /logout forgets it on the server, so a
copied cookie stops working too. Scripts add the `X-Flightlog-UI` header to their requests,
without which a cookie authenticates only reads: another site cannot make a signed-in browser
change anything.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from flightlog.server.auth import SESSION_COOKIE, session_id_from
from flightlog.server.ui.templating import render

router = APIRouter(include_in_schema=False)

MAX_FORM_BYTES = 16 * 1024


def _safe_next(target: str | None) -> str:
    """Only paths on this server: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if not request.app.state.settings.auth_token:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(
        request, "login.html", {"title": "Sign in", "next": _safe_next(next), "error": None}
    )


@router.post("/login")
async def login(request: Request) -> Response:
    token = request.app.state.settings.auth_token
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return render(
            request, "login.html", {"title": "Sign in", "next": "/", "error": "Form too large"}, 400
        )
    form = parse_qs(body.decode("utf-8", errors="replace"))
    given = (form.get("token") or [""])[0].strip()
    target = _safe_next((form.get("next") or ["/"])[0])
    if not token:
        return RedirectResponse(target, status_code=303)
    if not hmac.compare_digest(given.encode(), token.encode()):
        return render(
            request,
            "login.html",
            {"title": "Sign in", "next": target, "error": "That token is not valid."},
            status_code=401,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        request.app.state.sessions.create(),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.get("/logout")
def logout(request: Request) -> Response:
    session_id = session_id_from(request.headers.get("cookie"))
    if session_id:
        request.app.state.sessions.revoke(session_id)
    response = RedirectResponse("/login" if request.app.state.settings.auth_token else "/", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
