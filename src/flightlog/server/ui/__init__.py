"""The web UI: experiments, runs table, run page with live charts, compare, model registry.

Served by the same FastAPI app as the REST API (this module is the last entry of
`flightlog.server.app.ROUTER_MODULES`): server-rendered Jinja2 pages plus plain JavaScript and
CSS shipped in `static/` (no Node.js, no CDN; the charts are drawn by `static/charts.js`).

- pages.py       the HTML pages;
- api.py         JSON endpoints under /ui-api/ (downsampled metrics, artifacts, registration);
- sweep_api.py   a sweep parent's trials, and per-parameter importance (sweep_importance.py);
- login.py       trading the server's token for a session cookie;
- downsample.py  metric histories reduced to a chart's width (min/max/mean per bucket);
- summaries.py   experiment statistics and compact run rows;
- artifacts.py   a run's artifacts and logged models, through the server's artifact root;
- templating.py  Jinja2 with autoescaping and a strict Content-Security-Policy.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from flightlog.server.ui import api, login, pages, sweep_api
from flightlog.server.ui.templating import STATIC_DIR, STATIC_URL

router = APIRouter()
router.include_router(login.router)
router.include_router(api.router)
router.include_router(sweep_api.router)  # a sweep parent's trials panel
router.include_router(pages.router)


def setup(app: FastAPI) -> None:
    from starlette.staticfiles import StaticFiles

    app.mount(STATIC_URL, StaticFiles(directory=str(STATIC_DIR)), name="ui-static")
