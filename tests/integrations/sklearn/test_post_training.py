"""Post-training metrics: evaluation after fit is logged to the model's (ended) run."""

from __future__ import annotations

import pytest

import flightlog
from flightlog.entities import RunStatus


def test_metrics_on_predictions_are_logged_by_dataset_name(autolog, finished_runs, binary_data):
    import sklearn.metrics
    from sklearn.linear_model import LogisticRegression

    X_train, X_test, y_train, y_test = binary_data
    autolog()
    model = LogisticRegression().fit(X_train, y_train)
    assert flightlog.active_run() is None  # the autolog run ended with fit, as in MLflow

    predicted = model.predict(X_test)
    accuracy = sklearn.metrics.accuracy_score(y_test, predicted)
    again = sklearn.metrics.accuracy_score(y_test, predicted)
    f1 = sklearn.metrics.f1_score(y_test, y_pred=predicted)
    auc = sklearn.metrics.roc_auc_score(y_test, model.decision_function(X_test))
    score = model.score(X_test, y_test)
    sklearn.metrics.confusion_matrix(y_test, predicted)  # not a scalar: not a metric
    X_val = X_test[:30]
    val_accuracy = sklearn.metrics.accuracy_score(y_test[:30], model.predict(X_val))
    X_test = X_test[10:]  # another object under a name already used
    shifted = sklearn.metrics.accuracy_score(y_test[10:], model.predict(X_test))

    (run,) = finished_runs()
    assert run.info.status == RunStatus.FINISHED
    logged = {k: v for k, v in run.data.metrics.items() if not k.startswith("training_")}
    assert logged == pytest.approx(
        {
            "accuracy_score_X_test": accuracy,
            "accuracy_score-2_X_test": again,
            "f1_score_X_test": f1,
            "roc_auc_score_X_test": auc,
            "LogisticRegression_score_X_test": score,
            "accuracy_score_X_val": val_accuracy,
            "accuracy_score_X_test-2": shifted,
        }
    )
    contexts = {d.dataset.name: d.tags["mlflow.data.context"] for d in run.inputs.dataset_inputs}
    assert contexts == {"dataset": "train", "X_test": "eval", "X_val": "eval", "X_test-2": "eval"}


def test_each_model_logs_to_its_own_run(autolog, finished_runs, binary_data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    X_train, X_test, y_train, y_test = binary_data
    autolog()
    # Names imported from sklearn.metrics after enabling are the patched ones (see the module
    # doc of flightlog_sklearn._post_training for imports made before).
    from sklearn.metrics import accuracy_score

    linear = LogisticRegression().fit(X_train, y_train)
    tree = DecisionTreeClassifier(max_depth=1).fit(X_train, y_train)
    linear_acc = accuracy_score(y_test, linear.predict(X_test))
    tree_acc = accuracy_score(y_test, tree.predict(X_test))

    runs = {r.data.tags["estimator_name"]: r for r in finished_runs()}
    assert runs["LogisticRegression"].data.metrics["accuracy_score_X_test"] == pytest.approx(
        linear_acc
    )
    assert runs["DecisionTreeClassifier"].data.metrics["accuracy_score_X_test"] == pytest.approx(
        tree_acc
    )


def test_can_be_turned_off(autolog, finished_runs, binary_data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score

    X_train, X_test, y_train, y_test = binary_data
    autolog(log_post_training_metrics=False)
    model = LogisticRegression().fit(X_train, y_train)
    accuracy_score(y_test, model.predict(X_test))
    model.score(X_test, y_test)

    (run,) = finished_runs()
    assert all(k.startswith("training_") for k in run.data.metrics)
