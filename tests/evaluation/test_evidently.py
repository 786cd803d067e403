"""flightlog.drift against the real Evidently package on the same data, and the adapter that
logs an Evidently report.

Evidently is not installed in this test environment: 0.7.23 (the newest) fails to import with
the suite's pandas 3.1 ("cannot import name 'infer_dtype_from_object'") and would replace the
server's uvicorn extras. These tests skip with that reason and run wherever it imports."""

from __future__ import annotations

import pytest
from eval_data import tabular

import flightlog

try:
    import evidently  # noqa: F401
except Exception as exc:  # noqa: BLE001 - any import failure means "not usable here"
    pytest.skip(
        f"evidently does not import here ({exc.__class__.__name__}: {exc}); 0.7.23 needs "
        "pandas < 3.1",
        allow_module_level=True,
    )


def _evidently_snapshot(reference, current):
    try:
        from evidently import Report
        from evidently.presets import DataDriftPreset

        return Report([DataDriftPreset()]).run(current, reference)
    except ImportError:  # the legacy API (0.4-0.6)
        from evidently.metric_preset import DataDriftPreset
        from evidently.report import Report

        report = Report(metrics=[DataDriftPreset()])
        report.run(reference_data=reference, current_data=current)
        return report


@pytest.mark.parametrize(("rows", "shift"), [(800, 0.0), (800, 0.5), (5000, 0.3)])
def test_same_scores_as_evidently(rows, shift):
    from flightlog.evaluation.evidently_adapter import drift_metrics, report_dict

    reference, current = tabular(rows, 1), tabular(1500, 2, shift=shift)
    ours = flightlog.drift(reference, current).metrics()
    theirs = drift_metrics(report_dict(_evidently_snapshot(reference, current)))
    for key, value in theirs.items():
        if key.endswith("/score"):
            assert ours[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key
    assert ours["drift/share_of_drifted_columns"] == pytest.approx(
        theirs["drift/share_of_drifted_columns"]
    )


def test_adapter_logs_the_report():
    from flightlog.evaluation import log_evidently_report

    snapshot = _evidently_snapshot(tabular(800, 1), tabular(800, 2, shift=0.5))
    with flightlog.start_run() as run:
        logged = log_evidently_report(snapshot)
    metrics = flightlog.get_run(run.info.run_id).data.metrics
    assert metrics["drift/share_of_drifted_columns"] == logged["drift/share_of_drifted_columns"]
    names = {f.path for f in flightlog.MlflowClient().list_artifacts(run.info.run_id, "evidently")}
    assert "evidently/report.json" in names
