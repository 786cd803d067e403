"""The web UI in a real headless Chromium: runs table (nesting, sort, filter), run page (params,
charts, artifact previews, model registration), Compare, Models, live updates, escaping.

One `flightlog ui` subprocess serves the module; each test logs into its own experiment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ui_data import STEPS, TRIALS, log_sweep

pytestmark = pytest.mark.slow

LIVE_POINTS = 30
LIVE_INTERVAL_S = 0.2


@pytest.fixture
def tracking(ui_server):
    """Log into the UI server's store from this process."""
    import flightlog

    flightlog.set_tracking_uri(ui_server.store_uri)
    return ui_server


def _names(page) -> list[str]:
    return page.locator("#runs-table tbody tr.run-row a.run-link").all_text_contents()


def test_runs_table_run_page_compare_and_registration(tracking, ui_page, tmp_path):
    from playwright.sync_api import expect

    sweep = log_sweep(tmp_path)
    page, base = ui_page.page, tracking.url

    # Experiments: the new experiment with its run count.
    page.goto(base + "/")
    row = page.locator(f"tr[data-experiment-id='{sweep.experiment_id}']")
    expect(row.locator(".run-count")).to_have_text("4")
    ui_page.screenshot("experiments")

    # Runs table: the trials sit under the parent, collapsed until opened.
    row.locator("a.exp-name").click()
    expect(page.locator("#runs-table")).to_have_attribute("data-ready", "1")
    assert _names(page) == ["sweep"]
    page.locator(f"tr[data-run-id='{sweep.parent_id}'] button.toggle").click()
    children = page.locator(f"tr.run-row[data-parent='{sweep.parent_id}']")
    expect(children).to_have_count(3)
    expect(children.first).to_have_attribute("data-depth", "1")

    # Sort by the metric: descending, then ascending (children keep the order under the parent).
    by_acc = sorted(TRIALS, key=lambda t: t[2])
    page.locator("th[data-col='m:acc'] button.sort").click()
    expect(children.locator("a.run-link")).to_have_text([t[0] for t in reversed(by_acc)])
    page.locator("th[data-col='m:acc'] button.sort").click()
    expect(children.locator("a.run-link")).to_have_text([t[0] for t in by_acc])
    assert "order_by=metrics.acc+ASC" in page.url
    ui_page.screenshot("runs-table-sorted")

    # Filter with the search grammar: only trials above 0.5 remain (the parent has no acc).
    page.fill("#filter", "metrics.acc > 0.5")
    page.press("#filter", "Enter")
    above = [t[0] for t in by_acc if t[2] > 0.5]
    expect(page.locator("#runs-table tbody tr.run-row a.run-link")).to_have_text(above)
    expect(page.locator("#runs-summary")).to_contain_text(f"{len(above)} runs")
    ui_page.screenshot("runs-table-filtered")

    # A bad filter says what is wrong instead of failing silently.
    page.fill("#filter", "metrics.acc >> 1")
    page.press("#filter", "Enter")
    expect(page.locator("#runs-error")).to_be_visible()
    page.fill("#filter", "metrics.acc > 0.5")
    page.press("#filter", "Enter")
    expect(page.locator("#runs-table tbody tr.run-row")).to_have_count(len(above))

    # Compare the two runs.
    for box in page.locator("#runs-table tbody input.select-run").all():
        box.check()
    expect(page.locator("#compare-button")).to_have_text("Compare (2)")
    page.locator("#compare-button").click()
    page.wait_for_url("**/compare?runs=*")
    expect(page.locator(".chart-card[data-key='acc'] svg")).to_have_attribute("data-series", "2")
    expect(page.locator(".chart-card[data-key='acc'] svg")).to_have_attribute(
        "data-points", str(2 * STEPS)
    )
    expect(page.locator("#parallel svg")).to_have_attribute("data-lines", "2")
    expect(page.locator("#diff-table tr.differs[data-key='lr']")).to_have_count(1)
    # "optimizer" is the same in both runs: hidden while only differences are shown.
    expect(page.locator("#diff-table tr[data-key='optimizer']")).to_have_count(0)
    page.locator("#only-diff").uncheck()
    expect(page.locator("#diff-table tr[data-key='optimizer']")).to_have_count(1)
    ui_page.screenshot("compare")

    # Run page of one trial: its params, latest metrics and a chart with every point.
    best = TRIALS[0]
    page.goto(f"{base}/runs/{sweep.trial_ids[best[0]]}")
    expect(page.locator("#run-name")).to_have_text(best[0])
    expect(page.locator("#run-status")).to_have_text("FINISHED")
    params = page.locator("#params-table tbody")
    expect(params).to_contain_text("lr")
    expect(params).to_contain_text(str(best[1]))
    expect(page.locator("#metrics-body tr[data-key='acc']")).to_contain_text(str(best[2]))
    acc_chart = page.locator(".chart-card[data-key='acc'] svg")
    expect(acc_chart).to_have_attribute("data-points", str(STEPS))
    expect(acc_chart.locator("circle.dot")).to_have_count(STEPS)
    page.locator(".segmented .seg[data-axis='time']").click()
    expect(acc_chart).to_have_attribute("data-points", str(STEPS))
    ui_page.screenshot("run-page")

    # Parent run page: artifact previews (JSON, CSV as a table, text, image), the logged model.
    page.goto(f"{base}/runs/{sweep.parent_id}")
    tree = page.locator("#artifact-tree")
    preview = page.locator("#artifact-preview")
    tree.locator(".tree-item[data-path='config']").click()
    tree.locator(".tree-item[data-path='config/train.json']").click()
    expect(preview.locator("pre")).to_contain_text('"dropout": 0.1')
    tree.locator(".tree-item[data-path='history.csv']").click()
    expect(preview.locator("table.csv-table tbody tr")).to_have_count(2)
    expect(preview.locator("table.csv-table tbody tr").nth(1)).to_contain_text("0,5")
    tree.locator(".tree-item[data-path='notes.txt']").click()
    expect(preview.locator("pre")).to_have_text("first line\nsecond line\n")
    tree.locator(".tree-item[data-path='plots']").click()
    tree.locator(".tree-item[data-path='plots/curve.png']").click()
    image = preview.locator("img.preview-image")
    expect(image).to_be_visible()
    page.wait_for_function("document.querySelector('img.preview-image').naturalWidth === 24")

    card = page.locator("#models .model-card[data-path='model']")
    expect(card.locator(".chip.flavor")).to_contain_text(["python_function", "sklearn"])
    expect(card).to_contain_text("sepal length (cm)")  # signature input and input example
    expect(card.locator(".sig-block.example table tbody tr")).to_have_count(3)
    card.locator("input.register-name").fill("ui-iris")
    card.locator("button.register-button").click()
    expect(card.locator(".register-message")).to_have_text("Registered ui-iris version 1")
    # A second registration of the same name as "new model" is refused with a clear message.
    card.locator("button.register-button").click()
    expect(card.locator(".register-message")).to_contain_text("already exists")
    # As a new version of the existing model instead.
    card.locator("input[type='radio'][value='existing']").check()
    card.locator("select.register-existing").select_option("ui-iris")
    card.locator("button.register-button").click()
    expect(card.locator(".register-message")).to_have_text("Registered ui-iris version 2")
    expect(card.locator(".registered .chip")).to_have_text(["ui-iris v1", "ui-iris v2"])
    ui_page.screenshot("run-page-model")

    # Models: the versions with their source run; set an alias, move it, remove it.
    page.goto(base + "/models")
    model_row = page.locator("#models-table tr[data-name='ui-iris']")
    expect(model_row).to_contain_text("v2")
    model_row.locator("a").click()
    version = page.locator("#versions-table tr[data-version='1']")
    expect(version.locator("a")).to_have_text("sweep")
    alias_row = page.locator("#aliases-table tr[data-alias='champion']")
    page.fill("#alias-name", "champion")
    page.select_option("#alias-version", "1")
    page.locator("#alias-form button[type='submit']").click()
    expect(alias_row).to_contain_text("v1")
    expect(version.locator(".chip.alias")).to_have_text("@champion")
    page.fill("#alias-name", "champion")
    page.select_option("#alias-version", "2")
    page.locator("#alias-form button[type='submit']").click()
    expect(alias_row).to_contain_text("v2")
    expect(page.locator("#versions-table tr[data-version='2'] .chip.alias")).to_have_text(
        "@champion"
    )
    expect(version.locator(".chip.alias")).to_have_count(0)
    ui_page.screenshot("model-page")
    # Descriptions: the model's and a version's.
    page.locator("#edit-description").click()
    page.fill("#description-input", "Iris classifier from the grid sweep")
    page.locator("#description-form button[type='submit']").click()
    expect(page.locator("#model-description")).to_have_text("Iris classifier from the grid sweep")
    version.locator("[data-action='edit-version-description']").click()
    version.locator("textarea").fill("first try")
    version.locator("button[type='submit']").click()
    expect(version.locator(".version-description")).to_contain_text("first try")
    alias_row.locator("[data-action='remove-alias']").click()
    expect(alias_row).to_have_count(0)

    assert ui_page.errors == [], ui_page.errors


LIVE_SCRIPT = """
import sys, time
import flightlog
flightlog.set_experiment("ui-live")
with flightlog.start_run(run_name="live-run") as run:
    print(run.info.run_id, flush=True)
    sys.stdin.readline()  # wait until the test has the run page open
    for step in range({points}):
        flightlog.log_metric("loss", 1.0 / (step + 1), step=step)
        time.sleep({interval})
"""


def test_live_run_page_gains_points_and_finishes(tracking, ui_page, tmp_path):
    from playwright.sync_api import expect

    script = tmp_path / "live_logger.py"
    script.write_text(LIVE_SCRIPT.format(points=LIVE_POINTS, interval=LIVE_INTERVAL_S))
    env = {**os.environ, "FLIGHTLOG_TRACKING_URI": tracking.store_uri}
    logger = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        run_id = logger.stdout.readline().strip()
        assert len(run_id) == 32, logger.stderr.read()
        page = ui_page.page
        page.goto(f"{tracking.url}/runs/{run_id}")
        expect(page.locator("#run-status")).to_have_text("RUNNING")
        expect(page.locator("#live-indicator")).to_be_visible()
        page.evaluate("window.__sameDocument = true")
        logger.stdin.write("go\n")
        logger.stdin.flush()

        chart = page.locator(".chart-card[data-key='loss'] svg")
        page.wait_for_function(
            "() => { const s = document.querySelector(\".chart-card[data-key='loss'] svg\");"
            " return s && Number(s.dataset.points) >= 3; }",
            timeout=20_000,
        )
        first = int(chart.get_attribute("data-points"))
        assert first < LIVE_POINTS, "the page opened after the run had logged everything"
        page.wait_for_function(
            f"() => Number(document.querySelector(\".chart-card[data-key='loss'] svg\")"
            f".dataset.points) >= {first + 5}",
            timeout=20_000,
        )
        ui_page.screenshot("run-page-live")
        expect(page.locator("#run-status")).to_have_text("FINISHED", timeout=30_000)
        expect(chart).to_have_attribute("data-points", str(LIVE_POINTS))
        expect(page.locator("#live-indicator")).to_be_hidden()
        assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
        assert logger.wait(timeout=30) == 0
    finally:
        if logger.poll() is None:
            logger.kill()
            logger.wait(timeout=10)
    assert ui_page.errors == [], ui_page.errors


XSS_NAME = "<script>alert(1)</script>"
XSS_IMG = '<img src=x onerror="window.__xss=1;alert(2)">'


def test_user_strings_render_as_text(tracking, ui_page):
    import flightlog
    from flightlog.client import TrackingClient

    flightlog.set_experiment(f"exp {XSS_IMG}")
    with flightlog.start_run(run_name=XSS_NAME) as run:
        flightlog.log_param("note", XSS_IMG)
        flightlog.set_tag("comment", XSS_NAME)
        flightlog.log_metric("acc", 0.5)
    with flightlog.start_run(run_name=XSS_IMG) as other:
        flightlog.log_param("note", "plain")
    flightlog.flush()
    client = TrackingClient(tracking.store_uri)
    client.create_registered_model("xss-model", description=XSS_IMG)
    page, base = ui_page.page, tracking.url

    def no_script_ran():
        assert page.evaluate("window.__xss") is None
        # Only the page's own scripts exist: every one has a src or is a JSON data block.
        inline = page.evaluate(
            "Array.from(document.scripts).filter(s => !s.src && s.type !== 'application/json')"
            ".length"
        )
        assert inline == 0

    page.goto(base + "/")
    exp_link = page.locator("a.exp-name", has_text="exp <img")
    assert exp_link.text_content() == f"exp {XSS_IMG}"
    no_script_ran()
    exp_link.click()
    link = page.locator("#runs-table a.run-link", has_text="<script>")
    assert link.text_content() == XSS_NAME
    assert page.locator("#runs-table td.param", has_text="<img").first.text_content() == XSS_IMG
    no_script_ran()
    ui_page.screenshot("xss-runs-table")

    page.goto(f"{base}/runs/{run.info.run_id}")
    assert page.locator("#run-name").text_content() == XSS_NAME
    assert XSS_IMG in page.locator("#params-table").text_content()
    assert XSS_NAME in page.locator("#tags-table").text_content()
    no_script_ran()
    ui_page.screenshot("xss-run-page")

    page.goto(f"{base}/compare?runs={run.info.run_id},{other.info.run_id}")
    page.locator("#diff-table tbody tr").first.wait_for()
    assert page.locator(".legend-chip", has_text="<img").text_content().strip() == XSS_IMG
    assert XSS_IMG in page.locator("#diff-table").text_content()
    no_script_ran()

    page.goto(f"{base}/models/xss-model")
    assert page.locator("#model-description").text_content() == XSS_IMG
    no_script_ran()
    assert ui_page.dialogs == []
    assert ui_page.errors == [], ui_page.errors


def test_flightlog_ui_printed_its_url(ui_server):
    log = Path(ui_server.process.log_path).read_text()
    assert f"flightlog UI: {ui_server.url}" in log
    assert ui_server.url.startswith("http://127.0.0.1:")
    assert ui_server.process.is_healthy()


def test_experiments_create_rename_delete_restore(tracking, ui_page):
    from playwright.sync_api import expect

    page, base = ui_page.page, tracking.url
    page.goto(base + "/")
    page.fill("#new-experiment-name", "ui-created")
    page.locator("#create-experiment button[type='submit']").click()
    page.wait_for_url(f"{base}/experiments/*")
    expect(page.locator("#experiment-name")).to_have_text("ui-created")
    experiment_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    page.goto(base + "/")
    row = page.locator(f"tr[data-experiment-id='{experiment_id}']")
    row.locator("button[data-action='rename']").click()
    row.locator("input.rename-input").fill("ui-renamed")
    row.locator("button[type='submit']").click()
    expect(row.locator("a.exp-name")).to_have_text("ui-renamed")
    # A name that is taken is refused with the store's message, and nothing changes.
    row.locator("button[data-action='rename']").click()
    row.locator("input.rename-input").fill("Default")
    row.locator("button[type='submit']").click()
    expect(page.locator("#experiments-error")).to_contain_text("Default")

    page.goto(base + "/")
    row.locator("button[data-action='delete']").click()  # confirm() is accepted
    expect(row).to_have_count(0)
    assert any("ui-renamed" in d for d in ui_page.dialogs)
    page.goto(base + "/?view=deleted")
    row.locator("button[data-action='restore']").click()
    expect(row).to_have_count(0)  # gone from the deleted ones once the page has reloaded
    page.goto(base + "/")
    expect(row.locator("a.exp-name")).to_have_text("ui-renamed")
    assert ui_page.errors == [], ui_page.errors
