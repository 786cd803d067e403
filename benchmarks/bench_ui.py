"""Web UI: time to first render of a big runs table and of a chart over a long metric history,
flightlog's UI and MLflow's UI on the same data, side by side.

    python benchmarks/bench_ui.py [--runs 10000] [--points 1000000] [--repeat 3] [--skip-mlflow]

Data (the same for both): an experiment of --runs finished runs, each with 5 params and 5
metrics, and a run whose metric "loss" has a --points point history. flightlog's store is filled
through its own SqlStore (create_run + log_batch); MLflow's store is created by MLflow (its own
schema migrations) and filled with bulk INSERTs shaped like the rows its store writes (its
log_batch would take many minutes for a million points).

Each side runs its real server on 127.0.0.1 (`flightlog server`, `mlflow server`, SQLite, one
worker) and is measured in headless Chromium (Playwright), a fresh browser context (cold cache)
per repetition, from navigation start until:
- runs table: the first run row is on screen (flightlog: `tr.run-row`; MLflow: the newest run's
  name appears);
- chart: the "loss" chart is drawn (flightlog: the chart's <svg> with its downsampled series;
  MLflow: a plotted line in the run's "Model metrics" charts).
Also reported: the time and size of the JSON each side's chart needs from its server.
Medians of --repeat; ratios are MLflow / flightlog (above 1: flightlog is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

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
T0 = 1_700_000_000_000
PARAMS = ("lr", "batch_size", "optimizer", "layers", "dropout")
METRICS = ("acc", "loss", "val_acc", "val_loss", "f1")
TABLE_EXPERIMENT = "bench-ui-table"
CHART_EXPERIMENT = "bench-ui-chart"
CHART_RUN = "long-history"


def run_name(i: int) -> str:
    return f"run-{i:05d}"


def run_values(i: int) -> tuple[dict[str, str], dict[str, float]]:
    params = {
        "lr": str(10 ** -(1 + i % 4)),
        "batch_size": str(2 ** (4 + i % 4)),
        "optimizer": ("sgd", "adam", "adamw")[i % 3],
        "layers": str(2 + i % 5),
        "dropout": str((i % 6) / 10),
    }
    acc = 0.5 + (i * 7919 % 1000) / 2000
    metrics = {"acc": acc, "loss": 1 - acc, "val_acc": acc - 0.02, "val_loss": 1.03 - acc}
    metrics["f1"] = acc - 0.01
    return params, metrics


def history_value(step: int) -> float:
    # A decaying curve with noise and rare spikes, like a long training loss.
    noise = ((step * 2654435761) % 1000) / 1000 - 0.5
    spike = 3.0 if step % 99_991 == 0 else 0.0
    return 2.0 / (1 + step / 50_000) + 0.05 * noise + spike


# --- populating ----------------------------------------------------------------------------------
def populate_flightlog(db: Path, runs: int, points: int) -> dict:
    from flightlog.entities import Metric, Param, RunTag
    from flightlog.store.sql import SqlStore

    store = SqlStore(f"sqlite:///{db}", default_artifact_root=(db.parent / "artifacts").as_uri())
    started = time.perf_counter()
    table_id = store.create_experiment(TABLE_EXPERIMENT)
    for i in range(runs):
        start = T0 + i * 1000
        run_id = store.create_run(table_id, "bench", start, [], run_name(i)).info.run_id
        params, metrics = run_values(i)
        store.log_batch(
            run_id,
            metrics=[Metric(k, v, start + 5000, 10) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag("mlflow.user", "bench")],
        )
        store.update_run_info(run_id, "FINISHED", start + 60_000 + i)
    table_seconds = time.perf_counter() - started
    chart_id = store.create_experiment(CHART_EXPERIMENT)
    chart_run = store.create_run(chart_id, "bench", T0, [], CHART_RUN).info.run_id
    started = time.perf_counter()
    chunk = 50_000
    for first in range(0, points, chunk):
        batch = [
            Metric("loss", history_value(s), T0 + s * 10, s)
            for s in range(first, min(points, first + chunk))
        ]
        store.log_batch(chart_run, metrics=batch)
    store.update_run_info(chart_run, "FINISHED", T0 + points * 10)
    history_seconds = time.perf_counter() - started
    store.close()
    return {
        "table_experiment": str(table_id),
        "chart_experiment": str(chart_id),
        "chart_run": chart_run,
        "newest_run": run_name(runs - 1),
        "fill_table_s": table_seconds,
        "fill_history_s": history_seconds,
    }


def populate_mlflow(db: Path, runs: int, points: int) -> dict:
    """MLflow's store makes the schema and one template row per table; bulk INSERTs copy them."""
    import uuid

    from mlflow.entities import Metric, Param, RunTag
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    started = time.perf_counter()
    store = SqlAlchemyStore(f"sqlite:///{db}", str(db.parent / "mlartifacts"))
    table_id = store.create_experiment(TABLE_EXPERIMENT)
    chart_id = store.create_experiment(CHART_EXPERIMENT)
    template = store.create_run(table_id, "bench", T0, [RunTag("mlflow.runName", "t")], "t")
    store.log_batch(
        template.info.run_id,
        [Metric("acc", 0.5, T0, 0)],
        [Param("lr", "1")],
        [RunTag("mlflow.user", "bench")],
    )
    store.delete_run(template.info.run_id)
    engine = getattr(store, "engine", None)
    if engine is not None:
        engine.dispose()  # the bulk INSERTs below go through sqlite3 directly

    con = sqlite3.connect(db)
    run_cols = [d[0] for d in con.execute("SELECT * FROM runs LIMIT 1").description]
    template_row = dict(zip(run_cols, con.execute("SELECT * FROM runs").fetchone(), strict=True))
    con.execute("DELETE FROM runs WHERE run_uuid = ?", (template.info.run_id,))
    for table in ("tags", "params", "metrics", "latest_metrics"):
        con.execute(f"DELETE FROM {table} WHERE run_uuid = ?", (template.info.run_id,))

    def run_row(run_id: str, name: str, experiment_id: str, start: int, end: int) -> tuple:
        row = dict(template_row)
        row.update(
            run_uuid=run_id,
            name=name,
            user_id="bench",
            status="FINISHED",
            start_time=start,
            end_time=end,
            lifecycle_stage="active",
            experiment_id=int(experiment_id),
            deleted_time=None,
            artifact_uri=f"{db.parent / 'mlartifacts'}/{experiment_id}/{run_id}/artifacts",
        )
        return tuple(row[c] for c in run_cols)

    insert_run = (
        f"INSERT INTO runs ({', '.join(run_cols)}) VALUES ({', '.join('?' * len(run_cols))})"
    )
    runs_rows, tags, params_rows, metric_rows, latest_rows = [], [], [], [], []
    for i in range(runs):
        run_id = uuid.uuid4().hex
        start = T0 + i * 1000
        runs_rows.append(run_row(run_id, run_name(i), table_id, start, start + 60_000 + i))
        tags += [("mlflow.runName", run_name(i), run_id), ("mlflow.user", "bench", run_id)]
        params, metrics = run_values(i)
        params_rows += [(k, v, run_id) for k, v in params.items()]
        metric_rows += [(k, v, start + 5000, run_id, 10, 0) for k, v in metrics.items()]
        latest_rows += [(k, v, start + 5000, 10, 0, run_id) for k, v in metrics.items()]
    chart_run = uuid.uuid4().hex
    runs_rows.append(run_row(chart_run, CHART_RUN, chart_id, T0, T0 + points * 10))
    tags.append(("mlflow.runName", CHART_RUN, chart_run))
    with con:
        con.executemany(insert_run, runs_rows)
        con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tags)
        con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params_rows)
        con.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            metric_rows,
        )
        con.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            latest_rows,
        )
    with con:
        chunk = 100_000
        for first in range(0, points, chunk):
            con.executemany(
                "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
                " VALUES ('loss', ?, ?, ?, ?, 0)",
                [
                    (history_value(s), T0 + s * 10, chart_run, s)
                    for s in range(first, min(points, first + chunk))
                ],
            )
        last = points - 1
        con.execute(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
            " VALUES ('loss', ?, ?, ?, 0, ?)",
            (history_value(last), T0 + last * 10, last, chart_run),
        )
    con.close()
    return {
        "table_experiment": str(table_id),
        "chart_experiment": str(chart_id),
        "chart_run": chart_run,
        "newest_run": run_name(runs - 1),
        "fill_s": time.perf_counter() - started,
    }


# --- measuring -----------------------------------------------------------------------------------
def timed_get(url: str, data: bytes | None = None) -> tuple[float, int]:
    request = urllib.request.Request(url, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        body = response.read()
    return time.perf_counter() - started, len(body)


def first_render(browser, url: str, ready, timeout_s: float) -> float:
    """Seconds from navigation start until `ready(page)` returns, in a fresh context."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        ready(page, timeout_s * 1000)
        return time.perf_counter() - started
    finally:
        context.close()


def median_render(browser, url: str, ready, repeat: int, timeout_s: float) -> float:
    first_render(browser, url, ready, timeout_s)  # warm the server (its caches, not the browser's)
    return statistics.median(first_render(browser, url, ready, timeout_s) for _ in range(repeat))


def flightlog_table_ready(page, timeout_ms: float) -> None:
    page.wait_for_selector("#runs-table tbody tr.run-row", timeout=timeout_ms)


def flightlog_chart_ready(page, timeout_ms: float) -> None:
    page.wait_for_selector(
        ".chart-card[data-key='loss'] svg[data-sampled='1'] path.line", timeout=timeout_ms
    )


def mlflow_table_ready(newest: str):
    def ready(page, timeout_ms: float) -> None:
        page.get_by_text(newest, exact=True).first.wait_for(timeout=timeout_ms)

    return ready


def mlflow_chart_ready(page, timeout_ms: float) -> None:
    # MLflow draws its charts with Plotly: a trace's line path is the plotted curve.
    page.wait_for_selector(".js-plotly-plot .scatterlayer path.js-line", timeout=timeout_ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0, help="per page load, seconds")
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from flightlog.server.process import ServerProcess

    work = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    print(f"data in {work}; {args.runs} runs, a {args.points}-point history", flush=True)
    fl = populate_flightlog(work / "fl" / "flightlog.db", args.runs, args.points)
    print(
        f"flightlog store filled: table {fl['fill_table_s']:.1f} s, history "
        f"{fl['fill_history_s']:.1f} s (SqlStore.create_run + log_batch)",
        flush=True,
    )
    ml = None
    mlflow_note = None
    if not args.skip_mlflow:
        try:
            ml = populate_mlflow(work / "ml" / "mlflow.db", args.runs, args.points)
            print(f"mlflow store filled: {ml['fill_s']:.1f} s (bulk INSERT)", flush=True)
        except Exception as exc:  # noqa: BLE001 - report and go on with flightlog's numbers
            mlflow_note = f"MLflow's store could not be filled: {exc}"

    results: dict[str, dict[str, float | str]] = {}
    fl_server = ServerProcess.flightlog(
        work / "fl", backend_store_uri=f"sqlite:///{work / 'fl' / 'flightlog.db'}"
    ).start(timeout=120)
    ml_server = None
    try:
        if ml is not None:
            try:
                ml_server = ServerProcess.mlflow(
                    work / "ml", backend_store_uri=f"sqlite:///{work / 'ml' / 'mlflow.db'}"
                ).start(timeout=180)
            except Exception as exc:  # noqa: BLE001
                mlflow_note = f"`mlflow server` did not start: {exc}".splitlines()[0]

        # What each chart asks its server for.
        series_url = (
            f"{fl_server.url}/ui-api/metric-series?run_id={fl['chart_run']}&key=loss&width=1000"
        )
        fl_series = [timed_get(series_url) for _ in range(args.repeat)]
        results["chart data request"] = {
            "flightlog": statistics.median(t for t, _ in fl_series),
            "flightlog_bytes": fl_series[0][1],
        }
        if ml_server is not None:
            # MLflow's UI samples histories server-side through this endpoint.
            ml_series_url = (
                f"{ml_server.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"
                f"?run_ids={ml['chart_run']}&metric_key=loss&max_results=320"
            )
            try:
                ml_series = [timed_get(ml_series_url) for _ in range(args.repeat)]
                results["chart data request"]["mlflow"] = statistics.median(t for t, _ in ml_series)
                results["chart data request"]["mlflow_bytes"] = ml_series[0][1]
            except Exception as exc:  # noqa: BLE001
                results["chart data request"]["mlflow_note"] = str(exc)

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                results["runs table"] = {
                    "flightlog": median_render(
                        browser,
                        f"{fl_server.url}/experiments/{fl['table_experiment']}",
                        flightlog_table_ready,
                        args.repeat,
                        args.timeout,
                    )
                }
                results["chart"] = {
                    "flightlog": median_render(
                        browser,
                        f"{fl_server.url}/runs/{fl['chart_run']}",
                        flightlog_chart_ready,
                        args.repeat,
                        args.timeout,
                    )
                }
                if ml_server is not None:
                    for name, url, ready in (
                        (
                            "runs table",
                            f"{ml_server.url}/#/experiments/{ml['table_experiment']}/runs",
                            mlflow_table_ready(ml["newest_run"]),
                        ),
                        (
                            "chart",
                            f"{ml_server.url}/#/experiments/{ml['chart_experiment']}/runs/"
                            f"{ml['chart_run']}/model-metrics",
                            mlflow_chart_ready,
                        ),
                    ):
                        try:
                            results[name]["mlflow"] = median_render(
                                browser, url, ready, args.repeat, args.timeout
                            )
                        except Exception as exc:  # noqa: BLE001 - say why, keep the rest
                            results[name]["mlflow_note"] = (
                                f"not measured: {type(exc).__name__}: {exc}".splitlines()[0]
                            )
            finally:
                browser.close()
    finally:
        fl_server.stop()
        if ml_server is not None:
            ml_server.stop()
        if not args.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"{'measure':<22}{'flightlog':>12}{'mlflow':>12}{'mlflow/flightlog':>18}")
    for name in ("runs table", "chart", "chart data request"):
        row = results.get(name, {})
        fl_s = row.get("flightlog")
        ml_s = row.get("mlflow")
        ratio = f"{ml_s / fl_s:.1f}x" if fl_s and ml_s else "-"
        fl_text = f"{fl_s * 1000:.0f} ms" if fl_s is not None else "-"
        ml_text = f"{ml_s * 1000:.0f} ms" if ml_s is not None else "-"
        print(f"{name:<22}{fl_text:>12}{ml_text:>12}{ratio:>18}")
        if "flightlog_bytes" in row:
            sizes = f"  response size: flightlog {row['flightlog_bytes'] / 1024:.0f} KiB"
            if "mlflow_bytes" in row:
                sizes += f", mlflow {row['mlflow_bytes'] / 1024:.0f} KiB"
            print(sizes)
        if row.get("mlflow_note"):
            print(f"  mlflow: {row['mlflow_note']}")
    if mlflow_note:
        print(f"mlflow: {mlflow_note}")
    target = 1.0
    for name in ("runs table", "chart"):
        value = results.get(name, {}).get("flightlog")
        if value is not None:
            verdict = "meets" if value < target else "MISSES"
            print(f"flightlog {name}: {value:.2f} s, {verdict} the {target:.0f} s target")
    print(json.dumps({"results": results}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
