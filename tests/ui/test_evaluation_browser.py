"""The run page's Evaluation and Drift sections, the compare page's evaluation table and the
drift report's HTML, in a real headless Chromium. The network is blocked: every request that
does not go to the 127.0.0.1 UI server is aborted and recorded, and none may happen."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evaluation"))
from eval_data import binary_problem, tabular  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture
def tracking(ui_server):
    import flightlog

    flightlog.set_tracking_uri(ui_server.store_uri)
    return ui_server


def _block_network(page, allowed_prefix: str) -> list[str]:
    """Abort every request outside `allowed_prefix`; return the list they are recorded in."""
    leaked: list[str] = []

    def handle(route):
        url = route.request.url
        if url.startswith((allowed_prefix, "data:", "blob:", "about:")):
            route.continue_()
        else:
            leaked.append(url)
            route.abort()

    page.route("**/*", handle)
    return leaked


def _evaluated_run(name: str, shift: float, strength: float = 1.0) -> str:
    import flightlog

    model, frame = binary_problem()
    frame = frame.copy()
    with flightlog.start_run(run_name=name) as run:
        flightlog.evaluate(model, frame, targets="label")
        flightlog.log_drift(
            tabular(800, 1), tabular(800, 2, shift=shift, new_category=strength > 1)
        )
        flightlog.check(["share_of_drifted_columns < 0.3", "accuracy_score > 0.99"])
    return run.info.run_id


def test_run_page_sections_compare_and_report_offline(tracking, ui_page):
    from playwright.sync_api import expect

    import flightlog

    flightlog.set_experiment("evaluation-ui")
    first = _evaluated_run("shifted", shift=0.6)
    second = _evaluated_run("steady", shift=0.0)
    page, base = ui_page.page, tracking.url
    leaked = _block_network(page, base)

    page.goto(f"{base}/runs/{first}")
    section = page.locator("#evaluation-section")
    expect(section).to_be_visible()
    metrics = page.locator("#evaluation-metrics tbody tr")
    expect(page.locator("#evaluation-metrics tr[data-key='roc_auc']")).to_have_count(1)
    assert metrics.count() >= 12
    accuracy = flightlog.get_run(first).data.metrics["accuracy_score"]
    cell = page.locator("#evaluation-metrics tr[data-key='accuracy_score'] td.num")
    assert float(cell.text_content()) == pytest.approx(accuracy, abs=1e-3)
    plots = page.locator("#evaluation-plots figure img")
    expect(plots).to_have_count(5)
    for i in range(5):
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=plots.nth(i).element_handle()
        )
    expect(page.locator("#checks-status")).to_have_text("fail")
    expect(page.locator("#checks-table tr")).to_have_count(2)

    drift = page.locator("#drift-section")
    expect(drift).to_be_visible()
    rows = page.locator("#drift-table tbody tr")
    expect(rows).to_have_count(4)
    x_row = page.locator("#drift-table tr[data-column='x']")
    expect(x_row.locator("td").nth(2)).to_have_text("K-S p_value")
    expect(x_row.locator("td").nth(5)).to_have_text("drift")
    expect(page.locator("#drift-summary")).to_contain_text("1 of 4 columns drifted")
    # The first drifted column is drawn; clicking another row draws that one.
    expect(page.locator("#drift-distribution")).to_have_attribute("data-column", "x")
    page.locator("#drift-table tr[data-column='color']").click()
    expect(page.locator("#drift-distribution")).to_have_attribute("data-column", "color")
    expect(page.locator("#drift-distribution rect[data-series='current']")).to_have_count(4)
    page.select_option("#drift-column", "z")
    expect(page.locator("#drift-distribution")).to_have_attribute("data-column", "z")

    # The HTML report opens inside the page, rendered from the artifact alone.
    page.locator("#drift-open-report").click()
    frame = page.frame_locator("#drift-report-frame")
    expect(frame.locator("h1")).to_have_text("Data drift report")
    expect(frame.locator("table").first.locator("tbody tr")).to_have_count(4)
    ui_page.screenshot("evaluation-run")

    page.goto(f"{base}/compare?runs={first},{second}")
    table = page.locator("#evaluation-compare-table")
    expect(page.locator("#evaluation-compare")).to_be_visible()
    expect(table.locator("thead th")).to_have_text(["Metric", "shifted", "steady"])
    share = table.locator("tr[data-key='drift/share_of_drifted_columns'] td")
    expect(share).to_have_text(["drift/share_of_drifted_columns", "0.25", "0"])
    expect(table.locator("tr[data-key='roc_auc'] td")).to_have_count(3)
    ui_page.screenshot("evaluation-compare")

    assert leaked == [], f"requests left 127.0.0.1: {leaked}"
    assert ui_page.errors == []


def test_report_html_renders_with_the_network_blocked(ui_page, tmp_path):
    import flightlog

    report = flightlog.drift(tabular(800, 1), tabular(800, 2, shift=0.6, new_category=True))
    path = tmp_path / "report.html"
    report.save_html(str(path))
    page = ui_page.page
    leaked = _block_network(page, path.as_uri())  # the page itself, nothing else
    page.goto(path.as_uri())
    assert page.locator("h1").text_content() == "Data drift report"
    assert page.locator("svg").count() == 4
    page.locator("details summary").first.click()
    box = page.locator("details svg").first.bounding_box()
    assert box is not None and box["width"] > 100
    cards = page.locator(".card b").all_text_contents()
    assert cards[1].startswith("2 of 4")
    assert leaked == [], f"the report fetched {leaked}"
    assert ui_page.errors == []
