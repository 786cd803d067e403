"""SqlStore.log_metric_points, the logging queue's way in: (key, value, timestamp, step) tuples
stored exactly as log_batch stores the same points, on every backend."""

from __future__ import annotations

import math
import sys
from fractions import Fraction

import pytest

from flightlog.entities import Metric
from flightlog.exceptions import InvalidKeyError, InvalidParameterError
from flightlog.store.sql import SqlStore

FMAX = sys.float_info.max


def _run(store) -> str:
    return store.create_run("0", "alice", 1000, [], None).info.run_id


def _stored(store, run_id: str, keys) -> tuple[dict, dict]:
    """(history per key as comparable tuples, latest values), NaN made comparable."""

    def value(v: float):
        return "nan" if math.isnan(v) else v

    history = {
        k: [(value(m.value), m.timestamp, m.step) for m in store.get_metric_history(run_id, k)]
        for k in keys
    }
    latest = {k: value(v) for k, v in store.get_run(run_id).data.metrics.items()}
    return history, latest


def _points() -> list[tuple]:
    """A batch past SQLite's 4096-row page (two pages, the second padded), three keys,
    non-finite values, equal (step, timestamp) pairs, steps that go back."""
    special = [math.nan, math.inf, -math.inf, 0.0, -1.5]
    points = []
    for i in range(4113):
        key = ("loss", "acc", "lr")[i % 3]
        value = special[i % 5] if i % 97 == 0 else i * 0.25
        step = i // 3 if i < 4000 else 7  # the last ones go back to step 7, equal timestamps
        points.append((key, value, 1_000 + (i // 3 if i < 4000 else 5), step))
    return points


def test_points_are_stored_as_log_batch_stores_them(store):
    points = _points()
    via_batch, via_points = _run(store), _run(store)
    store.log_batch(via_batch, metrics=[Metric(*p) for p in points])
    store.log_metric_points(via_points, points)
    expected = _stored(store, via_batch, ["loss", "acc", "lr"])
    assert _stored(store, via_points, ["loss", "acc", "lr"]) == expected
    history, latest = expected
    assert sum(len(h) for h in history.values()) == len(points)
    assert history["loss"][0] == ("nan", 1_000, 0)  # NaN kept, infinities clipped
    assert {v for h in history.values() for v, _, _ in h} >= {FMAX, -FMAX}


@pytest.mark.parametrize("sizes", [(1, 15, 16, 17), (4095, 1, 4097)])
def test_small_and_odd_batches_keep_order_and_latest(store, sizes):
    run_id = _run(store)
    step = 0
    for size in sizes:  # every batch logs one more run of steps, some of them equal
        store.log_metric_points(
            run_id, [("m", float(step + i), 5, (step + i) // 2) for i in range(size)]
        )
        step += size
    history = store.get_metric_history(run_id, "m")
    assert [m.value for m in history] == [float(i) for i in range(step)]
    # the newest point: greatest step, and of two equal points the later one
    assert store.get_run(run_id).data.metrics == {"m": float(step - 1)}


def test_latest_follows_the_newest_step_across_batches(store):
    run_id = _run(store)
    store.log_metric_points(run_id, [("m", 1.0, 10, 5), ("m", 2.0, 10, 3)])
    store.log_metric_points(run_id, [("m", 3.0, 20, 4)])  # an older step: latest stays
    assert store.get_run(run_id).data.metrics == {"m": 1.0}
    store.log_metric_points(run_id, [("m", 4.0, 10, 5)])  # same step and time: the later wins
    assert store.get_run(run_id).data.metrics == {"m": 4.0}
    store.log_metric_points(run_id, [("m", math.nan, 30, 6)])
    assert math.isnan(store.get_run(run_id).data.metrics["m"])


def test_an_invalid_key_stores_nothing(store):
    run_id = _run(store)
    with pytest.raises(InvalidKeyError, match="a/../b"):
        store.log_metric_points(run_id, [("ok", 1.0, 1, 0), ("a/../b", 2.0, 1, 0)])
    assert store.get_metric_history(run_id, "ok") == []
    assert store.get_run(run_id).data.metrics == {}


def test_nothing_to_log_is_fine(store):
    run_id = _run(store)
    store.log_metric_points(run_id, [])
    assert store.get_run(run_id).data.metrics == {}


def test_a_value_sqlite_cannot_bind_gets_a_clear_error(tmp_path):
    # The caller checks types; a value that slips through (a Fraction step) is reported by the
    # checking path, and the batch stores nothing.
    store = SqlStore(f"sqlite:///{tmp_path / 'points.db'}", (tmp_path / "a").as_uri())
    try:
        run_id = _run(store)
        with pytest.raises(InvalidParameterError, match="step"):
            store.log_metric_points(run_id, [("m", 1.0, 1, 0), ("m", 2.0, 1, Fraction(1, 3))])
        assert store.get_metric_history(run_id, "m") == []
        # a float step with an integral value is converted, as log_batch does
        store.log_metric_points(run_id, [("m", 3.0, 1, 2.0)])
        assert [(m.value, m.step) for m in store.get_metric_history(run_id, "m")] == [(3.0, 2)]
    finally:
        store.close()
