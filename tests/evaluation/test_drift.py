"""flightlog.drift on fixed seeded datasets: the test Evidently's default rules choose, the
statistic and the decision per column, each equal to scipy's own function on the same column;
dataset drift; data quality; what log_drift records."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from eval_data import tabular
from scipy import stats
from scipy.spatial.distance import jensenshannon

import flightlog
from flightlog.evaluation.errors import EvaluationInputError


def _counts(reference: pd.Series, current: pd.Series):
    keys = sorted(set(reference.dropna()) | set(current.dropna()))
    ref = reference.value_counts().reindex(keys, fill_value=0).to_numpy(dtype=float)
    cur = current.value_counts().reindex(keys, fill_value=0).to_numpy(dtype=float)
    return keys, ref, cur


def _scipy_chisquare(reference, current):
    _, ref, cur = _counts(reference, current)
    with np.errstate(divide="ignore", invalid="ignore"):
        return stats.chisquare(cur, ref * cur.sum() / ref.sum()).pvalue


def _z_test(reference, current):
    first = min(set(reference) | set(current))
    p1, p2 = np.mean(reference != first), np.mean(current != first)
    n1, n2 = len(reference), len(current)
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return 2 * stats.norm.sf(abs(z))


def _shares(reference, current):
    _, ref, cur = _counts(reference, current)
    ref, cur = ref / ref.sum(), cur / cur.sum()
    return np.where(ref == 0, 0.0001, ref), np.where(cur == 0, 0.0001, cur)


def _binned(reference, current, bins=30):
    """Evidently's binning of a numeric column: equal-width bins over both columns."""
    edges = np.histogram_bin_edges(np.concatenate([reference, current]), bins=bins)
    r = np.histogram(reference, edges)[0] / len(reference)
    c = np.histogram(current, edges)[0] / len(current)
    return np.where(r == 0, 0.0001, r), np.where(c == 0, 0.0001, c)


def test_no_drift_small_reference_uses_ks_chisquare_and_z():
    ref, cur = tabular(800, seed=1), tabular(800, seed=2)
    report = flightlog.drift(ref, cur)
    by = {c.column: c for c in report.columns}
    assert {n: c.test for n, c in by.items()} == {
        "x": "ks", "z": "ks", "color": "chisquare", "flag": "z",
    }  # fmt: skip
    for name in ("x", "z"):
        expected = stats.ks_2samp(ref[name], cur[name])
        assert by[name].score == pytest.approx(expected.pvalue, rel=1e-12)
        assert by[name].statistic == pytest.approx(expected.statistic, rel=1e-12)
        assert by[name].drifted == (expected.pvalue < 0.05)
    assert by["color"].score == pytest.approx(_scipy_chisquare(ref["color"], cur["color"]))
    assert by["flag"].score == pytest.approx(_z_test(ref["flag"], cur["flag"]))
    assert report.number_of_drifted_columns == 0
    assert not report.dataset_drifted
    assert report.share_of_drifted_columns == 0.0


def test_mean_shift_in_one_numeric_column():
    ref, cur = tabular(800, seed=1), tabular(800, seed=2, shift=0.5)
    report = flightlog.drift(ref, cur)
    x = report.column("x")
    expected = stats.ks_2samp(ref["x"], cur["x"])
    assert x.test == "ks" and x.score == pytest.approx(expected.pvalue, rel=1e-9) and x.drifted
    assert [c.column for c in report.columns if c.drifted] == ["x"]
    assert report.share_of_drifted_columns == 0.25 and not report.dataset_drifted


def test_new_category_is_drift_and_a_quality_finding():
    ref, cur = tabular(800, seed=1), tabular(800, seed=2, new_category=True)
    report = flightlog.drift(ref, cur)
    color = report.column("color")
    assert color.test == "chisquare"
    assert color.score == _scipy_chisquare(ref["color"], cur["color"]) == 0.0
    assert color.drifted
    quality = {q.column: q for q in report.quality}["color"]
    assert quality.new_categories == ["e"]
    assert quality.new_category_share == pytest.approx(np.mean(cur["color"] == "e"))


@pytest.mark.parametrize(("rows", "large"), [(1000, False), (5000, True)])
def test_reference_size_switches_to_distances(rows, large):
    ref, cur = tabular(rows, seed=3), tabular(1500, seed=4, shift=0.3)
    report = flightlog.drift(ref, cur)
    by = {c.column: c for c in report.columns}
    if not large:
        assert [by[c].test for c in ("x", "z", "color", "flag")] == ["ks", "ks", "chisquare", "z"]
        return
    assert [by[c].test for c in ("x", "z", "color", "flag")] == [
        "wasserstein", "wasserstein", "jensenshannon", "jensenshannon",
    ]  # fmt: skip
    for name in ("x", "z"):
        expected = stats.wasserstein_distance(ref[name], cur[name]) / np.std(ref[name])
        assert by[name].score == pytest.approx(expected, rel=1e-9)
        assert by[name].drifted == (expected >= 0.1)
    assert by["x"].drifted and not by["z"].drifted
    # color is categorical (shares per category); flag is an integer column with 2 values,
    # numeric for the binning (shares per histogram bin).
    for name, shares in (("color", _shares), ("flag", _binned)):
        expected = jensenshannon(*shares(ref[name], cur[name]))
        assert by[name].score == pytest.approx(expected, rel=1e-9)
        assert by[name].drifted == (expected >= 0.1)


def test_psi_and_per_column_overrides_with_thresholds():
    ref, cur = tabular(3000, seed=5), tabular(3000, seed=6, shift=0.2)
    report = flightlog.drift(ref, cur, tests={"x": ("psi", 0.01), "color": "chisquare"})
    x = report.column("x")
    r, c = _binned(ref["x"], cur["x"])
    assert x.test == "psi" and x.threshold == 0.01
    assert x.score == pytest.approx(np.sum((r - c) * np.log(r / c)), rel=1e-9)
    assert x.drifted == (x.score >= 0.01)
    assert report.column("color").test == "chisquare"
    everything = flightlog.drift(ref, cur, tests="psi")
    assert {c.test for c in everything.columns} == {"psi"}


def test_dataset_drift_at_half_the_columns():
    ref = tabular(800, seed=1)
    cur = tabular(800, seed=2, shift=1.0, new_category=True)  # x and color drift: 2 of 4
    report = flightlog.drift(ref, cur)
    assert report.share_of_drifted_columns == 0.5 and report.dataset_drifted
    assert not flightlog.drift(ref, cur, drift_share=0.75).dataset_drifted


def test_missing_values_are_left_out_of_the_tests_and_counted():
    ref, cur = tabular(600, seed=1), tabular(600, seed=2)
    cur.loc[:59, "x"] = np.nan
    report = flightlog.drift(ref, cur)
    x = report.column("x")
    expected = stats.ks_2samp(ref["x"], cur["x"].dropna())
    assert x.current_rows == 540 and x.score == pytest.approx(expected.pvalue, rel=1e-9)
    quality = {q.column: q for q in report.quality}
    assert quality["x"].missing_share == pytest.approx(0.1)
    assert report.quality_summary["share_of_missing_values"] == pytest.approx(60 / (600 * 4))


def test_quality_constant_almost_constant_and_out_of_range():
    rng = np.random.default_rng(9)
    ref = pd.DataFrame({"k": np.ones(500), "a": rng.normal(size=500), "v": rng.normal(size=500)})
    cur = pd.DataFrame({"k": np.ones(500), "a": np.r_[np.zeros(490), np.ones(10)],
                        "v": rng.normal(size=500) * 3})  # fmt: skip
    q = {c.column: c for c in flightlog.drift(ref, cur).quality}
    assert q["k"].constant and not q["k"].almost_constant
    assert q["a"].almost_constant and q["a"].most_common_share == pytest.approx(0.98)
    low, high = ref["v"].min(), ref["v"].max()
    assert q["v"].out_of_range_share == pytest.approx(np.mean((cur["v"] < low) | (cur["v"] > high)))


def test_column_mapping_chooses_columns_and_types():
    ref, cur = tabular(800, seed=1), tabular(800, seed=2)
    ref["id"] = cur["id"] = range(800)
    report = flightlog.drift(ref, cur, column_mapping={"id": "id"})
    assert "id" not in [c.column for c in report.columns]
    report = flightlog.drift(
        ref, cur, column_mapping={"numerical_features": ["x"], "categorical_features": ["flag"]}
    )
    assert [(c.column, c.kind) for c in report.columns] == [
        ("x", "numeric"),
        ("flag", "categorical"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tests": "nope"}, "Unknown drift test"),
        ({"tests": {"color": "ks"}}, "needs a numeric column"),
        ({"tests": {"missing": "ks"}}, "not compared"),
        ({"column_mapping": {"numerical_features": ["w"]}}, "not in reference"),
        ({"drift_share": 0}, "drift_share"),
    ],
)
def test_bad_options_are_refused_clearly(kwargs, message):
    with pytest.raises(EvaluationInputError, match=message):
        flightlog.drift(tabular(100, 1), tabular(100, 2), **kwargs)


def test_log_drift_records_metrics_tag_html_and_json():
    ref, cur = tabular(800, seed=1), tabular(800, seed=2, shift=0.5)
    with flightlog.start_run() as run:
        report = flightlog.log_drift(ref, cur)
    data = flightlog.get_run(run.info.run_id).data
    m = data.metrics
    assert m["drift/x/drifted"] == 1.0 and m["drift/z/drifted"] == 0.0
    assert m["drift/x/score"] == pytest.approx(report.column("x").score)
    assert m["drift/share_of_drifted_columns"] == 0.25
    assert m["drift/dataset_drifted"] == 0.0
    assert m["quality/color/new_category_share"] == 0.0
    assert "quality/share_of_missing_values" in m
    assert data.tags["flightlog.drift"] == "drift"
    root = flightlog.get_run(run.info.run_id).info.artifact_uri.removeprefix("file://")
    with open(os.path.join(root, "drift", "report.json")) as fh:
        saved = json.load(fh)
    assert saved["share_of_drifted_columns"] == 0.25
    assert [c["column"] for c in saved["columns"]] == ["x", "z", "color", "flag"]
    with open(os.path.join(root, "drift", "report.html")) as fh:
        page = fh.read()
    assert (
        "<svg" in page
        and "<script" not in page
        and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert "https://" not in page


def test_odd_column_names_become_valid_metric_keys():
    ref = pd.DataFrame({"price ($)": np.arange(50.0), "größe?": np.arange(50.0)})
    with flightlog.start_run() as run:
        flightlog.log_drift(ref, ref + 1)
    keys = flightlog.get_run(run.info.run_id).data.metrics
    assert "drift/price ___/score" in keys
    assert "drift/größe_/score" in keys  # \w keeps letters of any script


def test_all_missing_column_and_array_inputs():
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"a": rng.normal(size=300), "gone": rng.normal(size=300)})
    cur = pd.DataFrame({"a": rng.normal(size=300), "gone": np.full(300, np.nan)})
    report = flightlog.drift(ref, cur)
    gone = report.column("gone")
    assert gone.score is None and not gone.drifted and gone.current_rows == 0
    assert {q.column: q for q in report.quality}["gone"].missing_share == 1.0
    assert "drift/gone/score" not in report.metrics()
    assert '"score": null' in report.to_json()
    arrays = flightlog.drift(ref.to_numpy(), cur.fillna(0).to_numpy())
    assert [c.column for c in arrays.columns] == ["feature_0", "feature_1"]
    assert arrays.column("feature_0").score == pytest.approx(
        stats.ks_2samp(ref["a"], cur["a"]).pvalue
    )


def test_report_html_escapes_names_and_values():
    ref = pd.DataFrame({"<script>alert(1)</script>": ["<b>x</b>", "y"] * 50})
    cur = pd.DataFrame({"<script>alert(1)</script>": ["<img src=x onerror=alert(1)>", "y"] * 50})
    page = flightlog.drift(ref, cur).to_html()
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
