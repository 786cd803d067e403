"""Fixtures for the web UI tests: a real `flightlog ui` / `flightlog server` subprocess on a free
127.0.0.1 port, and one headless Chromium (Playwright) shared by the whole session.

Without /usr/bin/chromium or the playwright package the browser tests are skipped with a message,
except under CI=true, where that is a failure. Screenshots go to test-artifacts/ui/.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flightlog.server.process import ServerProcess, free_port

CHROMIUM = os.environ.get("FLIGHTLOG_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
# Bounded waits for everything the browser does (ms).
WAIT_MS = 15_000


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _unavailable(message: str):
    if _in_ci():
        pytest.fail(f"{message} (CI=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session (each test opens its own context)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed: pip install playwright")
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    manager = sync_playwright().start()
    try:
        chromium = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001 - any launch failure means "no browser here"
        manager.stop()
        _unavailable(f"Chromium at {CHROMIUM} did not start: {exc}".splitlines()[0])
    try:
        yield chromium
    finally:
        chromium.close()
        manager.stop()


@dataclass
class BrowserPage:
    """A page plus what it reported: JavaScript errors and dialogs (alert/confirm)."""

    page: object
    errors: list
    dialogs: list

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def ui_page(browser) -> Iterator[BrowserPage]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    page.on(
        "pageerror", lambda exc: errors.append(f"{exc} {getattr(exc, 'stack', '')} at {page.url}")
    )
    # Uncaught exceptions and console errors; a request the server answered with a 4xx (a
    # test's deliberate bad filter) is logged by the browser too, and is not a script error.
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", on_dialog)
    try:
        yield BrowserPage(page, errors, dialogs)
    finally:
        context.close()


@dataclass
class UiServer:
    process: ServerProcess
    store_uri: str
    url: str


def start_ui(workdir: Path, extra_args: list[str] | None = None) -> UiServer:
    """`flightlog ui` over a local store in `workdir`, as a subprocess on a free port."""
    store_dir = workdir / "flightlog-runs"
    store_uri = f"sqlite:///{store_dir / 'flightlog.db'}"
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "flightlog.cli",
        "ui",
        "--port",
        str(port),
        "--backend-store-uri",
        store_uri,
        *(extra_args or []),
    ]
    env = dict(os.environ)
    env.pop("FLIGHTLOG_SERVER_TOKEN", None)
    process = ServerProcess(args, port, workdir / "ui.log", env=env, cwd=workdir)
    process.start(timeout=60)
    return UiServer(process, store_uri, process.url)


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory) -> Iterator[UiServer]:
    """One `flightlog ui` for the module; tests log into its store in their own experiments."""
    workdir = tmp_path_factory.mktemp("ui-server")
    server = start_ui(workdir)
    try:
        yield server
    finally:
        server.process.stop()
        if not _in_ci():
            shutil.rmtree(workdir, ignore_errors=True)
