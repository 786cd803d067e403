"""The UI on a `flightlog server` with a token: sign-in page, session cookie, CSRF guard, and
artifacts shown through the server's proxy (runs logged over HTTP)."""

from __future__ import annotations

import httpx
import pytest

from flightlog.server.process import ServerProcess

pytestmark = pytest.mark.slow

TOKEN = "s3cret-token"


@pytest.fixture
def token_server(tmp_path):
    server = ServerProcess.flightlog(tmp_path / "server", extra_args=["--auth-token", TOKEN])
    server.start(timeout=60)
    try:
        yield server
    finally:
        server.stop()


def test_sign_in_then_browse_and_write(token_server, ui_page, monkeypatch):
    from playwright.sync_api import expect

    import flightlog

    base = token_server.url
    monkeypatch.setenv("FLIGHTLOG_TRACKING_TOKEN", TOKEN)
    flightlog.set_tracking_uri(base)
    experiment_id = flightlog.set_experiment("secured").experiment_id
    with flightlog.start_run(run_name="remote-run"):
        flightlog.log_metric("loss", 0.25, step=1)
        flightlog.log_text("served through the proxy\n", "logs/out.txt")
    flightlog.flush()

    # Without credentials: pages redirect to the sign-in form, the API answers 401.
    anonymous = httpx.get(f"{base}/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2F"
    assert (
        httpx.get(f"{base}/ui-api/runs", params={"experiment_id": experiment_id}).status_code == 401
    )
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    page_json = httpx.get(
        f"{base}/ui-api/runs", params={"experiment_id": experiment_id}, headers=bearer
    )
    assert page_json.status_code == 200
    assert [r["name"] for r in page_json.json()["runs"]] == ["remote-run"]

    # The browser: sent to sign in, a wrong token is refused, the right one returns it to the page.
    page = ui_page.page
    page.goto(f"{base}/experiments/{experiment_id}")
    assert "/login" in page.url
    page.fill("#token", "wrong")
    page.locator("form button[type='submit']").click()
    expect(page.locator(".error-box")).to_have_text("That token is not valid.")
    page.fill("#token", TOKEN)
    page.locator("form button[type='submit']").click()
    page.wait_for_url(f"{base}/experiments/{experiment_id}")
    expect(page.locator("#runs-table tbody a.run-link")).to_have_text(["remote-run"])
    ui_page.screenshot("auth-runs-table")

    # Reads with the cookie: the run page, its chart, an artifact behind the proxy.
    page.locator("#runs-table tbody a.run-link").click()
    expect(page.locator(".chart-card[data-key='loss'] svg")).to_have_attribute("data-points", "1")
    page.locator("#artifact-tree .tree-item[data-path='logs']").click()
    page.locator("#artifact-tree .tree-item[data-path='logs/out.txt']").click()
    expect(page.locator("#artifact-preview pre")).to_have_text("served through the proxy\n")

    # A write from the UI (cookie + the UI's header) works.
    page.goto(f"{base}/")
    page.fill("#new-experiment-name", "made-in-the-browser")
    page.locator("#create-experiment button[type='submit']").click()
    page.wait_for_url(f"{base}/experiments/*")
    expect(page.locator("#experiment-name")).to_have_text("made-in-the-browser")

    # The same cookie without the UI's header cannot write (what a cross-site form would send).
    cookie = next(c for c in page.context.cookies() if c["name"] == "flightlog_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert TOKEN not in cookie["value"]
    jar = {"flightlog_session": cookie["value"]}
    body = {"name": "forged"}
    forged = httpx.post(f"{base}/api/2.0/mlflow/experiments/create", json=body, cookies=jar)
    assert forged.status_code == 401
    allowed = httpx.post(
        f"{base}/api/2.0/mlflow/experiments/create",
        json=body,
        cookies=jar,
        headers={"X-Flightlog-UI": "1"},
    )
    assert allowed.status_code == 200, allowed.text
    assert httpx.get(f"{base}/", cookies={"flightlog_session": "0" * 64}).status_code == 401

    # Signing out drops the cookie.
    page.goto(f"{base}/logout")
    assert "/login" in page.url
    assert not [c for c in page.context.cookies() if c["name"] == "flightlog_session"]
    assert ui_page.errors == [], ui_page.errors
