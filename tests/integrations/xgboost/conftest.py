"""Fixtures for the XGBoost integration tests: small real data, autolog reverted after each test."""

from __future__ import annotations

import pytest

import flightlog


@pytest.fixture(autouse=True)
def autolog_off_after_test():
    """No test leaves autolog enabled (or charts still rendering) for the next one."""
    yield
    from flightlog.autolog.background import wait_for_background
    from flightlog.autolog.integration import enabled_integrations

    try:
        wait_for_background(120)
    finally:
        for integration in enabled_integrations().values():
            integration.revert()


@pytest.fixture
def stored():
    """Wait until queued metrics and background artifacts are stored; returns a client."""
    from flightlog.autolog.background import wait_for_background

    def settle():
        wait_for_background(120)
        flightlog.flush()
        return flightlog.TrackingClient()

    return settle


@pytest.fixture
def all_runs(stored):
    def list_runs():
        stored()
        return flightlog.search_runs(experiment_ids=["0"], output_format="list")

    return list_runs


@pytest.fixture(scope="session")
def binary_data():
    """240 rows, 5 features (named f0..f4 in the DataFrame variant), noisy labels."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.8, size=240) > 0).astype(int)
    return X[:180], X[180:], y[:180], y[180:]


@pytest.fixture
def dmatrices(binary_data):
    import xgboost as xgb

    X, Xv, y, yv = binary_data
    names = [f"f{i}" for i in range(X.shape[1])]
    return xgb.DMatrix(X, y, feature_names=names), xgb.DMatrix(Xv, yv, feature_names=names)


@pytest.fixture
def metric_history(stored):
    """[(step, value)] of a run's metric, in step order, once everything is stored."""

    def read(run_id, key):
        client = stored()
        return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))

    return read
