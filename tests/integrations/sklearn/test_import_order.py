"""`flightlog.autolog()` before `import sklearn`, in a fresh interpreter: import order never
matters (the post-import hook patches scikit-learn when it is imported)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import flightlog

SCRIPT = textwrap.dedent(
    """
    import sys

    import flightlog

    flightlog.autolog()
    assert "sklearn" not in sys.modules, "enabling autolog must not import scikit-learn"

    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score

    X, y = make_classification(n_samples=100, n_features=4, random_state=0)
    model = LogisticRegression().fit(X, y)
    accuracy_score(y, model.predict(X))
    print(flightlog.last_active_run().info.run_id)
    """
)


def test_autolog_before_importing_sklearn(isolated_tracking):
    env = {**os.environ, "FLIGHTLOG_TRACKING_URI": isolated_tracking}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip().splitlines()[-1]

    run = flightlog.get_run(run_id)
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert "training_accuracy_score" in run.data.metrics
    assert "accuracy_score_X" in run.data.metrics  # a metric imported after enabling
