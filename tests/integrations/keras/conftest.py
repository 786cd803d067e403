"""Fixtures for the Keras integration tests: Keras 3 on the torch backend, tiny models and data."""

from __future__ import annotations

import os

# Must be set before keras is first imported (the backend is chosen at import time).
os.environ.setdefault("KERAS_BACKEND", "torch")

import pytest  # noqa: E402

import flightlog  # noqa: E402


@pytest.fixture(autouse=True)
def autolog_off_after_test():
    """No test leaves autolog enabled for the next one."""
    yield
    from flightlog.autolog.background import wait_for_background
    from flightlog.autolog.integration import enabled_integrations

    try:
        wait_for_background(120)
    finally:
        for integration in enabled_integrations().values():
            integration.revert()


@pytest.fixture
def all_runs():
    from flightlog.autolog.background import wait_for_background

    def list_runs():
        wait_for_background(120)
        flightlog.flush()
        return flightlog.search_runs(experiment_ids=["0"], output_format="list")

    return list_runs


@pytest.fixture
def metric_history():
    """[(step, value)] of a run's metric, in step order, once everything is stored."""

    def read(run_id, key):
        flightlog.flush()
        client = flightlog.TrackingClient()
        return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))

    return read


@pytest.fixture(scope="session")
def data():
    """96 training and 32 validation rows, 4 features, a learnable binary label (float32)."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(128, 4)).astype("float32")
    y = (X[:, 0] - X[:, 1] > 0).astype("float32")
    return X[:96], X[96:], y[:96], y[96:]


@pytest.fixture
def make_model():
    """A small compiled binary classifier, the same weights each call (fixed seed)."""
    import keras

    def build(learning_rate: float = 0.05):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="binary_crossentropy",
            metrics=[keras.metrics.Precision(name="precision")],
        )
        return model

    return build
