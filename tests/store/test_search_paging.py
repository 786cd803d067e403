"""Keyset paging of search_runs: pages of any size, over any order (ties, NaN, missing keys,
runs without a start time), concatenate to exactly the unpaged result, on every backend; a
token from another search is refused."""

from __future__ import annotations

import math

import pytest

from flightlog.entities import Metric, Param, RunTag
from flightlog.exceptions import InvalidParameterError

ORDERS = [
    [],
    ["metrics.acc DESC"],
    ["metrics.acc ASC"],
    ["params.opt ASC", "metrics.acc DESC"],
    ["tags.team DESC"],
    ["attributes.run_name ASC"],
    ["attributes.start_time ASC"],
]


@pytest.fixture
def many_runs(store):
    exp = store.create_experiment("paging")
    for i in range(41):
        start = None if i % 13 == 5 else 1_000 + (i % 6)  # ties on start_time, and NULLs
        run = store.create_run(exp, "u", start, [], f"r{i % 9}")
        run_id = run.info.run_id
        metrics = []
        if i % 7 != 3:  # some runs lack the metric
            value = math.nan if i % 11 == 4 else float(i % 5)  # ties and NaN
            metrics.append(Metric("acc", value, 1, 0))
        params = [Param("opt", ["adam", "sgd", "rmsprop"][i % 3])] if i % 4 else []
        tags = [RunTag("team", f"t{i % 4}")] if i % 5 else []
        store.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    return exp


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("page_size", [1, 4, 10])
def test_pages_concatenate_to_the_whole_result(store, many_runs, order, page_size):
    whole = [r.info.run_id for r in store.search_runs([many_runs], order_by=order)]
    assert len(whole) == 41
    seen, token = [], None
    for _ in range(100):
        page = store.search_runs(
            [many_runs], max_results=page_size, order_by=order, page_token=token
        )
        seen += [r.info.run_id for r in page]
        token = page.token
        if token is None:
            break
    assert seen == whole


def test_filtered_pages(store, many_runs):
    f = "params.opt != 'sgd' and metrics.acc >= 1"
    whole = [r.info.run_id for r in store.search_runs([many_runs], f, order_by=["metrics.acc"])]
    seen, token = [], None
    while True:
        page = store.search_runs(
            [many_runs], f, max_results=3, order_by=["metrics.acc"], page_token=token
        )
        seen += [r.info.run_id for r in page]
        token = page.token
        if not token:
            break
    assert seen == whole and len(whole) > 3


def test_token_of_another_search_is_refused(store, many_runs):
    page = store.search_runs([many_runs], max_results=2)
    assert page.token
    with pytest.raises(InvalidParameterError, match="page token"):
        store.search_runs(
            [many_runs], max_results=2, order_by=["metrics.acc"], page_token=page.token
        )
    for bad in ("garbage", "eyJhZnRlciI6IFt7fV19"):  # not base64 JSON; {"after": [{}]}
        with pytest.raises(InvalidParameterError, match="page token"):
            store.search_runs([many_runs], page_token=bad)
