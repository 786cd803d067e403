"""The sweep panel of a parent run's page (issue 15), in a real headless Chromium: trials table,
optimization history, parallel coordinates, parameter importance, and the runs table filtered
to the sweep's children."""

from __future__ import annotations

import uuid

import pytest

optuna = pytest.importorskip("optuna")


@pytest.fixture
def tracking(ui_server):
    import flightlog

    flightlog.set_tracking_uri(ui_server.store_uri)
    yield ui_server
    flightlog.autolog(disable=True)


def _study(experiment: str) -> tuple[str, str, optuna.Study]:
    import flightlog

    exp = flightlog.set_experiment(experiment)
    flightlog.optuna.autolog()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=f"ui-{uuid.uuid4().hex[:6]}", sampler=optuna.samplers.RandomSampler(seed=3)
    )

    def objective(trial):
        x = trial.suggest_float("x", -4, 4)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        trial.report(x, 0)
        if trial.number == 5:
            raise optuna.TrialPruned()
        return (x - 1) ** 2 + (0.5 if kind == "b" else 0.0)

    study.optimize(objective, n_trials=12)
    flightlog.flush()
    parent = next(
        r
        for r in flightlog.search_runs(experiment_ids=[exp.experiment_id], output_format="list")
        if "flightlog.sweep.key" in r.data.tags
    )
    return exp.experiment_id, parent.info.run_id, study


def test_sweep_api_answers_trials_and_refuses_a_plain_run(tracking):
    import requests

    import flightlog

    _, parent_id, study = _study(f"sweep-api-{uuid.uuid4().hex[:6]}")
    data = requests.get(f"{tracking.url}/ui-api/sweep", params={"run_id": parent_id}, timeout=60)
    assert data.status_code == 200
    body = data.json()
    assert [t["number"] for t in body["trials"]] == list(range(12))
    assert body["param_names"] == ["kind", "x"]
    for row, trial in zip(body["trials"], study.trials, strict=True):
        assert row["state"] == {"COMPLETE": "COMPLETE", "PRUNED": "PRUNED"}[trial.state.name]
        if trial.state.name == "COMPLETE":
            assert row["value"] == pytest.approx(trial.value)
        assert row["params"]["x"] == str(trial.params["x"])
    importance = requests.get(
        f"{tracking.url}/ui-api/sweep/importance", params={"run_id": parent_id}, timeout=120
    ).json()
    assert importance["method"] in ("optuna-fanova", "spearman")
    assert set(importance["scores"]) == {"x", "kind"}
    assert sum(importance["scores"].values()) == pytest.approx(1.0, abs=1e-6)
    with flightlog.start_run() as plain:
        pass
    refused = requests.get(
        f"{tracking.url}/ui-api/sweep", params={"run_id": plain.info.run_id}, timeout=60
    )
    assert refused.status_code == 400 and "not the parent run of a sweep" in refused.text


def test_parent_page_shows_the_sweep_and_links_to_its_children(tracking, ui_page):
    from playwright.sync_api import expect

    experiment_id, parent_id, study = _study(f"sweep-ui-{uuid.uuid4().hex[:6]}")
    page = ui_page.page
    page.goto(f"{tracking.url}/runs/{parent_id}")
    section = page.locator("#sweep-section")
    expect(section).to_have_attribute("data-loaded", "1")
    rows = page.locator("#sweep-trials tbody tr")
    expect(rows).to_have_count(12)
    expect(page.locator("#sweep-trials tbody tr[data-state='PRUNED']")).to_have_count(1)
    expect(page.locator("#sweep-summary")).to_contain_text("12 trials")
    expect(page.locator("#sweep-summary")).to_contain_text("1 pruned")
    best = study.best_trial
    expect(page.locator("#sweep-best-link")).to_have_text(f"trial-{best.number}")
    expect(page.locator("#sweep-history svg")).to_have_attribute("data-series", "2")
    lines = page.locator("#sweep-parallel svg")
    expect(lines).to_have_attribute("data-lines", "11")  # the 11 trials with a value
    expect(page.locator("#sweep-importance-table tr")).to_have_count(2)
    ui_page.screenshot("sweep-parent-page")
    page.locator("#sweep-children-link").click()
    expect(page.locator("#runs-table")).to_have_attribute("data-ready", "1")
    expect(page.locator("#runs-table tbody tr.run-row")).to_have_count(12)
    assert ui_page.errors == []
