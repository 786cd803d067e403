"""A fault inside flightlog never reaches the user's fit(); the user's own errors do, unchanged."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import flightlog
from flightlog.autolog.background import wait_for_background
from flightlog.autolog.reporting import FlightlogAutologWarning
from flightlog.entities import RunStatus


class _Recorder:
    """Records flightlog's autolog warnings at the call that raises them.

    warnings.catch_warnings() swaps process-wide state, and the background plot thread (through
    matplotlib and scikit-learn, which use catch_warnings themselves) can restore the state from
    before ours mid-way, so a warning the main thread raised goes unrecorded. Wrapping the
    `warnings.warn` that flightlog's reporting module calls sees each one, from any thread.
    """

    def __init__(self) -> None:
        self.messages: list[str] = []

    def take(self) -> list[str]:
        taken, self.messages = self.messages, []
        return taken

    def warn(self, message, category=UserWarning, stacklevel=1, **kwargs):
        if isinstance(category, type) and issubclass(category, FlightlogAutologWarning):
            self.messages.append(str(message))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # recorded above; keep the test output quiet
            warnings.warn(message, category, stacklevel=stacklevel + 1, **kwargs)


@pytest.fixture
def recorder(monkeypatch):
    import types

    from flightlog.autolog import reporting

    recording = _Recorder()
    shim = types.SimpleNamespace(warn=recording.warn)
    monkeypatch.setattr(reporting, "warnings", shim)
    return recording


def _fit_recording_warnings(model, X, y, recorder):
    returned = model.fit(X, y)
    return returned, recorder.take()


@pytest.fixture
def no_test_mode(monkeypatch):
    monkeypatch.setenv("FLIGHTLOG_AUTOLOG_TESTING", "0")


def test_store_that_cannot_be_opened(
    autolog, binary_data, tmp_path, monkeypatch, no_test_mode, recorder
):
    from sklearn.linear_model import LogisticRegression

    X, X_test, y, _ = binary_data
    expected = LogisticRegression().fit(X, y).predict(X_test)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the store's folder should be")
    monkeypatch.setenv("FLIGHTLOG_TRACKING_URI", f"sqlite:///{blocker / 'flightlog.db'}")
    autolog()

    model = LogisticRegression()
    returned, ours = _fit_recording_warnings(model, X, y, recorder)
    assert returned is model
    np.testing.assert_array_equal(model.predict(X_test), expected)
    assert len(ours) == 1
    assert "starting a run" in ours[0]


def test_artifact_store_failing_mid_way(
    autolog, finished_runs, binary_data, tmp_path, no_test_mode, recorder
):
    from sklearn.linear_model import LogisticRegression

    X, X_test, y, _ = binary_data
    # The default artifact root sits beside the database; a file there makes every artifact
    # write fail while the database works.
    (tmp_path / "flightlog-runs").mkdir(exist_ok=True)
    (tmp_path / "flightlog-runs" / "artifacts").write_text("not a folder")
    autolog()

    model = LogisticRegression()
    returned, ours = _fit_recording_warnings(model, X, y, recorder)
    assert returned is model
    # estimator.html and the model both failed: one warning for both.
    assert len(ours) == 1
    assert "logging estimator.html (and 1 more step)" in ours[0]
    # The plots are drawn in the background; their failure is reported when it is waited for.
    wait_for_background(120)
    late = recorder.take()
    assert len(late) == 1 and "drawing the training plots" in late[0]
    (run,) = finished_runs()
    assert run.info.status == RunStatus.FINISHED
    assert "training_accuracy_score" in run.data.metrics  # the rest was still logged


def test_integration_bug(autolog, finished_runs, binary_data, monkeypatch, no_test_mode, recorder):
    from flightlog_sklearn import _metrics
    from sklearn.ensemble import RandomForestClassifier

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug in flightlog's metric code")

    monkeypatch.setattr(_metrics, "training_metrics", broken)
    X, X_test, y, _ = binary_data
    expected = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y).predict(X_test)
    autolog()

    model = RandomForestClassifier(n_estimators=5, random_state=0)
    returned, ours = _fit_recording_warnings(model, X, y, recorder)
    assert returned is model
    np.testing.assert_array_equal(model.predict(X_test), expected)
    assert len(ours) == 1
    assert "a bug in flightlog's metric code" in ours[0]
    (run,) = finished_runs()
    assert run.info.status == RunStatus.FINISHED
    assert run.data.params["n_estimators"] == "5"


@pytest.mark.parametrize(
    ("X", "y"),
    [
        ([[1.0, np.nan], [2.0, 3.0]], [0, 1]),  # NaN in the input
        ([[1.0], [2.0], [3.0]], [0, 1]),  # inconsistent lengths
        ([[1.0], [2.0]], [0, 0]),  # one class only
    ],
)
def test_users_errors_pass_through_unchanged(autolog, finished_runs, X, y):
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError) as without_autolog:
        LogisticRegression().fit(X, y)
    autolog()
    with pytest.raises(ValueError) as with_autolog:
        LogisticRegression().fit(X, y)

    assert type(with_autolog.value) is type(without_autolog.value)
    assert str(with_autolog.value) == str(without_autolog.value)
    (run,) = finished_runs()
    assert run.info.status == RunStatus.FAILED
    assert flightlog.active_run() is None
