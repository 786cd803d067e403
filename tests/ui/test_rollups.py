"""Chart rollups of long histories: the buckets a chart gets from the cached rollup equal the
same buckets computed point by point, on SQLite, PostgreSQL and MySQL, and stay equal as points
arrive (out of order too) after the rollup was built."""

from __future__ import annotations

import math

import pytest

from flightlog.entities import Metric
from flightlog.server.ui import downsample, rollups

T0 = 1_700_000_000_000


@pytest.fixture(autouse=True)
def small_thresholds(monkeypatch):
    # Long-history behaviour on histories that are quick to write on every backend: rollups
    # from 3,000 points, base buckets of several steps.
    monkeypatch.setattr(rollups, "MIN_POINTS", 3_000)
    monkeypatch.setattr(rollups, "TARGET_BASE_BUCKETS", 256)
    monkeypatch.setattr(rollups, "MAX_BASE_BUCKETS", 1024)
    rollups.CACHE.clear()
    yield
    rollups.CACHE.clear()


def _points(start: int, stop: int) -> list[Metric]:
    out = []
    for i in range(start, stop):
        value = math.sin(i / 97) * (1 + i % 7)
        if i == 1_234:
            value = 75.0
        if i == 2_222:
            value = math.nan
        out.append(Metric("loss", value, T0 + 10 * i, i))
    return out


def _log(store, run_id, points):
    for start in range(0, len(points), 5_000):
        store.log_batch(run_id, metrics=points[start : start + 5_000])


def _expected(points: list[Metric], buckets, axis: str):
    """Each returned bucket recomputed from the points whose x lies in [x0, x1]."""
    finite = [m for m in points if not math.isnan(m.value)]
    out = []
    for x0, x1, *_ in buckets:
        inside = [
            m.value for m in finite if x0 <= (m.step if axis == "step" else m.timestamp) <= x1
        ]
        out.append((min(inside), max(inside), sum(inside) / len(inside), len(inside)))
    return out


def _check(series, points, axis):
    assert series.sampled
    got = [(b[2], b[3], b[4], b[5]) for b in series.buckets]
    want = _expected(points, series.buckets, axis)
    assert [g[0] for g in got] == [w[0] for w in want]
    assert [g[1] for g in got] == [w[1] for w in want]
    assert [g[3] for g in got] == [w[3] for w in want]
    assert all(
        math.isclose(g[2], w[2], rel_tol=1e-9, abs_tol=1e-9) for g, w in zip(got, want, strict=True)
    )
    assert series.total == sum(1 for m in points if not math.isnan(m.value))


@pytest.mark.parametrize("axis", ["step", "time"])
def test_rollup_buckets_equal_the_points_and_follow_new_ones(store, axis):
    run_id = store.create_run("0", "tester", T0, [], "long").info.run_id
    points = _points(0, 6_000)
    _log(store, run_id, points)

    series = downsample.metric_series(store, run_id, "loss", axis, 100)
    assert rollups.CACHE.has(id(store), run_id, "loss")
    assert len(series.buckets) <= 100
    _check(series, points, axis)
    spike = next(b for b in series.buckets if b[3] == 75.0)
    x = 1_234 if axis == "step" else T0 + 12_340
    assert spike[0] <= x <= spike[1]

    # New points after the rollup exists: later steps, and a late one for an early step.
    more = _points(6_000, 7_500)
    more.append(Metric("loss", -99.0, T0 + 5, 3))
    _log(store, run_id, more)
    # Another run's points in between must not leak into this chart.
    other = store.create_run("0", "tester", T0, [], "other").info.run_id
    _log(store, other, [Metric("loss", 1e6, T0 + i, i) for i in range(100)])

    again = downsample.metric_series(store, run_id, "loss", axis, 100)
    _check(again, points + more, axis)
    assert min(b[2] for b in again.buckets) == -99.0
    assert max(b[3] for b in again.buckets) == 75.0


def test_short_histories_skip_the_rollup(store):
    run_id = store.create_run("0", "tester", T0, [], "short").info.run_id
    _log(store, run_id, _points(0, 2_500))
    series = downsample.metric_series(store, run_id, "loss", "step", 100)
    assert series.sampled
    assert not rollups.CACHE.has(id(store), run_id, "loss")


def test_rollup_grows_coarser_when_the_range_outgrows_it(store):
    run_id = store.create_run("0", "tester", T0, [], "growing").info.run_id
    points = _points(0, 4_000)
    _log(store, run_id, points)
    downsample.metric_series(store, run_id, "loss", "step", 50)
    first = rollups.CACHE.get_cached(id(store), run_id, "loss")
    # Steps far beyond the first range: more base buckets than MAX_BASE_BUCKETS at that size.
    far = [Metric("loss", float(i), T0 + 10 * i, i * 400) for i in range(20, 60)]
    _log(store, run_id, far)
    series = downsample.metric_series(store, run_id, "loss", "step", 50)
    rebuilt = rollups.CACHE.get_cached(id(store), run_id, "loss")
    assert rebuilt.size > first.size
    _check(series, points + far, "step")
