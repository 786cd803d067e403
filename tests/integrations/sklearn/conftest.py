"""Fixtures for the scikit-learn integration tests: small real data, autolog on and off."""

from __future__ import annotations

import pytest

import flightlog


@pytest.fixture(autouse=True)
def autolog_off_after_test():
    """No test leaves autolog enabled (or plots still drawing) for the next one."""
    yield
    from flightlog.autolog.background import wait_for_background
    from flightlog.autolog.integration import enabled_integrations

    try:
        wait_for_background(120)
    finally:
        for integration in enabled_integrations().values():
            integration.revert()


@pytest.fixture
def autolog():
    """Enable scikit-learn autologging (options as keywords); it is reverted after the test."""

    def enable(**options):
        flightlog.sklearn.autolog(**options)

    return enable


@pytest.fixture
def finished_runs():
    """Every run of the default experiment, once queued data and background plots are stored."""
    from flightlog.autolog.background import wait_for_background

    def list_runs():
        wait_for_background(120)
        flightlog.flush()
        return flightlog.search_runs(experiment_ids=["0"], output_format="list")

    return list_runs


@pytest.fixture
def binary_data():
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=240, n_features=6, n_informative=4, random_state=0)
    return X[:180], X[180:], y[:180], y[180:]


@pytest.fixture
def multiclass_data():
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True)


@pytest.fixture
def regression_data():
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=150, n_features=4, noise=5.0, random_state=0)
    return X, y


@pytest.fixture
def artifacts():
    """A function listing a run's artifact paths (top level, or under `path`)."""

    def list_paths(run_id: str, path: str | None = None) -> list[str]:
        return sorted(f.path for f in flightlog.TrackingClient().list_artifacts(run_id, path))

    return list_paths
