"""scikit-learn autologging: one line records params, training metrics, plots, the model and the
training data; evaluating the model afterwards adds post-training metrics to the same run.
Stored in the embedded store (./flightlog-runs). Run: python examples/sklearn_autolog.py"""

from _look import how_to_look

import flightlog

flightlog.set_experiment("sklearn-autolog")
flightlog.autolog()  # before or after importing scikit-learn: import order does not matter

from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5))
model.fit(X_train, y_train)  # logged: one run for the whole pipeline

predictions = model.predict(X_test)
print(f"accuracy on X_test: {accuracy_score(y_test, predictions):.3f}")  # logged as well
print(f"f1 on X_test:       {f1_score(y_test, predictions):.3f}")

flightlog.flush()  # everything queued and drawn is stored
run = flightlog.last_active_run()
print(f"\nrun {run.info.run_id} in experiment {run.info.experiment_id} ({run.info.status})")
print(f"  tracking URI: {flightlog.get_tracking_uri()}")
print(f"  artifacts:    {run.info.artifact_uri}")
print(f"  params:       {len(run.data.params)} (C = {run.data.params['logisticregression__C']})")
for key, value in sorted(run.data.metrics.items()):
    print(f"  {key:<32} {value:.4f}")
artifacts = flightlog.MlflowClient().list_artifacts(run.info.run_id)
print("  files:        " + ", ".join(f.path for f in artifacts))

loaded = flightlog.sklearn.load_model(f"runs:/{run.info.run_id}/model")
assert (loaded.predict(X_test) == predictions).all()
print(f"  the logged model loads back from runs:/{run.info.run_id}/model and predicts the same")
how_to_look(run.info.run_id)
